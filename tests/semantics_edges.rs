//! Rules of SEMANTICS.md (spec/SEMANTICS.md) and their edges, each through a policy and the
//! evaluator rather than the calendar arithmetic alone: pauses on anchored limits, stages on a
//! business calendar, sampling from the period start, targets judged at `now`, duty gaps from
//! the range start, `false` against absent, duplicates, daylight saving. Expected values are
//! worked out by hand from the rule cited in each test's doc comment.
//!
//! Instants are 2026 local times in Asia/Shanghai (`"03-02 09:00"` is Monday 2 March 2026)
//! unless a full RFC 3339 text is given.

mod common;

use chrono::Duration;
use common::{event_at, in_2026 as t, policy, run_sorted};
use pledge::engine::{evaluate_case, evaluate_case_full};
use pledge::eval::{Status, Verdict};
use pledge::period::{PeriodRecord, SampleStatus, SampleVerdict, TargetStatus, TargetVerdict};
use pledge::policy::Policy;
use pledge::syntax::{parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};

// ---------------------------------------------------------------- builders

/// 09:00–18:00, Monday to Friday, no holiday data (March 2026 has no public holiday).
const OFFICE: &str = "  calendar office { hours mon..fri 09:00-18:00 }";

/// An event of `ticket` at local `at` (`"03-02 09:00"`), with string attributes.
fn ev(ticket: &str, at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    event_at(ticket, t(at), kind, pairs)
}

fn status(ticket: &str, at: &str, s: &str) -> Event {
    ev(ticket, at, "status", &[("status", s)])
}

/// A policy holding the office calendar and `clauses`.
fn with_office(clauses: &str) -> Policy {
    policy(&format!("{OFFICE}\n{clauses}"))
}

/// The only verdict of `events` under `p` as of `now`.
fn only(p: &Policy, events: &[Event], now: &str) -> Verdict {
    let vs = evaluate_case(p, events, t(now));
    assert_eq!(vs.len(), 1, "{vs:#?}");
    vs.into_iter().next().expect("one verdict")
}

