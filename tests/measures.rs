//! Measuring targets end to end through the streaming evaluator: counts, means, medians and
//! percentiles of durations per period and group, and changes against the same period a year
//! earlier; their edges (exactly at the bound, empty periods, cases still running, a period
//! still open at `now`), their diagnostics, and their laws (order independence, nearest rank,
//! partitions merged give the measure of one evaluator).

mod common;

use chrono::Duration;
use common::{one_and_merged, run_sorted as run, t};
use pledge::engine::Collect;
use pledge::period::measure::nearest_rank;
use pledge::period::{PeriodRecord, TargetStatus, TargetVerdict};
use pledge::policy::Policy;
use pledge::syntax::{parse_policy, render, PolicyErrors};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

fn ev(ticket: &str, at: Instant, kind: &str, project: &str) -> Event {
    let mut attrs = Attrs::new();
    if kind == "opened" {
        attrs.insert("kind", Value::String("repair".into()));
        attrs.insert("project", Value::String(project.into()));
    }
    Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: None,
        attrs,
        line: 0,
    }
}

/// A repair opened at `opened` and resolved `hours` later (never, for `None`).
fn repair(ticket: &str, opened: Instant, minutes: Option<i64>, project: &str) -> Vec<Event> {
    let mut v = vec![ev(ticket, opened, "opened", project)];
    if let Some(m) = minutes {
        v.push(ev(
            ticket,
            opened + Duration::minutes(m),
            "resolved",
            project,
        ));
    }
    v
}

/// A policy declaring the event type `held` (a meeting), with `body`.
fn policy(body: &str) -> Policy {
    common::policy(&format!("  events held\n{body}"))
}

fn errors(body: &str) -> PolicyErrors {
    let src = format!("policy \"p\" {{\n{body}\n}}");
    match parse_policy(&src, "test.pledge", None) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn targets(c: &Collect) -> Vec<&TargetVerdict> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// `(period, group, status, value)` of every record of the clause.
fn rows(c: &Collect) -> Vec<(String, String, TargetStatus, Option<i64>)> {
    targets(c)
        .iter()
        .map(|v| {
            let m = v.measure.as_ref().expect("a measure");
            (v.period.label(), v.group.label(), v.status, m.value)
        })
        .collect()
}

const HOUR: i64 = 3_600_000;

const MEAN: &str = r#"  target cycle "维修平均处理周期缩短至24小时" {
    when kind == "repair"
    measure mean of resolved - opened per month
    at most 24 hours
  }"#;

#[test]
fn a_mean_exactly_at_the_bound_is_met_and_a_millisecond_more_is_missed() {
    let p = policy(MEAN);
    let mut events = repair("A", t("2026-03-02T09:00:00+08:00"), Some(20 * 60), "x");
    events.extend(repair(
        "B",
        t("2026-03-03T09:00:00+08:00"),
        Some(28 * 60),
        "x",
    ));
    let c = run(&p, events.clone(), "2026-05-01T00:00:00+08:00");
    assert_eq!(
        rows(&c)[0],
        (
            "2026-03".into(),
            "all".into(),
            TargetStatus::Met,
            Some(24 * HOUR)
        )
    );
    // One second more in one of two cases: the mean is 24 h 0.5 s, above the bound.
    let mut later = events;
    later[3].at += Duration::seconds(1);
    let c = run(&p, later, "2026-05-01T00:00:00+08:00");
    assert_eq!(rows(&c)[0].2, TargetStatus::Missed);
    assert_eq!(rows(&c)[0].3, Some(24 * HOUR + 500), "whole milliseconds");
}

