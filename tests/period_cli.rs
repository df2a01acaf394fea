//! `pledge sample` and `pledge report` end to end on the real binary.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const POLICY: &str = r#"policy "quality" {
  deadline contact "投诉1小时内联系" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
  sample management_check "公司管理部抽查10%投诉回访" {
    when kind == "complaint"
    having revisited
    ratio 10% by management_dept per month
    lag 7 days
    group by project
  }
  target satisfaction "满意度≥90%" {
    ratio rated(satisfied == true) among rated per month
    at least 90%
  }
  every patrol "每2小时巡逻" {
    when kind == "area"
    patrolled every 2 hours
  }
}
"#;

fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let policy = dir.join("quality.pledge");
    std::fs::write(&policy, POLICY).unwrap();
    let mut lines = Vec::new();
    for i in 0..11 {
        let project = if i < 6 { "jindi" } else { "wanke" };
        let ticket = format!("T-{i:02}");
        let day = i + 2;
        lines.push(format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T09:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","project":"{project}"}}}}"#
        ));
        lines.push(format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T09:30:00+08:00","type":"contacted"}}"#
        ));
        lines.push(format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T15:00:00+08:00","type":"revisited","attrs":{{"by":"building_manager"}}}}"#
        ));
        let satisfied = i != 0;
        lines.push(format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T16:00:00+08:00","type":"rated","attrs":{{"satisfied":{satisfied}}}}}"#
        ));
    }
    lines.push(
        r#"{"ticket":"Z-1","at":"2026-03-20T08:00:00+08:00","type":"opened","attrs":{"kind":"area","project":"jindi"}}"#
            .to_string(),
    );
    lines.push(
        r#"{"ticket":"Z-1","at":"2026-03-20T10:01:00+08:00","type":"patrolled"}"#.to_string(),
    );
    lines.push(r#"{"ticket":"Z-1","at":"2026-03-20T11:00:00+08:00","type":"closed"}"#.to_string());
    let events = dir.join("events.jsonl");
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    (policy, events)
}

fn pledge() -> Command {
    Command::cargo_bin("pledge").expect("the pledge binary is built")
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = pledge().args(args).output().expect("runs");
    let text = String::from_utf8(out.stdout).unwrap();
    (out.status.code(), text)
}

#[test]
fn sample_draws_the_same_cases_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let args = [
        "sample",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--period",
        "2026-03",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let (code, first) = run(&args);
    assert_eq!(code, Some(0), "{first}");
    let (_, second) = run(&args);
    assert_eq!(first, second);
    let doc: Json = serde_json::from_str(&first).unwrap();
    let draws = doc["draws"].as_array().unwrap();
    // Stratified by project: 6 jindi cases need 1, 5 wanke cases need 1.
    assert_eq!(draws.len(), 2);
    assert_eq!(draws[0]["group"]["project"], "jindi");
    assert_eq!(draws[0]["population"], 6);
    assert_eq!(draws[0]["required"], 1);
    assert_eq!(draws[1]["group"]["project"], "wanke");
    assert_eq!(draws[1]["drawn"].as_array().unwrap().len(), 1);
    let ticket = draws[0]["drawn"][0]["ticket"].as_str().unwrap();
    let key = xxhash_rust::xxh3::xxh3_64_with_seed(ticket.as_bytes(), 7);
    assert_eq!(draws[0]["drawn"][0]["rank_key"], format!("{key:016x}"));
    // The human form lists the same tickets.
    let mut human = args.to_vec();
    human.truncate(args.len() - 2);
    let (code, text) = run(&human);
    assert_eq!(code, Some(0));
    assert!(text.contains(ticket), "{text}");
}

#[test]
fn sample_rejects_a_bad_period() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let out = pledge()
        .args(["sample", policy.to_str().unwrap(), "--events"])
        .arg(&events)
        .args(["--period", "2026-13"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("`2026-13` is not a period"), "{err}");
}

/// A period after `now` (the stream ends on 20 March) has no draw yet, and a period without
/// cases has no group of a clause that groups by project: neither is listed as a draw of a
/// group `all` of no cases.
#[test]
fn sample_lists_no_draw_after_now_nor_a_group_the_clause_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    for period in ["2026-04", "2026-02"] {
        let args = [
            "sample",
            policy.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--period",
            period,
            "--format",
            "json",
        ];
        let (code, text) = run(&args);
        assert_eq!(code, Some(0), "{text}");
        let doc: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["draws"], serde_json::json!([]), "{period}: {text}");
    }
}

#[test]
fn report_in_json_csv_and_human() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, events) = fixture(dir.path());
    let base = [
        "report",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--period",
        "month",
        "--group-by",
        "project",
    ];
    let mut json_args = base.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, text) = run(&json_args);
    // The sample is short (nobody from management checked), and the patrol has a gap.
    assert_eq!(code, Some(1), "{text}");
    let doc: Json = serde_json::from_str(&text).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    let find = |clause: &str, group: &str| {
        rows.iter()
            .find(|r| {
                r["clause"] == clause
                    && (r["group"]["project"] == group
                        || r["group"].as_object().unwrap().is_empty())
            })
            .unwrap_or_else(|| panic!("no row {clause} {group}: {text}"))
    };
    let contact = find("contact", "jindi");
    assert_eq!(contact["met"], 6);
    assert_eq!(contact["status"], "met");
    let sample = find("management_check", "wanke");
    assert_eq!(sample["status"], "short");
    assert_eq!(sample["missing"], 1);
    // 10 of 11 satisfied: 90.9 %, at least 90 %.
    let target = find("satisfaction", "");
    assert_eq!(target["status"], "met");
    assert_eq!(target["ratio_permille"], 909);
    let patrol = find("patrol", "jindi");
    assert_eq!(patrol["status"], "findings");
    assert_eq!(patrol["findings"], 1);

    let mut csv_args = base.to_vec();
    csv_args.extend(["--format", "csv"]);
    let (_, csv) = run(&csv_args);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("period,group,policy,clause,kind,status"));
    assert!(
        csv.contains("2026-03,jindi,quality,contact,deadline,met,6,0,0"),
        "{csv}"
    );
    assert!(csv.contains("satisfaction,target,met"), "{csv}");

    let (_, human) = run(&base);
    assert!(human.contains("2026-03  jindi"), "{human}");
    assert!(human.contains("management_check"), "{human}");

    // A period that is not in the stream: no rows, nothing wrong.
    let mut feb = base.to_vec();
    feb[5] = "2026-02";
    let (code, human) = run(&feb);
    assert_eq!(code, Some(0), "{human}");
    assert!(human.contains("no period rows"), "{human}");
}

