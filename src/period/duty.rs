//! Recurring duties (`every` clauses, SEMANTICS.md "Recurring duties and time windows").
//!
//! The subject is a case (an asset or area opened once, or an ordinary ticket with an active
//! interval); its duty events are its own events matching the clause's trigger.
//!
//! # The evaluated range
//!
//! - Without `from ... until ...`: from the subject's first `opened` to its end.
//! - With `from A until B`: each interval from an `A` event to the first `B` event at or after
//!   it (or to the subject's end); the next interval starts at the next `A` after that `B`.
//! - The subject's **end** is its `closed` event when that is its latest event (a closed subject
//!   owes nothing after it), else `now`. So a closed subject's findings never depend on `now`.
//! - `effective` dates clip the range (in the policy's zone).
//! - `during ALERT`: the ranges are clipped to the alert's periods (their union), and a piece
//!   ends like a closed range where the period was lifted (see [`super::alert`]).
//! - `covered from A until B` and `at least N per alert` are judged by [`super::cover`] and
//!   [`super::alert`] on the same ranges.
//!
//! # Findings
//!
//! - `duty.gap`: for `every P`, a gap longer than `P` between the range start and the first
//!   duty, between two consecutive duties, or between the last duty and a range end that is an
//!   `until` event or `closed`. Its instant is the due time that passed, the message gives the
//!   gap's start, end and excess. `P` counts wall time, or working time on its calendar
//!   (`every 1 workday on office`). Exactly `P` is no gap.
//! - `duty.overdue`: the same for the last gap of a range that is still running at `now`:
//!   the last duty is more than `P` ago.
//! - `duty.quota_short`: for `at least N per PERIOD`, a calendar period (policy zone) with fewer
//!   than `N` duties. Only complete periods are judged: periods that end by the range end, and
//!   whose first date is on or after the range start's date (a subject registered during a
//!   quarter owes nothing for that quarter; one registered at 09:00 on its first day does).
//!   Its instant is the end of the period.
//!
//! # Checks
//!
//! What was met is counted too, so that "every gap kept" differs from "nothing to check": each
//! gap that was judged (every gap of a closed range, every gap but the last of a range running
//! at `now`, and that last one once it is overdue) is one check, met when it is no longer than
//! `P`; each judged quota period is one check, met when it has its `N` duties. A met gap is
//! counted at the duty (or range end) that closed it, a met quota period at its end; a failed
//! check is its finding.

use super::calendar_period::CalendarPeriod;
use super::tally::{clip_effective, PeriodPlan};
use crate::calendar::Calendar;
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::eval::clock::{resolve_limit, Counting};
use crate::eval::{format_duration, rfc3339, Finding};
use crate::event::{Event, Instant};
use crate::policy::{Duty, DutyRule, Limit, PeriodUnit};
use std::sync::Arc;

/// How many calendar periods one range may span before the quota check stops (a day quota over
/// a subject open for two centuries).
pub const MAX_QUOTA_PERIODS: usize = 100_000;

/// How a range ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeEnd {
    /// At an `until` event or the subject's `closed`.
    Closed,
    /// Still running at `now`.
    Now,
}

/// The findings of a duty clause on one subject, appended to `out`, and the checks it passed,
/// appended to `met` (see [`Checks`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn duty_findings(
    plan: &PeriodPlan<'_>,
    duty: &Duty,
    view: &CaseView<'_>,
    ticket: &Arc<str>,
    now: Instant,
    alerts: &super::alert::AlertBook,
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    if !view.opened || !view.applies(&plan.guard, &plan.clause.applies) {
        return;
    }
    let events = view.events;
    let subject_end = match events.last() {
        Some(last) if &*last.kind == "closed" => (last.at.min(now), RangeEnd::Closed),
        _ => (now, RangeEnd::Now),
    };
    let mut ranges = ranges(events, duty, subject_end);
    if let Some(alert) = &duty.during {
        let periods = alerts.periods(plan.clause_ref.policy, alert);
        if let DutyRule::PerAlert { count } = duty.rule {
            for &(start, end, _) in &ranges {
                super::alert::per_alert_findings(
                    plan,
                    duty,
                    count,
                    periods,
                    view,
                    ticket,
                    (start, end),
                    out,
                    met,
                );
            }
            return;
        }
        let spans = super::alert::union(periods, subject_end.0);
        ranges = super::alert::clip_to(&ranges, &spans, RangeEnd::Closed);
    }
    if let DutyRule::Cover { until } = &duty.rule {
        let clipped: Vec<(Instant, Instant, bool)> = ranges
            .iter()
            .filter_map(|&(start, end, how)| {
                clip_effective(plan.clause, plan.zone, start, end)
                    .map(|(s, e)| (s, e, how == RangeEnd::Now && e == end))
            })
            .collect();
        super::cover::cover_findings(plan, duty, until, events, ticket, &clipped, out, met);
        return;
    }
    for (start, end, how) in ranges {
        let Some((start, end)) = clip_effective(plan.clause, plan.zone, start, end) else {
            continue;
        };
        let duties: Vec<&Event> = events
            .iter()
            .filter(|e| e.at >= start && e.at <= end && duty.event.on_case(events, e))
            .collect();
        match &duty.rule {
            DutyRule::Gap(limit) => gaps(
                plan,
                duty,
                limit,
                ticket,
                (start, end, how),
                &duties,
                out,
                met,
            ),
            DutyRule::Quota { count, per, on } => quota(
                plan,
                duty,
                (*count, *per, on.as_deref()),
                ticket,
                start,
                end,
                &duties,
                out,
                met,
            ),
            // Judged above, on all the ranges at once.
            DutyRule::Cover { .. } | DutyRule::PerAlert { .. } => {}
        }
    }
}

