//! Measuring targets through the real binary: `pledge check` (human and JSON), `pledge report`
//! (human, JSON, HTML) and the REPL's `:why` and `:diff`, on a small year-over-year fixture.

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::cli::{assert_contains_all, repl, run};
use serde_json::Value as Json;

const POLICY: &str = "tests/fixtures/measures/repairs.pledge";
const EVENTS: &str = "tests/fixtures/measures/repairs.jsonl";
const NOW: &str = "2027-01-02T00:00:00+08:00";

#[test]
fn check_reports_missed_measures_in_human_and_json() {
    let (code, text) = run(&["check", POLICY, "--events", EVENTS, "--now", NOW]);
    assert_eq!(code, Some(1), "a missed target fails the check\n{text}");
    assert_contains_all(
        &text,
        &[
            "2026-05 [all]: mean 25 h over 2 cases, at most 24 h",
            "2026 [lock]: count 2, change +0.0 % against 2 a year earlier, change at most -35.0 %",
        ],
    );
    let (_, text) = run(&[
        "check", POLICY, "--events", EVENTS, "--now", NOW, "--format", "jsonl",
    ]);
    let targets: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "target")
        .collect();
    let find = |clause: &str, period: &str, group: Json| {
        targets
            .iter()
            .find(|j| j["clause"] == clause && j["period"] == period && j["group"] == group)
            .unwrap_or_else(|| panic!("no {clause} {period} in {targets:#?}"))
            .clone()
    };
    let may = find("repair_cycle_24h", "2026-05", serde_json::json!({}));
    assert_eq!(may["status"], "missed");
    assert_eq!(may["measure"]["statistic"], "mean");
    assert_eq!(may["measure"]["unit"], "ms");
    assert_eq!(may["measure"]["value"], 25 * 3_600_000);
    assert_eq!(may["measure"]["bound"]["value"], 24 * 3_600_000);
    assert_eq!(may["ratio_percent"], Json::Null);
    let june = find("repair_cycle_24h", "2026-06", serde_json::json!({}));
    assert_eq!(june["status"], "met");
    assert_eq!(june["measure"]["running"], 1, "the unresolved lock repair");
    let leak = find(
        "repeat_repairs_35",
        "2026",
        serde_json::json!({"category": "leak"}),
    );
    assert_eq!(leak["status"], "met");
    assert_eq!(leak["measure"]["previous"], 4);
    assert_eq!(leak["measure"]["change_permille"], -500);
    let lock = find(
        "repeat_repairs_35",
        "2026",
        serde_json::json!({"category": "lock"}),
    );
    assert_eq!(lock["status"], "missed");
    let first = find(
        "repeat_repairs_35",
        "2025",
        serde_json::json!({"category": "leak"}),
    );
    assert_eq!(first["status"], "no_verdict", "nothing a year earlier");
}

#[test]
fn report_shows_measures_in_every_format() {
    let base = [
        "report", POLICY, "--events", EVENTS, "--now", NOW, "--period", "year",
    ];
    let (_, human) = run(&base);
    insta::assert_snapshot!("measures_report_by_year", human);
    let (_, json) = run(&[&base[..], &["--format", "json"]].concat());
    let json: Json = serde_json::from_str(&json).expect("json");
    let lock = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| {
            r["clause"] == "repeat_repairs_35"
                && r["period"] == "2026"
                && r["group"]["category"] == "lock"
        })
        .expect("the lock row")
        .clone();
    assert_eq!(lock["status"], "missed");
    assert_eq!(lock["measure"]["change_permille"], 0);
    assert_eq!(lock["ratio_permille"], Json::Null);
    // In CSV, a measure's cases are not hits among a total: the columns stay empty, and the
    // value and its bound are in `detail`.
    let (_, csv) = run(&[&base[..], &["--format", "csv"]].concat());
    let row = csv
        .lines()
        .find(|l| l.starts_with("2026,lock,") && l.contains(",repeat_repairs_35,"))
        .expect("the lock row");
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(cells[5], "missed", "{row}");
    assert_eq!(
        &cells[13..17],
        ["", "", "", ""],
        "hits, total, ratio, bound: {row}"
    );
    assert!(row.contains("count 2"), "{row}");
    let (_, html) = run(&[&base[..], &["--format", "html"]].concat());
    assert!(
        html.contains("count 2, change +0.0 % against 2 a year earlier, change at most -35.0 %"),
        "the HTML page states the measure"
    );
}

#[test]
fn why_and_diff_in_the_repl_cover_measures() {
    let script = ":why R26-L1\n:why R26-K1\ntarget repair_cycle_24h \"维修平均处理周期缩短至24小时\" {\n  when kind == \"repair\"\n  measure mean of resolved - opened per month\n  at most 26 hours\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "counts in 2026-05: a duration of 30 h",
            "the period: mean 25 h over 2 cases, at most 24 h: missed",
            "running (no `resolved` yet): not measured",
            "measures/repair_cycle_24h 2026-05: mean 25 h over 2 cases, at most 24 h: missed → mean 25 h over 2 cases, at most 26 h: met",
        ],
    );
}
