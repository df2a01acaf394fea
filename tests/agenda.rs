//! The duty desk's agenda: overdue cycles, missed escalations of open cases, stages about to fire
//! and cycles about to fall due, soonest first, as of a given `now`.

mod common;

use chrono::Duration;
use common::in_2026 as t;
use pledge::agenda::{render_human, to_json, Agenda, ItemKind};
use pledge::engine::EvalOptions;
use pledge::policy::Policy;
use pledge::syntax::parse_policy;
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};

fn ev(ticket: &str, at: &str, kind: &str) -> Event {
    Event {
        ticket: ticket.into(),
        at: t(at),
        kind: kind.into(),
        id: None,
        attrs: Attrs::new(),
        line: 0,
    }
}

fn opened(ticket: &str, at: &str, kind: &str) -> Event {
    let mut e = ev(ticket, at, "opened");
    e.attrs.insert("kind", Value::String(kind.into()));
    e
}

fn policy() -> Policy {
    let src = r#"policy "desk" {
  deadline contact "1小时内联系客户" { until contacted within 1 hour }
  deadline repair "8小时内修复" {
    when kind == "repair"
    until resolved
    within 8 hours
    pause while status in ["waiting_parts"]
    at 50% warn supervisor
    after 3 hours escalate project_manager via [phone]
  }
}"#;
    parse_policy(src, "desk.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A morning at the service desk; the last event is at 12:00.
fn morning() -> Vec<Event> {
    let mut status = ev("P", "03-02 10:00", "status");
    status
        .attrs
        .insert("status", Value::String("waiting_parts".into()));
    vec![
        // A: never contacted, overdue since 10:00.
        opened("A", "03-02 09:00", "complaint"),
        // B: a repair opened at 11:30: escalation at 14:30, warning at 15:30, due 19:30.
        opened("B", "03-02 11:30", "repair"),
        ev("B", "03-02 11:40", "contacted"),
        // C: a repair opened at 08:00: warning fired at 12:00 (now), escalation missed at
        // 11:00, due at 16:00, the edge of a 4-hour horizon.
        opened("C", "03-02 08:00", "repair"),
        ev("C", "03-02 08:10", "contacted"),
        // D: contacted on time: nothing to do.
        opened("D", "03-02 11:30", "complaint"),
        ev("D", "03-02 11:50", "contacted"),
        // E: a repair resolved late, its escalation missed: history, not the desk's agenda.
        opened("E", "03-02 00:30", "repair"),
        ev("E", "03-02 00:40", "contacted"),
        ev("E", "03-02 11:00", "resolved"),
        // F1, F2: due at 12:15, a tie broken by ticket.
        opened("F2", "03-02 11:15", "complaint"),
        opened("F1", "03-02 11:15", "complaint"),
        // G: opened now.
        opened("G", "03-02 12:00", "complaint"),
        // H: due exactly now: not breached yet, so due (with no time left).
        opened("H", "03-02 11:00", "complaint"),
        // P: a repair waiting for parts since 10:00; its clock counted 1 h.
        opened("P", "03-02 09:00", "repair"),
        ev("P", "03-02 09:05", "contacted"),
        status,
    ]
}

fn agenda(events: Vec<Event>, now: Option<Instant>, within: Duration) -> Agenda {
    let policies = [policy()];
    let opts = EvalOptions {
        now,
        ..EvalOptions::default()
    };
    Agenda::from_events(&policies, events, opts, within).0
}

/// `kind ticket clause [stage] local-time` per item.
fn lines(a: &Agenda) -> Vec<String> {
    a.items
        .iter()
        .map(|i| {
            let stage = i
                .stage
                .as_ref()
                .map(|s| format!(" {}:{}", s.stage, s.action.as_str()))
                .unwrap_or_default();
            format!(
                "{} {} {}{stage} {}{}",
                i.kind.as_str(),
                i.ticket,
                i.clause,
                i.at.with_timezone(&i.zone).format("%H:%M"),
                if i.paused { " paused" } else { "" }
            )
        })
        .collect()
}

#[test]
fn agenda_ordering_as_of_a_given_now() {
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    assert_eq!(
        lines(&a),
        [
            "overdue A contact 10:00",
            "missed C repair 2:escalate 11:00",
            "due H contact 12:00",
            "due F1 contact 12:15",
            "due F2 contact 12:15",
            "due G contact 13:00",
            "stage P repair 2:escalate 14:00 paused",
            "stage B repair 2:escalate 14:30",
            "stage P repair 1:warn 15:00 paused",
            "stage B repair 1:warn 15:30",
            "due C repair 16:00",
        ]
    );
    assert_eq!(a.count(ItemKind::Overdue), 1);
    assert_eq!(a.count(ItemKind::Missed), 1);
    assert_eq!(a.count(ItemKind::Stage), 4);
    assert_eq!(a.count(ItemKind::Due), 5);
}

#[test]
fn the_default_now_is_the_last_event_and_arrival_order_does_not_matter() {
    let expected = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    let mut events = morning();
    events.reverse();
    assert_eq!(agenda(events, None, Duration::hours(4)), expected);
}

#[test]
fn the_horizon_bounds_what_comes_next_not_what_is_overdue() {
    // One hour: the 13:00 due time is on its edge and listed; stages at 14:00 and later are not.
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(1));
    assert_eq!(
        lines(&a),
        [
            "overdue A contact 10:00",
            "missed C repair 2:escalate 11:00",
            "due H contact 12:00",
            "due F1 contact 12:15",
            "due F2 contact 12:15",
            "due G contact 13:00",
        ]
    );
    // Later in the day: A was contacted at 12:30, so it leaves the agenda; the escalation of
    // B was done at 14:30 exactly; the clock of C is now overdue.
    let mut events = morning();
    events.push(ev("A", "03-02 12:30", "contacted"));
    let mut esc = ev("B", "03-02 14:30", "escalated");
    esc.attrs
        .insert("to", Value::String("project_manager".into()));
    events.push(esc);
    let a = agenda(
        events,
        Some(t("03-02 16:00") + Duration::seconds(1)),
        Duration::minutes(30),
    );
    let l = lines(&a);
    assert!(!l.iter().any(|l| l.contains(" A ")), "{l:#?}");
    assert!(!l.iter().any(|l| l.starts_with("missed B")), "{l:#?}");
    assert!(l.contains(&"overdue C repair 16:00".to_string()), "{l:#?}");
    assert!(!l.iter().any(|l| l.starts_with("stage B")), "{l:#?}");
}

