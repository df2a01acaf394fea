//! Period clauses end to end through the streaming evaluator: sampling, targets, repeat rules,
//! duties and windows, on policies written in the language.

use chrono::{DateTime, Utc};
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::Finding;
use pledge::period::{
    CalendarPeriod, DrawSpec, PeriodRecord, RepeatAction, SampleDraw, SampleStatus, SampleVerdict,
    TargetStatus, TargetVerdict,
};
use pledge::policy::{PeriodUnit, Policy};
use pledge::syntax::{parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};

// ---------------------------------------------------------------- builders

/// `"03-02 09:00"` → 2026-03-02T09:00:00+08:00; a full RFC 3339 text is taken as is.
fn t(s: &str) -> Instant {
    let full = if s.len() > 16 {
        s.to_string()
    } else {
        format!("2026-{}:00+08:00", s.replace(' ', "T"))
    };
    DateTime::parse_from_rfc3339(&full)
        .unwrap_or_else(|e| panic!("{full}: {e}"))
        .with_timezone(&Utc)
}

fn ev(ticket: &str, at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: ticket.into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: pairs
            .iter()
            .map(|(k, v)| {
                let v = match *v {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    s => Value::String(s.into()),
                };
                (Box::from(*k), v)
            })
            .collect::<Attrs>(),
        line: 0,
    }
}

fn policy(body: &str) -> Policy {
    let src = format!("policy \"p\" {{\n{body}\n}}");
    parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)))
}

fn run_with(
    policy: &Policy,
    events: Vec<Event>,
    now: Option<&str>,
    draw: Option<DrawSpec>,
) -> Collect {
    let policies = std::slice::from_ref(policy);
    let opts = EvalOptions {
        now: now.map(t),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(policies, opts, Collect::default());
    if let Some(d) = draw {
        ev.periods_mut().draw_for(d);
    }
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish().1
}

fn run(policy: &Policy, events: Vec<Event>, now: Option<&str>) -> Collect {
    run_with(policy, events, now, None)
}

fn samples(c: &Collect) -> Vec<&SampleVerdict> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Sample(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn targets(c: &Collect) -> Vec<&TargetVerdict> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn repeats(c: &Collect) -> Vec<&RepeatAction> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Repeat(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn draws(c: &Collect) -> Vec<&SampleDraw> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Draw(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code).collect()
}

// ---------------------------------------------------------------- periods

#[test]
fn a_week_that_crosses_a_month_end_is_one_period() {
    let zone = chrono_tz::Asia::Shanghai;
    let tue = CalendarPeriod::containing(PeriodUnit::Week, zone, t("03-31 23:59")).unwrap();
    let thu = CalendarPeriod::containing(PeriodUnit::Week, zone, t("04-02 00:00")).unwrap();
    assert_eq!(tue, thu);
    assert_eq!(tue.label(), "2026-W14");
    assert_eq!(tue.start(zone), Some(t("03-30 00:00")));
    assert_eq!(tue.end(zone), Some(t("04-06 00:00")));
    // The month boundary still splits months.
    let march = CalendarPeriod::containing(PeriodUnit::Month, zone, t("03-31 23:59")).unwrap();
    assert_eq!(march.label(), "2026-03");
    assert!(march.contains(zone, t("03-01 00:00")));
    assert!(march.contains(zone, t("03-31 23:59")));
    assert!(!march.contains(zone, t("04-01 00:00")));
    assert!(!march.contains(zone, t("02-28 23:59")));
    // A UTC instant late on 03-31 is already April in Shanghai.
    let p = CalendarPeriod::containing(PeriodUnit::Month, zone, t("2026-03-31T16:00:00Z")).unwrap();
    assert_eq!(p.label(), "2026-04");
}

#[test]
fn sampling_weekly_across_a_month_end() {
    let p = policy("sample weekly { having resolved ratio 50% by supervisor per week }");
    let events = vec![
        ev("A", "03-31 09:00", "opened", &[]),
        ev("A", "03-31 10:00", "resolved", &[]),
        ev("B", "04-02 09:00", "opened", &[]),
        ev("B", "04-02 10:00", "resolved", &[]),
        ev("B", "04-05 23:00", "spot_checked", &[("by", "supervisor")]),
    ];
    let c = run(&p, events, Some("04-05 23:30"));
    let s = samples(&c);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].period.label(), "2026-W14");
    assert_eq!((s[0].population, s[0].required, s[0].done), (2, 1, 1));
    assert_eq!(s[0].status, SampleStatus::Met);
}

#[test]
fn period_days_are_dst_safe() {
    let berlin = chrono_tz::Europe::Berlin;
    let day = CalendarPeriod::parse("2026-03-29").unwrap();
    let len = day.end(berlin).unwrap() - day.start(berlin).unwrap();
    assert_eq!(len, chrono::Duration::hours(23));
}

// ---------------------------------------------------------------- sampling

const MONTHLY_CHECK: &str = r#"
  sample management_check {
    when kind == "complaint"
    having revisited
    ratio 10% by management_dept per month
    lag 7 days
  }"#;

fn complaint(ticket: &str, day: u32) -> Vec<Event> {
    let d = format!("03-{day:02}");
    vec![
        ev(
            ticket,
            &format!("{d} 09:00"),
            "opened",
            &[("kind", "complaint")],
        ),
        ev(
            ticket,
            &format!("{d} 12:00"),
            "revisited",
            &[("by", "building_manager")],
        ),
    ]
}

#[test]
fn ten_percent_of_eleven_needs_two() {
    let p = policy(MONTHLY_CHECK);
    let mut events = Vec::new();
    for i in 1..=11 {
        events.extend(complaint(&format!("T-{i:02}"), i));
    }
    events.push(ev(
        "T-01",
        "03-20 10:00",
        "spot_checked",
        &[("by", "management_dept")],
    ));
    let c = run(&p, events, Some("03-31 12:00"));
    let s = samples(&c);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].population, s[0].required, s[0].done), (11, 2, 1));
    assert_eq!(s[0].status, SampleStatus::Short);
    assert_eq!(s[0].missing, 1);
}

#[test]
fn roles_that_do_not_count() {
    let p = policy(MONTHLY_CHECK);
    let mut events = complaint("T-1", 2);
    // A supervisor's check is not management's; a check with no `by` is nobody's.
    events.push(ev(
        "T-1",
        "03-03 10:00",
        "spot_checked",
        &[("by", "supervisor")],
    ));
    events.push(ev("T-1", "03-03 11:00", "spot_checked", &[]));
    let c = run(&p, events.clone(), Some("03-31 12:00"));
    let s = samples(&c);
    assert_eq!(
        (s[0].required, s[0].done, s[0].status),
        (1, 0, SampleStatus::Short)
    );
    // The right role does count.
    events.push(ev(
        "T-1",
        "03-04 10:00",
        "spot_checked",
        &[("by", "management_dept")],
    ));
    let c = run(&p, events, Some("03-31 12:00"));
    assert_eq!(samples(&c)[0].status, SampleStatus::Met);
}

