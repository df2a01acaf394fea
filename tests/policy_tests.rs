//! `pledge test`: the shipped policy tests pass through the real binary, a failing test exits 1
//! with a readable diff, a bad test file exits 2 naming its path and line, and the compact
//! event line reads as documented.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use chrono_tz::Tz;
use pledge::policy_test::{fields_of, parse_event_line, EventLine, RECORD_KINDS};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

const FIXTURES: &str = "tests/fixtures/policy-tests";

fn pledge() -> Command {
    let mut cmd = Command::cargo_bin("pledge").expect("the pledge binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 output")
}

fn shanghai() -> Tz {
    "Asia/Shanghai".parse().expect("a zone")
}

// ---------------------------------------------------------------- the shipped tests

#[test]
fn the_shipped_policy_tests_pass() {
    let out = pledge().arg("test").output().expect("runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let running: usize = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("running "))
        .and_then(|l| l.strip_suffix(" tests"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `running N tests` line:\n{text}"));
    let ok = text.lines().filter(|l| l.ends_with(" ... ok")).count();
    assert_eq!(ok, running, "{text}");
    assert!(
        running >= 40,
        "the shipped tests shrank to {running}:\n{text}"
    );
    assert!(text.ends_with(&format!("test result: ok. {running} passed; 0 failed\n")));
}

#[test]
fn every_seed_document_has_a_test_file() {
    let names: Vec<String> = std::fs::read_dir("policies/tests")
        .expect("policies/tests")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pledge-test"))
        .collect();
    for seed in ["000", "001", "002", "003", "004"] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with(&format!("seed-{seed}-"))),
            "no test file for seed {seed}: {names:?}"
        );
    }
}

/// Every clause family has a case whose expectations name it, among the shipped tests.
#[test]
fn the_shipped_tests_cover_every_clause_family() {
    let mut text = String::new();
    for entry in std::fs::read_dir("policies/tests").expect("policies/tests") {
        let path = entry.expect("entry").path();
        text.push_str(&std::fs::read_to_string(&path).expect("readable"));
    }
    let policies: Vec<pledge::policy::Policy> = std::fs::read_dir("policies")
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .map(|p| pledge::syntax::load_policy(&p).expect("a shipped policy"))
        .collect();
    let mut covered = BTreeSet::new();
    for policy in &policies {
        for clause in &policy.clauses {
            if text.contains(&format!("clause = \"{}\"", clause.name)) {
                covered.insert(clause.body.keyword());
            }
        }
    }
    let families = [
        "deadline", "notify", "sample", "target", "repeat", "every", "window",
    ];
    for family in families {
        assert!(
            covered.contains(family),
            "no test names a `{family}` clause"
        );
    }
}

