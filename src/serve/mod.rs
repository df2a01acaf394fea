//! `pledge serve`: the monitoring service. It follows one source of events, keeps the engine's
//! state in a crash-safe store, answers an HTTP JSON API and delivers alerts.
//!
//! Threads: the source reads lines into a bounded channel (so a slow engine holds the source
//! back rather than filling memory); the service loop applies them in batches (up to
//! `commit_lines` lines or `commit_every`), then commits the batch (see [`store`]); HTTP
//! workers answer requests from a fork of the engine; the deliverer empties the alert outbox.

mod alerts;
mod caselog;
mod http;
pub mod jetstream;
mod kept;
mod metrics;
pub mod nats;
mod restparts;
pub mod source;
pub(crate) mod store;

use crate::api::{Engine, LineParser, Options, ParsedLine, PolicySet, Record};
use crate::event::Event;
use jetstream::{JetStreamSource, Subscription};
use source::{FileSource, Lag, Next, Position, Source, StdinSource};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant as Clock};
use store::{Batch, Store};

/// Where events come from.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// A file followed as it grows.
    File(PathBuf),
    /// Standard input; its end ends the service (after writing the report).
    Stdin,
    /// Only `POST /events`.
    Post,
    /// A NATS JetStream stream, read by a durable pull consumer.
    Nats(Subscription),
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub policies: PolicySet,
    pub state: PathBuf,
    pub listen: SocketAddr,
    pub token: Option<String>,
    pub source: SourceSpec,
    /// `now` is the latest event's time rather than the wall clock.
    pub now_from_events: bool,
    /// Write the report and stop when the file has no more lines.
    pub until_eof: bool,
    pub options: Options,
    pub webhook: Option<String>,
    /// Publish alerts to this subject of this NATS server (a JetStream stream must capture it).
    pub alerts_nats: Option<(String, String)>,
    pub commit_lines: usize,
    pub commit_every: Duration,
    pub max_body: usize,
}

/// What a `POST /events` came to, told once its batch is committed.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub accepted: u64,
    /// (line of the body, reason).
    pub rejected: Vec<(u64, String)>,
}

/// What reaches the service loop.
enum Msg {
    /// Lines read in a row, parsed on the source's thread, and the source's position after the
    /// last of them: one message (and one copy of the position) per chunk rather than per line.
    Lines(Vec<ParsedLine>, Position),
    End,
    /// The source cannot be read, and trying again will not change that (a stream whose
    /// retention the service cannot read): the service ends with this error.
    Failed(String),
    Post(Vec<Vec<u8>>, SyncSender<Result<Posted, String>>),
}

/// What the HTTP workers share with the loop.
pub(crate) struct Shared {
    pub policies: PolicySet,
    engine: Mutex<Engine>,
    pub store: Store,
    pub config: Config,
    pub stop: AtomicBool,
    post: Option<SyncSender<Msg>>,
    /// Lines read by the source and not yet committed.
    pub queued: AtomicU64,
    pub lag_bytes: AtomicU64,
    /// Messages a stream holds beyond what its source received.
    pub lag_messages: AtomicU64,
    /// The stream sequence last committed, which the JetStream source acknowledges.
    nats_committed: Arc<AtomicU64>,
    pub alerts_raised: AtomicU64,
    pub batches: AtomicU64,
    /// Size of the last committed snapshot, and the last commit's duration in microseconds.
    pub snapshot_bytes: AtomicU64,
    /// Of the last commit: the bytes of the rest of the state, the case rows written (changed
    /// or removed), and the lines of its batch.
    pub rest_bytes: AtomicU64,
    pub cases_written: AtomicU64,
    pub batch_lines: AtomicU64,
    pub commit_micros: AtomicU64,
    pub deliveries: Arc<alerts::DeliveryStats>,
    /// Where alerts go: each target has an outbox in the store.
    pub targets: Vec<store::Target>,
    /// The per-clause counts `/metrics` gives, as judged last (see [`metrics::JUDGED_MAX_AGE`]).
    pub judged: Mutex<Option<metrics::Judged>>,
}

impl Shared {
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        // A worker that panicked while holding the lock left a consistent engine: every
        // change to it is one call.
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether events arrive over HTTP only.
    pub fn post_only(&self) -> bool {
        self.post.is_some()
    }