fn samples(c: &pledge::engine::Collect) -> Vec<&SampleVerdict> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Sample(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn targets(c: &pledge::engine::Collect) -> Vec<&TargetVerdict> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(v) => Some(v),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- deadline clauses

/// SEMANTICS.md, "Deadline clauses": "The clock starts at the first start event of the case".
/// A second `dispatched` while the clock runs (a work order re-sent) does not restart it.
#[test]
fn the_first_start_event_starts_the_clock_and_a_later_one_does_not_restart_it() {
    let p = policy("  deadline fix { from dispatched until resolved within 2 hours }");
    let events = [
        ev("T", "03-02 08:00", "opened", &[]),
        ev("T", "03-02 09:00", "dispatched", &[("to", "plumbing")]),
        ev("T", "03-02 10:00", "dispatched", &[("to", "electrical")]),
        ev("T", "03-02 11:30", "resolved", &[]),
    ];
    let v = only(&p, &events, "03-02 12:00");
    // From 09:00: due 11:00, stopped 11:30, 30 min late (from 10:00 it would be met).
    assert_eq!(v.start, t("03-02 09:00"));
    assert_eq!(v.due, t("03-02 11:00"));
    assert_eq!(v.status, Status::Breached);
    assert_eq!(v.overdue_by, Some(Duration::minutes(30)));
}

/// SEMANTICS.md, "Limits and calendars" ("a day is 24 hours") and "Fine print", "Time zones"
/// ("a wall-clock day is exactly 24 hours"): 3 days from Saturday noon in Berlin, across the
/// spring change of 29 March 2026, are 72 real hours, so due at 13:00 local (not 12:00).
#[test]
fn a_day_limit_is_24_real_hours_across_a_daylight_saving_change() {
    let src = "policy \"p\" {\n  zone \"Europe/Berlin\"\n  deadline fix { until resolved within 3 days }\n  deadline ack { until acknowledged within 1 day }\n}";
    let p = parse_policy(src, "berlin.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)));
    // Saturday 28 March 12:00 CET = 11:00 UTC.
    let opened = event_at("T", common::t("2026-03-28T12:00:00+01:00"), "opened", &[]);
    let vs = evaluate_case(
        &p,
        std::slice::from_ref(&opened),
        common::t("2026-04-05T00:00:00Z"),
    );
    let due: Vec<(&str, Instant)> = vs.iter().map(|v| (&*v.clause, v.due)).collect();
    assert_eq!(
        due,
        [
            // 11:00 UTC + 72 h = 31 March 11:00 UTC = 13:00 CEST.
            ("fix", common::t("2026-03-31T11:00:00Z")),
            // 11:00 UTC + 24 h = 29 March 11:00 UTC = 13:00 CEST, on the day of the change.
            ("ack", common::t("2026-03-29T11:00:00Z")),
        ]
    );
}

/// SEMANTICS.md, "Fine print", "Working periods are half-open": a clock started at exactly
/// 18:00 on a 09:00–18:00 day is outside working hours, so "same day" means the next working
/// day; one started a minute earlier is due at 18:00 the same day. Through the language.
#[test]
fn same_day_started_exactly_at_closing_time_is_the_next_working_day() {
    let p = with_office("  deadline same { until resolved same day on office }");
    let v = only(&p, &[ev("T", "03-02 18:00", "opened", &[])], "03-02 18:30");
    assert_eq!(v.due, t("03-03 18:00"));
    assert_eq!(v.status, Status::Pending);
    let v = only(&p, &[ev("T", "03-02 17:59", "opened", &[])], "03-02 18:30");
    assert_eq!(v.due, t("03-02 18:00"));
    assert_eq!(v.status, Status::Breached);
    assert_eq!(v.overdue_by, Some(Duration::minutes(30)));
    // Friday at closing time: the next working day is Monday.
    let v = only(&p, &[ev("T", "03-06 18:00", "opened", &[])], "03-06 18:30");
    assert_eq!(v.due, t("03-09 18:00"));
}

/// SEMANTICS.md, "Deadline clauses" ("a `reopened` event after the stop starts a new cycle
/// with the full limit"), for an anchored limit: each cycle's "same day" is the end of the
/// working day on which that cycle started, not the first cycle's amount carried over.
#[test]
fn a_reopened_same_day_clause_is_anchored_on_the_day_of_the_reopen() {
    let p = with_office("  deadline same { until resolved same day on office }");
    let events = [
        ev("T", "03-02 10:00", "opened", &[]),
        ev("T", "03-02 11:00", "resolved", &[]),
        ev("T", "03-03 17:00", "reopened", &[]),
    ];
    let vs = evaluate_case(&p, &events, t("03-03 17:30"));
    let got: Vec<(u32, Instant, Instant, Status)> = vs
        .iter()
        .map(|v| (v.cycle, v.start, v.due, v.status))
        .collect();
    assert_eq!(
        got,
        [
            (1, t("03-02 10:00"), t("03-02 18:00"), Status::Met),
            // One working hour left on Tuesday, not the 8 h of Monday's cycle (Wednesday 16:00).
            (2, t("03-03 17:00"), t("03-03 18:00"), Status::Pending),
        ]
    );
}

/// SEMANTICS.md, "Fine print", "Due instant" with "Deadline clauses" (verdicts): the due time
/// is the earliest instant the clock reaches the limit, and `met`/`breached` compare instants.
/// 1 workday from Monday 09:00 on 09:00–18:00 is due Monday 18:00; resolved at Tuesday 08:59
/// (no working time later) it is breached, 14 h 59 min late; judged at Monday 20:00 with no
/// stop it is already breached, not pending.
#[test]
fn a_stop_after_the_due_instant_outside_working_hours_is_breached() {
    let p = with_office("  deadline d { until resolved within 1 workday on office }");
    let opened = ev("T", "03-02 09:00", "opened", &[]);
    let v = only(
        &p,
        &[opened.clone(), ev("T", "03-03 08:59", "resolved", &[])],
        "03-03 12:00",
    );
    assert_eq!(v.due, t("03-02 18:00"));
    assert_eq!(v.status, Status::Breached);
    assert_eq!(v.overdue_by, Some(Duration::minutes(14 * 60 + 59)));
    let v = only(&p, std::slice::from_ref(&opened), "03-02 20:00");
    assert_eq!(v.status, Status::Breached);
    assert_eq!(v.overdue_by, Some(Duration::hours(2)));
    // Exactly at 18:00, met.
    let v = only(
        &p,
        &[opened, ev("T", "03-02 18:00", "resolved", &[])],
        "03-03 12:00",
    );
    assert_eq!(v.status, Status::Met);
}

// ---------------------------------------------------------------- pauses on anchored limits

/// SEMANTICS.md, "Fine print", "Next day": "'Same day' is counted on the calendar's working
/// time, so a pause extends it by paused working time." Two hours paused inside Monday's hours
/// move the due time by two working hours (Tuesday 11:00), not by two wall hours (Monday 20:00).
#[test]
fn a_pause_extends_same_day_by_the_paused_working_time() {
    let p = with_office(
        r#"  deadline same {
    until resolved
    same day on office
    pause while status in ["waiting_customer"]
  }"#,
    );
    let mut events = vec![
        ev("T", "03-02 10:00", "opened", &[]),
        status("T", "03-02 11:00", "waiting_customer"),
        status("T", "03-02 13:00", "in_progress"),
    ];
    let v = only(&p, &events, "03-02 19:00");
    assert_eq!(v.due, t("03-03 11:00"));
    assert_eq!(v.paused_time, Duration::hours(2));
    assert_eq!(v.status, Status::Pending);
    events.push(ev("T", "03-03 10:30", "resolved", &[]));
    assert_eq!(only(&p, &events, "03-03 19:00").status, Status::Met);
    assert_eq!(
        run_sorted(&p, events.clone(), "2026-03-03T19:00:00+08:00").verdicts,
        evaluate_case(&p, &events, t("03-03 19:00")),
        "the streaming evaluator agrees"
    );

    // "Pause at `now`": still paused at Monday 15:00, the due time assumes the pause ends then:
    // 4 working hours paused, so 12 working hours from 10:00, Tuesday 13:00.
    let v = only(&p, &events[..2], "03-02 15:00");
    assert!(v.paused);
    assert_eq!(v.paused_time, Duration::hours(4));
    assert_eq!(v.due, t("03-03 13:00"));

    // Opened Monday 19:00 (after hours): same day is Tuesday 18:00, 9 working hours. Paused
    // from Monday 20:00 to Tuesday 09:30: only 09:00–09:30 is working time, so the due time
    // moves by 30 working minutes, past Tuesday's close, to Wednesday 09:30 (a wall-time
    // reading would give Wednesday 07:30).
    let events = [
        ev("U", "03-02 19:00", "opened", &[]),
        status("U", "03-02 20:00", "waiting_customer"),
        status("U", "03-03 09:30", "in_progress"),
    ];
    let v = only(&p, &events, "03-03 12:00");
    assert_eq!(v.due, t("03-04 09:30"));
    assert_eq!(v.paused_time, Duration::minutes(30));
}

/// SEMANTICS.md, "Fine print", "Next day": "a pause extends both by the paused wall time".
/// A message at 23:50 Monday is due by 08:00 Tuesday; paused 01:00–03:00 (outside any working
/// hours), it is due at 10:00, and acknowledged at 09:30 it is met.
#[test]
fn a_pause_extends_by_hh_mm_next_day_by_the_paused_wall_time() {
    let p = policy(
        r#"  deadline night {
    until acknowledged
    by 08:00 next day
    pause while status in ["waiting_customer"]
  }"#,
    );
    let mut events = vec![
        ev("T", "03-02 23:50", "opened", &[]),
        status("T", "03-03 01:00", "waiting_customer"),
        status("T", "03-03 03:00", "in_progress"),
    ];
    let v = only(&p, &events, "03-03 05:00");
    assert_eq!(v.due, t("03-03 10:00"));
    assert_eq!(v.paused_time, Duration::hours(2));
    events.push(ev("T", "03-03 09:30", "acknowledged", &[]));
    let v = only(&p, &events, "03-03 12:00");
    assert_eq!(v.status, Status::Met);
    assert_eq!(
        run_sorted(&p, events.clone(), "2026-03-03T12:00:00+08:00").verdicts,
        [v],
        "the streaming evaluator agrees"
    );
}

