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
    /// When it happened (`at`), converted to UTC. (Text in JSON; seconds and nanoseconds in
    /// the binary forms of snapshots and the service's store.)
    #[serde(with = "compact_instant")]
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

/// Instants in the evaluator's state as seconds and nanoseconds (six bytes or so in a
/// snapshot) rather than chrono's RFC 3339 text (twenty-five or more): a dense stream puts
/// hundreds of thousands of cases to rest as their snapshot bytes, and a restart reads them
/// all. Human-readable formats keep the text. Use with `#[serde(with = "...")]`.
pub(crate) mod compact_instant {
    use super::Instant;
    use chrono::DateTime;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(at: &Instant, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            at.serialize(s)
        } else {
            (at.timestamp(), at.timestamp_subsec_nanos()).serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        if d.is_human_readable() {
            Instant::deserialize(d)
        } else {
            let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
            DateTime::from_timestamp(secs, nanos)
                .ok_or_else(|| serde::de::Error::custom("instant out of range"))
        }
    }

    /// An instant that serializes compactly, for the places a `with` attribute cannot reach
    /// (inside tuples and sequences).
    #[derive(Clone, Copy, Serialize, Deserialize)]
    pub struct Compact(#[serde(with = "self")] pub Instant);

    /// The same for an optional instant.
    pub mod option {
        use super::{Compact, Instant};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(at: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
            at.map(Compact).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instant>, D::Error> {
            Ok(Option::<Compact>::deserialize(d)?.map(|c| c.0))
        }
    }

    /// The same for a sequence of pauses (a start and, once it ended, an end), read back as a
    /// vector.
    pub mod spans {
        use super::{Compact, Instant};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            spans: &[(Instant, Option<Instant>)],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(spans.iter().map(|&(a, b)| (Compact(a), b.map(Compact))))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<(Instant, Option<Instant>)>, D::Error> {
            let spans = Vec::<(Compact, Option<Compact>)>::deserialize(d)?;
            Ok(spans
                .into_iter()
                .map(|(a, b)| (a.0, b.map(|b| b.0)))
                .collect())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Both {
            #[serde(with = "super")]
            at: Instant,
            #[serde(with = "super::option")]
            maybe: Option<Instant>,
        }

        #[test]
        fn reads_back_every_instant_exactly() {
            let instants = [
                DateTime::<chrono::Utc>::MIN_UTC,
                DateTime::<chrono::Utc>::MAX_UTC,
                "2026-03-02T09:15:00.5+08:00".parse().unwrap(),
                "1969-12-31T23:59:59.999999999Z".parse().unwrap(),
            ];
            for at in instants {
                for maybe in [None, Some(at)] {
                    let both = Both { at, maybe };
                    let bytes = postcard::to_stdvec(&both).unwrap();
                    assert_eq!(postcard::from_bytes::<Both>(&bytes).unwrap(), both);
                    let json = serde_json::to_string(&both).unwrap();
                    assert!(json.contains("\"at\":\""), "{json}");
                    assert_eq!(serde_json::from_str::<Both>(&json).unwrap(), both);
                }
            }
            let short = postcard::to_stdvec(&Both {
                at: instants[2],
                maybe: None,
            })
            .unwrap();
            // (Text would take 29 bytes for this instant alone.)
            assert!(short.len() <= 12, "{} bytes", short.len());
        }
    }
}
