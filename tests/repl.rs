//! `pledge repl` end to end: the real binary through a pipe (every command) and through a
//! pseudo-terminal (completion, history, multi-line input, Ctrl-C, Ctrl-D), on the shipped
//! National Day example, and every clause kind on the estate fixture.

#![cfg(feature = "cli")] // the real binary, built only with the command

use assert_cmd::Command;
use predicates::prelude::*;

const POLICY: &str = "examples/national-day.pledge";
const EVENTS: &str = "examples/national-day.jsonl";

fn repl() -> Command {
    let mut cmd = Command::cargo_bin("pledge").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["repl", POLICY, "--events", EVENTS])
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_pipe_runs_every_command_without_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("what-if.pledge");
    let script = format!(
        r#":help
:summary
:cases
:case T-1042
:ask T-1042 kind == "complaint" and severity == "major"
:why T-1042
deadline reply_2workdays {{
  when kind in ["complaint", "inquiry"]   # {{ braces in comments do not count
  until progress
  within 1 workday on office
  pause while status in ["waiting_customer"]
}}
:diff
:clauses
:show reply_2workdays
:save {saved}
:undo
:use desk
:now 2026-10-09T10:00
:now latest
:reset
:load {POLICY}
:events {EVENTS}
:reload
:quit
:summary
"#,
        saved = saved.display()
    );
    let out = repl().write_stdin(script).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains("pledge>"), "no prompt on a pipe");
    for needle in [
        "e.g. :why T-0309",
        "desk/reply_2workdays",
        "T-1045",
        "Thu 2026-10-08 11:30  progress",
        "true (kind = \"complaint\", severity = \"major\")",
        "calendar: Thu 2026-10-01 – Wed 2026-10-07: holiday 国庆节, not counted",
        "pause: status `waiting_customer`",
        "replaced deadline `reply_2workdays` in policy `desk`",
        "T-1042 desk/reply_2workdays: met → breached",
        "T-1045 desk/reply_2workdays: met → breached",
        "reply_2workdays  (what-if)",
        "within 1 workday on office",
        "saved the working copy of policy `desk`",
        "undone (0 change(s) left to undo)",
        "new clauses go to policy `desk`",
        "now is Fri 2026-10-09 10:00",
        "now is the last event's time, Tue 2026-10-13 09:00",
        "the working copy is the loaded policies again",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // `:quit` stops reading: the `:summary` after it never runs.
    assert_eq!(text.matches("4 case(s) as of").count(), 1, "{text}");
    assert!(std::fs::read_to_string(&saved)
        .unwrap()
        .contains("within 1 workday on office"));
}

#[test]
fn a_failed_command_makes_the_pipe_exit_non_zero_after_the_rest_ran() {
    repl()
        .write_stdin("deadline broken {\n  until\n}\n:summary\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("desk/dispatch_2h"))
        .stderr(predicate::str::contains("pledge::syntax::unexpected_token"))
        .stderr(predicate::str::contains("╰──"));
}

/// A line that is not UTF-8 is one failed input: reported with its number, and the lines after
/// it still run (it used to end the session without a word).
#[test]
fn a_line_that_is_not_utf8_is_skipped_and_the_rest_runs() {
    repl()
        .write_stdin(&b":why \xff\n:summary\n:why T-1042\n"[..])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("desk/dispatch_2h"))
        .stdout(predicate::str::contains("T-1042"))
        .stderr(predicate::str::contains("input line 1 is not UTF-8"));
}

/// A clause pasted with the comment above it (as every clause of the shipped policies has) is
/// a what-if like any other; a comment alone is nothing to run.
#[test]
fn comments_above_a_clause_and_alone_are_no_error() {
    repl()
        .write_stdin(
            "# 派单时限放宽到3小时\n\n# (a second comment)\ndeadline dispatch_2h \"派单\" {\n  when kind == \"repair\"\n  until dispatched\n  within 3 hours\n}\n# a comment alone\n:diff\n",
        )
        .assert()
        .success()
        .stdout(predicate::str::contains("replaced deadline `dispatch_2h`"));
}