    /// The events kept to explain the case of `ticket`, in the order they were pushed: those
    /// the store holds and those the engine has not handed to it yet (or whose commit is under
    /// way). `engine` is the locked engine, so that no commit moves rows meanwhile.
    pub fn kept_events(&self, engine: &Engine, ticket: &str) -> Result<Vec<Event>, String> {
        let rows = engine.explained_rows(ticket);
        let numbers: Vec<u64> = rows
            .iter()
            .filter(|(_, unstored)| unstored.is_none())
            .map(|(n, _)| *n)
            .collect();
        let mut stored = self
            .store
            .kept_events(&numbers)
            .map_err(|e| e.to_string())?
            .into_iter();
        let mut events = Vec::with_capacity(rows.len());
        for (n, unstored) in rows {
            let bytes = match unstored {
                Some(bytes) => bytes,
                None => stored
                    .next()
                    .flatten()
                    .ok_or_else(|| format!("kept event {n} of `{ticket}` is missing"))?,
            };
            let event = postcard::from_bytes::<Event>(&bytes)
                .map_err(|e| format!("unreadable kept event {n} of `{ticket}`: {e}"))?;
            events.push(event);
        }
        Ok(events)
    }

    /// A copy of the engine, for a request that finishes it (agenda, summary, metrics, a
    /// case): made in memory, holding the engine (and the stream) only while it is copied.
    pub fn fork(&self) -> Engine {
        self.engine().fork()
    }
}

/// The file of the state directory that holds the cases at rest while the service runs; made
/// anew at each start, never read after.
pub const SPILL_FILE: &str = "at-rest.spill";

/// The instant the service judges at: the wall clock, or the latest event.
fn now(shared: &Shared, engine: &Engine) -> Option<crate::event::Instant> {
    if shared.config.now_from_events {
        engine.watermark()
    } else {
        Some(chrono::Utc::now())
    }
}

