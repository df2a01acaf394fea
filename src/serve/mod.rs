//! `pledge serve`: the monitoring service. It follows one source of events, keeps the engine's
//! state in a crash-safe store, answers an HTTP JSON API and delivers alerts.
//!
//! Threads: the source reads lines into a bounded channel (so a slow engine holds the source
//! back rather than filling memory); the service loop applies them in batches (up to
//! `commit_lines` lines or `commit_every`), then commits the batch (see [`store`]); HTTP
//! workers answer requests from a fork of the engine; the deliverer empties the alert outbox.

mod alerts;
mod caselog;
mod feed;
mod http;
pub mod jetstream;
mod kept;
mod metrics;
pub mod nats;
mod restparts;
mod service_loop;
pub mod source;
pub(crate) mod store;

use crate::api::{Engine, Options, ParsedLine, PolicySet};
use crate::event::Event;
use jetstream::{JetStreamSource, Subscription};
use source::{FileSource, Position, StdinSource};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use store::Store;

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
    /// Set once the loop has made its last commit: the deliverers then try the rest of their
    /// outbox for a few seconds before the service exits (see [`alerts::deliver`]).
    pub loop_done: AtomicBool,
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
        loop_done: AtomicBool::new(false),
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
                &shared.loop_done,
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
            source_done = Some(feed::spawn_source(
                Box::new(source),
                tx,
                &shared,
                config.until_eof,
            ));
        }
        SourceSpec::Stdin => {
            // Not waited for: a read of standard input cannot be interrupted.
            let source = StdinSource::new(std::io::stdin());
            feed::spawn_source(Box::new(source), tx, &shared, true);
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
            source_done = Some(feed::spawn_source(
                Box::new(source),
                tx,
                &shared,
                config.until_eof,
            ));
        }
        SourceSpec::Post => drop(tx),
    }
    let result = service_loop::run(&shared, &rx, position, &wakes);
    shared.stop.store(true, Ordering::SeqCst);
    // Every alert of the last commit is in the outbox: the deliverers send what they can of it
    // before the service exits (what they cannot stays there for the next start).
    shared.loop_done.store(true, Ordering::SeqCst);
    for wake in &wakes {
        let _ = wake.try_send(());
    }
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

/// The message a caught panic carried (`panic!` with a text, or a formatted one), for the
/// error a caught panic becomes.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
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

/// Messages (chunks of lines, POSTed bodies) queued for the loop at most.
const QUEUED_MESSAGES: usize = 8;

/// How long a stopping service waits for its source's thread to finish (to acknowledge what
/// was committed last).
const SOURCE_GRACE: Duration = Duration::from_secs(5);

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
