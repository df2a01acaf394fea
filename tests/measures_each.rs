//! A count per listed value (`measure count of rated per month each channel in [...]`, seed
//! 000's rating channels) through the streaming evaluator: a verdict per value naming it, a
//! value with no event in a period the group was seen in is missed, a period without any
//! counted event has no verdict, a period still open at `now` waits; its diagnostic (English
//! and Chinese), its formatting, and its laws (arrival order, partitions merged).

mod common;

use chrono::Duration;
use common::{one_and_merged, policy, run_in_arrival_order, run_sorted as run, t};
use pledge::engine::Collect;
use pledge::period::PeriodRecord;
use pledge::syntax::messages::{localize, Lang};
use pledge::syntax::{format_clause, parse_policy, render};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

const CHANNELS: &str = r#"  target channels "评价渠道" {
    measure count of rated per month each channel in ["app", "sms", "suggestion_box"]
    group by project
    at least 1
  }"#;

/// A case of `project` opened at `at` and rated a minute later through `channel` (no channel
/// attribute for `None`).
fn rating(ticket: &str, at: Instant, project: &str, channel: Option<&str>) -> Vec<Event> {
    let mut opened = Attrs::new();
    opened.insert("kind", Value::String("repair".into()));
    opened.insert("project", Value::String(project.into()));
    let mut rated = Attrs::new();
    if let Some(c) = channel {
        rated.insert("channel", Value::String(c.into()));
    }
    vec![
        Event {
            ticket: ticket.into(),
            at,
            kind: "opened".into(),
            id: None,
            attrs: opened,
            line: 0,
        },
        Event {
            ticket: ticket.into(),
            at: at + Duration::minutes(1),
            kind: "rated".into(),
            id: None,
            attrs: rated,
            line: 0,
        },
    ]
}

