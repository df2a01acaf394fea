//! Event filters that compare with a case attribute (`contacted(channel ==
//! case.preferred_channel)`): which value of the case attribute an event is compared with.
//!
//! The value is the case's **at the end of the event's instant**: its `opened` and every
//! `updated` at or before that instant, later winning. An `updated` at the same instant as the
//! event counts whatever their order in the stream, and one after it does not rewrite what the
//! event matched; so the result depends only on the events' instants, never on their arrival
//! order within the reorder window.
//!
//! The streaming evaluator applies a case's events one instant at a time after merging that
//! instant's attributes, so its case attributes *are* this value when it matches an event
//! ([`crate::policy::Trigger::matches_in`]). Events it keeps for period and notification
//! clauses carry the value they were matched with (under [`crate::policy::case_snapshot_key`]),
//! because those clauses read them when the case settles, after later `updated` events. The
//! whole-case readers here (`:why`, the batch functions) compute the value from the sorted
//! events with [`case_attrs_at`].

use crate::event::{Event, Instant};
use crate::policy::Trigger;
use crate::value::Attrs;

/// The case's attributes at the end of instant `at`: `opened` and every `updated` at or before
/// it, in order, later winning. `events` are the case's, sorted by instant.
pub(crate) fn case_attrs_at(events: &[Event], at: Instant) -> Attrs {
    let mut attrs = Attrs::new();
    for e in events.iter().take_while(|e| e.at <= at) {
        if matches!(&*e.kind, "opened" | "updated") {
            attrs.merge(&e.attrs);
        }
    }
    attrs
}

/// Matching an event of a case, with the case attributes its filters compare with.
pub(crate) trait OnCase {
    /// Whether `e`, one of the sorted `events` of its case, matches, a comparison with a case
    /// attribute reading the case at the end of `e`'s instant.
    fn on_case(&self, events: &[Event], e: &Event) -> bool;
}

impl OnCase for Trigger {
    fn on_case(&self, events: &[Event], e: &Event) -> bool {
        let case = if self.compares_case() {
            case_attrs_at(events, e.at)
        } else {
            Attrs::new()
        };
        self.matches_in(&e.kind, &e.attrs, &case, Some(e.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn ev(at: i64, kind: &str, attrs: &[(&str, &str)]) -> Event {
        let mut a = Attrs::new();
        for (k, v) in attrs {
            a.insert(k, Value::String((*v).into()));
        }
        Event {
            ticket: "T".into(),
            at: chrono::DateTime::from_timestamp(at, 0).unwrap(),
            kind: kind.into(),
            id: None,
            attrs: a,
            line: 1,
        }
    }

    fn trigger() -> Trigger {
        Trigger {
            matchers: vec![crate::policy::EventMatcher {
                event: "contacted".into(),
                filter: Some(crate::policy::Condition::CompareCase {
                    attr: "channel".into(),
                    op: crate::policy::CmpOp::Eq,
                    case_attr: "preferred".into(),
                }),
            }],
        }
    }

    #[test]
    fn the_value_at_the_end_of_the_instant_counts() {
        let events = vec![
            ev(0, "opened", &[("preferred", "phone")]),
            ev(10, "contacted", &[("channel", "phone")]),
            ev(20, "contacted", &[("channel", "sms")]),
            ev(20, "updated", &[("preferred", "sms")]),
            ev(30, "updated", &[("preferred", "wechat")]),
        ];
        let t = trigger();
        // Phone was preferred at 10; a later change does not rewrite the match.
        assert!(t.on_case(&events, &events[1]));
        // The `updated` at the same instant counts, though it sorts after the contact.
        assert!(t.on_case(&events, &events[2]));
    }

    #[test]
    fn an_absent_case_attribute_never_matches() {
        let events = vec![
            ev(0, "opened", &[]),
            ev(10, "contacted", &[("channel", "phone")]),
        ];
        let t = trigger();
        assert!(!t.on_case(&events, &events[1]));
        // Nor does `!=`: absent is not a value.
        let ne = Trigger {
            matchers: vec![crate::policy::EventMatcher {
                event: "contacted".into(),
                filter: Some(crate::policy::Condition::CompareCase {
                    attr: "channel".into(),
                    op: crate::policy::CmpOp::Ne,
                    case_attr: "preferred".into(),
                }),
            }],
        };
        assert!(!ne.on_case(&events, &events[1]));
    }

    #[test]
    fn a_snapshot_on_a_kept_event_wins_over_the_case() {
        let mut kept = ev(10, "contacted", &[("channel", "phone")]);
        kept.attrs.insert(
            &crate::policy::case_snapshot_key("preferred"),
            Value::String("phone".into()),
        );
        let mut now = Attrs::new();
        now.insert("preferred", Value::String("sms".into()));
        assert!(trigger().matches_in(&kept.kind, &kept.attrs, &now, None));
    }
}
