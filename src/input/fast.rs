//! The fast path of JSON Lines: one scan over a line of the common shape, no serde.
//!
//! Almost every line of a real export looks the same: an object with `ticket`, `at`, `type`,
//! maybe `id`, and a flat `attrs` object of strings, small integers, booleans and nulls, with
//! no escapes in any string. [`parse_common`] reads exactly that shape in one pass, touching
//! each byte once and allocating only what the event keeps; given a [`Relevance`], it does not
//! even build the attributes of events no clause can look at.
//!
//! It is an optimisation, never a second definition of the format: whenever a line is anything
//! else (an escape, a float, an array, a duplicate key, a missing field, bad UTF-8, a bad
//! timestamp, ...) it returns `None` and the full parser (serde_json) decides, with its precise
//! reason. When it does return an event, it is the event the full parser would build (tests
//! compare the two on generated lines).

use super::timestamp::parse_event_at;
use super::ReadOptions;
use crate::event::Event;
use crate::inline_str::InlineStr;
use crate::relevance::Relevance;
use crate::value::{Attrs, Value};
use std::cell::RefCell;

/// Largest number of attributes the fast path tracks for duplicate detection; more go to the
/// full parser.
const MAX_ATTRS: usize = 32;

/// Largest number of unknown top-level keys the fast path skips; more go to the full parser.
const MAX_OTHER_KEYS: usize = 8;

thread_local! {
    /// The attributes of the line being read, before they are sorted.
    static SCRATCH: RefCell<Vec<(InlineStr, Value)>> = const { RefCell::new(Vec::new()) };
}

/// Reads a line of the common shape, or `None` to let the full parser decide.
pub(super) fn parse_common(bytes: &[u8], line: u64, opts: &ReadOptions) -> Option<Event> {
    // JSON text must be UTF-8.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut s = Scanner {
        s: text,
        b: bytes,
        i: 0,
    };
    s.ws();
    s.eat(b'{')?;
    let (mut ticket, mut at, mut kind, mut id): (Option<&str>, Option<&str>, Option<&str>, _) =
        (None, None, None, None::<Option<&str>>);
    let keep = opts.relevance.as_deref();
    let mut attrs: Option<AttrsSeen> = None;
    let mut others: [&str; MAX_OTHER_KEYS] = [""; MAX_OTHER_KEYS];
    let mut n_others = 0;
    let mut first = true;
    loop {
        s.ws();
        if s.peek()? == b'}' {
            if !first {
                return None; // trailing comma
            }
            s.i += 1;
            break;
        }
        let key = s.string()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        let slot_taken = match key {
            "ticket" => ticket.replace(s.string()?).is_some(),
            "at" => at.replace(s.string()?).is_some(),
            "type" => kind.replace(s.string()?).is_some(),
            "id" => {
                let value = match s.peek()? {
                    b'"' => Some(s.string()?),
                    b'n' => {
                        s.literal(b"null")?;
                        None
                    }
                    _ => return None,
                };
                id.replace(value).is_some()
            }
            "attrs" => {
                if s.peek()? != b'{' {
                    return None;
                }
                // Usually `type` came first: the attributes are built in the same pass.
                let seen = match kind {
                    Some(kind) => AttrsSeen::Built(s.flat_object(Build::of(kind, keep))?),
                    None => {
                        let start = s.i;
                        s.flat_object(Build::Nothing)?;
                        AttrsSeen::Span(start, s.i)
                    }
                };
                attrs.replace(seen).is_some()
            }
            other => {
                if n_others == MAX_OTHER_KEYS || others[..n_others].contains(&other) {
                    return None;
                }
                others[n_others] = other;
                n_others += 1;
                s.skip_scalar()?;
                false
            }
        };
        if slot_taken {
            return None; // duplicate key
        }
        first = false;
        s.ws();
        match s.next()? {
            b',' => {
                s.ws();
                if s.peek()? != b'"' {
                    return None;
                }
            }
            b'}' => break,
            _ => return None,
        }
    }
    s.ws();
    if s.i != bytes.len() {
        return None;
    }
    let (ticket, at, kind) = (ticket?, at?, kind?);
    if ticket.trim().is_empty() || kind.trim().is_empty() {
        return None;
    }
    let at = parse_event_at(at, opts.tz).ok()?;
    let attrs = match attrs {
        None => Attrs::new(),
        Some(AttrsSeen::Built(attrs)) => attrs,
        Some(AttrsSeen::Span(start, end)) => {
            let mut s = Scanner {
                s: text,
                b: bytes,
                i: start,
            };
            let attrs = s.flat_object(Build::of(kind, keep))?;
            debug_assert_eq!(s.i, end);
            attrs
        }
    };
    Some(Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: id.flatten().filter(|i| !i.is_empty()).map(Into::into),
        attrs,
        line,
    })
}

