//! Work-order exports in (xlsx and CSV with a mapping) and workbooks out (`--format xlsx`): the
//! shipped example is what its generator writes, both exports give the same check, bad cells are
//! rejected records naming sheet, row and column, mappings that do not fit are explained, and a
//! report written as a workbook reads back with the counts of `--format json`.

#![cfg(feature = "cli")] // the real binary, and the workbook crates, come with the command

use assert_cmd::Command;
use calamine::{open_workbook_auto, Data, Reader};
use pledge::input::{read_export, Export, ExportKind, Mapping, Record};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value as Json;
use std::path::Path;

#[allow(dead_code)]
#[path = "../examples/orders_export.rs"]
mod orders_export;

const POLICIES: [&str; 2] = ["policies/repairs.pledge", "policies/complaints.pledge"];

fn pledge() -> Command {
    Command::cargo_bin("pledge").expect("the pledge binary is built")
}

fn check(events: &str, extra: &[&str]) -> std::process::Output {
    pledge()
        .arg("check")
        .args(POLICIES)
        .args(["--events", events, "--map", "examples/orders.toml"])
        .args(extra)
        .output()
        .expect("runs")
}

fn json_of(out: &std::process::Output) -> Json {
    serde_json::from_slice(&out.stdout).expect("a JSON document")
}

/// Every cell of every sheet, as calamine reads it.
fn cells(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book = open_workbook_auto(path).expect("a workbook");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("a sheet");
            let rows = range.rows().map(<[Data]>::to_vec).collect();
            (name, rows)
        })
        .collect()
}

#[test]
fn the_shipped_example_export_is_what_its_generator_writes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let xlsx = dir.path().join("orders.xlsx");
    orders_export::write_xlsx(&xlsx).expect("writes");
    assert_eq!(cells(&xlsx), cells(Path::new("examples/orders.xlsx")));
    let csv = std::fs::read_to_string("examples/orders.csv").expect("shipped");
    assert_eq!(csv, orders_export::csv_text());
    let rows = orders_export::rows();
    assert_eq!(rows.len(), 40);
}

