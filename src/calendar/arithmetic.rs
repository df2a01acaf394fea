//! Counting working time on a calendar (SEMANTICS.md, "Limits and calendars" and "Fine print").
//!
//! Every question is answered by walking local dates, one whole date at a time: each date
//! contributes its working periods as UTC intervals, so amounts of any size cost one step per
//! date, never one per minute. The intervals of one date are clipped to the instants at which
//! that date begins and ends, so the dates partition the time line and nothing is counted twice
//! even around daylight-saving changes.

use super::zone::{local_date, resolve, start_of};
use super::{Calendar, HORIZON_DAYS};
use crate::event::Instant;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// One local date laid out on the time line.
struct Day {
    /// The instant the date begins.
    start: Instant,
    /// The working intervals, half-open, sorted, disjoint and inside `[start, end)`.
    intervals: Vec<(Instant, Instant)>,
}

/// The instant returned when counting runs past the end of representable time.
const END_OF_TIME: Instant = DateTime::<Utc>::MAX_UTC;

impl Calendar {
    /// Whether `t` is inside working hours (periods are half-open, so closing time is not).
    pub fn is_working_moment(&self, t: Instant) -> bool {
        if self.is_always() {
            return true;
        }
        self.date_of(t)
            .and_then(|date| self.day(date))
            .is_some_and(|day| day.intervals.iter().any(|&(s, e)| s <= t && t < e))
    }

    /// `t` itself if it is working time, else the instant working time next begins: where a
    /// clock started outside working hours begins counting.
    pub fn next_working_moment(&self, t: Instant) -> Instant {
        if self.is_always() {
            return t;
        }
        let Some(first) = self.date_of(t) else {
            return END_OF_TIME;
        };
        let mut date = first;
        for _ in 0..HORIZON_DAYS {
            let Some(day) = self.day(date) else {
                return END_OF_TIME;
            };
            if let Some(&(s, _)) = day.intervals.iter().find(|&&(_, e)| e > t) {
                return s.max(t);
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return END_OF_TIME,
            }
        }
        self.horizon_from(first)
    }

    /// The due instant of `amount` of working time counted from `start`: the *earliest* instant
    /// at which the working time since `start` reaches `amount` (so one 09:00–18:00 workday from
    /// Monday 09:00 is Monday 18:00, not Tuesday 09:00). A zero or negative amount is due at
    /// `start` itself. If the calendar has no working time for a century, the instant a century
    /// of dates later is returned.
    pub fn add_working(&self, start: Instant, amount: Duration) -> Instant {
        if amount <= Duration::zero() {
            return start;
        }
        if self.is_always() {
            return start.checked_add_signed(amount).unwrap_or(END_OF_TIME);
        }
        let Some(first) = self.date_of(start) else {
            return END_OF_TIME;
        };
        let mut remaining = amount;
        let mut date = first;
        for _ in 0..HORIZON_DAYS {
            let Some(day) = self.day(date) else {
                return END_OF_TIME;
            };
            for &(s, e) in &day.intervals {
                if e <= start {
                    continue;
                }
                let from = s.max(start);
                let available = e - from;
                if available >= remaining {
                    return from.checked_add_signed(remaining).unwrap_or(END_OF_TIME);
                }
                remaining -= available;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return END_OF_TIME,
            }
        }
        self.horizon_from(first)
    }

