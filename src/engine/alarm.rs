//! Alerts for a live host: which running cycles passed their due time, and which stages fired,
//! since the host last looked.
//!
//! A batch check learns a cycle's fate when its case settles; a duty desk must learn it when
//! it happens. [`Evaluator::alerts`] tells what happened in stream time between the previous
//! call and this one, once it is certain: as of the last instant whose events have all been
//! applied (the reorder window before `now`), so that a stop waiting out the window never
//! raises a false alarm, and an event that arrives late within the window never hides one.
//!
//! Cost: nothing until a host asks for the first time ([`Evaluator::watch_alerts`]). From then
//! on, each case applied to is looked at again at the next call, and each case is kept in a
//! timer queue at the next instant it has something to say (a due time or a stage), so a call
//! looks at the cases touched or falling due since the previous one, not at every case.

use super::*;

/// Something that happened to a running cycle, told by [`crate::Engine::advance`].
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// The cycle's clock is still running and its due time has passed: its verdict as of the
    /// instant the alert was judged at (`breached`, with `overdue_by`).
    Breached(Verdict),
    /// A stage (warning, escalation or notification) of a running cycle fired: the action as
    /// of the instant the alert was judged at (`due` for a warning, else `done` or `missed`).
    Stage(Action),
}

impl Alert {
    /// When it happened: the due time of a breach (the cycle is breached from just after it),
    /// the instant of a stage.
    pub fn at(&self) -> Instant {
        match self {
            Alert::Breached(v) => v.due,
            Alert::Stage(a) => a.at,
        }
    }

    /// The ticket it is about.
    pub fn ticket(&self) -> &str {
        match self {
            Alert::Breached(v) => &v.ticket,
            Alert::Stage(a) => &a.ticket,
        }
    }

    /// Order of alerts: by instant, then ticket, clause, cycle and stage (a breach after the
    /// stages of the same instant).
    fn sort_key(&self) -> (Instant, &str, ClauseRef, u32, usize) {
        match self {
            Alert::Breached(v) => (v.due, &v.ticket, v.clause_ref, v.cycle, usize::MAX),
            Alert::Stage(a) => (a.at, &a.ticket, a.clause_ref, a.cycle, a.stage),
        }
    }
}

/// What an evaluator keeps to tell alerts.
#[derive(Clone, Debug, Default)]
pub(super) struct Alarms {
    /// Cases applied to since the previous call: their clocks may have started, stopped or
    /// paused.
    touched: Vec<TicketKey>,
    /// Per case, the next instant it has something to say; the queue holds the same pairs
    /// (and stale ones, skipped when they come up).
    next: HashMap<TicketKey, Instant, BuildHasherDefault<IdentityHasher>>,
    queue: BinaryHeap<Reverse<(Instant, TicketKey)>>,
    /// Everything that happened up to this instant has been told.
    pub(super) told: Option<Instant>,
    /// Per case whose attributes changed since the previous call, the (plan, cycle) pairs that
    /// applied before the change: its other cycles were told nothing, so what they did before
    /// the previous call is news now (a `when` made true by an `updated` after the due time).
    applied_before: HashMap<TicketKey, Vec<(usize, u32)>, BuildHasherDefault<IdentityHasher>>,
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// Starts keeping what [`Evaluator::alerts`] needs (nothing is kept before the first call):
    /// every case kept so far is looked at in the next call.
    pub fn watch_alerts(&mut self) {
        if self.alarms.is_none() {
            // Cases at rest may have running clocks too: they are read from their bytes.
            let alarms = Alarms {
                touched: {
                    let mut touched: Vec<TicketKey> = self.cases.keys().copied().collect();
                    self.dormant.for_each(|key, _| touched.push(key));
                    touched
                },
                ..Alarms::default()
            };
            self.alarms = Some(Box::new(alarms));
        }
    }

