//! Alert periods (`alert typhoon "台风预警" { when kind == "weather_alert" from raised until
//! lifted }`) and the duties restricted to them (`during typhoon`).
//!
//! # Where the periods come from
//!
//! An alert's periods are stream-wide: they are opened and lifted by events of *other* cases
//! (a weather alert case), not of the subject. The evaluator notes them as it applies events
//! ([`AlertBook::apply`]), in time order, so a subject judged when it settles sees every period
//! raised before its range ends:
//!
//! - a case whose attributes (as merged at the end of the event's instant) satisfy the alert's
//!   `when` opens a period at a `from` event, unless one of its periods is still open; the
//!   first `until` event at or after it lifts it. A case may raise the alert again later.
//! - A period still open at `now` runs to `now` (it is checked up to `now`).
//! - Periods of different cases may overlap: for ranges (`every P`, quotas, `covered`) their
//!   union counts; for `at least N per alert` each period is owed on its own, and one duty
//!   inside two overlapping periods counts for both.
//! - Memory: the periods themselves, a few a year, never the alert cases' events.
//!
//! # `EVENT at least N per alert`
//!
//! Each alert period that lies wholly inside the subject's range (from its `opened` to its
//! end, clipped by `effective` dates) owes `N` duty events at instants in `[raised, lifted]`,
//! both ends included. A period still open at the subject's end or at `now` owes nothing yet
//! (pending: no record); one that began before the subject was opened owes nothing. A period
//! with fewer than `N` is a `duty.alert_short` finding at its `lifted`; one with `N` is one
//! check met.

use super::tally::{clip_effective, PeriodPlan};
use crate::eval::case::CaseView;
use crate::eval::case_ref::OnCase;
use crate::eval::{rfc3339, Finding};
use crate::event::{Event, Instant};
use crate::policy::{Alert, Duty, Policy};
use crate::value::Attrs;
use std::sync::Arc;

/// One period of an alert: raised by `ticket` at `start`, lifted at `end` (`None`: not yet).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertPeriod {
    pub ticket: Arc<str>,
    pub start: Instant,
    pub end: Option<Instant>,
}

/// The periods of every alert of every policy, by policy and alert index.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertBook {
    /// Per policy, per alert: its name and its periods in the order they were raised.
    periods: Vec<Vec<(String, Vec<AlertPeriod>)>>,
}

