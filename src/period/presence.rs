//! Presence in each window (`window` clauses with `each day` / `each year`).
//!
//! A plain `only` window flags an event outside its windows, so a subject with no event at all
//! passes. Some standards ask for the event in every window: three cleanings a day, one in each
//! of three windows (seed 004), a full check of the air conditioning every year before summer
//! (seed 002). With `each day` (windows of the day) or `each year` (a window of the year), each
//! occurrence of each window on the subject's range needs at least one matching event.
//!
//! # The evaluated range
//!
//! As for recurring duties (`period::duty`): from the subject's first `opened` to its end, the
//! `closed` event when that is its latest event, else `now`; `effective` dates clip it.
//!
//! # Occurrences
//!
//! - Windows of the day: on each local date (in the clause's zone) whose weekday is listed (or
//!   every date when none is), each period `[open, close)` is one occurrence.
//! - A window of the year: from `from` at 00:00 to the day after `to` at 00:00 of each year; a
//!   window whose end comes first runs into the next year. A window starting on `02-29` occurs
//!   only in leap years; one ending on `02-29` ends on 1 March in other years.
//!
//! An occurrence is judged only when it lies wholly inside the range: one that started before
//! the subject existed (or before the clause is effective), or that is still open at `now`, is
//! not judged. An event exactly at `close` belongs to no occurrence (half-open, as for
//! `window.outside`).
//!
//! # Records
//!
//! A judged occurrence with a matching event is one check met, counted at its end; one without
//! is a finding `window.missed` at its end whose message names the window and its date.

use super::duty::MAX_QUOTA_PERIODS;
use super::tally::{clip_effective, PeriodPlan};
use crate::eval::case::CaseView;
use crate::eval::Finding;
use crate::event::Instant;
use crate::policy::{MonthDay, Window};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use std::sync::Arc;

/// One occurrence of a window: its bounds and how a message names it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Occurrence {
    pub start: Instant,
    pub end: Instant,
    pub label: String,
}

/// The findings (`window.missed`) of a window clause with `each` on one subject, appended to
/// `out`; the ends of the occurrences that had their event appended to `met`.
pub(crate) fn presence_findings(
    plan: &PeriodPlan<'_>,
    window: &Window,
    view: &CaseView<'_>,
    ticket: &Arc<str>,
    now: Instant,
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    if !window.each || !view.opened || !view.applies(&plan.guard, &plan.clause.applies) {
        return;
    }
    let events = view.events;
    let Some(opened) = events.iter().find(|e| &*e.kind == "opened") else {
        return;
    };
    let end = match events.last() {
        Some(last) if &*last.kind == "closed" => last.at.min(now),
        _ => now,
    };
    let Some((start, end)) = clip_effective(plan.clause, plan.zone, opened.at, end) else {
        return;
    };
    let mut times: Vec<Instant> = events
        .iter()
        .filter(|e| window.event.matches(&e.kind, &e.attrs))
        .map(|e| e.at)
        .collect();
    times.sort_unstable();
    for occ in occurrences(window, start, end) {
        let first = times.partition_point(|t| *t < occ.start);
        if times.get(first).is_some_and(|t| *t < occ.end) {
            met.push(occ.end);
        } else {
            let names: Vec<&str> = window.event.matchers.iter().map(|m| &*m.event).collect();
            let message = format!("no `{}` in {}", names.join("` or `"), occ.label);
            out.push(plan.finding(ticket, "window.missed", occ.end, message, window.zone));
        }
    }
}

/// The occurrences of the window lying wholly inside `[start, end]`, in time order (at most
/// [`MAX_QUOTA_PERIODS`] days or years are walked).
pub(crate) fn occurrences(window: &Window, start: Instant, end: Instant) -> Vec<Occurrence> {
    let zone = window.zone;
    let first = start.with_timezone(&zone).date_naive();
    let last = end.with_timezone(&zone).date_naive();
    let mut out = Vec::new();
    let inside = |s: Option<Instant>, e: Option<Instant>| match (s, e) {
        (Some(s), Some(e)) if start <= s && e <= end && s < e => Some((s, e)),
        _ => None,
    };
    if let Some((from, to)) = window.season {
        // A window that started the year before may end inside the range.
        for year in (first.year() - 1..=last.year()).take(MAX_QUOTA_PERIODS) {
            let Some(open) = date(year, from) else {
                continue;
            };
            let end_year = if to < from { year + 1 } else { year };
            let close = match date(end_year, to) {
                Some(d) => d.checked_add_days(Days::new(1)),
                // 02-29 in a common year: the window ends with February.
                None => NaiveDate::from_ymd_opt(end_year, 3, 1),
            };
            let Some(close) = close else { continue };
            if let Some((s, e)) = inside(local(zone, open, None), local(zone, close, None)) {
                let label = format!(
                    "{:02}-{:02}..{:02}-{:02} of {year}",
                    from.month, from.day, to.month, to.day
                );
                out.push(Occurrence {
                    start: s,
                    end: e,
                    label,
                });
            }
        }
        return out;
    }
    for day in first
        .iter_days()
        .take_while(|d| *d <= last)
        .take(MAX_QUOTA_PERIODS)
    {
        if !window.days.is_empty() && !window.days.contains(&day.weekday()) {
            continue;
        }
        for p in &window.periods {
            let s = local(zone, day, Some(p.open));
            let e = match p.close {
                Some(c) => local(zone, day, Some(c)),
                None => day
                    .checked_add_days(Days::new(1))
                    .and_then(|d| local(zone, d, None)),
            };
            if let Some((s, e)) = inside(s, e) {
                out.push(Occurrence {
                    start: s,
                    end: e,
                    label: format!("{p} on {}", day.format("%Y-%m-%d")),
                });
            }
        }
    }
    out
}

