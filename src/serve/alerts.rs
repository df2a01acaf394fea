//! Alerts: every stage that fires and every new breach, delivered at least once to a webhook
//! with an idempotency key.
//!
//! An alert enters the outbox in the same transaction as the engine state that raised it (so
//! it is neither lost nor raised twice by a crash), and leaves it only after the receiver
//! answered 2xx. A crash between the answer and the removal delivers it again, with the same
//! key: the receiver keeps the first of each key.

use super::store::Store;
use crate::eval::Alert;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// The idempotency key of an alert: what it is about, never when it was computed, so that the
/// same alert raised again has the same key.
/// `breached/POLICY/CLAUSE/TICKET/CYCLE` or `stage/POLICY/CLAUSE/TICKET/CYCLE/STAGE`.
pub fn key(alert: &Alert) -> String {
    match alert {
        Alert::Breached(v) => format!(
            "breached/{}/{}/{}/{}",
            v.policy, v.clause, v.ticket, v.cycle
        ),
        Alert::Stage(a) => format!(
            "stage/{}/{}/{}/{}/{}",
            a.policy, a.clause, a.ticket, a.cycle, a.stage
        ),
    }
}

/// The body POSTed for an alert: `key` first, then its record JSON (`alert` first).
pub fn body(alert: &Alert, key: &str) -> String {
    // Serialized directly (not through a `Value`) to keep the record's key order.
    let record = serde_json::to_string(alert).unwrap_or_default();
    let key = serde_json::to_string(key).unwrap_or_default();
    match record.strip_prefix('{') {
        Some(rest) => format!("{{\"key\":{key},{rest}"),
        None => record,
    }
}

/// Counts of the deliverer, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
}

/// Shortest and longest wait before a failed delivery is tried again.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Delivers the outbox to `url` until `stop`: woken by `wake` when a batch adds alerts, and
/// every second anyway. A failure waits (doubling, up to 30 s) before the next attempt.
pub fn deliver(
    url: &str,
    store: &Store,
    wake: &Receiver<()>,
    stop: &AtomicBool,
    stats: &Arc<DeliveryStats>,
) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut backoff = FIRST_RETRY;
    while !stop.load(Ordering::SeqCst) {
        let pending = match store.outbox(100) {
            Ok(p) => p,
            Err(err) => {
                eprintln!("error: {err}");
                Vec::new()
            }
        };
        let mut failed = false;
        for (key, body) in &pending {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let sent = agent
                .post(url)
                .set("Content-Type", "application/json")
                .set("Idempotency-Key", key)
                .send_string(body);
            match sent {
                Ok(_) => {
                    stats.delivered.fetch_add(1, Ordering::Relaxed);
                    if let Err(err) = store.delivered(key) {
                        eprintln!("error: {err}");
                    }
                }
                Err(err) => {
                    stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    eprintln!("warning: alert `{key}` not delivered to {url}: {err}; retrying in {backoff:?}");
                    failed = true;
                    break;
                }
            }
        }
        let wait = if failed {
            let wait = backoff;
            backoff = (backoff * 2).min(LAST_RETRY);
            wait
        } else {
            backoff = FIRST_RETRY;
            if pending.len() == 100 {
                continue;
            }
            Duration::from_secs(1)
        };
        // Sleep in short steps so that a stop is not kept waiting by a long backoff.
        let deadline = std::time::Instant::now() + wait;
        while !stop.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match wake.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(()) if !failed => break,
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