#[test]
fn an_xlsx_export_and_the_same_rows_as_csv_give_the_same_check() {
    let a = check("examples/orders.xlsx", &["-f", "json"]);
    let b = check("examples/orders.csv", &["-f", "json"]);
    assert_eq!(
        a.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let (a, b) = (json_of(&a), json_of(&b));
    assert_eq!(a["summary"], b["summary"]);
    // The same records; only the rejected ones differ, by the sheet their reason names.
    let records = |doc: &Json| -> Vec<Json> {
        doc["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["record"] != "rejected")
            .cloned()
            .collect()
    };
    assert_eq!(records(&a), records(&b));
    let summary = &a["summary"];
    assert_eq!(summary["lines"], 41);
    assert_eq!(summary["cases"], 38);
    assert_eq!(summary["rejected"], 5);
    assert_eq!(summary["unopened"], 1);
}

#[test]
fn bad_cells_are_rejected_records_naming_sheet_row_and_column_and_the_rest_stands() {
    let out = check("examples/orders.xlsx", &["-f", "jsonl"]);
    let records: Vec<Json> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let rejected: Vec<(u64, &str)> = records
        .iter()
        .filter(|r| r["record"] == "rejected")
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            (8, "sheet `工单`, row 8, column K `到场时间`, `arrived` event: `待定` is not a date-time like `2026-03-02 09:00`"),
            (15, "sheet `工单`, row 15, column L `完成时间`, `resolved` event: `2026/2/30 14:00` is not a date-time like `2026-03-02 09:00`"),
            (23, "sheet `工单`, row 23, column C `类型`, `opened` event: `保洁` is not in the column's `[values]` table (`咨询`, `建议`, `投诉`, `报修`, `求助`)"),
            (29, "sheet `工单`, row 29, column O `满意度`, `rated` event: `很满意` is not a number"),
            (35, "sheet `工单`, row 35, column A `工单号`: no ticket number"),
        ]
    );
    // Row 8 lost its arrival only: its dispatch was judged.
    assert!(records.iter().any(|r| r["record"] == "verdict"
        && r["ticket"] == "GD-2603-007"
        && r["clause"] == "repair_dispatch_10m"));
    // Row 23 lost its `opened`: the case is reported as never opened, with its row.
    assert!(records.iter().any(|r| r["record"] == "unopened"
        && r["ticket"] == "GD-2603-022"
        && r["first_line"] == 23));
    // The CSV export names the row without a sheet.
    let csv = check(
        "examples/orders.csv",
        &["-f", "jsonl", "--records", "problems"],
    );
    let text = String::from_utf8(csv.stdout).expect("utf-8");
    assert!(
        text.contains(r#""reason":"row 8, column K `到场时间`, `arrived` event"#),
        "{text}"
    );
}

#[test]
fn a_workbook_needs_a_mapping_and_a_mapping_that_does_not_fit_is_explained() {
    let out = pledge()
        .args(["check", POLICIES[0], "--events", "examples/orders.xlsx"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`--map FILE`"));

    let dir = tempfile::tempdir().expect("a temp dir");
    let typo = dir.path().join("typo.toml");
    let text = std::fs::read_to_string("examples/orders.toml")
        .expect("shipped")
        .replace("at = \"到场时间\"", "at = \"到场时问\"");
    std::fs::write(&typo, text).expect("written");
    let out = pledge()
        .args([
            "check",
            POLICIES[0],
            "--events",
            "examples/orders.xlsx",
            "--map",
        ])
        .arg(&typo)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 26, column 6: no column `到场时问` in the header (sheet `工单`, row 1); did you mean `到场时间`?"),
        "{err}"
    );

    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "ticket = \"工单号\"\n[[event]]\ntype = \"opened\"\nat = 报修时间\n",
    )
    .expect("written");
    let out = pledge()
        .args([
            "check",
            POLICIES[0],
            "--events",
            "examples/orders.csv",
            "--map",
        ])
        .arg(&broken)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml` line 4, column 6: "), "{err}");

    let out = pledge()
        .args([
            "check",
            POLICIES[0],
            "--events",
            "examples/orders.xlsx",
            "-f",
            "xlsx",
        ])
        .args(["--map", "examples/orders.toml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "a workbook is never written to standard output"
    );
}

/// An export built here with the awkward things real ones have: title rows above the header,
/// a used range that starts at column B, work-order numbers stored as numbers, times as serial
/// numbers without a date format, as text in several shapes, a blank row, a header named twice.
#[test]
fn an_awkward_workbook_reads_with_rows_and_columns_as_the_spreadsheet_shows_them() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("awkward.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("导出").unwrap();
    sheet.write_string(0, 1, "报修工单导出").unwrap();
    for (c, h) in ["单号", "受理时间", "完成时间", "评分", "备注", "备注"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, c as u16 + 1, *h).unwrap();
    }
    let when = Format::new().set_num_format("yyyy/m/d h:mm");
    let at = ExcelDateTime::from_ymd(2026, 3, 2)
        .unwrap()
        .and_hms(9, 0, 0)
        .unwrap();
    sheet.write_number(3, 1, 20260302001.0).unwrap();
    sheet.write_datetime_with_format(3, 2, &at, &when).unwrap();
    sheet.write_number(3, 3, 46083.5).unwrap(); // 12:00 as a bare serial number
    sheet.write_number(3, 4, 4).unwrap();
    // Row 5 is blank.
    sheet.write_string(5, 1, "B-2").unwrap();
    sheet.write_string(5, 2, "2026年3月2日 10:30").unwrap();
    sheet.write_string(5, 3, "2026-03-02").unwrap(); // a date without a time
    sheet.write_string(5, 4, " 5 ").unwrap();
    sheet.write_string(6, 1, "B-3").unwrap();
    sheet.write_boolean(6, 2, true).unwrap();
    book.save(&path).unwrap();

    let mapping = Mapping::parse(
        r#"
header_row = 3
zone = "Asia/Shanghai"
ticket = "单号"
numbers = ["评分"]
[[event]]
type = "opened"
at = "受理时间"
set = { kind = "repair" }
[[event]]
type = "resolved"
at = "完成时间"
attrs = { score = "评分" }
"#,
        "awkward.toml",
    )
    .expect("a mapping");
    let export = Export {
        kind: ExportKind::from_path("awkward.xlsx"),
        mapping,
    };
    let mut records = Vec::new();
    let file = std::fs::File::open(&path).unwrap();
    let stats = read_export(file, &export, None, |r| records.push(r)).expect("reads");
    let shown: Vec<String> = records
        .iter()
        .map(|r| match r {
            Record::Event(e) => format!(
                "{} {} {} row {} {}",
                e.ticket,
                e.kind,
                e.at.to_rfc3339(),
                e.line,
                e.attrs.to_json()
            ),
            Record::Rejected(r) => format!("rejected row {}: {}", r.line, r.reason),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "rejected row 6: sheet `导出`, row 6, column D `完成时间`, `resolved` event: `2026-03-02` has no time of day".to_string(),
            "rejected row 7: sheet `导出`, row 7, column C `受理时间`, `opened` event: `TRUE` is not a date-time".to_string(),
            "20260302001 opened 2026-03-02T01:00:00+00:00 row 4 {\"kind\":\"repair\"}".to_string(),
            "B-2 opened 2026-03-02T02:30:00+00:00 row 6 {\"kind\":\"repair\"}".to_string(),
            "20260302001 resolved 2026-03-02T04:00:00+00:00 row 4 {\"score\":4}".to_string(),
        ]
    );
    assert_eq!((stats.events, stats.rejected, stats.blank), (3, 2, 1));

    // A mapping that reads a column the header holds twice is refused.
    let twice = Mapping::parse(
        "header_row = 3\nticket = \"单号\"\n[[event]]\ntype = \"opened\"\nat = \"受理时间\"\nattrs = { note = \"备注\" }\n",
        "twice.toml",
    )
    .unwrap();
    let export = Export {
        kind: ExportKind::Xlsx,
        mapping: twice,
    };
    let file = std::fs::File::open(&path).unwrap();
    let err = read_export(file, &export, "Asia/Shanghai".parse().ok(), |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mapping `twice.toml` line 6, column 18: column `备注` appears twice in the header (sheet `导出`, row 3)"
    );
}

#[test]
fn a_check_written_as_a_workbook_reads_back_with_the_counts_of_json() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("check.xlsx");
    let out = check("examples/orders.xlsx", &["-f", "xlsx", "-o"]);
    assert_eq!(out.status.code(), Some(2), "-o needs a value");
    let out = pledge()
        .arg("check")
        .args(POLICIES)
        .args([
            "--events",
            "examples/orders.xlsx",
            "--map",
            "examples/orders.toml",
        ])
        .args(["-f", "xlsx", "--output"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let json = json_of(&check("examples/orders.xlsx", &["-f", "json"]));

    let book = cells(&path);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Summary", "Totals", "Verdicts", "Actions", "Findings", "Rejected", "Unopened",
            "Target"
        ]
    );
    let sheet = |name: &str| &book.iter().find(|(n, _)| n == name).unwrap().1;
    let column = |rows: &Vec<Vec<Data>>, name: &str| {
        rows[0]
            .iter()
            .position(|h| h == &Data::String(name.to_string()))
            .unwrap_or_else(|| panic!("no column {name}"))
    };

    // Summary: one row per clause, the counts of the JSON summary, as numbers.
    let summary = sheet("Summary");
    let clauses = json["summary"]["clauses"].as_array().unwrap();
    assert_eq!(summary.len(), clauses.len() + 1);
    let (c_clause, c_met, c_breached, c_compliance) = (
        column(summary, "clause"),
        column(summary, "met"),
        column(summary, "breached"),
        column(summary, "compliance_percent"),
    );
    for (row, clause) in summary[1..].iter().zip(clauses) {
        assert_eq!(
            row[c_clause],
            Data::String(clause["clause"].as_str().unwrap().into())
        );
        assert_eq!(row[c_met], Data::Float(clause["met"].as_f64().unwrap()));
        assert_eq!(
            row[c_breached],
            Data::Float(clause["breached"].as_f64().unwrap())
        );
        match clause["compliance_percent"].as_f64() {
            Some(p) => assert_eq!(row[c_compliance], Data::Float(p)),
            None => assert_eq!(row[c_compliance], Data::Empty),
        }
    }

    // Verdicts: every verdict record, instants as date-time cells in the report's zone.
    let verdicts = sheet("Verdicts");
    let records: Vec<&Json> = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["record"] == "verdict")
        .collect();
    assert_eq!(verdicts.len(), records.len() + 1);
    let (c_ticket, c_start, c_due, c_stop, c_overdue, c_cycle) = (
        column(verdicts, "ticket"),
        column(verdicts, "start"),
        column(verdicts, "due"),
        column(verdicts, "stop"),
        column(verdicts, "overdue_seconds"),
        column(verdicts, "cycle"),
    );
    for (row, record) in verdicts[1..].iter().zip(&records) {
        assert_eq!(
            row[c_ticket],
            Data::String(record["ticket"].as_str().unwrap().into())
        );
        assert_eq!(row[c_cycle], Data::Float(record["cycle"].as_f64().unwrap()));
        for (c, field) in [(c_start, "start"), (c_due, "due"), (c_stop, "stop")] {
            match record[field].as_str() {
                Some(text) => {
                    let Data::DateTime(dt) = &row[c] else {
                        panic!("{field} of {record} is {:?}", row[c]);
                    };
                    // The local time of the report's zone, to the second.
                    let local = dt.as_datetime().unwrap().format("%Y-%m-%dT%H:%M:%S+08:00");
                    assert_eq!(local.to_string(), text);
                }
                None => assert_eq!(row[c], Data::Empty),
            }
        }
        match record["overdue_seconds"].as_f64() {
            Some(s) => {
                let Data::DateTime(d) = &row[c_overdue] else {
                    panic!("overdue of {record} is {:?}", row[c_overdue]);
                };
                assert!(d.is_duration());
                assert!((d.as_f64() * 86_400.0 - s).abs() < 0.01);
            }
            None => assert_eq!(row[c_overdue], Data::Empty),
        }
    }

    // Totals: the summary's scalars.
    let totals = sheet("Totals");
    let value = |field: &str| {
        totals
            .iter()
            .find(|r| r[0] == Data::String(field.into()))
            .map(|r| r[1].clone())
            .unwrap()
    };
    assert_eq!(value("rejected"), Data::Float(5.0));
    assert_eq!(
        value("breached"),
        Data::Float(json["summary"]["breached"].as_f64().unwrap())
    );
    assert!(matches!(value("now"), Data::DateTime(_)));
    assert_eq!(sheet("Rejected").len(), 6);
}

#[test]
fn a_period_report_written_as_a_workbook_has_its_rows() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("report.xlsx");
    let run = |extra: &[&str]| {
        pledge()
            .arg("report")
            .args(POLICIES)
            .args([
                "--events",
                "examples/orders.csv",
                "--map",
                "examples/orders.toml",
            ])
            .args(["--group-by", "project"])
            .args(extra)
            .output()
            .expect("runs")
    };
    let out = run(&["-f", "xlsx", "-o", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_of(&run(&["-f", "json"]));
    let rows = json["rows"].as_array().unwrap();
    let book = cells(&path);
    assert_eq!(book[0].0, "Periods");
    let sheet = &book[0].1;
    assert_eq!(sheet.len(), rows.len() + 1);
    let header = &sheet[0];
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == &Data::String(name.into()))
            .unwrap()
    };
    let (period, clause, project) = (at("period"), at("clause"), at("group.project"));
    for (row, json_row) in sheet[1..].iter().zip(rows) {
        assert_eq!(
            row[period],
            Data::String(json_row["period"].as_str().unwrap().into())
        );
        assert_eq!(
            row[clause],
            Data::String(json_row["clause"].as_str().unwrap().into())
        );
        match json_row["group"]["project"].as_str() {
            Some(p) => assert_eq!(row[project], Data::String(p.into())),
            None => assert_eq!(row[project], Data::Empty),
        }
    }
}

/// The README's commands on work-order exports run as written (from a directory holding the
/// shipped `examples/` and `policies/`, so that the workbooks they write land in a temp dir),
/// the rejected cells it shows are those of the first, and its mapping excerpt is a valid
/// mapping.
#[test]
#[cfg(unix)]
fn the_readme_examples_on_exports_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let dir = tempfile::tempdir().expect("a temp dir");
    for sub in ["examples", "policies"] {
        std::os::unix::fs::symlink(root.join(sub), dir.path().join(sub)).expect("a link");
    }
    let blocks = |lang: &str| -> Vec<String> {
        readme
            .split(&format!("```{lang}\n"))
            .skip(1)
            .map(|b| b.split("```").next().unwrap().to_string())
            .collect()
    };
    let commands: Vec<String> = blocks("sh")
        .iter()
        .flat_map(|b| b.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.starts_with("pledge ") && l.contains("--map"))
        .collect();
    assert_eq!(commands.len(), 5, "{commands:?}");
    let mut first_stdout = None;
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let out = pledge()
            .current_dir(dir.path())
            .args(&words)
            .output()
            .expect("runs");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(i) = words.iter().position(|w| *w == "--output") {
            let written = std::fs::read(dir.path().join(words[i + 1])).expect("written");
            assert!(written.starts_with(b"PK"), "{command} writes a workbook");
        }
        first_stdout.get_or_insert(String::from_utf8(out.stdout).expect("utf-8"));
    }
    let shown = blocks("text")
        .into_iter()
        .find(|b| b.contains("sheet `工单`, row 8"))
        .expect("the rejected cells are shown");
    let first = first_stdout.unwrap();
    for line in shown.lines() {
        assert!(first.contains(line), "missing {line:?} in\n{first}");
    }
    let excerpt = blocks("toml")
        .into_iter()
        .find(|b| b.contains("ticket = \"工单号\""))
        .expect("the mapping excerpt");
    Mapping::parse(&excerpt, "README.md").expect("the excerpt is a mapping");
}

