//! The compact event line of a test case: one event per line, typed by hand, in columns a
//! reviewer can scan.
//!
//! ```text
//! 2026-03-02 09:00     C-1  opened     kind=complaint unit=3-2-1501 topic="漏水"
//! 2026-03-02 09:40:30  C-1  contacted  channel=phone   # a comment
//! 2026-03-02T10:00:00+08:00  C-1  notified  channel=[sms, app_push] reached=950 total=1000
//! {"ticket":"C-1","at":"2026-03-02T11:00:00+08:00","type":"resolved"}
//! ```
//!
//! The grammar (`WS` is one or more spaces, tabs or other whitespace, such as the full-width
//! space of a Chinese keyboard):
//!
//! ```text
//! line     = [WS] (blank | comment | json | event) [WS]
//! comment  = "#" any text                    ignored, as is a blank line
//! json     = "{" ... "}"                     one JSON Lines event exactly as EVENTS.md, read by
//!                                            the ordinary reader (a bad one is a rejected line)
//! event    = instant WS ticket WS type {WS attr} [WS comment]
//! instant  = DATE ("T" | WS) TIME [OFFSET]   2026-03-02 09:00, 2026-03-02T09:00:30+08:00
//! DATE     = YYYY-MM-DD
//! TIME     = HH:MM | HH:MM:SS[.fraction]
//! OFFSET   = "Z" | ("+" | "-") HH:MM         without it, local time in the test's zone
//! ticket   = bare | quoted
//! type     = bare
//! attr     = key "=" value                   the key `id` sets the event's `id` instead
//! key      = ASCII letters, digits, "_", "-", "."
//! value    = scalar | "[" [scalar {"," scalar}] "]"   (spaces allowed inside the brackets)
//! scalar   = quoted | bare
//! quoted   = a JSON string: "漏水", "a b", "say \"hi\""   always a string
//! bare     = characters up to a space, `,` or `]`; `true`, `false`, `null` and JSON numbers
//!            (4, -1.5, 0.666) are those values, anything else a string (017, 3-2-1501, 漏水)
//! ```
//!
//! A compact line becomes the JSON Lines event it stands for, and every line is then read by
//! the reader `pledge check` uses, so a test checks exactly what a real stream would give.

use crate::input::parse_timestamp;
use chrono_tz::Tz;
use serde_json::{Map, Value};
use std::ops::Range;

/// One line of a case's `events`.
#[derive(Debug, Clone, PartialEq)]
pub enum EventLine {
    /// A blank line or a comment: no event.
    Blank,
    /// A JSON Lines event, kept as typed for the ordinary reader.
    Json(String),
    /// A compact event, as the JSON object it stands for.
    Compact(Value),
}

impl EventLine {
    /// The line as JSON Lines input: empty for a blank line, so that line numbers of rejected
    /// records are the line numbers within `events`.
    pub fn to_jsonl(&self) -> String {
        match self {
            EventLine::Blank => String::new(),
            EventLine::Json(text) => text.clone(),
            EventLine::Compact(value) => value.to_string(),
        }
    }
}

/// Why a compact line cannot be read, and where in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLineError {
    /// What is wrong, lowercase, user input in backticks.
    pub message: String,
    /// Byte range within the line.
    pub span: Range<usize>,
    /// How to put it right.
    pub help: Option<String>,
}

impl EventLineError {
    fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        EventLineError {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Reads one line of `events`; local times are in `zone`.
pub fn parse_event_line(line: &str, zone: Tz) -> Result<EventLine, EventLineError> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(EventLine::Blank);
    }
    if trimmed.starts_with('{') {
        return Ok(EventLine::Json(trimmed.to_string()));
    }
    Cursor { text: line, pos: 0 }
        .event(zone)
        .map(EventLine::Compact)
}

/// A position in the line being read.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

