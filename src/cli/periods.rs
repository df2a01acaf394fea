//! Shared by `pledge sample` and `pledge report`: reading the stream through an evaluator set
//! up for period records.

use super::args::{open_stream, Stream};
use super::check::InputFormat;
use super::Outcome;
use crate::engine::PeriodSink;
use crate::engine::{EvalOptions, Evaluator, Partition, Sink};
use crate::eval::Summary;
use crate::period::{DrawSpec, ReportSpec};
use crate::policy::Policy;
use crate::syntax::DEFAULT_ZONE;
use std::io::{self, Write};
use std::path::Path;

/// The options every period subcommand shares.
pub struct StreamOptions<'a> {
    pub events: &'a Path,
    pub now: Option<&'a str>,
    pub tz: Option<&'a str>,
    pub input_format: InputFormat,
    pub map: Option<&'a Path>,
    pub reorder_window: chrono::Duration,
    pub retain: chrono::Duration,
    /// `--partition I/N`: only the tickets of one partition are judged.
    pub partition: Option<Partition>,
}

/// Evaluates the stream for a report and/or a draw; `Err` is the exit code after a message.
pub fn evaluate(
    policies: &[Policy],
    o: &StreamOptions<'_>,
    report: Option<ReportSpec>,
    draw: Option<DrawSpec>,
) -> Result<(Summary, PeriodSink), Outcome> {
    let (stream, eval_opts) = open(policies, o)?;
    let name = stream.name;
    let (input, read_opts) = (stream.input, stream.read_opts);
    let threads = super::check::default_threads();
    let mut evaluator = Evaluator::new(policies, eval_opts, PeriodSink::default());
    if let Some(p) = o.partition {
        evaluator.partition(p);
    }
    if let Some(r) = report {
        evaluator.periods_mut().report_by(r);
    }
    if let Some(d) = draw {
        evaluator.periods_mut().draw_for(d);
    }
    let (summary, _, sink) = crate::check::feed(evaluator, input, &read_opts, threads, |_| {})
        .map_err(|e| {
            eprintln!("error: cannot read `{name}`: {e}");
            Outcome::Io
        })?;
    warn_of(&summary);
    Ok((summary, sink))
}

/// Evaluates the stream for a period report into `sink` (which receives every record);
/// `Err` is the exit code after a message.
pub fn evaluate_into<S: Sink>(
    policies: &[Policy],
    o: &StreamOptions<'_>,
    report: ReportSpec,
    sink: S,
) -> Result<(Summary, S), Outcome> {
    let (stream, eval_opts) = open(policies, o)?;
    let name = stream.name;
    let threads = super::check::default_threads();
    let checked = crate::check::check_parallel_with(
        policies,
        stream.input,
        &stream.read_opts,
        eval_opts,
        sink,
        threads,
        |_| {},
        |e| {
            if let Some(p) = o.partition {
                e.partition(p);
            }
            e.periods_mut().report_by(report);
        },
    )
    .map_err(|e| {
        eprintln!("error: cannot read `{name}`: {e}");
        Outcome::Io
    })?;
    warn_of(&checked.summary);
    Ok((checked.summary, checked.sink))
}

/// The stream `o` names, opened (a timestamp without offset read in the first policy's zone
/// unless `--tz` says otherwise), and the evaluator's options for it.
fn open(policies: &[Policy], o: &StreamOptions<'_>) -> Result<(Stream, EvalOptions), Outcome> {
    let zone = policies.first().map_or(DEFAULT_ZONE, |p| p.zone);
    let stream = open_stream(o.events, o.input_format, o.map, o.tz, o.now, zone)?;
    let eval_opts = EvalOptions {
        resting_in_memory: None,
        now: stream.now,
        reorder_window: o.reorder_window,
        retain: o.retain,
    };
    Ok((stream, eval_opts))
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

pub use super::args::usage;

/// The warnings of a command that judges a stream but does not print `pledge check`'s report:
/// rejected records, and years its calendars have no holiday data for (verdicts there count
/// ordinary weekdays only), which `pledge check` prints in its report.
pub(crate) fn warn_of(summary: &Summary) {
    if summary.rejected > 0 {
        eprintln!(
            "warning: {} input records were rejected; run `pledge check` to see them",
            summary.rejected
        );
    }
    for (calendar, year) in &summary.uncovered {
        eprintln!(
            "warning: {}",
            crate::report::uncovered_warning(calendar, *year)
        );
    }
}
