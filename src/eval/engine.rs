//! The streaming evaluator: one pass over a stream of events, compact state per case,
//! deterministic output.
//!
//! # Events are applied in order, and forgotten
//!
//! Events may arrive out of order by up to the *reorder window*. Each accepted event waits in a
//! heap until the *watermark* (the latest `at` seen) is more than the window past it; then no
//! event can still arrive before it, and the events of each instant are applied in the
//! canonical order: by ticket, then by type name and attributes (SEMANTICS.md, "Ties"). So every
//! case sees its events in canonical order whatever order they arrived in, and results do not
//! depend on arrival order within the window.
//!
//! Applying an event updates the case's compact state and drops the event:
//! - the case's attributes (`opened` merged with `updated`), its status and its ids;
//! - per deadline **track** (the clauses sharing start, stop and pauses; see `eval::track`):
//!   the cycle, the running clock's start and pauses;
//! - the instants of `escalated` and `notified` events that are evidence for a stage;
//! - for notification and period clauses only, the events of the types they read (see
//!   [`Relevance::of_period_clauses`]), evaluated when the case is settled.
//!
//! # Records are emitted as soon as they are final
//!
//! SEMANTICS.md judges applicability with the case's attributes "as merged up to `now`", and
//! a repair is often reclassified when its work order is closed out, after the fix: a stopped
//! cycle's verdict is final only when no `updated` can come any more. So a stopped cycle is
//! kept as a few dozen bytes (start, stop, pauses) and judged, with its actions, when its case
//! is **settled**: `--retain` (default 30 days) after its latest `closed` (and at least the
//! reorder window after the latest arrival of one of its events, so that a file concatenated
//! per project keeps its follow-ups), or at the end of the stream. Follow-ups (`revisited`, `rated`, `spot_checked`, `reopened`) within the
//! retention are applied like any event. A case that is not closed settles the same way once
//! it has had no event for the retention (so that memory follows the stream's density, not
//! its length), when a deadline clause applies to it and it is neither a subject of duties
//! nor read by a notification, period or record clause (see `Evaluator::may_idle_out`). A
//! cycle still running when its case settles is judged against `now`: at once when `now` was given, else kept as a few dozen bytes and resolved at
//! the end.
//!
//! Output order: cases in the order they settle (by the instant their retention ended, then
//! ticket), each case's records by clause (policy and clause order) and cycle; at the end,
//! the running cycles of settled cases, the cases still kept in ticket order, and the period
//! records.
//!
//! # Rejections the evaluator makes
//!
//! - **Duplicates.** Ids are tracked per case for as long as the case is kept: the first
//!   occurrence is kept, later ones are rejected with the line of the first.
//! - **Late events.** An event is late only when its case has already applied an event at or
//!   after its instant: it arrived more than the reorder window out of order *within its case*.
//!   Disorder across cases is harmless.
//! - **Expired events.** An event for a ticket settled in the last [`FINISHED_MEMORY`] (or twice
//!   the retention) is rejected as arriving after the retention, with its own reason (closed,
//!   or not closed and idle for the retention). An event
//!   for a ticket settled longer ago starts a new case (reported as never opened unless it is an
//!   `opened`), so that memory follows the recent past rather than the whole stream.
//!
//! Events later than an explicit `now` are ignored and counted (they still move the
//! watermark). Rejected events do not move the watermark.

mod alarm;
mod merge;
mod snapshot;

pub use alarm::Alert;
pub use merge::MergeError;
pub use snapshot::{Checkpoint, SnapshotError};

use super::case::{resolve, CaseView, ClausePlan, CycleFacts};
use super::clock::{resolve_limit, Counting, PauseSpan};
use super::notify::{self, NoticeFacts, NoticePlan};
use super::partition::Partition;
use super::record::{self, RecordPlan};
use super::track::{Roles, Stopped, TrackSpec, TrackState};
use super::verdict::{
    format_duration, Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected, Status,
    Summary, Unopened, Verdict,
};
use crate::calendar::Calendar;
use crate::event::{Event, Instant};
use crate::inline_str::InlineStr;
use crate::period::{PeriodRecord, PeriodTally};
use crate::policy::{ActionKind, ClauseBody, Measure, Policy, Trigger};
use crate::relevance::{NameSet, Relevance};
use crate::value::{Attrs, Value};
use chrono::Datelike;
use chrono::{DateTime, Duration, Utc};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
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
    /// The attributes of the case whose verdict comes next, as merged by then (not called for
    /// the cycles of cases settled long before the end, whose attributes are no longer kept).
    /// Sinks that group by an attribute (the agenda's counts per project) read it here.
    fn case_attrs(&mut self, _ticket: &Arc<str>, _attrs: &Attrs) {}
    /// Case attributes the sink reads in [`Sink::case_attrs`] besides those the policies read
    /// (the evaluator keeps only those of a case's attributes).
    fn wants_case_attributes(&self) -> &[&'static str] {
        &[]
    }
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
    fn case_attrs(&mut self, ticket: &Arc<str>, attrs: &Attrs) {
        (**self).case_attrs(ticket, attrs)
    }
    fn wants_case_attributes(&self) -> &[&'static str] {
        (**self).wants_case_attributes()
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
    /// How far out of order events may arrive: each waits this long (in stream time) before
    /// it is applied.
    pub reorder_window: Duration,
    /// How long after its latest `closed` a case is kept, so that follow-ups are applied; at
    /// least the reorder window.
    pub retain: Duration,
}

/// From this many deadline tracks on, a case follows only the clocks of its kind (see
/// `Evaluator::guard_tracks`).
const GUARDED_FROM_TRACKS: usize = 8;

/// The kinds of cases that are subjects of duties (SEMANTICS.md): never settled for being idle.
const SUBJECT_KINDS: [&str; 2] = ["asset", "area"];

/// The default of [`EvalOptions::retain`].
pub const DEFAULT_RETAIN: Duration = Duration::days(30);

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            now: None,
            reorder_window: Duration::days(1),
            retain: DEFAULT_RETAIN,
        }
    }
}

/// Below this many ids a case finds duplicates by scanning them; from it on, by a map. Most
/// cases have a handful of events; assets with years of duties have thousands.
const ID_SCAN_LIMIT: usize = 16;

/// The ids of a case's accepted events, as 64-bit hashes (xxh3) with the line of each: 16 bytes
/// an id, whatever its length. Two ids of one case with the same hash would be taken for a
/// duplicate; among a thousand ids the odds are about 1 in 10^13.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
enum CaseIds {
    #[default]
    None,
    Few(Vec<(u64, u64)>),
    #[allow(clippy::box_collection)] // most cases have few ids: the variant stays small
    Many(Box<HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>>),
}

impl CaseIds {
    fn hash(id: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(id.as_bytes())
    }

    fn line_of(&self, id: &str) -> Option<u64> {
        let h = Self::hash(id);
        match self {
            CaseIds::None => None,
            CaseIds::Few(ids) => ids.iter().find(|(i, _)| *i == h).map(|&(_, l)| l),
            CaseIds::Many(map) => map.get(&h).copied(),
        }
    }

