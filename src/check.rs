//! Checking a stream against policies: the reader and the evaluator joined in one pass.
//!
//! This is the library entry point that `pledge check` uses; other programs call it the same
//! way, with their own [`Sink`] to receive the records.

use crate::eval::{EvalOptions, Evaluator, Sink, Summary};
use crate::input::{read_events, read_jsonl_parallel, Format, ReadOptions, ReadStats, Record};
use crate::policy::Policy;
use crate::relevance::Relevance;
use std::io::Read;
use std::sync::Arc;

/// `opts` with the reader told what the policies can look at, so that it does not build the
/// rest (the evaluator would drop it).
fn projected(policies: &[Policy], opts: &ReadOptions) -> ReadOptions {
    ReadOptions {
        relevance: Some(Arc::new(Relevance::of(policies))),
        ..opts.clone()
    }
}

/// What a check came to: the evaluator's summary, the reader's counts and the sink.
pub struct Checked<S> {
    pub summary: Summary,
    pub read: ReadStats,
    pub sink: S,
}

/// Reads `input` once, feeding every event and every rejected line to a streaming evaluator of
/// `policies`, and returns the summary. Records reach `sink` as cases finish, so memory follows
/// the cases still open, not the length of the stream. Only an I/O error of `input` fails; the
/// records delivered before it stay delivered.
pub fn check<R: Read, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    sink: S,
) -> std::io::Result<Checked<S>> {
    let read_opts = &projected(policies, read_opts);
    let eval_opts = EvalOptions {
        projected: true,
        ..eval_opts
    };
    let mut evaluator = Evaluator::new(policies, eval_opts, sink);
    let read = read_events(input, read_opts, |record| match record {
        Record::Event(event) => evaluator.push(event),
        Record::Rejected(rejected) => evaluator.reject(rejected),
    })?;
    let (summary, sink) = evaluator.finish();
    Ok(Checked {
        summary,
        read,
        sink,
    })
}

/// Like [`check`], with JSON Lines parsed on `threads` threads while the evaluator runs on the
/// calling one; `on_progress` gets the input bytes consumed so far. The records and their order
/// are those of [`check`], whatever the number of threads. CSV, whose rows may span lines, is
/// read sequentially.
pub fn check_parallel<R: Read + Send, S: Sink>(
    policies: &[Policy],
    input: R,
    read_opts: &ReadOptions,
    eval_opts: EvalOptions,
    sink: S,
    threads: usize,
    on_progress: impl FnMut(u64),
) -> std::io::Result<Checked<S>> {
    if read_opts.format != Format::Jsonl || threads <= 1 {
        return check(policies, input, read_opts, eval_opts, sink);
    }
    let read_opts = &projected(policies, read_opts);
    let eval_opts = EvalOptions {
        projected: true,
        ..eval_opts
    };
    let mut evaluator = Evaluator::new(policies, eval_opts, sink);
    let read = read_jsonl_parallel(
        input,
        read_opts,
        threads,
        |record| match record {
            Record::Event(event) => evaluator.push(event),
            Record::Rejected(rejected) => evaluator.reject(rejected),
        },
        on_progress,
    )?;
    let (summary, sink) = evaluator.finish();
    Ok(Checked {
        summary,
        read,
        sink,
    })
}
