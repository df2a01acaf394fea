//! Work-order exports: one row per ticket in a workbook sheet (.xlsx) or a CSV file, turned into
//! events by a [`Mapping`].
//!
//! Each row makes one event per `[[event]]` table of the mapping whose timestamp cell is not
//! empty, all with the row's ticket; the attributes come from the columns the table names. An
//! export is read whole (exports are small next to event streams), and its events are handed on
//! in time order, so that the evaluator sees a stream as a ticketing system would have sent it
//! rather than one ticket's whole life at a time.
//!
//! Nothing is lost silently, as with event streams: a row without a ticket is one rejected record;
//! a cell that cannot be read (a timestamp that is no date-time, a value the mapping's `[values]`
//! table does not list, text in a `numbers` column, an error cell like `#N/A`) rejects the one
//! event that needed it, with the sheet, the row as the spreadsheet numbers it, the column letter
//! and its header in the reason. The row's other events stand. A row whose cells are all empty is
//! blank.
//!
//! Cells:
//! - timestamps: date-time cells of a workbook; numbers (a spreadsheet's serial date-times); text
//!   in the common shapes `2026-03-02 09:00`, `2026/3/2 9:00`, `2026.3.2 9:00`,
//!   `2026年3月2日 9:00`, each with or without seconds, or RFC 3339 with an offset. Local times are
//!   in the mapping's `zone` (else `--tz`), with the rules of event timestamps for the hour a
//!   clock skips or repeats. A date without a time of day is refused: midnight would be a guess
//!   that moves every deadline;
//! - the ticket: text, or a whole number (exports often store work-order numbers as numbers),
//!   written in decimal;
//! - attributes: text (trimmed), numbers, booleans; a date-time cell becomes its RFC 3339 text
//!   in the zone. With a `[values]` table for the column, the cell's text must be one of its keys
//!   and becomes that key's value; in a `numbers` column, text must be a number.

use super::mapping::{Column, Mapping, MappingError};
use super::{excerpt, in_zone, parse_timestamp, ReadStats, Record, Rejected};
use super::{quoted, REJECTED_TEXT_CHARS};
use crate::event::{Event, Instant};
use crate::value::{Attrs, Value};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::io::{self, Read};

/// The two kinds of export file a mapping reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// An Excel workbook (`.xlsx`, also `.xlsm`, `.xls`, `.ods` as the reader knows them).
    Xlsx,
    /// A CSV file with the export's own column names.
    Csv,
}

impl ExportKind {
    /// `Xlsx` for the extensions of workbooks, `Csv` otherwise.
    pub fn from_path(path: &str) -> ExportKind {
        let lower = path.to_lowercase();
        if [".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            ExportKind::Xlsx
        } else {
            ExportKind::Csv
        }
    }
}

/// An export to read: its kind and the mapping of its columns. Set in
/// [`ReadOptions::export`](super::ReadOptions::export), it makes every reader of events read an
/// export instead of an event stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub kind: ExportKind,
    pub mapping: Mapping,
}

/// One cell, whatever the file: what a mapping can make of it. (CSV cells are only ever text,
/// empty or errors; the other kinds come from workbooks.)
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "xlsx"), allow(dead_code))]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    /// An error cell (`#N/A`, `#VALUE!`) or a cell of a kind no mapping reads (a duration).
    Error(String),
}

