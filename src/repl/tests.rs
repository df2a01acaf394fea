//! `Session::execute` for every command, on the shipped National Day example.

use super::Session;

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn session() -> Session {
    let mut s = Session::new();
    assert!(
        s.execute(&format!(":load {}", example("national-day.pledge")))
            .ok
    );
    assert!(
        s.execute(&format!(":events {}", example("national-day.jsonl")))
            .ok
    );
    s
}

const ONE_WORKDAY: &str = r#"deadline reply_2workdays {
  when kind in ["complaint", "inquiry"]
  until progress
  within 1 workday on office
  pause while status in ["waiting_customer"]
}"#;

#[test]
fn loading_reports_what_was_read() {
    let mut s = Session::new();
    let o = s.execute(&format!(":load {}", example("national-day.pledge")));
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("loaded policy `desk`"), "{}", o.text);
    assert!(o.text.contains("2 clause(s), 1 calendar(s)"), "{}", o.text);
    let o = s.execute(&format!(":events {}", example("national-day.jsonl")));
    assert!(o.text.contains("14 event(s) of 4 case(s)"), "{}", o.text);
    let o = s.execute(":load /nonexistent/x.pledge");
    assert!(!o.ok);
    assert!(o.text.contains("pledge::io::unreadable"), "{}", o.text);
    assert!(!s.execute(":events /nonexistent/x.jsonl").ok);
    assert!(!s.execute(":load").ok);
    assert!(s.execute(":reload").ok);
}

#[test]
fn duplicate_ids_are_ignored_like_check_does() {
    let mut s = Session::new();
    let o = s.execute(&format!(":events {}", example("service-desk.jsonl")));
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("1 duplicate id(s) ignored"), "{}", o.text);
    assert!(o.text.contains("line(s) rejected"), "{}", o.text);
}

#[test]
fn summary_counts_verdicts_per_clause() {
    let mut s = session();
    let o = s.execute(":summary");
    assert!(o.ok);
    assert!(
        o.text.contains("4 case(s) as of Tue 2026-10-13 09:00"),
        "{}",
        o.text
    );
    let line = o
        .text
        .lines()
        .find(|l| l.contains("desk/reply_2workdays"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>()[1..],
        ["2", "0", "0", "100.0%"]
    );
}

#[test]
fn a_what_if_flips_known_cases_and_undo_takes_it_back() {
    let mut s = session();
    let o = s.execute(ONE_WORKDAY);
    assert!(o.ok, "{}", o.text);
    assert!(o
        .text
        .contains("replaced deadline `reply_2workdays` in policy `desk`"));
    let o = s.execute(":diff");
    assert!(o.text.contains("2 verdict(s) changed status"), "{}", o.text);
    assert!(
        o.text.contains("T-1042 desk/reply_2workdays: met → breached (due Thu 2026-10-08 12:00 → Wed 2026-09-30 10:00)"),
        "{}",
        o.text
    );
    assert!(
        o.text
            .contains("T-1045 desk/reply_2workdays: met → breached"),
        "{}",
        o.text
    );
    assert!(o.text.contains("100.0% (2/2)"), "{}", o.text);
    assert!(o.text.contains("0.0% (0/2)"), "{}", o.text);
    assert!(s
        .execute(":clauses")
        .text
        .contains("reply_2workdays  (what-if)"));
    assert!(s
        .execute(":show reply_2workdays")
        .text
        .contains("within 1 workday on office"));
    assert!(s.execute(":undo").ok);
    assert!(s
        .execute(":diff")
        .text
        .contains("no verdict changed status"));
    assert!(!s.execute(":undo").ok, "nothing left to undo");
    s.execute(ONE_WORKDAY);
    assert!(s.execute(":reset").ok);
    assert!(s
        .execute(":diff")
        .text
        .contains("no verdict changed status"));
}

#[test]
fn a_new_clause_goes_to_the_current_policy() {
    let mut s = session();
    let o = s.execute("deadline close_3d {\n  until closed\n  within 3 days\n}");
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("added deadline `close_3d`"), "{}", o.text);
    let o = s.execute(":diff");
    assert!(
        o.text.contains("T-1042 desk/close_3d: none → breached"),
        "{}",
        o.text
    );
    assert!(s.execute(":use desk").ok);
    assert!(!s.execute(":use nothing").ok);
}

#[test]
fn a_calendar_what_if_rebinds_the_clauses_that_count_on_it() {
    let mut s = session();
    let o = s.execute("calendar office {\n  hours mon..fri 09:00-12:00, 13:00-18:00\n}");
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("replaced calendar `office`"), "{}", o.text);
    // Without the holiday, T-1042 is due on 1 October, during the holiday.
    let o = s.execute(":diff");
    assert!(
        o.text
            .contains("T-1042 desk/reply_2workdays: met → breached"),
        "{}",
        o.text
    );
}

#[test]
fn errors_are_miette_diagnostics_and_leave_the_session_as_it_was() {
    let mut s = session();
    let o = s.execute("deadline broken {\n  until\n}");
    assert!(!o.ok);
    assert!(
        o.text.contains("pledge::syntax::unexpected_token"),
        "{}",
        o.text
    );
    let o = s.execute("deadline x {\n  until resolved\n  within 2 workdays on offce\n}");
    assert!(o.text.contains("pledge::calendar::unknown"), "{}", o.text);
    assert!(o.text.contains("did you mean `office`?"), "{}", o.text);
    assert!(!s.execute(":undo").ok, "a failed what-if changes nothing");
    assert!(!s.execute(":bogus").ok);
    assert!(!s.execute("hello").ok);
}

