//! Reading ticket event streams (EVENTS.md): JSON Lines and CSV into [`Event`]s; and work-order
//! exports (one row per ticket, xlsx or CSV) through a [`Mapping`] of their columns, into the
//! same events ([`read_export`], chosen by [`ReadOptions::export`]).
//!
//! The contract is that nothing is lost silently: every line is an event, a blank line, or a
//! [`Rejected`] line reported with its number and a reason, and a bad line never stops the
//! stream. Only I/O errors do.
//!
//! Reasons are short lowercase sentences that quote user input in backticks, for example
//! "missing `ticket`" or "`at` has no UTC offset (use --tz to name a zone)". A line gets one
//! reason, the first problem found in this order: length, UTF-8, JSON syntax, not an object,
//! duplicate keys, missing required fields, then `ticket`, `at`, `type`, `id`, `attrs`.
//!
//! Choices where EVENTS.md is silent, made here so that producers can rely on them:
//! - a UTF-8 byte-order mark at the start of the input is ignored (spreadsheets write one);
//! - a line is blank if it holds only whitespace, Unicode whitespace included;
//! - `ticket` and `type` must be strings that are not empty or all whitespace; numbers are
//!   rejected rather than converted, since `17` and `"017"` would silently become different
//!   cases;
//! - `id` may be a string or a number (stored as its decimal text); `null` or `""` means no id,
//!   so that exports with an empty id column do not make every event a duplicate;
//! - `attrs: null` means no attributes;
//! - a key given twice in the same object (top level or `attrs`) rejects the line: JSON leaves
//!   its meaning open, and guessing which value counts is worse than reporting it;
//! - a timestamp with an offset keeps it even when a zone is given; the zone only applies to
//!   timestamps without one;
//! - a line longer than [`MAX_EVENT_LINE_BYTES`] bytes (not counting `\n` or `\r\n`) is
//!   rejected; exactly that many is fine.
//!
//! For parallel parsing of large inputs, [`split_lines`], [`next_line_start`],
//! [`count_newlines`] and [`read_jsonl_chunk`] work on buffers in memory, and
//! [`parse_jsonl_line`] is a pure function of its arguments.

mod csv;
mod export;
mod fast;
mod jsonl;
mod lines;
mod mapping;
mod parallel;
mod timestamp;
mod typed;

pub use export::{column_letters, read_export, Export, ExportKind};
pub use jsonl::parse_jsonl_line;
pub(crate) use lines::strip_cr;
pub use lines::{count_newlines, is_blank, next_line_start, split_lines};
pub use mapping::{Column, EventMap, Mapping, MappingError};
pub use parallel::{read_jsonl_blocks, read_jsonl_parallel, BATCH_BYTES};
use timestamp::in_zone;
pub use timestamp::{
    event_at_in_range, parse_event_at, parse_timestamp, TimestampError, EARLIEST_EVENT_AT,
    END_OF_EVENT_AT,
};
pub use typed::{parse_typed_duration, parse_typed_instant};

use crate::event::Event;
use crate::limits::MAX_EVENT_LINE_BYTES;
use crate::relevance::Relevance;
use lines::RawLine;
use std::io::Read;
use std::ops::AddAssign;

/// A line that could not be read as an event: reported with its line number, never dropped
/// silently.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// 1-based physical line number (for CSV, the line where the row starts).
    pub line: u64,
    /// What is wrong, as a short lowercase sentence.
    pub reason: String,
    /// The raw line, cut to `REJECTED_TEXT_CHARS` characters (then ending in `…`); bytes that
    /// are not UTF-8 are shown as U+FFFD.
    pub text: String,
}

/// Longest excerpt of a rejected line kept in [`Rejected::text`], in characters. A report
/// needs enough to recognise the line, not a megabyte of it.
pub const REJECTED_TEXT_CHARS: usize = 200;

/// One non-blank line of input, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Event(Event),
    Rejected(Rejected),
}

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// JSON Lines, one event object per line.
    #[default]
    Jsonl,
    /// CSV with a header row naming the columns (`ticket`, `at`, `type`, `id`, `attrs.KEY`).
    Csv,
}

impl Format {
    /// Guesses the format from a file name: `.csv` (in any letter case) is CSV, anything else,
    /// standard input (`-`) included, is JSON Lines, the primary format.
    pub fn from_path(path: &str) -> Format {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

/// How to read an input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub format: Format,
    /// Zone for timestamps without a UTC offset (`--tz`); without it such timestamps are
    /// rejected, since guessing a zone would shift every deadline.
    pub tz: Option<chrono_tz::Tz>,
    /// What the consumer can look at: with it, the reader does not build the attributes of
    /// event types no clause can look at. Lines are checked and rejected exactly as without it.
    pub relevance: Option<std::sync::Arc<Relevance>>,
    /// A work-order export (one row per ticket) and its mapping: when set, the input is read as
    /// that export, whatever `format` says, and `tz` is the zone of local times the mapping
    /// does not name.
    pub export: Option<std::sync::Arc<Export>>,
}

/// Counts of what was read; `lines` = `events` + `rejected` + `blank` for JSON Lines. For CSV,
/// `lines` also counts the header and the continuation lines of rows with quoted line breaks.
/// For a work-order export, `lines` counts the rows of the sheet (or the lines of the CSV file),
/// header and title rows included, and a row makes as many events as it has filled-in time
/// columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Physical lines, the last one counted even without a final newline.
    pub lines: u64,
    /// Bytes read, terminators and byte-order mark included.
    pub bytes: u64,
    pub events: u64,
    pub rejected: u64,
    pub blank: u64,
}

