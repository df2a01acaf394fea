//! Lowering: the pest parse tree → the checked policy model.
//!
//! Every independent mistake is collected (unknown names, duplicate clauses, missing lines, bad
//! times), so a quality officer fixes a file in one round. Nothing after this module sees pest.

use super::diagnostics::{closest, PolicyDiagnostic};
use super::grammar::Rule;
use crate::calendar::{
    builtin, Calendar, CalendarSpec, HolidaySchedule, Period, BUILTIN_SCHEDULES,
};
use crate::limits::MAX_CONDITION_DEPTH;
use crate::policy::*;
use crate::value::Value;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use miette::NamedSource;
use pest::iterators::{Pair, Pairs};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

/// The conventional event types of EVENTS.md. Others must be declared with `events ...`, so a
/// typo such as `resovled` is caught instead of silently never matching.
pub const CONVENTIONAL_EVENTS: &[&str] = &[
    "opened",
    "acknowledged",
    "contacted",
    "dispatched",
    "accepted",
    "arrived",
    "progress",
    "status",
    "updated",
    "escalated",
    "resolved",
    "revisited",
    "spot_checked",
    "rated",
    "notified",
    "reopened",
    "closed",
    "patrolled",
    "inspected",
    "maintained",
    "cleaned",
    "drilled",
];

/// The default zone of policies and calendars.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// Longest duration a limit may name (100 years), so instant arithmetic cannot overflow.
const MAX_DURATION_SECONDS: f64 = 100.0 * 366.0 * 86_400.0;

pub(crate) struct Lowerer<'a> {
    source: Arc<NamedSource<String>>,
    base_dir: Option<&'a Path>,
    pub(crate) errors: Vec<PolicyDiagnostic>,
    zone: Tz,
    events: BTreeSet<String>,
    schedules: HashMap<String, HolidaySchedule>,
    calendars: Vec<(String, Span, Arc<Calendar>)>,
    /// Name, name span and validity of every clause seen, for duplicate checks.
    headers: Vec<(String, Span, Effective)>,
    /// How many of `calendars` come from the context policy of a snippet: a snippet may
    /// redefine them (the REPL's what-if on a calendar) without a duplicate error.
    context_calendars: usize,
    /// Names of context calendars the snippet redefined.
    pub(crate) replaced_calendars: Vec<String>,
    /// Calendars declared with errors of their own: naming them is not a second error.
    broken_calendars: Vec<String>,
}

/// Names and spans of things already defined, for duplicate checks.
struct Seen(HashMap<String, Span>);

impl<'a> Lowerer<'a> {
    pub(crate) fn new(source: Arc<NamedSource<String>>, base_dir: Option<&'a Path>) -> Self {
        Lowerer {
            source,
            base_dir,
            errors: Vec::new(),
            zone: DEFAULT_ZONE,
            events: CONVENTIONAL_EVENTS.iter().map(|s| s.to_string()).collect(),
            schedules: HashMap::new(),
            calendars: Vec::new(),
            headers: Vec::new(),
            context_calendars: 0,
            replaced_calendars: Vec::new(),
            broken_calendars: Vec::new(),
        }
    }

    /// Seeds the lowerer with an existing policy's zone and calendars, so a snippet (in the REPL)
    /// can name them.
    pub(crate) fn with_context(mut self, policy: &Policy, extra_events: &[String]) -> Self {
        self.zone = policy.zone;
        for cal in &policy.calendars {
            self.calendars
                .push((cal.name.clone(), Span::default(), Arc::clone(cal)));
        }
        self.context_calendars = self.calendars.len();
        self.events.extend(extra_events.iter().cloned());
        self
    }

    /// The calendars known after lowering: those of the context (redefined ones replaced in
    /// place) followed by new ones, in declaration order.
    pub(crate) fn calendars(&self) -> Vec<Arc<Calendar>> {
        self.calendars
            .iter()
            .map(|(_, _, c)| Arc::clone(c))
            .collect()
    }

    /// Adds a calendar; one redefining a context calendar replaces it in place.
    fn push_calendar(&mut self, name: String, span: Span, cal: Calendar) {
        let context = &mut self.calendars[..self.context_calendars];
        if let Some(slot) = context.iter_mut().find(|(n, _, _)| *n == name) {
            *slot = (name.clone(), span, Arc::new(cal));
            self.replaced_calendars.push(name);
        } else {
            self.calendars.push((name, span, Arc::new(cal)));
        }
    }

    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut PolicyDiagnostic {
        let d = PolicyDiagnostic::error(&self.source, code, message).label(span, label);
        self.errors.push(d);
        self.errors.last_mut().expect("just pushed")
    }

    /// The span of a parse node without the whitespace and comments pest lets an optional
    /// trailing part consume, so underlines end at the last token.
    fn span(pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let text = pair.as_str();
        let mut end = s.start() + text.trim_end().len();
        // A trailing comment is not part of the node either.
        let trimmed = &text[..end - s.start()];
        if let Some(last_line_start) = trimmed.rfind('\n') {
            let last = &trimmed[last_line_start..];
            if last.trim_start().starts_with('#') {
                end = s.start() + trimmed[..last_line_start].trim_end().len();
            }
        }
        Span {
            start: s.start(),
            end,
        }
    }

    /// Lowers a whole `file`.
    pub(crate) fn policy(&mut self, file: Pair<'_, Rule>) -> Option<Policy> {
        let policy = file.into_inner().find(|p| p.as_rule() == Rule::policy)?;
        let mut inner = policy.into_inner();
        inner.next(); // k_policy
        let name = self.string(inner.next()?);
        let declarations: Vec<Pair<'_, Rule>> = inner.collect();
        let clauses = self.declarations(declarations);
        Some(Policy {
            name,
            zone: self.zone,
            calendars: self
                .calendars
                .iter()
                .map(|(_, _, c)| Arc::clone(c))
                .collect(),
            clauses,
        })
    }