#[test]
fn a_directory_or_a_file_may_be_named() {
    let out = pledge()
        .args(["test", "policies/tests/seed-002-security.pledge-test"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("running 6 tests\n"),
        "{}",
        stdout(&out)
    );
    let out = pledge()
        .args(["test", "policies/tests", "--filter", "National Day"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("running 3 tests\n"), "{text}");
    assert!(text.contains(" filtered out\n"), "{text}");
}

// ---------------------------------------------------------------- failures

#[test]
fn a_failing_policy_test_exits_1_and_prints_the_diff() {
    let out = pledge()
        .args(["test", &format!("{FIXTURES}/failing.pledge-test")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    insta::assert_snapshot!("failing_policy_test_report", text);
}

#[test]
fn a_bad_test_file_exits_2_with_its_path_and_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::copy(
        format!("{FIXTURES}/desk.pledge"),
        dir.path().join("desk.pledge"),
    )
    .expect("copied");
    let path = dir.path().join("bad.pledge-test");
    std::fs::write(
        &path,
        concat!(
            "policies = [\"desk.pledge\"]\n",
            "\n",
            "[[case]]\n",
            "name = \"typo\"\n",
            "events = '''\n",
            "2026-03-02 09:00  C-1  opened  kind=complaint\n",
            "2026-03-02  C-1  contacted\n",
            "'''\n",
            "expect = [{ record = \"verdict\", stauts = \"met\" }]\n",
        ),
    )
    .expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "nothing runs: {}", stdout(&out));
    let err = stderr(&out);
    let name = path.display().to_string();
    assert!(err.contains(&format!("{name}:7:1")), "{err}");
    assert!(err.contains("`2026-03-02` has no time of day"), "{err}");
    assert!(err.contains(&format!("{name}:9:11")), "{err}");
    assert!(
        err.contains("`stauts` is not a field of a `verdict` record"),
        "{err}"
    );
    // Its one `expect` was wrong, and said so: the case does not also "expect nothing".
    assert!(!err.contains("expects nothing"), "{err}");

    // An instant field that could never match: refused, not a test that always fails.
    std::fs::write(
        &path,
        concat!(
            "policies = [\"desk.pledge\"]\n",
            "[[case]]\n",
            "name = \"typo\"\n",
            "events = '2026-03-02 09:00  C-1  opened  kind=complaint'\n",
            "expect = [{ record = \"verdict\", due = \"2026-03-02 10:00\" },\n",
            "          { record = \"verdict\", due = \"garbage\" }]\n",
            "absent = [{ stop = 3 }]\n",
        ),
    )
    .expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`due` is not an instant: `garbage`\n"),
        "{err}"
    );
    assert!(err.contains(&format!("{name}:6:11")), "{err}");
    assert!(
        err.contains("`stop` is not an instant: an integer, not a date and time"),
        "{err}"
    );
    assert!(
        !err.contains(&format!("{name}:5:")),
        "the valid one passes: {err}"
    );

    // A clause, policy or verdict status no policy of the test has: an `absent` naming it
    // would pass whatever the policies do, so it is refused, with the name meant.
    std::fs::write(
        &path,
        concat!(
            "policies = [\"desk.pledge\"]\n",
            "[[case]]\n",
            "name = \"typos\"\n",
            "events = '2026-03-02 09:00  C-1  opened  kind=complaint'\n",
            "absent = [{ record = \"verdict\", clause = \"contact_1hr\" },\n",
            "          { record = \"verdict\", status = \"mett\" },\n",
            "          { policy = \"dsk\" },\n",
            "          { record = \"verdict\", status = \"breached\" }]\n",
        ),
    )
    .expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("pledge::test::unknown_value"), "{err}");
    assert!(
        err.contains("no clause is called `contact_1hr`: this record can match nothing"),
        "{err}"
    );
    assert!(err.contains("no verdict status is called `mett`"), "{err}");
    assert!(err.contains("did you mean `met`?"), "{err}");
    assert!(err.contains("no policy is called `dsk`"), "{err}");
    assert!(
        !err.contains(&format!("{name}:8:")),
        "the valid one passes: {err}"
    );

    // TOML that does not parse: its line and column, from the parser's span.
    std::fs::write(&path, "policies = [\"desk.pledge\"]\n[[case]]\nname = \n").expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("pledge::test::invalid"), "{err}");
    assert!(err.contains(&format!("{name}:3:")), "{err}");
}

#[test]
fn a_policy_that_does_not_parse_exits_2_with_its_diagnostics() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("broken.pledge"),
        "policy \"p\" {\n  deadline d \"t\" {\n    until contactd\n    within 1 hour\n  }\n}\n",
    )
    .expect("written");
    let path = dir.path().join("t.pledge-test");
    std::fs::write(
        &path,
        "policies = [\"broken.pledge\", \"missing.pledge\"]\n[[case]]\nname = \"x\"\nevents = ''\nabsent = [{ record = \"verdict\" }]\n",
    )
    .expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("pledge::clause::unknown_event"), "{err}");
    assert!(err.contains("broken.pledge:3:"), "{err}");
    assert!(err.contains("pledge::test::policy_unreadable"), "{err}");
    assert!(err.contains("missing.pledge"), "{err}");
}

