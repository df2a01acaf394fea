//! A NATS JetStream stream as the service's source: a durable pull consumer, one event per
//! message.
//!
//! # What is the truth about how far the service has read
//!
//! The service's store is: the stream sequence of the last message applied is committed with
//! the state it produced (`Position::Nats`). At start the consumer is created afresh (deleted
//! first if it exists) to deliver from the committed sequence + 1, so that messages delivered
//! before a crash but never committed come again at once and in order, rather than after the
//! server's acknowledgement timeout and behind newer ones. A message delivered twice (an
//! acknowledgement lost in a crash, a redelivery) is recognised by its stream sequence and
//! skipped.
//!
//! # Acknowledgements follow the stream's retention
//!
//! - **Limits** (the default, and what `pledge publish --stream` creates): messages stay
//!   until the stream's limits drop them, whatever consumers acknowledge, so acknowledging
//!   would tell the server nothing it needs. The consumer is created with `AckNone`: the
//!   server keeps no record of delivered and unacknowledged messages, which halves its CPU
//!   per message (measured on a backlog of 10 M messages).
//! - **Interest**: a message is removed once its consumers acknowledge it, so the consumer
//!   acknowledges with `AckAll`: once a batch is committed, acknowledging its last message
//!   acknowledges all before it.
//! - **Work queue**: refused with the reason (an error of kind `Unsupported`, which ends the
//!   service rather than being retried). Such a stream demands explicit acknowledgement of
//!   every message and delivery from its first message, while the service must restart from
//!   its own committed position.
//!
//! A message that is not an event is handed out like any line: the engine rejects it (counted
//! and reported with its reason), and it is acknowledged (if at all) with the rest, never
//! redelivered forever.

use super::nats::{delivery, Connection};
use super::source::{Lag, Next, Position, Source};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages asked for by one pull request. A new request is sent as soon as the open ones
/// expect fewer than this many, so two are usually open: the server fills the second while the
/// service applies and commits what the first brought, and never waits for a request.
const PULL_BATCH: usize = 16_384;
/// How long one pull request waits on the server for messages to arrive.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
/// How long `next_line` waits for a message before it says `Idle`.
const IDLE_AFTER: Duration = Duration::from_millis(100);

/// Where the stream is and who reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub stream: String,
    /// The durable consumer's name: one per service instance.
    pub consumer: String,
}

/// A durable pull consumer of a JetStream stream.
pub struct JetStreamSource {
    sub: Subscription,
    pull: Option<Pull>,
    /// The stream sequence of the last message handed out.
    handed: u64,
    ready: VecDeque<(u64, Vec<u8>)>,
    /// Messages received and not yet acknowledged: the stream sequence and acknowledgement
    /// subject of every `ACK_EVERY`th, and of the latest (an acknowledgement covers all before
    /// it), rather than one subject per message of a batch.
    unacked: Unacked,
    /// The stream sequence the service last committed: set by the service loop.
    committed: Arc<AtomicU64>,
    /// Messages the stream holds beyond the last one received, as the server last told.
    pending: u64,
    /// The stream's last sequence when the source connected.
    last_at_connect: u64,
}

/// How the consumer acknowledges what the service has committed, chosen by the stream's
/// retention (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acknowledging {
    /// `AckNone`: the stream keeps its messages whatever is acknowledged.
    Nothing,
    /// `AckAll`, after each commit: the stream drops what every consumer acknowledged.
    Committed,
}

impl Acknowledging {
    /// The acknowledgement for a stream of this `retention` (`limits`, `interest` or
    /// `workqueue`, as the server names them; absent means limits), or why there is none.
    fn for_retention(stream: &str, retention: Option<&str>) -> io::Result<Acknowledging> {
        match retention {
            None | Some("limits") => Ok(Acknowledging::Nothing),
            Some("interest") => Ok(Acknowledging::Committed),
            Some(other) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "stream `{stream}` has `{other}` retention, which the service cannot read: \
                     it must acknowledge every message and read from the first, while the \
                     service restarts from its own committed position; use a stream with \
                     limits or interest retention"
                ),
            )),
        }
    }

    /// The consumer's `ack_policy`.
    fn policy(self) -> &'static str {
        match self {
            Acknowledging::Nothing => "none",
            Acknowledging::Committed => "all",
        }
    }
}

/// How many messages apart the acknowledgement subjects kept are (besides the latest's).
const ACK_EVERY: u64 = 256;

/// The acknowledgement subjects of received messages, enough to acknowledge (all up to) any
/// committed sequence: every `ACK_EVERY`th message's, and the latest's. A committed sequence
/// between two kept ones is acknowledged up to the kept one before it, and the rest with the
/// next acknowledgement; the latest message's is always kept, so all is acknowledged once the
/// service has committed everything received.
#[derive(Default)]
struct Unacked {
    marks: VecDeque<(u64, String)>,
    latest: Option<(u64, String)>,
}

