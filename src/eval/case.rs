//! One case against deadline clauses: attributes, status timeline, cycles, and their verdicts.
//!
//! Evaluation is split in two so the streaming engine can finish a case before `now` is known:
//! `CycleFacts` are what the case's events say about a cycle (start, stop, pauses, evidence),
//! independent of `now`; `resolve` turns them into a `Verdict` and `Action`s as of `now`.

use super::clock::{resolve_limit, stage_amount, Clock, Counting, PauseSpan};
use super::verdict::{Action, ActionStatus, ClauseRef, Status, Verdict};
use crate::eval::case_ref::OnCase;
use crate::event::{Event, Instant};
use crate::inline_str::InlineStr;
use crate::policy::{ActionKind, Clause, ClauseBody, Condition, Deadline, Policy, Stage};
use crate::value::{Attrs, Value};
use chrono::Duration;
use chrono_tz::Tz;
use std::borrow::Cow;
use std::sync::Arc;

/// A deadline clause prepared for evaluation: names shared as `Arc<str>` so records cost no
/// string copies.
#[derive(Debug)]
pub(crate) struct ClausePlan<'p> {
    pub clause_ref: ClauseRef,
    pub policy: Arc<str>,
    pub name: Arc<str>,
    pub clause: &'p Clause,
    pub guard: ClauseGuard,
    pub deadline: &'p Deadline,
    pub policy_zone: Tz,
    pub stages: Vec<StagePlan>,
}

#[derive(Debug)]
pub(crate) struct StagePlan {
    pub role: Arc<str>,
    pub channels: Arc<[Box<str>]>,
    pub message: Option<Arc<str>>,
}

/// The deadline clauses of `policies`, in policy and clause order.
pub(crate) fn plan(policies: &[Policy]) -> Vec<ClausePlan<'_>> {
    let mut out = Vec::new();
    for (pi, policy) in policies.iter().enumerate() {
        let policy_name: Arc<str> = policy.name.as_str().into();
        for (ci, clause) in policy.clauses.iter().enumerate() {
            // Other clause families are evaluated elsewhere.
            let ClauseBody::Deadline(deadline) = &clause.body else {
                continue;
            };
            out.push(ClausePlan {
                clause_ref: ClauseRef {
                    policy: pi,
                    clause: ci,
                },
                policy: policy_name.clone(),
                name: clause.name.as_str().into(),
                clause,
                guard: ClauseGuard::of(&clause.applies),
                deadline,
                policy_zone: policy.zone,
                stages: deadline.stages.iter().map(stage_plan).collect(),
            });
        }
    }
    out
}

fn stage_plan(stage: &Stage) -> StagePlan {
    StagePlan {
        role: stage.role.as_str().into(),
        channels: stage.channels.iter().map(|c| c.as_str().into()).collect(),
        message: stage.message.as_deref().map(Arc::from),
    }
}

/// The attribute whose value most clauses' conditions require (`when kind == "repair" ...`).
pub(crate) const GUARD_ATTR: &str = "kind";

/// A clause of one kind prepared for evaluation: where it sits, its names, its guard and its
/// body. Notification and record clauses are evaluated from this alone; deadlines add their
/// stages ([`ClausePlan`]).
#[derive(Debug)]
pub(crate) struct KindPlan<'p, B> {
    pub clause_ref: ClauseRef,
    pub policy: Arc<str>,
    pub name: Arc<str>,
    pub clause: &'p Clause,
    pub guard: ClauseGuard,
    pub body: &'p B,
    pub policy_zone: Tz,
}

/// The clauses of `policies` whose body `body` picks, in policy and clause order.
pub(crate) fn plan_kind<'p, B>(
    policies: &'p [Policy],
    body: impl Fn(&'p ClauseBody) -> Option<&'p B>,
) -> Vec<KindPlan<'p, B>> {
    let mut out = Vec::new();
    for (pi, policy) in policies.iter().enumerate() {
        let policy_name: Arc<str> = policy.name.as_str().into();
        for (ci, clause) in policy.clauses.iter().enumerate() {
            let Some(b) = body(&clause.body) else {
                continue;
            };
            out.push(KindPlan {
                clause_ref: ClauseRef {
                    policy: pi,
                    clause: ci,
                },
                policy: policy_name.clone(),
                name: clause.name.as_str().into(),
                clause,
                guard: ClauseGuard::of(&clause.applies),
                body: b,
                policy_zone: policy.zone,
            });
        }
    }
    out
}

