//! Obligations triggered by a target's outcome: `require EVENT within D after TARGET missed`.
//!
//! Each (period, group) that the named target misses owes one `EVENT` on a case of that group:
//! a case the obligation clause's `when` applies to whose `group by` attributes (the target's)
//! have the group's values. The event counts when it occurs from the period's start to `D`
//! after its end, both included: an analysis written before the month is over counts, and one
//! exactly at `end + D` does too.
//!
//! What is kept is a flag per (clause, period, group): an event at instant `t` marks every
//! period `p` with `start(p) <= t <= end(p) + D` (for a month and 15 days, the month of `t` and,
//! in the first 15 days of a month, the month before). So the state does not depend on the
//! order in which cases arrive or settle, and the flags of partitions merge by union. The
//! outcome is decided at the end, once the target's verdicts are known:
//!
//! | target | flag | `now` | obligation |
//! | --- | --- | --- | --- |
//! | met or no verdict | any | any | none (nothing owed) |
//! | missed | set | any | met |
//! | missed | not set | after `end + D` | missed (`target.obligation_missed`) |
//! | missed | not set | at or before `end + D` | pending |
//!
//! A group with a missing value (`-`) owes nothing: no case can be said to be of it.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use super::tally::MAX_LISTED_PERIODS;
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::event::Instant;
use crate::policy::{Clause, Obligation, PeriodUnit};
use chrono_tz::Tz;

/// The stable code of a missed obligation.
pub const MISSED_CODE: &str = "target.obligation_missed";

/// Where an obligation stands for one (period, group) its target missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObligationStatus {
    /// The event occurred in the window.
    Met,
    /// The window has closed without it.
    Missed,
    /// The window is still open at `now` and has no event yet.
    Pending,
}

impl ObligationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationStatus::Met => "met",
            ObligationStatus::Missed => "missed",
            ObligationStatus::Pending => "pending",
        }
    }
}

/// The status of a missed period's obligation: met when an event marked it, missed once `now`
/// is past `due` (`end + D`), else pending. Without `now` (an empty stream) nothing is decided.
pub fn obligation_status(marked: bool, due: Instant, now: Option<Instant>) -> ObligationStatus {
    if marked {
        ObligationStatus::Met
    } else if now.is_some_and(|n| n > due) {
        ObligationStatus::Missed
    } else {
        ObligationStatus::Pending
    }
}

/// The instant a period's obligation is due: its end plus `within`.
pub fn due(period: &CalendarPeriod, zone: Tz, within: chrono::Duration) -> Option<Instant> {
    period.end(zone)?.checked_add_signed(within)
}

/// The periods of `unit` whose window holds instant `t`: `start(p) <= t <= end(p) + within`.
pub fn periods_marked(
    unit: PeriodUnit,
    zone: Tz,
    within: chrono::Duration,
    t: Instant,
) -> Vec<CalendarPeriod> {
    // The earliest period that can hold `t` ends at `t - within` or later; the one containing
    // the instant just before `t - within` is the first candidate (its end may be exactly it).
    let earliest = t
        .checked_sub_signed(within + chrono::Duration::nanoseconds(1))
        .unwrap_or(t);
    let Some(mut p) = CalendarPeriod::containing(unit, zone, earliest) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for _ in 0..MAX_LISTED_PERIODS {
        let Some(start) = p.start(zone) else {
            break;
        };
        if start > t {
            break;
        }
        if due(&p, zone, within).is_some_and(|d| t <= d) {
            out.push(p);
        }
        match p.next() {
            Some(n) => p = n,
            None => break,
        }
    }
    out
}

