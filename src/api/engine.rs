//! The streaming engine: [`Engine`], for a host that receives events one at a time, and its
//! forks; its state as bytes (snapshots, checkpoints in parts, the merge of partitioned states)
//! is in [`snapshot`].

use super::{Only, Options, PolicySet, Record, Records, Report};
use crate::engine::{Alert, Evaluator, MergeError, Partition, Sink, SnapshotError};
use crate::eval::Summary;
use crate::event::{Event, Instant};
use crate::input::{Format, ReadOptions, ReadStats, Record as InputRecord};
use crate::policy::Policy;
use crate::report::records::{ActionRecord, VerdictRecord};
use chrono_tz::Tz;
use serde::Serialize;
use std::fmt;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

mod snapshot;
pub use snapshot::merge_states;
pub(crate) use snapshot::{evaluator_state_of_parts, EngineCheckpoint, TakenCheckpoint};

/// What [`Engine::advance`] gives: the records that became final, and the alerts of running
/// clocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Advanced {
    /// Records that became final, in [`Report::records`] order.
    pub records: Vec<Record>,
    /// Cycles that breached while running and stages that fired, by instant.
    pub alerts: Vec<Alert>,
}

impl Advanced {
    /// Nothing became final and nothing happened.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.alerts.is_empty()
    }
}

/// An alert as JSON: the verdict or action record as of the instant it was judged at, with an
/// `alert` field first (`breached` or `stage`).
impl Serialize for Alert {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<R> {
            alert: &'static str,
            #[serde(flatten)]
            record: R,
        }
        match self {
            Alert::Breached(v) => Tagged {
                alert: "breached",
                record: VerdictRecord::new(v),
            }
            .serialize(serializer),
            Alert::Stage(a) => Tagged {
                alert: "stage",
                record: ActionRecord::new(a),
            }
            .serialize(serializer),
        }
    }
}

// ---------------------------------------------------------------- the streaming engine

type Running<'p> = Evaluator<'p, Records>;

self_cell::self_cell!(
    /// The evaluator together with the policies it borrows.
    struct Cell {
        owner: Arc<[Policy]>,
        #[covariant]
        dependent: Running,
    }
);

/// The streaming evaluator for a host that receives events one at a time: each call returns
/// the records that became final, so a host can act on them at once.
///
/// It keeps compact state per case, never the events themselves; an event waits out the
/// reorder window (in stream time) before it is applied, and a closed case is kept for the
/// retention so that its follow-ups count. Records therefore come when a case settles, when
/// time moves past its retention ([`Engine::advance`]), or at [`Engine::finish`].
pub struct Engine {
    cell: Cell,
    zone: Tz,
    read: ReadOptions,
    lines: u64,
    stats: ReadStats,
    /// With [`Options::explain`]: the accepted events of each kept case, by ticket.
    explained: Option<Explained>,
}

/// The events an explaining engine keeps, and how many pushes ago it last let go of the
/// events of settled cases.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
struct Explained {
    events: std::collections::HashMap<String, Vec<Event>>,
    since_prune: u32,
    /// When the host keeps the events itself (the service's store, see
    /// [`Engine::track_changes`]): `events` stays empty, and what to append and let go of is
    /// handed out by [`Engine::take_checkpoint`].
    #[serde(skip)]
    outside: Option<Outside>,
}

/// The kept events of an engine whose host stores them: each accepted event of a kept case is
/// appended once as a row numbered by the engine's count of pushes (so rows come in push order,
/// and a store keyed by the number appends at its end rather than rewriting pages all over),
/// never rewritten; a case that settles lets go of its rows. Each case carries the numbers of
/// its rows in the evaluator's state (see [`crate::engine::RowNumbers`]); this holds what the
/// next checkpoint hands out.
#[derive(Debug, Default)]
struct Outside {
    /// Rows to append: number and the event's bytes (postcard).
    appended: Vec<(u64, Vec<u8>)>,
    /// Numbers of rows let go of.
    dropped: Vec<u64>,
    /// What the last checkpoint handed out, until the host says it is stored
    /// ([`Engine::explained_stored`]): the explanation reads it meanwhile.
    in_flight: Arc<ExplainedRows>,
}

