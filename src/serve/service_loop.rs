//! The service's loop: gathers the lines of a batch, applies them to the engine, takes its
//! checkpoint and hands it to the commit thread, which stores state and position together.

use super::source::Position;
use super::store::Batch;
use super::{alerts, now, Msg, Posted, Shared, SourceSpec};
use crate::api::Record;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant as Clock};

/// Applies batches and commits them until the source ends or the service stops.
///
/// One commit is in flight at a time, on a thread of its own, while the loop applies the next
/// batch: the transaction (most of a commit's time) overlaps evaluation instead of stopping it.
/// The previous commit is waited for before the next checkpoint is taken, so the store always
/// holds whole checkpoints in order (state and position of one batch in one transaction), and
/// the events kept for `why` that the engine hands out are stored before it hands out more.
pub(super) fn run(
    shared: &Shared,
    rx: &Receiver<Msg>,
    position: Option<Position>,
    wakes: &[SyncSender<()>],
) -> Result<(), String> {
    std::thread::scope(|scope| {
        // One commit thread for the service's life (a thread per commit gave each its own
        // allocator heap, abandoned at its end: memory the process held long after).
        let (jobs, queued) = mpsc::sync_channel::<Job>(0);
        scope.spawn(move || {
            for (batch, started, reply) in queued {
                let _ = reply.send(commit(shared, batch, wakes, started));
            }
        });
        let mut in_flight = None;
        let result = batches(shared, rx, position, &jobs, &mut in_flight);
        // The last commit ends before the report is written, whatever ended the loop.
        let last = in_flight.map_or(Ok(None), |c| settle(shared, c).map(Some));
        drop(jobs);
        result.and(last.map(drop))
    })
}

/// A batch for the commit thread, when its loop took it, and where to say how it went.
type Job = (Pending, Clock, SyncSender<Result<Committed, String>>);

/// A commit under way: its outcome comes on this channel.
type InFlight = Receiver<Result<Committed, String>>;

/// How a commit went: how long it took, and the buffer of its rest, handed back so that the
/// next checkpoint writes into it. (The rest is tens of megabytes on a dense stream: a
/// buffer that size allocated and freed at every commit was memory the allocator held
/// beside the one in use.)
struct Committed {
    took: Duration,
    /// How long writing the checkpoint's changed cases as bytes took, the part of taking a
    /// checkpoint done on the commit thread.
    cases_written: Duration,
    rest: Vec<u8>,
}

/// Waits for a commit; then the kept events it carried are stored, and the explanation reads
/// them from the store.
fn settle(shared: &Shared, commit: InFlight) -> Result<Committed, String> {
    let committed = commit
        .recv()
        .map_err(|_| "the commit of a batch failed unexpectedly".to_string())??;
    shared.engine().explained_stored();
    Ok(committed)
}

/// A batch ends at this many lines (or `commit_lines`, if more), even when the last commit took
/// longer than the batch has lasted (the loop then waits for it): under a backlog, batches
/// that waited out slow commits grew to a hundred thousand lines, and every buffer of a commit
/// (the changed cases, the events kept for `why`, the records, the acknowledgements) with
/// them, which was a quarter of the service's peak memory.
const BATCH_CAP: usize = 40_000;

/// Under a backlog a batch lasts at least this many times as long as taking the last
/// checkpoint took: the loop's part (the rest of the state written whole, tens of megabytes on
/// a dense stream) and the commit thread's (every case the batch changed written). With batches
/// as short as the commits, which got short once a commit wrote only what changed,
/// checkpoints took a growing share of the loop as the state grew (a fifth on the dense 10 M
/// stream). So they stay within about a ninth of it; under a backlog, batches then mostly
/// reach [`BATCH_CAP`].
const CHECKPOINT_SHARE: u32 = 8;

