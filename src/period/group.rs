//! Groups: the values of a clause's `group by` (or `same`) attributes on a case.
//!
//! A group is compared and ordered as the list of its values, so tallies kept in ordered maps
//! come out in the same order on every run. A case lacking an attribute has no value for it
//! (shown as `-`): it still belongs to a group, the group of cases without that attribute.

use crate::value::{Attrs, Value};
use std::fmt;

/// The values of the grouping attributes of one case, in the clause's order.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Group {
    pub values: Vec<(Box<str>, Option<Box<str>>)>,
}

impl Group {
    /// The group of a case with attributes `attrs` for the attribute names `by`.
    pub fn of(by: &[String], attrs: &Attrs) -> Group {
        Group {
            values: by
                .iter()
                .map(|name| (name.as_str().into(), attrs.get(name).map(value_text)))
                .collect(),
        }
    }

    /// The group of every case, for clauses that do not group.
    pub fn all() -> Group {
        Group::default()
    }

    /// Whether every attribute has a value.
    pub fn complete(&self) -> bool {
        self.values.iter().all(|(_, v)| v.is_some())
    }

    /// `jindi / engineering`; `all` for the group of a clause that does not group; `-` for a
    /// missing value.
    pub fn label(&self) -> String {
        if self.values.is_empty() {
            return "all".to_string();
        }
        let parts: Vec<&str> = self
            .values
            .iter()
            .map(|(_, v)| v.as_deref().unwrap_or("-"))
            .collect();
        parts.join(" / ")
    }

    /// `{"project": "jindi"}`; a missing value is `null`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.values
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .as_deref()
                        .map_or(serde_json::Value::Null, serde_json::Value::from);
                    (k.to_string(), v)
                })
                .collect(),
        )
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A value as a group shows it: strings bare, others as the language writes them.
fn value_text(v: &Value) -> Box<str> {
    match v {
        Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}