#[test]
fn a_case_counts_in_the_period_of_its_start_and_a_running_case_is_not_measured() {
    let p = policy(MEAN);
    let mut events = repair("A", t("2026-03-31T23:00:00+08:00"), Some(30 * 60), "x");
    events.extend(repair("B", t("2026-04-01T00:00:00+08:00"), Some(60), "x"));
    events.extend(repair("C", t("2026-04-02T00:00:00+08:00"), None, "x"));
    let c = run(&p, events, "2026-04-30T00:00:00+08:00");
    let r = rows(&c);
    assert_eq!(
        r[0],
        (
            "2026-03".into(),
            "all".into(),
            TargetStatus::Missed,
            Some(30 * HOUR)
        )
    );
    assert_eq!(
        r[1],
        (
            "2026-04".into(),
            "all".into(),
            TargetStatus::Met,
            Some(HOUR)
        )
    );
    let april = targets(&c)[1].measure.clone().expect("a measure");
    assert_eq!((april.measured, april.running), (1, 1));
    assert!(april.text().contains("(1 running)"), "{}", april.text());
}

#[test]
fn an_empty_period_has_no_verdict() {
    let p = policy(MEAN);
    let mut events = repair("A", t("2026-01-10T09:00:00+08:00"), Some(60), "x");
    events.extend(repair("B", t("2026-03-10T09:00:00+08:00"), Some(60), "x"));
    // Only running cases in April: nothing measured.
    events.extend(repair("C", t("2026-04-10T09:00:00+08:00"), None, "x"));
    let c = run(&p, events, "2026-04-30T00:00:00+08:00");
    let statuses: Vec<_> = rows(&c).into_iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        statuses,
        vec![
            ("2026-01".into(), TargetStatus::Met),
            ("2026-02".into(), TargetStatus::NoVerdict),
            ("2026-03".into(), TargetStatus::Met),
            ("2026-04".into(), TargetStatus::NoVerdict),
        ]
    );
}

#[test]
fn median_and_percentile_are_nearest_rank_per_group() {
    let p = policy(
        r#"  target med {
    measure median of resolved - opened per month
    group by project
    at most 2 hours
  }
  target p90 {
    measure percentile 90 of resolved - opened per month
    at most 4 hours
  }"#,
    );
    let mut events = Vec::new();
    // Project a: 1, 2, 3, 10 hours: the lower median is 2 h. Project b: 3 h.
    for (i, h) in [1, 2, 3, 10].iter().enumerate() {
        let at = t("2026-03-02T09:00:00+08:00") + Duration::hours(i as i64);
        events.extend(repair(&format!("a{i}"), at, Some(h * 60), "a"));
    }
    events.extend(repair("b0", t("2026-03-05T09:00:00+08:00"), Some(180), "b"));
    let c = run(&p, events, "2026-03-31T00:00:00+08:00");
    let r = rows(&c);
    assert_eq!(
        r[0],
        (
            "2026-03".into(),
            "a".into(),
            TargetStatus::Met,
            Some(2 * HOUR)
        )
    );
    assert_eq!(
        r[1],
        (
            "2026-03".into(),
            "b".into(),
            TargetStatus::Missed,
            Some(3 * HOUR)
        )
    );
    // All five: 1, 2, 3, 3, 10 h; rank ceil(0.9 × 5) = 5: 10 h.
    assert_eq!(
        r[2],
        (
            "2026-03".into(),
            "all".into(),
            TargetStatus::Missed,
            Some(10 * HOUR)
        )
    );
}

#[test]
fn working_time_on_a_calendar() {
    let p = policy(
        r#"  calendar office {
    hours mon..fri 09:00-18:00
  }
  target cycle {
    measure mean of resolved - opened per month on office
    at most 9 hours
  }"#,
    );
    // Friday 17:00 to Monday 17:00: 1 h + 8 h of working time, 72 h on the wall clock.
    let events = repair("A", t("2026-03-06T17:00:00+08:00"), Some(72 * 60), "x");
    let c = run(&p, events, "2026-03-31T00:00:00+08:00");
    assert_eq!(rows(&c)[0].2, TargetStatus::Met);
    assert_eq!(rows(&c)[0].3, Some(9 * HOUR));
}

