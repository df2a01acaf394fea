//! Alerts: every stage that fires and every new breach, delivered at least once to a webhook
//! and/or a NATS subject, with an idempotency key.
//!
//! An alert enters the outbox of each target in the same transaction as the engine state that
//! raised it (so it is neither lost nor raised twice by a crash), and leaves it only after the
//! receiver confirmed it (a webhook answered 2xx; a JetStream stream acknowledged the publish).
//! A crash between the confirmation and the removal delivers it again, with the same key: the
//! receiver keeps the first of each key (a JetStream stream does so by itself, the key being
//! the message's `Nats-Msg-Id`, within the stream's duplicate window).

use super::nats::Connection;
use super::store::{Store, Target};
use crate::engine::Alert;
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
/// How long a stopping service goes on delivering what its last commits added.
pub const DRAIN: Duration = Duration::from_secs(5);

/// A receiver of alerts.
pub trait Channel: Send {
    fn target(&self) -> Target;
    /// Delivers one alert; `Ok` only once the receiver has confirmed it.
    fn send(&mut self, key: &str, body: &str) -> Result<(), String>;
}

/// POSTs each alert as JSON with an `Idempotency-Key` header.
pub struct Webhook {
    url: String,
    agent: ureq::Agent,
}

impl Webhook {
    pub fn new(url: &str) -> Webhook {
        Webhook {
            url: url.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .build(),
        }
    }
}

impl Channel for Webhook {
    fn target(&self) -> Target {
        Target::Webhook
    }

    fn send(&mut self, key: &str, body: &str) -> Result<(), String> {
        self.agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .set("Idempotency-Key", key)
            .send_string(body)
            .map(drop)
            .map_err(|err| format!("{}: {err}", self.url))
    }
}

/// Publishes each alert to a subject with the key as `Nats-Msg-Id`, and waits for the
/// JetStream stream that captures the subject to acknowledge it. With no stream on the
/// subject the publish is not confirmed and the alert stays in the outbox: a plain subscriber
/// that happens to be away would lose it.
pub struct NatsSubject {
    url: String,
    subject: String,
    conn: Option<Connection>,
}

impl NatsSubject {
    pub fn new(url: &str, subject: &str) -> NatsSubject {
        NatsSubject {
            url: url.to_string(),
            subject: subject.to_string(),
            conn: None,
        }
    }

    fn publish(&mut self, key: &str, body: &str) -> std::io::Result<Result<(), String>> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(Connection::connect(&self.url)?),
        };
        let answer = conn.request(&self.subject, &[("Nats-Msg-Id", key)], body.as_bytes())?;
        if answer.status == Some(503) {
            return Ok(Err(format!(
                "no JetStream stream captures `{}` on {}",
                self.subject, self.url
            )));
        }
        let ack: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
        Ok(match ack.get("error") {
            Some(err) => Err(format!("{}: {err}", self.subject)),
            None if ack.get("stream").is_some() => Ok(()),
            None => Err(format!(
                "`{}` answered something else than a JetStream acknowledgement",
                self.subject
            )),
        })
    }
}

impl Channel for NatsSubject {
    fn target(&self) -> Target {
        Target::Nats
    }

    fn send(&mut self, key: &str, body: &str) -> Result<(), String> {
        match self.publish(key, body) {
            Ok(result) => result,
            Err(err) => {
                // The next attempt connects again.
                self.conn = None;
                Err(format!("{}: {err}", self.url))
            }
        }
    }
}

/// Says, as a stopping service gives up delivering, that alerts wait for its next start.
fn left_undelivered(target: Target) {
    eprintln!(
        "warning: alerts for {} are left undelivered in the outbox: the next start delivers them",
        target.name()
    );
}

/// Delivers the target's outbox until the loop is `done`: woken by `wake` when a batch adds
/// alerts, and every second anyway. A failure waits (doubling, up to 30 s) before the next
/// attempt. Once the loop is done (the service is stopping: `--until-eof`, the end of standard
/// input, a signal), what its last commits added is delivered too, for as long as the receiver
/// takes them (it stops after [`DRAIN`] without a delivery, or at the first failure): a
/// one-shot replay tells a working receiver everything it raised. An alert that cannot be
/// delivered then stays in the outbox for the next start, and standard error says so.
pub fn deliver(
    mut channel: Box<dyn Channel>,
    store: &Store,
    wake: &Receiver<()>,
    done: &AtomicBool,
    stats: &Arc<DeliveryStats>,
) {
    let target = channel.target();
    let mut backoff = FIRST_RETRY;
    let mut drain_until: Option<std::time::Instant> = None;
    loop {
        if done.load(Ordering::SeqCst) {
            let until = *drain_until.get_or_insert_with(|| std::time::Instant::now() + DRAIN);
            if std::time::Instant::now() >= until {
                return;
            }
        }
        let pending = match store.outbox(target, 100) {
            Ok(p) => p,
            Err(err) => {
                eprintln!("error: {err}");
                Vec::new()
            }
        };
        let mut failed = false;
        // The alerts of a page delivered are removed from the outbox in one transaction (not
        // one each): a crash before it delivers them again, which at least once allows.
        let mut sent: Vec<&str> = Vec::new();
        let settle = |sent: &mut Vec<&str>| {
            if let Err(err) = store.delivered(target, sent) {
                eprintln!("error: {err}");
            }
            sent.clear();
        };
        if drain_until.is_some() && pending.is_empty() {
            return;
        }
        for (key, body) in &pending {
            if drain_until.is_some_and(|until| std::time::Instant::now() >= until) {
                settle(&mut sent);
                left_undelivered(target);
                return;
            }
            match channel.send(key, body) {
                Ok(()) => {
                    stats.delivered.fetch_add(1, Ordering::Relaxed);
                    sent.push(key);
                }
                Err(err) => {
                    stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    // The backoff doubles over failures in a row: a round that delivered
                    // something before it failed starts it again, so a receiver that fails now
                    // and then holds back only the alert it failed on, briefly.
                    if !sent.is_empty() {
                        backoff = FIRST_RETRY;
                    }
                    eprintln!(
                        "warning: alert `{key}` not delivered ({}): {err}; retrying in {backoff:?}",
                        target.name()
                    );
                    failed = true;
                    break;
                }
            }
        }
        let progressed = !sent.is_empty();
        settle(&mut sent);
        if let Some(until) = drain_until.as_mut() {
            // Stopping: no retry for a receiver that fails now; the next start retries.
            if failed {
                left_undelivered(target);
                return;
            }
            // A receiver that takes them is given the time it takes.
            if progressed {
                *until = std::time::Instant::now() + DRAIN;
            }
            continue;
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
        while !done.load(Ordering::SeqCst) {
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
