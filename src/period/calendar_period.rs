//! Calendar periods (day, ISO week, month, quarter, year) in a time zone: the buckets of
//! sampling, targets, quotas and period reports.
//!
//! A period is named by its unit and its first local date, so it is independent of any zone
//! until it is placed on the time line with [`CalendarPeriod::start`] and
//! [`CalendarPeriod::end`]. Its bounds are the first existing moments of its first date and of
//! the next period's first date, resolved by the calendar's zone rules (a midnight that a
//! daylight-saving jump skips moves forward by the gap), so periods tile the time line without
//! gaps or overlaps even across DST changes.
//!
//! Labels: `2026-03-02` (day), `2026-W10` (ISO week, Monday to Sunday, numbered by ISO 8601, so
//! a week that crosses a year end belongs to the ISO year of its Thursday), `2026-03` (month),
//! `2026-Q1` (quarter), `2026` (year). [`CalendarPeriod::parse`] reads the same labels back.

use crate::calendar::zone;
use crate::event::Instant;
use crate::policy::PeriodUnit;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// One calendar period: a unit and the local date it begins on (always the first date of such
/// a period: a Monday for weeks, the 1st for months, ...).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct CalendarPeriod {
    pub unit: PeriodUnit,
    first: NaiveDate,
}

/// A `--period` argument that names no period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a period like 2026-03-02, 2026-W10, 2026-03, 2026-Q1 or 2026")]
pub struct ParsePeriodError {
    pub text: String,
}

impl CalendarPeriod {
    /// The period of `unit` containing the local date `date`.
    pub fn of_date(unit: PeriodUnit, date: NaiveDate) -> CalendarPeriod {
        let first = match unit {
            PeriodUnit::Day => date,
            PeriodUnit::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                date.checked_sub_days(Days::new(back)).unwrap_or(date)
            }
            PeriodUnit::Month => date.with_day(1).unwrap_or(date),
            PeriodUnit::Quarter => {
                let month = (date.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date)
            }
            PeriodUnit::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date),
        };
        CalendarPeriod { unit, first }
    }

    /// The period of `unit` containing instant `t` on the wall clock of `zone`. `None` only at
    /// the ends of the representable time line.
    pub fn containing(unit: PeriodUnit, zone: Tz, t: Instant) -> Option<CalendarPeriod> {
        zone::local_date(zone, t).map(|d| CalendarPeriod::of_date(unit, d))
    }

    /// The first local date of the period.
    pub fn first_date(&self) -> NaiveDate {
        self.first
    }

    /// The first local date of the next period.
    pub fn next_first_date(&self) -> Option<NaiveDate> {
        match self.unit {
            PeriodUnit::Day => self.first.checked_add_days(Days::new(1)),
            PeriodUnit::Week => self.first.checked_add_days(Days::new(7)),
            PeriodUnit::Month => self.first.checked_add_months(Months::new(1)),
            PeriodUnit::Quarter => self.first.checked_add_months(Months::new(3)),
            PeriodUnit::Year => self.first.checked_add_months(Months::new(12)),
        }
    }

    /// The last local date of the period.
    pub fn last_date(&self) -> NaiveDate {
        self.next_first_date()
            .and_then(|d| d.pred_opt())
            .unwrap_or(self.first)
    }

    /// The period after this one.
    pub fn next(&self) -> Option<CalendarPeriod> {
        self.next_first_date().map(|first| CalendarPeriod {
            unit: self.unit,
            first,
        })
    }

    /// The instant the period begins in `zone` (inclusive).
    pub fn start(&self, zone: Tz) -> Option<Instant> {
        zone::start_of(zone, self.first)
    }

    /// The instant the period ends in `zone` (exclusive): the start of the next one.
    pub fn end(&self, zone: Tz) -> Option<Instant> {
        zone::start_of(zone, self.next_first_date()?)
    }

    /// Whether `t` falls in the period, read in `zone`: `start <= t < end`.
    pub fn contains(&self, zone: Tz, t: Instant) -> bool {
        CalendarPeriod::containing(self.unit, zone, t) == Some(*self)
    }

    /// Whether the two periods share a date (any units).
    pub fn overlaps(&self, other: &CalendarPeriod) -> bool {
        self.first <= other.last_date() && other.first <= self.last_date()
    }

    /// The label: `2026-03-02`, `2026-W10`, `2026-03`, `2026-Q1` or `2026`.
    pub fn label(&self) -> String {
        let d = self.first;
        match self.unit {
            PeriodUnit::Day => d.format("%Y-%m-%d").to_string(),
            PeriodUnit::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodUnit::Month => format!("{}-{:02}", d.year(), d.month()),
            PeriodUnit::Quarter => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
            PeriodUnit::Year => format!("{}", d.year()),
        }
    }

    /// Reads a label written by [`CalendarPeriod::label`]. Surrounding blanks are ignored and
    /// the `W`/`Q` may be lower case.
    pub fn parse(text: &str) -> Result<CalendarPeriod, ParsePeriodError> {
        let bad = || ParsePeriodError {
            text: text.to_string(),
        };
        let s = text.trim();
        let num = |p: &str| -> Option<u32> {
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let year = |p: &str| -> Option<i32> {
            (p.len() == 4)
                .then(|| num(p))
                .flatten()
                .and_then(|y| i32::try_from(y).ok())
        };
        let parts: Vec<&str> = s.split('-').collect();
        let period = match parts.as_slice() {
            [y] => {
                let first = NaiveDate::from_ymd_opt(year(y).ok_or_else(bad)?, 1, 1);
                CalendarPeriod {
                    unit: PeriodUnit::Year,
                    first: first.ok_or_else(bad)?,
                }
            }
            [y, q] if q.starts_with(['Q', 'q']) => {
                let q = num(&q[1..])
                    .filter(|q| (1..=4).contains(q))
                    .ok_or_else(bad)?;
                let first = NaiveDate::from_ymd_opt(year(y).ok_or_else(bad)?, (q - 1) * 3 + 1, 1);
                CalendarPeriod {
                    unit: PeriodUnit::Quarter,
                    first: first.ok_or_else(bad)?,
                }
            }
            [y, w] if w.starts_with(['W', 'w']) => {
                let w = num(&w[1..]).ok_or_else(bad)?;
                let first = NaiveDate::from_isoywd_opt(year(y).ok_or_else(bad)?, w, Weekday::Mon);
                CalendarPeriod {
                    unit: PeriodUnit::Week,
                    first: first.ok_or_else(bad)?,
                }
            }
            [y, m] if m.len() == 2 => {
                let first =
                    NaiveDate::from_ymd_opt(year(y).ok_or_else(bad)?, num(m).ok_or_else(bad)?, 1);
                CalendarPeriod {
                    unit: PeriodUnit::Month,
                    first: first.ok_or_else(bad)?,
                }
            }
            [y, m, d] if m.len() == 2 && d.len() == 2 => {
                let first = NaiveDate::from_ymd_opt(
                    year(y).ok_or_else(bad)?,
                    num(m).ok_or_else(bad)?,
                    num(d).ok_or_else(bad)?,
                );
                CalendarPeriod {
                    unit: PeriodUnit::Day,
                    first: first.ok_or_else(bad)?,
                }
            }
            _ => return Err(bad()),
        };
        Ok(period)
    }
}

