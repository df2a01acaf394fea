//! `pledge serve POLICY... --state DIR (--events FILE|- | --post | --nats URL --stream NAME)`:
//! the monitoring service
//! (see `crate::serve`); this file only reads the command line.

use super::args::{load_policies, parse_partition, parse_zone, usage, ColorChoice};
use super::Outcome;
use crate::api::{Options, PolicySet};
use crate::engine::Partition;
use crate::period::ReportSpec;
use crate::serve::jetstream::Subscription;
use crate::serve::{Config, SourceSpec};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("source").required(true).args(["events", "post", "stream"])),
    after_help = "Endpoints (JSON; with --token-file every request needs `Authorization: Bearer TOKEN`):
  POST /events                 JSON Lines body; answers {accepted, rejected: [{line, reason}]}
  GET  /agenda?within=4h&project=P&include_closed=true
                               what is overdue and what falls due or fires within the horizon
  GET  /cases/TICKET           the case's verdicts, actions, findings and why
  GET  /summary                per-clause counts, as `pledge check --format json`
  GET  /records?since=N        the final records committed so far
  GET  /metrics                Prometheus text
  GET  /healthz                {status: ok}
The first line on standard output is `listening on http://ADDR`. SIGTERM or SIGINT commits,
writes DIR/report.json and exits."
)]
pub struct ServeArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Directory of the service's state (created if missing): the crash-safe store
    /// `state.redb`, and `report.json` when the service ends.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// Address of the HTTP API. A non-loopback address needs `--token-file`.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8640")]
    pub listen: SocketAddr,
    /// File holding the API token: every request must then carry `Authorization: Bearer
    /// TOKEN`. `POST /events` always needs it.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The events: a JSON Lines file followed as it grows (like `tail -F`, surviving rotation),
    /// or `-` for standard input (the service ends with it).
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Events arrive only over HTTP (`POST /events`, which needs `--token-file`).
    #[arg(long)]
    pub post: bool,
    /// The NATS server (`nats://HOST:PORT`) of `--stream` and `--alerts-subject`.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// Read the events from this JetStream stream (one event per message) with a durable pull
    /// consumer; needs `--nats`.
    #[arg(long, value_name = "NAME", requires = "nats")]
    pub stream: Option<String>,
    /// The durable consumer's name: one per service instance reading the stream (default
    /// `pledge`, or `pledge-I-of-N` with `--partition I/N`).
    #[arg(long, value_name = "NAME", requires = "stream")]
    pub consumer: Option<String>,
    /// Publish every alert to this NATS subject, with its key as `Nats-Msg-Id`; a JetStream
    /// stream must capture the subject (its acknowledgement confirms the delivery). Needs
    /// `--nats`.
    #[arg(long, value_name = "SUBJECT", requires = "nats")]
    pub alerts_subject: Option<String>,
    /// Stop when the file has no more lines, or the stream no more of the messages it held
    /// when the service started (after writing `DIR/report.json`), instead of waiting for
    /// more.
    #[arg(long)]
    pub until_eof: bool,
    /// Take `now` from the events (the latest `at`) instead of the wall clock: replays a file
    /// as if live, for tests and demos.
    #[arg(long)]
    pub now_from_events: bool,
    /// POST every alert (a stage that fires, a new breach) to this URL as JSON, with an
    /// `Idempotency-Key` header; retried with backoff until the receiver answers 2xx.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// How late events may come: each waits this long before it is applied, and alerts are
    /// told as of now minus this.
    #[arg(long, value_name = "DURATION", default_value = "1min", value_parser = crate::input::parse_typed_duration)]
    pub reorder_window: chrono::Duration,
    /// How long after its latest `closed` a case is kept, so that follow-ups count; also how
    /// long a ticket not closed that a deadline clause applies to is kept without events
    /// before it is judged like a closed one. A closed case under a longer warranty or
    /// follow-up window of a record clause is kept for that window (as `pledge check` keeps
    /// it).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = crate::input::parse_typed_duration)]
    pub retain: chrono::Duration,
    /// Zone of event timestamps that carry no UTC offset (without it they are rejected).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Commit after this many lines (the re-read work after a crash is bounded by it), but
    /// not before a batch has lasted as long as the last commit took (and eight times as long
    /// as taking the last checkpoint), up to 40,000 lines.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub commit_lines: usize,
    /// Commit at least this often while lines come, in milliseconds (or as long as the last
    /// commit took, if longer).
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub commit_ms: u64,
    /// Largest body `POST /events` accepts, in bytes (beyond it: 413).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Judge only the tickets of partition I of N (`0/3`): N instances, each reading the
    /// whole stream with its own `--state`, combine with `pledge report --merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// The period unit of the report tallied as events come (`pledge report --merge` reads
    /// it): `day`, `week`, `month`, `quarter` or `year`.
    #[arg(long, value_name = "UNIT", default_value = "month")]
    pub period: String,
    /// Case attributes the tallied report groups by, e.g. `project`.
    #[arg(long, value_name = "ATTRS", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: ServeArgs) -> Outcome {
    hand_memory_back_promptly();
    let Some(policies) = load_policies(&args.policies, args.color.stderr()) else {
        return Outcome::Invalid;
    };
    let token = match &args.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            Ok(_) => return usage(&format!("the token file `{}` is empty", path.display())),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return Outcome::Io;
            }
        },
        None => None,
    };
    if !args.listen.ip().is_loopback() && token.is_none() {
        return usage(&format!(
            "`--listen {}` is not a loopback address: give `--token-file` so that only holders of the token reach the service",
            args.listen
        ));
    }
    if args.post && token.is_none() {
        return usage("`--post` needs `--token-file`: POST /events always asks for the token");
    }
    if args.until_eof && args.post {
        return usage("`--until-eof` needs a source that ends: `--events FILE` or `--stream NAME`");
    }
    if args.commit_lines == 0 {
        return usage("`--commit-lines` must be at least 1");
    }
    let consumer = args
        .consumer
        .clone()
        .unwrap_or_else(|| match args.partition {
            Some(p) => format!("pledge-{}-of-{}", p.index, p.count),
            None => "pledge".to_string(),
        });
    let source = match (&args.events, &args.stream, &args.nats) {
        (Some(p), _, _) if p.as_os_str() == "-" => SourceSpec::Stdin,
        (Some(p), _, _) => SourceSpec::File(p.clone()),
        (None, Some(stream), Some(url)) => SourceSpec::Nats(Subscription {
            url: url.clone(),
            stream: stream.clone(),
            consumer: consumer.clone(),
        }),
        _ => SourceSpec::Post,
    };
    let Some(unit) = crate::period::calendar_period::parse_unit(&args.period) else {
        return usage(&format!(
            "`--period {}` is not a unit: day, week, month, quarter or year",
            args.period
        ));
    };
    let group_by = args
        .group_by
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    for (what, name) in [
        ("--stream", &args.stream),
        ("--consumer", &Some(consumer.clone())),
    ] {
        if let Some(name) = name {
            if name.is_empty() || name.contains(['.', '*', '>', ' ', '\t']) {
                return usage(&format!(
                    "`{what} {name}`: a name without `.`, `*`, `>` or spaces"
                ));
            }
        }
    }
    let mut options = Options::default()
        .reorder_window(args.reorder_window)
        .retain(args.retain)
        .report(ReportSpec { unit, group_by });
    if let Some(p) = args.partition {
        options = options.partition(p);
    }
    if let Some(tz) = &args.tz {
        match parse_zone(tz) {
            Ok(tz) => options = options.tz(tz),
            Err(e) => return usage(&e),
        }
    }
    let config = Config {
        policies: PolicySet::from(policies),
        state: args.state,
        listen: args.listen,
        token,
        source,
        now_from_events: args.now_from_events,
        until_eof: args.until_eof,
        options,
        webhook: args.webhook,
        alerts_nats: args.nats.zip(args.alerts_subject),
        commit_lines: args.commit_lines,
        commit_every: std::time::Duration::from_millis(args.commit_ms),
        max_body: args.max_body,
    };
    match crate::serve::run(config) {
        Ok(()) => Outcome::Clean,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Io
        }
    }
}

/// The variable by which the binary's allocator (mimalloc) is told how long freed memory
/// stays committed before it goes back to the system.
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";
/// The delay a service runs with, in milliseconds.
const SERVICE_PURGE_DELAY: &str = "10";

/// Starts the service again, in this same process, with the allocator told to hand freed
/// memory back to the system after 10 ms rather than its default second.
///
/// Why: a service commits about once a second, and what a commit frees (the rest of the
/// state, the cases it wrote, its store pages) was still held when the next came: 50 to 60
/// MB on the dense benchmark stream (bench/RESULTS.md).
///
/// The allocator reads its options from the environment once, when the process starts, so
/// the variable is set and the program executed again (same process id, arguments, open
/// files and standard streams), before anything is opened or started. A variable the user
/// set is kept as it is; where executing fails, the service runs on with the default.
fn hand_memory_back_promptly() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(PURGE_DELAY).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(name) = args.next() {
            again.arg0(name);
        }
        let error = again
            .args(args)
            .env(PURGE_DELAY, SERVICE_PURGE_DELAY)
            .exec();
        eprintln!("warning: running on with the allocator's default purge delay: {error}");
    }
}