    /// Before an event changes a case's attributes: notes which of its cycles applied then,
    /// once between two calls (the first change is what the previous call saw).
    pub(super) fn note_applicability(&mut self, key: TicketKey, case: &CaseState) {
        if self
            .alarms
            .as_ref()
            .is_none_or(|a| a.applied_before.contains_key(&key))
        {
            return;
        }
        let mut applied = Vec::new();
        for state in &case.tracks {
            if let Some((cycle, start, _)) = state.running() {
                for &p in &self.track_plans[state.track as usize] {
                    if self.applies(case, p as usize, start) {
                        applied.push((p as usize, cycle));
                    }
                }
            }
        }
        for st in &case.stopped {
            for &p in &self.track_plans[st.track as usize] {
                if self.applies(case, p as usize, st.start) {
                    applied.push((p as usize, st.cycle));
                }
            }
        }
        if let Some(alarms) = self.alarms.as_mut() {
            alarms.applied_before.insert(key, applied);
        }
    }

    /// Remembers that a case's clocks may have changed.
    pub(super) fn touch(&mut self, key: TicketKey) {
        if let Some(alarms) = self.alarms.as_mut() {
            alarms.touched.push(key);
        }
    }

    /// What happened since the previous call, as of `now` (stream time, after
    /// [`Evaluator::advance_to`]): running cycles of kept cases whose due time passed, and stages
    /// of running cycles that fired, in the order of [`Alert::at`], then ticket, clause, cycle
    /// and stage. Judged as of the last instant whose events are all applied (just before `now`
    /// minus the reorder window); the first call tells everything up to it. A cycle that
    /// stopped since the previous call is told its breach and stages from before its stop, as
    /// if a call had come while it ran.
    pub fn alerts(&mut self, now: Instant) -> Vec<Alert> {
        self.watch_alerts();
        let Some(mut alarms) = self.alarms.take() else {
            return Vec::new();
        };
        let judged = now
            .checked_sub_signed(self.opts.reorder_window)
            .and_then(|f| f.checked_sub_signed(Duration::nanoseconds(1)));
        let mut alerts = Vec::new();
        if let Some(judged) = judged.filter(|&j| alarms.told.is_none_or(|t| j > t)) {
            self.tell(&mut alarms, judged, &mut alerts);
            alarms.told = Some(judged);
        }
        self.alarms = Some(alarms);
        alerts.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        alerts
    }