    /// Lowers declarations in dependency order: zone, events, includes, calendars, clauses, so a
    /// clause may name a calendar declared below it.
    pub(crate) fn declarations(&mut self, declarations: Vec<Pair<'_, Rule>>) -> Vec<Clause> {
        let by_rule = |rule: Rule| {
            declarations
                .iter()
                .filter(move |p| p.as_rule() == rule)
                .cloned()
        };
        let zones: Vec<_> = by_rule(Rule::zone_decl).collect();
        for (i, z) in zones.iter().enumerate() {
            if i > 0 {
                self.err(
                    "pledge::policy::duplicate_zone",
                    Self::span(z),
                    "the policy names its zone twice",
                    "second zone",
                )
                .set_help("keep one `zone` line");
            }
            if let Some(tz) = self.zone_decl(z.clone()) {
                self.zone = tz;
            }
        }
        for e in by_rule(Rule::events_decl) {
            for n in e.into_inner().filter(|p| p.as_rule() == Rule::name) {
                self.events.insert(n.as_str().to_string());
            }
        }
        for inc in by_rule(Rule::include_decl) {
            self.include(inc);
        }
        let mut seen_cal = Seen(
            self.calendars[self.context_calendars..]
                .iter()
                .map(|(n, s, _)| (n.clone(), *s))
                .collect(),
        );
        for cal in by_rule(Rule::calendar_decl) {
            self.calendar(cal, &mut seen_cal);
        }
        let mut clauses: Vec<Clause> = Vec::new();
        for c in by_rule(Rule::clause) {
            if let Some(clause) = self.clause(c) {
                clauses.push(clause);
            }
        }
        self.check_duplicate_clauses();
        clauses
    }

    /// Two clauses may share a name only as versions with disjoint `effective` ranges. Checked on
    /// the headers of all clauses, including those with errors of their own.
    fn check_duplicate_clauses(&mut self) {
        let headers = std::mem::take(&mut self.headers);
        for (i, (name, span, effective)) in headers.iter().enumerate() {
            if let Some((_, first, _)) = headers[..i]
                .iter()
                .find(|(n, _, e)| n == name && overlaps(e, effective))
            {
                self.err(
                    "pledge::clause::duplicate_name",
                    *span,
                    format!("clause `{name}` is defined twice"),
                    "defined again here",
                )
                .set_help(
                    "rename one of them, or give both `effective` date ranges that do not overlap",
                );
                if let Some(last) = self.errors.last_mut() {
                    last.labels.push((*first, "first defined here".into()));
                }
            }
        }
    }