/// A clause whose name is Chinese is told what is wrong with its name, as `pledge parse`
/// tells it, not that `deadline` is no clause keyword.
#[test]
fn a_clause_named_in_chinese_gets_the_parsers_diagnostic() {
    repl()
        .write_stdin("deadline 派单 \"派单时限\" {\n  until dispatched\n  within 2 hours\n}\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expected a name, found `派单`"))
        .stderr(predicate::str::contains("put Chinese text in"))
        .stderr(predicate::str::contains("neither a command nor a clause").not());
}

/// A line that cannot start a what-if is an error at once: the commands after it run, they
/// are not swallowed into a block waiting for its `}`.
#[test]
fn a_rejected_line_with_a_brace_does_not_swallow_the_commands_after_it() {
    repl()
        .write_stdin("hello {\n:why T-1042\n}\n{\n:summary\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`hello` is neither a command nor a clause",
        ))
        .stderr(predicate::str::contains(
            "`{` is neither a command nor a clause",
        ))
        .stdout(predicate::str::contains("case T-1042"))
        .stdout(predicate::str::contains("desk/dispatch_2h"));
}

/// `:why` takes a ticket and `all`: another word after a known ticket is named as the
/// mistake, not taken for part of the ticket's id.
#[test]
fn why_names_a_word_after_the_ticket_that_is_not_all() {
    repl()
        .write_stdin(":why T-1042 bogus\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`:why` takes a ticket and, after it, only `all`, not `bogus`",
        ));
}

#[test]
fn an_unclosed_clause_at_the_end_of_input_is_an_error() {
    repl()
        .write_stdin("deadline x {\n  until closed\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pledge::syntax::unexpected_end"));
}

#[test]
fn an_invalid_policy_at_startup_is_reported_and_fails_the_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pledge");
    std::fs::write(
        &bad,
        "policy \"p\" {\n  deadline x {\n    until closed\n    within 2 fortnights\n  }\n}\n",
    )
    .unwrap();
    Command::cargo_bin("pledge")
        .unwrap()
        .args(["repl", bad.to_str().unwrap()])
        .write_stdin(":clauses\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pledge::"));
}

const ESTATE_POLICY: &str = "tests/fixtures/repl/estate.pledge";
const ESTATE_EVENTS: &str = "tests/fixtures/repl/estate.jsonl";

fn estate_repl() -> Command {
    let mut cmd = Command::cargo_bin("pledge").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["repl", ESTATE_POLICY, "--events", ESTATE_EVENTS])
        .env("NO_COLOR", "1");
    cmd
}

/// `:summary`, `:diff` and `:why` over every clause kind: a notify clause asking for one more
/// channel makes a finding appear, a lower target turns a missed month into a met one, and
/// `:why` names the finding of a notice.
#[test]
fn every_clause_kind_through_a_pipe() {
    let script = r#":summary
:why N-2
notify outage_notice {
  when kind == "notice"
  channels all [notice_board, sms, app_push]
  within 1 hour
}
:diff
:reset
target repair_satisfaction_80 {
  when kind == "repair"
  ratio rated(satisfied == true) among rated per month
  at least 75%
}
:diff
"#;
    let out = estate_repl().write_stdin(script).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for needle in [
        "estate/outage_notice                         notify  1 finding(s) on 1 case(s): 1 notify.channel_missing",
        "  finding `notify.channel_missing`: no notice on `sms` by 2026-03-15T09:00:00+08:00",
        "  + N-1 estate/outage_notice `notify.channel_missing`: no notice on `app_push` by 2026-03-05T09:00:00+08:00",
        "estate/repair_satisfaction_80 2026-03: 75% < 80% (3 of 4): missed → 75% ≥ 75% (3 of 4): met",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("pledge check"), "{text}");
    insta::assert_snapshot!(text);
}

