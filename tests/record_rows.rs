//! Three of the shipped record clauses added for catalogue rows of family `other`, through the
//! real binary on a small stream: the disclosure of owners' data (a precondition that depends
//! on the event, a list attribute holding every required document), two people confirming a
//! fire alarm, and the guarantee on replanted turf. Each has a case that meets it and one that
//! does not; the findings read as a quality officer sees them.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use serde_json::Value as Json;

const EVENTS: &str = "tests/fixtures/record/rows.jsonl";
const POLICIES: [&str; 3] = [
    "policies/customer-requests.pledge",
    "policies/emergencies.pledge",
    "policies/cleaning.pledge",
];
const NOW: &str = "2026-06-01T00:00:00+08:00";

fn check(more: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pledge"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("check")
        .args(POLICIES)
        .args(["--events", EVENTS, "--now", NOW, "--retain", "120d"])
        .args(more)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

/// The `Findings` part of a human report (the rest belongs to other clauses of the policies).
fn findings(text: &str) -> String {
    let at = text
        .find("\nFindings\n")
        .unwrap_or_else(|| panic!("no findings section:\n{text}"));
    text[at + 1..].to_string()
}

#[test]
fn one_finding_per_failing_case_and_none_for_the_others() {
    let (code, jsonl) = check(&["--format", "jsonl"]);
    assert_eq!(code, Some(1), "findings fail the check");
    let mut got: Vec<(String, String, String)> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "finding")
        .filter(|j| {
            [
                "judicial_disclosure",
                "fire_alarm_two_person",
                "turf_warranty_3m",
            ]
            .contains(&j["clause"].as_str().unwrap_or(""))
        })
        .map(|j| {
            (
                j["clause"].as_str().unwrap().to_string(),
                j["ticket"].as_str().unwrap().to_string(),
                j["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("fire_alarm_two_person", "F-2", "record.actors_short"),
        ("judicial_disclosure", "J-2", "record.out_of_order"),
        ("turf_warranty_3m", "G-1", "record.warranty_claim"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
}

#[test]
fn the_findings_read_as_reported() {
    let (_, text) = check(&["--records", "problems"]);
    insta::assert_snapshot!("record_rows_findings", findings(&text));
}
