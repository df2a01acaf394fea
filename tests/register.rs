//! Registers: reference data read from a CSV file the policy names (`include register
//! "staff.csv" as staff`) and looked up by event filters (`by in staff(document == "x")`).
//! The loader reads the file relative to the policy file; a missing file, a bad row, an
//! unknown register or column are diagnostics with codes (snapshots pin the rendering); the
//! command checks a stream against a policy with a register.

use pledge::syntax::{format_clause, load_policy, parse_policy, render, PolicyErrors};
use std::path::Path;

const POLICY: &str = r#"policy "hk" {
  zone "Asia/Shanghai"
  include register "staff.csv" as staff

  target credentials "服务人员需持健康证+技能证书上岗" {
    when kind == "housekeeping"
    ratio arrived(by in staff(document == "health_certificate") and by in staff(document == "skills_certificate")) among arrived per month
    at least 100%
  }
}
"#;

const STAFF: &str = "key,document,valid_from,valid_until\n\
W-1,health_certificate,2026-01-01,2026-12-31\n\
W-1,skills_certificate,2025-01-01,\n\
W-2,health_certificate,2026-01-01,2026-12-31\n";

/// The same lookups in a deadline, for the diagnostics (a target whose ratio has an error also
/// says it has no ratio).
const DEADLINE: &str = r#"policy "hk" {
  zone "Asia/Shanghai"
  include register "staff.csv" as staff

  deadline credentials "服务人员需持健康证+技能证书上岗" {
    when kind == "housekeeping"
    from opened until arrived(by in staff(document == "health_certificate") and by in staff(document == "skills_certificate"))
    within 1 day
  }
}
"#;

/// A directory with the policy and its register.
fn dir_with(policy: &str, staff: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hk.pledge"), policy).unwrap();
    if let Some(staff) = staff {
        std::fs::write(dir.path().join("staff.csv"), staff).unwrap();
    }
    dir
}