/// What is kept of one pushed event until the evaluator has said whether it was accepted.
enum Kept {
    Event(Event),
    /// The key of the ticket's case ([`case_key`]), line, the event's bytes.
    Bytes(u128, u64, Vec<u8>),
}

/// What a checkpoint hands out about the kept events (see [`Outside`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ExplainedRows {
    /// Numbers of the rows let go of.
    pub dropped: Vec<u64>,
    /// Rows to append: number, and the event's bytes (postcard).
    pub appended: Vec<(u64, Vec<u8>)>,
}

/// The key of a ticket's case, as the evaluator's checkpoints name it.
fn case_key(ticket: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(ticket.as_bytes())
}

impl Explained {
    /// Lets go of the events of the tickets `keeps` no longer keeps. When the host stores the
    /// events, this is done per checkpoint from the cases it says settled (a pass over every
    /// ticket every so many pushes would cost more than the rest of the bookkeeping), so here
    /// only for the events kept in memory.
    fn prune(&mut self, keeps: impl Fn(&str) -> bool) {
        if self.outside.is_none() {
            self.events.retain(|ticket, _| keeps(ticket));
        }
    }
}

/// Parses lines of JSON Lines for an [`Engine`] on another thread (the service parses on the
/// thread that reads its source, while its loop evaluates): made by [`Engine::line_parser`],
/// it validates exactly as [`Engine::push_json`], and [`Engine::push_parsed`] takes what it
/// read. Lines are numbered when pushed, not here.
#[derive(Debug, Clone)]
pub struct LineParser {
    read: ReadOptions,
    /// The engine's host stores the events kept for `why`: their bytes are written here too.
    writes_kept: bool,
}

impl LineParser {
    /// One line (without its terminator).
    pub fn parse(&self, line: &[u8]) -> ParsedLine {
        ParsedLine::read(line, &self.read, self.writes_kept)
    }
}

/// A line read by a [`LineParser`], for [`Engine::push_parsed`].
#[derive(Debug)]
pub struct ParsedLine {
    /// Its bytes and terminator, for the counts of what was read.
    bytes: u64,
    read: Read,
}

#[derive(Debug)]
enum Read {
    Blank,
    /// The event (line 0 until pushed) and, when the host stores kept events, the key of its
    /// case and its bytes as of line 0.
    Event(Event, Option<(u128, Vec<u8>)>),
    Rejected(crate::input::Rejected),
}

impl ParsedLine {
    fn read(line: &[u8], read: &ReadOptions, writes_kept: bool) -> ParsedLine {
        let bytes = line.len() as u64 + 1;
        // A line over the length limit is rejected as such, even when it is all blanks, as
        // `pledge check` rejects it.
        let overlong = crate::input::strip_cr(line).len() > crate::limits::MAX_EVENT_LINE_BYTES;
        let read = if !overlong && crate::input::is_blank(line) {
            Read::Blank
        } else {
            match crate::input::parse_jsonl_line(line, 0, read) {
                InputRecord::Event(event) => {
                    let written = writes_kept.then(|| {
                        // Room for the line number, up to 10 bytes where line 0 took one.
                        let bytes = crate::engine::raw_bytes::to_vec_with_room(&event, 9)
                            .unwrap_or_default();
                        (case_key(&event.ticket), bytes)
                    });
                    Read::Event(event, written)
                }
                InputRecord::Rejected(rejected) => Read::Rejected(rejected),
            }
        };
        ParsedLine { bytes, read }
    }
}

