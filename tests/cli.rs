//! The `pledge` binary end to end: the README's command, every report format, exit codes,
//! bad input and bad policies.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;
use std::io::Write;

const SEED_POLICIES: [&str; 2] = [
    "policies/customer-requests.pledge",
    "policies/repairs.pledge",
];
const EXAMPLE: &str = "examples/service-desk.jsonl";

fn pledge() -> Command {
    let mut cmd = Command::cargo_bin("pledge").expect("the pledge binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn check_example(extra: &[&str]) -> std::process::Output {
    pledge()
        .arg("check")
        .args(SEED_POLICIES)
        .args(["--events", EXAMPLE])
        .args(extra)
        .output()
        .expect("runs")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 output")
}

fn jsonl(out: &std::process::Output) -> Vec<Json> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn the_readme_command_reports_the_example_and_exits_1_for_breaches() {
    let out = check_example(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    insta::assert_snapshot!("human_report_service_desk", text);
}

#[test]
fn jsonl_has_one_record_per_line_with_the_documented_fields() {
    let out = check_example(&["--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let records = jsonl(&out);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["record"].as_str().expect("record field"))
        .collect();
    assert_eq!(kinds.last(), Some(&"summary"), "the summary comes last");
    for r in &records {
        match r["record"].as_str() {
            Some("verdict") => {
                for field in [
                    "ticket", "clause", "cycle", "status", "start", "due", "stop",
                ] {
                    assert!(r.get(field).is_some(), "verdict lacks {field}: {r}");
                }
            }
            Some("rejected") => {
                assert!(r["line"].is_u64() && r["reason"].is_string(), "{r}");
            }
            _ => {}
        }
    }
    let rejected: Vec<u64> = records
        .iter()
        .filter(|r| r["record"] == "rejected")
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, vec![10, 20, 27, 30]);
    let unopened: Vec<&Json> = records
        .iter()
        .filter(|r| r["record"] == "unopened")
        .collect();
    assert_eq!(unopened.len(), 1);
    assert_eq!(unopened[0]["ticket"], "T-0399");
    // T-0309's written answer: the pause while waiting for the customer moved the due time,
    // so a reply on Friday meets the 3-workday limit.
    let t0309 = records
        .iter()
        .find(|r| r["ticket"] == "T-0309" && r["clause"] == "inquiry_written_3wd")
        .expect("verdict for T-0309");
    assert_eq!(t0309["status"], "met");
    assert_eq!(t0309["due"], "2026-03-09T11:00:00+08:00");
    assert_eq!(t0309["paused_seconds"], 11 * 3600 + 1800);
    let summary = records.last().unwrap();
    assert_eq!(summary["rejected"], 4);
    assert_eq!(summary["unopened"], 1);
    assert_eq!(summary["now"], "2026-03-06T18:00:00+08:00");
}

#[test]
fn json_is_one_document_with_the_same_records() {
    let lines = jsonl(&check_example(&["--format", "jsonl"]));
    let out = check_example(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Json = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let records = doc["records"].as_array().expect("records array");
    assert_eq!(records.len() + 1, lines.len());
    assert_eq!(&doc["summary"], lines.last().unwrap());
    assert_eq!(records.as_slice(), &lines[..lines.len() - 1]);
}

#[test]
fn records_problems_keeps_only_what_needs_attention() {
    let out = check_example(&["--format", "jsonl", "--records", "problems"]);
    let problems = jsonl(&out);
    let verdicts: Vec<&Json> = problems
        .iter()
        .filter(|r| r["record"] == "verdict")
        .collect();
    assert!(verdicts.iter().all(|r| r["status"] == "breached"));
    // Exactly the breached verdicts of the unfiltered run, and the example has some.
    let all = jsonl(&check_example(&["--format", "jsonl"]));
    let breached = all
        .iter()
        .filter(|r| r["record"] == "verdict" && r["status"] == "breached")
        .count();
    let summary = all.last().expect("a summary");
    assert_eq!(summary["breached"].as_u64(), Some(breached as u64));
    assert!(breached > 0);
    assert_eq!(verdicts.len(), breached);
    // Rejected lines and never-opened cases need attention too.
    assert_eq!(
        problems
            .iter()
            .filter(|r| r["record"] == "rejected")
            .count(),
        4
    );
    assert_eq!(
        problems
            .iter()
            .filter(|r| r["record"] == "unopened")
            .count(),
        1
    );
    let out = check_example(&["--format", "jsonl", "--records", "none"]);
    let records = jsonl(&out);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["record"], "summary");
}

#[test]
fn now_judges_as_of_an_earlier_moment() {
    let out = check_example(&["--format", "jsonl", "--now", "2026-03-06T16:30"]);
    let records = jsonl(&out);
    let t0306 = records
        .iter()
        .find(|r| r["ticket"] == "T-0306" && r["clause"] == "repair_minor_8h")
        .expect("T-0306 verdict");
    assert_eq!(t0306["status"], "pending");
    assert_eq!(t0306["left_seconds"], 7 * 3600 + 1800);
    let summary = records.last().unwrap();
    assert_eq!(summary["now"], "2026-03-06T16:30:00+08:00");
    // Lines 49 (T-0302 revisited at 17:00) and 50 (T-0306 progress at 18:00).
    assert_eq!(summary["after_now"], 2);
}

#[test]
fn standard_input_and_a_zone_for_offsetless_timestamps() {
    let stream = "\
{\"ticket\":\"A\",\"at\":\"2026-03-02T09:00:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"repair\",\"severity\":\"minor\"}}
{\"ticket\":\"A\",\"at\":\"2026-03-02T10:00:00\",\"type\":\"resolved\"}
";
    let out = pledge()
        .args([
            "check",
            "policies/repairs.pledge",
            "--events",
            "-",
            "--format",
            "jsonl",
        ])
        .args(["--tz", "Asia/Shanghai"])
        .write_stdin(stream)
        .output()
        .unwrap();
    let records = jsonl(&out);
    let minor = records
        .iter()
        .find(|r| r["clause"] == "repair_minor_8h")
        .expect("verdict");
    assert_eq!(minor["status"], "met");
    assert_eq!(minor["due"], "2026-03-02T17:00:00+08:00");
    // Without --tz the same lines are rejected, with the reason.
    let out = pledge()
        .args([
            "check",
            "policies/repairs.pledge",
            "--events",
            "-",
            "--format",
            "jsonl",
        ])
        .write_stdin(stream)
        .output()
        .unwrap();
    let records = jsonl(&out);
    let reasons: Vec<&str> = records
        .iter()
        .filter(|r| r["record"] == "rejected")
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons[0].contains("--tz"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing evaluated, nothing breached"
    );
}

#[test]
fn exit_0_when_everything_is_met() {
    let stream = "\
{\"ticket\":\"A\",\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"repair\",\"severity\":\"minor\"}}
{\"ticket\":\"A\",\"at\":\"2026-03-02T09:00:10+08:00\",\"type\":\"acknowledged\",\"attrs\":{\"eta\":\"10:00\",\"contact_phone\":\"1\"}}
{\"ticket\":\"A\",\"at\":\"2026-03-02T09:05:00+08:00\",\"type\":\"dispatched\"}
{\"ticket\":\"A\",\"at\":\"2026-03-02T12:00:00+08:00\",\"type\":\"resolved\"}
{\"ticket\":\"A\",\"at\":\"2026-03-02T15:00:00+08:00\",\"type\":\"revisited\",\"attrs\":{\"by\":\"receptionist\"}}
";
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("repairs.pledge");
    std::fs::write(
        &policy,
        r#"policy "repairs" {
  deadline dispatch { when kind == "repair" until dispatched within 10 minutes }
  deadline minor { when severity == "minor" until resolved within 8 hours }
  deadline revisit { from resolved until revisited within 24 hours }
}"#,
    )
    .unwrap();
    let out = pledge()
        .arg("check")
        .arg(&policy)
        .args(["--events", "-", "--format", "jsonl"])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Exit 0 because all three clauses were judged and met, not because nothing was.
    let records = jsonl(&out);
    let verdicts: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["record"] == "verdict")
        .map(|r| {
            (
                r["clause"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [("dispatch", "met"), ("minor", "met"), ("revisit", "met")]
    );
    let summary = records.last().expect("a summary");
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["rejected"], 0);
    assert_eq!(summary["accepted"], 5);
}

#[test]
fn a_thousand_lines_with_ten_corrupt_ones_reports_exactly_those_ten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    let corrupt: Vec<u64> = vec![3, 97, 150, 333, 334, 500, 641, 777, 901, 1000];
    for line in 1..=1000u64 {
        let case = (line - 1) / 4;
        let text = if corrupt.contains(&line) {
            match line % 3 {
                0 => "{not json".to_string(),
                1 => format!("{{\"ticket\":\"C{case}\",\"type\":\"resolved\"}}"),
                _ => {
                    format!("{{\"ticket\":\"C{case}\",\"at\":\"yesterday\",\"type\":\"resolved\"}}")
                }
            }
        } else {
            let minute = line % 4;
            let kind = ["opened", "dispatched", "resolved", "closed"][(line - 1) as usize % 4];
            format!(
                "{{\"ticket\":\"C{case}\",\"at\":\"2026-03-02T09:0{minute}:00+08:00\",\"type\":\"{kind}\",\"attrs\":{{\"kind\":\"repair\",\"severity\":\"minor\"}}}}"
            )
        };
        writeln!(file, "{text}").unwrap();
    }
    drop(file);
    let rejects = dir.path().join("rejects.jsonl");
    let out = pledge()
        .args(["check", "policies/repairs.pledge", "--format", "jsonl"])
        .arg("--events")
        .arg(&path)
        .arg("--rejects")
        .arg(&rejects)
        .output()
        .unwrap();
    let records = jsonl(&out);
    let lines: Vec<u64> = records
        .iter()
        .filter(|r| r["record"] == "rejected")
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, corrupt);
    let summary = records.last().unwrap();
    assert_eq!(summary["rejected"], 10);
    assert_eq!(summary["accepted"], 990);
    assert_eq!(summary["lines"], 1000);
    let written = std::fs::read_to_string(&rejects).unwrap();
    let from_file: Vec<u64> = written
        .lines()
        .map(|l| {
            serde_json::from_str::<Json>(l).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(from_file, corrupt);
}

#[test]
fn an_invalid_policy_exits_2_with_every_error_and_no_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three-mistakes.pledge");
    std::fs::write(
        &path,
        r#"policy "p" {
  deadline a "投诉联系" {
    from opened until contactd
    within 1 hour
  }
  deadline b {
    from opened until resolved
    within 2 fortnights
  }
  deadline a {
    from opened until resolved
    within 1 hour
  }
}
"#,
    )
    .unwrap();
    let out = pledge()
        .arg("check")
        .arg(&path)
        .args(["--events", EXAMPLE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing evaluated");
    let err = stderr(&out);
    assert!(err.contains("pledge::clause::unknown_event"), "{err}");
    assert!(err.contains("pledge::clause::duplicate_name"), "{err}");
    assert!(err.contains("pledge::syntax::"), "{err}");
    assert!(
        err.contains("contacted"),
        "suggests the closest event: {err}"
    );
    let out = pledge().arg("parse").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Two files declaring the same policy name would give two `repairs/repair_minor_8h` in the
/// summary, the metrics and the alert keys, told apart by nothing: refused before anything
/// runs, naming both files, by the library's `PolicySet::from_files` too. Each alone is fine.
#[test]
fn two_policies_of_one_name_exit_2_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("repairs-copy.pledge");
    std::fs::copy("policies/repairs.pledge", &copy).unwrap();
    std::fs::copy(
        "policies/attributes.pledge-schema",
        dir.path().join("attributes.pledge-schema"),
    )
    .unwrap();
    for command in ["check", "parse"] {
        let mut cmd = pledge();
        cmd.arg(command).arg("policies/repairs.pledge").arg(&copy);
        if command == "check" {
            cmd.args(["--events", EXAMPLE]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(out.stdout.is_empty(), "nothing evaluated");
        let err = stderr(&out);
        assert!(err.contains("pledge::policy::duplicate_name"), "{err}");
        assert!(
            err.contains("policy `repairs` is declared in `policies/repairs.pledge` and again in"),
            "{err}"
        );
    }
    let api = pledge::PolicySet::from_files(["policies/repairs.pledge", copy.to_str().unwrap()]);
    assert!(api.is_err());
    let out = pledge().arg("parse").arg(&copy).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2_and_missing_input_exits_3() {
    let out = pledge().args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = check_example(&["--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = check_example(&["--now", "tomorrow"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not an instant"));
    let out = check_example(&["--tz", "Mars/Olympus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pledge()
        .args([
            "check",
            "policies/repairs.pledge",
            "--events",
            "no/such/file.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot read"));
}

#[test]
fn parse_lists_every_clause_of_valid_policies() {
    let out = pledge().arg("parse").args(SEED_POLICIES).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("policy `repairs`"));
    assert!(text.contains("repair_minor_8h"));
    assert!(text.contains("[s001-repair-minor-8h]"));
    let out = pledge()
        .args(["validate", "--quiet"])
        .args(SEED_POLICIES)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn parse_quiet_prints_errors_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uncited.pledge");
    std::fs::write(
        &path,
        "policy \"x\" {\n  deadline a \"t\" {\n    until contacted\n    within 1 hour\n  }\n}\n",
    )
    .unwrap();
    // A lint's warning without --quiet, nothing with it.
    let out = pledge().arg("parse").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pledge::lint::missing_cite"),
        "{}",
        stderr(&out)
    );
    let out = pledge()
        .args(["parse", "--quiet"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
    // An error still is.
    std::fs::write(
        &path,
        "policy \"x\" {\n  deadline a \"t\" {\n    until contactd\n    within 1 hour\n  }\n}\n",
    )
    .unwrap();
    let out = pledge()
        .args(["parse", "--quiet"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pledge::clause::unknown_event"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_shipped_policy_checks_the_example_together() {
    let policies: Vec<String> = std::fs::read_dir("policies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pledge"))
        .map(|p| p.display().to_string())
        .collect();
    let out = pledge()
        .arg("check")
        .args(&policies)
        .args([
            "--events",
            EXAMPLE,
            "--format",
            "jsonl",
            "--records",
            "none",
        ])
        .output()
        .unwrap();
    // The example holds breaches, whatever the policies: exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = jsonl(&out);
    assert_eq!(records.len(), 1);
    let summary = &records[0];
    // Lines 10, 20, 27 and 30 are rejected and T-0399 was never opened, whatever the policies.
    assert_eq!(summary["rejected"], 4);
    assert_eq!(summary["unopened"], 1);
    assert_eq!(summary["cases"], 9);
    // One row per shipped clause, in policy and clause order.
    let mut expected: Vec<(String, String)> = Vec::new();
    for path in &policies {
        let policy = pledge::syntax::load_policy(std::path::Path::new(path))
            .unwrap_or_else(|e| panic!("{path}: {e:?}"));
        for clause in &policy.clauses {
            expected.push((policy.name.clone(), clause.name.clone()));
        }
    }
    let rows: Vec<(String, String)> = summary["clauses"]
        .as_array()
        .expect("clauses")
        .iter()
        .map(|c| {
            (
                c["policy"].as_str().unwrap_or("").to_string(),
                c["clause"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(expected.len() > 150, "{} shipped clauses", expected.len());
    assert_eq!(rows, expected);
}

#[test]
fn a_date_outside_the_holiday_data_is_a_warning_not_a_silent_guess() {
    let stream = "\
{\"ticket\":\"A\",\"at\":\"2027-02-05T09:00:00+08:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"complaint\"}}
{\"ticket\":\"A\",\"at\":\"2027-02-09T09:00:00+08:00\",\"type\":\"resolved\"}
";
    let out = pledge()
        .args(["check", "policies/complaints.pledge", "--events", "-"])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("warning: calendar `office` has no holiday data for 2027"),
        "{}",
        stdout(&out)
    );
    let out = pledge()
        .args([
            "check",
            "policies/complaints.pledge",
            "--events",
            "-",
            "--format",
            "jsonl",
        ])
        .write_stdin(stream)
        .output()
        .unwrap();
    let summary = jsonl(&out).pop().unwrap();
    assert_eq!(
        summary["uncovered"],
        serde_json::json!([{"calendar": "office", "year": 2027}])
    );
    // Inside the data, no warning.
    let out = check_example(&[]);
    assert!(!stdout(&out).contains("warning:"));
    // Every command that judges the stream warns, on standard error; the report's JSON and
    // page list it too.
    let warning = "warning: calendar `office` has no holiday data for 2027; verdicts there count \
                   ordinary weekdays only";
    for args in [
        &["report", "policies/complaints.pledge", "--events", "-"][..],
        &[
            "report",
            "policies/complaints.pledge",
            "--events",
            "-",
            "--format",
            "csv",
        ],
        &["agenda", "policies/complaints.pledge", "--events", "-"],
    ] {
        let out = pledge().args(args).write_stdin(stream).output().unwrap();
        assert!(stderr(&out).contains(warning), "{args:?}: {}", stderr(&out));
    }
    let out = pledge()
        .args([
            "report",
            "policies/complaints.pledge",
            "--events",
            "-",
            "--format",
            "json",
        ])
        .write_stdin(stream)
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["uncovered"],
        serde_json::json!([{"calendar": "office", "year": 2027}])
    );
    let out = pledge()
        .args([
            "report",
            "policies/complaints.pledge",
            "--events",
            "-",
            "--format",
            "html",
        ])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert!(stdout(&out).contains(&format!("<p class=\"warning\">{warning}</p>")));
    let out = pledge()
        .args([
            "report",
            "--events",
            "examples/service-desk.jsonl",
            "--format",
            "json",
        ])
        .arg("policies/customer-requests.pledge")
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["uncovered"], serde_json::json!([]));
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let none = check_example(&["--format", "jsonl", "--threads", "0"]);
    let one = check_example(&["--format", "jsonl", "--threads", "1"]);
    let four = check_example(&["--format", "jsonl", "--threads", "4"]);
    assert_eq!(none.stdout, one.stdout);
    assert_eq!(one.stdout, four.stdout);
    let human_one = check_example(&["--threads", "1"]);
    let human_many = check_example(&[]);
    assert_eq!(human_one.stdout, human_many.stdout);
    // Nothing on standard error: no progress bar when not on a terminal, and no warning (a
    // case under the shipped three-month warranty is kept for it, whatever `--retain`).
    assert!(
        human_many.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&human_many.stderr)
    );
}

/// `--resting-memory`: the records are the same whether the cases at rest are all held in
/// memory or all but one chunk go to a temporary file (a generated stream of 15,000 tickets,
/// whose cases at rest fill several chunks); a value that is not a number or `all` is refused.
#[test]
fn resting_memory_changes_memory_not_records() {
    let dir = tempfile::tempdir().expect("a directory");
    let events = dir.path().join("dense.jsonl");
    let out = pledge()
        .args([
            "gen",
            "--cases",
            "15000",
            "--seed",
            "3",
            "--profile",
            "dense",
        ])
        .args(["--days", "30"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&events, &out.stdout).expect("written");
    let run = |memory: &str| {
        let out = pledge()
            .args(["check", "bench/wallclock.pledge", "--events"])
            .arg(&events)
            .args(["--format", "jsonl", "--resting-memory", memory])
            .env("TMPDIR", dir.path())
            .output()
            .expect("runs");
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            stderr(&out)
        );
        out.stdout
    };
    let all = run("all");
    assert!(all.len() > 1_000_000, "{} bytes of records", all.len());
    assert!(run("0") == all, "spilling changes the records");
    let bad = pledge()
        .args(["check", "bench/wallclock.pledge", "--events", EXAMPLE])
        .args(["--resting-memory", "lots"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not a number of megabytes"),
        "{}",
        stderr(&bad)
    );
}

/// The commands that judge a stream read it with one set of options: each is offered by all
/// four, with the same help (`report` and `sample` once said less of `--tz` than `check`).
#[test]
fn the_commands_that_judge_a_stream_share_how_they_read_it() {
    let help_of = |command: &str| {
        let out = pledge().args([command, "--help"]).output().expect("runs");
        assert!(out.status.success(), "{command} --help");
        stdout(&out)
    };
    let option_lines = |help: &str| -> Vec<String> {
        let mut lines = Vec::new();
        let mut inside = false;
        for line in help.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("--") {
                inside = [
                    "--map",
                    "--tz",
                    "--input-format",
                    "--reorder-window",
                    "--retain",
                ]
                .iter()
                .any(|o| trimmed.starts_with(&format!("{o} ")));
            }
            if inside {
                lines.push(trimmed.to_string());
            }
        }
        lines
    };
    let check = option_lines(&help_of("check"));
    assert!(
        check
            .iter()
            .any(|l| l.contains("without it they are rejected")),
        "{check:?}"
    );
    for command in ["agenda", "report", "sample"] {
        assert_eq!(option_lines(&help_of(command)), check, "{command}");
    }
}

/// Every clause whose due time depends on a calendar's days off warns the same way: an anchor
/// on the next working day, a notification counted in working time, and a duty on a calendar
/// (a gap in workdays, a quota per working day). An anchor on the next calendar day depends on
/// no holiday and does not.
#[test]
fn every_clause_on_a_calendar_warns_outside_the_holiday_data() {
    let dir = tempfile::tempdir().unwrap();
    let calendar =
        "  calendar office {\n    hours mon..fri 09:00-18:00\n    holidays \"cn\"\n  }\n";
    let clauses = [
        (
            "deadline d {\n    allow missing_cite\n    from opened until resolved\n    by 08:00 next workday on office\n  }",
            "{\"ticket\":\"A\",\"at\":\"2026-12-31T09:00:00+08:00\",\"type\":\"opened\"}\n",
            true,
        ),
        (
            "deadline d {\n    allow missing_cite\n    from opened until resolved\n    by 08:00 next day\n  }",
            "{\"ticket\":\"A\",\"at\":\"2026-12-31T09:00:00+08:00\",\"type\":\"opened\"}\n",
            false,
        ),
        (
            "notify n {\n    allow missing_cite\n    channels all [sms]\n    within 1 workday on office\n  }",
            "{\"ticket\":\"A\",\"at\":\"2026-12-31T19:00:00+08:00\",\"type\":\"opened\"}\n",
            true,
        ),
        (
            "every m {\n    allow missing_cite\n    when kind == \"room\"\n    meeting_held at least 1 per day on office\n  }\n  events meeting_held",
            "{\"ticket\":\"R\",\"at\":\"2026-12-30T09:00:00+08:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"room\"}}\n",
            true,
        ),
        (
            "every g {\n    allow missing_cite\n    when kind == \"asset\"\n    inspected every 1 workday on office\n  }",
            "{\"ticket\":\"G\",\"at\":\"2026-12-30T09:00:00+08:00\",\"type\":\"opened\",\"attrs\":{\"kind\":\"asset\"}}\n",
            true,
        ),
    ];
    for (i, (clause, events, warns)) in clauses.iter().enumerate() {
        let policy = dir.path().join(format!("p{i}.pledge"));
        std::fs::write(
            &policy,
            format!("policy \"p\" {{\n  zone \"Asia/Shanghai\"\n{calendar}  {clause}\n}}\n"),
        )
        .unwrap();
        let out = pledge()
            .args([
                "check",
                "--format",
                "jsonl",
                "--now",
                "2027-01-04T12:00:00+08:00",
            ])
            .arg(&policy)
            .args(["--events", "-"])
            .write_stdin(*events)
            .output()
            .unwrap();
        let summary = jsonl(&out)
            .pop()
            .unwrap_or_else(|| panic!("{clause}\n{}", stderr(&out)));
        let expected = if *warns {
            serde_json::json!([{"calendar": "office", "year": 2027}])
        } else {
            serde_json::json!([])
        };
        assert_eq!(summary["uncovered"], expected, "{clause}\n{}", stderr(&out));
    }
}

/// A ratio just over an `at most` bound is not shown as the bound itself beside `missed`: 51
/// bad ratings of 1010 are 5.0495 %, shown `5.05 %`, where one decimal rounded down would
/// read 5.0 % against "at most 5.0 %". Elsewhere one decimal rounded down stays.
#[test]
fn a_ratio_just_over_an_at_most_bound_shows_a_second_decimal() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("t.pledge");
    std::fs::write(
        &policy,
        "policy \"p\" {\n  target bad \"差评率不超过5%\" {\n    allow missing_cite\n    ratio rated(satisfied == false) among rated per month\n    at most 5%\n  }\n}\n",
    )
    .unwrap();
    let stream = |bad: usize, all: usize| {
        let mut s = String::new();
        for i in 0..all {
            s.push_str(&format!(
                "{{\"ticket\":\"T{i}\",\"at\":\"2026-03-02T10:00:00+08:00\",\"type\":\"opened\"}}\n\
                 {{\"ticket\":\"T{i}\",\"at\":\"2026-03-02T11:00:00+08:00\",\"type\":\"rated\",\"attrs\":{{\"satisfied\":{}}}}}\n",
                i >= bad
            ));
        }
        s
    };
    let run = |args: &[&str], events: &str| {
        let out = pledge()
            .args(args)
            .arg(&policy)
            .args(["--events", "-"])
            .write_stdin(events.to_string())
            .output()
            .unwrap();
        stdout(&out)
    };
    let over = stream(51, 1010);
    let check = run(&["check"], &over);
    assert!(
        check.contains("51 of 1010 (5.05 %), target at most 5.0 %"),
        "{check}"
    );
    let report = run(&["report", "--format", "csv"], &over);
    assert!(
        report.contains("51 of 1010 (5.05%), at most 5.0%"),
        "{report}"
    );
    assert!(report.contains(",51,1010,5.05%,5.0%,"), "{report}");
    // Within the bound, or well over it: one decimal, rounded down.
    let within = run(&["report", "--format", "csv"], &stream(50, 1010));
    assert!(
        within.contains("50 of 1010 (4.9%), at most 5.0%"),
        "{within}"
    );
    let well_over = run(&["check"], &stream(60, 1010));
    assert!(
        well_over.contains("60 of 1010 (5.9 %), target at most 5.0 %"),
        "{well_over}"
    );
}

/// A duration past a century on the command line is refused as a usage error, never added to
/// itself until it overflows (`--retain` and `--reorder-window` are doubled inside).
#[test]
fn a_duration_past_a_century_is_a_usage_error() {
    for flag in ["--retain", "--reorder-window"] {
        let out = pledge()
            .args(["check", "policies/customer-requests.pledge"])
            .args([
                "--events",
                "examples/service-desk.jsonl",
                flag,
                "54000000000d",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is longer than 100 years"),
            "{flag}: {}",
            stderr(&out)
        );
    }
    let out = pledge()
        .args(["check", "policies/customer-requests.pledge"])
        .args([
            "--events",
            "examples/service-desk.jsonl",
            "--retain",
            "36600d",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
