//! CSV event streams: a header row naming the columns, then one event per row.
//!
//! Columns: `ticket`, `at`, `type` (required), `id`, and one `attrs.KEY` column per attribute,
//! e.g. `attrs.kind`. Other columns are ignored, as unknown keys are in JSON Lines; header names
//! are trimmed of surrounding whitespace. Values follow the same rules as in JSON Lines.
//!
//! CSV has no types, so attribute cells are typed by their text:
//! - an empty cell: the attribute is absent;
//! - `true` or `false`, in any letter case (spreadsheets write `TRUE`, Python writes `True`):
//!   a boolean;
//! - a number written as JSON writes numbers (`12`, `-3.5`, `1e3`): a number; `0501`, `+5`,
//!   `1,000` or `NaN` stay strings, so that unit and room codes keep their leading zeros;
//! - anything else: a string, verbatim (no trimming). Lists cannot be written in CSV.
//!
//! Rows are parsed with the `csv-core` state machine (quotes, doubled quotes, line breaks inside
//! quoted fields) fed one physical line at a time. Doing the line handling here rather than
//! letting a CSV reader buffer whole records is what bounds memory on hostile input and gives
//! each row the physical line number it starts on (the header is normally line 1).

use super::lines::{self, RawLine, OVERLONG_HEAD_BYTES};
use super::{is_blank, missing, overlong, quoted, reject, timestamp_reason};
use super::{parse_event_at, ReadOptions, ReadStats, Record};
use crate::event::Event;
use crate::limits::MAX_EVENT_LINE_BYTES;
use crate::value::{Attrs, Value};
use csv_core::{ReadRecordResult, Terminator};
use std::io::{self, Read};

pub(crate) fn read_csv<R: Read>(
    reader: R,
    opts: &ReadOptions,
    mut on_record: impl FnMut(Record),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut rows = Rows::new(opts);
    lines::for_each_line(reader, &mut stats, |line_no, raw| {
        rows.line(line_no, raw, &mut on_record)
    })?;
    rows.end(&mut on_record)?;
    stats.events = rows.counts.events;
    stats.rejected = rows.counts.rejected;
    stats.blank = rows.counts.blank;
    Ok(stats)
}

/// Which field holds what, from the header.
struct Header {
    width: usize,
    ticket: usize,
    at: usize,
    kind: usize,
    id: Option<usize>,
    attrs: Vec<(usize, Box<str>)>,
}

/// Assembles rows from physical lines.
struct Rows<'o> {
    opts: &'o ReadOptions,
    core: csv_core::Reader,
    header: Option<Header>,
    /// Unescaped field bytes of the current row, contiguous; `ends[i]` is where field `i` ends.
    fields: Vec<u8>,
    fields_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    /// Whether a row has started and not yet ended (its quoted field spans lines).
    in_row: bool,
    /// Line where the current row starts.
    start: u64,
    /// The first bytes of the current row, for the report.
    head: Vec<u8>,
    /// Length of the current row so far, line breaks included.
    len: usize,
    /// Set once the current row is known to be rejected; its remaining bytes are parsed only
    /// to find where it ends.
    problem: Option<String>,
    counts: ReadStats,
}

impl<'o> Rows<'o> {
    fn new(opts: &'o ReadOptions) -> Self {
        Rows {
            opts,
            core: Self::core(),
            header: None,
            fields: vec![0; 1024],
            fields_len: 0,
            ends: vec![0; 32],
            ends_len: 0,
            in_row: false,
            start: 0,
            head: Vec::new(),
            len: 0,
            problem: None,
            counts: ReadStats::default(),
        }
    }

    fn core() -> csv_core::Reader {
        // Line terminators are stripped before the state machine sees a line, and a `\n` is fed
        // after each line; a lone `\r` inside a line is data.
        csv_core::ReaderBuilder::new()
            .terminator(Terminator::Any(b'\n'))
            .build()
    }

    fn emit(&mut self, record: Record, on_record: &mut impl FnMut(Record)) {
        self.counts.count(&record);
        on_record(record);
    }

