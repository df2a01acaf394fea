//! The README's excerpts of reports are what the binary prints for the README's first command:
//! the human report's lines (in order, `…` standing for lines left out), the JSON Lines records
//! quoted from that run (byte for byte) and its summary's counts, and the `--group-by channel`
//! table. The README is read at test time, so an excerpt that drifts from the output fails
//! here rather than misleading a reader.

#![cfg(feature = "cli")] // the real binary, built only with the command

use serde_json::Value as Json;
use std::path::Path;
use std::process::Command;

const PLEDGE: &str = env!("CARGO_BIN_EXE_pledge");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The README's first command with `more` options; its standard output.
fn first_command(more: &[&str]) -> String {
    let out = Command::new(PLEDGE)
        .current_dir(root())
        .args([
            "check",
            "policies/customer-requests.pledge",
            "policies/repairs.pledge",
            "--events",
            "examples/service-desk.jsonl",
            "--color",
            "never",
        ])
        .args(more)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1), "the example breaches: exit 1");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The first code block of `lang` in the README whose text starts with `head`.
fn block(readme: &str, lang: &str, head: &str) -> String {
    readme
        .split(&format!("```{lang}\n"))
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with(head))
        .unwrap_or_else(|| panic!("the README has a {lang} block starting with {head:?}"))
        .to_string()
}

/// The lines of `excerpt` appear in `output` in the same order, and lines next to each other in
/// the excerpt are next to each other in the output: only a `…` line stands for lines left out.
fn assert_excerpt(excerpt: &str, output: &str) {
    let out: Vec<&str> = output.lines().collect();
    let mut from = 0;
    let mut run: Vec<&str> = Vec::new();
    let runs = excerpt.lines().chain(["…"]);
    for line in runs {
        if line.trim() != "…" {
            run.push(line);
            continue;
        }
        if run.is_empty() {
            continue;
        }
        let found = (from..=out.len().saturating_sub(run.len()))
            .find(|&i| out[i..].starts_with(&run))
            .unwrap_or_else(|| {
                panic!(
                    "README lines not in the output together and in order:\n{}\n--- output ---\n{output}",
                    run.join("\n")
                )
            });
        from = found + run.len();
        run.clear();
    }
}

#[test]
fn the_human_report_excerpt_is_the_output() {
    let excerpt = block(
        &readme(),
        "text",
        "pledge check: examples/service-desk.jsonl, as of",
    );
    assert!(excerpt.lines().count() > 15, "the excerpt is found whole");
    assert_excerpt(&excerpt, &first_command(&[]));
}

#[test]
fn the_group_by_excerpt_is_the_output() {
    let excerpt = block(&readme(), "text", "By channel (as of the end of each case");
    // The README leaves out each group's clause lines (`policy/clause` last), bar those shown.
    let output = first_command(&["--group-by", "channel"]);
    let shown: Vec<&str> = output
        .lines()
        .filter(|l| {
            let clause_line = l.split_whitespace().last().is_some_and(|w| w.contains('/'));
            !clause_line || excerpt.lines().any(|e| e == *l)
        })
        .collect();
    assert_excerpt(&excerpt, &shown.join("\n"));
}

#[test]
fn the_json_lines_records_and_summary_are_the_output() {
    let readme = readme();
    let excerpt = block(
        &readme,
        "json",
        "{\"record\":\"verdict\",\"ticket\":\"T-0305\"",
    );
    let output = first_command(&["--format", "jsonl"]);
    let records: Vec<Json> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let tickets: Vec<&str> = records
        .iter()
        .filter_map(|r| r["ticket"].as_str())
        .collect();
    let mut compared = 0;
    for line in excerpt.lines() {
        let quoted: Json = serde_json::from_str(line).expect("the README's line is JSON");
        match quoted["record"].as_str() {
            Some("summary") => {
                let summary = records.last().expect("a summary last");
                let fields = quoted.as_object().expect("an object");
                for (key, value) in fields.iter().filter(|(k, _)| *k != "clauses") {
                    assert_eq!(&summary[key], value, "summary field `{key}`");
                }
                // The README cuts `clauses` to one; that one is the output's.
                let clause = &quoted["clauses"][0];
                assert!(
                    summary["clauses"]
                        .as_array()
                        .is_some_and(|all| all.contains(clause)),
                    "the README's clause counts are the output's: {clause}"
                );
                compared += 1;
            }
            // Records of the run (the action and finding lines illustrate other streams).
            _ if quoted["ticket"]
                .as_str()
                .is_none_or(|t| tickets.contains(&t)) =>
            {
                assert!(
                    output.lines().any(|l| l == line),
                    "README record not in the output byte for byte:\n{line}"
                );
                compared += 1;
            }
            _ => {}
        }
    }
    assert!(compared >= 4, "the run's records are compared ({compared})");
}