#[test]
fn checks_count_within_the_lag_and_not_after() {
    let p = policy(MONTHLY_CHECK);
    let mut within = complaint("T-1", 30);
    within.push(ev(
        "T-1",
        "04-07 23:59",
        "spot_checked",
        &[("by", "management_dept")],
    ));
    let c = run(&p, within, Some("04-10 12:00"));
    assert_eq!(samples(&c)[0].done, 1);
    let mut late = complaint("T-1", 30);
    late.push(ev(
        "T-1",
        "04-08 00:00",
        "spot_checked",
        &[("by", "management_dept")],
    ));
    let c = run(&p, late, Some("04-10 12:00"));
    let s = samples(&c);
    assert_eq!(s[0].period.label(), "2026-03");
    assert_eq!(s[0].done, 0);
    // April has no population: listed (it contains `now`), empty, nothing required.
    assert_eq!(s[1].period.label(), "2026-04");
    assert_eq!((s[1].population, s[1].required), (0, 0));
    assert_eq!(s[1].status, SampleStatus::Empty);
}

/// A closed case is kept until its sample's period ends and the lag runs out, however long
/// after `closed` that is: a check late in a quarter counts, whatever other tickets moved the
/// stream on meanwhile (with the default 30-day retention alone it was rejected as after the
/// retention when another ticket's event came between, and counted when none did).
#[test]
fn a_check_late_in_a_long_period_counts_for_a_case_closed_early() {
    let p = policy(
        r#"  sample quarterly "management checks every complaint followed up, each quarter" {
    when kind == "complaint"
    having revisited
    ratio 100% by management_dept per quarter
    lag 7 days
  }"#,
    );
    let case = |check: &str| {
        vec![
            ev("A", "01-05 09:00", "opened", &[("kind", "complaint")]),
            ev("A", "01-06 09:00", "revisited", &[("by", "supervisor")]),
            ev("A", "01-06 10:00", "closed", &[]),
            // Another ticket moves the stream on, past A's 30 days of retention.
            ev("B", "02-20 09:00", "opened", &[("kind", "inquiry")]),
            ev("A", check, "spot_checked", &[("by", "management_dept")]),
        ]
    };
    // 73 days after `closed`, in the quarter.
    let c = run(&p, case("03-20 09:00"), Some("04-10 12:00"));
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let s = samples(&c);
    assert_eq!((s[0].period.label().as_str(), s[0].done), ("2026-Q1", 1));
    assert_eq!(s[0].status, SampleStatus::Met);
    // In the lag, the last instant of it.
    let c = run(&p, case("04-07 23:59"), Some("04-10 12:00"));
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(samples(&c)[0].status, SampleStatus::Met);
    // At the end of the lag: too late for the sample.
    let c = run(&p, case("04-08 00:00"), Some("04-10 12:00"));
    assert_eq!(
        (samples(&c)[0].done, samples(&c)[0].status),
        (0, SampleStatus::Short)
    );
    // After it, once the stream has moved on: the case has settled by then.
    let mut events = case("04-09 13:00");
    events.insert(4, ev("B", "04-09 12:00", "updated", &[]));
    let c = run(&p, events, Some("04-10 12:00"));
    assert_eq!(c.rejected.len(), 1);
    assert!(
        c.rejected[0].reason.contains("after its case was settled"),
        "{}",
        c.rejected[0].reason
    );
    assert_eq!(samples(&c)[0].status, SampleStatus::Short);
}

#[test]
fn a_period_with_no_population() {
    let p = policy(MONTHLY_CHECK);
    // A complaint in January, none in February, now in March.
    let mut events = vec![
        ev("J", "01-10 09:00", "opened", &[("kind", "complaint")]),
        ev("J", "01-11 09:00", "revisited", &[]),
        ev(
            "J",
            "01-12 09:00",
            "spot_checked",
            &[("by", "management_dept")],
        ),
    ];
    // An inquiry in February is not in the population.
    events.push(ev("I", "02-10 09:00", "opened", &[("kind", "inquiry")]));
    events.push(ev("I", "02-11 09:00", "revisited", &[]));
    let c = run(&p, events, Some("03-05 09:00"));
    let s = samples(&c);
    let labels: Vec<String> = s.iter().map(|s| s.period.label()).collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
    assert_eq!(s[0].status, SampleStatus::Met);
    assert_eq!(s[1].status, SampleStatus::Empty);
    assert_eq!((s[1].population, s[1].required, s[1].missing), (0, 0, 0));
}

#[test]
fn a_case_belongs_to_the_period_of_its_first_population_event() {
    let p = policy(MONTHLY_CHECK);
    let events = vec![
        ev("T", "02-27 09:00", "opened", &[("kind", "complaint")]),
        ev("T", "02-28 09:00", "revisited", &[]),
        ev("T", "03-02 09:00", "revisited", &[]),
    ];
    let c = run(&p, events, Some("03-05 09:00"));
    let s = samples(&c);
    assert_eq!(s[0].period.label(), "2026-02");
    assert_eq!(s[0].population, 1);
    assert_eq!(s[1].population, 0);
}

// ---------------------------------------------------------------- drawing

const STRATIFIED: &str = r#"
  sample draw_me {
    having resolved
    ratio 20% by supervisor per month
    group by project
  }"#;

fn stratified_events(reverse: bool) -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..23 {
        let ticket = format!("T-{i:03}");
        let project = if i % 3 == 0 { "jindi" } else { "wanke" };
        let day = format!("03-{:02} 09:00", i % 28 + 1);
        events.push(ev(&ticket, &day, "opened", &[("project", project)]));
        let day = format!("03-{:02} 10:00", i % 28 + 1);
        events.push(ev(&ticket, &day, "resolved", &[]));
    }
    if reverse {
        // Another arrival order: the cases are all finished at the end, in ticket order.
        events.reverse();
    }
    events
}

#[test]
fn stratified_draws_are_reproducible() {
    let p = policy(STRATIFIED);
    let spec = DrawSpec {
        period: CalendarPeriod::parse("2026-03").unwrap(),
        seed: 42,
    };
    let a = run_with(
        &p,
        stratified_events(false),
        Some("03-31 12:00"),
        Some(spec),
    );
    let b = run_with(&p, stratified_events(true), Some("03-31 12:00"), Some(spec));
    let (da, db) = (draws(&a), draws(&b));
    assert_eq!(da, db);
    assert_eq!(da.len(), 2);
    // 8 jindi cases (0, 3, ..., 21): ceil(20 % of 8) = 2; 15 wanke: 3.
    assert_eq!(da[0].group.label(), "jindi");
    assert_eq!(
        (da[0].population, da[0].required, da[0].drawn.len()),
        (8, 2, 2)
    );
    assert_eq!(da[1].group.label(), "wanke");
    assert_eq!(
        (da[1].population, da[1].required, da[1].drawn.len()),
        (15, 3, 3)
    );
    // The rank keys are xxh3 of the ticket with the seed, ascending.
    for d in &da {
        for (ticket, key) in &d.drawn {
            assert_eq!(
                *key,
                xxhash_rust::xxh3::xxh3_64_with_seed(ticket.as_bytes(), 42)
            );
        }
        assert!(d.drawn.windows(2).all(|w| w[0].1 <= w[1].1));
    }
    // A different seed draws (very likely) differently, but the same sizes.
    let other = DrawSpec { seed: 43, ..spec };
    let c = run_with(
        &p,
        stratified_events(false),
        Some("03-31 12:00"),
        Some(other),
    );
    let dc = draws(&c);
    assert_eq!(dc[0].drawn.len(), 2);
    assert_ne!(da, dc);
}