impl fmt::Display for CalendarPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for CalendarPeriod {
    type Err = ParsePeriodError;

    fn from_str(s: &str) -> Result<CalendarPeriod, ParsePeriodError> {
        CalendarPeriod::parse(s)
    }
}

/// Reads a period unit as the language writes it: `day`, `week`, `month`, `quarter`, `year`.
pub fn parse_unit(text: &str) -> Option<PeriodUnit> {
    match text.trim() {
        "day" => Some(PeriodUnit::Day),
        "week" => Some(PeriodUnit::Week),
        "month" => Some(PeriodUnit::Month),
        "quarter" => Some(PeriodUnit::Quarter),
        "year" => Some(PeriodUnit::Year),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn labels_round_trip() {
        for label in [
            "2026-03-02",
            "2026-W10",
            "2026-03",
            "2026-Q1",
            "2026-Q3",
            "2026",
            "2020-W53",
        ] {
            let p = CalendarPeriod::parse(label).unwrap();
            assert_eq!(p.label(), label);
        }
        assert_eq!(
            CalendarPeriod::parse("2026-Q3").unwrap().first_date(),
            date("2026-07-01")
        );
        assert_eq!(
            CalendarPeriod::parse("2026-w10").unwrap().label(),
            "2026-W10"
        );
    }

    #[test]
    fn units_read_as_the_language_writes_them() {
        for (text, unit) in [
            ("day", PeriodUnit::Day),
            ("week", PeriodUnit::Week),
            (" month ", PeriodUnit::Month),
            ("quarter", PeriodUnit::Quarter),
            ("year", PeriodUnit::Year),
        ] {
            assert_eq!(parse_unit(text), Some(unit), "{text}");
        }
        assert_eq!(parse_unit("fortnight"), None);
        assert_eq!(parse_unit("Month"), None);
    }

    #[test]
    fn bad_labels_are_errors() {
        for bad in [
            "",
            "26",
            "2026-13",
            "2026-Q5",
            "2026-W54",
            "2026-02-30",
            "2026-3",
            "x",
            // Signs, padding and short parts that Rust's number parsing would take.
            "+026",
            "2026-Q+1",
            "2026-Q00001",
            "2026-+3",
            "2026-3-02",
            "2026-03-2",
            "2026-03-+2",
        ] {
            assert!(CalendarPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_week_of_a_year_end() {
        // 2027-01-01 is a Friday: it belongs to ISO week 53 of 2026.
        let p = CalendarPeriod::of_date(PeriodUnit::Week, date("2027-01-01"));
        assert_eq!(p.label(), "2026-W53");
        assert_eq!(p.first_date(), date("2026-12-28"));
        assert_eq!(p.last_date(), date("2027-01-03"));
    }

    #[test]
    fn quarters_and_years() {
        let p = CalendarPeriod::of_date(PeriodUnit::Quarter, date("2026-08-31"));
        assert_eq!(p.label(), "2026-Q3");
        assert_eq!(
            (p.first_date(), p.last_date()),
            (date("2026-07-01"), date("2026-09-30"))
        );
        for (day, first) in [
            ("2026-01-01", "2026-01-01"),
            ("2026-02-10", "2026-01-01"),
            ("2026-05-17", "2026-04-01"),
            ("2026-12-31", "2026-10-01"),
        ] {
            let q = CalendarPeriod::of_date(PeriodUnit::Quarter, date(day));
            assert_eq!(q.first_date(), date(first), "{day}");
        }
        assert_eq!(p.next().unwrap().label(), "2026-Q4");
        assert_eq!(p.next().unwrap().next().unwrap().label(), "2027-Q1");
    }
}
