//! `pledge lint` and `--lang` through the real binary: exit codes, `--deny`, the JSON
//! document, warnings printed when other commands load policies, and Chinese diagnostics from
//! the flag or the locale.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

fn pledge() -> Command {
    let mut cmd = Command::cargo_bin("pledge").expect("the pledge binary is built");
    // The tests decide the language; the machine's locale must not.
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

/// A policy whose target can never fail, in a temporary directory.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writable");
    path
}

const REPORT_ONLY: &str = "policy \"p\" {\n  target t \"同类报修量同比下降35%\" {\n    cite s003-r-1 \"seed 003\"\n    ratio rated(satisfied == true) among rated per month\n    at most 100%\n  }\n}\n";

#[test]
fn the_shipped_policies_lint_clean_and_exit_0_even_with_every_lint_denied() {
    let mut cmd = pledge();
    cmd.args(["lint", "--deny", "all"]);
    let policies: Vec<PathBuf> = std::fs::read_dir("policies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pledge"))
        .collect();
    cmd.args(&policies);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "");
    assert!(err.contains("0 error(s), 0 warning(s)"), "{err}");
}

#[test]
fn a_lint_warns_with_exit_0_and_exits_1_when_denied() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.pledge", REPORT_ONLY);
    let (code, out, err) = run(pledge().arg("lint").arg(&p));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("pledge::lint::cannot_fail"), "{out}");
    assert!(out.contains("⚠"), "a warning: {out}");
    assert!(err.contains("0 error(s), 1 warning(s)"), "{err}");
    let (code, out, err) = run(pledge().arg("lint").arg(&p).args(["--deny", "cannot_fail"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("×"), "an error: {out}");
    assert!(err.contains("1 error(s), 0 warning(s)"), "{err}");
    // Denying another lint changes nothing.
    let (code, ..) = run(pledge()
        .arg("lint")
        .arg(&p)
        .args(["--deny", "missing_cite"]));
    assert_eq!(code, Some(0));
}

#[test]
fn an_unknown_lint_to_deny_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.pledge", REPORT_ONLY);
    let (code, _, err) = run(pledge().arg("lint").arg(&p).args(["--deny", "cannot_fial"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("`cannot_fial` is not a lint"), "{err}");
}

#[test]
fn an_invalid_policy_exits_1_with_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.pledge",
        &REPORT_ONLY.replace("ratio rated", "ratio rate"),
    );
    let (code, out, _) = run(pledge().arg("lint").arg(&p));
    assert_eq!(code, Some(1));
    assert!(out.contains("pledge::clause::unknown_event"), "{out}");
}

#[test]
fn the_json_document_lists_each_diagnostic_with_its_lint_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.pledge", REPORT_ONLY);
    let (code, out, _) = run(pledge().arg("lint").arg(&p).args(["--format", "json"]));
    assert_eq!(code, Some(0));
    let doc: Json = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["warnings"], 1);
    assert_eq!(doc["errors"], 0);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "pledge::lint::cannot_fail");
    assert_eq!(d["lint"], "cannot_fail");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["line"], 5);
    assert_eq!(d["column"], 5);
    assert_eq!(d["label"], "a ratio is never above 100%");
    // In Chinese, the same diagnostic with the same code and position.
    let (_, out, _) = run(pledge()
        .arg("lint")
        .arg(&p)
        .args(["--format", "json", "--lang", "zh"]));
    let doc: Json = serde_json::from_str(&out).unwrap();
    let zh = &doc["diagnostics"][0];
    assert_eq!(zh["code"], d["code"]);
    assert_eq!((&zh["line"], &zh["column"]), (&d["line"], &d["column"]));
    assert_eq!(zh["label"], "比率永远不会高于 100%");
}

#[test]
fn check_prints_lint_warnings_when_it_loads_policies_and_still_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.pledge", REPORT_ONLY);
    let events = write(
        dir.path(),
        "e.jsonl",
        "{\"ticket\":\"T-1\",\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"opened\"}\n",
    );
    let (code, _, err) = run(pledge().arg("check").arg(&p).arg("--events").arg(&events));
    assert_ne!(code, Some(2), "{err}");
    assert!(err.contains("pledge::lint::cannot_fail"), "{err}");
}