/// Paths with spaces: given on the command line, and quoted in `:load` and `:events`.
#[test]
fn paths_with_spaces_load() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my estate");
    std::fs::create_dir(&sub).unwrap();
    let policy = sub.join("estate policy.pledge");
    let events = sub.join("estate events.jsonl");
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::copy(format!("{root}/{ESTATE_POLICY}"), &policy).unwrap();
    std::fs::copy(format!("{root}/{ESTATE_EVENTS}"), &events).unwrap();
    Command::cargo_bin("pledge")
        .unwrap()
        .args([
            "repl",
            policy.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .write_stdin(format!(
            ":load \"{}\"\n:events \"{}\"\n:reload\n:summary\n",
            policy.display(),
            events.display()
        ))
        .assert()
        .success()
        .stdout(predicate::str::contains("loaded policy `estate`").count(3))
        .stdout(predicate::str::contains("26 event(s) of 6 case(s)").count(3))
        .stdout(predicate::str::contains("estate/repeat_repair"));
}

#[cfg(unix)]
mod terminal {
    use rexpect::session::{spawn_command, PtySession};
    use std::path::Path;
    use std::process::Command;

    const TIMEOUT_MS: u64 = 20_000;

    fn start(history: &Path) -> PtySession {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledge"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["repl", super::POLICY, "--events", super::EVENTS])
            .env("PLEDGE_HISTORY", history)
            .env("NO_COLOR", "1")
            .env("TERM", "xterm");
        let mut p = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
        p.exp_string("pledge> ").unwrap();
        p
    }

    #[test]
    fn completion_multi_line_input_ctrl_c_and_ctrl_d() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history");
        let mut p = start(&history);
        // Tab completes a command, then a clause name.
        p.send(":sho\t").unwrap();
        p.flush().unwrap();
        p.exp_string(":show").unwrap();
        p.send("reply\t").unwrap();
        p.flush().unwrap();
        p.exp_string("reply_2workdays").unwrap();
        p.send_line("").unwrap();
        p.exp_string("within 2 workdays on office").unwrap();
        p.exp_string("pledge> ").unwrap();
        // A ticket, completed from the loaded events.
        p.send(":why T-1045\t").unwrap();
        p.flush().unwrap();
        p.send_line("").unwrap();
        // The pty reader sees bytes, so needles stay ASCII.
        p.exp_string("Sat 2026-10-10: make-up working day (")
            .unwrap();
        p.exp_string("), counted").unwrap();
        p.exp_string("pledge> ").unwrap();
        // A clause over several lines runs when its braces close.
        p.send_line("deadline dispatch_2h {").unwrap();
        p.send_line("  when kind == \"repair\"").unwrap();
        p.send_line("  until dispatched").unwrap();
        p.send_line("  within 1 hour").unwrap();
        p.send_line("}").unwrap();
        p.exp_string("replaced deadline `dispatch_2h` in policy `desk`")
            .unwrap();
        p.exp_string("pledge> ").unwrap();
        // Ctrl-C cancels a half-typed clause; the REPL goes on.
        p.send_line("deadline half {").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("(cancelled)").unwrap();
        p.exp_string("pledge> ").unwrap();
        p.send_line(":diff").unwrap();
        p.exp_string("T-1043 desk/dispatch_2h: met ").unwrap();
        p.exp_string(" breached (due Fri 2026-10-09 11:00").unwrap();
        p.exp_string("pledge> ").unwrap();
        // File paths complete after `:events`.
        p.send(":events examples/national-day.js\t").unwrap();
        p.flush().unwrap();
        p.exp_string("national-day.jsonl").unwrap();
        p.send_line("").unwrap();
        p.exp_string("loaded 14 event(s) of 4 case(s)").unwrap();
        p.exp_string("pledge> ").unwrap();
        // An error is shown, and the REPL stays.
        p.send_line(":why T-0000").unwrap();
        p.exp_string("no case `T-0000`").unwrap();
        p.exp_string("pledge> ").unwrap();
        // Ctrl-D leaves.
        p.send_control('d').unwrap();
        p.exp_eof().unwrap();
    }

    #[test]
    fn history_is_kept_between_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history");
        let mut p = start(&history);
        p.send_line(":now 2026-10-09T10:00").unwrap();
        p.exp_string("now is Fri 2026-10-09 10:00").unwrap();
        p.exp_string("pledge> ").unwrap();
        p.send_line(":quit").unwrap();
        p.exp_eof().unwrap();
        let saved = std::fs::read_to_string(&history).unwrap();
        assert!(saved.contains(":now 2026-10-09T10:00"), "{saved}");
        // A new session recalls it with the up arrow (twice: `:quit` came last).
        let mut p = start(&history);
        p.send("\x1b[A").unwrap();
        p.send("\x1b[A").unwrap();
        p.flush().unwrap();
        p.send_line("").unwrap();
        p.exp_string("now is Fri 2026-10-09 10:00").unwrap();
        p.exp_string("pledge> ").unwrap();
        p.send_control('d').unwrap();
        p.exp_eof().unwrap();
    }
}