impl AlertBook {
    /// An empty book for the alerts of `policies`.
    pub fn new(policies: &[Policy]) -> AlertBook {
        AlertBook {
            periods: policies
                .iter()
                .map(|p| {
                    p.alerts
                        .iter()
                        .map(|a| (a.name.clone(), Vec::new()))
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether any policy declares an alert (else [`AlertBook::apply`] is never needed).
    pub fn is_empty(&self) -> bool {
        self.periods.iter().all(Vec::is_empty)
    }

    /// Notes the events of one case at one instant (sorted canonically), `case` being its
    /// attributes at the end of the instant. Within the instant a lift comes before a raise,
    /// so `lifted` and `raised` at one instant end one period and start the next.
    pub fn apply(&mut self, policies: &[Policy], ticket: &str, case: &Attrs, batch: &[Event]) {
        for (pi, policy) in policies.iter().enumerate() {
            for (ai, alert) in policy.alerts.iter().enumerate() {
                let Some((_, list)) = self.periods.get_mut(pi).and_then(|p| p.get_mut(ai)) else {
                    continue;
                };
                note(alert, list, ticket, case, batch);
            }
        }
    }

    /// The periods of alert `name` of policy `policy`, in the order they were raised.
    pub fn periods(&self, policy: usize, name: &str) -> &[AlertPeriod] {
        self.periods
            .get(policy)
            .and_then(|p| p.iter().find(|(n, _)| n == name))
            .map_or(&[], |(_, list)| list.as_slice())
    }

    /// Adds the periods another partition saw (see `tally::PeriodTally::absorb`).
    pub fn absorb(&mut self, other: AlertBook) {
        for (mine, theirs) in self.periods.iter_mut().zip(other.periods) {
            for ((_, m), (_, t)) in mine.iter_mut().zip(theirs) {
                for p in t {
                    if !m.contains(&p) {
                        m.push(p);
                    }
                }
                m.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.ticket.cmp(&b.ticket)));
            }
        }
    }
}

fn note(alert: &Alert, list: &mut Vec<AlertPeriod>, ticket: &str, case: &Attrs, batch: &[Event]) {
    let Some(at) = batch.first().map(|e| e.at) else {
        return;
    };
    let lifts = batch
        .iter()
        .any(|e| alert.until.matches_in(&e.kind, &e.attrs, case, Some(e.at)));
    let raises = batch
        .iter()
        .any(|e| alert.from.matches_in(&e.kind, &e.attrs, case, Some(e.at)));
    if lifts {
        if let Some(p) = list
            .iter_mut()
            .rev()
            .find(|p| &*p.ticket == ticket && p.end.is_none())
        {
            p.end = Some(at);
        }
    }
    if raises
        && alert.applies.eval(case)
        && !list.iter().any(|p| &*p.ticket == ticket && p.end.is_none())
    {
        list.push(AlertPeriod {
            ticket: Arc::from(ticket),
            start: at,
            end: None,
        });
    }
}

/// The union of `periods` as of `now` (open ones run to `now`), sorted and disjoint; touching
/// periods join.
pub fn union(periods: &[AlertPeriod], now: Instant) -> Vec<(Instant, Instant, bool)> {
    let mut spans: Vec<(Instant, Instant, bool)> = periods
        .iter()
        .filter(|p| p.start <= now)
        .map(|p| match p.end {
            Some(e) if e <= now => (p.start, e, true),
            _ => (p.start, now, false),
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut out: Vec<(Instant, Instant, bool)> = Vec::new();
    for (s, e, lifted) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => {
                if e > last.1 {
                    last.1 = e;
                    last.2 = lifted;
                } else if e == last.1 {
                    last.2 &= lifted;
                }
            }
            _ => out.push((s, e, lifted)),
        }
    }
    out
}

/// `EVENT at least N per alert` on one subject (see the module doc): findings to `out`, met
/// checks to `met`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn per_alert_findings(
    plan: &PeriodPlan<'_>,
    duty: &Duty,
    count: u32,
    periods: &[AlertPeriod],
    view: &CaseView<'_>,
    ticket: &Arc<str>,
    (range_start, range_end): (Instant, Instant),
    out: &mut Vec<Finding>,
    met: &mut Vec<Instant>,
) {
    let alert = duty.during.as_deref().unwrap_or("alert");
    let Some((range_start, range_end)) =
        clip_effective(plan.clause, plan.zone, range_start, range_end)
    else {
        return;
    };
    let events = view.events;
    for p in periods {
        let Some(end) = p.end else { continue };
        if p.start < range_start || end > range_end {
            continue;
        }
        let done = events
            .iter()
            .filter(|e| e.at >= p.start && e.at <= end && duty.event.on_case(events, e))
            .count() as u64;
        if done >= u64::from(count) {
            met.push(end);
            continue;
        }
        let name = duty
            .event
            .matchers
            .first()
            .map_or("duty", |m| m.event.as_str());
        let message = format!(
            "{done} `{name}` during alert `{alert}` ({}) from {} to {}, at least {count} required",
            p.ticket,
            rfc3339(p.start, plan.zone),
            rfc3339(end, plan.zone)
        );
        out.push(plan.finding(ticket, "duty.alert_short", end, message, plan.zone));
    }
}

/// Clips the subject's ranges to the union of alert periods: each piece ends `Closed` when the
/// range or the alert period ended there, and keeps the range's own end otherwise.
pub fn clip_to<T: Copy + PartialEq>(
    ranges: &[(Instant, Instant, T)],
    spans: &[(Instant, Instant, bool)],
    closed: T,
) -> Vec<(Instant, Instant, T)> {
    let mut out = Vec::new();
    for &(rs, re, how) in ranges {
        for &(s, e, lifted) in spans {
            let (a, b) = (rs.max(s), re.min(e));
            if a >= b {
                continue;
            }
            let end_how = if b < re || (b == e && lifted) {
                closed
            } else {
                how
            };
            out.push((a, b, end_how));
        }
    }
    out
}
