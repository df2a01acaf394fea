//! `pledge serve` on NATS JetStream, end to end: a real `nats-server` with JetStream on a
//! loopback port (started and stopped by each test, in its own storage directory), the real
//! binary, events published as messages; crash recovery by `kill -9` at random moments while
//! the stream grows; alerts published to a stream exactly once per key across a restart; a
//! message that is not an event rejected once, never redelivered.
#![cfg(feature = "cli")]

mod common;
mod service;

use common::debian;
use pledge::serve::jetstream::{ensure_stream, publish_lines};
use pledge::serve::nats::Connection;
use serde_json::Value as Json;
use service::{metric, readme_block, root, shipped_policies, Lcg, Service, BIN};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `nats-server -js` on a free loopback port with its own storage directory; killed when
/// dropped.
struct NatsServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    fn start() -> NatsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(debian::require("nats-server", "nats-server"))
            .args(["-js", "-sd"])
            .arg(dir.path())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let url = format!("nats://127.0.0.1:{port}");
        let server = NatsServer {
            child,
            url,
            _dir: dir,
        };
        let start = Instant::now();
        loop {
            if let Ok(mut conn) = Connection::connect(&server.url) {
                // JetStream answers once it is ready.
                if conn.api("$JS.API.INFO", &serde_json::json!({})).is_ok() {
                    return server;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn connect(&self) -> Connection {
        Connection::connect(&self.url).expect("connect to nats-server")
    }

    /// Creates the stream `name` capturing `subject`, with file storage and this retention
    /// (`limits`, `interest` or `workqueue`).
    fn create_stream(&self, name: &str, subject: &str, retention: &str) {
        self.connect()
            .api(
                &format!("$JS.API.STREAM.CREATE.{name}"),
                &serde_json::json!({
                    "name": name,
                    "subjects": [subject],
                    "storage": "file",
                    "retention": retention,
                }),
            )
            .expect("stream");
    }

    /// Publishes lines to `subject` (captured by a stream), each acknowledged.
    fn publish(&self, subject: &str, lines: &[&[u8]]) -> u64 {
        let mut conn = self.connect();
        publish_lines(&mut conn, subject, lines.iter().map(|l| Ok(l.to_vec()))).expect("publish")
    }

    /// Every message of `stream`, in order.
    fn messages(&self, stream: &str) -> Vec<Json> {
        let mut conn = self.connect();
        let info = conn
            .api(
                &format!("$JS.API.STREAM.INFO.{stream}"),
                &serde_json::json!({}),
            )
            .expect("stream info");
        let last = info["state"]["last_seq"].as_u64().expect("last_seq");
        (1..=last)
            .map(|seq| {
                let got = conn
                    .api(
                        &format!("$JS.API.STREAM.MSG.GET.{stream}"),
                        &serde_json::json!({ "seq": seq }),
                    )
                    .expect("message");
                let data = got["message"]["data"].as_str().expect("data");
                let bytes = base64_decode(data);
                serde_json::from_slice(&bytes).expect("an alert is JSON")
            })
            .collect()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the JetStream API gives message data so).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.trim_end_matches('=').as_bytes().chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | value(c) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

fn get(url: &str) -> String {
    let answer = ureq::get(url)
        .timeout(Duration::from_secs(30))
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    answer.into_string().expect("a text body")
}

#[test]
fn after_kill_9_at_random_moments_a_stream_gives_the_report_of_a_batch_check() {
    // Limits retention (what `pledge publish --stream` creates): not acknowledged.
    let nats = NatsServer::start();
    ensure_stream(&mut nats.connect(), "EVENTS", "events.in").expect("stream");
    killed_at_random_moments(&nats);
}

#[test]
fn after_kill_9_at_random_moments_an_interest_stream_loses_nothing() {
    // Interest retention: a message leaves the stream once acknowledged, and the consumer is
    // deleted and created again at every start; what was delivered and not committed before
    // a kill must still come.
    let nats = NatsServer::start();
    nats.create_stream("EVENTS", "events.in", "interest");
    // A message published while no consumer is interested is dropped at once: the service's
    // consumer is there before the publisher starts, as a deployment on such a stream sets it up.
    nats.connect()
        .api(
            "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.pledge",
            &serde_json::json!({
                "stream_name": "EVENTS",
                "config": { "durable_name": "pledge", "ack_policy": "all", "deliver_policy": "all" },
            }),
        )
        .expect("consumer");
    let (published, args, _dir) = killed_at_random_moments(&nats);
    // The stream's messages, its consumers, and when the service's consumer was created.
    let state_of_stream = || {
        let mut conn = nats.connect();
        let info = conn
            .api("$JS.API.STREAM.INFO.EVENTS", &serde_json::json!({}))
            .expect("stream info");
        let names = conn
            .api("$JS.API.CONSUMER.NAMES.EVENTS", &serde_json::json!({}))
            .expect("consumer names");
        // Not found (null) while the service creates it anew.
        let created = conn
            .api(
                "$JS.API.CONSUMER.INFO.EVENTS.pledge",
                &serde_json::json!({}),
            )
            .map_or(Json::Null, |c| c["created"].clone());
        (
            info["state"]["messages"].as_u64(),
            names["consumers"].clone(),
            created,
        )
    };
    // The last run (`--until-eof`) acknowledged its last commit before it ended: nothing is
    // left in the stream.
    let (left, _, created) = state_of_stream();
    assert_eq!(left, Some(0), "messages left of {published}");
    assert!(created.is_string(), "{created}");
    // Started again, the service creates its consumer anew, with the holder meanwhile, and
    // deletes the holder once its consumer is there: waited for (a kill in between would
    // leave the holder, for the next start to keep and delete).
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = Service::start(&args);
    let start = Instant::now();
    let settled = |seen: &(Option<u64>, Json, Json)| {
        seen.0 == Some(0)
            && seen.1 == serde_json::json!(["pledge"])
            && seen.2.is_string()
            && seen.2 != created
    };
    let mut seen = state_of_stream();
    while !settled(&seen) && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        seen = state_of_stream();
    }
    drop(service);
    assert!(
        settled(&seen),
        "{seen:?}, the consumer created before at {created}"
    );
}

#[test]
fn a_work_queue_stream_ends_the_service_with_the_reason() {
    // Such a stream demands explicit acknowledgement of each message and delivery from the
    // first: the service cannot restart from its own position, so it says so and ends rather
    // than trying again forever.
    let nats = NatsServer::start();
    nats.create_stream("JOBS", "jobs.in", "workqueue");
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args(["serve", &shipped_policies()[0], "--state"])
        .arg(state.path())
        .args([
            "--nats",
            &nats.url,
            "--stream",
            "JOBS",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the service");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the service did not end on a work-queue stream");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("stream `JOBS` has `workqueue` retention"),
        "{stderr}"
    );
    assert!(!stderr.contains("trying again"), "{stderr}");
}

/// Publishes a generated stream in bursts while the service reads it and is killed at random
/// moments, then checks that the report equals a batch check; returns how many messages were
/// published, the service's arguments and the directory of its state.
fn killed_at_random_moments(nats: &NatsServer) -> (u64, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full.jsonl");
    let gen = Command::new(BIN)
        .args([
            "gen", "--cases", "900", "--days", "30", "--seed", "5", "--out",
        ])
        .arg(&full)
        .status()
        .expect("gen");
    assert!(gen.success());
    let text = std::fs::read_to_string(&full).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // A message that is not an event, and an event given twice (same id), in the middle:
    // rejected and counted once each, however often the service restarts.
    let mid = lines.len() / 2;
    let mut twice: Json = serde_json::from_str(&lines[mid]).expect("a generated event");
    twice["id"] = "given-twice".into();
    lines.insert(mid, twice.to_string());
    lines.insert(mid, twice.to_string());
    lines.insert(mid, "not an event".to_string());
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, lines.join("\n") + "\n").expect("events");

    let state = dir.path().join("state");
    let policies = shipped_policies();
    let mut args: Vec<&str> = policies.iter().map(String::as_str).collect();
    args.extend([
        "--state",
        state.to_str().unwrap(),
        "--nats",
        &nats.url,
        "--stream",
        "EVENTS",
        "--now-from-events",
        "--reorder-window",
        "2h",
        // Cases settle (and leave the store) while the stream is read.
        "--retain",
        "2d",
        "--commit-lines",
        "150",
        "--commit-ms",
        "30",
    ]);

    // A publisher puts the stream on NATS in uneven bursts while the service reads it and is
    // killed at random moments.
    let publisher = {
        let (url, lines) = (nats.url.clone(), lines.clone());
        std::thread::spawn(move || {
            let mut conn = Connection::connect(&url).expect("connect");
            let mut rng = Lcg(3);
            let mut at = 0;
            while at < lines.len() {
                let n = (1 + rng.below(60) as usize).min(lines.len() - at);
                let burst = lines[at..at + n].iter().map(|l| Ok(l.clone().into_bytes()));
                publish_lines(&mut conn, "events.in", burst).expect("publish");
                at += n;
                std::thread::sleep(Duration::from_millis(40));
            }
        })
    };
    let mut rng = Lcg(2026);
    let total = lines.len() as f64;
    let mut seen = Vec::new();
    for _ in 0..7 {
        let service = Service::start(&args);
        std::thread::sleep(Duration::from_millis(200 + rng.below(800)));
        let m = get(&format!("{}/metrics", service.url));
        seen.push(metric(&m, "pledge_events_accepted_total"));
        drop(service); // SIGKILL
    }
    publisher.join().expect("publisher");
    let midway = seen.iter().filter(|&&n| n > 0.0 && n < total - 4.0).count();
    assert!(
        midway >= 4,
        "accepted events at the kills: {seen:?} of {total}"
    );
    let mut last = args.clone();
    last.push("--until-eof");
    let status = Service::start(&last).wait(Duration::from_secs(120));
    assert!(status.success(), "{status:?}");

    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    let check = |events: &Path| -> String {
        let batch = Command::new(BIN)
            .arg("check")
            .args(&policies)
            .arg("--events")
            .arg(events)
            .args([
                "--format",
                "json",
                "--reorder-window",
                "2h",
                "--retain",
                "2d",
            ])
            .output()
            .expect("check");
        String::from_utf8(batch.stdout).expect("utf-8")
    };
    let summary_of = |report: &str| -> Json {
        serde_json::from_str::<Json>(report).expect("json")["summary"].clone()
    };
    let expected = check(&events);
    let (summary, generated) = (summary_of(&expected), summary_of(&check(&full)));
    // The message that is not an event, and the event given twice, are counted once each (a
    // duplicate is a rejected line too).
    for (count, more) in [("rejected", 2), ("duplicates", 1), ("lines", 3)] {
        assert_eq!(
            summary[count].as_u64(),
            generated[count].as_u64().map(|n| n + more),
            "{count}"
        );
    }
    assert!(
        summary["breached"].as_u64() > Some(50),
        "{}",
        summary["breached"]
    );
    assert!(
        got == expected,
        "the service's report differs from the batch check"
    );

    // The consumer acknowledged what was committed: nothing is left to redeliver.
    let info = nats
        .connect()
        .api(
            "$JS.API.CONSUMER.INFO.EVENTS.pledge",
            &serde_json::json!({}),
        )
        .expect("consumer info");
    assert_eq!(info["num_pending"], 0, "{info}");
    let args = args.iter().map(|a| a.to_string()).collect();
    (lines.len() as u64, args, dir)
}

const DESK: &str = r#"policy "desk" {
  deadline contact "投诉1小时内联系客户" {
    when kind == "complaint"
    until contacted
    within 1 hour
    after 48 hours escalate project_manager
  }
}
"#;

