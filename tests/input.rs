//! Reading event streams: JSON Lines and CSV, rejected lines, time zones, limits.

use chrono::{DateTime, Utc};
use pledge::input::{
    count_newlines, is_blank, next_line_start, parse_jsonl_line, parse_timestamp, read_events,
    read_jsonl_chunk, split_lines, Format, ReadOptions, ReadStats, Record, Rejected,
    TimestampError,
};
use pledge::limits::MAX_EVENT_LINE_BYTES;
use pledge::value::Value;
use pledge::Event;
use proptest::prelude::*;
use std::io::{self, Read};

fn jsonl() -> ReadOptions {
    ReadOptions::default()
}

fn csv() -> ReadOptions {
    ReadOptions {
        format: Format::Csv,
        ..ReadOptions::default()
    }
}

fn with_tz(mut opts: ReadOptions, zone: &str) -> ReadOptions {
    opts.tz = Some(zone.parse().unwrap());
    opts
}

fn read_bytes(input: &[u8], opts: &ReadOptions) -> (Vec<Record>, ReadStats) {
    let mut records = Vec::new();
    let stats = read_events(input, opts, |r| records.push(r)).unwrap();
    (records, stats)
}

fn read(input: &str, opts: &ReadOptions) -> (Vec<Record>, ReadStats) {
    read_bytes(input.as_bytes(), opts)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn event(r: &Record) -> &Event {
    match r {
        Record::Event(e) => e,
        Record::Rejected(r) => panic!("expected an event, got {r:?}"),
    }
}

fn rejected(r: &Record) -> &Rejected {
    match r {
        Record::Rejected(r) => r,
        Record::Event(e) => panic!("expected a rejection, got {e:?}"),
    }
}

/// The single record of a one-line JSONL input.
fn one(line: &str) -> Record {
    let (records, stats) = read(line, &jsonl());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(stats.lines, 1);
    records.into_iter().next().unwrap()
}

fn reason(line: &str) -> String {
    rejected(&one(line)).reason.clone()
}

fn reason_tz(line: &str, zone: &str) -> String {
    rejected(&parse_jsonl_line(
        line.as_bytes(),
        1,
        &with_tz(jsonl(), zone),
    ))
    .reason
    .clone()
}

fn at_tz(line: &str, zone: &str) -> DateTime<Utc> {
    event(&parse_jsonl_line(
        line.as_bytes(),
        1,
        &with_tz(jsonl(), zone),
    ))
    .at
}

const OPENED: &str = r#"{"ticket":"T-2026-000017","at":"2026-03-02T09:15:00+08:00","type":"opened","attrs":{"kind":"complaint","category":"facility","channel":"phone","project":"jindi","unit":"3-2-1501"}}"#;

// ---------------------------------------------------------------- JSON Lines: valid lines

#[test]
fn reads_the_example_of_the_contract() {
    let input = format!(
        "{OPENED}\n{}\n{}\n{}\n",
        r#"{"ticket":"T-2026-000017","at":"2026-03-02T09:52:00+08:00","type":"contacted"}"#,
        r#"{"ticket":"T-2026-000017","at":"2026-03-03T16:40:00+08:00","type":"resolved","attrs":{"by":"engineering"}}"#,
        r#"{"ticket":"T-2026-000017","at":"2026-03-04T10:05:00+08:00","type":"revisited","attrs":{"by":"building_manager","method":"phone","satisfied":true}}"#,
    );
    let (records, stats) = read(&input, &jsonl());
    assert_eq!(
        stats,
        ReadStats {
            lines: 4,
            bytes: input.len() as u64,
            events: 4,
            rejected: 0,
            blank: 0
        }
    );
    let first = event(&records[0]);
    assert_eq!(&*first.ticket, "T-2026-000017");
    assert_eq!(first.at, utc("2026-03-02T01:15:00Z"));
    assert_eq!(&*first.kind, "opened");
    assert_eq!(first.id, None);
    assert_eq!(first.line, 1);
    assert_eq!(first.attrs.len(), 5);
    assert_eq!(
        first.attrs.get("unit"),
        Some(&Value::String("3-2-1501".into()))
    );
    let second = event(&records[1]);
    assert!(second.attrs.is_empty());
    assert_eq!(second.line, 2);
    let last = event(&records[3]);
    assert_eq!(last.attrs.get("satisfied"), Some(&Value::Bool(true)));
    assert_eq!(last.line, 4);
}

#[test]
fn utc_designator_and_fractional_seconds() {
    let e = event(&one(
        r#"{"ticket":"T","at":"2026-03-02T01:15:00Z","type":"opened"}"#,
    ))
    .clone();
    assert_eq!(e.at, utc("2026-03-02T01:15:00+00:00"));
    let e = event(&one(
        r#"{"ticket":"T","at":"2026-03-02T09:15:00.250+08:00","type":"opened"}"#,
    ))
    .clone();
    assert_eq!(e.at, utc("2026-03-02T01:15:00.25Z"));
    assert_eq!(e.at.timestamp_subsec_millis(), 250);
    let e = event(&one(
        r#"{"ticket":"T","at":"2026-03-02T01:15:00.123456789Z","type":"opened"}"#,
    ))
    .clone();
    assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_789);
    // Negative offsets, lowercase designators and the space RFC 3339 allows.
    for at in [
        "2026-03-01T20:15:00-05:00",
        "2026-03-02t01:15:00z",
        "2026-03-02 01:15:00Z",
    ] {
        let line = format!(r#"{{"ticket":"T","at":"{at}","type":"opened"}}"#);
        assert_eq!(event(&one(&line)).at, utc("2026-03-02T01:15:00Z"), "{at}");
    }
}

#[test]
fn crlf_line_endings() {
    let input = format!("{OPENED}\r\n{OPENED}\r\n\r\n{OPENED}");
    let (records, stats) = read(&input, &jsonl());
    assert_eq!(stats.events, 3);
    assert_eq!(stats.blank, 1);
    assert_eq!(stats.lines, 4);
    assert_eq!(event(&records[2]).line, 4);
    assert_eq!(
        event(&records[0]).attrs.get("unit"),
        Some(&Value::String("3-2-1501".into()))
    );
}

#[test]
fn unicode_values_arrays_numbers_and_null() {
    let e = event(&one(
        r#"{"ticket":"投诉-001","at":"2026-03-02T09:15:00+08:00","type":"opened","attrs":{"category":"设施","tags":["漏水","紧急",3,true,null],"score":4.5,"floor":-2,"big":18446744073709551615,"note":null,"empty":[]}}"#,
    ))
    .clone();
    assert_eq!(&*e.ticket, "投诉-001");
    assert_eq!(e.attrs.get("category"), Some(&Value::String("设施".into())));
    assert_eq!(
        e.attrs.get("tags"),
        Some(&Value::List(vec![
            Value::String("漏水".into()),
            Value::String("紧急".into()),
            Value::Number(3.0),
            Value::Bool(true),
            Value::Null,
        ]))
    );
    assert_eq!(e.attrs.get("score"), Some(&Value::Number(4.5)));
    assert_eq!(e.attrs.get("floor"), Some(&Value::Number(-2.0)));
    assert_eq!(
        e.attrs.get("big"),
        Some(&Value::Number(18446744073709551615.0))
    );
    assert_eq!(e.attrs.get("note"), Some(&Value::Null));
    assert_eq!(e.attrs.get("empty"), Some(&Value::List(vec![])));
}

#[test]
fn escaped_strings_are_unescaped() {
    let e = event(&one(
        r#"{"ticket":"T-\"1\"","at":"2026-03-02T09:15:00+08:00","type":"op\u0065ned","attrs":{"k\u00e9y":"a\nb","投\u8bc9":"\u8bbe\u65bd"}}"#,
    ))
    .clone();
    assert_eq!(&*e.ticket, "T-\"1\"");
    assert_eq!(&*e.kind, "opened");
    assert_eq!(e.attrs.get("kéy"), Some(&Value::String("a\nb".into())));
    assert_eq!(e.attrs.get("投诉"), Some(&Value::String("设施".into())));
}

#[test]
fn ids_strings_numbers_or_absent() {
    let id = |v: &str| {
        let line = format!(r#"{{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","id":{v}}}"#);
        event(&one(&line)).id.as_deref().map(str::to_owned)
    };
    assert_eq!(id(r#""E-1""#), Some("E-1".to_string()));
    assert_eq!(id("17"), Some("17".to_string()));
    assert_eq!(id("-4"), Some("-4".to_string()));
    assert_eq!(id("2.5"), Some("2.5".to_string()));
    assert_eq!(id("null"), None);
    assert_eq!(id(r#""""#), None);
}

#[test]
fn unknown_keys_and_null_attrs_are_ignored() {
    let e = event(&one(
        r#"{"v":2,"source":{"system":"crm","nested":[[1],{"a":[]}]},"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":null,"extra":[1,2]}"#,
    ))
    .clone();
    assert!(e.attrs.is_empty());
    assert_eq!(&*e.kind, "x");
}

#[test]
fn whitespace_around_the_object_is_fine() {
    let e = event(&one(
        " \t{ \"ticket\" : \"T\" , \"at\" : \"2026-03-02T09:15:00Z\" , \"type\" : \"x\" } \t",
    ))
    .clone();
    assert_eq!(&*e.ticket, "T");
}

#[test]
fn byte_order_mark_at_start_is_ignored() {
    let input = format!("\u{feff}{OPENED}\n{OPENED}\n");
    let (records, stats) = read(&input, &jsonl());
    assert_eq!(stats.events, 2, "{records:?}");
    assert_eq!(stats.bytes, input.len() as u64);
    // Elsewhere it is not whitespace: the line is rejected.
    let (records, _) = read(&format!("{OPENED}\n\u{feff}{OPENED}\n"), &jsonl());
    assert_eq!(rejected(&records[1]).line, 2);
}

// ---------------------------------------------------------------- JSON Lines: rejections

#[test]
fn not_valid_json_names_the_column() {
    // Column 57 is the `"` where a `:` was expected.
    let line = r#"{"ticket":"T-1","at":"2026-03-02T09:15:00+08:00","type" "opened"}"#;
    assert_eq!(reason(line), "not valid JSON: expected `:` at column 57");
    let line = r#"{"ticket":"T-1","at":"2026-03-02T09:15:00+08:00","type":"opened" "id":1}"#;
    assert_eq!(
        reason(line),
        "not valid JSON: expected `,` or `}` at column 66"
    );
    // Columns count characters, not bytes.
    let line = r#"{"ticket":"投诉","at":"2026-03-02T09:15:00+08:00","type":"opened" "id":1}"#;
    assert_eq!(
        reason(line),
        "not valid JSON: expected `,` or `}` at column 65"
    );
    assert_eq!(
        reason(r#"{"ticket":"T-1","at":"#),
        "not valid JSON: line ends while parsing a value"
    );
    assert_eq!(
        reason(r#"{"ticket":"T-1"#),
        "not valid JSON: line ends while parsing a string"
    );
    assert_eq!(
        reason(r#"{"ticket":"T"} x"#),
        "not valid JSON: trailing characters at column 16"
    );
    assert!(reason("ticket,at,type").starts_with("not valid JSON: "));
    assert!(reason(r#"{"ticket":"\ud800","at":"x","type":"y"}"#).starts_with("not valid JSON: "));
    assert!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{"a":1e999}}"#)
            .starts_with("not valid JSON: number out of range at column ")
    );
}

#[test]
fn deep_nesting_is_no_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // Skipped without recursion under an unknown key: well-formed, so ignored.
    let line = format!(r#"{{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","junk":{deep}}}"#);
    assert_eq!(&*event(&one(&line)).kind, "x");
    // Inside `attrs` it is read, and the depth limit rejects it.
    let line = format!(
        r#"{{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{{"a":{deep}}}}}"#
    );
    assert!(reason(&line).starts_with("not valid JSON: recursion limit exceeded at column "));
    let line =
        format!(r#"{{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{{"a":{deep}"#);
    assert!(reason(&line).starts_with("not valid JSON: "));
}

#[test]
fn not_an_object() {
    assert_eq!(reason("[1,2]"), "not a JSON object: found an array");
    assert_eq!(reason("\"x\""), "not a JSON object: found a string");
    assert_eq!(reason("42"), "not a JSON object: found a number");
    assert_eq!(reason("null"), "not a JSON object: found null");
    assert_eq!(reason("true"), "not a JSON object: found a boolean");
}

#[test]
fn missing_required_fields() {
    assert_eq!(
        reason(r#"{"at":"2026-03-02T09:15:00Z","type":"x"}"#),
        "missing `ticket`"
    );
    assert_eq!(reason(r#"{"ticket":"T","type":"x"}"#), "missing `at`");
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z"}"#),
        "missing `type`"
    );
    assert_eq!(reason(r#"{"ticket":"T"}"#), "missing `at` and `type`");
    assert_eq!(reason("{}"), "missing `ticket`, `at` and `type`");
}

#[test]
fn wrongly_typed_or_empty_fields() {
    let base = |ticket: &str, at: &str, kind: &str| {
        reason(&format!(r#"{{"ticket":{ticket},"at":{at},"type":{kind}}}"#))
    };
    let at = r#""2026-03-02T09:15:00Z""#;
    assert_eq!(base("17", at, r#""x""#), "`ticket` must be a string");
    assert_eq!(base("null", at, r#""x""#), "`ticket` must be a string");
    assert_eq!(base(r#"["T"]"#, at, r#""x""#), "`ticket` must be a string");
    assert_eq!(base(r#""""#, at, r#""x""#), "`ticket` is empty");
    assert_eq!(base(r#""  ""#, at, r#""x""#), "`ticket` is empty");
    assert_eq!(
        base(r#""T""#, "1772413200", r#""x""#),
        "`at` must be a string"
    );
    assert_eq!(base(r#""T""#, at, "3"), "`type` must be a string");
    assert_eq!(base(r#""T""#, at, r#""""#), "`type` is empty");
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","id":true}"#),
        "`id` must be a string or a number"
    );
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":[1]}"#),
        "`attrs` must be an object, not an array"
    );
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":"kind=repair"}"#),
        "`attrs` must be an object, not a string"
    );
}

#[test]
fn bad_timestamps() {
    let at = |v: &str| reason(&format!(r#"{{"ticket":"T","at":"{v}","type":"x"}}"#));
    assert_eq!(
        at("2026-03-02T09:15:00"),
        "`at` has no UTC offset (use --tz to name a zone)"
    );
    assert_eq!(
        at("2026-03-02T09:15:00.5"),
        "`at` has no UTC offset (use --tz to name a zone)"
    );
    assert_eq!(
        at("2026-03-02 09:15:00"),
        "`at` has no UTC offset (use --tz to name a zone)"
    );
    assert_eq!(
        at("2026-13-01"),
        "`at` is not an RFC 3339 timestamp: `2026-13-01`"
    );
    for bad in [
        "2026-03-02",
        "2026-02-30T09:15:00Z",
        "2026-03-02T25:15:00Z",
        "2026-03-02T09:15Z",
        "2026-03-02T09:15:00+0800",
        "2026-03-02T09:15:00+08",
        "2026/03/02 09:15:00",
        "yesterday",
        "",
    ] {
        assert_eq!(
            at(bad),
            format!("`at` is not an RFC 3339 timestamp: `{bad}`"),
            "{bad}"
        );
    }
    // Long values are shortened in the reason.
    let long = "9".repeat(500);
    let r = at(&long);
    assert!(r.len() < 120 && r.ends_with("…`"), "{r}");
}

/// An event before 1900-01-01T00:00:00Z is refused with its own reason (a mistyped year would
/// open periods reaching back centuries), on both sides of the bound, with an offset, in JSON
/// Lines (the fast path and the full parser) and in CSV.
#[test]
fn events_before_1900_are_refused() {
    let line = |v: &str| format!(r#"{{"ticket":"T","at":"{v}","type":"x"}}"#);
    for early in [
        "0206-03-02T09:00:00+08:00",
        "1899-12-31T23:59:59Z",
        "1899-12-31T23:59:59.999999999Z",
        "1900-01-01T07:59:59+08:00",
        "0000-01-01T00:00:00Z",
    ] {
        assert_eq!(
            reason(&line(early)),
            format!("`at` is before 1900: `{early}` (a mistyped year?)")
        );
        // With an attribute the fast path does not take, the full parser decides alike.
        let full =
            format!(r#"{{"ticket":"T","at":"{early}","type":"x","attrs":{{"n":[1,{{}}]}}}}"#);
        assert!(reason(&full).starts_with("`at` is before 1900"), "{full}");
        let (records, _) = read(&format!("ticket,at,type\nT,{early},x\n"), &csv());
        assert_eq!(
            rejected(&records[0]).reason,
            format!("`at` is before 1900: `{early}` (a mistyped year?)")
        );
    }
    for fine in [
        "1900-01-01T00:00:00Z",
        "1900-01-01T08:00:00+08:00",
        "1969-12-31T23:59:59Z",
    ] {
        assert_eq!(event(&one(&line(fine))).at, utc(fine), "{fine}");
    }
}

/// An event from 3000-01-01T00:00:00Z on is refused the same way: a year mistyped into the far
/// future, and an instant past 9999 has no RFC 3339 form for the report to write.
#[test]
fn events_after_2999_are_refused() {
    let line = |v: &str| format!(r#"{{"ticket":"T","at":"{v}","type":"x"}}"#);
    for late in [
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59+08:00",
        "9026-03-02T09:00:00+08:00",
    ] {
        let expected = format!("`at` is after the year 2999: `{late}` (a mistyped year?)");
        assert_eq!(reason(&line(late)), expected);
        let full = format!(r#"{{"ticket":"T","at":"{late}","type":"x","attrs":{{"n":[1,{{}}]}}}}"#);
        assert!(
            reason(&full).starts_with("`at` is after the year 2999"),
            "{full}"
        );
        let (records, _) = read(&format!("ticket,at,type\nT,{late},x\n"), &csv());
        assert_eq!(rejected(&records[0]).reason, expected);
    }
    for fine in ["2999-12-31T23:59:59Z", "3000-01-01T07:59:59+08:00"] {
        assert_eq!(event(&one(&line(fine))).at, utc(fine), "{fine}");
    }
}

#[test]
fn nested_attribute_values_name_the_key() {
    let attrs = |a: &str| {
        reason(&format!(
            r#"{{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{a}}}"#
        ))
    };
    assert_eq!(
        attrs(r#"{"kind":"repair","floor":{"n":3}}"#),
        "`attrs.floor` is an object; attribute values must be scalars or arrays of scalars"
    );
    assert_eq!(
        attrs(r#"{"grid":[[1,2],[3]]}"#),
        "`attrs.grid` is an array holding an array; attribute values must be scalars or arrays of scalars"
    );
    assert_eq!(
        attrs(r#"{"people":["a",{"n":"b"}]}"#),
        "`attrs.people` is an array holding an object; attribute values must be scalars or arrays of scalars"
    );
    // The first offending key is named.
    assert_eq!(
        attrs(r#"{"a":{},"b":[[]]}"#),
        "`attrs.a` is an object; attribute values must be scalars or arrays of scalars"
    );
}

#[test]
fn duplicate_keys() {
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","ticket":"U"}"#),
        "duplicate key `ticket`"
    );
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{},"attrs":{}}"#),
        "duplicate key `attrs`"
    );
    assert_eq!(
        reason(r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{"k":1,"k":2}}"#),
        "duplicate key `attrs.k`"
    );
}

#[test]
fn not_utf8() {
    let mut line =
        br#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{"c":""#.to_vec();
    line.extend_from_slice(&[0xC9, 0xE8, 0xCA, 0xA9]); // "设施" in GBK
    line.extend_from_slice(br#""}}"#);
    let (records, stats) = read_bytes(&line, &jsonl());
    assert_eq!(stats.rejected, 1);
    let r = rejected(&records[0]);
    assert_eq!(r.reason, "line is not UTF-8");
    assert!(r.text.contains('\u{fffd}'));
}

#[test]
fn rejected_text_is_the_line_cut_at_a_character() {
    let r = rejected(&one(r#"{"ticket":1}"#)).clone();
    assert_eq!(r.text, r#"{"ticket":1}"#);
    assert_eq!(r.line, 1);
    let long = format!(r#"{{"ticket":1,"note":"{}"}}"#, "漏水".repeat(300));
    let r = rejected(&one(&long)).clone();
    assert_eq!(r.text.chars().count(), 201);
    assert!(r.text.ends_with("水…") || r.text.ends_with("漏…"));
    assert!(long.starts_with(r.text.trim_end_matches('…')));
    // No `\r` from a CRLF line.
    let (records, _) = read("{oops}\r\n", &jsonl());
    assert_eq!(rejected(&records[0]).text, "{oops}");
}

// ---------------------------------------------------------------- line length

fn padded_line(len: usize) -> String {
    let head = r#"{"ticket":"T","at":"2026-03-02T09:15:00Z","type":"x","attrs":{"pad":""#;
    let tail = r#""}}"#;
    format!("{head}{}{tail}", "a".repeat(len - head.len() - tail.len()))
}

#[test]
fn longest_line_accepted_one_more_rejected() {
    let exact = padded_line(MAX_EVENT_LINE_BYTES);
    let over = padded_line(MAX_EVENT_LINE_BYTES + 1);
    let input = format!("{exact}\n{over}\n{exact}\r\n{over}\r\n{OPENED}\n{over}");
    let (records, stats) = read(&input, &jsonl());
    let kinds: Vec<bool> = records
        .iter()
        .map(|r| matches!(r, Record::Event(_)))
        .collect();
    assert_eq!(kinds, [true, false, true, false, true, false]);
    for r in records.iter().filter_map(|r| match r {
        Record::Rejected(r) => Some(r),
        _ => None,
    }) {
        assert_eq!(r.reason, "line longer than 1048576 bytes");
        assert!(r.text.starts_with(r#"{"ticket":"T","at""#));
        assert_eq!(r.text.chars().count(), 201);
    }
    assert_eq!(stats.lines, 6);
    assert_eq!(stats.bytes, input.len() as u64);
    // The pure parser applies the limit too.
    let r = parse_jsonl_line(over.as_bytes(), 9, &jsonl());
    assert_eq!(rejected(&r).reason, "line longer than 1048576 bytes");
    assert_eq!(rejected(&r).line, 9);
}

#[test]
fn huge_line_does_not_stop_the_stream() {
    // A 40 MB line without a newline in between two good lines, fed in small reads.
    let huge = vec![b'x'; 40 << 20];
    let mut input = format!("{OPENED}\n").into_bytes();
    input.extend_from_slice(&huge);
    input.extend_from_slice(format!("\n{OPENED}\n").as_bytes());
    let (records, stats) = read_bytes(&input, &jsonl());
    assert_eq!(records.len(), 3);
    assert_eq!(rejected(&records[1]).line, 2);
    assert_eq!(rejected(&records[1]).text, format!("{}…", "x".repeat(200)));
    assert_eq!(event(&records[2]).line, 3);
    assert_eq!((stats.events, stats.rejected, stats.lines), (2, 1, 3));
}

// ---------------------------------------------------------------- blank lines and counts

#[test]
fn blank_lines_are_counted_not_rejected() {
    let input = format!("\n{OPENED}\n   \n\t\r\n\u{3000}\n{OPENED}\n\n");
    let (records, stats) = read(&input, &jsonl());
    assert_eq!(records.len(), 2);
    assert_eq!(event(&records[0]).line, 2);
    assert_eq!(event(&records[1]).line, 6);
    assert_eq!(
        stats,
        ReadStats {
            lines: 7,
            bytes: input.len() as u64,
            events: 2,
            rejected: 0,
            blank: 5
        }
    );
    assert!(is_blank(b""));
    assert!(is_blank(" \u{3000}\u{a0}\t".as_bytes()));
    assert!(!is_blank(b" x "));
    assert!(!is_blank(&[0xFF]));
}

#[test]
fn empty_input() {
    let (records, stats) = read("", &jsonl());
    assert!(records.is_empty());
    assert_eq!(stats, ReadStats::default());
    let (records, stats) = read("", &csv());
    assert!(records.is_empty());
    assert_eq!(stats, ReadStats::default());
}

#[test]
fn thousand_lines_with_ten_corrupt() {
    let corrupt: Vec<u64> = vec![1, 2, 99, 100, 101, 500, 777, 998, 999, 1000];
    let mut input = String::new();
    for n in 1..=1000u64 {
        if corrupt.contains(&n) {
            // A different defect on each corrupt line.
            let bad = match n % 5 {
                0 => format!(r#"{{"ticket":"T-{n}","at":"2026-03-02T09:15:00+08:00""#),
                1 => format!(r#"{{"ticket":"T-{n}","type":"opened"}}"#),
                2 => format!(r#"{{"ticket":{n},"at":"2026-03-02T09:15:00+08:00","type":"x"}}"#),
                3 => format!(r#"{{"ticket":"T-{n}","at":"2026-03-02 09:15","type":"x"}}"#),
                _ => format!(
                    r#"{{"ticket":"T-{n}","at":"2026-03-02T09:15:00Z","type":"x","attrs":{{"o":{{}}}}}}"#
                ),
            };
            input.push_str(&bad);
        } else {
            input.push_str(&format!(
                r#"{{"ticket":"T-{}","at":"2026-03-02T09:{:02}:00+08:00","type":"opened","id":{n},"attrs":{{"kind":"repair","n":{n}}}}}"#,
                n % 37,
                n % 60
            ));
        }
        input.push('\n');
    }
    let (records, stats) = read(&input, &jsonl());
    let rejected_lines: Vec<u64> = records
        .iter()
        .filter_map(|r| match r {
            Record::Rejected(r) => Some(r.line),
            _ => None,
        })
        .collect();
    assert_eq!(rejected_lines, corrupt);
    assert_eq!(stats.events, 990);
    assert_eq!(stats.rejected, 10);
    assert_eq!(stats.lines, 1000);
    // Events come in input order with their own line numbers.
    let lines: Vec<u64> = records
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e.line),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), 990);
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
    for r in &records {
        if let Record::Event(e) = r {
            assert_eq!(e.id.as_deref(), Some(e.line.to_string().as_str()));
            assert_eq!(e.attrs.get("n"), Some(&Value::Number(e.line as f64)));
        }
    }
}

// ---------------------------------------------------------------- time zones

#[test]
fn zone_for_timestamps_without_offset() {
    let line = r#"{"ticket":"T","at":"2026-03-02T09:15:00","type":"x"}"#;
    assert_eq!(at_tz(line, "Asia/Shanghai"), utc("2026-03-02T01:15:00Z"));
    // An explicit offset wins over the zone.
    let line = r#"{"ticket":"T","at":"2026-03-02T09:15:00+09:00","type":"x"}"#;
    assert_eq!(at_tz(line, "Asia/Shanghai"), utc("2026-03-02T00:15:00Z"));
    // A zone does not rescue what is not a timestamp.
    let line = r#"{"ticket":"T","at":"2026-03-02","type":"x"}"#;
    assert_eq!(
        reason_tz(line, "Asia/Shanghai"),
        "`at` is not an RFC 3339 timestamp: `2026-03-02`"
    );
}

#[test]
fn zone_gap_moves_forward_by_the_gap() {
    // Europe/Berlin skips 02:00–03:00 on 2026-03-29: 02:30 is read as 03:30 CEST.
    let line = r#"{"ticket":"T","at":"2026-03-29T02:30:00","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-03-29T03:30:00+02:00")
    );
    let line = r#"{"ticket":"T","at":"2026-03-29T02:00:00","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-03-29T03:00:00+02:00")
    );
    // Either side of the gap is unaffected.
    let line = r#"{"ticket":"T","at":"2026-03-29T01:59:59","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-03-29T01:59:59+01:00")
    );
    let line = r#"{"ticket":"T","at":"2026-03-29T03:00:00","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-03-29T03:00:00+02:00")
    );
    // New York, and Samoa's skipped day (2011-12-30 did not exist there).
    let tz = Some("America/New_York".parse().unwrap());
    assert_eq!(
        parse_timestamp("2026-03-08T02:15:00", tz),
        Ok(utc("2026-03-08T03:15:00-04:00"))
    );
    let tz = Some("Pacific/Apia".parse().unwrap());
    assert_eq!(
        parse_timestamp("2011-12-30T12:00:00", tz),
        Ok(utc("2011-12-31T12:00:00+14:00"))
    );
}

#[test]
fn zone_overlap_takes_the_first_occurrence() {
    // Europe/Berlin repeats 02:00–03:00 on 2026-10-25: 02:30 is the first, at +02:00.
    let line = r#"{"ticket":"T","at":"2026-10-25T02:30:00","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-10-25T02:30:00+02:00")
    );
    let line = r#"{"ticket":"T","at":"2026-10-25T03:00:00","type":"x"}"#;
    assert_eq!(
        at_tz(line, "Europe/Berlin"),
        utc("2026-10-25T03:00:00+01:00")
    );
}

#[test]
fn zone_applies_to_whole_streams() {
    let input = "{\"ticket\":\"T\",\"at\":\"2026-03-02T09:15:00\",\"type\":\"x\"}\n";
    let (records, _) = read(input, &with_tz(jsonl(), "Asia/Shanghai"));
    assert_eq!(event(&records[0]).at, utc("2026-03-02T01:15:00Z"));
    let (records, _) = read(input, &jsonl());
    assert_eq!(
        rejected(&records[0]).reason,
        "`at` has no UTC offset (use --tz to name a zone)"
    );
}

#[test]
fn timestamp_errors_are_typed() {
    assert_eq!(
        parse_timestamp("2026-03-02T09:15:00", None),
        Err(TimestampError::NoOffset)
    );
    assert_eq!(
        parse_timestamp("2026-13-01", None),
        Err(TimestampError::Invalid)
    );
    // A leap second goes through chrono, not the fast path.
    assert!(parse_timestamp("2016-12-31T23:59:60Z", None).is_ok());
}

// ---------------------------------------------------------------- I/O

/// A reader that hands out a few bytes at a time, then fails.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    fail_at: Option<usize>,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.pos >= f) {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(7).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn small_reads_give_the_same_records() {
    let input = format!("{OPENED}\r\n\n{{bad\n{OPENED}");
    let (expected, expected_stats) = read(&input, &jsonl());
    let mut records = Vec::new();
    let stats = read_events(
        Trickle {
            data: input.into_bytes(),
            pos: 0,
            fail_at: None,
        },
        &jsonl(),
        |r| records.push(r),
    )
    .unwrap();
    assert_eq!(records, expected);
    assert_eq!(stats, expected_stats);
}

#[test]
fn io_errors_end_the_stream_with_err() {
    let row = "T-1,2026-03-02T09:15:00+08:00,opened";
    for opts in [jsonl(), csv()] {
        let input = match opts.format {
            Format::Jsonl => format!("{OPENED}\n{OPENED}\n{OPENED}\n"),
            Format::Csv => format!("ticket,at,type\n{row}\n{row}\n{row}\n"),
        };
        let fail_at = input.find('\n').unwrap() + 25;
        let mut records = Vec::new();
        let result = read_events(
            Trickle {
                data: input.clone().into_bytes(),
                pos: 0,
                fail_at: Some(fail_at),
            },
            &opts,
            |r| records.push(r),
        );
        assert_eq!(result.unwrap_err().to_string(), "disk on fire");
        // What was read before the error was delivered.
        let expected = if opts.format == Format::Jsonl { 1 } else { 0 };
        assert_eq!(records.len(), expected, "{:?}", opts.format);
    }
}

#[test]
fn format_from_path() {
    assert_eq!(Format::from_path("events.csv"), Format::Csv);
    assert_eq!(Format::from_path("dir/EXPORT.CSV"), Format::Csv);
    assert_eq!(Format::from_path("events.jsonl"), Format::Jsonl);
    assert_eq!(Format::from_path("events.csv.jsonl"), Format::Jsonl);
    assert_eq!(Format::from_path("-"), Format::Jsonl);
    assert_eq!(Format::from_path("csv"), Format::Jsonl);
    assert_eq!(Format::from_path("data.csv/events"), Format::Jsonl);
}

// ---------------------------------------------------------------- chunks

#[test]
fn chunks_read_in_pieces_match_one_sequential_read() {
    let mut input = String::from("\u{feff}");
    for n in 0..300 {
        match n % 7 {
            0 => input.push_str("   "),
            3 => input.push_str("{not json"),
            _ => input.push_str(&format!(
                r#"{{"ticket":"T-{n}","at":"2026-03-02T09:15:00Z","type":"x"}}"#
            )),
        }
        input.push_str(if n % 2 == 0 { "\n" } else { "\r\n" });
    }
    input.push_str(OPENED); // no final newline
    let bytes = input.as_bytes();
    let (expected, expected_stats) = read(&input, &jsonl());

    let mut records = Vec::new();
    let mut stats = ReadStats::default();
    let mut start = 0;
    while start < bytes.len() {
        let end = next_line_start(bytes, start + 997);
        let first_line = count_newlines(&bytes[..start]) + 1;
        stats += read_jsonl_chunk(&bytes[start..end], first_line, &jsonl(), |r| {
            records.push(r)
        });
        start = end;
    }
    assert_eq!(records, expected);
    assert_eq!(stats, expected_stats);

    assert_eq!(split_lines(bytes).count() as u64, expected_stats.lines);
    let lines: Vec<&[u8]> = split_lines(b"a\r\nb\n\nc").collect();
    assert_eq!(lines, [&b"a"[..], b"b", b"", b"c"]);
    assert_eq!(next_line_start(b"ab\ncd", 0), 3);
    assert_eq!(next_line_start(b"ab\ncd", 3), 5);
    assert_eq!(next_line_start(b"ab\ncd", 99), 5);
}

// ---------------------------------------------------------------- CSV

const CSV_HEADER: &str =
    "ticket,at,type,id,attrs.kind,attrs.category,attrs.satisfied,attrs.score,attrs.unit";

#[test]
fn csv_rows_become_events() {
    let input = format!(
        "{CSV_HEADER}\n\
         T-1,2026-03-02T09:15:00+08:00,opened,E-1,complaint,设施,,,0501\n\
         T-1,2026-03-02T09:52:00+08:00,contacted,,,,,,\r\n\
         T-1,2026-03-04T10:05:00+08:00,revisited,7,,,TRUE,4.5,\n"
    );
    let (records, stats) = read(&input, &csv());
    assert_eq!(
        stats,
        ReadStats {
            lines: 4,
            bytes: input.len() as u64,
            events: 3,
            rejected: 0,
            blank: 0
        }
    );
    let e = event(&records[0]);
    assert_eq!(&*e.ticket, "T-1");
    assert_eq!(e.at, utc("2026-03-02T01:15:00Z"));
    assert_eq!(&*e.kind, "opened");
    assert_eq!(e.id.as_deref(), Some("E-1"));
    assert_eq!(e.line, 2);
    assert_eq!(e.attrs.len(), 3);
    assert_eq!(
        e.attrs.get("kind"),
        Some(&Value::String("complaint".into()))
    );
    assert_eq!(e.attrs.get("category"), Some(&Value::String("设施".into())));
    assert_eq!(e.attrs.get("unit"), Some(&Value::String("0501".into())));
    let e = event(&records[1]);
    assert!(e.attrs.is_empty());
    assert_eq!(e.id, None);
    let e = event(&records[2]);
    assert_eq!(e.line, 4);
    assert_eq!(e.id.as_deref(), Some("7"));
    assert_eq!(e.attrs.get("satisfied"), Some(&Value::Bool(true)));
    assert_eq!(e.attrs.get("score"), Some(&Value::Number(4.5)));
}

#[test]
fn csv_quotes_unknown_columns_and_column_order() {
    let input = "\u{feff}\"type\", at ,source,ticket,attrs.note,attrs.n\n\
                 opened,2026-03-02T01:15:00Z,crm,\"T,1\",\"he said \"\"hi\"\"\",-0.5e1\n\
                 closed,2026-03-02T02:00:00Z,crm,T-2,\"line one\nline two\",\n\
                 closed,2026-03-02T03:00:00Z,crm,T-3,x,false\n";
    let (records, stats) = read(input, &csv());
    assert_eq!(stats.events, 3, "{records:?}");
    assert_eq!(stats.lines, 5);
    let e = event(&records[0]);
    assert_eq!(&*e.ticket, "T,1");
    assert_eq!(
        e.attrs.get("note"),
        Some(&Value::String("he said \"hi\"".into()))
    );
    assert_eq!(e.attrs.get("n"), Some(&Value::Number(-5.0)));
    assert_eq!(e.attrs.get("source"), None);
    let e = event(&records[1]);
    assert_eq!(e.line, 3);
    assert_eq!(
        e.attrs.get("note"),
        Some(&Value::String("line one\nline two".into()))
    );
    let e = event(&records[2]);
    assert_eq!(e.line, 5, "a row after a two-line row starts on line 5");
    assert_eq!(e.attrs.get("n"), Some(&Value::Bool(false)));
}

#[test]
fn csv_rejections_have_the_row_line() {
    let input = format!(
        "{CSV_HEADER}\n\
         T-1,2026-03-02T09:15:00+08:00,opened,,,,,,\n\
         \n\
         T-2,2026-03-02T09:15:00+08:00,opened\n\
         ,2026-03-02T09:15:00+08:00,opened,,,,,,\n\
         T-3,,,,,,,,\n\
         T-4,2026-03-02T09:15:00,opened,,,,,,\n\
         T-5,2026-13-01,opened,,,,,,\n\
         \"T-6\n\
         still T-6\",2026-03-02T09:15:00Z,opened,,,,,,,extra\n\
         \x20\x20,2026-03-02T09:15:00Z,opened,,,,,,\n\
         T-8,2026-03-02T09:15:00Z,opened,,,,,,\n"
    );
    let (records, stats) = read(&input, &csv());
    let got: Vec<(u64, String)> = records
        .iter()
        .map(|r| match r {
            Record::Event(e) => (e.line, "event".to_string()),
            Record::Rejected(r) => (r.line, r.reason.clone()),
        })
        .collect();
    let want: Vec<(u64, &str)> = vec![
        (2, "event"),
        (4, "row has 3 fields; the header has 9"),
        (5, "missing `ticket`"),
        (6, "missing `at` and `type`"),
        (7, "`at` has no UTC offset (use --tz to name a zone)"),
        (8, "`at` is not an RFC 3339 timestamp: `2026-13-01`"),
        (9, "row has 10 fields; the header has 9"),
        (11, "`ticket` is empty"),
        (12, "event"),
    ];
    let got: Vec<(u64, &str)> = got.iter().map(|(l, r)| (*l, r.as_str())).collect();
    assert_eq!(got, want);
    assert_eq!(stats.blank, 1);
    assert_eq!(stats.lines, 12);
    assert_eq!(stats.rejected, 7);
    let r = rejected(&records[1]);
    assert_eq!(r.text, "T-2,2026-03-02T09:15:00+08:00,opened");
    let r = rejected(&records[6]);
    assert_eq!(
        r.text,
        "\"T-6\nstill T-6\",2026-03-02T09:15:00Z,opened,,,,,,,extra"
    );
}

#[test]
fn csv_zone_not_utf8_and_unclosed_quote() {
    let mut input = b"ticket,at,type,attrs.c\nT-1,2026-10-25T02:30:00,x,\n".to_vec();
    input.extend_from_slice(b"T-2,2026-03-02T09:15:00Z,x,\xC9\xE8\xCA\xA9\n");
    input.extend_from_slice(b"T-3,2026-03-02T09:15:00Z,x,\"open\nT-4,2026-03-02T09:15:00Z,x,\n");
    let (records, stats) = read_bytes(&input, &with_tz(csv(), "Europe/Berlin"));
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(event(&records[0]).at, utc("2026-10-25T02:30:00+02:00"));
    assert_eq!(rejected(&records[1]).reason, "line is not UTF-8");
    assert_eq!(rejected(&records[1]).line, 3);
    assert_eq!(
        rejected(&records[2]).reason,
        "row ends inside a quoted field"
    );
    assert_eq!(rejected(&records[2]).line, 4);
    assert_eq!(stats.lines, 5);
}

#[test]
fn csv_long_lines_and_rows() {
    let header = "ticket,at,type,attrs.pad\n";
    let row = |len: usize| {
        let head = "T,2026-03-02T09:15:00Z,x,";
        format!("{head}{}", "a".repeat(len - head.len()))
    };
    // A quoted field that keeps going for more than the limit, over many short lines.
    let mut long_row = String::from("T,2026-03-02T09:15:00Z,x,\"");
    for _ in 0..20_000 {
        long_row.push_str(&"b".repeat(99));
        long_row.push('\n');
    }
    long_row.push('"');
    let input = format!(
        "{header}{}\n{}\n{long_row}\n{}\r\n",
        row(MAX_EVENT_LINE_BYTES),
        row(MAX_EVENT_LINE_BYTES + 1),
        row(30)
    );
    let (records, stats) = read(&input, &csv());
    assert_eq!(records.len(), 4);
    assert_eq!(event(&records[0]).line, 2);
    assert_eq!(rejected(&records[1]).line, 3);
    assert_eq!(
        rejected(&records[1]).reason,
        "line longer than 1048576 bytes"
    );
    assert_eq!(rejected(&records[2]).line, 4);
    assert_eq!(
        rejected(&records[2]).reason,
        "row longer than 1048576 bytes"
    );
    assert_eq!(event(&records[3]).line, 4 + 20_001);
    assert_eq!(stats.lines, 4 + 20_001);
}

#[test]
fn csv_bad_headers_are_errors() {
    let err = |input: &str| {
        let e = read_events(input.as_bytes(), &csv(), |_| {}).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        e.to_string()
    };
    assert_eq!(
        err("ticket,when,type\nT,2026-03-02T09:15:00Z,x\n"),
        "csv header (line 1) is missing `at`"
    );
    assert_eq!(
        err("\n\n{\"ticket\":\"T\",\"at\":\"2026-03-02T09:15:00Z\",\"type\":\"x\"}\n"),
        "csv header (line 3) is missing `ticket`, `at` and `type`; it reads as JSON Lines: name \
         the file `.jsonl`, or give `--input-format jsonl`"
    );
    // None of the event columns, names of a spreadsheet's: a work-order export.
    assert_eq!(
        err("工单号,报修时间,类型\nA-1,2026-03-02 09:00,小修\n"),
        "csv header (line 1) is missing `ticket`, `at` and `type`; a work-order export needs the \
         mapping of its columns to events: `--map FILE` (see examples/orders.toml)"
    );
    // Lines ended by a lone `\r` are one line: the header is refused, saying why.
    assert_eq!(
        err("ticket,at,type\rX,2026-03-02T09:00:00+08:00,opened\rY,2026-03-02T09:00:00+08:00,opened\r"),
        "csv header (line 1) is missing `type`; its lines end with a lone carriage return, and \
         lines must end with `\\n` or `\\r\\n`"
    );
    assert_eq!(
        err("ticket,at,type,ticket\n"),
        "csv header (line 1) names `ticket` twice"
    );
    assert_eq!(
        err("ticket,at,type,attrs.k,attrs.k\n"),
        "csv header (line 1) names `attrs.k` twice"
    );
    assert_eq!(
        err("ticket,at,type,\"attrs.k\n"),
        "csv header (line 1) could not be read: row ends inside a quoted field"
    );
    // A header alone, or nothing but blank lines, is an empty stream.
    let (records, stats) = read("ticket,at,type\n", &csv());
    assert!(records.is_empty());
    assert_eq!(stats.lines, 1);
    let (_, stats) = read("\n \n", &csv());
    assert_eq!(stats.blank, 2);
}

// ---------------------------------------------------------------- properties

fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Arbitrary bytes.
        prop::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..80
        ),
        // Mutations of a valid line: more likely to reach the deeper checks.
        (0..OPENED.len(), any::<u8>(), 0usize..3).prop_map(|(i, b, op)| {
            let mut v = OPENED.as_bytes().to_vec();
            match op {
                0 => v[i] = b,
                1 => v.truncate(i),
                _ => v.insert(i, b),
            }
            v.retain(|&c| c != b'\n');
            v
        }),
        // JSON-ish fragments.
        prop::collection::vec(
            prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                ":",
                ",",
                "\"",
                "\"ticket\"",
                "\"at\"",
                "\"type\"",
                "\"attrs\"",
                "\"id\"",
                "\"2026-03-02T09:15:00Z\"",
                "\"x\"",
                "1",
                "null",
                "true",
                "\\",
                "\\u",
                " ",
                "\r",
                "设",
                "\u{3000}",
            ]),
            0..30
        )
        .prop_map(|parts| parts.concat().into_bytes()),
    ]
}

fn test_blank(line: &[u8], first: bool) -> bool {
    let line = if first {
        line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
    } else {
        line
    };
    std::str::from_utf8(line).is_ok_and(|s| s.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn one_record_per_non_blank_line(lines in prop::collection::vec(line_bytes(), 0..20), crlf in any::<bool>()) {
        let mut input = Vec::new();
        for line in &lines {
            input.extend_from_slice(line);
            input.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        let (records, stats) = read_bytes(&input, &jsonl());
        let expected: Vec<u64> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| !test_blank(l, *i == 0))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let got: Vec<u64> = records.iter().map(|r| match r {
            Record::Event(e) => e.line,
            Record::Rejected(r) => r.line,
        }).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(stats.lines, lines.len() as u64);
        prop_assert_eq!(stats.events + stats.rejected + stats.blank, stats.lines);
        for r in &records {
            if let Record::Rejected(r) = r {
                prop_assert!(!r.reason.is_empty());
                prop_assert!(r.reason.starts_with(|c: char| !c.is_uppercase()), "{}", r.reason);
                prop_assert!(!r.reason.ends_with('.'));
                prop_assert!(r.text.chars().count() <= 201);
            }
        }
    }

    #[test]
    fn csv_never_panics(lines in prop::collection::vec(line_bytes(), 0..20)) {
        let mut input = b"ticket,at,type,id,attrs.a\n".to_vec();
        for line in &lines {
            input.extend_from_slice(line);
            input.push(b'\n');
        }
        let (records, stats) = read_bytes(&input, &csv());
        prop_assert_eq!(records.len() as u64, stats.events + stats.rejected);
        prop_assert!(stats.events + stats.rejected + stats.blank < stats.lines);
        let mut last = 1;
        for r in &records {
            let line = match r { Record::Event(e) => e.line, Record::Rejected(r) => r.line };
            prop_assert!(line > last);
            last = line;
        }
    }

    /// CSV rows that are valid (quoted or not, with commas, quotes and Chinese in their values,
    /// an empty attribute cell) are all accepted, each with the line it starts on and its
    /// fields as written; a broken row among them costs only itself.
    #[test]
    fn valid_csv_rows_are_all_read_as_written(
        rows in prop::collection::vec(
            (
                prop::sample::select(vec!["T-1", "T-2026-000017", "维修 1", "a,b", "say \"hi\""]),
                prop::sample::select(vec!["opened", "resolved", "status"]),
                prop::option::of(prop::sample::select(vec!["repair", "三,楼", "x\"y", " "])),
            ),
            1..12,
        ),
        broken in prop::option::of(0usize..12),
    ) {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut input = String::from("ticket,at,type,attrs.kind\n");
        let mut expected = Vec::new();
        for (i, (ticket, kind, value)) in rows.iter().enumerate() {
            if broken == Some(i) {
                input.push_str("T-9,not a time,opened,\n");
            }
            let line = input.lines().count() as u64 + 1;
            input.push_str(&format!(
                "{},2026-03-02T09:{:02}:00+08:00,{},{}\n",
                quote(ticket),
                i,
                kind,
                value.map(quote).unwrap_or_default(),
            ));
            expected.push((line, ticket.to_string(), kind.to_string(), value.map(str::to_string)));
        }
        let (records, stats) = read_bytes(input.as_bytes(), &csv());
        let rejected = usize::from(broken.is_some_and(|b| b < rows.len()));
        prop_assert_eq!(stats.rejected as usize, rejected);
        prop_assert_eq!(stats.events as usize, rows.len());
        let got: Vec<(u64, String, String, Option<String>)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Event(e) => Some((
                    e.line,
                    e.ticket.to_string(),
                    e.kind.to_string(),
                    e.attrs.get("kind").and_then(|v| v.as_str()).map(str::to_string),
                )),
                Record::Rejected(_) => None,
            })
            .collect();
        prop_assert_eq!(got, expected);
    }

    /// Near-valid timestamps (a valid RFC 3339 text with one character replaced, inserted or
    /// removed): no panic; whatever is accepted is chrono's reading of the same text, and a
    /// zone given for offset-less input changes nothing for a text with an offset.
    #[test]
    fn near_valid_timestamps_are_read_as_chrono_reads_them_or_refused(
        secs in 0i64..4_102_444_800,
        nanos in prop::option::of(0u32..1_000_000_000),
        offset_min in -14i32 * 60..=14 * 60,
        edit in 0usize..3,
        at in 0usize..40,
        ch in prop::sample::select(vec!['0', '9', '5', ':', '-', '+', 'T', 't', ' ', 'Z', 'z', '.', 'x', '2']),
    ) {
        let offset = chrono::FixedOffset::east_opt(offset_min * 60).expect("in range");
        let instant = DateTime::from_timestamp(secs, nanos.unwrap_or(0)).expect("in range");
        let valid = instant.with_timezone(&offset).to_rfc3339();
        let mut chars: Vec<char> = valid.chars().collect();
        let at = at % (chars.len() + 1);
        match edit {
            0 if at < chars.len() => chars[at] = ch,
            1 => chars.insert(at, ch),
            _ if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.push(ch),
        }
        let text: String = chars.into_iter().collect();
        let ours = parse_timestamp(&text, None);
        if let Ok(ours) = ours {
            let chrono = DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc));
            prop_assert_eq!(Ok(ours), chrono, "{}", text);
            let zoned = parse_timestamp(&text, Some(chrono_tz::Europe::Berlin));
            prop_assert_eq!(zoned.ok(), Some(ours), "{}", text);
        }
        // The unmutated text is always read, and as chrono reads it.
        prop_assert_eq!(parse_timestamp(&valid, None).ok(), Some(instant), "{}", valid);
    }

    #[test]
    fn fast_timestamps_agree_with_chrono(
        y in 0i32..=9999, mo in 1u32..=12, d in 1u32..=31, h in 0u32..24, mi in 0u32..60, s in 0u32..60,
        frac in prop::option::of((1usize..=9, 0u32..1_000_000_000)),
        off in prop::option::of((any::<bool>(), 0u32..24, 0u32..60)),
    ) {
        let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if let Some((digits, n)) = frac {
            let n = format!("{n:09}");
            text.push('.');
            text.push_str(&n[..digits]);
        }
        match off {
            None => text.push('Z'),
            Some((neg, oh, om)) => text.push_str(&format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' })),
        }
        let ours = parse_timestamp(&text, None).ok();
        let chrono = DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc));
        prop_assert_eq!(ours, chrono, "{}", text);
    }
}

// ---------------------------------------------------------------- throughput

/// Reading speed on a realistic stream; run with
/// `cargo test --release --test input -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let kinds = [
        "opened",
        "acknowledged",
        "dispatched",
        "arrived",
        "resolved",
        "revisited",
    ];
    let mut input = String::new();
    let n = 1_000_000u64;
    for i in 0..n {
        let kind = kinds[(i % 6) as usize];
        input.push_str(&format!(
            r#"{{"ticket":"T-2026-{:06}","at":"2026-03-{:02}T{:02}:{:02}:{:02}+08:00","type":"{kind}","id":"E-{i}","attrs":{{"kind":"repair","category":"设施","channel":"phone","project":"jindi","unit":"3-2-{}","satisfied":true}}}}"#,
            i / 6,
            1 + i % 28,
            i % 24,
            i % 60,
            i % 59,
            i % 2000
        ));
        input.push('\n');
    }
    let start = std::time::Instant::now();
    let mut events = 0u64;
    let stats = read_events(input.as_bytes(), &jsonl(), |r| {
        if let Record::Event(e) = r {
            events += e.attrs.len() as u64 / 6;
        }
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(stats.events, n);
    assert_eq!(events, n);
    println!(
        "jsonl: {n} events, {:.0} MB in {secs:.2} s: {:.0} MB/s, {:.2} M events/s",
        stats.bytes as f64 / 1e6,
        stats.bytes as f64 / 1e6 / secs,
        n as f64 / 1e6 / secs
    );

    // The same in chunks on all cores.
    let bytes = input.as_bytes();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = std::time::Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let mut handles = Vec::new();
        let mut from = 0;
        let step = bytes.len() / threads + 1;
        while from < bytes.len() {
            let to = next_line_start(bytes, from + step);
            let chunk = &bytes[from..to];
            let first_line = count_newlines(&bytes[..from]) + 1;
            handles.push(s.spawn(move || {
                let mut out = Vec::new();
                read_jsonl_chunk(chunk, first_line, &jsonl(), |r| out.push(r));
                out.len() as u64
            }));
            from = to;
        }
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(total, n);
    println!(
        "jsonl on {threads} threads: {:.0} MB/s",
        stats.bytes as f64 / 1e6 / secs
    );
}

/// A stream of several parallel batches, with a byte-order mark, CRLF, blank, corrupt and
/// overlong lines.
fn many_batches() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    for i in 0..40_000u64 {
        let line = match i % 997 {
            5 => "{broken".to_string(),
            6 => String::new(),
            7 => format!("{{\"ticket\":\"T{i}\",\"type\":\"opened\"}}"),
            _ => format!(
                "{{\"ticket\":\"T{}\",\"at\":\"2026-03-02T09:{:02}:00+08:00\",\"type\":\"opened\",\"id\":\"{i}\",\"attrs\":{{\"kind\":\"repair\",\"n\":{i}}}}}",
                i / 3,
                i % 60
            ),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
        if i == 20_000 {
            out.extend(std::iter::repeat_n(
                b'x',
                pledge::limits::MAX_EVENT_LINE_BYTES + 10,
            ));
            out.push(b'\n');
        }
    }
    out
}

#[test]
fn parallel_reading_gives_the_records_and_stats_of_sequential_reading() {
    use pledge::input::{read_events, read_jsonl_parallel, ReadOptions};
    let data = many_batches();
    assert!(
        data.len() > 4 * pledge::input::BATCH_BYTES,
        "several batches"
    );
    let opts = ReadOptions::default();
    let mut sequential = Vec::new();
    let seq_stats = read_events(&data[..], &opts, |r| sequential.push(r)).unwrap();
    for threads in [1, 2, 3, 8] {
        let mut parallel = Vec::new();
        let mut last_progress = 0;
        let stats = read_jsonl_parallel(
            &data[..],
            &opts,
            threads,
            |r| parallel.push(r),
            |bytes| {
                assert!(bytes >= last_progress, "progress only grows");
                last_progress = bytes;
            },
        )
        .unwrap();
        assert_eq!(stats, seq_stats, "{threads} threads");
        assert!(
            parallel == sequential,
            "{threads} threads: same records in the same order"
        );
        assert!(last_progress > 0);
    }
    assert!(
        seq_stats.rejected >= 80 && seq_stats.blank >= 40,
        "{seq_stats:?}"
    );
}