/// The loop of [`run`]: gathers a batch, applies it, hands its checkpoint to the commit
/// thread.
fn batches(
    shared: &Shared,
    rx: &Receiver<Msg>,
    mut position: Option<Position>,
    jobs: &SyncSender<Job>,
    in_flight: &mut Option<InFlight>,
) -> Result<(), String> {
    let every = shared.config.commit_every.max(Duration::from_millis(10));
    // A batch lasts at least as long as the last commit took (which runs meanwhile), so that
    // the loop rarely waits for it however large the state grows.
    let mut last_commit = Duration::ZERO;
    let mut last_checkpoint = Duration::ZERO;
    let mut last_cases_written = Duration::ZERO;
    // The buffer the next checkpoint writes its rest into: the last commit's, handed back.
    let mut room = Vec::new();
    let mut ended = false;
    let mut failure = None;
    while !ended && !shared.stop.load(Ordering::SeqCst) {
        let mut lines = 0usize;
        let mut records: Vec<Record> = Vec::new();
        let mut replies = Vec::new();
        let started = Clock::now();
        let tick = every.max(last_commit);
        loop {
            let left = tick.saturating_sub(started.elapsed());
            // Group commit: once a POST waits for its answer, the batch takes what is queued
            // already (other bodies, lines) and commits as soon as nothing more is, so that the
            // bodies that arrived together share one commit and none waits for the timer.
            let next = if replies.is_empty() {
                rx.recv_timeout(left)
            } else {
                rx.try_recv().map_err(|e| match e {
                    mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                    mpsc::TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                })
            };
            let msg = match next {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    if !matches!(shared.config.source, SourceSpec::Post) {
                        ended = true;
                    }
                    // With POST only, the channel never disconnects while `shared` holds it.
                    if replies.is_empty() {
                        std::thread::sleep(left);
                    }
                    break;
                }
            };
            let mut engine = shared.engine();
            match msg {
                Msg::Lines(chunk, pos) => {
                    lines += chunk.len();
                    for line in chunk {
                        records.extend(engine.push_parsed(line));
                    }
                    position = Some(pos);
                }
                Msg::End => {
                    ended = true;
                    break;
                }
                Msg::Failed(why) => {
                    failure = Some(why);
                    ended = true;
                    break;
                }
                Msg::Post(body, reply) => {
                    let mut posted = Posted::default();
                    // Lines are numbered in the body, which starts on this line of the stream.
                    let base = engine.lines_read() + 1;
                    for (i, line) in body.iter().enumerate() {
                        if crate::input::is_blank(line) {
                            // Counted as a blank line, as `pledge check` counts one.
                            engine.push_json(line);
                            continue;
                        }
                        let number = engine.lines_read() + 1;
                        let got = engine.push_json(line);
                        let reason = got.iter().find_map(|r| match r {
                            Record::Rejected(r) if r.line == number => {
                                Some(crate::engine::renumber_reason(r.reason.clone(), base))
                            }
                            _ => None,
                        });
                        match reason {
                            Some(reason) => posted.rejected.push((i as u64 + 1, reason)),
                            None => posted.accepted += 1,
                        }
                        records.extend(got);
                    }
                    position = Some(Position::Post);
                    lines += body.len();
                    replies.push((reply, posted));
                }
            }
            drop(engine);
            if lines >= shared.config.commit_lines
                && (started.elapsed()
                    >= last_commit.max((last_checkpoint + last_cases_written) * CHECKPOINT_SHARE)
                    || lines >= shared.config.commit_lines.max(BATCH_CAP))
            {
                break;
            }
        }
        // The previous commit ends first: the store takes checkpoints in order, and the rows
        // of kept events it carried are stored before the next checkpoint hands out more.
        if let Some(commit) = in_flight.take() {
            let committed = settle(shared, commit)?;
            last_commit = committed.took;
            last_cases_written = committed.cases_written;
            room = committed.rest;
        }
        let mut engine = shared.engine();
        let alerts = match now(shared, &engine) {
            Some(now) => {
                let advanced = engine.advance(now);
                records.extend(advanced.records);
                advanced.alerts
            }
            None => Vec::new(),
        };
        if lines == 0 && records.is_empty() && alerts.is_empty() && replies.is_empty() {
            continue;
        }
        let commit_started = Clock::now();
        let state = engine
            .take_checkpoint(std::mem::take(&mut room))
            .map_err(|e| e.to_string())?;
        drop(engine);
        last_checkpoint = commit_started.elapsed();
        let position = position
            .clone()
            .unwrap_or_else(|| start_position(&shared.config.source));
        let batch = Pending {
            state,
            position,
            records,
            alerts,
            replies,
            lines,
        };
        let (reply, outcome) = mpsc::sync_channel(1);
        jobs.send((batch, commit_started, reply))
            .map_err(|_| "the commit thread has stopped".to_string())?;
        *in_flight = Some(outcome);
    }
    failure.map_or(Ok(()), Err)
}

