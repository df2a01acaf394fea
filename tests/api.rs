//! The embedding API (`pledge::PolicySet`, `Engine`, `check_*`, `Record`): what a host program
//! gets is what `pledge check` prints, whether it hands over a file, events or lines one by one.

use chrono::{DateTime, Duration, Utc};
use pledge::{check_events, check_path, check_reader, Engine, Options, PolicySet, Record};
use serde_json::Value;
use std::path::Path;

const SHIPPED: [&str; 2] = [
    "policies/customer-requests.pledge",
    "policies/repairs.pledge",
];

fn root(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn shipped() -> PolicySet {
    PolicySet::from_files(SHIPPED.map(root)).expect("the shipped policies parse")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

const DESK: &str = r#"policy "desk" {
  deadline contact "投诉1小时内联系客户" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
}
"#;

fn desk() -> PolicySet {
    PolicySet::from_text(DESK, "desk.pledge").expect("desk parses")
}

fn line(ticket: &str, at: &str, kind: &str) -> String {
    format!(
        r#"{{"ticket":"{ticket}","at":"2026-03-02T{at}:00+08:00","type":"{kind}","attrs":{{"kind":"complaint"}}}}"#
    )
}

#[test]
fn a_bad_policy_gives_its_diagnostic_with_code_position_and_rendering() {
    let text = "policy \"p\" {\n  deadline a { until contacted within 1 hour }\n  deadline a { until contacted within 2 fortnights }\n}\n";
    let err = PolicySet::from_text(text, "bad.pledge").expect_err("an unknown unit");
    let found: Vec<(&str, usize, usize)> = err
        .diagnostics()
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}\n{err}");
    let d = &err.diagnostics()[0];
    assert_eq!(d.file, "bad.pledge");
    assert_eq!(d.line, 3);
    assert_eq!(d.severity, "error");
    // The rendering is the command's: the code and the source line with the mistake.
    assert!(err.rendered().contains(&d.code), "{}", err.rendered());
    assert!(err.to_string().contains("fortnights"), "{err}");
    // The span points into the source at the line and column given.
    let span = d.span.clone().expect("a labelled diagnostic");
    let before = &text[..span.start];
    assert_eq!(before.matches('\n').count() + 1, d.line);
}

#[test]
fn a_column_counts_characters_not_bytes() {
    let text = "policy \"p\" {\n  deadline 联系 \"标题\" { until contacted within 1 hour }\n}\n";
    let err = PolicySet::from_text(text, "zh.pledge").expect_err("a clause name must be ASCII");
    let d = &err.diagnostics()[0];
    let span = d.span.clone().expect("labelled");
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    assert_eq!(d.column, text[line_start..span.start].chars().count() + 1);
}

