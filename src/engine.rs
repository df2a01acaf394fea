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
//! watermark). So do the events rejected here (duplicates, late and expired events): every
//! event moves stream time, accepted or not, so that stream time depends only on the stream,
//! not on which events a case took, and is the same in every partition of a split. (Lines
//! rejected by the reader carry no instant and do not move it.)

mod alarm;
mod apply;
mod digest;
mod dormant;
mod judge;
mod merge;
pub mod partition;
mod queue;
pub(crate) mod raw_bytes;
mod row_numbers;
mod settle;
mod settling;
mod shadow;
pub(crate) use shadow::{alerts_followable, AlertWatch};
mod snapshot;
mod state;
mod whole_case;

pub use alarm::Alert;
pub use merge::MergeError;
pub use settle::FINISHED_MEMORY;
pub(crate) use snapshot::snapshot_format_readable;
#[cfg(test)]
pub(crate) use snapshot::SNAPSHOT_LAYOUT;
pub use snapshot::{CaseBytes, Checkpoint, SnapshotError};

use digest::*;
use dormant::Dormant;
pub use dormant::RestingFaults;
use queue::*;
use settle::*;
use settling::SettleQueue;
use state::*;

use crate::calendar::Calendar;
use crate::eval::case::{resolve, CaseView, ClausePlan, CycleFacts};
use crate::eval::clock::{holiday_calendar, resolve_limit, PauseSpan};
use crate::eval::notify::{self, NoticeFacts, NoticePlan};
use crate::eval::record::{self, RecordPlan};
use crate::eval::track::{Roles, Stopped, TrackSpec, TrackState};
use crate::eval::verdict::{
    format_duration, Action, ActionStatus, ClauseRef, ClauseSummary, Finding, Rejected, Status,
    Summary, Unopened, Verdict,
};
use crate::event::{Event, Instant};
use crate::inline_str::InlineStr;
use crate::period::{PeriodOut, PeriodRecord, PeriodTally, SettleOrder};
use crate::policy::{ActionKind, ClauseBody, Measure, Policy, Trigger};
use crate::relevance::{NameSet, Relevance};
use crate::value::{Attrs, Value};
use chrono::Datelike;
use chrono::{DateTime, Duration, Utc};
pub use partition::Partition;
pub(crate) use row_numbers::RowNumbers;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::Arc;
pub use whole_case::{evaluate_case, evaluate_case_full, CaseResult};

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
    /// the cycles of cases settled long before the end, whose attributes are no longer kept:
    /// see [`Sink::case_attrs_at_end`]).
    /// Sinks that group by an attribute (the agenda's counts per project) read it here.
    fn case_attrs(&mut self, _ticket: &Arc<str>, _attrs: &Attrs) {}
    /// The attributes of a case that settled with clocks still running while `now` is known
    /// only at the end of the stream: those cycles' verdicts come then, without
    /// [`Sink::case_attrs`] (the evaluator keeps only the cycles), so a sink that reads the
    /// attributes keeps what it needs of them here, by ticket.
    fn case_attrs_at_end(&mut self, _ticket: &Arc<str>, _attrs: &Attrs) {}
    /// Case attributes the sink reads in [`Sink::case_attrs`] besides those the policies read
    /// (the evaluator keeps only those of a case's attributes).
    fn wants_case_attributes(&self) -> &[&'static str] {
        &[]
    }
    /// Where the records that follow stand in the output order: for a sink that merges the
    /// records of the partitions of one stream evaluated side by side (see
    /// [`crate::check::check_split`]); other sinks ignore it.
    fn order(&mut self, _mark: OrderMark<'_>) {}
}

/// Where records stand in the evaluator's output order (see the module's documentation). The
/// records of the event being pushed come first (its rejection), then those of the cases that
/// settle as stream time moves, by [`OrderMark::Settles`]; at the end, by [`OrderMark::End`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderMark<'a> {
    /// A case settles during the stream: the instant its settling was due, and its ticket's
    /// key (the 128-bit XXH3 of the ticket), the order in which cases settle.
    Settles { when: Instant, key: u128 },
    /// At the end of the stream: the running cycles of settled cases (`part` 0), then their
    /// notices (1), then the cases still kept (2), each part in the order of tickets.
    End { part: u8, ticket: &'a str },
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
    fn case_attrs_at_end(&mut self, ticket: &Arc<str>, attrs: &Attrs) {
        (**self).case_attrs_at_end(ticket, attrs)
    }
    fn wants_case_attributes(&self) -> &[&'static str] {
        (**self).wants_case_attributes()
    }
    fn order(&mut self, mark: OrderMark<'_>) {
        (**self).order(mark)
    }
}