impl AddAssign for ReadStats {
    /// Sums the counts of chunks read separately.
    fn add_assign(&mut self, other: ReadStats) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.events += other.events;
        self.rejected += other.rejected;
        self.blank += other.blank;
    }
}

impl ReadStats {
    fn count(&mut self, record: &Record) {
        match record {
            Record::Event(_) => self.events += 1,
            Record::Rejected(_) => self.rejected += 1,
        }
    }
}

/// Streams the records of `reader` to `on_record`, in input order.
///
/// Memory stays bounded by a 1 MiB read buffer plus one line (or CSV row) of at most
/// [`MAX_EVENT_LINE_BYTES`], whatever the input. I/O errors end the stream with `Err` (records
/// already delivered stay delivered); bad lines never do. For CSV, a header that lacks a
/// required column, or names one twice, is an `InvalidData` error: no row could be read.
pub fn read_events<R: Read>(
    reader: R,
    opts: &ReadOptions,
    mut on_record: impl FnMut(Record),
) -> std::io::Result<ReadStats> {
    if let Some(export) = &opts.export {
        return read_export(reader, export, opts.tz, on_record);
    }
    match opts.format {
        Format::Jsonl => {
            let mut stats = ReadStats::default();
            let mut counts = ReadStats::default();
            lines::for_each_line(reader, &mut stats, |line_no, raw| {
                jsonl_raw_line(line_no, raw, opts, &mut counts, &mut on_record);
                Ok(())
            })?;
            stats.events = counts.events;
            stats.rejected = counts.rejected;
            stats.blank = counts.blank;
            Ok(stats)
        }
        Format::Csv => csv::read_csv(reader, opts, on_record),
    }
}

/// Reads the JSON Lines in an in-memory chunk whose first line has number `first_line` (count
/// the newlines before the chunk with [`count_newlines`]), with exactly the rules of
/// [`read_events`]. Chunks cut at [`next_line_start`] and read in parallel give the same
/// records and, summed, the same stats as one sequential read.
pub fn read_jsonl_chunk(
    buf: &[u8],
    first_line: u64,
    opts: &ReadOptions,
    mut on_record: impl FnMut(Record),
) -> ReadStats {
    let mut stats = ReadStats {
        bytes: buf.len() as u64,
        ..ReadStats::default()
    };
    stats.lines = lines::for_each_line_in(buf, first_line, |line_no, raw| {
        jsonl_raw_line(line_no, raw, opts, &mut stats, &mut on_record)
    });
    stats
}

fn jsonl_raw_line(
    line_no: u64,
    raw: RawLine<'_>,
    opts: &ReadOptions,
    stats: &mut ReadStats,
    on_record: &mut impl FnMut(Record),
) {
    let record = match raw {
        RawLine::Line(bytes) if is_blank(bytes) => {
            stats.blank += 1;
            return;
        }
        RawLine::Line(bytes) => parse_jsonl_line(bytes, line_no, opts),
        RawLine::Overlong(head) => overlong(line_no, head),
    };
    stats.count(&record);
    on_record(record);
}

/// The rejection of a line over the length limit, from the head kept of it.
fn overlong(line: u64, head: &[u8]) -> Record {
    reject(
        line,
        format!("line longer than {MAX_EVENT_LINE_BYTES} bytes"),
        head,
    )
}

fn reject(line: u64, reason: String, raw: &[u8]) -> Record {
    Record::Rejected(Rejected {
        line,
        reason,
        text: excerpt(raw, REJECTED_TEXT_CHARS),
    })
}

/// At most `max` characters of `raw` (lossily decoded), with `…` if anything was cut.
fn excerpt(raw: &[u8], max: usize) -> String {
    // Four bytes per character at most: never decode more than can be shown.
    let cut = &raw[..raw.len().min(max * 4 + 4)];
    let text = String::from_utf8_lossy(cut);
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None if cut.len() < raw.len() => format!("{text}…"),
        None => text.into_owned(),
    }
}

/// User input as shown inside backticks in a reason: at most 64 characters, control characters
/// escaped, so that one reason stays one line.
fn quoted(s: &str) -> String {
    const MAX: usize = 64;
    let mut out = String::with_capacity(s.len().min(MAX * 4) + 3);
    for (n, c) in s.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// "missing `a`", "missing `a` and `b`", "missing `a`, `b` and `c`".
fn missing(names: &[&str]) -> String {
    let mut out = String::from("missing ");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == names.len() { " and " } else { ", " });
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
    out
}

/// The reason for a timestamp that could not be read.
fn timestamp_reason(value: &str, err: TimestampError) -> String {
    match err {
        TimestampError::NoOffset => "`at` has no UTC offset (use --tz to name a zone)".to_string(),
        TimestampError::Invalid => {
            format!("`at` is not an RFC 3339 timestamp: `{}`", quoted(value))
        }
        TimestampError::TooEarly => {
            format!(
                "`at` is before 1900: `{}` (a mistyped year?)",
                quoted(value)
            )
        }
        TimestampError::TooLate => {
            format!(
                "`at` is after the year 2999: `{}` (a mistyped year?)",
                quoted(value)
            )
        }
    }
}

const NESTED_HELP: &str = "attribute values must be scalars or arrays of scalars";
