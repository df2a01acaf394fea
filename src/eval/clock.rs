//! The clock of one deadline cycle: what it counts, how much, and when it reaches an amount
//! given the pauses (SEMANTICS.md, "Limits and calendars" and "Fine print").
//!
//! Every limit becomes a pair *(counting calendar, amount)*: wall-clock limits and the
//! `by HH:MM next day` anchors count wall time; the others count working time on their calendar.
//! Counting wall time needs no calendar, so it is done here directly (it is what the 24×7
//! calendar would do); all business-time arithmetic is delegated to [`Calendar`].

use crate::calendar::Calendar;
use crate::event::Instant;
use crate::policy::{Limit, StagePoint};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use std::sync::Arc;

/// What a clock counts.
#[derive(Debug, Clone, PartialEq)]
pub enum Counting {
    /// Every second.
    Wall,
    /// Working time of the calendar.
    Business(Arc<Calendar>),
}

/// The latest instant we compute with: arithmetic saturates here instead of overflowing, so
/// absurd inputs give absurd but well-defined instants, never a panic.
fn max_instant() -> Instant {
    DateTime::<Utc>::MAX_UTC
}

fn wall_add(t: Instant, d: Duration) -> Instant {
    t.checked_add_signed(d).unwrap_or_else(max_instant)
}

fn dur_add(a: Duration, b: Duration) -> Duration {
    a.checked_add(&b).unwrap_or(Duration::MAX)
}

impl Counting {
    /// The earliest instant at which `amount` has been counted from `start`.
    pub fn add(&self, start: Instant, amount: Duration) -> Instant {
        match self {
            Counting::Wall => wall_add(start, amount),
            Counting::Business(cal) => cal.add_working(start, amount),
        }
    }

    /// Time counted in `[a, b)`; zero when `b <= a`.
    pub fn between(&self, a: Instant, b: Instant) -> Duration {
        if b <= a {
            return Duration::zero();
        }
        match self {
            Counting::Wall => b - a,
            Counting::Business(cal) => cal.working_between(a, b),
        }
    }
}

/// The calendar whose days off a limit's due time depends on: working time, workdays, the same
/// working day, or an anchor on the next working day (`by 08:00 next day` depends on none).
/// A due time on a date its holiday data does not cover is a guess the summary warns about.
pub fn holiday_calendar(limit: &Limit) -> Option<&Arc<Calendar>> {
    match limit {
        Limit::Elapsed(_) => None,
        Limit::BusinessTime { calendar, .. }
        | Limit::Workdays { calendar, .. }
        | Limit::SameDay { calendar } => Some(calendar),
        Limit::NextAt {
            workday, calendar, ..
        } => workday.then_some(calendar),
    }
}

/// The counting calendar, the amount and the display zone of a limit for a clock started at
/// `start`. `policy_zone` is the zone of wall-clock limits, which have no calendar.
pub fn resolve_limit(limit: &Limit, start: Instant, policy_zone: Tz) -> (Counting, Duration, Tz) {
    match limit {
        Limit::Elapsed(d) => (Counting::Wall, *d, policy_zone),
        Limit::BusinessTime { amount, calendar } => {
            (Counting::Business(calendar.clone()), *amount, calendar.zone)
        }
        Limit::Workdays { days, calendar } => {
            let amount = calendar.workday_amount(*days);
            (Counting::Business(calendar.clone()), amount, calendar.zone)
        }
        Limit::SameDay { calendar } => {
            // Counted on working time, so a pause extends it by paused working time.
            let end = calendar.end_of_working_day(start);
            let amount = calendar.working_between(start, end);
            (Counting::Business(calendar.clone()), amount, calendar.zone)
        }
        Limit::NextAt {
            time,
            workday,
            calendar,
        } => {
            // An anchor counted as wall time, so a pause extends it by paused wall time.
            let anchor = calendar.next_at(start, *time, *workday);
            let amount = if anchor > start {
                anchor - start
            } else {
                Duration::zero()
            };
            (Counting::Wall, amount, calendar.zone)
        }
    }
}

