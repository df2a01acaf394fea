//! Calendars: working hours, public holidays and make-up working days, in an IANA zone.
//!
//! All business-time arithmetic of SEMANTICS.md ("Limits and calendars", "Fine print") lives
//! here. Instants are UTC; the calendar converts to local dates and times of its zone, because
//! working hours, holidays and make-up days are facts about local dates, never about UTC ones.
//!
//! The module is split by concern:
//! - this file: the [`Calendar`] value, how it is built and validated ([`CalendarSpec`],
//!   [`CalendarError`]) and the questions about single dates;
//! - `zone`: local wall-clock times as instants, with the rules for daylight-saving gaps and
//!   repeated hours;
//! - `arithmetic`: counting working time (due instants, elapsed working time, "same day",
//!   "by 08:00 next day");
//! - [`holidays`]: the official holiday schedules as plain TOML files.

mod arithmetic;
pub mod holidays;
pub(crate) mod zone;

pub use holidays::{builtin, HolidayFileError, HolidaySchedule, BUILTIN_SCHEDULES};

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The zone of a calendar that names none: the seeds are standards of mainland companies.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// How many dates the arithmetic walks before giving up. A calendar can be built (or edited by
/// hand) so that no working time ever comes, e.g. every working weekday declared a holiday; the
/// walk must still end, and a due instant a century away is as good as "never" for a ticket.
pub const HORIZON_DAYS: u32 = 36_525;

/// A working period of a day, half-open: `[open, close)`.
///
/// Half-open so that back-to-back periods (`09:00-12:00`, `12:00-18:00`) do not share an
/// instant, and so that a clock started exactly at closing time is outside working hours
/// (SEMANTICS.md, "Working periods are half-open").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub open: NaiveTime,
    /// `None` means midnight at the end of the day (24:00).
    pub close: Option<NaiveTime>,
}

impl Period {
    pub fn new(open: NaiveTime, close: Option<NaiveTime>) -> Period {
        Period { open, close }
    }

    /// The whole day, `00:00-24:00`.
    pub fn all_day() -> Period {
        Period {
            open: NaiveTime::MIN,
            close: None,
        }
    }

    /// Nominal length on the wall clock (a daylight-saving day may really have more or less).
    /// Zero for a period that closes at or before it opens.
    pub fn length(&self) -> Duration {
        let close = match self.close {
            Some(close) => close.signed_duration_since(NaiveTime::MIN),
            None => Duration::days(1),
        };
        let open = self.open.signed_duration_since(NaiveTime::MIN);
        (close - open).max(Duration::zero())
    }

    /// Whether `time` lies inside the period on the wall clock.
    pub fn contains(&self, time: NaiveTime) -> bool {
        self.open <= time && self.close.is_none_or(|close| time < close)
    }

    fn is_empty(&self) -> bool {
        self.close.is_some_and(|close| close <= self.open)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", self.open.format("%H:%M"))?;
        match self.close {
            Some(close) => write!(f, "{}", close.format("%H:%M")),
            None => f.write_str("24:00"),
        }
    }
}

/// A period written as a quality officer writes it: `08:30-12:00`, `00:00-24:00` (an en dash
/// or `~` also separates the two times, as in Chinese documents).
impl FromStr for Period {
    type Err = ParsePeriodError;

    fn from_str(text: &str) -> Result<Period, ParsePeriodError> {
        let bad = || ParsePeriodError {
            text: text.to_string(),
        };
        let (open, close) = text.split_once(['-', '–', '~', '～']).ok_or_else(bad)?;
        let parse_time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
        let open = parse_time(open).ok_or_else(bad)?;
        let close = match close.trim() {
            "24:00" => None,
            other => Some(parse_time(other).ok_or_else(bad)?),
        };
        Ok(Period { open, close })
    }
}

/// A period that is not `HH:MM-HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a working period like 08:30-12:00")]
pub struct ParsePeriodError {
    pub text: String,
}

