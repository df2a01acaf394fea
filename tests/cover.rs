//! Round-the-clock cover (`covered from A until B`) and alert periods (`alert`, `during`,
//! `at least N per alert`): the language (diagnostics, formatting), the interval set under
//! them, and the streaming evaluator.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::period::cover::{Coverage, IntervalSet};
use pledge::policy::Policy;
use pledge::syntax::{format_clause, format_source, parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

fn ev(ticket: &str, at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: ticket.into(),
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

const POLICY: &str = r#"policy "cover" {
  events shift_started, shift_ended, raised, lifted

  alert typhoon "台风预警" {
    when kind == "weather_warning"
    from raised until lifted
  }

  every hotline "24小时热线" {
    when kind == "post" and post == "hotline"
    covered from shift_started until shift_ended
  }

  every flood_duty "台风期间值班" {
    when kind == "post" and post == "flood_duty"
    during typhoon
    covered from shift_started until shift_ended
  }

  every elder_check "台风期间询问老人" {
    when kind == "resident"
    during typhoon
    contacted at least 1 per alert
  }

  every patrol "台风期间每小时巡查" {
    when kind == "area"
    during typhoon
    patrolled every 1 hour
  }
}
"#;

fn policy() -> Policy {
    parse_policy(POLICY, "cover.pledge", None).unwrap_or_else(|e| panic!("{}", render(&e, false)))
}

fn errs(src: &str) -> pledge::syntax::PolicyErrors {
    match parse_policy(src, "test.pledge", None) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

/// `clause code@MM-DD HH:MM` of each finding, sorted.
fn run(events: Vec<Event>, now: &str) -> Vec<String> {
    run_with(events, now).0
}

fn run_with(events: Vec<Event>, now: &str) -> (Vec<String>, Vec<(String, u64)>) {
    let p = policy();
    let opts = EvalOptions {
        now: Some(t(now)),
        reorder_window: Duration::days(1),
        ..EvalOptions::default()
    };
    let mut e = Evaluator::new(std::slice::from_ref(&p), opts, Collect::default());
    for (i, mut x) in events.into_iter().enumerate() {
        x.line = i as u64 + 1;
        e.push(x);
    }
    let (summary, out) = e.finish();
    let mut found: Vec<String> = out
        .findings
        .iter()
        .map(|f| {
            let local = f.at.with_timezone(&chrono_tz::Asia::Shanghai);
            format!("{} {}@{}", f.clause, f.code, local.format("%m-%d %H:%M"))
        })
        .collect();
    found.sort();
    let met = summary
        .clauses
        .iter()
        .map(|c| (c.clause.to_string(), c.met))
        .collect();
    (found, met)
}

fn met_of(met: &[(String, u64)], clause: &str) -> u64 {
    met.iter().find(|(c, _)| c == clause).map_or(0, |m| m.1)
}

// ------------------------------------------------------------------------------- the language

#[test]
fn an_unknown_alert_is_an_error_with_a_suggestion() {
    let e = errs(
        "policy \"p\" {\n  events raised, lifted\n  alert typhoon { when kind == \"weather_warning\" from raised until lifted }\n  every e {\n    during typhon\n    contacted at least 1 per alert\n  }\n}\n",
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::alert::unknown",
            "pledge::alert::per_alert_without_during"
        ]
    );
    insta::assert_snapshot!(render(&e, false));
}

#[test]
fn per_alert_needs_during_and_an_alert_needs_its_period_and_a_single_name() {
    let e = errs(
        "policy \"p\" {\n  events raised, lifted\n  alert a { from raised until lifted }\n  alert a { from raised until lifted }\n  alert b { when kind == \"x\" from raised }\n  every e { contacted at least 1 per alert }\n}\n",
    );
    assert_eq!(
        e.codes(),
        vec![
            "pledge::alert::duplicate",
            "pledge::alert::missing_period",
            "pledge::alert::per_alert_without_during",
        ]
    );
    insta::assert_snapshot!(render(&e, false));
}

#[test]
fn during_and_cover_belong_to_every_clauses_only() {
    let e = errs(
        "policy \"p\" {\n  events shift_started, shift_ended\n  window w { covered from shift_started until shift_ended }\n}\n",
    );
    assert!(
        e.codes().contains(&"pledge::clause::misplaced_line"),
        "{:?}",
        e.codes()
    );
}

#[test]
fn formatted_clauses_and_files_read_back_the_same() {
    let first = policy();
    let mut again =
        String::from("policy \"cover\" {\n  events shift_started, shift_ended, raised, lifted\n");
    for a in &first.alerts {
        again.push_str(&pledge::syntax::format_alert(a));
    }
    for c in &first.clauses {
        again.push_str(&format_clause(c));
    }
    again.push_str("}\n");
    let second = parse_policy(&again, "again.pledge", None).expect("formatted text parses");
    assert_eq!(first.clauses, second.clauses, "formatted:\n{again}");
    assert_eq!(first.alerts, second.alerts);

    let messy = "policy \"cover\" {\n events shift_started,shift_ended,raised,lifted\n alert typhoon \"台风预警\" {when kind==\"weather_warning\"\n from raised\n until lifted}\n every e {when kind == \"post\" during typhoon covered   from shift_started until shift_ended}\n}\n";
    let tidy = format_source(messy, "messy.pledge").expect("formats");
    assert_eq!(
        format_source(&tidy, "tidy.pledge").expect("formats again"),
        tidy
    );
    insta::assert_snapshot!(tidy);
}

// ------------------------------------------------------------------------------ interval sets

/// The covered minutes of `[0, n)` by a naive bitmap.
fn naive(spans: &[(i64, i64)], n: i64) -> Vec<bool> {
    let mut on = vec![false; n as usize];
    for &(s, e) in spans {
        for m in s.max(0)..e.min(n) {
            on[m as usize] = true;
        }
    }
    on
}

fn minute(m: i64) -> Instant {
    t("01-01 00:00") + Duration::minutes(m)
}

proptest! {
    /// Law: the set is the union of what was inserted, in any order; its intervals are sorted,
    /// disjoint and never touch; its gaps are exactly the uncovered minutes.
    #[test]
    fn the_interval_set_is_the_union_in_any_order(
        spans in proptest::collection::vec((0i64..200, 0i64..40), 0..20),
        seed in any::<u64>(),
    ) {
        let spans: Vec<(i64, i64)> = spans.into_iter().map(|(s, l)| (s, s + l)).collect();
        let mut order = spans.clone();
        // A fixed shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut set = IntervalSet::default();
        for &(s, e) in &order {
            set.insert(minute(s), minute(e));
        }
        let n = 260;
        let want = naive(&spans, n);
        let got = naive(
            &set.spans()
                .iter()
                .map(|(s, e)| ((*s - minute(0)).num_minutes(), (*e - minute(0)).num_minutes()))
                .collect::<Vec<_>>(),
            n,
        );
        prop_assert_eq!(&want, &got);
        for pair in set.spans().windows(2) {
            prop_assert!(pair[0].1 < pair[1].0, "sorted, disjoint, not touching");
        }
        let gaps = set.gaps(minute(0), minute(n));
        let uncovered: i64 = gaps.iter().map(|(s, e)| (*e - *s).num_minutes()).sum();
        prop_assert_eq!(uncovered, want.iter().filter(|c| !**c).count() as i64);
    }
}

#[test]
fn a_year_of_unbroken_shifts_is_one_interval() {
    let mut c = Coverage::default();
    let who = ["night", "day", "evening"];
    for h in 0..365 * 3 {
        let at = minute(h * 8 * 60);
        c.start(Some(who[(h % 3) as usize]), at - Duration::minutes(5));
        if h > 0 {
            c.end(Some(who[((h + 2) % 3) as usize]), at + Duration::minutes(5));
        }
    }
    assert_eq!(c.closed.spans().len(), 1);
}

// -------------------------------------------------------------------------------- evaluation

fn hotline_day() -> Vec<Event> {
    vec![
        ev(
            "H",
            "03-01 00:00",
            "opened",
            &[("kind", "post"), ("post", "hotline")],
        ),
        ev("H", "03-01 00:00", "shift_started", &[("by", "n")]),
        ev("H", "03-01 08:00", "shift_ended", &[("by", "n")]),
        ev("H", "03-01 08:00", "shift_started", &[("by", "d")]),
        ev("H", "03-01 16:00", "shift_ended", &[("by", "d")]),
        ev("H", "03-01 16:30", "shift_started", &[("by", "e")]),
        ev("H", "03-02 00:00", "shift_ended", &[("by", "e")]),
        ev("H", "03-02 00:00", "shift_started", &[("by", "n")]),
    ]
}

#[test]
fn a_day_with_a_gap_fails_a_covered_day_is_met_and_today_waits() {
    let (found, met) = run_with(hotline_day(), "03-03 12:00");
    assert_eq!(found, vec!["hotline cover.gap@03-01 16:00"]);
    // 2 March is met (covered by the night shift still open); 3 March runs at `now`.
    assert_eq!(met_of(&met, "hotline"), 1);
}

proptest! {
    /// Law: the findings do not depend on the order in which a case's events arrive within
    /// the reorder window.
    #[test]
    fn cover_findings_do_not_depend_on_arrival_order(seed in any::<u64>()) {
        let mut events = hotline_day();
        let mut x = seed | 1;
        for i in (1..events.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            events.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(run(events, "03-03 12:00"), run(hotline_day(), "03-03 12:00"));
    }
}

fn warnings(list: &[(&str, &str, Option<&str>)]) -> Vec<Event> {
    let mut out = Vec::new();
    for (ticket, raised, lifted) in list {
        out.push(ev(
            ticket,
            "06-01 00:00",
            "opened",
            &[("kind", "weather_warning")],
        ));
        out.push(ev(ticket, raised, "raised", &[]));
        if let Some(l) = lifted {
            out.push(ev(ticket, l, "lifted", &[]));
        }
    }
    out
}

#[test]
fn each_alert_is_owed_its_contact_overlapping_ones_share_one_and_an_open_one_waits() {
    let mut events = warnings(&[
        ("W-1", "07-01 10:00", Some("07-02 10:00")),
        ("W-2", "07-02 08:00", Some("07-03 08:00")), // overlaps W-1
        ("W-3", "07-10 10:00", Some("07-11 10:00")),
        ("W-4", "07-20 10:00", None), // still up at `now`
    ]);
    events.push(ev("R", "06-01 00:00", "opened", &[("kind", "resident")]));
    events.push(ev("R", "07-02 09:00", "contacted", &[])); // inside W-1 and W-2
    events.push(ev("R", "07-10 09:59", "contacted", &[])); // a minute before W-3
    let (found, met) = run_with(events, "07-21 00:00");
    assert_eq!(found, vec!["elder_check duty.alert_short@07-11 10:00"]);
    assert_eq!(met_of(&met, "elder_check"), 2);
}

#[test]
fn a_subject_opened_during_an_alert_owes_nothing_for_it() {
    let mut events = warnings(&[("W-1", "07-01 10:00", Some("07-02 10:00"))]);
    events.push(ev("R", "07-01 12:00", "opened", &[("kind", "resident")]));
    assert_eq!(run(events, "07-05 00:00"), Vec::<String>::new());
}

#[test]
fn cover_during_an_alert_is_checked_from_its_raising_to_its_lifting_and_up_to_now() {
    let mut events = warnings(&[
        ("W-1", "07-01 10:00", Some("07-01 20:00")),
        ("W-2", "07-05 10:00", None),
    ]);
    events.push(ev(
        "F",
        "06-01 00:00",
        "opened",
        &[("kind", "post"), ("post", "flood_duty")],
    ));
    // W-1: covered from 09:55 to 20:10.
    events.push(ev("F", "07-01 09:55", "shift_started", &[("by", "a")]));
    events.push(ev("F", "07-01 20:10", "shift_ended", &[("by", "a")]));
    // W-2: the first shift is 30 minutes late, and is still on duty at `now`.
    events.push(ev("F", "07-05 10:30", "shift_started", &[("by", "b")]));
    let (found, met) = run_with(events, "07-05 18:00");
    assert_eq!(found, vec!["flood_duty cover.gap@07-05 10:00"]);
    assert_eq!(met_of(&met, "flood_duty"), 1);
}

#[test]
fn a_gap_duty_during_an_alert_runs_only_inside_it() {
    let mut events = warnings(&[
        ("W-1", "07-01 10:00", Some("07-01 13:00")),
        ("W-2", "07-08 10:00", Some("07-08 12:00")),
    ]);
    events.push(ev("A", "06-01 00:00", "opened", &[("kind", "area")]));
    for at in ["07-01 10:30", "07-01 11:30", "07-01 12:30"] {
        events.push(ev("A", at, "patrolled", &[]));
    }
    // W-2: one patrol, then nothing until the lifting: a gap of 1 h 30 min.
    events.push(ev("A", "07-08 10:30", "patrolled", &[]));
    let found = run(events, "07-20 00:00");
    assert_eq!(found, vec!["patrol duty.gap@07-08 11:30"]);
}

#[test]
fn alert_periods_survive_a_snapshot_and_restore() {
    let p = policy();
    let policies = std::slice::from_ref(&p);
    let mut events = warnings(&[("W-1", "07-01 10:00", Some("07-02 10:00"))]);
    events.push(ev("R", "06-01 00:00", "opened", &[("kind", "resident")]));
    events.push(ev(
        "F",
        "06-01 00:00",
        "opened",
        &[("kind", "post"), ("post", "flood_duty")],
    ));
    events.push(ev("F", "07-01 10:20", "shift_started", &[("by", "a")]));
    events.push(ev("F", "07-02 10:30", "shift_ended", &[("by", "a")]));
    events.push(ev("R", "07-03 09:00", "contacted", &[]));
    events.sort_by_key(|e| e.at);
    let opts = || EvalOptions {
        now: Some(t("07-05 00:00")),
        reorder_window: Duration::hours(1),
        ..EvalOptions::default()
    };
    let findings = |c: &Collect| -> Vec<String> {
        c.findings
            .iter()
            .map(|f| format!("{} {} {}", f.ticket, f.code, f.at))
            .collect()
    };
    let mut straight = Evaluator::new(policies, opts(), Collect::default());
    for e in &events {
        straight.push(e.clone());
    }
    let (_, whole) = straight.finish();
    assert_eq!(findings(&whole).len(), 2, "{:?}", findings(&whole));

    // Stopped while the warning is up, restored, and fed the rest.
    let split = events.iter().position(|e| e.at > t("07-01 18:00")).unwrap();
    let mut first = Evaluator::new(policies, opts(), Collect::default());
    for e in &events[..split] {
        first.push(e.clone());
    }
    let bytes = first.snapshot().expect("a snapshot");
    let mut second = Evaluator::restore(policies, Collect::default(), &bytes).expect("restores");
    for e in &events[split..] {
        second.push(e.clone());
    }
    let (_, rest) = second.finish();
    assert_eq!(findings(&rest), findings(&whole));
}
