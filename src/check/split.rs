//! One stream judged by several evaluators side by side, each the cases of one partition of
//! the tickets, with the records and summary one evaluator gives, in its order.
//!
//! The thread that reads hands every event to the evaluator of its ticket's partition (see
//! [`Partition`]), and the instant of every event that moves stream time to all the others:
//! so every evaluator moves stream time exactly as one evaluator over the whole stream would
//! (every event moves it, accepted or not), and judges its cases at the same instants.
//!
//! Each evaluator tags its records with where they stand in the output order: the position
//! of the event being pushed (its rejection comes first), then the settling instant and key of
//! the case that settles ([`OrderMark`]); at the end, the part and the ticket. The reading
//! thread takes the records of each round of events from every evaluator, puts them in that
//! order (a stable sort: the records of one case come from one evaluator, in its order) and
//! hands them to the sink. At the end the counts add up and the period tallies are united, as
//! `pledge report --merge` unites those of a service's instances, and judged once.
//!
//! Recurrence rules compare cases across partitions: each partition logs the cases it offers
//! them with where each settled, and the logs are replayed in that order at the end. Every
//! evaluator also follows the alert cases of the others (`engine::shadow`), so that a
//! subject's duties see every alert's periods; policies whose alerts cannot be followed so are
//! judged by one evaluator ([`judged_whole`]).

use super::Checked;
use crate::engine::{
    alerts_followable, AlertWatch, EvalOptions, Evaluator, OrderMark, Partition, Sink,
};
use crate::eval::verdict::{Action, Finding, Rejected, Unopened, Verdict};
use crate::event::{Event, Instant};
use crate::input::{ReadOptions, Record};
use crate::period::PeriodTally;
use crate::policy::Policy;
use crate::value::Attrs;
use std::io::Read;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;

/// Records read between two exchanges with the evaluators.
const ROUND: usize = 1024;

/// Rounds the evaluators may be given before the reading thread takes back the records of
/// the oldest: enough that an evaluator settling a burst of cases, or waiting for a core,
/// holds up neither the other nor the reader for long, few enough that little waits in
/// memory. (On the dense 10 M stream with two evaluators and the reader on two cores: with 4
/// rounds the threads kept 1.84 to 1.88 cores busy, with 16 1.92 to 1.94, with 32 1.95 to
/// 1.96, for about 15 MB more; more rounds gained nothing and cost up to 60 MB.)
const ROUNDS_AHEAD: usize = 32;

/// What an evaluator is given of one line of the stream.
enum Item {
    /// An event of its partition.
    Event(Event),
    /// A line the reader rejected (partition 0 counts them).
    Rejected(Rejected),
    /// Another partition's event that moved stream time to this instant.
    Time(Instant),
    /// An event of an alert case another partition owns (see [`AlertWatch`]).
    Shadow(Event),
}

/// Where a record stands in the output order of one evaluator over the whole stream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// During the stream: the position of the pushed line, then its own rejection (`None`)
    /// before the cases that settle as it moves stream time, by settling instant and key.
    Stream {
        seq: u64,
        settles: Option<(Instant, u128)>,
    },
    /// At the end of the stream (see [`OrderMark::End`]).
    End { part: u8, ticket: Arc<str> },
}

/// A record, kept until its place in the output is known.
enum Out {
    Verdict(Verdict),
    Action(Action),
    Rejected(Rejected),
    Unopened(Unopened),
    Finding(Finding),
    CaseAttrs(Arc<str>, Attrs),
    CaseAttrsAtEnd(Arc<str>, Attrs),
}

impl Out {
    fn deliver<S: Sink>(self, sink: &mut S) {
        match self {
            Out::Verdict(v) => sink.verdict(&v),
            Out::Action(a) => sink.action(&a),
            Out::Rejected(r) => sink.rejected(&r),
            Out::Unopened(u) => sink.unopened(&u),
            Out::Finding(f) => sink.finding(&f),
            Out::CaseAttrs(t, a) => sink.case_attrs(&t, &a),
            Out::CaseAttrsAtEnd(t, a) => sink.case_attrs_at_end(&t, &a),
        }
    }
}