    /// The working time in `[a, b)`; zero if `b <= a`. Counts at most a century of dates from
    /// `a`, like [`Calendar::add_working`], so the two stay inverse to each other.
    pub fn working_between(&self, a: Instant, b: Instant) -> Duration {
        if b <= a {
            return Duration::zero();
        }
        if self.is_always() {
            return b - a;
        }
        let Some(mut date) = self.date_of(a) else {
            return Duration::zero();
        };
        let mut total = Duration::zero();
        for _ in 0..HORIZON_DAYS {
            let Some(day) = self.day(date) else {
                break;
            };
            if day.start >= b {
                break;
            }
            for &(s, e) in &day.intervals {
                let (from, to) = (s.max(a), e.min(b));
                if from < to {
                    total += to - from;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// "Same day" (当天): the end of the working day on which `t` falls, i.e. that day's last
    /// closing time. Before opening or during a lunch break it is still that day; at or after
    /// the last close, or on a day off, it is the end of the next working day.
    pub fn end_of_working_day(&self, t: Instant) -> Instant {
        let Some(first) = self.date_of(t) else {
            return END_OF_TIME;
        };
        let mut date = first;
        for _ in 0..HORIZON_DAYS {
            let Some(day) = self.day(date) else {
                return END_OF_TIME;
            };
            if let Some(&(_, last_close)) = day.intervals.last() {
                if t < last_close {
                    return last_close;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return END_OF_TIME,
            }
        }
        self.horizon_from(first)
    }

    /// "By HH:MM next day" (次日8:00前): the first local wall-clock `time` strictly after `t`;
    /// with `workday_only`, the first one on a working date ("by HH:MM next workday"). So a
    /// message at 00:30 is due at 08:00 the same morning, and one at exactly 08:00 the next day.
    /// A `time` in a daylight-saving gap moves forward by the gap.
    pub fn next_at(&self, t: Instant, time: NaiveTime, workday_only: bool) -> Instant {
        let Some(today) = local_date(self.zone, t) else {
            return END_OF_TIME;
        };
        // Start a day early: near a daylight-saving change or a date-line move, yesterday's
        // wall-clock time can still lie after `t`.
        let first = today.pred_opt().unwrap_or(today);
        let mut date = first;
        for _ in 0..HORIZON_DAYS + 2 {
            if !workday_only || self.is_working_date(date) {
                match resolve(self.zone, date.and_time(time)) {
                    Some(due) if due > t => return due,
                    Some(_) => {}
                    None if date > today => return END_OF_TIME,
                    None => {}
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return END_OF_TIME,
            }
        }
        self.horizon_from(first)
    }

    /// The working intervals of a local date as instants, for explanations ("due Tuesday 17:00
    /// because Monday is a holiday") and for callers that lay out their own timelines.
    pub fn working_intervals(&self, date: NaiveDate) -> Vec<(Instant, Instant)> {
        self.day(date).map(|day| day.intervals).unwrap_or_default()
    }

    /// The local date whose time span contains `t`. Usually the date on the wall clock, but when
    /// clocks go back across midnight the repeated hour belongs to the date it started on, and
    /// the spans of consecutive dates must not overlap.
    fn date_of(&self, t: Instant) -> Option<NaiveDate> {
        let mut date = local_date(self.zone, t)?;
        for _ in 0..3 {
            if t < start_of(self.zone, date)? {
                date = date.pred_opt()?;
            } else if t >= start_of(self.zone, date.succ_opt()?)? {
                date = date.succ_opt()?;
            } else {
                break;
            }
        }
        Some(date)
    }

    /// A local date laid out on the time line, or `None` at the ends of representable time.
    fn day(&self, date: NaiveDate) -> Option<Day> {
        let start = start_of(self.zone, date)?;
        let end = start_of(self.zone, date.succ_opt()?)?.max(start);
        let mut intervals: Vec<(Instant, Instant)> = Vec::new();
        for period in self.hours_on(date) {
            let Some(open) = resolve(self.zone, date.and_time(period.open)) else {
                continue;
            };
            let close = match period.close {
                Some(close) => match resolve(self.zone, date.and_time(close)) {
                    Some(close) => close,
                    None => continue,
                },
                None => end,
            };
            let (open, close) = (open.max(start), close.min(end));
            if open < close {
                intervals.push((open, close));
            }
        }
        // On a daylight-saving day two periods can map onto overlapping instants (a gap moves
        // a period's end forward past the next one's start): count their union once.
        intervals.sort();
        let mut merged: Vec<(Instant, Instant)> = Vec::with_capacity(intervals.len());
        for (open, close) in intervals {
            match merged.last_mut() {
                Some(last) if open <= last.1 => last.1 = last.1.max(close),
                _ => merged.push((open, close)),
            }
        }
        Some(Day {
            start,
            intervals: merged,
        })
    }

    /// Where a walk that found nothing stops: the start of the date a century after `first`.
    fn horizon_from(&self, first: NaiveDate) -> Instant {
        first
            .checked_add_days(chrono::Days::new(u64::from(HORIZON_DAYS)))
            .and_then(|date| start_of(self.zone, date))
            .unwrap_or(END_OF_TIME)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CalendarSpec, Period, DEFAULT_ZONE};
    use super::*;
    use chrono::Datelike;

    fn shanghai(text: &str) -> Instant {
        let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        resolve(DEFAULT_ZONE, local).unwrap()
    }

    fn office() -> Calendar {
        let hours: Period = "09:00-18:00".parse().unwrap();
        Calendar::new(CalendarSpec::new("office", DEFAULT_ZONE).weekdays(&[hours])).unwrap()
    }

    #[test]
    fn a_calendar_with_no_reachable_working_time_stops_at_the_horizon() {
        let mut calendar = office();
        // Hand-edit every date for 200 years into a holiday: nothing is ever due.
        let mut date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        while date.year() < 2225 {
            calendar.holidays.insert(date);
            date = date.succ_opt().unwrap();
        }
        let start = shanghai("2025-03-03 10:00");
        let due = calendar.add_working(start, Duration::hours(1));
        let horizon = NaiveDate::from_ymd_opt(2025, 3, 3)
            .unwrap()
            .checked_add_days(chrono::Days::new(u64::from(HORIZON_DAYS)))
            .unwrap();
        assert_eq!(
            due,
            start_of(DEFAULT_ZONE, horizon).unwrap(),
            "a century of dates later"
        );
        assert_eq!(calendar.next_working_moment(start), due);
        assert_eq!(calendar.working_between(start, due), Duration::zero());
    }

    #[test]
    fn a_walk_for_the_next_workday_stops_a_century_of_dates_later() {
        let first = NaiveDate::from_ymd_opt(2025, 3, 2).unwrap();
        let day = |n: u32| {
            first
                .checked_add_days(chrono::Days::new(u64::from(n)))
                .unwrap()
        };
        let at_eight =
            |date: NaiveDate| resolve(DEFAULT_ZONE, date.and_hms_opt(8, 0, 0).unwrap()).unwrap();
        let t = shanghai("2025-03-03 10:00");
        // Holidays up to and including `last`: the next working date is the one after it.
        let every_day: Period = "09:00-18:00".parse().unwrap();
        let seven_days = CalendarSpec::new("every day", DEFAULT_ZONE)
            .weekdays(&[every_day])
            .hours(chrono::Weekday::Sat, &[every_day])
            .hours(chrono::Weekday::Sun, &[every_day]);
        let holidays_until = |last: u32| {
            let mut calendar = Calendar::new(seven_days.clone()).unwrap();
            let mut date = first;
            while date <= day(last) {
                calendar.holidays.insert(date);
                date = date.succ_opt().unwrap();
            }
            calendar
        };
        // The walk starts the day before `t`'s date and covers a century and two days: the
        // last date it can find is `first + HORIZON_DAYS + 1`.
        let reachable = holidays_until(HORIZON_DAYS);
        assert_eq!(
            reachable.next_at(t, NaiveTime::from_hms_opt(8, 0, 0).unwrap(), true),
            at_eight(day(HORIZON_DAYS + 1))
        );
        // One date further, nothing is found: the walk stops at its horizon.
        let unreachable = holidays_until(HORIZON_DAYS + 1);
        assert_eq!(
            unreachable.next_at(t, NaiveTime::from_hms_opt(8, 0, 0).unwrap(), true),
            start_of(DEFAULT_ZONE, day(HORIZON_DAYS)).unwrap()
        );
    }

    #[test]
    fn a_time_before_the_first_representable_instant_is_passed_over() {
        // In Shanghai the first representable instant is about 08:05 local (mean solar time
        // then): 07:00 that day cannot be laid out, and the next 07:00 is the following day's.
        let t = DateTime::<Utc>::MIN_UTC;
        let seven = NaiveTime::from_hms_opt(7, 0, 0).unwrap();
        let due = office().next_at(t, seven, false);
        assert_ne!(due, END_OF_TIME);
        assert_eq!(due.with_timezone(&DEFAULT_ZONE).time(), seven);
        assert!(due > t && due - t < Duration::days(1), "{due:?}");
        // A day later, the walk starts on that first day, whose 07:00 is passed over again.
        let t = t + Duration::days(1);
        let due = office().next_at(t, seven, false);
        assert_eq!(due.with_timezone(&DEFAULT_ZONE).time(), seven);
        assert!(due > t && due - t < Duration::days(1), "{due:?}");
    }

    #[test]
    fn the_first_day_of_representable_time_still_has_a_next_eight_oclock() {
        // Its day before cannot be laid out: the walk goes on to the dates that can.
        let t = DateTime::<Utc>::MIN_UTC + Duration::days(2);
        let due = office().next_at(t, NaiveTime::from_hms_opt(8, 0, 0).unwrap(), false);
        assert!(due > t && due < t + Duration::days(2), "{due:?}");
        assert_eq!(
            due.with_timezone(&DEFAULT_ZONE).time(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_period_that_falls_wholly_in_a_daylight_saving_gap_is_no_working_time() {
        // New York, Sunday 2026-03-08: 02:00 jumps to 03:00, so 02:00-03:00 does not exist.
        let zone = chrono_tz::America::New_York;
        let hours: Vec<Period> = ["02:00-03:00", "09:00-17:00"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        let calendar = Calendar::new(
            CalendarSpec::new("ny", zone)
                .weekdays(&hours)
                .hours(chrono::Weekday::Sat, &hours)
                .hours(chrono::Weekday::Sun, &hours),
        )
        .unwrap();
        let local = |text: &str| {
            resolve(
                zone,
                chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap(),
            )
            .unwrap()
        };
        let date = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(
            calendar.working_intervals(date),
            [(local("2026-03-08 09:00"), local("2026-03-08 17:00"))]
        );
        assert_eq!(
            calendar.next_working_moment(local("2026-03-08 01:00")),
            local("2026-03-08 09:00")
        );
    }

    #[test]
    fn extremes_of_time_do_not_panic() {
        let calendar = office();
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            calendar.add_working(t, Duration::MAX);
            calendar.add_working(t, Duration::hours(1));
            calendar.next_working_moment(t);
            calendar.end_of_working_day(t);
            calendar.next_at(t, NaiveTime::MIN, true);
            calendar.is_working_moment(t);
            calendar.working_between(DateTime::<Utc>::MIN_UTC, t);
        }
        let always = Calendar::always(DEFAULT_ZONE);
        assert_eq!(
            always.add_working(DateTime::<Utc>::MAX_UTC, Duration::hours(1)),
            END_OF_TIME
        );
    }
}
