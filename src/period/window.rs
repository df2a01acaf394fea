//! Time windows (`window` clauses, SEMANTICS.md "Recurring duties and time windows"): events of
//! a type must fall inside windows of the day, optionally only on some weekdays.
//!
//! An event matching the clause's trigger, on a case the clause applies to, is read on the wall
//! clock of the clause's zone. It is inside when its weekday is listed (or no weekdays are) and
//! its local time lies in one of the windows, which are half-open `[open, close)` like working
//! periods: with `only 00:00-05:00`, 04:59 is inside and 05:00 is outside. Each event outside is
//! one finding, code `window.outside`, at the event's instant. A window of the year
//! (`only 04-01..05-31`) compares the local date instead, both ends included, running across
//! the new year when the end comes first.

use super::tally::PeriodPlan;
use crate::calendar::weekday_name;
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::eval::{rfc3339, Finding};
use crate::policy::{MonthDay, Window};
use chrono::Datelike;
use std::sync::Arc;

/// The findings of a window clause on one case, appended to `out`; the instants of the events
/// inside their windows (the checks met: each matching event is one check) appended to `met`.
pub(crate) fn window_findings(
    plan: &PeriodPlan<'_>,
    window: &Window,
    view: &CaseView<'_>,
    ticket: &Arc<str>,
    out: &mut Vec<Finding>,
    met: &mut Vec<crate::event::Instant>,
) {
    if !view.opened || !view.applies(&plan.guard, &plan.clause.applies) {
        return;
    }
    for e in view.events {
        if !window.event.on_case(view.events, e) || !plan.clause.holds_at(plan.zone, e.at) {
            continue;
        }
        let local = e.at.with_timezone(&window.zone);
        if let Some((from, to)) = window.season {
            let day = MonthDay {
                month: local.month(),
                day: local.day(),
            };
            let inside = if from <= to {
                from <= day && day <= to
            } else {
                day >= from || day <= to
            };
            if inside {
                met.push(e.at);
            } else {
                let message = format!(
                    "`{}` on {} is outside {:02}-{:02}..{:02}-{:02}",
                    e.kind,
                    local.format("%Y-%m-%d"),
                    from.month,
                    from.day,
                    to.month,
                    to.day
                );
                out.push(plan.finding(ticket, "window.outside", e.at, message, window.zone));
            }
            continue;
        }
        let day_ok = window.days.is_empty() || window.days.contains(&local.weekday());
        let time_ok = window.periods.iter().any(|p| p.contains(local.time()));
        if day_ok && time_ok {
            met.push(e.at);
            continue;
        }
        let allowed: Vec<String> = window.periods.iter().map(|p| p.to_string()).collect();
        let mut message = format!(
            "`{}` at {} is outside {}",
            e.kind,
            rfc3339(e.at, window.zone),
            allowed.join(", ")
        );
        if !window.days.is_empty() {
            let days: Vec<&str> = window.days.iter().map(|d| weekday_name(*d)).collect();
            message.push_str(&format!(" on {}", days.join(", ")));
        }
        out.push(plan.finding(ticket, "window.outside", e.at, message, window.zone));
    }
}