#[test]
fn a_stage_at_now_has_fired_and_is_not_coming_up() {
    // C's warning fires at 12:00: as of 12:00 it is a past warning (no agenda item), as of
    // 11:59 it is coming up.
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    assert!(!lines(&a).iter().any(|l| l.starts_with("stage C")));
    let a = agenda(morning(), Some(t("03-02 11:59")), Duration::hours(4));
    assert!(lines(&a).contains(&"stage C repair 1:warn 12:00".to_string()));
}

#[test]
fn human_rendering() {
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    let text = render_human(&a, false, usize::MAX);
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some(
            "agenda as of 2026-03-02T12:00:00+08:00, next 4 h: 1 overdue, 1 missed, 4 stages, 5 due"
        )
    );
    assert_eq!(
        rows.next(),
        Some("OVERDUE  2026-03-02T10:00:00+08:00  A   contact  overdue by 2 h  1小时内联系客户")
    );
    assert_eq!(
        rows.next(),
        Some(
            "MISSED   2026-03-02T11:00:00+08:00  C   repair   stage 2: escalate project_manager \
             via phone  not done, fired 1 h ago; due 2026-03-02T16:00:00+08:00  8小时内修复"
        )
    );
    assert!(text.contains("(paused)"));
    assert!(!text.contains('\x1b'));
    assert!(render_human(&a, true, usize::MAX).contains("\x1b[1;31mOVERDUE\x1b[0m"));

    let empty = agenda(
        vec![opened("Z", "03-02 09:00", "x")],
        Some(t("03-03 09:00")),
        Duration::hours(4),
    );
    // Z's contact clause is overdue; without any clause applying there would be nothing.
    assert_eq!(empty.items.len(), 1);
    let nothing = Agenda {
        items: Vec::new(),
        ..empty
    };
    assert!(render_human(&nothing, false, 50).ends_with("nothing overdue, missed or coming up\n"));
}

