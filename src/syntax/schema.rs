//! The attribute schema: which attributes cases and events carry, and the values an enumerated
//! one takes (`attributes { kind: "complaint" | "repair", project: string }`).
//!
//! Without a schema a condition may name any attribute: a typo such as `kind == "complant"` is
//! a clause that silently applies to nothing. With one, the lowering refuses an undeclared case
//! attribute or a value an enumerated attribute does not take (with a "did you mean"), and the
//! lints can tell a condition no case satisfies. Event attributes are known from the
//! conventional vocabulary of EVENTS.md ([`EVENT_VOCABULARY`]) and from `event NAME { ... }`
//! entries; a condition on another one is the lint `unknown_event_attribute`.

use crate::value::Value;
use std::collections::BTreeMap;

/// The type of one attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    /// Any text.
    String,
    Number,
    Bool,
    /// An RFC 3339 timestamp (a lead time's moment, `starts_at`).
    Time,
    /// Any value: declared to exist, nothing more.
    Any,
    /// One of these strings.
    OneOf(Vec<String>),
}

impl AttrType {
    /// Whether a literal of a condition can be a value of this type.
    pub fn admits(&self, value: &Value) -> bool {
        match (self, value) {
            (AttrType::Any, _) | (_, Value::Null) => true,
            (AttrType::String | AttrType::Time, Value::String(_)) => true,
            (AttrType::Number, Value::Number(_)) => true,
            (AttrType::Bool, Value::Bool(_)) => true,
            (AttrType::OneOf(values), Value::String(s)) => values.iter().any(|v| v == &**s),
            _ => false,
        }
    }

    /// How the type is written in a schema.
    pub fn describe(&self) -> String {
        match self {
            AttrType::String => "string".into(),
            AttrType::Number => "number".into(),
            AttrType::Bool => "bool".into(),
            AttrType::Time => "time".into(),
            AttrType::Any => "any".into(),
            AttrType::OneOf(values) => values
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

/// The attributes of cases and of each event type that a policy declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// Case attributes (the `attrs` of `opened` and `updated`).
    pub case: BTreeMap<String, AttrType>,
    /// Attributes of one event type's own `attrs`, by event type.
    pub events: BTreeMap<String, BTreeMap<String, AttrType>>,
}

impl Schema {
    /// Whether the schema declares no case attribute: then case conditions are not checked.
    pub fn is_empty(&self) -> bool {
        self.case.is_empty()
    }

    /// Adds `other`'s declarations; an attribute declared in both takes `other`'s type (a
    /// policy's own block refines a shared file).
    pub fn extend(&mut self, other: &Schema) {
        for (k, v) in &other.case {
            self.case.insert(k.clone(), v.clone());
        }
        for (e, attrs) in &other.events {
            let mine = self.events.entry(e.clone()).or_default();
            for (k, v) in attrs {
                mine.insert(k.clone(), v.clone());
            }
        }
    }

    /// The type of an event type's attribute, from the schema, else from EVENTS.md (`Any`).
    /// `None`: neither knows it.
    pub fn event_attr(&self, event: &str, attr: &str) -> Option<AttrType> {
        if let Some(t) = self.events.get(event).and_then(|a| a.get(attr)) {
            return Some(t.clone());
        }
        EVENT_VOCABULARY
            .iter()
            .find(|(e, _)| *e == event)
            .filter(|(_, attrs)| attrs.contains(&attr))
            .map(|_| AttrType::Any)
    }

    /// Every attribute name known for an event type, for "did you mean".
    pub fn event_attr_names(&self, event: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .events
            .get(event)
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        if let Some((_, attrs)) = EVENT_VOCABULARY.iter().find(|(e, _)| *e == event) {
            out.extend(attrs.iter().map(|a| a.to_string()));
        }
        out
    }
}

/// The usual attributes of each conventional event type (EVENTS.md, "Vocabulary"). `updated`
/// carries case attributes and is checked against the case schema instead.
pub const EVENT_VOCABULARY: &[(&str, &[&str])] = &[
    (
        "opened",
        &[
            "kind",
            "category",
            "severity",
            "channel",
            "project",
            "unit",
            "department",
            "segment",
            "cross_department",
        ],
    ),
    ("acknowledged", &["by", "channel"]),
    ("contacted", &["by", "channel"]),
    ("dispatched", &["to"]),
    ("accepted", &["by"]),
    ("arrived", &["by"]),
    ("progress", &["channel"]),
    ("status", &["status"]),
    ("escalated", &["to"]),
    ("resolved", &["by", "first_time_fix"]),
    ("revisited", &["by", "method", "satisfied"]),
    ("spot_checked", &["by", "passed"]),
    ("rated", &["score", "satisfied"]),
    ("notified", &["channel", "audience", "reached", "total"]),
    ("reopened", &["reason"]),
    ("closed", &[]),
    ("patrolled", &["by", "route"]),
    ("inspected", &["by", "result"]),
    ("maintained", &["by", "vendor"]),
    ("cleaned", &["by", "level"]),
    ("drilled", &["scenario"]),
];
