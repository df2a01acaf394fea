//! `pledge agenda POLICY... --events FILE|- [--now T] [--within 4h]`: what is overdue and what
//! falls due next, for the duty desk.
//!
//! Exit codes as for `check`: 1 when the agenda lists anything overdue or a missed escalation,
//! 0 when it lists only what is coming up (or nothing).

use super::args::{load_policies, open_stream, usage, ColorChoice, ReadArgs};
use super::Outcome;
use crate::agenda::{render_human, to_json, AgendaSink, ItemKind};
use crate::check::check;
use crate::engine::EvalOptions;
use crate::syntax::DEFAULT_ZONE;
use chrono_tz::Tz;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AgendaFormat {
    /// One line per item, for people.
    #[default]
    Human,
    /// One JSON document: `{"now", "within_seconds", "counts", "items"}`.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct AgendaArgs {
    /// Policy files (`.pledge`).
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// The event stream: a JSON Lines or CSV file, or `-` for standard input; with `--map`, a
    /// work-order export (xlsx or CSV, one row per ticket).
    #[arg(long, short = 'e', value_name = "FILE")]
    pub events: PathBuf,
    /// The agenda as of this instant (RFC 3339, or local time in the first policy's zone).
    /// Default: the time of the last event.
    #[arg(long, value_name = "INSTANT")]
    pub now: Option<String>,
    /// How far ahead to look for due times and stages: `4h`, `30min`, `1d`.
    #[arg(long, value_name = "DURATION", default_value = "4h", value_parser = crate::input::parse_typed_duration)]
    pub within: chrono::Duration,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: AgendaFormat,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also list clocks still running on closed cases (breaches for the report, left out by
    /// default: the agenda is for what can still be acted on).
    #[arg(long)]
    pub include_closed: bool,
    /// How many items the human agenda lists; beyond it, counts per clause head the list.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Colour in the human output and diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub color: ColorChoice,
}

pub fn run(args: AgendaArgs) -> Outcome {
    let Some(policies) = load_policies(&args.policies, args.color.stderr()) else {
        return Outcome::Invalid;
    };
    let zone: Tz = policies.first().map_or(DEFAULT_ZONE, |p| p.zone);
    if args.within < chrono::Duration::zero() {
        return usage("`--within` must not be negative");
    }
    let stream = match open_stream(
        &args.events,
        args.read.input_format,
        args.read.map.as_deref(),
        args.read.tz.as_deref(),
        args.now.as_deref(),
        zone,
    ) {
        Ok(stream) => stream,
        Err(outcome) => return outcome,
    };
    let (now, events_name, input) = (stream.now, stream.name, stream.input);
    let read_opts = stream.read_opts;
    let eval_opts = EvalOptions {
        resting_in_memory: None,
        now,
        reorder_window: args.read.reorder_window,
        retain: args.read.retain,
    };
    let sink = AgendaSink::new(&policies, now, args.within).including_closed(args.include_closed);
    let checked = match check(&policies, input, &read_opts, eval_opts, sink) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot read `{events_name}`: {e}");
            return Outcome::Io;
        }
    };
    let Some(now) = checked.summary.now else {
        return usage("no events and no `--now`: there is no instant to draw the agenda at");
    };
    super::periods::warn_of(&checked.summary);
    let agenda = checked.sink.into_agenda(now);
    let text = match args.format {
        AgendaFormat::Human => render_human(&agenda, args.color.stdout(), args.limit),
        AgendaFormat::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&agenda)).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("error: {e}");
        }
        return Outcome::Io;
    }
    if agenda.count(ItemKind::Overdue) > 0 || agenda.count(ItemKind::Missed) > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    }
}