#[test]
fn a_draw_of_an_empty_period_is_listed_and_empty() {
    // Without groups: one draw of none. By project: no group had a case, so none is listed
    // (a group `all` the clause does not have would be made up).
    let ungrouped = STRATIFIED.replace("group by project", "");
    for (text, listed) in [(ungrouped.as_str(), 1), (STRATIFIED, 0)] {
        let p = policy(text);
        let spec = DrawSpec {
            period: CalendarPeriod::parse("2026-02").unwrap(),
            seed: 0,
        };
        let c = run_with(
            &p,
            stratified_events(false),
            Some("03-31 12:00"),
            Some(spec),
        );
        let d = draws(&c);
        assert_eq!(d.len(), listed, "{text}");
        for d in d {
            assert_eq!((d.population, d.required), (0, 0));
            assert!(d.drawn.is_empty());
            assert_eq!(d.group, pledge::period::Group::all());
        }
    }
}

/// A period after `now` has no draw yet, whether the clause groups or not.
#[test]
fn a_period_after_now_has_no_draw() {
    let ungrouped = STRATIFIED.replace("group by project", "");
    for text in [ungrouped.as_str(), STRATIFIED] {
        let p = policy(text);
        let spec = DrawSpec {
            period: CalendarPeriod::parse("2026-05").unwrap(),
            seed: 0,
        };
        let c = run_with(
            &p,
            stratified_events(false),
            Some("03-31 12:00"),
            Some(spec),
        );
        assert!(draws(&c).is_empty(), "{text}");
    }
}

// ---------------------------------------------------------------- targets

const SATISFACTION: &str = r#"
  target satisfaction {
    ratio rated(satisfied == true) among rated per month
    group by project
    at least 90%
  }"#;

fn rated(ticket: &str, project: &str, day: &str, satisfied: bool) -> Vec<Event> {
    let s = if satisfied { "true" } else { "false" };
    vec![
        ev(
            ticket,
            &format!("{day} 09:00"),
            "opened",
            &[("project", project)],
        ),
        ev(
            ticket,
            &format!("{day} 18:00"),
            "rated",
            &[("satisfied", s)],
        ),
    ]
}

#[test]
fn targets_exactly_at_the_floor_are_met() {
    let p = policy(SATISFACTION);
    let mut events = Vec::new();
    for i in 0..10 {
        events.extend(rated(&format!("A-{i}"), "jindi", "03-05", i != 0));
    }
    for i in 0..10 {
        events.extend(rated(&format!("B-{i}"), "wanke", "03-06", i > 1));
    }
    let c = run(&p, events, Some("03-31 12:00"));
    let tv = targets(&c);
    assert_eq!(tv.len(), 2);
    assert_eq!(
        (tv[0].group.label().as_str(), tv[0].hits, tv[0].total),
        ("jindi", 9, 10)
    );
    assert_eq!(tv[0].status, TargetStatus::Met);
    assert_eq!(tv[0].ratio_permille(), Some(900));
    assert_eq!(
        (tv[1].hits, tv[1].total, tv[1].status),
        (8, 10, TargetStatus::Missed)
    );
}

