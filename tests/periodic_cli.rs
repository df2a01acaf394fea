//! Gaps inside a round (`EVENT at most D apart`) and a shift's required steps, through the real
//! binary: `pledge check` (human snapshot, JSON Lines), `pledge report` (human snapshot, JSON,
//! HTML), `pledge fmt`, and the REPL's `:why` and `:diff`.

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::cli::{assert_contains_all, assert_fmt_keeps, repl, run};
use serde_json::Value as Json;

const POLICY: &str = "tests/fixtures/periodic/rounds.pledge";
const EVENTS: &str = "tests/fixtures/periodic/rounds.jsonl";
const NOW: &str = "2026-03-03T06:00:00+08:00";

#[test]
fn check_names_the_two_instants_of_a_gap_and_a_shift_s_missing_step() {
    let (code, text) = run(&["check", POLICY, "--events", EVENTS, "--now", NOW]);
    assert_eq!(code, Some(1), "findings fail the check\n{text}");
    insta::assert_snapshot!("periodic_check_human", text);
    let (_, jsonl) = run(&[
        "check", POLICY, "--events", EVENTS, "--now", NOW, "--format", "jsonl",
    ]);
    let findings: Vec<(String, String, String)> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "finding")
        .map(|f| {
            (
                f["ticket"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // RD-2's third bin arrived out of order: the gap is found in time order (13:20 → 13:41),
    // not in arrival order. RD-1 has a gap of exactly 15 minutes (kept); GS-3 is still on post.
    assert_eq!(
        findings,
        [
            (
                "GS-2".to_string(),
                "record.step_missing".to_string(),
                "2026-03-03T00:10:00+08:00".to_string()
            ),
            (
                "RD-2".to_string(),
                "record.gap".to_string(),
                "2026-03-02T13:41:00+08:00".to_string()
            ),
        ]
    );
}

#[test]
fn report_counts_gap_findings_in_every_format() {
    let base = [
        "report", POLICY, "--events", EVENTS, "--now", NOW, "--period", "month",
    ];
    let (_, human) = run(&base);
    insta::assert_snapshot!("periodic_report_by_month", human);
    let (_, json) = run(&[&base[..], &["--format", "json"]].concat());
    let json: Json = serde_json::from_str(&json).expect("json");
    let row = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["clause"] == "bin_round")
        .expect("a row for the round clause")
        .clone();
    assert_eq!(row["kind"], "record");
    assert_eq!(row["findings"], 1);
    let (_, html) = run(&[&base[..], &["--format", "html"]].concat());
    assert!(html.contains("bin_round"), "the HTML page names the clause");
    assert!(
        html.contains("record.gap"),
        "the HTML page carries the finding"
    );
}

#[test]
fn fmt_keeps_the_gap_item() {
    assert_fmt_keeps(POLICY);
}

#[test]
fn why_and_diff_in_the_repl_cover_gaps() {
    let script = ":why RD-2\n:why RD-1\nrecord bin_round \"x\" {\n  when kind == \"round\"\n  cleaned at most 30 minutes apart\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "`cleaned at most 15 minutes apart`: finding `record.gap`: `cleaned` at 2026-03-02T13:41:00+08:00 came 21 min after `cleaned` at 2026-03-02T13:20:00+08:00",
            "`cleaned at most 15 minutes apart`: met",
            "1 finding(s) disappeared:",
        ],
    );
}

const CHANNELS: &str = "tests/fixtures/periodic/channels.pledge";
const CHANNEL_EVENTS: &str = "tests/fixtures/periodic/channels.jsonl";
const CHANNELS_NOW: &str = "2026-04-02T00:00:00+08:00";

#[test]
fn a_channel_without_a_rating_in_a_month_is_a_missed_verdict_naming_it() {
    let (code, text) = run(&[
        "check",
        CHANNELS,
        "--events",
        CHANNEL_EVENTS,
        "--now",
        CHANNELS_NOW,
    ]);
    assert_eq!(code, Some(1), "a missed target fails the check\n{text}");
    insta::assert_snapshot!("channels_check_human", text);
    let (_, json) = run(&[
        "report",
        CHANNELS,
        "--events",
        CHANNEL_EVENTS,
        "--now",
        CHANNELS_NOW,
        "--format",
        "json",
    ]);
    let json: Json = serde_json::from_str(&json).expect("json");
    let missed: Vec<(String, String)> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["status"] == "missed")
        .map(|r| {
            (
                r["period"].as_str().unwrap().to_string(),
                r["group"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        missed,
        [
            (
                "2026-03".to_string(),
                r#"{"channel":"suggestion_box","project":"jindi"}"#.to_string()
            ),
            (
                "2026-03".to_string(),
                r#"{"channel":"sms","project":"mall"}"#.to_string()
            ),
        ]
    );
    let (_, html) = run(&[
        "report",
        CHANNELS,
        "--events",
        CHANNEL_EVENTS,
        "--now",
        CHANNELS_NOW,
        "--format",
        "html",
    ]);
    assert!(html.contains("rating_channels") && html.contains("suggestion_box"));
}
