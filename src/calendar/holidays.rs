//! Holiday schedules: which dates are days off and which weekend dates are make-up working days
//! (调休上班), as plain TOML files a quality officer can copy for a company or city calendar.
//!
//! The State Council publishes the national schedule each November for the next year; this
//! module ships those notices as `calendars/cn-YYYY.toml` (see `calendars/README.md` for the
//! format) and reads any file of the same shape, pointing at the offending value when a file is
//! wrong, because a wrong holiday silently shifts every due date around it.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// Names accepted by [`builtin`]: each shipped year, and `cn` for all of them together.
pub const BUILTIN_SCHEDULES: &[&str] = &["cn", "cn-2025", "cn-2026"];

const CN_2025: &str = include_str!("../../calendars/cn-2025.toml");
const CN_2026: &str = include_str!("../../calendars/cn-2026.toml");

/// The longest single holiday entry. Official breaks last at most nine days; a range of more
/// than a year is a typo in a year, not a holiday.
const MAX_HOLIDAY_DAYS: i64 = 366;

/// Years a schedule may name. Wider ranges are typos, and they keep dates far inside the range
/// the calendar arithmetic can represent.
const YEARS: Range<i64> = 1900..10_000;

/// Days off and make-up working days for a range of years, from one notice or several merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidaySchedule {
    pub name: String,
    /// Where the data comes from: the notice's title, number, date and address.
    pub source: String,
    /// First and last year the data covers; dates outside are not known to be ordinary.
    pub years: (i32, i32),
    pub days_off: BTreeSet<NaiveDate>,
    /// Weekend dates that are working days (调休上班).
    pub makeup_days: BTreeSet<NaiveDate>,
    /// The name of the holiday or make-up entry of each date (春节, 春节调休), for explanations.
    pub labels: BTreeMap<NaiveDate, String>,
}

/// A holiday file that cannot be used, with the byte range of the offending text if known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HolidayFileError {
    pub message: String,
    /// Byte range in the TOML text.
    pub span: Option<Range<usize>>,
    /// A stable identifier: `pledge::holidays::syntax`, `::schema`, `::bad_date`, `::bad_range`,
    /// `::bad_years`, `::outside_years`, `::makeup_not_weekend`, `::conflict`.
    pub code: &'static str,
}

impl HolidayFileError {
    fn new(code: &'static str, message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        HolidayFileError {
            message: message.into(),
            span,
            code,
        }
    }

    fn from_toml(code: &'static str, error: toml::de::Error) -> Self {
        HolidayFileError::new(
            code,
            first_line_lowercase(error.message(), "invalid holiday file"),
            error.span(),
        )
    }
}

impl miette::Diagnostic for HolidayFileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        let label = miette::LabeledSpan::at(span, "here");
        Some(Box::new(std::iter::once(label)))
    }
}

/// The file as written; dates stay raw TOML values so that both `2026-02-14` and
/// `"2026-02-14"` are accepted and every value keeps its span for messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    name: String,
    #[serde(default)]
    source: String,
    years: Spanned<toml::Value>,
    #[serde(default)]
    holiday: Vec<Spanned<HolidayEntry>>,
    #[serde(default)]
    workday: Vec<Spanned<WorkdayEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    name: Option<String>,
    /// A single day off, instead of `from`/`to`.
    date: Option<Spanned<toml::Value>>,
    from: Option<Spanned<toml::Value>>,
    /// Inclusive.
    to: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkdayEntry {
    name: Option<String>,
    date: Spanned<toml::Value>,
}

