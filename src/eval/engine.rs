//! The streaming evaluator: one pass over a stream of events, memory following open cases,
//! deterministic output.
//!
//! # How a stream is cut into cases
//!
//! Events are buffered per case (ticket). A case is **finished** when its latest event is
//! `closed` and the stream's *watermark* (the latest `at` seen) is more than the *reorder
//! window* past that `closed`: input may be out of order within a case by at most the window, so
//! no more events can arrive for it. Finished cases are evaluated and dropped. They wait in a
//! min-heap keyed by `(closed at, ticket)` and leave it in key order, so the order of records
//! does not depend on the order the events arrived in as long as that bound holds. At the end of
//! the stream the cases still open are evaluated in ticket order.
//!
//! # What cannot be known when a case finishes
//!
//! A cycle whose clock was stopped has a final verdict. One still running (say a follow-up that
//! never happened before the case was closed) is judged against `now`, which, unless given, is
//! the latest `at` of the whole stream: its due time (with a pause open at the end), status,
//! overdue time and fired stages are known only at the end. Such cycles keep only their facts
//! (start, limit, pauses, evidence: a few dozen bytes, not the events) and are resolved and
//! emitted at the end of the stream, in the order their cases finished, before the cases still
//! open. With an explicit `now` nothing waits.
//!
//! # Rejections the evaluator makes
//!
//! - **Duplicates.** Ids are tracked per open case: the first occurrence is kept, later ones are
//!   rejected with the line of the first. Tracking ids across the whole stream would keep every
//!   id of every case ever seen; per-case tracking keeps memory proportional to open cases. An
//!   id reused across two cases is therefore not detected; a duplicate arriving after its case
//!   was finished is rejected as late instead.
//! - **Late events.** The evaluator remembers a 64-bit hash of each finished ticket (8 bytes per
//!   case rather than the case). An event for a ticket that is not open but whose hash is in that
//!   set is rejected: its case has already been evaluated. This also applies to a `reopened`
//!   arriving more than the window after `closed`; raise `--reorder-window` for systems that
//!   reopen closed cases later. A hash collision could reject the first event of a new case;
//!   with a million finished cases the odds are about 1 in 30 million.
//!
//! Events later than an explicit `now` are ignored and counted (they still move the
//! watermark). Rejected events do not move the watermark.

use super::case::{case_facts, plan, resolve, CaseView, ClausePlan, CycleFacts};
use super::clock::Counting;
use super::notify::{self, NoticeFacts, NoticePlan};
use super::verdict::{
    format_duration, Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected, Status,
    Summary, Unopened, Verdict,
};
use crate::calendar::Calendar;
use crate::event::{Event, Instant};
use crate::policy::Policy;
use chrono::Datelike;
use chrono::Duration;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Where records go. Called in a deterministic order; a sink that writes should remember its
/// first I/O error and report it when the evaluation is done.
pub trait Sink {
    fn verdict(&mut self, verdict: &Verdict);
    fn action(&mut self, action: &Action);
    fn rejected(&mut self, rejected: &Rejected);
    fn unopened(&mut self, unopened: &Unopened);
    fn finding(&mut self, finding: &Finding);
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn verdict(&mut self, verdict: &Verdict) {
        (**self).verdict(verdict)
    }
    fn action(&mut self, action: &Action) {
        (**self).action(action)
    }
    fn rejected(&mut self, rejected: &Rejected) {
        (**self).rejected(rejected)
    }
    fn unopened(&mut self, unopened: &Unopened) {
        (**self).unopened(unopened)
    }
    fn finding(&mut self, finding: &Finding) {
        (**self).finding(finding)
    }
}

/// A sink that keeps every record in memory: for tests, the REPL and small streams.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collect {
    pub verdicts: Vec<Verdict>,
    pub actions: Vec<Action>,
    pub rejected: Vec<Rejected>,
    pub unopened: Vec<Unopened>,
    pub findings: Vec<Finding>,
}

impl Sink for Collect {
    fn verdict(&mut self, verdict: &Verdict) {
        self.verdicts.push(verdict.clone());
    }
    fn action(&mut self, action: &Action) {
        self.actions.push(action.clone());
    }
    fn rejected(&mut self, rejected: &Rejected) {
        self.rejected.push(rejected.clone());
    }
    fn unopened(&mut self, unopened: &Unopened) {
        self.unopened.push(unopened.clone());
    }
    fn finding(&mut self, finding: &Finding) {
        self.findings.push(finding.clone());
    }
}

