//! Cases that are never closed settle after the retention without events (`--retain`, in
//! stream time), like closed ones: their running cycles are judged against `now` as before,
//! an event for them afterwards is rejected with its own reason, and a case closed within the
//! retention is unaffected.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::{Status, Summary};
use pledge::policy::Policy;
use pledge::syntax::{parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};

fn ev(ticket: &str, at: &str, kind: &str) -> Event {
    Event {
        ticket: ticket.into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: [(Box::from("kind"), Value::String("repair".into()))]
            .into_iter()
            .collect::<Attrs>(),
        line: 0,
    }
}

fn policy() -> Vec<Policy> {
    let src = r#"policy "p" {
  deadline resolve_1d "一天内解决" {
    until resolved
    within 1 day
  }
  deadline close_3d "三天内关闭" {
    until closed
    within 3 days
  }
}"#;
    vec![parse_policy(src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)))]
}

fn opts(retain_days: i64) -> EvalOptions {
    EvalOptions {
        reorder_window: Duration::hours(1),
        retain: Duration::days(retain_days),
        ..EvalOptions::default()
    }
}

/// Runs the events and returns the summary, the records, and the most cases kept at once.
fn run(events: &[Event], opts: EvalOptions) -> (Summary, Collect, usize) {
    let p = policy();
    let mut engine = Evaluator::new(&p, opts, Collect::default());
    let mut most = 0;
    for (i, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e.line = i as u64 + 1;
        engine.push(e);
        most = most.max(engine.open_cases());
    }
    let (summary, out) = engine.finish();
    (summary, out, most)
}

/// Verdicts as (ticket, clause, cycle, status, closed), sorted: the instant a case settles
/// changes where its records come in the output, never what they say.
fn verdicts(out: &Collect) -> Vec<(String, String, u32, Status, bool, Instant)> {
    let mut v: Vec<_> = out
        .verdicts
        .iter()
        .map(|v| {
            (
                v.ticket.to_string(),
                v.clause.to_string(),
                v.cycle,
                v.status,
                v.case_closed,
                v.due,
            )
        })
        .collect();
    v.sort();
    v
}

/// A ticket opened on day 1 and never closed, then one new ticket a day for 60 days.
fn stream_with_an_idle_ticket() -> Vec<Event> {
    let mut events = vec![ev("A", "03-01 09:00", "opened")];
    for day in 0..60 {
        let date = t("03-02 10:00") + Duration::days(day);
        let ticket = format!("T{day:02}");
        let mut e = ev(&ticket, "03-02 10:00", "opened");
        e.at = date;
        events.push(e.clone());
        e.kind = "resolved".into();
        e.at = date + Duration::hours(2);
        events.push(e.clone());
        e.kind = "closed".into();
        e.at = date + Duration::hours(3);
        events.push(e);
    }
    events
}

#[test]
fn a_case_idle_for_the_retention_is_judged_at_now_as_before() {
    let events = stream_with_an_idle_ticket();
    let (kept_summary, kept, kept_most) = run(&events, opts(3650));
    let (summary, idle, most) = run(&events, opts(10));
    // The same verdicts: A's two clocks still run, judged against the end of the stream.
    assert_eq!(verdicts(&idle), verdicts(&kept));
    assert_eq!(summary.cases, kept_summary.cases);
    assert_eq!(summary.expired, 0);
    let a: Vec<_> = idle.verdicts.iter().filter(|v| &*v.ticket == "A").collect();
    assert_eq!(a.len(), 2);
    assert!(a
        .iter()
        .all(|v| v.status == Status::Breached && !v.case_closed));
    // Judged at the end of the stream (its latest event), not when A settled.
    assert!(a
        .iter()
        .all(|v| v.overdue_by == Some(t("04-30 13:00") - v.due)));
    // Memory follows the last ten days, not the whole stream: every ticket settles.
    assert!(most <= 12, "at most {most} cases kept");
    assert!(
        kept_most >= 60,
        "with a long retention {kept_most} cases kept"
    );
}