#[test]
fn an_empty_target_period_has_no_verdict() {
    let p = policy(SATISFACTION);
    let mut events = rated("A", "jindi", "01-05", true);
    events.extend(rated("B", "wanke", "03-05", false));
    let c = run(&p, events, Some("03-31 12:00"));
    let got: Vec<(String, String, TargetStatus)> = targets(&c)
        .iter()
        .map(|t| (t.period.label(), t.group.label(), t.status))
        .collect();
    let want = [
        ("2026-01", "jindi", TargetStatus::Met),
        ("2026-01", "wanke", TargetStatus::NoVerdict),
        ("2026-02", "jindi", TargetStatus::NoVerdict),
        ("2026-02", "wanke", TargetStatus::NoVerdict),
        ("2026-03", "jindi", TargetStatus::NoVerdict),
        ("2026-03", "wanke", TargetStatus::Missed),
    ];
    let want: Vec<(String, String, TargetStatus)> = want
        .iter()
        .map(|(p, g, s)| (p.to_string(), g.to_string(), *s))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_ceiling_on_breached_verdicts_of_a_clause() {
    let p = policy(
        r#"
  deadline contact { when kind == "complaint" until contacted within 1 hour }
  target contact_breaches { when kind == "complaint" ratio breached of contact per month at most 50% }"#,
    );
    let mk = |ticket: &str, contact: &str| {
        vec![
            ev(ticket, "03-02 09:00", "opened", &[("kind", "complaint")]),
            ev(ticket, contact, "contacted", &[]),
            ev(ticket, "03-02 20:00", "closed", &[]),
        ]
    };
    let mut events = mk("A", "03-02 09:30");
    events.extend(mk("B", "03-02 11:00"));
    // `now` unknown: the verdicts of the closed cases are tallied as they are emitted.
    let c = run(&p, events.clone(), None);
    let tv = targets(&c);
    assert_eq!(
        (tv[0].hits, tv[0].total, tv[0].status),
        (1, 2, TargetStatus::Met)
    );
    // A third case still running at the end, breached as of `now`: 2 of 3, over the ceiling.
    events.push(ev("C", "03-02 12:00", "opened", &[("kind", "complaint")]));
    let c = run(&p, events, Some("03-04 12:00"));
    let tv = targets(&c);
    assert_eq!(
        (tv[0].hits, tv[0].total, tv[0].status),
        (2, 3, TargetStatus::Missed)
    );
}

#[test]
fn a_verdict_target_counts_deferred_verdicts_with_their_groups() {
    let p = policy(
        r#"
  deadline revisit { from resolved until revisited within 1 day }
  target revisits_met { ratio met of revisit per month group by project at least 100% }"#,
    );
    let events = vec![
        // Closed and finished mid-stream, while `now` is unknown: its running cycle waits.
        ev("A", "03-02 09:00", "opened", &[("project", "jindi")]),
        ev("A", "03-02 10:00", "resolved", &[]),
        ev("A", "03-02 11:00", "closed", &[]),
        ev("Z", "03-10 09:00", "opened", &[("project", "wanke")]),
    ];
    let c = run(&p, events, None);
    let tv = targets(&c);
    assert_eq!(tv.len(), 1);
    assert_eq!(tv[0].group.label(), "jindi");
    assert_eq!(
        (tv[0].hits, tv[0].total, tv[0].status),
        (0, 1, TargetStatus::Missed)
    );
}

// ---------------------------------------------------------------- repeats

const REPEAT: &str = r#"
  repeat repeat_complaint {
    when kind == "complaint"
    same unit, topic 2 times within 30 days
    then escalate project_manager "special_rectification"
  }"#;

fn opened_complaint(ticket: &str, at: &str, unit: &str, topic: &str) -> Event {
    ev(
        ticket,
        at,
        "opened",
        &[("kind", "complaint"), ("unit", unit), ("topic", topic)],
    )
}

#[test]
fn two_complaints_29_vs_31_days_apart() {
    let p = policy(REPEAT);
    let events = vec![
        opened_complaint("A", "01-01 09:00", "3-1501", "noise"),
        opened_complaint("B", "01-30 09:00", "3-1501", "noise"), // 29 days after A
        opened_complaint("C", "03-01 09:00", "5-0101", "leak"),
        opened_complaint("D", "04-01 09:00", "5-0101", "leak"), // 31 days after C
    ];
    let c = run(&p, events, Some("04-02 09:00"));
    let r = repeats(&c);
    assert_eq!(r.len(), 1);
    assert_eq!(&*r[0].ticket, "B");
    assert_eq!(r[0].at, t("01-30 09:00"));
    let named: Vec<&str> = r[0].cases.iter().map(|(t, _)| &**t).collect();
    assert_eq!(named, ["A", "B"]);
    assert_eq!(r[0].key.label(), "3-1501 / noise");
    assert_eq!(&*r[0].role, "project_manager");
}

#[test]
fn exactly_30_days_is_within_and_one_second_more_is_not() {
    let p = policy(REPEAT);
    let events = vec![
        opened_complaint("A", "01-01 09:00", "u", "x"),
        opened_complaint("B", "01-31 09:00", "u", "x"),
        opened_complaint("C", "2026-03-02T09:00:01+08:00", "u", "x"),
    ];
    let c = run(&p, events, Some("04-02 09:00"));
    let r = repeats(&c);
    let fired: Vec<&str> = r.iter().map(|a| &*a.ticket).collect();
    assert_eq!(fired, ["B"]);
}

#[test]
fn each_later_complaint_fires_again_whatever_the_finishing_order() {
    let p = policy(REPEAT);
    let mut events = vec![
        opened_complaint("A", "03-01 09:00", "u", "x"),
        opened_complaint("B", "03-05 09:00", "u", "x"),
        opened_complaint("C", "03-09 09:00", "u", "x"),
        opened_complaint("D", "03-09 09:00", "v", "x"), // another unit
        opened_complaint("E", "03-09 09:00", "u", "y"), // another topic
        ev(
            "F",
            "03-09 09:00",
            "opened",
            &[("kind", "complaint"), ("unit", "u")],
        ), // no topic
    ];
    // B is closed first and finished mid-stream; A and C only at the end.
    events.push(ev("B", "03-05 10:00", "closed", &[]));
    let c = run(&p, events, None);
    let r = repeats(&c);
    let fired: Vec<(&str, usize)> = r.iter().map(|a| (&*a.ticket, a.cases.len())).collect();
    assert_eq!(fired, [("B", 2), ("C", 3)]);
}

// ---------------------------------------------------------------- duties

const PATROL: &str = r#"
  every patrol {
    when kind == "area"
    patrolled every 2 hours
  }"#;

fn area(events: &[(&str, &str)]) -> Vec<Event> {
    let mut out = vec![ev("Z-1", "03-02 08:00", "opened", &[("kind", "area")])];
    for (at, kind) in events {
        out.push(ev("Z-1", at, kind, &[]));
    }
    out
}

#[test]
fn a_patrol_gap_of_2h01() {
    let p = policy(PATROL);
    let events = area(&[("03-02 10:00", "patrolled"), ("03-02 12:01", "patrolled")]);
    let c = run(&p, events, Some("03-02 14:01"));
    assert_eq!(codes(&c.findings), ["duty.gap"]);
    let f = &c.findings[0];
    assert_eq!(f.at, t("03-02 12:00"));
    assert!(f.message.contains("2 h 01 min"), "{}", f.message);
    assert!(f.message.contains("1 min over"), "{}", f.message);
    let summary = run_summary(
        &p,
        area(&[("03-02 10:00", "patrolled"), ("03-02 12:01", "patrolled")]),
    );
    assert_eq!(summary, 1);
}

fn run_summary(p: &Policy, events: Vec<Event>) -> u64 {
    let policies = std::slice::from_ref(p);
    let opts = EvalOptions {
        now: Some(t("03-02 14:01")),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(policies, opts, Collect::default());
    for e in events {
        ev.push(e);
    }
    ev.finish().0.findings()
}

#[test]
fn a_patrol_gap_of_exactly_2h_is_fine_and_the_last_one_can_be_overdue() {
    let p = policy(PATROL);
    let events = area(&[("03-02 10:00", "patrolled"), ("03-02 12:00", "patrolled")]);
    let c = run(&p, events.clone(), Some("03-02 14:00"));
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    let c = run(&p, events, Some("03-02 14:30"));
    assert_eq!(codes(&c.findings), ["duty.overdue"]);
    assert_eq!(c.findings[0].at, t("03-02 14:00"));
}

#[test]
fn a_closed_subject_owes_nothing_after_closing() {
    let p = policy(PATROL);
    let events = area(&[("03-02 10:00", "patrolled"), ("03-02 11:00", "closed")]);
    let c = run(&p, events, Some("03-05 00:00"));
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    // Left open, the same subject owes its next patrol at 12:00.
    let events = area(&[("03-02 10:00", "patrolled")]);
    let c = run(&p, events, Some("03-05 00:00"));
    assert_eq!(codes(&c.findings), ["duty.overdue"]);
    assert_eq!(c.findings[0].at, t("03-02 12:00"));
}

#[test]
fn duties_on_a_calendar_count_working_time() {
    let p = policy(
        r#"
  calendar office { zone "Asia/Shanghai" hours mon..fri 09:00-18:00 }
  every meeting { when kind == "area" inspected every 1 workday on office }"#,
    );
    // Friday 17:00 to Monday 17:00 is 1 working day: no gap; to Monday 17:01 is.
    let ok = vec![
        ev("Z", "03-06 17:00", "opened", &[("kind", "area")]),
        ev("Z", "03-09 17:00", "inspected", &[]),
    ];
    let c = run(&p, ok, Some("03-09 17:30"));
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    let late = vec![
        ev("Z", "03-06 17:00", "opened", &[("kind", "area")]),
        ev("Z", "03-09 17:01", "inspected", &[]),
    ];
    let c = run(&p, late, Some("03-09 17:30"));
    assert_eq!(codes(&c.findings), ["duty.gap"]);
}

#[test]
fn quotas_count_complete_calendar_periods() {
    let p = policy(
        r#"
  every drill { when kind == "area" drilled at least 1 per quarter }"#,
    );
    let events = vec![
        ev("Z", "01-01 09:00", "opened", &[("kind", "area")]),
        ev("Z", "02-10 09:00", "drilled", &[]),
    ];
    // Q1 met, Q2 short, Q3 still running.
    let c = run(&p, events, Some("08-01 00:00"));
    assert_eq!(codes(&c.findings), ["duty.quota_short"]);
    assert_eq!(c.findings[0].at, t("07-01 00:00"));
    assert!(c.findings[0].message.contains("2026-Q2"));
}

#[test]
fn active_intervals_limit_a_duty_on_a_ticket() {
    let p = policy(
        r#"
  every weekly_progress { when complex from opened until resolved progress every 7 days }"#,
    );
    let events = vec![
        ev("T", "03-01 09:00", "opened", &[("complex", "true")]),
        ev("T", "03-08 09:00", "progress", &[]),
        ev("T", "03-15 09:01", "progress", &[]),
        ev("T", "03-16 09:00", "resolved", &[]),
    ];
    let c = run(&p, events, Some("04-30 00:00"));
    assert_eq!(codes(&c.findings), ["duty.gap"]);
    assert_eq!(c.findings[0].at, t("03-15 09:00"));
}

// ---------------------------------------------------------------- windows

#[test]
fn an_event_one_minute_outside_a_window() {
    let p = policy(
        r#"
  window lift_maintenance { when kind == "asset" maintained only 00:00-05:00 }"#,
    );
    let events = vec![
        ev("L", "03-01 00:00", "opened", &[("kind", "asset")]),
        ev("L", "03-02 04:59", "maintained", &[]),
        ev("L", "03-03 05:01", "maintained", &[]),
        ev("L", "03-04 05:00", "maintained", &[]),
    ];
    let c = run(&p, events.clone(), Some("03-05 00:00"));
    assert_eq!(codes(&c.findings), ["window.outside", "window.outside"]);
    assert_eq!(c.findings[0].at, t("03-03 05:01"));
    assert_eq!(c.findings[1].at, t("03-04 05:00"));
    // The one-case evaluation gives the same findings.
    let r = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-05 00:00"));
    assert_eq!(r.findings, c.findings);
}

#[test]
fn windows_on_weekdays() {
    let p = policy(
        r#"
  window rounds { cleaned only 07:00-09:00, 13:00-14:00 on mon..fri }"#,
    );
    let events = vec![
        ev("R", "03-01 00:00", "opened", &[]),
        ev("R", "03-02 08:00", "cleaned", &[]), // Monday, inside
        ev("R", "03-02 13:30", "cleaned", &[]), // Monday, inside
        ev("R", "03-07 08:00", "cleaned", &[]), // Saturday
        ev("R", "03-03 10:00", "cleaned", &[]), // Tuesday, between windows
    ];
    let c = run(&p, events, Some("03-08 00:00"));
    let at: Vec<Instant> = c.findings.iter().map(|f| f.at).collect();
    assert_eq!(at, [t("03-03 10:00"), t("03-07 08:00")]);
}

// ---------------------------------------------------------------- presence in each window

const ROUNDS_EACH_DAY: &str = r#"
  window rounds { when kind == "asset" cleaned only 07:00-09:00, 13:00-14:00 each day }"#;

#[test]
fn each_day_reports_a_window_without_an_event_at_its_close() {
    let p = policy(ROUNDS_EACH_DAY);
    let events = vec![
        // Opened inside the morning window: that window is not owed.
        ev("B", "03-01 08:00", "opened", &[("kind", "asset")]),
        ev("B", "03-01 13:59", "cleaned", &[]),
        ev("B", "03-02 07:00", "cleaned", &[]),
        // 14:00 is outside the afternoon window and does not fill it.
        ev("B", "03-02 14:00", "cleaned", &[]),
    ];
    // At 08:30 on 03-03 the morning window is still open: not judged.
    let c = run(&p, events.clone(), Some("03-03 08:30"));
    let mut sorted = codes(&c.findings);
    sorted.sort_unstable();
    assert_eq!(sorted, ["window.missed", "window.outside"]);
    let missed = c
        .findings
        .iter()
        .find(|f| f.code == "window.missed")
        .expect("a missed window");
    assert_eq!(missed.at, t("03-02 14:00"));
    assert!(
        missed
            .message
            .contains("no `cleaned` in 13:00-14:00 on 2026-03-02"),
        "{}",
        missed.message
    );
    // The one-case evaluation gives the same findings.
    let r = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-03 08:30"));
    assert_eq!(r.findings, c.findings);
    // Once the morning window of 03-03 has closed, it is missed too.
    let c = run(&p, events, Some("03-03 09:00"));
    let missed: Vec<Instant> = c
        .findings
        .iter()
        .filter(|f| f.code == "window.missed")
        .map(|f| f.at)
        .collect();
    assert_eq!(missed, [t("03-02 14:00"), t("03-03 09:00")]);
}

#[test]
fn without_each_an_empty_window_passes() {
    let p = policy(&ROUNDS_EACH_DAY.replace(" each day", ""));
    let events = vec![ev("B", "03-01 00:00", "opened", &[("kind", "asset")])];
    let c = run(&p, events, Some("03-05 00:00"));
    assert!(c.findings.is_empty());
}

#[test]
fn a_closed_subject_owes_no_window_after_its_close() {
    let p = policy(ROUNDS_EACH_DAY);
    let events = vec![
        ev("B", "03-01 00:00", "opened", &[("kind", "asset")]),
        ev("B", "03-01 07:10", "cleaned", &[]),
        ev("B", "03-01 13:10", "cleaned", &[]),
        ev("B", "03-01 13:30", "closed", &[]),
    ];
    let c = run(&p, events, Some("03-10 00:00"));
    assert!(c.findings.is_empty(), "{:?}", codes(&c.findings));
}

#[test]
fn each_year_reports_a_season_without_an_inspection() {
    let p = policy(
        r#"
  window pre_summer { when kind == "asset" inspected only 04-01..05-31 each year }"#,
    );
    let events = vec![
        ev("A", "01-01 00:00", "opened", &[("kind", "asset")]),
        ev("A", "03-31 23:59", "inspected", &[]),
    ];
    let c = run(&p, events.clone(), Some("05-31 23:00"));
    assert!(c.findings.iter().all(|f| f.code != "window.missed"));
    let c = run(&p, events.clone(), Some("06-01 00:00"));
    assert_eq!(codes(&c.findings), ["window.outside", "window.missed"]);
    assert_eq!(c.findings[1].at, t("06-01 00:00"));
    let mut met = events;
    met.push(ev("A", "05-31 23:59", "inspected", &[]));
    let c = run(&p, met, Some("12-31 00:00"));
    assert_eq!(codes(&c.findings), ["window.outside"]);
}

#[test]
fn presence_findings_do_not_depend_on_arrival_order() {
    let p = policy(ROUNDS_EACH_DAY);
    let mut events = vec![ev("B", "03-01 00:00", "opened", &[("kind", "asset")])];
    for (i, at) in ["03-01 07:30", "03-02 13:15", "03-03 08:59", "03-03 13:00"]
        .iter()
        .enumerate()
    {
        events.push(ev("B", at, "cleaned", &[("n", &i.to_string())]));
    }
    let expected = run(&p, events.clone(), Some("03-04 00:00")).findings;
    assert_eq!(expected.len(), 2, "{:?}", codes(&expected));
    let mut reversed = events[1..].to_vec();
    reversed.reverse();
    reversed.insert(0, events[0].clone());
    assert_eq!(run(&p, reversed, Some("03-04 00:00")).findings, expected);
}

// ---------------------------------------------------------------- order

#[test]
fn records_do_not_depend_on_arrival_order() {
    let p = policy(&format!(
        "{MONTHLY_CHECK}\n{SATISFACTION}\n{REPEAT}\n{PATROL}"
    ));
    let mut events = Vec::new();
    for i in 1..=9 {
        events.extend(complaint(&format!("C-{i}"), i));
        events.extend(rated(
            &format!("R-{i}"),
            if i % 2 == 0 { "a" } else { "b" },
            "03-10",
            i != 3,
        ));
    }
    events.push(opened_complaint("X", "03-01 09:00", "u", "x"));
    events.push(opened_complaint("Y", "03-02 09:00", "u", "x"));
    events.extend(area(&[
        ("03-02 10:00", "patrolled"),
        ("03-02 13:00", "patrolled"),
    ]));
    let a = run(&p, events.clone(), Some("03-31 12:00"));
    events.reverse();
    let b = run(&p, events, Some("03-31 12:00"));
    assert_eq!(a.periods, b.periods);
    assert_eq!(a.findings, b.findings);
    // Neither side is empty: a sample, a target and a repeat record, and the patrol's gap
    // (10:00 to 13:00 against every 2 hours) and its overdue last stretch.
    assert_eq!(a.periods.len(), 4);
    let codes: Vec<&str> = a.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["duty.gap", "duty.overdue"]);
}

#[test]
fn effective_dates_bound_the_population() {
    let p = policy(
        r#"
  sample from_march { effective 2026-03-01.. having resolved ratio 100% by supervisor per month }"#,
    );
    let events = vec![
        ev("F", "02-27 09:00", "opened", &[]),
        ev("F", "02-27 10:00", "resolved", &[]),
        ev("M", "03-02 09:00", "opened", &[]),
        ev("M", "03-02 10:00", "resolved", &[]),
    ];
    let c = run(&p, events, Some("03-05 09:00"));
    let s = samples(&c);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].period.label(), s[0].population),
        ("2026-03".to_string(), 1)
    );
}

