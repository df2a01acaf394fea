//! The evaluator's side of period clauses: what each settled case contributes to sampling,
//! targets, recurrence rules, duties and windows, tallied per (clause, period, group); the
//! records emitted from the tally at the end of the stream are [`finish`]'s.
//!
//! The streaming [`crate::engine::Evaluator`] owns one [`PeriodTally`] and calls it at three
//! points: when it finishes a case (`PeriodTally::case`), when it emits a deadline verdict
//! (`PeriodTally::verdict`), and at the end (`PeriodTally::finish`). Memory is one counter
//! pair per (clause, period, group), the recurrence windows, and the groups of the cases whose
//! verdicts wait for `now`; never the cases themselves (except the tickets of the one period a
//! draw is asked for).
//!
//! Periods are read in the zone of the clause's policy.

use super::alert::AlertBook;
use super::calendar_period::CalendarPeriod;
use super::draw::draw;
use super::duty::duty_findings;
use super::group::Group;
use super::measure::{add_sample, measure_member, MeasureAcc};
use super::obligation::obligation_marks;
use super::presence::presence_findings;
use super::records::{
    ComplianceCount, PeriodRecord, RepeatAction, SampleDraw, SampleStatus, SampleVerdict,
    TargetVerdict,
};
use super::repeat::{RepeatState, SettleOrder};
use super::sampling::{required, sample_member};
use super::target::{target_member, target_status};
use super::window::window_findings;
use super::PeriodOut;

mod finish;
use crate::calendar::zone;
use crate::eval::case::{CaseView, ClauseGuard, CycleFacts};
use crate::eval::{ClauseRef, Finding, Status, Summary, Verdict};
use crate::event::Instant;
use crate::policy::{Clause, ClauseBody, Measure, PeriodUnit, Policy, Target};
use crate::value::{Attrs, Value};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// At most this many periods are listed per clause from the first populated one to `now`;
/// beyond it (a day clause over decades), only populated periods are listed.
pub const MAX_LISTED_PERIODS: usize = 10_000;

/// A non-deadline clause prepared for evaluation.
#[derive(Debug)]
pub(crate) struct PeriodPlan<'p> {
    pub clause_ref: ClauseRef,
    pub policy: Arc<str>,
    pub name: Arc<str>,
    pub clause: &'p Clause,
    /// Rules the clause out for cases of another `kind` without evaluating its condition.
    pub guard: ClauseGuard,
    /// The policy's zone: periods, wall-clock duty limits and effective dates are read in it.
    pub zone: Tz,
    /// Index of the clause in the summary.
    summary: usize,
}

impl PeriodPlan<'_> {
    pub fn finding(
        &self,
        ticket: &Arc<str>,
        code: &'static str,
        at: Instant,
        message: String,
        zone: Tz,
    ) -> Finding {
        Finding {
            ticket: ticket.clone(),
            policy: self.policy.clone(),
            clause: self.name.clone(),
            clause_ref: self.clause_ref,
            code,
            at,
            message,
            zone,
        }
    }
}

/// What a period report groups deadline verdicts and findings by.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportSpec {
    pub unit: PeriodUnit,
    /// Case attributes; empty: one group.
    pub group_by: Vec<String>,
}

/// A request to draw samples: for every sampling clause, its periods overlapping `period`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawSpec {
    pub period: CalendarPeriod,
    pub seed: u64,
}

/// The groups of one case that its later verdicts need.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct CaseGroups {
    report: Option<Group>,
    /// Per verdict target: the case's group, when the target applies to the case.
    targets: Vec<Option<Group>>,
}

/// A `ratio STATUS of CLAUSE` target: its plan, the deadline clause it counts, the status.
#[derive(Debug)]
struct VerdictTarget {
    plan: usize,
    of: ClauseRef,
    status: Status,
}

type Key = (usize, CalendarPeriod, Group);

