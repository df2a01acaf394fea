//! The incremental evaluator: follow-ups after `closed` within the retention, sub-second
//! lateness, and a property test against the whole-case reading of SEMANTICS.md
//! ([`evaluate_case_full`], which sees every event of a case at once).

mod common;

use common::{event_at as ev_at, shipped_policies};

use chrono::{DateTime, Duration, Utc};
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::{Action, ActionStatus, Status, Summary, Verdict};
use pledge::period::{PeriodRecord, SampleStatus};
use pledge::policy::Policy;
use pledge::syntax::{parse_policy, render};
use pledge::{Event, Instant};
use proptest::prelude::*;

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
    ev_at(ticket, t(at), kind, pairs)
}

fn policy(body: &str) -> Policy {
    let src = format!("policy \"p\" {{\n{body}\n}}");
    parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)))
}

fn run(policies: &[Policy], events: Vec<Event>, opts: EvalOptions) -> (Summary, Collect) {
    let mut ev = Evaluator::new(policies, opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish()
}

fn window(hours: i64) -> EvalOptions {
    EvalOptions {
        reorder_window: Duration::hours(hours),
        ..EvalOptions::default()
    }
}

const REVISIT: &str = r#"
  deadline revisit_24h "解决后24小时内回访" {
    from resolved until revisited
    within 24 hours
  }
  deadline resolve_1d "一天内解决" {
    until resolved
    within 1 day
  }
"#;

#[test]
fn a_revisit_30_hours_after_closed_stops_the_revisit_clock() {
    let p = [policy(REVISIT)];
    // A: resolved and closed, revisited 30 h after closing (and after the 24 h): breached.
    // B: revisited 20 h after resolution, 10 h after closing: met. C moves the watermark on.
    let events = vec![
        ev("A", "03-02 09:00", "opened", &[("kind", "repair")]),
        ev("A", "03-02 10:00", "resolved", &[]),
        ev("A", "03-02 11:00", "closed", &[]),
        ev("B", "03-02 09:00", "opened", &[("kind", "repair")]),
        ev("B", "03-02 10:00", "resolved", &[]),
        ev("B", "03-02 20:00", "closed", &[]),
        ev("C", "03-03 12:00", "opened", &[]),
        ev("B", "03-03 06:00", "revisited", &[]),
        ev("A", "03-03 17:00", "revisited", &[]),
        ev("C", "03-06 12:00", "progress", &[]),
    ];
    // A window of 1 h: the old reading finished A at 12:00 on 03-02 and rejected its revisit.
    let (summary, out) = run(&p, events, window(1));
    assert_eq!((summary.late, summary.expired, summary.rejected), (0, 0, 0));
    let revisits: Vec<(&str, Status, Option<Instant>, Option<Duration>)> = out
        .verdicts
        .iter()
        .filter(|v| &*v.clause == "revisit_24h")
        .map(|v| (&*v.ticket, v.status, v.stop, v.overdue_by))
        .collect();
    assert_eq!(
        revisits,
        vec![
            (
                "A",
                Status::Breached,
                Some(t("03-03 17:00")),
                Some(Duration::hours(7))
            ),
            ("B", Status::Met, Some(t("03-03 06:00")), None),
        ]
    );
}

#[test]
fn a_spot_check_5_days_after_closed_counts_for_a_sample_with_a_7_day_lag() {
    let p = [policy(
        r#"
  sample complaint_check "投诉回访抽查" {
    when kind == "complaint"
    having resolved
    ratio 100% by management_dept per month
    lag 7 days
  }
"#,
    )];
    let events = vec![
        ev("A", "03-30 09:00", "opened", &[("kind", "complaint")]),
        ev("A", "03-30 10:00", "resolved", &[]),
        ev("A", "03-30 11:00", "closed", &[]),
        ev("B", "04-02 09:00", "opened", &[("kind", "complaint")]),
        // 5 days after A's close, in April, within March's 7-day lag.
        ev(
            "A",
            "04-04 11:00",
            "spot_checked",
            &[("by", "management_dept")],
        ),
        ev("B", "04-09 09:00", "progress", &[]),
    ];
    let (summary, out) = run(&p, events, window(1));
    assert_eq!((summary.late, summary.rejected), (0, 0));
    let march: Vec<(u64, u64, u64)> = out
        .periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Sample(s) if s.period.to_string() == "2026-03" => {
                Some((s.population, s.done, s.required))
            }
            _ => None,
        })
        .collect();
    assert_eq!(march, vec![(1, 1, 1)]);
    let met = out.periods.iter().any(|r| {
        matches!(r, PeriodRecord::Sample(s) if s.period.to_string() == "2026-03"
            && s.status == SampleStatus::Met)
    });
    assert!(met, "{:#?}", out.periods);
}