/// `pledge report POLICY --events EVENTS --period month --group-by project --format json`.
fn monthly_report_by_project(policy: &Path, events: &Path) -> (Option<i32>, String) {
    run(&[
        "report",
        policy.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--period",
        "month",
        "--group-by",
        "project",
        "--format",
        "json",
    ])
}

/// Grouping by an attribute that no clause names: the evaluator must keep it anyway.
#[test]
fn report_groups_by_an_attribute_no_clause_names() {
    let dir = tempfile::tempdir().unwrap();
    let (_, events) = fixture(dir.path());
    let policy = dir.path().join("contact.pledge");
    std::fs::write(
        &policy,
        "policy \"contact\" {\n  deadline contact {\n    when kind == \"complaint\"\n    until contacted\n    within 1 hour\n  }\n}\n",
    )
    .unwrap();
    let (code, text) = monthly_report_by_project(&policy, &events);
    assert_eq!(code, Some(0), "{text}");
    let doc: Json = serde_json::from_str(&text).unwrap();
    let met = |project: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["clause"] == "contact" && r["group"]["project"] == project)
            .unwrap_or_else(|| panic!("no row for {project}: {text}"))["met"]
            .clone()
    };
    assert_eq!(met("jindi"), 6);
    assert_eq!(met("wanke"), 5);
}

/// Notification findings count in the report's rows, per period and group, like duty and window
/// findings.
#[test]
fn report_counts_notification_findings_per_period_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("notices.pledge");
    std::fs::write(
        &policy,
        r#"policy "notices" {
  notify outage "停水停电通过公告、短信通知" {
    when kind == "notice"
    channels all [notice_board, sms]
    within 1 hour
  }
}
"#,
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    let lines = [
        // jindi, March: both channels on time.
        r#"{"ticket":"N-1","at":"2026-03-02T08:00:00+08:00","type":"opened","attrs":{"kind":"notice","project":"jindi"}}"#,
        r#"{"ticket":"N-1","at":"2026-03-02T08:10:00+08:00","type":"notified","attrs":{"channel":"notice_board"}}"#,
        r#"{"ticket":"N-1","at":"2026-03-02T08:20:00+08:00","type":"notified","attrs":{"channel":"sms"}}"#,
        // wanke, March: no SMS.
        r#"{"ticket":"N-2","at":"2026-03-05T08:00:00+08:00","type":"opened","attrs":{"kind":"notice","project":"wanke"}}"#,
        r#"{"ticket":"N-2","at":"2026-03-05T08:10:00+08:00","type":"notified","attrs":{"channel":"notice_board"}}"#,
        // wanke, April: the SMS is late.
        r#"{"ticket":"N-3","at":"2026-04-01T08:00:00+08:00","type":"opened","attrs":{"kind":"notice","project":"wanke"}}"#,
        r#"{"ticket":"N-3","at":"2026-04-01T08:10:00+08:00","type":"notified","attrs":{"channel":"notice_board"}}"#,
        r#"{"ticket":"N-3","at":"2026-04-01T10:00:00+08:00","type":"notified","attrs":{"channel":"sms"}}"#,
    ];
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    let (code, text) = monthly_report_by_project(&policy, &events);
    assert_eq!(code, Some(1), "{text}");
    let doc: Json = serde_json::from_str(&text).unwrap();
    let row = |period: &str, project: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["clause"] == "outage" && r["period"] == period && r["group"]["project"] == project
            })
            .unwrap_or_else(|| panic!("no row {period} {project}: {text}"))
            .clone()
    };
    assert_eq!(row("2026-03", "wanke")["findings"], 1);
    assert_eq!(row("2026-03", "wanke")["status"], "findings");
    assert_eq!(row("2026-04", "wanke")["findings"], 1);
    assert_eq!(row("2026-04", "wanke")["status"], "findings");
}

/// A clause name two policies share is written with its policy in the human period report
/// (JSON and CSV carry `policy` anyway); a name of one policy only stays short.
#[test]
fn report_names_the_policy_of_a_clause_name_two_policies_share() {
    let (code, out) = run(&[
        "report",
        "policies/customer-requests.pledge",
        "policies/repairs.pledge",
        "--events",
        "examples/service-desk.jsonl",
        "--period",
        "month",
    ]);
    assert!(code.is_some(), "{out}");
    assert!(out.contains("\n  customer-requests/hotline_24h "), "{out}");
    assert!(out.contains("\n  repairs/hotline_24h "), "{out}");
    assert!(!out.contains("\n  hotline_24h "), "{out}");
    assert!(out.contains("\n  repair_minor_8h "), "{out}");
}
