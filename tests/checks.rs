//! Duties and time windows count what was met, not only what was found: `pledge check`'s
//! summary and `pledge report` say how many gaps, quota periods or events were checked and how
//! many were met, so that "every check met" is told apart from "nothing to check". And
//! `--group-by` breaks `check`'s summary down per group. Through the real binary.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const POLICY: &str = r#"policy "estate" {
  every patrol "住宅区每2小时巡逻一次" {
    when kind == "area" and zone == "residential"
    patrolled every 2 hours
  }
  every garage_patrol "车库每小时巡逻" {
    when kind == "area" and zone == "garage"
    patrolled every 1 hour
  }
  window lift_maintenance "电梯维保时间设在0:00-5:00" {
    when kind == "asset"
    maintained only 00:00-05:00
  }
  deadline contact "投诉1小时内联系" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
  every bins_daily "垃圾桶每日清空" {
    when kind == "bin"
    cleaned at least 1 per day
  }
}
"#;

/// A residential area patrolled with one gap too long (A-1, closed), a second one still
/// patrolled at `now` (A-2), a lift maintained twice inside its window and once outside (L-1),
/// no garage at all, and four complaints: one per project, one given its project by a later
/// `updated`, and one without a project; a bin (B-1, no project) emptied on 1 and 3 March but
/// not on 2 March.
const EVENTS: &str = r#"{"ticket":"A-1","at":"2026-03-02T08:00:00+08:00","type":"opened","attrs":{"kind":"area","zone":"residential","project":"jindi"}}
{"ticket":"A-1","at":"2026-03-02T09:30:00+08:00","type":"patrolled"}
{"ticket":"A-1","at":"2026-03-02T11:30:00+08:00","type":"patrolled"}
{"ticket":"A-1","at":"2026-03-02T14:00:00+08:00","type":"patrolled"}
{"ticket":"A-1","at":"2026-03-02T15:00:00+08:00","type":"patrolled"}
{"ticket":"A-1","at":"2026-03-02T16:00:00+08:00","type":"closed"}
{"ticket":"L-1","at":"2026-03-01T00:00:00+08:00","type":"opened","attrs":{"kind":"asset","project":"jindi"}}
{"ticket":"L-1","at":"2026-03-02T01:00:00+08:00","type":"maintained"}
{"ticket":"L-1","at":"2026-03-03T04:59:00+08:00","type":"maintained"}
{"ticket":"L-1","at":"2026-03-04T05:00:00+08:00","type":"maintained"}
{"ticket":"A-2","at":"2026-03-04T10:00:00+08:00","type":"opened","attrs":{"kind":"area","zone":"residential","project":"wanke"}}
{"ticket":"A-2","at":"2026-03-04T11:00:00+08:00","type":"patrolled"}
{"ticket":"C-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"jindi"}}
{"ticket":"C-1","at":"2026-03-02T09:30:00+08:00","type":"contacted"}
{"ticket":"C-2","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint","project":"wanke"}}
{"ticket":"C-2","at":"2026-03-02T11:00:00+08:00","type":"contacted"}
{"ticket":"C-3","at":"2026-03-03T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
{"ticket":"C-3","at":"2026-03-03T09:10:00+08:00","type":"contacted"}
{"ticket":"C-3","at":"2026-03-03T09:20:00+08:00","type":"updated","attrs":{"project":"wanke"}}
{"ticket":"C-4","at":"2026-03-03T10:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
{"ticket":"C-4","at":"2026-03-03T10:20:00+08:00","type":"contacted"}
{"ticket":"B-1","at":"2026-03-01T00:00:00+08:00","type":"opened","attrs":{"kind":"bin"}}
{"ticket":"B-1","at":"2026-03-01T10:00:00+08:00","type":"cleaned"}
{"ticket":"B-1","at":"2026-03-03T10:00:00+08:00","type":"cleaned"}
"#;

fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let policy = dir.join("estate.pledge");
    std::fs::write(&policy, POLICY).unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(&events, EVENTS).unwrap();
    (policy, events)
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("pledge")
        .expect("the pledge binary is built")
        .args(args)
        .output()
        .expect("runs");
    // Standard output only: standard error may carry warnings (lints of these small policies).
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn check_json(policy: &Path, events: &Path, now: &str, extra: &[&str]) -> Json {
    let mut args = vec![
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        now,
        "--format",
        "json",
        "--records",
        "none",
    ];
    args.extend(extra);
    let (code, text) = run(&args);
    assert_eq!(code, Some(1), "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn clause<'a>(summary: &'a Json, name: &str) -> &'a Json {
    summary["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clause"] == name)
        .unwrap_or_else(|| panic!("no clause {name}: {summary}"))
}

#[test]
fn the_summary_counts_checked_and_met_gaps_windows_and_says_when_nothing_was_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let doc = check_json(&policy, &events, "2026-03-04T12:00", &[]);
    let summary = &doc["summary"];
    // A-1: 08:00→09:30, 09:30→11:30 (exactly 2 h), 14:00→15:00, 15:00→closed 16:00 are met,
    // 11:30→14:00 is not; A-2: 10:00→11:00 is met, and 11:00→now (1 h) is not decided yet.
    let patrol = clause(summary, "patrol");
    assert_eq!(patrol["verdicts"], 6, "{patrol}");
    assert_eq!(patrol["met"], 5, "{patrol}");
    assert_eq!(patrol["findings"], 1, "{patrol}");
    assert_eq!(patrol["compliance_percent"], 83.3, "{patrol}");
    // 01:00 and 04:59 are inside 00:00-05:00, 05:00 is not.
    let lift = clause(summary, "lift_maintenance");
    assert_eq!(lift["verdicts"], 3, "{lift}");
    assert_eq!(lift["met"], 2, "{lift}");
    assert_eq!(lift["findings"], 1, "{lift}");
    assert_eq!(lift["compliance_percent"], 66.6, "{lift}");
    // The bin's quota: 1, 2 and 3 March are judged (4 March is still running at `now`).
    let bins = clause(summary, "bins_daily");
    assert_eq!(
        (&bins["verdicts"], &bins["met"], &bins["findings"]),
        (&Json::from(3), &Json::from(2), &Json::from(1)),
        "{bins}"
    );
    assert_eq!(bins["compliance_percent"], 66.6, "{bins}");
    // No garage: nothing was checked, which is not "all met".
    let garage = clause(summary, "garage_patrol");
    assert_eq!(garage["verdicts"], 0, "{garage}");
    assert_eq!(garage["met"], 0, "{garage}");
    assert_eq!(garage["compliance_percent"], Json::Null, "{garage}");

    // Two hours later, A-2's last gap (11:00 → 14:00) is overdue: a seventh check, not met.
    let later = check_json(&policy, &events, "2026-03-04T14:00", &[]);
    let patrol = clause(&later["summary"], "patrol");
    assert_eq!(patrol["verdicts"], 7, "{patrol}");
    assert_eq!(patrol["met"], 5, "{patrol}");
    assert_eq!(patrol["findings"], 2, "{patrol}");
    assert_eq!(patrol["compliance_percent"], 71.4, "{patrol}");
}

#[test]
fn the_human_summary_shows_checks_and_nothing_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let (code, text) = run(&[
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-04T12:00",
    ]);
    assert_eq!(code, Some(1), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("patrol"),
        "5 83.3 % 1 patrol (every, 6 checked) 住宅区每2小时巡逻一次"
    );
    assert_eq!(
        line("garage_patrol"),
        "0 - 0 garage_patrol (every, nothing checked) 车库每小时巡逻"
    );
    assert_eq!(
        line("lift_maintenance"),
        "2 66.6 % 1 lift_maintenance (window, 3 checked) 电梯维保时间设在0:00-5:00"
    );
}