    /// The alerts of `(alarms.told, judged]`, and each case's next instant.
    fn tell(&mut self, alarms: &mut Alarms, judged: Instant, alerts: &mut Vec<Alert>) {
        let mut keys = std::mem::take(&mut alarms.touched);
        while let Some(&Reverse((at, key))) = alarms.queue.peek() {
            if at > judged {
                break;
            }
            alarms.queue.pop();
            if alarms.next.get(&key) == Some(&at) {
                // Its entry is used up: whatever comes next for it is queued anew below.
                alarms.next.remove(&key);
                keys.push(key);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let since = alarms.told;
        let mut applied_before = std::mem::take(&mut alarms.applied_before);
        let mut actions = Vec::new();
        for key in keys {
            // A case at rest is read from its bytes, left at rest: its next instant to tell
            // comes once, while waking it would keep it in memory for [`REST_AFTER`].
            let resting;
            let case = match self.cases.get(&key) {
                Some(case) => Some(&**case),
                None => {
                    resting = self.dormant.get(key).and_then(|r| r.resting().case().ok());
                    resting.as_ref()
                }
            };
            let Some(case) = case.filter(|c| c.opened) else {
                alarms.next.remove(&key);
                continue;
            };
            let mut next: Option<Instant> = None;
            let ticket: std::sync::Arc<str> = std::sync::Arc::from(&*case.ticket);
            // Whether the previous call told a cycle what it did (it applied then).
            let before = applied_before.remove(&key);
            let was_told = |p: usize, cycle: u32| {
                before
                    .as_ref()
                    .is_none_or(|applied| applied.contains(&(p, cycle)))
            };
            for state in &case.tracks {
                let t = &state.track;
                let Some((cycle, start, pauses)) = state.running() else {
                    continue;
                };
                for &p in &self.track_plans[*t as usize] {
                    let p = p as usize;
                    if !self.applies(case, p, start) {
                        continue;
                    }
                    let facts = self.facts(case, p, cycle, start, None, pauses.to_vec());
                    let mut verdict = self.judge(case, p, &facts, &ticket, judged, &mut actions);
                    let fresh = !was_told(p, cycle);
                    let is_new = |at: Instant| fresh || since.is_none_or(|s| at > s);
                    for action in actions.drain(..) {
                        if is_new(action.at) {
                            alerts.push(Alert::Stage(action));
                        }
                    }
                    let upcoming = verdict.next_stages.first().map(|&(_, at)| at);
                    match verdict.status {
                        // Breached from just after `due`: new when `due` was not yet past at
                        // the previous call.
                        Status::Breached => {
                            if fresh || since.is_none_or(|s| verdict.due >= s) {
                                // Told as of `now` minus the window, the instant `judged` is
                                // just before: a breach is not 1 ns short of its whole seconds.
                                verdict.overdue_by =
                                    verdict.overdue_by.map(|d| d + Duration::nanoseconds(1));
                                alerts.push(Alert::Breached(verdict));
                            }
                        }
                        Status::Pending => {
                            next = earliest(next, Some(verdict.due));
                        }
                        Status::Met => {}
                    }
                    next = earliest(next, upcoming);
                }
            }
            // A cycle that stopped since the previous call is told what it did before its
            // stop, as it would have been had a call come between: its breach, if its due
            // time passed while it ran, and the stages that fired. So the alerts do not
            // depend on how a host cuts the stream into calls (its batches).
            // A cycle that stopped before the previous call but applies only since is told
            // too: the previous call told it nothing.
            for st in &case.stopped {
                let stopped_before = since.is_some_and(|s| st.stop <= s);
                if (stopped_before && before.is_none()) || st.stop > judged {
                    continue;
                }
                for &p in &self.track_plans[st.track as usize] {
                    let p = p as usize;
                    let fresh = !was_told(p, st.cycle);
                    if (stopped_before && !fresh) || !self.applies(case, p, st.start) {
                        continue;
                    }
                    let facts =
                        self.facts(case, p, st.cycle, st.start, Some(st.stop), st.pause_list());
                    let verdict = self.judge(case, p, &facts, &ticket, judged, &mut actions);
                    let is_new = |at: Instant| fresh || since.is_none_or(|s| at > s);
                    for action in actions.drain(..) {
                        if is_new(action.at) && action.at < st.stop {
                            alerts.push(Alert::Stage(action));
                        }
                    }
                    if verdict.status == Status::Breached
                        && (fresh || since.is_none_or(|s| verdict.due >= s))
                    {
                        alerts.push(Alert::Breached(verdict));
                    }
                }
            }
            match next {
                Some(at) => {
                    // A case touched by every batch mostly keeps its next instant: queued once,
                    // not once per batch (stale entries would pile up in the queue).
                    if alarms.next.insert(key, at) != Some(at) {
                        alarms.queue.push(Reverse((at, key)));
                    }
                }
                None => {
                    alarms.next.remove(&key);
                }
            }
        }
    }
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// A cycle of plan `p` judged as of `judged`: its verdict, and in `actions` (emptied first)
    /// the stages it fired.
    fn judge(
        &self,
        case: &CaseState,
        p: usize,
        facts: &CycleFacts,
        ticket: &Arc<str>,
        judged: Instant,
        actions: &mut Vec<Action>,
    ) -> Verdict {
        actions.clear();
        let mut verdict = resolve(facts, &self.plans[p], ticket, judged, actions);
        verdict.case_closed = case.closed.is_some();
        verdict
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