const INSTANT_HELP: &str =
    "write a local `2026-03-02 09:00` or `2026-03-02 09:00:30`, or RFC 3339 with an offset";

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) -> bool {
        let before = self.pos;
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
        self.pos > before
    }

    /// At the end of the line, or at a comment after a space.
    fn at_end(&self) -> bool {
        let rest = self.rest();
        rest.is_empty() || rest.starts_with('#')
    }

    /// A run of characters up to whitespace or one of `stops`.
    fn word(&mut self, stops: &[char]) -> (&'a str, Range<usize>) {
        let start = self.pos;
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || stops.contains(&c))
            .unwrap_or(rest.len());
        self.pos += len;
        (&self.text[start..self.pos], start..self.pos)
    }

    fn event(&mut self, zone: Tz) -> Result<Value, EventLineError> {
        self.skip_ws();
        let at = self.instant(zone)?;
        let ticket = self.field("a ticket", "the ticket id after the time")?;
        let kind = self.field("an event type", "the event type after the ticket")?;
        let mut event = Map::new();
        event.insert("ticket".into(), Value::String(ticket));
        event.insert("at".into(), Value::String(at));
        event.insert("type".into(), Value::String(kind));
        let mut attrs = Map::new();
        loop {
            let spaced = self.skip_ws();
            if self.at_end() {
                break;
            }
            if !spaced {
                let (_, span) = self.word(&[]);
                return Err(EventLineError::new(
                    "expected a space before the next attribute",
                    span,
                ));
            }
            let (key, value, span) = self.attr()?;
            let target = if key == "id" { &mut event } else { &mut attrs };
            if target.contains_key(&key) {
                return Err(EventLineError::new(format!("`{key}` is given twice"), span));
            }
            target.insert(key, value);
        }
        if !attrs.is_empty() {
            event.insert("attrs".into(), Value::Object(attrs));
        }
        Ok(Value::Object(event))
    }

    /// The instant, as RFC 3339 in `zone`.
    fn instant(&mut self, zone: Tz) -> Result<String, EventLineError> {
        let (first, span) = self.word(&[]);
        let (text, span) = if first.len() == 10 && !first.contains('T') {
            // A date, then the time after a space.
            if !self.skip_ws() || self.at_end() {
                return Err(
                    EventLineError::new(format!("`{first}` has no time of day"), span)
                        .help(INSTANT_HELP),
                );
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(
                    EventLineError::new(format!("`{first}` has no time of day"), span)
                        .help(INSTANT_HELP),
                );
            }
            let (time, time_span) = self.word(&[]);
            (format!("{first}T{time}"), span.start..time_span.end)
        } else {
            (first.to_string(), span)
        };
        let full = with_seconds(&text);
        let at = parse_timestamp(&full, Some(zone)).map_err(|_| {
            EventLineError::new(
                format!("`{}` is not a date and time", &self.text[span.clone()]),
                span,
            )
            .help(INSTANT_HELP)
        })?;
        Ok(crate::eval::rfc3339(at, zone))
    }

    /// The ticket or the type: a bare word or a quoted string.
    fn field(&mut self, what: &str, help: &str) -> Result<String, EventLineError> {
        let spaced = self.skip_ws();
        if !spaced || self.at_end() {
            let at = self.pos..self.pos;
            return Err(
                EventLineError::new(format!("expected {what}"), at).help(format!(
                    "a compact event is `TIME TICKET TYPE key=value ...`: write {help}"
                )),
            );
        }
        if self.peek() == Some('"') {
            let (value, span) = self.quoted()?;
            if value.trim().is_empty() {
                return Err(EventLineError::new(format!("expected {what}"), span));
            }
            return Ok(value);
        }
        let (word, span) = self.word(&[]);
        if word.contains('=') {
            return Err(
                EventLineError::new(format!("expected {what}, found `{word}`"), span).help(
                    format!("a compact event is `TIME TICKET TYPE key=value ...`: write {help}"),
                ),
            );
        }
        Ok(word.to_string())
    }

    fn attr(&mut self) -> Result<(String, Value, Range<usize>), EventLineError> {
        let start = self.pos;
        let (key, key_span) = self.word(&['=']);
        let valid_key = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if self.peek() != Some('=') {
            return Err(EventLineError::new(
                format!("expected `key=value`, found `{key}`"),
                key_span,
            )
            .help("attributes are `key=value` pairs after the event type, like `kind=complaint`"));
        }
        if key.is_empty() {
            return Err(EventLineError::new(
                "expected an attribute name before `=`",
                key_span.start..key_span.start + 1,
            )
            .help("attributes are `key=value` pairs after the event type, like `kind=complaint`"));
        }
        if !valid_key {
            return Err(
                EventLineError::new(format!("`{key}` is not an attribute name"), key_span)
                    .help("attribute names are ASCII letters, digits, `_`, `-` and `.`"),
            );
        }
        self.pos += 1;
        let value = match self.peek() {
            Some('[') => self.list()?,
            Some(c) if c.is_whitespace() => {
                return Err(
                    EventLineError::new(format!("`{key}=` has no value"), start..self.pos).help(
                        "write the value right after `=`; quote it if it holds spaces: `\"a b\"`",
                    ),
                );
            }
            None => {
                return Err(
                    EventLineError::new(format!("`{key}=` has no value"), start..self.pos).help(
                        "write the value right after `=`; quote it if it holds spaces: `\"a b\"`",
                    ),
                );
            }
            _ => self.scalar(&[])?,
        };
        Ok((key.to_string(), value, start..self.pos))
    }

    fn list(&mut self) -> Result<Value, EventLineError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            if self.rest().is_empty() {
                return Err(EventLineError::new("`[` is never closed", open..open + 1)
                    .help("end the list with `]`, like `channel=[sms, app_push]`"));
            }
            if matches!(self.peek(), Some(',') | Some(']') | Some('[')) {
                let at = self.pos..self.pos + 1;
                return Err(EventLineError::new("expected a value in the list", at)
                    .help("a list holds scalars separated by commas: `[sms, app_push]`"));
            }
            items.push(self.scalar(&[',', ']', '['])?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => {
                    return Err(EventLineError::new("`[` is never closed", open..open + 1)
                        .help("end the list with `]`, like `channel=[sms, app_push]`"))
                }
                Some(_) => {
                    let (word, span) = self.word(&[',', ']']);
                    return Err(EventLineError::new(
                        format!("expected `,` or `]`, found `{word}`"),
                        span,
                    )
                    .help("separate the values of a list with commas: `[sms, app_push]`"));
                }
            }
        }
    }

    fn scalar(&mut self, stops: &[char]) -> Result<Value, EventLineError> {
        if self.peek() == Some('"') {
            return self.quoted().map(|(s, _)| Value::String(s));
        }
        let (word, span) = self.word(stops);
        if word.contains('"') {
            return Err(EventLineError::new(
                format!("`{word}` has a quote inside a bare value"),
                span,
            )
            .help("quote the whole value: `key=\"...\"`"));
        }
        Ok(bare_value(word))
    }

    /// A JSON string starting at the cursor.
    fn quoted(&mut self) -> Result<(String, Range<usize>), EventLineError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        if i >= bytes.len() {
            return Err(EventLineError::new(
                "the quoted string is never closed",
                start..self.text.len(),
            )
            .help("end it with `\"`; write `\\\"` for a quote inside it"));
        }
        let end = i + 1;
        let raw = &self.text[start..end];
        let value: String = serde_json::from_str(raw).map_err(|e| {
            EventLineError::new(
                format!("`{raw}` is not a valid quoted string: {e}"),
                start..end,
            )
            .help("quoted values are JSON strings: escapes are `\\\"`, `\\\\`, `\\n`, `\\u4e86`")
        })?;
        self.pos = end;
        Ok((value, start..end))
    }
}

/// A bare value: `true`, `false`, `null`, a JSON number, or else the text itself.
fn bare_value(word: &str) -> Value {
    match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => match serde_json::from_str::<serde_json::Number>(word) {
            Ok(n) => Value::Number(n),
            Err(_) => Value::String(word.to_string()),
        },
    }
}

/// `2026-03-02T09:00` as `2026-03-02T09:00:00`, offset kept: the reader wants seconds.
fn with_seconds(text: &str) -> String {
    let Some(t) = text.find(['T', 't']) else {
        return text.to_string();
    };
    let time_end = text[t..]
        .find(['Z', 'z', '+', '-'])
        .map_or(text.len(), |i| t + i);
    let time = &text[t + 1..time_end];
    if time.len() == 5 && time.as_bytes().get(2) == Some(&b':') {
        format!("{}:00{}", &text[..time_end], &text[time_end..])
    } else {
        text.to_string()
    }
}
