//! `pledge serve --partition I/N` and `pledge report --merge DIR...` end to end, with the real
//! binary: three instances over one generated stream against one instance (and a batch
//! report), with a repeat pair whose two complaints fall in different partitions; the human
//! merged report of a small example and the messages for states that are not one split.
#![cfg(feature = "cli")]

use pledge::Partition;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pledge");

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A service reading `events` to its end, killed and reaped if dropped before it exits.
struct Service(Child);

impl Service {
    fn start(policies: &[String], state: &Path, events: &Path, extra: &[&str]) -> Service {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(policies)
            .arg("--state")
            .arg(state)
            .arg("--events")
            .arg(events)
            .args(["--until-eof", "--now-from-events", "--reorder-window", "2h"])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pledge serve");
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
        });
        Service(child)
    }

    fn wait(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                assert!(status.success(), "{status:?}");
                return;
            }
            assert!(
                start.elapsed() < limit,
                "the service did not stop in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shipped() -> Vec<String> {
    let mut policies: Vec<PathBuf> = std::fs::read_dir(root("policies"))
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    policies.sort();
    policies.iter().map(|p| p.display().to_string()).collect()
}

fn report(policies: &[String], args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("report")
        .args(policies)
        .args(args)
        .output()
        .expect("pledge report")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8")
}