/// `MM-DD` of a year, if that year has the day.
fn date(year: i32, d: MonthDay) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, d.month, d.day)
}

/// A local date and time (midnight when `None`) as an instant: the earlier of two readings in
/// a repeated hour, the first instant after a skipped one.
fn local(zone: Tz, day: NaiveDate, time: Option<NaiveTime>) -> Option<Instant> {
    let t = NaiveDateTime::new(day, time.unwrap_or(NaiveTime::MIN));
    zone.from_local_datetime(&t)
        .earliest()
        .or_else(|| {
            let later = t + chrono::Duration::hours(1);
            zone.from_local_datetime(&later).earliest()
        })
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Period;
    use crate::policy::Trigger;

    fn at(s: &str) -> Instant {
        s.parse().unwrap()
    }

    fn hm(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn day_window() -> Window {
        Window {
            event: Trigger::event("cleaned"),
            periods: vec![
                Period::new(hm("07:00"), Some(hm("09:00"))),
                Period::new(hm("13:00"), Some(hm("14:00"))),
            ],
            days: vec![],
            zone: chrono_tz::Asia::Shanghai,
            season: None,
            each: true,
        }
    }

    #[test]
    fn only_whole_occurrences_inside_the_range_are_judged() {
        // Opened 08:00 local on 1 March: the 07:00-09:00 window has started, not judged; the
        // 13:00-14:00 one is. `now` at 08:30 local on 2 March: the morning window is still open.
        let occ = occurrences(
            &day_window(),
            at("2026-03-01T00:00:00Z"),
            at("2026-03-02T00:30:00Z"),
        );
        let labels: Vec<&str> = occ.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["13:00-14:00 on 2026-03-01"]);
        assert_eq!(occ[0].start, at("2026-03-01T05:00:00Z"));
        assert_eq!(occ[0].end, at("2026-03-01T06:00:00Z"));
    }

    #[test]
    fn an_occurrence_ending_exactly_at_the_range_end_is_judged() {
        let occ = occurrences(
            &day_window(),
            at("2026-03-01T04:00:00Z"),
            at("2026-03-01T06:00:00Z"),
        );
        assert_eq!(occ.len(), 1);
    }

    #[test]
    fn weekdays_restrict_the_occurrences() {
        let mut w = day_window();
        w.days = vec![chrono::Weekday::Mon];
        // 2026-03-02 is a Monday; a week holds one Monday.
        let occ = occurrences(&w, at("2026-03-01T00:00:00Z"), at("2026-03-08T00:00:00Z"));
        assert_eq!(occ.len(), 2);
        assert!(occ.iter().all(|o| o.label.ends_with("2026-03-02")));
    }

    #[test]
    fn a_season_occurs_once_a_year_and_across_the_new_year() {
        let mut w = day_window();
        w.periods.clear();
        w.season = Some((
            MonthDay { month: 4, day: 1 },
            MonthDay { month: 5, day: 31 },
        ));
        let occ = occurrences(&w, at("2025-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
        let labels: Vec<&str> = occ.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["04-01..05-31 of 2025", "04-01..05-31 of 2026"]);
        // The end day is included: the occurrence ends at midnight starting 1 June.
        assert_eq!(occ[0].end, at("2025-05-31T16:00:00Z"));

        w.season = Some((
            MonthDay { month: 11, day: 15 },
            MonthDay { month: 2, day: 15 },
        ));
        let occ = occurrences(&w, at("2025-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
        let labels: Vec<&str> = occ.iter().map(|o| o.label.as_str()).collect();
        // The 2024 window started before the range; the 2026 one is still open at the end.
        assert_eq!(labels, ["11-15..02-15 of 2025"]);
    }

    #[test]
    fn a_leap_day_season_occurs_only_in_leap_years() {
        let mut w = day_window();
        w.periods.clear();
        w.season = Some((
            MonthDay { month: 2, day: 29 },
            MonthDay { month: 3, day: 10 },
        ));
        let occ = occurrences(&w, at("2025-01-01T00:00:00Z"), at("2029-01-01T00:00:00Z"));
        assert_eq!(occ.len(), 1);
        assert!(occ[0].label.ends_with("2028"));
    }
}