    fn insert(&mut self, id: &str, line: u64) {
        let h = Self::hash(id);
        match self {
            CaseIds::None => *self = CaseIds::Few(vec![(h, line)]),
            CaseIds::Few(ids) if ids.len() + 1 >= ID_SCAN_LIMIT => {
                let mut map: HashMap<u64, u64, BuildHasherDefault<IdentityHasher>> =
                    std::mem::take(ids).into_iter().collect();
                map.insert(h, line);
                *self = CaseIds::Many(Box::new(map));
            }
            CaseIds::Few(ids) => ids.push((h, line)),
            CaseIds::Many(map) => {
                map.insert(h, line);
            }
        }
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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

/// How long, in stream time, a settled case is remembered so that an event for it is rejected
/// as arriving after the retention: at least this long (or twice the retention), at most
/// twice. After that, an event for the ticket starts a new case, reported as never opened
/// unless it is an `opened`; either way the line is reported. Remembering every settled ticket
/// would make memory grow with the stream.
pub const FINISHED_MEMORY: Duration = Duration::days(30);

/// Hashes of finished tickets, in two generations of [`FINISHED_MEMORY`] (or twice the reorder
/// window, if longer) each: the older generation is forgotten when the watermark has moved a
/// generation past its start.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Finished {
    current: HashSet64,
    previous: HashSet64,
    since: Option<Instant>,
}

impl Finished {
    /// Whether the ticket of `hash` settled recently, and if so whether it settled idle (never
    /// closed, no event for the retention) rather than closed. The lowest bit of a remembered
    /// hash says which: 63 bits are left to tell tickets apart.
    fn contains(&self, hash: u64) -> Option<bool> {
        let closed = hash & !1;
        let idle = hash | 1;
        let has = |h: &u64| self.current.contains(h) || self.previous.contains(h);
        if has(&closed) {
            Some(false)
        } else if has(&idle) {
            Some(true)
        } else {
            None
        }
    }

    fn insert(&mut self, hash: u64, idle: bool) {
        self.current.insert(if idle { hash | 1 } else { hash & !1 });
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

/// A running cycle of a settled case, resolved at the end of the stream.
///
/// Without an explicit `now`, a stream of a year can leave one per case (every ticket that
/// is never closed leaves its running cycles here once it has been idle for the retention),
/// so it is kept small: its stop is known to be absent, what the clause's limit gives for its
/// start (counting, amount, zone) is derived again when it is resolved, and pauses and
/// evidence, which most cycles lack, share one optional box.
#[derive(serde::Serialize, serde::Deserialize)]
struct Deferred {
    /// Inline rather than shared: the shared ticket of a case costs a heap block of its own.
    ticket: InlineStr,
    plan: u32,
    cycle: u32,
    start: Instant,
    /// Whether the case was closed when it settled (else it settled idle).
    closed: bool,
    extra: Option<Box<DeferredExtra>>,
}

/// The pauses and stage evidence of a [`Deferred`] cycle that has any.
#[derive(serde::Serialize, serde::Deserialize)]
struct DeferredExtra {
    pauses: Box<[PauseSpan]>,
    evidence: Box<[Box<[Instant]>]>,
}

impl Deferred {
    fn new(ticket: &str, facts: CycleFacts, closed: bool) -> Deferred {
        debug_assert!(facts.stop.is_none(), "only running cycles wait");
        let extra = (!facts.pauses.is_empty() || !facts.evidence.is_empty()).then(|| {
            Box::new(DeferredExtra {
                pauses: facts.pauses.into_boxed_slice(),
                evidence: facts.evidence.into_boxed_slice(),
            })
        });
        Deferred {
            ticket: InlineStr::new(ticket),
            plan: facts.plan as u32,
            cycle: facts.cycle,
            start: facts.start,
            closed,
            extra,
        }
    }

    /// The facts this was made from.
    fn facts(self, plans: &[ClausePlan<'_>]) -> (Arc<str>, CycleFacts) {
        let plan = &plans[self.plan as usize];
        let (counting, amount, zone) =
            resolve_limit(&plan.deadline.limit, self.start, plan.policy_zone);
        let (pauses, evidence) = match self.extra {
            Some(extra) => (extra.pauses.into_vec(), extra.evidence.into_vec()),
            None => (Vec::new(), Vec::new()),
        };
        let facts = CycleFacts {
            plan: self.plan as usize,
            cycle: self.cycle,
            start: self.start,
            stop: None,
            counting,
            amount,
            zone,
            pauses,
            evidence,
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

impl<T: serde::Serialize> serde::Serialize for Chunked<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // With its length up front: a compact format writes the length first.
        use serde::ser::SerializeSeq;
        let len = self.chunks.iter().map(Vec::len).sum();
        let mut seq = serializer.serialize_seq(Some(len))?;
        for item in self.chunks.iter().flatten() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Chunked<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut chunked = Chunked::default();
        for item in Vec::<T>::deserialize(deserializer)? {
            chunked.push(item);
        }
        Ok(chunked)
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

/// An accepted event waiting to be applied: ordered by instant, then arrival.
#[derive(serde::Serialize, serde::Deserialize)]
struct Waiting {
    at: Instant,
    arrival: u64,
    key: TicketKey,
    event: Event,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.arrival) == (other.at, other.arrival)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.arrival).cmp(&(other.at, other.arrival))
    }
}

/// A stage that asks for evidence (an escalation or a notification), by plan and stage.
#[derive(Debug, Clone, Copy)]
struct StageKey {
    plan: u32,
    stage: u32,
}

/// What is kept of one case between its events: never the events themselves, except those
/// of the types notification and period clauses read (`digest`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CaseState {
    /// Inline: most tickets fit in 22 bytes, and a shared string would cost every kept case a
    /// heap block of its own; sinks get a shared copy made when the case settles.
    ticket: InlineStr,
    /// Accepted events, applied or waiting, relevant or not.
    count: u64,
    first_line: u64,
    opened: bool,
    /// `attrs` of `opened` merged with every `updated`, in canonical order.
    attrs: Attrs,
    /// The `status` of the latest `status` event.
    status: Option<InlineStr>,
    /// The sequence number of the next applied event.
    seq: u32,
    /// The latest instant applied.
    applied: Option<Instant>,
    /// The latest `closed` not followed by a `reopened`.
    closed: Option<Instant>,
    /// The watermark when the case's latest event arrived.
    arrived: Instant,
    ids: CaseIds,
    /// Per started track (index into the evaluator's tracks), its state.
    tracks: Vec<(u16, TrackState)>,
    /// Cycles that stopped, per track: judged when the case settles, with its attributes as
    /// merged by then (SEMANTICS.md: applicability uses the attributes as merged up to `now`,
    /// and a repair is often reclassified when its work order is closed out, after the fix).
    stopped: Vec<(u16, Stopped)>,
    /// What few cases have, boxed so that the others pay one pointer for it.
    rare: Option<Box<Rare>>,
    /// From the first clock not followed because of the case's `kind`: the events that start,
    /// stop or pause clocks, so that a reclassified case can follow its new kind's clocks from
    /// the start (SEMANTICS.md: "a reclassified case is judged as reclassified").
    log: Option<Box<ReplayLog>>,
    /// Events the notification and period clauses read, evaluated when the case settles.
    /// (Boxed: policies without such clauses pay one pointer.)
    digest: Option<Box<Digest>>,
}

/// What a case keeps for its notification and period clauses until it settles.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Digest {
    events: Vec<Kept>,
    /// Which of the evaluator's first-only digest rules have been met (bit `i`: rule `i`).
    firsts: u128,
    /// The latest accepted event (instant and type, in canonical order): "the case's last
    /// event" must mean the same as with every event kept (a subject's duties end at its
    /// `closed` only when that is its last event).
    last: Option<(Instant, InlineStr)>,
}

/// The events of a case that matter to clocks, in canonical order, with the status before the
/// first of them.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ReplayLog {
    status: Option<InlineStr>,
    events: Vec<Logged>,
}

/// One event of a [`ReplayLog`]: its type (an index into the evaluator's `log_names`), and its
/// attributes only when a trigger filters on them or it is a `status`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Logged {
    at: Instant,
    seq: u32,
    kind: u16,
    attrs: Option<Box<Attrs>>,
}