const YOY: &str = r#"  target repeat_repairs "同类报修量同比下降35%" {
    when kind == "repair"
    measure count of opened per year
    group by project
    change at most -35% against previous year
  }"#;

fn yearly(n2025: usize, n2026: usize, project: &str) -> Vec<Event> {
    let mut v = Vec::new();
    for i in 0..n2025 {
        let at = t("2025-02-01T09:00:00+08:00") + Duration::days(i as i64);
        v.extend(repair(&format!("{project}-25-{i}"), at, None, project));
    }
    for i in 0..n2026 {
        let at = t("2026-02-01T09:00:00+08:00") + Duration::days(i as i64);
        v.extend(repair(&format!("{project}-26-{i}"), at, None, project));
    }
    v
}

#[test]
fn a_fall_of_exactly_35_percent_is_met_and_less_is_missed() {
    let p = policy(YOY);
    let mut events = yearly(20, 13, "a");
    events.extend(yearly(20, 14, "b"));
    events.extend(yearly(0, 5, "c"));
    let c = run(&p, events, "2027-01-05T00:00:00+08:00");
    let v: Vec<_> = targets(&c)
        .into_iter()
        .filter(|v| v.period.label() == "2026")
        .map(|v| {
            let m = v.measure.as_ref().expect("a measure");
            (v.group.label(), v.status, m.previous, m.change_permille)
        })
        .collect();
    assert_eq!(
        v,
        vec![
            ("a".into(), TargetStatus::Met, Some(20), Some(-350)),
            ("b".into(), TargetStatus::Missed, Some(20), Some(-300)),
            // Nothing a year earlier: no verdict.
            ("c".into(), TargetStatus::NoVerdict, None, None),
        ]
    );
    // 2025 has no year before it.
    assert!(targets(&c)
        .iter()
        .filter(|v| v.period.label() == "2025")
        .all(|v| v.status == TargetStatus::NoVerdict));
}

#[test]
fn a_count_in_a_period_still_open_waits_for_its_end() {
    let p = policy(YOY);
    let c = run(&p, yearly(20, 14, "a"), "2026-12-31T00:00:00+08:00");
    let v = targets(&c);
    assert_eq!(v.last().map(|v| v.status), Some(TargetStatus::NoVerdict));
    let q = policy(
        r#"  target events_12 {
    measure count of opened per year
    at least 12
  }"#,
    );
    // Twelve before the year ends: met already; eleven: not yet known; after the year: missed.
    let c = run(&q, yearly(0, 12, "a"), "2026-06-30T00:00:00+08:00");
    assert_eq!(targets(&c)[0].status, TargetStatus::Met);
    let c = run(&q, yearly(0, 11, "a"), "2026-06-30T00:00:00+08:00");
    assert_eq!(targets(&c)[0].status, TargetStatus::NoVerdict);
    let c = run(&q, yearly(0, 11, "a"), "2027-01-01T00:00:00+08:00");
    assert_eq!(targets(&c)[0].status, TargetStatus::Missed);
}