    fn zone_decl(&mut self, pair: Pair<'_, Rule>) -> Option<Tz> {
        let s = pair.into_inner().find(|p| p.as_rule() == Rule::string)?;
        let span = Self::span(&s);
        let text = self.string(s);
        match text.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.err(
                    "pledge::zone::unknown",
                    span,
                    format!("unknown time zone `{text}`"),
                    "not an IANA zone",
                )
                .set_help("use an IANA zone name such as `Asia/Shanghai` or `Europe/Berlin`");
                None
            }
        }
    }

    fn include(&mut self, pair: Pair<'_, Rule>) {
        let span = Self::span(&pair);
        let mut inner = pair
            .into_inner()
            .filter(|p| matches!(p.as_rule(), Rule::string | Rule::name));
        let (Some(path_pair), Some(alias)) = (inner.next(), inner.next()) else {
            return;
        };
        let path_span = Self::span(&path_pair);
        let path = self.string(path_pair);
        let alias = alias.as_str().to_string();
        let Some(base) = self.base_dir else {
            self.err("pledge::include::unavailable", span, "calendar files cannot be included here", "include")
                .set_help("load the policy from a file, or use a shipped schedule such as `holidays \"cn-2026\"`");
            return;
        };
        if !path.ends_with(".toml") {
            self.err(
                "pledge::include::not_toml",
                path_span,
                format!("`{path}` is not a holiday file"),
                "expected a `.toml` file",
            )
            .set_help("holiday schedules are TOML files; see calendars/README.md");
            return;
        }
        let full = base.join(&path);
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    "pledge::include::unreadable",
                    path_span,
                    format!("cannot read `{path}`: {e}"),
                    "this file",
                )
                .set_help("the path is relative to the policy file");
                return;
            }
        };
        match HolidaySchedule::parse(&text) {
            Ok(schedule) => {
                self.schedules.insert(alias, schedule);
            }
            Err(e) => {
                let file_source =
                    Arc::new(NamedSource::new(full.display().to_string(), text.clone()));
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
                );
            }
        }
    }

    fn calendar(&mut self, pair: Pair<'_, Rule>, seen: &mut Seen) {
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

    fn time_range(&mut self, pair: Pair<'_, Rule>) -> Option<Period> {
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
    fn clock_time(&mut self, pair: Pair<'_, Rule>, allow_24: bool) -> Option<Option<NaiveTime>> {
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

    fn date(&mut self, pair: &Pair<'_, Rule>) -> Option<NaiveDate> {
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
    fn month_day(&mut self, pair: &Pair<'_, Rule>) -> Option<MonthDay> {
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

    fn date_range(&mut self, pair: Pair<'_, Rule>) -> (Vec<NaiveDate>, Span) {
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

    fn duration(&mut self, pair: Pair<'_, Rule>) -> Option<Duration> {
        let span = Self::span(&pair);
        let mut seconds = 0f64;
        for part in pair.into_inner() {
            let mut it = part.into_inner();
            let n: f64 = it.next()?.as_str().parse().ok()?;
            let unit = it.next()?.as_str();
            seconds += n * unit_seconds(unit);
        }
        if !(0.0..=MAX_DURATION_SECONDS).contains(&seconds) {
            self.err(
                "pledge::syntax::duration_out_of_range",
                span,
                "duration is negative or longer than 100 years",
                "this duration",
            );
            return None;
        }
        Some(Duration::milliseconds((seconds * 1000.0).round() as i64))
    }

    fn calendar_ref(&mut self, pair: Option<Pair<'_, Rule>>) -> Option<Arc<Calendar>> {
        let name_pair = pair?.into_inner().find(|p| p.as_rule() == Rule::name)?;
        let name = name_pair.as_str();
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

    fn clause(&mut self, pair: Pair<'_, Rule>) -> Option<Clause> {
        let span = Self::span(&pair);
        let mut inner = pair.into_inner();
        let kind_pair = inner.next()?;
        let kind = kind_pair.as_str().to_string();
        let name = inner.next()?.as_str().to_string();
        let mut title = None;
        let mut items: Vec<Pair<'_, Rule>> = Vec::new();
        for p in inner {
            if p.as_rule() == Rule::string && title.is_none() && items.is_empty() {
                title = Some(self.string(p));
            } else {
                items.push(p);
            }
        }
        let mut clause = ClauseParts::default();
        for item in items {
            let rule = item.as_rule();
            let item_span = Self::span(&item);
            if let Some(first) = clause.seen.insert(rule, item_span) {
                if rule != Rule::stage_item {
                    self.err(
                        "pledge::clause::duplicate_line",
                        item_span,
                        format!("clause `{name}` has two {} lines", item_word(rule)),
                        "second one",
                    )
                    .set_help(
                        "keep one; to stop at the first of several events write `until a or b`",
                    );
                    if let Some(last) = self.errors.last_mut() {
                        last.labels.push((first, "first one".into()));
                    }
                    continue;
                }
            }
            match rule {
                Rule::cite_item => {
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::row_id => clause.cite.row = Some(p.as_str().to_string()),
                            Rule::string => clause.cite.text = Some(self.string(p)),
                            _ => {}
                        }
                    }
                }
                Rule::effective_item => {
                    for part in item.into_inner() {
                        let dates: Vec<_> = part
                            .clone()
                            .into_inner()
                            .filter(|p| p.as_rule() == Rule::date)
                            .collect();
                        match part.as_rule() {
                            Rule::effective_range => {
                                clause.effective.from = dates.first().and_then(|d| self.date(d));
                                clause.effective.until = dates.get(1).and_then(|d| self.date(d));
                            }
                            Rule::effective_before => {
                                clause.effective.until = dates.first().and_then(|d| self.date(d));
                            }
                            _ => {}
                        }
                    }
                    if let (Some(a), Some(b)) = (clause.effective.from, clause.effective.until) {
                        if b <= a {
                            self.err("pledge::clause::empty_effective", item_span, "the clause is never effective", "`until` is not after `from`")
                                .set_help("write `effective FROM..UNTIL` with UNTIL after FROM (UNTIL is exclusive)");
                        }
                    }
                }
                Rule::when_item => {
                    if let Some(c) = item.into_inner().find(|p| p.as_rule() == Rule::condition) {
                        clause.when = self.condition(c, 0);
                    }
                }
                Rule::from_item => {
                    clause.from = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::until_item => {
                    clause.until = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::within_limit | Rule::same_day_limit | Rule::by_limit => {
                    clause.limit = self.limit(item);
                    clause.limit_span = Some(item_span);
                }
                Rule::pause_item => {
                    if let Some(l) = item.into_inner().find(|p| p.as_rule() == Rule::list) {
                        let values = self.list(l);
                        clause.pause = Some(Pause {
                            statuses: values
                                .iter()
                                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                                .collect(),
                        });
                    }
                }
                Rule::stage_item => {
                    if let Some(s) = self.stage(item) {
                        clause.stages.push(s);
                    }
                }
                Rule::channels_item | Rule::audience_item => {
                    let mut all = true;
                    let mut names = Vec::new();
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::quantifier => all = p.as_str() == "all",
                            Rule::name_list => {
                                names = p.into_inner().map(|n| n.as_str().to_string()).collect()
                            }
                            _ => {}
                        }
                    }
                    let req = Some(Required { all, names });
                    if rule == Rule::channels_item {
                        clause.channels = req;
                    } else {
                        clause.audiences = req;
                    }
                }
                Rule::coverage_item => {
                    clause.coverage = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::percent)
                        .and_then(|p| self.permille(p))
                }
                Rule::first_item => {
                    let mut trigger = None;
                    let mut channels = Vec::new();
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::trigger => trigger = self.trigger(p),
                            Rule::name_list => {
                                channels = p.into_inner().map(|n| n.as_str().to_string()).collect()
                            }
                            _ => {}
                        }
                    }
                    clause.first = trigger.map(|t| (t, channels));
                }
                Rule::lead_item => {
                    let mut before = None;
                    let mut attr = None;
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::duration => before = self.duration(p),
                            Rule::name => attr = Some(p.as_str().to_string()),
                            _ => {}
                        }
                    }
                    if let (Some(before), Some(attr)) = (before, attr) {
                        clause.lead = Some(LeadTime { before, attr });
                    }
                }
                Rule::having_item => {
                    clause.having = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::sample_ratio_item => {
                    let (mut ratio, mut role, mut period) = (None, None, None);
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::percent => ratio = self.permille(p),
                            Rule::name => role = Some(p.as_str().to_string()),
                            Rule::period_unit => period = Some(period_unit(p.as_str())),
                            _ => {}
                        }
                    }
                    if let (Some(r), Some(role), Some(period)) = (ratio, role, period) {
                        if r > 1000 {
                            self.err(
                                "pledge::sample::ratio_over_100",
                                item_span,
                                "a sampling ratio cannot exceed 100%",
                                "here",
                            );
                        } else {
                            clause.sample_ratio = Some((r, role, period));
                        }
                    }
                }
                Rule::evidence_item => {
                    clause.evidence = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .and_then(|t| self.trigger(t))
                }
                Rule::lag_item => {
                    clause.lag = item
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::duration)
                        .and_then(|d| self.duration(d))
                }
                Rule::group_item => {
                    clause.group_by = item
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| p.as_str().to_string())
                        .collect()
                }
                Rule::target_ratio_item => {
                    let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                    let period = parts
                        .iter()
                        .find(|p| p.as_rule() == Rule::period_unit)
                        .map(|p| period_unit(p.as_str()));
                    let measure = if let Some(word) =
                        parts.iter().find(|p| p.as_rule() == Rule::verdict_word)
                    {
                        parts.iter().find(|p| p.as_rule() == Rule::name).map(|n| {
                            Measure::Verdicts {
                                status: word.as_str().to_string(),
                                clause: n.as_str().to_string(),
                            }
                        })
                    } else {
                        let triggers: Vec<_> = parts
                            .iter()
                            .filter(|p| p.as_rule() == Rule::trigger)
                            .cloned()
                            .collect();
                        let success = triggers.first().cloned().and_then(|t| self.trigger(t));
                        let among = triggers.get(1).cloned().and_then(|t| self.trigger(t));
                        match (success, among) {
                            (Some(success), Some(among)) => {
                                Some(Measure::Events { success, among })
                            }
                            _ => None,
                        }
                    };
                    if let (Some(m), Some(p)) = (measure, period) {
                        clause.target_ratio = Some((m, p));
                    }
                }
                Rule::bound_item => {
                    let mut at_least = true;
                    let mut value = None;
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::k_most => at_least = false,
                            Rule::percent => value = self.permille(p),
                            _ => {}
                        }
                    }
                    clause.bound = value.map(|v| (at_least, v));
                }
                Rule::repeat_item => {
                    let mut names = Vec::new();
                    let (mut times, mut within) = (None, None);
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::name => names.push(p.as_str().to_string()),
                            Rule::number => match p.as_str().parse::<u32>() {
                                Ok(n) if (2..=1000).contains(&n) => times = Some(n),
                                _ => {
                                    self.err(
                                        "pledge::repeat::bad_count",
                                        Self::span(&p),
                                        "a repeat needs a whole number of at least 2 cases",
                                        "here",
                                    );
                                }
                            },
                            Rule::duration => within = self.duration(p),
                            _ => {}
                        }
                    }
                    if let (Some(t), Some(w)) = (times, within) {
                        clause.repeat = Some((names, t, w));
                    }
                }
                Rule::then_item => {
                    // Same shape as a stage, without the clock point.
                    let mut action = ActionKind::Escalate;
                    let mut role = None;
                    let mut channels = Vec::new();
                    let mut message = None;
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::action => action = action_kind(p.as_str()),
                            Rule::name => role = Some(p.as_str().to_string()),
                            Rule::via => {
                                if let Some(list) =
                                    p.into_inner().find(|q| q.as_rule() == Rule::name_list)
                                {
                                    channels =
                                        list.into_inner().map(|n| n.as_str().to_string()).collect();
                                }
                            }
                            Rule::string => message = Some(self.string(p)),
                            _ => {}
                        }
                    }
                    clause.then = role.map(|role| Stage {
                        point: StagePoint::Fraction(0),
                        action,
                        role,
                        channels,
                        message,
                        span: item_span,
                    });
                }
                Rule::quota_item => {
                    let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                    let trigger = parts
                        .iter()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .cloned()
                        .and_then(|t| self.trigger(t));
                    let count = parts
                        .iter()
                        .find(|p| p.as_rule() == Rule::number)
                        .and_then(|n| n.as_str().parse::<u32>().ok());
                    let per = parts
                        .iter()
                        .find(|p| p.as_rule() == Rule::period_unit)
                        .map(|p| period_unit(p.as_str()));
                    match (trigger, count, per) {
                        (Some(t), Some(count), Some(per)) if count >= 1 => {
                            clause.duty = Some((t, DutyRule::Quota { count, per }))
                        }
                        (Some(_), _, Some(_)) => {
                            self.err(
                                "pledge::every::bad_count",
                                item_span,
                                "a quota needs a whole number of at least 1",
                                "here",
                            );
                        }
                        _ => {}
                    }
                }
                Rule::duty_item => {
                    let parts: Vec<Pair<'_, Rule>> = item.clone().into_inner().collect();
                    let trigger = parts
                        .iter()
                        .find(|p| p.as_rule() == Rule::trigger)
                        .cloned()
                        .and_then(|t| self.trigger(t));
                    let limit = self.limit_parts(
                        Rule::within_limit,
                        parts
                            .into_iter()
                            .filter(|p| p.as_rule() != Rule::trigger)
                            .collect(),
                    );
                    if let (Some(t), Some(l)) = (trigger, limit) {
                        clause.duty = Some((t, DutyRule::Gap(l)));
                    }
                }
                Rule::window_item => {
                    let mut trigger = None;
                    let mut periods = Vec::new();
                    let mut days = Vec::new();
                    let mut season = None;
                    let mut season_ok = true;
                    for p in item.into_inner() {
                        match p.as_rule() {
                            Rule::season_range => {
                                let ends: Vec<Option<MonthDay>> =
                                    p.into_inner().map(|d| self.month_day(&d)).collect();
                                match ends.as_slice() {
                                    [Some(a), Some(b)] => season = Some((*a, *b)),
                                    _ => season_ok = false,
                                }
                            }
                            Rule::trigger => trigger = self.trigger(p),
                            Rule::time_range => {
                                if let Some(period) = self.time_range(p) {
                                    periods.push(period);
                                }
                            }
                            Rule::day_set => days = day_set(p),
                            _ => {}
                        }
                    }
                    if let (Some(t), true) = (trigger, season_ok) {
                        clause.window = Some((t, periods, days, season));
                    }
                }
                _ => {}
            }
        }
        for (rule, item_span) in &clause.seen {
            if !allowed(&kind, *rule) {
                self.err(
                    "pledge::clause::misplaced_line",
                    *item_span,
                    format!("a `{kind}` clause has no {} line", item_word(*rule)),
                    "not allowed here",
                )
                .set_help(format!("a `{kind}` clause takes: {}", allowed_words(&kind)));
            }
        }
        self.headers.push((
            name.clone(),
            name_span(span, &name, self.source.inner()),
            clause.effective.clone(),
        ));
        let body = match kind.as_str() {
            "deadline" => {
                let until = clause.until.take();
                let limit = clause.limit.take();
                if until.is_none() && !clause.seen.contains_key(&Rule::until_item) {
                    self.err(
                        "pledge::clause::missing_stop",
                        name_span(span, &name, self.source.inner()),
                        format!("deadline `{name}` has no `until` line"),
                        "this deadline",
                    )
                    .set_help("say which event stops the clock, e.g. `until resolved`");
                }
                if limit.is_none()
                    && !clause.seen.contains_key(&Rule::within_limit)
                    && !clause.seen.contains_key(&Rule::same_day_limit)
                    && !clause.seen.contains_key(&Rule::by_limit)
                {
                    self.err("pledge::clause::missing_limit", name_span(span, &name, self.source.inner()), format!("deadline `{name}` has no limit"), "this deadline")
                        .set_help("add `within 8 hours`, `within 2 workdays on office`, `same day on office` or `by 08:00 next day`");
                }
                if clause.limit_span.is_some() && !clause.seen.is_empty() {
                    // Limits of different forms on one clause are duplicates too.
                    let forms = [Rule::within_limit, Rule::same_day_limit, Rule::by_limit];
                    let present: Vec<Span> = forms
                        .iter()
                        .filter_map(|r| clause.seen.get(r).copied())
                        .collect();
                    if present.len() > 1 {
                        self.err("pledge::clause::duplicate_line", present[1], format!("clause `{name}` has two limits"), "second limit")
                            .set_help("a deadline has one limit; use stages (`at 80% warn ...`) for earlier points");
                    }
                }
                ClauseBody::Deadline(Deadline {
                    start: clause
                        .from
                        .take()
                        .unwrap_or_else(|| Trigger::event("opened")),
                    stop: until?,
                    limit: limit?,
                    pause: clause.pause.take(),
                    stages: std::mem::take(&mut clause.stages),
                })
            }
            "notify" => {
                if clause.channels.is_none() && clause.audiences.is_none() && clause.first.is_none()
                {
                    self.missing(&name, span, "notify", "channels", "add `channels all [sms, notice_board, app_push]`, `audience all [...]` or `first contacted via phone`");
                }
                ClauseBody::Notify(Notify {
                    start: clause
                        .from
                        .take()
                        .unwrap_or_else(|| Trigger::event("opened")),
                    limit: clause.limit.take(),
                    channels: clause.channels.take(),
                    audiences: clause.audiences.take(),
                    coverage_permille: clause.coverage,
                    first_contact: clause.first.take(),
                    lead: clause.lead.take(),
                })
            }
            "sample" => {
                let Some((ratio_permille, role, period)) = clause.sample_ratio.take() else {
                    self.missing(
                        &name,
                        span,
                        "sample",
                        "ratio",
                        "add `ratio 10% by management_dept per month`",
                    );
                    return None;
                };
                let Some(population) = clause.having.take() else {
                    self.missing(
                        &name,
                        span,
                        "sample",
                        "having",
                        "say which event puts a case in the population, e.g. `having revisited`",
                    );
                    return None;
                };
                ClauseBody::Sample(Sample {
                    population,
                    ratio_permille,
                    role,
                    period,
                    evidence: clause
                        .evidence
                        .take()
                        .unwrap_or_else(|| Trigger::event("spot_checked")),
                    lag: clause.lag.unwrap_or_else(Duration::zero),
                    group_by: std::mem::take(&mut clause.group_by),
                })
            }
            "target" => {
                let Some((measure, period)) = clause.target_ratio.take() else {
                    self.missing(
                        &name,
                        span,
                        "target",
                        "ratio",
                        "add `ratio rated(satisfied == true) among rated per month`",
                    );
                    return None;
                };
                let Some((at_least, bound_permille)) = clause.bound else {
                    self.missing(
                        &name,
                        span,
                        "target",
                        "bound",
                        "add `at least 90%` or `at most 2%`",
                    );
                    return None;
                };
                ClauseBody::Target(Target {
                    measure,
                    period,
                    group_by: std::mem::take(&mut clause.group_by),
                    at_least,
                    bound_permille,
                })
            }
            "repeat" => {
                let Some((same, times, within)) = clause.repeat.take() else {
                    self.missing(
                        &name,
                        span,
                        "repeat",
                        "same",
                        "add `same unit, topic 2 times within 30 days`",
                    );
                    return None;
                };
                let Some(then) = clause.then.take() else {
                    self.missing(
                        &name,
                        span,
                        "repeat",
                        "then",
                        "add `then escalate project_manager \"special_rectification\"`",
                    );
                    return None;
                };
                ClauseBody::Repeat(Repeat {
                    same,
                    times,
                    within,
                    action: then.action,
                    role: then.role,
                    channels: then.channels,
                    message: then.message,
                })
            }
            "every" => {
                let Some((event, rule)) = clause.duty.take() else {
                    self.missing(
                        &name,
                        span,
                        "every",
                        "duty",
                        "add `patrolled every 2 hours` or `drilled at least 1 per quarter`",
                    );
                    return None;
                };
                let active = match (clause.from.take(), clause.until.take()) {
                    (None, None) => None,
                    (from, Some(until)) => {
                        Some((from.unwrap_or_else(|| Trigger::event("opened")), until))
                    }
                    (Some(from), None) => Some((from, Trigger::event("closed"))),
                };
                ClauseBody::Every(Duty {
                    event,
                    rule,
                    active,
                })
            }
            "window" => {
                let Some((event, periods, days, season)) = clause.window.take() else {
                    if clause.seen.contains_key(&Rule::window_item) {
                        // The line is there but did not lower; its own error says why.
                        return None;
                    }
                    self.missing(
                        &name,
                        span,
                        "window",
                        "window",
                        "add `maintained only 00:00-05:00`",
                    );
                    return None;
                };
                ClauseBody::Window(Window {
                    event,
                    periods,
                    days,
                    zone: self.zone,
                    season,
                })
            }
            other => {
                self.err(
                    "pledge::clause::unsupported_kind",
                    Self::span(&kind_pair),
                    format!("`{other}` is not a clause kind"),
                    "unknown kind",
                );
                return None;
            }
        };
        Some(Clause {
            name,
            title,
            cite: clause.cite,
            applies: clause.when.unwrap_or(Condition::Always),
            effective: clause.effective,
            body,
            span,
        })
    }

    fn limit(&mut self, item: Pair<'_, Rule>) -> Option<Limit> {
        let rule = item.as_rule();
        self.limit_parts(rule, item.into_inner().collect())
    }

    fn missing(&mut self, name: &str, span: Span, kind: &str, what: &str, help: &str) {
        let code = match what {
            "channels" => "pledge::clause::missing_channels",
            "ratio" => "pledge::clause::missing_ratio",
            "having" => "pledge::clause::missing_population",
            "bound" => "pledge::clause::missing_bound",
            "same" => "pledge::clause::missing_repeat",
            "then" => "pledge::clause::missing_action",
            "duty" => "pledge::clause::missing_duty",
            _ => "pledge::clause::missing_window",
        };
        let ns = name_span(span, name, self.source.inner());
        self.err(
            code,
            ns,
            format!("{kind} `{name}` has no `{what}` line"),
            format!("this {kind}"),
        )
        .set_help(help);
    }

    fn permille(&mut self, pair: Pair<'_, Rule>) -> Option<u32> {
        let span = Self::span(&pair);
        let n: f64 = pair.into_inner().next()?.as_str().parse().ok()?;
        let permille = (n * 10.0).round();
        if !(0.0..=100_000.0).contains(&permille) || (permille - n * 10.0).abs() > 1e-6 {
            self.err(
                "pledge::syntax::bad_percentage",
                span,
                "percentages are between 0% and 10000% with at most one decimal",
                "here",
            );
            return None;
        }
        Some(permille as u32)
    }

    fn limit_parts(&mut self, rule: Rule, parts: Vec<Pair<'_, Rule>>) -> Option<Limit> {
        let on = parts
            .iter()
            .find(|p| p.as_rule() == Rule::on_calendar)
            .cloned();
        let has_on = on.is_some();
        let cal = self.calendar_ref(on);
        if has_on && cal.is_none() {
            return None;
        }
        match rule {
            Rule::within_limit => {
                let amount = parts.iter().find(|p| {
                    matches!(
                        p.as_rule(),
                        Rule::workdays | Rule::business_time | Rule::duration
                    )
                })?;
                match amount.as_rule() {
                    Rule::duration => {
                        let d = self.duration(amount.clone())?;
                        match cal {
                            None => Some(Limit::Elapsed(d)),
                            // `within 8 hours on office` counts working time too.
                            Some(calendar) => Some(Limit::BusinessTime {
                                amount: d,
                                calendar,
                            }),
                        }
                    }
                    Rule::workdays => {
                        let n = amount.clone().into_inner().next()?;
                        let days = match n.as_str().parse::<u32>() {
                            Ok(d) if d <= 3660 => d,
                            _ => {
                                self.err(
                                    "pledge::syntax::invalid_workdays",
                                    Self::span(&n),
                                    "workdays must be a whole number up to 3660",
                                    "here",
                                );
                                return None;
                            }
                        };
                        let Some(calendar) = cal else {
                            self.err(
                                "pledge::calendar::missing",
                                Self::span(amount),
                                "workdays need a calendar",
                                "counted on which calendar?",
                            )
                            .set_help("add `on office` (a calendar declared in this policy)");
                            return None;
                        };
                        Some(Limit::Workdays { days, calendar })
                    }
                    _ => {
                        let mut it = amount.clone().into_inner();
                        let n: f64 = it.next()?.as_str().parse().ok()?;
                        let unit = it.nth(1)?.as_str();
                        let Some(calendar) = cal else {
                            self.err(
                                "pledge::calendar::missing",
                                Self::span(amount),
                                "business time needs a calendar",
                                "counted on which calendar?",
                            )
                            .set_help("add `on office` (a calendar declared in this policy)");
                            return None;
                        };
                        let secs = n * unit_seconds(unit);
                        if !(0.0..=MAX_DURATION_SECONDS).contains(&secs) {
                            self.err(
                                "pledge::syntax::duration_out_of_range",
                                Self::span(amount),
                                "duration is negative or longer than 100 years",
                                "this duration",
                            );
                            return None;
                        }
                        Some(Limit::BusinessTime {
                            amount: Duration::milliseconds((secs * 1000.0).round() as i64),
                            calendar,
                        })
                    }
                }
            }
            Rule::same_day_limit => {
                let Some(calendar) = cal else {
                    self.err(
                        "pledge::calendar::missing",
                        Self::span(&parts[0]),
                        "`same day` needs a calendar",
                        "whose working day?",
                    )
                    .set_help("write `same day on office` (a calendar declared in this policy)");
                    return None;
                };
                Some(Limit::SameDay { calendar })
            }
            _ => {
                let time_pair = parts.iter().find(|p| p.as_rule() == Rule::clock_time)?;
                let time = self.clock_time(time_pair.clone(), false)??;
                let workday = parts.iter().any(|p| p.as_rule() == Rule::k_workday);
                let calendar = match cal {
                    Some(c) => c,
                    None if workday => {
                        self.err(
                            "pledge::calendar::missing",
                            Self::span(time_pair),
                            "`next workday` needs a calendar",
                            "whose workdays?",
                        )
                        .set_help("write `by 08:00 next workday on office`");
                        return None;
                    }
                    None => Arc::new(Calendar::always(self.zone)),
                };
                Some(Limit::NextAt {
                    time,
                    workday,
                    calendar,
                })
            }
        }
    }

    fn stage(&mut self, item: Pair<'_, Rule>) -> Option<Stage> {
        let span = Self::span(&item);
        let mut point = None;
        let mut action = None;
        let mut role = None;
        let mut channels = Vec::new();
        let mut message = None;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::percent => {
                    let n: f64 = p.into_inner().next()?.as_str().parse().ok()?;
                    let permille = (n * 10.0).round();
                    if !(0.0..=100_000.0).contains(&permille) {
                        self.err(
                            "pledge::stage::bad_fraction",
                            span,
                            "a stage fraction must be between 0% and 10000%",
                            "here",
                        );
                        return None;
                    }
                    point = Some(StagePoint::Fraction(permille as u32));
                }
                Rule::duration => point = Some(StagePoint::After(self.duration(p)?)),
                Rule::action => {
                    action = Some(match p.as_str() {
                        "warn" => ActionKind::Warn,
                        "notify" => ActionKind::Notify,
                        _ => ActionKind::Escalate,
                    })
                }
                Rule::name => role = Some(p.as_str().to_string()),
                Rule::via => {
                    if let Some(list) = p.into_inner().find(|q| q.as_rule() == Rule::name_list) {
                        channels = list.into_inner().map(|n| n.as_str().to_string()).collect();
                    }
                }
                Rule::string => message = Some(self.string(p)),
                _ => {}
            }
        }
        Some(Stage {
            point: point?,
            action: action?,
            role: role?,
            channels,
            message,
            span,
        })
    }

    pub(crate) fn trigger(&mut self, pair: Pair<'_, Rule>) -> Option<Trigger> {
        let mut matchers = Vec::new();
        let mut ok = true;
        for m in pair.into_inner().filter(|p| p.as_rule() == Rule::matcher) {
            let mut inner = m.into_inner();
            let Some(name) = inner.next() else { continue };
            let event = name.as_str().to_string();
            if !self.events.contains(&event) {
                ok = false;
                let help = match closest(&event, self.events.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`? to use a new event type, declare it: `events {event}`"),
                    None => format!("event types are those of EVENTS.md; to use a new one, declare it in the policy: `events {event}`"),
                };
                self.err(
                    "pledge::clause::unknown_event",
                    Self::span(&name),
                    format!("unknown event type `{event}`"),
                    "not a known event type",
                )
                .set_help(help);
            }
            let filter = match inner.find(|p| p.as_rule() == Rule::condition) {
                Some(c) => match self.condition(c, 0) {
                    Some(c) => Some(c),
                    None => {
                        ok = false;
                        None
                    }
                },
                None => None,
            };
            matchers.push(EventMatcher {
                event: event.into(),
                filter,
            });
        }
        (ok && !matchers.is_empty()).then_some(Trigger { matchers })
    }

    /// Lowers a condition. `depth` counts nesting; the pre-scan of the source already bounds it,
    /// this is the second guard for the recursion here.
    pub(crate) fn condition(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        if depth > MAX_CONDITION_DEPTH * 4 {
            self.err(
                "pledge::syntax::too_deep",
                Self::span(&pair),
                "condition is nested too deeply",
                "here",
            )
            .set_help(format!(
                "conditions may nest at most {MAX_CONDITION_DEPTH} levels"
            ));
            return None;
        }
        match pair.as_rule() {
            Rule::condition => {
                let parts = self.condition_parts(pair.into_inner(), Rule::conjunction, depth)?;
                Some(if parts.len() == 1 {
                    parts.into_iter().next()?
                } else {
                    Condition::Or(parts)
                })
            }
            Rule::conjunction => {
                let parts = self.condition_parts(pair.into_inner(), Rule::negation, depth)?;
                Some(if parts.len() == 1 {
                    parts.into_iter().next()?
                } else {
                    Condition::And(parts)
                })
            }
            Rule::negation => {
                let mut inner = pair.into_inner();
                let first = inner.next()?;
                if first.as_rule() == Rule::k_not {
                    Some(Condition::Not(Box::new(
                        self.condition(inner.next()?, depth + 1)?,
                    )))
                } else {
                    self.condition(first, depth + 1)
                }
            }
            Rule::has_test => Some(Condition::Has(
                pair.into_inner()
                    .find(|p| p.as_rule() == Rule::name)?
                    .as_str()
                    .to_string(),
            )),
            Rule::truthy => Some(Condition::Truthy(
                pair.into_inner().next()?.as_str().to_string(),
            )),
            Rule::in_test | Rule::not_in_test => {
                let negated = pair.as_rule() == Rule::not_in_test;
                let mut attr = None;
                let mut values = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::name => attr = Some(p.as_str().to_string()),
                        Rule::list => values = self.list(p),
                        _ => {}
                    }
                }
                let c = Condition::In {
                    attr: attr?,
                    values,
                };
                Some(if negated {
                    Condition::Not(Box::new(c))
                } else {
                    c
                })
            }
            Rule::comparison => {
                let mut it = pair.into_inner();
                let attr = it.next()?.as_str().to_string();
                let op_pair = it.next()?;
                let op = match op_pair.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let value_pair = it.next()?;
                let value_span = Self::span(&value_pair);
                let value = self.literal(value_pair);
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !matches!(value, Value::Number(_)) {
                    self.err(
                        "pledge::condition::ordering_needs_number",
                        value_span,
                        format!(
                            "`{}` compares numbers, not {}",
                            op.as_str(),
                            value_kind(&value)
                        ),
                        "not a number",
                    )
                    .set_help("use `==` / `!=` / `in [...]` for text and booleans");
                    return None;
                }
                Some(Condition::Compare { attr, op, value })
            }
            _ => {
                // Parenthesised condition.
                let inner = pair.into_inner().next()?;
                self.condition(inner, depth + 1)
            }
        }
    }

    fn condition_parts(
        &mut self,
        pairs: Pairs<'_, Rule>,
        want: Rule,
        depth: usize,
    ) -> Option<Vec<Condition>> {
        let mut out = Vec::new();
        let mut ok = true;
        for p in pairs.filter(|p| p.as_rule() == want || p.as_rule() == Rule::condition) {
            match self.condition(p, depth + 1) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        (ok && !out.is_empty()).then_some(out)
    }

    fn list(&mut self, pair: Pair<'_, Rule>) -> Vec<Value> {
        pair.into_inner().map(|p| self.literal(p)).collect()
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Value {
        match pair.as_rule() {
            Rule::string => Value::String(self.string(pair).into()),
            Rule::number => Value::Number(pair.as_str().parse().unwrap_or(0.0)),
            Rule::boolean => Value::Bool(pair.as_str() == "true"),
            _ => Value::Null,
        }
    }

    /// The value of a string literal, escapes resolved.
    pub(crate) fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let span = Self::span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut bad = Vec::new();
        let out = unescape(raw, |hex| bad.push(hex.to_string()));
        for hex in bad {
            self.err(
                "pledge::syntax::invalid_escape",
                span,
                format!("`\\u{{{hex}}}` is not a character"),
                "in this string",
            );
        }
        out
    }
}

/// Resolves the escapes of a string literal's inside (between the quotes). Each `\u{..}` that
/// names no character is left out and its hex digits passed to `bad`: the lowering reports it,
/// the formatter keeps such a literal as written.
pub(crate) fn unescape(raw: &str, mut bad: impl FnMut(&str)) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => bad(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[derive(Default)]
struct ClauseParts {
    seen: HashMap<Rule, Span>,
    cite: Citation,
    effective: Effective,
    when: Option<Condition>,
    from: Option<Trigger>,
    until: Option<Trigger>,
    limit: Option<Limit>,
    limit_span: Option<Span>,
    pause: Option<Pause>,
    stages: Vec<Stage>,
    channels: Option<Required>,
    audiences: Option<Required>,
    coverage: Option<u32>,
    first: Option<(Trigger, Vec<String>)>,
    having: Option<Trigger>,
    sample_ratio: Option<(u32, String, PeriodUnit)>,
    evidence: Option<Trigger>,
    lag: Option<Duration>,
    group_by: Vec<String>,
    target_ratio: Option<(Measure, PeriodUnit)>,
    bound: Option<(bool, u32)>,
    repeat: Option<(Vec<String>, u32, Duration)>,
    then: Option<Stage>,
    duty: Option<(Trigger, DutyRule)>,
    window: Option<WindowParts>,
    lead: Option<LeadTime>,
}

/// A `window` clause's event, periods of the day, weekdays and season, as read.
type WindowParts = (
    Trigger,
    Vec<Period>,
    Vec<Weekday>,
    Option<(MonthDay, MonthDay)>,
);

fn item_word(rule: Rule) -> &'static str {
    match rule {
        Rule::stage_item => "stage (`at`/`after`)",
        Rule::channels_item => "`channels`",
        Rule::audience_item => "`audience`",
        Rule::coverage_item => "`coverage`",
        Rule::first_item => "`first`",
        Rule::lead_item => "lead time (`at least ... before`)",
        Rule::having_item => "`having`",
        Rule::sample_ratio_item | Rule::target_ratio_item => "`ratio`",
        Rule::evidence_item => "`evidence`",
        Rule::lag_item => "`lag`",
        Rule::group_item => "`group by`",
        Rule::bound_item => "`at least`/`at most`",
        Rule::repeat_item => "`same ... times within`",
        Rule::then_item => "`then`",
        Rule::quota_item | Rule::duty_item => "duty (`every`/`at least ... per`)",
        Rule::window_item => "`only`",
        Rule::cite_item => "`cite`",
        Rule::effective_item => "`effective`",
        Rule::when_item => "`when`",
        Rule::from_item => "`from`",
        Rule::until_item => "`until`",
        Rule::within_limit => "`within`",
        Rule::same_day_limit => "`same day`",
        Rule::by_limit => "`by`",
        Rule::pause_item => "`pause`",
        _ => "duplicate",
    }
}

fn period_unit(text: &str) -> PeriodUnit {
    match text {
        "day" => PeriodUnit::Day,
        "week" => PeriodUnit::Week,
        "month" => PeriodUnit::Month,
        "quarter" => PeriodUnit::Quarter,
        _ => PeriodUnit::Year,
    }
}

fn action_kind(text: &str) -> ActionKind {
    match text {
        "warn" => ActionKind::Warn,
        "notify" => ActionKind::Notify,
        _ => ActionKind::Escalate,
    }
}

/// Which lines each clause kind accepts.
fn allowed(kind: &str, rule: Rule) -> bool {
    use Rule::*;
    let common = matches!(rule, cite_item | effective_item | when_item);
    common
        || match kind {
            "deadline" => matches!(
                rule,
                from_item
                    | until_item
                    | within_limit
                    | same_day_limit
                    | by_limit
                    | pause_item
                    | stage_item
            ),
            "notify" => matches!(
                rule,
                from_item
                    | within_limit
                    | same_day_limit
                    | by_limit
                    | channels_item
                    | audience_item
                    | coverage_item
                    | first_item
                    | lead_item
            ),
            "sample" => matches!(
                rule,
                having_item | sample_ratio_item | evidence_item | lag_item | group_item
            ),
            "target" => matches!(rule, target_ratio_item | bound_item | group_item),
            "repeat" => matches!(rule, repeat_item | then_item),
            "every" => matches!(rule, from_item | until_item | quota_item | duty_item),
            "window" => matches!(rule, window_item),
            _ => false,
        }
}

fn allowed_words(kind: &str) -> &'static str {
    match kind {
        "deadline" => "`cite`, `effective`, `when`, `from`, `until`, a limit (`within`, `same day`, `by`), `pause`, stages (`at`, `after`)",
        "notify" => "`cite`, `effective`, `when`, `from`, a limit, `channels`, `audience`, `coverage`, `first`, a lead time (`at least 15 days before starts_at`)",
        "sample" => "`cite`, `effective`, `when`, `having`, `ratio`, `evidence`, `lag`, `group by`",
        "target" => "`cite`, `effective`, `when`, `ratio`, `at least`/`at most`, `group by`",
        "repeat" => "`cite`, `effective`, `when`, `same`, `then`",
        "every" => "`cite`, `effective`, `when`, `from`, `until`, a duty (`event every 2 hours` or `event at least 1 per month`)",
        _ => "`cite`, `effective`, `when`, `event only HH:MM-HH:MM` or `event only MM-DD..MM-DD`",
    }
}

fn unit_seconds(unit: &str) -> f64 {
    match unit.trim_end_matches('s') {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        _ => 7.0 * 86_400.0,
    }
}

fn day_set(pair: Pair<'_, Rule>) -> Vec<Weekday> {
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

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "`null`",
        Value::Bool(_) => "booleans",
        Value::Number(_) => "numbers",
        Value::String(_) => "text",
        Value::List(_) => "lists",
    }
}

fn overlaps(a: &Effective, b: &Effective) -> bool {
    let a_before_b = matches!((a.until, b.from), (Some(u), Some(f)) if u <= f);
    let b_before_a = matches!((b.until, a.from), (Some(u), Some(f)) if u <= f);
    !(a_before_b || b_before_a)
}

/// The span of a clause's name inside the clause span, for precise labels.
fn name_span(clause: Span, name: &str, source: &str) -> Span {
    let text = source.get(clause.start..clause.end).unwrap_or("");
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    // The name is the first whole word equal to it after the keyword (a clause `a` must not
    // underline the `a` of `deadline`).
    let found = text.match_indices(name).map(|(i, _)| i).find(|&i| {
        i > 0
            && !text[..i].chars().next_back().is_some_and(ident)
            && !text[i + name.len()..].chars().next().is_some_and(ident)
    });
    match found {
        Some(i) => Span {
            start: clause.start + i,
            end: clause.start + i + name.len(),
        },
        None => clause,
    }
}