#[test]
fn the_period_report_counts_checks_per_day_and_tells_nothing_checked_from_all_met() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let base = [
        "report",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-04T12:00",
        "--period",
        "day",
    ];
    let mut json_args = base.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, text) = run(&json_args);
    assert_eq!(code, Some(1), "{text}");
    let doc: Json = serde_json::from_str(&text).unwrap();
    let row = |period: &str, clause: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["period"] == period && r["clause"] == clause)
            .unwrap_or_else(|| panic!("no row {period} {clause}: {text}"))
            .clone()
    };
    // 2 March: four patrol gaps met, one not (its finding is at its due time, 13:30).
    let patrol = row("2026-03-02", "patrol");
    assert_eq!(
        (
            &patrol["checked"],
            &patrol["met"],
            &patrol["findings"],
            &patrol["ratio_permille"]
        ),
        (
            &Json::from(5),
            &Json::from(4),
            &Json::from(1),
            &Json::from(800)
        ),
        "{patrol}"
    );
    assert_eq!(patrol["status"], "findings");
    assert_eq!(patrol["detail"], "5 checked, 4 met (80.0%), 1 finding");
    // 4 March: A-2's first gap met; the garage had nothing to check.
    let patrol = row("2026-03-04", "patrol");
    assert_eq!(patrol["status"], "ok", "{patrol}");
    assert_eq!(patrol["detail"], "1 checked, 1 met (100.0%), no findings");
    let garage = row("2026-03-04", "garage_patrol");
    assert_eq!(garage["status"], "none", "{garage}");
    assert_eq!(garage["detail"], "nothing checked");
    assert_eq!(garage["checked"], 0);
    assert_eq!(garage["ratio_permille"], Json::Null);
    // The lift: inside on 2 and 3 March, outside on 4 March.
    assert_eq!(row("2026-03-03", "lift_maintenance")["status"], "ok");
    let lift = row("2026-03-04", "lift_maintenance");
    assert_eq!(lift["detail"], "1 checked, 0 met (0.0%), 1 finding");
    // A quota period counts at its end: 1 March (met) on 2 March, 2 March (short) on 3 March,
    // 3 March (met) on 4 March.
    assert_eq!(
        row("2026-03-02", "bins_daily")["detail"],
        "1 checked, 1 met (100.0%), no findings"
    );
    assert_eq!(
        row("2026-03-03", "bins_daily")["detail"],
        "1 checked, 0 met (0.0%), 1 finding"
    );
    assert_eq!(row("2026-03-04", "bins_daily")["status"], "ok");

    let (_, human) = run(&base);
    assert!(
        human.contains("garage_patrol     every     none        nothing checked"),
        "{human}"
    );
    let mut csv_args = base.to_vec();
    csv_args.extend(["--format", "csv"]);
    let (_, csv) = run(&csv_args);
    assert!(
        csv.contains("2026-03-02,all,estate,patrol,every,findings,4,,,,,,,,,80.0%,,1,"),
        "{csv}"
    );
}

