//! Partial records: whether a record has the fields an expectation gives, and how both are
//! shown in a failure.
//!
//! A field matches when:
//! - strings are equal, or both are instants and the same instant (`due = "2026-10-09 18:00"`
//!   matches `"2026-10-09T18:00:00+08:00"`; local times are in the test's zone);
//! - numbers are equal whatever their type (`1800` matches `1800`, `66.7` matches `66.7`);
//! - tables match as partial records, field by field;
//! - arrays have the same length and match element by element.
//!
//! TOML has no `null`: a field that must be null is left out, and the status says the rest.

use crate::input::parse_timestamp;
use chrono_tz::Tz;
use serde_json::Value as Json;
use std::fmt::Write as _;
use toml::Value as Toml;

/// Whether `actual` has every field of `expected` with a matching value.
pub fn record_matches(expected: &toml::Table, actual: &Json, zone: Tz) -> bool {
    mismatches(expected, actual, zone).is_empty()
}

/// The fields of `expected` that `actual` lacks or holds another value in.
pub fn mismatches<'e>(expected: &'e toml::Table, actual: &Json, zone: Tz) -> Vec<&'e str> {
    expected
        .iter()
        .filter(|(key, value)| {
            !actual
                .get(key.as_str())
                .is_some_and(|a| value_matches(value, a, zone))
        })
        .map(|(key, _)| key.as_str())
        .collect()
}

fn value_matches(expected: &Toml, actual: &Json, zone: Tz) -> bool {
    match (expected, actual) {
        (Toml::String(e), Json::String(a)) => e == a || same_instant(e, a, zone),
        (Toml::Datetime(e), Json::String(a)) => {
            let e = e.to_string();
            e == *a || same_instant(&e, a, zone)
        }
        (Toml::Integer(e), Json::Number(a)) => match a.as_i64() {
            Some(a) => *e == a,
            None => a.as_f64() == Some(*e as f64),
        },
        (Toml::Float(e), Json::Number(a)) => a.as_f64() == Some(*e),
        (Toml::Boolean(e), Json::Bool(a)) => e == a,
        (Toml::Array(e), Json::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| value_matches(e, a, zone))
        }
        (Toml::Table(e), Json::Object(_)) => record_matches(e, actual, zone),
        _ => false,
    }
}

/// Both texts name the same instant: the record's is RFC 3339, the expected one may be local.
fn same_instant(expected: &str, actual: &str, zone: Tz) -> bool {
    let Ok(actual) = parse_timestamp(actual, None) else {
        return false;
    };
    crate::input::parse_typed_instant(expected, zone).is_ok_and(|e| e == actual)
}

/// An expectation as written: an inline TOML table, `record` first.
pub fn show_expected(fields: &toml::Table) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = fields.get("record") {
        parts.push(format!("record = {}", show_toml(kind)));
    }
    for (key, value) in fields {
        if key != "record" {
            parts.push(format!("{} = {}", toml_key(key), show_toml(value)));
        }
    }
    format!("{{ {} }}", parts.join(", "))
}

/// A value of an expectation as written in TOML.
pub fn show_toml(value: &Toml) -> String {
    match value {
        Toml::String(s) => quote(s),
        Toml::Array(items) => {
            let items: Vec<String> = items.iter().map(show_toml).collect();
            format!("[{}]", items.join(", "))
        }
        Toml::Table(t) => show_expected(t),
        other => other.to_string(),
    }
}

/// The fields that tell records of a kind apart, in the order a reader looks for them.
fn telling_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "verdict" => &["ticket", "clause", "cycle", "status", "due", "stop"],
        "action" => &[
            "ticket", "clause", "cycle", "stage", "action", "role", "at", "status",
        ],
        "finding" => &["ticket", "clause", "code", "at"],
        "rejected" => &["line", "reason"],
        "unopened" => &["ticket", "events"],
        "sample" => &[
            "clause",
            "period",
            "group",
            "population",
            "required",
            "done",
            "status",
        ],
        "target" => &["clause", "period", "group", "hits", "total", "status"],
        "repeat" => &["ticket", "clause", "at", "cases", "action", "role"],
        "summary" => &[
            "now",
            "events",
            "accepted",
            "rejected",
            "breached",
            "actions_missed",
            "findings",
        ],
        _ => &[],
    }
}

/// A record on one line, as an inline TOML table of the fields that tell it apart (null ones
/// left out), so that it can be pasted into `expect` as it is.
pub fn show_record(record: &Json) -> String {
    let Some(object) = record.as_object() else {
        return record.to_string();
    };
    let kind = object.get("record").and_then(Json::as_str).unwrap_or("");
    let fields = telling_fields(kind);
    let mut out = String::from("{ ");
    let _ = write!(out, "record = {}", quote(kind));
    let keys: Vec<&str> = if fields.is_empty() {
        object.keys().map(String::as_str).collect()
    } else {
        fields.to_vec()
    };
    for key in keys {
        match object.get(key) {
            None | Some(Json::Null) => {}
            Some(value) if key != "record" => {
                let _ = write!(out, ", {} = {}", toml_key(key), show_json(value));
            }
            Some(_) => {}
        }
    }
    out.push_str(" }");
    out
}

/// A field of a record the way it would be written in `expect`.
pub fn show_field(record: &Json, key: &str) -> String {
    record
        .get(key)
        .map_or_else(|| "absent".to_string(), show_json)
}

fn show_json(value: &Json) -> String {
    match value {
        Json::Null => "null".to_string(),
        Json::String(s) => quote(s),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(show_json).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Object(map) if map.is_empty() => "{}".to_string(),
        Json::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), show_json(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// A TOML basic string: JSON's escapes are TOML's.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        quote(key)
    }
}