#[test]
fn mistakes_in_a_measure_are_diagnostics_with_codes() {
    let cases = [
        (
            "  target t {\n    measure mean of opened per month\n    at most 1 hour\n  }",
            "pledge::measure::no_duration",
        ),
        (
            "  target t {\n    measure count of resolved - opened per month\n    at least 1\n  }",
            "pledge::measure::count_of_duration",
        ),
        (
            "  target t {\n    measure percentile 0 of resolved - opened per month\n    at most 1 hour\n  }",
            "pledge::measure::bad_percentile",
        ),
        (
            "  target t {\n    measure mean of resolved - opened per month\n    at most 12\n  }",
            "pledge::measure::bound_unit",
        ),
        (
            "  target t {\n    measure count of opened per month\n    at most 2 hours\n  }",
            "pledge::measure::bound_unit",
        ),
        (
            "  target t {\n    measure count of opened per month\n    at most 50%\n  }",
            "pledge::measure::percent_bound",
        ),
        (
            "  target t {\n    measure count of opened per year\n    at most 5\n    change at most -10% against previous year\n  }",
            "pledge::measure::two_bounds",
        ),
        (
            "  target t {\n    measure count of opened per year\n    change at most -150% against previous year\n  }",
            "pledge::measure::bad_change",
        ),
        (
            "  target t {\n    ratio closed among opened per month\n    change at most -10% against previous year\n  }",
            "pledge::measure::ratio_bound",
        ),
        (
            "  target t {\n    measure count of opened per year\n  }",
            "pledge::clause::missing_bound",
        ),
    ];
    let mut all = String::new();
    for (body, code) in cases {
        let e = errors(body);
        assert_eq!(e.errors[0].code, code, "{body}");
        all.push_str(&render(&e, false));
    }
    insta::assert_snapshot!("measure_diagnostics", all);
}

// ---------------------------------------------------------------- laws

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The nearest-rank percentile is a value of the set with at least p % of the values at or
    /// below it and fewer than p % strictly below it.
    #[test]
    fn nearest_rank_is_the_smallest_value_with_p_percent_at_or_below(
        values in proptest::collection::vec(0u64..1000, 1..60),
        p in 1u8..=100,
    ) {
        let v = nearest_rank(&values, p).expect("not empty");
        prop_assert!(values.contains(&v));
        let n = values.len() as u64;
        let at_or_below = values.iter().filter(|x| **x <= v).count() as u64;
        let below = values.iter().filter(|x| **x < v).count() as u64;
        prop_assert!(at_or_below * 100 >= u64::from(p) * n);
        prop_assert!(below * 100 < u64::from(p) * n);
    }

    /// Median, percentile and mean do not depend on the order the cases arrive in.
    #[test]
    fn measures_do_not_depend_on_the_order_of_cases(
        minutes in proptest::collection::vec(0i64..3000, 1..25),
        seed in any::<u64>(),
    ) {
        let p = policy(
            "  target med {\n    measure median of resolved - opened per month\n    at most 10 hours\n  }\n  target mean {\n    measure mean of resolved - opened per month\n    at most 10 hours\n  }",
        );
        let start = t("2026-03-01T09:00:00+08:00");
        let mut a = Vec::new();
        let mut b = Vec::new();
        let n = minutes.len();
        for (i, m) in minutes.iter().enumerate() {
            a.extend(repair(&format!("c{i}"), start + Duration::hours(i as i64), Some(*m), "x"));
            // The same durations, given to the cases in another order.
            let j = (i + (seed as usize % n)) % n;
            b.extend(repair(&format!("c{i}"), start + Duration::hours(i as i64), Some(minutes[j]), "x"));
        }
        let ra = rows(&run(&p, a, "2026-03-31T00:00:00+08:00"));
        let rb = rows(&run(&p, b, "2026-03-31T00:00:00+08:00"));
        prop_assert_eq!(ra, rb);
    }

    /// Partitions of the tickets, merged, give the measures of one evaluator: the state is
    /// sums, counts and the durations themselves, never a median of medians.
    #[test]
    fn partitions_merged_give_the_measure_of_one_evaluator(
        cases in proptest::collection::vec((0i64..400, proptest::option::of(0i64..3000), 0usize..3), 1..40),
        parts in 2u32..4,
    ) {
        let p = policy(
            "  target med {\n    measure percentile 75 of resolved - opened per month\n    group by project\n    at most 10 hours\n  }\n  target yoy {\n    measure count of opened per year\n    change at most -35% against previous year\n  }",
        );
        let policies = std::slice::from_ref(&p);
        let start = t("2025-06-01T09:00:00+08:00");
        let mut events = Vec::new();
        for (i, (day, m, project)) in cases.iter().enumerate() {
            let at = start + Duration::days(*day) + Duration::minutes(i as i64);
            events.extend(repair(&format!("c{i}"), at, *m, ["a", "b", "c"][*project]));
        }
        events.sort_by_key(|e| e.at);
        let ((one_summary, one_sink), (summary, sink)) =
            one_and_merged(policies, &events, "2026-09-01T00:00:00+08:00", parts);
        prop_assert_eq!(one_summary, summary);
        prop_assert!(one_sink.records == sink.records, "the merged records differ");
    }
}

