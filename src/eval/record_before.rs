//! `EV before ATTR`, a record item: the case has an event matching `EV` at or before the
//! instant held in its attribute `ATTR` (a forecast landfall, a booked arrival). Three
//! preparations before a typhoon are three items.
//!
//! Edges (see also the README's "Record clauses"):
//!
//! - the attribute is read as the case's attributes stand when it is judged (`opened` and every
//!   `updated`, later winning), as an RFC 3339 timestamp or a local one in the policy zone;
//! - an `EV` exactly at that instant is in time;
//! - while the instant is not before `now`, a missing `EV` is pending (it can still come);
//! - a missing or unreadable attribute is `record.time_unknown` at the case's first event: a
//!   deadline nobody wrote down is a fault of the record, never a silent pass (as a notice's
//!   lead time).

use super::record::{code, matches, Facts};
use super::verdict::rfc3339;
use crate::event::Instant;
use crate::policy::Trigger;
use crate::syntax::format_trigger;
use crate::value::Value;

/// The instant held in the case attribute `attr`, if it is a readable timestamp.
pub(super) fn instant_of(facts: &Facts<'_>, attr: &str) -> Option<Instant> {
    facts
        .attrs
        .get(attr)
        .and_then(Value::as_str)
        .and_then(|s| crate::input::parse_timestamp(s, Some(facts.zone)).ok())
}

/// Calls `found(code, at, message)` once when the case shows no `EV` by the attribute's
/// instant, or has no such instant.
pub(super) fn judge(
    facts: &Facts<'_>,
    event: &Trigger,
    attr: &str,
    found: &mut impl FnMut(&'static str, Instant, String),
) {
    let Some(due) = instant_of(facts, attr) else {
        let Some(first) = facts.events.first() else {
            return;
        };
        let got = match facts.attrs.get(attr) {
            None | Some(Value::Null) => "no".to_string(),
            Some(v) => format!("`{v}`, not a timestamp, as"),
        };
        found(
            code::TIME_UNKNOWN,
            first.at,
            format!(
                "the case has {got} `{attr}` to check `{}` against",
                format_trigger(event)
            ),
        );
        return;
    };
    if due >= facts.now {
        return;
    }
    let mut matching = facts.events.iter().filter(|e| matches(event, e));
    let first = matching.next();
    if first.is_some_and(|e| e.at <= due) {
        return;
    }
    let zone = facts.zone;
    let seen = match first {
        Some(e) => format!("the first at {}", rfc3339(e.at, zone)),
        None => "none".to_string(),
    };
    found(
        code::NOT_BEFORE,
        due,
        format!(
            "no `{}` by `{attr}` {} ({seen})",
            format_trigger(event),
            rfc3339(due, zone)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::record_followed::tests::item;
    use crate::event::Event;
    use crate::policy::RecordItem;
    use crate::value::Attrs;
    use chrono::{Duration, TimeZone, Utc};

    fn at(hour: i64) -> Instant {
        Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap() + Duration::hours(hour)
    }

    fn ev(kind: &str, hour: i64, target: &str) -> Event {
        let mut attrs = Attrs::new();
        attrs.insert("target", Value::String(target.into()));
        Event {
            ticket: crate::inline_str::InlineStr::new("T"),
            at: at(hour),
            kind: kind.into(),
            id: None,
            attrs,
            line: 0,
        }
    }

    /// The codes found for `inspected(target == "drainage") before expected_at`.
    fn run(events: &[Event], expected_at: Option<&str>, now_hour: i64) -> Vec<&'static str> {
        let mut attrs = Attrs::new();
        if let Some(v) = expected_at {
            attrs.insert("expected_at", Value::String(v.into()));
        }
        let facts = Facts {
            events,
            attrs: &attrs,
            closed: None,
            now: at(now_hour),
            zone: chrono_tz::Asia::Shanghai,
        };
        let item = item(r#"inspected(target == "drainage") before expected_at"#);
        let RecordItem::Before { event, attr } = &item else {
            panic!("{item:?}")
        };
        let mut out = Vec::new();
        judge(&facts, event, attr, &mut |c, _, _| out.push(c));
        out
    }

    #[test]
    fn an_event_exactly_at_the_instant_is_in_time_and_one_after_is_not() {
        // 2026-08-01T10:00 in Shanghai is hour 2 UTC.
        let due = Some("2026-08-01T10:00:00");
        assert!(run(&[ev("inspected", 2, "drainage")], due, 50).is_empty());
        assert_eq!(
            run(&[ev("inspected", 3, "drainage")], due, 50),
            [code::NOT_BEFORE]
        );
        // Another target is no drainage inspection.
        assert_eq!(
            run(&[ev("inspected", 1, "roof")], due, 50),
            [code::NOT_BEFORE]
        );
    }

    #[test]
    fn pending_until_the_instant_has_passed_now() {
        let due = Some("2026-08-01T02:00:00Z");
        assert!(run(&[], due, 2).is_empty());
        assert_eq!(run(&[ev("opened", 0, "")], due, 3), [code::NOT_BEFORE]);
    }

    #[test]
    fn a_missing_or_unreadable_attribute_is_a_finding_of_its_own() {
        let events = [ev("opened", 0, "")];
        assert_eq!(run(&events, None, 50), [code::TIME_UNKNOWN]);
        assert_eq!(run(&events, Some("next tuesday"), 50), [code::TIME_UNKNOWN]);
        // No events, no case to judge.
        assert!(run(&[], None, 50).is_empty());
    }
}
