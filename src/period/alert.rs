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

    /// What tells one state of the book from a later one: how many periods were raised, and
    /// how many lifted (a book only grows: periods are raised, then lifted, never taken back).
    pub fn progress(&self) -> (usize, usize) {
        let lists = self.periods.iter().flatten().map(|(_, list)| list);
        lists.fold((0, 0), |(raised, lifted), list| {
            let ended = list.iter().filter(|p| p.end.is_some()).count();
            (raised + list.len(), lifted + ended)
        })
    }

    /// Takes in the periods of `other`, a book of other cases noted at the same stream time:
    /// those not here yet are added in their place, and a period here that `other` lifted is
    /// lifted. (The book of a split check's partition follows, this way, the alert cases that
    /// other partitions own: see `check::split`.)
    pub fn follow(&mut self, other: &AlertBook) {
        for (mine, theirs) in self.periods.iter_mut().zip(&other.periods) {
            for ((_, m), (_, t)) in mine.iter_mut().zip(theirs) {
                for p in t {
                    match m
                        .iter_mut()
                        .find(|q| q.start == p.start && q.ticket == p.ticket)
                    {
                        Some(q) => q.end = p.end,
                        None => insert_sorted(m, p.clone()),
                    }
                }
            }
        }
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
        insert_sorted(
            list,
            AlertPeriod {
                ticket: Arc::from(ticket),
                start: at,
                end: None,
            },
        );
    }
}

/// Puts `period` in its place by start, then ticket: periods raised at one instant by several
/// cases come in ticket order whatever order their events arrived in, and a book noted in
/// parts (a split check's partitions) lists them as one noted whole would.
fn insert_sorted(list: &mut Vec<AlertPeriod>, period: AlertPeriod) {
    let key = |p: &AlertPeriod| (p.start, p.ticket.clone());
    let at = list.partition_point(|p| key(p) <= key(&period));
    list.insert(at, period);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Condition, Span, Trigger};
    use crate::value::Value;
    use chrono::TimeZone;

    fn t(h: i64) -> Instant {
        chrono::Utc
            .timestamp_opt(1_767_225_600 + h * 3600, 0)
            .unwrap()
    }

    fn alert() -> Alert {
        Alert {
            name: "typhoon".into(),
            title: None,
            applies: Condition::Always,
            from: Trigger::event("raised"),
            until: Trigger::event("lifted"),
            span: Span::default(),
        }
    }

    fn batch(h: i64, kinds: &[&str]) -> Vec<Event> {
        kinds
            .iter()
            .map(|k| Event {
                ticket: "W".into(),
                at: t(h),
                kind: (*k).into(),
                id: None,
                attrs: Attrs::new(),
                line: 0,
            })
            .collect()
    }

    fn noted(steps: &[(&str, i64, &[&str])]) -> Vec<AlertPeriod> {
        let a = alert();
        let mut list = Vec::new();
        for (ticket, h, kinds) in steps {
            note(&a, &mut list, ticket, &Attrs::new(), &batch(*h, kinds));
        }
        list
    }

    #[test]
    fn a_case_raises_one_period_at_a_time_and_may_raise_again() {
        let list = noted(&[
            ("W", 1, &["raised"]),
            ("W", 2, &["raised"]), // already up: nothing
            ("W", 5, &["lifted"]),
            ("W", 6, &["lifted"]), // nothing up: nothing
            ("W", 9, &["raised"]),
        ]);
        let spans: Vec<_> = list.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(spans, vec![(t(1), Some(t(5))), (t(9), None)]);
    }

    #[test]
    fn a_lift_and_a_raise_at_one_instant_end_one_period_and_start_the_next() {
        let list = noted(&[("W", 1, &["raised"]), ("W", 4, &["raised", "lifted"])]);
        let spans: Vec<_> = list.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(spans, vec![(t(1), Some(t(4))), (t(4), None)]);
    }

    #[test]
    fn only_cases_the_alert_applies_to_raise_it() {
        let mut a = alert();
        a.applies = Condition::Compare {
            attr: "kind".into(),
            op: crate::policy::CmpOp::Eq,
            value: Value::String("weather_warning".into()),
        };
        let mut list = Vec::new();
        note(&a, &mut list, "X", &Attrs::new(), &batch(1, &["raised"]));
        assert!(list.is_empty());
        let mut case = Attrs::new();
        case.insert("kind", Value::String("weather_warning".into()));
        note(&a, &mut list, "W", &case, &batch(1, &["raised"]));
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn overlapping_periods_unite_and_an_open_one_runs_to_now() {
        let list = noted(&[
            ("A", 1, &["raised"]),
            ("B", 3, &["raised"]),
            ("A", 4, &["lifted"]),
            ("B", 6, &["lifted"]),
            ("A", 6, &["raised"]), // touches B's end
            ("A", 8, &["lifted"]),
            ("C", 10, &["raised"]),
        ]);
        assert_eq!(
            union(&list, t(12)),
            vec![(t(1), t(8), true), (t(10), t(12), false)]
        );
        // As of an earlier `now`, B is still up.
        assert_eq!(union(&list, t(5)), vec![(t(1), t(5), false)]);
    }

    #[test]
    fn ranges_are_clipped_to_the_periods() {
        let spans = vec![(t(2), t(4), true), (t(6), t(9), false)];
        let ranges = vec![(t(0), t(8), 'n')];
        assert_eq!(
            clip_to(&ranges, &spans, 'c'),
            vec![(t(2), t(4), 'c'), (t(6), t(8), 'n')]
        );
        // A range that ends inside a lifted period ends there as the range did.
        assert_eq!(
            clip_to(&[(t(0), t(3), 'c')], &spans, 'c'),
            vec![(t(2), t(3), 'c')]
        );
    }
}