/// An event a case keeps for its notification and period clauses: without the ticket, id and
/// line, which the case knows or the clauses never read.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Kept {
    at: Instant,
    kind: InlineStr,
    attrs: Attrs,
}

/// The parts of a case's state that most cases never need.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Rare {
    /// Evidence for stages: index into the evaluator's stage keys, and instant.
    evidence: Vec<(u32, Instant)>,
}

impl CaseState {
    fn new(ticket: &str, line: u64, arrived: Instant) -> CaseState {
        CaseState {
            ticket: InlineStr::new(ticket),
            count: 0,
            first_line: line,
            opened: false,
            attrs: Attrs::new(),
            status: None,
            seq: 0,
            applied: None,
            closed: None,
            arrived,
            ids: CaseIds::None,
            tracks: Vec::new(),
            stopped: Vec::new(),
            rare: None,
            log: None,
            digest: None,
        }
    }

    /// When the case may be settled. A closed case: the retention past its latest `closed`,
    /// and at least the reorder window past the watermark at which its latest event arrived (a
    /// file concatenated per project brings old cases long after the watermark has moved on,
    /// and their follow-ups with them). A case that is not closed: the retention past the
    /// watermark at which its latest event arrived, so that a ticket left open and forgotten
    /// costs memory for the retention, not for the rest of the stream (memory follows the
    /// stream's density, not its length).
    ///
    /// `retain` is the case's own retention after `closed` ([`Evaluator::retention`]): at least
    /// `--retain`, longer when a warranty or follow-up window of a record clause may apply.
    fn settles_at(&self, opts: &EvalOptions, retain: Duration) -> Instant {
        let after =
            |t: Instant, d: Duration| t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC);
        match self.closed {
            Some(closed) => after(closed, retain).max(after(self.arrived, opts.reorder_window)),
            None => after(self.arrived, opts.retain),
        }
    }

    fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    fn evidence(&self) -> &[(u32, Instant)] {
        self.rare.as_ref().map_or(&[], |r| &r.evidence[..])
    }

    fn track(&mut self, track: u16) -> Option<&mut TrackState> {
        self.tracks
            .iter_mut()
            .find(|(t, _)| *t == track)
            .map(|(_, s)| s)
    }
}