/// The postcard bytes of an event written as of line 0, made those of the same event at
/// `line`: the line is the event's last field, a varint, and 0 is one byte (tested against
/// writing the event at its line).
fn with_line(mut bytes: Vec<u8>, line: u64) -> Vec<u8> {
    debug_assert_eq!(bytes.last(), Some(&0));
    bytes.pop();
    let mut n = line;
    while n >= 0x80 {
        bytes.push((n as u8) | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
    bytes
}

/// An explaining engine lets go of the events of settled cases every this many pushes.
const PRUNE_EVERY: u32 = 1024;

impl Engine {
    /// An engine with nothing seen yet.
    pub fn new(policies: &PolicySet, options: &Options) -> Engine {
        let eval = options.eval();
        let cell = Cell::new(Arc::clone(&policies.policies), |policies| {
            let mut evaluator = Evaluator::new(policies, eval, Records::default());
            options.setup(&mut evaluator);
            evaluator
        });
        let relevance = cell.borrow_dependent().relevance().clone();
        Engine {
            cell,
            zone: policies.zone(),
            read: ReadOptions {
                relevance: Some(Arc::new(relevance)),
                ..options.read()
            },
            lines: 0,
            stats: ReadStats::default(),
            explained: options.explain.then(Explained::default),
        }
    }

    fn drain(&mut self) -> Vec<Record> {
        self.cell
            .with_dependent_mut(|_, e| std::mem::take(&mut e.sink_mut().kept))
    }

    /// One event, in any order within the reorder window.
    pub fn push(&mut self, event: Event) -> Vec<Record> {
        self.push_kept(event, None)
    }

    /// [`Engine::push`], with the event's bytes for the store when a [`LineParser`] wrote them
    /// already (the key of its case and its postcard bytes as of line 0).
    fn push_kept(&mut self, event: Event, written: Option<(u128, Vec<u8>)>) -> Vec<Record> {
        self.stats.events += 1;
        // Kept as the event itself, or (when the host stores the events) as its bytes, written
        // before the evaluator takes the event rather than cloning it.
        let kept = self
            .explained
            .as_ref()
            .map(|x| match (&x.outside, written) {
                (Some(_), Some((key, bytes))) if bytes.last() == Some(&0) => {
                    Kept::Bytes(key, event.line, with_line(bytes, event.line))
                }
                (Some(_), _) => Kept::Bytes(
                    case_key(&event.ticket),
                    event.line,
                    crate::engine::raw_bytes::to_vec(&event).unwrap_or_default(),
                ),
                (None, _) => Kept::Event(event.clone()),
            });
        self.cell.with_dependent_mut(|_, e| e.push(event));
        let records = self.drain();
        if let Some(kept) = kept {
            self.keep_for_explain(kept, &records);
        }
        records
    }

    /// Keeps an accepted event of an explaining engine, and now and then lets go of the events
    /// of cases that have settled.
    fn keep_for_explain(&mut self, kept: Kept, records: &[Record]) {
        let Some(explained) = self.explained.as_mut() else {
            return;
        };
        let (key, line) = match &kept {
            Kept::Event(e) => (case_key(&e.ticket), e.line),
            Kept::Bytes(key, line, _) => (*key, *line),
        };
        let rejected = records
            .iter()
            .any(|r| matches!(r, Record::Rejected(r) if r.line == line));
        let row = self.stats.events;
        if !rejected {
            match (kept, explained.outside.as_mut()) {
                // The case notes the row it is stored under (when the case is kept).
                (Kept::Bytes(key, _, bytes), Some(outside)) => {
                    if self.cell.with_dependent_mut(|_, e| e.keep_row(key, row)) {
                        outside.appended.push((row, bytes));
                    }
                }
                (Kept::Event(event), _) => {
                    if self.cell.borrow_dependent().keeps_key(key) {
                        explained
                            .events
                            .entry(event.ticket.to_string())
                            .or_default()
                            .push(event);
                    }
                }
                (Kept::Bytes(..), None) => {}
            }
        }
        let evaluator = self.cell.borrow_dependent();
        explained.since_prune += 1;
        if explained.since_prune >= PRUNE_EVERY {
            explained.since_prune = 0;
            explained.prune(|ticket| evaluator.keeps(ticket));
        }
    }

    /// What the REPL's `:why TICKET all` says about a ticket kept by an engine made with
    /// [`Options::explain`], as of the instant its case would be judged at now (the explicit
    /// `now`, or the latest `at`): each clause, whether it applies and why, its clock, due
    /// time, stages and findings, and how the case counts in its periods (the outcome of a
    /// period, which needs all its cases, comes with the period's records at the end of the
    /// stream). `None` for a ticket the engine does not keep, or without `explain`.
    pub fn explain(&self, ticket: &str) -> Option<String> {
        let events = self.explained.as_ref()?.events.get(ticket)?;
        self.explain_events(ticket, events)
    }

    /// [`Engine::explain`] over the kept events of `ticket` as its host stored them (see
    /// [`Engine::track_changes`]).
    pub(crate) fn explain_events(&self, ticket: &str, events: &[Event]) -> Option<String> {
        let evaluator = self.cell.borrow_dependent();
        if !evaluator.keeps(ticket) {
            return None;
        }
        let now = evaluator.judged_at()?;
        let policies = self.cell.borrow_owner();
        let cases = [events];
        // The case's own verdicts and findings as of `now`; a period's outcome needs every case
        // of the period and is final only at the end of the stream, so it is not told here.
        let own = crate::engine::evaluate_case_full(policies, events, now);
        let records = crate::explain::other::Records {
            verdicts: &own.verdicts,
            findings: &own.findings,
            periods: &[],
            cases: &cases,
        };
        let others = crate::explain::other::explain_other_clauses(policies, events, now, records);
        Some(crate::explain::explain_case(policies, events, now).render_with(&others))
    }

    /// One line of JSON Lines in the event format, validated exactly as `pledge check` reads
    /// it; lines are numbered from 1 in the order they are given. A bad line becomes a
    /// rejected record (returned at once), never an error.
    pub fn push_json(&mut self, line: &[u8]) -> Vec<Record> {
        let parsed = ParsedLine::read(line, &self.read, false);
        self.push_parsed(parsed)
    }

    /// A reader of lines for this engine, to parse them on another thread than the one
    /// pushing them ([`Engine::push_parsed`]): it validates exactly as [`Engine::push_json`].
    pub fn line_parser(&self) -> LineParser {
        LineParser {
            read: self.read.clone(),
            writes_kept: self.explained.as_ref().is_some_and(|x| x.outside.is_some()),
        }
    }

    /// A line a [`LineParser`] read: the same as [`Engine::push_json`] of that line. It takes
    /// the next line number here, so lines parsed on any thread are numbered in the order they
    /// are pushed.
    pub fn push_parsed(&mut self, line: ParsedLine) -> Vec<Record> {
        self.lines += 1;
        self.stats.lines += 1;
        self.stats.bytes += line.bytes;
        match line.read {
            Read::Blank => {
                self.stats.blank += 1;
                Vec::new()
            }
            Read::Event(mut event, written) => {
                event.line = self.lines;
                self.push_kept(event, written)
            }
            Read::Rejected(mut rejected) => {
                rejected.line = self.lines;
                self.stats.rejected += 1;
                self.cell.with_dependent_mut(|_, e| e.reject(rejected));
                self.drain()
            }
        }
    }

    /// Moves stream time to `now` without an event: events that have waited out the window
    /// are applied and cases past their retention settle, giving their records; and what
    /// happened to clocks since the previous call, as [`Alert`]s: which cycles passed their due
    /// time while running (breached, and still something someone can act on; also one that
    /// stopped since the previous call, so that what is told does not depend on how often a
    /// host calls) and which stages (warnings, escalations, notifications) fired while their
    /// clock ran.
    ///
    /// Alerts are told once, when certain: as of just before `now` minus the reorder window,
    /// when every event before that instant has been applied, so that a stop still waiting out
    /// the window never raises a false alarm. A live host therefore sets the reorder window to
    /// how late its events really come (seconds to minutes, not the batch default of a day).
    /// The first call tells everything up to then; nothing is kept for alerts before it.
    pub fn advance(&mut self, now: Instant) -> Advanced {
        let alerts = self.cell.with_dependent_mut(|_, e| {
            e.advance_to(now);
            e.alerts(now)
        });
        if let Some(explained) = self.explained.as_mut() {
            let evaluator = self.cell.borrow_dependent();
            explained.prune(|ticket| evaluator.keeps(ticket));
        }
        Advanced {
            records: self.drain(),
            alerts,
        }
    }

    /// Lines given to [`Engine::push_json`] so far: the number the next line gets is one more.
    pub fn lines_read(&self) -> u64 {
        self.lines
    }
}

impl Engine {
    /// Cases currently kept (open, or closed and within the retention).
    pub fn open_cases(&self) -> usize {
        self.cell.borrow_dependent().open_cases()
    }

    /// Whether `ticket`'s case settled (it is no longer kept) with records still to come at
    /// [`Engine::finish`]: a cycle still running, judged as of the end's `now`. A host that
    /// answers about one ticket finishes a fork for those ([`Engine::finish_ticket`]).
    pub fn settled_awaiting_now(&self, ticket: &str) -> bool {
        self.cell.borrow_dependent().settled_awaiting_now(ticket)
    }

    /// The counts so far: events accepted and rejected as they came, and the records made
    /// final (a case still kept is judged at [`Engine::finish`], or on a fork).
    pub fn summary_so_far(&self) -> &Summary {
        self.cell.borrow_dependent().summary()
    }

    /// The latest `at` accepted so far.
    pub fn watermark(&self) -> Option<Instant> {
        self.cell.borrow_dependent().watermark()
    }

    /// The partition this engine judges ([`Options::partition`]); `None`: every ticket.
    pub fn partition(&self) -> Option<Partition> {
        self.cell.borrow_dependent().partition_of()
    }

    /// [`Engine::finish`] for a host that writes the records out as they come (the end of a
    /// long stream judges every case still kept, far more records than fit in memory at
    /// once): each record is sent to `to` (a bounded channel holds the evaluator back while
    /// the host writes), and the report's `records` is empty.
    pub fn finish_to(mut self, to: SyncSender<Record>) -> Report {
        for record in self.drain() {
            _ = to.send(record);
        }
        self.cell
            .with_dependent_mut(|_, e| e.sink_mut().to = Some(to));
        let summary = self.cell.with_dependent_mut(|_, e| e.finish_in_place());
        // The sender goes with the sink: the receiver sees the end.
        self.cell.with_dependent_mut(|_, e| e.sink_mut().to = None);
        Report {
            records: Vec::new(),
            summary,
            read: self.stats,
            zone: self.zone,
        }
    }

    /// A copy of the engine as it is now, in memory: what [`Engine::restore`] of its
    /// [`Engine::snapshot`] gives, at a fraction of the cost (no case is written as bytes and
    /// read back; cases at rest stay bytes in the copy). A live host forks to judge as of now
    /// (it finishes the copy) while the engine goes on; a host that stores the kept events
    /// itself (the service's store) keeps them for the engine, not for the copy.
    pub fn fork(&self) -> Engine {
        let explained = self.explained.as_ref().map(|e| Explained {
            events: e.events.clone(),
            since_prune: e.since_prune,
            outside: None,
        });
        self.copied(explained, |running, policies| {
            running.fork(policies, Records::default())
        })
    }

    /// A copy of the engine around the evaluator `copy` makes of this one's, for the same
    /// policies.
    fn copied(
        &self,
        explained: Option<Explained>,
        copy: impl for<'q> FnOnce(&Running<'_>, &'q [Policy]) -> Running<'q>,
    ) -> Engine {
        let owner = Arc::clone(self.cell.borrow_owner());
        let cell = Cell::new(owner, |policies| {
            copy(self.cell.borrow_dependent(), policies)
        });
        Engine {
            cell,
            zone: self.zone,
            read: self.read.clone(),
            lines: self.lines,
            stats: self.stats,
            explained,
        }
    }

    /// [`Engine::fork`] for a host that asks about one ticket: a copy whose
    /// [`Engine::finish_ticket`] of `ticket` gives what a whole fork's does, at the cost of
    /// that ticket's case rather than of every case kept (its other records are not to be
    /// relied on: it holds no other case).
    pub fn fork_ticket(&self, ticket: &str) -> Engine {
        self.copied(None, |running, policies| {
            running.fork_ticket(policies, Records::default(), ticket)
        })
    }

    /// [`Engine::fork`] as an evaluator writing to `sink` (the agenda's, say), for a host that
    /// judges as of now into something else than records. `policies` are the engine's own
    /// (those of the [`PolicySet`] it was made with).
    pub(crate) fn fork_into<'q, T: Sink>(
        &self,
        policies: &'q [Policy],
        sink: T,
    ) -> Evaluator<'q, T> {
        self.cell.borrow_dependent().fork(policies, sink)
    }

    /// [`Engine::finish`] for a host that wants the summary alone: the records are counted in
    /// it and not kept (the end of a long stream judges every case still kept).
    pub fn finish_summary(self) -> Report {
        self.finish_only(Only::Nothing)
    }

    /// [`Engine::finish`] for a host that asks about one ticket: the records about it (and
    /// the whole summary).
    pub fn finish_ticket(self, ticket: &str) -> Report {
        self.finish_only(Only::Ticket(ticket.into()))
    }

    fn finish_only(mut self, only: Only) -> Report {
        self.cell.with_dependent_mut(|_, e| {
            let sink = e.sink_mut();
            // Those already made final are filtered like the rest.
            sink.only = only;
            let mut kept = std::mem::take(&mut sink.kept);
            kept.retain(|r| sink.wants(r.ticket()));
            sink.kept = kept;
        });
        self.finish()
    }

    /// Ends the stream: the records still to come (cases still open are judged as of `now`,
    /// or the latest `at`), period records, and the summary.
    pub fn finish(mut self) -> Report {
        let summary = self.cell.with_dependent_mut(|_, e| e.finish_in_place());
        let records = self.drain();
        Report {
            records,
            summary,
            read: self.stats,
            zone: self.zone,
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("open_cases", &self.open_cases())
            .field("watermark", &self.watermark())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"policy "repairs" {
  zone "Asia/Shanghai"
  allow missing_cite
  deadline fix_8h "repairs: resolved within 8 hours" {
    when kind == "repair"
    from opened until resolved
    within 8 hours
  }
}
"#;

    /// An engine that explains, tracks changed cases and holds three open cases.
    pub(super) fn engine_with_cases() -> (PolicySet, Engine) {
        let policies = PolicySet::from_text(POLICY, "repairs.pledge").expect("policy");
        let mut engine = Engine::new(&policies, &Options::default().explain(true));
        engine.track_changes();
        for (i, ticket) in ["T-1", "T-2", "T-3"].iter().enumerate() {
            let line = format!(
                r#"{{"ticket":"{ticket}","at":"2026-03-0{}T09:00:00+08:00","type":"opened","id":"e{i}","attrs":{{"kind":"repair"}}}}"#,
                i + 1
            );
            engine.push_json(line.as_bytes());
        }
        (policies, engine)
    }

    /// An event's bytes written as of line 0 and given its line afterwards are the bytes of
    /// the event written at that line, whatever the number's length as a varint.
    #[test]
    fn bytes_written_at_line_zero_take_any_line() {
        let at = "2026-03-02T09:00:00+08:00".parse().expect("instant");
        let event = Event::new("T-1", at, "opened")
            .with_id("e-1")
            .with_attr("kind", "repair")
            .with_attr("score", 5);
        let at_zero = crate::engine::raw_bytes::to_vec(&event).expect("bytes");
        for line in [1, 2, 127, 128, 300, 16_383, 16_384, 1 << 35, u64::MAX] {
            let expected = postcard::to_stdvec(&event.clone().at_line(line)).expect("bytes");
            assert_eq!(with_line(at_zero.clone(), line), expected, "line {line}");
        }
    }

    /// Lines parsed on another thread and pushed give what pushing them as JSON gives: the
    /// same records (rejected lines with their numbers), counts and rows of kept events for
    /// a host that stores them, with blank and bad lines among them.
    #[test]
    fn lines_parsed_elsewhere_push_as_json_lines_do() {
        let policies = PolicySet::from_text(POLICY, "repairs.pledge").expect("policy");
        let mut lines: Vec<String> = Vec::new();
        for i in 0..300 {
            let ticket = format!("T-{}", i % 37);
            let kind = ["opened", "contacted", "resolved", "reopened"][i % 4];
            lines.push(format!(
                r#"{{"ticket":"{ticket}","at":"2026-03-02T{:02}:{:02}:00+08:00","type":"{kind}","id":"e{i}","attrs":{{"kind":"repair"}}}}"#,
                8 + i / 60,
                i % 60
            ));
            if i % 50 == 7 {
                lines.push(String::new());
                lines.push(r#"{"ticket":"X","at":"yesterday","type":"opened"}"#.to_string());
            }
        }
        let storing = || {
            let mut engine = Engine::new(&policies, &Options::default().explain(true));
            engine.track_changes();
            engine
        };
        let mut as_json = storing();
        let mut parsed = storing();
        let parser = parsed.line_parser();
        let read: Vec<ParsedLine> = std::thread::scope(|s| {
            s.spawn(|| lines.iter().map(|l| parser.parse(l.as_bytes())).collect())
                .join()
                .expect("parser thread")
        });
        let mut expected = Vec::new();
        for l in &lines {
            expected.extend(as_json.push_json(l.as_bytes()));
        }
        let mut got = Vec::new();
        for line in read {
            got.extend(parsed.push_parsed(line));
        }
        assert_eq!(got, expected);
        assert!(
            got.iter()
                .any(|r| matches!(r, Record::Rejected(r) if r.line == 10)),
            "{got:?}"
        );
        assert_eq!(parsed.lines_read(), as_json.lines_read());
        for i in 0..37 {
            let ticket = format!("T-{i}");
            let rows = parsed.explained_rows(&ticket);
            assert!(!rows.is_empty(), "{ticket} keeps rows");
            assert_eq!(rows, as_json.explained_rows(&ticket), "{ticket}");
        }
        let (a, b) = (
            parsed.checkpoint_into(Vec::new()).expect("checkpoint"),
            as_json.checkpoint_into(Vec::new()).expect("checkpoint"),
        );
        assert_eq!(a.rest, b.rest);
        assert_eq!(a.explained, b.explained);
        assert_eq!(parsed.finish().summary, as_json.finish().summary);
    }

    /// The evaluator's bytes are written in one piece, laid out as serde's byte-by-byte
    /// `Vec<u8>` laid them out: a rest of either reads as the other.
    #[test]
    fn bytes_written_in_one_piece_read_as_a_sequence_and_back() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Whole {
            #[serde(with = "crate::engine::raw_bytes")]
            v: Vec<u8>,
        }
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Each {
            v: Vec<u8>,
        }
        for v in [
            vec![],
            vec![0, 255, 7],
            (0..=255u8).cycle().take(70_000).collect(),
        ] {
            let whole = postcard::to_stdvec(&Whole { v: v.clone() }).unwrap();
            let each = postcard::to_stdvec(&Each { v: v.clone() }).unwrap();
            assert_eq!(whole, each);
            assert_eq!(postcard::from_bytes::<Whole>(&each).unwrap().v, v);
            assert_eq!(postcard::from_bytes::<Each>(&whole).unwrap().v, v);
        }
    }
}