impl HolidaySchedule {
    /// Reads a holiday file, checking that every date is real and inside `years`, that ranges
    /// run forwards, that make-up days fall on a Saturday or Sunday, and that no date is both a
    /// day off and a make-up day.
    pub fn parse(text: &str) -> Result<HolidaySchedule, HolidayFileError> {
        // Parse once as plain TOML so that syntax errors and wrong fields get different codes.
        toml::from_str::<toml::Table>(text)
            .map_err(|e| HolidayFileError::from_toml("pledge::holidays::syntax", e))?;
        let file: ScheduleFile = toml::from_str(text)
            .map_err(|e| HolidayFileError::from_toml("pledge::holidays::schema", e))?;

        let years = parse_years(&file.years)?;
        let in_years = |value: &Spanned<toml::Value>| -> Result<NaiveDate, HolidayFileError> {
            let date = parse_date(value)?;
            if (years.0..=years.1).contains(&date.year()) {
                Ok(date)
            } else {
                Err(HolidayFileError::new(
                    "pledge::holidays::outside_years",
                    format!(
                        "{date} is outside the years this file covers ({}–{})",
                        years.0, years.1
                    ),
                    Some(value.span()),
                ))
            }
        };

        let mut schedule = HolidaySchedule {
            name: file.name,
            source: file.source,
            years,
            days_off: BTreeSet::new(),
            makeup_days: BTreeSet::new(),
            labels: BTreeMap::new(),
        };

        for entry in &file.holiday {
            let span = entry.span();
            let entry = entry.get_ref();
            let (from, to) = match (&entry.date, &entry.from, &entry.to) {
                (Some(date), None, None) => {
                    let date = in_years(date)?;
                    (date, date)
                }
                (None, Some(from), Some(to)) => {
                    let (first, last) = (in_years(from)?, in_years(to)?);
                    if last < first {
                        return Err(HolidayFileError::new(
                            "pledge::holidays::bad_range",
                            format!("holiday ends ({last}) before it begins ({first})"),
                            Some(to.span()),
                        ));
                    }
                    if (last - first).num_days() >= MAX_HOLIDAY_DAYS {
                        return Err(HolidayFileError::new(
                            "pledge::holidays::bad_range",
                            format!("holiday from {first} to {last} is longer than a year"),
                            Some(to.span()),
                        ));
                    }
                    (first, last)
                }
                _ => {
                    return Err(HolidayFileError::new(
                        "pledge::holidays::schema",
                        "a holiday needs either `date`, or both `from` and `to`",
                        Some(span),
                    ))
                }
            };
            for date in from.iter_days().take_while(|d| *d <= to) {
                schedule.days_off.insert(date);
                if let Some(name) = &entry.name {
                    schedule.labels.insert(date, name.clone());
                }
            }
        }

        for entry in &file.workday {
            let value = &entry.get_ref().date;
            let date = in_years(value)?;
            if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err(HolidayFileError::new(
                    "pledge::holidays::makeup_not_weekend",
                    format!(
                        "make-up working day {date} is a {}, not a Saturday or Sunday",
                        super::weekday_name(date.weekday())
                    ),
                    Some(value.span()),
                ));
            }
            if schedule.days_off.contains(&date) {
                return Err(HolidayFileError::new(
                    "pledge::holidays::conflict",
                    format!("{date} is listed both as a day off and as a make-up working day"),
                    Some(value.span()),
                ));
            }
            schedule.makeup_days.insert(date);
            if let Some(name) = &entry.get_ref().name {
                schedule.labels.insert(date, name.clone());
            }
        }
        Ok(schedule)
    }

    /// Adds another schedule's days (e.g. next year's notice, or a company's extra days off).
    /// The covered years become the smallest range holding both.
    pub fn merge(&mut self, other: &HolidaySchedule) {
        self.days_off.extend(other.days_off.iter().copied());
        self.makeup_days.extend(other.makeup_days.iter().copied());
        for (date, label) in &other.labels {
            self.labels.entry(*date).or_insert_with(|| label.clone());
        }
        self.years = (
            self.years.0.min(other.years.0),
            self.years.1.max(other.years.1),
        );
        if !other.source.is_empty() && !self.source.contains(&other.source) {
            if !self.source.is_empty() {
                self.source.push_str("; ");
            }
            self.source.push_str(&other.source);
        }
    }
}

/// The shipped schedules of the State Council: `cn-2025`, `cn-2026`, and `cn` for all years.
pub fn builtin(name: &str) -> Option<HolidaySchedule> {
    match name {
        "cn-2025" => HolidaySchedule::parse(CN_2025).ok(),
        "cn-2026" => HolidaySchedule::parse(CN_2026).ok(),
        "cn" => {
            let mut all = HolidaySchedule::parse(CN_2025).ok()?;
            all.merge(&HolidaySchedule::parse(CN_2026).ok()?);
            all.name = "cn".to_string();
            Some(all)
        }
        _ => None,
    }
}

/// `years = [2025, 2026]`, or `years = 2026` for a single year.
fn parse_years(value: &Spanned<toml::Value>) -> Result<(i32, i32), HolidayFileError> {
    let bad = |message: String| {
        HolidayFileError::new("pledge::holidays::bad_years", message, Some(value.span()))
    };
    let year = |v: &toml::Value| match v {
        toml::Value::Integer(y) if YEARS.contains(y) => i32::try_from(*y).ok(),
        _ => None,
    };
    let (first, last) = match value.get_ref() {
        toml::Value::Array(items) if items.len() == 2 => (year(&items[0]), year(&items[1])),
        single @ toml::Value::Integer(_) => (year(single), year(single)),
        _ => (None, None),
    };
    match (first, last) {
        (Some(first), Some(last)) if first <= last => Ok((first, last)),
        (Some(first), Some(last)) => {
            Err(bad(format!("years run backwards: {first} is after {last}")))
        }
        _ => Err(bad(format!(
            "years must be [first, last] with years between {} and {}",
            YEARS.start,
            YEARS.end - 1
        ))),
    }
}