/// The `attrs` of a line: built, or where they are when `type` came after them.
enum AttrsSeen {
    Built(Attrs),
    Span(usize, usize),
}

/// What to build of a line's attributes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    All,
    /// None: the event type is one no clause looks at, or the type is not known yet.
    Nothing,
}

impl Build {
    fn of(kind: &str, keep: Option<&Relevance>) -> Build {
        match keep {
            Some(r) if !r.keeps_type(kind) => Build::Nothing,
            _ => Build::All,
        }
    }
}

/// The position of the first `"`, `\\` or control character in `b`: where a string without
/// escapes ends, or where the fast path gives up. Eight bytes at a time (the usual bit tricks:
/// a byte of `x ^ splat(c)` is zero where `x` holds `c`), then byte by byte.
#[inline]
fn string_end(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `x` below `n` (n ≤ 128); exact for the lowest such byte,
    // which is the only one used.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let hits = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

/// A position in a line known to be UTF-8 (`b` is `s` as bytes).
struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// JSON whitespace.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        let len = string_end(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        // A `"` is never inside a character, so both ends are character boundaries.
        self.s.get(start..start + len)
    }

    /// An integer of at most 15 digits (exact as `f64`), without leading zeros or a minus zero.
    fn integer(&mut self) -> Option<f64> {
        let negative = self.peek() == Some(b'-');
        let start = self.i + usize::from(negative);
        let digits = self.b[start..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 15 || (self.b[start] == b'0' && (digits > 1 || negative)) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.b.get(start + digits) {
            return None;
        }
        let mut n: i64 = 0;
        for &c in &self.b[start..start + digits] {
            n = n * 10 + i64::from(c - b'0');
        }
        self.i = start + digits;
        Some(if negative { -n } else { n } as f64)
    }

    /// A string, a small integer, `true`, `false` or `null`.
    fn scalar(&mut self) -> Option<Value> {
        Some(match self.peek()? {
            b'"' => Value::String(self.string()?.into()),
            b't' => self.literal(b"true").map(|_| Value::Bool(true))?,
            b'f' => self.literal(b"false").map(|_| Value::Bool(false))?,
            b'n' => self.literal(b"null").map(|_| Value::Null)?,
            _ => Value::Number(self.integer()?),
        })
    }

    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.integer().map(|_| ()),
        }
    }

    /// Reads an object of scalars with distinct keys, leaving the scanner after it, and builds
    /// what `build` asks for of it.
    fn flat_object(&mut self, build: Build) -> Option<Attrs> {
        if build == Build::Nothing {
            self.object_entries(None)?;
            return Some(Attrs::new());
        }
        // The entries are gathered, then sorted once into a vector of exactly their number.
        SCRATCH.with_borrow_mut(|entries| {
            entries.clear();
            let read = self.object_entries(Some(entries));
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            // Drained, not taken: the scratch keeps its capacity for the next line, and the
            // new vector gets exactly the entries' length.
            #[allow(clippy::drain_collect)]
            let attrs = Attrs::from_sorted(entries.drain(..).collect());
            read.map(|()| attrs)
        })
    }

    /// Reads an object of scalars with distinct keys into `out`, if given.
    fn object_entries(&mut self, mut out: Option<&mut Vec<(InlineStr, Value)>>) -> Option<()> {
        self.eat(b'{')?;
        let mut keys: [&str; MAX_ATTRS] = [""; MAX_ATTRS];
        let mut n = 0;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            if n == MAX_ATTRS || keys[..n].contains(&key) {
                return None;
            }
            keys[n] = key;
            n += 1;
            self.ws();
            self.eat(b':')?;
            self.ws();
            match out.as_deref_mut() {
                Some(out) => out.push((InlineStr::new(key), self.scalar()?)),
                None => self.skip_scalar()?,
            }
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::jsonl::parse_full;
    use super::super::Record;
    use super::*;
    use crate::policy::Policy;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn opts() -> ReadOptions {
        ReadOptions::default()
    }

    /// With a projection keeping `opened` and `status` events (and the other structural ones).
    fn projected() -> ReadOptions {
        let policy: Policy = crate::syntax::parse_policy(
            "policy \"p\" {\n  deadline d {\n    when kind == \"x\"\n    from opened until status\n    within 1 hour\n  }\n}\n",
            "p.pledge",
            None,
        )
        .expect("the test policy parses");
        ReadOptions {
            relevance: Some(Arc::new(Relevance::of(&[policy]))),
            ..ReadOptions::default()
        }
    }

    proptest! {
        #[test]
        fn string_end_finds_the_first_quote_backslash_or_control(
            b in prop::collection::vec(prop::sample::select(vec![b'a', 0xC3, 0xA9, b'"', b'\\', 0x1F, 0x20, 0x7F, 0x00, 0xFF]), 0..40)
        ) {
            let expected = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(string_end(&b), expected);
        }
    }

    #[test]
    fn common_lines_take_the_fast_path_and_agree() {
        let lines = [
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"x","n":3,"ok":true,"z":null}}"#,
            r#" { "type" : "closed" , "at":"2026-03-02T09:00:00Z", "ticket":"工单-1", "id":"e1" } "#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00.5+08:00","type":"status","id":null,"attrs":{},"source":"app"}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"n":-12,"m":0,"s":"维修"}}"#,
        ];
        for (i, line) in lines.iter().enumerate() {
            for opts in [opts(), projected()] {
                let fast = parse_common(line.as_bytes(), i as u64 + 1, &opts)
                    .unwrap_or_else(|| panic!("fast path declined {line}"));
                assert_eq!(
                    Record::Event(fast),
                    parse_full(line.as_bytes(), i as u64 + 1, &opts),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn a_projection_leaves_out_the_attributes_of_events_no_clause_looks_at() {
        let line = br#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"x","unit":"u1"}}"#;
        let e = parse_common(line, 1, &projected()).unwrap();
        assert_eq!(
            e.attrs.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["kind", "unit"]
        );
        let line = br#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"progress","attrs":{"kind":"x"}}"#;
        assert!(parse_common(line, 1, &projected())
            .unwrap()
            .attrs
            .is_empty());
    }

    #[test]
    fn unusual_lines_go_to_the_full_parser() {
        for line in [
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","ticket":"T-2"}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":{"a":1,"a":2}}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","x":1,"x":1}"#,
            r#"{"ticket":"T\u002d1","at":"2026-03-02T09:00:00Z","type":"opened"}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":{"a":1.5}}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":{"a":-0}}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":{"a":01}}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":{"a":[1]}}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","attrs":null}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened","id":7}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00","type":"opened"}"#,
            r#"{"ticket":" ","at":"2026-03-02T09:00:00Z","type":"opened"}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened",}"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z","type":"opened"} x"#,
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00Z"}"#,
            "{\"ticket\":\"T-1\t\",\"at\":\"2026-03-02T09:00:00Z\",\"type\":\"opened\"}",
        ] {
            assert!(
                parse_common(line.as_bytes(), 1, &opts()).is_none(),
                "fast path accepted {line}"
            );
        }
    }

    /// Values of every JSON type, with escapes, odd numbers, duplicates and nesting.
    fn value() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            r#""T-1""#,
            r#""2026-03-02T09:00:00+08:00""#,
            r#""2026-02-30T09:00:00Z""#,
            r#""opened""#,
            r#""status""#,
            r#""a\"b""#,
            r#""维修""#,
            r#""""#,
            r#"" ""#,
            "12",
            "-3",
            "0",
            "-0",
            "007",
            "1.5",
            "1e3",
            "123456789012345678",
            "true",
            "false",
            "null",
            "[1,2]",
            r#"{"a":1}"#,
            r#"{"kind":"x","n":1,"s":"ok","b":false,"z":null}"#,
            r#"{"kind":"x","kind":"y"}"#,
            r#"{"a":[1]}"#,
            r#"{}"#,
        ])
        .prop_map(str::to_string)
    }

    /// Lines of fields in any order, any of them missing or repeated, with any values.
    fn line() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "ticket", "at", "type", "id", "attrs", "extra", "ticket", "at", "type", "attrs",
        ]);
        let space = prop::sample::select(vec!["", " ", "\t", "\r"]);
        prop::collection::vec((key, value(), space), 0..7).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v, sp)| format!("{sp}\"{k}\"{sp}:{sp}{v}{sp}"))
                .collect();
            format!("{{{}}}", body.join(","))
        })
    }

    /// Lines with the three required fields valid and attributes of every kind: most take the
    /// fast path.
    fn mostly_common_line() -> impl Strategy<Value = String> {
        let attr = (
            prop::sample::select(vec!["kind", "severity", "status", "n", "unit", "kind"]),
            value(),
        );
        (
            prop::collection::vec(attr, 0..5),
            prop::sample::select(vec!["opened", "status", "progress"]),
            any::<bool>(),
        )
            .prop_map(|(attrs, kind, attrs_first)| {
                let attrs: Vec<String> =
                    attrs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                let attrs = format!("\"attrs\":{{{}}}", attrs.join(","));
                let head = format!(
                    "\"ticket\":\"T-1\",\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"{kind}\""
                );
                if attrs_first {
                    format!("{{{attrs},{head}}}")
                } else {
                    format!("{{{head},{attrs}}}")
                }
            })
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_on_lines_of_the_common_shape(line in mostly_common_line()) {
            for opts in [opts(), projected()] {
                // Declining is fine: the full parser then decides.
                if let Some(fast) = parse_common(line.as_bytes(), 9, &opts) {
                    prop_assert_eq!(Record::Event(fast), parse_full(line.as_bytes(), 9, &opts));
                }
            }
        }

        #[test]
        fn the_fast_path_never_disagrees_with_the_full_parser(line in line()) {
            for opts in [opts(), projected()] {
                if let Some(fast) = parse_common(line.as_bytes(), 9, &opts) {
                    prop_assert_eq!(Record::Event(fast), parse_full(line.as_bytes(), 9, &opts));
                }
            }
        }

        /// Lines of exactly the common shape (valid required fields, an optional string id, a
        /// flat `attrs` of distinct keys with plain strings, small integers, booleans and
        /// nulls, fields in any order, spaces between tokens) always take the fast path, and
        /// give the full parser's event.
        #[test]
        fn lines_of_the_common_shape_take_the_fast_path(line in common_line(None)) {
            for opts in [opts(), projected()] {
                let fast = parse_common(line.as_bytes(), 9, &opts);
                prop_assert!(fast.is_some(), "declined: {}", line);
                if let Some(fast) = fast {
                    prop_assert_eq!(Record::Event(fast), parse_full(line.as_bytes(), 9, &opts));
                }
            }
        }

        /// The common shape with one variation the fast path may decline (an escape, a float,
        /// an array, a duplicate key, a missing field, ...): declined or the full parser's
        /// event, never another one.
        #[test]
        fn one_variation_is_declined_or_read_alike(line in common_line(Some(()))) {
            for opts in [opts(), projected()] {
                if let Some(fast) = parse_common(line.as_bytes(), 9, &opts) {
                    prop_assert_eq!(Record::Event(fast), parse_full(line.as_bytes(), 9, &opts));
                }
            }
        }
    }

    /// A line of the common shape; with `Some(())`, one of its fields varied.
    fn common_line(vary: Option<()>) -> impl Strategy<Value = String> {
        let plain = prop::sample::select(vec!["T-1", "T-2026-000017", "维修", "a b", "x_y-z", "0"]);
        let scalar = prop_oneof![
            plain.clone().prop_map(|s| format!("\"{s}\"")),
            (0u32..100_000).prop_map(|n| n.to_string()),
            prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string),
        ];
        let keys = prop::sample::subsequence(
            vec!["kind", "severity", "status", "unit", "n", "by", "satisfied"],
            0..=7,
        );
        let attrs = keys.prop_flat_map(move |keys| {
            prop::collection::vec(scalar.clone(), keys.len()).prop_map(move |values| {
                let fields: Vec<String> = keys
                    .iter()
                    .zip(&values)
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            })
        });
        let at = prop::sample::select(vec![
            "2026-03-02T09:00:00+08:00",
            "2026-03-02T01:00:00Z",
            "2026-10-25T02:30:00.125-03:30",
        ]);
        let kind = prop::sample::select(vec!["opened", "status", "progress", "维修完成"]);
        let variation = prop::sample::select(vec![
            "\"extra\":1",
            "\"ticket\":\"T-9\"",
            "\"attrs\":{\"a\":1.5}",
            "\"attrs\":{\"a\":[1]}",
            "\"attrs\":{\"a\":\"x\\\"y\"}",
            "\"attrs\":{\"a\":-0}",
            "\"attrs\":{\"a\":{\"b\":1}}",
            "\"id\":7",
            "\"at\":\"2026-03-02T09:00:00\"",
            "\"type\":\"\"",
        ]);
        (
            plain,
            at,
            kind,
            prop::option::of(plain_id()),
            attrs,
            0usize..5,
            prop::sample::select(vec!["", " ", "\t"]),
            variation,
        )
            .prop_map(
                move |(ticket, at, kind, id, attrs, rotate, sp, variation)| {
                    let mut fields = vec![
                        format!("\"ticket\":{sp}\"{ticket}\""),
                        format!("\"at\":\"{at}\""),
                        format!("\"type\":\"{kind}\""),
                        format!("\"attrs\":{attrs}"),
                    ];
                    if let Some(id) = id {
                        fields.push(format!("\"id\":\"{id}\""));
                    }
                    let n = fields.len();
                    fields.rotate_left(rotate % n);
                    if vary.is_some() {
                        fields.push(variation.to_string());
                    }
                    format!("{{{sp}{}{sp}}}", fields.join(&format!(",{sp}")))
                },
            )
    }

    fn plain_id() -> impl Strategy<Value = String> {
        "[A-Za-z0-9-]{1,12}"
    }
}