/// A business calendar. `Calendar::always(zone)` is the 24×7 wall clock.
///
/// Build one with [`Calendar::new`] from a [`CalendarSpec`], which validates it; the fields are
/// public for reading (reports, explanations), and every method stays total on any value.
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
    /// The hours of a make-up working day: the ordinary weekday hours, since the notice only
    /// says "上班" and staff then work a normal day.
    pub makeup_hours: Vec<Period>,
    /// Length of one workday of working time (for `N workdays`).
    pub workday_length: Duration,
    /// Years the holiday data covers; dates outside give a warning.
    pub covered_years: Option<(i32, i32)>,
    /// Names of holidays and make-up days (国庆节, 国庆节调休) from the schedules the calendar
    /// uses, for explanations only: they never change the arithmetic. Set with
    /// [`Calendar::with_labels`].
    pub labels: BTreeMap<NaiveDate, String>,
}

/// Why a date on the way to a due time was not an ordinary working day (see
/// [`Calendar::special_dates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecialDate {
    /// A Saturday or Sunday (or any weekday without working hours).
    Weekend,
    /// A day off although its weekday has hours, with its name when the schedule gives one.
    Holiday(Option<String>),
    /// A weekend date worked to make up for a holiday (调休上班), with its name if known.
    MakeupDay(Option<String>),
}

/// Everything needed to build a [`Calendar`]; the optional parts get the defaults of
/// SEMANTICS.md when [`Calendar::new`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarSpec {
    pub name: String,
    pub zone: Tz,
    /// Working periods per weekday, Monday first.
    pub week: [Vec<Period>; 7],
    pub holidays: BTreeSet<NaiveDate>,
    pub makeup_days: BTreeSet<NaiveDate>,
    /// Hours of make-up days; by default those of the first weekday, Monday first, with hours.
    pub makeup_hours: Option<Vec<Period>>,
    /// Working time of one workday; by default the length of the ordinary (Monday to Friday)
    /// working day, which then must be the same on every such day.
    pub workday_length: Option<Duration>,
    pub covered_years: Option<(i32, i32)>,
}

impl CalendarSpec {
    /// A calendar without hours, holidays or make-up days yet.
    pub fn new(name: impl Into<String>, zone: Tz) -> CalendarSpec {
        CalendarSpec {
            name: name.into(),
            zone,
            week: Default::default(),
            holidays: BTreeSet::new(),
            makeup_days: BTreeSet::new(),
            makeup_hours: None,
            workday_length: None,
            covered_years: None,
        }
    }

    /// Sets the same hours on Monday to Friday, the common office week.
    pub fn weekdays(mut self, periods: &[Period]) -> CalendarSpec {
        for day in &mut self.week[..5] {
            *day = periods.to_vec();
        }
        self
    }

    /// Sets the hours of one weekday.
    pub fn hours(mut self, weekday: Weekday, periods: &[Period]) -> CalendarSpec {
        self.week[weekday.num_days_from_monday() as usize] = periods.to_vec();
        self
    }

    /// Adds the days off and make-up days of an official (or company) schedule, and widens the
    /// covered years to include the schedule's.
    pub fn with_schedule(mut self, schedule: &HolidaySchedule) -> CalendarSpec {
        self.holidays.extend(schedule.days_off.iter().copied());
        self.makeup_days
            .extend(schedule.makeup_days.iter().copied());
        self.covered_years = Some(match self.covered_years {
            Some((first, last)) => (first.min(schedule.years.0), last.max(schedule.years.1)),
            None => schedule.years,
        });
        self
    }
}

/// Why a calendar cannot be built. Each variant has a stable [`CalendarError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working hours on {} are empty, unsorted or overlapping", weekday_name(*.weekday))]
    OverlappingHours { weekday: Weekday },
    #[error("working hours of make-up days are empty, unsorted or overlapping")]
    BadMakeupHours,
    #[error(
        "make-up working day {date} is a {}, not a Saturday or Sunday",
        weekday_name(.date.weekday())
    )]
    MakeupNotWeekend { date: NaiveDate },
    #[error("the calendar has no working hours on any day of the week")]
    NoWorkingHours,
    #[error(
        "working days differ in length ({} has {}, {} has {}), so the length of a workday must be stated",
        weekday_name(*.weekday),
        format_length(*.length),
        weekday_name(*.other),
        format_length(*.other_length)
    )]
    UnequalWorkdays {
        weekday: Weekday,
        length: Duration,
        other: Weekday,
        other_length: Duration,
    },
    #[error("the length of a workday must be positive, not {}", format_length(*.length))]
    BadWorkdayLength { length: Duration },
}

