//! Notification clauses (SEMANTICS.md, "Notifications"): channels and audiences missing or late,
//! coverage floors, first contact on the right channel, and the streaming evaluator's findings.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::{Finding, Summary};
use pledge::policy::Policy;
use pledge::syntax::parse_policy;
use pledge::value::{Attrs, Value};
use pledge::Event;

// ---------------------------------------------------------------- builders

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

fn n(v: f64) -> Value {
    Value::Number(v)
}

fn notice(ticket: &str, at: &str) -> Event {
    ev(
        ticket,
        at,
        "opened",
        &[("kind", s("notice")), ("topic", s("water_outage"))],
    )
}

fn sent(ticket: &str, at: &str, channel: &str) -> Event {
    ev(ticket, at, "notified", &[("channel", s(channel))])
}

fn counted(ticket: &str, at: &str, channel: &str, reached: f64, total: f64) -> Event {
    ev(
        ticket,
        at,
        "notified",
        &[
            ("channel", s(channel)),
            ("reached", n(reached)),
            ("total", n(total)),
        ],
    )
}

fn policy(clauses: &str) -> Policy {
    let src = format!(
        "policy \"p\" {{\n  calendar office {{ hours mon..fri 09:00-18:00 }}\n{clauses}\n}}"
    );
    parse_policy(&src, "test.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The three-channel notice of seed 000, 1 hour, 95 % coverage.
fn outage() -> Policy {
    policy(
        r#"notify outage {
    when kind == "notice" and topic in ["water_outage", "power_outage"]
    channels all [sms, notice_board, app_push]
    within 1 hour
    coverage at least 95%
  }"#,
    )
}

fn findings(policy: &Policy, events: &[Event], now: &str) -> Vec<Finding> {
    evaluate_case_full(std::slice::from_ref(policy), events, t(now)).findings
}

/// `code at message` lines, for readable assertions.
fn lines(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f.code,
                f.at.with_timezone(&f.zone).format("%m-%d %H:%M:%S"),
                f.message
            )
        })
        .collect()
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

/// All three channels on time, with a coverage of 96 %.
fn complete(ticket: &str) -> Vec<Event> {
    vec![
        notice(ticket, "03-02 09:00"),
        sent(ticket, "03-02 09:10", "sms"),
        sent(ticket, "03-02 09:20", "notice_board"),
        counted(ticket, "03-02 09:30", "app_push", 960.0, 1000.0),
    ]
}

// ---------------------------------------------------------------- channels

#[test]
fn a_complete_notice_has_no_findings() {
    assert!(findings(&outage(), &complete("N"), "03-05 00:00").is_empty());
    // Each of its notices is needed: without any one of them there is a finding.
    let expected = [
        (1, vec!["notify.channel_missing"]),
        (2, vec!["notify.channel_missing"]),
        (3, vec!["notify.channel_missing", "notify.coverage_unknown"]),
    ];
    for (dropped, expected) in expected {
        let mut events = complete("N");
        events.remove(dropped);
        let f = findings(&outage(), &events, "03-05 00:00");
        assert_eq!(codes(&f), expected, "without event {dropped}");
    }
}

#[test]
fn a_notice_missing_one_channel() {
    let mut events = complete("N");
    events.retain(|e| e.attrs.get("channel") != Some(&s("notice_board")));
    let f = findings(&outage(), &events, "03-02 12:00");
    assert_eq!(
        lines(&f),
        ["notify.channel_missing 03-02 10:00:00 no notice on `notice_board` by 2026-03-02T10:00:00+08:00"]
    );
    assert_eq!(&*f[0].ticket, "N");
    assert_eq!(&*f[0].clause, "outage");
    assert_eq!(f[0].zone, chrono_tz::Asia::Shanghai);
}

#[test]
fn nothing_is_reported_while_the_window_is_open() {
    let events = vec![notice("N", "03-02 09:00"), sent("N", "03-02 09:10", "sms")];
    assert!(findings(&outage(), &events, "03-02 09:30").is_empty());
    // At the due instant the window is still open: it closes only once `now` is past it.
    assert!(findings(&outage(), &events, "03-02 10:00").is_empty());
    let mut after = t("03-02 10:00");
    after += Duration::seconds(1);
    let f = evaluate_case_full(std::slice::from_ref(&outage()), &events, after).findings;
    assert_eq!(
        codes(&f),
        [
            "notify.channel_missing",
            "notify.channel_missing",
            "notify.coverage_unknown"
        ]
    );
}

