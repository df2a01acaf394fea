//! Checking a stream against policies: the reader and the evaluator joined in one pass.
//!
//! This is the library entry point that `pledge check` uses; other programs call it the same
//! way, with their own [`Sink`] to receive the records. [`feed`] is the pipeline itself, for
//! callers that set up the [`Evaluator`] themselves (period reports, sample draws).

use crate::engine::{EvalOptions, Evaluator, Sink};
use crate::eval::Summary;
use crate::input::{read_events, read_jsonl_parallel, Format, ReadOptions, ReadStats, Record};
use crate::policy::Policy;
use std::io::Read;
use std::sync::Arc;

mod split;
pub use split::{check_split, judged_whole};

/// What a check came to: the evaluator's summary, the reader's counts and the sink.
pub struct Checked<S> {
    pub summary: Summary,
    pub read: ReadStats,
    pub sink: S,
}

/// Reads `input` once, feeding every event and every rejected line to a streaming evaluator of
/// `policies`, and returns the summary. Records reach `sink` as they become final, so memory
/// follows the cases kept (open, or closed within the retention), not the length of the stream.
/// Only an I/O error of `input` fails; the records delivered before it stay delivered.
pub fn check<R: Read + Send, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    sink: S,
) -> std::io::Result<Checked<S>> {
    check_parallel(policies, input, read_opts, eval_opts, sink, 0, |_| {})
}

/// Like [`check`], with JSON Lines parsed on `threads` threads (0: on the calling thread, as
/// [`check`] does) while the evaluator runs on the calling one; `on_progress` gets the input
/// bytes consumed so far. The records and their order are those of [`check`], whatever the
/// number of threads.
pub fn check_parallel<R: Read + Send, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    sink: S,
    threads: usize,
    on_progress: impl FnMut(u64),
) -> std::io::Result<Checked<S>> {
    check_parallel_with(
        policies,
        input,
        read_opts,
        eval_opts,
        sink,
        threads,
        on_progress,
        |_| {},
    )
}

/// Like [`check_parallel`], with `setup` given the evaluator before the first event: to ask its
/// period tally for per-period or per-group counts (a period report, `--group-by`), which then
/// reach `sink` as [`crate::period::PeriodRecord::Compliance`] records at the end.
#[allow(clippy::too_many_arguments)]
pub fn check_parallel_with<R: Read + Send, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    sink: S,
    threads: usize,
    on_progress: impl FnMut(u64),
    setup: impl FnOnce(&mut Evaluator<'_, S>),
) -> std::io::Result<Checked<S>> {
    let mut evaluator = Evaluator::new(policies, eval_opts, sink);
    setup(&mut evaluator);
    let (summary, read, sink) = feed(evaluator, input, read_opts, threads, on_progress)?;
    Ok(Checked {
        summary,
        read,
        sink,
    })
}

/// Parser threads for JSON Lines when the caller does not say: one core for the evaluator,
/// the others parse (the line splitter beside them only copies bytes). On one core, parsing
/// happens on the evaluator's thread. Evaluation is the slower half, so more than a few parsers
/// never pay (bench/RESULTS.md).
pub fn default_parser_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (cores - 1).min(MAX_DEFAULT_PARSERS)
}

/// Evaluators and parser threads when the caller does not say, for a check split by tickets
/// ([`check_split`]): on `c` cores, `c / 4` threads parse (none on two cores: the thread that
/// deals the events out parses them) and the others evaluate, at most 16. On one core, one
/// evaluator and no parser thread.
pub fn default_split() -> (usize, usize) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let parsers = cores / 4;
    ((cores - parsers).clamp(1, MAX_DEFAULT_EVALUATORS), parsers)
}

/// Evaluators beyond this many are not started unless asked for.
const MAX_DEFAULT_EVALUATORS: usize = 16;

/// Parsers beyond this many wait for the evaluator (bench/RESULTS.md).
const MAX_DEFAULT_PARSERS: usize = 4;

/// Reads `input` into `evaluator` and finishes it: JSON Lines parsed on `threads` threads (0:
/// on the calling thread; CSV, whose rows may span lines, always is), the reader told what the
/// evaluator keeps so that it does not build what the evaluator would drop. Returns the summary, the reader's counts
/// and the sink.
pub fn feed<R: Read + Send, S: Sink>(
    mut evaluator: Evaluator<'_, S>,
    input: R,
    read_opts: &ReadOptions,
    threads: usize,
    on_progress: impl FnMut(u64),
) -> std::io::Result<(Summary, ReadStats, S)> {
    let read_opts = ReadOptions {
        relevance: Some(Arc::new(evaluator.relevance().clone())),
        ..read_opts.clone()
    };
    let on_record = |record| match record {
        Record::Event(event) => evaluator.push(event),
        Record::Rejected(rejected) => evaluator.reject(rejected),
    };
    let read = read_into(input, &read_opts, threads, on_record, on_progress)?;
    let faults = evaluator.resting_faults();
    let (summary, sink) = evaluator.finish();
    faults.check()?;
    Ok((summary, read, sink))
}

/// Reads `input` into `on_record`: JSON Lines parsed on `threads` threads (0: on the calling
/// thread; CSV and exports, whose rows may span lines, always are).
fn read_into<R: Read + Send>(
    input: R,
    read_opts: &ReadOptions,
    threads: usize,
    on_record: impl FnMut(Record),
    on_progress: impl FnMut(u64),
) -> std::io::Result<ReadStats> {
    if read_opts.format == Format::Jsonl && read_opts.export.is_none() && threads > 0 {
        read_jsonl_parallel(input, read_opts, threads, on_record, on_progress)
    } else {
        read_events(input, read_opts, on_record)
    }
}
