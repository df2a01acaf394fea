//! The end of a stream for period clauses: every record a finished [`PeriodTally`] writes,
//! clause by clause (samples and their draws, measuring and ratio targets, obligations,
//! recurrences), then the compliance counts.

use super::*;

impl PeriodTally<'_> {
    /// Ends the stream: emits every period record, clause by clause (policy and clause order),
    /// then by period and group; compliance counts last.
    pub(crate) fn finish<S: PeriodOut>(
        &mut self,
        now: Option<Instant>,
        sink: &mut S,
        summary: &mut Summary,
    ) {
        self.deferred.clear();
        self.current = None;
        let samples = std::mem::take(&mut self.samples);
        let targets = std::mem::take(&mut self.targets);
        let measures = std::mem::take(&mut self.measures);
        let mut repeats = std::mem::take(&mut self.repeats);
        let mut members = std::mem::take(&mut self.members);
        for (i, plan) in self.plans.iter().enumerate() {
            let counts = summary.clauses.get_mut(plan.summary);
            match &plan.clause.body {
                ClauseBody::Sample(s) => {
                    let mut met = 0;
                    let mut short = 0;
                    for (period, group, (population, done)) in listed(&samples, i, now, plan.zone) {
                        let required = required(s.ratio_permille, population);
                        let status = if population == 0 {
                            SampleStatus::Empty
                        } else if done >= required {
                            met += 1;
                            SampleStatus::Met
                        } else {
                            short += 1;
                            SampleStatus::Short
                        };
                        sink.period(&PeriodRecord::Sample(SampleVerdict {
                            policy: plan.policy.clone(),
                            clause: plan.name.clone(),
                            clause_ref: plan.clause_ref,
                            period,
                            zone: plan.zone,
                            group,
                            role: s.role.as_str().into(),
                            population,
                            required,
                            done,
                            status,
                            missing: required.saturating_sub(done),
                        }));
                    }
                    if let Some(c) = counts {
                        c.met += met;
                        c.findings += short;
                    }
                    if let Some(spec) = self.draw {
                        emit_draws(&mut members, i, plan, s, spec, now, sink);
                    }
                }
                ClauseBody::Target(Target {
                    measure: Measure::Stat(m),
                    ..
                }) => {
                    let ClauseBody::Target(t) = &plan.clause.body else {
                        continue;
                    };
                    let (met, missed) = emit_measures(&measures, i, plan, t, m, now, sink);
                    if let Some(c) = counts {
                        c.met += met;
                        c.findings += missed;
                    }
                }
                ClauseBody::Target(Target {
                    measure: Measure::Obligation(o),
                    ..
                }) => {
                    // The verdicts of the target it names, computed again (they are emitted
                    // in that clause's own turn).
                    let mut theirs: Vec<crate::period::PeriodRecord> = Vec::new();
                    let mut each = false;
                    for &ti in self.obligation_targets.get(&i).into_iter().flatten() {
                        let tp = &self.plans[ti];
                        let ClauseBody::Target(tt) = &tp.clause.body else {
                            continue;
                        };
                        match &tt.measure {
                            Measure::Stat(m) => {
                                each |= m.each.is_some();
                                emit_measures(&measures, ti, tp, tt, m, now, &mut theirs);
                            }
                            Measure::Obligation(_) => {}
                            _ => {
                                emit_ratios(&targets, ti, tp, tt, now, &mut theirs);
                            }
                        }
                    }
                    let (met, missed, pending) =
                        emit_obligations(&self.obligations, i, plan, o, theirs, each, now, sink);
                    if let Some(c) = counts {
                        c.met += met;
                        c.findings += missed;
                        c.pending += pending;
                    }
                }
                ClauseBody::Target(t) => {
                    let (met, missed) = emit_ratios(&targets, i, plan, t, now, sink);
                    if let Some(c) = counts {
                        c.met += met;
                        c.findings += missed;
                    }
                }
                ClauseBody::Repeat(r) => {
                    let Some(state) = repeats.remove(&i) else {
                        continue;
                    };
                    let role: Arc<str> = r.role.as_str().into();
                    let channels: Arc<[Box<str>]> =
                        r.channels.iter().map(|c| c.as_str().into()).collect();
                    let message: Option<Arc<str>> = r.message.as_deref().map(Arc::from);
                    let mut fired = 0;
                    for ((at, ticket), key, cases) in state.into_fired() {
                        fired += 1;
                        sink.period(&PeriodRecord::Repeat(RepeatAction {
                            policy: plan.policy.clone(),
                            clause: plan.name.clone(),
                            clause_ref: plan.clause_ref,
                            ticket,
                            at,
                            key,
                            cases: cases.into_iter().map(|(at, t)| (t, at)).collect(),
                            kind: r.action,
                            role: role.clone(),
                            channels: channels.clone(),
                            message: message.clone(),
                            zone: plan.zone,
                        }));
                    }
                    if let Some(c) = counts {
                        c.actions_due += fired;
                    }
                }
                _ => {}
            }
        }
        for row in std::mem::take(&mut self.compliance).into_values() {
            sink.period(&PeriodRecord::Compliance(row));
        }
    }
}