/// The amount of the clock at which a stage sits. A fraction is taken of the limit's amount with
/// exact integer arithmetic on nanoseconds, rounded down.
pub fn stage_amount(point: &StagePoint, limit_amount: Duration) -> Duration {
    match point {
        StagePoint::After(d) => *d,
        StagePoint::Fraction(permille) => {
            let total = i128::from(limit_amount.num_seconds()) * 1_000_000_000
                + i128::from(limit_amount.subsec_nanos());
            let part = total * i128::from(*permille) / 1000;
            let secs = part.div_euclid(1_000_000_000);
            let nanos = part.rem_euclid(1_000_000_000);
            i64::try_from(secs)
                .ok()
                .and_then(Duration::try_seconds)
                .and_then(|d| d.checked_add(&Duration::nanoseconds(nanos as i64)))
                .unwrap_or(Duration::MAX)
        }
    }
}

/// A pause of the clock: `[from, until)`, `until = None` while it is still open (it then ends at
/// `now`).
pub type PauseSpan = (Instant, Option<Instant>);

/// A started clock with its pauses, evaluated for a given `now`.
pub struct Clock<'a> {
    pub counting: &'a Counting,
    pub start: Instant,
    /// Pauses clipped to the running clock, sorted, disjoint.
    pub pauses: &'a [PauseSpan],
    pub now: Instant,
}

impl Clock<'_> {
    /// The earliest instant at which the clock has counted `amount`, and the paused time that
    /// moved it: start from `add(start, amount)`, then for each pause beginning before the
    /// current answer add its counted length and recompute. Pauses are sorted and the answer only
    /// moves later, so the first pause at or after the answer ends the loop.
    pub fn reach(&self, amount: Duration) -> (Instant, Duration) {
        let mut extra = Duration::zero();
        let mut at = self.counting.add(self.start, amount);
        for &(from, until) in self.pauses {
            if from >= at {
                break;
            }
            let until = until.unwrap_or(self.now);
            let from = from.max(self.start);
            let paused = self.counting.between(from, until);
            if paused > Duration::zero() {
                extra = dur_add(extra, paused);
                at = self.counting.add(self.start, dur_add(amount, extra));
            }
        }
        (at, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_exact() {
        let l = Duration::hours(8);
        assert_eq!(
            stage_amount(&StagePoint::Fraction(800), l),
            Duration::minutes(384)
        );
        assert_eq!(stage_amount(&StagePoint::Fraction(1000), l), l);
        let odd = Duration::seconds(7);
        assert_eq!(
            stage_amount(&StagePoint::Fraction(333), odd),
            Duration::nanoseconds(2_331_000_000)
        );
        // A limit with a fraction of a second (a same-day limit counted from 09:00:00.5):
        // its sub-second part counts.
        assert_eq!(
            stage_amount(&StagePoint::Fraction(500), Duration::milliseconds(1500)),
            Duration::milliseconds(750)
        );
    }

    #[test]
    fn wall_time_saturates_at_the_latest_instant() {
        let late = DateTime::<Utc>::MAX_UTC - Duration::hours(1);
        assert_eq!(
            Counting::Wall.add(late, Duration::days(2)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(dur_add(Duration::MAX, Duration::seconds(1)), Duration::MAX);
    }

    #[test]
    fn pauses_move_the_due_time() {
        let t = |h: i64| DateTime::<Utc>::UNIX_EPOCH + Duration::hours(h);
        let pauses = [(t(1), Some(t(3))), (t(6), Some(t(7))), (t(20), None)];
        let clock = Clock {
            counting: &Counting::Wall,
            start: t(0),
            pauses: &pauses,
            now: t(30),
        };
        // 4 h limit: 2 h paused before 4 h puts it at 6 h; the 6–7 pause starts exactly then,
        // when the clock has already counted 4 h, so it does not move it.
        assert_eq!(clock.reach(Duration::hours(4)), (t(6), Duration::hours(2)));
        // 5 h limit: due at 7 h after the first pause, so the 6–7 pause counts too: 8 h.
        assert_eq!(clock.reach(Duration::hours(5)), (t(8), Duration::hours(3)));
        // A pause starting exactly at the due time does not move it.
        let clock = Clock {
            pauses: &pauses[1..],
            ..clock
        };
        assert_eq!(clock.reach(Duration::hours(6)), (t(6), Duration::zero()));
    }
}
