//! One JSON Lines event: the hot path of reading.
//!
//! A line is deserialized in a single pass, straight into the pieces an [`Event`] needs: strings
//! are borrowed from the line where JSON escapes allow it, attributes go directly into [`Attrs`],
//! unknown keys are skipped without being built. The visitors accept every JSON type and record
//! what they saw instead of failing, so that serde_json only ever fails on syntax and every
//! other problem gets a reason of our own wording.

use super::{missing, overlong, quoted, reject, timestamp_reason, ReadOptions, Record};
use super::{timestamp::parse_event_at, NESTED_HELP};
use crate::event::Event;
use crate::limits::MAX_EVENT_LINE_BYTES;
use crate::value::{Attrs, Value};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess};
use serde::de::{SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Parses one JSON Lines line (without its `\n`; a final `\r` is ignored) into an event or a
/// rejection; `line` is its 1-based number.
///
/// Pure and cheap to call from many threads. It does not skip blank lines: callers check
/// [`is_blank`](super::is_blank) first (a blank line given here is rejected as not valid JSON).
pub fn parse_jsonl_line(bytes: &[u8], line: u64, opts: &ReadOptions) -> Record {
    let bytes = super::lines::strip_cr(bytes);
    if bytes.len() > MAX_EVENT_LINE_BYTES {
        return overlong(line, bytes);
    }
    if let Some(event) = super::fast::parse_common(bytes, line, opts) {
        return Record::Event(event);
    }
    parse_full(bytes, line, opts)
}

/// The full parser (serde_json) of a line within the length limit: decides every line the fast
/// path declines, and gives the reason of every rejection.
pub(super) fn parse_full(bytes: &[u8], line: u64, opts: &ReadOptions) -> Record {
    // Checking UTF-8 once up front is faster than serde_json checking each string, and gives
    // the clearer reason.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return reject(line, "line is not UTF-8".to_string(), bytes);
    };
    let parsed = match serde_json::from_str::<Parsed<'_>>(text) {
        Ok(parsed) => parsed,
        Err(err) => return reject(line, json_error_reason(text, &err), bytes),
    };
    match build_event(parsed, line, opts) {
        Ok(event) => Record::Event(event),
        Err(reason) => reject(line, reason, bytes),
    }
}

/// "not valid JSON: expected `,` or `}` at column 57": serde_json's message without its line
/// number (always 1 here) and with the column counted in characters, as an editor shows it.
fn json_error_reason(text: &str, err: &serde_json::Error) -> String {
    let full = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&position).unwrap_or(&full);
    let message = match message.strip_prefix("EOF while") {
        Some(rest) => Cow::Owned(format!("line ends while{rest}")),
        None => Cow::Borrowed(message),
    };
    // The end of the line needs no column.
    if err.column() == 0 || err.classify() == serde_json::error::Category::Eof {
        return format!("not valid JSON: {message}");
    }
    // serde_json counts bytes; count the characters before the error byte instead.
    let before = &text.as_bytes()[..(err.column() - 1).min(text.len())];
    let column = 1 + before.iter().filter(|&&b| (b as i8) >= -0x40).count();
    format!("not valid JSON: {message} at column {column}")
}

