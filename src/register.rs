//! Reference data: registers the policy names, read from CSV files by the loader
//! (`include register "staff.csv" as staff`), and checked by event filters
//! (`arrived(by in staff(document == "health_certificate"))`).
//!
//! A register is what the ticket stream does not say: which staff member holds which
//! certificate, and until when. The language reads no file of its own accord; the loader reads
//! the file named by the policy, relative to the policy file, as it reads an included holiday
//! file, and the evaluator only looks rows up.
//!
//! The file is CSV with a header line. Its columns:
//! - `key` (required): what an event's attribute is looked up by (a staff id, a unit);
//! - `valid_from`, `valid_until` (optional, `YYYY-MM-DD`, both days included, empty = open):
//!   the dates on which the row holds, in the policy's zone;
//! - any other column: text the filter in parentheses may test (`document ==
//!   "health_certificate"`); an empty cell is an absent attribute.
//!
//! A row that cannot be read (a missing key, a date that is not one, a `valid_until` before its
//! `valid_from`, a wrong number of cells) is a diagnostic with the file's line and the reason;
//! every such row is reported, not only the first.

use crate::event::Instant;
use crate::value::{Attrs, Value};
use chrono::NaiveDate;
use chrono_tz::Tz;

/// A register read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Register {
    /// The name the policy gives it (`as staff`).
    pub name: String,
    /// The path as the policy writes it.
    pub path: String,
    /// The columns other than `key`, `valid_from` and `valid_until`, in file order.
    pub columns: Vec<String>,
    /// The zone whose dates `valid_from` and `valid_until` are.
    pub zone: Tz,
    pub rows: Vec<RegisterRow>,
}

/// One row of a register.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterRow {
    pub key: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// The other columns' non-empty cells, as text.
    pub attrs: Attrs,
    /// 1-based line in the file.
    pub line: u64,
}

/// A row that could not be read: its line, byte range in the file, and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub start: usize,
    pub end: usize,
    pub reason: String,
}

impl Register {
    /// Reads a register from the text of its file. Rows that cannot be read are left out and
    /// returned as errors (all of them), so that a loader reports every mistake at once.
    pub fn parse(name: &str, path: &str, text: &str, zone: Tz) -> (Register, Vec<RowError>) {
        let mut errors = Vec::new();
        let mut register = Register {
            name: name.to_string(),
            path: path.to_string(),
            columns: Vec::new(),
            zone,
            rows: Vec::new(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header: Option<Vec<String>> = None;
        let (mut key_at, mut from_at, mut until_at) = (None, None, None);
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let (line, start) = e
                        .position()
                        .map_or((0, 0), |p| (p.line(), p.byte() as usize));
                    errors.push(RowError {
                        line,
                        start,
                        end: line_end(text, start),
                        reason: format!("not CSV: {e}"),
                    });
                    continue;
                }
            };
            let (line, start) = record
                .position()
                .map_or((0, 0), |p| (p.line(), p.byte() as usize));
            let end = line_end(text, start);
            let cells: Vec<&str> = record.iter().map(str::trim).collect();
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            let Some(names) = &header else {
                let names: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
                key_at = names.iter().position(|n| n == "key");
                from_at = names.iter().position(|n| n == "valid_from");
                until_at = names.iter().position(|n| n == "valid_until");
                if key_at.is_none() {
                    errors.push(RowError {
                        line,
                        start,
                        end,
                        reason: "the header has no `key` column".into(),
                    });
                }
                register.columns = names
                    .iter()
                    .filter(|n| !matches!(n.as_str(), "key" | "valid_from" | "valid_until"))
                    .cloned()
                    .collect();
                header = Some(names);
                continue;
            };
            let mut fail = |reason: String| {
                errors.push(RowError {
                    line,
                    start,
                    end,
                    reason,
                })
            };
            if cells.len() != names.len() {
                fail(format!(
                    "{} cells, the header has {}",
                    cells.len(),
                    names.len()
                ));
                continue;
            }
            let Some(key) = key_at.map(|i| cells[i]).filter(|k| !k.is_empty()) else {
                fail("the `key` cell is empty".into());
                continue;
            };
            let date = |at: Option<usize>, column: &str| -> Result<Option<NaiveDate>, String> {
                match at.map(|i| cells[i]).filter(|c| !c.is_empty()) {
                    None => Ok(None),
                    Some(c) => NaiveDate::parse_from_str(c, "%Y-%m-%d")
                        .map(Some)
                        .map_err(|_| format!("`{column}` is `{c}`, not a date (YYYY-MM-DD)")),
                }
            };
            let (valid_from, valid_until) =
                match (date(from_at, "valid_from"), date(until_at, "valid_until")) {
                    (Ok(f), Ok(u)) => (f, u),
                    (Err(e), _) | (_, Err(e)) => {
                        fail(e);
                        continue;
                    }
                };
            if let (Some(f), Some(u)) = (valid_from, valid_until) {
                if u < f {
                    fail(format!("`valid_until` {u} is before `valid_from` {f}"));
                    continue;
                }
            }
            let mut attrs = Attrs::new();
            for (name, cell) in names.iter().zip(&cells) {
                if !cell.is_empty()
                    && !matches!(name.as_str(), "key" | "valid_from" | "valid_until")
                {
                    attrs.insert(name, Value::String((*cell).into()));
                }
            }
            register.rows.push(RegisterRow {
                key: key.to_string(),
                valid_from,
                valid_until,
                attrs,
                line,
            });
        }
        if header.is_none() {
            errors.push(RowError {
                line: 1,
                start: 0,
                end: 0,
                reason: "the file is empty: a register needs a header with a `key` column".into(),
            });
        }
        (register, errors)
    }

    /// Whether a row for `key` holds at `at` (on its local date, and with `days` > 1 on each
    /// of that many dates from it; any date when `at` is unknown and the row has no bounds)
    /// and satisfies `filter` on its columns. A list key: any element. Any other value than
    /// text or a number: no row.
    pub fn holds(
        &self,
        key: &Value,
        at: Option<Instant>,
        filter: Option<&crate::policy::Condition>,
        days: u32,
    ) -> bool {
        let keys: Vec<String> = match key {
            Value::List(items) => items.iter().filter_map(key_text).collect(),
            other => key_text(other).into_iter().collect(),
        };
        let date = at.map(|t| t.with_timezone(&self.zone).date_naive());
        let last =
            date.and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(days.max(1) - 1))));
        self.rows.iter().any(|row| {
            keys.contains(&row.key)
                && match date {
                    Some(d) => {
                        row.valid_from.is_none_or(|f| f <= d)
                            && last.is_some_and(|l| row.valid_until.is_none_or(|u| l <= u))
                    }
                    None => row.valid_from.is_none() && row.valid_until.is_none(),
                }
                && filter.is_none_or(|f| f.eval(&row.attrs))
        })
    }
}

fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        Value::Number(n) => Some(Value::Number(*n).to_string()),
        _ => None,
    }
}

/// The end of the line that starts at byte `start`.
fn line_end(text: &str, start: usize) -> usize {
    let start = start.min(text.len());
    text[start..].find('\n').map_or(text.len(), |n| start + n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{CmpOp, Condition};

    const STAFF: &str = "key,document,valid_from,valid_until\n\
        W-01,health_certificate,2026-01-01,2026-12-31\n\
        W-01,skills_certificate,2025-06-01,\n\
        W-02,health_certificate,2025-01-01,2026-02-28\n";

    fn at(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn doc(d: &str) -> Condition {
        Condition::Compare {
            attr: "document".into(),
            op: CmpOp::Eq,
            value: Value::String(d.into()),
        }
    }

    #[test]
    fn a_row_holds_on_the_days_it_is_valid_in_the_zone() {
        let (r, errors) = Register::parse("staff", "staff.csv", STAFF, chrono_tz::Asia::Shanghai);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.columns, ["document"]);
        let w2 = Value::String("W-02".into());
        let health = doc("health_certificate");
        // The last day counts, to its end in Shanghai (16:00 UTC is midnight there).
        assert!(r.holds(&w2, Some(at("2026-02-28T15:59:59Z")), Some(&health), 0));
        assert!(!r.holds(&w2, Some(at("2026-02-28T16:00:00Z")), Some(&health), 0));
        // An open end holds on.
        let w1 = Value::String("W-01".into());
        assert!(r.holds(
            &w1,
            Some(at("2030-01-01T00:00:00Z")),
            Some(&doc("skills_certificate")),
            0
        ));
        // No row for the key, or none satisfying the filter.
        assert!(!r.holds(
            &Value::String("W-03".into()),
            Some(at("2026-03-01T00:00:00Z")),
            None,
            0
        ));
        assert!(!r.holds(
            &w2,
            Some(at("2026-01-10T00:00:00Z")),
            Some(&doc("skills_certificate")),
            0
        ));
    }

    #[test]
    fn for_n_days_asks_one_row_to_hold_on_each_of_them() {
        let (r, _) = Register::parse("staff", "staff.csv", STAFF, chrono_tz::Asia::Shanghai);
        let w2 = Value::String("W-02".into());
        let health = doc("health_certificate");
        // Valid until 2026-02-28: from 02-14, 15 dates end on 02-28; from 02-15 they do not.
        assert!(r.holds(&w2, Some(at("2026-02-14T02:00:00Z")), Some(&health), 15));
        assert!(!r.holds(&w2, Some(at("2026-02-15T02:00:00Z")), Some(&health), 15));
        // 1 day is the event's date alone, as 0 is.
        assert!(r.holds(&w2, Some(at("2026-02-28T02:00:00Z")), Some(&health), 1));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_reason() {
        let text = "key,document,valid_from,valid_until\n\
            ,health_certificate,2026-01-01,\n\
            W-01,health_certificate,2026-13-01,\n\
            W-02,health_certificate,2026-05-01,2026-04-01\n\
            W-03,health_certificate\n\
            W-04,skills_certificate,,\n";
        let (r, errors) = Register::parse("staff", "staff.csv", text, chrono_tz::Asia::Shanghai);
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "the `key` cell is empty"),
                (3, "`valid_from` is `2026-13-01`, not a date (YYYY-MM-DD)"),
                (
                    4,
                    "`valid_until` 2026-04-01 is before `valid_from` 2026-05-01"
                ),
                (5, "2 cells, the header has 4"),
            ]
        );
        // The good row is kept.
        assert_eq!(r.rows.len(), 1);
        assert_eq!(
            &text[errors[0].start..errors[0].end],
            ",health_certificate,2026-01-01,"
        );
    }

    #[test]
    fn a_header_without_key_and_an_empty_file_are_errors() {
        let (_, e) = Register::parse("s", "s.csv", "id,document\n", chrono_tz::UTC);
        assert_eq!(e[0].reason, "the header has no `key` column");
        let (_, e) = Register::parse("s", "s.csv", "", chrono_tz::UTC);
        assert_eq!(e.len(), 1);
    }
}