impl Cell {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a person reads it, for excerpts and value tables.
    fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::DateTime(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A number as a spreadsheet shows it in general format: whole numbers without a fraction.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A sheet (or CSV file) in memory: rows with the numbers the spreadsheet shows.
pub(crate) struct Table {
    /// The sheet's name; `None` for CSV.
    pub sheet: Option<String>,
    /// 0-based index of the first column held (a sheet's used range may start past `A`).
    pub first_column: usize,
    /// Row number as shown (1-based), the input line it starts on (CSV; the row number for a
    /// sheet), and its cells.
    pub rows: Vec<(u64, u64, Vec<Cell>)>,
    /// Physical lines (CSV) or rows (sheets) read, and bytes.
    pub lines: u64,
    pub bytes: u64,
}

/// Reads an export from `reader` with `export`'s mapping; `tz` is the zone of local times when
/// the mapping names none. Records reach `on_record` as for event streams: rejected rows and
/// cells first, in row order, then the events in time order (rows in order within an instant).
/// A mapping that does not fit the header, a missing sheet or a file that is no workbook is an
/// `InvalidData` error: no row could be read.
pub fn read_export<R: Read>(
    mut reader: R,
    export: &Export,
    tz: Option<Tz>,
    mut on_record: impl FnMut(Record),
) -> io::Result<ReadStats> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let table = match export.kind {
        ExportKind::Csv => csv_table(&bytes)?,
        ExportKind::Xlsx => xlsx_table(bytes, &export.mapping)?,
    };
    let zone = export.mapping.zone.or(tz).ok_or_else(|| {
        invalid(MappingError {
            name: export.mapping.name.clone(),
            at: None,
            message: "no zone for the export's local times: write `zone = \"Asia/Shanghai\"` \
                      (or another IANA zone) in the mapping, or give --tz"
                .to_string(),
        })
    })?;
    let mut stats = ReadStats {
        lines: table.lines,
        bytes: table.bytes,
        ..ReadStats::default()
    };
    let mut events = Vec::new();
    map_rows(
        &table,
        &export.mapping,
        zone,
        &mut stats,
        &mut events,
        &mut on_record,
    )?;
    // Stable: events of one instant stay in row order, and a row's in mapping order.
    events.sort_by_key(|e: &Event| e.at);
    for event in events {
        on_record(Record::Event(event));
    }
    Ok(stats)
}

fn invalid(e: MappingError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Where a header or row is, for messages: "sheet `工单`, row 7" or "row 7".
fn place(table: &Table, row: u64) -> String {
    match &table.sheet {
        Some(sheet) => format!("sheet `{}`, row {row}", quoted(sheet)),
        None => format!("row {row}"),
    }
}

/// The spreadsheet letters of a 0-based column index: 0 is `A`, 26 is `AA`.
pub fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The columns of a mapping resolved against one header.
struct Plan<'m> {
    ticket: usize,
    events: Vec<PlannedEvent<'m>>,
    numbers: Vec<usize>,
    values: BTreeMap<usize, &'m BTreeMap<String, Value>>,
    names: Vec<String>,
}

struct PlannedEvent<'m> {
    kind: &'m str,
    at: usize,
    attrs: Vec<(&'m str, usize)>,
    set: &'m [(String, Value)],
}

fn map_rows(
    table: &Table,
    mapping: &Mapping,
    zone: Tz,
    stats: &mut ReadStats,
    events: &mut Vec<Event>,
    on_record: &mut impl FnMut(Record),
) -> io::Result<()> {
    let header_at = table
        .rows
        .iter()
        .position(|(row, _, _)| *row == u64::from(mapping.header_row));
    let where_ = place(table, u64::from(mapping.header_row));
    let Some(header_at) = header_at else {
        return Err(invalid(MappingError {
            name: mapping.name.clone(),
            at: None,
            message: format!("the header ({where_}) is empty or past the last row"),
        }));
    };
    let header: Vec<String> = table.rows[header_at]
        .2
        .iter()
        .map(|c| c.display().trim().to_string())
        .collect();
    let index = mapping.resolve(&header, &where_).map_err(invalid)?;
    let col = |c: &Column| index[&c.name];
    let plan = Plan {
        ticket: col(&mapping.ticket),
        events: mapping
            .events
            .iter()
            .map(|e| PlannedEvent {
                kind: &e.kind,
                at: col(&e.at),
                attrs: e.attrs.iter().map(|(k, c)| (k.as_str(), col(c))).collect(),
                set: &e.set,
            })
            .collect(),
        numbers: mapping.numbers.iter().map(col).collect(),
        values: mapping
            .values
            .iter()
            .map(|(name, table)| (index[name], table))
            .collect(),
        names: header,
    };
    for (row, line, cells) in &table.rows[header_at + 1..] {
        if cells.iter().all(Cell::is_empty) {
            stats.blank += 1;
            continue;
        }
        let reject = |reason: String| {
            Record::Rejected(Rejected {
                line: *line,
                reason,
                text: excerpt(row_text(cells).as_bytes(), REJECTED_TEXT_CHARS),
            })
        };
        let at_cell = |c: usize| {
            format!(
                "{}, column {} `{}`",
                place(table, *row),
                column_letters(table.first_column + c),
                quoted(plan.names.get(c).map_or("", String::as_str))
            )
        };
        let empty = Cell::Empty;
        let cell = |c: usize| cells.get(c).unwrap_or(&empty);
        let ticket = match ticket_text(cell(plan.ticket)) {
            Ok(t) => t,
            Err(why) => {
                stats.rejected += 1;
                on_record(reject(format!("{}: {why}", at_cell(plan.ticket))));
                continue;
            }
        };
        'event: for e in &plan.events {
            let at = match timestamp(cell(e.at), zone) {
                Ok(Some(at)) => at,
                Ok(None) => continue,
                Err(why) => {
                    stats.rejected += 1;
                    on_record(reject(format!(
                        "{}, `{}` event: {why}",
                        at_cell(e.at),
                        e.kind
                    )));
                    continue;
                }
            };
            let mut attrs = Attrs::new();
            for (key, value) in e.set {
                attrs.insert(key, value.clone());
            }
            for &(key, c) in &e.attrs {
                match attribute(
                    cell(c),
                    plan.values.get(&c).copied(),
                    plan.numbers.contains(&c),
                    zone,
                ) {
                    Ok(Some(v)) => attrs.insert(key, v),
                    Ok(None) => {}
                    Err(why) => {
                        stats.rejected += 1;
                        on_record(reject(format!("{}, `{}` event: {why}", at_cell(c), e.kind)));
                        continue 'event;
                    }
                }
            }
            stats.events += 1;
            events.push(Event {
                ticket: ticket.as_str().into(),
                at,
                kind: e.kind.into(),
                id: None,
                attrs,
                line: *line,
            });
        }
    }
    Ok(())
}