/// `period group status count` of every target record.
fn rows(c: &Collect) -> Vec<String> {
    c.periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(v) => Some(format!(
                "{} {} {:?} {}",
                v.period.label(),
                v.group.label(),
                v.status,
                v.measure.as_ref().and_then(|m| m.value).unwrap_or(-1)
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn each_listed_value_is_judged_and_a_missing_one_is_named() {
    let p = policy(CHANNELS);
    let mut events = Vec::new();
    events.extend(rating(
        "a1",
        t("2026-03-02T09:00:00+08:00"),
        "a",
        Some("app"),
    ));
    events.extend(rating(
        "a2",
        t("2026-03-05T09:00:00+08:00"),
        "a",
        Some("app"),
    ));
    events.extend(rating(
        "a3",
        t("2026-03-09T09:00:00+08:00"),
        "a",
        Some("sms"),
    ));
    events.extend(rating(
        "b1",
        t("2026-03-03T09:00:00+08:00"),
        "b",
        Some("suggestion_box"),
    ));
    let c = run(&p, events, "2026-04-01T00:00:00+08:00");
    assert_eq!(
        rows(&c),
        [
            "2026-03 a / app Met 2",
            "2026-03 a / sms Met 1",
            "2026-03 a / suggestion_box Missed 0",
            "2026-03 b / app Missed 0",
            "2026-03 b / sms Missed 0",
            "2026-03 b / suggestion_box Met 1",
            "2026-04 a / app NoVerdict 0",
            "2026-04 a / sms NoVerdict 0",
            "2026-04 a / suggestion_box NoVerdict 0",
            "2026-04 b / app NoVerdict 0",
            "2026-04 b / sms NoVerdict 0",
            "2026-04 b / suggestion_box NoVerdict 0",
        ]
    );
    // The group of a record names the attribute and the value (JSON: `{"project": "a",
    // "channel": "suggestion_box"}`).
    let PeriodRecord::Target(v) = &c.periods[2] else {
        panic!("a target record");
    };
    assert_eq!(
        v.group.to_json(),
        serde_json::json!({"project": "a", "channel": "suggestion_box"})
    );
}

#[test]
fn an_unlisted_value_makes_the_group_seen_and_an_empty_month_after_it_counts_zero() {
    let p = policy(CHANNELS);
    // March: project a rated only by letter (not listed); April: nothing at all; May is
    // still open at `now`.
    let events = rating("a1", t("2026-03-02T09:00:00+08:00"), "a", Some("letter"));
    let c = run(&p, events, "2026-05-02T00:00:00+08:00");
    assert_eq!(
        rows(&c),
        [
            "2026-03 a / app Missed 0",
            "2026-03 a / sms Missed 0",
            "2026-03 a / suggestion_box Missed 0",
            "2026-04 a / app Missed 0",
            "2026-04 a / sms Missed 0",
            "2026-04 a / suggestion_box Missed 0",
            "2026-05 a / app NoVerdict 0",
            "2026-05 a / sms NoVerdict 0",
            "2026-05 a / suggestion_box NoVerdict 0",
        ]
    );
    // A rating without a channel makes the group seen too.
    let events = rating("a1", t("2026-03-02T09:00:00+08:00"), "a", None);
    assert_eq!(
        run(&p, events, "2026-03-20T00:00:00+08:00").periods.len(),
        3
    );
    // Before the clause's first counted event there is nothing to judge.
    assert!(run(&p, Vec::new(), "2026-05-01T00:00:00+08:00")
        .periods
        .is_empty());
}

#[test]
fn a_period_still_open_at_now_waits_for_a_missing_value_and_a_boundary_event_counts_in_its_own_period(
) {
    let p = policy(CHANNELS);
    let mut events = rating("a1", t("2026-03-02T09:00:00+08:00"), "a", Some("app"));
    // Opened 23:59 on 31 March, rated at 00:00 on 1 April (local): counts in April.
    events.extend(rating(
        "a2",
        t("2026-03-31T23:59:00+08:00"),
        "a",
        Some("sms"),
    ));
    let c = run(&p, events.clone(), "2026-03-20T00:00:00+08:00");
    assert_eq!(
        rows(&c),
        [
            "2026-03 a / app Met 1",
            "2026-03 a / sms NoVerdict 0",
            "2026-03 a / suggestion_box NoVerdict 0",
        ]
    );
    let c = run(&p, events, "2026-04-30T00:00:00+08:00");
    assert_eq!(
        rows(&c),
        [
            "2026-03 a / app Met 1",
            "2026-03 a / sms Missed 0",
            "2026-03 a / suggestion_box Missed 0",
            "2026-04 a / app NoVerdict 0",
            "2026-04 a / sms Met 1",
            "2026-04 a / suggestion_box NoVerdict 0",
        ]
    );
}

#[test]
fn each_on_a_duration_is_a_diagnostic_in_english_and_chinese() {
    let src = "policy \"p\" {\n  target t {\n    measure mean of resolved - opened per month each channel in [\"app\"]\n    at most 24 hours\n  }\n}\n";
    let e = parse_policy(src, "t.pledge", None).unwrap_err();
    assert_eq!(e.errors[0].code, "pledge::measure::each_needs_count");
    let zh = localize(&e, Lang::Zh);
    assert_eq!(zh.errors[0].primary_span(), e.errors[0].primary_span());
    insta::assert_snapshot!(
        "each_needs_count",
        format!("{}\n{}", render(&e, false), render(&zh, false))
    );
}

#[test]
fn the_measure_formats_and_parses_back_the_same() {
    let p = policy(CHANNELS);
    let text = format_clause(&p.clauses[0]);
    assert!(
        text.contains(
            r#"measure count of rated per month each channel in ["app", "sms", "suggestion_box"]"#
        ),
        "{text}"
    );
    let again = policy(&text);
    assert_eq!(again.clauses[0], p.clauses[0]);
}

fn stream(seed_cases: &[(i64, usize, usize)]) -> Vec<Event> {
    let start = t("2026-01-01T08:00:00+08:00");
    let mut events = Vec::new();
    for (i, (hour, project, channel)) in seed_cases.iter().enumerate() {
        let at = start + Duration::hours(*hour) + Duration::seconds(i as i64);
        let channel = ["app", "sms", "suggestion_box", "letter"][*channel];
        events.extend(rating(
            &format!("c{i}"),
            at,
            ["a", "b"][*project],
            Some(channel),
        ));
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The verdicts do not depend on the order the cases arrive in.
    #[test]
    fn verdicts_do_not_depend_on_the_order_of_cases(
        cases in proptest::collection::vec((0i64..2000, 0usize..2, 0usize..4), 1..30),
        seed in any::<u64>(),
    ) {
        let p = policy(CHANNELS);
        let events = stream(&cases);
        // Another order of the cases (each case's own events stay in order).
        let mut chunks: Vec<Vec<Event>> = events.chunks(2).map(<[Event]>::to_vec).collect();
        let n = chunks.len();
        chunks.rotate_left(seed as usize % n);
        let shuffled: Vec<Event> = chunks.into_iter().flatten().collect();
        let go = |events: Vec<Event>| rows(&run_in_arrival_order(&p, events, "2026-06-01T00:00:00+08:00"));
        prop_assert_eq!(go(events), go(shuffled));
    }

    /// Partitions of the tickets, merged, give the verdicts of one evaluator: a value seen in
    /// one partition only is judged on the sum, and a zero count merges as a zero.
    #[test]
    fn partitions_merged_give_the_verdicts_of_one_evaluator(
        cases in proptest::collection::vec((0i64..2000, 0usize..2, 0usize..4), 1..30),
        parts in 2u32..4,
    ) {
        let p = policy(CHANNELS);
        let policies = std::slice::from_ref(&p);
        let mut events = stream(&cases);
        events.sort_by_key(|e| e.at);
        let ((one_summary, one_sink), (summary, sink)) =
            one_and_merged(policies, &events, "2026-06-01T00:00:00+08:00", parts);
        prop_assert_eq!(one_summary, summary);
        prop_assert!(one_sink.records == sink.records, "the merged records differ");
    }
}
