//! The streaming evaluator: one pass over a stream of events, memory following open cases,
//! deterministic output.
//!
//! # How a stream is cut into cases
//!
//! Events are buffered per case (ticket), keeping only the event types a clause can look at
//! ([`Relevance`]): others are counted and dropped, but for the latest of each case. A case is
//! **finished** when its latest event is
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
//! - **Late events.** The evaluator remembers a 64-bit hash of each ticket finished in the last
//!   [`FINISHED_MEMORY`] of stream time (8 bytes per case rather than the case). An event for a
//!   ticket that is not open but whose hash is remembered is rejected: its case has already been
//!   evaluated. This also applies to a `reopened` arriving more than the window after `closed`;
//!   raise `--reorder-window` for systems that reopen closed cases later. An event for a ticket
//!   finished longer ago starts a new case (reported as never opened unless it is an `opened`),
//!   so that memory follows the recent past rather than the whole stream. A hash collision
//!   could reject the first event of a new case; with a million remembered cases the odds are
//!   about 1 in 30 million.
//!
//! Events later than an explicit `now` are ignored and counted (they still move the
//! watermark). Rejected events do not move the watermark.

use super::case::{case_facts, plan, resolve, CaseView, ClausePlan, CycleFacts};
use super::clock::{resolve_limit, Counting, PauseSpan};
use super::notify::{self, NoticeFacts, NoticePlan};
use super::verdict::{
    format_duration, Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected, Status,
    Summary, Unopened, Verdict,
};
use crate::calendar::Calendar;
use crate::event::{Event, Instant};
use crate::inline_str::InlineStr;
use crate::period::{PeriodRecord, PeriodTally};
use crate::policy::Policy;
use crate::relevance::{Relevance, TypeMask};
use crate::value::Attrs;
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
    /// A record of a period clause (sampling, target, repeat, draw, per-period counts); all of
    /// them come at the end of the stream. Sinks that do not report periods ignore them.
    fn period(&mut self, _record: &PeriodRecord) {}
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
    fn period(&mut self, record: &PeriodRecord) {
        (**self).period(record)
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
    pub periods: Vec<PeriodRecord>,
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
    fn period(&mut self, record: &PeriodRecord) {
        self.periods.push(record.clone());
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

/// Below this many ids a case finds duplicates by scanning them; from it on, by a map. Most
/// cases have a handful of events; assets with years of duties have thousands.
const ID_SCAN_LIMIT: usize = 16;

/// The ids of a case's accepted events, with the line of each.
#[derive(Debug, Default)]
enum CaseIds {
    #[default]
    None,
    Few(Vec<(InlineStr, u64)>),
    Many(HashMap<InlineStr, u64>),
}

impl CaseIds {
    fn line_of(&self, id: &str) -> Option<u64> {
        match self {
            CaseIds::None => None,
            CaseIds::Few(ids) => ids.iter().find(|(i, _)| &**i == id).map(|&(_, l)| l),
            CaseIds::Many(map) => map.get(id).copied(),
        }
    }

    fn insert(&mut self, id: InlineStr, line: u64) {
        match self {
            CaseIds::None => *self = CaseIds::Few(vec![(id, line)]),
            CaseIds::Few(ids) if ids.len() + 1 >= ID_SCAN_LIMIT => {
                let mut map: HashMap<InlineStr, u64> = std::mem::take(ids).into_iter().collect();
                map.insert(id, line);
                *self = CaseIds::Many(map);
            }
            CaseIds::Few(ids) => ids.push((id, line)),
            CaseIds::Many(map) => {
                map.insert(id, line);
            }
        }
    }
}

/// What is kept of one open case: its relevant events (see [`Relevance`]) and counts of all.
///
/// Events no clause can look at are counted and dropped, except the greatest of them in the
/// canonical order (`tail`): evaluation may ask which event of a case comes last, and with
/// `tail` kept the answer is the same as with every event kept.
#[derive(Debug)]
struct CaseBuf {
    ticket: Arc<str>,
    events: Vec<Event>,
    tail: Option<Event>,
    /// Accepted events, kept or not.
    count: u64,
    first_line: u64,
    opened: bool,
    last_at: Instant,
    last_closed: Option<Instant>,
    ids: CaseIds,
}

impl CaseBuf {
    fn new(ticket: Arc<str>, at: Instant, line: u64) -> CaseBuf {
        CaseBuf {
            ticket,
            events: Vec::new(),
            tail: None,
            count: 0,
            first_line: line,
            opened: false,
            last_at: at,
            last_closed: None,
            ids: CaseIds::None,
        }
    }

    /// The line of the accepted event with this id.
    fn line_of_id(&self, id: &str) -> Option<u64> {
        self.ids.line_of(id)
    }

    /// Adds an accepted event.
    fn add(&mut self, mut event: Event, relevance: &Relevance) {
        self.count += 1;
        self.first_line = self.first_line.min(event.line);
        if let Some(id) = &event.id {
            self.ids.insert(id.clone(), event.line);
        }
        self.last_at = self.last_at.max(event.at);
        match &*event.kind {
            "opened" => self.opened = true,
            "closed" => self.last_closed = self.last_closed.max(Some(event.at)),
            _ => {}
        }
        if relevance.keeps_type(&event.kind) {
            self.events.push(event);
        } else {
            // Attributes of an event no clause looks at cannot matter, not even for ties.
            event.attrs = Attrs::new();
            if self
                .tail
                .as_ref()
                .is_none_or(|t| event.at > t.at || event.canonical_cmp(t).is_gt())
            {
                self.tail = Some(event);
            }
        }
    }

    /// The kept events, in canonical order.
    fn into_events(mut self) -> Vec<Event> {
        self.events.extend(self.tail.take());
        self.events.sort_by(Event::canonical_cmp);
        self.events
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
    fn write_u128(&mut self, n: u128) {
        self.0 = (n >> 64) as u64 ^ n as u64;
    }
}

/// A ticket as the key of its open case: a 128-bit hash of its bytes (xxh3), so that finding
/// the case of an event compares two integers rather than chasing and comparing strings. Two
/// tickets with the same key would share a case; among ten million tickets the odds are about
/// 1 in 10^25.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TicketKey(u128);

impl TicketKey {
    fn of(ticket: &str) -> TicketKey {
        TicketKey(xxhash_rust::xxh3::xxh3_128(ticket.as_bytes()))
    }

    /// 64 bits of the key, for the set of finished tickets.
    fn short(self) -> u64 {
        self.0 as u64
    }
}

type HashSet64 = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

/// How long, in stream time, a finished case is remembered so that a late event for it is
/// rejected as late: at least this long, at most twice. After that, an event for the ticket
/// starts a new case, reported as never opened unless it is an `opened`; either way the line is
/// reported. Remembering every finished ticket would make memory grow with the stream.
pub const FINISHED_MEMORY: Duration = Duration::days(30);

/// Hashes of finished tickets, in two generations of [`FINISHED_MEMORY`] (or twice the reorder
/// window, if longer) each: the older generation is forgotten when the watermark has moved a
/// generation past its start.
#[derive(Default)]
struct Finished {
    current: HashSet64,
    previous: HashSet64,
    since: Option<Instant>,
}

impl Finished {
    fn contains(&self, hash: u64) -> bool {
        self.current.contains(&hash) || self.previous.contains(&hash)
    }

    fn insert(&mut self, hash: u64) {
        self.current.insert(hash);
    }

    /// Starts a new generation when the current one is old enough.
    fn advance(&mut self, watermark: Instant, generation: Duration) {
        let since = *self.since.get_or_insert(watermark);
        if since
            .checked_add_signed(generation)
            .is_some_and(|end| watermark >= end)
        {
            self.previous = std::mem::take(&mut self.current);
            self.since = Some(watermark);
        }
    }
}

/// A running cycle of a finished case, resolved at the end of the stream.
///
/// Without an explicit `now`, a stream of a year can leave one per case, so it is kept small:
/// its stop is known to be absent, and what the clause's limit gives for its start (counting,
/// amount, zone) is derived again when it is resolved.
struct Deferred {
    /// Inline rather than shared: the shared ticket of a case costs a heap block of its own.
    ticket: InlineStr,
    plan: u32,
    cycle: u32,
    start: Instant,
    pauses: Box<[PauseSpan]>,
    evidence: Box<[Box<[Instant]>]>,
}

impl Deferred {
    fn new(ticket: &str, facts: CycleFacts) -> Deferred {
        debug_assert!(facts.stop.is_none(), "only running cycles wait");
        Deferred {
            ticket: InlineStr::new(ticket),
            plan: facts.plan as u32,
            cycle: facts.cycle,
            start: facts.start,
            pauses: facts.pauses.into_boxed_slice(),
            evidence: facts.evidence.into_boxed_slice(),
        }
    }

    /// The facts this was made from.
    fn facts(self, plans: &[ClausePlan<'_>]) -> (Arc<str>, CycleFacts) {
        let plan = &plans[self.plan as usize];
        let (counting, amount, zone) =
            resolve_limit(&plan.deadline.limit, self.start, plan.policy_zone);
        let facts = CycleFacts {
            plan: self.plan as usize,
            cycle: self.cycle,
            start: self.start,
            stop: None,
            counting,
            amount,
            zone,
            pauses: self.pauses.into_vec(),
            evidence: self.evidence.into_vec(),
        };
        (Arc::from(&*self.ticket), facts)
    }
}

/// A list that grows by chunks of fixed size: for lists that may reach a million entries,
/// where a `Vec` would copy itself when doubling and hold up to twice the memory it needs.
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    const CHUNK: usize = 1 << 14;

    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < Self::CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
    }

    fn into_iter(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

/// The streaming evaluator of deadline clauses. Feed it events with [`Evaluator::push`] and the
/// reader's rejected lines with [`Evaluator::reject`], then call [`Evaluator::finish`].
pub struct Evaluator<'p, S: Sink> {
    plans: Vec<ClausePlan<'p>>,
    opts: EvalOptions,
    sink: S,
    /// Open cases, boxed so that the table stays small and probing it stays in cache.
    cases: HashMap<TicketKey, Box<CaseBuf>, BuildHasherDefault<IdentityHasher>>,
    closing: BinaryHeap<Reverse<(Instant, Arc<str>)>>,
    finished: Finished,
    /// What the policies can look at; the rest of each event is dropped on arrival.
    relevance: Relevance,
    watermark: Option<Instant>,
    deferred: Chunked<Deferred>,
    summary: Summary,
    facts: Vec<CycleFacts>,
    actions: Vec<Action>,
    /// For each deadline plan, the types of its start events.
    plan_starts: Vec<TypeMask>,
    /// For each deadline plan, its index in `summary.clauses`.
    plan_summary: Vec<usize>,
    /// Sampling, targets, repeats, duties and windows.
    periods: PeriodTally<'p>,
    /// Notification clauses, and the index of each in `summary.clauses`.
    notices: Vec<NoticePlan<'p>>,
    notice_summary: Vec<usize>,
    /// Notification facts of finished cases that depend on the `now` to come, per case.
    deferred_notices: Vec<(Arc<str>, Vec<NoticeFacts>)>,
    findings: Vec<Finding>,
}

impl<'p, S: Sink> Evaluator<'p, S> {
    pub fn new(policies: &'p [Policy], opts: EvalOptions, sink: S) -> Evaluator<'p, S> {
        Evaluator::with_relevance(policies, opts, sink, Relevance::of(policies))
    }

    /// Like [`Evaluator::new`], keeping what `relevance` says instead of what the policies can
    /// look at: [`Relevance::everything`] keeps every event whole, which gives the same results
    /// more slowly (the tests compare the two).
    pub fn with_relevance(
        policies: &'p [Policy],
        opts: EvalOptions,
        sink: S,
        relevance: Relevance,
    ) -> Evaluator<'p, S> {
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
        let periods = PeriodTally::new(policies, &summary);
        let plan_starts = plans
            .iter()
            .map(|p| {
                let types = p.deadline.start.matchers.iter().map(|m| m.event.as_str());
                relevance.mask_of(types)
            })
            .collect();
        Evaluator {
            plan_starts,
            periods,
            plans,
            opts,
            sink,
            cases: HashMap::default(),
            closing: BinaryHeap::new(),
            finished: Finished::default(),
            relevance,
            watermark: None,
            deferred: Chunked::default(),
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

    /// The period clauses' state, e.g. to ask for a period report or a sample draw.
    pub fn periods_mut(&mut self) -> &mut PeriodTally<'p> {
        &mut self.periods
    }

    /// What this evaluator keeps of events (see [`Relevance`]).
    pub fn relevance(&self) -> &Relevance {
        &self.relevance
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
        let key = TicketKey::of(&event.ticket);
        let at = event.at;
        let closes = &*event.kind == "closed";
        let case = match self.cases.get_mut(&key) {
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
                case
            }
            None => {
                if self.finished.contains(key.short()) {
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
                self.cases.entry(key).or_insert_with(|| {
                    Box::new(CaseBuf::new(event.ticket.as_ref().into(), at, event.line))
                })
            }
        };
        self.summary.accepted += 1;
        case.add(event, &self.relevance);
        if closes && case.closed_last() && case.last_at == at {
            self.closing.push(Reverse((at, case.ticket.clone())));
        }
        self.advance(at);
    }

    fn advance(&mut self, at: Instant) {
        if self.watermark.is_some_and(|w| w >= at) {
            return;
        }
        self.watermark = Some(at);
        let window = self.opts.reorder_window;
        self.finished
            .advance(at, FINISHED_MEMORY.max(window + window));
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
            let key = TicketKey::of(&ticket);
            let still = self
                .cases
                .get(&key)
                .is_some_and(|c| c.closed_last() && c.last_at == closed);
            if still {
                if let Some(case) = self.cases.remove(&key) {
                    self.finished.insert(key.short());
                    self.finish_case(case, false);
                }
            }
        }
    }

    /// Evaluates a case and emits its records; running cycles wait when `now` is not known yet.
    fn finish_case(&mut self, case: Box<CaseBuf>, at_end: bool) {
        let ticket = case.ticket.clone();
        if !case.opened {
            self.summary.unopened += 1;
            let unopened = Unopened {
                ticket,
                events: case.count,
                first_line: case.first_line,
            };
            self.sink.unopened(&unopened);
            return;
        }
        self.summary.cases += 1;
        let last_at = case.last_at;
        let events = case.into_events();
        let view = CaseView::new(&events);
        let mut facts = std::mem::take(&mut self.facts);
        facts.clear();
        let present = self.relevance.mask_of(events.iter().map(|e| &*e.kind));
        for i in 0..self.plans.len() {
            // A clause whose start event is not in the case has no cycle in it.
            if present.intersects(self.plan_starts[i]) {
                case_facts(&view, &self.plans, i, &mut facts);
            }
        }
        let known_now = if at_end {
            self.final_now()
        } else {
            self.opts.now
        };
        let fallback_now = self.watermark.unwrap_or(last_at);
        self.periods.case(
            &ticket,
            &view,
            &facts,
            known_now,
            fallback_now,
            &mut self.sink,
            &mut self.summary,
        );
        for f in facts.drain(..) {
            match known_now {
                Some(now) => self.emit(&ticket, &f, now),
                None if !f.depends_on_now() => {
                    // A stopped clock does not depend on `now`, which will be at least the
                    // watermark, itself past every event of the case.
                    let now = self.watermark.unwrap_or(f.start);
                    self.emit(&ticket, &f, now);
                }
                None => self.deferred.push(Deferred::new(&ticket, f)),
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
            None => {
                self.periods.keep_current_groups();
                self.deferred_notices.push((ticket.clone(), facts));
            }
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
            self.periods.notice_finding(finding);
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
        self.periods.verdict(&verdict);
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
            for d in std::mem::take(&mut self.deferred).into_iter() {
                let (ticket, facts) = d.facts(&self.plans);
                self.emit(&ticket, &facts, now);
            }
            for (ticket, facts) in std::mem::take(&mut self.deferred_notices) {
                self.emit_findings(&ticket, &facts, now);
            }
        }
        let mut open: Vec<Box<CaseBuf>> = self.cases.drain().map(|(_, case)| case).collect();
        open.sort_unstable_by(|a, b| a.ticket.cmp(&b.ticket));
        for case in open {
            self.finish_case(case, true);
        }
        self.periods.finish(now, &mut self.sink, &mut self.summary);
        (self.summary, self.sink)
    }
}