/// Records sent at a time at the end of the stream.
const CHUNK: usize = 4096;

/// The sink of one evaluator of the split: keeps its records with their places, and at the
/// end of the stream sends them on in chunks as they come.
struct Tagged {
    place: Place,
    seq: u64,
    records: Vec<(Place, Out)>,
    wants: Vec<&'static str>,
    end: Option<SyncSender<Vec<(Place, Out)>>>,
}

impl Tagged {
    fn new(wants: &[&'static str]) -> Tagged {
        Tagged {
            place: Place::Stream {
                seq: 0,
                settles: None,
            },
            seq: 0,
            records: Vec::new(),
            wants: wants.to_vec(),
            end: None,
        }
    }

    /// The line at `seq` is pushed next.
    fn at(&mut self, seq: u64) {
        self.seq = seq;
        self.place = Place::Stream { seq, settles: None };
    }

    fn keep(&mut self, out: Out) {
        self.records.push((self.place.clone(), out));
        if self.records.len() >= CHUNK {
            if let Some(end) = &self.end {
                // The dealer gone, the records have nowhere to go.
                let _ = end.send(std::mem::take(&mut self.records));
            }
        }
    }
}

impl Sink for Tagged {
    fn verdict(&mut self, verdict: &Verdict) {
        self.keep(Out::Verdict(verdict.clone()));
    }
    fn action(&mut self, action: &Action) {
        self.keep(Out::Action(action.clone()));
    }
    fn rejected(&mut self, rejected: &Rejected) {
        self.keep(Out::Rejected(rejected.clone()));
    }
    fn unopened(&mut self, unopened: &Unopened) {
        self.keep(Out::Unopened(unopened.clone()));
    }
    fn finding(&mut self, finding: &Finding) {
        self.keep(Out::Finding(finding.clone()));
    }
    fn case_attrs(&mut self, ticket: &Arc<str>, attrs: &Attrs) {
        self.keep(Out::CaseAttrs(ticket.clone(), attrs.clone()));
    }
    fn case_attrs_at_end(&mut self, ticket: &Arc<str>, attrs: &Attrs) {
        self.keep(Out::CaseAttrsAtEnd(ticket.clone(), attrs.clone()));
    }
    fn wants_case_attributes(&self) -> &[&'static str] {
        &self.wants
    }
    fn order(&mut self, mark: OrderMark<'_>) {
        self.place = match mark {
            OrderMark::Settles { when, key } => Place::Stream {
                seq: self.seq,
                settles: Some((when, key)),
            },
            OrderMark::End { part, ticket } => Place::End {
                part,
                ticket: Arc::from(ticket),
            },
        };
    }
}

/// Judges one partition: the rounds it is given, then the end of its cases (but for the period
/// records, which the united tallies give). Sends the records of each round on `out`, then
/// those of the end in chunks on `end`, ending with an empty one.
fn evaluate<'p>(
    mut evaluator: Evaluator<'p, Tagged>,
    rounds: Receiver<Vec<(u64, Item)>>,
    out: Sender<Vec<(Place, Out)>>,
    end: SyncSender<Vec<(Place, Out)>>,
) -> Evaluator<'p, Tagged> {
    for round in rounds {
        for (seq, item) in round {
            evaluator.sink_mut().at(seq);
            evaluator.at_position(seq);
            match item {
                Item::Event(event) => evaluator.push(event),
                Item::Rejected(rejected) => evaluator.reject(rejected),
                Item::Time(at) => evaluator.advance_to(at),
                Item::Shadow(event) => evaluator.push_shadow(event),
            }
        }
        let records = std::mem::take(&mut evaluator.sink_mut().records);
        if out.send(records).is_err() {
            return evaluator;
        }
    }
    evaluator.sink_mut().end = Some(end.clone());
    evaluator.finish_cases();
    let sink = evaluator.sink_mut();
    sink.end = None;
    if !sink.records.is_empty() {
        let _ = end.send(std::mem::take(&mut sink.records));
    }
    let _ = end.send(Vec::new());
    evaluator
}

