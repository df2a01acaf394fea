//! Record clauses: complete records, allowed values, steps in order, `only after`, counts and
//! distinct actors, warranty windows; on one case and through the streaming evaluator.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::Summary;
use pledge::policy::Policy;
use pledge::syntax::{format_clause, parse_policy};
use pledge::value::{Attrs, Value};
use pledge::Event;
use proptest::prelude::*;

fn ev(at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: "T".into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: pairs
            .iter()
            .map(|(k, v)| (Box::from(*k), Value::String((*v).into())))
            .collect::<Attrs>(),
        line: 0,
    }
}

fn policy(items: &str) -> Policy {
    let src = format!(
        "policy \"p\" {{\n  events confirmed, mediated\n  record r {{\n    when kind == \"repair\"\n{items}\n  }}\n}}"
    );
    parse_policy(&src, "test.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

fn opened(pairs: &[(&str, &str)]) -> Event {
    let mut all = vec![("kind", "repair")];
    all.extend_from_slice(pairs);
    ev("03-02 09:00", "opened", &all)
}

/// `code@MM-DD HH:MM` of each finding, in order.
fn codes(p: &Policy, events: &[Event]) -> Vec<String> {
    evaluate_case_full(std::slice::from_ref(p), events, t("12-31 00:00"))
        .findings
        .iter()
        .map(|f| {
            let local = f.at.with_timezone(&chrono_tz::Asia::Shanghai);
            format!("{}@{}", f.code, local.format("%m-%d %H:%M"))
        })
        .collect()
}

#[test]
fn a_record_needs_every_field_filled_in() {
    let p = policy("    opened has location, contact");
    assert!(codes(&p, &[opened(&[("location", "3-201"), ("contact", "139")])]).is_empty());
    // Absent, or empty text, is missing.
    assert_eq!(
        codes(&p, &[opened(&[("location", " "), ("contact", "139")])]),
        ["record.field_missing@03-02 09:00"]
    );
    assert_eq!(
        codes(&p, &[opened(&[("location", "3-201")])]),
        ["record.field_missing@03-02 09:00"]
    );
    // A case the clause does not apply to has no finding.
    let other = ev("03-02 09:00", "opened", &[("kind", "complaint")]);
    assert!(codes(&p, &[other]).is_empty());
}

#[test]
fn a_value_outside_the_set_fails_at_its_event() {
    let p = policy(r#"    revisited has method in ["visit", "phone", "online"]"#);
    let ok = ev("03-03 10:00", "revisited", &[("method", "phone")]);
    let bad = ev("03-04 10:00", "revisited", &[("method", "sms")]);
    let none = ev("03-05 10:00", "revisited", &[]);
    assert!(codes(&p, &[opened(&[]), ok.clone()]).is_empty());
    assert_eq!(
        codes(&p, &[opened(&[]), ok.clone(), bad]),
        ["record.value_outside@03-04 10:00"]
    );
    assert_eq!(
        codes(&p, &[opened(&[]), ok, none]),
        ["record.value_outside@03-05 10:00"]
    );
}

#[test]
fn steps_out_of_order_fail_at_once_and_missing_ones_at_the_close() {
    let p = policy("    steps opened, dispatched, resolved, revisited");
    let d = ev("03-02 09:10", "dispatched", &[]);
    let r = ev("03-02 12:00", "resolved", &[]);
    let v = ev("03-03 10:00", "revisited", &[]);
    let c = ev("03-03 11:00", "closed", &[]);
    assert!(codes(
        &p,
        &[opened(&[]), d.clone(), r.clone(), v.clone(), c.clone()]
    )
    .is_empty());
    // A revisit after the close (within retention) still completes the loop.
    let late_v = ev("03-04 10:00", "revisited", &[]);
    assert!(codes(&p, &[opened(&[]), d.clone(), r.clone(), c.clone(), late_v]).is_empty());
    // Still open: the missing revisit is pending, no finding.
    assert!(codes(&p, &[opened(&[]), d.clone(), r.clone()]).is_empty());
    // Closed without a revisit: missing, at the close.
    assert_eq!(
        codes(&p, &[opened(&[]), d.clone(), r.clone(), c.clone()]),
        ["record.step_missing@03-03 11:00"]
    );
    // Resolved before dispatch: out of order at the dispatch.
    let late_d = ev("03-02 13:00", "dispatched", &[]);
    assert_eq!(
        codes(&p, &[opened(&[]), late_d, r.clone(), v.clone()]),
        ["record.out_of_order@03-02 13:00"]
    );
    // Reopened and not closed again: no longer closed, nothing missing yet.
    let reopen = ev("03-05 10:00", "reopened", &[]);
    assert!(codes(&p, &[opened(&[]), d, r, c, reopen]).is_empty());
}

#[test]
fn only_after_accepts_the_same_instant_and_fails_an_earlier_event() {
    let p = policy("    closed only after confirmed");
    let same = [
        opened(&[]),
        ev("03-03 10:00", "confirmed", &[]),
        ev("03-03 10:00", "closed", &[]),
    ];
    assert!(codes(&p, &same).is_empty());
    let early = [
        opened(&[]),
        ev("03-03 10:00", "closed", &[]),
        ev("03-03 11:00", "confirmed", &[]),
    ];
    assert_eq!(codes(&p, &early), ["record.out_of_order@03-03 10:00"]);
}

#[test]
fn counts_and_distinct_actors_are_judged_at_the_close() {
    let p = policy("    revisited at least 3 after mediated\n    confirmed at least 2 distinct by");
    let m = ev("03-02 10:00", "mediated", &[]);
    let rv = |d: &str| ev(&format!("03-{d} 10:00"), "revisited", &[]);
    let c = |by: &str, d: &str| ev(&format!("03-{d} 11:00"), "confirmed", &[("by", by)]);
    let close = ev("03-20 10:00", "closed", &[]);
    let full = vec![
        opened(&[]),
        m.clone(),
        rv("03"),
        rv("04"),
        rv("05"),
        c("a", "03"),
        c("b", "04"),
        close.clone(),
    ];
    assert!(codes(&p, &full).is_empty());
    // A revisit before the mediation does not count; the same person twice is one.
    let short = vec![
        opened(&[]),
        ev("03-02 09:30", "revisited", &[]),
        m,
        rv("03"),
        rv("04"),
        c("a", "03"),
        c("a", "04"),
        close,
    ];
    assert_eq!(
        codes(&p, &short),
        [
            "record.actors_short@03-20 10:00",
            "record.count_short@03-20 10:00"
        ]
    );
    // No mediation: no requirement on revisits.
    let unmediated = vec![opened(&[]), c("a", "03"), c("b", "04")];
    assert!(codes(&p, &unmediated).is_empty());
}

#[test]
fn a_warranty_window_includes_its_end_and_restarts_at_each_fix() {
    let p = policy("    no reopened within 7 days after resolved");
    let fix = ev("03-02 12:00", "resolved", &[]);
    let at_end = ev("03-09 12:00", "reopened", &[]);
    let after_end = ev("03-09 12:01", "reopened", &[]);
    assert_eq!(
        codes(&p, &[opened(&[]), fix.clone(), at_end]),
        ["record.warranty_claim@03-09 12:00"]
    );
    assert!(codes(&p, &[opened(&[]), fix.clone(), after_end]).is_empty());
    // Two reopens after one fix: one finding; a second fix opens a new window.
    let events = [
        opened(&[]),
        fix,
        ev("03-03 12:00", "reopened", &[]),
        ev("03-04 12:00", "reopened", &[]),
        ev("03-05 12:00", "resolved", &[]),
        ev("03-06 12:00", "reopened", &[]),
    ];
    assert_eq!(
        codes(&p, &events),
        [
            "record.warranty_claim@03-03 12:00",
            "record.warranty_claim@03-06 12:00"
        ]
    );
}

#[test]
fn record_items_format_back_to_themselves() {
    let items = r#"    opened has location, contact
    revisited has method in ["visit", "phone"]
    steps opened, dispatched(by == "office"), resolved
    closed only after confirmed or revisited(satisfied == true)
    revisited at least 3 after mediated
    confirmed at least 2 distinct by
    no reopened within 90 days after resolved"#;
    let p = policy(items);
    let text = format_clause(&p.clauses[0]);
    for line in items.lines() {
        assert!(text.contains(line.trim()), "{line} not in\n{text}");
    }
    let again = parse_policy(
        &format!("policy \"p\" {{\n  events confirmed, mediated\n{text}}}"),
        "again.pledge",
        None,
    )
    .unwrap();
    assert_eq!(again.clauses[0], p.clauses[0]);
}

#[test]
fn a_record_clause_without_items_or_with_a_foreign_line_is_an_error() {
    let empty = parse_policy(
        "policy \"p\" { record r { when kind == \"repair\" } }",
        "e.pledge",
        None,
    )
    .unwrap_err();
    assert!(format!("{empty:?}").contains("pledge::clause::missing_record"));
    let foreign = parse_policy(
        "policy \"p\" { record r { within 2 hours opened has location } }",
        "f.pledge",
        None,
    )
    .unwrap_err();
    assert!(format!("{foreign:?}").contains("pledge::clause::misplaced_line"));
}

fn stream(p: &Policy, events: Vec<Event>) -> (Summary, Collect) {
    let opts = EvalOptions {
        reorder_window: Duration::days(1),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(std::slice::from_ref(p), opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish()
}

fn full_policy() -> Policy {
    policy(
        r#"    opened has location
    revisited has method in ["visit", "phone"]
    steps opened, dispatched, resolved, revisited
    closed only after confirmed
    revisited at least 2 distinct by
    no reopened within 7 days after resolved"#,
    )
}

/// A case with every kind of finding, as the streaming evaluator sees it.
fn busy_case() -> Vec<Event> {
    vec![
        ev("03-02 09:00", "opened", &[("kind", "repair")]),
        ev("03-02 09:30", "resolved", &[]),
        ev("03-02 10:00", "dispatched", &[]),
        ev("03-02 11:00", "closed", &[]),
        ev("03-02 11:30", "confirmed", &[]),
        ev(
            "03-02 12:00",
            "revisited",
            &[("method", "sms"), ("by", "a")],
        ),
        ev("03-02 13:00", "reopened", &[]),
        ev("03-02 14:00", "closed", &[]),
    ]
}

#[test]
fn the_streaming_evaluator_gives_the_findings_of_one_case() {
    let p = full_policy();
    let events = busy_case();
    let (summary, collected) = stream(&p, events.clone());
    let one = evaluate_case_full(std::slice::from_ref(&p), &events, t("12-31 00:00")).findings;
    assert_eq!(collected.findings, one);
    let got: Vec<&str> = collected.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        got,
        [
            "record.field_missing",
            "record.out_of_order",
            "record.out_of_order",
            "record.value_outside",
            "record.warranty_claim",
            "record.actors_short",
        ]
    );
    assert_eq!(summary.clauses[0].findings, 6);
}

proptest! {
    /// Law: the findings do not depend on the arrival order of a case's events within the
    /// reorder window.
    #[test]
    fn findings_do_not_depend_on_arrival_order(seed in any::<u64>()) {
        let p = full_policy();
        let events = busy_case();
        let mut shuffled = events.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (s >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let (_, a) = stream(&p, events);
        let (_, b) = stream(&p, shuffled);
        prop_assert_eq!(a.findings, b.findings);
    }
}

fn on(ticket: &str, at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: ticket.into(),
        ..ev(at, kind, pairs)
    }
}

/// A closed case under a warranty window longer than `--retain` is kept for the window: a
/// claim 60 days after the fix is a finding with the default retention of 30 days, while a
/// case the warranty does not apply to settles after 30 days, and a claim after the window is
/// rejected as after the retention, not taken for a new case.
#[test]
fn a_case_under_a_long_warranty_is_kept_for_the_window() {
    let p = policy("    no reopened within 90 days after resolved");
    assert_eq!(EvalOptions::default().retain, Duration::days(30));
    let fixed = |ticket: &str, kind: &str| {
        vec![
            on(ticket, "03-02 09:00", "opened", &[("kind", kind)]),
            on(ticket, "03-02 12:00", "resolved", &[]),
            on(ticket, "03-02 13:00", "closed", &[]),
        ]
    };
    let mut events = fixed("R", "repair");
    events.extend(fixed("I", "inquiry"));
    // Other tickets move the stream on, past 30 days after the close.
    events.push(on("F", "04-20 09:00", "opened", &[("kind", "inquiry")]));
    events.push(on("R", "05-01 10:00", "reopened", &[]));
    events.push(on("I", "05-01 10:00", "reopened", &[]));
    let (summary, collected) = stream(&p, events.clone());
    let claims: Vec<(&str, &str)> = collected
        .findings
        .iter()
        .map(|f| (&*f.ticket, f.code))
        .collect();
    assert_eq!(claims, [("R", "record.warranty_claim")]);
    assert_eq!(summary.expired, 1, "{:?}", collected.rejected);
    assert_eq!(collected.rejected.len(), 1);
    assert!(
        collected.rejected[0].reason.contains("`I`"),
        "{:?}",
        collected.rejected
    );

    // A claim after the window (and the case's settling) is rejected as after the retention.
    let mut late = fixed("R", "repair");
    late.push(on("F", "06-20 09:00", "opened", &[("kind", "inquiry")]));
    late.push(on("R", "06-25 10:00", "reopened", &[]));
    let (summary, collected) = stream(&p, late);
    assert!(collected.findings.is_empty(), "{:?}", collected.findings);
    assert_eq!(summary.expired, 1);
    assert!(collected.rejected[0]
        .reason
        .contains("arrived after its case was settled"));
}