/// The draws of sampling clause `i` for the requested period, taking its members out of
/// `all_members`.
fn emit_draws<S: PeriodOut>(
    all_members: &mut BTreeMap<Key, Vec<Arc<str>>>,
    i: usize,
    plan: &PeriodPlan<'_>,
    s: &crate::policy::Sample,
    spec: DrawSpec,
    now: Option<Instant>,
    sink: &mut S,
) {
    let members: BTreeMap<Key, Vec<Arc<str>>> = {
        let keys: Vec<Key> = all_members
            .range((i, first_period(), Group::all())..)
            .take_while(|(k, _)| k.0 == i)
            .map(|(k, _)| k.clone())
            .collect();
        keys.into_iter()
            .filter_map(|k| all_members.remove_entry(&k))
            .collect()
    };
    // Every clause period overlapping the requested one is listed, populated or not, up to
    // the one containing `now` (as the report lists periods): a period still to come has no
    // draw yet.
    let mut periods: BTreeSet<CalendarPeriod> = members.keys().map(|k| k.1).collect();
    let last = now.and_then(|n| CalendarPeriod::containing(s.period, plan.zone, n));
    let mut p = CalendarPeriod::of_date(s.period, spec.period.first_date());
    for _ in 0..MAX_LISTED_PERIODS {
        if !p.overlaps(&spec.period) || last.is_some_and(|l| p > l) {
            break;
        }
        periods.insert(p);
        match p.next() {
            Some(n) => p = n,
            None => break,
        }
    }
    for period in periods {
        let mut any = false;
        for ((_, _, group), tickets) in members.iter().filter(|(k, _)| k.1 == period) {
            any = true;
            sink.period(&PeriodRecord::Draw(draw_record(
                plan,
                s,
                period,
                group.clone(),
                tickets,
                spec.seed,
            )));
        }
        // An empty period of a clause that groups has no group to list.
        if !any && s.group_by.is_empty() {
            sink.period(&PeriodRecord::Draw(draw_record(
                plan,
                s,
                period,
                Group::all(),
                &[],
                spec.seed,
            )));
        }
    }
}

fn draw_record(
    plan: &PeriodPlan<'_>,
    s: &crate::policy::Sample,
    period: CalendarPeriod,
    group: Group,
    tickets: &[Arc<str>],
    seed: u64,
) -> SampleDraw {
    let required = required(s.ratio_permille, tickets.len() as u64);
    SampleDraw {
        policy: plan.policy.clone(),
        clause: plan.name.clone(),
        clause_ref: plan.clause_ref,
        period,
        zone: plan.zone,
        group,
        role: s.role.as_str().into(),
        seed,
        population: tickets.len() as u64,
        required,
        drawn: draw(tickets, required, seed),
    }
}