#[test]
fn a_reopen_10_days_after_closed_starts_cycle_2() {
    let p = [policy(REVISIT)];
    let events = vec![
        ev("A", "03-02 09:00", "opened", &[("kind", "repair")]),
        ev("A", "03-02 10:00", "resolved", &[]),
        ev("A", "03-02 11:00", "revisited", &[]),
        ev("A", "03-02 12:00", "closed", &[]),
        ev("B", "03-08 12:00", "opened", &[]),
        ev("A", "03-12 12:00", "reopened", &[]),
        ev("A", "03-14 12:00", "resolved", &[]),
        ev("A", "03-14 13:00", "closed", &[]),
    ];
    let (summary, out) = run(&p, events, window(1));
    assert_eq!((summary.late, summary.expired, summary.rejected), (0, 0, 0));
    let a: Vec<(&str, u32, Status, Instant)> = out
        .verdicts
        .iter()
        .filter(|v| &*v.ticket == "A")
        .map(|v| (&*v.clause, v.cycle, v.status, v.start))
        .collect();
    assert_eq!(
        a,
        // Stopped cycles in clause order (revisit_24h is written first), then running ones.
        vec![
            ("revisit_24h", 1, Status::Met, t("03-02 10:00")),
            ("resolve_1d", 1, Status::Met, t("03-02 09:00")),
            // The second cycle starts at the reopen and stops two days later: breached.
            ("resolve_1d", 2, Status::Breached, t("03-12 12:00")),
            // Its revisit clock runs from the second resolution to the end of the stream.
            ("revisit_24h", 2, Status::Pending, t("03-14 12:00")),
        ]
    );
}

#[test]
fn a_case_settles_the_retention_after_its_close_and_is_forgotten() {
    let p = [policy(REVISIT)];
    let opts = EvalOptions {
        retain: Duration::days(2),
        ..window(1)
    };
    let mut engine = Evaluator::new(&p, opts, Collect::default());
    for e in [
        ev("A", "03-02 09:00", "opened", &[]),
        ev("A", "03-02 10:00", "resolved", &[]),
        ev("A", "03-02 11:00", "closed", &[]),
        ev("B", "03-04 09:00", "opened", &[]),
    ] {
        engine.push(e);
    }
    // Within the retention: A is kept, nothing is judged yet (a reclassification could still
    // change which clauses apply).
    assert_eq!(engine.open_cases(), 2);
    assert!(engine.sink_mut().verdicts.is_empty());
    // Two days and the window after the close: A is settled and its verdicts are out.
    engine.push(ev("B", "03-04 12:01", "progress", &[]));
    assert_eq!(engine.open_cases(), 1);
    let settled: Vec<(String, String, Status)> = engine
        .sink_mut()
        .verdicts
        .iter()
        .map(|v| (v.ticket.to_string(), v.clause.to_string(), v.status))
        .collect();
    assert_eq!(
        settled,
        vec![("A".to_string(), "resolve_1d".to_string(), Status::Met)]
    );
    // Its revisit clock never stopped: judged against `now`, known only at the end.
    let (_, out) = engine.finish();
    let at_end: Vec<(&str, &str, Status)> = out.verdicts[1..]
        .iter()
        .map(|v| (&*v.ticket, &*v.clause, v.status))
        .collect();
    assert_eq!(
        at_end,
        vec![
            ("A", "revisit_24h", Status::Breached),
            ("B", "resolve_1d", Status::Pending)
        ]
    );
}