#[test]
fn the_locale_or_the_flag_gives_chinese_diagnostics_and_the_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.pledge",
        &REPORT_ONLY.replace("ratio rated", "ratio rate"),
    );
    let (_, out, _) = run(pledge().arg("lint").arg(&p).env("LANG", "zh_CN.UTF-8"));
    assert!(out.contains("未知的事件类型 `rate`"), "{out}");
    assert!(
        out.contains("pledge::clause::unknown_event"),
        "codes unchanged: {out}"
    );
    let (_, out, _) = run(pledge()
        .arg("lint")
        .arg(&p)
        .env("LANG", "zh_CN.UTF-8")
        .args(["--lang", "en"]));
    assert!(out.contains("unknown event type `rate`"), "{out}");
    let (_, out, _) = run(pledge().arg("lint").arg(&p).args(["--lang", "zh"]));
    assert!(out.contains("未知的事件类型"), "{out}");
    // `check` draws its policy errors in the language too.
    let (code, _, err) = run(pledge()
        .arg("check")
        .arg(&p)
        .args(["--events", "-", "--lang", "zh"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("未知的事件类型 `rate`"), "{err}");
    // LC_ALL before LANG.
    let (_, out, _) = run(pledge()
        .arg("lint")
        .arg(&p)
        .env("LANG", "zh_CN.UTF-8")
        .env("LC_ALL", "C"));
    assert!(out.contains("unknown event type"), "{out}");
}

/// The `file:line:column` heading of a human diagnostic counts characters, as the JSON
/// diagnostics and editors do: after Chinese text on the line (three bytes a character) it
/// names the column of the label, not the byte offset. Also in a policy test file.
#[test]
fn the_heading_of_a_diagnostic_counts_columns_in_characters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = write(
        dir.path(),
        "min.pledge",
        "policy \"p\" {\n  allow missing_cite\n  deadline d \"投诉\" { until contactd within 1 hour }\n}\n",
    );
    let (code, out, err) = run(pledge().arg("lint").arg(&policy).args(["--color", "never"]));
    let human = out + &err;
    assert_eq!(code, Some(1), "{human}");
    let (_, json, _) = run(pledge().arg("lint").arg(&policy).args(["--format", "json"]));
    let json: Json = serde_json::from_str(&json).expect("JSON");
    let d = &json["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(27))
    );
    assert!(human.contains("min.pledge:3:27]"), "{human}");

    write(dir.path(), "repairs.pledge", "policy \"r\" {\n}\n");
    let test = write(
        dir.path(),
        "cn.pledge-test",
        "policies = [\"repairs.pledge\"]\n[[case]]\nname = \"投诉投诉投诉\"; events = ''\n",
    );
    let (code, out, err) = run(pledge().arg("test").arg(&test).args(["--color", "never"]));
    let human = out + &err;
    assert_eq!(code, Some(2), "{human}");
    assert!(human.contains("cn.pledge-test:3:16]"), "{human}");
}

/// A byte-order mark at the start of a file is not a column: editors do not show it.
#[test]
fn a_byte_order_mark_does_not_count_as_a_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("plain.pledge", "policy \"p\" { zone \"Asia/Shanghia\" }\n"),
        (
            "bom.pledge",
            "\u{feff}policy \"p\" { zone \"Asia/Shanghia\" }\n",
        ),
    ] {
        let policy = write(dir.path(), name, text);
        let (code, out, err) = run(pledge().arg("lint").arg(&policy).args(["--color", "never"]));
        let human = out + &err;
        assert_ne!(code, Some(0), "{human}");
        assert!(human.contains(&format!("{name}:1:19]")), "{human}");
        let (_, json, _) = run(pledge().arg("lint").arg(&policy).args(["--format", "json"]));
        let json: Json = serde_json::from_str(&json).expect("JSON");
        let d = &json["diagnostics"][0];
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(1), Some(19)),
            "{d}"
        );
    }
}
