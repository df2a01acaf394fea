//! The record items `A followed by B [within D]`, `EV before ATTR` and value tests on any
//! trigger: their edges on one case, through the streaming evaluator (pending at the end of a
//! stream, final once a case is settled after its retention), the formatting round trip, and
//! two laws (arrival order; a finding, once given, stays as `now` moves on).

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::policy::Policy;
use pledge::syntax::{format_clause, parse_policy};
use pledge::value::{Attrs, Value};
use pledge::Event;
use proptest::prelude::*;

fn ev(ticket: &str, at: &str, kind: &str, pairs: &[(&str, Value)]) -> Event {
    Event {
        ticket: ticket.into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: pairs
            .iter()
            .map(|(k, v)| (Box::from(*k), v.clone()))
            .collect::<Attrs>(),
        line: 0,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn policy(items: &str) -> Policy {
    let src =
        format!("policy \"p\" {{\n  events prepared, signed_off\n  record r {{\n{items}\n  }}\n}}");
    parse_policy(&src, "test.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// `code@MM-DD HH:MM` of each finding on one case as of `now`.
fn codes(p: &Policy, events: &[Event], now: &str) -> Vec<String> {
    evaluate_case_full(std::slice::from_ref(p), events, t(now))
        .findings
        .iter()
        .map(|f| {
            let local = f.at.with_timezone(&chrono_tz::Asia::Shanghai);
            format!("{}@{}", f.code, local.format("%m-%d %H:%M"))
        })
        .collect()
}

fn opened(ticket: &str) -> Event {
    ev(ticket, "08-01 09:00", "opened", &[])
}

fn unhappy(ticket: &str, at: &str) -> Event {
    ev(ticket, at, "rated", &[("satisfied", Value::Bool(false))])
}

#[test]
fn a_follow_up_counts_at_the_same_instant_and_at_the_end_of_its_window() {
    let p = policy("    rated(satisfied == false) followed by reopened within 24 hours");
    let at_once = [
        opened("A"),
        unhappy("A", "08-02 09:00"),
        ev("A", "08-02 09:00", "reopened", &[]),
    ];
    assert!(codes(&p, &at_once, "08-20 00:00").is_empty());
    let at_end = [
        opened("A"),
        unhappy("A", "08-02 09:00"),
        ev("A", "08-03 09:00", "reopened", &[]),
    ];
    assert!(codes(&p, &at_end, "08-20 00:00").is_empty());
    let late = [
        opened("A"),
        unhappy("A", "08-02 09:00"),
        ev("A", "08-03 09:01", "reopened", &[]),
    ];
    assert_eq!(
        codes(&p, &late, "08-20 00:00"),
        ["record.not_followed@08-02 09:00"]
    );
    // An earlier reopen does not follow.
    let before = [
        opened("A"),
        ev("A", "08-02 08:00", "reopened", &[]),
        unhappy("A", "08-02 09:00"),
    ];
    assert_eq!(
        codes(&p, &before, "08-20 00:00"),
        ["record.not_followed@08-02 09:00"]
    );
}

#[test]
fn a_window_still_open_at_now_is_pending_open_or_closed() {
    let p = policy("    rated(satisfied == false) followed by reopened within 24 hours");
    let closed = [
        opened("A"),
        unhappy("A", "08-02 09:00"),
        ev("A", "08-02 10:00", "closed", &[]),
    ];
    assert!(
        codes(&p, &closed, "08-03 09:00").is_empty(),
        "A + D is not before now"
    );
    assert_eq!(
        codes(&p, &closed, "08-03 09:01"),
        ["record.not_followed@08-02 09:00"]
    );
    // Without a window: pending while open, a finding once closed.
    let p = policy("    rated(satisfied == false) followed by reopened");
    assert!(codes(&p, &closed[..2], "12-31 00:00").is_empty());
    assert_eq!(
        codes(&p, &closed, "08-02 10:00"),
        ["record.not_followed@08-02 09:00"]
    );
}

#[test]
fn before_an_attribute_reads_the_merged_case_and_counts_the_instant_itself() {
    let p = policy("    prepared(item == \"pumps\") before expected_at");
    let opened = ev(
        "W",
        "08-01 09:00",
        "opened",
        &[("expected_at", s("2026-08-04T18:00:00+08:00"))],
    );
    let exactly = [
        opened.clone(),
        ev("W", "08-04 18:00", "prepared", &[("item", s("pumps"))]),
    ];
    assert!(codes(&p, &exactly, "08-10 00:00").is_empty());
    let late = [
        opened.clone(),
        ev("W", "08-04 18:01", "prepared", &[("item", s("pumps"))]),
    ];
    assert_eq!(
        codes(&p, &late, "08-10 00:00"),
        ["record.not_before@08-04 18:00"]
    );
    assert!(
        codes(&p, &late[..1], "08-04 18:00").is_empty(),
        "pending until the instant passes"
    );
    // A later forecast (`updated`) moves the instant: the preparation is then in time.
    let moved = [
        opened,
        ev(
            "W",
            "08-02 09:00",
            "updated",
            &[("expected_at", s("2026-08-05T06:00:00+08:00"))],
        ),
        ev("W", "08-04 20:00", "prepared", &[("item", s("pumps"))]),
    ];
    assert!(codes(&p, &moved, "08-10 00:00").is_empty());
    // Missing, or not a timestamp: a finding of its own at the first event.
    let none = [ev("W", "08-01 09:00", "opened", &[])];
    assert_eq!(
        codes(&p, &none, "08-10 00:00"),
        ["record.time_unknown@08-01 09:00"]
    );
    let text = [ev(
        "W",
        "08-01 09:00",
        "opened",
        &[("expected_at", s("soon"))],
    )];
    assert_eq!(
        codes(&p, &text, "08-10 00:00"),
        ["record.time_unknown@08-01 09:00"]
    );
}

#[test]
fn a_value_test_takes_any_trigger_and_the_bare_form_still_works() {
    let p = policy(
        "    updated(by == \"department_manager\") has valid in [true, false]\n    revisited has method in [\"visit\", \"phone\"]",
    );
    let ok = [
        ev("M", "08-01 09:00", "opened", &[]),
        ev(
            "M",
            "08-01 10:00",
            "updated",
            &[("by", s("supervisor")), ("unit", s("3-1"))],
        ),
        ev(
            "M",
            "08-01 11:00",
            "updated",
            &[
                ("by", s("department_manager")),
                ("valid", Value::Bool(false)),
            ],
        ),
        ev("M", "08-02 11:00", "revisited", &[("method", s("phone"))]),
    ];
    assert!(
        codes(&p, &ok, "08-10 00:00").is_empty(),
        "the supervisor's update is not tested"
    );
    let bad = [
        ev("M", "08-01 09:00", "opened", &[]),
        ev(
            "M",
            "08-01 11:00",
            "updated",
            &[("by", s("department_manager"))],
        ),
        ev("M", "08-02 11:00", "revisited", &[("method", s("sms"))]),
    ];
    assert_eq!(
        codes(&p, &bad, "08-10 00:00"),
        [
            "record.value_outside@08-01 11:00",
            "record.value_outside@08-02 11:00"
        ]
    );
}

#[test]
fn the_new_items_format_back_to_themselves() {
    let items = r#"    rated(satisfied == false) or revisited(satisfied == false) followed by reopened within 7 days
    resolved followed by signed_off
    prepared(item == "pumps") before expected_at
    updated(by == "department_manager") has valid in [true, false]
    rated followed by reopened within 1 day 12 hours"#;
    let p = policy(items);
    let text = format_clause(&p.clauses[0]);
    for line in items.lines() {
        assert!(text.contains(line.trim()), "{line} not in\n{text}");
    }
    let again = parse_policy(
        &format!("policy \"p\" {{\n  events prepared, signed_off\n{text}}}"),
        "again.pledge",
        None,
    )
    .unwrap();
    assert_eq!(again.clauses[0], p.clauses[0]);
}

#[test]
fn unknown_events_in_the_new_items_are_errors_with_a_code() {
    for item in [
        "    rated followed by reopend",
        "    prepard before expected_at",
        "    updatd(by == \"x\") has valid in [true]",
    ] {
        let src = format!("policy \"p\" {{\n  record r {{\n{item}\n  }}\n}}");
        let err = parse_policy(&src, "e.pledge", None).unwrap_err();
        assert!(
            format!("{err:?}").contains("pledge::clause::unknown_event"),
            "{item}"
        );
    }
}

fn opts(retain_days: i64) -> EvalOptions {
    EvalOptions {
        reorder_window: Duration::hours(1),
        retain: Duration::days(retain_days),
        ..EvalOptions::default()
    }
}

fn stream(p: &Policy, events: Vec<Event>, opts: EvalOptions) -> Collect {
    let mut ev = Evaluator::new(std::slice::from_ref(p), opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish().1
}

fn found(c: &Collect) -> Vec<String> {
    c.findings
        .iter()
        .map(|f| format!("{} {}", f.ticket, f.code))
        .collect()
}

#[test]
fn a_case_is_kept_for_its_follow_up_window_then_final_and_one_at_the_end_is_pending() {
    let p = policy("    rated(satisfied == false) followed by reopened within 10 days");
    let case = vec![
        ev("A", "08-01 09:00", "opened", &[]),
        unhappy("A", "08-01 10:00"),
        ev("A", "08-01 11:00", "closed", &[]),
    ];
    // The stream ends the next day: A's window (to 11 August) is open at the end, so pending.
    let mut short = case.clone();
    short.push(ev("B", "08-02 09:00", "opened", &[]));
    assert!(found(&stream(&p, short, opts(1))).is_empty());
    // The retention is 1 day, but A is kept for its 10-day window: a reopen 8 days after the
    // close is applied and follows the rating.
    let mut followed = case.clone();
    followed.push(ev("B", "08-05 09:00", "opened", &[]));
    followed.push(ev("A", "08-09 09:00", "reopened", &[]));
    followed.push(ev("B", "08-30 09:00", "closed", &[]));
    let c = stream(&p, followed, opts(1));
    assert!(found(&c).is_empty(), "{:?}", c.rejected);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    // The stream goes on past A's window: A is settled, nothing can arrive for it any more,
    // so the miss is final.
    let mut long = case;
    long.push(ev("B", "08-20 09:00", "opened", &[]));
    assert_eq!(found(&stream(&p, long, opts(1))), ["A record.not_followed"]);
}

#[test]
fn the_streaming_evaluator_agrees_with_one_case() {
    let p = busy_policy();
    let events = busy_case();
    let collected = stream(&p, events.clone(), opts(30));
    let now = collected
        .findings
        .first()
        .map(|_| events.iter().map(|e| e.at).max().unwrap())
        .unwrap();
    let one = evaluate_case_full(std::slice::from_ref(&p), &events, now).findings;
    assert_eq!(collected.findings, one);
    let got: Vec<&str> = collected.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        got,
        [
            "record.value_outside",
            "record.not_followed",
            "record.not_before",
        ]
    );
}

fn busy_policy() -> Policy {
    policy(
        r#"    rated(satisfied == false) followed by reopened within 1 day
    resolved followed by signed_off
    prepared(item == "pumps") before expected_at
    updated(by == "department_manager") has valid in [true, false]"#,
    )
}

fn busy_case() -> Vec<Event> {
    vec![
        ev(
            "T",
            "08-01 09:00",
            "opened",
            &[("expected_at", s("2026-08-02T09:00:00+08:00"))],
        ),
        ev(
            "T",
            "08-01 10:00",
            "updated",
            &[("by", s("department_manager")), ("valid", s("maybe"))],
        ),
        ev("T", "08-01 11:00", "resolved", &[]),
        ev("T", "08-01 11:00", "signed_off", &[]),
        unhappy("T", "08-01 12:00"),
        ev("T", "08-02 14:00", "reopened", &[]),
        ev("T", "08-02 15:00", "prepared", &[("item", s("pumps"))]),
        ev("T", "08-02 16:00", "resolved", &[]),
        ev("T", "08-02 16:30", "closed", &[]),
        ev("T", "08-02 17:00", "signed_off", &[]),
    ]
}

proptest! {
    /// Law: the findings do not depend on the arrival order of a case's events within the
    /// reorder window.
    #[test]
    fn findings_do_not_depend_on_arrival_order(seed in any::<u64>()) {
        let p = busy_policy();
        let events = busy_case();
        let mut shuffled = events.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let wide = EvalOptions { reorder_window: Duration::days(2), ..opts(30) };
        let a = stream(&p, events, wide.clone());
        let b = stream(&p, shuffled, wide);
        prop_assert_eq!(a.findings, b.findings);
    }

    /// Law: a finding, once given, stays as `now` moves on (a follow-up or due event can only
    /// be missed once, never un-missed), for any prefix of the case's events.
    #[test]
    fn a_finding_stays_as_now_moves_on(cut in 1usize..10, early in 0i64..60, later in 0i64..60) {
        let p = busy_policy();
        let events: Vec<Event> = busy_case().into_iter().take(cut).collect();
        let last = events.iter().map(|e| e.at).max().unwrap();
        let now1 = last + Duration::hours(early);
        let now2 = now1 + Duration::hours(later);
        // The code and instant of each finding (its message may count more misses later).
        let at = |now| {
            evaluate_case_full(std::slice::from_ref(&p), &events, now)
                .findings
                .into_iter()
                .map(|f| (f.clause, f.code, f.at))
                .collect::<Vec<_>>()
        };
        let (a, b) = (at(now1), at(now2));
        for f in &a {
            prop_assert!(b.contains(f), "{:?} gone at {}", f, now2);
        }
    }
}

/// The README's example of the new items parses and is laid out as written.
#[test]
fn the_readme_example_works_as_written() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let block = readme
        .split("```pledge\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("followed by reopened within 7 days"))
        .expect("the README shows `followed by`");
    let p = parse_policy(block, "README", None).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(p.clauses.len(), 2);
    assert_eq!(
        pledge::syntax::format_source(block, "README").unwrap(),
        block
    );
}
