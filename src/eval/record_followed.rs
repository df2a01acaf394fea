//! `A followed by B [within D]`, a record item: every event matching `A` has a later event
//! matching `B` (within `D` of it when given). An unsatisfied rating must be followed by a
//! reopen; a complaint's acknowledgement by a reply.
//!
//! Edges (see also the README's "Record clauses"):
//!
//! - a `B` at `A`'s own instant follows it (canonical order at one instant means nothing to a
//!   reader), and so does one at exactly `A + D`;
//! - an event matching both `A` and `B` does not follow itself: it needs another `B`;
//! - a follow-up that can still come is pending: without `D`, while the case is open; with `D`,
//!   until `A + D` is before `now` (open or closed, the window decides);
//! - one finding per case, at the first `A` left without its `B`; the message counts the others.

use super::record::{days_or, matches, Facts};
use super::verdict::rfc3339;
use crate::event::{Event, Instant};
use crate::policy::Trigger;
use crate::syntax::format_trigger;

/// The indexes of the events matching `then`, in time order (the events are in canonical
/// order, which sorts by time first).
fn follow_ups(events: &[Event], then: &Trigger) -> Vec<usize> {
    (0..events.len())
        .filter(|&j| matches(then, &events[j]))
        .collect()
}

/// Whether the `A` at index `i` of `events` has its follow-up: another event of `bs` (the
/// follow-ups' indexes) at or after its instant, and at most `within` after it. A binary
/// search, so that a long-lived subject with many events stays cheap.
fn followed(events: &[Event], bs: &[usize], i: usize, within: Option<chrono::Duration>) -> bool {
    let a = &events[i];
    let end = within.and_then(|d| a.at.checked_add_signed(d));
    let from = bs.partition_point(|&j| events[j].at < a.at);
    // At most one candidate is `A` itself: the next one then decides.
    bs[from..]
        .iter()
        .find(|&&j| j != i)
        .is_some_and(|&j| end.is_none_or(|end| events[j].at <= end))
}

/// Whether an `A` at `at` left without a follow-up is final as of the facts: with `within`,
/// once `at + within` is before `now`; without, once the case is closed.
fn settled(facts: &Facts<'_>, at: Instant, within: Option<chrono::Duration>) -> bool {
    match within {
        Some(d) => at.checked_add_signed(d).is_some_and(|end| end < facts.now),
        None => facts.closed.is_some(),
    }
}

/// The instant of the first `A` still waiting for its follow-up (not followed, not yet final).
pub(super) fn waiting(
    facts: &Facts<'_>,
    event: &Trigger,
    then: &Trigger,
    within: Option<chrono::Duration>,
) -> Option<Instant> {
    let events = facts.events;
    let bs = follow_ups(events, then);
    events
        .iter()
        .enumerate()
        .find(|(i, e)| {
            matches(event, e) && !settled(facts, e.at, within) && !followed(events, &bs, *i, within)
        })
        .map(|(_, e)| e.at)
}

