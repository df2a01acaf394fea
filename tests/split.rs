//! A check split by tickets (`pledge check --evaluators N`): N evaluators side by side, each
//! judging the tickets of one partition while every event moves its time, give the records of
//! one evaluator, in its order, and its summary, for every shipped policy, sorted or shuffled
//! streams, duplicates, rejected lines, with and without `now`, for any number of evaluators
//! and parser threads.

mod common;

use chrono::{DateTime, Utc};
use common::cli::pledge;
use common::{shipped_policies, STORM};
use pledge::check::{check_parallel_with, check_split};
use pledge::engine::{Collect, EvalOptions};
use pledge::input::ReadOptions;
use pledge::period::{PeriodTally, ReportSpec};
use pledge::policy::{PeriodUnit, Policy};
use proptest::prelude::*;

/// Every shipped policy: their alerts too are followed by every partition.
fn split_policies() -> Vec<Policy> {
    let policies = shipped_policies();
    assert!(policies.iter().any(|p| !p.alerts.is_empty()));
    assert!(!pledge::check::judged_whole(&policies));
    policies
}

/// How many findings and met checks the clauses that hold during an alert gave.
fn during_alerts(out: &Collect) -> usize {
    let during = [
        "elder_storm_check",
        "typhoon_duty_24h",
        "typhoon_patrol_hourly",
    ];
    out.findings
        .iter()
        .filter(|f| during.contains(&&*f.clause))
        .count()
}

/// A generated stream (dense or a year's), shuffled within the window or not, with a broken
/// line and some lines sent twice: once at once, once much later.
fn stream(seed: u64, cases: u64, dense: bool, shuffle: bool) -> Vec<u8> {
    let opts = pledge::gen::GenOptions {
        cases,
        seed,
        // Summer: weather warnings are raised (see `gen::cover`).
        start: (2026, 7, 1),
        days: 60,
        assets: Some(6),
        shuffle: if shuffle { 0.3 } else { 0.0 },
        max_displacement: if shuffle { 40 } else { 0 },
        ..pledge::gen::GenOptions::default()
    };
    let opts = if dense { opts.dense() } else { opts };
    let mut text = Vec::new();
    pledge::gen::generate(&opts, &mut text).expect("generates");
    // Every line with an id, so that lines sent twice are duplicates.
    let lines: Vec<Vec<u8>> = text
        .split(|&b| b == b'\n')
        .filter(|l| l.len() > 1)
        .enumerate()
        .map(|(i, l)| [format!("{{\"id\":\"L{i}\",").as_bytes(), &l[1..]].concat())
        .collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        out.extend_from_slice(line);
        out.push(b'\n');
        if i % 97 == 13 {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        if i == lines.len() / 2 {
            out.extend_from_slice(b"{broken\n");
            out.extend_from_slice(&lines[lines.len() / 3]);
            out.push(b'\n');
        }
        if i > 0 && i % 211 == 0 {
            out.extend_from_slice(&lines[i / 2]);
            out.push(b'\n');
        }
    }
    out
}

fn options(now: Option<&str>) -> EvalOptions {
    EvalOptions {
        resting_in_memory: None,
        now: now.map(|n| n.parse::<DateTime<Utc>>().expect("instant")),
        reorder_window: chrono::Duration::hours(2),
        retain: chrono::Duration::days(3),
    }
}

fn by_week(tally: &mut PeriodTally<'_>) {
    tally.report_by(ReportSpec {
        unit: PeriodUnit::Week,
        group_by: vec!["project".into()],
    });
}

fn one(policies: &[Policy], text: &[u8], opts: EvalOptions) -> (String, Collect) {
    let checked = check_parallel_with(
        policies,
        text,
        &ReadOptions::default(),
        opts,
        Collect::default(),
        0,
        |_| {},
        |e| by_week(e.periods_mut()),
    )
    .expect("reads");
    (format!("{:?}", checked.summary), checked.sink)
}