#[test]
fn cannot_fail_warns_on_a_measure_every_period_meets() {
    use pledge::syntax::{parse_policy_linted, Schema};
    let lints = |bound: &str| -> Vec<&'static str> {
        let src = format!(
            "policy \"p\" {{\n  target t \"t\" {{\n    cite s003-r-1 \"seed 003\"\n    measure count of opened per year\n    {bound}\n  }}\n}}\n"
        );
        parse_policy_linted(&src, "test.pledge", None, &Schema::default(), &[])
            .unwrap_or_else(|e| panic!("{}", render(&e, false)))
            .lints
            .iter()
            .filter_map(|d| d.lint)
            .collect()
    };
    assert_eq!(lints("at least 0"), ["cannot_fail"]);
    assert_eq!(
        lints("change at least -100% against previous year"),
        ["cannot_fail"]
    );
    assert!(lints("at least 1").is_empty());
    assert!(lints("change at least -99.9% against previous year").is_empty());
}

#[test]
fn a_count_counts_every_event_of_an_entity_in_the_period_of_its_instant() {
    let p = policy(
        r#"  target activities {
    when kind == "repair"
    measure count of held per quarter
    at least 2
  }"#,
    );
    let mut events = repair("P", t("2026-01-01T09:00:00+08:00"), None, "x");
    for at in [
        "2026-01-10T09:00:00+08:00",
        "2026-03-31T23:59:00+08:00",
        "2026-04-01T00:00:00+08:00",
    ] {
        events.push(ev("P", t(at), "held", "x"));
    }
    let c = run(&p, events, "2026-07-01T00:00:00+08:00");
    let r: Vec<_> = rows(&c).into_iter().map(|r| (r.0, r.2, r.3)).collect();
    assert_eq!(
        r,
        vec![
            ("2026-Q1".into(), TargetStatus::Met, Some(2)),
            ("2026-Q2".into(), TargetStatus::Missed, Some(1)),
            // Still open at `now`: one held so far, no verdict yet.
            ("2026-Q3".into(), TargetStatus::NoVerdict, Some(0)),
        ]
    );
}

#[test]
fn measure_clauses_format_and_parse_back_the_same() {
    let p = policy(
        r#"  calendar office {
    hours mon..fri 09:00-18:00
  }
  target a "甲" {
    when kind == "repair"
    measure percentile 90 of resolved(first_time_fix) - opened per month on office
    group by project
    at most 1 day 6 hours
  }
  target b {
    measure count of opened per year
    change at most -35.5% against previous year
  }
  target c {
    measure median of closed or resolved - opened per week
    at least 30 minutes
  }
  target d {
    measure count of held(type == "activity") per year
    at least 12
  }"#,
    );
    let mut again = String::from("  zone \"Asia/Shanghai\"\n  events held\n  calendar office {\n    hours mon..fri 09:00-18:00\n  }\n");
    for c in &p.clauses {
        again.push_str(&pledge::syntax::format_clause(c));
    }
    let src = format!("policy \"p\" {{\n{again}}}");
    let back = parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("{src}\n{}", render(&e, false)));
    assert_eq!(p.clauses.len(), back.clauses.len());
    for (a, b) in p.clauses.iter().zip(&back.clauses) {
        assert_eq!(a.body, b.body, "{src}");
    }
}