impl CalendarError {
    /// A stable identifier for documentation, tests and machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::OverlappingHours { .. } => "pledge::calendar::overlapping_hours",
            CalendarError::BadMakeupHours => "pledge::calendar::bad_makeup_hours",
            CalendarError::MakeupNotWeekend { .. } => "pledge::calendar::makeup_not_weekend",
            CalendarError::NoWorkingHours => "pledge::calendar::no_working_hours",
            CalendarError::UnequalWorkdays { .. } => "pledge::calendar::unequal_workdays",
            CalendarError::BadWorkdayLength { .. } => "pledge::calendar::bad_workday_length",
        }
    }

    fn help(&self) -> Option<&'static str> {
        match self {
            CalendarError::OverlappingHours { .. } | CalendarError::BadMakeupHours => {
                Some("list each day's periods in order, e.g. 08:30-12:00, 13:30-18:00")
            }
            CalendarError::MakeupNotWeekend { .. } => Some(
                "a make-up working day (调休上班) is a weekend date; a weekday is already a working day",
            ),
            CalendarError::NoWorkingHours => {
                Some("give the hours of at least one weekday, e.g. monday to friday 09:00-18:00")
            }
            CalendarError::UnequalWorkdays { .. } => {
                Some("state how long one workday is, e.g. a workday of 8 hours")
            }
            CalendarError::BadWorkdayLength { .. } => None,
        }
    }
}

impl miette::Diagnostic for CalendarError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CalendarError::code(self)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        CalendarError::help(self).map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

impl Calendar {
    /// Builds a calendar, checking what SEMANTICS.md requires of one: ordered, non-overlapping
    /// periods, make-up days on weekends, some working hours, and a well-defined workday length.
    pub fn new(spec: CalendarSpec) -> Result<Calendar, CalendarError> {
        for (index, periods) in spec.week.iter().enumerate() {
            if !periods_are_valid(periods) {
                return Err(CalendarError::OverlappingHours {
                    weekday: weekday_at(index),
                });
            }
        }
        if let Some(hours) = &spec.makeup_hours {
            if hours.is_empty() || !periods_are_valid(hours) {
                return Err(CalendarError::BadMakeupHours);
            }
        }
        let Some(first_with_hours) = spec.week.iter().position(|p| !p.is_empty()) else {
            return Err(CalendarError::NoWorkingHours);
        };
        if let Some(date) = spec
            .makeup_days
            .iter()
            .find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        {
            return Err(CalendarError::MakeupNotWeekend { date: *date });
        }
        let workday_length = match spec.workday_length {
            Some(length) if length <= Duration::zero() => {
                return Err(CalendarError::BadWorkdayLength { length })
            }
            Some(length) => length,
            None => ordinary_day_length(&spec.week)?,
        };
        let makeup_hours = spec
            .makeup_hours
            .unwrap_or_else(|| spec.week[first_with_hours].clone());
        Ok(Calendar {
            name: spec.name,
            zone: spec.zone,
            week: spec.week,
            holidays: spec.holidays,
            makeup_days: spec.makeup_days,
            makeup_hours,
            workday_length,
            covered_years: spec.covered_years,
            labels: BTreeMap::new(),
        })
    }

    /// The 24×7 wall clock: every instant is working time and a day is exactly 24 hours, so
    /// wall-clock limits and calendar limits can share one code path.
    pub fn always(zone: Tz) -> Calendar {
        Calendar {
            name: "always".to_string(),
            zone,
            week: std::array::from_fn(|_| vec![Period::all_day()]),
            holidays: BTreeSet::new(),
            makeup_days: BTreeSet::new(),
            makeup_hours: vec![Period::all_day()],
            workday_length: Duration::days(1),
            covered_years: None,
            labels: BTreeMap::new(),
        }
    }

    /// Adds names of holidays and make-up days (from a [`HolidaySchedule`]'s labels), kept for
    /// explanations. Names of dates that are neither are kept too but never shown.
    pub fn with_labels(mut self, labels: &BTreeMap<NaiveDate, String>) -> Calendar {
        for (date, name) in labels {
            self.labels.insert(*date, name.clone());
        }
        self
    }