/// A date as a TOML local date (`2026-02-14`) or a string (`"2026-02-14"`).
fn parse_date(value: &Spanned<toml::Value>) -> Result<NaiveDate, HolidayFileError> {
    let date = match value.get_ref() {
        toml::Value::Datetime(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
            datetime.date.and_then(|d| {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            })
        }
        toml::Value::String(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok(),
        _ => None,
    };
    date.ok_or_else(|| {
        HolidayFileError::new(
            "pledge::holidays::bad_date",
            "expected a date like 2026-02-14",
            Some(value.span()),
        )
    })
}

/// toml's messages are multi-line and capitalised; ours are one lowercase line (`empty` when
/// it has none). Holiday files and policy test files both report toml's errors this way.
pub(crate) fn first_line_lowercase(message: &str, empty: &str) -> String {
    let line = message
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches('.');
    let mut chars = line.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => empty.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn single_dates_strings_and_ranges() {
        let text = r#"
name = "company"
years = 2026
[[holiday]]
name = "司庆"
date = 2026-06-08
[[holiday]]
from = "2026-07-01"
to = "2026-07-02"
[[workday]]
date = 2026-06-06
"#;
        let schedule = HolidaySchedule::parse(text).unwrap();
        assert_eq!(schedule.years, (2026, 2026));
        assert_eq!(
            schedule.days_off.iter().copied().collect::<Vec<_>>(),
            vec![date(2026, 6, 8), date(2026, 7, 1), date(2026, 7, 2)]
        );
        assert_eq!(schedule.labels.get(&date(2026, 6, 8)).unwrap(), "司庆");
        assert!(schedule.makeup_days.contains(&date(2026, 6, 6)));
    }

    #[test]
    fn every_semantic_error_points_at_its_value() {
        let cases = [
            (
                "name = \"x\"\nyears = [2026, 2025]\n",
                "pledge::holidays::bad_years",
                "[2026, 2025]",
            ),
            (
                "name = \"x\"\nyears = [2026, 2026]\n[[holiday]]\nfrom = 2026-05-05\nto = 2026-05-01\n",
                "pledge::holidays::bad_range",
                "2026-05-01",
            ),
            (
                "name = \"x\"\nyears = [2026, 2026]\n[[holiday]]\ndate = 2027-01-01\n",
                "pledge::holidays::outside_years",
                "2027-01-01",
            ),
            (
                "name = \"x\"\nyears = [2026, 2026]\n[[holiday]]\ndate = \"2026-02-30\"\n",
                "pledge::holidays::bad_date",
                "\"2026-02-30\"",
            ),
            (
                "name = \"x\"\nyears = [2026, 2026]\n[[holiday]]\ndate = 2026-02-14\n[[workday]]\ndate = 2026-02-14\n",
                "pledge::holidays::conflict",
                "2026-02-14",
            ),
        ];
        for (text, code, pointed) in cases {
            let err = HolidaySchedule::parse(text).unwrap_err();
            assert_eq!(err.code, code, "{text}");
            let span = err.span.clone().expect("a span");
            assert_eq!(&text[span.clone()], pointed, "{text}: {err}");
            assert_eq!(
                err.message,
                err.message.to_lowercase(),
                "lowercase: {}",
                err.message
            );
        }
    }

    #[test]
    fn unknown_fields_are_schema_errors() {
        let text =
            "name = \"x\"\nyears = 2026\n[[holiday]]\ndate = 2026-01-01\nform = 2026-01-02\n";
        let err = HolidaySchedule::parse(text).unwrap_err();
        assert_eq!(err.code, "pledge::holidays::schema");
        assert!(err.span.is_some());
        let missing = "name = \"x\"\nyears = 2026\n[[holiday]]\nfrom = 2026-01-01\n";
        assert_eq!(
            HolidaySchedule::parse(missing).unwrap_err().code,
            "pledge::holidays::schema"
        );
    }

    #[test]
    fn builtin_names_all_resolve() {
        for name in BUILTIN_SCHEDULES {
            assert!(builtin(name).is_some(), "{name}");
        }
        assert!(builtin("cn-1999").is_none());
    }
}
