//! JSON Lines read on several cores, delivered in input order.
//!
//! Parsing JSON is most of the cost of a check, and lines are independent, so they are parsed
//! in parallel; evaluation needs them in order, so they are delivered in order. Three roles:
//!
//! - one **splitter** thread reads the input and cuts it into lines with the same code as the
//!   sequential reader (so line numbers, the byte-order mark, `\r\n` and overlong lines are
//!   treated identically), copying them into batches of about [`BATCH_BYTES`];
//! - `threads` **parser** threads turn batches into records;
//! - the **calling** thread receives parsed batches, puts them back in order by sequence
//!   number and hands every record to `on_record`, where the evaluator runs.
//!
//! Channels are bounded, so memory is a few batches per thread whatever the input size, and
//! the records delivered are exactly those of [`super::read_events`], in the same order:
//! output does not depend on the number of threads.

use super::lines::{for_each_line, RawLine};
use super::{is_blank, overlong, parse_jsonl_line, ReadOptions, ReadStats, Record};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// Bytes of lines per batch: large enough that channel traffic is negligible, small enough
/// that a few per thread stay in cache-friendly, bounded memory.
pub const BATCH_BYTES: usize = 1 << 18;

/// One line of a batch: its number, where its bytes are in the batch buffer, and whether it is
/// only the head of an overlong line.
struct LineRef {
    line: u64,
    start: usize,
    end: usize,
    overlong: bool,
}

struct Batch {
    seq: u64,
    buf: Vec<u8>,
    lines: Vec<LineRef>,
    /// Input bytes the batch covers, terminators included (for progress).
    bytes: u64,
}

struct Parsed {
    seq: u64,
    records: Vec<Record>,
    blank: u64,
    bytes: u64,
}

fn parse_batch(batch: Batch, opts: &ReadOptions) -> Parsed {
    let mut records = Vec::with_capacity(batch.lines.len());
    let mut blank = 0;
    for l in &batch.lines {
        let bytes = &batch.buf[l.start..l.end];
        if l.overlong {
            records.push(overlong(l.line, bytes));
        } else if is_blank(bytes) {
            blank += 1;
        } else {
            records.push(parse_jsonl_line(bytes, l.line, opts));
        }
    }
    Parsed {
        seq: batch.seq,
        records,
        blank,
        bytes: batch.bytes,
    }
}

/// Reads JSON Lines like [`super::read_events`], parsing on `threads` threads (at least one),
/// and calls `on_record` on the calling thread for every record in input order, and
/// `on_progress` with the input bytes consumed so far after each batch.
pub fn read_jsonl_parallel<R: Read + Send>(
    reader: R,
    opts: &ReadOptions,
    threads: usize,
    mut on_record: impl FnMut(Record),
    mut on_progress: impl FnMut(u64),
) -> io::Result<ReadStats> {
    let threads = threads.max(1);
    let (work_tx, work_rx) = sync_channel::<Batch>(threads * 2);
    let work_rx: Arc<Mutex<Receiver<Batch>>> = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Parsed>(threads * 2);
    std::thread::scope(|scope| {
        let splitter = scope.spawn(move || {
            let mut stats = ReadStats::default();
            let mut seq = 0u64;
            let mut batch = new_batch(seq);
            let result = for_each_line(reader, &mut stats, |line, raw| {
                let (bytes, is_overlong) = match raw {
                    RawLine::Line(b) => (b, false),
                    RawLine::Overlong(b) => (b, true),
                };
                let start = batch.buf.len();
                batch.buf.extend_from_slice(bytes);
                batch.lines.push(LineRef {
                    line,
                    start,
                    end: batch.buf.len(),
                    overlong: is_overlong,
                });
                batch.bytes += bytes.len() as u64 + 1;
                if batch.buf.len() >= BATCH_BYTES {
                    seq += 1;
                    let full = std::mem::replace(&mut batch, new_batch(seq));
                    if work_tx.send(full).is_err() {
                        return Err(io::Error::other("the parser threads stopped"));
                    }
                }
                Ok(())
            });
            if !batch.lines.is_empty() {
                let _ = work_tx.send(batch);
            }
            drop(work_tx);
            result.map(|()| stats)
        });
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(batch) = next else { return };
                if done_tx.send(parse_batch(batch, opts)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);

        let mut counts = ReadStats::default();
        let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
        let mut next = 0u64;
        let mut consumed = 0u64;
        for parsed in done_rx.iter() {
            waiting.insert(parsed.seq, parsed);
            while let Some(parsed) = waiting.remove(&next) {
                next += 1;
                counts.blank += parsed.blank;
                for record in parsed.records {
                    counts.count(&record);
                    on_record(record);
                }
                consumed += parsed.bytes;
                on_progress(consumed);
            }
        }
        let mut stats = splitter
            .join()
            .map_err(|_| io::Error::other("the input thread panicked"))??;
        stats.events = counts.events;
        stats.rejected = counts.rejected;
        stats.blank = counts.blank;
        Ok(stats)
    })
}

fn new_batch(seq: u64) -> Batch {
    Batch {
        seq,
        buf: Vec::with_capacity(BATCH_BYTES + 4096),
        lines: Vec::with_capacity(2048),
        bytes: 0,
    }
}