/// Every sink takes what the period tallies find.
impl<S: Sink + ?Sized> PeriodOut for S {
    fn period(&mut self, record: &PeriodRecord) {
        Sink::period(self, record);
    }
    fn finding(&mut self, finding: &Finding) {
        Sink::finding(self, finding);
    }
}

/// A sink that keeps only period records (and counts findings): all a period report or a draw
/// needs, whatever the length of the stream.
#[derive(Debug, Default)]
pub struct PeriodSink {
    pub records: Vec<PeriodRecord>,
    pub findings: u64,
}

impl Sink for PeriodSink {
    fn verdict(&mut self, _: &crate::eval::Verdict) {}
    fn action(&mut self, _: &crate::eval::Action) {}
    fn rejected(&mut self, _: &crate::eval::Rejected) {}
    fn unopened(&mut self, _: &crate::eval::Unopened) {}
    fn finding(&mut self, _: &crate::eval::Finding) {
        self.findings += 1;
    }
    fn period(&mut self, record: &PeriodRecord) {
        self.records.push(record.clone());
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
    /// How many bytes of cases at rest (closed and waiting out `retain`, or quiet for a day)
    /// are held in memory, the latest first; older ones go to an anonymous temporary file and
    /// are read back when they wake or settle, so that memory follows how many cases are open
    /// at once rather than how long the stream is. `None`: all are held in memory (also when
    /// no temporary file can be made). The records are the same either way.
    pub resting_in_memory: Option<usize>,
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
            resting_in_memory: None,
        }
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
    /// Cases, each behind a pointer so that the table stays small and probing it stays in
    /// cache. Shared (`Arc`) so that a checkpoint hands the cases that changed to its host as
    /// they are, to be written as bytes on the host's commit thread while this one goes on:
    /// writing them here was a fifth of the service loop's time, most of it waiting for memory.
    /// A case changed while its host still holds it is copied first ([`Arc::make_mut`]).
    cases: HashMap<TicketKey, Arc<CaseState>, BuildHasherDefault<IdentityHasher>>,
    /// Cases changed (or settled) since the last checkpoint, when a host keeps its state in
    /// parts (see [`Evaluator::checkpoint`]); `None` costs nothing.
    changed: Option<snapshot::Changed>,
    /// The row numbers of cases that settled since the last checkpoint, while changes are
    /// tracked: the host lets go of what it stored under them.
    released_rows: Vec<u64>,
    /// When cases may settle: (instant, ticket), checked against the case when it comes up.
    settling: SettleQueue<TicketKey>,
    /// Cases at rest: quiet for [`REST_AFTER`], kept as their snapshot bytes (a third of what
    /// they cost in memory) and woken exactly as they were by their next event, by their
    /// settling, or at the end (see [`Evaluator::rest_or_wait`]).
    dormant: Dormant,
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
    /// The size of the last checkpoint's rest: the next one is written into a buffer of about
    /// that size, rather than one doubled a dozen times and copied each time (the rest of a
    /// dense stream's service is tens of megabytes, written at every commit).
    last_rest: usize,
    /// Scratch: the events of one case at one instant, cycles stopped, roles.
    batch: Vec<Event>,
    track_stops: Vec<Stopped>,
    roles: Vec<(u32, Roles)>,
    touched: Vec<u16>,
    /// Whether clocks are followed only for cases of a kind their clauses are for (with a
    /// replay log for reclassified cases): with few tracks, following them all costs less
    /// than the log.
    guard_tracks: bool,
    /// What [`Evaluator::alerts`] keeps, from its first call on.
    alarms: Option<Box<alarm::Alarms>>,
    /// With a partition, only the events of its tickets are applied (see [`self::partition`]).
    partition: Option<Partition>,
    /// In a split check, the alert cases of the other partitions ([`shadow`]).
    shadow: Option<Box<shadow::Shadow<'p>>>,
    /// The position in the stream of the line being pushed, as a split check numbers them
    /// ([`Evaluator::at_position`]); it orders what recurrence rules log.
    position: u64,
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
        let plans = crate::eval::case::plan(policies);
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
        let dormant = Dormant::holding(opts.resting_in_memory);
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
            released_rows: Vec::new(),
            settling: SettleQueue::new(),
            dormant,
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
            last_rest: 0,
            batch: Vec::new(),
            track_stops: Vec::new(),
            roles: Vec::new(),
            touched: Vec::new(),
            alarms: None,
            guard_tracks: track_count > GUARDED_FROM_TRACKS,
            partition: None,
            shadow: None,
            position: 0,
        }
    }

    /// The latest `at` accepted so far.
    pub fn watermark(&self) -> Option<Instant> {
        self.watermark
    }

    /// Whether the case of `ticket` is kept (open, or closed and within the retention).
    pub fn keeps(&self, ticket: &str) -> bool {
        self.keeps_key(TicketKey::of(ticket).0)
    }

    /// [`Evaluator::keeps`] by the key of the ticket's case (its 128-bit xxh3), for a host
    /// that has it already.
    pub(crate) fn keeps_key(&self, key: u128) -> bool {
        let key = TicketKey(key);
        self.cases.contains_key(&key) || self.dormant.contains(key)
    }

    /// Notes that the host stored an event of the case of `key` (the 128-bit xxh3 of its
    /// ticket) as row `row`, above every row noted for the case before; the numbers come back
    /// from [`Evaluator::kept_rows`] and, once the case settles, from
    /// [`Evaluator::checkpoint`]. For an event just pushed and accepted, whose case is awake;
    /// `false` (nothing noted) when the case is not.
    pub(crate) fn keep_row(&mut self, key: u128, row: u64) -> bool {
        let key = TicketKey(key);
        match self.cases.get_mut(&key).map(unshare) {
            Some(case) => {
                case.rows.push(row);
                self.mark_changed(key);
                true
            }
            None => false,
        }
    }

    /// The rows noted for the case of `key` ([`Evaluator::keep_row`]), in order; `None` when
    /// the case is not kept.
    pub(crate) fn kept_rows(&self, key: u128) -> Option<Vec<u64>> {
        let key = TicketKey(key);
        if let Some(case) = self.cases.get(&key) {
            return Some(case.rows.iter().collect());
        }
        let held = self.dormant.get(key)?;
        // Bytes this evaluator wrote always read back; should they not, nothing is told.
        let case = postcard::from_bytes::<CaseState>(held.resting().case_bytes()).ok()?;
        Some(case.rows.iter().collect())
    }

    /// How many rows are noted for all the cases kept, for tests.
    #[cfg(all(test, feature = "cli"))]
    pub(crate) fn kept_row_count(&self) -> usize {
        let awake: usize = self.cases.values().map(|c| c.rows.iter().count()).sum();
        let mut resting = 0;
        self.dormant.for_each(|_, r| {
            resting += r.case().map_or(0, |c| c.rows.iter().count());
        });
        awake + resting
    }

    /// The instant a case is judged at if the stream ended now: the explicit `now`, or the
    /// latest `at` so far.
    pub fn judged_at(&self) -> Option<Instant> {
        self.final_now()
    }

    /// Cases currently kept (open, or closed and within the retention).
    pub fn open_cases(&self) -> usize {
        self.cases.len() + self.dormant.len()
    }

    /// Whether a settled case of `ticket` left records that wait for the end: a cycle still
    /// running when it settled, or a notification judged as of `now` (see
    /// [`Evaluator::finish_cases`]). Such a case is no longer kept, but a host asking about
    /// the ticket must still be told them.
    pub fn settled_awaiting_now(&self, ticket: &str) -> bool {
        self.deferred
            .chunks
            .iter()
            .flatten()
            .any(|d| &*d.ticket == ticket)
            || self.deferred_notices.iter().any(|(t, _)| &**t == ticket)
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

    /// Applies only the events of the tickets of `partition` (see [`self::partition`]); the
    /// events of other tickets still move stream time. Call before the first event. A
    /// partition of one is no partition.
    pub fn partition(&mut self, partition: Partition) {
        self.partition = (partition.count > 1).then_some(partition);
        self.periods
            .keep_repeat_candidates(self.partition.is_some());
        self.shadow = None;
        if self.partition.is_some() {
            self.watch_other_alerts();
        }
    }

    /// The line pushed next is the `seq`th of the stream (a split check's dealer numbers the
    /// lines it deals out): recurrence rules logging for the split order their cases by it.
    pub(crate) fn at_position(&mut self, seq: u64) {
        self.position = seq;
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

    /// The counts so far (see [`crate::Engine::summary_so_far`]).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// One event of the stream, in any order within the reorder window.
    pub fn push(&mut self, event: Event) {
        if self.case_attrs.is_none() {
            self.case_attrs = Some((!self.relevance.keeps_everything()).then(|| {
                let mut names = Relevance::case_attributes(self.policies);
                // Whether a case is a subject, never settled for being idle.
                names.insert(crate::eval::case::GUARD_ATTR.to_string());
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
        // An event after an explicit `now` is ignored: it moves the stream's time to `now` and
        // no further, or a mistyped year would settle every open case, and reject its later
        // events as after the retention, at an instant the judgement never reaches.
        let after_now = self.opts.now.filter(|&now| event.at > now);
        if self.partition.is_some_and(|p| !p.contains(&event.ticket)) {
            // Another partition's event: not applied, not rejected; it moves time alike. An
            // alert case's is followed in the shadow.
            self.summary.elsewhere += 1;
            if let Some(now) = after_now {
                self.advance(now);
            } else if self.watches(&event) {
                self.push_shadow(event);
            } else {
                self.advance(event.at);
            }
            return;
        }
        self.summary.events += 1;
        if let Some(now) = after_now {
            self.summary.after_now += 1;
            self.advance(now);
            return;
        }
        let key = TicketKey::of(&event.ticket);
        self.mark_changed(key);
        let at = event.at;
        let mark = self.watermark.map_or(at, |w| w.max(at));
        let relevant = self.relevance.keeps_type(&event.kind);
        // Most events are of cases awake: the table of cases at rest is asked only when the
        // case is not among them.
        if !self.dormant.is_empty() && !self.cases.contains_key(&key) && self.wake(key) {
            // It comes up again to rest once it is quiet again.
            self.settling.push(after(mark, REST_AFTER), key);
        }
        // An event no clause reads past the retention of its closed case by its instant: `apply`
        // decides for the others (and for a case whose `closed` still waits out the window),
        // but these are never applied. (Asked only for them: a lookup more per event costs the
        // evaluator's thread some 5 %.)
        let past_retention = (!relevant)
            .then(|| self.cases.get(&key))
            .flatten()
            .and_then(|c| self.after_retention(c, at));
        if let Some(retention) = past_retention {
            self.summary.expired += 1;
            let reason = expired_reason(&event.ticket, retention, false);
            self.reject_event(&event, reason);
            self.advance(at);
            return;
        }
        let case = match self.cases.get_mut(&key).map(unshare) {
            Some(case) => {
                if let Some(id) = event.id.as_deref() {
                    if let Some(first) = case.ids.line_of(id) {
                        self.summary.duplicates += 1;
                        let reason = duplicate_reason(id, first);
                        self.reject_event(&event, reason);
                        self.advance(at);
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
                        // In the zone the summary's instants are shown in: the first policy's.
                        crate::eval::verdict::rfc3339(
                            at,
                            self.policies
                                .first()
                                .map_or(crate::syntax::DEFAULT_ZONE, |p| p.zone)
                        ),
                    );
                    self.reject_event(&event, reason);
                    self.advance(at);
                    return;
                }
                case
            }
            None => {
                if let Some(idle) = self.finished.contains(key.short()) {
                    self.summary.expired += 1;
                    let reason = expired_reason(&event.ticket, self.opts.retain, idle);
                    self.reject_event(&event, reason);
                    self.advance(at);
                    return;
                }
                let case = Arc::new(CaseState::new(&event.ticket, event.line, mark));
                // Every case comes up to rest once quiet, and settles at the latest after the
                // retention without events.
                self.settling.push(after(mark, REST_AFTER), key);
                unshare(self.cases.entry(key).or_insert(case))
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
        // The stream's time goes no further than an explicit `now`: what comes after it is
        // ignored (see `push`), however it reaches the evaluator (a split check's time marks).
        let at = match self.opts.now {
            Some(now) if at > now => now,
            _ => at,
        };
        if self.watermark.is_some_and(|w| w >= at) {
            return;
        }
        self.watermark = Some(at);
        self.shadow_to(Some(at));
        let longest = self.longest_retention();
        self.finished.advance(
            at,
            FINISHED_MEMORY.max(longest.checked_add(&longest).unwrap_or(Duration::MAX)),
        );
        let Some(frontier) = at.checked_sub_signed(self.opts.reorder_window) else {
            return;
        };
        self.release(Some(frontier));
        while let Some((when, key)) = self.settling.peek_before(frontier) {
            self.settling.pop();
            // At rest, nothing changed it: it wakes only to settle.
            if self.wake_if(key, |settles| settles.is_some_and(|due| due <= when)) == Some(false) {
                continue;
            }
            if let Some(case) = self.cases.get_mut(&key) {
                if case.settle_queued == Some(when) {
                    let case = unshare(case);
                    case.settle_queued = None;
                }
            }
            let due = self
                .cases
                .get(&key)
                .filter(|c| c.closed.is_some() || self.may_idle_out(c))
                .map(|c| self.settles(c));
            match due {
                // (Earlier than planned when an `updated` took a long warranty window off it.)
                Some(due) if due <= when => {
                    self.mark_changed(key);
                    if let Some(case) = self.cases.remove(&key) {
                        self.finished.insert(key.short(), case.closed.is_none());
                        self.sink.order(OrderMark::Settles { when, key: key.0 });
                        if self.periods.logs_repeats() {
                            self.periods.settling(SettleOrder::Stream {
                                seq: self.position,
                                when,
                                key: key.0,
                            });
                        }
                        self.settle_case(case, false);
                    }
                }
                // Its events arrived or it was reopened since: it settles later, and may rest
                // before.
                Some(due) => self.rest_or_wait(key, when, Some(due)),
                None => self.rest_or_wait(key, when, None),
            }
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
        let now = self.finish_cases();
        self.periods.finish(now, &mut self.sink, &mut self.summary);
        if let Some(now) = now {
            self.note_duty_coverage(now);
        }
        std::mem::take(&mut self.summary)
    }

    /// The end of the stream but for the period records: applies the events still waiting,
    /// resolves the running cycles of settled cases and their notices (each by ticket), and
    /// settles the cases still kept (in ticket order). Returns the final `now`.
    pub(crate) fn finish_cases(&mut self) -> Option<Instant> {
        self.shadow_to(None);
        self.release(None);
        let now = self.final_now();
        self.summary.now = now;
        // What only a continuing stream needs goes first: what is listed and sorted below takes
        // the memory these free rather than adding to the peak.
        self.settling = SettleQueue::new();
        self.finished = Finished::default();
        self.in_order = VecDeque::new();
        self.waiting = BinaryHeap::new();
        if let Some(now) = now {
            let deferred = std::mem::take(&mut self.deferred).into_sorted_by(|a, b| {
                (&a.ticket, a.plan, a.cycle).cmp(&(&b.ticket, b.plan, b.cycle))
            });
            for d in deferred {
                let closed = d.closed;
                let (ticket, facts) = d.facts(&self.plans);
                self.sink.order(OrderMark::End {
                    part: 0,
                    ticket: &ticket,
                });
                self.emit(&ticket, &facts, now, None, closed);
            }
            let mut notices = std::mem::take(&mut self.deferred_notices);
            notices.sort_by(|a, b| a.0.cmp(&b.0));
            for (ticket, facts) in notices {
                self.sink.order(OrderMark::End {
                    part: 1,
                    ticket: &ticket,
                });
                self.emit_findings(&ticket, &facts, now);
            }
        }
        // In the order of their tickets, woken one at a time: the cases at rest are most of
        // them, and waking them all at once would cost what resting saved. Those at rest are
        // listed by their place in the arena, whose table goes first.
        let mut awake: Vec<(InlineStr, TicketKey)> = self
            .cases
            .iter()
            .map(|(key, case)| (case.ticket.clone(), *key))
            .collect();
        awake.sort_unstable();
        let mut resting = std::mem::take(&mut self.dormant).into_ticket_order();
        let mut awake = awake.into_iter().peekable();
        loop {
            let case = match (awake.peek(), resting.peek()) {
                (None, None) => break,
                (Some((a, _)), Some(r)) if **a < *r => {
                    awake.next().and_then(|(_, key)| self.cases.remove(&key))
                }
                (Some(_), None) => awake.next().and_then(|(_, key)| self.cases.remove(&key)),
                // Bytes written by this evaluator always read back.
                _ => resting.take().and_then(Result::ok).map(Arc::new),
            };
            if let Some(case) = case {
                self.sink.order(OrderMark::End {
                    part: 2,
                    ticket: &case.ticket,
                });
                if self.periods.logs_repeats() {
                    self.periods.settling(SettleOrder::End {
                        ticket: Arc::from(&*case.ticket),
                    });
                }
                self.settle_case(case, true);
            }
        }
        now
    }
}

/// The case to change: copied first when it is shared, with a checkpoint its host has not
/// written yet ([`CaseBytes`]) or with a fork, which so see it as it was.
fn unshare(case: &mut Arc<CaseState>) -> &mut CaseState {
    Arc::make_mut(case)
}

/// Why a line is rejected whose event id its case has seen, first on line `first`.
pub(crate) fn duplicate_reason(id: &str, first: u64) -> String {
    format!("duplicate event id `{id}`, {SEEN_ON_LINE}{first}")
}

const SEEN_ON_LINE: &str = "first seen on line ";

/// [`duplicate_reason`] for a host that numbers lines from `base` (a body posted to the
/// service counts from its own first line, stream line `base`): the line first seen within
/// them by their number; one before them by its number in the stream. Other reasons as given.
pub(crate) fn renumber_reason(reason: String, base: u64) -> String {
    let Some((head, first)) = reason
        .rsplit_once(SEEN_ON_LINE)
        .and_then(|(head, n)| Some((head, n.parse::<u64>().ok()?)))
        .filter(|(head, _)| head.starts_with("duplicate event id `"))
    else {
        return reason;
    };
    match first.checked_sub(base) {
        Some(offset) => format!("{head}{SEEN_ON_LINE}{}", offset + 1),
        None => format!("{head}first seen in an earlier body (line {first} of the stream)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_is_renumbered_for_a_body_that_starts_later_in_the_stream() {
        let reason = duplicate_reason("x1", 12);
        assert_eq!(reason, "duplicate event id `x1`, first seen on line 12");
        assert_eq!(
            renumber_reason(reason.clone(), 10),
            "duplicate event id `x1`, first seen on line 3"
        );
        assert_eq!(
            renumber_reason(reason.clone(), 13),
            "duplicate event id `x1`, first seen in an earlier body (line 12 of the stream)"
        );
        // Other reasons, even one that ends alike, are left as they are.
        let other = "missing `ticket`: first seen on line 4".to_string();
        assert_eq!(renumber_reason(other.clone(), 3), other);
    }

    /// What every kept case costs before its lists (the ticket inline, so no heap block): a million cases are kept on a dense
    /// stream, so a field added here costs megabytes. Shrinking is welcome (lower the figure);
    /// growing must be a decision, not an accident.
    #[test]
    fn the_per_case_state_does_not_grow_silently() {
        // 264 since the case carries its host's row numbers (24 bytes of an empty `Vec`): a
        // case in memory is one awake, tens of thousands at once; at rest the empty list is
        // one byte.
        assert_eq!(std::mem::size_of::<CaseState>(), 264, "CaseState");
        assert_eq!(std::mem::size_of::<TrackState>(), 40, "TrackState");
        assert_eq!(std::mem::size_of::<Stopped>(), 40, "Stopped");
        assert_eq!(std::mem::size_of::<Attrs>(), 24, "Attrs");
        // What remains of a never-closed case once it has settled idle without a `now`.
        assert_eq!(std::mem::size_of::<Deferred>(), 56, "Deferred");
    }
}