/// A cheap test that rules a clause out for a case before its condition is evaluated: the
/// values of [`GUARD_ATTR`] the condition requires (see [`Condition::required_strings`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ClauseGuard(Option<Box<[InlineStr]>>);

impl ClauseGuard {
    pub fn of(condition: &Condition) -> ClauseGuard {
        ClauseGuard(
            condition
                .required_strings(GUARD_ATTR)
                .map(|values| values.into_iter().map(InlineStr::new).collect()),
        )
    }

    /// False only when the condition cannot hold for a case whose guarded attribute is
    /// `value`.
    #[inline]
    pub fn may_hold(&self, value: Option<&Value>) -> bool {
        match (&self.0, value) {
            (None, _) | (Some(_), Some(Value::List(_))) => true,
            (Some(values), Some(Value::String(s))) => values.contains(s),
            (Some(_), _) => false,
        }
    }
}

/// What a case is as of `now`, independent of any clause.
pub(crate) struct CaseView<'e> {
    /// The case's events in canonical order, none after `now`.
    pub events: &'e [Event],
    /// `attrs` of `opened` and every `updated`, later winning: borrowed from the one event that
    /// has them in the common case of a single `opened` and no `updated`.
    pub attrs: Cow<'e, Attrs>,
    pub opened: bool,
    /// Status changes: instant and the new `status` (`None` when the event carries no string
    /// `status`, which ends any pause).
    statuses: Vec<(Instant, Option<&'e str>)>,
    /// The value of [`GUARD_ATTR`], for [`CaseView::applies`].
    guarded: Option<Value>,
}

impl<'e> CaseView<'e> {
    /// `events` must be sorted by [`Event::canonical_cmp`].
    pub fn new(events: &'e [Event]) -> CaseView<'e> {
        let mut attrs: Cow<'e, Attrs> = Cow::Owned(Attrs::new());
        let mut merged = 0;
        let mut opened = false;
        let mut statuses = Vec::new();
        let mut merge = |from: &'e Attrs| {
            merged += 1;
            if merged == 1 {
                attrs = Cow::Borrowed(from);
            } else {
                attrs.to_mut().merge(from);
            }
        };
        for e in events {
            match &*e.kind {
                "opened" => {
                    opened = true;
                    merge(&e.attrs);
                }
                "updated" => merge(&e.attrs),
                "status" => statuses.push((e.at, e.attrs.get("status").and_then(Value::as_str))),
                _ => {}
            }
        }
        let guarded = attrs.get(GUARD_ATTR).cloned();
        CaseView {
            events,
            attrs,
            opened,
            statuses,
            guarded,
        }
    }

