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
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    // The clause that does not apply is summed up; `all` names it with its reason.
    assert!(
        o.text.ends_with(
            "\n1 more clause does not apply, because `kind` is \"complaint\" (1): `:why T-1042 all` lists them\n"
        ),
        "{}",
        o.text
    );
    assert!(!o.text.contains("desk/dispatch_2h"), "{}", o.text);
    let all = s.execute(":why T-1042 all");
    assert!(all.ok, "{}", all.text);
    assert!(
        all.text.starts_with(o.text.lines().next().unwrap()),
        "{}",
        all.text
    );
    assert!(
        all.text.ends_with(
            "\ndoes not apply:\n  desk/dispatch_2h: `kind == \"repair\"` is false: `kind` is \"complaint\", not \"repair\"\n"
        ),
        "{}",
        all.text
    );
    assert!(!s.execute(":why T-9 all").ok);
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

// ----- every clause kind, on the estate fixture ------------------------------------------------

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/repl/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn estate() -> Session {
    let mut s = Session::new();
    let o = s.execute(&format!(":load {}", fixture("estate.pledge")));
    assert!(o.ok, "{}", o.text);
    let o = s.execute(&format!(":events {}", fixture("estate.jsonl")));
    assert!(o.ok, "{}", o.text);
    s
}

const THREE_CHANNELS: &str = r#"notify outage_notice {
  when kind == "notice"
  channels all [notice_board, sms, app_push]
  within 1 hour
}"#;