/// Calls `found(at, message)` once when some `A` is left without its `B`.
pub(super) fn judge(
    facts: &Facts<'_>,
    (event, then, within): (&Trigger, &Trigger, Option<chrono::Duration>),
    found: &mut impl FnMut(Instant, String),
) {
    let events = facts.events;
    let bs = follow_ups(events, then);
    let mut missed = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches(event, e))
        .filter(|(i, e)| settled(facts, e.at, within) && !followed(events, &bs, *i, within))
        .map(|(_, e)| e);
    let Some(first) = missed.next() else {
        return;
    };
    let more = missed.count();
    let window = within
        .map(|d| format!(" within {}", days_or(d)))
        .unwrap_or_default();
    let others = if more > 0 {
        format!("; {more} later one(s) too")
    } else {
        String::new()
    };
    found(
        first.at,
        format!(
            "`{}` at {} was not followed by `{}`{window}{others}",
            first.kind,
            rfc3339(first.at, facts.zone),
            format_trigger(then)
        ),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::policy::RecordItem;
    use crate::value::Attrs;
    use crate::value::Value;
    use chrono::{Duration, TimeZone, Utc};

    fn ev(kind: &str, hour: i64, attrs: &[(&str, Value)]) -> Event {
        let mut a = Attrs::new();
        for (k, v) in attrs {
            a.insert(k, v.clone());
        }
        Event {
            ticket: crate::inline_str::InlineStr::new("T"),
            at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::hours(hour),
            kind: (*kind).into(),
            id: None,
            attrs: a,
            line: 0,
        }
    }

    /// The one item of `record r { LINE }`, parsed as a policy would be.
    pub(crate) fn item(line: &str) -> RecordItem {
        let src = format!("policy \"p\" {{\n  record r {{\n    {line}\n  }}\n}}\n");
        let policy = crate::syntax::parse_policy(&src, "p.pledge", None).unwrap();
        match &policy.clauses[0].body {
            crate::policy::ClauseBody::Record(r) => r.items[0].clone(),
            other => panic!("not a record: {other:?}"),
        }
    }

    fn judge_item(item: &RecordItem, facts: &Facts<'_>) -> Vec<String> {
        let RecordItem::FollowedBy {
            event,
            then,
            within,
        } = item
        else {
            panic!("not a follow-up: {item:?}")
        };
        let mut out = Vec::new();
        judge(facts, (event, then, *within), &mut |_, m| out.push(m));
        out
    }

    fn run(events: &[Event], within: Option<Duration>, closed: bool, now_hour: i64) -> Vec<String> {
        let attrs = Attrs::new();
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let facts = Facts {
            events,
            attrs: &attrs,
            closed: closed.then_some(start),
            now: start + Duration::hours(now_hour),
            zone: chrono_tz::Asia::Shanghai,
        };
        let line = match within {
            Some(d) => format!(
                "rated(satisfied == false) followed by reopened within {} hours",
                d.num_hours()
            ),
            None => "rated(satisfied == false) followed by reopened".to_string(),
        };
        judge_item(&item(&line), &facts)
    }

    fn unsatisfied(hour: i64) -> Event {
        ev("rated", hour, &[("satisfied", Value::Bool(false))])
    }

    #[test]
    fn a_follow_up_at_the_same_instant_or_at_the_window_end_counts() {
        let d = Some(Duration::hours(24));
        assert!(run(&[unsatisfied(1), ev("reopened", 1, &[])], d, true, 100).is_empty());
        assert!(run(&[unsatisfied(1), ev("reopened", 25, &[])], d, true, 100).is_empty());
        let late = run(&[unsatisfied(1), ev("reopened", 26, &[])], d, true, 100);
        assert_eq!(late.len(), 1, "{late:?}");
        assert!(late[0].contains("within 1 day") || late[0].contains("within 24 hours"));
    }

    #[test]
    fn a_window_still_open_at_now_is_pending_and_a_closed_case_waits_for_it() {
        let d = Some(Duration::hours(24));
        // A + D = hour 25: pending at 25 (a follow-up at 25 still counts), missed at 26.
        assert!(run(&[unsatisfied(1)], d, true, 25).is_empty());
        assert_eq!(run(&[unsatisfied(1)], d, false, 26).len(), 1);
        // Without a window: pending while open, missed once closed.
        assert!(run(&[unsatisfied(1)], None, false, 1000).is_empty());
        assert_eq!(run(&[unsatisfied(1)], None, true, 2).len(), 1);
    }

    #[test]
    fn an_earlier_b_does_not_follow_and_several_misses_are_one_finding() {
        let got = run(
            &[ev("reopened", 0, &[]), unsatisfied(1), unsatisfied(5)],
            None,
            true,
            10,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("1 later one(s) too"), "{got:?}");
        // A satisfied rating is no A.
        let ok = run(
            &[ev("rated", 1, &[("satisfied", Value::Bool(true))])],
            None,
            true,
            10,
        );
        assert!(ok.is_empty());
    }

    #[test]
    fn an_event_that_is_both_a_and_b_does_not_follow_itself() {
        let item = item("progress followed by progress");
        let events = [ev("progress", 1, &[])];
        let attrs = Attrs::new();
        let facts = Facts {
            events: &events,
            attrs: &attrs,
            closed: Some(events[0].at),
            now: events[0].at + Duration::days(9),
            zone: chrono_tz::Asia::Shanghai,
        };
        assert_eq!(judge_item(&item, &facts).len(), 1);
        // Two: the first is followed by the second, which has no follow-up of its own.
        let two = [ev("progress", 1, &[]), ev("progress", 2, &[])];
        let facts = Facts {
            events: &two,
            ..facts
        };
        let got = judge_item(&item, &facts);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("T02:00:00") || got[0].contains("10:00:00"),
            "{got:?}"
        );
    }

    /// The plain reading of `followed`: some other follow-up at or after `A`, by `A + D`.
    fn naive(events: &[Event], i: usize, then: &Trigger, within: Option<Duration>) -> bool {
        let a = &events[i];
        events.iter().enumerate().any(|(j, e)| {
            j != i && e.at >= a.at && within.is_none_or(|d| e.at <= a.at + d) && matches(then, e)
        })
    }

    proptest::proptest! {
        /// Law: the binary search agrees with the plain reading, for events at shared instants
        /// and events matching both `A` and `B`.
        #[test]
        fn the_search_agrees_with_the_plain_reading(
            raw in proptest::collection::vec((0i64..12, 0usize..3), 0..14),
            hours in proptest::option::of(0i64..6),
        ) {
            let kinds = ["rated", "reopened", "progress"];
            let mut events: Vec<Event> =
                raw.iter().map(|&(h, k)| ev(kinds[k], h, &[])).collect();
            events.sort_by(Event::canonical_cmp);
            // A: `rated or progress`; B: `reopened or progress` (a `progress` is both).
            let then = item("reopened or progress followed by rated").clone();
            let RecordItem::FollowedBy { event: then, .. } = then else { unreachable!() };
            let within = hours.map(Duration::hours);
            let bs = follow_ups(&events, &then);
            for i in 0..events.len() {
                if kinds.contains(&&*events[i].kind) && &*events[i].kind != "reopened" {
                    proptest::prop_assert_eq!(
                        followed(&events, &bs, i, within),
                        naive(&events, i, &then, within)
                    );
                }
            }
        }
    }
}
