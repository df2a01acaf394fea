//! Shared by `pledge sample` and `pledge report`: reading the stream through an evaluator set
//! up for period records.

use super::args::{parse_cli_instant, parse_zone};
use super::check::InputFormat;
use super::Outcome;
use crate::eval::{EvalOptions, Summary};
use crate::input::{Format, ReadOptions};
use crate::period::report::{evaluate_periods, PeriodSink};
use crate::period::{DrawSpec, ReportSpec};
use crate::policy::Policy;
use crate::syntax::DEFAULT_ZONE;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

/// The options every period subcommand shares.
pub struct StreamOptions<'a> {
    pub events: &'a Path,
    pub now: Option<&'a str>,
    pub tz: Option<&'a str>,
    pub input_format: InputFormat,
    pub reorder_window: chrono::Duration,
}

/// Evaluates the stream for a report and/or a draw; `Err` is the exit code after a message.
pub fn evaluate(
    policies: &[Policy],
    o: &StreamOptions<'_>,
    report: Option<ReportSpec>,
    draw: Option<DrawSpec>,
) -> Result<(Summary, PeriodSink), Outcome> {
    let zone = policies.first().map_or(DEFAULT_ZONE, |p| p.zone);
    let tz = o.tz.map(parse_zone).transpose().map_err(|e| usage(&e))?;
    let now = o
        .now
        .map(|text| parse_cli_instant(text, tz.unwrap_or(zone)))
        .transpose()
        .map_err(|e| usage(&e))?;
    let name = o.events.display().to_string();
    let format = match o.input_format {
        InputFormat::Auto => Format::from_path(&name),
        InputFormat::Jsonl => Format::Jsonl,
        InputFormat::Csv => Format::Csv,
    };
    let input: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(o.events) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("error: cannot read `{name}`: {e}");
                return Err(Outcome::Io);
            }
        }
    };
    let eval_opts = EvalOptions {
        now,
        reorder_window: o.reorder_window,
    };
    let read_opts = ReadOptions { format, tz };
    let (summary, _, sink) = evaluate_periods(policies, input, &read_opts, eval_opts, report, draw)
        .map_err(|e| {
            eprintln!("error: cannot read `{name}`: {e}");
            Outcome::Io
        })?;
    if summary.rejected > 0 {
        eprintln!(
            "warning: {} input records were rejected; run `pledge check` to see them",
            summary.rejected
        );
    }
    Ok((summary, sink))
}

/// Writes `text` to standard output.
pub fn print(text: &str) -> Result<(), Outcome> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| {
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("error: {e}");
            }
            Outcome::Io
        })
}

pub fn usage(message: &str) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Invalid
}