/// A row as text for the rejected record's excerpt: its cells joined by ` | `.
fn row_text(cells: &[Cell]) -> String {
    let mut end = cells.len();
    while end > 0 && cells[end - 1].is_empty() {
        end -= 1;
    }
    cells[..end]
        .iter()
        .map(Cell::display)
        .collect::<Vec<_>>()
        .join(" | ")
}

fn ticket_text(cell: &Cell) -> Result<String, String> {
    match cell {
        Cell::Text(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Cell::Empty | Cell::Text(_) => Err("no ticket number".to_string()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(number_text(*n)),
        other => Err(format!(
            "`{}` is not a ticket number",
            quoted(&other.display())
        )),
    }
}

/// A timestamp cell: `Ok(None)` when empty.
fn timestamp(cell: &Cell, zone: Tz) -> Result<Option<Instant>, String> {
    let local = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(t) if t.trim().is_empty() => return Ok(None),
        Cell::DateTime(dt) => *dt,
        Cell::Number(n) => serial_date_time(*n)
            .ok_or_else(|| format!("`{}` is not a date-time", number_text(*n)))?,
        Cell::Text(t) => return text_timestamp(t.trim(), zone).map(Some),
        Cell::Bool(_) | Cell::Error(_) => {
            return Err(format!("`{}` is not a date-time", quoted(&cell.display())))
        }
    };
    let at = in_zone(local, Some(zone)).map_err(|_| format!("`{}` is not a date-time", local))?;
    // A date cell holds the years a text cell may: before 1900 or after 2999 is refused.
    match super::event_at_in_range(at) {
        Err(super::TimestampError::TooEarly) => {
            Err(format!("`{local}` is before 1900 (a mistyped year?)"))
        }
        Err(_) => Err(format!(
            "`{local}` is after the year 2999 (a mistyped year?)"
        )),
        Ok(at) => Ok(Some(at)),
    }
}

/// The date-time of a spreadsheet serial number (days since 1899-12-30, the fraction the time of
/// day), for the range of dates a ticket can have (1901 to 9999).
fn serial_date_time(serial: f64) -> Option<NaiveDateTime> {
    if !(367.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (serial * 86_400_000.0).round() as i64;
    // Excel's clock has millisecond resolution; round to the second, as it shows them.
    let seconds = (millis + 500).div_euclid(1000);
    epoch.checked_add_signed(TimeDelta::try_seconds(seconds)?)
}

/// Text shapes of local date-times in exports (chrono reads one- or two-digit fields alike).
const LOCAL_FORMATS: [&str; 10] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
];

/// A cell's text as an instant (RFC 3339, or a local date-time or date in one of the usual
/// formats); before 1900 or after 2999, as for any event, it is refused.
fn text_timestamp(text: &str, zone: Tz) -> Result<Instant, String> {
    let at = any_text_timestamp(text, zone)?;
    match super::event_at_in_range(at) {
        Err(super::TimestampError::TooEarly) => Err(format!(
            "`{}` is before 1900 (a mistyped year?)",
            quoted(text)
        )),
        Err(_) => Err(format!(
            "`{}` is after the year 2999 (a mistyped year?)",
            quoted(text)
        )),
        Ok(at) => Ok(at),
    }
}

fn any_text_timestamp(text: &str, zone: Tz) -> Result<Instant, String> {
    if let Ok(at) = parse_timestamp(text, Some(zone)) {
        return Ok(at);
    }
    for format in LOCAL_FORMATS {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return in_zone(local, Some(zone)).map_err(|_| not_a_date_time(text));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"] {
        if NaiveDate::parse_from_str(text, format).is_ok() {
            return Err(format!("`{}` has no time of day", quoted(text)));
        }
    }
    Err(not_a_date_time(text))
}

fn not_a_date_time(text: &str) -> String {
    format!(
        "`{}` is not a date-time like `2026-03-02 09:00`",
        quoted(text)
    )
}

/// An attribute cell: `Ok(None)` when empty.
fn attribute(
    cell: &Cell,
    values: Option<&BTreeMap<String, Value>>,
    number: bool,
    zone: Tz,
) -> Result<Option<Value>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    if let Cell::Error(e) = cell {
        return Err(format!("error cell `{}`", quoted(e)));
    }
    if let Some(values) = values {
        let text = cell.display();
        let key = text.trim();
        return match values.get(key) {
            Some(v) => Ok(Some(v.clone())),
            None => {
                let known: Vec<String> = values.keys().take(8).map(|k| format!("`{k}`")).collect();
                Err(format!(
                    "`{}` is not in the column's `[values]` table ({})",
                    quoted(key),
                    known.join(", ")
                ))
            }
        };
    }
    Ok(Some(match cell {
        Cell::Text(t) if number => {
            let n: f64 = t
                .trim()
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| format!("`{}` is not a number", quoted(t.trim())))?;
            Value::Number(n)
        }
        Cell::Text(t) => Value::String(t.trim().into()),
        Cell::Number(n) => Value::Number(*n),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::DateTime(dt) => {
            let at = in_zone(*dt, Some(zone)).map_err(|_| format!("`{dt}` is not a date-time"))?;
            Value::String(at.with_timezone(&zone).to_rfc3339().as_str().into())
        }
        Cell::Empty | Cell::Error(_) => return Ok(None),
    }))
}