/// Per (clause, period, group) tallies of period clauses; see the module doc.
#[derive(Debug)]
pub struct PeriodTally<'p> {
    plans: Vec<PeriodPlan<'p>>,
    /// The sampling plans, by index, and the distinct (period, zone, lag) among them: what
    /// [`PeriodTally::sample_hold_bound`] reads, for every case that closes.
    sample_plans: Vec<usize>,
    sample_shapes: Vec<(PeriodUnit, Tz, chrono::Duration)>,
    /// Sampling: (population, done).
    samples: BTreeMap<Key, (u64, u64)>,
    /// Targets: (hits, total).
    targets: BTreeMap<Key, (u64, u64)>,
    /// Measuring targets: counts, sums and durations (see [`super::measure`]).
    measures: BTreeMap<Key, MeasureAcc>,
    verdict_targets: Vec<VerdictTarget>,
    current: Option<(Arc<str>, CaseGroups)>,
    deferred: HashMap<Arc<str>, CaseGroups>,
    repeats: BTreeMap<usize, RepeatState>,
    /// Where the case being offered settles, when recurrence rules log.
    settle_order: Option<SettleOrder>,
    draw: Option<DrawSpec>,
    members: BTreeMap<Key, Vec<Arc<str>>>,
    report: Option<ReportSpec>,
    compliance: BTreeMap<(ClauseRef, CalendarPeriod, Group), ComplianceCount>,
    /// Zones and names of policies, by index.
    policies: Vec<(Tz, Arc<str>)>,
    /// Names and keywords of every clause, by policy and clause index: a restored compliance
    /// row gets them back from here.
    clause_names: Vec<Vec<(Arc<str>, &'static str)>>,
    findings: Vec<Finding>,
    /// Alert periods seen so far, for `during` duties (see [`super::alert`]).
    alerts: AlertBook,
    policy_list: &'p [Policy],
    /// Obligation clauses: (clause, period, group) marked by an event in its window (see
    /// [`super::obligation`]).
    obligations: BTreeSet<Key>,
    /// Per obligation clause, the plans of the target it names (every version of it).
    obligation_targets: BTreeMap<usize, Vec<usize>>,
}

/// A compliance row as a snapshot holds it: clause, period, group and the four counts.
type ComplianceRow = (ClauseRef, CalendarPeriod, Group, [u64; 4]);

/// The state of a [`PeriodTally`] that an engine snapshot holds, by reference; read back as
/// [`PeriodRestored`]. The draw and report requests of `pledge sample` and `pledge report`
/// are not part of it.
#[derive(serde::Serialize)]
pub(crate) struct PeriodSnapshot<'a> {
    samples: &'a BTreeMap<Key, (u64, u64)>,
    targets: &'a BTreeMap<Key, (u64, u64)>,
    measures: &'a BTreeMap<Key, MeasureAcc>,
    current: &'a Option<(Arc<str>, CaseGroups)>,
    deferred: &'a HashMap<Arc<str>, CaseGroups>,
    repeats: &'a BTreeMap<usize, RepeatState>,
    report: &'a Option<ReportSpec>,
    compliance: Vec<ComplianceRow>,
    alerts: &'a AlertBook,
    obligations: &'a BTreeSet<Key>,
}

#[derive(serde::Deserialize)]
pub(crate) struct PeriodRestored {
    samples: BTreeMap<Key, (u64, u64)>,
    targets: BTreeMap<Key, (u64, u64)>,
    measures: BTreeMap<Key, MeasureAcc>,
    current: Option<(Arc<str>, CaseGroups)>,
    deferred: HashMap<Arc<str>, CaseGroups>,
    repeats: BTreeMap<usize, RepeatState>,
    report: Option<ReportSpec>,
    compliance: Vec<ComplianceRow>,
    alerts: AlertBook,
    obligations: BTreeSet<Key>,
}

