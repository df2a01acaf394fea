//! Judging a case: which plans apply to it, the facts of a cycle, and the verdicts, actions and
//! findings emitted for it (with the counts of the summary and the calendars' coverage).

use super::*;
use crate::policy::{ClauseBody, DutyRule};

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Whether `plan` applies to the case as it is now, for a cycle started at `start`.
    pub(super) fn applies(&self, case: &CaseState, plan: usize, start: Instant) -> bool {
        let p = &self.plans[plan];
        p.guard
            .may_hold(case.attrs.get(crate::eval::case::GUARD_ATTR))
            && p.clause.applies.eval(&case.attrs)
            && p.clause.holds_at(p.policy_zone, start)
    }

    pub(super) fn facts(
        &self,
        case: &CaseState,
        plan: usize,
        cycle: u32,
        start: Instant,
        stop: Option<Instant>,
        pauses: Vec<PauseSpan>,
    ) -> CycleFacts {
        let p = &self.plans[plan];
        let (counting, amount, zone) = resolve_limit(&p.deadline.limit, start, p.policy_zone);
        CycleFacts {
            plan,
            cycle,
            start,
            stop,
            counting,
            amount,
            zone,
            pauses,
            evidence: if p.deadline.stages.is_empty() {
                Vec::new()
            } else {
                self.stage_evidence(case, plan)
            },
        }
    }

    /// Judges a cycle of `plan` that stopped, as of `now`, with the case as it is now.
    pub(super) fn cycle_stopped(
        &mut self,
        ticket: &Arc<str>,
        case: &CaseState,
        plan: u32,
        st: Stopped,
        now: Instant,
    ) {
        let plan = plan as usize;
        if !self.applies(case, plan, st.start) {
            return;
        }
        let pauses = st.pause_list();
        let facts = self.facts(case, plan, st.cycle, st.start, Some(st.stop), pauses);
        self.emit(
            ticket,
            &facts,
            now,
            Some(&case.attrs),
            case.closed.is_some(),
        );
    }

    /// Evaluates the record clauses on a settled case. Their findings do not depend on `now`
    /// (see `eval::record`), so they are emitted at once.
    pub(super) fn records_of_case(&mut self, ticket: &Arc<str>, view: &CaseView<'_>, now: Instant) {
        if self.records.is_empty() {
            return;
        }
        self.findings.clear();
        let standings = record::case_findings(view, &self.records, ticket, now, &mut self.findings);
        for (plan, standing) in standings {
            let counts = &mut self.summary.clauses[self.record_summary[plan]];
            match standing {
                record::Standing::Met => counts.met += 1,
                record::Standing::Breached => counts.breached += 1,
                record::Standing::Pending => counts.pending += 1,
            }
        }
        notify::sort_findings(&mut self.findings);
        for finding in &self.findings {
            let index = self
                .records
                .iter()
                .position(|p| p.clause_ref == finding.clause_ref)
                .map_or(0, |i| self.record_summary[i]);
            self.summary.clauses[index].findings += 1;
            self.periods.record_finding(finding);
            self.sink.finding(finding);
        }
    }

    /// Evaluates the notification clauses on a case: now when `now` is known or cannot change
    /// the findings, else at the end of the stream (all of the case's together, so its findings
    /// keep their order).
    pub(super) fn notices_of_case(
        &mut self,
        ticket: &Arc<str>,
        view: &CaseView<'_>,
        now: Option<Instant>,
    ) {
        if self.notices.is_empty() {
            return;
        }
        let mut facts = Vec::new();
        notify::case_facts(view, &self.notices, &mut facts);
        if facts.is_empty() {
            return;
        }
        let settled = self
            .watermark
            .filter(|&w| facts.iter().all(|f| f.settled_by(w)));
        match now.or(settled) {
            Some(now) => self.emit_findings(ticket, &facts, now),
            None => {
                self.periods.keep_current_groups();
                self.deferred_notices.push((ticket.clone(), facts));
            }
        }
    }

    pub(super) fn emit_findings(&mut self, ticket: &Arc<str>, facts: &[NoticeFacts], now: Instant) {
        self.findings.clear();
        for f in facts {
            let notice = self.notices[f.plan].body;
            if let (Some(due), Some(calendar)) =
                (f.due, notice.limit.as_ref().and_then(holiday_calendar))
            {
                self.note_coverage(calendar, due);
            }
            notify::resolve(f, &self.notices[f.plan], ticket, now, &mut self.findings);
        }
        notify::sort_findings(&mut self.findings);
        for finding in &self.findings {
            let index = self
                .notices
                .iter()
                .position(|p| p.clause_ref == finding.clause_ref)
                .map_or(0, |i| self.notice_summary[i]);
            self.summary.clauses[index].findings += 1;
            self.periods.notice_finding(finding);
            self.sink.finding(finding);
        }
    }

    /// Resolves a cycle as of `now` and emits its verdict and actions; `attrs` are the case's,
    /// for the period tallies (`None`: the tally kept the case's groups).
    pub(super) fn emit(
        &mut self,
        ticket: &Arc<str>,
        facts: &CycleFacts,
        now: Instant,
        attrs: Option<&Attrs>,
        closed: bool,
    ) {
        self.actions.clear();
        let mut verdict = resolve(
            facts,
            &self.plans[facts.plan],
            ticket,
            now,
            &mut self.actions,
        );
        verdict.case_closed = closed;
        // The deadline is the policy's, not the evaluator's: no borrow of `self` is held.
        let deadline = self.plans[facts.plan].deadline;
        if let Some(calendar) = holiday_calendar(&deadline.limit) {
            self.note_coverage(calendar, verdict.start);
            self.note_coverage(calendar, verdict.due);
        }
        let counts = &mut self.summary.clauses[self.plan_summary[facts.plan]];
        match verdict.status {
            Status::Met => counts.met += 1,
            Status::Breached => counts.breached += 1,
            Status::Pending => counts.pending += 1,
        }
        match attrs {
            Some(attrs) => {
                self.periods.verdict_in(&verdict, attrs);
                self.sink.case_attrs(ticket, attrs);
            }
            None => self.periods.verdict(&verdict),
        }
        self.sink.verdict(&verdict);
        let actions = std::mem::take(&mut self.actions);
        for action in &actions {
            self.emit_action(action);
        }
        self.actions = actions;
    }

    fn emit_action(&mut self, action: &Action) {
        let index = self
            .plans
            .iter()
            .position(|p| p.clause_ref == action.clause_ref)
            .map_or(0, |p| self.plan_summary[p]);
        let counts = &mut self.summary.clauses[index];
        match action.status {
            ActionStatus::Due => counts.actions_due += 1,
            ActionStatus::Done => counts.actions_done += 1,
            ActionStatus::Missed => counts.actions_missed += 1,
        }
        self.sink.action(action);
    }

    /// Remembers a calendar year outside the calendar's holiday data.
    /// Duties on a calendar (a gap counted in working time, a quota per working day) are judged
    /// up to `now`: for each that judged something, the year of `now` is noted when its
    /// calendar has no holiday data for it. (Their findings are made in the period tallies,
    /// which do not note each date; a stream that crosses into a year without data reaches it
    /// by `now`.)
    pub(super) fn note_duty_coverage(&mut self, now: Instant) {
        let mut calendars = Vec::new();
        for (pi, policy) in self.policies.iter().enumerate() {
            for (ci, clause) in policy.clauses.iter().enumerate() {
                let ClauseBody::Every(duty) = &clause.body else {
                    continue;
                };
                let calendar = match &duty.rule {
                    DutyRule::Gap(limit) => holiday_calendar(limit).cloned(),
                    DutyRule::Quota { on, .. } => on.clone(),
                    DutyRule::Cover { .. } | DutyRule::PerAlert { .. } => None,
                };
                let Some(calendar) = calendar else {
                    continue;
                };
                let judged = self.summary.clauses.iter().any(|c| {
                    c.clause_ref.policy == pi
                        && c.clause_ref.clause == ci
                        && (c.verdicts() > 0 || c.findings > 0)
                });
                if judged {
                    calendars.push(calendar);
                }
            }
        }
        for calendar in calendars {
            self.note_coverage(&calendar, now);
        }
    }

    fn note_coverage(&mut self, calendar: &Calendar, at: Instant) {
        let date = at.with_timezone(&calendar.zone).date_naive();
        if calendar.covers(date) {
            return;
        }
        let year = date.year();
        let known = self
            .summary
            .uncovered
            .iter()
            .any(|(name, y)| **name == *calendar.name && *y == year);
        if !known {
            self.summary
                .uncovered
                .push((calendar.name.as_str().into(), year));
            self.summary.uncovered.sort();
        }
    }

    /// The instants of the evidence of each stage of `plan` on the case, ascending.
    pub(super) fn stage_evidence(&self, case: &CaseState, plan: usize) -> Vec<Box<[Instant]>> {
        self.plan_stage_keys[plan]
            .iter()
            .map(|key| match key {
                Some(k) => case
                    .evidence()
                    .iter()
                    .filter(|(e, _)| e == k)
                    .map(|&(_, at)| at)
                    .collect(),
                None => Box::default(),
            })
            .collect()
    }
}