#[test]
fn the_summary_shows_every_clause_kind() {
    let mut s = estate();
    let o = s.execute(":summary");
    assert!(o.ok, "{}", o.text);
    for needle in [
        "estate/dispatch_2h                               3        1       0      75.0%",
        "stage actions",
        "estate/outage_notice                         notify  1 finding(s) on 1 case(s): 1 notify.channel_missing",
        "estate/repair_spot_check                     sample  2026-03: 1 of 2 required check(s) done among 4 case(s): short",
        "estate/repair_satisfaction_80                target  2026-03: 75% < 80% (3 of 4): missed",
        "estate/repeat_repair                         repeat  1 repeat(s) fired, each asking to escalate `project_manager`",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    assert!(!o.text.contains("pledge check"), "{}", o.text);
}

#[test]
fn a_notify_what_if_makes_a_finding_appear_in_the_diff() {
    let mut s = estate();
    assert!(s.execute(THREE_CHANNELS).ok);
    let o = s.execute(":diff");
    assert!(o.ok, "{}", o.text);
    assert!(
        o.text.contains(
            "estate/outage_notice                             1 finding(s)     2 finding(s)"
        ),
        "{}",
        o.text
    );
    assert!(o.text.contains("1 finding(s) appeared:"), "{}", o.text);
    assert!(
        o.text.contains("  + N-1 estate/outage_notice `notify.channel_missing`: no notice on `app_push` by 2026-03-05T09:00:00+08:00"),
        "{}",
        o.text
    );
    // Only the clause that changed has a row.
    assert!(!o.text.contains("estate/dispatch_2h"), "{}", o.text);
    // Dropping `sms` instead makes the finding of N-2 disappear.
    assert!(s.execute(":undo").ok);
    assert!(s
        .execute("notify outage_notice {\n  when kind == \"notice\"\n  channels all [notice_board]\n  within 1 hour\n}")
        .ok);
    let o = s.execute(":diff");
    assert!(o.text.contains("1 finding(s) disappeared:"), "{}", o.text);
    assert!(
        o.text.contains("  - N-2 estate/outage_notice"),
        "{}",
        o.text
    );
}

#[test]
fn sample_and_target_what_ifs_change_period_outcomes() {
    let mut s = estate();
    let o = s.execute(
        "sample repair_spot_check {\n  when kind == \"repair\"\n  having resolved\n  ratio 25% by quality per month\n  evidence spot_checked\n}",
    );
    assert!(o.ok, "{}", o.text);
    let o = s.execute(":diff");
    assert!(
        o.text.contains("1/2 checked      1/1 checked"),
        "{}",
        o.text
    );
    assert!(
        o.text.contains("estate/repair_spot_check 2026-03: 1 of 2 required check(s) done among 4 case(s): short → 1 of 1 required check(s) done among 4 case(s): met"),
        "{}",
        o.text
    );
    assert!(s.execute(":reset").ok);
    let o = s.execute(
        "target repair_satisfaction_80 {\n  when kind == \"repair\"\n  ratio rated(satisfied == true) among rated per month\n  at least 75%\n}",
    );
    assert!(o.ok, "{}", o.text);
    let o = s.execute(":diff");
    assert!(o.text.contains("0 met, 1 missed"), "{}", o.text);
    assert!(
        o.text.contains("estate/repair_satisfaction_80 2026-03: 75% < 80% (3 of 4): missed → 75% ≥ 75% (3 of 4): met"),
        "{}",
        o.text
    );
}

#[test]
fn a_stage_what_if_changes_actions_in_the_diff() {
    let mut s = estate();
    let o = s.execute(
        "deadline dispatch_2h {\n  when kind == \"repair\"\n  until dispatched\n  within 2 hours\n  after 30 minutes escalate supervisor \"派工超过30分钟\"\n}",
    );
    assert!(o.ok, "{}", o.text);
    let o = s.execute(":diff");
    // R-4 was dispatched after 45 minutes: the earlier stage is now reached, and missed.
    assert!(o.text.contains("stage action(s) changed:"), "{}", o.text);
    assert!(
        o.text.contains("R-4 estate/dispatch_2h stage 1 (escalate `supervisor` at Fri 2026-03-20 09:30): not reached → missed"),
        "{}",
        o.text
    );
}

#[test]
fn why_explains_notices_samples_targets_and_repeats() {
    let mut s = estate();
    let o = s.execute(":why N-2");
    assert!(o.ok, "{}", o.text);
    for needle in [
        "estate/outage_notice \"停水停电通过公告、短信通知\" (notify)",
        "  due Sun 2026-03-15 09:00",
        "    `notice_board`: sent Sun 2026-03-15 08:20, on time",
        "    `sms`: not sent: missing",
        "  finding `notify.channel_missing`: no notice on `sms` by 2026-03-15T09:00:00+08:00",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    let all = s.execute(":why N-2 all");
    assert!(
        all.text
            .contains("  estate/repair_spot_check (sample): `kind == \"repair\"` is false"),
        "{}",
        all.text
    );
    let o = s.execute(":why R-2 all");
    for needle in [
        "in the population of 2026-03: not checked",
        "the period: 1 of 2 required check(s) done among 4 case(s): short",
        "the draw of `pledge sample` (seed 0)",
        "counts in 2026-03: not a hit (no `rated(satisfied == true)` event)",
        "the period: 75% < 80% (3 of 4): missed",
        "part of a repeat (2 case(s) with the same asset within 30 days): R-1, R-2; escalate `project_manager` due Tue 2026-03-10 10:00",
        "estate/outage_notice (notify): `kind == \"notice\"` is false",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    assert!(!o.text.contains("not explained here"), "{}", o.text);
    // A late channel is named with how late it was.
    let o = s.execute(":why N-1");
    assert!(
        o.text.contains("`sms`: sent Thu 2026-03-05 08:30, on time"),
        "{}",
        o.text
    );
    assert!(o.text.contains("  no finding"), "{}", o.text);
}

#[test]
fn exactly_one_case_of_the_population_is_drawn_when_one_is_required() {
    let mut s = estate();
    assert!(s
        .execute("sample repair_spot_check {\n  when kind == \"repair\"\n  having resolved\n  ratio 25% by quality per month\n  evidence spot_checked\n}")
        .ok);
    let drawn = ["R-1", "R-2", "R-3", "R-4"]
        .iter()
        .filter(|t| {
            s.execute(&format!(":why {t}"))
                .text
                .contains("drawn for checking: rank 1 of 1")
        })
        .count();
    assert_eq!(drawn, 1);
}

#[test]
fn long_diff_sections_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("notices.jsonl");
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "{{\"ticket\":\"N-{i:02}\",\"at\":\"2026-03-05T08:00:00+08:00\",\"type\":\"opened\",\"attrs\":{{\"kind\":\"notice\"}}}}\n{{\"ticket\":\"N-{i:02}\",\"at\":\"2026-03-05T08:10:00+08:00\",\"type\":\"notified\",\"attrs\":{{\"channel\":[\"notice_board\",\"sms\"]}}}}\n"
        ));
    }
    std::fs::write(&events, text).unwrap();
    let mut s = Session::new();
    assert!(s.execute(&format!(":load {}", fixture("estate.pledge"))).ok);
    assert!(s.execute(&format!(":events {}", events.display())).ok);
    assert!(s.execute(":now 2026-03-06T00:00").ok);
    assert!(s.execute(THREE_CHANNELS).ok);
    let o = s.execute(":diff");
    assert!(o.text.contains("30 finding(s) appeared:"), "{}", o.text);
    assert_eq!(o.text.matches("  + N-").count(), super::report::LISTED);
    assert!(o.text.contains("  ... and 10 more"), "{}", o.text);
    // Sorted by ticket: the first twenty are listed.
    assert!(o.text.contains("+ N-19 "), "{}", o.text);
    assert!(!o.text.contains("+ N-20 "), "{}", o.text);
}

