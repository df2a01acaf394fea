//! Policy unit tests (`pledge test`): small event streams with the records a policy must give
//! for them, written by the quality officer who writes the policy, and run like `cargo test`.
//!
//! - `file`: the `.pledge-test` format, loaded and checked before anything runs;
//! - `compact`: the one-line event form of a case's `events`;
//! - `fields`: the record kinds and fields an expectation may name;
//! - `matching`: partial records against the records of `pledge check --format jsonl`;
//! - this module: finding test files, running a case and saying why it failed.
//!
//! A case runs through the embedding API ([`crate::check_reader`]) with the options
//! `pledge check` would have, so a test sees exactly the records the command writes.

pub mod compact;
mod fields;
pub mod file;
pub mod matching;

pub use compact::{parse_event_line, EventLine, EventLineError};
pub use fields::{fields_of, RECORD_KINDS};
pub use file::{load, Case, Expectation, PolicyCache, TestFile};

use crate::api::check_reader;
use matching::{mismatches, record_matches, show_expected, show_field, show_record, show_toml};
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The extension of test files.
pub const EXTENSION: &str = "pledge-test";

/// Where `pledge test` looks when given no path.
pub const DEFAULT_DIR: &str = "policies/tests";

/// The test files named by `paths`: a file as given, a directory searched recursively for
/// `*.pledge-test`, in name order. `Err`: a path that does not exist, or a directory without
/// any test file (a run that tests nothing should not look like a run that passed).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            if files.len() == before {
                return Err(format!(
                    "no `*.{EXTENSION}` file under `{}`",
                    path.display()
                ));
            }
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    // Linked directories are not followed: a link to a parent would never end.
    let mut paths: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    paths.sort();
    for (path, is_dir) in paths {
        if is_dir {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == EXTENSION) {
            out.push(path);
        }
    }
    Ok(())
}

/// What one case came to.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// Every record the case gave, as `pledge check --format jsonl` writes them, the summary
    /// last.
    pub records: Vec<Json>,
    /// Why it failed; empty when it passed.
    pub failures: Vec<Failure>,
}

impl CaseReport {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One reason a case failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// An expected partial record that no record matched; `nearest` is the index of the record
    /// of the same kind that differs in the fewest fields.
    Missing {
        expected: Expectation,
        nearest: Option<usize>,
    },
    /// An `absent` partial record that these records (indices) matched.
    Present {
        absent: Expectation,
        found: Vec<usize>,
    },
    /// A record of a kind listed in `complete` that no expectation matched.
    Unexpected { record: usize },
    /// A line of `events` the reader rejected, in a case that says nothing about rejections:
    /// almost always a typo in a JSON line.
    Rejected { record: usize, file_line: usize },
}

/// Runs one case of a test file.
pub fn run_case(file: &TestFile, case: &Case) -> CaseReport {
    let zone = file.zone;
    let records: Vec<Json> =
        match check_reader(&file.policies, case.events.as_bytes(), &case.options) {
            Ok(report) => {
                let mut records: Vec<Json> = report.records.iter().map(|r| r.to_json()).collect();
                records.push(report.summary_json());
                records
            }
            // Reading from memory does not fail; should it, the case fails on its first expectation.
            Err(_) => Vec::new(),
        };
    let mut failures = Vec::new();
    for expected in &case.expect {
        if !records
            .iter()
            .any(|r| record_matches(&expected.fields, r, zone))
        {
            failures.push(Failure::Missing {
                expected: expected.clone(),
                nearest: nearest(&expected.fields, &records, zone),
            });
        }
    }
    for absent in &case.absent {
        let found: Vec<usize> = (0..records.len())
            .filter(|&i| record_matches(&absent.fields, &records[i], zone))
            .collect();
        if !found.is_empty() {
            failures.push(Failure::Present {
                absent: absent.clone(),
                found,
            });
        }
    }
    for (i, record) in records.iter().enumerate() {
        let kind = kind_of(record);
        if case.complete.iter().any(|k| k == kind)
            && !case
                .expect
                .iter()
                .any(|e| record_matches(&e.fields, record, zone))
        {
            failures.push(Failure::Unexpected { record: i });
        }
    }
    let speaks_of_rejections = case.complete.iter().any(|k| k == "rejected")
        || case
            .expect
            .iter()
            .chain(&case.absent)
            .any(|e| e.kind() == Some("rejected"));
    if !speaks_of_rejections {
        for (i, record) in records.iter().enumerate() {
            if kind_of(record) == "rejected" {
                let line = record.get("line").and_then(Json::as_u64).unwrap_or(0);
                let file_line = usize::try_from(line)
                    .ok()
                    .and_then(|l| l.checked_sub(1))
                    .and_then(|l| case.event_lines.get(l))
                    .copied()
                    .unwrap_or(0);
                failures.push(Failure::Rejected {
                    record: i,
                    file_line,
                });
            }
        }
    }
    CaseReport { records, failures }
}

fn kind_of(record: &Json) -> &str {
    record.get("record").and_then(Json::as_str).unwrap_or("")
}

/// The record of the expectation's kind that differs from it in the fewest fields.
fn nearest(expected: &toml::Table, records: &[Json], zone: chrono_tz::Tz) -> Option<usize> {
    let kind = expected.get("record").and_then(toml::Value::as_str);
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| kind.is_none_or(|k| kind_of(r) == k))
        .map(|(i, r)| (mismatches(expected, r, zone).len(), i))
        .min()
        .map(|(_, i)| i)
}

/// Why a case failed, for a reader: each failure, then every record the case gave, one line
/// each, written as they would be in `expect`.
pub fn render_failures(file: &TestFile, report: &CaseReport) -> String {
    let mut out = String::new();
    let records = &report.records;
    for failure in &report.failures {
        match failure {
            Failure::Missing { expected, nearest } => {
                let _ = writeln!(
                    out,
                    "expected (line {}) but no record matches:\n    {}",
                    expected.line,
                    show_expected(&expected.fields)
                );
                if let Some(i) = nearest {
                    let record = &records[*i];
                    let differ: Vec<String> = mismatches(&expected.fields, record, file.zone)
                        .iter()
                        .map(|k| {
                            let wanted = expected.fields.get(*k).map(show_toml).unwrap_or_default();
                            format!("{k} = {} (expected {wanted})", show_field(record, k))
                        })
                        .collect();
                    let _ = writeln!(
                        out,
                        "  nearest: {}\n  differs: {}",
                        show_record(record),
                        differ.join(", ")
                    );
                }
            }
            Failure::Present { absent, found } => {
                let _ = writeln!(
                    out,
                    "absent (line {}) but found:\n    {}",
                    absent.line,
                    show_expected(&absent.fields)
                );
                for i in found {
                    let _ = writeln!(out, "  found: {}", show_record(&records[*i]));
                }
            }
            Failure::Unexpected { record } => {
                let _ = writeln!(
                    out,
                    "not expected (the case lists every {} record):\n    {}",
                    kind_of(&records[*record]),
                    show_record(&records[*record])
                );
            }
            Failure::Rejected { record, file_line } => {
                let r = &records[*record];
                let line = r.get("line").and_then(Json::as_u64).unwrap_or(0);
                let _ = writeln!(
                    out,
                    "events line {line} (file line {file_line}) was rejected: {}\n  (a case \
                     about rejections expects them: {{ record = \"rejected\", line = {line} }})",
                    r.get("reason").and_then(Json::as_str).unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(out, "records of this case ({}):", records.len());
    for record in records {
        let _ = writeln!(out, "    {}", show_record(record));
    }
    out
}