/// The reading thread's side: deals the lines out in rounds and puts the records that come
/// back in order for the sink.
struct Dealer<'s, S> {
    sink: &'s mut S,
    rounds: Vec<Vec<(u64, Item)>>,
    to: Vec<SyncSender<Vec<(u64, Item)>>>,
    from: Vec<Receiver<Vec<(Place, Out)>>>,
    ends: Vec<Receiver<Vec<(Place, Out)>>>,
    seq: u64,
    latest: Option<Instant>,
    in_round: usize,
    outstanding: usize,
    /// Which tickets are alert cases, handed to every evaluator.
    alerts: Option<AlertWatch<'s>>,
}

impl<S: Sink> Dealer<'_, S> {
    fn record(&mut self, record: Record) {
        let seq = self.seq;
        self.seq += 1;
        match record {
            Record::Event(event) => {
                let owner = Partition::of(&event.ticket, self.rounds.len() as u32) as usize;
                let moves = self.latest.is_none_or(|latest| event.at > latest);
                if moves {
                    self.latest = Some(event.at);
                }
                if self.alerts.as_mut().is_some_and(|w| w.concerns(&event)) {
                    for (i, round) in self.rounds.iter_mut().enumerate() {
                        if i != owner {
                            round.push((seq, Item::Shadow(event.clone())));
                        }
                    }
                } else if moves {
                    for (i, round) in self.rounds.iter_mut().enumerate() {
                        if i != owner {
                            round.push((seq, Item::Time(event.at)));
                        }
                    }
                }
                self.rounds[owner].push((seq, Item::Event(event)));
            }
            Record::Rejected(rejected) => self.rounds[0].push((seq, Item::Rejected(rejected))),
        }
        self.in_round += 1;
        if self.in_round == ROUND {
            self.deal();
        }
    }

    /// Hands out the round, and delivers the oldest rounds' records beyond those allowed ahead.
    fn deal(&mut self) {
        self.in_round = 0;
        for (round, to) in self.rounds.iter_mut().zip(&self.to) {
            // An evaluator gone (it panicked) shows when its thread is joined.
            let _ = to.send(std::mem::replace(round, Vec::with_capacity(ROUND)));
        }
        self.outstanding += 1;
        while self.outstanding > ROUNDS_AHEAD {
            self.deliver();
        }
    }

    /// Delivers the records of the oldest round not delivered, in order.
    fn deliver(&mut self) {
        self.outstanding = self.outstanding.saturating_sub(1);
        let mut all = Vec::new();
        for from in &self.from {
            if let Ok(mut records) = from.recv() {
                all.append(&mut records);
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, out) in all {
            out.deliver(self.sink);
        }
    }

    /// Delivers the records of the end as they come, merging the evaluators' (each in order).
    fn deliver_end(&mut self) {
        let n = self.ends.len();
        let mut rest: Vec<std::vec::IntoIter<(Place, Out)>> =
            (0..n).map(|_| Vec::new().into_iter()).collect();
        let mut front: Vec<Option<(Place, Out)>> = (0..n).map(|_| None).collect();
        let mut done = vec![false; n];
        loop {
            for i in 0..n {
                while front[i].is_none() && !done[i] {
                    front[i] = rest[i].next();
                    if front[i].is_none() {
                        match self.ends[i].recv() {
                            Ok(chunk) if !chunk.is_empty() => rest[i] = chunk.into_iter(),
                            _ => done[i] = true,
                        }
                    }
                }
            }
            let mut next: Option<usize> = None;
            for (i, record) in front.iter().enumerate() {
                let Some((place, _)) = record else {
                    continue;
                };
                let first = next.and_then(|n| front[n].as_ref()).map(|(p, _)| p);
                if first.is_none_or(|first| place < first) {
                    next = Some(i);
                }
            }
            let Some((_, out)) = next.and_then(|n| front[n].take()) else {
                break;
            };
            out.deliver(self.sink);
        }
    }
}

