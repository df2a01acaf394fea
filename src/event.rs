//! One event of a ticket stream (EVENTS.md): the unit of input.

use crate::inline_str::InlineStr;
use crate::value::{Attrs, Value};
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
    /// An event of `ticket` at `at` of type `kind`, without an id or attributes (add them with
    /// [`Event::with_id`] and [`Event::with_attr`]); its line number is 0 until
    /// [`Event::at_line`].
    ///
    /// ```
    /// use pledge::Event;
    /// let at = "2026-03-02T09:00:00+08:00".parse().unwrap();
    /// let e = Event::new("T-1", at, "opened").with_attr("kind", "complaint").with_attr("score", 5);
    /// assert_eq!(e.attrs.get("kind").and_then(|v| v.as_str()), Some("complaint"));
    /// ```
    pub fn new(ticket: &str, at: Instant, kind: &str) -> Event {
        Event {
            ticket: ticket.into(),
            at,
            kind: kind.into(),
            id: None,
            attrs: Attrs::new(),
            line: 0,
        }
    }

    /// The event with its id (`id`), which makes a repeated delivery a duplicate.
    pub fn with_id(mut self, id: &str) -> Event {
        self.id = Some(id.into());
        self
    }

    /// The event with one more attribute (`attrs`); a name given twice keeps the last value.
    pub fn with_attr(mut self, name: &str, value: impl Into<Value>) -> Event {
        self.attrs.insert(name, value.into());
        self
    }

    /// The event with the line number reports give it.
    pub fn at_line(mut self, line: u64) -> Event {
        self.line = line;
        self
    }

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