/// The streaming evaluator. Feed it events with [`Evaluator::push`] and the reader's rejected
/// lines with [`Evaluator::reject`], then call [`Evaluator::finish`].
pub struct Evaluator<'p, S: Sink> {
    policies: &'p [Policy],
    plans: Vec<ClausePlan<'p>>,
    tracks: Vec<TrackSpec<'p>>,
    /// Per track, its plans in plan order.
    track_plans: Vec<Vec<u32>>,
    /// Per event type, the tracks it starts or stops (`reopened` concerns every track).
    type_tracks: Vec<Vec<u16>>,
    /// The event types that concern clocks (start, stop, `reopened`, `status`), indexing
    /// `type_tracks` and replay logs.
    clock_types: NameSet,
    /// Event types a [`ReplayLog`] keeps, by name and index.
    log_names: Vec<InlineStr>,
    /// Event types some start or stop trigger filters by attribute.
    filtered_types: HashSet<InlineStr>,
    /// The event attributes those filters read, and `status`: all a replay needs.
    log_attrs: Vec<Box<str>>,
    /// The case attributes the clocks' filters compare with: a logged event carries their
    /// values at its instant, so that a replay matches it as it was matched (or would have been).
    track_case_refs: Vec<Box<str>>,
    /// Stages that ask for evidence.
    stage_keys: Vec<StageKey>,
    /// Per plan and stage, its index in `stage_keys`.
    plan_stage_keys: Vec<Vec<Option<u32>>>,
    opts: EvalOptions,
    sink: S,
    /// Events waiting out the window: those that arrived in order of `at` in a queue (most of
    /// a sorted stream: no heap to sift), the others in a heap; released by merging the two.
    in_order: VecDeque<Waiting>,
    waiting: BinaryHeap<Reverse<Waiting>>,
    arrivals: u64,
    /// The case attributes the policies read (`None`: all), set at the first event so that a
    /// report's grouping attributes count too.
    case_attrs: Option<Option<Vec<Box<str>>>>,
    /// Cases, boxed so that the table stays small and probing it stays in cache.
    cases: HashMap<TicketKey, Box<CaseState>, BuildHasherDefault<IdentityHasher>>,
    /// Cases changed (or settled) since the last checkpoint, when a host keeps its state in
    /// parts (see [`Evaluator::checkpoint`]); `None` costs nothing.
    changed: Option<HashSet<TicketKey>>,
    /// When cases may settle: (instant, ticket), checked against the case when it comes up.
    settling: BinaryHeap<Reverse<(Instant, TicketKey)>>,
    finished: Finished,
    /// What the policies can look at; the rest of each event is dropped on arrival.
    relevance: Relevance,
    /// What notification and period clauses read, kept until a case settles.
    digest: Relevance,
    /// Which events of those types a case keeps (see [`DigestRule`]).
    digest_rules: Vec<DigestRule<'p>>,
    /// The event types of digest rules, and per type the rules naming it.
    digest_types: NameSet,
    digest_by_type: Vec<Vec<u16>>,
    /// Whether a notification or period clause filters `opened` events by attribute.
    digest_reads_opened: bool,
    /// The case attributes the digest rules' filters compare with (`case.NAME`): a kept event
    /// carries their values at its instant (see [`crate::eval::case_ref`]).
    digest_case_refs: Vec<Box<str>>,
    watermark: Option<Instant>,
    deferred: Chunked<Deferred>,
    summary: Summary,
    actions: Vec<Action>,
    /// For each deadline plan, its index in `summary.clauses`.
    plan_summary: Vec<usize>,
    /// Sampling, targets, repeats, duties and windows.
    periods: PeriodTally<'p>,
    /// Notification clauses, and the index of each in `summary.clauses`.
    notices: Vec<NoticePlan<'p>>,
    notice_summary: Vec<usize>,
    records: Vec<RecordPlan<'p>>,
    record_summary: Vec<usize>,
    /// Per record plan with a warranty or follow-up window longer than `--retain`, that window:
    /// a closed case such a clause may apply to is kept for it ([`Evaluator::retention`]).
    long_windows: Vec<(u32, Duration)>,
    /// Notification facts of settled cases that depend on the `now` to come, per case.
    deferred_notices: Vec<(Arc<str>, Vec<NoticeFacts>)>,
    findings: Vec<Finding>,
    /// Scratch: the events of one case at one instant, cycles stopped, roles.
    batch: Vec<Event>,
    track_stops: Vec<Stopped>,
    roles: Vec<(u32, Roles)>,
    touched: Vec<u16>,
    /// Whether clocks are followed only for cases of a kind their clauses are for (with a
    /// replay log for reclassified cases): with few tracks, following them all costs less
    /// than the log.
    guard_tracks: bool,
    /// Holds a case's place in the table while the case is being applied to.
    spare: Option<Box<CaseState>>,
    /// What [`Evaluator::alerts`] keeps, from its first call on.
    alarms: Option<Box<alarm::Alarms>>,
    /// With a partition, only the events of its tickets are applied (see [`super::partition`]).
    partition: Option<Partition>,
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
        let plans = super::case::plan(policies);
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
        let index_of = |r: ClauseRef| clauses.iter().position(|c| c.clause_ref == r).unwrap_or(0);
        let plan_summary = plans.iter().map(|p| index_of(p.clause_ref)).collect();
        let notices = notify::plan(policies);
        let notice_summary = notices.iter().map(|p| index_of(p.clause_ref)).collect();
        let records = record::plan(policies);
        let record_summary = records.iter().map(|p| index_of(p.clause_ref)).collect();
        let long_windows = records
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let window = record::longest_window(p.body)?;
                (window > opts.retain.max(opts.reorder_window)).then_some((i as u32, window))
            })
            .collect();

        let mut tracks: Vec<TrackSpec<'p>> = Vec::new();
        let mut track_plans: Vec<Vec<u32>> = Vec::new();
        let mut stage_keys = Vec::new();
        let mut plan_stage_keys = Vec::new();
        for (pi, plan) in plans.iter().enumerate() {
            let spec = TrackSpec::of(plan.deadline);
            let t = match tracks.iter().position(|t| t.same_as(&spec)) {
                Some(t) => t,
                None => {
                    tracks.push(spec);
                    track_plans.push(Vec::new());
                    tracks.len() - 1
                }
            };
            track_plans[t].push(pi as u32);
            let keys = plan
                .deadline
                .stages
                .iter()
                .enumerate()
                .map(|(si, stage)| {
                    (stage.action != ActionKind::Warn).then(|| {
                        stage_keys.push(StageKey {
                            plan: pi as u32,
                            stage: si as u32,
                        });
                        (stage_keys.len() - 1) as u32
                    })
                })
                .collect();
            plan_stage_keys.push(keys);
        }
        let clock_types = NameSet::of(
            tracks
                .iter()
                .flat_map(|t| t.start.matchers.iter().chain(&t.stop.matchers))
                .map(|m| &*m.event)
                .chain(["reopened", "status"]),
        );
        let log_names: Vec<InlineStr> = clock_types.iter().map(InlineStr::new).collect();
        let mut type_tracks: Vec<Vec<u16>> = vec![Vec::new(); clock_types.len()];
        for (t, spec) in tracks.iter().enumerate() {
            for m in spec.start.matchers.iter().chain(&spec.stop.matchers) {
                if let Some(i) = clock_types.position(&m.event) {
                    let list = &mut type_tracks[i as usize];
                    if !list.contains(&(t as u16)) {
                        list.push(t as u16);
                    }
                }
            }
        }
        let mut log_attrs: Vec<Box<str>> = vec!["status".into()];
        let track_case_refs: Vec<Box<str>> = {
            let mut refs: Vec<&str> = Vec::new();
            for t in &tracks {
                t.start.case_attributes(&mut refs);
                t.stop.case_attributes(&mut refs);
            }
            refs.sort_unstable();
            refs.dedup();
            refs.into_iter().map(Box::from).collect()
        };
        for m in tracks
            .iter()
            .flat_map(|t| t.start.matchers.iter().chain(&t.stop.matchers))
        {
            let mut names = Vec::new();
            if let Some(f) = &m.filter {
                f.attributes(&mut names);
            }
            for n in names {
                if !log_attrs.iter().any(|k| &**k == n) {
                    log_attrs.push(n.into());
                }
            }
        }
        let filtered_types = tracks
            .iter()
            .flat_map(|t| t.start.matchers.iter().chain(&t.stop.matchers))
            .filter(|m| m.filter.is_some())
            .map(|m| m.event.clone())
            .collect();
        let digest_rules = digest_rules(policies);
        let digest_types = NameSet::of(
            digest_rules
                .iter()
                .flat_map(|r| r.trigger.matchers.iter().map(|m| &*m.event)),
        );
        let mut digest_by_type: Vec<Vec<u16>> = vec![Vec::new(); digest_types.len()];
        for (i, r) in digest_rules.iter().enumerate() {
            for m in &r.trigger.matchers {
                if let Some(ty) = digest_types.position(&m.event) {
                    if !digest_by_type[ty as usize].contains(&(i as u16)) {
                        digest_by_type[ty as usize].push(i as u16);
                    }
                }
            }
        }
        let track_count = tracks.len();
        let summary = Summary {
            now: opts.now,
            clauses,
            ..Summary::default()
        };
        let periods = PeriodTally::new(policies, &summary);
        let digest = Relevance::of_period_clauses(policies);
        let mut opts = opts;
        opts.retain = opts.retain.max(opts.reorder_window);
        Evaluator {
            policies,
            plans,
            tracks,
            track_plans,
            type_tracks,
            clock_types,
            log_names,
            filtered_types,
            log_attrs,
            track_case_refs,
            stage_keys,
            plan_stage_keys,
            opts,
            sink,
            in_order: VecDeque::new(),
            waiting: BinaryHeap::new(),
            arrivals: 0,
            case_attrs: None,
            cases: HashMap::default(),
            changed: None,
            settling: BinaryHeap::new(),
            finished: Finished::default(),
            relevance,
            digest,
            digest_reads_opened: digest_rules.iter().any(|r| {
                r.trigger
                    .matchers
                    .iter()
                    .any(|m| &*m.event == "opened" && m.filter.is_some())
            }) || policies
                .iter()
                .flat_map(|p| &p.clauses)
                // A record item may read any attribute of `opened` (`opened has location`).
                .any(|c| matches!(c.body, ClauseBody::Record(_))),
            digest_types,
            digest_by_type,
            digest_case_refs: {
                let mut refs: Vec<&str> = Vec::new();
                for r in &digest_rules {
                    r.trigger.case_attributes(&mut refs);
                }
                refs.sort_unstable();
                refs.dedup();
                refs.into_iter().map(Box::from).collect()
            },
            digest_rules,
            watermark: None,
            deferred: Chunked::default(),
            summary,
            actions: Vec::new(),
            plan_summary,
            periods,
            notices,
            notice_summary,
            records,
            record_summary,
            long_windows,
            deferred_notices: Vec::new(),
            findings: Vec::new(),
            batch: Vec::new(),
            track_stops: Vec::new(),
            roles: Vec::new(),
            touched: Vec::new(),
            spare: None,
            alarms: None,
            guard_tracks: track_count > GUARDED_FROM_TRACKS,
            partition: None,
        }
    }

    /// The latest `at` accepted so far.
    pub fn watermark(&self) -> Option<Instant> {
        self.watermark
    }

    /// Whether the case of `ticket` is kept (open, or closed and within the retention).
    pub fn keeps(&self, ticket: &str) -> bool {
        self.cases.contains_key(&TicketKey::of(ticket))
    }

    /// The instant a case is judged at if the stream ended now: the explicit `now`, or the
    /// latest `at` so far.
    pub fn judged_at(&self) -> Option<Instant> {
        self.final_now()
    }

    /// Cases currently kept (open, or closed and within the retention).
    pub fn open_cases(&self) -> usize {
        self.cases.len()
    }

    /// Events accepted and not yet applied (waiting out the reorder window).
    pub fn waiting_events(&self) -> usize {
        self.in_order.len() + self.waiting.len()
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

    /// Applies only the events of the tickets of `partition` (see [`super::partition`]); the
    /// events of other tickets still move stream time. Call before the first event. A
    /// partition of one is no partition.
    pub fn partition(&mut self, partition: Partition) {
        self.partition = (partition.count > 1).then_some(partition);
        self.periods
            .keep_repeat_candidates(self.partition.is_some());
    }

    /// The partition this evaluator applies, if any.
    pub fn partition_of(&self) -> Option<Partition> {
        self.partition
    }

    /// A line the reader could not turn into an event. Among the partitions of a split, only
    /// partition 0 counts it: its ticket is not known.
    pub fn reject(&mut self, rejected: Rejected) {
        if self.partition.is_some_and(|p| !p.counts_unattributed()) {
            return;
        }
        self.rejected(rejected);
    }

    fn rejected(&mut self, rejected: Rejected) {
        self.summary.rejected += 1;
        self.sink.rejected(&rejected);
    }

    fn reject_event(&mut self, event: &Event, reason: String) {
        self.rejected(Rejected {
            line: event.line,
            reason,
            text: String::new(),
        });
    }

    /// One event of the stream, in any order within the reorder window.
    pub fn push(&mut self, event: Event) {
        if self.case_attrs.is_none() {
            self.case_attrs = Some((!self.relevance.keeps_everything()).then(|| {
                let mut names = Relevance::case_attributes(self.policies);
                // Whether a case is a subject, never settled for being idle.
                names.insert(super::case::GUARD_ATTR.to_string());
                names.extend(self.periods.report_group_by().iter().cloned());
                names.extend(
                    self.sink
                        .wants_case_attributes()
                        .iter()
                        .map(|n| n.to_string()),
                );
                names.into_iter().map(String::into_boxed_str).collect()
            }));
        }
        if self.partition.is_some_and(|p| !p.contains(&event.ticket)) {
            // Another partition's event: not applied, not rejected; it moves time alike.
            self.summary.elsewhere += 1;
            self.advance(event.at);
            return;
        }
        self.summary.events += 1;
        if self.opts.now.is_some_and(|now| event.at > now) {
            self.summary.after_now += 1;
            self.advance(event.at);
            return;
        }
        let key = TicketKey::of(&event.ticket);
        self.mark_changed(key);
        let at = event.at;
        let mark = self.watermark.map_or(at, |w| w.max(at));
        let relevant = self.relevance.keeps_type(&event.kind);
        let case = match self.cases.get_mut(&key) {
            Some(case) => {
                if let Some(id) = event.id.as_deref() {
                    if let Some(first) = case.ids.line_of(id) {
                        self.summary.duplicates += 1;
                        let reason =
                            format!("duplicate event id `{id}`, first seen on line {first}");
                        self.reject_event(&event, reason);
                        return;
                    }
                }
                if relevant && case.applied.is_some_and(|applied| at <= applied) {
                    self.summary.late += 1;
                    let reason = format!(
                        "event for `{}` arrived more than {} out of order: its case has \
                         already been evaluated past {}; raise --reorder-window",
                        event.ticket,
                        format_duration(self.opts.reorder_window),
                        super::verdict::rfc3339(at, chrono_tz::UTC),
                    );
                    self.reject_event(&event, reason);
                    return;
                }
                case
            }
            None => {
                if let Some(idle) = self.finished.contains(key.short()) {
                    self.summary.expired += 1;
                    let reason = expired_reason(&event.ticket, self.opts.retain, idle);
                    self.reject_event(&event, reason);
                    return;
                }
                let case = Box::new(CaseState::new(&event.ticket, event.line, mark));
                // Every case settles at the latest after the retention without events.
                self.settling.push(Reverse((
                    case.settles_at(&self.opts, self.retention(&case)),
                    key,
                )));
                self.cases.entry(key).or_insert(case)
            }
        };
        self.summary.accepted += 1;
        if !self.digest_rules.is_empty() {
            let digest = case.digest.get_or_insert_with(Box::default);
            if digest
                .last
                .as_ref()
                .is_none_or(|(a, k)| (at, &*event.kind) > (*a, &**k))
            {
                digest.last = Some((at, event.kind.clone()));
            }
        }
        case.count += 1;
        case.first_line = case.first_line.min(event.line);
        case.arrived = mark;
        if let Some(id) = &event.id {
            case.ids.insert(id, event.line);
        }
        if relevant {
            let waiting = Waiting {
                at,
                arrival: self.arrivals,
                key,
                event,
            };
            self.arrivals += 1;
            if self.in_order.back().is_none_or(|last| last.at <= at) {
                self.in_order.push_back(waiting);
            } else {
                self.waiting.push(Reverse(waiting));
            }
        }
        self.advance(at);
    }

    /// Moves stream time to `now` without an event (a live source's clock): events that have
    /// waited out the reorder window are applied and cases past their retention settle.
    pub fn advance_to(&mut self, now: Instant) {
        self.advance(now);
    }

    fn advance(&mut self, at: Instant) {
        if self.watermark.is_some_and(|w| w >= at) {
            return;
        }
        self.watermark = Some(at);
        let longest = self.longest_retention();
        self.finished
            .advance(at, FINISHED_MEMORY.max(longest + longest));
        let Some(frontier) = at.checked_sub_signed(self.opts.reorder_window) else {
            return;
        };
        self.release(Some(frontier));
        while let Some(&Reverse((when, key))) = self.settling.peek() {
            if when >= frontier {
                break;
            }
            self.settling.pop();
            let due = self
                .cases
                .get(&key)
                .filter(|c| c.closed.is_some() || self.may_idle_out(c))
                .map(|c| c.settles_at(&self.opts, self.retention(c)));
            match due {
                // (Earlier than planned when an `updated` took a long warranty window off it.)
                Some(due) if due <= when => {
                    self.mark_changed(key);
                    if let Some(case) = self.cases.remove(&key) {
                        self.finished.insert(key.short(), case.closed.is_none());
                        self.settle_case(case, false);
                    }
                }
                // Its events arrived or it was reopened since: it settles later.
                Some(due) if due > when => self.settling.push(Reverse((due, key))),
                _ => {}
            }
        }
    }

    /// Applies the waiting events strictly before `frontier` (all when `None`), an instant at a
    /// time, in canonical order.
    fn release(&mut self, frontier: Option<Instant>) {
        let mut group: Vec<(TicketKey, Event)> = Vec::new();
        loop {
            let first = match (self.in_order.front(), self.waiting.peek()) {
                (Some(a), Some(Reverse(b))) => a.at.min(b.at),
                (Some(a), None) => a.at,
                (None, Some(Reverse(b))) => b.at,
                (None, None) => return,
            };
            if frontier.is_some_and(|f| first >= f) {
                return;
            }
            let at = first;
            group.clear();
            while self.in_order.front().is_some_and(|w| w.at == at) {
                if let Some(w) = self.in_order.pop_front() {
                    group.push((w.key, w.event));
                }
            }
            while self.waiting.peek().is_some_and(|Reverse(w)| w.at == at) {
                if let Some(Reverse(w)) = self.waiting.pop() {
                    group.push((w.key, w.event));
                }
            }
            group.sort_by(|a, b| {
                a.1.ticket
                    .cmp(&b.1.ticket)
                    .then_with(|| a.1.canonical_cmp(&b.1))
            });
            let mut events = group.drain(..).peekable();
            while let Some((key, first)) = events.next() {
                let mut batch = std::mem::take(&mut self.batch);
                batch.clear();
                batch.push(first);
                while let Some((_, next)) = events.next_if(|(k, _)| *k == key) {
                    batch.push(next);
                }
                self.apply(key, &mut batch);
                self.batch = batch;
            }
        }
    }

    /// Applies the events of one case at one instant, sorted canonically.
    fn apply(&mut self, key: TicketKey, batch: &mut Vec<Event>) {
        self.touch(key);
        self.mark_changed(key);
        // The case leaves its slot while it is worked on (the methods below borrow the whole
        // evaluator), and a spare takes its place: two lookups, no removal from the table.
        let spare = self
            .spare
            .take()
            .unwrap_or_else(|| Box::new(CaseState::new("", 0, DateTime::<Utc>::MIN_UTC)));
        let taken = self
            .cases
            .get_mut(&key)
            .map(|slot| std::mem::replace(slot, spare));
        let Some(mut case) = taken else {
            // Settled while these waited: they came after the retention.
            let idle = self.finished.contains(key.short()).unwrap_or(false);
            for e in batch.drain(..) {
                self.summary.expired += 1;
                self.summary.accepted -= 1;
                let reason = expired_reason(&e.ticket, self.opts.retain, idle);
                self.reject_event(&e, reason);
            }
            return;
        };
        let at = batch[0].at;
        let first_seq = case.seq;
        case.seq = case.seq.saturating_add(batch.len() as u32);
        case.applied = Some(at);
        let kind_before = case.attrs.get(super::case::GUARD_ATTR).cloned();
        // Attributes, closing, evidence: before the clocks, so that a record made final at
        // this instant sees the case as it is at the end of the instant.
        for e in batch.iter() {
            match &*e.kind {
                "opened" => {
                    case.opened = true;
                    self.merge_attrs(&mut case.attrs, &e.attrs);
                }
                "updated" => self.merge_attrs(&mut case.attrs, &e.attrs),
                "closed" => {
                    case.closed = Some(at);
                    // A closed case is kept for weeks: without the room its lists grew into.
                    case.tracks.shrink_to_fit();
                    case.stopped.shrink_to_fit();
                    if let Some(log) = case.log.as_mut() {
                        log.events.shrink_to_fit();
                    }
                    if let Some(d) = case.digest.as_mut() {
                        d.events.shrink_to_fit();
                    }
                    case.attrs.shrink_to_fit();
                    self.settling.push(Reverse((
                        case.settles_at(&self.opts, self.retention(&case)),
                        key,
                    )));
                }
                "reopened" => case.closed = None,
                "escalated" | "notified" => self.evidence(&mut case, e),
                _ => {}
            }
        }
        // Alert periods are stream-wide: noted as their cases' events are applied.
        self.periods
            .note_alerts(&batch[0].ticket, &case.attrs, batch);
        // Clocks.
        if case.log.is_some() && case.attrs.get(super::case::GUARD_ATTR) != kind_before.as_ref() {
            self.replay(&mut case);
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        for e in batch.iter() {
            if let Some(i) = self.clock_types.position(&e.kind) {
                touched.extend_from_slice(&self.type_tracks[i as usize]);
            }
            if &*e.kind == "reopened" {
                touched.extend(case.tracks.iter().map(|(t, _)| *t));
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let mut skipped = false;
        let kind = case.attrs.get(super::case::GUARD_ATTR).cloned();
        for &t in &touched {
            let spec = &self.tracks[t as usize];
            let may_start = !self.guard_tracks || !case.opened || self.may_apply(t, kind.as_ref());
            self.roles.clear();
            for (i, e) in batch.iter().enumerate() {
                let r = spec.roles(&e.kind, &e.attrs, &case.attrs, at);
                if !r.any() {
                    continue;
                }
                self.roles.push((first_seq + i as u32, r));
                let now = &self.roles[..];
                self.track_stops.clear();
                match case.track(t) {
                    Some(state) => state.step(at, now, &mut self.track_stops),
                    None if !may_start => skipped |= r.start(),
                    None => {
                        let paused = spec.pauses_on(case.status.as_deref());
                        if let Some(state) =
                            TrackState::start(spec, at, now, paused, &mut self.track_stops)
                        {
                            case.tracks.push((t, state));
                        }
                    }
                }
                case.stopped
                    .extend(self.track_stops.drain(..).map(|st| (t, st)));
            }
        }
        self.touched = touched;
        // Statuses: where they fall among this instant's events changes no pause.
        let status_before = case.status.clone();
        for e in batch.iter().filter(|e| &*e.kind == "status") {
            let status = e.attrs.get("status").and_then(Value::as_str);
            for (t, state) in case.tracks.iter_mut() {
                let spec = &self.tracks[*t as usize];
                if !spec.pausing.is_empty() {
                    state.status(at, spec.pauses_on(status));
                }
            }
            case.status = status.map(InlineStr::new);
        }
        if skipped && case.log.is_none() {
            case.log = Some(Box::new(ReplayLog {
                status: status_before,
                events: Vec::new(),
            }));
        }
        if let Some(log) = case.log.as_mut() {
            for (i, e) in batch.iter().enumerate() {
                if let Some(kind) = self.clock_types.position(&e.kind) {
                    let kind = kind as u16;
                    let keep_attrs = &*e.kind == "status" || self.filtered_types.contains(&*e.kind);
                    let attrs = keep_attrs.then(|| {
                        let mut kept = Attrs::new();
                        for (key, value) in e.attrs.iter() {
                            if self.log_attrs.iter().any(|k| &**k == key) {
                                kept.insert(key, value.clone());
                            }
                        }
                        for name in &self.track_case_refs {
                            if let Some(v) = case.attrs.get(name) {
                                kept.insert(&crate::policy::case_snapshot_key(name), v.clone());
                            }
                        }
                        Box::new(kept)
                    });
                    log.events.push(Logged {
                        at,
                        seq: first_seq + i as u32,
                        kind,
                        attrs,
                    });
                }
            }
        }
        // What notification and period clauses read waits for the case to settle.
        for e in batch.drain(..) {
            let Some(digest) = case.digest.as_mut() else {
                continue;
            };
            if self.digest.keeps_type(&e.kind)
                && self.keeps_in_digest(&mut digest.firsts, &e, &case.attrs)
            {
                let mut e = e;
                if &*e.kind == "opened" && !self.digest_reads_opened {
                    // Its attributes are the case's, kept once in `attrs`.
                    e.attrs = Attrs::new();
                }
                // The case's values its filters compare with, as they are at its instant.
                for name in &self.digest_case_refs {
                    if let Some(v) = case.attrs.get(name) {
                        let key = crate::policy::case_snapshot_key(name);
                        e.attrs.insert(&key, v.clone());
                    }
                }
                digest.events.push(Kept {
                    at: e.at,
                    kind: e.kind,
                    attrs: e.attrs,
                });
            }
        }
        if let Some(slot) = self.cases.get_mut(&key) {
            self.spare = Some(std::mem::replace(slot, case));
        }
    }

    /// The case's `kind` changed: the clocks of its new kind that were not followed are
    /// followed from the log.
    fn replay(&mut self, case: &mut CaseState) {
        let Some(log) = case.log.take() else {
            return;
        };
        let none = Attrs::new();
        for t in 0..self.tracks.len() as u16 {
            let kind = case.attrs.get(super::case::GUARD_ATTR);
            if case.tracks.iter().any(|(x, _)| *x == t) || !self.may_apply(t, kind) {
                continue;
            }
            let spec = &self.tracks[t as usize];
            let mut state: Option<TrackState> = None;
            let mut status = log.status.clone();
            let mut out = Vec::new();
            let mut i = 0;
            while i < log.events.len() {
                let at = log.events[i].at;
                let j = i + log.events[i..].iter().take_while(|e| e.at == at).count();
                let mut roles: Vec<(u32, Roles)> = Vec::new();
                for e in &log.events[i..j] {
                    let kind = &self.log_names[e.kind as usize];
                    let r = spec.roles(kind, e.attrs.as_deref().unwrap_or(&none), &case.attrs, at);
                    if !r.any() {
                        continue;
                    }
                    roles.push((e.seq, r));
                    match state.as_mut() {
                        Some(s) => s.step(at, &roles, &mut out),
                        None => {
                            let paused = spec.pauses_on(status.as_deref());
                            state = TrackState::start(spec, at, &roles, paused, &mut out);
                        }
                    }
                }
                for e in &log.events[i..j] {
                    if &*self.log_names[e.kind as usize] != "status" {
                        continue;
                    }
                    let value = e.attrs.as_deref().and_then(|a| a.get("status"));
                    let value = value.and_then(Value::as_str);
                    if let Some(s) = state.as_mut() {
                        if !spec.pausing.is_empty() {
                            s.status(at, spec.pauses_on(value));
                        }
                    }
                    status = value.map(InlineStr::new);
                }
                i = j;
            }
            if let Some(s) = state {
                case.tracks.push((t, s));
            }
            case.stopped.extend(out.into_iter().map(|st| (t, st)));
        }
        case.log = Some(log);
    }

    /// Whether the case, not closed, may settle after the retention without events: only a
    /// ticket in the deadlines' sense, one a deadline clause applies to, and neither a subject
    /// (`kind: asset` or `area`, SEMANTICS.md: an area, a lift, a building) nor a case a
    /// notification, period or record clause has kept an event of. Subjects, companies,
    /// projects, replantings under warranty and the other cases no deadline follows may be
    /// quiet for months (a drill a quarter, fire equipment tested yearly, a root-cause
    /// analysis after a month's target); they are kept until they are closed.
    fn may_idle_out(&self, case: &CaseState) -> bool {
        let kind = case.attrs.get(super::case::GUARD_ATTR);
        let subject = kind
            .and_then(Value::as_str)
            .is_some_and(|kind| SUBJECT_KINDS.contains(&kind));
        !subject
            && case.digest.as_ref().is_none_or(|d| d.events.is_empty())
            && self
                .plans
                .iter()
                .any(|p| p.guard.may_hold(kind) && p.clause.applies.eval(&case.attrs))
    }

    /// How long the case is kept after `closed`: `--retain`, or the longest warranty or
    /// follow-up window of a record clause that may apply to it (by its `kind` and its `when`
    /// on the attributes as merged so far), so that a claim 60 days after a repair is seen by
    /// a 3-month warranty without raising `--retain` for every case.
    fn retention(&self, case: &CaseState) -> Duration {
        let kind = case.attrs.get(super::case::GUARD_ATTR);
        self.long_windows
            .iter()
            .filter(|&&(p, _)| {
                let plan = &self.records[p as usize];
                plan.guard.may_hold(kind) && plan.clause.applies.eval(&case.attrs)
            })
            .map(|&(_, window)| window)
            .fold(self.opts.retain, Duration::max)
    }

    /// The longest any case is kept after `closed`.
    fn longest_retention(&self) -> Duration {
        self.long_windows
            .iter()
            .map(|&(_, window)| window)
            .fold(self.opts.retain, Duration::max)
    }

    /// Whether a clause of track `t` may apply to a case with these attributes, by its
    /// `kind` alone: a clock is followed only for cases of a kind one of its clauses is for.
    fn may_apply(&self, t: u16, kind: Option<&Value>) -> bool {
        self.track_plans[t as usize]
            .iter()
            .any(|&p| self.plans[p as usize].guard.may_hold(kind))
    }

    /// Merges an `opened` or `updated` event's attributes into the case's, keeping those the
    /// policies read.
    fn merge_attrs(&self, case: &mut Attrs, event: &Attrs) {
        match self.case_attrs.as_ref().and_then(Option::as_ref) {
            None => case.merge(event),
            Some(keep) => {
                for (key, value) in event.iter() {
                    if keep.iter().any(|k| crate::inline_str::eq_short(k, key)) {
                        case.insert(key, value.clone());
                    }
                }
            }
        }
    }

    /// Whether a case keeps an event of a digest type for its notification and period clauses:
    /// when a rule that needs every matching event matches it, or a first-only rule matches it
    /// first (marked in `firsts`). Events are applied in canonical order, so "first" is the
    /// first of the whole case.
    fn keeps_in_digest(&self, firsts: &mut u128, e: &Event, case_attrs: &Attrs) -> bool {
        let mut keep = false;
        let Some(ty) = self.digest_types.position(&e.kind) else {
            return false;
        };
        for &i in &self.digest_by_type[ty as usize] {
            let (i, rule) = (i as usize, &self.digest_rules[i as usize]);
            if !rule
                .trigger
                .matches_in(&*e.kind, &e.attrs, case_attrs, Some(e.at))
            {
                continue;
            }
            match rule.first_only.then_some(i).filter(|&i| i < 128) {
                Some(i) => {
                    if *firsts & (1 << i) == 0 {
                        *firsts |= 1 << i;
                        keep = true;
                    }
                }
                None => keep = true,
            }
        }
        keep
    }

    /// An `escalated` or `notified` event: evidence for the stages that ask for it.
    fn evidence(&mut self, case: &mut CaseState, e: &Event) {
        for (k, sk) in self.stage_keys.iter().enumerate() {
            let stage = &self.plans[sk.plan as usize].deadline.stages[sk.stage as usize];
            if super::case::is_stage_evidence(stage, &e.kind, &e.attrs) {
                case.rare().evidence.push((k as u32, e.at));
            }
        }
    }

    /// The instants of the evidence of each stage of `plan` on the case, ascending.
    fn stage_evidence(&self, case: &CaseState, plan: usize) -> Vec<Box<[Instant]>> {
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

    /// Whether `plan` applies to the case as it is now, for a cycle started at `start`.
    fn applies(&self, case: &CaseState, plan: usize, start: Instant) -> bool {
        let p = &self.plans[plan];
        p.guard.may_hold(case.attrs.get(super::case::GUARD_ATTR))
            && p.clause.applies.eval(&case.attrs)
            && p.clause.holds_at(p.policy_zone, start)
    }

    fn facts(
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
    fn cycle_stopped(
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

    /// Settles a case: emits what waited for it; running cycles wait when `now` is not known.
    fn settle_case(&mut self, mut case: Box<CaseState>, at_end: bool) {
        let ticket: Arc<str> = Arc::from(&*case.ticket);
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
        let known_now = if at_end {
            self.final_now()
        } else {
            self.opts.now
        };
        let fallback_now = self.watermark.unwrap_or(DateTime::<Utc>::MIN_UTC);
        // Stopped cycles, in clause and cycle order; their stop is at or before any `now`.
        let mut stopped: Vec<(u32, Stopped)> = Vec::new();
        for (t, st) in std::mem::take(&mut case.stopped) {
            for &p in &self.track_plans[t as usize] {
                stopped.push((p, st.clone()));
            }
        }
        stopped.sort_by_key(|(p, st)| (*p, st.cycle));
        let judged_at = known_now.unwrap_or(fallback_now);
        for (p, st) in stopped {
            let now = judged_at.max(st.stop);
            self.cycle_stopped(&ticket, &case, p, st, now);
        }
        let mut running = Vec::new();
        for (t, state) in &case.tracks {
            let Some((cycle, start, pauses)) = state.running() else {
                continue;
            };
            for &p in &self.track_plans[*t as usize] {
                let p = p as usize;
                if self.applies(&case, p, start) {
                    running.push(self.facts(&case, p, cycle, start, None, pauses.to_vec()));
                }
            }
        }
        running.sort_by_key(|f| (f.plan, f.cycle));
        let ticket_inline = case.ticket.clone();
        let kept = case.digest.take().map(|d| *d).unwrap_or_default();
        let mut digest: Vec<Event> = kept
            .events
            .into_iter()
            .map(|k| Event {
                ticket: ticket_inline.clone(),
                at: k.at,
                kind: k.kind,
                id: None,
                attrs: k.attrs,
                line: 0,
            })
            .collect();
        digest.sort_by(Event::canonical_cmp);
        if let Some((at, kind)) = kept.last {
            let is_last = |e: &Event| e.at == at && e.kind == kind;
            if !digest.last().is_some_and(is_last) {
                digest.push(Event {
                    ticket: case.ticket.clone(),
                    at,
                    kind,
                    id: None,
                    attrs: Attrs::new(),
                    line: 0,
                });
            }
        }
        let view = CaseView::from_parts(&digest, &case.attrs, case.opened);
        self.periods.case(
            &ticket,
            &view,
            &running,
            known_now,
            fallback_now,
            &mut self.sink,
            &mut self.summary,
        );
        for f in running {
            match known_now {
                Some(now) => self.emit(&ticket, &f, now, Some(&case.attrs), case.closed.is_some()),
                None => self
                    .deferred
                    .push(Deferred::new(&ticket, f, case.closed.is_some())),
            }
        }
        self.notices_of_case(&ticket, &view, known_now);
        // A case settled after its retention is final: nothing later can arrive, so every
        // follow-up window and due instant of its record clauses has passed.
        let record_now = if at_end {
            judged_at
        } else {
            self.opts.now.unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        self.records_of_case(&ticket, &view, record_now);
    }

    /// Evaluates the record clauses on a settled case. Their findings do not depend on `now`
    /// (see `eval::record`), so they are emitted at once.
    fn records_of_case(&mut self, ticket: &Arc<str>, view: &CaseView<'_>, now: Instant) {
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

    /// Resolves a cycle as of `now` and emits its verdict and actions; `attrs` are the case's,
    /// for the period tallies (`None`: the tally kept the case's groups).
    fn emit(
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

    /// Ends the stream: applies the events still waiting, resolves waiting cycles, settles the
    /// cases still kept (in ticket order) and returns the summary and the sink.
    pub fn finish(mut self) -> (Summary, S) {
        let summary = self.finish_in_place();
        (summary, self.sink)
    }

    /// [`Evaluator::finish`] for an owner that cannot give the evaluator away: the summary is
    /// returned, the records have gone to the sink, and the evaluator is spent: drop it.
    pub fn finish_in_place(&mut self) -> Summary {
        self.release(None);
        let now = self.final_now();
        self.summary.now = now;
        if let Some(now) = now {
            for d in std::mem::take(&mut self.deferred).into_iter() {
                let closed = d.closed;
                let (ticket, facts) = d.facts(&self.plans);
                self.emit(&ticket, &facts, now, None, closed);
            }
            for (ticket, facts) in std::mem::take(&mut self.deferred_notices) {
                self.emit_findings(&ticket, &facts, now);
            }
        }
        let mut open: Vec<Box<CaseState>> = self.cases.drain().map(|(_, case)| case).collect();
        open.sort_unstable_by(|a, b| a.ticket.cmp(&b.ticket));
        for case in open {
            self.settle_case(case, true);
        }
        self.periods.finish(now, &mut self.sink, &mut self.summary);
        std::mem::take(&mut self.summary)
    }
}

/// Why an event for a settled case is rejected: its case was closed and kept the retention,
/// or it was never closed and had no event for the retention (`idle`).
fn expired_reason(ticket: &str, retain: Duration, idle: bool) -> String {
    if idle {
        format!(
            "event for `{ticket}` arrived after its case was settled: it was not closed and had \
             no event for more than {}; raise --retain to keep idle cases longer",
            format_duration(retain)
        )
    } else {
        format!(
            "event for `{ticket}` arrived after its case was settled: more than {} after it was \
             closed; raise --retain to keep closed cases longer",
            format_duration(retain)
        )
    }
}

/// Which events of a digest type a case keeps for its notification and period clauses: every
/// event matching `trigger`, or only the first (`first_only`, for triggers whose later
/// matches cannot change a result: a sample's population and a target's `among` and
/// `success`, which count by their first event, a notice's start, the `opened` of repeat
/// rules).
struct DigestRule<'p> {
    trigger: std::borrow::Cow<'p, Trigger>,
    first_only: bool,
}

fn digest_rules(policies: &[Policy]) -> Vec<DigestRule<'_>> {
    use std::borrow::Cow;
    let mut rules = Vec::new();
    let mut any = false;
    for clause in policies.iter().flat_map(|p| &p.clauses) {
        match &clause.body {
            ClauseBody::Deadline(_) => continue,
            ClauseBody::Notify(n) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&n.start),
                    first_only: true,
                });
                if let Some((trigger, _)) = &n.first_contact {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(trigger),
                        first_only: false,
                    });
                }
            }
            ClauseBody::Sample(s) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&s.population),
                    first_only: true,
                });
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&s.evidence),
                    first_only: false,
                });
            }
            ClauseBody::Target(t) => {
                if let Measure::Stat(m) = &t.measure {
                    // A count reads every start event; a duration the first start and the
                    // first stop only.
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(&m.start),
                        first_only: m.stop.is_some(),
                    });
                    if let Some(stop) = &m.stop {
                        rules.push(DigestRule {
                            trigger: Cow::Borrowed(stop),
                            first_only: true,
                        });
                    }
                }
                // Every required event of an obligation: each marks the periods of its instant.
                if let Measure::Obligation(o) = &t.measure {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(&o.event),
                        first_only: false,
                    });
                }
                if let Measure::Events { success, among } = &t.measure {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(among),
                        first_only: true,
                    });
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(success),
                        first_only: true,
                    });
                }
            }
            ClauseBody::Repeat(_) => {}
            ClauseBody::Every(duty) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&duty.event),
                    first_only: false,
                });
                if let Some((from, until)) = &duty.active {
                    for t in [from, until] {
                        rules.push(DigestRule {
                            trigger: Cow::Borrowed(t),
                            first_only: false,
                        });
                    }
                }
                if let crate::policy::DutyRule::Cover { until } = &duty.rule {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(until),
                        first_only: false,
                    });
                }
            }
            ClauseBody::Window(w) => rules.push(DigestRule {
                trigger: Cow::Borrowed(&w.event),
                first_only: false,
            }),
            ClauseBody::Record(r) => {
                for trigger in r.triggers() {
                    rules.push(DigestRule {
                        trigger,
                        first_only: false,
                    });
                }
                // Whether the case is closed at the end: its last `closed` or `reopened`.
                rules.push(DigestRule {
                    trigger: Cow::Owned(Trigger::event("reopened")),
                    first_only: false,
                });
            }
        }
        any = true;
    }
    if any {
        // The case's own `opened` (repeat rules), every `closed` (a notice's window, a
        // subject's end) and every `notified` (channels, audiences, coverage).
        rules.push(DigestRule {
            trigger: Cow::Owned(Trigger::event("opened")),
            first_only: true,
        });
        for t in ["closed", "notified"] {
            rules.push(DigestRule {
                trigger: Cow::Owned(Trigger::event(t)),
                first_only: false,
            });
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every kept case costs before its lists (the ticket inline, so no heap block): a million cases are kept on a dense
    /// stream, so a field added here costs megabytes. Shrinking is welcome (lower the figure);
    /// growing must be a decision, not an accident.
    #[test]
    fn the_per_case_state_does_not_grow_silently() {
        assert_eq!(std::mem::size_of::<CaseState>(), 232, "CaseState");
        assert_eq!(std::mem::size_of::<TrackState>(), 48, "TrackState");
        assert_eq!(std::mem::size_of::<Stopped>(), 48, "Stopped");
        assert_eq!(std::mem::size_of::<Attrs>(), 24, "Attrs");
        // What remains of a never-closed case once it has settled idle without a `now`.
        assert_eq!(std::mem::size_of::<Deferred>(), 56, "Deferred");
    }
}