#[test]
fn a_path_without_tests_exits_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = pledge().arg("test").arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no `*.pledge-test` file under"));
    let out = pledge()
        .args(["test", "no/such/dir"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read `no/such/dir`"));
}

// ---------------------------------------------------------------- record fields

/// The fields a test may name are exactly those the records have: a field the check stops
/// writing, or a new one, shows up here rather than as an expectation that can never match.
#[test]
fn the_known_fields_are_the_fields_records_have() {
    let generated = pledge()
        .args(["gen", "--cases", "300", "--seed", "1"])
        .output()
        .expect("runs");
    let mut events = generated.stdout;
    events.extend_from_slice(b"not json\n");
    events.extend_from_slice(
        b"{\"ticket\":\"X-1\",\"at\":\"2026-03-02T09:00:00+08:00\",\"type\":\"progress\"}\n",
    );
    let policies: Vec<String> = std::fs::read_dir("policies")
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .map(|p| p.display().to_string())
        .collect();
    let out = pledge()
        .arg("check")
        .args(&policies)
        .args(["--events", "-", "--format", "jsonl"])
        .write_stdin(events)
        .output()
        .expect("runs");
    let mut seen = BTreeSet::new();
    for line in stdout(&out).lines() {
        let record: Json = serde_json::from_str(line).expect("a JSON line");
        let kind = record["record"].as_str().expect("a kind").to_string();
        let keys: BTreeSet<&str> = record
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let known: BTreeSet<&str> = fields_of(Some(&kind)).into_iter().collect();
        assert_eq!(keys, known, "fields of a `{kind}` record");
        seen.insert(kind);
    }
    let kinds: BTreeSet<String> = RECORD_KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(seen, kinds, "every kind of record was checked");
}

// ---------------------------------------------------------------- the compact event line

fn compact(line: &str) -> Json {
    match parse_event_line(line, shanghai()) {
        Ok(EventLine::Compact(value)) => value,
        other => panic!("`{line}`: {other:?}"),
    }
}

fn compact_error(line: &str) -> (String, std::ops::Range<usize>) {
    match parse_event_line(line, shanghai()) {
        Err(e) => (e.message, e.span),
        Ok(other) => panic!("`{line}` was read as {other:?}"),
    }
}

#[test]
fn a_compact_line_is_the_event_it_stands_for() {
    assert_eq!(
        compact("2026-03-02 09:00  C-1  opened  kind=complaint unit=3-2-1501 topic=\"漏 水\""),
        json!({
            "ticket": "C-1",
            "at": "2026-03-02T09:00:00+08:00",
            "type": "opened",
            "attrs": {"kind": "complaint", "unit": "3-2-1501", "topic": "漏 水"},
        })
    );
    // No attributes: no `attrs` key at all.
    assert_eq!(
        compact("2026-03-02 09:40:30 C-1 contacted"),
        json!({"ticket": "C-1", "at": "2026-03-02T09:40:30+08:00", "type": "contacted"})
    );
}

#[test]
fn compact_times_are_local_unless_they_carry_an_offset() {
    let at = |line: &str| compact(line)["at"].as_str().expect("at").to_string();
    assert_eq!(at("2026-03-02T09:00 T o"), "2026-03-02T09:00:00+08:00");
    assert_eq!(at("2026-03-02 01:00Z T o"), "2026-03-02T09:00:00+08:00");
    assert_eq!(
        at("2026-03-02T09:00:00+09:00 T o"),
        "2026-03-02T08:00:00+08:00"
    );
    assert_eq!(
        at("2026-03-02 09:00:00.5 T o"),
        "2026-03-02T09:00:00.500+08:00"
    );
    // Another zone for local times.
    let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
    let Ok(EventLine::Compact(v)) = parse_event_line("2026-03-02 09:00 T o", berlin) else {
        panic!("not read");
    };
    assert_eq!(v["at"], "2026-03-02T09:00:00+01:00");
}

#[test]
fn compact_values_are_typed_like_json() {
    let attrs = compact(
        "2026-03-02 09:00 T o a=true b=false c=null d=4 e=-1.5 f=0.666 g=017 h=\"4\" i=1e3 j=x=y",
    )["attrs"]
        .clone();
    assert_eq!(
        attrs,
        json!({
            "a": true, "b": false, "c": null, "d": 4, "e": -1.5, "f": 0.666,
            "g": "017", "h": "4", "i": 1e3, "j": "x=y",
        })
    );
    let attrs = compact("2026-03-02 09:00 T notified channel=[sms, app_push] to=[] n=[1,\"a b\"]")
        ["attrs"]
        .clone();
    assert_eq!(
        attrs,
        json!({"channel": ["sms", "app_push"], "to": [], "n": [1, "a b"]})
    );
}

#[test]
fn compact_id_is_the_event_id_and_comments_are_ignored() {
    assert_eq!(
        compact("2026-03-02 09:00 T o id=e1 kind=x  # the first event"),
        json!({
            "ticket": "T", "at": "2026-03-02T09:00:00+08:00", "type": "o", "id": "e1",
            "attrs": {"kind": "x"},
        })
    );
    assert_eq!(
        compact("2026-03-02 09:00 \"T 1\" o note=a#b")["attrs"]["note"],
        "a#b"
    );
    // The full-width space of a Chinese keyboard separates fields too.
    assert_eq!(
        compact("2026-03-02 09:00\u{3000}T\u{3000}o\u{3000}kind=x"),
        json!({"ticket": "T", "at": "2026-03-02T09:00:00+08:00", "type": "o", "attrs": {"kind": "x"}})
    );
    assert_eq!(
        compact("2026-03-02 09:00 \"T 1\" o")["ticket"],
        "T 1",
        "a quoted ticket"
    );
}

#[test]
fn blank_comment_and_json_lines() {
    let zone = shanghai();
    assert_eq!(parse_event_line("", zone), Ok(EventLine::Blank));
    assert_eq!(parse_event_line("   \t", zone), Ok(EventLine::Blank));
    assert_eq!(parse_event_line("  # a note", zone), Ok(EventLine::Blank));
    let json_line = r#"{"ticket":"T","at":"2026-03-02T09:00:00+08:00","type":"opened"}"#;
    assert_eq!(
        parse_event_line(&format!("  {json_line}\r"), zone),
        Ok(EventLine::Json(json_line.to_string()))
    );
    assert_eq!(EventLine::Blank.to_jsonl(), "");
}

#[test]
fn bad_compact_lines_say_what_and_where() {
    let cases: &[(&str, &str, std::ops::Range<usize>)] = &[
        ("2026-03-02", "`2026-03-02` has no time of day", 0..10),
        (
            "2026-03-02 T-1 opened",
            "`2026-03-02` has no time of day",
            0..10,
        ),
        (
            "2026-02-30 09:00 T o",
            "`2026-02-30 09:00` is not a date and time",
            0..16,
        ),
        ("yesterday T o", "`yesterday` is not a date and time", 0..9),
        ("2026-03-02 09:00", "expected a ticket", 16..16),
        ("2026-03-02 09:00 T-1", "expected an event type", 20..20),
        (
            "2026-03-02 09:00 kind=x o",
            "expected a ticket, found `kind=x`",
            17..23,
        ),
        (
            "2026-03-02 09:00 T o kind",
            "expected `key=value`, found `kind`",
            21..25,
        ),
        ("2026-03-02 09:00 T o k=", "`k=` has no value", 21..23),
        ("2026-03-02 09:00 T o k= v", "`k=` has no value", 21..23),
        (
            "2026-03-02 09:00 T o =v",
            "expected an attribute name before `=`",
            21..22,
        ),
        (
            "2026-03-02 09:00 T o 名=v",
            "`名` is not an attribute name",
            21..24,
        ),
        ("2026-03-02 09:00 T o a=1 a=2", "`a` is given twice", 25..28),
        (
            "2026-03-02 09:00 T o id=1 id=2",
            "`id` is given twice",
            26..30,
        ),
        (
            "2026-03-02 09:00 T o a=[x, y",
            "`[` is never closed",
            23..24,
        ),
        (
            "2026-03-02 09:00 T o a=[x y]",
            "expected `,` or `]`, found `y`",
            26..27,
        ),
        (
            "2026-03-02 09:00 T o a=[x,,y]",
            "expected a value in the list",
            26..27,
        ),
        (
            "2026-03-02 09:00 T o a=\"x",
            "the quoted string is never closed",
            23..25,
        ),
        (
            "2026-03-02 09:00 T o a=x\"y",
            "`x\"y` has a quote inside a bare value",
            23..26,
        ),
        (
            "2026-03-02 09:00 T o a=\"x\"b=1",
            "expected a space before the next attribute",
            26..29,
        ),
    ];
    for (line, message, span) in cases {
        let (got, got_span) = compact_error(line);
        assert_eq!(&got, message, "`{line}`");
        assert_eq!(&got_span, span, "`{line}`");
    }
}

// ---------------------------------------------------------------- the README

/// The test file shown in the README passes against the shipped policy it names.
#[test]
fn the_readme_example_test_file_passes() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let section = readme
        .split("### Testing policies")
        .nth(1)
        .expect("a section on testing policies");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a TOML example");
    let policy = std::fs::canonicalize("policies/complaints.pledge").expect("the policy");
    let example = example.replace(
        "\"../complaints.pledge\"",
        &serde_json::to_string(&policy.display().to_string()).expect("a path"),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("readme.pledge-test");
    std::fs::write(&path, example).expect("written");
    let out = pledge().arg("test").arg(&path).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("test result: ok. 1 passed; 0 failed"));
}
