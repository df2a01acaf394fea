//! Reports as Excel workbooks (`--format xlsx --output FILE`), for quality officers who sort,
//! filter and chart in a spreadsheet.
//!
//! A workbook is made from the JSON document of the same report (`--format json`), so that it
//! can never say anything else: every record type gets a sheet whose columns are the record's
//! fields (nested objects such as a period row's `group` become `group.KEY` columns), and the
//! cells are typed:
//! - instants (RFC 3339 text) become date-time cells in the report's zone, shown as
//!   `yyyy-mm-dd hh:mm:ss`, so that they sort and subtract as dates;
//! - durations in seconds (fields ending in `_seconds`) become duration cells shown as
//!   `[h]:mm:ss`;
//! - numbers stay numbers, booleans booleans, `null` an empty cell; lists are written as JSON
//!   text.
//!
//! Every sheet has its header row frozen and an autofilter over its rows.

use chrono::{DateTime, NaiveDateTime};
use chrono_tz::Tz;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value};

/// The columns of the known record types, in the order people read them; fields not listed
/// here follow in alphabetical order.
const ORDER: &[(&str, &[&str])] = &[
    (
        "verdict",
        &[
            "ticket",
            "policy",
            "clause",
            "cycle",
            "status",
            "start",
            "due",
            "stop",
            "overdue_seconds",
            "left_seconds",
            "paused",
            "paused_seconds",
        ],
    ),
    (
        "action",
        &[
            "ticket", "policy", "clause", "cycle", "stage", "action", "role", "at", "status",
            "message",
        ],
    ),
    (
        "finding",
        &["ticket", "policy", "clause", "code", "at", "message"],
    ),
    ("rejected", &["line", "reason", "text"]),
    ("unopened", &["ticket", "events", "first_line"]),
    (
        "clause",
        &[
            "policy",
            "clause",
            "kind",
            "title",
            "cite",
            "verdicts",
            "met",
            "breached",
            "pending",
            "compliance_percent",
            "actions_due",
            "actions_done",
            "actions_missed",
            "findings",
        ],
    ),
    (
        "row",
        &[
            "period", "unit", "policy", "clause", "kind", "status", "detail",
        ],
    ),
];

/// Sheet names of the known record types, in the order of the workbook.
const SHEETS: &[(&str, &str)] = &[
    ("verdict", "Verdicts"),
    ("action", "Actions"),
    ("finding", "Findings"),
    ("rejected", "Rejected"),
    ("unopened", "Unopened"),
];

/// The workbook of `pledge check --format json`'s document (`{"records": [...], "summary":
/// {...}}`): a `Summary` sheet (one row per clause: counts and compliance), a `Totals` sheet
/// (what was read and the instant judged at), then one sheet per record type present.
pub fn check_workbook(document: &Value, zone: Tz) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let styles = Styles::new();
    let summary = document.get("summary").and_then(Value::as_object);
    let clauses: Vec<Map<String, Value>> = summary
        .and_then(|s| s.get("clauses"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.as_object().cloned()).collect())
        .unwrap_or_default();
    table(
        book.add_worksheet(),
        "Summary",
        "clause",
        &clauses,
        zone,
        &styles,
    )?;
    if let Some(summary) = summary {
        totals(book.add_worksheet(), summary, zone, &styles)?;
    }
    let records: Vec<&Map<String, Value>> = document
        .get("records")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let kind_of = |r: &Map<String, Value>| {
        r.get("record")
            .and_then(Value::as_str)
            .unwrap_or("record")
            .to_string()
    };
    let mut kinds: Vec<String> = SHEETS.iter().map(|(k, _)| k.to_string()).collect();
    for r in &records {
        let k = kind_of(r);
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    for kind in kinds {
        let rows: Vec<Map<String, Value>> = records
            .iter()
            .filter(|r| kind_of(r) == kind)
            .map(|r| (*r).clone())
            .collect();
        let known = SHEETS.iter().find(|(k, _)| *k == kind);
        if rows.is_empty() && known.is_none() {
            continue;
        }
        let name = match known {
            Some((_, name)) => name.to_string(),
            None => sheet_name(&kind),
        };
        table(book.add_worksheet(), &name, &kind, &rows, zone, &styles)?;
    }
    book.save_to_buffer()
}

/// The workbook of `pledge report --format json`'s document (`{"unit", "filter", "now",
/// "rows"}`): a `Periods` sheet with one row per period, group and clause, and a `Totals` sheet.
pub fn period_report_workbook(document: &Value, zone: Tz) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let styles = Styles::new();
    let rows: Vec<Map<String, Value>> = document
        .get("rows")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default();
    table(book.add_worksheet(), "Periods", "row", &rows, zone, &styles)?;
    if let Some(top) = document.as_object() {
        totals(book.add_worksheet(), top, zone, &styles)?;
    }
    book.save_to_buffer()
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, capitalised.
fn sheet_name(kind: &str) -> String {
    let clean: String = kind
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    let mut chars = clean.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Records".to_string(),
    }
}

struct Styles {
    header: Format,
    instant: Format,
    duration: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            header: Format::new().set_bold(),
            instant: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
        }
    }
}