    /// The dates from `first` to `last` (inclusive, local dates) that are not ordinary working
    /// days: weekends, holidays, and make-up working days. For explanations of why a due time
    /// lands where it does ("the 1–7 October holiday moved it"); the arithmetic does not use it.
    /// At most [`HORIZON_DAYS`] dates are looked at.
    pub fn special_dates(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Vec<(NaiveDate, SpecialDate)> {
        let mut out = Vec::new();
        let mut date = first;
        for _ in 0..HORIZON_DAYS {
            if date > last {
                break;
            }
            let label = || self.labels.get(&date).cloned();
            if self.makeup_days.contains(&date) {
                out.push((date, SpecialDate::MakeupDay(label())));
            } else if self.holidays.contains(&date) && !self.week_hours(date.weekday()).is_empty() {
                out.push((date, SpecialDate::Holiday(label())));
            } else if self.week_hours(date.weekday()).is_empty() {
                // A weekend inside a holiday break is named after the holiday.
                match label().filter(|_| self.holidays.contains(&date)) {
                    Some(name) => out.push((date, SpecialDate::Holiday(Some(name)))),
                    None => out.push((date, SpecialDate::Weekend)),
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        out
    }

    /// Whether this is the 24×7 wall clock: every day of the week `00:00-24:00` and no days off.
    /// Then all arithmetic is plain UTC arithmetic.
    pub fn is_always(&self) -> bool {
        self.holidays.is_empty()
            && self
                .week
                .iter()
                .all(|periods| periods.as_slice() == [Period::all_day()])
    }

    /// Whether staff work on this local date: its weekday has hours and it is not a holiday, or
    /// it is a make-up working day.
    pub fn is_working_date(&self, date: NaiveDate) -> bool {
        self.makeup_days.contains(&date)
            || (!self.week_hours(date.weekday()).is_empty() && !self.holidays.contains(&date))
    }

    /// The working periods of a local date (empty on a day off).
    pub fn hours_on(&self, date: NaiveDate) -> &[Period] {
        if self.makeup_days.contains(&date) {
            &self.makeup_hours
        } else if self.holidays.contains(&date) {
            &[]
        } else {
            self.week_hours(date.weekday())
        }
    }

    /// Whether the holiday data covers the date's year. Outside it, a holiday may be missing, so
    /// the evaluator warns rather than trusting the verdict silently.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.covered_years
            .is_none_or(|(first, last)| (first..=last).contains(&date.year()))
    }

    /// The working time of `days` workdays (SEMANTICS.md: N × the length of an ordinary working
    /// day). Saturates instead of overflowing.
    pub fn workday_amount(&self, days: u32) -> Duration {
        i32::try_from(days)
            .ok()
            .and_then(|days| self.workday_length.checked_mul(days))
            .unwrap_or(Duration::MAX)
    }

    fn week_hours(&self, weekday: Weekday) -> &[Period] {
        &self.week[weekday.num_days_from_monday() as usize]
    }
}

/// Sorted, non-empty and non-overlapping; nothing may follow a period that runs to 24:00.
fn periods_are_valid(periods: &[Period]) -> bool {
    if periods.iter().any(Period::is_empty) {
        return false;
    }
    periods.windows(2).all(|pair| match pair[0].close {
        Some(close) => close <= pair[1].open,
        None => false,
    })
}

/// The length of the ordinary working day: Monday to Friday, or, for a calendar that works only
/// at weekends, the days that have hours. All such days must agree.
fn ordinary_day_length(week: &[Vec<Period>; 7]) -> Result<Duration, CalendarError> {
    let day_length = |periods: &Vec<Period>| periods.iter().map(Period::length).sum::<Duration>();
    let mut candidates: Vec<(usize, Duration)> = week[..5]
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| (i, day_length(p)))
        .collect();
    if candidates.is_empty() {
        candidates = week
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| (i, day_length(p)))
            .collect();
    }
    let Some(&(first, length)) = candidates.first() else {
        return Err(CalendarError::NoWorkingHours);
    };
    match candidates.iter().find(|(_, other)| *other != length) {
        Some(&(other, other_length)) => Err(CalendarError::UnequalWorkdays {
            weekday: weekday_at(first),
            length,
            other: weekday_at(other),
            other_length,
        }),
        None => Ok(length),
    }
}

fn weekday_at(index: usize) -> Weekday {
    const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    WEEK[index % 7]
}

/// Full English weekday names for messages (chrono's `Display` gives `Mon`).
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// `9h`, `8h30m`, `45m`, `0s`: lengths as a quality officer reads them.
fn format_length(length: Duration) -> String {
    let sign = if length < Duration::zero() { "-" } else { "" };
    let total = length.num_seconds().unsigned_abs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    let mut out = String::from(sign);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || total == 0 {
        out.push_str(&format!("{seconds}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> Period {
        text.parse().expect("test period")
    }

    fn office() -> CalendarSpec {
        CalendarSpec::new("office", DEFAULT_ZONE).weekdays(&[period("09:00-18:00")])
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!(period("08:30-12:00").to_string(), "08:30-12:00");
        assert_eq!(period("00:00-24:00"), Period::all_day());
        assert_eq!(period("13:30–18:00").length(), Duration::minutes(270));
        assert!("8:30".parse::<Period>().is_err());
        assert!("08:30-25:00".parse::<Period>().is_err());
    }

    #[test]
    fn half_open_period() {
        let p = period("09:00-18:00");
        assert!(p.contains(NaiveTime::from_hms_opt(9, 0, 0).unwrap()));
        assert!(!p.contains(NaiveTime::from_hms_opt(18, 0, 0).unwrap()));
    }

    #[test]
    fn lengths_read_as_a_quality_officer_writes_them() {
        let cases = [
            (Duration::hours(9), "9h"),
            (Duration::minutes(510), "8h30m"),
            (Duration::minutes(45), "45m"),
            (Duration::seconds(59), "59s"),
            (Duration::seconds(3601), "1h1s"),
            (Duration::seconds(3660), "1h1m"),
            (Duration::zero(), "0s"),
            (Duration::minutes(-30), "-30m"),
        ];
        for (length, text) in cases {
            assert_eq!(format_length(length), text, "{length:?}");
        }
    }

    #[test]
    fn a_weekend_only_calendar_has_the_length_of_its_weekend_days() {
        let weekend = CalendarSpec::new("weekend", DEFAULT_ZONE)
            .hours(Weekday::Sat, &[period("10:00-18:00")])
            .hours(Weekday::Sun, &[period("10:00-18:00")]);
        let calendar = Calendar::new(weekend).expect("weekend hours are working hours");
        assert_eq!(calendar.workday_amount(1), Duration::hours(8));
        assert_eq!(calendar.workday_amount(2), Duration::hours(16));
    }

    #[test]
    fn default_workday_length_is_the_ordinary_day() {
        let calendar =
            Calendar::new(office().hours(Weekday::Sat, &[period("09:00-12:00")])).unwrap();
        assert_eq!(calendar.workday_length, Duration::hours(9));
        assert_eq!(calendar.makeup_hours, vec![period("09:00-18:00")]);
        assert_eq!(calendar.workday_amount(2), Duration::hours(18));
        assert_eq!(calendar.workday_amount(u32::MAX), Duration::MAX);
    }

    #[test]
    fn rejects_overlapping_unsorted_and_empty_periods() {
        for hours in [
            vec![period("09:00-12:00"), period("11:00-18:00")],
            vec![period("13:00-18:00"), period("09:00-12:00")],
            vec![period("12:00-12:00")],
            vec![period("09:00-24:00"), period("09:00-10:00")],
        ] {
            let err = Calendar::new(office().hours(Weekday::Wed, &hours)).unwrap_err();
            assert_eq!(
                err,
                CalendarError::OverlappingHours {
                    weekday: Weekday::Wed
                }
            );
            assert_eq!(err.code(), "pledge::calendar::overlapping_hours");
        }
        let touching = office().hours(
            Weekday::Wed,
            &[period("09:00-12:00"), period("12:00-18:00")],
        );
        assert!(Calendar::new(touching).is_ok());
    }

    #[test]
    fn error_messages_are_lowercase_sentences_without_final_period() {
        let err =
            Calendar::new(office().hours(Weekday::Fri, &[period("09:00-17:00")])).unwrap_err();
        assert_eq!(err.code(), "pledge::calendar::unequal_workdays");
        let message = err.to_string();
        assert_eq!(
            message,
            "working days differ in length (Monday has 9h, Friday has 8h), \
             so the length of a workday must be stated"
        );
        assert!(!message.ends_with('.'));
    }
}