/// What one case contributes to an obligation clause: for each of its events matching the
/// obligation, the case's group and every period the event marks, with the event's instant.
/// Nothing when the clause does not apply to the case or its group lacks a value.
pub(crate) fn obligation_marks(
    clause: &Clause,
    o: &Obligation,
    unit: PeriodUnit,
    group_by: &[String],
    zone: Tz,
    view: &CaseView<'_>,
) -> Vec<(CalendarPeriod, Group, Instant)> {
    if !view.opened || !clause.applies.eval(&view.attrs) {
        return Vec::new();
    }
    let group = Group::of(group_by, &view.attrs);
    if !group.complete() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in view
        .events
        .iter()
        .filter(|e| o.event.on_case(view.events, e))
    {
        for p in periods_marked(unit, zone, o.within, e.at) {
            out.push((p, group.clone(), e.at));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const ZONE: Tz = chrono_tz::Asia::Shanghai;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        ZONE.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn labels(ps: &[CalendarPeriod]) -> Vec<String> {
        ps.iter().map(|p| p.label()).collect()
    }

    #[test]
    fn an_event_marks_its_own_month_and_the_one_before_within_the_window() {
        let d = Duration::days(15);
        let unit = PeriodUnit::Month;
        // Inside March, after the 15th: March only.
        assert_eq!(
            labels(&periods_marked(unit, ZONE, d, at(2026, 3, 20, 9, 0))),
            ["2026-03"]
        );
        // In the first 15 days of April: March (the window) and April (the period itself).
        assert_eq!(
            labels(&periods_marked(unit, ZONE, d, at(2026, 4, 10, 9, 0))),
            ["2026-03", "2026-04"]
        );
    }

    #[test]
    fn exactly_at_end_plus_d_counts_and_a_moment_later_does_not() {
        let d = Duration::days(15);
        let unit = PeriodUnit::Month;
        // March ends at 2026-04-01T00:00 (+08:00); due at 2026-04-16T00:00.
        let due_at = at(2026, 4, 16, 0, 0);
        assert_eq!(
            due(
                &CalendarPeriod::containing(unit, ZONE, at(2026, 3, 5, 0, 0)).unwrap(),
                ZONE,
                d
            ),
            Some(due_at)
        );
        assert_eq!(
            labels(&periods_marked(unit, ZONE, d, due_at)),
            ["2026-03", "2026-04"]
        );
        let later = due_at + Duration::seconds(1);
        assert_eq!(labels(&periods_marked(unit, ZONE, d, later)), ["2026-04"]);
    }

    #[test]
    fn the_period_start_counts_and_a_moment_before_belongs_to_the_previous_window() {
        let d = Duration::days(15);
        let start = at(2026, 3, 1, 0, 0);
        assert_eq!(
            labels(&periods_marked(PeriodUnit::Month, ZONE, d, start)),
            ["2026-02", "2026-03"]
        );
        // February's last second: February only (January's window closed on 16 February).
        let before = start - Duration::seconds(1);
        assert_eq!(
            labels(&periods_marked(PeriodUnit::Month, ZONE, d, before)),
            ["2026-02"]
        );
    }

    #[test]
    fn a_window_longer_than_the_period_marks_every_period_it_reaches() {
        // Days with a 2-day window: the day of the event and the two before.
        let ps = periods_marked(
            PeriodUnit::Day,
            ZONE,
            Duration::days(2),
            at(2026, 3, 10, 12, 0),
        );
        assert_eq!(labels(&ps), ["2026-03-08", "2026-03-09", "2026-03-10"]);
        // Without a window: only the period itself.
        let ps = periods_marked(
            PeriodUnit::Month,
            ZONE,
            Duration::zero(),
            at(2026, 3, 10, 12, 0),
        );
        assert_eq!(labels(&ps), ["2026-03"]);
    }

    #[test]
    fn the_status_is_met_with_a_mark_missed_after_the_due_instant_else_pending() {
        let due_at = at(2026, 4, 16, 0, 0);
        let s = |marked, now| obligation_status(marked, due_at, now);
        assert_eq!(
            s(true, Some(due_at - Duration::days(30))),
            ObligationStatus::Met
        );
        assert_eq!(s(true, None), ObligationStatus::Met);
        assert_eq!(s(false, Some(due_at)), ObligationStatus::Pending);
        assert_eq!(
            s(false, Some(due_at + Duration::seconds(1))),
            ObligationStatus::Missed
        );
        assert_eq!(s(false, None), ObligationStatus::Pending);
    }
}