#[test]
fn paths_with_spaces_are_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my estate");
    std::fs::create_dir(&sub).unwrap();
    let policy = sub.join("estate policy.pledge");
    let events = sub.join("estate events.jsonl");
    std::fs::copy(fixture("estate.pledge"), &policy).unwrap();
    std::fs::copy(fixture("estate.jsonl"), &events).unwrap();
    let mut s = Session::new();
    let o = s.execute(&format!(":load \"{}\"", policy.display()));
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("loaded policy `estate`"), "{}", o.text);
    let o = s.execute(&format!(":events \"{}\"", events.display()));
    assert!(o.ok, "{}", o.text);
    assert!(o.text.contains("26 event(s) of 6 case(s)"), "{}", o.text);
    // Unquoted, the rest of the line is the event file.
    assert!(s.execute(&format!(":events {}", events.display())).ok);
    // Spaces escaped as file completion writes them.
    let escaped = |p: &std::path::Path| p.display().to_string().replace(' ', "\\ ");
    let o = s.execute(&format!(":load {}", escaped(&policy)));
    assert!(o.ok, "{}", o.text);
    let o = s.execute(&format!(":events {}", escaped(&events)));
    assert!(o.ok, "{}", o.text);
    // `:reload` quotes the remembered paths.
    assert!(s.execute(":reload").ok);
    let saved = sub.join("what if.pledge");
    let o = s.execute(&format!(":save '{}' estate", saved.display()));
    assert!(o.ok, "{}", o.text);
    assert!(saved.exists());
    let o = s.execute(":load \"unclosed.pledge");
    assert!(!o.ok);
    assert!(o.text.contains("is not closed"), "{}", o.text);
}

#[test]
fn why_names_late_channels_and_unknown_coverage() {
    let mut s = estate();
    let o = s.execute(
        "notify outage_notice {\n  when kind == \"notice\"\n  channels all [notice_board, sms]\n  within 15 minutes\n  coverage at least 95%\n}",
    );
    assert!(o.ok, "{}", o.text);
    let o = s.execute(":why N-1");
    for needle in [
        "    `notice_board`: sent Thu 2026-03-05 08:10, on time",
        "    `sms`: sent Thu 2026-03-05 08:30, 15 min late",
        "  coverage: no `notified` event carries usable `reached` and `total` counts (floor 95%)",
        "  finding `notify.channel_late`: `sms` notice sent at 2026-03-05T08:30:00+08:00, 15 min after the limit",
        "  finding `notify.coverage_unknown`",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    let o = s.execute(":diff");
    assert!(
        o.text
            .contains("  + N-1 estate/outage_notice `notify.channel_late`"),
        "{}",
        o.text
    );
    assert!(
        o.text
            .contains("  + N-2 estate/outage_notice `notify.coverage_unknown`"),
        "{}",
        o.text
    );
}

const SITE: &str = r#"policy "site" {
  zone "Asia/Shanghai"
  deadline dispatch_1h {
    until dispatched
    within 1 hour
  }
  target dispatch_rate {
    ratio met of dispatch_1h per month
    at least 90%
  }
  every patrol_2h {
    when kind == "area"
    patrolled every 2 hours
  }
  window works_hours {
    when kind == "area"
    progress only 08:00-12:00, 14:00-18:00
  }
}
"#;

const SITE_EVENTS: &str = r#"{"ticket":"A-1","at":"2026-03-02T08:00:00+08:00","type":"opened","attrs":{"kind":"area"}}
{"ticket":"A-1","at":"2026-03-02T09:00:00+08:00","type":"patrolled","attrs":{}}
{"ticket":"A-1","at":"2026-03-02T09:30:00+08:00","type":"dispatched","attrs":{}}
{"ticket":"A-1","at":"2026-03-02T13:00:00+08:00","type":"patrolled","attrs":{}}
{"ticket":"A-1","at":"2026-03-02T13:00:00+08:00","type":"progress","attrs":{}}
{"ticket":"A-1","at":"2026-03-02T14:00:00+08:00","type":"closed","attrs":{}}
"#;