/// SEMANTICS.md, "Fine print", "Next day": "by HH:MM next workday" is the first such wall-clock
/// time on a working date, and "a pause extends both by the paused wall time". From Friday
/// 20:00 the anchor is Monday 08:00; a two-hour pause on Saturday (no working time on the
/// office calendar) still moves it by two hours, to Monday 10:00.
#[test]
fn a_pause_extends_by_hh_mm_next_workday_by_the_paused_wall_time() {
    let p = with_office(
        r#"  deadline night {
    until acknowledged
    by 08:00 next workday on office
    pause while status in ["waiting_customer"]
  }"#,
    );
    let events = [
        ev("T", "03-06 20:00", "opened", &[]),
        status("T", "03-07 10:00", "waiting_customer"),
        status("T", "03-07 12:00", "in_progress"),
    ];
    let v = only(&p, &events, "03-08 12:00");
    assert_eq!(v.due, t("03-09 10:00"));
    assert_eq!(v.paused_time, Duration::hours(2));
    assert_eq!(
        run_sorted(&p, events.to_vec(), "2026-03-08T12:00:00+08:00").verdicts,
        [v],
        "the streaming evaluator agrees"
    );
    // Without the pause, the anchor itself.
    let v = only(&p, &events[..1], "03-08 12:00");
    assert_eq!(v.due, t("03-09 08:00"));
}