    fn line(
        &mut self,
        line_no: u64,
        raw: RawLine<'_>,
        on_record: &mut impl FnMut(Record),
    ) -> io::Result<()> {
        let bytes = match raw {
            RawLine::Overlong(head) => {
                if self.in_row {
                    // The row's quoted field runs into a line too long to follow: give up on
                    // the row and start afresh after that line.
                    let reason = format!("row longer than {MAX_EVENT_LINE_BYTES} bytes");
                    let record = reject(self.start, reason, &self.head);
                    self.reset_row();
                    self.core = Self::core();
                    return self.header_or_emit(record, on_record);
                }
                let record = overlong(line_no, head);
                return self.header_or_emit(record, on_record);
            }
            RawLine::Line(bytes) => bytes,
        };
        if self.in_row {
            self.push_head(b"\n");
        } else if is_blank(bytes) {
            self.counts.blank += 1;
            return Ok(());
        } else {
            self.in_row = true;
            self.start = line_no;
        }
        self.push_head(bytes);
        self.len += bytes.len() + 1;
        if self.len - 1 > MAX_EVENT_LINE_BYTES && self.problem.is_none() {
            self.problem = Some(format!("row longer than {MAX_EVENT_LINE_BYTES} bytes"));
        }
        self.feed(bytes);
        if self.feed(b"\n") {
            self.finish_row(on_record)?;
        }
        Ok(())
    }

    /// A rejection before the header is known is a bad header, which ends the stream.
    fn header_or_emit(
        &mut self,
        record: Record,
        on_record: &mut impl FnMut(Record),
    ) -> io::Result<()> {
        match (&self.header, record) {
            (None, Record::Rejected(r)) => Err(invalid(format!(
                "csv header (line {}) could not be read: {}",
                r.line, r.reason
            ))),
            (_, record) => {
                self.emit(record, on_record);
                Ok(())
            }
        }
    }

    fn push_head(&mut self, bytes: &[u8]) {
        let room = OVERLONG_HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    /// Runs the state machine over `input`; true when a row ended.
    fn feed(&mut self, mut input: &[u8]) -> bool {
        // An empty input would mean end of data to the state machine.
        while !input.is_empty() {
            let (result, nin) = if self.problem.is_some() {
                let (mut out, mut ends) = ([0u8; 256], [0usize; 16]);
                let (result, nin, _, _) = self.core.read_record(input, &mut out, &mut ends);
                (result, nin)
            } else {
                let (result, nin, nout, nend) = self.core.read_record(
                    input,
                    &mut self.fields[self.fields_len..],
                    &mut self.ends[self.ends_len..],
                );
                self.fields_len += nout;
                self.ends_len += nend;
                (result, nin)
            };
            input = &input[nin..];
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.problem.is_none() {
                        let n = self.fields.len() * 2;
                        self.fields.resize(n, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.problem.is_none() {
                        let n = self.ends.len() * 2;
                        self.ends.resize(n, 0);
                    }
                }
                ReadRecordResult::Record => return true,
                ReadRecordResult::End => return false,
            }
        }
        false
    }

    fn reset_row(&mut self) {
        self.fields_len = 0;
        self.ends_len = 0;
        self.in_row = false;
        self.head.clear();
        self.len = 0;
        self.problem = None;
    }

    fn finish_row(&mut self, on_record: &mut impl FnMut(Record)) -> io::Result<()> {
        let result = match self.problem.take() {
            Some(reason) => Err(reason),
            None => {
                let fields = Fields {
                    bytes: &self.fields[..self.fields_len],
                    ends: &self.ends[..self.ends_len],
                };
                match &self.header {
                    None => {
                        let header = parse_header(&fields, self.start)?;
                        self.header = Some(header);
                        self.reset_row();
                        return Ok(());
                    }
                    Some(header) => build_event(header, &fields, self.start, self.opts),
                }
            }
        };
        let record = match result {
            Ok(event) => Record::Event(event),
            Err(reason) => reject(self.start, reason, &self.head),
        };
        self.reset_row();
        self.header_or_emit(record, on_record)
    }

    /// At the end of the input, a row still open has a quoted field that never closed.
    fn end(&mut self, on_record: &mut impl FnMut(Record)) -> io::Result<()> {
        if !self.in_row {
            return Ok(());
        }
        let reason = self
            .problem
            .take()
            .unwrap_or_else(|| "row ends inside a quoted field".to_string());
        let record = reject(self.start, reason, &self.head);
        self.reset_row();
        self.header_or_emit(record, on_record)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The fields of one row.
struct Fields<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(start..self.ends[i]).unwrap_or_default()
    }

    /// All fields as text, or `None` if one is not UTF-8.
    fn texts(&self) -> Option<Vec<&'a str>> {
        (0..self.len())
            .map(|i| std::str::from_utf8(self.get(i)).ok())
            .collect()
    }
}

