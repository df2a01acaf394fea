//! Round-the-clock cover (`covered from shift_started until shift_ended` in an `every` clause):
//! the subject (a post: the hotline, the duty room) records its shifts as pairs of events, and
//! the union of the shifts must cover every instant of the duty's range.
//!
//! # Shifts
//!
//! - A start event opens a shift of its `by` (the person on duty; the events of a post without
//!   `by` all share one shift); the next end event of the same `by` closes it. Shifts of
//!   different people may overlap (a handover with both on duty).
//! - A start while the same person's shift is open changes nothing (the shift began at the
//!   first); an end with no open shift of its person covers nothing.
//! - A shift still open at the end of the range runs to it (at `now`, the post is on duty).
//! - Intervals are closed-open and join when they touch: a shift ending at 16:00 and the next
//!   starting at 16:00 leave no gap; one starting at 16:00:01 leaves a gap of one second.
//! - Events are read in canonical (time) order, so the arrival order within the reorder window
//!   never matters.
//!
//! # Findings, by local day
//!
//! The range (from `opened`, inside `from ... until ...`, inside the `during` alert's periods,
//! clipped by `effective`) is cut at local midnights in the policy's zone. Each part of a day:
//!
//! - with an uncovered instant: one `cover.gap` finding at the first gap's start, giving its
//!   start and length, and how many gaps and how long uncovered in all that day. A gap still
//!   running at `now` counts up to `now`.
//! - fully covered: one check met, counted at the part's end (at the day's last second when
//!   the part runs to midnight, so that it counts in its own day), once the part is over: the
//!   part of today that reaches `now` is pending (no record) until then.
//!
//! # State
//!
//! A [`Coverage`]: the open shifts (one start per person on duty) and a coalesced
//! [`IntervalSet`] of the closed ones, so that a year of unbroken cover is one interval.

use super::calendar_period::CalendarPeriod;
use super::tally::PeriodPlan;
use crate::eval::case_ref::OnCase;
use crate::eval::{format_duration, rfc3339, Finding};
use crate::event::{Event, Instant};
use crate::policy::{Duty, PeriodUnit, Trigger};
use crate::value::Value;
use std::sync::Arc;

/// Sorted, disjoint, non-touching closed-open intervals `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalSet {
    spans: Vec<(Instant, Instant)>,
}

impl IntervalSet {
    /// Adds `[start, end)`, joining every interval it overlaps or touches. Empty intervals are
    /// ignored.
    pub fn insert(&mut self, start: Instant, end: Instant) {
        if end <= start {
            return;
        }
        // The first interval that ends at or after `start` (it may touch or overlap).
        let i = self.spans.partition_point(|s| s.1 < start);
        // The intervals from `i` that begin at or before `end` merge with it.
        let j = i + self.spans[i..].partition_point(|s| s.0 <= end);
        if i == j {
            self.spans.insert(i, (start, end));
            return;
        }
        let merged = (start.min(self.spans[i].0), end.max(self.spans[j - 1].1));
        self.spans.splice(i..j, [merged]);
    }

    /// The intervals, sorted.
    pub fn spans(&self) -> &[(Instant, Instant)] {
        &self.spans
    }

    /// The uncovered parts of `[start, end)`, in order.
    pub fn gaps(&self, start: Instant, end: Instant) -> Vec<(Instant, Instant)> {
        let mut out = Vec::new();
        let mut at = start;
        let i = self.spans.partition_point(|s| s.1 <= start);
        for &(s, e) in &self.spans[i..] {
            if s >= end {
                break;
            }
            if s > at {
                out.push((at, s));
            }
            at = at.max(e);
            if at >= end {
                break;
            }
        }
        if at < end {
            out.push((at, end));
        }
        out
    }
}

/// Shifts folded event by event: open shifts per person and the closed ones as an
/// [`IntervalSet`] (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    open: Vec<(Option<String>, Instant)>,
    pub closed: IntervalSet,
}

impl Coverage {
    /// A shift of `by` starts at `at` (nothing if one of theirs is open).
    pub fn start(&mut self, by: Option<&str>, at: Instant) {
        if !self.open.iter().any(|(p, _)| p.as_deref() == by) {
            self.open.push((by.map(str::to_string), at));
        }
    }

    /// The open shift of `by` ends at `at` (nothing if none is open).
    pub fn end(&mut self, by: Option<&str>, at: Instant) {
        if let Some(i) = self.open.iter().position(|(p, _)| p.as_deref() == by) {
            let (_, start) = self.open.swap_remove(i);
            self.closed.insert(start, at);
        }
    }

    /// The covered intervals as of `until`: open shifts run to it.
    pub fn as_of(&self, until: Instant) -> IntervalSet {
        let mut set = self.closed.clone();
        for &(_, start) in &self.open {
            set.insert(start, until.max(start));
        }
        set
    }

