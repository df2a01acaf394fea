//! JSON Lines read on several cores, delivered in input order.
//!
//! Parsing JSON is most of the cost of reading, and lines are independent, so they are parsed
//! in parallel; evaluation needs them in order, so they are delivered in order. Two roles:
//!
//! - `threads` **reader** threads take turns at the input: under a lock, one reads the next
//!   block of about [`BATCH_BYTES`] straight into a buffer of its own, cuts it after its last
//!   `\n` (the partial line is carried to the next block) and counts its newlines, which gives
//!   the number of the next block's first line; then, without the lock, it splits the block
//!   into lines and parses them. Lines are never copied one by one, and with one thread (the
//!   default on two cores) reading and parsing share a thread, leaving the other core to the
//!   evaluator;
//! - the **calling** thread receives parsed batches, puts them back in order by sequence
//!   number and hands every record to `on_record`, where the evaluator runs.
//!
//! Nothing is allocated per batch once the pipeline runs: each reader keeps its block buffer,
//! and the vectors of records go back to the readers through a pool once delivered (freeing
//! them on the calling thread and allocating anew on a reader made the allocator clear fresh
//! pages all along).
//!
//! Lines are numbered and judged exactly as the sequential reader does (byte-order mark,
//! `\r\n`, blank and overlong lines: see `lines.rs`); a line longer than the limit is never
//! held whole, only its head. Channels are bounded, so memory is a few blocks per thread
//! whatever the input size, and the records delivered are exactly those of
//! [`super::read_events`], in the same order: output does not depend on the number of threads
//! or the block size.

use super::lines::{count_newlines, overlong_head, raw_line, split_raw, RawLine};
use super::{is_blank, overlong, parse_jsonl_line, ReadOptions, ReadStats, Record};
use crate::limits::MAX_EVENT_LINE_BYTES;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// Bytes of input per block: large enough that locking and channel traffic are negligible,
/// small enough that a block and its records stay in cache while they are parsed and
/// delivered.
pub const BATCH_BYTES: usize = 1 << 18;

/// Fewest parsed blocks that may wait for the evaluator.
const QUEUE_MIN: usize = 8;

/// What a reader took from the input under the lock.
enum Block {
    /// Whole lines (the last one possibly without `\n`, at the end of the input), in the
    /// reader's buffer, the first numbered `first_line`.
    Lines {
        seq: u64,
        first_line: u64,
        bytes: u64,
    },
    /// The head of one overlong line, in the reader's buffer.
    Overlong { seq: u64, line: u64, bytes: u64 },
}

/// The input and where it stands: shared by the readers, used under a lock.
struct Source<R> {
    reader: R,
    /// Target size of a block.
    block_bytes: usize,
    /// Bytes read after the last `\n` of the previous block: the start of a line.
    carry: Vec<u8>,
    /// Number of the next block's first line.
    next_line: u64,
    next_seq: u64,
    /// Bytes read so far.
    bytes: u64,
    eof: bool,
    /// The I/O error met while a block was read, returned once the whole lines before it are
    /// delivered (as the sequential reader delivers them).
    pending: Option<io::Error>,
    /// An I/O error ended the input: the readers stop.
    failed: bool,
}

