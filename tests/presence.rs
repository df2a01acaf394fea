//! Presence in each window (`window ... only ... each day` / `each year`) through the real
//! binary: `pledge check` in human and JSON Lines form and `pledge report`, on the shipped
//! cleaning policy and a bin that misses one window.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;
use std::io::Write;

const EVENTS: &str = r#"{"ticket":"B-1","at":"2026-03-01T06:00:00+08:00","type":"opened","attrs":{"kind":"asset","asset_type":"bin","project":"jindi"}}
{"ticket":"B-1","at":"2026-03-01T07:30:00+08:00","type":"cleaned","attrs":{"round":true,"by":"cleaner_3"}}
{"ticket":"B-1","at":"2026-03-01T19:30:00+08:00","type":"cleaned","attrs":{"round":true,"by":"cleaner_3"}}
{"ticket":"B-1","at":"2026-03-02T07:10:00+08:00","type":"cleaned","attrs":{"round":true,"by":"cleaner_3"}}
"#;

fn events_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .expect("temp file");
    f.write_all(EVENTS.as_bytes()).expect("written");
    f
}

fn pledge(args: &[&str], events: &std::path::Path) -> std::process::Output {
    Command::cargo_bin("pledge")
        .expect("the pledge binary is built")
        .args(args)
        .arg("policies/cleaning.pledge")
        .arg("--events")
        .arg(events)
        .args(["--now", "2026-03-02T08:30:00+08:00"])
        .output()
        .expect("runs")
}

fn missed(lines: &str) -> Vec<Json> {
    lines
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .filter(|r| r["code"] == "window.missed")
        .collect()
}

#[test]
fn check_reports_the_missed_afternoon_window_and_not_the_open_morning_one() {
    let f = events_file();
    let out = pledge(&["check", "--format", "jsonl"], f.path());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let missed = missed(&text);
    assert_eq!(missed.len(), 1, "{text}");
    let m = &missed[0];
    assert_eq!(m["ticket"], "B-1");
    assert_eq!(m["clause"], "vk_rounds_windows");
    assert!(
        m["message"]
            .as_str()
            .is_some_and(|s| s.contains("13:00-14:00 on 2026-03-01")),
        "{m}"
    );

    let out = pledge(&["check"], f.path());
    let human = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = human
        .lines()
        .filter(|l| l.contains("window.missed") || l.contains("no `cleaned`"))
        .collect();
    insta::assert_snapshot!("presence_check_human", lines.join("\n"));
}

#[test]
fn the_report_counts_the_missed_window_under_its_clause() {
    let f = events_file();
    let out = pledge(&["report", "--format", "json"], f.path());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("vk_rounds_windows"), "{text}");
    assert!(
        text.contains("window.missed") || text.contains("\"findings\""),
        "{text}"
    );
}