fn split(
    policies: &[Policy],
    text: &[u8],
    opts: EvalOptions,
    evaluators: usize,
    threads: usize,
) -> (String, Collect) {
    let checked = check_split(
        policies,
        text,
        &ReadOptions::default(),
        opts,
        Collect::default(),
        threads,
        evaluators,
        None,
        |_| {},
        by_week,
    )
    .expect("reads");
    (format!("{:?}", checked.summary), checked.sink)
}

fn assert_same(a: &(String, Collect), b: &(String, Collect), what: &str) {
    assert_eq!(a.0, b.0, "summary, {what}");
    let (x, y) = (&a.1, &b.1);
    assert_eq!(x.rejected, y.rejected, "rejected lines, {what}");
    assert_eq!(x.unopened, y.unopened, "unopened, {what}");
    assert_eq!(x.verdicts.len(), y.verdicts.len(), "verdicts, {what}");
    for (i, (v, w)) in x.verdicts.iter().zip(&y.verdicts).enumerate() {
        assert_eq!(v, w, "verdict {i}, {what}");
    }
    assert_eq!(x.actions, y.actions, "actions, {what}");
    assert_eq!(x.findings, y.findings, "findings, {what}");
    assert_eq!(x.periods, y.periods, "period records, {what}");
    assert!(x == y, "records, {what}");
}