/// Nested objects flattened to dotted keys: `{"group": {"project": "x"}}` is `group.project`.
fn flatten(record: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (key, value) in record {
        match value {
            Value::Object(inner) => {
                for (k, v) in flatten(inner) {
                    out.push((format!("{key}.{k}"), v));
                }
            }
            other => out.push((key.clone(), other.clone())),
        }
    }
    out
}

/// One sheet: a header row of field names (the order of [`ORDER`], then the others
/// alphabetically), one row per record, typed cells, the header frozen and filtered.
fn table(
    sheet: &mut Worksheet,
    name: &str,
    kind: &str,
    records: &[Map<String, Value>],
    zone: Tz,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let flat: Vec<Vec<(String, Value)>> = records.iter().map(flatten).collect();
    let order = ORDER
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[][..], |(_, o)| *o);
    let mut columns: Vec<String> = order.iter().map(|c| c.to_string()).collect();
    let mut others: Vec<String> = flat
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .filter(|k| k != "record" && !columns.contains(k))
        .collect();
    others.sort();
    others.dedup();
    columns.extend(others);
    for (c, column) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, col(c), column, &styles.header)?;
        let width = if column.ends_with("message") || column == "reason" || column == "text" {
            60.0
        } else if column == "title" || column == "detail" {
            36.0
        } else {
            (column.chars().count() as f64 + 2.0).max(12.0)
        };
        sheet.set_column_width(col(c), width)?;
    }
    for (r, record) in flat.iter().enumerate() {
        let row = r as u32 + 1;
        for (c, column) in columns.iter().enumerate() {
            if let Some((_, value)) = record.iter().find(|(k, _)| k == column) {
                cell(sheet, row, col(c), column, value, zone, styles)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !columns.is_empty() {
        sheet.autofilter(0, 0, records.len() as u32, col(columns.len() - 1))?;
    }
    Ok(())
}

/// The scalar fields of a summary, one per row (`field`, `value`), instants as date-times.
fn totals(
    sheet: &mut Worksheet,
    summary: &Map<String, Value>,
    zone: Tz,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name("Totals")?;
    sheet.write_string_with_format(0, 0, "field", &styles.header)?;
    sheet.write_string_with_format(0, 1, "value", &styles.header)?;
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 22)?;
    let mut row = 1;
    for (key, value) in summary {
        if matches!(value, Value::Array(_) | Value::Object(_)) {
            continue;
        }
        sheet.write_string(row, 0, key)?;
        cell(sheet, row, 1, key, value, zone, styles)?;
        row += 1;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, row - 1, 1)?;
    Ok(())
}

fn col(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

fn cell(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    name: &str,
    value: &Value,
    zone: Tz,
    styles: &Styles,
) -> Result<(), XlsxError> {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            sheet.write_boolean(row, column, *b)?;
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or_default();
            if name.ends_with("_seconds") {
                sheet.write_number_with_format(row, column, n / 86_400.0, &styles.duration)?;
            } else {
                sheet.write_number(row, column, n)?;
            }
        }
        Value::String(s) => match local_date_time(s, zone) {
            Some(local) => {
                sheet.write_datetime_with_format(
                    row,
                    column,
                    &excel_date_time(local)?,
                    &styles.instant,
                )?;
            }
            None => {
                sheet.write_string(row, column, s)?;
            }
        },
        Value::Array(_) | Value::Object(_) => {
            sheet.write_string(row, column, value.to_string())?;
        }
    }
    Ok(())
}

/// An RFC 3339 instant as the local date-time of `zone`; `None` for any other text.
fn local_date_time(text: &str, zone: Tz) -> Option<NaiveDateTime> {
    // Cheap test first: most strings are no timestamps.
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    Some(at.with_timezone(&zone).naive_local())
}

fn excel_date_time(local: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    use chrono::{Datelike, Timelike};
    let year = u16::try_from(local.year())
        .map_err(|_| XlsxError::ParameterError(format!("{local} is outside Excel's years")))?;
    ExcelDateTime::from_ymd(year, local.month() as u8, local.day() as u8)?.and_hms(
        local.hour() as u16,
        local.minute() as u8,
        f64::from(local.second()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_become_dotted_columns() {
        let record: Map<String, Value> =
            serde_json::from_str(r#"{"group":{"project":"x","unit":null},"met":3}"#).unwrap();
        let flat = flatten(&record);
        assert_eq!(
            flat,
            vec![
                ("group.project".to_string(), Value::from("x")),
                ("group.unit".to_string(), Value::Null),
                ("met".to_string(), Value::from(3)),
            ]
        );
    }

    #[test]
    fn only_instants_are_date_times() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            local_date_time("2026-03-02T01:00:00Z", tz).map(|d| d.to_string()),
            Some("2026-03-02 09:00:00".to_string())
        );
        assert_eq!(local_date_time("GD-2603-001", tz), None);
        assert_eq!(local_date_time("2026-03-02", tz), None);
        assert_eq!(local_date_time("2026-03-02Tlooks like one", tz), None);
    }

    #[test]
    fn sheet_names_are_what_excel_accepts() {
        assert_eq!(sheet_name("target"), "Target");
        assert_eq!(sheet_name("a/b[c]"), "Abc");
        assert_eq!(sheet_name(""), "Records");
        assert_eq!(sheet_name(&"x".repeat(40)).chars().count(), 31);
    }
}