#[test]
fn a_channel_exactly_at_the_limit_is_on_time_one_second_later_is_late() {
    let mut events = complete("N");
    events[3].at = t("03-02 10:00");
    assert!(findings(&outage(), &events, "03-05 00:00").is_empty());

    events[3].at += Duration::seconds(1);
    let f = findings(&outage(), &events, "03-05 00:00");
    assert_eq!(codes(&f), ["notify.channel_late"]);
    assert_eq!(f[0].at, events[3].at);
    assert_eq!(
        f[0].message,
        "`app_push` notice sent at 2026-03-02T10:00:01+08:00, 1 s after the limit (due \
         2026-03-02T10:00:00+08:00)"
    );
}

#[test]
fn a_late_channel_is_reported_even_before_the_window_would_close() {
    // A late notice is final: it is reported as soon as it is seen, and only its first sending
    // counts (a second one on time cannot exist, a later one changes nothing).
    let mut events = complete("N");
    events[1].at = t("03-02 11:30");
    events.push(sent("N", "03-02 12:00", "sms"));
    let f = findings(&outage(), &events, "03-02 11:30");
    assert_eq!(
        lines(&f),
        ["notify.channel_late 03-02 11:30:00 `sms` notice sent at 2026-03-02T11:30:00+08:00, 1 h 30 min after the limit (due 2026-03-02T10:00:00+08:00)"]
    );
}

#[test]
fn a_notice_case_with_no_notified_at_all() {
    let events = vec![notice("N", "03-02 09:00")];
    let f = findings(&outage(), &events, "03-03 09:00");
    // One finding per channel, then the coverage; same instant, so by code, then message.
    assert_eq!(
        lines(&f),
        [
            "notify.channel_missing 03-02 10:00:00 no notice on `app_push` by 2026-03-02T10:00:00+08:00",
            "notify.channel_missing 03-02 10:00:00 no notice on `notice_board` by 2026-03-02T10:00:00+08:00",
            "notify.channel_missing 03-02 10:00:00 no notice on `sms` by 2026-03-02T10:00:00+08:00",
            "notify.coverage_unknown 03-02 10:00:00 no `notified` event reports `reached` and `total` as numbers (`total` above 0), so the coverage floor of 95 % cannot be checked",
        ]
    );
}

