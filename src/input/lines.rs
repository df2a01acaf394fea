//! Physical lines of an input: streaming from a reader, or split from a buffer in memory.
//!
//! Both formats are line-oriented, and both share the same rules here: `\n` ends a line and a
//! `\r` before it is dropped, a UTF-8 byte-order mark at the very start is dropped (spreadsheet
//! exports write one), and a line longer than [`MAX_EVENT_LINE_BYTES`] is never held whole: only
//! its head is kept, for the report.

use super::ReadStats;
use crate::limits::MAX_EVENT_LINE_BYTES;
use std::io::{self, BufRead, BufReader, Read};

/// Size of the read buffer. Large reads keep system calls out of the profile, and most lines are
/// parsed straight out of this buffer without being copied.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// How much of an overlong line is kept to show in the report.
pub(crate) const OVERLONG_HEAD_BYTES: usize = 1024;

pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One physical line, without its terminator.
pub(crate) enum RawLine<'a> {
    /// The line's bytes (at most [`MAX_EVENT_LINE_BYTES`]).
    Line(&'a [u8]),
    /// A line over the limit: only its first bytes.
    Overlong(&'a [u8]),
}

/// Classifies a complete line (terminator removed, `\r` possibly still there).
#[inline]
fn classify(line_no: u64, bytes: &[u8]) -> RawLine<'_> {
    let bytes = strip_cr(bytes);
    let bytes = if line_no == 1 {
        bytes.strip_prefix(BOM).unwrap_or(bytes)
    } else {
        bytes
    };
    if bytes.len() > MAX_EVENT_LINE_BYTES {
        RawLine::Overlong(&bytes[..OVERLONG_HEAD_BYTES.min(bytes.len())])
    } else {
        RawLine::Line(bytes)
    }
}

/// Classifies a complete line of any length exactly as [`for_each_line`] does when it meets it
/// in a stream: a line of more than `MAX_EVENT_LINE_BYTES + 1` bytes (one byte of slack for a
/// `\r`) is overlong and keeps its first [`OVERLONG_HEAD_BYTES`] bytes, byte-order mark then
/// dropped; any other line is [`classify`]ed. For readers that cut the input into blocks
/// themselves and must number and judge lines as the streaming reader does.
#[inline]
pub(crate) fn raw_line(line_no: u64, bytes: &[u8]) -> RawLine<'_> {
    if bytes.len() > MAX_EVENT_LINE_BYTES + 1 {
        overlong_head(line_no, &bytes[..OVERLONG_HEAD_BYTES])
    } else {
        classify(line_no, bytes)
    }
}

/// The head kept of an overlong line, from its first raw bytes.
pub(crate) fn overlong_head(line_no: u64, head: &[u8]) -> RawLine<'_> {
    let head = if line_no == 1 {
        head.strip_prefix(BOM).unwrap_or(head)
    } else {
        head
    };
    RawLine::Overlong(head)
}

#[inline]
pub(crate) fn strip_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// Calls `f` with every physical line of `reader`, numbered from 1, and counts lines and bytes in
/// `stats`. Lines are never longer than the limit when `f` sees them whole, so memory stays
/// bounded by the read buffer plus one line, whatever the input.
pub(crate) fn for_each_line<R: Read>(
    reader: R,
    stats: &mut ReadStats,
    mut f: impl FnMut(u64, RawLine<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
    // The start of a line that crossed the end of the buffer.
    let mut carry: Vec<u8> = Vec::new();
    // Length so far of the current line once it is known to be too long; `carry` then holds
    // only its head.
    let mut overlong: Option<usize> = None;
    let mut line_no = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        stats.bytes += len as u64;
        let mut pos = 0;
        while pos < len {
            match memchr::memchr(b'\n', &buf[pos..]) {
                Some(i) => {
                    let segment = &buf[pos..pos + i];
                    line_no += 1;
                    if carry.is_empty() && overlong.is_none() {
                        f(line_no, classify(line_no, segment))?;
                    } else {
                        append(&mut carry, &mut overlong, segment);
                        finish(line_no, &carry, overlong, &mut f)?;
                        carry.clear();
                        overlong = None;
                    }
                    pos += i + 1;
                }
                None => {
                    append(&mut carry, &mut overlong, &buf[pos..]);
                    pos = len;
                }
            }
        }
        reader.consume(len);
    }
    if !carry.is_empty() || overlong.is_some() {
        line_no += 1;
        finish(line_no, &carry, overlong, &mut f)?;
    }
    stats.lines += line_no;
    Ok(())
}

/// Adds a piece of the current line to `carry`, switching to counting only once the line is
/// certainly over the limit (one byte of slack for a `\r` that will be stripped).
fn append(carry: &mut Vec<u8>, overlong: &mut Option<usize>, piece: &[u8]) {
    match overlong {
        Some(n) => *n += piece.len(),
        None if carry.len() + piece.len() > MAX_EVENT_LINE_BYTES + 1 => {
            *overlong = Some(carry.len() + piece.len());
            let room = OVERLONG_HEAD_BYTES.saturating_sub(carry.len());
            carry.extend_from_slice(&piece[..room.min(piece.len())]);
            carry.truncate(OVERLONG_HEAD_BYTES);
        }
        None => carry.extend_from_slice(piece),
    }
}

fn finish(
    line_no: u64,
    carry: &[u8],
    overlong: Option<usize>,
    f: &mut impl FnMut(u64, RawLine<'_>) -> io::Result<()>,
) -> io::Result<()> {
    match overlong {
        Some(_) => f(line_no, overlong_head(line_no, carry)),
        None => f(line_no, classify(line_no, carry)),
    }
}

/// Calls `f` with every line of an in-memory buffer whose first line is `first_line`; returns
/// the number of lines. Same rules as the streaming reader.
pub(crate) fn for_each_line_in(
    buf: &[u8],
    first_line: u64,
    mut f: impl FnMut(u64, RawLine<'_>),
) -> u64 {
    let mut count = 0;
    for (line_no, segment) in (first_line..).zip(split_raw(buf)) {
        f(line_no, classify(line_no, segment));
        count += 1;
    }
    count
}

/// Lines of `buf` split at `\n`, terminators (and nothing else) removed; a final line without
/// `\n` is included when non-empty.
pub(crate) fn split_raw(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                Some(line)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

/// The lines of an in-memory buffer, without `\n` or `\r\n`; a final line without a newline is
/// included when non-empty. For splitting large inputs into chunks parsed in parallel.
pub fn split_lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    split_raw(buf).map(strip_cr)
}

/// The index just past the first `\n` at or after `from` (or `buf.len()` if there is none):
/// where a chunk that should end near `from` can end without cutting a line.
pub fn next_line_start(buf: &[u8], from: usize) -> usize {
    if from >= buf.len() {
        return buf.len();
    }
    match memchr::memchr(b'\n', &buf[from..]) {
        Some(i) => from + i + 1,
        None => buf.len(),
    }
}

/// Number of `\n` in `buf`: the line number of a chunk is one more than the newlines before it.
pub fn count_newlines(buf: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', buf).count() as u64
}

/// Whether a line counts as blank (and is skipped): nothing but whitespace, ASCII or Unicode
/// (an ideographic space, U+3000, is as invisible as any other).
pub fn is_blank(line: &[u8]) -> bool {
    for &b in line {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C => {}
            0x80.. => return std::str::from_utf8(line).is_ok_and(|s| s.trim().is_empty()),
            _ => return false,
        }
    }
    true
}