/// The position of a source from which nothing was read yet.
fn start_position(source: &SourceSpec) -> Position {
    match source {
        SourceSpec::File(_) => Position::File {
            offset: 0,
            identity: 0,
        },
        SourceSpec::Stdin => Position::Stdin { lines: 0 },
        SourceSpec::Post => Position::Post,
        SourceSpec::Nats(sub) => Position::Nats {
            stream: sub.stream.clone(),
            sequence: 0,
        },
    }
}

/// One applied batch, handed to its commit thread.
struct Pending {
    state: crate::api::TakenCheckpoint,
    position: Position,
    records: Vec<Record>,
    alerts: Vec<crate::Alert>,
    replies: Vec<(SyncSender<Result<Posted, String>>, Posted)>,
    lines: usize,
}

/// Commits one batch (on the commit thread): its records and alerts are written out here, off
/// the loop; the POSTs in it are answered, the JetStream source may acknowledge it, and the
/// deliverers are woken once it is in the store. Returns how long the commit took, and the
/// buffer of the rest for the next checkpoint.
fn commit(
    shared: &Shared,
    batch: Pending,
    wakes: &[SyncSender<()>],
    started: Clock,
) -> Result<Committed, String> {
    let Pending {
        state,
        position,
        records,
        alerts,
        replies,
        lines,
    } = batch;
    // The changed cases first, so that the loop, applying the next batch meanwhile, need
    // copy none of them to change it once they are let go of.
    let writing = Clock::now();
    let state = state.written().map_err(|e| e.to_string())?;
    let cases_written = writing.elapsed();
    let rows: Vec<(Option<String>, String)> = records
        .iter()
        .map(|r| {
            (
                r.ticket().map(str::to_string),
                serde_json::to_string(r).unwrap_or_default(),
            )
        })
        .collect();
    drop(records);
    let outbox: Vec<(String, String)> = if !shared.targets.is_empty() {
        alerts
            .iter()
            .map(|a| {
                let key = alerts::key(a);
                let body = alerts::body(a, &key);
                (key, body)
            })
            .collect()
    } else {
        Vec::new()
    };
    let committed = shared
        .store
        .commit(&Batch {
            state: &state,
            position: &position,
            records: &rows,
            alerts: &outbox,
            targets: &shared.targets,
        })
        .map_err(|e| e.to_string());
    let rest_written = match committed {
        Ok(bytes) => bytes,
        Err(e) => {
            for (reply, _) in replies {
                let _ = reply.send(Err(e.clone()));
            }
            return Err(e);
        }
    };
    if let Position::Nats { sequence, .. } = &position {
        shared.nats_committed.store(*sequence, Ordering::SeqCst);
    }
    let written = rest_written
        + state
            .cases
            .iter()
            .filter_map(|(_, b)| b.as_ref())
            .map(Vec::len)
            .sum::<usize>()
        + state
            .explained
            .appended
            .iter()
            .map(|(_, b)| b.len())
            .sum::<usize>();
    shared
        .snapshot_bytes
        .store(written as u64, Ordering::Relaxed);
    shared
        .rest_bytes
        .store(rest_written as u64, Ordering::Relaxed);
    shared
        .cases_written
        .store(state.cases.len() as u64, Ordering::Relaxed);
    shared.batch_lines.store(lines as u64, Ordering::Relaxed);
    let took = started.elapsed();
    shared
        .commit_micros
        .store(took.as_micros() as u64, Ordering::Relaxed);
    shared.batches.fetch_add(1, Ordering::Relaxed);
    shared
        .alerts_raised
        .fetch_add(alerts.len() as u64, Ordering::Relaxed);
    let _ = shared
        .queued
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
            Some(q.saturating_sub(lines as u64))
        });
    // The POSTs are answered once the counters include their commit, so that a client that
    // reads `/metrics` after its answer sees it counted.
    for (reply, posted) in replies {
        let _ = reply.send(Ok(posted));
    }
    if !outbox.is_empty() {
        for wake in wakes {
            let _ = wake.try_send(());
        }
    }
    Ok(Committed {
        took,
        cases_written,
        rest: state.rest,
    })
}