#[test]
fn any_needs_one_channel_all_needs_each() {
    let any =
        policy(r#"notify n { when kind == "notice" channels any [sms, app_push] within 1 hour }"#);
    let all =
        policy(r#"notify n { when kind == "notice" channels all [sms, app_push] within 1 hour }"#);
    let only_sms = vec![notice("N", "03-02 09:00"), sent("N", "03-02 09:10", "sms")];
    assert!(findings(&any, &only_sms, "03-03 00:00").is_empty());
    assert_eq!(
        lines(&findings(&all, &only_sms, "03-03 00:00")),
        ["notify.channel_missing 03-02 10:00:00 no notice on `app_push` by 2026-03-02T10:00:00+08:00"]
    );

    // `any` with nothing sent: one finding naming the set.
    let none = vec![notice("N", "03-02 09:00")];
    assert_eq!(
        lines(&findings(&any, &none, "03-03 00:00")),
        ["notify.channel_missing 03-02 10:00:00 no notice on any of `sms`, `app_push` by 2026-03-02T10:00:00+08:00"]
    );

    // `any` with both late: one finding, on the earliest channel used.
    let late = vec![
        notice("N", "03-02 09:00"),
        sent("N", "03-02 10:30", "app_push"),
        sent("N", "03-02 11:00", "sms"),
    ];
    let f = findings(&any, &late, "03-03 00:00");
    assert_eq!(codes(&f), ["notify.channel_late"]);
    assert!(
        f[0].message.starts_with("`app_push` notice sent"),
        "{}",
        f[0].message
    );
    // `any` with one late and one on time: fine.
    let mixed = vec![
        notice("N", "03-02 09:00"),
        sent("N", "03-02 09:59", "sms"),
        sent("N", "03-02 09:30", "wechat"),
        sent("N", "03-02 10:30", "app_push"),
    ];
    assert!(findings(&any, &mixed, "03-03 00:00").is_empty());
    // ... while `all` reports the late one.
    assert_eq!(
        codes(&findings(&all, &mixed, "03-03 00:00")),
        ["notify.channel_late"]
    );
}

#[test]
fn a_channel_attribute_may_list_several_channels() {
    let all =
        policy(r#"notify n { when kind == "notice" channels all [sms, app_push] within 1 hour }"#);
    let events = vec![
        notice("N", "03-02 09:00"),
        ev(
            "N",
            "03-02 09:10",
            "notified",
            &[("channel", Value::List(vec![s("sms"), s("app_push")]))],
        ),
    ];
    assert!(findings(&all, &events, "03-03 00:00").is_empty());
    // A list without one of them leaves it missing.
    let events = vec![
        notice("N", "03-02 09:00"),
        ev(
            "N",
            "03-02 09:10",
            "notified",
            &[("channel", Value::List(vec![s("sms"), s("wechat")]))],
        ),
    ];
    assert_eq!(
        lines(&findings(&all, &events, "03-03 00:00")),
        ["notify.channel_missing 03-02 10:00:00 no notice on `app_push` by 2026-03-02T10:00:00+08:00"]
    );
}

#[test]
fn only_notices_from_the_start_count() {
    // The limit counts from `resolved`; a notice sent before it belongs to no window.
    let p = policy(
        r#"notify n { when kind == "repair" from resolved channels all [sms] within 30 minutes }"#,
    );
    let opened = ev("R", "03-02 09:00", "opened", &[("kind", s("repair"))]);
    let early = vec![
        opened.clone(),
        sent("R", "03-02 09:05", "sms"),
        ev("R", "03-02 12:00", "resolved", &[]),
    ];
    assert_eq!(
        lines(&findings(&p, &early, "03-03 00:00")),
        ["notify.channel_missing 03-02 12:30:00 no notice on `sms` by 2026-03-02T12:30:00+08:00"]
    );
    // No start, no finding.
    let unresolved = vec![opened.clone()];
    assert!(findings(&p, &unresolved, "03-09 00:00").is_empty());
    // A notice at the same instant as the start counts.
    let same = vec![
        opened,
        sent("R", "03-02 12:00", "sms"),
        ev("R", "03-02 12:00", "resolved", &[]),
    ];
    assert!(findings(&p, &same, "03-03 00:00").is_empty());
}

#[test]
fn clauses_apply_on_merged_case_attributes() {
    let mut events = vec![ev("N", "03-02 09:00", "opened", &[("kind", s("notice"))])];
    // Not an outage topic: the clause does not apply.
    assert!(findings(&outage(), &events, "03-03 00:00").is_empty());
    // Reclassified later: judged as reclassified.
    events.push(ev(
        "N",
        "03-02 09:05",
        "updated",
        &[("topic", s("power_outage"))],
    ));
    assert_eq!(
        codes(&findings(&outage(), &events, "03-03 00:00")),
        [
            "notify.channel_missing",
            "notify.channel_missing",
            "notify.channel_missing",
            "notify.coverage_unknown"
        ]
    );
}

#[test]
fn limits_on_a_business_calendar() {
    let p = policy(
        r#"notify n { when kind == "notice" channels all [sms] within 2 business hours on office }"#,
    );
    // Friday 17:00: 1 h on Friday, 1 h on Monday: due Monday 10:00 (and shown in its zone).
    let events = vec![notice("N", "03-06 17:00"), sent("N", "03-09 10:00", "sms")];
    assert!(findings(&p, &events, "03-10 00:00").is_empty());
    let events = vec![notice("N", "03-06 17:00"), sent("N", "03-09 10:01", "sms")];
    let f = findings(&p, &events, "03-10 00:00");
    assert_eq!(codes(&f), ["notify.channel_late"]);
    assert!(f[0]
        .message
        .contains("1 min after the limit (due 2026-03-09T10:00:00+08:00)"));
}

// ---------------------------------------------------------------- audiences

#[test]
fn audiences_missing_and_late() {
    let p = policy(
        r#"notify first_aid {
    when kind == "help" and category == "medical"
    audience all [ambulance_120, security_on_duty]
    within 5 minutes
  }"#,
    );
    let events = vec![
        ev(
            "H",
            "03-02 20:00",
            "opened",
            &[("kind", s("help")), ("category", s("medical"))],
        ),
        ev(
            "H",
            "03-02 20:06",
            "notified",
            &[("audience", s("ambulance_120")), ("channel", s("phone"))],
        ),
    ];
    assert_eq!(
        lines(&findings(&p, &events, "03-02 21:00")),
        [
            "notify.audience_missing 03-02 20:05:00 no notice to `security_on_duty` by 2026-03-02T20:05:00+08:00",
            "notify.audience_late 03-02 20:06:00 `ambulance_120` notified at 2026-03-02T20:06:00+08:00, 1 min after the limit (due 2026-03-02T20:05:00+08:00)",
        ]
    );
}

// ---------------------------------------------------------------- coverage

fn covered(reached: f64, total: f64) -> Vec<Event> {
    vec![
        notice("N", "03-02 09:00"),
        sent("N", "03-02 09:10", "sms"),
        sent("N", "03-02 09:20", "notice_board"),
        counted("N", "03-02 09:30", "app_push", reached, total),
    ]
}

#[test]
fn coverage_of_exactly_95_percent_meets_the_floor() {
    assert!(findings(&outage(), &covered(950.0, 1000.0), "03-03 00:00").is_empty());
    assert!(findings(&outage(), &covered(19.0, 20.0), "03-03 00:00").is_empty());
    assert_eq!(
        codes(&findings(&outage(), &covered(18.0, 20.0), "03-03 00:00")),
        ["notify.coverage_short"]
    );
}

#[test]
fn coverage_of_94_9_percent_is_short() {
    let f = findings(&outage(), &covered(949.0, 1000.0), "03-03 00:00");
    assert_eq!(
        lines(&f),
        ["notify.coverage_short 03-02 09:30:00 coverage 94.9 % (949 of 1000 reached, best single channel, a lower bound) is below the floor of 95 %"]
    );
    // 94.99 % is short too, and does not read as 95 %.
    let f = findings(&outage(), &covered(9499.0, 10000.0), "03-03 00:00");
    assert_eq!(codes(&f), ["notify.coverage_short"]);
    assert!(
        f[0].message.starts_with("coverage 94.9 %"),
        "{}",
        f[0].message
    );
}

#[test]
fn coverage_is_not_judged_while_the_window_is_open() {
    assert!(findings(&outage(), &covered(10.0, 1000.0), "03-02 09:45").is_empty());
    // Once the window has closed, the same counts are short.
    assert_eq!(
        codes(&findings(&outage(), &covered(10.0, 1000.0), "03-02 10:01")),
        ["notify.coverage_short"]
    );
}

#[test]
fn coverage_is_the_best_channel_without_a_union_report() {
    let mut events = covered(900.0, 1000.0);
    // Alone, the app's 90 % is short...
    assert_eq!(
        codes(&findings(&outage(), &events, "03-03 00:00")),
        ["notify.coverage_short"]
    );
    // ... and the SMS count of 96 % is the best channel.
    events.push(counted("N", "03-02 09:40", "sms", 960.0, 1000.0));
    assert!(findings(&outage(), &events, "03-03 00:00").is_empty());
}

#[test]
fn coverage_is_the_union_report_when_there_is_one() {
    // The single channels reach 96 %, but the system reports the union: 94 %. The union is
    // what the floor is about (the single channels of this report are inconsistent, which is
    // exactly why the union, when reported, wins).
    let mut events = covered(960.0, 1000.0);
    events.push(counted("N", "03-02 11:00", "all", 940.0, 1000.0));
    let f = findings(&outage(), &events, "03-03 00:00");
    assert_eq!(
        lines(&f),
        ["notify.coverage_short 03-02 11:00:00 coverage 94 % (940 of 1000 reached, all channels) is below the floor of 95 %"]
    );
    // The latest union report decides: a later count of 97 % meets it.
    events.push(counted("N", "03-02 12:00", "all", 970.0, 1000.0));
    assert!(findings(&outage(), &events, "03-03 00:00").is_empty());
}

#[test]
fn unusable_counts_are_no_counts() {
    let mut events = covered(0.0, 0.0);
    events.push(ev(
        "N",
        "03-02 09:50",
        "notified",
        &[
            ("channel", s("sms")),
            ("reached", s("many")),
            ("total", n(10.0)),
        ],
    ));
    assert_eq!(
        codes(&findings(&outage(), &events, "03-03 00:00")),
        ["notify.coverage_unknown"]
    );
}

// ---------------------------------------------------------------- no limit

#[test]
fn without_a_limit_the_window_closes_with_the_case() {
    let p = policy(r#"notify works { when kind == "works" channels all [notice_board] }"#);
    let opened = ev("W", "03-02 09:00", "opened", &[("kind", s("works"))]);
    let events = vec![opened.clone()];
    assert!(findings(&p, &events, "03-30 00:00").is_empty());
    let events = vec![opened.clone(), ev("W", "03-05 17:00", "closed", &[])];
    assert_eq!(
        lines(&findings(&p, &events, "03-30 00:00")),
        ["notify.channel_missing 03-05 17:00:00 no notice on `notice_board` before the case was closed at 2026-03-05T17:00:00+08:00"]
    );
    // Never late without a limit.
    let events = vec![
        opened,
        sent("W", "03-05 16:00", "notice_board"),
        ev("W", "03-05 17:00", "closed", &[]),
    ];
    assert!(findings(&p, &events, "03-30 00:00").is_empty());
}

// ---------------------------------------------------------------- first contact by segment

fn elderly_phone() -> Policy {
    policy(
        r#"notify elderly_phone "老年客户优先电话" {
    when segment == "elderly"
    first contacted or acknowledged via phone
  }"#,
    )
}

fn customer(segment: &str) -> Event {
    ev(
        "C",
        "03-02 09:00",
        "opened",
        &[("kind", s("complaint")), ("segment", s(segment))],
    )
}

#[test]
fn a_segment_contacted_on_the_wrong_channel() {
    let events = vec![
        customer("elderly"),
        ev(
            "C",
            "03-02 09:20",
            "acknowledged",
            &[("channel", s("wechat"))],
        ),
        ev("C", "03-02 09:40", "contacted", &[("channel", s("phone"))]),
    ];
    let f = findings(&elderly_phone(), &events, "03-03 00:00");
    assert_eq!(
        lines(&f),
        ["notify.first_contact_channel 03-02 09:20:00 first `acknowledged` used `wechat`; required: `phone`"]
    );
    // The same events for a young customer: the clause does not apply.
    let mut young = events.clone();
    young[0] = customer("young");
    assert!(findings(&elderly_phone(), &young, "03-03 00:00").is_empty());
}

#[test]
fn a_segment_contacted_on_the_right_channel_first() {
    let events = vec![
        customer("elderly"),
        ev("C", "03-02 09:20", "contacted", &[("channel", s("phone"))]),
        ev("C", "03-02 09:40", "progress", &[("channel", s("wechat"))]),
        ev(
            "C",
            "03-02 09:50",
            "acknowledged",
            &[("channel", s("wechat"))],
        ),
    ];
    assert!(findings(&elderly_phone(), &events, "03-03 00:00").is_empty());
    // The same contacts the other way round: the first one is on the wrong channel.
    let mut swapped = events.clone();
    swapped[1].at = t("03-02 09:55");
    assert_eq!(
        lines(&findings(&elderly_phone(), &swapped, "03-03 00:00")),
        ["notify.first_contact_channel 03-02 09:50:00 first `acknowledged` used `wechat`; required: `phone`"]
    );
}

#[test]
fn a_first_contact_naming_no_channel_is_a_finding() {
    let events = vec![
        customer("elderly"),
        ev("C", "03-02 09:20", "contacted", &[]),
    ];
    assert_eq!(
        lines(&findings(&elderly_phone(), &events, "03-03 00:00")),
        ["notify.first_contact_channel 03-02 09:20:00 first `contacted` names no channel; required: `phone`"]
    );
    // No contact at all: not this clause's business.
    assert!(findings(&elderly_phone(), &[customer("elderly")], "03-03 00:00").is_empty());
}

// ---------------------------------------------------------------- order and streaming

#[test]
fn findings_do_not_depend_on_the_order_of_events() {
    let mut events = vec![
        notice("N", "03-02 09:00"),
        sent("N", "03-02 10:30", "sms"),
        counted("N", "03-02 10:30", "notice_board", 900.0, 1000.0),
        counted("N", "03-02 10:30", "notice_board", 901.0, 1000.0),
        sent("N", "03-02 11:00", "sms"),
    ];
    let expected = findings(&outage(), &events, "03-03 00:00");
    assert_eq!(
        codes(&expected),
        [
            "notify.channel_missing",
            "notify.channel_late",
            "notify.channel_late",
            "notify.coverage_short"
        ]
    );
    assert!(expected[3].message.contains("901 of 1000"));
    events.reverse();
    assert_eq!(findings(&outage(), &events, "03-03 00:00"), expected);
    events.swap(0, 2);
    assert_eq!(findings(&outage(), &events, "03-03 00:00"), expected);
}

fn stream(policies: &[Policy], events: Vec<Event>, now: Option<&str>) -> (Summary, Collect) {
    let opts = EvalOptions {
        now: now.map(t),
        reorder_window: Duration::hours(2),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(policies, opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish()
}

/// Four notices: complete, missing the board, late sms, and one still inside its window at the
/// end of the stream, with a deadline clause alongside.
fn busy() -> (Vec<Policy>, Vec<Event>) {
    let p = policy(
        r#"deadline ack { until acknowledged within 1 hour }
  notify outage {
    when kind == "notice" and topic in ["water_outage", "power_outage"]
    channels all [sms, notice_board, app_push]
    within 1 hour
    coverage at least 95%
  }
  notify elderly_phone { when segment == "elderly" first contacted via phone }"#,
    );
    let mut events = complete("A");
    events.push(ev("A", "03-02 10:00", "closed", &[]));
    let mut b = complete("B");
    for e in &mut b {
        e.ticket = "B".into();
        e.at += Duration::hours(1);
    }
    b.retain(|e| e.attrs.get("channel") != Some(&s("notice_board")));
    b.push(ev("B", "03-02 10:30", "closed", &[]));
    events.extend(b);
    events.extend([
        notice("C", "03-02 12:00"),
        sent("C", "03-02 13:30", "sms"),
        ev(
            "D",
            "03-02 14:00",
            "opened",
            &[("kind", s("complaint")), ("segment", s("elderly"))],
        ),
        ev("D", "03-02 14:10", "contacted", &[("channel", s("app"))]),
        notice("E", "03-02 14:20"),
    ]);
    events.sort_by_key(|e| e.at);
    (vec![p], events)
}

fn render(c: &Collect) -> Vec<String> {
    c.findings
        .iter()
        .map(|f| format!("{} {} {:?} {}", f.ticket, f.code, f.at, f.clause))
        .collect()
}

#[test]
fn the_streaming_evaluator_reports_the_same_findings_as_one_case_at_a_time() {
    let (policies, events) = busy();
    for now in [None, Some("03-02 14:30"), Some("03-03 00:00")] {
        let (summary, got) = stream(&policies, events.clone(), now);
        let now_at = summary.now.unwrap();
        let mut expected = Vec::new();
        for ticket in ["A", "B", "C", "D", "E"] {
            let case: Vec<Event> = events
                .iter()
                .filter(|e| &*e.ticket == ticket)
                .cloned()
                .collect();
            expected.extend(evaluate_case_full(&policies, &case, now_at).findings);
        }
        let mut got_sorted = got.findings.clone();
        got_sorted.sort_by(|a, b| {
            (&a.ticket, a.clause_ref, a.at, a.code).cmp(&(&b.ticket, b.clause_ref, b.at, b.code))
        });
        assert_eq!(got_sorted, expected, "now = {now:?}");
        // The summary counts findings per clause; the deadline clause has none.
        let per_clause: Vec<u64> = summary.clauses.iter().map(|c| c.findings).collect();
        let outage = expected.iter().filter(|f| &*f.clause == "outage").count() as u64;
        let phone = expected
            .iter()
            .filter(|f| &*f.clause == "elderly_phone")
            .count() as u64;
        assert_eq!(per_clause, [0, outage, phone], "now = {now:?}");
        assert_eq!(summary.findings(), outage + phone);
    }
    // As of the end of the stream (14:20), C's window has closed (13:00) and E's is open.
    let (_, got) = stream(&policies, events.clone(), None);
    let r = render(&got);
    assert!(
        r.iter().any(|l| l.starts_with("B notify.channel_missing")),
        "{r:#?}"
    );
    assert!(
        r.iter().any(|l| l.starts_with("C notify.channel_late")),
        "{r:#?}"
    );
    assert!(
        r.iter()
            .any(|l| l.starts_with("D notify.first_contact_channel")),
        "{r:#?}"
    );
    assert!(!r.iter().any(|l| l.starts_with("E ")), "{r:#?}");
    assert!(!r.iter().any(|l| l.starts_with("A ")), "{r:#?}");
}

#[test]
fn streaming_findings_do_not_depend_on_arrival_order_within_the_window() {
    let (policies, events) = busy();
    let (_, forward) = stream(&policies, events.clone(), None);
    // Swap neighbours within each case (all within the 2-hour reorder window).
    let mut shuffled = events.clone();
    for i in (1..shuffled.len()).step_by(2) {
        if shuffled[i].at - shuffled[i - 1].at < Duration::hours(1) {
            shuffled.swap(i, i - 1);
        }
    }
    assert_ne!(shuffled, events);
    let (_, again) = stream(&policies, shuffled, None);
    assert_eq!(render(&forward), render(&again));
    assert_eq!(forward.findings, again.findings);
}

fn activity() -> Policy {
    policy(
        r#"notify publicity "活动前15天宣传" {
    when kind == "activity"
    channels all [notice_board, sms]
    at least 15 days before starts_at
  }"#,
    )
}

fn activity_opened(starts_at: Option<&str>) -> Event {
    let mut pairs = vec![("kind", s("activity"))];
    if let Some(at) = starts_at {
        pairs.push(("starts_at", s(at)));
    }
    ev("A", "03-01 09:00", "opened", &pairs)
}

#[test]
fn a_lead_time_counts_back_from_the_case_timestamp() {
    let p = activity();
    // The activity starts 2026-03-31 10:00: notices are due by 03-16 10:00.
    let on_time = vec![
        activity_opened(Some("2026-03-31T10:00:00+08:00")),
        sent("A", "03-16 10:00", "notice_board"),
        sent("A", "03-16 10:00", "sms"),
    ];
    assert!(findings(&p, &on_time, "03-31 12:00").is_empty());
    let late = vec![
        activity_opened(Some("2026-03-31T10:00:00+08:00")),
        sent("A", "03-16 10:00", "notice_board"),
        sent("A", "03-16 10:01", "sms"),
    ];
    assert_eq!(
        codes(&findings(&p, &late, "03-31 12:00")),
        vec!["notify.channel_late"]
    );
    // A local timestamp is read in the policy's zone.
    let missing = vec![
        activity_opened(Some("2026-03-31T10:00:00")),
        sent("A", "03-10 09:00", "sms"),
    ];
    assert_eq!(
        codes(&findings(&p, &missing, "03-31 12:00")),
        vec!["notify.channel_missing"]
    );
}

#[test]
fn a_lead_time_without_its_timestamp_is_a_finding_not_a_pass() {
    let p = activity();
    let events = vec![
        activity_opened(None),
        sent("A", "03-02 10:00", "notice_board"),
        sent("A", "03-02 10:00", "sms"),
    ];
    assert_eq!(
        codes(&findings(&p, &events, "03-31 12:00")),
        vec!["notify.lead_unknown"]
    );
}