/// Options of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// The instant verdicts are judged at; `None`: the latest `at` of the stream.
    pub now: Option<Instant>,
    /// How far out of order the events of one case may arrive, and so how long after its
    /// `closed` a case is kept open.
    pub reorder_window: Duration,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            now: None,
            reorder_window: Duration::days(1),
        }
    }
}

/// Below this many events a case finds duplicate ids by scanning its events; from it on, by a
/// map. Most cases have a handful of events; assets with years of duties have thousands.
const ID_SCAN_LIMIT: usize = 16;

/// The buffered events of one open case.
#[derive(Debug)]
struct CaseBuf {
    events: Vec<Event>,
    opened: bool,
    last_at: Instant,
    last_closed: Option<Instant>,
    ids: Option<HashMap<Box<str>, u64>>,
}

impl CaseBuf {
    fn new(at: Instant) -> CaseBuf {
        CaseBuf {
            events: Vec::new(),
            opened: false,
            last_at: at,
            last_closed: None,
            ids: None,
        }
    }

    /// The line of the kept event with this id.
    fn line_of_id(&self, id: &str) -> Option<u64> {
        match &self.ids {
            Some(map) => map.get(id).copied(),
            None => self
                .events
                .iter()
                .find(|e| e.id.as_deref() == Some(id))
                .map(|e| e.line),
        }
    }

    fn add(&mut self, event: Event) {
        if let Some(id) = &event.id {
            if let Some(map) = &mut self.ids {
                map.insert(id.clone(), event.line);
            } else if self.events.len() + 1 >= ID_SCAN_LIMIT {
                let mut map: HashMap<Box<str>, u64> = self
                    .events
                    .iter()
                    .filter_map(|e| Some((e.id.clone()?, e.line)))
                    .collect();
                map.insert(id.clone(), event.line);
                self.ids = Some(map);
            }
        }
        self.last_at = self.last_at.max(event.at);
        match &*event.kind {
            "opened" => self.opened = true,
            "closed" => self.last_closed = self.last_closed.max(Some(event.at)),
            _ => {}
        }
        self.events.push(event);
    }

    fn closed_last(&self) -> bool {
        self.last_closed == Some(self.last_at)
    }
}

/// Hashes of finished tickets are already uniformly distributed: use them as they are.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn ticket_hash(ticket: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(ticket.as_bytes())
}

/// A running cycle of a finished case, resolved at the end of the stream.
struct Deferred {
    ticket: Arc<str>,
    facts: CycleFacts,
}

/// The streaming evaluator of deadline clauses. Feed it events with [`Evaluator::push`] and the
/// reader's rejected lines with [`Evaluator::reject`], then call [`Evaluator::finish`].
pub struct Evaluator<'p, S: Sink> {
    plans: Vec<ClausePlan<'p>>,
    opts: EvalOptions,
    sink: S,
    cases: HashMap<Box<str>, CaseBuf>,
    closing: BinaryHeap<Reverse<(Instant, Box<str>)>>,
    finished: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
    watermark: Option<Instant>,
    deferred: Vec<Deferred>,
    summary: Summary,
    facts: Vec<CycleFacts>,
    actions: Vec<Action>,
    /// For each deadline plan, its index in `summary.clauses`.
    plan_summary: Vec<usize>,
    /// Notification clauses, and the index of each in `summary.clauses`.
    notices: Vec<NoticePlan<'p>>,
    notice_summary: Vec<usize>,
    /// Notification facts of finished cases that depend on the `now` to come, per case.
    deferred_notices: Vec<(Arc<str>, Vec<NoticeFacts>)>,
    findings: Vec<Finding>,
}