#[test]
fn a_window_of_the_year_and_one_across_new_year() {
    let p = policy(
        r#"
  window pre_summer { when kind == "asset" inspected only 04-01..05-31 }
  window winter { when kind == "asset" maintained only 11-15..02-15 }"#,
    );
    let events = vec![
        ev("A", "01-01 00:00", "opened", &[("kind", "asset")]),
        ev("A", "02-15 23:59", "maintained", &[]),
        ev("A", "02-16 00:00", "maintained", &[]),
        ev("A", "03-31 23:59", "inspected", &[]),
        ev("A", "04-01 00:00", "inspected", &[]),
        ev("A", "05-31 23:59", "inspected", &[]),
        ev("A", "06-01 00:00", "inspected", &[]),
    ];
    let c = run(&p, events, Some("06-02 00:00"));
    let at: Vec<Instant> = c.findings.iter().map(|f| f.at).collect();
    assert_eq!(codes(&c.findings), ["window.outside"; 3]);
    assert!(at.contains(&t("02-16 00:00")));
    assert!(at.contains(&t("03-31 23:59")));
    assert!(at.contains(&t("06-01 00:00")));
}

#[test]
fn checks_by_anyone_count_whoever_made_them() {
    let p = policy(
        r#"
  sample confirm {
    when kind == "complaint"
    having revisited
    ratio 100% by anyone per month
    evidence spot_checked
  }"#,
    );
    let mut events = complaint("T-1", 2);
    let c = run(&p, events.clone(), Some("03-31 12:00"));
    assert_eq!(samples(&c)[0].status, SampleStatus::Short);
    events.push(ev("T-1", "03-03 11:00", "spot_checked", &[]));
    let c = run(&p, events, Some("03-31 12:00"));
    assert_eq!(samples(&c)[0].status, SampleStatus::Met);
}