/// Runs the service until its source ends (`--until-eof`, standard input) or SIGTERM/SIGINT.
/// Errors are sentences for the command to print.
pub fn run(config: Config) -> Result<(), String> {
    let partition = config.options.partition.filter(|p| p.count > 1);
    let readable = |rest: &[u8]| Engine::rest_readable(rest).map_err(|e| e.to_string());
    let store = Store::open_checked(&config.state, partition.map_or(0, |p| p.index), readable)
        .map_err(|e| e.to_string())?;
    let committed = store.committed().map_err(|e| e.to_string())?;
    let options = config.options.clone().explain(true);
    let (mut engine, position) = match committed {
        Some(c) => {
            let (cases, _) = store.cases().map_err(|e| e.to_string())?;
            let engine = Engine::restore_parts(&config.policies, &c.rest, cases)
                .map_err(|e| {
                    format!(
                        "cannot continue from the state in `{}`: {e} (start with another --state directory)",
                        config.state.display()
                    )
                })?;
            if engine.partition() != partition {
                let said = |p: Option<crate::engine::Partition>| {
                    p.map_or_else(|| "no partition".to_string(), |p| format!("partition {p}"))
                };
                return Err(format!(
                    "the state in `{}` is of {}, not {} (start with another --state directory)",
                    config.state.display(),
                    said(engine.partition()),
                    said(partition)
                ));
            }
            (engine, Some(c.position))
        }
        None => (Engine::new(&config.policies, &options), None),
    };
    engine.track_changes();
    // Cases at rest are read back from a file of the state directory rather than held: the
    // store has them all anyway, and they are most of the state.
    let spill = config.state.join(SPILL_FILE);
    engine
        .spill_resting_to(&spill)
        .map_err(|e| format!("cannot write `{}`: {e}", spill.display()))?;
    let server = tiny_http::Server::http(config.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| config.listen.to_string(), |a| a.to_string());
    // The first line of standard output: where the service listens (with `--listen
    // 127.0.0.1:0`, the port the system chose).
    println!("listening on http://{bound}");
    let _ = std::io::Write::flush(&mut std::io::stdout());

    let mut channels: Vec<Box<dyn alerts::Channel>> = Vec::new();
    if let Some(url) = &config.webhook {
        channels.push(Box::new(alerts::Webhook::new(url)));
    }
    if let Some((url, subject)) = &config.alerts_nats {
        channels.push(Box::new(alerts::NatsSubject::new(url, subject)));
    }
    // A few chunks (or bodies) ahead at most: the source waits rather than reading a backlog
    // into memory.
    let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUED_MESSAGES);
    let shared = Arc::new(Shared {
        policies: config.policies.clone(),
        engine: Mutex::new(engine),
        store,
        post: matches!(config.source, SourceSpec::Post).then(|| tx.clone()),
        config: config.clone(),
        stop: AtomicBool::new(false),
        queued: AtomicU64::new(0),
        lag_bytes: AtomicU64::new(0),
        lag_messages: AtomicU64::new(0),
        nats_committed: Arc::default(),
        alerts_raised: AtomicU64::new(0),
        batches: AtomicU64::new(0),
        snapshot_bytes: AtomicU64::new(0),
        rest_bytes: AtomicU64::new(0),
        cases_written: AtomicU64::new(0),
        batch_lines: AtomicU64::new(0),
        commit_micros: AtomicU64::new(0),
        deliveries: Arc::default(),
        targets: channels.iter().map(|c| c.target()).collect(),
        judged: Mutex::new(None),
    });
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // Registering a flag is always possible for these two signals.
        let _ = signal_hook::flag::register(signal, stop_flag(&shared));
    }

    let mut threads = Vec::new();
    let server = Arc::new(server);
    for _ in 0..3 {
        let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
        threads.push(std::thread::spawn(move || http::serve(&server, &shared)));
    }
    let mut wakes = Vec::new();
    for channel in channels {
        let (wake_tx, wake_rx) = mpsc::sync_channel::<()>(1);
        wakes.push(wake_tx);
        let shared = Arc::clone(&shared);
        threads.push(std::thread::spawn(move || {
            alerts::deliver(
                channel,
                &shared.store,
                &wake_rx,
                &shared.stop,
                &shared.deliveries,
            )
        }));
    }
    let mut source_done = None;
    match &config.source {
        SourceSpec::File(path) => {
            if !path.exists() {
                eprintln!(
                    "warning: `{}` does not exist yet; it is read once it does",
                    path.display()
                );
            }
            let source = FileSource::open(path, position.as_ref());
            source_done = Some(spawn_source(
                Box::new(source),
                tx,
                &shared,
                config.until_eof,
            ));
        }
        SourceSpec::Stdin => {
            // Not waited for: a read of standard input cannot be interrupted.
            let source = StdinSource::new(std::io::stdin());
            spawn_source(Box::new(source), tx, &shared, true);
        }
        SourceSpec::Nats(sub) => {
            if position.as_ref().is_some_and(
                |p| !matches!(p, Position::Nats { stream, .. } if *stream == sub.stream),
            ) {
                return Err(format!(
                    "the state in `{}` was read from another source than the stream `{}` (start with another --state directory)",
                    config.state.display(),
                    sub.stream
                ));
            }
            let source = JetStreamSource::new(
                sub.clone(),
                position.as_ref(),
                Arc::clone(&shared.nats_committed),
            );
            source_done = Some(spawn_source(
                Box::new(source),
                tx,
                &shared,
                config.until_eof,
            ));
        }
        SourceSpec::Post => drop(tx),
    }
    let result = service_loop(&shared, &rx, position, &wakes);
    shared.stop.store(true, Ordering::SeqCst);
    // The source's thread may be waiting to hand lines over, or to acknowledge the last commit.
    drop(rx);
    if let Some(done) = source_done {
        let _ = done.recv_timeout(SOURCE_GRACE);
    }
    let report = write_report(&shared);
    for t in threads {
        let _ = t.join();
    }
    result.and(report)
}