fn build_event(parsed: Parsed<'_>, line: u64, opts: &ReadOptions) -> Result<Event, String> {
    let p = match parsed {
        Parsed::Object(p) => p,
        Parsed::Not(kind) => return Err(format!("not a JSON object: found {}", kind.article())),
    };
    if let Some(key) = p.duplicate {
        return Err(format!("duplicate key `{key}`"));
    }
    let absent: Vec<&str> = [("ticket", &p.ticket), ("at", &p.at), ("type", &p.kind)]
        .into_iter()
        .filter(|(_, f)| matches!(f, Field::Absent))
        .map(|(name, _)| name)
        .collect();
    if !absent.is_empty() {
        return Err(missing(&absent));
    }
    let ticket = required_string(p.ticket, "ticket")?;
    let at = match p.at {
        Field::Str(s) => parse_event_at(&s, opts.tz).map_err(|e| timestamp_reason(&s, e))?,
        _ => return Err("`at` must be a string".to_string()),
    };
    let kind = required_string(p.kind, "type")?;
    let id = match p.id {
        Field::Absent | Field::Other(Kind::Null) => None,
        Field::Str(s) if s.is_empty() => None,
        Field::Str(s) => Some(boxed(s)),
        Field::Num(n) => Some(n.to_string().into_boxed_str()),
        Field::Other(_) => return Err("`id` must be a string or a number".to_string()),
    };
    let mut attrs = match p.attrs {
        AttrsField::Absent => Attrs::new(),
        AttrsField::Attrs(attrs) => attrs,
        AttrsField::Not(kind) => {
            return Err(format!("`attrs` must be an object, not {}", kind.article()))
        }
        AttrsField::Bad(reason) => return Err(reason),
    };
    if opts
        .relevance
        .as_ref()
        .is_some_and(|r| !r.keeps_type(&kind))
    {
        attrs = Attrs::new();
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

fn required_string(field: Field<'_>, name: &str) -> Result<Box<str>, String> {
    match field {
        Field::Str(s) if s.trim().is_empty() => Err(format!("`{name}` is empty")),
        Field::Str(s) => Ok(boxed(s)),
        _ => Err(format!("`{name}` must be a string")),
    }
}

fn boxed(s: Cow<'_, str>) -> Box<str> {
    match s {
        Cow::Borrowed(s) => s.into(),
        Cow::Owned(s) => s.into_boxed_str(),
    }
}

/// A JSON type, for reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn article(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// A JSON number as serde_json delivers it.
#[derive(Debug, Clone, Copy)]
enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::U(n) => write!(f, "{n}"),
            Num::I(n) => write!(f, "{n}"),
            Num::F(n) => write!(f, "{n}"),
        }
    }
}

/// A top-level field: any JSON value, kept only if it is a string or a number.
enum Field<'a> {
    Absent,
    Str(Cow<'a, str>),
    Num(Num),
    Other(Kind),
}

enum AttrsField {
    Absent,
    Attrs(Attrs),
    Not(Kind),
    /// The reason the attributes are unacceptable.
    Bad(String),
}

struct Fields<'a> {
    ticket: Field<'a>,
    at: Field<'a>,
    kind: Field<'a>,
    id: Field<'a>,
    attrs: AttrsField,
    duplicate: Option<&'static str>,
}

enum Parsed<'a> {
    Object(Fields<'a>),
    Not(Kind),
}

impl<'de> Deserialize<'de> for Parsed<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

/// Consumes any JSON value, reporting only its type.
struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::String)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Kind::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Kind::Object)
    }
}

/// The whole line: an object of known and unknown keys, or something else.
struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Parsed<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed<'de>, A::Error> {
        let mut p = Fields {
            ticket: Field::Absent,
            at: Field::Absent,
            kind: Field::Absent,
            id: Field::Absent,
            attrs: AttrsField::Absent,
            duplicate: None,
        };
        let mut seen_attrs = false;
        while let Some(key) = map.next_key::<TopKey>()? {
            let (slot, name) = match key {
                TopKey::Ticket => (&mut p.ticket, "ticket"),
                TopKey::At => (&mut p.at, "at"),
                TopKey::Type => (&mut p.kind, "type"),
                TopKey::Id => (&mut p.id, "id"),
                TopKey::Attrs => {
                    if seen_attrs {
                        p.duplicate.get_or_insert("attrs");
                    }
                    seen_attrs = true;
                    p.attrs = map.next_value_seed(AttrsSeed)?;
                    continue;
                }
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if !matches!(slot, Field::Absent) {
                p.duplicate.get_or_insert(name);
            }
            *slot = map.next_value::<AnyField<'de>>()?.0;
        }
        Ok(Parsed::Object(p))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Bool))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Number))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Number))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Number))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::String))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Not(Kind::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Parsed::Not(Kind::Array))
    }
}

/// A top-level key, recognised without allocating.
enum TopKey {
    Ticket,
    At,
    Type,
    Id,
    Attrs,
    Other,
}