#[test]
fn a_split_check_gives_the_records_of_one_evaluator_in_its_order() {
    let policies = split_policies();
    for (dense, shuffle) in [(true, false), (true, true), (false, true)] {
        let text = stream(7, 400, dense, shuffle);
        for now in [None, Some("2026-08-10T00:00:00Z")] {
            let whole = one(&policies, &text, options(now));
            assert!(!whole.1.verdicts.is_empty() && !whole.1.rejected.is_empty());
            let repeats = whole
                .1
                .periods
                .iter()
                .filter(|r| matches!(r, pledge::period::PeriodRecord::Repeat(_)))
                .count();
            assert!(repeats > 0, "the stream makes repeat rules fire");
            if now.is_none() {
                assert!(during_alerts(&whole.1) > 0, "the stream raises alerts");
            }
            assert!(whole.0.contains("duplicates: ") && !whole.0.contains("duplicates: 0,"));
            for (evaluators, threads) in [(2, 0), (3, 1), (5, 2)] {
                let what = format!(
                    "dense {dense}, shuffled {shuffle}, now {now:?}, {evaluators} evaluators, \
                     {threads} parser threads"
                );
                assert_same(
                    &whole,
                    &split(&policies, &text, options(now), evaluators, threads),
                    &what,
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn any_stream_any_split(seed in 0u64..1000, evaluators in 2usize..5, dense: bool, shuffle: bool) {
        let policies = split_policies();
        let text = stream(seed, 120, dense, shuffle);
        let whole = one(&policies, &text, options(None));
        let parts = split(&policies, &text, options(None), evaluators, 0);
        prop_assert_eq!(&whole.0, &parts.0);
        prop_assert!(whole.1 == parts.1, "records differ");
    }
}

/// A duplicate, rejected, carries the latest instant of the stream: it still moves stream
/// time, so `now` at the end is its instant, with one evaluator or several.
#[test]
fn a_rejected_event_moves_stream_time_too() {
    let dir = tempfile::tempdir().expect("dir");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"ticket":"A","at":"2026-03-02T08:00:00+08:00","type":"opened","id":"e1","attrs":{"category":"complaint"}}"#,
            "\n",
            r#"{"ticket":"B","at":"2026-03-02T08:30:00+08:00","type":"opened","id":"e2","attrs":{"category":"complaint"}}"#,
            "\n",
            r#"{"ticket":"A","at":"2026-03-02T12:00:00+08:00","type":"opened","id":"e1","attrs":{"category":"complaint"}}"#,
            "\n",
        ),
    )
    .expect("writes");
    let mut outputs = Vec::new();
    for evaluators in ["1", "2", "3"] {
        let out = pledge()
            .args(["check", "policies/customer-requests.pledge", "--events"])
            .arg(&events)
            .args([
                "--format",
                "json",
                "--records",
                "all",
                "--evaluators",
                evaluators,
            ])
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            doc["summary"]["now"], "2026-03-02T12:00:00+08:00",
            "{evaluators}: {doc}"
        );
        assert_eq!(doc["summary"]["duplicates"], 1, "{evaluators}");
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}

/// An alert case's periods hold for subjects in every partition: each evaluator follows the
/// alert cases the others own. W raises and lifts a warning; the residents R0..R7, spread over
/// the partitions, are asked or not during it, and are closed (so they settle during the
/// stream) or not (judged at the end). A warning raised by the event that also names its
/// ticket an alert case, a duplicate of its raise and a late lift are followed as its owner
/// takes them, as is a warning whose raise comes before its opening.
#[test]
fn every_partition_follows_the_alerts_of_the_others() {
    let policy = pledge::syntax::parse_policy(STORM, "storm.pledge", None).expect("parses");
    let policies = vec![policy];
    assert!(!pledge::check::judged_whole(&policies));
    let line = |ticket: &str, at: &str, kind: &str, extra: &str| {
        format!(r#"{{"ticket":"{ticket}","at":"2026-07-{at}:00+08:00","type":"{kind}"{extra}}}"#)
    };
    let mut lines = vec![
        line(
            "W",
            "01T08:00",
            "opened",
            r#","attrs":{"kind":"weather_warning"}"#,
        ),
        line("W", "01T09:00", "raised", r#","id":"w1""#),
    ];
    for i in 0..8 {
        let r = format!("R{i}");
        lines.push(line(
            &r,
            "01T07:00",
            "opened",
            r#","attrs":{"kind":"resident"}"#,
        ));
        if i % 2 == 0 {
            lines.push(line(&r, "01T12:00", "contacted", ""));
        }
    }
    lines.push(line("W", "01T09:00", "raised", r#","id":"w1""#));
    lines.push(line("W", "02T09:00", "lifted", ""));
    // A second warning, its ticket named by its raise, which comes before its opening.
    lines.push(line("V", "03T09:00", "raised", ""));
    lines.push(line(
        "V",
        "03T08:00",
        "opened",
        r#","attrs":{"kind":"weather_warning"}"#,
    ));
    lines.push(line("V", "03T18:00", "lifted", ""));
    for i in 0..8 {
        let r = format!("R{i}");
        if i % 3 == 0 {
            lines.push(line(&r, "03T10:00", "contacted", ""));
        }
        if i % 4 < 2 {
            lines.push(line(&r, "05T10:00", "closed", ""));
        }
    }
    // Stream time goes on past the retention, so the closed residents settle in the stream.
    lines.push(
        r#"{"ticket":"Z","at":"2026-09-01T00:00:00+08:00","type":"opened","attrs":{"kind":"other"}}"#
            .to_string(),
    );
    let text = (lines.join("\n") + "\n").into_bytes();
    let whole = one(&policies, &text, options(None));
    assert_eq!(whole.1.rejected.len(), 1, "the duplicate raise");
    let short = during_alerts(&whole.1);
    // Per warning, the residents not asked during it: 4 for W, 5 for V.
    assert_eq!(short, 9, "{:#?}", whole.1.findings);
    let owners: std::collections::BTreeSet<u32> = ["W", "V", "R0", "R1", "R2", "R3"]
        .iter()
        .map(|t| pledge::engine::Partition::of(t, 3))
        .collect();
    assert!(owners.len() > 1, "the cases fall in several partitions");
    for evaluators in [2, 3, 5] {
        assert_same(
            &whole,
            &split(&policies, &text, options(None), evaluators, 0),
            &format!("{evaluators} evaluators"),
        );
    }
}

/// An alert whose `when` reads two attributes, or none, cannot be followed from the event
/// that names its case: such policies are judged by one evaluator.
#[test]
fn alerts_that_cannot_be_followed_are_judged_whole() {
    for when in [
        r#"when kind == "weather_warning" and level == "red""#,
        "",
        r#"when not (kind == "resident")"#,
    ] {
        let text = STORM.replace(r#"when kind == "weather_warning""#, when);
        let policy = pledge::syntax::parse_policy(&text, "storm.pledge", None).expect("parses");
        assert!(pledge::check::judged_whole(&[policy]), "{when}");
    }
}

const DESK: &str = r#"policy "desk" {
  repeat again "重复投诉" {
    when kind == "complaint"
    same unit 2 times within 1 day
    then escalate project_manager "专项整改"
  }
}
"#;

/// One evaluator forgets the cases of a key opened more than two windows before its latest
/// opening, so a case that settles much later (X, never closed, settled at the end) is not
/// compared with them (Z, opened 12 hours after X). The split reproduces exactly that, with X
/// and Z judged by different evaluators: the same firings, none naming X.
#[test]
fn a_split_forgets_repeat_candidates_as_one_evaluator_does() {
    let policy = pledge::syntax::parse_policy(DESK, "desk.pledge", None).expect("parses");
    let policies = vec![policy];
    assert!(!pledge::check::judged_whole(&policies));
    let in_part = |part: u32, prefix: &str| {
        (0..)
            .map(|i| format!("{prefix}{i}"))
            .find(|t| pledge::engine::Partition::of(t, 2) == part)
            .expect("a ticket")
    };
    let (x, z) = (in_part(0, "X-"), in_part(1, "Z-"));
    let opened = |t: &str, at: &str| {
        format!(
            r#"{{"ticket":"{t}","at":"{at}","type":"opened","attrs":{{"kind":"complaint","unit":"1-101"}}}}"#
        )
    };
    let closed = |t: &str, at: &str| format!(r#"{{"ticket":"{t}","at":"{at}","type":"closed"}}"#);
    let mut lines = vec![
        opened(&x, "2026-03-01T00:00:00Z"),
        opened(&z, "2026-03-01T12:00:00Z"),
        closed(&z, "2026-03-01T13:00:00Z"),
    ];
    for day in 3..12 {
        let y = format!("Y-{day}");
        lines.push(opened(&y, &format!("2026-03-{day:02}T08:00:00Z")));
        lines.push(opened(
            &format!("{y}b"),
            &format!("2026-03-{day:02}T09:00:00Z"),
        ));
        lines.push(closed(&y, &format!("2026-03-{day:02}T10:00:00Z")));
        lines.push(closed(
            &format!("{y}b"),
            &format!("2026-03-{day:02}T10:00:00Z"),
        ));
    }
    let text = lines.join("\n") + "\n";
    let opts = || EvalOptions {
        resting_in_memory: None,
        now: None,
        reorder_window: chrono::Duration::hours(1),
        retain: chrono::Duration::days(1),
    };
    let whole = one(&policies, text.as_bytes(), opts());
    let repeats: Vec<_> = whole
        .1
        .periods
        .iter()
        .filter_map(|r| match r {
            pledge::period::PeriodRecord::Repeat(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(repeats.len() >= 9, "{repeats:?}");
    assert!(
        repeats
            .iter()
            .all(|r| r.cases.iter().all(|(t, _)| **t != *x)),
        "one evaluator has forgotten Z when X settles: {repeats:?}"
    );
    for evaluators in [2, 3] {
        assert_same(
            &whole,
            &split(&policies, text.as_bytes(), opts(), evaluators, 0),
            &format!("{evaluators} evaluators"),
        );
    }
}

/// `--evaluators` takes 1 to 64, and not with `--partition` (one partition of a split is one
/// evaluator's work).
#[test]
fn the_evaluators_option_is_checked() {
    let run = |extra: &[&str]| {
        pledge()
            .args([
                "check",
                "policies/customer-requests.pledge",
                "--events",
                "examples/service-desk.jsonl",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .expect("runs")
    };
    for bad in [
        &["--evaluators", "0"][..],
        &["--evaluators", "65"],
        &["--evaluators", "two"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--evaluators"),
            "{bad:?}"
        );
    }
    let both = run(&["--evaluators", "2", "--partition", "0/2"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
    let one = run(&["--evaluators", "1"]);
    let four = run(&["--evaluators", "4"]);
    assert!(one.status.code().is_some_and(|c| c <= 1));
    assert_eq!(one.stdout, four.stdout);
}