/// SEMANTICS.md, "Limits and calendars": "by HH:MM next workday": the first HH:MM on a working
/// date strictly after the start. Before 08:00 on a working Monday that is the same morning;
/// at 00:30 on a Saturday, Monday's.
#[test]
fn next_workday_anchor_before_the_time_on_a_working_date_is_the_same_morning() {
    let p = with_office("  deadline night { until acknowledged by 08:00 next workday on office }");
    let v = only(&p, &[ev("T", "03-02 07:00", "opened", &[])], "03-02 07:30");
    assert_eq!(v.due, t("03-02 08:00"));
    let v = only(&p, &[ev("T", "03-07 00:30", "opened", &[])], "03-07 07:30");
    assert_eq!(v.due, t("03-09 08:00"));
}

// ---------------------------------------------------------------- stages

/// SEMANTICS.md, "Fine print", "Stages": "'after N hours' is counted on the clause's own
/// clock". On a 2-workday clause of the office calendar, "after 4 hours" from Monday 15:00 is
/// 3 working hours on Monday and 1 on Tuesday: Tuesday 10:00 (not Monday 19:00); "after 12
/// hours" is Tuesday 18:00 (not Tuesday 03:00).
#[test]
fn after_n_hours_on_a_calendar_clause_counts_working_time() {
    let p = with_office(
        r#"  deadline inquiry {
    until resolved
    within 2 workdays on office
    after 4 hours escalate supervisor
    after 12 hours escalate project_manager
  }"#,
    );
    let r = evaluate_case_full(
        std::slice::from_ref(&p),
        &[ev("T", "03-02 15:00", "opened", &[])],
        t("03-20 00:00"),
    );
    let got: Vec<(usize, Instant, &str)> = r
        .actions
        .iter()
        .map(|a| (a.stage, a.at, &*a.role))
        .collect();
    assert_eq!(
        got,
        [
            (1, t("03-03 10:00"), "supervisor"),
            (2, t("03-03 18:00"), "project_manager"),
        ]
    );
    assert_eq!(r.verdicts[0].due, t("03-04 15:00"));
}

/// SEMANTICS.md, "Fine print", "Stages": "a fraction of an anchored limit is that fraction of
/// the working time up to the anchor". `by 08:00 next day` counts wall time: from Monday 20:00
/// the anchor is 12 hours away, so 50 % is Tuesday 02:00 and 75 % Tuesday 05:00.
#[test]
fn a_fraction_of_by_hh_mm_next_day_is_that_fraction_of_the_time_to_the_anchor() {
    let p = policy(
        r#"  deadline night {
    until acknowledged
    by 08:00 next day
    at 50% warn supervisor
    at 75% warn office_director
  }"#,
    );
    let r = evaluate_case_full(
        std::slice::from_ref(&p),
        &[ev("T", "03-02 20:00", "opened", &[])],
        t("03-03 09:00"),
    );
    let got: Vec<(usize, Instant)> = r.actions.iter().map(|a| (a.stage, a.at)).collect();
    assert_eq!(got, [(1, t("03-03 02:00")), (2, t("03-03 05:00"))]);
    assert_eq!(r.verdicts[0].due, t("03-03 08:00"));
}

/// SEMANTICS.md, "Escalation and warnings" with "Reopened cases": each cycle runs its own
/// clock, so a stage fires in the cycle whose clock reaches it, and a cycle stopped before the
/// stage point produces nothing.
#[test]
fn stages_are_reached_per_cycle() {
    let p = policy("  deadline fix { until resolved within 2 hours at 50% warn supervisor }");
    let events = [
        ev("T", "03-02 09:00", "opened", &[]),
        ev("T", "03-02 09:30", "resolved", &[]),
        ev("T", "03-02 10:00", "reopened", &[]),
    ];
    let r = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-02 12:00"));
    let got: Vec<(u32, usize, Instant)> =
        r.actions.iter().map(|a| (a.cycle, a.stage, a.at)).collect();
    // Cycle 1 stopped at 09:30, before its 50 % point (10:00); cycle 2 reaches it at 11:00.
    assert_eq!(got, [(2, 1, t("03-02 11:00"))]);
}

// ---------------------------------------------------------------- applicability

/// SEMANTICS.md, "Fine print", "Applicability": "A condition on an attribute the case lacks is
/// false; `false` and absent are different." README ("Absent attributes"): `!=` on an absent
/// attribute is false too, while `not (x == ...)` is its negation and holds.
#[test]
fn false_and_absent_are_different() {
    let p = policy(
        r#"  deadline eq_false { when cross_department == false until contacted within 1 hour }
  deadline ne_phone { when channel != "phone" until contacted within 1 hour }
  deadline not_phone { when not (channel == "phone") until contacted within 1 hour }"#,
    );
    let clauses = |attrs: Attrs| -> Vec<String> {
        let mut opened = ev("T", "03-02 09:00", "opened", &[]);
        opened.attrs = attrs;
        evaluate_case(&p, &[opened], t("03-02 12:00"))
            .iter()
            .map(|v| v.clause.to_string())
            .collect()
    };
    let mut explicit_false = Attrs::new();
    explicit_false.insert("cross_department", Value::Bool(false));
    assert_eq!(clauses(explicit_false), ["eq_false", "not_phone"]);
    assert_eq!(clauses(Attrs::new()), ["not_phone"]);
    let mut app = Attrs::new();
    app.insert("cross_department", Value::Bool(true));
    app.insert("channel", Value::String("app".into()));
    assert_eq!(clauses(app), ["ne_phone", "not_phone"]);
}