/// The walkthroughs in docs/repl.md and the README run exactly as shown: in every `console`
/// block that starts a REPL, the inputs (after `pledge> `, over several lines until braces close)
/// are piped in, and the rest of the block is the output.
#[test]
fn the_documented_walkthrough_runs_as_shown() {
    let read = |name: &str| {
        std::fs::read_to_string(format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let doc = read("docs/repl.md") + &read("README.md");
    let mut checked = 0;
    for block in doc.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let mut lines = block.lines();
        let Some(command) = lines.next().unwrap().strip_prefix("$ pledge ") else {
            continue;
        };
        let (mut input, mut expected) = (String::new(), String::new());
        let mut open = 0i64;
        for line in lines {
            if let Some(typed) = line.strip_prefix("pledge> ") {
                input.push_str(typed);
                input.push('\n');
                open = pledge::repl::text::open_braces(typed);
            } else if open > 0 {
                input.push_str(line);
                input.push('\n');
                open += pledge::repl::text::open_braces(line);
            } else if !line.starts_with("pledge repl: ") {
                // The banner is printed on a terminal only.
                expected.push_str(line);
                expected.push('\n');
            }
        }
        let out = Command::cargo_bin("pledge")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(command.split_whitespace())
            .env("NO_COLOR", "1")
            .write_stdin(input)
            .assert()
            .success();
        let actual = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert_eq!(actual, expected);
        checked += 1;
    }
    assert_eq!(
        checked, 3,
        "the walkthroughs of docs/repl.md and the README were checked"
    );
}

/// A work-order export loads with its mapping, from the command line and with
/// `:events FILE --map MAPPING` (kept for `:reload`); a workbook without one is refused with the
/// way to name it, and `:why` reads the case made of a row.
#[test]
fn a_work_order_export_loads_with_its_mapping() {
    let out = Command::cargo_bin("pledge")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["repl", "policies/repairs.pledge", "--events", "examples/orders.xlsx"])
        .args(["--map", "examples/orders.toml"])
        .env("NO_COLOR", "1")
        .write_stdin(
            ":events examples/orders.xlsx\n:events examples/orders.csv --map examples/orders.toml\n:reload\n:why GD-2603-007\n",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "one command failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let loaded = |name: &str| {
        format!("loaded 241 event(s) of 38 case(s) and 1 never opened from `{name}` (5 line(s) rejected")
    };
    assert_eq!(
        text.matches(&loaded("examples/orders.xlsx")).count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches(&loaded("examples/orders.csv")).count(),
        2,
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("help: name the mapping of its columns: `:events examples/orders.xlsx --map MAPPING.toml`"),
        "{err}"
    );
    for needle in [
        "case GD-2603-007 as of Sun 2026-03-08 12:28 (6 events)",
        "  clock stops Mon 2026-03-02 16:19 at `dispatched`",
        // The locksmith's and the lines' cover clauses of repairs.pledge apply to posts, the
        // root-cause obligation to projects.
        "\n12 more clauses do not apply, because `severity` is \"minor\" (5), `kind` is \"repair\" (5), …: `:why GD-2603-007 all` lists them\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// The REPL counts cases as `pledge check` does: a ticket whose events hold no `opened` is
/// not a case but one never opened.
#[test]
fn tickets_never_opened_are_counted_apart_as_check_counts_them() {
    let out = Command::cargo_bin("pledge")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "repl",
            "policies/customer-requests.pledge",
            "policies/repairs.pledge",
            "--events",
            "examples/service-desk.jsonl",
        ])
        .write_stdin(":summary\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "loaded 46 event(s) of 9 case(s) and 1 never opened from `examples/service-desk.jsonl`"
        ),
        "{text}"
    );
    assert!(
        text.contains("9 case(s) and 1 never opened as of Fri 2026-03-06 18:00"),
        "{text}"
    );
    // As `pledge check` says of the same file.
    let check = Command::cargo_bin("pledge")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "policies/customer-requests.pledge",
            "policies/repairs.pledge",
            "--events",
            "examples/service-desk.jsonl",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8(check.stdout)
        .unwrap()
        .contains("9 cases, 1 never opened"));
}
