//! Obligations triggered by a target's outcome (`require EVENT within D after TARGET missed`,
//! seed 003's root-cause analysis of a month below the urgent-repair closure target) through the
//! streaming evaluator: owed only where the target missed, met by an event of the group in the
//! period or up to `D` after it (both edges included), missed after that, pending before; a
//! case of another group, without the group, or outside the clause's `when` does not count. Its
//! diagnostics (English and Chinese), its formatting, and its laws (arrival order, partitions
//! merged, a snapshot restored).

mod common;

use chrono::Duration;
use common::{one_and_merged, policy, run_in_arrival_order, run_sorted as run, t};
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::period::{ObligationStatus, PeriodRecord, TargetStatus};
use pledge::policy::PeriodUnit;
use pledge::syntax::messages::{localize, Lang};
use pledge::syntax::{format_clause, parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

const CLAUSES: &str = r#"  events root_cause_analysed
  target urgent "紧急报修月度闭环率需达98%以上" {
    when kind == "repair" and severity == "urgent"
    ratio closed among opened per month
    group by project
    at least 98%
  }
  target rootcause "未达标项目需分析根本原因" {
    when kind == "project"
    require root_cause_analysed within 15 days after urgent missed
  }"#;

fn event(ticket: &str, at: Instant, kind: &str, attrs: &[(&str, &str)]) -> Event {
    let mut a = Attrs::new();
    for (k, v) in attrs {
        a.insert(k, Value::String((*v).into()));
    }
    Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: None,
        attrs: a,
        line: 0,
    }
}

/// An urgent repair of `project` opened at `at`, closed an hour later or never.
fn repair(ticket: &str, at: Instant, project: &str, closed: bool) -> Vec<Event> {
    let mut out = vec![event(
        ticket,
        at,
        "opened",
        &[
            ("kind", "repair"),
            ("severity", "urgent"),
            ("project", project),
        ],
    )];
    if closed {
        out.push(event(ticket, at + Duration::hours(1), "closed", &[]));
    }
    out
}

/// A project's case, opened on 1 January, with its analyses at `analyses`.
fn project(project: &str, analyses: &[Instant]) -> Vec<Event> {
    let ticket = format!("P-{project}");
    let mut out = vec![event(
        &ticket,
        t("2026-01-01T00:00:00+08:00"),
        "opened",
        &[("kind", "project"), ("project", project)],
    )];
    for &at in analyses {
        out.push(event(&ticket, at, "root_cause_analysed", &[]));
    }
    out
}

/// `period group status` of the obligation clause's records.
fn owed(c: &Collect) -> Vec<String> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(v) => v.obligation.as_ref().map(|o| {
                format!(
                    "{} {} {}",
                    v.period.label(),
                    v.group.label(),
                    o.status.as_str()
                )
            }),
            _ => None,
        })
        .collect()
}

/// March: jindi 1 of 2 closed (missed), vanke 0 of 1 (missed), wanda 1 of 1 (met).
fn march() -> Vec<Event> {
    let mut events = Vec::new();
    events.extend(repair("j1", t("2026-03-02T09:00:00+08:00"), "jindi", true));
    events.extend(repair("j2", t("2026-03-05T09:00:00+08:00"), "jindi", false));
    events.extend(repair("v1", t("2026-03-06T09:00:00+08:00"), "vanke", false));
    events.extend(repair("w1", t("2026-03-07T09:00:00+08:00"), "wanda", true));
    events
}

