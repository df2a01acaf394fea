//! The source's thread: reads the service's source and hands its lines, parsed, to the loop.

use super::source::{Lag, Next, Source};
use super::{Msg, Shared};
use crate::api::{LineParser, ParsedLine};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

/// Lines the source hands to the loop in one message at most; fewer when the source has
/// nothing more at once.
const CHUNK: usize = 512;

/// Reads the source into the channel until it ends or the service stops.
///
/// Each line is parsed here, on the source's thread, and only evaluated on the loop's: the
/// loop is what limits how fast a backlog is caught up with, and parsing (with writing the
/// bytes of an event kept for `why`) was a tenth of its time.
pub(super) fn spawn_source(
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
        // A panic here would drop the channel, which the loop takes for the source's end, and
        // the service would exit 0 as if it had read everything: it is a failure instead.
        let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            feed(&mut *source, &tx, &shared, &parser, until_end);
        }));
        if let Err(panic) = fed {
            let what = super::panic_text(&*panic);
            let _ = tx.send(Msg::Failed(format!("the source's reader failed: {what}")));
            return;
        }
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
                if let Some(line) = source.unterminated() {
                    chunk.push(parser.parse(&line));
                }
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