#[test]
fn check_breaks_the_summary_down_by_project_as_of_the_end_of_each_case() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let doc = check_json(
        &policy,
        &events,
        "2026-03-04T12:00",
        &["--group-by", "project"],
    );
    let groups = &doc["summary"]["groups"];
    assert_eq!(groups["by"], serde_json::json!(["project"]));
    let list = groups["groups"].as_array().unwrap();
    let labels: Vec<&str> = list.iter().map(|g| g["label"].as_str().unwrap()).collect();
    // Cases without a project first (`-`), then by value.
    assert_eq!(labels, ["-", "jindi", "wanke"], "{groups}");
    let counts = |g: &Json| {
        (
            g["met"].as_u64().unwrap(),
            g["breached"].as_u64().unwrap(),
            g["findings"].as_u64().unwrap(),
            g["compliance_percent"].clone(),
        )
    };
    // C-4 and B-1 have no project: C-4's contact (met) and the bin's 2 of 3 days: 3 of 4.
    assert_eq!(list[0]["group"], serde_json::json!({"project": null}));
    assert_eq!(counts(&list[0]), (3, 0, 1, Json::from(75.0)));
    // jindi: C-1's contact, A-1's 4 of 5 gaps, L-1's 2 of 3 maintenances: 7 of 9.
    assert_eq!(counts(&list[1]), (7, 0, 2, Json::from(77.7)), "{}", list[1]);
    // wanke: C-2 breached, C-3 met (its project came with a later `updated`), A-2's gap met.
    assert_eq!(counts(&list[2]), (2, 1, 0, Json::from(66.6)), "{}", list[2]);
    let clauses: Vec<(&str, u64)> = list[2]["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["clause"].as_str().unwrap(),
                c["verdicts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(clauses, [("patrol", 1), ("contact", 2)]);

    // Without --group-by the summary has no `groups`.
    let plain = check_json(&policy, &events, "2026-03-04T12:00", &[]);
    assert!(plain["summary"].get("groups").is_none());

    // The human report ends with the same breakdown.
    let (code, text) = run(&[
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-04T12:00",
        "--group-by",
        "project",
    ]);
    assert_eq!(code, Some(1), "{text}");
    let section = text
        .split("\nBy project")
        .nth(1)
        .unwrap_or_else(|| panic!("no breakdown: {text}"));
    let lines: Vec<String> = section
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "3 0 0 75.0 % 1 -",
            "1 0 0 100.0 % 0 estate/contact",
            "2 66.6 % 1 estate/bins_daily",
            "7 0 0 77.7 % 2 jindi",
            "4 80.0 % 1 estate/patrol",
            "2 66.6 % 1 estate/lift_maintenance",
            "1 0 0 100.0 % 0 estate/contact",
            "2 1 0 66.6 % 0 wanke",
            "1 100.0 % 0 estate/patrol",
            "1 1 0 50.0 % 0 estate/contact",
        ],
        "{text}"
    );
}

