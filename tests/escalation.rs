//! Stages of deadline clauses (SEMANTICS.md, "Escalation and warnings" and "Stages" in the fine
//! print): when a stage is reached, fraction stages on a business calendar, and whether the
//! escalation it asks for was done.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::{evaluate_case_full, CaseResult};
use pledge::eval::ActionStatus;
use pledge::policy::ActionKind;
use pledge::policy::Policy;
use pledge::syntax::parse_policy;
use pledge::value::{Attrs, Value};
use pledge::Event;

fn ev(at: &str, kind: &str) -> Event {
    Event {
        ticket: "T".into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: Attrs::new(),
        line: 0,
    }
}

fn escalated(at: &str, to: &str) -> Event {
    let mut e = ev(at, "escalated");
    e.attrs.insert("to", Value::String(to.into()));
    e
}

fn policy(clauses: &str) -> Policy {
    let src = format!(
        "policy \"p\" {{\n  calendar office {{ hours mon..fri 09:00-18:00 holiday 2026-03-09 }}\n{clauses}\n}}"
    );
    parse_policy(&src, "test.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

fn run(p: &Policy, events: &[Event], now: &str) -> CaseResult {
    evaluate_case_full(std::slice::from_ref(p), events, t(now))
}

/// Local `MM-DD HH:MM` of each action's instant.
fn stage_times(r: &CaseResult) -> Vec<(usize, String)> {
    r.actions
        .iter()
        .map(|a| {
            (
                a.stage,
                a.at.with_timezone(&a.zone)
                    .format("%m-%d %H:%M")
                    .to_string(),
            )
        })
        .collect()
}

fn ladder() -> Policy {
    policy(
        r#"deadline repair {
    until resolved
    within 48 hours
    at 50% warn supervisor
    after 48 hours escalate project_manager via [phone]
    after 72 hours escalate director via [phone, app] "still open after 3 days"
  }"#,
    )
}

#[test]
fn a_stage_is_reached_only_while_the_clock_runs_and_by_now() {
    let p = ladder();
    let opened = ev("03-02 09:00", "opened");
    // Not reached yet one second before 50 %; reached exactly at it.
    let mut now = t("03-03 09:00");
    now -= Duration::seconds(1);
    let r = evaluate_case_full(std::slice::from_ref(&p), std::slice::from_ref(&opened), now);
    assert!(r.actions.is_empty());
    let r = run(&p, std::slice::from_ref(&opened), "03-03 09:00");
    assert_eq!(stage_times(&r), [(1, "03-03 09:00".to_string())]);
    // The whole ladder of a case never resolved.
    let r = run(&p, std::slice::from_ref(&opened), "03-10 00:00");
    assert_eq!(
        stage_times(&r),
        [
            (1, "03-03 09:00".to_string()),
            (2, "03-04 09:00".to_string()),
            (3, "03-05 09:00".to_string())
        ]
    );
    assert_eq!(&*r.actions[2].role, "director");
    assert_eq!(r.actions[2].kind, ActionKind::Escalate);
    assert_eq!(
        r.actions[2]
            .channels
            .iter()
            .map(|c| &**c)
            .collect::<Vec<_>>(),
        ["phone", "app"]
    );
    assert_eq!(
        r.actions[2].message.as_deref(),
        Some("still open after 3 days")
    );
    // Resolved between the second and third stage: the third is never reached.
    let r = run(
        &p,
        &[opened.clone(), ev("03-04 20:00", "resolved")],
        "03-10 00:00",
    );
    assert_eq!(stage_times(&r).len(), 2);
    // Resolved exactly at the 48-hour stage: strictly before the stop only, so not reached.
    let r = run(&p, &[opened, ev("03-04 09:00", "resolved")], "03-10 00:00");
    assert_eq!(stage_times(&r), [(1, "03-03 09:00".to_string())]);
}

#[test]
fn fraction_stages_on_a_business_calendar() {
    // 2 workdays of 9 hours = 18 h of working time; 50 % = 9 h, 80 % = 14 h 24 min.
    let p = policy(
        r#"deadline inquiry {
    until resolved
    within 2 workdays on office
    at 50% warn supervisor
    at 80% escalate department_manager
  }"#,
    );
    // Monday 15:00: 3 h on Monday, then 6 h on Tuesday → 50 % at Tuesday 15:00; 80 % at
    // Wednesday 11:24; due Wednesday 15:00.
    let r = run(&p, &[ev("03-02 15:00", "opened")], "03-20 00:00");
    assert_eq!(
        stage_times(&r),
        [
            (1, "03-03 15:00".to_string()),
            (2, "03-04 11:24".to_string())
        ]
    );
    assert_eq!(r.verdicts[0].due, t("03-04 15:00"));
    // Friday 17:00 with Monday 03-09 a holiday: 1 h Friday, 8 h Tuesday → 50 % at Tuesday 17:00.
    let r = run(&p, &[ev("03-06 17:00", "opened")], "03-20 00:00");
    assert_eq!(stage_times(&r)[0], (1, "03-10 17:00".to_string()));
    // Opened on Saturday: counting starts at the next working moment, Tuesday 09:00.
    let r = run(&p, &[ev("03-07 10:00", "opened")], "03-20 00:00");
    assert_eq!(stage_times(&r)[0], (1, "03-10 18:00".to_string()));
}