#[test]
fn only_missed_periods_owe_and_each_is_met_missed_or_pending() {
    let p = policy(CLAUSES);
    let mut events = march();
    // jindi analyses in April, inside the window; vanke never; wanda needs nothing (and its
    // analysis changes nothing).
    events.extend(project("jindi", &[t("2026-04-10T10:00:00+08:00")]));
    events.extend(project("vanke", &[]));
    events.extend(project("wanda", &[t("2026-04-02T10:00:00+08:00")]));
    let c = run(&p, events.clone(), "2026-05-01T00:00:00+08:00");
    assert_eq!(owed(&c), ["2026-03 jindi met", "2026-03 vanke missed"]);
    // The record keeps the target's figures and says when the event was due.
    let v = c
        .periods
        .iter()
        .find_map(|r| match r {
            PeriodRecord::Target(v) if v.obligation.is_some() && v.group.label() == "vanke" => {
                Some(v)
            }
            _ => None,
        })
        .expect("vanke's record");
    assert_eq!((v.hits, v.total, v.status), (0, 1, TargetStatus::Missed));
    let o = v.obligation.as_ref().unwrap();
    assert_eq!(o.due, t("2026-04-16T00:00:00+08:00"));
    assert_eq!(&*o.target, "urgent");
    assert_eq!(o.code(), Some("target.obligation_missed"));
    // Before the due instant, vanke's obligation is pending (a status of no verdict yet).
    let c = run(&p, events.clone(), "2026-04-15T12:00:00+08:00");
    assert_eq!(owed(&c), ["2026-03 jindi met", "2026-03 vanke pending"]);
    // At the due instant exactly it is still pending; a second later, missed.
    let c = run(&p, events.clone(), "2026-04-16T00:00:00+08:00");
    assert_eq!(owed(&c), ["2026-03 jindi met", "2026-03 vanke pending"]);
    let c = run(&p, events, "2026-04-16T00:00:01+08:00");
    assert_eq!(owed(&c), ["2026-03 jindi met", "2026-03 vanke missed"]);
}

#[test]
fn the_window_runs_from_the_period_start_to_d_after_its_end_both_included() {
    let p = policy(CLAUSES);
    let go = |at: &str| {
        let mut events = march();
        events.extend(project("jindi", &[t(at)]));
        let c = run(&p, events, "2026-06-01T00:00:00+08:00");
        owed(&c)
            .into_iter()
            .find(|r| r.contains("jindi"))
            .expect("jindi owes")
    };
    // Inside the month itself (before it is over): counts.
    assert_eq!(go("2026-03-20T10:00:00+08:00"), "2026-03 jindi met");
    // At the month's first instant: counts; a second before it: does not.
    assert_eq!(go("2026-03-01T00:00:00+08:00"), "2026-03 jindi met");
    assert_eq!(go("2026-02-28T23:59:59+08:00"), "2026-03 jindi missed");
    // Exactly at end + 15 days: counts; a second later: does not.
    assert_eq!(go("2026-04-16T00:00:00+08:00"), "2026-03 jindi met");
    assert_eq!(go("2026-04-16T00:00:01+08:00"), "2026-03 jindi missed");
}

#[test]
fn only_a_case_of_the_group_that_the_clause_applies_to_counts() {
    let p = policy(CLAUSES);
    let at = t("2026-04-02T10:00:00+08:00");
    // Another project's analysis, an analysis on a repair of jindi (not a `project` case),
    // and a project case without `project`.
    let mut events = march();
    events.extend(project("vanke", &[at]));
    events.push(event(
        "j3",
        t("2026-04-01T09:00:00+08:00"),
        "opened",
        &[("kind", "repair"), ("project", "jindi")],
    ));
    events.push(event("j3", at, "root_cause_analysed", &[]));
    events.push(event(
        "P-none",
        t("2026-01-01T00:00:00+08:00"),
        "opened",
        &[("kind", "project")],
    ));
    events.push(event("P-none", at, "root_cause_analysed", &[]));
    let c = run(&p, events, "2026-05-01T00:00:00+08:00");
    assert_eq!(owed(&c), ["2026-03 jindi missed", "2026-03 vanke met"]);
}

#[test]
fn a_target_without_a_verdict_or_met_owes_nothing_and_a_group_without_a_value_neither() {
    let p = policy(CLAUSES);
    // A repair without a project misses in the group `-`: no one can be asked for it.
    let mut events = repair("x1", t("2026-03-02T09:00:00+08:00"), "", false);
    events[0].attrs = {
        let mut a = Attrs::new();
        a.insert("kind", Value::String("repair".into()));
        a.insert("severity", Value::String("urgent".into()));
        a
    };
    events.extend(repair("w1", t("2026-03-07T09:00:00+08:00"), "wanda", true));
    let c = run(&p, events, "2026-06-01T00:00:00+08:00");
    assert!(owed(&c).is_empty(), "{:?}", owed(&c));
    // April and May have no repairs at all (no verdict): nothing owed either.
    let targets = c
        .periods
        .iter()
        .filter(|r| matches!(r, PeriodRecord::Target(v) if v.obligation.is_none() && v.status == TargetStatus::NoVerdict))
        .count();
    assert!(targets > 0);
}