#[test]
fn json_rendering() {
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    let j = to_json(&a);
    assert_eq!(j["now"], "2026-03-02T12:00:00+08:00");
    assert_eq!(j["within_seconds"], 4 * 3600);
    assert_eq!(j["counts"]["overdue"], 1);
    assert_eq!(j["counts"]["stage"], 4);
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 11);
    assert_eq!(items[0]["kind"], "overdue");
    assert_eq!(items[0]["ticket"], "A");
    assert_eq!(items[0]["clause"], "contact");
    assert_eq!(items[0]["title"], "1小时内联系客户");
    assert_eq!(items[0]["at"], "2026-03-02T10:00:00+08:00");
    assert_eq!(items[0]["overdue_seconds"], 7200);
    assert_eq!(items[1]["kind"], "missed");
    assert_eq!(items[1]["stage"], 2);
    assert_eq!(items[1]["action"], "escalate");
    assert_eq!(items[1]["role"], "project_manager");
    assert_eq!(items[1]["channels"], serde_json::json!(["phone"]));
    assert_eq!(items[1]["since_seconds"], 3600);
    assert_eq!(items[1]["due"], "2026-03-02T16:00:00+08:00");
    assert_eq!(items[3]["kind"], "due");
    assert_eq!(items[3]["in_seconds"], 15 * 60);
    assert_eq!(items[6]["paused"], true);
}

// ---------------------------------------------------------------- the `agenda` subcommand

#[cfg(feature = "cli")]
mod cli {
    use assert_cmd::Command;
    use std::io::Write;

