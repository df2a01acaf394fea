//! `pledge serve` end to end: the real binary on a loopback port, a real HTTP client, a webhook
//! receiver on loopback; crash recovery by `kill -9` at random moments; alerts delivered once
//! per key across a restart.
#![cfg(feature = "cli")]

mod service;

use service::{metric, readme_block, root, Lcg, Service, BIN};

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// (status, body) of a request; `token` adds `Authorization: Bearer`.
fn request(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let mut req = ureq::request(method, url).timeout(Duration::from_secs(30));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let got = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    match got {
        Ok(r) => (r.status(), r.into_string().expect("body")),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

fn get_json(url: &str, token: Option<&str>) -> Json {
    let (status, body) = request("GET", url, token, None);
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

/// A webhook receiver on loopback: keeps every (Idempotency-Key, body) it was sent.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, Json)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::failing_every(0)
    }

    /// A receiver that answers every `n`th request 500 and keeps nothing of it (`0`: none).
    fn failing_every(n: usize) -> Receiver {
        Receiver::with(n, Duration::ZERO)
    }

    /// A receiver that takes `delay` over each request, as one across a network does.
    fn slow(delay: Duration) -> Receiver {
        Receiver::with(0, delay)
    }

    fn with(n: usize, delay: Duration) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (Arc::clone(&got), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut requests = 0;
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).expect("blocking");
                        stream
                            .set_read_timeout(Some(Duration::from_secs(5)))
                            .expect("timeout");
                        requests += 1;
                        std::thread::sleep(delay);
                        let fail = n > 0 && requests % n == 0;
                        if let Some(hit) = receive(stream, fail) {
                            g.lock().expect("lock").push(hit);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver {
            url,
            got,
            stop,
            thread: Some(thread),
        }
    }

    fn keys(&self) -> BTreeMap<String, usize> {
        let mut keys = BTreeMap::new();
        for (k, _) in self.got.lock().expect("lock").iter() {
            *keys.entry(k.clone()).or_insert(0) += 1;
        }
        keys
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP request, answers 200; returns its idempotency key and JSON body.
fn receive(mut stream: std::net::TcpStream, fail: bool) -> Option<(String, Json)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut key = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "idempotency-key" => key = value.trim().to_string(),
                "content-length" => length = value.trim().parse().ok()?,
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    if fail {
        let _ = stream.write_all(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return None;
    }
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    Some((key, serde_json::from_slice(&body).ok()?))
}

/// Polls `cond` every 50 ms for at most `limit`.
fn eventually(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
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

/// 24 complaints never contacted, then an event three hours later: 24 breaches, known only at
/// the last line.
fn unanswered_complaints() -> Vec<String> {
    let mut lines: Vec<String> = (0..24)
        .map(|i| {
            event(
                &format!("C{i:02}"),
                2,
                "09:00",
                "opened",
                r#""kind":"complaint""#,
            )
        })
        .collect();
    lines.push(event("Z", 2, "12:00", "opened", r#""kind":"inquiry""#));
    lines
}

fn event(ticket: &str, day: u32, hm: &str, kind: &str, attrs: &str) -> String {
    format!(
        r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T{hm}:00+08:00","type":"{kind}","attrs":{{{attrs}}}}}"#
    )
}

#[test]
fn the_api_answers_and_an_alert_is_delivered_once_per_key_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let state = dir.path().join("state");
    let hook = Receiver::start();
    let args = [
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
        "--webhook",
        &hook.url,
        "--now-from-events",
        "--max-body",
        "2000",
        "--commit-ms",
        "20",
    ];
    let service = Service::start(&args);
    let url = service.url.clone();
    let tok = Some("s3cret");

    // Every endpoint asks for the token; POST without it is refused.
    assert_eq!(request("GET", &format!("{url}/healthz"), None, None).0, 401);
    let (status, _) = request("POST", &format!("{url}/events"), Some("wrong"), Some("{}"));
    assert_eq!(status, 401);
    assert_eq!(get_json(&format!("{url}/healthz"), tok)["status"], "ok");
    // A 401 says how to authenticate, a 405 which method the endpoint takes.
    let header = |method: &str, path: &str, token: Option<&str>, name: &str| {
        let mut req = ureq::request(method, &format!("{url}{path}"));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        match req.call() {
            Err(ureq::Error::Status(code, r)) => (code, r.header(name).map(str::to_string)),
            other => panic!("{method} {path}: {other:?}"),
        }
    };
    assert_eq!(
        header("GET", "/summary", None, "WWW-Authenticate"),
        (401, Some("Bearer".to_string()))
    );
    assert_eq!(
        header("DELETE", "/summary", tok, "Allow"),
        (405, Some("GET".to_string()))
    );
    assert_eq!(
        header("GET", "/events", tok, "Allow"),
        (405, Some("POST".to_string()))
    );

    // A body is validated like `pledge check` input: rejected lines by number, the rest taken.
    let body = [
        event(
            "A",
            2,
            "09:00",
            "opened",
            r#""kind":"complaint","project":"north""#,
        ),
        "{not json".to_string(),
        event(
            "B",
            2,
            "09:30",
            "opened",
            r#""kind":"complaint","project":"south""#,
        ),
        event("B", 2, "09:40", "contacted", ""),
    ]
    .join("\n");
    let (status, answer) = request("POST", &format!("{url}/events"), tok, Some(&body));
    assert_eq!(status, 200, "{answer}");
    let answer: Json = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["accepted"], 3, "{answer}");
    assert_eq!(answer["rejected"][0]["line"], 2, "{answer}");
    assert!(answer["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    let big = "x".repeat(3000);
    assert_eq!(
        request("POST", &format!("{url}/events"), tok, Some(&big)).0,
        413
    );

    // Two days later: A breached at 10:00 on the 2nd and its 48-hour stage fired.
    let later = event("Z", 4, "12:00", "opened", r#""kind":"repair""#);
    let (status, answer) = request("POST", &format!("{url}/events"), tok, Some(&later));
    assert_eq!(status, 200, "{answer}");
    let agenda = get_json(&format!("{url}/agenda?within=4h"), tok);
    assert_eq!(agenda["counts"]["overdue"], 1, "{agenda}");
    assert_eq!(agenda["items"][0]["ticket"], "A", "{agenda}");
    let listed = agenda["items"].as_array().map_or(0, Vec::len);
    assert_eq!(agenda["total_items"], listed, "{agenda}");
    // A limit shortens the list, never the counts.
    let none = get_json(&format!("{url}/agenda?within=4h&limit=0"), tok);
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");
    assert_eq!(none["counts"], agenda["counts"], "{none}");
    assert_eq!(none["total_items"], listed, "{none}");
    let all = get_json(&format!("{url}/agenda?within=4h&limit=all"), tok);
    assert_eq!(all["items"], agenda["items"], "{all}");
    let (status, bad) = request("GET", &format!("{url}/agenda?limit=many"), tok, None);
    assert_eq!(status, 400, "{bad}");
    let south = get_json(&format!("{url}/agenda?within=4h&project=south"), tok);
    assert_eq!(south["items"].as_array().map(Vec::len), Some(0), "{south}");
    let north = get_json(&format!("{url}/agenda?within=4h&project=north"), tok);
    assert_eq!(north["items"][0]["ticket"], "A", "{north}");
    assert_eq!(north["items"][0]["project"], "north", "{north}");
    assert_eq!(north["by_project"][0]["project"], "north", "{north}");
    let case = get_json(&format!("{url}/cases/A"), tok);
    assert_eq!(case["verdicts"][0]["status"], "breached", "{case}");
    assert!(
        case["why"].as_str().is_some_and(|w| w.contains("contact")),
        "{case}"
    );
    assert_eq!(
        request("GET", &format!("{url}/cases/nobody"), tok, None).0,
        404
    );
    let summary = get_json(&format!("{url}/summary"), tok);
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["rejected"], 1, "{summary}");
    assert_eq!(summary["breached"], 1, "{summary}");

    let expected: BTreeMap<String, usize> = [
        ("breached/desk/contact/A/1".to_string(), 1),
        ("stage/desk/contact/A/1/1".to_string(), 1),
    ]
    .into();
    eventually(Duration::from_secs(20), "two alerts", || {
        hook.keys() == expected
    });
    eventually(Duration::from_secs(20), "an empty outbox", || {
        let (_, m) = request("GET", &format!("{url}/metrics"), tok, None);
        metric(&m, "pledge_alerts_pending{target=\"webhook\"}") == 0.0
    });
    let (_, m) = request("GET", &format!("{url}/metrics"), tok, None);
    assert_eq!(metric(&m, "pledge_events_accepted_total"), 4.0, "{m}");
    assert_eq!(metric(&m, "pledge_events_rejected_total"), 1.0, "{m}");
    assert!(
        m.contains("pledge_breaches{policy=\"desk\",clause=\"contact\"} 1"),
        "{m}"
    );
    let stage = hook
        .got
        .lock()
        .expect("lock")
        .iter()
        .find(|(k, _)| k.starts_with("stage/"))
        .map(|(_, b)| b.clone())
        .expect("a stage alert");
    assert_eq!(stage["alert"], "stage", "{stage}");
    assert_eq!(stage["key"], "stage/desk/contact/A/1/1", "{stage}");
    assert_eq!(stage["role"], "project_manager", "{stage}");

    // A crash and a restart: nothing is raised or delivered again, the state is all there, and
    // the case is explained from the events the store kept for it exactly as before.
    let before = get_json(&format!("{url}/cases/A"), tok);
    service.kill();
    let service = Service::start(&args);
    let url = service.url.clone();
    let after = get_json(&format!("{url}/cases/A"), tok);
    assert_eq!(after, before);
    let more = event("Y", 5, "12:00", "opened", r#""kind":"repair""#);
    assert_eq!(
        request("POST", &format!("{url}/events"), tok, Some(&more)).0,
        200
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(hook.keys(), expected);
    let summary = get_json(&format!("{url}/summary"), tok);
    assert_eq!(summary["accepted"], 5, "{summary}");
    // In a path a `+` is itself, not a space (that is a query's form encoding).
    let plus = event("T+1", 5, "12:01", "opened", r#""kind":"repair""#);
    assert_eq!(
        request("POST", &format!("{url}/events"), tok, Some(&plus)).0,
        200
    );
    for path in ["/cases/T+1", "/cases/T%2B1"] {
        let case = get_json(&format!("{url}{path}"), tok);
        assert_eq!(case["ticket"], "T+1", "{path}: {case}");
    }
    // A ticket that is not UTF-8 once decoded, and a raw UTF-8 query (not valid HTTP), are
    // answered 400, not guessed at or dropped without an answer.
    assert_eq!(
        request("GET", &format!("{url}/cases/%FF"), tok, None).0,
        400
    );
    let raw = |target: &str| {
        use std::io::{Read, Write};
        let address = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n"
        )
        .expect("write");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    let answer = raw("/agenda?project=金地");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// A service of the desk policy in `dir`, taking events over HTTP with the token `s3cret`
/// and committing every 20 ms, with `extra` options.
fn desk_service(dir: &std::path::Path, extra: &[&str]) -> Service {
    let policy = dir.join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let state = dir.join("state");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let mut args = vec![
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
        "--commit-ms",
        "20",
    ];
    args.extend_from_slice(extra);
    Service::start(&args)
}

/// A case that settled (closed, its retention over) with a clock still running is no longer
/// kept, yet `GET /cases` gives the verdict `pledge check` gives it: judged as of now.
#[test]
fn a_settled_case_with_a_running_clock_is_answered_with_its_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = desk_service(dir.path(), &["--now-from-events", "--retain", "2d"]);
    let (url, tok) = (service.url.clone(), Some("s3cret"));
    let body = [
        event("A", 2, "10:00", "opened", r#""kind":"complaint""#),
        event("A", 2, "10:10", "closed", ""),
        // A week later: A's retention is over and it settled, never contacted.
        event("B", 9, "10:00", "opened", r#""kind":"complaint""#),
        event("B", 9, "10:05", "contacted", ""),
    ]
    .join("\n");
    let (status, answer) = request("POST", &format!("{url}/events"), tok, Some(&body));
    assert_eq!(status, 200, "{answer}");
    let (_, m) = request("GET", &format!("{url}/metrics"), tok, None);
    assert_eq!(metric(&m, "pledge_open_cases"), 1.0, "A settled: {m}");
    let case = get_json(&format!("{url}/cases/A"), tok);
    assert_eq!(case["open"], false, "{case}");
    let verdicts = case["verdicts"].as_array().expect("verdicts");
    assert_eq!(verdicts.len(), 1, "{case}");
    assert_eq!(verdicts[0]["status"], "breached", "{case}");
    assert_eq!(verdicts[0]["stop"], Json::Null, "{case}");
    // Judged as of the latest event, as `pledge check` judges it at the end.
    assert_eq!(
        verdicts[0]["overdue_seconds"],
        7 * 86400 + 300 - 3600,
        "{case}"
    );
    let b = get_json(&format!("{url}/cases/B"), tok);
    assert_eq!(b["open"], true, "{b}");
    assert_eq!(b["verdicts"][0]["status"], "met", "{b}");
}

/// A rejected line of a body is numbered in the body, and so is the line a duplicate repeats
/// when it is in the same body; one in an earlier body is named by its line in the stream.
#[test]
fn a_duplicate_names_its_first_line_as_the_body_numbers_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = desk_service(dir.path(), &[]);
    let (url, tok) = (service.url.clone(), Some("s3cret"));
    let with_id = |ticket: &str, hm: &str, kind: &str, id: &str| {
        format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-02T{hm}:00+08:00","type":"{kind}","id":"{id}"}}"#
        )
    };
    let first = [
        with_id("A", "09:00", "opened", "a1"),
        with_id("A", "09:10", "contacted", "a2"),
    ]
    .join("\n");
    assert_eq!(
        request("POST", &format!("{url}/events"), tok, Some(&first)).0,
        200
    );
    let second = [
        with_id("B", "09:20", "opened", "b1"),
        with_id("B", "09:30", "contacted", "b2"),
        with_id("A", "09:10", "contacted", "a2"),
        with_id("B", "09:30", "contacted", "b2"),
    ]
    .join("\n");
    let (status, answer) = request("POST", &format!("{url}/events"), tok, Some(&second));
    assert_eq!(status, 200, "{answer}");
    let answer: Json = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["rejected"][0]["line"], 3, "{answer}");
    assert_eq!(
        answer["rejected"][0]["reason"],
        "duplicate event id `a2`, first seen in an earlier body (line 2 of the stream)"
    );
    assert_eq!(answer["rejected"][1]["line"], 4, "{answer}");
    assert_eq!(
        answer["rejected"][1]["reason"],
        "duplicate event id `b2`, first seen on line 2"
    );
}

/// Bodies POSTed together share one commit (group commit): each is answered once the commit
/// that covers it is done, long before the commit interval, and both are there after `kill -9`.
#[test]
fn concurrent_posts_share_a_commit_and_are_both_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let state = dir.path().join("state");
    let args = [
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
        "--now-from-events",
        // A commit interval far longer than the test: an answer comes from the group commit.
        "--commit-ms",
        "600000",
        "--commit-lines",
        "1000000",
    ];
    let service = Service::start(&args);
    let url = service.url.clone();
    let tok = Some("s3cret");
    let body = |client: u32| -> String {
        (0..400)
            .map(|i| {
                let ticket = format!("C{client}-{i}");
                let hm = format!("{:02}:{:02}", 8 + i / 60, i % 60);
                event(&ticket, 2, &hm, "opened", r#""kind":"complaint""#)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let started = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let (url, body) = (url.clone(), body(client));
            std::thread::spawn(move || request("POST", &format!("{url}/events"), tok, Some(&body)))
        })
        .collect();
    for client in clients {
        let (status, answer) = client.join().expect("client");
        assert_eq!(status, 200, "{answer}");
        let answer: Json = serde_json::from_str(&answer).expect("json");
        assert_eq!(answer["accepted"], 400, "{answer}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let (_, m) = request("GET", &format!("{url}/metrics"), tok, None);
    let batches = metric(&m, "pledge_batches_committed_total");
    assert!((1.0..=2.0).contains(&batches), "{m}");
    assert_eq!(metric(&m, "pledge_events_accepted_total"), 800.0, "{m}");

    service.kill();
    let service = Service::start(&args);
    let summary = get_json(&format!("{}/summary", service.url), tok);
    assert_eq!(summary["accepted"], 800, "{summary}");
    assert_eq!(summary["lines"], 800, "{summary}");
}

/// Sends raw bytes on a new connection and returns what comes back before the server closes
/// it or `limit` passes (the status line is enough here).
fn raw_exchange(url: &str, bytes: &[u8], limit: Duration) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(limit)).expect("timeout");
    stream.write_all(bytes).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// A request's declared `Content-Length` is the client's word, never an allocation: requests
/// declaring 100 TB and 2^64 − 1 bytes while sending three, with and without the token, on
/// several threads' worth of connections, get their answer and the service goes on answering
/// (with the HTTP library as published, the first aborted the process and the second killed
/// the thread answering it). An empty or missing body is an empty batch, not a failure.
#[test]
fn hostile_content_lengths_and_empty_bodies_leave_the_service_answering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let state = dir.path().join("state");
    let service = Service::start(&[
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    let url = service.url.clone();
    let tok = Some("s3cret");
    let limit = Duration::from_secs(10);
    for _ in 0..2 {
        for declared in ["100000000000000", "18446744073709551615"] {
            for (path, auth) in [
                ("GET /healthz", ""),
                ("POST /events", ""),
                ("POST /events", "Authorization: Bearer s3cret\r\n"),
            ] {
                let head = format!(
                    "{path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {declared}\r\n\r\nabc"
                );
                let answer = raw_exchange(&url, head.as_bytes(), limit);
                assert!(
                    answer.starts_with("HTTP/1.1 "),
                    "{path} {declared}: {answer:?}"
                );
            }
        }
    }
    assert_eq!(get_json(&format!("{url}/healthz"), tok)["status"], "ok");
    for body in ["", "\n", "\r\n\n"] {
        let (status, answer) = request("POST", &format!("{url}/events"), tok, Some(body));
        assert_eq!(status, 200, "body {body:?}: {answer}");
        let answer: Json = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["accepted"], 0, "{answer}");
        assert_eq!(answer["rejected"], Json::Array(Vec::new()), "{answer}");
    }
    let none = raw_exchange(
        &url,
        b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n",
        limit,
    );
    assert!(none.starts_with("HTTP/1.1 200"), "{none:?}");
    // Still answering, with every line of a real body counted.
    let (status, answer) = request(
        "POST",
        &format!("{url}/events"),
        tok,
        Some(&event("T-1", 2, "09:00", "opened", r#""kind":"repair""#)),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"accepted\": 1"), "{answer}");
    service.kill();
}

#[test]
fn a_non_loopback_address_or_post_without_a_token_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let state = dir.path().join("state");
    for extra in [
        &["--post", "--listen", "127.0.0.1:0"][..],
        &["--post", "--listen", "0.0.0.0:0"],
    ] {
        let out = Command::new(BIN)
            .arg("serve")
            .arg(&policy)
            .arg("--state")
            .arg(&state)
            .args(extra)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--token-file"), "{err}");
    }
}

#[test]
fn after_kill_9_at_random_moments_the_report_equals_a_batch_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full.jsonl");
    let gen = Command::new(BIN)
        .args([
            "gen", "--cases", "400", "--days", "30", "--seed", "11", "--out",
        ])
        .arg(&full)
        .status()
        .expect("gen");
    assert!(gen.success());
    let mut text = std::fs::read(&full).expect("read");
    // A bad line and an event given twice (same id) in the middle: rejected once each, not
    // once per restart.
    let mid = text.len() / 2;
    let cut = mid + text[mid..].iter().position(|&b| b == b'\n').expect("line") + 1;
    let next = cut + text[cut..].iter().position(|&b| b == b'\n').expect("line");
    let mut twice: Json = serde_json::from_slice(&text[cut..next]).expect("a generated event");
    twice["id"] = "given-twice".into();
    let twice = format!("{twice}\n");
    let tail = text.split_off(cut);
    text.extend_from_slice(b"{broken\n");
    text.extend_from_slice(twice.as_bytes());
    text.extend_from_slice(twice.as_bytes());
    text.extend_from_slice(&tail);
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, b"").expect("create");
    let state = dir.path().join("state");
    let policy_args = service::shipped_policies();
    let mut args: Vec<String> = policy_args.clone();
    args.extend(
        [
            "--state",
            state.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--now-from-events",
            "--reorder-window",
            "2h",
            // Cases settle (and leave the store) while the stream is read.
            "--retain",
            "2d",
            "--commit-lines",
            "200",
            "--commit-ms",
            "30",
        ]
        .map(String::from),
    );
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();

    // A writer appends the stream in uneven pieces (cutting lines in two) while the service
    // follows it and is killed at random moments.
    let writer = {
        let (events, text) = (events.clone(), text.clone());
        std::thread::spawn(move || {
            let mut rng = Lcg(7);
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&events)
                .expect("open");
            let mut at = 0;
            while at < text.len() {
                let n = (1 + rng.below(3_000) as usize).min(text.len() - at);
                file.write_all(&text[at..at + n]).expect("append");
                file.flush().expect("flush");
                at += n;
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut rng = Lcg(2026);
    let started = Instant::now();
    let total = text.iter().filter(|&&b| b == b'\n').count() as f64;
    let mut seen = Vec::new();
    for _ in 0..8 {
        let service = Service::start(&args_ref);
        std::thread::sleep(Duration::from_millis(150 + rng.below(900)));
        let (_, m) = request("GET", &format!("{}/metrics", service.url), None, None);
        seen.push(metric(&m, "pledge_events_accepted_total"));
        service.kill();
    }
    writer.join().expect("writer");
    // The kills came while the stream was being read, not after.
    let midway = seen.iter().filter(|&&n| n > 0.0 && n < total - 3.0).count();
    assert!(
        midway >= 5,
        "accepted events at the kills: {seen:?} of {total}"
    );
    let mut last = args_ref.clone();
    last.push("--until-eof");
    let status = Service::start(&last).wait(Duration::from_secs(120));
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(150));

    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    let batch = Command::new(BIN)
        .arg("check")
        .args(&policy_args)
        .arg("--events")
        .arg(&events)
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
    let expected = String::from_utf8(batch.stdout).expect("utf-8");
    let summary: Json = serde_json::from_str::<Json>(&expected).expect("json")["summary"].clone();
    assert_eq!(summary["rejected"], 2);
    assert_eq!(summary["duplicates"], 1);
    assert!(summary["breached"].as_u64() > Some(100));
    assert!(
        got == expected,
        "the service's report differs from the batch check"
    );
}

/// Runs the service on `policy` with `state`, `events` on its standard input, until it ends
/// with the input (successfully).
/// The JSON report of a batch `pledge check` of `file`, with the service's reorder window in
/// these tests: what a service's `report.json` must equal.
fn batch_report(policy: &std::path::Path, file: &std::path::Path) -> String {
    let out = Command::new(BIN)
        .arg("check")
        .arg(policy)
        .arg("--events")
        .arg(file)
        .args(["--format", "json", "--reorder-window", "1min"])
        .output()
        .expect("check");
    String::from_utf8(out.stdout).expect("utf-8")
}

fn serve_stdin_to_its_end(policy: &std::path::Path, state: &std::path::Path, events: &str) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg(policy)
        .arg("--state")
        .arg(state)
        .args([
            "--events",
            "-",
            "--now-from-events",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(events.as_bytes())
        .expect("write");
    let service = Service::from_child(child);
    assert!(service.wait(Duration::from_secs(30)).success());
}

/// Overlong lines (one all blanks up to the limit and an event after it, one of 3 MB) are each
/// one rejected line, their rests never taken for lines, and a last line without its line end
/// is read: from a file followed to its end and from standard input, the report is the batch
/// check's of the same file, byte for byte.
#[test]
fn overlong_lines_and_an_unterminated_last_line_are_read_as_a_batch_check_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let limit = 1 << 20;
    let events = " ".repeat(limit + 1)
        + &event("A", 2, "09:00", "opened", r#""kind":"complaint""#)
        + "\n"
        + &event("B", 2, "09:30", "opened", r#""kind":"complaint""#)
        + "\n"
        + &"x".repeat(3 * limit)
        + "\n"
        + &event("B", 2, "09:40", "contacted", "")
        + "\n"
        + &event("C", 4, "09:40", "opened", r#""kind":"complaint""#);
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, &events).expect("events");
    let batch = batch_report(&policy, &file);
    let summary: Json = serde_json::from_str(&batch).expect("JSON");
    assert_eq!(summary["summary"]["lines"], 5, "{}", summary["summary"]);
    assert_eq!(summary["summary"]["rejected"], 2, "{}", summary["summary"]);
    let state = dir.path().join("from-stdin");
    serve_stdin_to_its_end(&policy, &state, &events);
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    assert_eq!(got, batch, "from standard input");
    let state = dir.path().join("from-file");
    let child = Command::new(BIN)
        .arg("serve")
        .arg(&policy)
        .arg("--state")
        .arg(&state)
        .arg("--events")
        .arg(&file)
        .args([
            "--until-eof",
            "--now-from-events",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    assert!(Service::from_child(child)
        .wait(Duration::from_secs(30))
        .success());
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    assert_eq!(got, batch, "from a file followed to its end");
}

#[test]
fn standard_input_is_read_to_its_end_and_the_report_equals_a_batch_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let events = [
        event("A", 2, "09:00", "opened", r#""kind":"complaint""#),
        "not json".to_string(),
        event("B", 2, "09:30", "opened", r#""kind":"complaint""#),
        event("B", 2, "09:40", "contacted", ""),
        event("C", 4, "09:40", "opened", r#""kind":"complaint""#),
    ]
    .join("\n")
        + "\n";
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, &events).expect("events");
    let state = dir.path().join("state");
    serve_stdin_to_its_end(&policy, &state, &events);
    let batch = batch_report(&policy, &file);
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    assert_eq!(got, batch);
    // The file of cases at rest is made in the state directory (empty here: a few cases fit
    // the chunks kept in memory), and made anew at the next start.
    let spill = state.join("at-rest.spill");
    assert_eq!(std::fs::metadata(&spill).expect("at-rest.spill").len(), 0);
    std::fs::write(&spill, b"left from before").expect("written");
    serve_stdin_to_its_end(&policy, &state, "");
    assert_eq!(std::fs::metadata(&spill).expect("at-rest.spill").len(), 0);
}

#[test]
fn the_readme_service_example_answers_as_written() {
    let script = readme_block("### An example", "sh").replace("\\\n", " ");
    let token = script
        .lines()
        .find_map(|l| l.strip_prefix("printf '")?.split("\\n").next())
        .expect("the token");
    let serve: Vec<&str> = script
        .lines()
        .find(|l| l.starts_with("pledge serve "))
        .expect("the command")
        .split_whitespace()
        .skip(2)
        .filter(|w| *w != "&")
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token");
    let state = dir.path().join("pledge-state");
    let mut args: Vec<String> = Vec::new();
    let mut words = serve.iter();
    while let Some(w) = words.next() {
        match *w {
            "--state" => {
                words.next();
                args.extend(["--state".into(), state.display().to_string()]);
            }
            "--token-file" => {
                words.next();
                args.extend(["--token-file".into(), token_file.display().to_string()]);
            }
            path if path.starts_with("policies/") => args.push(root(path).display().to_string()),
            other => args.push(other.to_string()),
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = Service::start(&args);
    let body = std::fs::read_to_string(root("examples/service-desk.jsonl")).expect("events");
    let (status, got) = request(
        "POST",
        &format!("{}/events", service.url),
        Some(token),
        Some(&body),
    );
    assert_eq!(status, 200, "{got}");
    let expected: Json =
        serde_json::from_str(&readme_block("### An example", "json")).expect("json");
    let got: Json = serde_json::from_str(&got).expect("json");
    assert_eq!(got, expected);
    for path in [
        "/healthz",
        "/summary",
        "/agenda?within=4h&project=jindi",
        "/cases/T-0301",
        "/records?since=0",
    ] {
        get_json(&format!("{}{path}", service.url), Some(token));
    }
    let (status, metrics) = request(
        "GET",
        &format!("{}/metrics", service.url),
        Some(token),
        None,
    );
    assert_eq!(status, 200);
    assert!(
        metrics.contains("pledge_breaches{policy=\"repairs\""),
        "{metrics}"
    );
}

#[test]
fn sigterm_commits_writes_the_report_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let events = [
        event("A", 2, "09:00", "opened", r#""kind":"complaint""#),
        event("B", 2, "09:30", "opened", r#""kind":"complaint""#),
        event("B", 2, "09:40", "contacted", ""),
        "[]".to_string(),
    ]
    .join("\n")
        + "\n";
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, &events).expect("events");
    let state = dir.path().join("state");
    let service = Service::start(&[
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--events",
        file.to_str().unwrap(),
        "--now-from-events",
    ]);
    eventually(Duration::from_secs(20), "every line", || {
        let (_, m) = request("GET", &format!("{}/metrics", service.url), None, None);
        metric(&m, "pledge_events_accepted_total") == 3.0
            && metric(&m, "pledge_events_rejected_total") == 1.0
            && metric(&m, "pledge_source_lag_events") == 0.0
    });
    // The per-clause counts of the first scrape are reused by the next ones (judging them ends
    // a copy of the whole state); the event counts above were current all along.
    let (_, m) = request("GET", &format!("{}/metrics", service.url), None, None);
    let age = metric(&m, "pledge_clause_counts_age_seconds");
    assert!(age > 0.0 && age < 30.0, "{m}");
    let term = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    assert!(service.wait(Duration::from_secs(20)).success());
    let batch = batch_report(&policy, &file);
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    assert_eq!(got, batch);
}

/// A case changed in two consecutive commits (its row rewritten by the second), then `kill -9`
/// right after the second is answered, then a restart that changes it again: the report equals
/// a batch check of every event. Each POST is answered once the commit covering it is in the
/// store, so the kill comes after two commits of that case, never between them.
#[test]
fn a_case_changed_in_consecutive_commits_then_kill_9_equals_a_batch_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let state = dir.path().join("state");
    let args = [
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
        "--now-from-events",
    ];
    let complaint = r#""kind":"complaint""#;
    let bodies = [
        // Commit 1: A and B open.
        vec![
            event("A", 2, "09:00", "opened", complaint),
            event("B", 2, "09:10", "opened", complaint),
        ],
        // Commit 2: A again (contacted late), C opens.
        vec![
            event("A", 2, "11:00", "contacted", ""),
            event("C", 2, "11:30", "opened", complaint),
        ],
        // After the restart: A a third time, B contacted in time, and time moves on.
        vec![
            event("A", 2, "12:00", "note", ""),
            event("B", 2, "09:50", "contacted", ""),
            event("D", 5, "09:00", "opened", complaint),
        ],
    ];
    let tok = Some("s3cret");
    let post = |url: &str, body: &[String]| {
        let (status, answer) = request(
            "POST",
            &format!("{url}/events"),
            tok,
            Some(&body.join("\n")),
        );
        assert_eq!(status, 200, "{answer}");
        let answer: Json = serde_json::from_str(&answer).expect("json");
        assert_eq!(answer["accepted"], body.len(), "{answer}");
    };
    let service = Service::start(&args);
    post(&service.url, &bodies[0]);
    post(&service.url, &bodies[1]);
    let (_, m) = request("GET", &format!("{}/metrics", service.url), tok, None);
    assert!(metric(&m, "pledge_batches_committed_total") >= 2.0, "{m}");
    service.kill();

    let service = Service::start(&args);
    let summary = get_json(&format!("{}/summary", service.url), tok);
    assert_eq!(summary["accepted"], 4, "{summary}");
    post(&service.url, &bodies[2]);
    let term = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    assert!(service.wait(Duration::from_secs(20)).success());

    let file = dir.path().join("events.jsonl");
    let all: Vec<String> = bodies.concat();
    std::fs::write(&file, all.join("\n") + "\n").expect("events");
    let expected = batch_report(&policy, &file);
    let report: Json = serde_json::from_str(&expected).expect("json");
    assert_eq!(report["summary"]["accepted"], 7, "{expected}");
    let got = std::fs::read_to_string(state.join("report.json")).expect("report.json");
    assert_eq!(got, expected);
}

/// The service runs with the allocator told to hand freed memory back after 10 ms: it starts
/// again in the same process with the variable set (its id, standard streams and arguments
/// kept), unless the user set the variable, which is then kept as it is.
#[cfg(target_os = "linux")]
#[test]
fn the_service_hands_freed_memory_back_promptly_unless_told_otherwise() {
    for (given, expected) in [(None, "10"), (Some("250"), "250")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = dir.path().join("desk.pledge");
        std::fs::write(&policy, DESK).expect("policy");
        let token = dir.path().join("token");
        std::fs::write(&token, "secret\n").expect("token");
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg(&policy)
            .arg("--state")
            .arg(dir.path().join("state"))
            .arg("--token-file")
            .arg(&token)
            .args(["--post", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env_remove("MIMALLOC_PURGE_DELAY");
        if let Some(value) = given {
            command.env("MIMALLOC_PURGE_DELAY", value);
        }
        let mut child = command.spawn().expect("start");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("first line");
        assert!(
            first.starts_with("listening on http://127.0.0.1:"),
            "{first:?}"
        );
        let environ =
            std::fs::read(format!("/proc/{}/environ", child.id())).expect("the service's environ");
        let set: Vec<&[u8]> = environ
            .split(|b| *b == 0)
            .filter(|v| v.starts_with(b"MIMALLOC_PURGE_DELAY="))
            .collect();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            set,
            vec![format!("MIMALLOC_PURGE_DELAY={expected}").as_bytes()],
            "given {given:?}"
        );
    }
}

/// A receiver that fails now and then holds back only the alert it failed on, briefly: the
/// retry's backoff doubles over failures in a row, not over every failure since the start.
#[test]
fn a_receiver_that_fails_now_and_then_still_gets_every_alert_promptly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let state = dir.path().join("state");
    let hook = Receiver::failing_every(3);
    let service = Service::start(&[
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--post",
        "--token-file",
        token_file.to_str().unwrap(),
        "--webhook",
        &hook.url,
        "--now-from-events",
        "--commit-ms",
        "20",
    ]);
    let body = unanswered_complaints();
    let (status, _) = request(
        "POST",
        &format!("{}/events", service.url),
        Some("s3cret"),
        Some(&body.join("\n")),
    );
    assert_eq!(status, 200);
    // Eight failures or so: doubling over all of them would wait 0.2 + 0.4 + … + 25.6 s.
    eventually(
        Duration::from_secs(10),
        "24 alerts through a flaky receiver",
        || hook.keys().len() == 24,
    );
    assert!(hook.keys().values().all(|&n| n == 1), "{:?}", hook.keys());
}

/// A one-shot replay (`--events FILE --until-eof`) tells its receiver every alert it raised
/// before it exits, those of its last commit included, however long a working receiver takes
/// (here 6 s in all, past the 5 s a stopping service waits for a delivery); it does not leave
/// them in the outbox for a next start that may never come.
#[test]
fn a_replay_that_ends_delivers_its_last_alerts_before_it_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let lines = unanswered_complaints();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, lines.join("\n") + "\n").expect("events");
    // 24 × 250 ms: longer than the service takes to write its report and exit, and longer
    // than the 5 s it waits for one delivery.
    let hook = Receiver::slow(Duration::from_millis(250));
    let status = Service::start(&[
        policy.to_str().unwrap(),
        "--state",
        dir.path().join("state").to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--until-eof",
        "--now-from-events",
        "--reorder-window",
        "1min",
        "--webhook",
        &hook.url,
    ])
    .wait(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    let keys = hook.keys();
    assert_eq!(keys.len(), 24, "{keys:?}");
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
}

/// A store file damaged on disk (cut short, or a byte changed) is refused with its reason and
/// exit code 3 by the service and by `report --merge`, never a panic: the database can panic
/// on such a file, and that is caught where the store is opened.
#[test]
fn a_damaged_store_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let events: String = (0..400)
        .map(|i| {
            event(
                &format!("T{i}"),
                2 + i % 20,
                "09:00",
                "opened",
                r#""kind":"complaint""#,
            ) + "\n"
        })
        .collect();
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, &events).expect("events");
    let state = dir.path().join("state");
    let status = Command::new(BIN)
        .arg("serve")
        .arg(&policy)
        .arg("--state")
        .arg(&state)
        .arg("--events")
        .arg(&file)
        .args([
            "--until-eof",
            "--now-from-events",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(status.success());
    let whole = std::fs::read(state.join("state.redb")).expect("the store");
    assert!(whole.len() > 8192, "{} bytes", whole.len());
    let token = dir.path().join("token");
    std::fs::write(&token, "secret\n").expect("token");
    for (name, bytes) in [
        ("cut", whole[..whole.len() / 2].to_vec()),
        ("cut-early", whole[..5000].to_vec()),
    ] {
        let damaged = dir.path().join(name);
        std::fs::create_dir_all(&damaged).expect("dir");
        std::fs::write(damaged.join("state.redb"), &bytes).expect("copy");
        let merge = Command::new(BIN)
            .arg("report")
            .arg(&policy)
            .arg("--merge")
            .arg(&damaged)
            .output()
            .expect("runs");
        let serve = Command::new(BIN)
            .arg("serve")
            .arg(&policy)
            .arg("--state")
            .arg(&damaged)
            .args(["--post", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(&token)
            .output()
            .expect("runs");
        for (what, out) in [("report --merge", merge), ("serve", serve)] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{name}, {what}: {stderr}");
            assert!(
                stderr.contains("is damaged and cannot be read") && !stderr.contains("panicked"),
                "{name}, {what}: {stderr}"
            );
        }
    }
}