#[test]
fn why_names_the_pause_and_the_holiday() {
    let mut s = session();
    let o = s.execute(":why T-1042");
    assert!(o.ok, "{}", o.text);
    for needle in [
        "applies: `kind in [\"complaint\", \"inquiry\"]` holds (kind = \"complaint\")",
        "clock starts Tue 2026-09-29 10:00 at `opened`",
        "calendar: Thu 2026-10-01 – Wed 2026-10-07: holiday 国庆节, not counted",
        "pause: status `waiting_customer` from Wed 2026-09-30 14:00 to Wed 2026-09-30 16:00: 2 h paused",
        "due Thu 2026-10-08 12:00 (without the pauses: Thu 2026-10-08 10:00)",
        "clock stops Thu 2026-10-08 11:30 at `progress`",
        "verdict: met, 30 min before the due time",
        "desk/dispatch_2h: `kind == \"repair\"` is false: `kind` is \"complaint\", not \"repair\"",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    let o = s.execute(":why T-1045");
    assert!(
        o.text
            .contains("Sat 2026-10-10: make-up working day (国庆节调休), counted"),
        "{}",
        o.text
    );
    let o = s.execute(":why T-9");
    assert!(!o.ok);
    assert!(!s.execute(":why").ok);
}

#[test]
fn ask_evaluates_a_condition_on_a_case() {
    let mut s = session();
    let o = s.execute(r#":ask T-1042 kind == "complaint" and severity == "major""#);
    assert_eq!(
        o.text,
        "true (kind = \"complaint\", severity = \"major\")\n"
    );
    let o = s.execute(r#":ask T-1042 severity == "minor""#);
    assert_eq!(o.text, "false: `severity` is \"major\", not \"minor\"\n");
    let o = s.execute(r#":ask T-1045 has severity"#);
    assert_eq!(o.text, "false: the case has no `severity`\n");
    let o = s.execute(":ask T-1042 kind ==");
    assert!(!o.ok);
    assert!(o.text.contains("pledge::syntax"), "{}", o.text);
    assert!(!s.execute(":ask T-1042").ok);
}

#[test]
fn case_and_cases_show_the_data() {
    let mut s = session();
    let o = s.execute(":case T-1043");
    assert!(
        o.text
            .contains("case T-1043: channel = \"app\", kind = \"repair\", severity = \"minor\""),
        "{}",
        o.text
    );
    assert!(
        o.text
            .contains("Fri 2026-10-09 10:30  dispatched    to = \"engineering\""),
        "{}",
        o.text
    );
    let o = s.execute(":cases");
    assert_eq!(o.text.lines().count(), 4);
}

#[test]
fn now_moves_the_as_of_instant() {
    let mut s = session();
    assert_eq!(
        s.execute(":now 2026-10-09T10:00").text,
        "now is Fri 2026-10-09 10:00\n"
    );
    let line = s.execute(":summary").text;
    let dispatch = line
        .lines()
        .find(|l| l.contains("desk/dispatch_2h"))
        .unwrap();
    assert_eq!(
        dispatch.split_whitespace().collect::<Vec<_>>()[1..],
        ["0", "0", "1", "-"]
    );
    let o = s.execute(":case T-1043");
    assert!(o.text.contains("(after now, ignored)"), "{}", o.text);
    assert!(s
        .execute(":now latest")
        .text
        .contains("last event's time, Tue 2026-10-13 09:00"));
    assert!(!s.execute(":now tomorrow").ok);
}

#[test]
fn save_writes_source_that_loads_back_as_the_working_copy() {
    let mut s = session();
    s.execute(ONE_WORKDAY);
    s.execute("calendar office {\n  hours mon..fri 09:00-17:00\n  holidays \"cn-2026\"\n}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.pledge");
    let o = s.execute(&format!(":save {}", path.display()));
    assert!(o.ok, "{}", o.text);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("    within 1 workday on office\n"), "{text}");
    assert!(
        text.contains(
            "  calendar office {\n    hours mon..fri 09:00-17:00\n    holidays \"cn-2026\"\n  }"
        ),
        "{text}"
    );
    // The author's comments around the changed clauses survive.
    assert!(
        text.contains("# Repairs: an engineer is dispatched within 2 hours"),
        "{text}"
    );
    let mut again = Session::new();
    assert!(again.execute(&format!(":load {}", path.display())).ok);
    assert!(!s.execute(":save").ok);
    assert!(!s.execute(":save /tmp/x.pledge nothing").ok);
}

#[test]
fn help_lists_every_command_with_an_example() {
    let mut s = Session::new();
    let o = s.execute(":help");
    for (name, _, example) in super::COMMANDS {
        assert!(o.text.contains(name), "{name}");
        assert!(o.text.contains(example), "{example}");
    }
    assert!(s.execute(":quit").quit);
}

#[test]
fn input_is_complete_when_braces_balance() {
    assert!(Session::is_complete(":why T-1"));
    assert!(!Session::is_complete("deadline x {\n until closed"));
    assert!(Session::is_complete(
        "deadline x {\n until closed\n within 1 hour\n}"
    ));
    assert!(!Session::is_complete("deadline x \"}\" {"));
}