impl Unacked {
    fn push(&mut self, seq: u64, subject: String) {
        if let Some(latest) = self.latest.take() {
            if latest.0 % ACK_EVERY == 0 {
                self.marks.push_back(latest);
            }
        }
        self.latest = Some((seq, subject));
    }

    /// The subject that acknowledges the most messages up to `committed`, forgetting those.
    fn take_upto(&mut self, committed: u64) -> Option<String> {
        if self
            .latest
            .as_ref()
            .is_some_and(|(seq, _)| *seq <= committed)
        {
            self.marks.clear();
            return self.latest.take().map(|(_, subject)| subject);
        }
        let mut last = None;
        while self.marks.front().is_some_and(|(seq, _)| *seq <= committed) {
            last = self.marks.pop_front();
        }
        last.map(|(_, subject)| subject)
    }
}

/// A connection with its consumer and pull requests.
struct Pull {
    conn: Connection,
    /// Per open pull request (the subscription to its reply subject), how many messages it may
    /// still bring. A request has a subject of its own because JetStream delivers a message
    /// under the subject it was published on: only the subscription tells which request it
    /// fills.
    open: HashMap<u64, usize>,
    acknowledging: Acknowledging,
}

impl JetStreamSource {
    /// A source reading `sub` from the stream sequence after `from` (a committed position), or
    /// from the stream's first message. Connects lazily: a server that is down is retried.
    pub fn new(
        sub: Subscription,
        from: Option<&Position>,
        committed: Arc<AtomicU64>,
    ) -> JetStreamSource {
        let handed = match from {
            Some(Position::Nats { sequence, .. }) => *sequence,
            _ => 0,
        };
        committed.store(handed, Ordering::SeqCst);
        JetStreamSource {
            sub,
            pull: None,
            handed,
            ready: VecDeque::new(),
            unacked: Unacked::default(),
            committed,
            pending: 0,
            last_at_connect: 0,
        }
    }