fn load_errors(dir: &Path) -> PolicyErrors {
    match load_policy(&dir.join("hk.pledge")) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

/// Rendered diagnostics without the temporary directory's path.
fn shown(e: &PolicyErrors, dir: &Path) -> String {
    render(e, false).replace(&dir.display().to_string(), "DIR")
}

#[test]
fn a_policy_with_its_register_loads_and_formats_back() {
    let dir = dir_with(POLICY, Some(STAFF));
    let p = load_policy(&dir.path().join("hk.pledge"))
        .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    let text = format_clause(&p.clauses[0]);
    assert!(
        text.contains(r#"arrived(by in staff(document == "health_certificate") and by in staff(document == "skills_certificate"))"#),
        "{text}"
    );
    // The clause parses back to itself beside the register.
    let again = parse_policy(
        &format!("policy \"hk\" {{\n  zone \"Asia/Shanghai\"\n  include register \"staff.csv\" as staff\n{text}\n}}\n"),
        "again.pledge",
        Some(dir.path()),
    )
    .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    assert_eq!(again.clauses, p.clauses);
    // `pledge fmt` keeps the include and the lookup as written.
    let out = pledge::syntax::format_source(POLICY, "hk.pledge").unwrap();
    assert_eq!(out, POLICY);
}

#[test]
fn a_missing_register_is_a_diagnostic_on_the_include() {
    let dir = dir_with(DEADLINE, None);
    let e = load_errors(dir.path());
    assert_eq!(e.codes(), ["pledge::register::unreadable"]);
    assert_eq!(e.errors[0].underlined(), Some("\"staff.csv\""));
}

#[test]
fn every_bad_row_is_a_diagnostic_with_the_file_line_and_reason() {
    let bad = "key,document,valid_from,valid_until\n\
W-1,health_certificate,2026-01-01,2026-12-31\n\
,skills_certificate,2025-01-01,\n\
W-2,health_certificate,2026-02-30,\n";
    let dir = dir_with(DEADLINE, Some(bad));
    let e = load_errors(dir.path());
    assert_eq!(
        e.codes(),
        [
            "pledge::register::invalid",
            "pledge::register::bad_row",
            "pledge::register::bad_row"
        ]
    );
    assert_eq!(e.errors[0].underlined(), Some("\"staff.csv\""));
    assert_eq!(
        e.errors[2].underlined(),
        Some("W-2,health_certificate,2026-02-30,")
    );
    insta::assert_snapshot!("register_bad_rows", shown(&e, dir.path()));
}

#[test]
fn unknown_registers_and_columns_and_lookups_outside_a_filter_are_errors() {
    let with = |filter: &str| {
        DEADLINE.replace(
        "arrived(by in staff(document == \"health_certificate\") and by in staff(document == \"skills_certificate\"))",
        filter,
    )
    };
    let dir = dir_with(&with("arrived(by in staf)"), Some(STAFF));
    let e = load_errors(dir.path());
    assert_eq!(e.codes(), ["pledge::register::unknown"]);
    assert!(e.errors[0].help.as_deref().unwrap().contains("`staff`"));
    let dir = dir_with(
        &with("arrived(by in staff(documnet == \"x\"))"),
        Some(STAFF),
    );
    let e = load_errors(dir.path());
    assert_eq!(e.codes(), ["pledge::register::unknown_column"]);
    insta::assert_snapshot!("register_unknown_column", shown(&e, dir.path()));
    let dir = dir_with(
        &DEADLINE.replace("when kind == \"housekeeping\"", "when by in staff"),
        Some(STAFF),
    );
    assert_eq!(
        load_errors(dir.path()).codes(),
        ["pledge::register::outside_filter"]
    );
    // A policy read from text has no directory to read a register from.
    let e = parse_policy(DEADLINE, "hk.pledge", None).unwrap_err();
    assert_eq!(e.codes()[0], "pledge::include::unavailable");
}

#[test]
fn for_n_days_formats_back_and_takes_whole_days_only() {
    let with = |span: &str| {
        DEADLINE.replace(
            "by in staff(document == \"skills_certificate\")",
            &format!("by in staff(document == \"skills_certificate\") {span}"),
        )
    };
    let dir = dir_with(&with("for 2 weeks"), Some(STAFF));
    let p = load_policy(&dir.path().join("hk.pledge"))
        .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    let text = format_clause(&p.clauses[0]);
    assert!(
        text.contains("by in staff(document == \"skills_certificate\") for 14 days)"),
        "{text}"
    );
    let dir = dir_with(&with("for 36 hours"), Some(STAFF));
    let e = load_errors(dir.path());
    assert_eq!(e.codes(), ["pledge::register::days"]);
    assert_eq!(e.errors[0].underlined(), Some("36 hours"));
}

#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use std::process::Command;

    #[test]
    fn check_looks_each_arrival_up_in_the_register() {
        let dir = dir_with(POLICY, Some(STAFF));
        let events = dir.path().join("events.jsonl");
        std::fs::write(
            &events,
            [
                r#"{"ticket":"J-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"housekeeping"}}"#,
                r#"{"ticket":"J-1","at":"2026-03-03T14:00:00+08:00","type":"arrived","attrs":{"by":"W-1"}}"#,
                r#"{"ticket":"J-2","at":"2026-03-04T09:00:00+08:00","type":"opened","attrs":{"kind":"housekeeping"}}"#,
                r#"{"ticket":"J-2","at":"2026-03-05T14:00:00+08:00","type":"arrived","attrs":{"by":"W-2"}}"#,
            ]
            .join("\n")
                + "\n",
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_pledge"))
            .arg("check")
            .arg("--format")
            .arg("jsonl")
            .arg("--events")
            .arg(&events)
            .arg(dir.path().join("hk.pledge"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let target = stdout
            .lines()
            .find(|l| l.contains("\"credentials\"") && l.contains("\"target\""))
            .unwrap_or_else(|| {
                panic!(
                    "no target record:\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        assert!(target.contains("\"hits\":1"), "{target}");
        assert!(target.contains("\"total\":2"), "{target}");
        assert!(target.contains("\"missed\""), "{target}");
    }
}

/// The README's register example loads beside the shipped register, as written, and the
/// shipped policy is the same clause.
#[test]
fn the_readme_example_works_as_written_beside_the_shipped_register() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("```pledge\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("include register"))
        .expect("the README shows `include register`");
    let p = parse_policy(block, "README", Some(&root.join("policies")))
        .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    assert_eq!(
        pledge::syntax::format_source(block, "README").unwrap(),
        block
    );
    let shipped = load_policy(&root.join("policies/staff.pledge")).unwrap();
    assert_eq!(p.clauses[0].body, shipped.clauses[0].body);
}

/// Registers and holiday files are included the same way: relative to the policy file, with
/// their own extension, and each failure is a diagnostic on the path as written.
#[test]
fn includes_of_either_kind_report_a_wrong_extension_a_missing_file_and_no_directory() {
    let calendar = |path: &str| {
        format!(
            "policy \"hk\" {{\n  zone \"Asia/Shanghai\"\n  include calendar \"{path}\" as extra\n}}\n"
        )
    };
    let register = |path: &str| DEADLINE.replace("\"staff.csv\"", &format!("\"{path}\""));
    let cases = [
        (
            calendar("extra.csv"),
            "pledge::include::not_toml",
            "\"extra.csv\"",
        ),
        (
            calendar("extra.toml"),
            "pledge::include::unreadable",
            "\"extra.toml\"",
        ),
        (
            register("staff.toml"),
            "pledge::register::not_csv",
            "\"staff.toml\"",
        ),
        (
            register("gone.csv"),
            "pledge::register::unreadable",
            "\"gone.csv\"",
        ),
    ];
    for (policy, code, underlined) in cases {
        let dir = dir_with(&policy, Some(STAFF));
        let e = load_errors(dir.path());
        assert_eq!(e.codes(), [code], "{policy}");
        assert_eq!(e.errors[0].underlined(), Some(underlined), "{policy}");
        // The same text with no file to be relative to cannot include anything.
        let e = parse_policy(&policy, "hk.pledge", None).unwrap_err();
        assert_eq!(e.codes()[0], "pledge::include::unavailable", "{policy}");
    }
}
