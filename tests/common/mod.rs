//! What several integration tests share: instants, small policies, the evaluator run over a
//! stream, partitions merged, and the real binary with a fixed environment.
//!
//! Each test file that needs it says `mod common;`; a file uses only part of it, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod debian;

use chrono::{DateTime, Utc};
use pledge::engine::PeriodSink;
use pledge::engine::{Collect, EvalOptions, Evaluator, Partition};
use pledge::eval::Summary;
use pledge::period::ReportSpec;
use pledge::policy::{PeriodUnit, Policy};
use pledge::report::period::merged_periods;
use pledge::syntax::{parse_policy, render};
use pledge::{Event, Instant};

/// An RFC 3339 instant; a bad literal is a bug in the test and says which.
pub fn t(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

/// `"03-02 09:00"` → 2026-03-02T09:00:00+08:00 (a Monday): short instants for tests of a few
/// days of one year.
pub fn in_2026(s: &str) -> Instant {
    t(&format!("2026-{}:00+08:00", s.replace(' ', "T")))
}

/// The paths of the shipped policies (`policies/*.pledge`), in file name order.
pub fn shipped_policy_paths() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir("policies")
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    paths.sort();
    paths
}

/// Every shipped policy (`policies/*.pledge`), in file name order.
pub fn shipped_policies() -> Vec<Policy> {
    shipped_policy_paths()
        .iter()
        .map(|p| {
            pledge::syntax::load_policy(p).unwrap_or_else(|e| panic!("{}: {e:?}", p.display()))
        })
        .collect()
}

/// A storm warning (an alert) and the residents asked during it (a duty `per alert`): the
/// alert case and the subjects whose duties read its periods are different tickets.
pub const STORM: &str = r#"policy "storm" {
  events raised, lifted
  alert storm "台风暴雨预警" {
    when kind == "weather_warning"
    from raised until lifted
  }
  every elder_storm_check "台风暴雨期间询问空巢老人" {
    when kind == "resident"
    during storm
    contacted at least 1 per alert
  }
}
"#;

/// A policy `p` in Asia/Shanghai holding `body` (clauses indented by two spaces).
pub fn policy(body: &str) -> Policy {
    let src = format!("policy \"p\" {{\n  zone \"Asia/Shanghai\"\n{body}\n}}");
    parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)))
}

/// Options judging at `now`, the rest default.
pub fn at_now(now: &str) -> EvalOptions {
    EvalOptions {
        now: Some(t(now)),
        ..EvalOptions::default()
    }
}

/// `events` sorted by instant, numbered as lines in that order, through one evaluator judging
/// at `now`.
pub fn run_sorted(policy: &Policy, mut events: Vec<Event>, now: &str) -> Collect {
    events.sort_by_key(|e| e.at);
    let mut e = Evaluator::new(
        std::slice::from_ref(policy),
        at_now(now),
        Collect::default(),
    );
    for (i, mut ev) in events.into_iter().enumerate() {
        ev.line = i as u64 + 1;
        e.push(ev);
    }
    e.finish().1
}

/// The monthly period records of `events` (sorted) judged at `now`: once by one evaluator,
/// and once by `parts` partitions whose saved states are merged. The laws of scale-out say the
/// two are equal.
pub fn one_and_merged(
    policies: &[Policy],
    events: &[Event],
    now: &str,
    parts: u32,
) -> ((Summary, PeriodSink), (Summary, PeriodSink)) {
    let spec = ReportSpec {
        unit: PeriodUnit::Month,
        group_by: vec![],
    };
    let mut one = Evaluator::new(policies, at_now(now), PeriodSink::default());
    one.periods_mut().report_by(spec.clone());
    for e in events {
        one.push(e.clone());
    }
    let one = one.finish();
    let states: Vec<(String, Vec<u8>)> = (0..parts)
        .map(|i| {
            let mut e = Evaluator::new(policies, at_now(now), Collect::default());
            e.partition(Partition::new(i, parts).expect("a partition"));
            e.periods_mut().report_by(spec.clone());
            for ev in events {
                e.push(ev.clone());
            }
            (format!("p{i}"), e.snapshot().expect("a snapshot"))
        })
        .collect();
    let (_, summary, sink) = merged_periods(policies, &states).expect("merges");
    (one, (summary, sink))
}

/// `events` in the order given (numbered as lines in that order) through one evaluator judging
/// at `now`, with a reorder window wide enough for any order: the laws of arrival order compare
/// two such runs.
pub fn run_in_arrival_order(policy: &Policy, events: Vec<Event>, now: &str) -> Collect {
    let opts = EvalOptions {
        reorder_window: chrono::Duration::days(400),
        ..at_now(now)
    };
    let mut e = Evaluator::new(std::slice::from_ref(policy), opts, Collect::default());
    for (i, mut ev) in events.into_iter().enumerate() {
        ev.line = i as u64 + 1;
        e.push(ev);
    }
    e.finish().1
}

/// An event of `ticket` at `at` with string attributes (line 0, no id).
pub fn event_at(ticket: &str, at: Instant, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: None,
        attrs: pairs
            .iter()
            .map(|(k, v)| (Box::from(*k), pledge::value::Value::String((*v).into())))
            .collect::<pledge::value::Attrs>(),
        line: 0,
    }
}