#[test]
fn why_explains_duties_windows_and_targets_on_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("site.pledge");
    let events = dir.path().join("site.jsonl");
    std::fs::write(&policy, SITE).unwrap();
    std::fs::write(&events, SITE_EVENTS).unwrap();
    let mut s = Session::new();
    assert!(s.execute(&format!(":load {}", policy.display())).ok);
    assert!(s.execute(&format!(":events {}", events.display())).ok);
    let o = s.execute(":summary");
    for needle in [
        "site/dispatch_rate                           target  2026-03: 0% < 90% (0 of 1): missed",
        "site/patrol_2h                               every   1 finding(s) on 1 case(s): 1 duty.gap",
        "site/works_hours                             window  1 finding(s) on 1 case(s): 1 window.outside",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    let o = s.execute(":why A-1");
    for needle in [
        "  duty: `patrolled` every 2 hours",
        "  2 `patrolled` event(s), from Mon 2026-03-02 09:00 to Mon 2026-03-02 13:00",
        "  finding `duty.gap`: no `patrolled` from 2026-03-02T09:00:00+08:00 to 2026-03-02T13:00:00+08:00",
        "  finding `window.outside`: `progress` at 2026-03-02T13:00:00+08:00 is outside 08:00-12:00, 14:00-18:00",
        "  `dispatch_1h` cycle 1 (breached) counts in 2026-03: not a hit",
        "  the period 2026-03: 0% < 90% (0 of 1): missed",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
    // A longer limit meets the deadline, and so the target: the period record changes.
    assert!(
        s.execute("deadline dispatch_1h {\n  until dispatched\n  within 2 hours\n}")
            .ok
    );
    let o = s.execute(":diff");
    for needle in [
        "A-1 site/dispatch_1h: breached → met",
        "site/dispatch_rate 2026-03: 0% < 90% (0 of 1): missed → 100% ≥ 90% (1 of 1): met",
    ] {
        assert!(o.text.contains(needle), "missing {needle:?} in\n{}", o.text);
    }
}

mod mangled {
    //! Input typed at random (commands with odd arguments, clause text with pieces cut or
    //! doubled, text that is no command at all), in place of a fuzzer: the session answers each
    //! line, never panics, and stays usable.

    use super::{example, session, ONE_WORKDAY};
    use proptest::prelude::*;

    /// Lines a manager might type, right or wrong.
    const LINES: &[&str] = &[
        ":help",
        ":help why",
        ":summary",
        ":diff",
        ":undo",
        ":reset",
        ":cases",
        ":clauses",
        ":why T-1042",
        ":why T-1042 all",
        ":why",
        ":why nobody",
        ":case T-1042",
        ":case",
        ":ask T-1042 kind == \"complaint\"",
        ":ask T-1042 kind ==",
        ":ask T-1042 ((((((((((((((((((((kind))))))))))))))))))))",
        ":ask",
        ":show reply_2workdays",
        ":show",
        ":use desk",
        ":use nowhere",
        ":now latest",
        ":now 2026-10-08T09:00",
        ":now 2026-02-30T25:61",
        ":now",
        ":reload",
        ":events",
        ":load",
        ":quit now",
        ":",
        "::",
        "",
        "   ",
        "deadline",
        "deadline x {",
        "}",
        "deadline reply_2workdays { until progress within 0 minutes }",
        "deadline reply_2workdays { until progress within 99999999999999999999 days }",
        "sample s { of closed 150% }",
        "工作日",
        "\u{feff}\u{200b}",
        "policy \"p\" { }",
    ];

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            (0..LINES.len()).prop_map(|i| LINES[i].to_string()),
            // The example clause with a piece cut out or doubled.
            (0..ONE_WORKDAY.len(), 0..40usize, any::<bool>()).prop_map(|(a, n, double)| {
                let text = ONE_WORKDAY;
                let mut a = a;
                while !text.is_char_boundary(a) {
                    a -= 1;
                }
                let mut b = (a + n).min(text.len());
                while !text.is_char_boundary(b) {
                    b -= 1;
                }
                if double {
                    format!("{}{}{}", &text[..b], &text[a..b], &text[b..])
                } else {
                    format!("{}{}", &text[..a], &text[b..])
                }
            }),
            "\\PC{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_line_is_answered_and_the_session_stays_usable(
            lines in prop::collection::vec(line(), 1..12),
        ) {
            let mut s = session();
            for l in &lines {
                let o = s.execute(l);
                prop_assert!(o.ok || !o.text.is_empty(), "a refusal says why: {l:?}");
            }
            // Whatever came before, the session still loads and judges.
            let o = s.execute(&format!(":events {}", example("national-day.jsonl")));
            prop_assert!(o.ok, "{}", o.text);
            prop_assert!(s.execute(":summary").ok);
        }
    }
}