#[test]
fn an_event_after_the_idle_retention_is_rejected_with_its_reason() {
    let mut events = stream_with_an_idle_ticket();
    // Fourteen days after A settled (settled tickets are remembered for 30 days at least).
    events.push(ev("A", "03-25 12:30", "resolved"));
    events.sort_by_key(|e| e.at);
    let line = events
        .iter()
        .position(|e| &*e.ticket == "A" && &*e.kind == "resolved")
        .map(|i| i + 1);
    let (summary, out, _) = run(&events, opts(10));
    assert_eq!(summary.expired, 1);
    assert_eq!(out.rejected.len(), 1);
    let reason = &out.rejected[0].reason;
    assert_eq!(Some(out.rejected[0].line as usize), line);
    assert!(
        reason.contains("was not closed and had no event for more than 10 days"),
        "{reason}"
    );
    assert!(reason.contains("--retain"), "{reason}");
    // Never applied to a fresh case: A keeps its running cycles, and nothing is unopened.
    assert_eq!(summary.unopened, 0);
    let a: Vec<_> = out.verdicts.iter().filter(|v| &*v.ticket == "A").collect();
    assert!(a
        .iter()
        .all(|v| v.status == Status::Breached && v.stop.is_none()));
}

#[test]
fn a_closed_case_is_still_rejected_with_the_closed_reason() {
    let mut events = stream_with_an_idle_ticket();
    events.push(ev("T00", "03-25 12:30", "rated"));
    events.sort_by_key(|e| e.at);
    let (summary, out, _) = run(&events, opts(10));
    assert_eq!(summary.expired, 1);
    let reason = &out.rejected[0].reason;
    assert!(reason.contains("after it was closed"), "{reason}");
}

#[test]
fn an_idle_case_closed_within_the_retention_is_unaffected() {
    let mut events = stream_with_an_idle_ticket();
    // Nine days without an event, then A is resolved and closed: within the retention.
    events.push(ev("A", "03-10 08:00", "resolved"));
    events.push(ev("A", "03-10 09:00", "closed"));
    events.sort_by_key(|e| e.at);
    let (_, kept, _) = run(&events, opts(3650));
    let (summary, idle, _) = run(&events, opts(10));
    assert_eq!(summary.expired, 0);
    assert_eq!(verdicts(&idle), verdicts(&kept));
    let a: Vec<_> = idle.verdicts.iter().filter(|v| &*v.ticket == "A").collect();
    assert_eq!(a.len(), 2);
    assert!(a
        .iter()
        .all(|v| v.status == Status::Breached && v.case_closed));
    assert!(a.iter().all(|v| v.stop.is_some()));
}

#[test]
fn with_an_explicit_now_an_idle_case_is_judged_when_it_settles() {
    let events = stream_with_an_idle_ticket();
    let now = t("05-01 00:00");
    let with_now = |days| EvalOptions {
        now: Some(now),
        ..opts(days)
    };
    let (_, kept, _) = run(&events, with_now(3650));
    let (_, idle, _) = run(&events, with_now(10));
    assert_eq!(verdicts(&idle), verdicts(&kept));
    // A settled ten days after its only event, before the other tickets of the last weeks.
    let first_a = idle.verdicts.iter().position(|v| &*v.ticket == "A");
    let last_t = idle.verdicts.iter().rposition(|v| &*v.ticket != "A");
    assert!(first_a < last_t, "A settled before the end");
}

#[test]
fn a_subject_is_never_settled_for_being_idle() {
    // A lift (`kind: asset`) inspected every few weeks: quiet longer than the retention.
    let mut events = stream_with_an_idle_ticket();
    for (at, kind) in [("03-01 08:00", "opened"), ("04-20 08:00", "inspected")] {
        let mut e = ev("LIFT-1", at, kind);
        e.attrs = [(Box::from("kind"), Value::String("asset".into()))]
            .into_iter()
            .collect::<Attrs>();
        events.push(e);
    }
    events.sort_by_key(|e| e.at);
    let (summary, out, _) = run(&events, opts(10));
    assert_eq!(summary.expired, 0);
    assert!(out.rejected.is_empty());
    assert_eq!(summary.unopened, 0);
}