#[test]
fn one_analysis_early_in_a_month_serves_the_month_before_and_its_own() {
    let p = policy(CLAUSES);
    let mut events = march();
    events.extend(repair("j4", t("2026-04-20T09:00:00+08:00"), "jindi", false));
    events.extend(project("jindi", &[t("2026-04-10T10:00:00+08:00")]));
    let c = run(&p, events, "2026-06-01T00:00:00+08:00");
    let jindi: Vec<String> = owed(&c)
        .into_iter()
        .filter(|r| r.contains("jindi"))
        .collect();
    assert_eq!(jindi, ["2026-03 jindi met", "2026-04 jindi met"]);
}

#[test]
fn diagnostics_in_english_and_chinese() {
    let cases = [
        (
            "unknown",
            "  events root_cause_analysed\n  target r {\n    require root_cause_analysed within 15 days after urgnet missed\n  }\n  target urgent {\n    ratio closed among opened per month\n    at least 98%\n  }",
            "pledge::target::obligation_unknown",
        ),
        (
            "on_obligation",
            "  target a {\n    require closed within 1 day after b missed\n  }\n  target b {\n    require closed within 1 day after c missed\n  }\n  target c {\n    ratio closed among opened per month\n    at least 98%\n  }",
            "pledge::target::obligation_on_obligation",
        ),
        (
            "mixed",
            "  target r {\n    require closed within 15 days after urgent missed\n    group by project\n  }\n  target urgent {\n    ratio closed among opened per month\n    at least 98%\n  }",
            "pledge::target::obligation_mixed",
        ),
        (
            "misplaced",
            "  deadline d {\n    from opened until closed within 1 hour\n    require closed within 15 days after urgent missed\n  }",
            "pledge::clause::misplaced_line",
        ),
    ];
    for (name, body, code) in cases {
        let src = format!("policy \"p\" {{\n{body}\n}}\n");
        let e = parse_policy(&src, "t.pledge", None).unwrap_err();
        assert_eq!(e.errors[0].code, code, "{name}: {}", render(&e, false));
        let zh = localize(&e, Lang::Zh);
        assert_eq!(zh.errors[0].primary_span(), e.errors[0].primary_span());
        insta::assert_snapshot!(
            format!("obligation_{name}"),
            format!("{}\n{}", render(&e, false), render(&zh, false))
        );
    }
}

#[test]
fn the_obligation_formats_and_parses_back_the_same() {
    let src = CLAUSES.replace(
        "require root_cause_analysed within",
        "require root_cause_analysed(topic == \"urgent_closure\")   within",
    );
    let p = policy(&src);
    let text = format_clause(&p.clauses[1]);
    // The canonical duration of 15 days is `2 weeks 1 day`.
    assert!(
        text.contains(
            r#"require root_cause_analysed(topic == "urgent_closure") within 2 weeks 1 day after urgent missed"#
        ),
        "{text}"
    );
    let again = policy(&format!(
        "{}\n{text}",
        &CLAUSES[..CLAUSES.find("  target rootcause").unwrap()]
    ));
    assert_eq!(again.clauses[1], p.clauses[1]);
    // The obligation takes the target's period and groups.
    let pledge::policy::ClauseBody::Target(t) = &p.clauses[1].body else {
        panic!("a target");
    };
    assert_eq!(
        (t.period, &t.group_by[..]),
        (PeriodUnit::Month, &["project".to_string()][..])
    );
}

/// Urgent repairs and analyses from `(hour, project, kind)`: kind 0 a closed repair, 1 an open
/// one, 2 an analysis.
fn stream(items: &[(i64, usize, usize)]) -> Vec<Event> {
    let start = t("2026-01-01T08:00:00+08:00");
    let mut events = Vec::new();
    for p in ["a", "b"] {
        events.push(event(
            &format!("P-{p}"),
            t("2025-12-01T00:00:00+08:00"),
            "opened",
            &[("kind", "project"), ("project", p)],
        ));
    }
    for (i, (hour, project, kind)) in items.iter().enumerate() {
        let at = start + Duration::hours(*hour) + Duration::seconds(i as i64);
        let project = ["a", "b"][*project];
        match kind {
            2 => events.push(event(
                &format!("P-{project}"),
                at,
                "root_cause_analysed",
                &[],
            )),
            k => events.extend(repair(&format!("c{i}"), at, project, *k == 0)),
        }
    }
    events
}

