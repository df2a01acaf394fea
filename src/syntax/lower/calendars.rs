//! Lowers `calendar` blocks (hours, holidays, make-up days), `include` of holiday files, and
//! the dates, times and calendar references they and clauses use.

use crate::calendar::weekday_name;
use crate::calendar::{
    builtin, Calendar, CalendarSpec, HolidaySchedule, Period, BUILTIN_SCHEDULES,
};
use crate::policy::*;
use crate::syntax::diagnostics::{closest, PolicyDiagnostic};
use crate::syntax::grammar::Rule;
use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use miette::NamedSource;
use pest::iterators::Pair;
use std::collections::BTreeSet;
use std::sync::Arc;

use super::include::FileKind;
use super::{Lowerer, Seen};

/// A holiday schedule is a TOML file next to the policy.
const HOLIDAY_FILE: FileKind = FileKind {
    extension: ".toml",
    unavailable: "calendar files cannot be included here",
    unavailable_help:
        "load the policy from a file, or use a shipped schedule such as `holidays \"cn-2026\"`",
    wrong_extension: (
        "pledge::include::not_toml",
        "`{path}` is not a holiday file",
        "expected a `.toml` file",
        "holiday schedules are TOML files; see calendars/README.md",
    ),
    unreadable: ("pledge::include::unreadable", ""),
};