fn parse_header(fields: &Fields<'_>, line: u64) -> io::Result<Header> {
    let names = fields
        .texts()
        .ok_or_else(|| invalid(format!("csv header (line {line}) is not UTF-8")))?;
    let (mut ticket, mut at, mut kind, mut id) = (None, None, None, None);
    let mut attrs: Vec<(usize, Box<str>)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        let slot = match name {
            "ticket" => &mut ticket,
            "at" => &mut at,
            "type" => &mut kind,
            "id" => &mut id,
            _ => match name.strip_prefix("attrs.") {
                Some(key) => {
                    if seen.contains(&name) {
                        return Err(twice(line, name));
                    }
                    attrs.push((i, key.into()));
                    seen.push(name);
                    continue;
                }
                None => continue,
            },
        };
        if slot.replace(i).is_some() {
            return Err(twice(line, name));
        }
    }
    let absent: Vec<&str> = [("ticket", ticket), ("at", at), ("type", kind)]
        .into_iter()
        .filter(|(_, col)| col.is_none())
        .map(|(name, _)| name)
        .collect();
    match (ticket, at, kind) {
        (Some(ticket), Some(at), Some(kind)) => Ok(Header {
            width: fields.len(),
            ticket,
            at,
            kind,
            id,
            attrs,
        }),
        _ => {
            // Lines ended by a lone `\r` (old Mac files) read as one line: say so.
            let lone_cr = names.iter().any(|n| n.trim().contains('\r'));
            Err(invalid(format!(
                "csv header (line {line}) is {}{}",
                missing(&absent),
                if lone_cr {
                    "; its lines end with a lone carriage return, and lines must end with `\\n` or `\\r\\n`"
                } else if absent.len() == 3
                    && names
                        .first()
                        .is_some_and(|n| n.trim_start().starts_with('{'))
                {
                    "; it reads as JSON Lines: name the file `.jsonl`, or give `--input-format jsonl`"
                } else if absent.len() == 3 {
                    // None of the event columns: a work-order export, a row per ticket.
                    "; a work-order export needs the mapping of its columns to events: \
                     `--map FILE` (see examples/orders.toml)"
                } else {
                    ""
                }
            )))
        }
    }
}

fn twice(line: u64, name: &str) -> io::Error {
    invalid(format!(
        "csv header (line {line}) names `{}` twice",
        quoted(name)
    ))
}

fn build_event(
    header: &Header,
    fields: &Fields<'_>,
    line: u64,
    opts: &ReadOptions,
) -> Result<Event, String> {
    if fields.len() != header.width {
        return Err(format!(
            "row has {} fields; the header has {}",
            fields.len(),
            header.width
        ));
    }
    let cells = fields
        .texts()
        .ok_or_else(|| "line is not UTF-8".to_string())?;
    let cell = |i: usize| cells.get(i).copied().unwrap_or_default();
    let (ticket, at, kind) = (cell(header.ticket), cell(header.at), cell(header.kind));
    let absent: Vec<&str> = [("ticket", ticket), ("at", at), ("type", kind)]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(name, _)| name)
        .collect();
    if !absent.is_empty() {
        return Err(missing(&absent));
    }
    if ticket.trim().is_empty() {
        return Err("`ticket` is empty".to_string());
    }
    let at = parse_event_at(at, opts.tz).map_err(|e| timestamp_reason(at, e))?;
    if kind.trim().is_empty() {
        return Err("`type` is empty".to_string());
    }
    let id = header.id.map(cell).filter(|s| !s.is_empty()).map(Box::from);
    let mut attrs = Attrs::new();
    for (i, key) in &header.attrs {
        let text = cell(*i);
        if !text.is_empty() {
            attrs.insert(key, cell_value(text));
        }
    }
    Ok(Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: id.map(Into::into),
        attrs,
        line,
    })
}

/// Types an attribute cell (see the module documentation).
fn cell_value(text: &str) -> Value {
    if text.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if text.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if is_json_number(text) {
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Number(n),
            _ => Value::String(text.into()),
        }
    } else {
        Value::String(text.into())
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, the JSON number grammar.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers() {
        for s in ["0", "-0", "12", "-3.5", "1e3", "1E-3", "2.5e+10"] {
            assert!(is_json_number(s), "{s}");
        }
        for s in [
            "", "-", "0501", "+5", "1.", ".5", "1e", "1,000", "NaN", "inf", "1 ",
        ] {
            assert!(!is_json_number(s), "{s}");
        }
    }

    #[test]
    fn cell_typing() {
        assert_eq!(cell_value("TRUE"), Value::Bool(true));
        assert_eq!(cell_value("False"), Value::Bool(false));
        assert_eq!(cell_value("4"), Value::Number(4.0));
        assert_eq!(cell_value("0501"), Value::String("0501".into()));
        assert_eq!(cell_value("1e999"), Value::String("1e999".into()));
        assert_eq!(cell_value("null"), Value::String("null".into()));
    }
}