impl<'p> PeriodTally<'p> {
    pub(crate) fn snapshot(&self) -> PeriodSnapshot<'_> {
        PeriodSnapshot {
            samples: &self.samples,
            targets: &self.targets,
            measures: &self.measures,
            current: &self.current,
            deferred: &self.deferred,
            repeats: &self.repeats,
            report: &self.report,
            compliance: self
                .compliance
                .iter()
                .map(|((c, p, g), row)| {
                    let counts = [row.met, row.breached, row.pending, row.findings];
                    (*c, *p, g.clone(), counts)
                })
                .collect(),
            alerts: &self.alerts,
            obligations: &self.obligations,
        }
    }

    /// Takes the state of `other`, a tally of the same policies (see
    /// [`crate::engine::Evaluator::fork`]): everything but what the policies imply.
    pub(crate) fn copy_from(&mut self, other: &PeriodTally<'_>) {
        self.samples = other.samples.clone();
        self.targets = other.targets.clone();
        self.measures = other.measures.clone();
        self.current = other.current.clone();
        self.deferred = other.deferred.clone();
        self.repeats = other.repeats.clone();
        self.draw = other.draw;
        self.members = other.members.clone();
        self.report = other.report.clone();
        self.compliance = other.compliance.clone();
        self.findings = other.findings.clone();
        self.alerts = other.alerts.clone();
        self.obligations = other.obligations.clone();
    }

    pub(crate) fn restore(&mut self, state: PeriodRestored) {
        self.samples = state.samples;
        self.targets = state.targets;
        self.measures = state.measures;
        self.current = state.current;
        self.deferred = state.deferred;
        self.repeats = state.repeats;
        self.report = state.report;
        self.alerts = state.alerts;
        self.obligations = state.obligations;
        self.compliance.clear();
        for (clause_ref, period, group, counts) in state.compliance {
            self.add_compliance(clause_ref, period, group, counts);
        }
    }

    /// Adds counts to a compliance row, making the row if it is new.
    fn add_compliance(
        &mut self,
        clause_ref: ClauseRef,
        period: CalendarPeriod,
        group: Group,
        [met, breached, pending, findings]: [u64; 4],
    ) {
        let zone = self.zone_of(clause_ref);
        let policy = self
            .policies
            .get(clause_ref.policy)
            .map_or_else(|| Arc::from(""), |p| p.1.clone());
        let (clause, kind) = self
            .clause_names
            .get(clause_ref.policy)
            .and_then(|c| c.get(clause_ref.clause))
            .cloned()
            .unwrap_or_else(|| (Arc::from(""), "deadline"));
        let key = (clause_ref, period, group.clone());
        let row = self
            .compliance
            .entry(key)
            .or_insert_with(|| compliance(policy, clause, clause_ref, kind, period, zone, group));
        row.met += met;
        row.breached += breached;
        row.pending += pending;
        row.findings += findings;
    }

    /// For a partition of a split check: recurrence rules log the cases offered to them, with
    /// where each settled ([`PeriodTally::settling`]), for [`PeriodTally::replay_repeats`].
    pub(crate) fn log_repeats(&mut self) {
        for state in self.repeats.values_mut() {
            state.log = Some(Vec::new());
        }
    }

    /// No earlier than [`PeriodTally::sample_hold`] for a case whose guard attribute is `kind`
    /// and whose latest event is at `latest` (its first population event is no later): the end
    /// of the period containing `latest` plus the lag, over the shapes of the sampling clauses,
    /// when one of them may apply. `None` when none may. Cheap: no view of the case is built.
    pub(crate) fn sample_hold_bound(
        &self,
        kind: Option<&Value>,
        latest: Instant,
    ) -> Option<Instant> {
        if !self
            .sample_plans
            .iter()
            .any(|&i| self.plans[i].guard.may_hold(kind))
        {
            return None;
        }
        self.sample_shapes
            .iter()
            .filter_map(|&(unit, zone, lag)| {
                CalendarPeriod::containing(unit, zone, latest)?
                    .end(zone)?
                    .checked_add_signed(lag)
            })
            .max()
    }

    /// The latest instant a check may still count for a sample the case is a member of: the
    /// end of that sample's period plus its lag (SEMANTICS.md: a check counts "within the
    /// period or the allowed lag"). A closed case is kept until then, so that a check made
    /// late in a long period is not rejected as after the retention. `None` when it is a
    /// member of none.
    pub(crate) fn sample_hold(&self, view: &CaseView<'_>) -> Option<Instant> {
        self.plans
            .iter()
            .filter(|plan| view.may_apply(&plan.guard))
            .filter_map(|plan| {
                let ClauseBody::Sample(s) = &plan.clause.body else {
                    return None;
                };
                let m = sample_member(plan.clause, s, plan.zone, view)?;
                m.period.end(plan.zone)?.checked_add_signed(s.lag)
            })
            .max()
    }

    /// Whether recurrence rules log (see [`PeriodTally::log_repeats`]).
    pub(crate) fn logs_repeats(&self) -> bool {
        self.repeats.values().any(|s| s.log.is_some())
    }

    /// Where the case about to be offered settles, when recurrence rules log.
    pub(crate) fn settling(&mut self, order: SettleOrder) {
        self.settle_order = Some(order);
    }

    /// The recurrence rules of this tally and of `others` (the partitions of one split check,
    /// all logging) as one evaluator has them: their logs replayed in settling order. Leaves
    /// `others` without recurrence state.
    pub(crate) fn replay_repeats(&mut self, others: &mut [&mut PeriodTally<'_>]) {
        for (i, state) in self.repeats.iter_mut() {
            let Some(ClauseBody::Repeat(r)) = self.plans.get(*i).map(|p| &p.clause.body) else {
                continue;
            };
            // Not logging: the partitions' candidates are merged instead (see `absorb`).
            let Some(mine) = state.log.take() else {
                continue;
            };
            let mut logs = vec![mine];
            for other in others.iter_mut() {
                if let Some(theirs) = other.repeats.remove(i) {
                    logs.push(theirs.log.unwrap_or_default());
                }
            }
            *state = RepeatState::replayed(logs, r.times, r.within);
        }
        self.settle_order = None;
    }

    /// Under a partition of the tickets, recurrence rules keep every candidate, so that the
    /// partitions' states can be merged (see [`super::repeat`]).
    pub(crate) fn keep_repeat_candidates(&mut self, keep: bool) {
        for state in self.repeats.values_mut() {
            state.keep_all = keep;
        }
    }

    /// Adds the state of another partition of the same policies: counts add, cases kept for
    /// later verdicts join, recurrence candidates are merged and the rules run again over
    /// their union (see [`super::repeat`]), draw members join.
    pub(crate) fn absorb(&mut self, other: &mut PeriodTally<'_>) {
        for (key, (a, b)) in std::mem::take(&mut other.samples) {
            let slot = self.samples.entry(key).or_default();
            slot.0 += a;
            slot.1 += b;
        }
        for (key, (a, b)) in std::mem::take(&mut other.targets) {
            let slot = self.targets.entry(key).or_default();
            slot.0 += a;
            slot.1 += b;
        }
        for (key, acc) in std::mem::take(&mut other.measures) {
            self.measures.entry(key).or_default().absorb(acc);
        }
        self.deferred.extend(std::mem::take(&mut other.deferred));
        if let Some((ticket, groups)) = other.current.take() {
            self.deferred.entry(ticket).or_insert(groups);
        }
        let mut theirs = std::mem::take(&mut other.repeats);
        for (i, state) in self.repeats.iter_mut() {
            let (Some(other_state), Some(ClauseBody::Repeat(r))) =
                (theirs.remove(i), self.plans.get(*i).map(|p| &p.clause.body))
            else {
                continue;
            };
            let mine = std::mem::take(state);
            *state = RepeatState::merged(vec![mine, other_state], r.times, r.within);
        }
        self.alerts.absorb(std::mem::take(&mut other.alerts));
        // A mark is a fact about one event: the union is what one instance would have.
        self.obligations
            .extend(std::mem::take(&mut other.obligations));
        for (key, tickets) in std::mem::take(&mut other.members) {
            self.members.entry(key).or_default().extend(tickets);
        }
        for ((c, p, g), row) in std::mem::take(&mut other.compliance) {
            let counts = [row.met, row.breached, row.pending, row.findings];
            self.add_compliance(c, p, g, counts);
        }
    }

    /// The period report this tally was asked for, if any.
    pub(crate) fn report_spec(&self) -> Option<&ReportSpec> {
        self.report.as_ref()
    }

    /// The tally of the non-deadline clauses of `policies`; `summary` indexes the clauses of
    /// the evaluator's summary.
    pub(crate) fn new(policies: &'p [Policy], summary: &Summary) -> PeriodTally<'p> {
        let mut plans = Vec::new();
        let mut verdict_targets = Vec::new();
        let mut repeats = BTreeMap::new();
        for (pi, policy) in policies.iter().enumerate() {
            let policy_name: Arc<str> = policy.name.as_str().into();
            for (ci, clause) in policy.clauses.iter().enumerate() {
                if matches!(
                    clause.body,
                    ClauseBody::Deadline(_) | ClauseBody::Notify(_) | ClauseBody::Record(_)
                ) {
                    continue;
                }
                let clause_ref = ClauseRef {
                    policy: pi,
                    clause: ci,
                };
                let index = plans.len();
                match &clause.body {
                    ClauseBody::Target(t) => {
                        if let Measure::Verdicts { status, clause: of } = &t.measure {
                            let status = match status.as_str() {
                                "met" => Status::Met,
                                "breached" => Status::Breached,
                                _ => Status::Pending,
                            };
                            if let Some(oi) = policy.clauses.iter().position(|c| &c.name == of) {
                                verdict_targets.push(VerdictTarget {
                                    plan: index,
                                    of: ClauseRef {
                                        policy: pi,
                                        clause: oi,
                                    },
                                    status,
                                });
                            }
                        }
                    }
                    ClauseBody::Repeat(_) => {
                        repeats.insert(index, RepeatState::default());
                    }
                    _ => {}
                }
                plans.push(PeriodPlan {
                    clause_ref,
                    policy: policy_name.clone(),
                    name: clause.name.as_str().into(),
                    clause,
                    guard: ClauseGuard::of(&clause.applies),
                    zone: policy.zone,
                    summary: summary
                        .clauses
                        .iter()
                        .position(|c| c.clause_ref == clause_ref)
                        .unwrap_or(usize::MAX),
                });
            }
        }
        let obligation_targets = obligation_targets(&plans);
        let sample_plans: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p.clause.body, ClauseBody::Sample(_)))
            .map(|(i, _)| i)
            .collect();
        let mut sample_shapes = Vec::new();
        for &i in &sample_plans {
            if let ClauseBody::Sample(s) = &plans[i].clause.body {
                let shape = (s.period, plans[i].zone, s.lag);
                if !sample_shapes.contains(&shape) {
                    sample_shapes.push(shape);
                }
            }
        }
        PeriodTally {
            plans,
            sample_plans,
            sample_shapes,
            samples: BTreeMap::new(),
            targets: BTreeMap::new(),
            measures: BTreeMap::new(),
            verdict_targets,
            current: None,
            deferred: HashMap::new(),
            repeats,
            settle_order: None,
            draw: None,
            members: BTreeMap::new(),
            report: None,
            compliance: BTreeMap::new(),
            policies: policies
                .iter()
                .map(|p| (p.zone, Arc::from(p.name.as_str())))
                .collect(),
            clause_names: policies
                .iter()
                .map(|p| {
                    p.clauses
                        .iter()
                        .map(|c| (Arc::from(c.name.as_str()), c.body.keyword()))
                        .collect()
                })
                .collect(),
            findings: Vec::new(),
            alerts: AlertBook::new(policies),
            policy_list: policies,
            obligations: BTreeSet::new(),
            obligation_targets,
        }
    }

    /// Notes the alert periods the events of one case at one instant open or lift (see
    /// [`super::alert`]); `case` is the case's attributes at the end of the instant.
    /// The alert periods noted so far.
    pub(crate) fn alerts(&self) -> &AlertBook {
        &self.alerts
    }

    /// Follows the alert periods of `other`, noted by another evaluator at the same stream time
    /// ([`AlertBook::follow`]).
    pub(crate) fn follow_alerts(&mut self, other: &AlertBook) {
        self.alerts.follow(other);
    }

    pub(crate) fn note_alerts(
        &mut self,
        ticket: &str,
        case: &Attrs,
        batch: &[crate::event::Event],
    ) {
        if !self.alerts.is_empty() {
            self.alerts.apply(self.policy_list, ticket, case, batch);
        }
    }

    /// Also tally deadline verdicts and findings per period and group, for a period report
    /// ([`PeriodRecord::Compliance`] records).
    pub fn report_by(&mut self, spec: ReportSpec) {
        self.report = Some(spec);
    }

    /// The attributes a period report groups by (empty without one).
    pub(crate) fn report_group_by(&self) -> &[String] {
        self.report.as_ref().map_or(&[], |r| &r.group_by[..])
    }

    /// Also draw samples for the periods overlapping `spec.period` ([`PeriodRecord::Draw`]
    /// records). Keeps the tickets of those periods' populations until the end.
    pub fn draw_for(&mut self, spec: DrawSpec) {
        self.draw = Some(spec);
    }

    /// A settled case: its contributions, and its duty and window findings (emitted now).
    /// `facts` are the case's deadline cycles; those depending on `now` while `known_now` is
    /// `None` will be emitted later, so the case's groups are kept for them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn case<S: PeriodOut>(
        &mut self,
        ticket: &Arc<str>,
        view: &CaseView<'_>,
        facts: &[CycleFacts],
        known_now: Option<Instant>,
        fallback_now: Instant,
        sink: &mut S,
        summary: &mut Summary,
    ) {
        if !view.opened {
            return;
        }
        let groups = self.groups_for(&view.attrs);
        // Verdicts resolved at the end of the stream find their case's groups here; a case with
        // no group that a verdict could count in needs no entry.
        let has_groups = groups.report.is_some() || groups.targets.iter().any(Option::is_some);
        if has_groups && known_now.is_none() && facts.iter().any(CycleFacts::depends_on_now) {
            self.deferred.insert(ticket.clone(), groups.clone());
        }
        let report_group = groups.report.clone();
        self.current = Some((ticket.clone(), groups));

        let now = known_now.unwrap_or(fallback_now);
        let mut findings = std::mem::take(&mut self.findings);
        findings.clear();
        let mut met = Vec::new();
        let mut met_checks: Vec<(usize, Instant)> = Vec::new();
        for (i, plan) in self.plans.iter().enumerate() {
            if !view.may_apply(&plan.guard) {
                continue;
            }
            match &plan.clause.body {
                ClauseBody::Sample(s) => {
                    let Some(m) = sample_member(plan.clause, s, plan.zone, view) else {
                        continue;
                    };
                    if let Some(d) = &self.draw {
                        if m.period.overlaps(&d.period) {
                            let key = (i, m.period, m.group.clone());
                            self.members.entry(key).or_default().push(ticket.clone());
                        }
                    }
                    let slot = self.samples.entry((i, m.period, m.group)).or_default();
                    slot.0 += 1;
                    slot.1 += u64::from(m.done);
                }
                ClauseBody::Target(Target {
                    measure: Measure::Stat(m),
                    ..
                }) => {
                    let ClauseBody::Target(t) = &plan.clause.body else {
                        continue;
                    };
                    for (period, group, sample) in
                        measure_member(plan.clause, t, m, plan.zone, view)
                    {
                        let acc = self.measures.entry((i, period, group)).or_default();
                        add_sample(acc, m, sample);
                    }
                }
                ClauseBody::Target(Target {
                    measure: Measure::Obligation(o),
                    ..
                }) => {
                    let Some((unit, group_by)) = self.obligation_scope(i) else {
                        continue;
                    };
                    for (period, group, _) in
                        obligation_marks(plan.clause, o, unit, group_by, plan.zone, view)
                    {
                        self.obligations.insert((i, period, group));
                    }
                }
                ClauseBody::Target(t) => {
                    let Measure::Events { success, among } = &t.measure else {
                        continue;
                    };
                    let Some(m) = target_member(plan.clause, t, success, among, plan.zone, view)
                    else {
                        continue;
                    };
                    let slot = self.targets.entry((i, m.period, m.group)).or_default();
                    slot.0 += u64::from(m.hit);
                    slot.1 += 1;
                }
                ClauseBody::Repeat(r) => {
                    if !view.applies(&plan.guard, &plan.clause.applies) {
                        continue;
                    }
                    let key = Group::of(&r.same, &view.attrs);
                    let opened = view.events.iter().find(|e| &*e.kind == "opened");
                    let (Some(opened), true) = (opened, key.complete()) else {
                        continue;
                    };
                    if !plan.clause.holds_at(plan.zone, opened.at) {
                        continue;
                    }
                    if let Some(state) = self.repeats.get_mut(&i) {
                        match (&mut state.log, &self.settle_order) {
                            (Some(log), Some(order)) => {
                                log.push((order.clone(), key, (opened.at, ticket.clone())))
                            }
                            _ => state.add(key, (opened.at, ticket.clone()), r.times, r.within),
                        }
                    }
                }
                ClauseBody::Every(d) => {
                    duty_findings(
                        plan,
                        d,
                        view,
                        ticket,
                        now,
                        &self.alerts,
                        &mut findings,
                        &mut met,
                    );
                }
                ClauseBody::Window(w) => {
                    window_findings(plan, w, view, ticket, &mut findings, &mut met);
                    presence_findings(plan, w, view, ticket, now, &mut findings, &mut met);
                }
                ClauseBody::Deadline(_) | ClauseBody::Notify(_) | ClauseBody::Record(_) => {}
            }
            met_checks.extend(met.drain(..).map(|at| (i, at)));
        }
        // Checks met by duties and windows: counted in the summary's `met` and in the report's
        // row of the period of their instant.
        for &(i, at) in &met_checks {
            let plan = &self.plans[i];
            if let Some(c) = summary.clauses.get_mut(plan.summary) {
                c.met += 1;
            }
            if let (Some(spec), Some(group)) = (&self.report, &report_group) {
                if let Some(period) = CalendarPeriod::containing(spec.unit, plan.zone, at) {
                    let key = (plan.clause_ref, period, group.clone());
                    let (policy, clause, kind) = (
                        plan.policy.clone(),
                        plan.name.clone(),
                        plan.clause.body.keyword(),
                    );
                    let zone = plan.zone;
                    self.compliance
                        .entry(key)
                        .or_insert_with(|| {
                            compliance(
                                policy,
                                clause,
                                plan.clause_ref,
                                kind,
                                period,
                                zone,
                                group.clone(),
                            )
                        })
                        .met += 1;
                }
            }
        }
        for f in &findings {
            if let Some(plan) = self.plans.iter().find(|p| p.clause_ref == f.clause_ref) {
                if let Some(c) = summary.clauses.get_mut(plan.summary) {
                    c.findings += 1;
                }
                if let (Some(spec), Some(group)) = (&self.report, &report_group) {
                    if let Some(period) = CalendarPeriod::containing(spec.unit, plan.zone, f.at) {
                        let key = (f.clause_ref, period, group.clone());
                        let zone = plan.zone;
                        let (policy, clause, kind) = (
                            plan.policy.clone(),
                            plan.name.clone(),
                            plan.clause.body.keyword(),
                        );
                        self.compliance
                            .entry(key)
                            .or_insert_with(|| {
                                compliance(
                                    policy,
                                    clause,
                                    f.clause_ref,
                                    kind,
                                    period,
                                    zone,
                                    group.clone(),
                                )
                            })
                            .findings += 1;
                    }
                }
            }
            sink.finding(f);
        }
        self.findings = findings;
    }

    /// A finding of a notification clause, as it is emitted: counted in the report's row of its
    /// clause, period (of the instant it is about) and the case's group.
    pub(crate) fn notice_finding(&mut self, f: &Finding) {
        self.clause_finding(f, "notify");
    }

    /// A record clause's finding, counted as a notice's is.
    pub(crate) fn record_finding(&mut self, f: &Finding) {
        self.clause_finding(f, "record");
    }

    fn clause_finding(&mut self, f: &Finding, kind: &'static str) {
        let Some(spec) = &self.report else {
            return;
        };
        let groups = groups_of(&self.current, &self.deferred, &f.ticket);
        let Some(group) = groups.and_then(|g| g.report.as_ref()) else {
            return;
        };
        let zone = self.zone_of(f.clause_ref);
        let Some(period) = CalendarPeriod::containing(spec.unit, zone, f.at) else {
            return;
        };
        let key = (f.clause_ref, period, group.clone());
        self.compliance
            .entry(key)
            .or_insert_with(|| {
                compliance(
                    f.policy.clone(),
                    f.clause.clone(),
                    f.clause_ref,
                    kind,
                    period,
                    zone,
                    group.clone(),
                )
            })
            .findings += 1;
    }

    /// The period unit and groups of obligation clause `i`: those of the target it names.
    fn obligation_scope(&self, i: usize) -> Option<(PeriodUnit, &'p [String])> {
        let first = *self.obligation_targets.get(&i)?.first()?;
        let ClauseBody::Target(t) = &self.plans[first].clause.body else {
            return None;
        };
        Some((t.period, &t.group_by[..]))
    }

    /// The zone of a clause's policy.
    fn zone_of(&self, clause: ClauseRef) -> Tz {
        self.policies
            .get(clause.policy)
            .map_or(crate::calendar::DEFAULT_ZONE, |p| p.0)
    }

    /// Keeps the groups of the case just tallied for the findings it will give at the end of
    /// the stream.
    pub(crate) fn keep_current_groups(&mut self) {
        if self.report.is_none() {
            return;
        }
        if let Some((ticket, groups)) = &self.current {
            if groups.report.is_some() {
                self.deferred.insert(ticket.clone(), groups.clone());
            }
        }
    }

    /// The groups a case with these attributes counts in.
    fn groups_for(&self, attrs: &Attrs) -> CaseGroups {
        CaseGroups {
            report: self.report.as_ref().map(|r| Group::of(&r.group_by, attrs)),
            targets: self
                .verdict_targets
                .iter()
                .map(|vt| {
                    let c = self.plans[vt.plan].clause;
                    let ClauseBody::Target(t) = &c.body else {
                        return None;
                    };
                    c.applies.eval(attrs).then(|| Group::of(&t.group_by, attrs))
                })
                .collect(),
        }
    }

    /// A deadline verdict, as it is emitted, of a case whose groups were kept (see
    /// [`PeriodTally::case`]).
    pub(crate) fn verdict(&mut self, v: &Verdict) {
        if self.verdict_targets.is_empty() && self.report.is_none() {
            return;
        }
        let Some(groups) = groups_of(&self.current, &self.deferred, &v.ticket).cloned() else {
            return;
        };
        self.count_verdict(v, &groups);
    }

    /// A deadline verdict, as it is emitted, of a case with these attributes.
    pub(crate) fn verdict_in(&mut self, v: &Verdict, attrs: &Attrs) {
        if self.verdict_targets.is_empty() && self.report.is_none() {
            return;
        }
        let groups = self.groups_for(attrs);
        self.count_verdict(v, &groups);
    }

    fn count_verdict(&mut self, v: &Verdict, groups: &CaseGroups) {
        let zone = self.zone_of(v.clause_ref);
        for (j, vt) in self.verdict_targets.iter().enumerate() {
            if vt.of != v.clause_ref {
                continue;
            }
            let Some(Some(group)) = groups.targets.get(j) else {
                continue;
            };
            let plan = &self.plans[vt.plan];
            let ClauseBody::Target(t) = &plan.clause.body else {
                continue;
            };
            if !plan.clause.holds_at(plan.zone, v.start) {
                continue;
            }
            let Some(period) = CalendarPeriod::containing(t.period, plan.zone, v.start) else {
                continue;
            };
            let slot = self
                .targets
                .entry((vt.plan, period, group.clone()))
                .or_default();
            slot.0 += u64::from(v.status == vt.status);
            slot.1 += 1;
        }
        if let (Some(spec), Some(group)) = (&self.report, &groups.report) {
            if let Some(period) = CalendarPeriod::containing(spec.unit, zone, v.start) {
                let key = (v.clause_ref, period, group.clone());
                let row = self.compliance.entry(key).or_insert_with(|| {
                    compliance(
                        v.policy.clone(),
                        v.clause.clone(),
                        v.clause_ref,
                        "deadline",
                        period,
                        zone,
                        group.clone(),
                    )
                });
                match v.status {
                    Status::Met => row.met += 1,
                    Status::Breached => row.breached += 1,
                    Status::Pending => row.pending += 1,
                }
            }
        }
    }
}