impl<R: Read> Source<R> {
    /// Reads up to `want` more bytes at the end of `buf`; 0 at the end of the input.
    fn read_more(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
        let len = buf.len();
        buf.resize(len + want, 0);
        let n = loop {
            match self.reader.read(&mut buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(len);
                    return Err(e);
                }
            }
        };
        buf.truncate(len + n);
        self.bytes += n as u64;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// The next block, into `buf`; `None` at the end of the input.
    fn next_block(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Block>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.failed {
            return Ok(None);
        }
        buf.clear();
        buf.append(&mut self.carry);
        // Where the search for a `\n` resumes: everything before it has none.
        let mut searched = 0;
        let mut last_newline = None;
        loop {
            if let Some(i) = memchr::memrchr(b'\n', &buf[searched..]) {
                last_newline = Some(searched + i);
            }
            searched = buf.len();
            if last_newline.is_none() && buf.len() > MAX_EVENT_LINE_BYTES + 1 {
                return self.skip_overlong(buf).map(Some);
            }
            if self.eof || (last_newline.is_some() && buf.len() >= self.block_bytes) {
                break;
            }
            let want = self.block_bytes.saturating_sub(buf.len()).max(1 << 14);
            if let Err(e) = self.read_more(buf, want) {
                // The whole lines read before the error are a block of their own.
                let end = last_newline.map_or(0, |i| i + 1);
                buf.truncate(end);
                if end == 0 {
                    return Err(e);
                }
                self.pending = Some(e);
                break;
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let lines = if self.eof && self.pending.is_none() {
            // The last block takes everything, a final line without `\n` included.
            count_newlines(buf) + u64::from(buf.last() != Some(&b'\n'))
        } else {
            let end = last_newline.map_or(0, |i| i + 1);
            self.carry.extend_from_slice(&buf[end..]);
            buf.truncate(end);
            count_newlines(buf)
        };
        let block = Block::Lines {
            seq: self.next_seq,
            first_line: self.next_line,
            bytes: buf.len() as u64,
        };
        self.next_seq += 1;
        self.next_line += lines;
        Ok(Some(block))
    }

    /// `buf` holds the start of a line longer than the limit and no `\n`: keeps its head in
    /// `buf`, reads on to its end (carrying what follows) and returns it as one block.
    fn skip_overlong(&mut self, buf: &mut Vec<u8>) -> io::Result<Block> {
        let mut bytes = buf.len() as u64;
        buf.truncate(super::lines::OVERLONG_HEAD_BYTES);
        let head_len = buf.len();
        loop {
            let n = self.read_more(buf, self.block_bytes.max(1 << 14))?;
            if n == 0 {
                break;
            }
            match memchr::memchr(b'\n', &buf[head_len..]) {
                Some(i) => {
                    bytes += i as u64 + 1;
                    self.carry.extend_from_slice(&buf[head_len + i + 1..]);
                    break;
                }
                None => bytes += n as u64,
            }
            buf.truncate(head_len);
        }
        buf.truncate(head_len);
        let block = Block::Overlong {
            seq: self.next_seq,
            line: self.next_line,
            bytes,
        };
        self.next_seq += 1;
        self.next_line += 1;
        Ok(block)
    }
}

/// The records of one block, with its sequence number.
struct Parsed {
    seq: u64,
    records: Vec<Record>,
    blank: u64,
    bytes: u64,
}

/// Parses the lines of a block into `records`; returns the number of blank lines.
fn parse_block(buf: &[u8], block: &Block, opts: &ReadOptions, records: &mut Vec<Record>) -> u64 {
    let mut blank = 0;
    match *block {
        Block::Overlong { line, .. } => {
            if let RawLine::Overlong(head) = overlong_head(line, buf) {
                records.push(overlong(line, head));
            }
        }
        Block::Lines { first_line, .. } => {
            for (line, bytes) in (first_line..).zip(split_raw(buf)) {
                match raw_line(line, bytes) {
                    RawLine::Overlong(head) => records.push(overlong(line, head)),
                    RawLine::Line(bytes) if is_blank(bytes) => blank += 1,
                    RawLine::Line(bytes) => records.push(parse_jsonl_line(bytes, line, opts)),
                }
            }
        }
    }
    blank
}

/// Reads JSON Lines like [`super::read_events`], parsing on `threads` threads (at least one),
/// and calls `on_record` on the calling thread for every record in input order, and
/// `on_progress` with the input bytes consumed so far after each batch.
pub fn read_jsonl_parallel<R: Read + Send>(
    reader: R,
    opts: &ReadOptions,
    threads: usize,
    on_record: impl FnMut(Record),
    on_progress: impl FnMut(u64),
) -> io::Result<ReadStats> {
    read_jsonl_blocks(reader, opts, threads, BATCH_BYTES, on_record, on_progress)
}

/// [`read_jsonl_parallel`] with blocks of about `block_bytes` (at least one line each): the
/// records and counts are the same for every block size, which tests check with tiny blocks.
pub fn read_jsonl_blocks<R: Read + Send>(
    reader: R,
    opts: &ReadOptions,
    threads: usize,
    block_bytes: usize,
    mut on_record: impl FnMut(Record),
    mut on_progress: impl FnMut(u64),
) -> io::Result<ReadStats> {
    let threads = threads.max(1);
    let source = Mutex::new(Source {
        reader,
        block_bytes: block_bytes.max(1),
        carry: Vec::new(),
        next_line: 1,
        next_seq: 0,
        bytes: 0,
        eof: false,
        pending: None,
        failed: false,
    });
    let error: Mutex<Option<io::Error>> = Mutex::new(None);
    // Parsed blocks waiting for the evaluator: enough that a reader keeps going while the
    // evaluator settles a burst of cases (or is off the core), a few MB of records at most.
    let queue = (threads * 2).max(QUEUE_MIN);
    let (done_tx, done_rx) = sync_channel::<Parsed>(queue);
    // Emptied record vectors on their way back to the readers.
    let (pool_tx, pool_rx) = sync_channel::<Vec<Record>>(queue + threads);
    let pool_rx = Mutex::new(pool_rx);
    let (source, error, pool_rx) = (&source, &error, &pool_rx);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            scope.spawn(move || reader_thread(source, error, pool_rx, done_tx, opts));
        }
        drop(done_tx);

        let mut counts = ReadStats::default();
        let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
        let mut next = 0u64;
        let mut consumed = 0u64;
        for parsed in done_rx.iter() {
            waiting.insert(parsed.seq, parsed);
            while let Some(mut parsed) = waiting.remove(&next) {
                next += 1;
                counts.blank += parsed.blank;
                for record in parsed.records.drain(..) {
                    counts.count(&record);
                    on_record(record);
                }
                // Back to the readers; dropped if they already have enough.
                let _ = pool_tx.try_send(parsed.records);
                consumed += parsed.bytes;
                on_progress(consumed);
            }
        }
        if let Some(e) = error.lock().ok().and_then(|mut e| e.take()) {
            return Err(e);
        }
        let source = source
            .lock()
            .map_err(|_| io::Error::other("a reader thread panicked"))?;
        if !waiting.is_empty() || next != source.next_seq {
            return Err(io::Error::other("a reader thread panicked"));
        }
        Ok(ReadStats {
            lines: source.next_line - 1,
            bytes: source.bytes,
            ..counts
        })
    })
}

/// One reader: takes a block under the lock, parses it without, sends the records on.
fn reader_thread<R: Read>(
    source: &Mutex<Source<R>>,
    error: &Mutex<Option<io::Error>>,
    pool: &Mutex<Receiver<Vec<Record>>>,
    done: SyncSender<Parsed>,
    opts: &ReadOptions,
) {
    let mut buf = Vec::new();
    loop {
        let block = {
            let Ok(mut source) = source.lock() else {
                return;
            };
            match source.next_block(&mut buf) {
                Ok(Some(block)) => block,
                Ok(None) => return,
                Err(e) => {
                    source.failed = true;
                    if let Ok(mut slot) = error.lock() {
                        *slot = Some(e);
                    }
                    return;
                }
            }
        };
        let mut records = pool
            .lock()
            .ok()
            .and_then(|rx| rx.try_recv().ok())
            .unwrap_or_default();
        let blank = parse_block(&buf, &block, opts, &mut records);
        let (Block::Lines { seq, bytes, .. } | Block::Overlong { seq, bytes, .. }) = block;
        let parsed = Parsed {
            seq,
            records,
            blank,
            bytes,
        };
        if done.send(parsed).is_err() {
            return;
        }
    }
}