/// The evaluated ranges of the subject (see the module doc).
fn ranges(
    events: &[Event],
    duty: &Duty,
    (end, how): (Instant, RangeEnd),
) -> Vec<(Instant, Instant, RangeEnd)> {
    let Some((from, until)) = &duty.active else {
        return match events.iter().find(|e| &*e.kind == "opened") {
            Some(opened) if opened.at <= end => vec![(opened.at, end, how)],
            _ => Vec::new(),
        };
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(a) = (i..events.len()).find(|&k| from.on_case(events, &events[k])) {
        let start = events[a].at;
        if start > end {
            break;
        }
        match (a + 1..events.len()).find(|&k| until.on_case(events, &events[k])) {
            Some(b) if events[b].at <= end => {
                out.push((start, events[b].at, RangeEnd::Closed));
                i = b + 1;
            }
            _ => {
                out.push((start, end, how));
                break;
            }
        }
    }
    out
}

/// What the duty is called in messages: its trigger as written (`status or progress`), so
/// that a gap between two events of its second type does not read as one of the first.
fn duty_name(duty: &Duty) -> String {
    crate::syntax::format_trigger(&duty.event)
}

#[allow(clippy::too_many_arguments)]
fn gaps(
    plan: &PeriodPlan<'_>,
    duty: &Duty,
    limit: &Limit,
    ticket: &Arc<str>,
    (start, end, how): (Instant, Instant, RangeEnd),
    duties: &[&Event],
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    let name = duty_name(duty);
    let mut prev = start;
    let check = |prev: Instant,
                 next: Instant,
                 last: bool,
                 out: &mut Vec<Finding>,
                 met: &mut Vec<Instant>| {
        let (counting, amount, zone) = resolve_limit(limit, prev, plan.zone);
        let due = counting.add(prev, amount);
        let overdue = last && how == RangeEnd::Now;
        if next <= due {
            // The last gap of a range still running at `now` is not decided yet: a duty may
            // still come in time, so it is not counted as a check.
            if !overdue {
                met.push(next);
            }
            return;
        }
        // The excess in the limit's own time: on a calendar, the working time past the due
        // time (a limit of one workday is not "3 days" over across a weekend).
        let over = match &counting {
            Counting::Wall => format_duration(next - due),
            Counting::Business(_) => format!(
                "{} of working time",
                format_duration(counting.between(due, next))
            ),
        };
        let message = if overdue {
            format!(
                "no `{name}` since {}: due by {}, overdue by {over}",
                rfc3339(prev, zone),
                rfc3339(due, zone),
            )
        } else {
            format!(
                "no `{name}` from {} to {} ({}, {over} over the limit)",
                rfc3339(prev, zone),
                rfc3339(next, zone),
                format_duration(next - prev),
            )
        };
        out.push(plan.finding(
            ticket,
            if overdue { "duty.overdue" } else { "duty.gap" },
            due,
            message,
            zone,
        ));
    };
    for e in duties {
        check(prev, e.at, false, out, met);
        prev = e.at;
    }
    check(prev, end, true, out, met);
}

#[allow(clippy::too_many_arguments)]
fn quota(
    plan: &PeriodPlan<'_>,
    duty: &Duty,
    (count, per, on): (u32, PeriodUnit, Option<&Calendar>),
    ticket: &Arc<str>,
    start: Instant,
    end: Instant,
    duties: &[&Event],
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    let zone = plan.zone;
    let Some(mut period) = CalendarPeriod::containing(per, zone, start) else {
        return;
    };
    let Some(start_date) = crate::calendar::zone::local_date(zone, start) else {
        return;
    };
    for _ in 0..MAX_QUOTA_PERIODS {
        let (Some(p_start), Some(p_end)) = (period.start(zone), period.end(zone)) else {
            return;
        };
        if p_end > end {
            return;
        }
        // On a calendar, a day off owes nothing (its date in the policy's zone).
        let owed = on.is_none_or(|c| c.is_working_date(period.first_date()));
        if owed && period.first_date() >= start_date {
            let done = duties
                .iter()
                .filter(|e| e.at >= p_start && e.at < p_end)
                .count() as u64;
            if done < u64::from(count) {
                let message = format!(
                    "{done} `{}` in {}, at least {count} required",
                    duty_name(duty),
                    period.label()
                );
                out.push(plan.finding(ticket, "duty.quota_short", p_end, message, zone));
            } else {
                met.push(p_end);
            }
        }
        match period.next() {
            Some(next) => period = next,
            None => return,
        }
    }
}