    /// Checks that the stream exists and (re)creates the consumer at `handed + 1`.
    fn connect(&mut self) -> io::Result<Pull> {
        let Subscription {
            url,
            stream,
            consumer,
        } = &self.sub;
        let mut conn = Connection::connect(url)?;
        let info = match conn.api(
            &format!("$JS.API.STREAM.INFO.{stream}"),
            &serde_json::json!({}),
        ) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("there is no stream `{stream}` on {url}"),
                ))
            }
            other => other?,
        };
        self.last_at_connect = info
            .pointer("/state/last_seq")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let acknowledging = Acknowledging::for_retention(
            stream,
            info.pointer("/config/retention")
                .and_then(serde_json::Value::as_str),
        )?;
        let create = |conn: &mut Connection, name: &str, policy: &str| -> io::Result<()> {
            let mut config = serde_json::json!({
                "durable_name": name,
                "ack_policy": policy,
                // Acknowledged (if at all) per committed batch: a batch takes well under this.
                "ack_wait": 120_000_000_000u64,
                "max_ack_pending": -1,
                "replay_policy": "instant",
            });
            let start = if self.handed == 0 {
                serde_json::json!({ "deliver_policy": "all" })
            } else {
                serde_json::json!({ "deliver_policy": "by_start_sequence", "opt_start_seq": self.handed + 1 })
            };
            if let (Some(config), Some(start)) = (config.as_object_mut(), start.as_object()) {
                config.extend(start.clone());
            }
            conn.api(
                &format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{name}"),
                &serde_json::json!({ "stream_name": stream, "config": config }),
            )
            .map(drop)
        };
        let delete = |conn: &mut Connection, name: &str| -> io::Result<()> {
            match conn.api(
                &format!("$JS.API.CONSUMER.DELETE.{stream}.{name}"),
                &serde_json::json!({}),
            ) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other.map(drop),
            }
        };
        // On an interest stream, deleting the only consumer removes every message it had not
        // acknowledged, including those delivered before a crash and never committed. A
        // second consumer holds them meanwhile: it is created (at the position to resume
        // from) before the service's consumer is deleted, and deleted once that one is
        // created again. A holder left by a crash in between is kept as it is: it was created
        // at an earlier start, at or before this position, so it holds all that is needed.
        let holder = format!("{consumer}-resuming");
        if acknowledging == Acknowledging::Committed {
            match conn.api(
                &format!("$JS.API.CONSUMER.INFO.{stream}.{holder}"),
                &serde_json::json!({}),
            ) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    create(&mut conn, &holder, acknowledging.policy())?
                }
                other => drop(other?),
            }
        }
        delete(&mut conn, consumer)?;
        create(&mut conn, consumer, acknowledging.policy())?;
        if acknowledging == Acknowledging::Committed {
            delete(&mut conn, &holder)?;
        }
        // Messages received but not handed out are asked for again by the new consumer.
        self.ready.clear();
        Ok(Pull {
            conn,
            open: HashMap::new(),
            acknowledging,
        })
    }

    /// Acknowledges what the service has committed since the last call.
    fn acknowledge(pull: &mut Pull, unacked: &mut Unacked, committed: u64) -> io::Result<()> {
        if pull.acknowledging == Acknowledging::Nothing {
            return Ok(());
        }
        if let Some(subject) = unacked.take_upto(committed) {
            pull.conn.publish(&subject, None, &[], b"+ACK")?;
        }
        Ok(())
    }

    /// Reads what the server sends until a message is ready or `IDLE_AFTER` passes.
    fn receive(&mut self) -> io::Result<()> {
        let Some(pull) = self.pull.as_mut() else {
            return Ok(());
        };
        Self::acknowledge(
            pull,
            &mut self.unacked,
            self.committed.load(Ordering::SeqCst),
        )?;
        // A new request when the open ones expect less than a batch: the server always has
        // one to fill (pipelined), and never more than two wait.
        let expected: usize = pull.open.values().sum();
        if expected < PULL_BATCH {
            let reply = pull.conn.new_inbox();
            let sid = pull.conn.subscribe(&reply)?;
            let body = serde_json::json!({
                "batch": PULL_BATCH,
                "expires": PULL_EXPIRES.as_nanos() as u64,
            });
            pull.conn.publish(
                &format!(
                    "$JS.API.CONSUMER.MSG.NEXT.{}.{}",
                    self.sub.stream, self.sub.consumer
                ),
                Some(&reply),
                &[],
                body.to_string().as_bytes(),
            )?;
            pull.open.insert(sid, PULL_BATCH);
        }
        let started = Instant::now();
        let mut deadline = started + IDLE_AFTER;
        // Waits for a first message, then takes what has already arrived without waiting (a
        // deadline already past; not the clock read again for every message).
        while self.ready.len() < PULL_BATCH / 2 {
            let Some(msg) = pull.conn.next_message(deadline)? else {
                return Ok(());
            };
            deadline = started;
            let Some(left) = pull.open.get_mut(&msg.sid) else {
                continue; // a request that already ended
            };
            if let Some(status) = msg.status {
                // 404/408: the request ended without (more) messages; 409: it was cut short
                // (e.g. the consumer was deleted or changed): either way, it brings no more.
                pull.open.remove(&msg.sid);
                pull.conn.unsubscribe(msg.sid)?;
                if status == 409 && msg.headers.contains("Consumer Deleted") {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "the consumer was deleted on the server",
                    ));
                }
                continue;
            }
            *left -= 1;
            if *left == 0 {
                pull.open.remove(&msg.sid);
                pull.conn.unsubscribe(msg.sid)?;
            }
            let Some(d) = msg.reply.as_deref().and_then(delivery) else {
                continue;
            };
            self.pending = d.pending;
            if d.stream_seq <= self.handed
                || self.ready.back().is_some_and(|(s, _)| d.stream_seq <= *s)
            {
                continue; // delivered again: already handed out
            }
            if let Some(reply) = msg
                .reply
                .filter(|_| pull.acknowledging != Acknowledging::Nothing)
            {
                self.unacked.push(d.stream_seq, reply);
            }
            self.ready.push_back((d.stream_seq, msg.payload));
        }
        Ok(())
    }
}

impl Source for JetStreamSource {
    fn next_line(&mut self) -> io::Result<Next> {
        if self.ready.is_empty() {
            if self.pull.is_none() {
                self.pull = Some(self.connect()?);
            }
            if let Err(err) = self.receive() {
                // The next call connects again, from what was handed out.
                self.pull = None;
                self.unacked = Unacked::default();
                return Err(err);
            }
        }
        match self.ready.pop_front() {
            Some((seq, mut payload)) => {
                self.handed = seq;
                // One event per message; a trailing line end is the publisher's, not the event's.
                while payload.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    payload.pop();
                }
                Ok(Next::Line(payload))
            }
            None => Ok(Next::Idle),
        }
    }

    fn position(&self) -> Position {
        Position::Nats {
            stream: self.sub.stream.clone(),
            sequence: self.handed,
        }
    }

    fn behind(&self) -> Option<Lag> {
        Some(Lag::Events(self.pending + self.ready.len() as u64))
    }

    fn caught_up(&self) -> bool {
        self.pull.is_some() && self.ready.is_empty() && self.handed >= self.last_at_connect
    }

    /// Acknowledges the last commit, which comes after the source's end (`--until-eof`): waits
    /// for it until the service stops, then acknowledges what was committed. Otherwise the
    /// last batch would stay in an interest stream until the next start.
    fn finish(&mut self, stop: &AtomicBool) {
        let Some(pull) = self.pull.as_mut() else {
            return;
        };
        if pull.acknowledging == Acknowledging::Nothing {
            return;
        }
        while self.committed.load(Ordering::SeqCst) < self.handed && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let committed = self.committed.load(Ordering::SeqCst);
        if Self::acknowledge(pull, &mut self.unacked, committed).is_ok() {
            let _ = pull.conn.flush();
        }
    }
}