/// The error lines of standard error (the policies' lint warnings left out).
fn errors(out: &std::process::Output) -> String {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("error"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Two tickets, the first of partition `a` of 3, the second of partition `b`.
fn pair(a: u32, b: u32) -> (String, String) {
    let find = |p: u32| {
        (0..)
            .map(|i| format!("RC-{i}"))
            .find(|t| Partition::of(t, 3) == p)
            .expect("a ticket")
    };
    (find(a), find(b))
}

#[test]
fn three_partitions_merged_report_what_one_instance_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.jsonl");
    let gen = Command::new(BIN)
        .args([
            "gen", "--cases", "500", "--days", "45", "--seed", "21", "--out",
        ])
        .arg(&events)
        .status()
        .expect("gen");
    assert!(gen.success());
    // The repeat pair: two complaints about one unit and topic, three days apart, in the
    // middle of the stream, whose tickets fall in partitions 0 and 2.
    let (first, second) = pair(0, 2);
    assert_ne!(Partition::of(&first, 3), Partition::of(&second, 3));
    let text = std::fs::read_to_string(&events).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let complaint = |ticket: &str, day: u32| {
        format!(
            r#"{{"ticket":"{ticket}","at":"2026-01-{day:02}T10:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","project":"P-test","unit":"Z-9-999","topic":"漏水","urgency":"normal"}}}}"#
        )
    };
    let at_of = |l: &str| -> String {
        serde_json::from_str::<Json>(l).expect("json")["at"]
            .as_str()
            .expect("at")
            .to_string()
    };
    for (ticket, day) in [(&first, 10), (&second, 13)] {
        let line = complaint(ticket, day);
        let at = at_of(&line);
        let pos = lines
            .iter()
            .position(|l| {
                let t = chrono::DateTime::parse_from_rfc3339(&at_of(l)).expect("rfc 3339");
                t > chrono::DateTime::parse_from_rfc3339(&at).expect("rfc 3339")
            })
            .expect("a later event");
        lines.insert(pos, line);
    }
    lines.push("{not json".to_string());
    std::fs::write(&events, lines.join("\n") + "\n").expect("write");

    let policies = shipped();
    let mut services: Vec<Service> = (0..3)
        .map(|i| {
            let state = dir.path().join(format!("p{i}"));
            let partition = format!("{i}/3");
            Service::start(&policies, &state, &events, &["--partition", &partition])
        })
        .collect();
    services.push(Service::start(
        &policies,
        &dir.path().join("one"),
        &events,
        &[],
    ));
    for s in &mut services {
        s.wait(Duration::from_secs(180));
    }
    let dirs: Vec<String> = (0..3)
        .map(|i| dir.path().join(format!("p{i}")).display().to_string())
        .collect();
    let one_dir = dir.path().join("one").display().to_string();
    let mut merged_args = vec!["--format", "json", "--merge"];
    // Any order of the directories.
    merged_args.extend([dirs[2].as_str(), dirs[0].as_str(), dirs[1].as_str()]);
    let merged = report(&policies, &merged_args);
    assert!(merged.status.code() == Some(1), "{}", stderr(&merged));
    let one = report(&policies, &["--format", "json", "--merge", &one_dir]);
    let batch = report(
        &policies,
        &[
            "--format",
            "json",
            "--reorder-window",
            "2h",
            "--events",
            events.to_str().expect("utf-8"),
        ],
    );
    let merged_text = stdout(&merged);
    assert_eq!(
        merged_text,
        stdout(&one),
        "3 partitions against one instance"
    );
    assert_eq!(
        merged_text,
        stdout(&batch),
        "3 partitions against a batch report"
    );
    let doc: Json = serde_json::from_str(&merged_text).expect("json");
    let rows = doc["rows"].as_array().expect("rows");
    assert!(rows.len() > 50, "{}", rows.len());
    let fired = rows
        .iter()
        .find(|r| r["clause"] == "repeat_complaint" && r["period"] == "2026-01")
        .expect("the repeat row");
    assert!(fired["actions"].as_u64() >= Some(1), "{fired}");
    // The pair itself: in the check document of the batch, the repeat action of the second
    // complaint names the first.
    let check = Command::new(BIN)
        .arg("check")
        .args(&policies)
        .args(["--format", "jsonl", "--reorder-window", "2h", "--events"])
        .arg(&events)
        .output()
        .expect("check");
    let found = String::from_utf8(check.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .any(|r| r["ticket"] == second.as_str() && r.to_string().contains(&first));
    assert!(found, "the repeat action of {second} names {first}");
}

const DESK: &str = r#"policy "desk" {
  deadline contact "投诉1小时内联系客户" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
  repeat again "重复投诉" {
    when kind == "complaint"
    same unit 2 times within 30 days
    then escalate project_manager "专项整改"
  }
}
"#;

/// A small example in two partitions, and states that are not one split.
#[test]
fn the_merged_human_report_and_the_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let policies = vec![policy.display().to_string()];
    let events = dir.path().join("events.jsonl");
    let (a, b) = pair(0, 1);
    let (c, _) = pair(2, 2);
    let lines = [
        format!(
            r#"{{"ticket":"{a}","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","unit":"1-101"}}}}"#
        ),
        format!(r#"{{"ticket":"{a}","at":"2026-03-02T09:30:00+08:00","type":"contacted"}}"#),
        format!(
            r#"{{"ticket":"{b}","at":"2026-03-05T10:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","unit":"1-101"}}}}"#
        ),
        format!(
            r#"{{"ticket":"{c}","at":"2026-03-06T10:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","unit":"2-202"}}}}"#
        ),
        format!(r#"{{"ticket":"{b}","at":"2026-03-06T12:00:00+08:00","type":"contacted"}}"#),
    ];
    std::fs::write(&events, lines.join("\n") + "\n").expect("write");
    let start = |name: &str, extra: &[&str]| {
        Service::start(&policies, &dir.path().join(name), &events, extra)
    };
    let mut started = vec![
        start("a", &["--partition", "0/3"]),
        start("b", &["--partition", "1/3"]),
        start("c", &["--partition", "2/3"]),
        start("two", &["--partition", "1/2"]),
        start("weekly", &["--partition", "2/3", "--period", "week"]),
    ];
    for s in &mut started {
        s.wait(Duration::from_secs(60));
    }
    let d = |name: &str| dir.path().join(name).display().to_string();
    let human = report(&policies, &["--merge", &d("a"), &d("b"), &d("c")]);
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    let batch = report(&policies, &["--events", events.to_str().expect("utf-8")]);
    assert_eq!(stdout(&human), stdout(&batch));
    insta::assert_snapshot!("merged_human_report", stdout(&human));

    let tmp = dir.path().display().to_string();
    let refusal = |args: &[&str], policies: &[String]| {
        let out = report(policies, args);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        errors(&out).replace(&tmp, "TMP")
    };
    let mut messages = String::new();
    for (what, args) in [
        ("missing index", vec!["--merge", &d("a"), &d("c")]),
        ("different N", vec!["--merge", &d("a"), &d("two"), &d("c")]),
        ("twice", vec!["--merge", &d("a"), &d("b"), &d("b"), &d("c")]),
        (
            "other period",
            vec!["--merge", &d("a"), &d("b"), &d("weekly")],
        ),
        (
            "asked another period",
            vec!["--merge", &d("a"), &d("b"), &d("c"), "--period", "week"],
        ),
    ] {
        messages.push_str(&format!("{what}: {}", refusal(&args, &policies)));
    }
    let other = dir.path().join("other.pledge");
    std::fs::write(&other, DESK.replace("1 hour", "2 hours")).expect("policy");
    let others = vec![other.display().to_string()];
    messages.push_str(&format!(
        "different policies: {}",
        refusal(&["--merge", &d("a"), &d("b"), &d("c")], &others)
    ));
    let missing = report(&policies, &["--merge", &d("nowhere")]);
    assert_eq!(missing.status.code(), Some(3));
    messages.push_str(&format!(
        "no state: {}",
        errors(&missing).replace(&tmp, "TMP")
    ));
    insta::assert_snapshot!("merge_refusals", messages);
}

/// `pledge check --partition`: the three partitions' summaries add up to the whole check's.
#[test]
fn check_partitions_add_up_to_the_whole_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.jsonl");
    let gen = Command::new(BIN)
        .args([
            "gen", "--cases", "200", "--days", "20", "--seed", "3", "--out",
        ])
        .arg(&events)
        .status()
        .expect("gen");
    assert!(gen.success());
    let mut text = std::fs::read_to_string(&events).expect("read");
    text.push_str("{broken\n");
    std::fs::write(&events, text).expect("write");
    let policies = shipped();
    let summary = |extra: &[&str]| -> Json {
        let out = Command::new(BIN)
            .arg("check")
            .args(&policies)
            .arg("--events")
            .arg(&events)
            .args(["--format", "json"])
            .args(extra)
            .output()
            .expect("check");
        serde_json::from_slice::<Json>(&out.stdout).expect("json")["summary"].clone()
    };
    let whole = summary(&[]);
    assert!(whole.get("elsewhere").is_none());
    let parts: Vec<Json> = (0..3)
        .map(|i| summary(&["--partition", &format!("{i}/3")]))
        .collect();
    // Case counts add; the verdicts of periods (a sample short, a target missed) do not: they
    // need the whole period, which is what `--merge` is for.
    for key in ["events", "accepted", "rejected", "cases", "breached"] {
        let sum: u64 = parts.iter().map(|p| p[key].as_u64().expect(key)).sum();
        assert_eq!(Some(sum), whole[key].as_u64(), "{key}");
    }
    assert_eq!(parts[0]["rejected"], 1);
    assert_eq!(parts[1]["rejected"], 0);
    for p in &parts {
        assert_eq!(
            p["now"], whole["now"],
            "every partition judges at the same now"
        );
        let total = p["events"].as_u64().unwrap_or(0) + p["elsewhere"].as_u64().unwrap_or(0);
        assert_eq!(Some(total), whole["events"].as_u64());
    }
}

/// The README's scale-out example, run by `sh` as written (with the binary on `PATH`, in a
/// directory holding the repository's policies and examples), prints the batch report.
#[test]
fn the_readme_scale_out_example_prints_the_batch_report() {
    let readme = std::fs::read_to_string(root("README.md")).expect("README.md");
    let heading = "### Scale-out: partitions and `pledge report --merge`";
    let section = &readme[readme.find(heading).expect("the heading")..];
    let start = section.find("```sh\n").expect("a block") + "```sh\n".len();
    let end = start + section[start..].find("```").expect("its end");
    let script = &section[start..end];
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["policies", "examples"] {
        std::os::unix::fs::symlink(root(name), dir.path().join(name)).expect("symlink");
    }
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .expect("sh");
    let batch = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "report",
            "policies/customer-requests.pledge",
            "policies/repairs.pledge",
            "--events",
            "examples/service-desk.jsonl",
            "--reorder-window",
            "1min",
            "--format",
            "json",
        ])
        .output()
        .expect("report");
    let got = stdout(&out);
    assert!(got.contains("\"rows\""), "{got}\n{}", stderr(&out));
    assert_eq!(got, stdout(&batch));
    for i in 0..3 {
        assert!(dir.path().join(format!("state-{i}/state.redb")).is_file());
    }
}

/// The store of a running service is its own: `--merge` says so instead of reading half of it.
#[test]
fn merging_the_state_of_a_running_service_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("desk.pledge");
    std::fs::write(&policy, DESK).expect("policy");
    let events = dir.path().join("events.jsonl");
    let (a, _) = pair(0, 0);
    std::fs::write(
        &events,
        format!(
            r#"{{"ticket":"{a}","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","unit":"1-101"}}}}"#
        ) + "\n",
    )
    .expect("write");
    let state = dir.path().join("live");
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg(&policy)
        .arg("--state")
        .arg(&state)
        .arg("--events")
        .arg(&events)
        .args([
            "--now-from-events",
            "--listen",
            "127.0.0.1:0",
            "--commit-ms",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pledge serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let service = Service(child);
    let policies = vec![policy.display().to_string()];
    let out = report(&policies, &["--merge", state.to_str().expect("utf-8")]);
    drop(service);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        errors(&out).contains("its service is still running"),
        "{}",
        stderr(&out)
    );
}
