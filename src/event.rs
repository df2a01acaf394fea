//! One event of a ticket stream (EVENTS.md): the unit of input.

use crate::inline_str::InlineStr;
use crate::value::Attrs;
use chrono::{DateTime, Utc};
use std::cmp::Ordering;

/// An instant. Events and verdicts store instants in UTC; calendars convert to local dates.
pub type Instant = DateTime<Utc>;

/// A ticket event as read from a JSONL or CSV line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// The case id (`ticket`).
    pub ticket: InlineStr,
    /// When it happened (`at`), converted to UTC.
    pub at: Instant,
    /// The event type (`type`), e.g. `opened`, `resolved`.
    pub kind: InlineStr,
    /// The optional event id (`id`), unique across the stream.
    pub id: Option<InlineStr>,
    /// The event's attributes (`attrs`).
    pub attrs: Attrs,
    /// 1-based line number in the input (for CSV, the record's line).
    pub line: u64,
}

impl Event {
    /// The canonical order of a case's events: by instant, then type name, then attributes
    /// (SEMANTICS.md, "Ties"). Line numbers are deliberately not part of it, so the order never
    /// depends on how the events arrived.
    pub fn canonical_cmp(&self, other: &Event) -> Ordering {
        self.at
            .cmp(&other.at)
            .then_with(|| self.kind.cmp(&other.kind))
            .then_with(|| self.attrs.canonical_cmp(&other.attrs))
            .then_with(|| self.id.cmp(&other.id))
    }
}