// ---------------------------------------------------------------- recurring duties

/// SEMANTICS.md, "Recurring duties and time windows": "the gap from the start of the evaluated
/// range to the first one ... must not exceed P". An area opened at 08:00 and first patrolled
/// at 10:30 under `every 2 hours` has a gap of 2 h 30 min, 30 min over, found at 10:00.
#[test]
fn a_duty_gap_from_the_range_start_to_the_first_duty() {
    let p = policy(r#"  every patrol { when kind == "area" patrolled every 2 hours }"#);
    let events = [
        ev("Z", "03-02 08:00", "opened", &[("kind", "area")]),
        ev("Z", "03-02 10:30", "patrolled", &[]),
        ev("Z", "03-02 12:00", "patrolled", &[]),
    ];
    let f = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-02 13:00")).findings;
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["duty.gap"]);
    assert_eq!(f[0].at, t("03-02 10:00"));
    assert!(
        f[0].message.contains(
            "from 2026-03-02T08:00:00+08:00 to 2026-03-02T10:30:00+08:00 (2 h 30 min, 30 min over"
        ),
        "{}",
        f[0].message
    );
    // The same through the streaming evaluator.
    let c = run_sorted(&p, events.to_vec(), "2026-03-02T13:00:00+08:00");
    assert_eq!(c.findings, f);
}

/// A gap on a calendar is over its limit by working time: an asset inspected on Friday at
/// 17:00 under `every 1 workday on office` (09:00–18:00) is due on Monday at 17:00; inspected
/// on Tuesday at 10:00, it is 2 h of working time over, not the 2 days 17 hours of the wall.
#[test]
fn a_duty_gap_on_a_calendar_is_over_by_working_time() {
    let p = with_office(
        r#"  every inspect { when kind == "asset" inspected every 1 workday on office }"#,
    );
    let events = [
        ev("A", "03-06 16:00", "opened", &[("kind", "asset")]),
        ev("A", "03-06 17:00", "inspected", &[]),
        ev("A", "03-10 10:00", "inspected", &[]),
    ];
    let f = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-10 12:00")).findings;
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["duty.gap"]);
    assert_eq!(f[0].at, t("03-09 17:00"));
    assert!(
        f[0].message
            .ends_with("(3 days 17 h, 2 h of working time over the limit)"),
        "{}",
        f[0].message
    );
}

// ---------------------------------------------------------------- targets

/// SEMANTICS.md, "Fine print", "Targets": "A case counts as a success if a matching event
/// exists by `now`." A repair opened on 30 March and closed on 2 April is a success of March
/// once `now` is past its close, and not before.
#[test]
fn a_target_success_counts_when_it_exists_by_now_even_after_the_period() {
    let p = policy(
        r#"  target closure {
    when kind == "repair"
    ratio closed among opened per month
    at least 100%
  }"#,
    );
    let events = vec![
        ev("R", "03-30 09:00", "opened", &[("kind", "repair")]),
        ev("R", "04-02 09:00", "closed", &[]),
    ];
    let march = |now: &str| -> (u64, u64, TargetStatus) {
        let c = run_sorted(&p, events.clone(), now);
        let tv = targets(&c);
        let m = tv
            .iter()
            .find(|v| v.period.label() == "2026-03")
            .unwrap_or_else(|| panic!("no March verdict in {tv:#?}"));
        (m.hits, m.total, m.status)
    };
    assert_eq!(
        march("2026-04-05T00:00:00+08:00"),
        (1, 1, TargetStatus::Met)
    );
    assert_eq!(
        march("2026-04-01T00:00:00+08:00"),
        (0, 1, TargetStatus::Missed)
    );
}

// ---------------------------------------------------------------- sampling

const MONTHLY_CHECK: &str = r#"  sample management_check {
    when kind == "complaint"
    having revisited
    ratio 10% by management_dept per month
    lag 7 days
  }"#;

/// A complaint revisited on `day` of March.
fn complaint(ticket: &str, day: u32) -> Vec<Event> {
    vec![
        ev(
            ticket,
            &format!("03-{day:02} 09:00"),
            "opened",
            &[("kind", "complaint")],
        ),
        ev(
            ticket,
            &format!("03-{day:02} 12:00"),
            "revisited",
            &[("by", "building_manager")],
        ),
    ]
}