/// Per obligation clause, the plans of the target clause of the same policy it names: every
/// version of it (clauses sharing a name have disjoint `effective` dates), obligations left out.
fn obligation_targets(plans: &[PeriodPlan<'_>]) -> BTreeMap<usize, Vec<usize>> {
    let mut out = BTreeMap::new();
    for (i, plan) in plans.iter().enumerate() {
        let ClauseBody::Target(Target {
            measure: Measure::Obligation(o),
            ..
        }) = &plan.clause.body
        else {
            continue;
        };
        let named: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.clause_ref.policy == plan.clause_ref.policy
                    && *p.name == *o.target
                    && matches!(&p.clause.body, ClauseBody::Target(t) if !matches!(t.measure, Measure::Obligation(_)))
            })
            .map(|(j, _)| j)
            .collect();
        out.insert(i, named);
    }
    out
}

/// The smallest period, to start range scans of a clause's keys.
fn first_period() -> CalendarPeriod {
    CalendarPeriod::of_date(PeriodUnit::Day, chrono::NaiveDate::MIN)
}

/// The groups of `ticket`: the case being tallied, or one kept for what it emits at the end.
fn groups_of<'a>(
    current: &'a Option<(Arc<str>, CaseGroups)>,
    deferred: &'a HashMap<Arc<str>, CaseGroups>,
    ticket: &Arc<str>,
) -> Option<&'a CaseGroups> {
    match current {
        Some((t, g)) if t == ticket => Some(g),
        _ => deferred.get(ticket),
    }
}