#[test]
fn a_sample_counts_only_the_cases_its_condition_holds_for() {
    // A condition on `kind` also narrows which clauses a case is looked at for; one on
    // another attribute is left to the clause itself.
    let p =
        policy(&MONTHLY_CHECK.replace(r#"when kind == "complaint""#, r#"when kind != "repair""#));
    let mut events = Vec::new();
    for (i, day) in [2, 3, 4].into_iter().enumerate() {
        events.extend(complaint(&format!("C-{i}"), day));
    }
    // Two repairs revisited the same way: not complaints, not in the population.
    for (i, day) in [5, 6].into_iter().enumerate() {
        let ticket = format!("R-{i}");
        let d = format!("03-{day:02}");
        events.push(ev(
            &ticket,
            &format!("{d} 09:00"),
            "opened",
            &[("kind", "repair")],
        ));
        events.push(ev(
            &ticket,
            &format!("{d} 12:00"),
            "revisited",
            &[("by", "building_manager")],
        ));
    }
    events.sort_by_key(|e| e.at);
    let c = run(&p, events, Some("04-30 00:00"));
    let s: Vec<(String, u64, u64, u64)> = samples(&c)
        .iter()
        .map(|s| (s.period.label(), s.population, s.required, s.done))
        .collect();
    // April, the month of `now`, is listed empty.
    assert_eq!(
        s,
        [
            ("2026-03".to_string(), 3, 1, 0),
            ("2026-04".to_string(), 0, 0, 0)
        ]
    );
}

#[test]
fn a_period_report_groups_by_an_attribute_no_clause_reads() {
    use pledge::period::ReportSpec;
    use pledge::report::period::evaluate_periods;
    // No clause reads `project`, yet the report groups by it: the evaluator must keep it.
    let p = policy("deadline contact { until contacted within 1 hour }");
    let events = [
        r#"{"ticket":"A","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"project":"jindi"}}"#,
        r#"{"ticket":"A","at":"2026-03-02T09:30:00+08:00","type":"contacted"}"#,
        r#"{"ticket":"B","at":"2026-03-02T10:00:00+08:00","type":"opened","attrs":{"project":"yuhu"}}"#,
        r#"{"ticket":"B","at":"2026-03-02T12:00:00+08:00","type":"contacted"}"#,
    ]
    .join("\n");
    let spec = ReportSpec {
        unit: PeriodUnit::Month,
        group_by: vec!["project".to_string()],
    };
    let (_, _, sink) = evaluate_periods(
        std::slice::from_ref(&p),
        events.as_bytes(),
        &Default::default(),
        EvalOptions::default(),
        Some(spec),
        None,
        0,
    )
    .expect("read");
    let rows: Vec<(String, u64, u64)> = sink
        .records
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Compliance(c) => {
                Some((format!("{:?}", c.group.values), c.met, c.breached))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        rows,
        [
            (r#"[("project", Some("jindi"))]"#.to_string(), 1, 0),
            (r#"[("project", Some("yuhu"))]"#.to_string(), 0, 1),
        ]
    );
}

/// The compliance rows of a monthly report grouped by project: (clause, period, project, met,
/// breached, pending, findings).
fn report_rows(
    policy: &Policy,
    events: &[&str],
    now: Option<&str>,
) -> Vec<(String, String, String, u64, u64, u64, u64)> {
    use pledge::period::ReportSpec;
    use pledge::report::period::evaluate_periods;
    let spec = ReportSpec {
        unit: PeriodUnit::Month,
        group_by: vec!["project".to_string()],
    };
    let opts = EvalOptions {
        now: now.map(t),
        ..EvalOptions::default()
    };
    let (_, _, sink) = evaluate_periods(
        std::slice::from_ref(policy),
        events.join("\n").as_bytes(),
        &Default::default(),
        opts,
        Some(spec),
        None,
        0,
    )
    .expect("read");
    sink.records
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Compliance(c) => Some((
                c.clause.to_string(),
                c.period.label(),
                c.group
                    .values
                    .iter()
                    .map(|(_, v)| v.as_deref().unwrap_or("-").to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                c.met,
                c.breached,
                c.pending,
                c.findings,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_period_report_counts_verdicts_and_findings_by_month_and_group() {
    let p = policy(
        r#"
  deadline contact { when kind == "complaint" until contacted within 1 hour }
  notify outage { when kind == "notice" channels all [sms] within 1 hour }
  every patrol { when kind == "area" patrolled every 1 day }"#,
    );
    let events = [
        // Closed without a contact and settled a retention later, before the stream ends: its
        // running clock is judged at the end, in the group kept for it.
        r#"{"ticket":"D","at":"2026-02-27T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"yuhu"}}"#,
        r#"{"ticket":"D","at":"2026-02-27T10:10:00+08:00","type":"closed"}"#,
        // Settled after D, in another group: the case the tally saw last when D is judged.
        r#"{"ticket":"E","at":"2026-02-28T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
        r#"{"ticket":"E","at":"2026-02-28T09:30:00+08:00","type":"contacted"}"#,
        r#"{"ticket":"E","at":"2026-02-28T10:00:00+08:00","type":"closed"}"#,
        // March, jindi: met; yuhu: breached; April, jindi: still running at the end.
        r#"{"ticket":"A","at":"2026-03-30T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
        r#"{"ticket":"A","at":"2026-03-30T09:30:00+08:00","type":"contacted"}"#,
        r#"{"ticket":"B","at":"2026-03-30T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"yuhu"}}"#,
        r#"{"ticket":"B","at":"2026-03-30T12:00:00+08:00","type":"contacted"}"#,
        // A notice in yuhu with no SMS, due at 07:00 on 1 April: a finding of April in the
        // policy's zone (still 31 March in UTC).
        r#"{"ticket":"N","at":"2026-04-01T06:00:00+08:00","type":"opened","attrs":{"kind":"notice","project":"yuhu"}}"#,
        r#"{"ticket":"N","at":"2026-04-01T08:00:00+08:00","type":"closed"}"#,
        // A notice closed within its hour and settled before the end: its finding waits for
        // the end of the stream, in the group kept for it.
        r#"{"ticket":"M","at":"2026-02-27T08:00:00+08:00","type":"opened","attrs":{"kind":"notice","project":"yuhu"}}"#,
        r#"{"ticket":"M","at":"2026-02-27T08:30:00+08:00","type":"closed"}"#,
        // An area in jindi never patrolled: overdue from 03-31 08:00.
        r#"{"ticket":"Z","at":"2026-03-30T08:00:00+08:00","type":"opened","attrs":{"kind":"area","project":"jindi"}}"#,
        r#"{"ticket":"C","at":"2026-04-01T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
    ];
    let rows = report_rows(&p, &events, None);
    let row = |c: &str, m: &str, g: &str, v: (u64, u64, u64, u64)| {
        (
            c.to_string(),
            m.to_string(),
            g.to_string(),
            v.0,
            v.1,
            v.2,
            v.3,
        )
    };
    assert_eq!(
        rows,
        [
            row("contact", "2026-02", "jindi", (1, 0, 0, 0)),
            row("contact", "2026-02", "yuhu", (0, 1, 0, 0)),
            row("contact", "2026-03", "jindi", (1, 0, 0, 0)),
            row("contact", "2026-03", "yuhu", (0, 1, 0, 0)),
            row("contact", "2026-04", "jindi", (0, 0, 1, 0)),
            row("outage", "2026-02", "yuhu", (0, 0, 0, 1)),
            row("outage", "2026-04", "yuhu", (0, 0, 0, 1)),
            row("patrol", "2026-03", "jindi", (0, 0, 0, 1)),
        ]
    );
    // Judged at a later `now`, the April complaint has breached.
    let later = report_rows(&p, &events, Some("04-02 00:00"));
    assert!(
        later.contains(&row("contact", "2026-04", "jindi", (0, 1, 0, 0))),
        "{later:#?}"
    );
}

#[test]
fn the_summary_counts_period_verdicts_and_repeat_actions_per_clause() {
    let p = policy(&format!("{MONTHLY_CHECK}\n{SATISFACTION}\n{REPEAT}"));
    let mut events = Vec::new();
    for i in 1..=9 {
        events.extend(complaint(&format!("C-{i}"), i));
        events.extend(rated(
            &format!("R-{i}"),
            if i % 2 == 0 { "a" } else { "b" },
            "03-10",
            i != 3,
        ));
    }
    events.push(opened_complaint("U-1", "03-05 09:00", "1-101", "noise"));
    events.push(opened_complaint("U-2", "03-08 09:00", "1-101", "noise"));
    // April: one complaint, spot-checked by management: a month met.
    events.extend([
        ev("C-A", "04-02 09:00", "opened", &[("kind", "complaint")]),
        ev(
            "C-A",
            "04-02 12:00",
            "revisited",
            &[("by", "building_manager")],
        ),
        ev(
            "C-A",
            "04-03 10:00",
            "spot_checked",
            &[("by", "management_dept")],
        ),
    ]);
    events.sort_by_key(|e| e.at);
    let policies = std::slice::from_ref(&p);
    let opts = EvalOptions {
        now: Some(t("04-30 00:00")),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(policies, opts, Collect::default());
    for e in events {
        ev.push(e);
    }
    let (summary, c) = ev.finish();
    let counts: Vec<(String, u64, u64, u64)> = summary
        .clauses
        .iter()
        .map(|c| (c.clause.to_string(), c.met, c.findings, c.actions_due))
        .collect();
    // What the period records say, per clause: met periods, short or missed ones as findings,
    // repeat actions as actions due.
    let met = |clause: &str| {
        c.periods
            .iter()
            .filter(|r| match r {
                PeriodRecord::Sample(s) => &*s.clause == clause && s.status == SampleStatus::Met,
                PeriodRecord::Target(t) => &*t.clause == clause && t.status == TargetStatus::Met,
                _ => false,
            })
            .count() as u64
    };
    let short = |clause: &str| {
        c.periods
            .iter()
            .filter(|r| match r {
                PeriodRecord::Sample(s) => &*s.clause == clause && s.status == SampleStatus::Short,
                PeriodRecord::Target(t) => &*t.clause == clause && t.status == TargetStatus::Missed,
                _ => false,
            })
            .count() as u64
    };
    let fired = c
        .periods
        .iter()
        .filter(|r| matches!(r, PeriodRecord::Repeat(_)))
        .count() as u64;
    // Both outcomes of both kinds occur, so that a count stuck at zero shows.
    assert!(
        fired > 0
            && short("management_check") > 0
            && met("management_check") > 0
            && short("satisfaction") > 0
            && met("satisfaction") > 0,
        "{:#?}",
        c.periods
    );
    assert_eq!(
        counts,
        [
            (
                "management_check".to_string(),
                met("management_check"),
                short("management_check"),
                0
            ),
            (
                "satisfaction".to_string(),
                met("satisfaction"),
                short("satisfaction"),
                0
            ),
            (counts[2].0.clone(), 0, 0, fired),
        ]
    );
}

#[test]
fn a_notice_judged_at_the_end_counts_in_its_own_cases_group() {
    // The activity was closed early and settles (a retention later) before its notices are
    // due: its finding comes at the end of the stream, in the group kept for it, not in the
    // group of the case the tally saw last.
    let p = policy(
        r#"
  notify publicity { when kind == "activity" channels all [sms] at least 15 days before starts_at }
  deadline contact { when kind == "complaint" until contacted within 1 hour }"#,
    );
    let events = [
        r#"{"ticket":"A","at":"2026-02-01T09:00:00+08:00","type":"opened","attrs":{"kind":"activity","project":"yuhu","starts_at":"2026-04-10T10:00:00+08:00"}}"#,
        r#"{"ticket":"A","at":"2026-02-02T09:00:00+08:00","type":"closed"}"#,
        r#"{"ticket":"F","at":"2026-02-05T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
        r#"{"ticket":"F","at":"2026-02-05T09:10:00+08:00","type":"contacted"}"#,
        r#"{"ticket":"F","at":"2026-02-05T09:20:00+08:00","type":"closed"}"#,
        // Stream time reaches 03-08: A settles (its notices due 03-26 still ahead), F not yet.
        r#"{"ticket":"H","at":"2026-03-08T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
        r#"{"ticket":"H","at":"2026-03-08T10:10:00+08:00","type":"contacted"}"#,
        // Then 04-01: F settles, the last case the tally sees before the end.
        r#"{"ticket":"G","at":"2026-04-01T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}"#,
    ];
    let rows = report_rows(&p, &events, None);
    let findings: Vec<(String, String, String, u64)> = rows
        .iter()
        .filter(|r| r.0 == "publicity")
        .map(|r| (r.0.clone(), r.1.clone(), r.2.clone(), r.6))
        .collect();
    assert_eq!(
        findings,
        [(
            "publicity".to_string(),
            "2026-03".to_string(),
            "yuhu".to_string(),
            1
        )]
    );
}

#[test]
fn a_case_evaluated_alone_has_its_duty_findings() {
    let p = policy(PATROL);
    let events = area(&[("03-02 10:00", "patrolled")]);
    let f = evaluate_case_full(std::slice::from_ref(&p), &events, t("03-02 14:30")).findings;
    assert_eq!(codes(&f), ["duty.overdue"]);
    assert_eq!(f[0].at, t("03-02 12:00"));
}

#[test]
fn a_target_counts_only_the_cases_its_condition_holds_for() {
    let p = policy(
        r#"
  target jindi_satisfaction {
    when project == "jindi"
    ratio rated(satisfied == true) among rated per month
    at least 90%
  }"#,
    );
    let mut events = vec![
        ev("C", "03-02 09:00", "opened", &[("project", "jindi")]),
        ev("C", "03-02 18:00", "rated", &[("satisfied", "true")]),
    ];
    // An unsatisfied case of another project: not counted.
    events.extend([
        ev("R", "03-03 09:00", "opened", &[("project", "yuhu")]),
        ev("R", "03-03 18:00", "rated", &[("satisfied", "false")]),
    ]);
    let c = run(&p, events, Some("03-31 12:00"));
    let got: Vec<(String, u64, u64)> = targets(&c)
        .iter()
        .map(|t| (t.period.label(), t.hits, t.total))
        .collect();
    assert_eq!(got, [("2026-03".to_string(), 1, 1)]);
}

/// Duty checks made in time are counted as met: in the summary's clause, and in the report's
/// row of the month of their instant (a mutation that stops counting them is seen here).
#[test]
fn duty_checks_met_count_in_the_summary_and_in_the_report_rows() {
    let p = policy(r#"every patrol { when kind == "area" patrolled every 1 day }"#);
    let events = [
        r#"{"ticket":"Y","at":"2026-03-30T08:00:00+08:00","type":"opened","attrs":{"kind":"area","project":"yuhu"}}"#,
        r#"{"ticket":"Y","at":"2026-03-30T20:00:00+08:00","type":"patrolled"}"#,
        r#"{"ticket":"Y","at":"2026-03-31T18:00:00+08:00","type":"patrolled"}"#,
        r#"{"ticket":"Y","at":"2026-04-01T10:00:00+08:00","type":"patrolled"}"#,
        r#"{"ticket":"Y","at":"2026-04-01T12:00:00+08:00","type":"closed"}"#,
    ];
    // Each patrol within a day of the previous one (or of the opening) is a check met, and so
    // is the last stretch, which `closed` ends within its day: two in March, two in April.
    let rows = report_rows(&p, &events, Some("04-01 12:00"));
    let row = |m: &str, met: u64| {
        (
            "patrol".to_string(),
            m.to_string(),
            "yuhu".to_string(),
            met,
            0,
            0,
            0,
        )
    };
    assert_eq!(rows, [row("2026-03", 2), row("2026-04", 2)]);
    let evs = vec![
        ev(
            "Y",
            "03-30 08:00",
            "opened",
            &[("kind", "area"), ("project", "yuhu")],
        ),
        ev("Y", "03-30 20:00", "patrolled", &[]),
        ev("Y", "03-31 18:00", "patrolled", &[]),
        ev("Y", "04-01 10:00", "patrolled", &[]),
        ev("Y", "04-01 12:00", "closed", &[]),
    ];
    let policies = std::slice::from_ref(&p);
    let opts = EvalOptions {
        now: Some(t("04-01 12:00")),
        ..EvalOptions::default()
    };
    let mut evaluator = Evaluator::new(policies, opts, Collect::default());
    for e in evs {
        evaluator.push(e);
    }
    let (summary, _) = evaluator.finish();
    let c = &summary.clauses[0];
    assert_eq!((c.met, c.findings), (4, 0));
}