#[test]
fn files_report_every_file_and_every_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.pledge");
    let b = dir.path().join("b.pledge");
    std::fs::write(
        &a,
        "policy \"a\" { deadline x { until y within 3 parsecs } }",
    )
    .unwrap();
    std::fs::write(
        &b,
        "policy \"b\" { deadline x { until y within 3 lightyears } }",
    )
    .unwrap();
    let missing = dir.path().join("missing.pledge");
    let err = PolicySet::from_files([&a, &b, &missing]).expect_err("three bad files");
    let files: Vec<String> = err
        .diagnostics()
        .iter()
        .map(|d| {
            Path::new(&d.file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(files, ["a.pledge", "b.pledge", "missing.pledge"]);
    assert_eq!(err.codes()[2], "pledge::io::unreadable");
}

/// `pledge check --format json` of the README's command, run through the real binary.
#[cfg(feature = "cli")]
fn cli_json(args: &[&str]) -> Value {
    let out = assert_cmd::Command::cargo_bin("pledge")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("run");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
#[cfg(feature = "cli")]
fn check_path_gives_exactly_what_the_command_prints() {
    for (events, extra) in [
        ("examples/service-desk.jsonl", vec![]),
        (
            "examples/national-day.jsonl",
            vec!["examples/national-day.pledge"],
        ),
    ] {
        let mut policies: Vec<&str> = SHIPPED.to_vec();
        policies.extend(&extra);
        let set = PolicySet::from_files(policies.iter().map(|p| root(p))).expect("parse");
        let report = check_path(&set, root(events), &Options::default()).expect("read");
        let mut args = policies.clone();
        args.extend(["--events", events]);
        let expected = cli_json(&args);
        assert!(!report.records.is_empty());
        assert_eq!(report.to_json(), expected, "{events}");
        // Written as it goes: the same document.
        let (summary, written) =
            pledge::check_path_to_json(&set, root(events), &Options::default(), Vec::new())
                .expect("read");
        let written: Value = serde_json::from_slice(&written).expect("one JSON document");
        assert_eq!(written, expected, "{events}");
        assert_eq!(summary, report.summary);
    }
}

#[test]
fn lines_pushed_one_by_one_give_the_records_of_the_batch() {
    let text = std::fs::read(root("examples/service-desk.jsonl")).expect("example");
    let set = shipped();
    let batch = check_reader(&set, &text[..], &Options::default()).expect("read");
    let mut engine = Engine::new(&set, &Options::default());
    let mut records = Vec::new();
    for l in text.split(|&b| b == b'\n') {
        if !l.is_empty() {
            records.extend(engine.push_json(l));
        }
    }
    let last = engine.finish();
    records.extend(last.records.iter().cloned());
    assert_eq!(records, batch.records);
    assert_eq!(last.summary, batch.summary);
    assert!(
        records.iter().any(|r| matches!(r, Record::Verdict(_))),
        "the example has verdicts"
    );
    // The same events as values: the same records.
    let mut events = Vec::new();
    pledge::input::read_events(&text[..], &Default::default(), |r| {
        if let pledge::input::Record::Event(e) = r {
            events.push(e);
        }
    })
    .expect("read");
    let judged = |records: &[Record]| -> Vec<Record> {
        records
            .iter()
            .filter(|r| !matches!(r, Record::Rejected(_)))
            .cloned()
            .collect()
    };
    let from_events = check_events(&set, events, &Options::default());
    assert_eq!(judged(&from_events.records), judged(&batch.records));
    assert_eq!(from_events.summary.breached(), batch.summary.breached());
}

/// `finish_to` hands on, through a channel smaller than the records, exactly what `finish`
/// returns, in the same order, with the same summary.
#[test]
fn finishing_to_a_channel_gives_the_records_of_finish() {
    let text = generated(300, 5, true);
    let set = every_policy();
    let opts = Options::default().reorder_window(Duration::minutes(1));
    let pushed = |engine: &mut Engine| {
        for l in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            engine.push_json(l);
        }
    };
    let mut whole = Engine::new(&set, &opts);
    pushed(&mut whole);
    let whole = whole.finish();
    assert!(whole.records.len() > 100, "{}", whole.records.len());
    let mut streamed = Engine::new(&set, &opts);
    pushed(&mut streamed);
    let (to, from) = std::sync::mpsc::sync_channel(8);
    let reader = std::thread::spawn(move || from.into_iter().collect::<Vec<Record>>());
    let report = streamed.finish_to(to);
    let got = reader.join().expect("reader");
    assert!(report.records.is_empty());
    assert_eq!(got, whole.records);
    assert_eq!(report.summary, whole.summary);
}

/// A fork made in memory is the engine a snapshot restores: finishing it gives the same
/// records and summary at every point of a stream (cases awake and at rest, events waiting out
/// the window), and the engine it was made from goes on as if it had never been forked. A
/// fork finished for its summary keeps no record, and one finished for a ticket keeps that
/// ticket's records.
#[test]
fn a_fork_is_what_a_snapshot_restores_and_leaves_its_engine_alone() {
    let text = generated(300, 7, true);
    let set = every_policy();
    // A short retention: cases settle (into the period tallies) while the stream goes on.
    let opts = Options::default()
        .reorder_window(Duration::hours(2))
        .retain(Duration::days(2));
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut engine = Engine::new(&set, &opts);
    let mut never_forked = Engine::new(&set, &opts);
    let mut forks = 0;
    // A fork that goes on with the stream ends like the engine.
    let mut going_on: Option<Engine> = None;
    for (i, line) in lines.iter().enumerate() {
        let expected = never_forked.push_json(line);
        assert_eq!(engine.push_json(line), expected);
        if let Some(fork) = going_on.as_mut() {
            assert_eq!(fork.push_json(line), expected);
        }
        if i % (lines.len() / 5) != lines.len() / 10 {
            continue;
        }
        forks += 1;
        let bytes = engine.snapshot().expect("snapshot");
        let restored = Engine::restore(&set, &bytes).expect("restore").finish();
        let forked = engine.fork().finish();
        assert!(forked.records.len() > 50, "{}", forked.records.len());
        assert_eq!(forked.records, restored.records, "fork at line {i}");
        assert_eq!(forked.summary, restored.summary, "fork at line {i}");
        let counted = engine.fork().finish_summary();
        assert!(counted.records.is_empty());
        assert_eq!(counted.summary, restored.summary);
        let ticket = restored
            .records
            .iter()
            .rev()
            .find_map(Record::ticket)
            .expect("a record about a ticket");
        let of_ticket: Vec<&Record> = restored
            .records
            .iter()
            .filter(|r| r.ticket() == Some(ticket))
            .collect();
        let one = engine.fork().finish_ticket(ticket);
        assert_eq!(one.records.iter().collect::<Vec<_>>(), of_ticket);
        assert_eq!(one.summary, restored.summary);
        if forks == 2 {
            going_on = Some(engine.fork());
        }
    }
    assert_eq!(forks, 5);
    let (got, expected) = (engine.finish(), never_forked.finish());
    assert_eq!(got.records, expected.records);
    assert_eq!(got.summary, expected.summary);
    let went_on = going_on.expect("a fork").finish();
    assert_eq!(went_on.records, expected.records);
    assert_eq!(went_on.summary, expected.summary);
}

#[test]
fn a_bad_line_is_a_rejected_record_with_its_number_at_once() {
    let mut engine = Engine::new(&desk(), &Options::default());
    assert!(engine
        .push_json(line("A", "09:00", "opened").as_bytes())
        .is_empty());
    assert!(engine.push_json(b"").is_empty(), "a blank line is skipped");
    let got = engine.push_json(br#"{"ticket":"A","at":"yesterday","type":"contacted"}"#);
    assert_eq!(got.len(), 1);
    let Record::Rejected(r) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(r.line, 3);
    assert!(r.reason.contains("`at`"), "{}", r.reason);
    let json = got[0].to_json();
    assert_eq!(json["record"], "rejected");
    assert_eq!(json["line"], 3);
    // The stream goes on.
    engine.push_json(line("A", "09:30", "contacted").as_bytes());
    let report = engine.finish();
    assert_eq!(report.summary.rejected, 1);
    assert_eq!(report.read.lines, 4);
    assert_eq!(report.read.blank, 1);
    let statuses: Vec<Value> = report
        .records
        .iter()
        .map(|r| r.to_json()["status"].clone())
        .collect();
    assert_eq!(statuses, ["met"]);
}

#[test]
fn advancing_time_settles_a_closed_case_after_its_retention() {
    let opts = Options::default()
        .reorder_window(Duration::hours(1))
        .retain(Duration::days(2));
    let mut engine = Engine::new(&desk(), &opts);
    for l in [
        line("A", "09:00", "opened"),
        line("A", "10:30", "contacted"),
        line("A", "11:00", "closed"),
    ] {
        assert!(engine.push_json(l.as_bytes()).is_empty());
    }
    assert_eq!(engine.open_cases(), 1);
    // Within the retention: nothing final yet.
    assert!(engine
        .advance(t("2026-03-04T10:59:00+08:00"))
        .records
        .is_empty());
    // Past it (and past the window): the case settles, breached by 30 minutes.
    let got = engine.advance(t("2026-03-04T12:01:00+08:00")).records;
    assert_eq!(got.len(), 1, "{got:?}");
    let json = got[0].to_json();
    assert_eq!(json["status"], "breached");
    assert_eq!(json["ticket"], "A");
    assert_eq!(json["overdue_seconds"], 1800);
    assert_eq!(got[0].ticket(), Some("A"));
    assert_eq!(engine.open_cases(), 0);
    assert_eq!(
        engine.watermark(),
        Some(t("2026-03-04T12:01:00+08:00")),
        "the watermark follows the clock"
    );
    // An event for it now is after the retention: rejected at once.
    let late = engine.push_json(line("A", "11:30", "revisited").as_bytes());
    assert!(matches!(&late[..], [Record::Rejected(_)]), "{late:?}");
    let report = engine.finish();
    assert!(report.records.is_empty());
    assert_eq!(report.summary.expired, 1);
}

#[test]
fn a_report_serializes_as_the_command_documents() {
    let text = [line("A", "09:00", "opened"), line("B", "09:10", "opened")].join("\n");
    let report = check_reader(
        &desk(),
        text.as_bytes(),
        &Options::default().now(t("2026-03-02T12:00:00+08:00")),
    )
    .expect("read");
    let json = report.to_json();
    let records = json["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert!(records
        .iter()
        .all(|r| r["record"] == "verdict" && r["status"] == "breached"));
    assert_eq!(json["summary"]["record"], "summary");
    assert_eq!(json["summary"]["breached"], 2);
    assert_eq!(json["summary"]["now"], "2026-03-02T12:00:00+08:00");
    assert_eq!(json["summary"]["clauses"][0]["clause"], "contact");
}

mod embed {
    include!("../examples/embed.rs");

    #[test]
    fn the_embedding_example_runs() {
        std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd");
        main().expect("the example runs");
    }
}

// ---------------------------------------------------------------- snapshot and restore

/// A generated stream, shuffled within the reorder window, as JSON Lines: `dense` with
/// never-closed tickets and follow-ups after `closed`, or the default year profile's mix over
/// 60 days, whose settled cases leave running cycles to be judged at the end.
fn generated(cases: u64, seed: u64, dense: bool) -> Vec<u8> {
    let opts = pledge::gen::GenOptions {
        cases,
        seed,
        days: if dense { 20 } else { 60 },
        shuffle: 0.2,
        max_displacement: 30,
        ..pledge::gen::GenOptions::default()
    };
    let opts = if dense { opts.dense() } else { opts };
    let mut out = Vec::new();
    pledge::gen::generate(&opts, &mut out).expect("generate");
    out
}

fn every_policy() -> PolicySet {
    let mut paths: Vec<_> = std::fs::read_dir(root("policies"))
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    paths.sort();
    PolicySet::from_files(paths).expect("the shipped policies parse")
}

/// The records of pushing `lines` with a snapshot and a restore (from the bytes alone) before
/// each line index in `cuts`.
fn run_with_restarts(
    set: &PolicySet,
    text: &[u8],
    cuts: &[usize],
) -> (Vec<Record>, pledge::Summary) {
    let mut engine = Engine::new(set, &Options::default());
    let mut records = Vec::new();
    for (i, line) in text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if cuts.contains(&i) {
            let bytes = engine.snapshot().expect("snapshot");
            drop(engine);
            engine = Engine::restore(set, &bytes).expect("a snapshot of these policies");
        }
        records.extend(engine.push_json(line));
    }
    let last = engine.finish();
    records.extend(last.records);
    (records, last.summary)
}

#[test]
fn a_restored_engine_gives_the_records_of_an_uninterrupted_run() {
    let set = every_policy();
    for (dense, seed) in [(true, 3), (false, 4)] {
        let text = generated(400, seed, dense);
        let lines = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        let (expected, summary) = run_with_restarts(&set, &text, &[]);
        assert!(expected.len() > 200, "{} records", expected.len());
        assert!(
            summary.breached() > 0 && summary.findings() > 0,
            "{summary:?}"
        );
        for cuts in [
            vec![1],
            vec![lines / 2],
            vec![lines / 7, lines / 3, lines / 2, lines - 1],
            (0..lines).step_by(97).collect(),
        ] {
            let (got, got_summary) = run_with_restarts(&set, &text, &cuts);
            assert_eq!(got.len(), expected.len(), "dense {dense}, cuts {cuts:?}");
            assert_eq!(got, expected, "dense {dense}, cuts {cuts:?}");
            assert_eq!(got_summary, summary, "dense {dense}, cuts {cuts:?}");
        }
    }
}

#[test]
fn a_snapshot_keeps_the_options_and_the_line_numbers() {
    let opts = Options::default()
        .now(t("2026-03-02T12:00:00+08:00"))
        .reorder_window(Duration::minutes(5))
        .tz(chrono_tz::Asia::Shanghai);
    let mut engine = Engine::new(&desk(), &opts);
    engine.push_json(line("A", "09:00", "opened").as_bytes());
    let mut engine =
        Engine::restore(&desk(), &engine.snapshot().expect("snapshot")).expect("restore");
    // The zone for local timestamps survived: this line is accepted.
    assert!(engine
        .push_json(br#"{"ticket":"B","at":"2026-03-02T09:10:00","type":"opened","attrs":{"kind":"complaint"}}"#)
        .is_empty());
    // The line count survived: the next bad line is line 3.
    let got = engine.push_json(b"{");
    assert!(
        matches!(&got[..], [Record::Rejected(r)] if r.line == 3),
        "{got:?}"
    );
    let report = engine.finish();
    // `now` survived: both are judged at 12:00, breached.
    assert_eq!(report.summary.now, Some(t("2026-03-02T12:00:00+08:00")));
    assert_eq!(report.summary.breached(), 2);
    assert_eq!(report.read.lines, 3);
}

#[test]
fn a_snapshot_is_refused_with_other_policies_or_when_it_is_not_one() {
    let mut engine = Engine::new(&desk(), &Options::default());
    engine.push_json(line("A", "09:00", "opened").as_bytes());
    let bytes = engine.snapshot().expect("snapshot");
    let other = PolicySet::from_text(&DESK.replace("1 hour", "2 hours"), "desk.pledge").unwrap();
    let err = Engine::restore(&other, &bytes).expect_err("other policies");
    assert_eq!(err, pledge::SnapshotError::OtherPolicies);
    assert_eq!(
        err.to_string(),
        "the snapshot was taken with other policies"
    );
    for bad in [&b""[..], b"garbage", &bytes[..bytes.len() / 2]] {
        let err = Engine::restore(&desk(), bad).expect_err("not a snapshot");
        assert!(
            matches!(err, pledge::SnapshotError::Unreadable(_)),
            "{err:?}"
        );
    }
    // The original bytes still restore.
    assert!(Engine::restore(&desk(), &bytes).is_ok());
}

/// The REPL's `:why TICKET all` on the README's example, through the real binary.
#[cfg(feature = "cli")]
fn repl_why(ticket: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("pledge")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["repl"])
        .args(SHIPPED)
        .args(["--events", "examples/service-desk.jsonl"])
        .write_stdin(format!(":why {ticket} all\n"))
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let start = text
        .find(&format!("case {ticket} as of"))
        .expect("an explanation");
    // A period's outcome needs all its cases: the REPL has them, a streaming engine has it
    // only at the end of the stream.
    text[start..]
        .trim_end()
        .lines()
        .filter(|l| !l.starts_with("  the period: "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
#[cfg(feature = "cli")]
fn an_explaining_engine_says_what_the_repl_says() {
    let set = shipped();
    let mut engine = Engine::new(&set, &Options::default().explain(true));
    let text = std::fs::read(root("examples/service-desk.jsonl")).expect("example");
    for l in text.split(|&b| b == b'\n') {
        engine.push_json(l);
    }
    for ticket in (1..=9).map(|i| format!("T-030{i}")) {
        let ticket = ticket.as_str();
        let got = engine
            .explain(ticket)
            .unwrap_or_else(|| panic!("{ticket} is kept"));
        assert_eq!(got.trim_end(), repl_why(ticket), "{ticket}");
    }
    assert_eq!(engine.explain("T-9999"), None);
    // A snapshot keeps what it explains.
    let restored = Engine::restore(&set, &engine.snapshot().expect("snapshot")).expect("restore");
    assert_eq!(restored.explain("T-0301"), engine.explain("T-0301"));
    // Without `explain`, nothing is kept to explain from.
    let plain = Engine::restore(
        &set,
        &Engine::new(&set, &Options::default())
            .snapshot()
            .expect("snapshot"),
    )
    .expect("restore");
    assert_eq!(plain.explain("T-0301"), None);
}

#[test]
fn an_explaining_engine_lets_go_of_settled_cases() {
    let opts = Options::default()
        .explain(true)
        .reorder_window(Duration::hours(1))
        .retain(Duration::days(1));
    let mut engine = Engine::new(&desk(), &opts);
    engine.push_json(line("A", "09:00", "opened").as_bytes());
    engine.push_json(line("A", "09:30", "closed").as_bytes());
    assert!(engine.explain("A").is_some_and(|e| e.contains("contact")));
    engine.advance(t("2026-03-04T09:00:00+08:00"));
    assert_eq!(engine.open_cases(), 0);
    assert_eq!(engine.explain("A"), None);
}

/// A work-order export checks through the facade as through `pledge check --map`: the kind from
/// the file's extension, the same summary for the workbook and the CSV file.
#[test]
#[cfg(feature = "xlsx")]
fn a_work_order_export_checks_through_the_facade() {
    use pledge::{ExportKind, Mapping};
    let set = PolicySet::from_files(&[root("policies/repairs.pledge")]).expect("policies");
    let mapping = Mapping::from_file(root("examples/orders.toml")).expect("mapping");
    // A path as text serves as well, as the README writes it.
    let _: Result<Mapping, _> = Mapping::from_file("examples/orders.toml");
    // The kind given here is replaced by the extension's.
    let options = Options::default().export(ExportKind::Csv, mapping);
    let xlsx = check_path(&set, root("examples/orders.xlsx"), &options).expect("reads");
    let csv = check_path(&set, root("examples/orders.csv"), &options).expect("reads");
    assert_eq!(xlsx.summary_json()["rejected"], 5);
    assert_eq!(xlsx.summary_json()["cases"], 38);
    assert_eq!(xlsx.summary_json(), csv.summary_json());
    let rejected = xlsx
        .records
        .iter()
        .filter(|r| r.to_json()["record"] == "rejected")
        .count();
    assert_eq!(rejected, 5);
}

/// The one-shot checks split by tickets by default where the policies allow it: any number of
/// evaluators gives the records and summary of one, in its order.
#[test]
fn a_check_with_several_evaluators_is_one_evaluators_check() {
    let paths = [
        "policies/cleaning.pledge",
        "policies/management.pledge",
        "policies/notices.pledge",
        "policies/shopping-centre.pledge",
        "policies/staff.pledge",
    ];
    let set = PolicySet::from_files(paths.iter().map(|p| root(p))).expect("parse");
    let text = generated(300, 11, true);
    let json = |evaluators: usize, threads: usize| {
        let options = Options::default().evaluators(evaluators).threads(threads);
        check_reader(&set, &text[..], &options)
            .expect("read")
            .to_json()
    };
    let one = json(1, 0);
    assert!(
        one["records"].as_array().is_some_and(|r| r.len() > 100),
        "{one}"
    );
    for (evaluators, threads) in [(2, 0), (3, 1), (4, 0)] {
        assert_eq!(one, json(evaluators, threads), "{evaluators} evaluators");
    }
}

/// A repair clock that pauses and escalates, for the state a snapshot holds.
const LADDER: &str = r#"policy "ladder" {
  deadline repair "维修4小时内完成" {
    when kind == "repair"
    until resolved
    pause while status in ["waiting_parts"]
    within 4 hours
    after 3 hours escalate project_manager
  }
}
"#;

#[test]
fn a_snapshot_holds_no_instant_as_text_and_restores_to_the_same_report() {
    let set = PolicySet::from_text(LADDER, "ladder.pledge").expect("parses");
    // (ticket, month-day and time in 2026, type, the one attribute and its value)
    let lines: Vec<String> = [
        // A clock paused and resumed, its stage escalated: left running, never closed.
        ("P", "03-02T09:00", "opened", "kind", "repair"),
        ("P", "03-02T10:00", "status", "status", "waiting_parts"),
        ("P", "03-02T11:00", "status", "status", "in_progress"),
        ("P", "03-02T12:30", "escalated", "to", "project_manager"),
        // Six weeks later P has settled idle: its running cycle waits for the end of the
        // stream. These two still wait out the reorder window.
        ("Q", "04-15T09:00", "opened", "kind", "repair"),
        ("Q", "04-15T09:30", "status", "status", "waiting_parts"),
    ]
    .iter()
    .map(|(ticket, at, kind, key, value)| {
        format!(
            r#"{{"ticket":"{ticket}","at":"2026-{at}:00+08:00","type":"{kind}","attrs":{{"{key}":"{value}"}}}}"#
        )
    })
    .collect();
    let mut engine = Engine::new(&set, &Options::default());
    for l in &lines {
        let got = engine.push_json(l.as_bytes());
        assert!(got.is_empty(), "{got:?}");
    }
    let bytes = engine.snapshot().expect("snapshot");
    // Every instant as seconds and nanoseconds: no year of them appears as text.
    assert!(
        !bytes.windows(5).any(|w| w == b"2026-"),
        "an instant written as text"
    );
    let restored = Engine::restore(&set, &bytes).expect("restore").finish();
    let whole = engine.finish();
    assert_eq!(restored.records, whole.records);
    assert_eq!(restored.summary, whole.summary);
    let p = whole
        .records
        .iter()
        .find(|r| r.ticket() == Some("P"))
        .expect("P is judged at the end");
    assert!(matches!(p, Record::Verdict(_)), "{p:?}");
}

/// A host asking about one ticket forks only what the ticket's records come of
/// (`Engine::fork_ticket`): at any point of a dense stream, for every ticket, what finishing
/// that copy gives about the ticket is what finishing a whole fork gives about it. The
/// retention of two days makes cases settle with clocks still running (judged at the end),
/// and quiet cases rest as bytes; the window keeps events waiting.
#[test]
fn a_fork_for_one_ticket_judges_it_as_a_whole_fork_does() {
    let set = every_policy();
    let gen = pledge::gen::GenOptions {
        cases: 600,
        seed: 5,
        days: 12,
        shuffle: 0.02,
        max_displacement: 30,
        ..pledge::gen::GenOptions::default()
    }
    .dense();
    let mut stream = Vec::new();
    pledge::gen::generate(&gen, &mut stream).expect("generates");
    let lines: Vec<&[u8]> = stream
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let opts = Options::default()
        .reorder_window(Duration::hours(1))
        .retain(Duration::days(2));
    let mut engine = Engine::new(&set, &opts);
    let mut tickets = std::collections::BTreeSet::new();
    let mut compared = 0;
    let cuts = [lines.len() / 3, 2 * lines.len() / 3, lines.len()];
    let mut next = 0;
    for cut in cuts {
        for line in &lines[next..cut] {
            engine.push_json(line);
            if let Some(t) = serde_json::from_slice::<Value>(line)
                .ok()
                .and_then(|v| v["ticket"].as_str().map(String::from))
            {
                tickets.insert(t);
            }
        }
        next = cut;
        let mut whole: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        // A case's own records: a recurrence is found among several cases, and its record is
        // not one of them.
        let own = |r: &Record| {
            matches!(
                r,
                Record::Verdict(_) | Record::Action(_) | Record::Finding(_)
            )
        };
        for r in engine.fork().finish().records {
            if let Some(t) = r.ticket().filter(|_| own(&r)) {
                let json = serde_json::to_string(&r).expect("json");
                whole.entry(t.to_string()).or_default().push(json);
            }
        }
        assert!(!whole.is_empty());
        for t in &tickets {
            let one: Vec<String> = engine
                .fork_ticket(t)
                .finish_ticket(t)
                .records
                .iter()
                .filter(|r| own(r))
                .map(|r| serde_json::to_string(r).expect("json"))
                .collect();
            assert_eq!(
                &one,
                whole.get(t).unwrap_or(&Vec::new()),
                "{t} at line {cut}"
            );
            compared += one.len();
        }
    }
    assert!(compared > 1000, "{compared} records compared");
}

/// Sets read separately join in order; two policies of one name would count every verdict
/// twice, and are refused with the diagnostic the command gives, naming both origins.
#[test]
fn combined_sets_keep_their_order_and_refuse_a_name_twice() {
    let joined = PolicySet::combine([desk(), shipped()]).expect("distinct names");
    assert_eq!(
        joined.names().collect::<Vec<_>>(),
        ["desk", "customer-requests", "repairs"]
    );
    let again = PolicySet::from_text(DESK, "copy.pledge").expect("parses");
    let err = PolicySet::combine([desk(), shipped(), again]).expect_err("desk twice");
    let codes: Vec<&str> = err.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["pledge::policy::duplicate_name"]);
    let text = err.to_string();
    assert!(
        text.contains("`desk.pledge`") && text.contains("`copy.pledge`"),
        "{text}"
    );
}