fn check(ticket: &str, at: Instant) -> Event {
    event_at(ticket, at, "spot_checked", &[("by", "management_dept")])
}

/// SEMANTICS.md, "Fine print", "Sampling": "Ratios are exact decimals: 10 % of 30 requires 3"
/// (a binary float would give 3.0000000000000004 and require 4), through the language.
#[test]
fn ten_percent_of_thirty_requires_three_through_the_language() {
    let p = policy(MONTHLY_CHECK);
    let mut events = Vec::new();
    for i in 1..=30 {
        events.extend(complaint(&format!("C-{i:02}"), i));
    }
    for i in 1..=3 {
        events.push(check(&format!("C-{i:02}"), t("03-31 10:00")));
    }
    let c = run_sorted(&p, events.clone(), "2026-03-31T12:00:00+08:00");
    let s = samples(&c);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!((s[0].population, s[0].required, s[0].done), (30, 3, 3));
    assert_eq!(s[0].status, SampleStatus::Met);
    // One check fewer: short by one.
    events.pop();
    let c = run_sorted(&p, events, "2026-03-31T12:00:00+08:00");
    let s = samples(&c);
    assert_eq!((s[0].required, s[0].done, s[0].missing), (3, 2, 1));
    assert_eq!(s[0].status, SampleStatus::Short);
}

/// SEMANTICS.md, "Fine print", "Sampling": "A check counts if
/// `period start <= at < period end + lag`". A March case checked at exactly 1 March 00:00
/// (before its revisit) is done; one checked a minute earlier, in February, is not.
#[test]
fn a_check_counts_from_the_period_start_and_not_before() {
    let p = policy(MONTHLY_CHECK);
    let case = |check_at: Instant| {
        vec![
            ev("C", "02-27 09:00", "opened", &[("kind", "complaint")]),
            check("C", check_at),
            ev(
                "C",
                "03-02 12:00",
                "revisited",
                &[("by", "building_manager")],
            ),
        ]
    };
    let march = |events: Vec<Event>| -> (String, u64, u64, u64) {
        let c = run_sorted(&p, events, "2026-03-31T12:00:00+08:00");
        let s = samples(&c);
        assert_eq!(s.len(), 1, "{s:#?}");
        (
            s[0].period.label(),
            s[0].population,
            s[0].required,
            s[0].done,
        )
    };
    assert_eq!(
        march(case(t("03-01 00:00"))),
        ("2026-03".to_string(), 1, 1, 1)
    );
    assert_eq!(
        march(case(t("02-28 23:59"))),
        ("2026-03".to_string(), 1, 1, 0)
    );
}

// ---------------------------------------------------------------- reopen ties, time zones

/// SEMANTICS.md, "Fine print", "Reopen": "for any other start event, [a new cycle starts] at
/// the first start event at or after the reopen", with "Ties" (`dispatched` sorts before
/// `reopened` at one instant). A new dispatch at the very instant of the reopen is *at* the
/// reopen, so it starts cycle 2 there. (Unlike `tests/incremental.rs`'s tie, the dispatch here
/// is not the one that started cycle 1.)
#[test]
fn a_start_event_at_the_instant_of_the_reopen_starts_the_next_cycle() {
    let p = policy("  deadline fix { from dispatched until resolved within 2 hours }");
    let events = vec![
        ev("T", "03-02 08:00", "opened", &[]),
        ev("T", "03-02 09:00", "dispatched", &[]),
        ev("T", "03-02 09:30", "resolved", &[]),
        ev("T", "03-02 10:00", "reopened", &[]),
        ev("T", "03-02 10:00", "dispatched", &[]),
    ];
    let vs = evaluate_case(&p, &events, t("03-02 13:00"));
    let got: Vec<(u32, Instant, Instant, Status)> = vs
        .iter()
        .map(|v| (v.cycle, v.start, v.due, v.status))
        .collect();
    assert_eq!(
        got,
        [
            (1, t("03-02 09:00"), t("03-02 11:00"), Status::Met),
            (2, t("03-02 10:00"), t("03-02 12:00"), Status::Breached),
        ]
    );
    // The streaming evaluator agrees.
    let c = run_sorted(&p, events, "2026-03-02T13:00:00+08:00");
    assert_eq!(c.verdicts, vs);
}

