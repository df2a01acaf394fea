//! Calendars: working hours, public holidays and make-up working days, in an IANA zone.
//!
//! All business-time arithmetic of SEMANTICS.md ("Limits and calendars", "Fine print") lives
//! here. Instants are UTC; the calendar converts to local dates and times of its zone.

use crate::event::Instant;
use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// A working period of a day, half-open: `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub open: NaiveTime,
    /// `None` means midnight at the end of the day (24:00).
    pub close: Option<NaiveTime>,
}

/// A business calendar. `Calendar::always(zone)` is the 24×7 wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub name: String,
    pub zone: Tz,
    /// Working periods per weekday, Monday first; sorted, non-overlapping.
    pub week: [Vec<Period>; 7],
    /// Dates that are days off although their weekday has hours.
    pub holidays: BTreeSet<NaiveDate>,
    /// Make-up working days (调休): weekend dates that are working days with ordinary hours.
    pub makeup_days: BTreeSet<NaiveDate>,
    /// Length of one workday of working time (for `N workdays`).
    pub workday_length: Duration,
    /// Years the holiday data covers; dates outside give a warning.
    pub covered_years: Option<(i32, i32)>,
}

impl Calendar {
    pub fn always(zone: Tz) -> Calendar {
        todo!()
    }
    pub fn is_always(&self) -> bool {
        todo!()
    }
    pub fn is_working_date(&self, date: NaiveDate) -> bool {
        todo!()
    }
    pub fn next_working_moment(&self, t: Instant) -> Instant {
        todo!()
    }
    pub fn add_working(&self, start: Instant, amount: Duration) -> Instant {
        todo!()
    }
    pub fn working_between(&self, a: Instant, b: Instant) -> Duration {
        todo!()
    }
    pub fn end_of_working_day(&self, t: Instant) -> Instant {
        todo!()
    }
    pub fn next_at(&self, t: Instant, time: NaiveTime, workday_only: bool) -> Instant {
        todo!()
    }
    pub fn covers(&self, date: NaiveDate) -> bool {
        todo!()
    }
}

/// Everything a calendar is made of, before validation.
#[derive(Debug, Clone)]
pub struct CalendarSpec {
    pub name: String,
    pub zone: Tz,
    pub week: [Vec<Period>; 7],
    pub holidays: BTreeSet<NaiveDate>,
    pub makeup_days: BTreeSet<NaiveDate>,
    pub makeup_hours: Option<Vec<Period>>,
    pub workday_length: Option<Duration>,
    pub covered_years: Option<(i32, i32)>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CalendarError {
    #[error("overlapping working hours on {weekday}")]
    OverlappingHours { weekday: Weekday },
    #[error("make-up day {date} is not a Saturday or Sunday")]
    MakeupNotWeekend { date: NaiveDate },
    #[error("the calendar has no working hours")]
    NoWorkingHours,
    #[error("working days differ in length; state `workday length`")]
    UnequalWorkdays,
}

impl CalendarError {
    pub fn code(&self) -> &'static str {
        "pledge::calendar::invalid"
    }
}

impl Calendar {
    pub fn new(spec: CalendarSpec) -> Result<Calendar, CalendarError> {
        let _ = spec;
        todo!()
    }
}

#[derive(Debug, Clone)]
pub struct HolidaySchedule {
    pub name: String,
    pub source: String,
    pub years: (i32, i32),
    pub days_off: BTreeSet<NaiveDate>,
    pub makeup_days: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct HolidayFileError {
    pub message: String,
    pub span: Option<std::ops::Range<usize>>,
    pub code: &'static str,
}

impl HolidaySchedule {
    pub fn parse(text: &str) -> Result<HolidaySchedule, HolidayFileError> {
        let _ = text;
        todo!()
    }
    pub fn merge(&mut self, other: &HolidaySchedule) {
        let _ = other;
        todo!()
    }
}

pub fn builtin(name: &str) -> Option<HolidaySchedule> {
    let _ = name;
    None
}
