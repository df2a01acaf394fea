//! The block reader (`read_jsonl_blocks`): whatever the block size, the number of threads and
//! the sizes of the reads, it delivers the records and counts of the sequential reader, in the
//! same order, with the same line numbers; lines that cross blocks, overlong lines, a
//! byte-order mark, `\r\n`, blank lines and a last line without `\n` included.

use pledge::input::{read_events, read_jsonl_blocks, ReadOptions, ReadStats, Record};
use pledge::limits::MAX_EVENT_LINE_BYTES;
use proptest::prelude::*;
use std::io::{self, Read};

const OPENED: &str = r#"{"ticket":"T-1","at":"2026-03-02T09:15:00+08:00","type":"opened","attrs":{"kind":"repair","n":3}}"#;

/// A reader that hands out at most `step` bytes per read, and fails at `fail_at`.
struct Pieces {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail_at: Option<usize>,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.pos >= f) {
            return Err(io::Error::other("disk on fire"));
        }
        let mut n = buf.len().min(self.step).min(self.data.len() - self.pos);
        if let Some(f) = self.fail_at {
            n = n.min(f - self.pos);
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn pieces(data: &[u8], step: usize) -> Pieces {
    Pieces {
        data: data.to_vec(),
        pos: 0,
        step,
        fail_at: None,
    }
}

fn sequential(data: &[u8]) -> (Vec<Record>, ReadStats) {
    let mut records = Vec::new();
    let stats = read_events(data, &ReadOptions::default(), |r| records.push(r)).unwrap();
    (records, stats)
}

fn blocks(data: &[u8], threads: usize, block: usize, step: usize) -> (Vec<Record>, ReadStats) {
    let mut records = Vec::new();
    let mut progress = 0;
    let stats = read_jsonl_blocks(
        pieces(data, step),
        &ReadOptions::default(),
        threads,
        block,
        |r| records.push(r),
        |bytes| {
            assert!(bytes >= progress, "progress only grows");
            progress = bytes;
        },
    )
    .unwrap();
    assert_eq!(
        progress,
        data.len() as u64,
        "progress ends at the input's size"
    );
    (records, stats)
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(OPENED.as_bytes().to_vec()),
        1 => Just(Vec::new()),
        1 => Just(b"  \t".to_vec()),
        1 => Just("\u{3000}".as_bytes().to_vec()),
        1 => Just(b"{bad".to_vec()),
        1 => Just(br#"{"ticket":"T-2","at":"2026-03-02T09:15:00","type":"opened"}"#.to_vec()),
        1 => Just(vec![0xFF, b'{']),
        1 => prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_block_size_gives_the_sequential_records(
        lines in prop::collection::vec((line(), any::<bool>()), 0..30),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
        threads in 1usize..4,
        block in 1usize..400,
        step in 1usize..300,
    ) {
        let mut data = Vec::new();
        if bom {
            data.extend_from_slice("\u{feff}".as_bytes());
        }
        for (i, (line, crlf)) in lines.iter().enumerate() {
            data.extend_from_slice(line);
            if final_newline || i + 1 < lines.len() {
                data.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
        }
        let (expected, expected_stats) = sequential(&data);
        let (got, stats) = blocks(&data, threads, block, step);
        prop_assert_eq!(stats, expected_stats);
        prop_assert!(got == expected, "same records in the same order");
    }
}

/// Lines at and around the length limit, with and without `\r`, first (after a byte-order
/// mark) and in the middle, read in blocks smaller and larger than them.
#[test]
fn overlong_lines_across_blocks_are_judged_as_sequentially() {
    let long = |len: usize| -> Vec<u8> {
        let mut v =
            br#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"opened","pad":""#.to_vec();
        v.resize(len - 2, b'x');
        v.extend_from_slice(b"\"}");
        v
    };
    let max = MAX_EVENT_LINE_BYTES;
    for first in [false, true] {
        for (len, cr) in [
            (max, false),
            (max, true),
            (max + 1, false),
            (max + 1, true),
            (max + 2, false),
            (max + 3, true),
            (3 * max, false),
        ] {
            let mut data = Vec::new();
            if first {
                data.extend_from_slice("\u{feff}".as_bytes());
            } else {
                data.extend_from_slice(OPENED.as_bytes());
                data.push(b'\n');
            }
            data.extend_from_slice(&long(len));
            if cr {
                data.push(b'\r');
            }
            data.push(b'\n');
            data.extend_from_slice(OPENED.as_bytes());
            data.push(b'\n');
            // The same line last, without `\n`.
            data.extend_from_slice(&long(len));
            let (expected, expected_stats) = sequential(&data);
            assert_eq!(expected_stats.lines, if first { 3 } else { 4 });
            for (threads, block, step) in
                [(1, 100, 1 << 16), (2, 1 << 18, 1 << 20), (3, max + 7, 4096)]
            {
                let (got, stats) = blocks(&data, threads, block, step);
                assert_eq!(
                    stats, expected_stats,
                    "len {len}, cr {cr}, first {first}, block {block}"
                );
                assert!(
                    got == expected,
                    "len {len}, cr {cr}, first {first}, block {block}"
                );
            }
        }
    }
}

/// An I/O error ends the stream with `Err` after the whole lines read before it, as the
/// sequential reader does.
#[test]
fn io_errors_end_the_stream_after_the_lines_before_them() {
    let data = format!("{OPENED}\n{OPENED}\n{OPENED}\n").into_bytes();
    let fail_at = OPENED.len() + 1 + 25;
    for threads in [1, 2] {
        let mut records = Vec::new();
        let reader = Pieces {
            data: data.clone(),
            pos: 0,
            step: 7,
            fail_at: Some(fail_at),
        };
        let result = read_jsonl_blocks(
            reader,
            &ReadOptions::default(),
            threads,
            1 << 16,
            |r| records.push(r),
            |_| {},
        );
        assert_eq!(result.unwrap_err().to_string(), "disk on fire");
        assert_eq!(records.len(), 1, "{threads} threads");
    }
}

/// Attributes of event types no clause reads are skipped, not built, but still validated: a
/// nested value, a duplicate key or bad JSON in them rejects the line with the reason the full
/// reader gives, and the events kept are those of reading without the projection, less the
/// skipped attributes.
#[test]
fn unread_attributes_are_still_validated() {
    use std::sync::Arc;
    let policy = pledge::syntax::parse_policy(
        "policy \"p\" {\n  deadline d {\n    when kind == \"x\"\n    from opened until closed\n    within 1 hour\n  }\n}\n",
        "p.pledge",
        None,
    )
    .expect("the test policy parses");
    let projected = ReadOptions {
        relevance: Some(Arc::new(pledge::relevance::Relevance::of(&[policy]))),
        ..ReadOptions::default()
    };
    let lines = [
        r#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress","attrs":{"note":"ok","n":2}}"#,
        r#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress","attrs":{"note":{"a":1}}}"#,
        r#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress","attrs":{"n":1,"n":2}}"#,
        r#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress","attrs":{"n":[1,[2]]}}"#,
        r#"{"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress","attrs":{"n":tru}}"#,
        r#"{"attrs":{"n":[{}]},"ticket":"T-1","at":"2026-03-02T09:15:00Z","type":"progress"}"#,
        OPENED,
    ];
    let data = lines.join("\n").into_bytes();
    let (full, full_stats) = sequential(&data);
    for threads in [1, 2] {
        let mut got = Vec::new();
        let stats =
            read_jsonl_blocks(&data[..], &projected, threads, 64, |r| got.push(r), |_| {}).unwrap();
        assert_eq!(stats, full_stats);
        assert_eq!(stats.rejected, 5);
        for (projected, full) in got.iter().zip(&full) {
            match (projected, full) {
                (Record::Rejected(a), Record::Rejected(b)) => assert_eq!(a, b),
                (Record::Event(a), Record::Event(b)) if a.kind == "progress" => {
                    assert!(a.attrs.is_empty(), "unread attributes are not built");
                    assert_eq!((&a.ticket, a.at, a.line), (&b.ticket, b.at, b.line));
                }
                (Record::Event(a), Record::Event(b)) => assert_eq!(a, b),
                _ => panic!("{projected:?} against {full:?}"),
            }
        }
    }
}