/// The records of measuring target `i`, every listed period and group; returns how many met
/// and how many missed.
fn emit_measures<S: PeriodOut>(
    measures: &BTreeMap<Key, MeasureAcc>,
    i: usize,
    plan: &PeriodPlan<'_>,
    t: &crate::policy::Target,
    m: &crate::policy::StatMeasure,
    now: Option<Instant>,
    sink: &mut S,
) -> (u64, u64) {
    use crate::period::measure::{change_permille, measure_status, whole, year_before};
    use crate::period::records::MeasureOutcome;
    use crate::period::TargetStatus;
    let (mut met, mut missed) = (0, 0);
    for (period, group, acc) in listed(measures, i, now, plan.zone) {
        let value = acc.value(m.statistic);
        let previous = match m.bound {
            crate::policy::StatBound::Change { .. } => year_before(period)
                .and_then(|p| measures.get(&(i, p, group.clone())))
                .and_then(|a| a.value(m.statistic)),
            crate::policy::StatBound::Value { .. } => None,
        };
        let mut status = measure_status(m, value, previous);
        let open = now.is_some_and(|n| period.end(plan.zone).is_some_and(|end| n < end));
        if open && m.statistic == crate::policy::Statistic::Count {
            // A count only grows while its period lasts: only a verdict no later case can
            // change is given before the period ends.
            let settled = matches!(
                (m.bound, status),
                (
                    crate::policy::StatBound::Value { at_least: true, .. },
                    TargetStatus::Met
                ) | (
                    crate::policy::StatBound::Value {
                        at_least: false,
                        ..
                    },
                    TargetStatus::Missed
                )
            );
            if !settled {
                status = TargetStatus::NoVerdict;
            }
        }
        match status {
            TargetStatus::Met => met += 1,
            TargetStatus::Missed => missed += 1,
            TargetStatus::NoVerdict => {}
        }
        sink.period(&PeriodRecord::Target(TargetVerdict {
            policy: plan.policy.clone(),
            clause: plan.name.clone(),
            clause_ref: plan.clause_ref,
            period,
            zone: plan.zone,
            group,
            hits: acc.n,
            total: acc.n + acc.running,
            at_least: t.at_least,
            bound_permille: t.bound_permille,
            status,
            obligation: None,
            measure: Some(MeasureOutcome {
                statistic: m.statistic,
                value: value.map(whole),
                measured: acc.n,
                running: acc.running,
                bound: m.bound,
                previous: previous.map(whole),
                change_permille: value.zip(previous).and_then(|(v, p)| change_permille(v, p)),
            }),
        }));
    }
    (met, missed)
}

/// The records of ratio target `i`, every listed period and group; returns how many met and
/// how many missed.
fn emit_ratios<S: PeriodOut>(
    targets: &BTreeMap<Key, (u64, u64)>,
    i: usize,
    plan: &PeriodPlan<'_>,
    t: &crate::policy::Target,
    now: Option<Instant>,
    sink: &mut S,
) -> (u64, u64) {
    let mut met = 0;
    let mut missed = 0;
    for (period, group, (hits, total)) in listed(targets, i, now, plan.zone) {
        let status = target_status(t.at_least, t.bound_permille, hits, total);
        match status {
            crate::period::TargetStatus::Met => met += 1,
            crate::period::TargetStatus::Missed => missed += 1,
            crate::period::TargetStatus::NoVerdict => {}
        }
        sink.period(&PeriodRecord::Target(TargetVerdict {
            policy: plan.policy.clone(),
            clause: plan.name.clone(),
            clause_ref: plan.clause_ref,
            period,
            zone: plan.zone,
            group,
            hits,
            total,
            at_least: t.at_least,
            bound_permille: t.bound_permille,
            status,
            measure: None,
            obligation: None,
        }));
    }
    (met, missed)
}