fn compliance(
    policy: Arc<str>,
    clause: Arc<str>,
    clause_ref: ClauseRef,
    kind: &'static str,
    period: CalendarPeriod,
    zone: Tz,
    group: Group,
) -> ComplianceCount {
    ComplianceCount {
        policy,
        clause,
        clause_ref,
        kind,
        period,
        zone,
        group,
        met: 0,
        breached: 0,
        pending: 0,
        findings: 0,
    }
}

/// `[start, end]` clipped to the clause's `effective` dates; `None` when nothing is left.
pub(crate) fn clip_effective(
    clause: &Clause,
    zone: Tz,
    start: Instant,
    end: Instant,
) -> Option<(Instant, Instant)> {
    let eff = &clause.effective;
    let start = match eff.from.and_then(|d| zone::start_of(zone, d)) {
        Some(from) => start.max(from),
        None => start,
    };
    let end = match eff.until.and_then(|d| zone::start_of(zone, d)) {
        Some(until) => end.min(until),
        None => end,
    };
    (start <= end).then_some((start, end))
}

pub(crate) use crate::eval::case::names_role;

/// The duty and window findings of one case as of `now`, for [`crate::engine::evaluate_case_full`].
pub(crate) fn case_findings(
    policies: &[Policy],
    view: &CaseView<'_>,
    ticket: &Arc<str>,
    now: Instant,
    out: &mut Vec<Finding>,
) {
    let summary = Summary::default();
    let tally = PeriodTally::new(policies, &summary);
    let mut met = Vec::new();
    for plan in &tally.plans {
        match &plan.clause.body {
            ClauseBody::Every(d) => {
                duty_findings(plan, d, view, ticket, now, &tally.alerts, out, &mut met)
            }
            ClauseBody::Window(w) => {
                window_findings(plan, w, view, ticket, out, &mut met);
                presence_findings(plan, w, view, ticket, now, out, &mut met);
            }
            _ => {}
        }
    }
}