#[test]
fn a_fraction_of_same_day_is_a_fraction_of_the_working_time_to_the_end_of_day() {
    let p = policy(r#"deadline fix { until resolved same day on office at 80% warn supervisor }"#);
    // 13:00 → 18:00 is 5 h of working time; 80 % is 4 h: 17:00.
    let r = run(&p, &[ev("03-02 13:00", "opened")], "03-03 00:00");
    assert_eq!(stage_times(&r), [(1, "03-02 17:00".to_string())]);
    // After hours: the next working day's 9 h; 80 % is 7 h 12 min from 09:00.
    let r = run(&p, &[ev("03-02 19:00", "opened")], "03-04 00:00");
    assert_eq!(stage_times(&r), [(1, "03-03 16:12".to_string())]);
}

#[test]
fn an_escalation_done_on_time_vs_missed() {
    let p = ladder();
    let base = vec![ev("03-02 09:00", "opened"), ev("03-06 09:00", "resolved")];
    // No escalation event: both escalations missed; the warning is only due.
    let r = run(&p, &base, "03-10 00:00");
    let statuses: Vec<_> = r.actions.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            ActionStatus::Due,
            ActionStatus::Missed,
            ActionStatus::Missed
        ]
    );
    assert!(r.actions.iter().all(|a| a.evidence.is_none()));

    // Escalated to the project manager exactly at the stage instant, and twice to the
    // director: the first at or after the stage is the evidence.
    let mut events = base.clone();
    events.push(escalated("03-04 09:00", "project_manager"));
    events.push(escalated("03-05 12:00", "director"));
    events.push(escalated("03-05 10:00", "director"));
    let r = run(&p, &events, "03-10 00:00");
    assert_eq!(r.actions[1].status, ActionStatus::Done);
    assert_eq!(r.actions[1].evidence, Some(t("03-04 09:00")));
    assert_eq!(r.actions[2].status, ActionStatus::Done);
    assert_eq!(r.actions[2].evidence, Some(t("03-05 10:00")));

    // Escalated to the director one minute before the 72-hour stage: missed.
    let mut events = base.clone();
    events.push(escalated("03-05 08:59", "director"));
    let r = run(&p, &events, "03-10 00:00");
    assert_eq!(r.actions[2].status, ActionStatus::Missed);

    // The role may be one of a list.
    let mut events = base;
    let mut both = escalated("03-05 09:30", "x");
    both.attrs.insert(
        "to",
        Value::List(vec![
            Value::String("project_manager".into()),
            Value::String("director".into()),
        ]),
    );
    events.push(both);
    let r = run(&p, &events, "03-10 00:00");
    assert_eq!(r.actions[1].status, ActionStatus::Done);
    assert_eq!(r.actions[2].status, ActionStatus::Done);
}

#[test]
fn an_escalation_after_now_is_not_seen() {
    let p = ladder();
    let events = [
        ev("03-02 09:00", "opened"),
        escalated("03-04 10:00", "project_manager"),
    ];
    let r = run(&p, &events, "03-04 09:30");
    assert_eq!(r.actions[1].status, ActionStatus::Missed);
    let r = run(&p, &events, "03-04 10:00");
    assert_eq!(r.actions[1].status, ActionStatus::Done);
}

#[test]
fn a_running_clock_lists_its_next_stages() {
    let p = ladder();
    let opened = [ev("03-02 09:00", "opened")];
    let r = run(&p, &opened, "03-03 12:00");
    assert_eq!(
        r.verdicts[0].next_stages,
        [(2, t("03-04 09:00")), (3, t("03-05 09:00"))]
    );
    // A stopped clock has none.
    let r = run(
        &p,
        &[opened[0].clone(), ev("03-03 10:00", "resolved")],
        "03-03 12:00",
    );
    assert!(r.verdicts[0].next_stages.is_empty());
    // Stages are listed soonest first even when the clause lists them otherwise.
    let p = policy(
        r#"deadline d { until resolved within 10 hours after 8 hours escalate director at 50% warn supervisor }"#,
    );
    let r = run(&p, &opened, "03-02 10:00");
    assert_eq!(
        r.verdicts[0].next_stages,
        [(2, t("03-02 14:00")), (1, t("03-02 17:00"))]
    );
}