    /// A view of a case from its merged attributes and some of its events (those the clauses
    /// asking for the view read), sorted by [`Event::canonical_cmp`]; it has no status timeline.
    pub fn from_parts(events: &'e [Event], attrs: &'e Attrs, opened: bool) -> CaseView<'e> {
        CaseView {
            events,
            attrs: Cow::Borrowed(attrs),
            opened,
            statuses: Vec::new(),
            guarded: attrs.get(GUARD_ATTR).cloned(),
        }
    }

    /// False when the guard alone rules the clause out.
    #[inline]
    pub fn may_apply(&self, guard: &ClauseGuard) -> bool {
        guard.may_hold(self.guarded.as_ref())
    }

    /// Whether a clause with this guard and condition applies to the case.
    #[inline]
    pub fn applies(&self, guard: &ClauseGuard, condition: &Condition) -> bool {
        guard.may_hold(self.guarded.as_ref()) && condition.eval(&self.attrs)
    }

    /// Intervals during which the status is one of `pausing`, clipped to the running clock
    /// `[start, stop)`. A pause still open at the end of the events stays open (`None`).
    fn pauses(&self, pausing: &[String], start: Instant, stop: Option<Instant>) -> Vec<PauseSpan> {
        let mut out = Vec::new();
        let mut since: Option<Instant> = None;
        let push = |from: Instant, until: Option<Instant>, out: &mut Vec<PauseSpan>| {
            let from = from.max(start);
            let until = match (until, stop) {
                (Some(u), Some(s)) => Some(u.min(s)),
                (None, Some(s)) => Some(s),
                (u, None) => u,
            };
            if until.is_none_or(|u| u > from) {
                out.push((from, until));
            }
        };
        for &(at, status) in &self.statuses {
            let pausing_now = status.is_some_and(|s| pausing.iter().any(|p| p == s));
            match (since, pausing_now) {
                (None, true) => since = Some(at),
                (Some(from), false) => {
                    push(from, Some(at), &mut out);
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            push(from, None, &mut out);
        }
        out
    }
}

/// The `now`-independent facts of one cycle of one clause on one case.
#[derive(Debug, Clone)]
pub(crate) struct CycleFacts {
    /// Index into the evaluator's clause plans.
    pub plan: usize,
    pub cycle: u32,
    pub start: Instant,
    pub stop: Option<Instant>,
    pub counting: Counting,
    pub amount: Duration,
    pub zone: Tz,
    pub pauses: Vec<PauseSpan>,
    /// Per stage: the instants of its evidence events, ascending (see [`evidence`]).
    pub evidence: Vec<Box<[Instant]>>,
}

/// Calls `f(start, stop)` for each cycle of `deadline` on the sorted `events`
/// (SEMANTICS.md, "Deadline clauses" and "Reopen"):
/// - cycle 1 starts at the first start event; its stop is the first stop event at or after the
///   start instant (even one sorting before the start event at the same instant);
/// - a `reopened` at or after a cycle's stop starts the next cycle: at the reopen itself when the
///   clause starts at `opened`, else at the first start event at or after the reopen (and after
///   the previous start event); reopens before the stop are skipped;
/// - stop and reopen events are consumed in order, so one never serves two cycles.
///
/// Cycles are bounded by the number of `reopened` events plus one.
pub(crate) fn for_each_cycle(
    events: &[Event],
    deadline: &Deadline,
    mut f: impl FnMut(u32, Instant, Option<Instant>),
) {
    let first_at = |t: Instant| events.partition_point(|e| e.at < t);
    let is_start = |e: &Event| deadline.start.on_case(events, e);
    let is_stop = |e: &Event| deadline.stop.on_case(events, e);
    let Some(mut start_idx) = events.iter().position(is_start) else {
        return;
    };
    let at_opened = deadline.starts_at_opened();
    let mut start = events[start_idx].at;
    let mut stop_from = 0;
    let mut reopen_from = 0;
    let mut cycle = 1u32;
    loop {
        let from = first_at(start).max(stop_from);
        let Some(stop_idx) = (from..events.len()).find(|&i| is_stop(&events[i])) else {
            f(cycle, start, None);
            return;
        };
        let stop = events[stop_idx].at;
        f(cycle, start, Some(stop));
        stop_from = stop_idx + 1;
        let from = first_at(stop).max(reopen_from);
        let Some(reopen_idx) = (from..events.len()).find(|&i| &*events[i].kind == "reopened")
        else {
            return;
        };
        reopen_from = reopen_idx + 1;
        let reopen = events[reopen_idx].at;
        if at_opened {
            start = reopen;
        } else {
            let from = first_at(reopen).max(start_idx + 1);
            let Some(idx) = (from..events.len()).find(|&i| is_start(&events[i])) else {
                return;
            };
            start_idx = idx;
            start = events[idx].at;
        }
        cycle = cycle.saturating_add(1);
    }
}

/// Whether an attribute names `role` (or a channel, an audience): equal to it, or a list
/// containing it.
pub(crate) fn names_role(v: Option<&Value>, role: &str) -> bool {
    match v {
        Some(Value::String(s)) => &**s == role,
        Some(Value::List(items)) => items.iter().any(|i| i.as_str() == Some(role)),
        _ => false,
    }
}

/// The instants (ascending) of the events that show a stage's action was taken:
/// - `escalate`: an `escalated` event whose `to` is the role;
/// - `notify`: a `notified` event whose `to` or `audience` is the role;
/// - `warn`: none needed (informational).
///
/// The action is `done` when one of them is at or after the stage instant: the evidence may come
/// any time after the stage fired, by `now`, even after the clock stopped. The action records the
/// first such instant, so a report shows how soon after the stage it was taken. An escalation
/// *before* the stage instant does not count: the stage asks for an escalation once the point has
/// passed, and an earlier one (say to the same role about another matter) cannot be told apart.
fn evidence(events: &[Event], stage: &Stage) -> Box<[Instant]> {
    events
        .iter()
        .filter(|e| is_stage_evidence(stage, &e.kind, &e.attrs))
        .map(|e| e.at)
        .collect()
}

/// Whether an event of type `kind` with `attrs` shows that `stage`'s action was taken (see
/// [`evidence`]); a warning asks for none.
pub(crate) fn is_stage_evidence(stage: &Stage, kind: &str, attrs: &Attrs) -> bool {
    let role = stage.role.as_str();
    match stage.action {
        ActionKind::Warn => false,
        ActionKind::Escalate => kind == "escalated" && names_role(attrs.get("to"), role),
        ActionKind::Notify => {
            kind == "notified"
                && (names_role(attrs.get("to"), role) || names_role(attrs.get("audience"), role))
        }
    }
}

/// Appends the facts of every cycle of the clause `plans[index]` on the case to `out`.
pub(crate) fn case_facts(
    view: &CaseView<'_>,
    plans: &[ClausePlan<'_>],
    index: usize,
    out: &mut Vec<CycleFacts>,
) {
    let plan = &plans[index];
    if !view.opened || !view.applies(&plan.guard, &plan.clause.applies) {
        return;
    }
    let d = plan.deadline;
    for_each_cycle(view.events, d, |cycle, start, stop| {
        if !plan.clause.holds_at(plan.policy_zone, start) {
            return;
        }
        let (counting, amount, zone) = resolve_limit(&d.limit, start, plan.policy_zone);
        let pauses = match &d.pause {
            Some(p) if !p.statuses.is_empty() => view.pauses(&p.statuses, start, stop),
            _ => Vec::new(),
        };
        let evidence = if d.stages.is_empty() {
            Vec::new()
        } else {
            d.stages.iter().map(|s| evidence(view.events, s)).collect()
        };
        out.push(CycleFacts {
            plan: index,
            cycle,
            start,
            stop,
            counting,
            amount,
            zone,
            pauses,
            evidence,
        });
    });
}

/// Whether the record of these facts can change with `now`: only a clock not stopped can.
impl CycleFacts {
    pub fn depends_on_now(&self) -> bool {
        self.stop.is_none()
    }
}

/// The verdict of a cycle as of `now`, and the actions of its fired stages (appended to
/// `actions`).
pub(crate) fn resolve(
    facts: &CycleFacts,
    plan: &ClausePlan<'_>,
    ticket: &Arc<str>,
    now: Instant,
    actions: &mut Vec<Action>,
) -> Verdict {
    let clock = Clock {
        counting: &facts.counting,
        start: facts.start,
        pauses: &facts.pauses,
        now,
    };
    let (due, paused_time) = clock.reach(facts.amount);
    let (status, overdue_by, time_left) = match facts.stop {
        Some(stop) if stop <= due => (Status::Met, None, None),
        Some(stop) => (Status::Breached, Some(stop - due), None),
        None if now > due => (Status::Breached, Some(now - due), None),
        None => (Status::Pending, None, Some(due - now)),
    };
    let paused = facts.stop.is_none()
        && facts
            .pauses
            .last()
            .is_some_and(|&(from, until)| until.is_none() && from <= now);
    let mut next_stages = Vec::new();
    for (i, stage) in plan.deadline.stages.iter().enumerate() {
        let (at, _) = clock.reach(stage_amount(&stage.point, facts.amount));
        let fired = facts.stop.is_none_or(|s| at < s) && at <= now;
        if !fired {
            if facts.stop.is_none() {
                next_stages.push((i + 1, at));
            }
            continue;
        }
        let evidence = facts.evidence.get(i).and_then(|instants| {
            let first = instants.partition_point(|&e| e < at);
            instants.get(first).copied()
        });
        let status = match (stage.action, evidence) {
            (ActionKind::Warn, _) => ActionStatus::Due,
            (_, Some(_)) => ActionStatus::Done,
            (_, None) => ActionStatus::Missed,
        };
        let sp = &plan.stages[i];
        actions.push(Action {
            ticket: ticket.clone(),
            policy: plan.policy.clone(),
            clause: plan.name.clone(),
            clause_ref: plan.clause_ref,
            cycle: facts.cycle,
            stage: i + 1,
            at,
            kind: stage.action,
            role: sp.role.clone(),
            channels: sp.channels.clone(),
            message: sp.message.clone(),
            status,
            evidence,
            zone: facts.zone,
        });
    }
    Verdict {
        ticket: ticket.clone(),
        policy: plan.policy.clone(),
        clause: plan.name.clone(),
        clause_ref: plan.clause_ref,
        cycle: facts.cycle,
        status,
        start: facts.start,
        due,
        stop: facts.stop,
        paused,
        paused_time,
        zone: facts.zone,
        overdue_by,
        time_left,
        next_stages: {
            next_stages.sort_by_key(|&(stage, at)| (at, stage));
            next_stages
        },
        case_closed: false,
    }
}