/// SEMANTICS.md, "Fine print", "Time zones": "A local time in a daylight-saving gap moves
/// forward by the gap; an ambiguous one takes its first occurrence", for `by 02:30 next day` in
/// a policy zoned Europe/Berlin. 29 March 2026 02:30 does not exist: 03:30 CEST (01:30 UTC).
/// 25 October 2026 02:30 occurs twice: the first, CEST (00:30 UTC).
#[test]
fn by_hh_mm_next_day_in_a_daylight_saving_gap_and_overlap() {
    let src = "policy \"p\" {\n  zone \"Europe/Berlin\"\n  deadline night { until acknowledged by 02:30 next day }\n}";
    let p = parse_policy(src, "berlin.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)));
    let due = |opened: &str| {
        let e = event_at("T", common::t(opened), "opened", &[]);
        let vs = evaluate_case(&p, &[e], common::t("2026-12-31T00:00:00Z"));
        assert_eq!(vs.len(), 1, "{vs:#?}");
        vs[0].due
    };
    assert_eq!(
        due("2026-03-28T23:00:00+01:00"),
        common::t("2026-03-29T01:30:00Z")
    );
    assert_eq!(
        due("2026-10-24T23:00:00+02:00"),
        common::t("2026-10-25T00:30:00Z")
    );
}

// ---------------------------------------------------------------- never opened, duplicates

/// SEMANTICS.md, "Fine print", "No start, no verdict": "A never-opened case gets no verdicts at
/// all", for period and notification clauses too: a ticket whose `opened` never came is not in
/// a sample's population, owes no notice and no duty, and is reported as never opened.
#[test]
fn a_never_opened_case_gets_no_period_or_notification_records() {
    let p = policy(
        r#"  sample s { having revisited ratio 100% by supervisor per month }
  notify n { channels all [sms] within 1 hour }
  every patrol { patrolled every 2 hours }"#,
    );
    let events = vec![
        ev("X", "03-02 09:00", "revisited", &[]),
        ev("X", "03-02 10:00", "patrolled", &[]),
    ];
    let c = run_sorted(&p, events, "2026-03-03T12:00:00+08:00");
    assert!(c.findings.is_empty(), "{:#?}", c.findings);
    assert!(c.verdicts.is_empty(), "{:#?}", c.verdicts);
    let populated: Vec<&SampleVerdict> = samples(&c)
        .into_iter()
        .filter(|s| s.population > 0)
        .collect();
    assert!(populated.is_empty(), "{populated:#?}");
    assert_eq!(c.unopened.len(), 1);
    assert_eq!(&*c.unopened[0].ticket, "X");
    // Opened, the same ticket has a population, a missing SMS and an overdue patrol.
    let events = vec![
        ev("X", "03-02 08:59", "opened", &[]),
        ev("X", "03-02 09:00", "revisited", &[]),
        ev("X", "03-02 10:00", "patrolled", &[]),
    ];
    let c = run_sorted(&p, events, "2026-03-03T12:00:00+08:00");
    let mut codes: Vec<&str> = c.findings.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["duty.overdue", "notify.channel_missing"]);
    assert_eq!(samples(&c)[0].population, 1);
}

/// SEMANTICS.md, "Fine print", "Duplicates" ("Event `id`s are unique across the whole stream;
/// the first occurrence is kept") as the README reads it ("Choices where the specification is
/// silent", "Duplicates"): detected per case; an `id` reused across two different tickets is
/// not a duplicate. Within a ticket the second occurrence is rejected and the first kept.
#[test]
fn duplicate_ids_are_per_case_as_the_readme_chooses() {
    let p = policy("  deadline contact { until contacted within 1 hour }");
    let with_id = |e: Event, id: &str| Event {
        id: Some(id.into()),
        ..e
    };
    let events = vec![
        with_id(ev("A", "03-02 09:00", "opened", &[]), "E-1"),
        with_id(ev("B", "03-02 09:05", "opened", &[]), "E-1"),
        with_id(ev("A", "03-02 09:30", "contacted", &[]), "E-2"),
        with_id(ev("A", "03-02 09:40", "contacted", &[]), "E-2"),
    ];
    let c = run_sorted(&p, events, "2026-03-02T12:00:00+08:00");
    let got: Vec<(&str, Status, Option<Instant>)> = c
        .verdicts
        .iter()
        .map(|v| (&*v.ticket, v.status, v.stop))
        .collect();
    assert_eq!(
        got,
        [
            ("A", Status::Met, Some(t("03-02 09:30"))),
            ("B", Status::Breached, None),
        ]
    );
    assert_eq!(c.rejected.len(), 1);
    assert_eq!(c.rejected[0].line, 4);
}

// ---------------------------------------------------------------- notify stages