impl<'p, S: Sink> Evaluator<'p, S> {
    pub fn new(policies: &'p [Policy], opts: EvalOptions, sink: S) -> Evaluator<'p, S> {
        let plans = plan(policies);
        let mut clauses = Vec::new();
        for (pi, policy) in policies.iter().enumerate() {
            let policy_name: Arc<str> = policy.name.as_str().into();
            for (ci, clause) in policy.clauses.iter().enumerate() {
                clauses.push(ClauseSummary {
                    policy: policy_name.clone(),
                    clause: clause.name.as_str().into(),
                    clause_ref: ClauseRef {
                        policy: pi,
                        clause: ci,
                    },
                    kind: clause.body.keyword(),
                    title: clause.title.as_deref().map(Arc::from),
                    cite: clause.cite.row.as_deref().map(Arc::from),
                    ..ClauseSummary::default()
                });
            }
        }
        let plan_summary = plans
            .iter()
            .map(|p| {
                clauses
                    .iter()
                    .position(|c| c.clause_ref == p.clause_ref)
                    .unwrap_or(0)
            })
            .collect();
        let notices = notify::plan(policies);
        let notice_summary = notices
            .iter()
            .map(|p| {
                clauses
                    .iter()
                    .position(|c| c.clause_ref == p.clause_ref)
                    .unwrap_or(0)
            })
            .collect();
        let summary = Summary {
            now: opts.now,
            clauses,
            ..Summary::default()
        };
        Evaluator {
            plans,
            opts,
            sink,
            cases: HashMap::new(),
            closing: BinaryHeap::new(),
            finished: HashSet::default(),
            watermark: None,
            deferred: Vec::new(),
            summary,
            facts: Vec::new(),
            actions: Vec::new(),
            plan_summary,
            notices,
            notice_summary,
            deferred_notices: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// The latest `at` accepted so far.
    pub fn watermark(&self) -> Option<Instant> {
        self.watermark
    }

    /// Cases currently buffered.
    pub fn open_cases(&self) -> usize {
        self.cases.len()
    }

    /// The sink, e.g. to flush it between pushes.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// A line the reader could not turn into an event.
    pub fn reject(&mut self, rejected: Rejected) {
        self.summary.rejected += 1;
        self.sink.rejected(&rejected);
    }

    fn reject_event(&mut self, event: &Event, reason: String) {
        self.reject(Rejected {
            line: event.line,
            reason,
            text: String::new(),
        });
    }

    /// One event of the stream, in any order within the reorder window.
    pub fn push(&mut self, event: Event) {
        self.summary.events += 1;
        if self.opts.now.is_some_and(|now| event.at > now) {
            self.summary.after_now += 1;
            self.advance(event.at);
            return;
        }
        match self.cases.get(&*event.ticket) {
            Some(case) => {
                if let Some(id) = event.id.as_deref() {
                    if let Some(first) = case.line_of_id(id) {
                        self.summary.duplicates += 1;
                        let reason =
                            format!("duplicate event id `{id}`, first seen on line {first}");
                        self.reject_event(&event, reason);
                        return;
                    }
                }
            }
            None => {
                if self.finished.contains(&ticket_hash(&event.ticket)) {
                    self.summary.late += 1;
                    let reason = format!(
                        "event for `{}` arrived after its case was closed and evaluated \
                         (more than {} out of order); raise --reorder-window to keep closed \
                         cases open longer",
                        event.ticket,
                        format_duration(self.opts.reorder_window)
                    );
                    self.reject_event(&event, reason);
                    return;
                }
            }
        }
        self.summary.accepted += 1;
        let at = event.at;
        let closes = &*event.kind == "closed";
        let case = match self.cases.get_mut(&*event.ticket) {
            Some(case) => case,
            None => self
                .cases
                .entry(event.ticket.clone())
                .or_insert_with(|| CaseBuf::new(at)),
        };
        let ticket = closes.then(|| event.ticket.clone());
        case.add(event);
        if let Some(ticket) = ticket {
            if case.closed_last() && case.last_at == at {
                self.closing.push(Reverse((at, ticket)));
            }
        }
        self.advance(at);
    }

    fn advance(&mut self, at: Instant) {
        if self.watermark.is_some_and(|w| w >= at) {
            return;
        }
        self.watermark = Some(at);
        let window = self.opts.reorder_window;
        while let Some(Reverse((closed, _))) = self.closing.peek() {
            let ready = closed
                .checked_add_signed(window)
                .is_some_and(|limit| limit < at);
            if !ready {
                break;
            }
            let Some(Reverse((closed, ticket))) = self.closing.pop() else {
                break;
            };
            let still = self
                .cases
                .get(&ticket)
                .is_some_and(|c| c.closed_last() && c.last_at == closed);
            if still {
                if let Some(case) = self.cases.remove(&ticket) {
                    self.finished.insert(ticket_hash(&ticket));
                    self.finish_case(&ticket, case, false);
                }
            }
        }
    }

    /// Evaluates a case and emits its records; running cycles wait when `now` is not known yet.
    fn finish_case(&mut self, ticket: &str, mut case: CaseBuf, at_end: bool) {
        let ticket: Arc<str> = ticket.into();
        if !case.opened {
            self.summary.unopened += 1;
            let unopened = Unopened {
                ticket,
                events: case.events.len() as u64,
                first_line: case.events.iter().map(|e| e.line).min().unwrap_or(0),
            };
            self.sink.unopened(&unopened);
            return;
        }
        self.summary.cases += 1;
        case.events.sort_by(Event::canonical_cmp);
        let view = CaseView::new(&case.events);
        let mut facts = std::mem::take(&mut self.facts);
        facts.clear();
        for i in 0..self.plans.len() {
            case_facts(&view, &self.plans, i, &mut facts);
        }
        let known_now = if at_end {
            self.final_now()
        } else {
            self.opts.now
        };
        for f in facts.drain(..) {
            match known_now {
                Some(now) => self.emit(&ticket, &f, now),
                None if !f.depends_on_now() => {
                    // A stopped clock does not depend on `now`, which will be at least the
                    // watermark, itself past every event of the case.
                    let now = self.watermark.unwrap_or(f.start);
                    self.emit(&ticket, &f, now);
                }
                None => self.deferred.push(Deferred {
                    ticket: ticket.clone(),
                    facts: f,
                }),
            }
        }
        self.facts = facts;
        self.notices_of_case(&ticket, &view, known_now);
    }

    /// Evaluates the notification clauses on a case: now when `now` is known or cannot change
    /// the findings, else at the end of the stream (all of the case's together, so its findings
    /// keep their order).
    fn notices_of_case(&mut self, ticket: &Arc<str>, view: &CaseView<'_>, now: Option<Instant>) {
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
            None => self.deferred_notices.push((ticket.clone(), facts)),
        }
    }

    fn emit_findings(&mut self, ticket: &Arc<str>, facts: &[NoticeFacts], now: Instant) {
        self.findings.clear();
        for f in facts {
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
            self.sink.finding(finding);
        }
    }

    fn emit(&mut self, ticket: &Arc<str>, facts: &CycleFacts, now: Instant) {
        self.actions.clear();
        let verdict = resolve(
            facts,
            &self.plans[facts.plan],
            ticket,
            now,
            &mut self.actions,
        );
        if let Counting::Business(calendar) = &facts.counting {
            self.note_coverage(calendar, verdict.start);
            self.note_coverage(calendar, verdict.due);
        }
        let counts = &mut self.summary.clauses[self.plan_summary[facts.plan]];
        match verdict.status {
            Status::Met => counts.met += 1,
            Status::Breached => counts.breached += 1,
            Status::Pending => counts.pending += 1,
        }
        self.sink.verdict(&verdict);
        for action in &self.actions {
            match action.status {
                ActionStatus::Due => counts.actions_due += 1,
                ActionStatus::Done => counts.actions_done += 1,
                ActionStatus::Missed => counts.actions_missed += 1,
            }
            self.sink.action(action);
        }
    }

    /// Remembers a calendar year outside the calendar's holiday data.
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

    fn final_now(&self) -> Option<Instant> {
        self.opts.now.or(self.watermark)
    }

    /// Ends the stream: resolves waiting cycles, evaluates the cases still open (in ticket
    /// order) and returns the summary and the sink.
    pub fn finish(mut self) -> (Summary, S) {
        let now = self.final_now();
        self.summary.now = now;
        if let Some(now) = now {
            for d in std::mem::take(&mut self.deferred) {
                self.emit(&d.ticket, &d.facts, now);
            }
            for (ticket, facts) in std::mem::take(&mut self.deferred_notices) {
                self.emit_findings(&ticket, &facts, now);
            }
        }
        let mut open: Vec<(Box<str>, CaseBuf)> = self.cases.drain().collect();
        open.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (ticket, case) in open {
            self.finish_case(&ticket, case, true);
        }
        (self.summary, self.sink)
    }
}