fn event(ticket: &str, day: u32, hm: &str, kind: &str, attrs: &str) -> String {
    format!(
        r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T{hm}:00+08:00","type":"{kind}","attrs":{{{attrs}}}}}"#
    )
}

#[test]
fn alerts_reach_a_stream_once_per_key_across_a_restart() {
    let nats = NatsServer::start();
    let mut conn = nats.connect();
    ensure_stream(&mut conn, "EVENTS", "events.in").expect("events stream");
    ensure_stream(&mut conn, "ALERTS", "pledge.alerts").expect("alerts stream");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let state = dir.path().join("state");
    let args = [
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--nats",
        &nats.url,
        "--stream",
        "EVENTS",
        "--alerts-subject",
        "pledge.alerts",
        "--now-from-events",
        "--commit-ms",
        "20",
    ];
    let first = [
        event("A", 2, "09:00", "opened", r#""kind":"complaint""#),
        event("B", 2, "09:30", "opened", r#""kind":"complaint""#),
        event("B", 2, "09:40", "contacted", ""),
        // Two days later: A breached at 10:00 on the 2nd and its 48-hour stage fired.
        event("Z", 4, "12:00", "opened", r#""kind":"repair""#),
    ];
    nats.publish(
        "events.in",
        &first.iter().map(|l| l.as_bytes()).collect::<Vec<_>>(),
    );
    let service = Service::start(&args);
    let url = service.url.clone();
    let expected: BTreeMap<String, usize> = [
        ("breached/desk/contact/A/1".to_string(), 1),
        ("stage/desk/contact/A/1/1".to_string(), 1),
    ]
    .into();
    let keys = |messages: &[Json]| -> BTreeMap<String, usize> {
        let mut keys = BTreeMap::new();
        for m in messages {
            *keys
                .entry(m["key"].as_str().expect("key").to_string())
                .or_default() += 1;
        }
        keys
    };
    let start = Instant::now();
    while keys(&nats.messages("ALERTS")) != expected {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            nats.messages("ALERTS")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let start = Instant::now();
    while metric(
        &get(&format!("{url}/metrics")),
        "pledge_alerts_pending{target=\"nats\"}",
    ) != 0.0
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the outbox never emptied"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stage = nats
        .messages("ALERTS")
        .into_iter()
        .find(|m| m["alert"] == "stage")
        .expect("a stage alert");
    assert_eq!(stage["role"], "project_manager", "{stage}");
    assert_eq!(stage["ticket"], "A", "{stage}");

    // A crash and a restart, more events: nothing is raised or published again.
    drop(service);
    let service = Service::start(&args);
    nats.publish(
        "events.in",
        &[event("Y", 5, "12:00", "opened", r#""kind":"repair""#).as_bytes()],
    );
    let start = Instant::now();
    while metric(
        &get(&format!("{}/metrics", service.url)),
        "pledge_events_accepted_total",
    ) < 5.0
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the new event was not read"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(keys(&nats.messages("ALERTS")), expected);
    let summary: Json =
        serde_json::from_str(&get(&format!("{}/summary", service.url))).expect("summary");
    assert_eq!(summary["accepted"], 5, "{summary}");
}

/// The README's JetStream example, as written but for the ports (the test's own server, a port
/// the system chooses) and the directories (temporary), and `--until-eof` so that it ends: the
/// report equals `pledge check` of the example.
#[test]
fn the_readme_jetstream_example_works_as_written() {
    let nats = NatsServer::start();
    let script = readme_block("### NATS JetStream", "sh").replace("\\\n", " ");
    let commands: Vec<Vec<&str>> = script
        .lines()
        .map(|l| l.split_whitespace().filter(|w| *w != "&").collect())
        .collect();
    assert_eq!(commands.len(), 3, "{script}");
    assert_eq!(
        commands[0][0], "nats-server",
        "the first line starts the server"
    );
    let port = nats.url.rsplit(':').next().expect("port");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("desk-state");
    let localize = |words: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        let mut words = words.iter().skip(1); // `pledge`
        while let Some(w) = words.next() {
            match *w {
                "--state" => {
                    words.next();
                    out.extend(["--state".into(), state.display().to_string()]);
                }
                "--listen" => {
                    words.next();
                    out.extend(["--listen".into(), "127.0.0.1:0".into()]);
                }
                path if path.starts_with("policies/") || path.starts_with("examples/") => {
                    out.push(root(path).display().to_string())
                }
                other => out.push(other.replace(":4222", &format!(":{port}"))),
            }
        }
        out
    };
    assert_eq!(commands[1][..2], ["pledge", "publish"]);
    let published = Command::new(BIN)
        .args(localize(&commands[1]))
        .output()
        .expect("publish");
    assert!(published.status.success(), "{published:?}");
    assert_eq!(
        String::from_utf8_lossy(&published.stderr).trim(),
        "published 50 events to `desk.events`"
    );
    assert_eq!(commands[2][..2], ["pledge", "serve"]);
    let mut serve = localize(&commands[2]);
    let at = serve
        .iter()
        .position(|w| w == "--listen")
        .expect("--listen");
    serve.drain(at..at + 2); // Service::start listens on a port the system chooses
    serve.push("--until-eof".into());
    let args: Vec<&str> = serve[1..].iter().map(String::as_str).collect(); // after `serve`
    let status = Service::start(&args).wait(Duration::from_secs(60));
    assert!(status.success(), "{status:?}");
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    let policies: Vec<&String> = serve.iter().filter(|w| w.ends_with(".pledge")).collect();
    assert_eq!(policies.len(), 2);
    let batch = Command::new(BIN)
        .arg("check")
        .args(&policies)
        .arg("--events")
        .arg(root("examples/service-desk.jsonl"))
        .args(["--format", "json", "--reorder-window", "1min"])
        .output()
        .expect("check");
    assert!(
        got == String::from_utf8(batch.stdout).expect("utf-8"),
        "{got}"
    );
}

/// Scale-out on one stream: three instances, each `--partition i/3` with a consumer of its own,
/// and one instance alone read the same stream; `pledge report --merge` of the three equals the
/// report of the one, with a repeat pair whose complaints fall in different partitions.
#[test]
fn three_partitions_of_a_stream_merge_into_the_report_of_one_instance() {
    let nats = NatsServer::start();
    ensure_stream(&mut nats.connect(), "EVENTS", "events.in").expect("stream");
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full.jsonl");
    let gen = Command::new(BIN)
        .args([
            "gen", "--cases", "400", "--days", "30", "--seed", "8", "--out",
        ])
        .arg(&full)
        .status()
        .expect("gen");
    assert!(gen.success());
    let find = |p: u32| {
        (0..)
            .map(|i| format!("RC-{i}"))
            .find(|t| pledge::Partition::of(t, 3) == p)
            .expect("a ticket")
    };
    let (first, second) = (find(0), find(2));
    let complaint = |ticket: &str, hour: u32| {
        format!(
            r#"{{"ticket":"{ticket}","at":"2026-01-01T{hour:02}:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","project":"P-test","unit":"Z-9-999","topic":"漏水","urgency":"normal"}}}}"#
        )
    };
    // At the head of the stream (its first events are later): a pair one hour apart.
    let mut lines = vec![complaint(&first, 0), complaint(&second, 1)];
    lines.extend(
        std::fs::read_to_string(&full)
            .expect("read")
            .lines()
            .map(str::to_string),
    );
    let refs: Vec<&[u8]> = lines.iter().map(String::as_bytes).collect();
    assert_eq!(nats.publish("events.in", &refs), lines.len() as u64);

    let policies = shipped_policies();
    let run = |name: &str, partition: Option<String>| {
        let state = dir.path().join(name);
        let mut args: Vec<String> = policies.clone();
        args.extend(
            [
                "--state",
                state.to_str().unwrap(),
                "--nats",
                &nats.url,
                "--stream",
                "EVENTS",
                "--now-from-events",
                "--until-eof",
            ]
            .map(String::from),
        );
        if let Some(p) = partition {
            args.extend(["--partition".to_string(), p]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let status = Service::start(&args).wait(Duration::from_secs(120));
        assert!(status.success(), "{name}: {status:?}");
        state.display().to_string()
    };
    // One after the other: each creates its own consumer (`pledge-i-of-3`, `pledge`).
    let parts: Vec<String> = (0..3)
        .map(|i| run(&format!("p{i}"), Some(format!("{i}/3"))))
        .collect();
    let one = run("one", None);
    let report = |dirs: &[&str]| -> String {
        let out = Command::new(BIN)
            .arg("report")
            .args(&policies)
            .args(["--format", "json", "--merge"])
            .args(dirs)
            .output()
            .expect("report");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let merged = report(&[&parts[1], &parts[0], &parts[2]]);
    assert!(
        merged == report(&[&one]),
        "3 partitions against one instance"
    );
    let doc: Json = serde_json::from_str(&merged).expect("json");
    let repeat = doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["clause"] == "repeat_complaint" && r["period"] == "2026-01")
        .expect("the repeat row");
    assert!(repeat["actions"].as_u64() >= Some(1), "{repeat}");
    // The pair is a repeat: the action of the second complaint names the first.
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, lines.join("\n") + "\n").expect("events");
    let check = Command::new(BIN)
        .arg("check")
        .args(&policies)
        .args(["--format", "jsonl", "--events"])
        .arg(&events)
        .output()
        .expect("check");
    let named = String::from_utf8(check.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .any(|r| r["ticket"] == second.as_str() && r.to_string().contains(&first));
    assert!(named, "the repeat action of {second} names {first}");
    let consumers = nats
        .connect()
        .api("$JS.API.CONSUMER.NAMES.EVENTS", &serde_json::json!({}))
        .expect("consumer names");
    let mut names: Vec<&str> = consumers["consumers"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["pledge", "pledge-0-of-3", "pledge-1-of-3", "pledge-2-of-3"]
    );
}