/// SEMANTICS.md, "Escalation and warnings" (an action "to which role, over which channels"),
/// as the README's "Escalation actions" decides it for `notify` stages: `done` when a
/// `notified` event whose `to` or `audience` names the role comes at or after the stage
/// instant, by `now`; `missed` otherwise (before the stage, or to another role).
#[test]
fn a_notify_stage_is_done_by_a_notice_to_the_role_at_or_after_it() {
    use pledge::eval::ActionStatus;
    let p = policy(
        "  deadline fix { until resolved within 2 hours at 50% notify supervisor via [sms] }",
    );
    let opened = ev("T", "03-02 09:00", "opened", &[]);
    let status_with = |extra: Option<Event>| {
        let mut events = vec![opened.clone()];
        events.extend(extra);
        let r = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-02 12:00"));
        assert_eq!(r.actions.len(), 1, "{:#?}", r.actions);
        assert_eq!(r.actions[0].at, t("03-02 10:00"));
        assert_eq!(
            run_sorted(&p, events, "2026-03-02T12:00:00+08:00").actions,
            r.actions,
            "the streaming evaluator agrees"
        );
        (r.actions[0].status, r.actions[0].evidence)
    };
    assert_eq!(status_with(None), (ActionStatus::Missed, None));
    let to = |at: &str, key: &str, role: &str| ev("T", at, "notified", &[(key, role)]);
    assert_eq!(
        status_with(Some(to("03-02 10:00", "to", "supervisor"))),
        (ActionStatus::Done, Some(t("03-02 10:00")))
    );
    assert_eq!(
        status_with(Some(to("03-02 10:30", "audience", "supervisor"))),
        (ActionStatus::Done, Some(t("03-02 10:30")))
    );
    assert_eq!(
        status_with(Some(to("03-02 09:59", "to", "supervisor"))),
        (ActionStatus::Missed, None)
    );
    assert_eq!(
        status_with(Some(to("03-02 10:30", "to", "director"))),
        (ActionStatus::Missed, None)
    );
    // After `now`: not seen.
    assert_eq!(
        status_with(Some(to("03-02 12:30", "to", "supervisor"))),
        (ActionStatus::Missed, None)
    );
}

// ---------------------------------------------------------------- applicability of period clauses

/// SEMANTICS.md, "Fine print", "Applicability" ("uses the case's attributes as merged up to
/// `now`: a reclassified case is judged as reclassified"), for a sampling clause: an inquiry
/// revisited and later reclassified as a complaint is in the complaints' population; a
/// complaint reclassified as an inquiry is not.
#[test]
fn a_reclassified_case_is_sampled_as_reclassified() {
    let p = policy(MONTHLY_CHECK);
    let case = |ticket: &str, from: &str, to: &str| {
        vec![
            ev(ticket, "03-02 09:00", "opened", &[("kind", from)]),
            ev(ticket, "03-02 12:00", "revisited", &[]),
            ev(ticket, "03-05 09:00", "updated", &[("kind", to)]),
        ]
    };
    let population = |events: Vec<Event>, now: &str| {
        let c = run_sorted(&p, events, now);
        samples(&c).iter().map(|s| s.population).sum::<u64>()
    };
    let up = case("U", "inquiry", "complaint");
    let down = case("D", "complaint", "inquiry");
    assert_eq!(population(up.clone(), "2026-03-31T12:00:00+08:00"), 1);
    assert_eq!(population(down.clone(), "2026-03-31T12:00:00+08:00"), 0);
    // As of a `now` before the reclassification, each is judged as it was then.
    assert_eq!(population(up, "2026-03-04T12:00:00+08:00"), 0);
    assert_eq!(population(down, "2026-03-04T12:00:00+08:00"), 1);
}

/// SEMANTICS.md, "Limits and calendars", "Pause" ("while a pause condition holds ... the
/// clock does not run") with "Reopened cases": a status still `waiting_customer` when the case
/// is reopened holds the new cycle's clock from its start until the status changes.
#[test]
fn a_pause_still_holding_at_a_reopen_holds_the_new_cycle() {
    let p = policy(
        r#"  deadline fix {
    until resolved
    within 2 hours
    pause while status in ["waiting_customer"]
  }"#,
    );
    let events = vec![
        ev("T", "03-02 09:00", "opened", &[]),
        status("T", "03-02 09:10", "waiting_customer"),
        ev("T", "03-02 09:30", "resolved", &[]),
        ev("T", "03-02 10:00", "reopened", &[]),
        status("T", "03-02 11:00", "in_progress"),
    ];
    let vs = evaluate_case(&p, &events, t("03-02 12:00"));
    let got: Vec<(u32, Status, Instant, Duration)> = vs
        .iter()
        .map(|v| (v.cycle, v.status, v.due, v.paused_time))
        .collect();
    assert_eq!(
        got,
        [
            // Cycle 1: paused 09:10–09:30 before its stop; due 11:20, met at 09:30.
            (1, Status::Met, t("03-02 11:20"), Duration::minutes(20)),
            // Cycle 2: from 10:00, paused until 11:00; due 13:00.
            (2, Status::Pending, t("03-02 13:00"), Duration::hours(1)),
        ]
    );
    assert_eq!(
        run_sorted(&p, events, "2026-03-02T12:00:00+08:00").verdicts,
        vs
    );
}