    const POLICY: &str = r#"policy "desk" {
  deadline contact "1小时内联系客户" { until contacted within 1 hour }
  deadline repair "8小时内修复" {
    when kind == "repair"
    until resolved
    within 8 hours
    after 3 hours escalate project_manager via [phone]
  }
}
"#;

    const EVENTS: &str = r#"{"ticket":"A","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
{"ticket":"C","at":"2026-03-02T08:00:00+08:00","type":"opened","attrs":{"kind":"repair"}}
{"ticket":"C","at":"2026-03-02T08:10:00+08:00","type":"contacted"}
{"ticket":"F","at":"2026-03-02T11:15:00+08:00","type":"opened","attrs":{"kind":"complaint"}}
"#;

    fn files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut p = std::fs::File::create(dir.path().join("desk.pledge")).unwrap();
        p.write_all(POLICY.as_bytes()).unwrap();
        let mut e = std::fs::File::create(dir.path().join("events.jsonl")).unwrap();
        e.write_all(EVENTS.as_bytes()).unwrap();
        dir
    }

    fn agenda(dir: &tempfile::TempDir, extra: &[&str]) -> std::process::Output {
        Command::cargo_bin("pledge")
            .expect("the pledge binary is built")
            .current_dir(dir.path())
            .args(["agenda", "desk.pledge", "--events", "events.jsonl"])
            .args(extra)
            .output()
            .expect("runs")
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn human_agenda_from_the_binary() {
        let dir = files();
        let out = agenda(&dir, &["--now", "2026-03-02T12:00", "--within", "4h"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let rows: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            rows[0],
            "agenda as of 2026-03-02T12:00:00+08:00, next 4 h: 1 overdue, 1 missed, 0 stages, 2 due"
        );
        assert!(
            rows[1].starts_with("OVERDUE  2026-03-02T10:00:00+08:00  A  contact"),
            "{stdout}"
        );
        assert!(
            rows[2].starts_with("MISSED   2026-03-02T11:00:00+08:00  C  repair"),
            "{stdout}"
        );
        assert!(
            rows[3].starts_with("DUE      2026-03-02T12:15:00+08:00  F  contact"),
            "{stdout}"
        );
        assert!(
            rows[4].starts_with("DUE      2026-03-02T16:00:00+08:00  C  repair"),
            "{stdout}"
        );
        assert_eq!(rows.len(), 5);
        assert!(!stdout.contains('\x1b'));
    }

    #[test]
    fn json_agenda_from_the_binary() {
        let dir = files();
        let out = agenda(
            &dir,
            &[
                "--now",
                "2026-03-02T12:00:00+08:00",
                "--within",
                "30min",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(j["within_seconds"], 1800);
        let kinds: Vec<&str> = j["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["overdue", "missed", "due"]);
    }

    #[test]
    fn nothing_overdue_exits_0_and_bad_options_exit_2() {
        let dir = files();
        // As of 08:30 only what comes next is listed.
        let out = agenda(&dir, &["--now", "2026-03-02T08:30", "--within", "1h"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("0 overdue, 0 missed, 0 stages, 0 due"));
        let out = agenda(&dir, &["--within", "soon"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("`soon` is not a duration"));
        let out = agenda(&dir, &["--now", "tomorrow"]);
        assert_eq!(out.status.code(), Some(2));
    }
}

/// A clock that never stopped on a closed case is a breach for the report, not an item for the
/// desk: left out unless asked for.
#[test]
fn closed_cases_are_left_out_unless_asked_for() {
    use pledge::agenda::AgendaSink;
    use pledge::engine::Evaluator;
    let policies = [policy()];
    let events = || {
        vec![
            // A: closed without ever being contacted; B: still open, overdue.
            opened("A", "03-02 09:00", "complaint"),
            ev("A", "03-02 09:30", "closed"),
            opened("B", "03-02 10:00", "complaint"),
            opened("C", "03-02 12:00", "complaint"),
            ev("C", "03-02 12:10", "contacted"),
        ]
    };
    let run = |include: bool| {
        let sink = AgendaSink::new(&policies, None, Duration::hours(4)).including_closed(include);
        let mut evaluator = Evaluator::new(&policies, EvalOptions::default(), sink);
        for e in events() {
            evaluator.push(e);
        }
        let (summary, sink) = evaluator.finish();
        let agenda = sink.into_agenda(summary.now.expect("a now"));
        agenda
            .items
            .iter()
            .map(|i| (i.kind, i.ticket.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(false), [(ItemKind::Overdue, "B".to_string())]);
    assert_eq!(
        run(true),
        [
            (ItemKind::Overdue, "A".to_string()),
            (ItemKind::Overdue, "B".to_string())
        ]
    );
}

/// Past `--limit` items, the human agenda is headed by counts per clause and lists the first
/// ones (the most overdue).
#[test]
fn a_long_agenda_is_headed_by_counts_per_clause() {
    let a = agenda(morning(), Some(t("03-02 12:00")), Duration::hours(4));
    let all = render_human(&a, false, usize::MAX);
    let short = render_human(&a, false, 2);
    assert!(a.items.len() > 2);
    assert!(!all.contains("by clause"));
    let counts: Vec<String> = a
        .by_clause()
        .iter()
        .map(|(p, c, n)| format!("{p}/{c} {}", n.iter().sum::<usize>()))
        .collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    let total: usize = a
        .by_clause()
        .iter()
        .map(|(_, _, n)| n.iter().sum::<usize>())
        .sum();
    assert_eq!(total, a.items.len());
    assert!(
        short.contains("by clause (overdue, missed, stages, due):\n  desk/contact"),
        "{short}"
    );
    assert!(
        short.contains(&format!(
            "the first 2 of {} items (--limit to see more):",
            a.items.len()
        )),
        "{short}"
    );
    // The two listed lines are the first two of the full listing.
    let listed = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.starts_with("OVERDUE")
                    || l.starts_with("MISSED")
                    || l.starts_with("DUE")
                    || l.starts_with("STAGE")
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(listed(&short), listed(&all)[..2].to_vec());
}

/// Past `--limit` items, the counts per project follow those per clause (the case's `project`
/// as merged by then; cases without one last, as `-`), and each item carries its project.
#[test]
fn a_long_agenda_is_headed_by_counts_per_project_too() {
    use pledge::agenda::AgendaSink;
    use pledge::engine::Evaluator;
    let policies = [policy()];
    let with_project = |ticket: &str, at: &str, project: &str| {
        let mut e = opened(ticket, at, "complaint");
        e.attrs.insert("project", Value::String(project.into()));
        e
    };
    let mut moved = ev("B", "03-02 09:20", "updated");
    moved.attrs.insert("project", Value::String("mall".into()));
    let events = vec![
        with_project("A", "03-02 09:00", "jindi"),
        // B moves from jindi to mall before `now`: it counts for mall.
        with_project("B", "03-02 09:10", "jindi"),
        moved,
        with_project("C", "03-02 09:30", "jindi"),
        opened("D", "03-02 09:40", "complaint"),
    ];
    let sink = AgendaSink::new(&policies, None, Duration::hours(4));
    let mut evaluator = Evaluator::new(&policies, EvalOptions::default(), sink);
    for e in events {
        evaluator.push(e);
    }
    let (summary, sink) = evaluator.finish();
    let a = sink.into_agenda(summary.now.expect("a now"));
    let projects: Vec<(Option<String>, usize)> = a
        .by_project()
        .into_iter()
        .map(|(p, n)| (p.map(|p| p.to_string()), n.iter().sum()))
        .collect();
    assert_eq!(
        projects,
        [
            (Some("jindi".to_string()), 2),
            (Some("mall".to_string()), 1),
            (None, 1)
        ]
    );
    let item = |t: &str| a.items.iter().find(|i| &*i.ticket == t).expect("listed");
    assert_eq!(item("B").project.as_deref(), Some("mall"));
    assert_eq!(item("D").project, None);
    let short = render_human(&a, false, 1);
    assert!(
        short.contains(
            "by project (overdue, missed, stages, due):\n  jindi       0      0      0      2\n  mall        0      0      0      1\n  -           0      0      0      1\n"
        ),
        "{short}"
    );
    assert!(!render_human(&a, false, 10).contains("by project"));
    let json = to_json(&a);
    assert_eq!(json["items"][0]["project"], "jindi");
    assert_eq!(json["by_project"][1]["project"], "mall");
    assert_eq!(json["by_project"][2]["project"], serde_json::Value::Null);
    assert_eq!(json["by_project"][2]["due"], 1);
}

/// A case settled long before the end of the stream (closed, or idle past the retention) has
/// its running clocks judged only at the end, when its attributes are no longer kept: its
/// items still carry its project.
#[test]
fn cases_settled_long_before_the_end_keep_their_project() {
    use pledge::agenda::AgendaSink;
    use pledge::engine::Evaluator;
    let policies = [policy()];
    let with_project = |ticket: &str, at: &str, project: &str| {
        let mut e = opened(ticket, at, "complaint");
        e.attrs.insert("project", Value::String(project.into()));
        e
    };
    let run = |include: bool| {
        let events = vec![
            // A: closed without a contact; B: never contacted, never closed; both settle
            // before C, two months later, ends the stream.
            with_project("A", "01-05 09:00", "mall"),
            ev("A", "01-05 09:30", "closed"),
            with_project("B", "01-05 10:00", "jindi"),
            with_project("C", "03-06 12:00", "mall"),
        ];
        let sink = AgendaSink::new(&policies, None, Duration::hours(4)).including_closed(include);
        let mut evaluator = Evaluator::new(&policies, EvalOptions::default(), sink);
        for e in events {
            evaluator.push(e);
        }
        let (summary, sink) = evaluator.finish();
        let agenda = sink.into_agenda(summary.now.expect("a now"));
        agenda
            .items
            .iter()
            .map(|i| {
                (
                    i.ticket.to_string(),
                    i.project.as_deref().map(str::to_string),
                )
            })
            .collect::<Vec<_>>()
    };
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        run(false),
        [
            ("B".to_string(), some("jindi")),
            ("C".to_string(), some("mall"))
        ]
    );
    assert_eq!(
        run(true),
        [
            ("A".to_string(), some("mall")),
            ("B".to_string(), some("jindi")),
            ("C".to_string(), some("mall"))
        ]
    );
}