/// An `Arc<AtomicBool>` view of the stop flag for the signal handler.
fn stop_flag(shared: &Arc<Shared>) -> Arc<AtomicBool> {
    // signal-hook sets an `Arc<AtomicBool>`; a watcher thread copies it into the shared flag.
    let flag = Arc::new(AtomicBool::new(false));
    let (watch, shared) = (Arc::clone(&flag), Arc::clone(shared));
    std::thread::spawn(move || {
        while !shared.stop.load(Ordering::SeqCst) {
            if watch.load(Ordering::SeqCst) {
                shared.stop.store(true, Ordering::SeqCst);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    flag
}

/// Lines the source hands to the loop in one message at most; fewer when the source has
/// nothing more at once.
const CHUNK: usize = 512;
/// Messages (chunks of lines, POSTed bodies) queued for the loop at most.
const QUEUED_MESSAGES: usize = 8;

/// Reads the source into the channel until it ends or the service stops.
///
/// Each line is parsed here, on the source's thread, and only evaluated on the loop's: the
/// loop is what limits how fast a backlog is caught up with, and parsing (with writing the
/// bytes of an event kept for `why`) was a tenth of its time.
/// How long a stopping service waits for its source's thread to finish (to acknowledge what
/// was committed last).
const SOURCE_GRACE: Duration = Duration::from_secs(5);

fn spawn_source(
    mut source: Box<dyn Source>,
    tx: SyncSender<Msg>,
    shared: &Arc<Shared>,
    until_end: bool,
) -> Receiver<()> {
    let shared = Arc::clone(shared);
    let parser = shared.engine().line_parser();
    // Dropped when the thread ends: the service waits (a while) on it before it exits.
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _done = done;
        feed(&mut *source, &tx, &shared, &parser, until_end);
        source.finish(&shared.stop);
    });
    finished
}

/// Reads `source` and hands its lines to the loop until it ends (or `--until-eof` and it has
/// caught up), the loop has gone or the service stops.
fn feed(
    source: &mut dyn Source,
    tx: &SyncSender<Msg>,
    shared: &Shared,
    parser: &LineParser,
    until_end: bool,
) {
    let mut read = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK);
    // Hands the lines read so far to the loop; false when the loop has gone.
    let flush = |chunk: &mut Vec<ParsedLine>, source: &dyn Source| -> bool {
        if chunk.is_empty() {
            return true;
        }
        let lines = std::mem::replace(chunk, Vec::with_capacity(CHUNK));
        shared
            .queued
            .fetch_add(lines.len() as u64, Ordering::Relaxed);
        tx.send(Msg::Lines(lines, source.position())).is_ok()
    };
    while !shared.stop.load(Ordering::SeqCst) {
        match source.next_line() {
            Ok(Next::Line(line)) => {
                read += 1;
                if read % 1024 == 0 {
                    record_lag(shared, source.behind());
                }
                chunk.push(parser.parse(&line));
                if chunk.len() >= CHUNK && !flush(&mut chunk, &*source) {
                    return;
                }
            }
            Ok(Next::Idle) if until_end && source.caught_up() => {
                if flush(&mut chunk, &*source) {
                    let _ = tx.send(Msg::End);
                }
                return;
            }
            Ok(Next::Idle) => {
                if !flush(&mut chunk, &*source) {
                    return;
                }
                record_lag(shared, source.behind());
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(Next::End) => {
                if flush(&mut chunk, &*source) {
                    let _ = tx.send(Msg::End);
                }
                return;
            }
            Err(err) => {
                // What was read before the error is the source's to hand out.
                if !flush(&mut chunk, &*source) {
                    return;
                }
                if err.kind() == std::io::ErrorKind::Unsupported {
                    let _ = tx.send(Msg::Failed(err.to_string()));
                    return;
                }
                eprintln!("warning: cannot read the source: {err}; trying again");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

fn record_lag(shared: &Shared, lag: Option<Lag>) {
    match lag {
        Some(Lag::Bytes(b)) => shared.lag_bytes.store(b, Ordering::Relaxed),
        Some(Lag::Events(n)) => shared.lag_messages.store(n, Ordering::Relaxed),
        None => {}
    }
}

/// Applies batches and commits them until the source ends or the service stops.
///
/// One commit is in flight at a time, on a thread of its own, while the loop applies the next
/// batch: the transaction (most of a commit's time) overlaps evaluation instead of stopping it.
/// The previous commit is waited for before the next checkpoint is taken, so the store always
/// holds whole checkpoints in order (state and position of one batch in one transaction), and
/// the events kept for `why` that the engine hands out are stored before it hands out more.
fn service_loop(
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

/// The loop of [`service_loop`]: gathers a batch, applies it, hands its checkpoint to the
/// commit thread.
/// A batch ends at this many lines (or `commit_lines`, if more), even when the last commit took
/// longer than the batch has lasted (the loop then waits for it): under a backlog, batches
/// that waited out slow commits grew to a hundred thousand lines, and every buffer of a commit
/// (the changed cases, the events kept for `why`, the records, the acknowledgements) with
/// them, which was a quarter of the service's peak memory.
const BATCH_CAP: usize = 40_000;

/// Under a backlog a batch lasts at least this many times as long as the loop took to take
/// the last checkpoint. Taking one writes the rest of the state whole and every case the
/// batch changed (tens of megabytes on a dense stream) on the loop's own time: with batches
/// as short as the commits, which got short once a commit wrote only what changed,
/// checkpoints took a growing share of the loop as the state grew (a fifth on the dense 10 M
/// stream). So they stay within about a ninth of it; under a backlog, batches then mostly
/// reach [`BATCH_CAP`].
const CHECKPOINT_SHARE: u32 = 8;

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
                    for (i, line) in body.iter().enumerate() {
                        if crate::input::is_blank(line) {
                            // Counted as a blank line, as `pledge check` counts one.
                            engine.push_json(line);
                            continue;
                        }
                        let number = engine.lines_read() + 1;
                        let got = engine.push_json(line);
                        let reason = got.iter().find_map(|r| match r {
                            Record::Rejected(r) if r.line == number => Some(r.reason.clone()),
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
                && (started.elapsed() >= last_commit.max(last_checkpoint * CHECKPOINT_SHARE)
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
        if lines == 0 && records.is_empty() && alerts.is_empty() {
            continue;
        }
        let commit_started = Clock::now();
        let state = engine
            .checkpoint_into(std::mem::take(&mut room))
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
    state: crate::api::EngineCheckpoint,
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
        rest: state.rest,
    })
}

/// Writes `DIR/report.json`: the committed records and what a check ending now adds, with the
/// summary: the document of `pledge check --format json`.
fn write_report(shared: &Shared) -> Result<(), String> {
    // The loop has ended: the engine itself is finished (in its place an empty one answers the
    // requests that still come while the service stops), so no copy of the state is made.
    let engine = std::mem::replace(
        &mut *shared.engine(),
        Engine::new(&shared.policies, &shared.config.options),
    );
    let path = shared.config.state.join("report.json");
    let tmp = shared.config.state.join("report.json.tmp");
    let failed = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    // The end of the stream judges every case still kept: its records are written as they
    // come, by a writer behind a bounded channel, never all held at once.
    let (to, from) = mpsc::sync_channel::<crate::Record>(4096);
    let (report, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<std::io::BufWriter<std::fs::File>, String> {
            let file = std::fs::File::create(&tmp).map_err(failed)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
            use std::io::Write as _;
            out.write_all(b"{\"records\":[\n").map_err(failed)?;
            let mut first = true;
            let mut since = 0;
            loop {
                let page = shared
                    .store
                    .records(since, 10_000)
                    .map_err(|e| e.to_string())?;
                let Some((last, _)) = page.last() else { break };
                since = last + 1;
                for (_, line) in page {
                    if !first {
                        out.write_all(b",\n").map_err(failed)?;
                    }
                    first = false;
                    out.write_all(line.as_bytes()).map_err(failed)?;
                }
            }
            for r in from {
                if !first {
                    out.write_all(b",\n").map_err(failed)?;
                }
                first = false;
                serde_json::to_writer(&mut out, &r).map_err(|e| failed(e.into()))?;
            }
            Ok(out)
        });
        let report = engine.finish_to(to);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err("the report's writer failed".to_string()));
        (report, written)
    });
    let mut out = written?;
    use std::io::Write as _;
    out.write_all(b"\n],\n\"summary\":").map_err(failed)?;
    out.write_all(report.summary_pretty().as_bytes())
        .map_err(failed)?;
    out.write_all(b"}\n").map_err(failed)?;
    out.into_inner()
        .map_err(|e| failed(e.into_error()))?
        .sync_all()
        .map_err(failed)?;
    std::fs::rename(&tmp, &path).map_err(failed)
}

/// Hands a POSTed body to the loop and waits for its batch to be committed.
pub(crate) fn post(shared: &Shared, lines: Vec<Vec<u8>>) -> Result<Posted, String> {
    let Some(tx) = &shared.post else {
        return Err("this service reads its events from its source".into());
    };
    let (reply, answer) = mpsc::sync_channel(1);
    tx.send(Msg::Post(lines, reply))
        .map_err(|_| "the service is stopping".to_string())?;
    // Waits in short steps, so that a service stopping meanwhile answers 503 at once.
    loop {
        match answer.recv_timeout(Duration::from_millis(100)) {
            Ok(result) => return result,
            Err(RecvTimeoutError::Timeout) if !shared.stop.load(Ordering::SeqCst) => {}
            Err(_) => return Err("the service is stopping".to_string()),
        }
    }
}