impl<'de> Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TopKey, E> {
                Ok(match s {
                    "ticket" => TopKey::Ticket,
                    "at" => TopKey::At,
                    "type" => TopKey::Type,
                    "id" => TopKey::Id,
                    "attrs" => TopKey::Attrs,
                    _ => TopKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Any value of a top-level field; strings borrowed from the line when they have no escapes.
struct AnyField<'a>(Field<'a>);

impl<'de> Deserialize<'de> for AnyField<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyField<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Str(Cow::Borrowed(s))))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Str(Cow::Owned(s.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Str(Cow::Owned(s))))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Num(Num::U(n))))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Num(Num::I(n))))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Num(Num::F(n))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Other(Kind::Bool)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Other(Kind::Null)))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnyField(Field::Other(Kind::Null)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                KindVisitor
                    .visit_seq(seq)
                    .map(|k| AnyField(Field::Other(k)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                KindVisitor
                    .visit_map(map)
                    .map(|k| AnyField(Field::Other(k)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A map key as text, borrowed when possible.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The `attrs` value: an object is read into [`Attrs`], anything else is recorded by type.
struct AttrsSeed;

impl<'de> DeserializeSeed<'de> for AttrsSeed {
    type Value = AttrsField;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AttrsField, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttrsSeed {
    type Value = AttrsField;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttrsField, A::Error> {
        let mut attrs = Attrs::new();
        let mut bad: Option<String> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value = map.next_value::<AttrValue>()?;
            if bad.is_some() {
                continue;
            }
            let key_shown = || quoted(&key);
            match value {
                AttrValue::Ok(_) if attrs.get(&key).is_some() => {
                    bad = Some(format!("duplicate key `attrs.{}`", key_shown()));
                }
                AttrValue::Ok(v) => attrs.insert(&key, v),
                AttrValue::Object => {
                    bad = Some(format!(
                        "`attrs.{}` is an object; {NESTED_HELP}",
                        key_shown()
                    ));
                }
                AttrValue::ListOf(kind) => {
                    bad = Some(format!(
                        "`attrs.{}` is an array holding {}; {NESTED_HELP}",
                        key_shown(),
                        kind.article()
                    ));
                }
            }
        }
        Ok(match bad {
            Some(reason) => AttrsField::Bad(reason),
            None => AttrsField::Attrs(attrs),
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<AttrsField, E> {
        Ok(AttrsField::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<AttrsField, E> {
        Ok(AttrsField::Absent)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<AttrsField, E> {
        Ok(AttrsField::Not(Kind::Bool))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<AttrsField, E> {
        Ok(AttrsField::Not(Kind::Number))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<AttrsField, E> {
        Ok(AttrsField::Not(Kind::Number))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AttrsField, E> {
        Ok(AttrsField::Not(Kind::Number))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<AttrsField, E> {
        Ok(AttrsField::Not(Kind::String))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AttrsField, A::Error> {
        KindVisitor.visit_seq(seq).map(AttrsField::Not)
    }
}

/// One attribute value: a scalar or an array of scalars, or what made it unacceptable.
enum AttrValue {
    Ok(Value),
    Object,
    /// An array with an element of this (non-scalar) kind.
    ListOf(Kind),
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AttrValueVisitor)
    }
}

struct AttrValueVisitor;

impl<'de> Visitor<'de> for AttrValueVisitor {
    type Value = AttrValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Bool(b)))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Number(n as f64)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Number(n as f64)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Number(n)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::String(s.into())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::String(s.into())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Ok(Value::Null))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AttrValue, A::Error> {
        KindVisitor.visit_map(map).map(|_| AttrValue::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AttrValue, A::Error> {
        let mut items = Vec::new();
        let mut bad = None;
        while let Some(item) = seq.next_element::<AttrValue>()? {
            match item {
                AttrValue::Ok(Value::List(_)) => {
                    bad.get_or_insert(Kind::Array);
                }
                AttrValue::Ok(v) => items.push(v),
                AttrValue::Object => {
                    bad.get_or_insert(Kind::Object);
                }
                AttrValue::ListOf(_) => {
                    bad.get_or_insert(Kind::Array);
                }
            }
        }
        Ok(match bad {
            Some(kind) => AttrValue::ListOf(kind),
            None => AttrValue::Ok(Value::List(items)),
        })
    }
}