/// `agenda` and `sample` read an export with its mapping too, with the same rejected cells.
#[test]
fn the_agenda_and_the_sample_draw_read_exports() {
    let out = pledge()
        .args(["agenda", POLICIES[0], "--events", "examples/orders.xlsx"])
        .args(["--map", "examples/orders.toml", "--format", "json"])
        .output()
        .expect("runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agenda = json_of(&out);
    let text = agenda.to_string();
    assert!(text.contains("GD-2603-0"), "{text}");
    let out = pledge()
        .args([
            "sample",
            "policies/quality-control.pledge",
            "--period",
            "2026-03",
        ])
        .args([
            "--events",
            "examples/orders.csv",
            "--map",
            "examples/orders.toml",
        ])
        .output()
        .expect("runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning: 5 input records were rejected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--output` takes the text formats too: the file holds what standard output would have.
#[test]
fn output_writes_text_reports_to_a_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for format in ["human", "json", "jsonl"] {
        let path = dir.path().join(format!("report.{format}"));
        let to_file = check(
            "examples/orders.csv",
            &[
                "-f",
                format,
                "--color",
                "never",
                "-o",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(to_file.status.code(), Some(1));
        assert!(to_file.stdout.is_empty(), "{format}");
        let to_stdout = check("examples/orders.csv", &["-f", format, "--color", "never"]);
        assert_eq!(
            std::fs::read(&path).expect("written"),
            to_stdout.stdout,
            "{format}"
        );
    }
    let out = pledge()
        .args(["report", POLICIES[0], "--events", "examples/orders.csv"])
        .args(["--map", "examples/orders.toml", "-f", "csv", "-o"])
        .arg(dir.path().join("periods.csv"))
        .output()
        .expect("runs");
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(dir.path().join("periods.csv")).expect("written");
    assert!(text.lines().count() > 1, "{text}");
}

/// A Chinese Excel saves "CSV" in GBK (GB18030), not UTF-8: such a file reads as the same
/// rows, with the same records, line numbers and reasons as its UTF-8 copy.
#[test]
fn a_gbk_csv_export_reads_as_its_utf8_copy() {
    let utf8 = std::fs::read_to_string("examples/orders.csv").unwrap();
    assert!(utf8.contains("工单号"), "the example has Chinese headers");
    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(&utf8);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the copy is not UTF-8");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders-gbk.csv");
    std::fs::write(&path, &gbk).unwrap();
    let a = check("examples/orders.csv", &["-f", "json"]);
    let b = check(path.to_str().unwrap(), &["-f", "json"]);
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(json_of(&a), json_of(&b));
}

/// A mapping's event type a letter from one of EVENTS.md is a likely typo: the check warns,
/// naming the type it likely means, and goes on; the shipped mapping gives no warning.
#[test]
fn a_mistyped_event_type_in_a_mapping_is_a_warning() {
    let mapping = std::fs::read_to_string("examples/orders.toml").unwrap();
    assert!(mapping.contains("type = \"dispatched\""));
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.toml");
    std::fs::write(
        &typo,
        mapping.replace("type = \"dispatched\"", "type = \"dispatchd\""),
    )
    .unwrap();
    let out = pledge()
        .arg("check")
        .args(POLICIES)
        .args(["--events", "examples/orders.csv", "--map"])
        .arg(&typo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("event type `dispatchd` is not one of EVENTS.md: did you mean `dispatched`?"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "the check still runs: {stderr}");
    let shipped = check("examples/orders.csv", &[]);
    assert!(
        !String::from_utf8_lossy(&shipped.stderr).contains("warning: mapping"),
        "{}",
        String::from_utf8_lossy(&shipped.stderr)
    );
}

/// A date cell (or a serial number) holds the years a text cell may: one in 9999 is refused
/// as a mistyped year, as the same text would be, and the row's other events stand.
#[test]
fn a_date_cell_past_the_year_2999_is_refused_as_its_text_would_be() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("years.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "单号").unwrap();
    sheet.write_string(0, 1, "受理时间").unwrap();
    sheet.write_string(0, 2, "完成时间").unwrap();
    let when = Format::new().set_num_format("yyyy/m/d h:mm");
    let date = |y, m, d, h| {
        ExcelDateTime::from_ymd(y, m, d)
            .unwrap()
            .and_hms(h, 0, 0)
            .unwrap()
    };
    sheet.write_string(1, 0, "Y-1").unwrap();
    sheet
        .write_datetime_with_format(1, 1, date(2026, 3, 2, 9), &when)
        .unwrap();
    sheet
        .write_datetime_with_format(1, 2, date(9999, 12, 31, 12), &when)
        .unwrap();
    book.save(&path).unwrap();
    let mapping = Mapping::parse(
        "zone = \"Asia/Shanghai\"\nticket = \"单号\"\n[[event]]\ntype = \"opened\"\nat = \"受理时间\"\n[[event]]\ntype = \"resolved\"\nat = \"完成时间\"\n",
        "years.toml",
    )
    .expect("a mapping");
    let export = Export {
        kind: ExportKind::Xlsx,
        mapping,
    };
    let mut shown = Vec::new();
    let file = std::fs::File::open(&path).unwrap();
    read_export(file, &export, None, |r| {
        shown.push(match r {
            Record::Event(e) => format!("{} {}", e.ticket, e.kind),
            Record::Rejected(r) => r.reason,
        })
    })
    .expect("reads");
    assert_eq!(
        shown,
        [
            "sheet `Sheet1`, row 2, column C `完成时间`, `resolved` event: `9999-12-31 12:00:00` is after the year 2999 (a mistyped year?)",
            "Y-1 opened",
        ]
    );
}