/// Creates the stream `name` capturing `subject` when there is none of that name (file
/// storage, the server's default limits).
pub fn ensure_stream(conn: &mut Connection, name: &str, subject: &str) -> io::Result<()> {
    match conn.api(
        &format!("$JS.API.STREAM.INFO.{name}"),
        &serde_json::json!({}),
    ) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => conn
            .api(
                &format!("$JS.API.STREAM.CREATE.{name}"),
                &serde_json::json!({ "name": name, "subjects": [subject], "storage": "file" }),
            )
            .map(drop),
        Err(e) => Err(e),
    }
}

/// How many publishes may wait for their acknowledgement at once.
const PUBLISH_WINDOW: usize = 2048;

/// Publishes each line as one message to `subject`, which a JetStream stream must capture, and
/// returns how many the stream acknowledged. Publishes are pipelined (up to
/// [`PUBLISH_WINDOW`] unacknowledged); every one is confirmed before this returns, and the first
/// refusal ends it with an error. Blank lines are skipped.
pub fn publish_lines(
    conn: &mut Connection,
    subject: &str,
    lines: impl Iterator<Item = io::Result<Vec<u8>>>,
) -> io::Result<u64> {
    let inbox = conn.new_inbox();
    let sid = conn.subscribe(&format!("{inbox}.*"))?;
    let (mut sent, mut acked) = (0u64, 0u64);
    let wait_for = |conn: &mut Connection, acked: &mut u64, until: u64| -> io::Result<()> {
        while *acked < until {
            let deadline = Instant::now() + super::nats::REQUEST_TIMEOUT;
            let Some(msg) = conn.next_message(deadline)? else {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the stream did not acknowledge a publish in time",
                ));
            };
            if msg.sid != sid {
                continue;
            }
            if msg.status == Some(503) {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no JetStream stream captures `{subject}`"),
                ));
            }
            let ack: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap_or_default();
            if let Some(err) = ack.get("error") {
                return Err(io::Error::other(format!("publish refused: {err}")));
            }
            *acked += 1;
        }
        Ok(())
    };
    for line in lines {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        sent += 1;
        conn.publish(subject, Some(&format!("{inbox}.{sent}")), &[], &line)?;
        if sent - acked >= PUBLISH_WINDOW as u64 {
            wait_for(conn, &mut acked, sent - PUBLISH_WINDOW as u64 / 2)?;
        }
    }
    wait_for(conn, &mut acked, sent)?;
    conn.unsubscribe(sid)?;
    Ok(acked)
}

#[cfg(test)]
mod tests {
    #[test]
    fn acknowledgements_follow_the_retention_and_a_work_queue_is_refused_with_the_reason() {
        use super::Acknowledging;
        for (retention, policy) in [
            (None, "none"),
            (Some("limits"), "none"),
            (Some("interest"), "all"),
        ] {
            let got = Acknowledging::for_retention("S", retention).expect("readable");
            assert_eq!(got.policy(), policy, "{retention:?}");
        }
        let err = Acknowledging::for_retention("DESK", Some("workqueue")).expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
        let text = err.to_string();
        assert!(
            text.contains("`DESK`") && text.contains("`workqueue`"),
            "{text}"
        );
        assert!(text.contains("limits or interest"), "{text}");
    }

    /// Any committed sequence is acknowledged up to a kept subject at or before it, and all of
    /// it once it reaches the latest received; a subject is used once.
    #[test]
    fn acknowledgements_cover_what_is_committed_with_few_subjects() {
        let mut unacked = super::Unacked::default();
        for seq in 1..=1000u64 {
            unacked.push(seq, format!("ack.{seq}"));
        }
        assert!(unacked.marks.len() <= 4, "{}", unacked.marks.len());
        assert_eq!(unacked.take_upto(0), None);
        assert_eq!(unacked.take_upto(300).as_deref(), Some("ack.256"));
        assert_eq!(unacked.take_upto(300), None);
        assert_eq!(unacked.take_upto(999).as_deref(), Some("ack.768"));
        assert_eq!(unacked.take_upto(1000).as_deref(), Some("ack.1000"));
        assert_eq!(unacked.take_upto(5000), None);
        unacked.push(1001, "ack.1001".into());
        assert_eq!(unacked.take_upto(1001).as_deref(), Some("ack.1001"));
    }
}