impl Lowerer<'_> {
    /// Adds a calendar; one redefining a context calendar replaces it in place.
    pub(super) fn push_calendar(&mut self, name: String, span: Span, cal: Calendar) {
        let context = &mut self.calendars[..self.context_calendars];
        if let Some(slot) = context.iter_mut().find(|(n, _, _)| *n == name) {
            *slot = (name.clone(), span, Arc::new(cal));
            self.replaced_calendars.push(name);
        } else {
            self.calendars.push((name, span, Arc::new(cal)));
        }
    }

    pub(super) fn include(&mut self, pair: Pair<'_, Rule>) {
        let Some(include) = self.include_parts(pair) else {
            return;
        };
        let Some((full, text)) = self.read_include(&include, &HOLIDAY_FILE) else {
            self.failed_schedules.insert(include.alias);
            return;
        };
        let (path, path_span, alias) = (include.path.as_str(), include.path_span, include.alias);
        match HolidaySchedule::parse(&text) {
            Ok(schedule) => {
                self.schedules.insert(alias, schedule);
            }
            Err(e) => {
                self.failed_schedules.insert(alias);
                let file_source = Arc::new(NamedSource::new(full.display().to_string(), text));
                let mut d = PolicyDiagnostic::error(
                    &file_source,
                    e.code,
                    format!("holiday file `{path}` does not parse: {}", e.message),
                )
                .help("see calendars/README.md for the format");
                if let Some(r) = e.span {
                    d = d.label(
                        Span {
                            start: r.start,
                            end: r.end,
                        },
                        "here",
                    );
                }
                self.errors.push(d);
                self.err(
                    "pledge::include::invalid",
                    path_span,
                    format!("`{path}` is not a valid holiday file"),
                    "included here",
                )
                .set_help(
                    "the errors above say where; the README's \"Holiday files\" gives the layout",
                );
            }
        }
    }

    pub(super) fn calendar(&mut self, pair: Pair<'_, Rule>, seen: &mut Seen) {
        let mut inner = pair.into_inner();
        inner.next(); // k_calendar
        let Some(name_pair) = inner.next() else {
            return;
        };
        let name = name_pair.as_str().to_string();
        let name_span = Self::span(&name_pair);
        if let Some(first) = seen.0.get(&name).copied() {
            self.err(
                "pledge::calendar::duplicate_name",
                name_span,
                format!("calendar `{name}` is defined twice"),
                "defined again here",
            )
            .set_help("rename one of them");
            if let Some(last) = self.errors.last_mut() {
                last.labels.push((first, "first defined here".into()));
            }
            return;
        }
        seen.0.insert(name.clone(), name_span);
        let errors_before = self.errors.len();
        let mut zone = self.zone;
        let mut week: [Vec<(Period, Span)>; 7] = Default::default();
        let mut holidays = BTreeSet::new();
        let mut makeup = BTreeSet::new();
        let mut workday_length = None;
        let mut covered: Option<(i32, i32)> = None;
        let mut labels = std::collections::BTreeMap::new();
        for item in inner {
            let item_span = Self::span(&item);
            match item.as_rule() {
                Rule::zone_decl => {
                    if let Some(tz) = self.zone_decl(item) {
                        zone = tz;
                    }
                }
                Rule::hours_item => {
                    let mut days = Vec::new();
                    let mut periods = Vec::new();
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::day_set => days = day_set(p),
                            Rule::time_range => {
                                if let Some(period) = self.time_range(p.clone()) {
                                    periods.push((period, Self::span(&p)));
                                }
                            }
                            _ => {}
                        }
                    }
                    for d in days {
                        week[d.num_days_from_monday() as usize].extend(periods.iter().copied());
                    }
                }
                Rule::holidays_item => {
                    let Some(r) = item
                        .into_inner()
                        .find(|p| matches!(p.as_rule(), Rule::name | Rule::string))
                    else {
                        continue;
                    };
                    let span = Self::span(&r);
                    let (key, schedule) = if r.as_rule() == Rule::name {
                        let key = r.as_str().to_string();
                        let s = self.schedules.get(&key).cloned();
                        (key, s)
                    } else {
                        let key = self.string(r);
                        let s = builtin(&key);
                        (key, s)
                    };
                    match schedule {
                        Some(s) => {
                            holidays.extend(s.days_off.iter().copied());
                            makeup.extend(s.makeup_days.iter().copied());
                            labels.extend(s.labels.iter().map(|(d, n)| (*d, n.clone())));
                            covered = Some(match covered {
                                None => s.years,
                                Some((a, b)) => (a.min(s.years.0), b.max(s.years.1)),
                            });
                        }
                        // Its include failed, and said so where it is.
                        None if self.failed_schedules.contains(&key) => {}
                        None => {
                            let mut known: Vec<String> = self.schedules.keys().cloned().collect();
                            known.sort();
                            known.extend(BUILTIN_SCHEDULES.iter().map(|s| s.to_string()));
                            let d = self.err(
                                "pledge::calendar::unknown_holidays",
                                span,
                                format!("unknown holiday schedule `{key}`"),
                                "not included",
                            );
                            let suggestion =
                                closest(&key, known.iter().map(String::as_str)).map(str::to_string);
                            d.set_help(match suggestion {
                                Some(c) => format!("did you mean `{c}`? shipped schedules are `cn-2025`, `cn-2026` and `cn`; include a file with `include calendar \"file.toml\" as NAME`"),
                                None => "shipped schedules are `cn-2025`, `cn-2026` and `cn`; include a file with `include calendar \"file.toml\" as NAME`".to_string(),
                            });
                        }
                    }
                }
                Rule::holiday_item => {
                    if let Some(r) = item.into_inner().find(|p| p.as_rule() == Rule::date_range) {
                        for d in self.date_range(r).0 {
                            holidays.insert(d);
                        }
                    }
                }
                Rule::workday_item => {
                    if let Some(r) = item.into_inner().find(|p| p.as_rule() == Rule::date_range) {
                        let (dates, span) = self.date_range(r);
                        for d in dates {
                            if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                                makeup.insert(d);
                            } else {
                                self.err(
                                    "pledge::calendar::makeup_not_weekend",
                                    span,
                                    format!("make-up working day {d} is a {}, not a weekend day", weekday_name(d.weekday())),
                                    "not a Saturday or Sunday",
                                )
                                .set_help("a make-up working day (调休) is a Saturday or Sunday that is worked; use `holiday` for a day off");
                            }
                        }
                    }
                }
                Rule::workday_length_item => {
                    if let Some(d) = item.into_inner().find(|p| p.as_rule() == Rule::duration) {
                        workday_length = self.duration(d);
                    }
                }
                _ => {
                    let _ = item_span;
                }
            }
        }
        // Overlapping hours, with both ranges underlined: one error per pair of ranges, naming
        // every weekday it affects (`mon..fri` with overlapping ranges is one mistake).
        let mut days: [Vec<Period>; 7] = Default::default();
        let mut overlaps: Vec<((Span, Span), Vec<Weekday>)> = Vec::new();
        for (i, periods) in week.iter_mut().enumerate() {
            periods.sort_by_key(|(p, _)| p.open);
            for w in periods.windows(2) {
                let (a, b) = (w[0], w[1]);
                let a_close = a.0.close.unwrap_or(NaiveTime::MIN);
                if a.0.close.is_none() || a_close > b.0.open {
                    let day = Weekday::try_from(i as u8).unwrap_or(Weekday::Mon);
                    match overlaps.iter_mut().find(|(k, _)| *k == (a.1, b.1)) {
                        Some((_, ds)) => ds.push(day),
                        None => overlaps.push(((a.1, b.1), vec![day])),
                    }
                }
            }
            days[i] = periods.iter().map(|(p, _)| *p).collect();
        }
        for ((first, second), on) in overlaps {
            let text = |sp: Span| {
                self.source
                    .inner()
                    .get(sp.start..sp.end)
                    .unwrap_or("")
                    .to_string()
            };
            let (a_text, b_text) = (text(first), text(second));
            let names: Vec<&str> = on.iter().map(|d| weekday_name(*d)).collect();
            self.err(
                "pledge::calendar::overlapping_hours",
                second,
                format!("working hours overlap on {}", names.join(", ")),
                "overlaps an earlier range",
            )
            .set_help(format!(
                "`{b_text}` starts before `{a_text}` ends; working periods of a day must not overlap"
            ));
            if let Some(last) = self.errors.last_mut() {
                last.labels.push((first, "this range".into()));
            }
        }
        if self.errors.len() > errors_before {
            self.broken_calendars.push(name);
            return;
        }
        let spec = CalendarSpec {
            name: name.clone(),
            zone,
            week: days,
            holidays,
            makeup_days: makeup,
            makeup_hours: None,
            workday_length,
            covered_years: covered,
        };
        match Calendar::new(spec) {
            Ok(cal) => self.push_calendar(name, name_span, cal.with_labels(&labels)),
            Err(e) => {
                self.broken_calendars.push(name.clone());
                let help = match e {
                    crate::calendar::CalendarError::UnequalWorkdays { .. } => {
                        "add `workday length 8 hours` (or the length you mean by one workday)"
                    }
                    crate::calendar::CalendarError::NoWorkingHours => {
                        "add working hours, e.g. `hours mon..fri 09:00-18:00`"
                    }
                    _ => "fix the calendar's hours or days",
                };
                self.err(
                    e.code(),
                    name_span,
                    format!("calendar `{name}`: {e}"),
                    "in this calendar",
                )
                .set_help(help);
            }
        }
    }

    pub(super) fn time_range(&mut self, pair: Pair<'_, Rule>) -> Option<Period> {
        let span = Self::span(&pair);
        let mut times = pair.into_inner();
        let open = self.clock_time(times.next()?, false)?;
        let close = self.clock_time(times.next()?, true)?;
        let open = open?;
        if let Some(c) = close {
            if c <= open {
                self.err("pledge::calendar::empty_hours", span, "working period ends before it starts", "empty range")
                    .set_help("write the opening time first, e.g. `09:00-18:00`; use `24:00` for midnight at the end of the day");
                return None;
            }
        }
        Some(Period { open, close })
    }

    /// Parses `HH:MM`; `24:00` is allowed (as `None`) only where a period closes.
    pub(super) fn clock_time(
        &mut self,
        pair: Pair<'_, Rule>,
        allow_24: bool,
    ) -> Option<Option<NaiveTime>> {
        let span = Self::span(&pair);
        let text = pair.as_str();
        let (h, m) = text.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        if allow_24 && h == 24 && m == 0 {
            return Some(None);
        }
        match NaiveTime::from_hms_opt(h, m, 0) {
            Some(t) => Some(Some(t)),
            None => {
                self.err(
                    "pledge::syntax::invalid_time",
                    span,
                    format!("`{text}` is not a time of day"),
                    "invalid time",
                )
                .set_help(
                    "times are `HH:MM` from `00:00` to `23:59` (and `24:00` as a closing time)",
                );
                None
            }
        }
    }

    pub(super) fn date(&mut self, pair: &Pair<'_, Rule>) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(pair.as_str(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(
                    "pledge::syntax::invalid_date",
                    Self::span(pair),
                    format!("`{}` is not a date", pair.as_str()),
                    "invalid date",
                )
                .set_help("dates are `YYYY-MM-DD`");
                None
            }
        }
    }

    /// Parses a day of the year `MM-DD` (any year: `02-29` is a day of leap years).
    pub(super) fn month_day(&mut self, pair: &Pair<'_, Rule>) -> Option<MonthDay> {
        let text = pair.as_str();
        let parsed = text
            .split_once('-')
            .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
            .filter(|(m, d)| NaiveDate::from_ymd_opt(2000, *m, *d).is_some());
        match parsed {
            Some((month, day)) => Some(MonthDay { month, day }),
            None => {
                self.err(
                    "pledge::syntax::invalid_date",
                    Self::span(pair),
                    format!("`{text}` is not a day of the year"),
                    "invalid day",
                )
                .set_help("days of the year are `MM-DD`, e.g. `04-01..05-31`");
                None
            }
        }
    }

    pub(super) fn date_range(&mut self, pair: Pair<'_, Rule>) -> (Vec<NaiveDate>, Span) {
        let span = Self::span(&pair);
        let dates: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let from = dates.first().and_then(|d| self.date(d));
        let to = match dates.get(1) {
            Some(d) => self.date(d),
            None => from,
        };
        let (Some(from), Some(to)) = (from, to) else {
            return (Vec::new(), span);
        };
        if to < from || (to - from).num_days() > 366 {
            self.err(
                "pledge::calendar::bad_range",
                span,
                "date range is empty or longer than a year",
                "this range",
            )
            .set_help(
                "write the earlier date first, e.g. `2026-05-01..2026-05-05` (both inclusive)",
            );
            return (Vec::new(), span);
        }
        (from.iter_days().take_while(|d| *d <= to).collect(), span)
    }

    pub(super) fn calendar_ref(&mut self, pair: Option<Pair<'_, Rule>>) -> Option<Arc<Calendar>> {
        let name_pair = pair?.into_inner().find(|p| p.as_rule() == Rule::name)?;
        let name = name_pair.as_str();
        self.facts.used_calendars.insert(name.to_string());
        if let Some((_, _, c)) = self.calendars.iter().find(|(n, _, _)| n == name) {
            return Some(Arc::clone(c));
        }
        if self.broken_calendars.iter().any(|n| n == name) {
            // The calendar's own errors are reported; naming it is not another one.
            return None;
        }
        let known: Vec<String> = self
            .calendars
            .iter()
            .map(|(n, _, _)| n.clone())
            .chain(self.broken_calendars.iter().cloned())
            .collect();
        let help = match closest(name, known.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None if known.is_empty() => {
                "declare it first: `calendar office { hours mon..fri 09:00-18:00 }`".to_string()
            }
            None => format!(
                "known calendars: {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.err(
            "pledge::calendar::unknown",
            Self::span(&name_pair),
            format!("unknown calendar `{name}`"),
            "not declared in this policy",
        )
        .set_help(help);
        None
    }
}

pub(super) fn day_set(pair: Pair<'_, Rule>) -> Vec<Weekday> {
    let mut days = Vec::new();
    for range in pair.into_inner() {
        let ends: Vec<Weekday> = range
            .into_inner()
            .filter_map(|w| w.as_str().parse::<Weekday>().ok())
            .collect();
        match ends.as_slice() {
            [one] => days.push(*one),
            [a, b] => {
                let mut d = *a;
                loop {
                    days.push(d);
                    if d == *b {
                        break;
                    }
                    d = d.succ();
                }
            }
            _ => {}
        }
    }
    days
}