#[test]
fn report_and_check_html_show_the_counts_of_each_clause_and_what_judged_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let base = [
        "report",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-04T12:00",
        "--group-by",
        "project",
    ];
    let mut html_args = base.to_vec();
    html_args.extend(["--format", "html"]);
    let (code, html) = run(&html_args);
    assert_eq!(code, Some(1), "{html}");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(
        "data-clause=\"estate/patrol\" data-met=\"5\" data-decided=\"6\" data-breached=\"0\" data-findings=\"1\""
    ), "{html}");
    assert!(
        html.contains(
            "data-clause=\"estate/contact\" data-met=\"3\" data-decided=\"4\" data-breached=\"1\""
        ),
        "{html}"
    );
    // The garage judged nothing, and says so.
    assert!(html.contains("<b>Judged nothing</b>"), "{html}");
    assert!(html.contains("estate/garage_patrol"), "{html}");
    // `check --format html` gives the same page for the whole stream by month.
    let (code, page) = run(&[
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-04T12:00",
        "--group-by",
        "project",
        "--format",
        "html",
    ]);
    assert_eq!(code, Some(1), "{page}");
    assert_eq!(page, html);
}

/// A sample or a target counts its periods as checks: a short sample or a missed target is a
/// check not kept (and a finding), so the clause's compliance is not 100 % when one failed.
#[test]
fn samples_and_targets_count_their_periods_met_and_not() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("periods.pledge");
    std::fs::write(
        &policy,
        r#"policy "t" {
  zone "Asia/Shanghai"
  allow missing_cite

  target satisfaction "月度满意度≥90%" {
    ratio rated(satisfied == true) among rated per month
    at least 90%
  }

  sample check_all "100% checked" {
    when kind == "complaint"
    having resolved
    ratio 100% by supervisor per month
    evidence spot_checked
  }
}
"#,
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        r#"{"ticket":"A","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
{"ticket":"A","at":"2026-03-03T09:00:00+08:00","type":"resolved"}
{"ticket":"A","at":"2026-03-03T10:00:00+08:00","type":"rated","attrs":{"satisfied":true}}
{"ticket":"A","at":"2026-03-04T09:00:00+08:00","type":"spot_checked","attrs":{"by":"supervisor"}}
{"ticket":"B","at":"2026-04-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
{"ticket":"B","at":"2026-04-03T09:00:00+08:00","type":"resolved"}
{"ticket":"B","at":"2026-04-03T10:00:00+08:00","type":"rated","attrs":{"satisfied":false}}
{"ticket":"C","at":"2026-05-02T09:00:00+08:00","type":"opened","attrs":{"kind":"repair"}}
"#,
    )
    .unwrap();
    let json = check_json(&policy, &events, "2026-05-03T00:00:00+08:00", &[]);
    let summary = &json["summary"];
    for name in ["satisfaction", "check_all"] {
        let c = clause(summary, name);
        // March met, April missed (or short); May has no verdict (or no population) yet.
        assert_eq!(
            (&c["verdicts"], &c["met"], &c["findings"], &c["pending"]),
            (
                &Json::from(2),
                &Json::from(1),
                &Json::from(1),
                &Json::from(0)
            ),
            "{c}"
        );
        assert_eq!(c["compliance_percent"], 50.0, "{c}");
    }
    let (_, text) = run(&[
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-05-03T00:00:00+08:00",
    ]);
    assert!(text.contains("satisfaction (target, 2 checked)"), "{text}");
    assert!(text.contains("check_all (sample, 2 checked)"), "{text}");
}