/// Whether `policies` need one evaluator over the whole stream: when an alert's `when` reads
/// more than one attribute, or holds for a case without any. An alert's periods are opened and
/// lifted by other tickets' events, which each partition follows from the first event that
/// names its ticket an alert case on its own (see `engine::shadow`): with a `when` on one
/// attribute, that is the event that gives the case the value it is judged by. (Recurrence
/// rules need no such thing: each partition logs the cases it offers them, with where each
/// settled, and the logs are replayed in that order at the end, so that one evaluator's
/// forgetting is reproduced.)
pub fn judged_whole(policies: &[Policy]) -> bool {
    !alerts_followable(policies)
}

/// Reads `input` once with `evaluators` evaluators side by side (see the module's
/// documentation), `setup` given each one's period tally before the first event; the records
/// reach `sink` in the order one evaluator gives them, and the summary is one evaluator's.
/// With `partition`, one evaluator judges that partition's tickets only (one instance of a
/// split, `--partition`); with one evaluator, or policies [`judged_whole`], this is
/// [`super::check_parallel_with`].
#[allow(clippy::too_many_arguments)]
pub fn check_split<R: Read + Send, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    mut sink: S,
    threads: usize,
    evaluators: usize,
    partition: Option<Partition>,
    on_progress: impl FnMut(u64),
    setup: impl Fn(&mut PeriodTally<'_>),
) -> std::io::Result<Checked<S>> {
    let count = if partition.is_some() || judged_whole(policies) {
        1
    } else {
        evaluators.max(1)
    };
    if count == 1 {
        return super::check_parallel_with(
            policies,
            input,
            read_opts,
            eval_opts,
            sink,
            threads,
            on_progress,
            |e| {
                if let Some(p) = partition {
                    e.partition(p);
                }
                setup(e.periods_mut());
            },
        );
    }
    let mut parts = Vec::with_capacity(count);
    for _ in 0..count {
        // Not told its partition: the dealer hands it only its own events, and asking again
        // would hash every ticket twice.
        let mut evaluator = Evaluator::new(
            policies,
            eval_opts.clone(),
            Tagged::new(sink.wants_case_attributes()),
        );
        setup(evaluator.periods_mut());
        evaluator.periods_mut().log_repeats();
        if policies.iter().any(|p| !p.alerts.is_empty()) {
            evaluator.follow_other_alerts();
        }
        parts.push(evaluator);
    }
    let read_opts = ReadOptions {
        relevance: parts.first().map(|e| Arc::new(e.relevance().clone())),
        ..read_opts.clone()
    };
    std::thread::scope(|scope| {
        let mut to = Vec::with_capacity(count);
        let mut from = Vec::with_capacity(count);
        let mut ends = Vec::with_capacity(count);
        let mut handles = Vec::with_capacity(count);
        for evaluator in parts {
            let (round_tx, round_rx) = sync_channel(ROUNDS_AHEAD + 1);
            let (out_tx, out_rx) = channel();
            let (end_tx, end_rx) = sync_channel(2);
            to.push(round_tx);
            from.push(out_rx);
            ends.push(end_rx);
            handles.push(scope.spawn(move || evaluate(evaluator, round_rx, out_tx, end_tx)));
        }
        let mut dealer = Dealer {
            sink: &mut sink,
            rounds: (0..count).map(|_| Vec::with_capacity(ROUND)).collect(),
            to,
            from,
            ends,
            seq: 0,
            latest: None,
            in_round: 0,
            outstanding: 0,
            alerts: AlertWatch::new(policies),
        };
        let on_record = |record| dealer.record(record);
        let read = super::read_into(input, &read_opts, threads, on_record, on_progress);
        if dealer.in_round > 0 {
            dealer.deal();
        }
        // The evaluators end their cases once their rounds are done; the end's records come
        // after the last round's.
        dealer.to.clear();
        while dealer.outstanding > 0 {
            dealer.deliver();
        }
        dealer.deliver_end();
        let mut parts: Vec<Evaluator<'_, Tagged>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        let read = read?;
        let faults: Vec<_> = parts.iter().map(|p| p.resting_faults()).collect();
        let first = parts.remove(0);
        let summary = first.finish_split(parts, &mut sink);
        for f in &faults {
            f.check()?;
        }
        Ok((summary, read))
    })
    .map(|(summary, read)| Checked {
        summary,
        read,
        sink,
    })
}