fn records(c: &Collect) -> Vec<String> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(v) => Some(format!(
                "{} {} {} {:?} {:?}",
                v.clause,
                v.period.label(),
                v.group.label(),
                v.status,
                v.obligation.as_ref().map(|o| o.status)
            )),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The outcomes do not depend on the order the cases arrive in, nor on the order of the
    /// analyses of a project's case inside the reorder window.
    #[test]
    fn outcomes_do_not_depend_on_the_order_of_arrival(
        items in proptest::collection::vec((0i64..3000, 0usize..2, 0usize..3), 1..40),
        seed in any::<u64>(),
    ) {
        let p = policy(CLAUSES);
        let mut events = stream(&items);
        events.sort_by_key(|e| e.at);
        let mut shuffled = events.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let go = |events: Vec<Event>| records(&run_in_arrival_order(&p, events, "2026-06-01T00:00:00+08:00"));
        prop_assert_eq!(go(events), go(shuffled));
    }

    /// Partitions of the tickets, merged, give the outcomes of one evaluator: an analysis and
    /// the repairs it answers for may fall in different partitions.
    #[test]
    fn partitions_merged_give_the_outcomes_of_one_evaluator(
        items in proptest::collection::vec((0i64..3000, 0usize..2, 0usize..3), 1..40),
        parts in 2u32..4,
    ) {
        let p = policy(CLAUSES);
        let policies = std::slice::from_ref(&p);
        let mut events = stream(&items);
        events.sort_by_key(|e| e.at);
        let ((one_summary, one_sink), (summary, sink)) =
            one_and_merged(policies, &events, "2026-06-01T00:00:00+08:00", parts);
        prop_assert_eq!(one_summary, summary);
        prop_assert!(one_sink.records == sink.records, "the merged records differ");
    }

    /// A snapshot taken anywhere in the stream and restored gives the outcomes of an
    /// uninterrupted run: the marks are part of the state.
    #[test]
    fn a_restored_snapshot_keeps_the_marks(
        items in proptest::collection::vec((0i64..3000, 0usize..2, 0usize..3), 1..40),
        cut in 0usize..200,
    ) {
        let p = policy(CLAUSES);
        let policies = std::slice::from_ref(&p);
        let mut events = stream(&items);
        events.sort_by_key(|e| e.at);
        let opts = || EvalOptions { now: Some(t("2026-06-01T00:00:00+08:00")), ..EvalOptions::default() };
        let mut one = Evaluator::new(policies, opts(), Collect::default());
        for e in &events {
            one.push(e.clone());
        }
        let whole = records(&one.finish().1);
        let cut = cut % (events.len() + 1);
        let mut first = Evaluator::new(policies, opts(), Collect::default());
        for e in &events[..cut] {
            first.push(e.clone());
        }
        let bytes = first.snapshot().expect("a snapshot");
        let mut second = Evaluator::restore(policies, Collect::default(), &bytes).expect("restores");
        for e in &events[cut..] {
            second.push(e.clone());
        }
        prop_assert_eq!(whole, records(&second.finish().1));
    }
}

#[test]
fn the_summary_counts_met_missed_and_pending_obligations() {
    let p = policy(CLAUSES);
    let mut events = march();
    events.extend(project("jindi", &[t("2026-04-10T10:00:00+08:00")]));
    events.extend(repair("v2", t("2026-05-03T09:00:00+08:00"), "vanke", false));
    events.sort_by_key(|e| e.at);
    let mut e = Evaluator::new(
        std::slice::from_ref(&p),
        EvalOptions {
            now: Some(t("2026-05-20T00:00:00+08:00")),
            ..EvalOptions::default()
        },
        Collect::default(),
    );
    for ev in events {
        e.push(ev);
    }
    let (summary, c) = e.finish();
    assert_eq!(
        owed(&c),
        [
            "2026-03 jindi met",
            "2026-03 vanke missed",
            "2026-05 vanke pending"
        ]
    );
    let s = summary
        .clauses
        .iter()
        .find(|c| &*c.clause == "rootcause")
        .expect("the clause's counts");
    assert_eq!((s.met, s.findings, s.pending), (1, 1, 1));
    assert!(c
        .periods
        .iter()
        .any(|r| matches!(r, PeriodRecord::Target(v) if v.obligation.as_ref().is_some_and(|o| o.status == ObligationStatus::Pending) && v.status == TargetStatus::NoVerdict)));
}