#[test]
fn half_a_second_late_is_breached_and_says_so() {
    let p = [policy(
        r#"
  deadline answer_30s "30秒内接听" {
    until acknowledged
    within 30 seconds
  }
"#,
    )];
    let events = vec![
        ev("A", "03-02 09:00", "opened", &[]),
        ev_at("A", t("2026-03-02T09:00:30.5+08:00"), "acknowledged", &[]),
        ev("B", "03-02 09:00", "opened", &[]),
        ev_at("B", t("2026-03-02T09:00:30+08:00"), "acknowledged", &[]),
    ];
    let (_, out) = run(&p, events, window(1));
    let got: Vec<(&str, Status, Option<Duration>)> = out
        .verdicts
        .iter()
        .map(|v| (&*v.ticket, v.status, v.overdue_by))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A", Status::Breached, Some(Duration::milliseconds(500))),
            ("B", Status::Met, None)
        ]
    );
}

#[test]
#[cfg(feature = "cli")]
fn the_json_report_writes_sub_second_lateness_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy_path = dir.path().join("answer.pledge");
    std::fs::write(
        &policy_path,
        "policy \"answer\" {\n  deadline answer_30s \"30秒内接听\" {\n    until acknowledged\n    within 30 seconds\n  }\n}\n",
    )
    .expect("write policy");
    let events_path = dir.path().join("calls.jsonl");
    std::fs::write(
        &events_path,
        concat!(
            r#"{"ticket":"A","at":"2026-03-02T09:00:00+08:00","type":"opened"}"#,
            "\n",
            r#"{"ticket":"A","at":"2026-03-02T09:00:30.5+08:00","type":"acknowledged"}"#,
            "\n"
        ),
    )
    .expect("write events");
    let run = |format: &str| {
        assert_cmd::Command::cargo_bin("pledge")
            .expect("binary")
            .arg("check")
            .arg(&policy_path)
            .arg("--events")
            .arg(&events_path)
            .args(["--format", format])
            .output()
            .expect("runs")
    };
    let out = run("jsonl");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let verdict = text
        .lines()
        .find(|l| l.contains(r#""record":"verdict""#))
        .expect("a verdict line");
    assert!(verdict.contains(r#""overdue_seconds":0.5,"#), "{verdict}");
    let human = String::from_utf8(run("human").stdout).expect("utf-8");
    assert!(human.contains("0.5 s"), "{human}");
    assert!(!human.contains(" 0 s"), "{human}");
}

// ---------------------------------------------------------------- the whole-case reading

const MIXED: &str = r#"
  calendar office {
    hours mon..fri 09:00-18:00
  }
  deadline contact_1h "1小时内联系" {
    when kind == "complaint"
    from opened until contacted
    within 1 hour
    at 50% warn supervisor
    at 100% escalate office_director
  }
  deadline resolve_1wd "1个工作日内解决" {
    until resolved
    within 1 workdays on office
    pause while status in ["waiting_customer", "waiting_parts"]
    at 100% escalate project_manager
  }
  deadline revisit_24h "24小时内回访" {
    from resolved until revisited
    within 24 hours
    pause while status in ["waiting_customer"]
  }
  deadline close_3d "3天内关闭" {
    when kind == "repair"
    from contacted until closed
    within 3 days
  }
  deadline inquiry_answer_2h "咨询2小时内答复" {
    when kind == "inquiry"
    from opened until revisited
    within 2 hours
  }
  deadline inquiry_close_1d "咨询1天内关闭" {
    when kind == "inquiry"
    until closed
    within 1 day
  }
  deadline complaint_fix_2d "投诉联系后2天内解决" {
    when kind == "complaint"
    from contacted until resolved
    within 2 days
    at 50% warn supervisor
  }
  deadline repair_close_1d "修复后1天内关闭" {
    when kind == "repair"
    from resolved until closed
    within 1 day
  }
  deadline repair_revisit_3d "联系后3天内回访" {
    when kind == "repair"
    from contacted until revisited
    within 3 days
  }
  deadline complaint_ack_10m "投诉10分钟内响应" {
    when kind == "complaint"
    until contacted
    within 10 minutes
    pause while status in ["waiting_parts"]
  }
"#;

/// Event types of the random cases; `updated` reclassifies the case (another `kind`).
const TYPES: [&str; 10] = [
    "updated",
    "opened",
    "contacted",
    "resolved",
    "revisited",
    "reopened",
    "closed",
    "status",
    "escalated",
    "progress",
];

/// One case: an `opened` somewhere, then events at two-hour slots over five days, so that
/// several fall on one instant.
fn case_events(ticket: String) -> impl Strategy<Value = Vec<Event>> {
    let kind = prop_oneof![Just("complaint"), Just("repair")];
    let event = (0usize..TYPES.len(), 0i64..60, 0usize..3);
    (kind, 0i64..10, prop::collection::vec(event, 0..14)).prop_map(move |(kind, open, evs)| {
        let base = t("03-06 08:00");
        let slot = |s: i64| base + Duration::hours(2 * s);
        let mut out = vec![ev_at(&ticket, slot(open), "opened", &[("kind", kind)])];
        for (ti, s, variant) in evs {
            let kind = TYPES[ti];
            let attrs: Vec<(&str, &str)> = match kind {
                "status" => vec![(
                    "status",
                    ["waiting_customer", "waiting_parts", "in_progress"][variant],
                )],
                "escalated" => vec![(
                    "to",
                    ["office_director", "project_manager", "supervisor"][variant],
                )],
                "updated" => vec![("kind", ["complaint", "repair", "inquiry"][variant])],
                _ => Vec::new(),
            };
            out.push(ev_at(&ticket, slot(s), kind, &attrs));
        }
        out
    })
}

fn stream_of_cases() -> impl Strategy<Value = (Vec<Vec<Event>>, Vec<usize>)> {
    (1usize..5)
        .prop_flat_map(|n| {
            (0..n)
                .map(|i| case_events(format!("T-{i}")))
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|cases| {
            let total: usize = cases.iter().map(Vec::len).sum();
            let order = Just((0..total).collect::<Vec<_>>()).prop_shuffle();
            (Just(cases), order)
        })
}

fn key_v(v: &Verdict) -> String {
    format!(
        "{} {} c{} {:?} start {} due {} stop {:?} paused {} {:?} over {:?} left {:?}",
        v.ticket,
        v.clause,
        v.cycle,
        v.status,
        v.start,
        v.due,
        v.stop,
        v.paused,
        v.paused_time,
        v.overdue_by,
        v.time_left
    )
}

fn key_a(a: &Action) -> String {
    format!(
        "{} {} c{} s{} {} {:?} {:?}",
        a.ticket, a.clause, a.cycle, a.stage, a.at, a.status, a.evidence
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// For random cases (ties at one instant, pauses, reopens, escalations, events before
    /// `opened`), arriving in any order within the window, the streaming evaluator gives
    /// exactly the verdicts and actions of reading each whole case at once.
    #[test]
    fn incremental_equals_the_whole_case((cases, order) in stream_of_cases()) {
        let policies = [policy(MIXED)];
        let all: Vec<Event> = cases.iter().flatten().cloned().collect();
        let now = all.iter().map(|e| e.at).max().expect("an opened per case");
        let shuffled: Vec<Event> = order.iter().map(|&i| all[i].clone()).collect();
        let (summary, out) = run(&policies, shuffled, window(24 * 20));
        prop_assert_eq!(summary.rejected, 0);
        let mut got_v: Vec<String> = out.verdicts.iter().map(key_v).collect();
        let mut got_a: Vec<String> = out.actions.iter().map(key_a).collect();
        let mut want_v = Vec::new();
        let mut want_a = Vec::new();
        for case in &cases {
            let r = evaluate_case_full(&policies, case, now);
            want_v.extend(r.verdicts.iter().map(key_v));
            want_a.extend(r.actions.iter().map(key_a));
        }
        got_v.sort();
        want_v.sort();
        got_a.sort();
        want_a.sort();
        prop_assert_eq!(got_v, want_v);
        prop_assert_eq!(got_a, want_a);
        // Nothing is missed: every escalation that fired is done or missed, once.
        prop_assert!(out.actions.iter().all(|a| a.status != ActionStatus::Due
            || a.kind == pledge::policy::ActionKind::Warn));
    }
}

#[test]
fn a_case_is_judged_with_its_attributes_as_merged_up_to_now() {
    let p = [policy(
        r#"
  deadline minor_8h "小修8小时" {
    when severity == "minor"
    until resolved
    within 8 hours
  }
  deadline medium_3d "中修3天" {
    when severity == "medium"
    until resolved
    within 3 days
  }
"#,
    )];
    let events = vec![
        // A is reclassified before its clock stops, B after it (when the work order is closed
        // out), C while its clock runs: all three are judged as medium repairs.
        ev("A", "03-02 09:00", "opened", &[("severity", "minor")]),
        ev("A", "03-02 12:00", "updated", &[("severity", "medium")]),
        ev("A", "03-03 09:00", "resolved", &[]),
        ev("B", "03-02 09:00", "opened", &[("severity", "minor")]),
        ev("B", "03-02 10:00", "resolved", &[]),
        ev("B", "03-03 12:00", "updated", &[("severity", "medium")]),
        ev("C", "03-02 09:00", "opened", &[("severity", "minor")]),
        ev("C", "03-03 12:00", "updated", &[("severity", "medium")]),
    ];
    let (_, out) = run(&p, events, window(1));
    let got: Vec<(&str, &str, Status)> = out
        .verdicts
        .iter()
        .map(|v| (&*v.ticket, &*v.clause, v.status))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A", "medium_3d", Status::Met),
            ("B", "medium_3d", Status::Met),
            ("C", "medium_3d", Status::Pending),
        ]
    );
}

// ---------------------------------------------------------------- generated streams

fn dense_stream(shuffle: f64) -> Vec<u8> {
    let opts = pledge::gen::GenOptions {
        cases: 4000,
        seed: 11,
        days: 20,
        assets: Some(12),
        shuffle,
        max_displacement: if shuffle > 0.0 { 60 } else { 0 },
        ..pledge::gen::GenOptions::default()
    }
    .dense();
    let mut out = Vec::new();
    pledge::gen::generate(&opts, &mut out).expect("generates");
    out
}

fn check_all(policies: &[Policy], input: &[u8]) -> (Summary, Collect) {
    let checked = pledge::check::check(
        policies,
        input,
        &pledge::input::ReadOptions::default(),
        EvalOptions::default(),
        Collect::default(),
    )
    .expect("reads");
    (checked.summary, checked.sink)
}

/// The dense profile closes most tickets before their revisits, ratings, spot checks and
/// reopens: every shipped policy accepts all of them (nothing is late on a stream in order),
/// and a stream shuffled within the window gives the very same records.
#[test]
fn follow_ups_after_closed_are_never_lost_and_order_does_not_matter() {
    let policies = shipped_policies();
    let sorted = dense_stream(0.0);
    let (summary, out) = check_all(&policies, &sorted);
    assert_eq!((summary.rejected, summary.late, summary.expired), (0, 0, 0));
    assert_eq!(summary.accepted, summary.events);
    // Follow-ups after `closed` count: revisit clocks stopped after their case's first close.
    let mut first_closed = std::collections::HashMap::new();
    for line in sorted.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("json");
        if v["type"] == "closed" {
            let at = DateTime::parse_from_rfc3339(v["at"].as_str().expect("at"))
                .expect("rfc 3339")
                .with_timezone(&Utc);
            let ticket = v["ticket"].as_str().expect("ticket").to_string();
            first_closed.entry(ticket).or_insert(at);
        }
    }
    let after_close = out
        .verdicts
        .iter()
        .filter(|v| v.clause.contains("revisit"))
        .filter(|v| {
            let closed = first_closed.get(&*v.ticket);
            v.stop.zip(closed).is_some_and(|(stop, c)| stop > *c)
        })
        .count();
    assert!(
        after_close > 500,
        "{after_close} revisit clocks stopped after closed"
    );
    let shuffled = dense_stream(0.2);
    assert_ne!(sorted, shuffled);
    let (summary2, out2) = check_all(&policies, &shuffled);
    assert_eq!(summary2.rejected, 0);
    assert!(out == out2, "the shuffled stream gives other records");
    assert_eq!(summary.clauses, summary2.clauses);
}

/// Cases at rest kept in a spill file, as the service keeps them (in chunks of 4 KiB here, so
/// that this small stream spills most of them), give exactly the records of an evaluator that
/// holds them in memory.
#[test]
fn cases_at_rest_in_a_spill_file_give_the_same_records() {
    let policies = shipped_policies();
    let input = dense_stream(0.2);
    let (summary, out) = check_all(&policies, &input);
    let file = tempfile::tempfile().expect("a file");
    let probe = file.try_clone().expect("a handle");
    let mut ev = Evaluator::new(&policies, EvalOptions::default(), Collect::default());
    ev.spill_resting_in_chunks(file, 4096);
    let read = pledge::input::read_events(
        &input[..],
        &pledge::input::ReadOptions::default(),
        |record| match record {
            pledge::input::Record::Event(e) => ev.push(e),
            pledge::input::Record::Rejected(r) => panic!("rejected: {r:?}"),
        },
    );
    read.expect("reads");
    let spilled = probe.metadata().expect("metadata").len();
    assert!(spilled > 64 * 4096, "{spilled} bytes spilled");
    let (summary2, out2) = ev.finish();
    assert!(out == out2, "spilling changes the records");
    assert_eq!(summary.clauses, summary2.clauses);
    assert_eq!(
        (summary.events, summary.accepted),
        (summary2.events, summary2.accepted)
    );
}

// ---------------------------------------------------------------- tracks

/// (clause, start, status) of every verdict, in the evaluator's order.
fn starts(c: &Collect) -> Vec<(String, Instant, Status)> {
    c.verdicts
        .iter()
        .map(|v| (v.clause.to_string(), v.start, v.status))
        .collect()
}

#[test]
fn clauses_share_a_clock_only_when_they_start_and_stop_alike() {
    // The same stop, different starts: two clocks. The same start and stop: one.
    let p = policy(
        r#"
  deadline resolve_8h { until resolved within 8 hours }
  deadline resolve_4h { until resolved within 4 hours }
  deadline fix_2h { from dispatched until resolved within 2 hours }
  deadline work_1h { from accepted until resolved within 1 hour }"#,
    );
    let events = vec![
        ev("R", "03-02 09:00", "opened", &[]),
        ev("R", "03-02 10:00", "dispatched", &[]),
        ev("R", "03-02 10:45", "accepted", &[]),
        ev("R", "03-02 11:30", "resolved", &[]),
    ];
    let (_, c) = run(std::slice::from_ref(&p), events.clone(), window(1));
    let expected = vec![
        ("resolve_8h".to_string(), t("03-02 09:00"), Status::Met),
        ("resolve_4h".to_string(), t("03-02 09:00"), Status::Met),
        ("fix_2h".to_string(), t("03-02 10:00"), Status::Met),
        ("work_1h".to_string(), t("03-02 10:45"), Status::Met),
    ];
    let mut got = starts(&c);
    got.sort_by_key(|(name, ..)| expected.iter().position(|(n, ..)| n == name));
    assert_eq!(got, expected);
    assert_eq!(
        c.verdicts,
        evaluate_case_full(&[p], &events, t("03-02 11:30")).verdicts
    );
}

#[test]
fn a_pause_that_ends_at_the_instant_it_began_pauses_nothing() {
    // `awaiting_parts` sorts before `processing`: at 10:00 the case pauses, then resumes at
    // once. The clock must not stay paused.
    let p = policy(
        r#"
  deadline fix_8h {
    until resolved
    within 8 hours
    pause while status in ["awaiting_parts"]
  }"#,
    );
    let events = vec![
        ev("R", "03-02 09:00", "opened", &[]),
        ev(
            "R",
            "03-02 10:00",
            "status",
            &[("status", "awaiting_parts")],
        ),
        ev("R", "03-02 10:00", "status", &[("status", "processing")]),
        ev("R", "03-02 18:00", "resolved", &[]),
    ];
    let (_, c) = run(std::slice::from_ref(&p), events.clone(), window(1));
    assert_eq!(c.verdicts.len(), 1);
    let v = &c.verdicts[0];
    assert_eq!(
        (v.status, v.due, v.paused_time),
        (Status::Breached, t("03-02 17:00"), Duration::zero())
    );
    assert_eq!(
        c.verdicts,
        evaluate_case_full(&[p], &events, t("03-02 18:00")).verdicts
    );
}

#[test]
fn a_reopen_at_the_stop_instant_waits_for_a_start_event_of_its_own() {
    // At 10:00 the work order is dispatched, resolved and reopened at once. The reopen starts
    // cycle 2 only at the next `dispatched`: the first cycle's own start never starts it.
    let p = policy(r#"  deadline fix_2h { from dispatched until resolved within 2 hours }"#);
    let mut events = vec![
        ev("R", "03-02 09:00", "opened", &[]),
        ev("R", "03-02 10:00", "dispatched", &[]),
        ev("R", "03-02 10:00", "resolved", &[]),
        ev("R", "03-02 10:00", "reopened", &[]),
        ev("R", "03-02 20:00", "progress", &[]),
    ];
    let (_, c) = run(std::slice::from_ref(&p), events.clone(), window(1));
    let cycles: Vec<(u32, Instant, Status)> = c
        .verdicts
        .iter()
        .map(|v| (v.cycle, v.start, v.status))
        .collect();
    assert_eq!(cycles, [(1, t("03-02 10:00"), Status::Met)]);
    assert_eq!(
        c.verdicts,
        evaluate_case_full(std::slice::from_ref(&p), &events, t("03-02 20:00")).verdicts
    );
    // With a dispatch of its own, cycle 2 runs.
    events.push(ev("R", "03-02 11:00", "dispatched", &[]));
    let (_, c) = run(std::slice::from_ref(&p), events.clone(), window(1));
    let cycles: Vec<(u32, Instant, Status)> = c
        .verdicts
        .iter()
        .map(|v| (v.cycle, v.start, v.status))
        .collect();
    assert_eq!(
        cycles,
        [
            (1, t("03-02 10:00"), Status::Met),
            (2, t("03-02 11:00"), Status::Breached)
        ]
    );
}

/// Cases quiet for a day or more are put to rest as their snapshot bytes and woken by their
/// next event, by their settling or at the end. Resting changes what a case costs, never its
/// records: a case quiet for days between its events, a snapshot and a checkpoint taken while
/// it rests, and both restored, give the records of one uninterrupted run.
#[test]
fn a_case_at_rest_wakes_as_it_was_through_snapshots_and_checkpoints() {
    let p = [policy(REVISIT)];
    let mut events = vec![
        ev("A", "03-02 09:00", "opened", &[("kind", "repair")]),
        ev("A", "03-02 10:00", "resolved", &[]),
        ev("A", "03-02 12:00", "closed", &[]),
        ev("C", "03-02 09:30", "opened", &[("kind", "inquiry")]),
    ];
    // Another ticket every six hours moves stream time on for twelve days.
    for h in (0..12 * 24).step_by(6) {
        let at = t("03-03 00:00") + Duration::hours(h);
        events.push(ev_at(&format!("B{h}"), at, "opened", &[("kind", "notice")]));
    }
    events.push(ev("A", "03-06 12:00", "revisited", &[]));
    events.push(ev("A", "03-09 12:00", "reopened", &[]));
    events.push(ev("A", "03-10 12:00", "resolved", &[]));
    events.push(ev("C", "03-11 08:00", "updated", &[("kind", "repair")]));
    events.sort_by_key(|e| e.at);
    for (i, e) in events.iter_mut().enumerate() {
        e.line = i as u64 + 1;
    }
    let (summary, whole) = run(&p, events.clone(), window(2));
    assert_eq!((summary.late, summary.expired, summary.rejected), (0, 0, 0));
    let a: Vec<(&str, u32, Status)> = whole
        .verdicts
        .iter()
        .filter(|v| &*v.ticket == "A")
        .map(|v| (&*v.clause, v.cycle, v.status))
        .collect();
    assert_eq!(
        a,
        vec![
            // Revisited four days after the fix, after resting in between.
            ("revisit_24h", 1, Status::Breached),
            ("resolve_1d", 1, Status::Met),
            // Resolved exactly a day after the reopen: met at the due instant.
            ("resolve_1d", 2, Status::Met),
            // Its revisit never came; the stream ends three days after it was due.
            ("revisit_24h", 2, Status::Breached),
        ]
    );
    // Cut while A and C rest (A is quiet from 03-02 to 03-06, C until 03-11).
    for cut in [t("03-05 00:00"), t("03-08 00:00")] {
        let mut first = Evaluator::new(&p, window(2), Collect::default());
        first.track_changes();
        let mut parts: std::collections::BTreeMap<u128, Vec<u8>> = Default::default();
        let mut rest = Vec::new();
        let mut later = Vec::new();
        for e in events.iter().cloned() {
            if e.at < cut {
                first.push(e);
                // The previous rest is handed back as the room for the next.
                let checkpoint = first.checkpoint(std::mem::take(&mut rest)).unwrap();
                for (key, bytes) in checkpoint.cases {
                    match bytes {
                        Some(b) => parts.insert(key, b.into_bytes().unwrap()),
                        None => parts.remove(&key),
                    };
                }
                rest = checkpoint.rest;
            } else {
                later.push(e);
            }
        }
        assert!(
            first.keeps("A") && first.keeps("C"),
            "cases at rest are kept"
        );
        let snapshot = first.snapshot().unwrap();
        let before = std::mem::take(first.sink_mut());
        let restored = Evaluator::restore(&p, Collect::default(), &snapshot).unwrap();
        let from_parts =
            Evaluator::restore_parts(&p, Collect::default(), &rest, parts.values()).unwrap();
        for mut evaluator in [restored, from_parts] {
            for e in later.iter().cloned() {
                evaluator.push(e);
            }
            let (_, out) = evaluator.finish();
            let mut all = before.verdicts.clone();
            all.extend(out.verdicts.iter().cloned());
            let key = |v: &Verdict| (v.ticket.to_string(), v.clause.to_string(), v.cycle);
            let mut got: Vec<_> = all.iter().map(|v| (key(v), v.status)).collect();
            let mut want: Vec<_> = whole.verdicts.iter().map(|v| (key(v), v.status)).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "cut at {cut}");
        }
    }
}

/// A checkpoint hands out the cases it names as they were when it was taken, also when the
/// evaluator changes them before the host writes them: the service writes them on its commit
/// thread while its loop applies the next batch.
#[test]
fn a_checkpoints_cases_are_written_as_they_were_when_it_was_taken() {
    let p = [policy(REVISIT)];
    let mut evaluator = Evaluator::new(&p, window(0), Collect::default());
    evaluator.track_changes();
    evaluator.push(ev("A", "03-02 09:00", "opened", &[("kind", "repair")]));
    evaluator.push(ev("B", "03-02 09:10", "opened", &[("kind", "repair")]));
    evaluator.push(ev("A", "03-02 10:00", "resolved", &[]));
    let checkpoint = evaluator.checkpoint(Vec::new()).unwrap();
    let at_checkpoint = evaluator.snapshot().unwrap();
    // Both cases change (and A settles nothing yet) before the checkpoint's cases are written.
    evaluator.push(ev("A", "03-02 12:00", "closed", &[]));
    evaluator.push(ev("B", "03-02 12:30", "updated", &[("kind", "inquiry")]));
    evaluator.push(ev("C", "03-02 13:00", "opened", &[("kind", "repair")]));
    assert_ne!(
        evaluator.snapshot().unwrap(),
        at_checkpoint,
        "the evaluator went on"
    );
    let cases: Vec<Vec<u8>> = checkpoint
        .cases
        .into_iter()
        .filter_map(|(_, case)| case)
        .map(|case| case.into_bytes().unwrap())
        .collect();
    assert_eq!(cases.len(), 2);
    let from_parts =
        Evaluator::restore_parts(&p, Collect::default(), &checkpoint.rest, &cases).unwrap();
    let whole = Evaluator::restore(&p, Collect::default(), &at_checkpoint).unwrap();
    assert_eq!(from_parts.snapshot().unwrap(), whole.snapshot().unwrap());
    // The cases written later are those of the next checkpoint.
    let next = evaluator.checkpoint(checkpoint.rest).unwrap();
    let changed: Vec<u128> = next.cases.iter().map(|(key, _)| *key).collect();
    assert_eq!(changed.len(), 3, "A, B and C changed since");
}