    /// Folds the shift events of one subject (sorted canonically) up to `until`.
    pub fn of(events: &[Event], start: &Trigger, end: &Trigger, until: Instant) -> Coverage {
        let mut c = Coverage::default();
        for e in events.iter().take_while(|e| e.at <= until) {
            let by = e.attrs.get("by").and_then(Value::as_str);
            // An event that both ends and starts (a handover logged as one event) ends first.
            if end.on_case(events, e) {
                c.end(by, e.at);
            }
            if start.on_case(events, e) {
                c.start(by, e.at);
            }
        }
        c
    }
}

/// One local day of a `covered` duty: its first gap, how many and how long in all, where a
/// met check is counted, and whether its part reaches `now` (then it is not judged if met).
struct DayCheck {
    day: CalendarPeriod,
    first: Option<(Instant, Instant)>,
    gaps: u32,
    uncovered: chrono::Duration,
    part_end: Instant,
    pending: bool,
}

/// The findings of a `covered` duty on one subject's ranges: `(start, end, running_at_now)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cover_findings(
    plan: &PeriodPlan<'_>,
    duty: &Duty,
    until: &Trigger,
    events: &[Event],
    ticket: &Arc<str>,
    ranges: &[(Instant, Instant, bool)],
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    let Some(last) = ranges.iter().map(|r| r.1).max() else {
        return;
    };
    let covered = Coverage::of(events, &duty.event, until, last).as_of(last);
    let zone = plan.zone;
    // Per local day, merged over the ranges of the day (ranges come in order, so a day seen
    // again is the last one).
    let mut days: Vec<DayCheck> = Vec::new();
    for &(start, end, running) in ranges {
        let Some(mut day) = CalendarPeriod::containing(PeriodUnit::Day, zone, start) else {
            continue;
        };
        for _ in 0..super::duty::MAX_QUOTA_PERIODS {
            let (Some(d_start), Some(d_end)) = (day.start(zone), day.end(zone)) else {
                break;
            };
            let (a, b) = (start.max(d_start), end.min(d_end));
            if a < b {
                if days.last().is_none_or(|d| d.day != day) {
                    days.push(DayCheck {
                        day,
                        first: None,
                        gaps: 0,
                        uncovered: chrono::Duration::zero(),
                        part_end: a,
                        pending: false,
                    });
                }
                let slot = days.last_mut().expect("pushed");
                for (gs, ge) in covered.gaps(a, b) {
                    if slot.first.is_none_or(|(s, _)| gs < s) {
                        slot.first = Some((gs, ge));
                    }
                    slot.gaps += 1;
                    slot.uncovered += ge - gs;
                }
                // A met day counts in its own day: at its part's end, or its last second.
                slot.part_end = slot
                    .part_end
                    .max(b.min(d_end - chrono::Duration::seconds(1)));
                slot.pending |= running && b == end;
            }
            if d_end >= end {
                break;
            }
            match day.next() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    for DayCheck {
        day,
        first,
        gaps: count,
        uncovered: total,
        part_end,
        pending,
    } in days
    {
        match first {
            Some((gs, ge)) => {
                let mut message = format!(
                    "not covered from {} for {}",
                    rfc3339(gs, zone),
                    format_duration(ge - gs)
                );
                if count > 1 {
                    message.push_str(&format!(
                        " ({count} gaps, {} in all on {})",
                        format_duration(total),
                        day.label()
                    ));
                } else {
                    message.push_str(&format!(" on {}", day.label()));
                }
                out.push(plan.finding(ticket, "cover.gap", gs, message, zone));
            }
            None if !pending => met.push(part_end),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> Instant {
        chrono::Utc
            .timestamp_opt(1_767_225_600 + h * 3600, 0)
            .unwrap()
    }

    #[test]
    fn touching_intervals_join_and_overlaps_merge() {
        let mut s = IntervalSet::default();
        s.insert(t(0), t(8));
        s.insert(t(8), t(16));
        assert_eq!(s.spans(), &[(t(0), t(16))]);
        s.insert(t(20), t(24));
        s.insert(t(15), t(21));
        assert_eq!(s.spans(), &[(t(0), t(24))]);
        s.insert(t(30), t(31));
        s.insert(t(26), t(27));
        assert_eq!(s.spans(), &[(t(0), t(24)), (t(26), t(27)), (t(30), t(31))]);
        s.insert(t(5), t(5));
        assert_eq!(s.spans().len(), 3);
        assert_eq!(
            s.gaps(t(-2), t(32)),
            vec![
                (t(-2), t(0)),
                (t(24), t(26)),
                (t(27), t(30)),
                (t(31), t(32))
            ]
        );
        assert_eq!(s.gaps(t(1), t(23)), vec![]);
    }

    #[test]
    fn shifts_pair_by_person_and_an_end_without_a_start_covers_nothing() {
        let mut c = Coverage::default();
        c.end(Some("li"), t(1));
        c.start(Some("wang"), t(0));
        c.start(Some("zhao"), t(7));
        c.end(Some("wang"), t(8));
        c.start(Some("wang"), t(9)); // a second shift of wang, still open
        c.end(Some("zhao"), t(16));
        assert_eq!(c.closed.spans(), &[(t(0), t(16))]);
        assert_eq!(c.as_of(t(20)).spans(), &[(t(0), t(20))]);
    }
}
