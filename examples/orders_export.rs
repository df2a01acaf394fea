//! Writes `examples/orders.xlsx` and `examples/orders.csv`: one week of a work-order export of a
//! ticketing system, one row per ticket, as quality officers receive it, with a few deliberately
//! bad cells (examples/README.md lists them). `examples/orders.toml` maps its columns to events.
//!
//! The files are generated, never edited by hand: change the rows here and run
//! `cargo run --example orders_export`. `tests/export.rs` rebuilds both files and checks that
//! the shipped ones hold the same cells.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::path::Path;

/// The export's columns, as the ticketing system names them.
pub const HEADER: [&str; 16] = [
    "工单号",
    "报修时间",
    "类型",
    "级别",
    "项目",
    "房号",
    "来源",
    "派单时间",
    "处理班组",
    "联系时间",
    "到场时间",
    "完成时间",
    "回访时间",
    "回访方式",
    "满意度",
    "关闭时间",
];

/// One cell of the export.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Empty,
    Text(String),
    Number(f64),
    /// A local date-time: (year, month, day, hour, minute), written as a date-time cell in the
    /// workbook and as `2026-03-02 09:05` in the CSV file.
    At(u16, u8, u8, u8, u8),
}

/// Minutes since 2026-03-02 00:00 (a Monday) as a date-time of that week or the next.
fn at(minutes: u32) -> Out {
    let day = 2 + minutes / 1440;
    let rest = minutes % 1440;
    Out::At(2026, 3, day as u8, (rest / 60) as u8, (rest % 60) as u8)
}

fn text(s: &str) -> Out {
    Out::Text(s.to_string())
}

/// The rows below the header, in the order the system exports them (by 报修时间).
pub fn rows() -> Vec<Vec<Out>> {
    let projects = ["金邸世家", "滨江花园", "翠湖苑", "云栖商业中心"];
    let channels = ["电话", "微信", "APP", "前台"];
    let teams = ["水电班", "土建班", "电梯班"];
    let kinds = [
        "报修", "报修", "投诉", "报修", "报修", "咨询", "报修", "报修", "投诉", "报修",
    ];
    let mut rows = Vec::new();
    for i in 0..40u32 {
        let kind = kinds[(i % 10) as usize];
        // Eight tickets a day, Monday to Friday, from 08:00 on.
        let opened = (i / 8) * 1440 + 8 * 60 + (i % 8) * 80 + (i * 7) % 13;
        let friday_late = i >= 37;
        let mut row = vec![
            text(&format!("GD-2603-{:03}", i + 1)),
            at(opened),
            text(kind),
            match kind {
                "报修" if i % 3 == 2 => text("中修"),
                "报修" => text("小修"),
                "投诉" => text("一般"),
                _ => Out::Empty,
            },
            text(projects[(i % 4) as usize]),
            text(&format!(
                "{}-{}-{}{:02}",
                1 + i % 6,
                1 + i % 2,
                3 + i % 20,
                1 + i % 4
            )),
            text(channels[(i % 4) as usize]),
        ];
        let dispatched = opened + 3 + (i * 5) % 17;
        let (dispatch, team, contact) = match kind {
            "报修" => (at(dispatched), text(teams[(i % 3) as usize]), Out::Empty),
            "投诉" => (
                at(dispatched),
                text("客服部"),
                at(opened + 25 + (i * 11) % 50),
            ),
            _ => (Out::Empty, Out::Empty, Out::Empty),
        };
        row.extend([dispatch, team, contact]);
        let arrived = dispatched + 15 + (i * 13) % 35;
        let done = match kind {
            "报修" if i % 3 == 2 => arrived + 1440 + (i * 37) % 1200,
            "报修" => arrived + 60 + (i * 53) % 480,
            "投诉" => opened + 240 + (i * 41) % 900,
            _ => opened + 30 + i % 20,
        };
        let revisit = done + 240 + (i * 97) % 1500;
        let arrival = if kind == "报修" {
            at(arrived)
        } else {
            Out::Empty
        };
        if friday_late {
            row.extend([
                arrival,
                Out::Empty,
                Out::Empty,
                Out::Empty,
                Out::Empty,
                Out::Empty,
            ]);
        } else if kind == "咨询" {
            row.extend([
                arrival,
                at(done),
                Out::Empty,
                Out::Empty,
                Out::Empty,
                at(done + 5),
            ]);
        } else {
            row.extend([
                arrival,
                at(done),
                at(revisit),
                text(if i % 2 == 0 { "电话" } else { "上门" }),
                Out::Number(f64::from([5, 4, 5, 3, 5, 4, 2, 5][(i % 8) as usize])),
                at(revisit + 60),
            ]);
        }
        rows.push(row);
    }
    // A time typed as text in another shape, as happens when a cell was corrected by hand.
    rows[10][1] = text("2026/3/3 9:20");
    // The deliberately bad cells (examples/README.md):
    rows[6][10] = text("待定"); // row 8: 到场时间 is not a time
    rows[13][11] = text("2026/2/30 14:00"); // row 15: 完成时间 on a day that does not exist
    rows[21][2] = text("保洁"); // row 23: 类型 missing from the mapping's value table
    rows[27][14] = text("很满意"); // row 29: 满意度 is not a number
    rows[33][0] = Out::Empty; // row 35: no 工单号
    rows
}

/// Writes the workbook: a notes sheet first, then the sheet `工单` with date-time cells.
pub fn write_xlsx(path: &Path) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    // A fixed creation time, so that the file does not change from one run to the next.
    let created = ExcelDateTime::from_ymd(2026, 3, 7)?.and_hms(9, 0, 0)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let notes = book.add_worksheet();
    notes.set_name("说明")?;
    notes.write_string(0, 0, "工单导出 2026-03-02 至 2026-03-06(示例数据)")?;
    let sheet = book.add_worksheet();
    sheet.set_name("工单")?;
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        sheet.set_column_width(c as u16, if c == 0 || c == 5 { 14 } else { 17 })?;
    }
    let rows = rows();
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Out::Empty => {}
                Out::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Out::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                Out::At(y, mo, d, h, mi) => {
                    let dt =
                        ExcelDateTime::from_ymd(*y, *mo, *d)?.and_hms(u16::from(*h), *mi, 0)?;
                    sheet.write_datetime_with_format(r, c, &dt, &when)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows.len() as u32, HEADER.len() as u16 - 1)?;
    book.save(path)
}

/// The CSV text of the same rows, with the byte-order mark spreadsheets write.
pub fn csv_text() -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(","));
    out.push_str("\r\n");
    for row in rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| match cell {
                Out::Empty => String::new(),
                Out::Text(s) => s.clone(),
                Out::Number(n) => format!("{n}"),
                Out::At(y, mo, d, h, mi) => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}"),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[allow(dead_code)] // a module of tests/export.rs too, which has its own main
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    write_xlsx(&dir.join("orders.xlsx"))?;
    std::fs::write(dir.join("orders.csv"), csv_text())?;
    println!("wrote examples/orders.xlsx and examples/orders.csv");
    Ok(())
}
