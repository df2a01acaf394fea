//! Record clauses through the real binary: `pledge check` (human and JSON), `pledge report`
//! (human snapshot, JSON, HTML), `pledge fmt`, and the REPL's `:why` and `:diff`.

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::cli::{assert_contains_all, assert_fmt_keeps, pledge, repl, run};
use serde_json::Value as Json;

const POLICY: &str = "tests/fixtures/record/repairs.pledge";
const EVENTS: &str = "tests/fixtures/record/repairs.jsonl";
const NOW: &str = "2026-04-01T00:00:00+08:00";

#[test]
fn check_lists_record_findings_in_human_and_json() {
    let (code, text) = run(&["check", POLICY, "--events", EVENTS, "--now", NOW]);
    assert_eq!(code, Some(1), "findings fail the check\n{text}");
    insta::assert_snapshot!("record_check_human", text);
    let (_, jsonl) = run(&[
        "check", POLICY, "--events", EVENTS, "--now", NOW, "--format", "jsonl",
    ]);
    let findings: Vec<Json> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "finding")
        .collect();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "record.field_missing",
            "record.out_of_order",
            "record.out_of_order",
            "record.value_outside",
            "record.warranty_claim"
        ]
    );
    // The complete case and the open one (R-3, steps still pending) have none.
    assert!(findings.iter().all(|f| f["ticket"] == "R-2"));
}

#[test]
fn report_counts_record_findings_in_every_format() {
    let base = [
        "report", POLICY, "--events", EVENTS, "--now", NOW, "--period", "month",
    ];
    let (_, human) = run(&base);
    insta::assert_snapshot!("record_report_by_month", human);
    let (_, json) = run(&[&base[..], &["--format", "json"]].concat());
    let json: Json = serde_json::from_str(&json).expect("json");
    let row = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["clause"] == "repair_record")
        .expect("a row for the record clause")
        .clone();
    assert_eq!(row["kind"], "record");
    assert_eq!(row["findings"], 5);
    let (_, html) = run(&[&base[..], &["--format", "html"]].concat());
    assert!(
        html.contains("repair_record"),
        "the HTML page names the clause"
    );
    assert!(
        html.contains("5 record item(s)"),
        "the HTML page states the items"
    );
}

#[test]
fn fmt_keeps_record_items() {
    assert_fmt_keeps(POLICY);
}

#[test]
fn why_and_diff_in_the_repl_cover_records() {
    let script = ":why R-2\n:why R-1\n:why R-3\nrecord repair_record \"x\" {\n  when kind == \"repair\"\n  opened has location\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "`opened has location, contact`: finding `record.field_missing`: `opened` at 2026-03-04T09:00:00+08:00 lacks `contact`",
            "`no reopened within 90 days after resolved`: finding `record.warranty_claim`",
            "`steps opened, dispatched, resolved, revisited`: met",
            "`steps opened, dispatched, resolved, revisited`: no finding so far (the case is open",
            // Cases met among those judged, pending ones, and findings: before, then after.
            "50.0% (1/2) +1p 5f 100.0% (2/2) +1p 0f",
            "5 finding(s) disappeared:",
        ],
    );
}

#[test]
fn at_least_zero_is_a_record_item_that_cannot_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lint.pledge");
    std::fs::write(
        &path,
        "policy \"p\" {\n  record r {\n    cite s003-dispute-revisit-3 \"seed 003\"\n    revisited at least 0\n  }\n}\n",
    )
    .unwrap();
    let out = pledge()
        .args(["lint", path.to_str().unwrap()])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("pledge::lint::cannot_fail"), "{text}");
    assert!(
        text.contains("at least 0 is met by a case without any such event"),
        "{text}"
    );
}