/// A CSV export: every record a row, numbered as a spreadsheet would show it (the first record
/// is row 1), with the line it starts on. A file that is not UTF-8 but is clean GB18030 (GBK,
/// what a Chinese Excel saves as "CSV") is read as that; in a file that is neither, a record
/// that is not UTF-8 is one cell of error.
fn csv_table(bytes: &[u8]) -> io::Result<Table> {
    let bytes_len = bytes.len() as u64;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // GB18030 never uses the bytes of a line break, a quote or a comma inside a character, so
    // the decoded text has the same records on the same lines.
    let decoded = match std::str::from_utf8(body) {
        Ok(_) => None,
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(body),
    };
    let body = decoded.as_deref().map_or(body, str::as_bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    let (mut line, mut counted) = (1u64, 0usize);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                // The line the record starts on, counted here: a quoted field may span lines.
                // (The reader's position may stand on the line break before the record.)
                let mut start = record
                    .position()
                    .map_or(0, |p| p.byte() as usize)
                    .min(body.len());
                while start < body.len() && matches!(body[start], b'\r' | b'\n') {
                    start += 1;
                }
                line += super::count_newlines(&body[counted..start]);
                counted = start;
                let cells = record
                    .iter()
                    .map(|field| match std::str::from_utf8(field) {
                        Ok("") => Cell::Empty,
                        Ok(text) => Cell::Text(text.to_string()),
                        Err(_) => Cell::Error("text that is not UTF-8".to_string()),
                    })
                    .collect();
                rows.push((row, line, cells));
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
    }
    let lines = bytecount_lines(bytes);
    Ok(Table {
        sheet: None,
        first_column: 0,
        rows,
        lines,
        bytes: bytes_len,
    })
}