/// The records of obligation clause `i`: one per (period, group) its target missed (`missed`,
/// the target's records), with the obligation's outcome; returns how many were met, missed and
/// pending. A group with a missing value owes nothing (see [`super::obligation`]).
#[allow(clippy::too_many_arguments)]
fn emit_obligations<S: PeriodOut>(
    marks: &BTreeSet<Key>,
    i: usize,
    plan: &PeriodPlan<'_>,
    o: &crate::policy::Obligation,
    missed: Vec<PeriodRecord>,
    each: bool,
    now: Option<Instant>,
    sink: &mut S,
) -> (u64, u64, u64) {
    use crate::period::obligation::{due, obligation_status, ObligationStatus};
    let event: Arc<str> = crate::syntax::format_trigger(&o.event).into();
    let target: Arc<str> = o.target.as_str().into();
    let (mut met, mut late, mut pending) = (0, 0, 0);
    for record in missed {
        let PeriodRecord::Target(v) = record else {
            continue;
        };
        if v.status != crate::period::TargetStatus::Missed
            || !v.group.complete()
            || !plan.clause.holds_at(
                plan.zone,
                v.period.start(plan.zone).unwrap_or(Instant::MIN_UTC),
            )
        {
            continue;
        }
        // A count per listed value (`each`) owes per group: the value is not the case's.
        let mut group = v.group.clone();
        if each {
            group.values.pop();
        }
        let Some(due_at) = due(&v.period, v.zone, o.within) else {
            continue;
        };
        let status = obligation_status(marks.contains(&(i, v.period, group)), due_at, now);
        match status {
            ObligationStatus::Met => met += 1,
            ObligationStatus::Missed => late += 1,
            ObligationStatus::Pending => pending += 1,
        }
        sink.period(&PeriodRecord::Target(TargetVerdict {
            policy: plan.policy.clone(),
            clause: plan.name.clone(),
            clause_ref: plan.clause_ref,
            status: match status {
                ObligationStatus::Met => crate::period::TargetStatus::Met,
                ObligationStatus::Missed => crate::period::TargetStatus::Missed,
                ObligationStatus::Pending => crate::period::TargetStatus::NoVerdict,
            },
            obligation: Some(crate::period::records::ObligationOutcome {
                target: target.clone(),
                event: event.clone(),
                within: o.within,
                due: due_at,
                status,
            }),
            ..v
        }));
    }
    (met, late, pending)
}

/// The rows of clause `i`: every period from its first populated one to the one containing
/// `now` (SEMANTICS.md, "Targets"), for every group seen in any period, with zero counts where
/// nothing was tallied.
fn listed<V: Clone + Default>(
    tally: &BTreeMap<Key, V>,
    i: usize,
    now: Option<Instant>,
    zone: Tz,
) -> Vec<(CalendarPeriod, Group, V)> {
    let rows: Vec<(&Key, &V)> = tally
        .range((i, first_period(), Group::all())..)
        .take_while(|(k, _)| k.0 == i)
        .collect();
    let Some(first) = rows.iter().map(|(k, _)| k.1).min() else {
        return Vec::new();
    };
    let groups: BTreeSet<&Group> = rows.iter().map(|(k, _)| &k.2).collect();
    let mut periods: BTreeSet<CalendarPeriod> = rows.iter().map(|(k, _)| k.1).collect();
    let last = now
        .and_then(|n| CalendarPeriod::containing(first.unit, zone, n))
        .into_iter()
        .chain(periods.last().copied())
        .max();
    let mut p = first;
    for _ in 0..MAX_LISTED_PERIODS {
        if last.is_none_or(|l| p > l) {
            break;
        }
        periods.insert(p);
        match p.next() {
            Some(n) => p = n,
            None => break,
        }
    }
    let mut out = Vec::new();
    for period in periods {
        for group in &groups {
            let counts = tally
                .get(&(i, period, (*group).clone()))
                .cloned()
                .unwrap_or_default();
            out.push((period, (*group).clone(), counts));
        }
    }
    out
}