/// A duty of several event types names them all in its findings: a gap between two
/// `progress` events is not "no `status`".
#[test]
fn a_duty_of_two_event_types_names_both_in_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("duty.pledge");
    std::fs::write(
        &policy,
        r#"policy "d" {
  zone "Asia/Shanghai"
  allow missing_cite

  every daily_update "每日更新维修状态" {
    when kind == "repair"
    from opened until closed
    status or progress every 1 day
  }
}
"#,
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        r#"{"ticket":"R","at":"2026-03-02T08:00:00+08:00","type":"opened","attrs":{"kind":"repair"}}
{"ticket":"R","at":"2026-03-02T20:00:00+08:00","type":"progress"}
{"ticket":"R","at":"2026-03-05T08:00:00+08:00","type":"progress"}
"#,
    )
    .unwrap();
    let (code, text) = run(&[
        "check",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--now",
        "2026-03-05T12:00:00+08:00",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "duty.gap: no `status or progress` from 2026-03-02T20:00:00+08:00 to 2026-03-05T08:00:00+08:00"
        ),
        "{text}"
    );
    assert!(!text.contains("no `status` "), "{text}");
}

/// The page counts notification and record clauses by their findings alone: their rows say
/// so rather than 0 met of 0 decided, and one without a finding is not called a notification.
#[test]
fn the_page_shows_record_clauses_as_counted_by_findings() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("rec.pledge");
    std::fs::write(
        &policy,
        r#"policy "r" {
  zone "Asia/Shanghai"
  allow missing_cite

  record revisit_methods "回访方式" {
    revisited has method in ["visit", "phone", "online"]
  }
}
"#,
    )
    .unwrap();
    let events = dir.path().join("rec.jsonl");
    std::fs::write(
        &events,
        r#"{"ticket":"A","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"repair"}}
{"ticket":"A","at":"2026-03-03T09:00:00+08:00","type":"revisited","attrs":{"method":"phone"}}
{"ticket":"A","at":"2026-03-03T10:00:00+08:00","type":"closed"}
{"ticket":"B","at":"2026-03-04T09:00:00+08:00","type":"opened","attrs":{"kind":"repair"}}
{"ticket":"B","at":"2026-03-05T09:00:00+08:00","type":"revisited"}
{"ticket":"B","at":"2026-03-05T10:00:00+08:00","type":"closed"}
"#,
    )
    .unwrap();
    let page = |events: &Path| {
        run(&[
            "check",
            policy.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--format",
            "html",
        ])
        .1
    };
    let html = page(&events);
    let row = html
        .lines()
        .find(|l| l.contains("data-clause=\"r/revisit_methods\""))
        .unwrap_or_else(|| panic!("no row of the record clause: {html}"));
    assert_eq!(row.matches("counted by findings only").count(), 3, "{row}");
    assert!(row.contains("data-findings=\"1\""), "{row}");
    // Without a finding it is listed apart, as a record clause.
    let quiet = dir.path().join("quiet.jsonl");
    std::fs::write(
        &quiet,
        std::fs::read_to_string(&events)
            .unwrap()
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let html = page(&quiet);
    assert!(
        html.contains(
            "<b>Notification and record clauses without a finding</b>: r/revisit_methods"
        ),
        "{html}"
    );
}