/// Physical lines, the last one counted without a final newline.
fn bytecount_lines(bytes: &[u8]) -> u64 {
    let newlines = super::count_newlines(bytes);
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[cfg(feature = "xlsx")]
fn xlsx_table(bytes: Vec<u8>, mapping: &Mapping) -> io::Result<Table> {
    use calamine::{open_workbook_auto_from_rs, Data, Reader};
    let len = bytes.len() as u64;
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    let mut book = open_workbook_auto_from_rs(io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a workbook that can be read: {e}")))?;
    let names = book.sheet_names();
    let sheet = match &mapping.sheet {
        Some(name) => {
            if !names.iter().any(|n| n == name) {
                let hint = match crate::syntax::closest(name, names.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!(
                        "the sheets are {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(invalid(MappingError {
                    name: mapping.name.clone(),
                    at: None,
                    message: format!("no sheet `{name}` in the workbook; {hint}"),
                }));
            }
            name.clone()
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheet".to_string()))?,
    };
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| bad(format!("sheet `{sheet}` cannot be read: {e}")))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::with_capacity(range.height());
    for (i, cells) in range.rows().enumerate() {
        let row = u64::from(first_row) + i as u64 + 1;
        let cells = cells
            .iter()
            .map(|c| match c {
                Data::Empty => Cell::Empty,
                Data::String(s) => Cell::Text(s.clone()),
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Float(f) => Cell::Number(*f),
                Data::Bool(b) => Cell::Bool(*b),
                Data::DateTime(dt) if dt.is_datetime() => match dt.as_datetime() {
                    Some(d) => Cell::DateTime(d),
                    None => Cell::Error(format!("date-time {}", dt.as_f64())),
                },
                Data::DateTime(dt) => Cell::Error(format!("duration {}", dt.as_f64())),
                Data::DateTimeIso(s) => Cell::Text(s.clone()),
                Data::DurationIso(s) => Cell::Error(format!("duration {s}")),
                Data::Error(e) => Cell::Error(format!("{e}")),
            })
            .collect();
        rows.push((row, row, cells));
    }
    Ok(Table {
        sheet: Some(sheet),
        first_column: first_column as usize,
        lines: rows.len() as u64,
        rows,
        bytes: len,
    })
}

#[cfg(not(feature = "xlsx"))]
fn xlsx_table(_bytes: Vec<u8>, _mapping: &Mapping) -> io::Result<Table> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "reading workbooks needs pledge's `xlsx` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> Tz {
        "Asia/Shanghai".parse().unwrap()
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn text_timestamps_in_the_common_shapes_are_local_times() {
        let expected = parse_timestamp("2026-03-02T09:05:00+08:00", None).unwrap();
        for text in [
            "2026-03-02 09:05",
            "2026-03-02 09:05:00",
            "2026/3/2 9:05",
            "2026/03/02 09:05:00",
            "2026.3.2 9:05",
            "2026年3月2日 9:05",
            "2026年3月2日9:05",
            "2026-03-02T09:05:00",
            "2026-03-02T01:05:00Z",
        ] {
            assert_eq!(text_timestamp(text, shanghai()), Ok(expected), "{text}");
        }
        assert_eq!(
            text_timestamp("2026-03-02", shanghai()),
            Err("`2026-03-02` has no time of day".to_string())
        );
        assert!(text_timestamp("2026-02-30 09:00", shanghai()).is_err());
        assert!(text_timestamp("明天上午", shanghai()).is_err());
    }

    #[test]
    fn serial_numbers_are_date_times() {
        // 46083 is 2026-03-02; .375 is 09:00.
        let dt = serial_date_time(46083.375).unwrap();
        assert_eq!(dt.to_string(), "2026-03-02 09:00:00");
        assert_eq!(serial_date_time(4.5), None);
        assert_eq!(serial_date_time(f64::NAN), None);
        assert_eq!(serial_date_time(1e300), None);
    }

    #[test]
    fn a_local_time_in_a_skipped_hour_moves_forward_and_never_panics() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let at = text_timestamp("2026-03-29 02:30", berlin).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-03-29T01:30:00+00:00");
    }
}
