//! The record items `A followed by B [within D]`, `EV before ATTR` and value tests on any
//! trigger through the real binary: `pledge check` (human snapshot, JSON Lines), `pledge
//! report` (human snapshot, JSON, HTML), `pledge fmt`, `pledge lint` (the `not_a_time`
//! diagnostic, in English and Chinese) and the REPL's `:why` and `:diff`.

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::cli::{assert_contains_all, assert_fmt_keeps, pledge, repl, run};
use serde_json::Value as Json;

const POLICY: &str = "tests/fixtures/recitems/storm.pledge";
const EVENTS: &str = "tests/fixtures/recitems/storm.jsonl";
const NOW: &str = "2026-08-10T12:00:00+08:00";

/// `ticket code` of each finding of `pledge check --format jsonl`.
fn findings(now: &str) -> Vec<String> {
    let (_, jsonl) = run(&[
        "check", POLICY, "--events", EVENTS, "--now", now, "--format", "jsonl",
    ]);
    jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "finding")
        .map(|f| {
            format!(
                "{} {}",
                f["ticket"].as_str().unwrap(),
                f["code"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn check_lists_follow_ups_and_due_events_in_human_and_json() {
    let (code, text) = run(&["check", POLICY, "--events", EVENTS, "--now", NOW]);
    assert_eq!(code, Some(1), "findings fail the check\n{text}");
    insta::assert_snapshot!("recitems_check_human", text);
    assert_eq!(
        findings(NOW),
        [
            "R-2 record.value_outside",
            "R-2 record.not_followed",
            "R-2 record.not_followed",
            "W-2 record.not_before",
            "W-2 record.not_before",
            "W-3 record.time_unknown",
            "W-3 record.time_unknown",
        ]
    );
}

#[test]
fn a_window_or_a_due_instant_still_ahead_of_now_is_pending() {
    // As of 4 August 17:00 the landfall (18:00) is ahead: W-2 has nothing yet, no finding. R-2's
    // rating (4 August 09:00) has two days for its reopen.
    let early = findings("2026-08-04T17:00:00+08:00");
    assert!(!early.iter().any(|f| f.starts_with("W-2")), "{early:?}");
    assert_eq!(
        early.iter().filter(|f| f.ends_with("not_followed")).count(),
        0,
        "R-2 is open and its rating's window runs: {early:?}"
    );
    // R-3's rating (9 August 14:00) is due by 11 August 14:00: pending at NOW, missed after.
    assert!(!findings(NOW).iter().any(|f| f.starts_with("R-3")));
    let later = findings("2026-08-12T00:00:00+08:00");
    assert!(
        later.contains(&"R-3 record.not_followed".to_string()),
        "{later:?}"
    );
}

#[test]
fn report_counts_the_new_findings_in_every_format() {
    let base = [
        "report", POLICY, "--events", EVENTS, "--now", NOW, "--period", "month",
    ];
    let (_, human) = run(&base);
    insta::assert_snapshot!("recitems_report_by_month", human);
    let (_, json) = run(&[&base[..], &["--format", "json"]].concat());
    let json: Json = serde_json::from_str(&json).expect("json");
    let rows = json["rows"].as_array().expect("rows");
    let count = |clause: &str| {
        rows.iter()
            .find(|r| r["clause"] == clause)
            .unwrap_or_else(|| panic!("a row for {clause}"))["findings"]
            .clone()
    };
    assert_eq!(count("storm_prep"), 4);
    assert_eq!(count("rework"), 3);
    let (_, html) = run(&[&base[..], &["--format", "html"]].concat());
    assert!(html.contains("storm_prep") && html.contains("rework"));
    assert!(
        html.contains("3 record item(s)"),
        "the HTML page states the items"
    );
}

#[test]
fn fmt_keeps_the_new_items() {
    let source =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICY))
            .unwrap();
    for line in [
        "inspected(target == \"drainage\") before expected_at",
        "rated(satisfied == false) followed by reopened within 2 days",
        "resolved followed by signed_off",
        "updated(by == \"department_manager\") has valid in [true, false]",
    ] {
        assert!(source.contains(line), "{line}");
    }
    assert_fmt_keeps(POLICY);
}

#[test]
fn why_and_diff_in_the_repl_cover_the_new_items() {
    let script = ":why W-2\n:why R-3\n:why R-1\n\
        record rework \"x\" {\n  when kind == \"repair\"\n  rated(satisfied == false) followed by reopened within 5 days\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "`inspected(target == \"drainage\") before expected_at`: finding `record.not_before`: no `inspected(target == \"drainage\")` by `expected_at` 2026-08-04T18:00:00+08:00 (the first at 2026-08-04T20:00:00+08:00)",
            "`rated(satisfied == false) followed by reopened within 2 days`: pending (its follow-up is due by 2026-08-11T14:00:00+08:00, after now)",
            "`resolved followed by signed_off`: pending (the `resolved` at 2026-08-09T13:00:00+08:00 waits for its follow-up while the case is open)",
            "`rated(satisfied == false) followed by reopened within 2 days`: met",
            // Cases met among those judged, pending ones, and findings: before, then after.
            "record-items/rework                          50.0% (1/2) +1p 3f 100.0% (2/2) +1p 0f",
            "3 finding(s) disappeared:",
            "- R-2 record-items/rework `record.not_followed`: `rated` at 2026-08-04T09:00:00+08:00 was not followed by `reopened` within 2 days",
        ],
    );
}

/// The diagnostic of `EV before ATTR` on an attribute the schema does not declare `time`.
fn lint(lang: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prep.pledge");
    std::fs::write(
        &path,
        "policy \"p\" {\n  attributes {\n    kind: string\n    project: string\n  }\n  record prep {\n    cite s000-typhoon-prep \"seed 000\"\n    when kind == \"weather_alert\"\n    inspected before project\n  }\n}\n",
    )
    .unwrap();
    let out = pledge()
        .env("LANG", lang)
        .args(["lint", path.to_str().unwrap()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    text.replace(&path.display().to_string(), "prep.pledge")
}

#[test]
fn before_an_attribute_that_is_not_a_time_is_an_error() {
    let en = lint("C");
    assert!(en.contains("pledge::record::not_a_time"), "{en}");
    insta::assert_snapshot!("recitems_not_a_time", en);
    let zh = lint("zh_CN.UTF-8");
    assert!(zh.contains("不是时间戳"), "{zh}");
    insta::assert_snapshot!("recitems_not_a_time_zh", zh);
}
