//! Alerts of a live engine (`Engine::advance`): a running cycle that passes its due time and a
//! stage that fires are told once, when certain (every event before them is in), never for a
//! clock whose stop is still waiting out the reorder window; and they are exactly what a batch
//! check judged at the same instant says of the clocks still running.

use chrono::{DateTime, Duration, Utc};
use pledge::{Alert, Engine, Options, PolicySet, Record, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

fn at(hm: &str) -> DateTime<Utc> {
    t(&format!("2026-03-02T{hm}+08:00"))
}

const DESK: &str = r#"policy "desk" {
  deadline contact "投诉1小时内联系客户" {
    when kind == "complaint"
    until contacted
    within 1 hour
  }
}
"#;

const LADDER: &str = r#"policy "ladder" {
  deadline repair "维修4小时内完成" {
    when kind == "repair"
    until resolved
    pause while status in ["waiting_parts"]
    within 4 hours
    at 50% warn supervisor
    after 3 hours escalate project_manager
  }
}
"#;

fn set(text: &str) -> PolicySet {
    PolicySet::from_text(text, "test.pledge").expect("parses")
}

fn event(ticket: &str, hm: &str, kind: &str, attrs: &str) -> String {
    format!(
        r#"{{"ticket":"{ticket}","at":"2026-03-02T{hm}+08:00","type":"{kind}","attrs":{{{attrs}}}}}"#
    )
}

/// An engine for a live host: events come at most a minute late.
fn live(text: &str) -> Engine {
    let opts = Options::default().reorder_window(Duration::minutes(1));
    Engine::new(&set(text), &opts)
}

fn push(engine: &mut Engine, lines: &[String]) {
    for l in lines {
        let got = engine.push_json(l.as_bytes());
        assert!(got.is_empty(), "{got:?}");
    }
}

/// Alerts as (kind, ticket, instant, stage, status) for comparing.
fn brief(alerts: &[Alert]) -> Vec<(&'static str, String, DateTime<Utc>, usize, &'static str)> {
    alerts
        .iter()
        .map(|a| match a {
            Alert::Breached(v) => (
                "breached",
                v.ticket.to_string(),
                v.due,
                0,
                v.status.as_str(),
            ),
            Alert::Stage(s) => (
                "stage",
                s.ticket.to_string(),
                s.at,
                s.stage,
                s.status.as_str(),
            ),
        })
        .collect()
}

#[test]
fn a_breach_is_told_once_just_after_the_due_time_and_the_window() {
    let mut engine = live(DESK);
    push(
        &mut engine,
        &[event("A", "09:00:00", "opened", r#""kind":"complaint""#)],
    );
    let due = at("10:00:00");
    let window = Duration::minutes(1);
    let ns = Duration::nanoseconds(1);
    assert!(engine.advance(at("09:30:00")).is_empty());
    // Judged as of `now - window - 1ns`: exactly the due time is not a breach (SEMANTICS.md:
    // the due instant is inclusive).
    assert!(engine.advance(due + window + ns).is_empty());
    let got = engine.advance(due + window + ns + ns);
    assert_eq!(
        brief(&got.alerts),
        [("breached", "A".into(), due, 0, "breached")]
    );
    assert!(got.records.is_empty(), "the case is still open: {got:?}");
    let Alert::Breached(v) = &got.alerts[0] else {
        unreachable!()
    };
    // As of `now - window` (README: alerts), not of the nanosecond before it that was judged:
    // whole seconds stay whole.
    assert_eq!(v.overdue_by, Some(ns + ns), "as of now minus the window");
    assert_eq!(v.stop, None);
    // Told once.
    assert!(engine.advance(at("15:00:00")).is_empty());
    // Its JSON is the verdict record with the alert's kind first.
    let json = serde_json::to_value(&got.alerts[0]).expect("json");
    assert_eq!(json["alert"], "breached");
    assert_eq!(json["record"], "verdict");
    assert_eq!(json["due"], "2026-03-02T10:00:00+08:00");
    assert_eq!(json["overdue_seconds"], serde_json::json!(0.000000002));
    let text = serde_json::to_string(&got.alerts[0]).expect("json");
    assert!(
        text.starts_with(r#"{"alert":"breached","record":"verdict","#),
        "{text}"
    );
}

#[test]
fn a_first_late_call_tells_everything_up_to_then() {
    let mut engine = live(DESK);
    push(
        &mut engine,
        &[
            event("A", "09:00:00", "opened", r#""kind":"complaint""#),
            event("B", "11:00:00", "opened", r#""kind":"complaint""#),
        ],
    );
    let got = engine.advance(at("13:00:00"));
    assert_eq!(
        brief(&got.alerts),
        [
            ("breached", "A".into(), at("10:00:00"), 0, "breached"),
            ("breached", "B".into(), at("12:00:00"), 0, "breached"),
        ]
    );
}

#[test]
fn a_stop_still_waiting_out_the_window_raises_no_alarm() {
    let mut engine = live(DESK);
    push(
        &mut engine,
        &[
            event("B", "09:00:00", "opened", r#""kind":"complaint""#),
            event("C", "09:00:00", "opened", r#""kind":"complaint""#),
            // B is contacted 30 s before its due time; the event is in, but may still be
            // overtaken within the window.
            event("B", "09:59:30", "contacted", ""),
        ],
    );
    assert!(engine.advance(at("10:00:30")).is_empty());
    // Past the window: B's clock stopped in time, C's did not.
    let got = engine.advance(at("10:05:00"));
    assert_eq!(
        brief(&got.alerts),
        [("breached", "C".into(), at("10:00:00"), 0, "breached")]
    );
    // A stop arriving late within the window (C contacted at 10:04:30, told at 10:05:00) does
    // not take back what was told, and raises nothing new.
    push(&mut engine, &[event("C", "10:04:30", "contacted", "")]);
    assert!(engine.advance(at("12:00:00")).is_empty());
}

#[test]
fn stages_are_told_as_they_fire_with_their_status() {
    let mut engine = live(LADDER);
    push(
        &mut engine,
        &[
            event("R", "09:00:00", "opened", r#""kind":"repair""#),
            event("S", "09:00:00", "opened", r#""kind":"repair""#),
            // S is escalated ten minutes after its stage fired (evidence counts from the stage
            // instant on), before the alert is told.
            event("S", "12:10:00", "escalated", r#""to":"project_manager""#),
        ],
    );
    // The warning at 50 % of 4 hours: 11:00.
    let got = engine.advance(at("11:10:00"));
    assert_eq!(
        brief(&got.alerts),
        [
            ("stage", "R".into(), at("11:00:00"), 1, "due"),
            ("stage", "S".into(), at("11:00:00"), 1, "due"),
        ]
    );
    // The escalation after 3 hours: 12:00; only S has its evidence.
    let got = engine.advance(at("12:30:00"));
    assert_eq!(
        brief(&got.alerts),
        [
            ("stage", "R".into(), at("12:00:00"), 2, "missed"),
            ("stage", "S".into(), at("12:00:00"), 2, "done"),
        ]
    );
    let json = serde_json::to_value(&got.alerts[0]).expect("json");
    assert_eq!(
        (&json["alert"], &json["record"], &json["role"]),
        (
            &serde_json::json!("stage"),
            &serde_json::json!("action"),
            &serde_json::json!("project_manager")
        )
    );
    // Due at 13:00.
    let got = engine.advance(at("13:01:01"));
    assert_eq!(
        brief(&got.alerts),
        [
            ("breached", "R".into(), at("13:00:00"), 0, "breached"),
            ("breached", "S".into(), at("13:00:00"), 0, "breached"),
        ]
    );
}

/// A case quiet for days is put to rest (as bytes, out of memory) while its clock runs: its
/// stages and its breach are still told once each, as they fire, from its bytes; other tickets'
/// events move time on, and the engine is asked every hour as a service asks it.
#[test]
fn a_case_at_rest_with_a_running_clock_is_told_its_stages_and_breach_once() {
    const SLOW: &str = r#"policy "slow" {
  deadline repair "大修3天内完成" {
    when kind == "repair"
    until resolved
    within 3 days
    after 48 hours escalate project_manager
  }
}
"#;
    let mut engine = live(SLOW);
    let day = |d: u32, hm: &str| t(&format!("2026-03-{d:02}T{hm}+08:00"));
    let line = |ticket: &str, when: DateTime<Utc>, kind: &str, attrs: &str| {
        format!(
            r#"{{"ticket":"{ticket}","at":"{}","type":"{kind}","attrs":{{{attrs}}}}}"#,
            when.to_rfc3339()
        )
    };
    push(
        &mut engine,
        &[line(
            "R",
            day(2, "09:00:00"),
            "opened",
            r#""kind":"repair""#,
        )],
    );
    let mut told = Vec::new();
    let mut now = day(2, "09:30:00");
    let mut n = 0;
    while now < day(9, "09:00:00") {
        // Another ticket every hour, each opened and resolved at once.
        n += 1;
        let other = format!("X{n}");
        push(
            &mut engine,
            &[
                line(&other, now, "opened", r#""kind":"repair""#),
                line(&other, now + Duration::minutes(5), "resolved", ""),
            ],
        );
        told.extend(engine.advance(now + Duration::minutes(10)).alerts);
        now += Duration::hours(1);
    }
    assert_eq!(
        brief(&told),
        [
            ("stage", "R".into(), day(4, "09:00:00"), 1, "missed"),
            ("breached", "R".into(), day(5, "09:00:00"), 0, "breached"),
        ]
    );
}

#[test]
fn a_paused_clock_is_not_breached_while_paused_and_is_when_it_runs_out() {
    let mut engine = live(LADDER);
    push(
        &mut engine,
        &[
            event("P", "09:00:00", "opened", r#""kind":"repair""#),
            // Paused from 10:00 to 12:00: the 11:00 warning moves to 13:00, the due time to 15:00.
            event("P", "10:00:00", "status", r#""status":"waiting_parts""#),
        ],
    );
    let got = engine.advance(at("11:30:00"));
    assert!(got.is_empty(), "paused: {got:?}");
    push(
        &mut engine,
        &[event(
            "P",
            "12:00:00",
            "status",
            r#""status":"in_progress""#,
        )],
    );
    let got = engine.advance(at("13:30:00"));
    assert_eq!(
        brief(&got.alerts),
        [("stage", "P".into(), at("13:00:00"), 1, "due")]
    );
    let got = engine.advance(at("15:01:01"));
    assert_eq!(
        brief(&got.alerts),
        [
            ("stage", "P".into(), at("14:00:00"), 2, "missed"),
            ("breached", "P".into(), at("15:00:00"), 0, "breached"),
        ]
    );
}

const KINDS: &str = r#"policy "kinds" {
  deadline minor "小修8小时之内解决" {
    when kind == "repair" and severity == "minor"
    until resolved
    within 8 hours
  }
  deadline medium "中修3天之内解决" {
    when kind == "repair" and severity == "medium"
    until resolved
    within 3 days
  }
}
"#;

#[test]
fn a_reclassified_case_is_told_its_new_earlier_breach() {
    let mut engine = live(KINDS);
    push(
        &mut engine,
        &[event(
            "R",
            "09:00:00",
            "opened",
            r#""kind":"repair","severity":"medium""#,
        )],
    );
    // Due in three days: nothing to tell before then.
    assert!(engine.advance(at("09:30:00")).is_empty());
    // Reclassified as minor: its clock is due at 17:00, long before the medium one. An
    // `updated` starts or stops no clock, but it changes which clause judges the running one.
    push(
        &mut engine,
        &[event("R", "10:00:00", "updated", r#""severity":"minor""#)],
    );
    assert!(engine.advance(at("16:00:00")).is_empty());
    let got = engine.advance(at("17:01:01"));
    assert_eq!(
        brief(&got.alerts),
        [("breached", "R".into(), at("17:00:00"), 0, "breached")]
    );
}

#[test]
fn a_restored_engine_tells_only_what_it_had_not_told() {
    let mut engine = live(DESK);
    push(
        &mut engine,
        &[
            event("A", "09:00:00", "opened", r#""kind":"complaint""#),
            event("B", "10:30:00", "opened", r#""kind":"complaint""#),
        ],
    );
    assert_eq!(engine.advance(at("10:30:00")).alerts.len(), 1, "A");
    let bytes = engine.snapshot().expect("snapshot");
    drop(engine);
    let mut engine = Engine::restore(&set(DESK), &bytes).expect("restore");
    let got = engine.advance(at("12:00:00"));
    assert_eq!(
        brief(&got.alerts),
        [("breached", "B".into(), at("11:30:00"), 0, "breached")]
    );
}

/// The clocks still running as of `judged`, from a batch check with that `now`: breaches, by
/// (ticket, clause, cycle, due), and fired stages, by (ticket, clause, cycle, stage, at, status).
type Running = (
    BTreeSet<(String, String, u32, DateTime<Utc>)>,
    BTreeSet<(String, String, u32, usize, DateTime<Utc>, &'static str)>,
);

fn breach_key(v: &pledge::Verdict) -> (String, String, u32, DateTime<Utc>) {
    (v.ticket.to_string(), v.clause.to_string(), v.cycle, v.due)
}

fn stage_key(a: &pledge::Action) -> (String, String, u32, usize, DateTime<Utc>, &'static str) {
    let (ticket, clause) = (a.ticket.to_string(), a.clause.to_string());
    (ticket, clause, a.cycle, a.stage, a.at, a.status.as_str())
}

/// What a batch check judged at `judged` says a live host should have been told by then: every
/// breach (of a clock still running, or stopped after its due time), and the stages that fired
/// while their clock ran (before its stop, if it stopped).
fn batch_running(set: &PolicySet, text: &[u8], judged: DateTime<Utc>) -> Running {
    let report = pledge::check_reader(set, text, &Options::default().now(judged)).expect("check");
    let mut stops = BTreeMap::new();
    let mut breaches = BTreeSet::new();
    for r in &report.records {
        if let Record::Verdict(v) = r {
            stops.insert(
                (v.ticket.to_string(), v.clause.to_string(), v.cycle),
                v.stop,
            );
            if v.status == Status::Breached {
                breaches.insert(breach_key(v));
            }
        }
    }
    let mut stages = BTreeSet::new();
    for r in &report.records {
        if let Record::Action(a) = r {
            let cycle = (a.ticket.to_string(), a.clause.to_string(), a.cycle);
            if let Some(stop) = stops.get(&cycle) {
                if stop.is_none_or(|stop| a.at < stop) {
                    stages.insert(stage_key(a));
                }
            }
        }
    }
    (breaches, stages)
}

fn engine_running(alerts: &[Alert]) -> Running {
    let mut running = Running::default();
    for a in alerts {
        match a {
            Alert::Breached(v) => running.0.insert(breach_key(v)),
            Alert::Stage(a) => running.1.insert(stage_key(a)),
        };
    }
    running
}

/// A live engine with a one-day window that has seen the lines up to `judged` (lines without
/// an instant, the deliberately broken ones, are pushed too: they are rejected records), told
/// once just after: its alerts, and what a batch check judged at `judged` says it should have
/// been told ([`batch_running`]).
fn told_and_expected(
    set: &PolicySet,
    text: &[u8],
    lines: &[(&[u8], Option<DateTime<Utc>>)],
    judged: DateTime<Utc>,
) -> (Running, Running) {
    let window = Duration::days(1);
    let mut engine = Engine::new(set, &Options::default().reorder_window(window));
    for (l, at) in lines {
        if at.is_none_or(|at| at <= judged) {
            engine.push_json(l);
        }
    }
    let got = engine.advance(judged + window + Duration::nanoseconds(1));
    (
        engine_running(&got.alerts),
        batch_running(set, text, judged),
    )
}

/// The lines of a stream with their instants (`None` for a line that is not an event).
fn timed_lines(text: &[u8]) -> Vec<(&[u8], Option<DateTime<Utc>>)> {
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let at = serde_json::from_slice::<serde_json::Value>(l)
                .ok()
                .and_then(|e| DateTime::parse_from_rfc3339(e["at"].as_str()?).ok())
                .map(|at| at.with_timezone(&Utc));
            (l, at)
        })
        .collect()
}

#[test]
fn alerts_of_one_late_call_are_the_breaches_and_stages_a_batch_check_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = PolicySet::from_files([
        root.join("policies/customer-requests.pledge"),
        root.join("policies/repairs.pledge"),
        root.join("policies/complaints.pledge"),
    ])
    .expect("shipped policies");
    let text = std::fs::read(root.join("examples/service-desk.jsonl")).expect("example");
    let lines = timed_lines(&text);
    // Judged at several instants through the stream (the example runs over a few days).
    for judged in [
        t("2026-03-02T12:00:00+08:00"),
        t("2026-03-04T09:30:00+08:00"),
        t("2026-03-06T12:00:00+08:00"),
    ] {
        let (told, expected) = told_and_expected(&set, &text, &lines, judged);
        assert!(
            !expected.0.is_empty() || !expected.1.is_empty(),
            "the example has running clocks as of {judged}"
        );
        assert_eq!(told, expected, "as of {judged}");
    }
}

#[test]
fn alerts_on_a_generated_stream_are_the_breaches_and_stages_a_batch_check_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(root.join("policies"))
        .expect("policies/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    paths.sort();
    let set = PolicySet::from_files(paths).expect("the shipped policies parse");
    let opts = pledge::gen::GenOptions {
        cases: 300,
        seed: 11,
        days: 20,
        ..pledge::gen::GenOptions::default()
    }
    .dense();
    let mut text = Vec::new();
    pledge::gen::generate(&opts, &mut text).expect("generate");
    let lines = timed_lines(&text);
    assert!(
        lines.iter().all(|(_, at)| at.is_some()),
        "every generated line is an event"
    );
    let (first, last) = (
        lines[0].1.expect("at"),
        lines[lines.len() - 1].1.expect("at"),
    );
    let mut checked = (0, 0);
    for step in 1..=3 {
        let judged = first + (last - first) * step / 4 + Duration::seconds(17);
        let (told, expected) = told_and_expected(&set, &text, &lines, judged);
        checked.0 += expected.0.len();
        checked.1 += expected.1.len();
        assert_eq!(told, expected, "as of {judged}");
    }
    assert!(
        checked.0 > 20 && checked.1 > 5,
        "breaches and stages compared: {checked:?}"
    );
}

/// Which alerts a host is told does not depend on how often it asks: told after every event,
/// or once at the end, the same breaches and stages (a clock that passed its due time and
/// stopped between two calls is told its breach all the same).
#[test]
fn the_alerts_told_do_not_depend_on_how_often_the_host_asks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = PolicySet::from_files([
        root.join("policies/customer-requests.pledge"),
        root.join("policies/repairs.pledge"),
        root.join("policies/complaints.pledge"),
    ])
    .expect("shipped policies");
    let text = std::fs::read(root.join("examples/service-desk.jsonl")).expect("example");
    told_often_equals_told_once(&set, &text);
    // A generated stream has complaints logged `unclassified` and classified by an `updated`
    // hours later, after the due time of a clause that applies to their class only.
    let opts = pledge::gen::GenOptions {
        cases: 1500,
        seed: 5,
        days: 10,
        ..pledge::gen::GenOptions::default()
    };
    let mut text = Vec::new();
    pledge::gen::generate(&opts, &mut text).expect("generate");
    told_often_equals_told_once(&set, &text);
}

/// A clause that applies only once an `updated` classifies the case, after its due time:
/// its breach and its stages are news when the `updated` comes, however the calls fall (the
/// previous call told nothing of a cycle that did not apply then); a cycle that stopped
/// before the previous call is told its breach too; one that applied then is not told again.
#[test]
fn a_clause_that_applies_only_after_its_due_time_is_told_at_once() {
    const CLASSIFIED: &str = r#"policy "desk" {
  deadline diagnose "设施类投诉2小时内诊断" {
    when category == "facility"
    until resolved
    within 2 hours
    at 50% warn supervisor
  }
}
"#;
    let lines = [
        event("A", "09:00:00", "opened", r#""category":"unclassified""#),
        event("S", "09:00:00", "opened", r#""category":"unclassified""#),
        event("S", "11:30:00", "resolved", ""),
        event("B", "12:00:00", "opened", r#""category":"other""#),
        event("A", "13:00:00", "updated", r#""category":"facility""#),
        event("S", "13:00:00", "updated", r#""category":"facility""#),
        event("B", "14:00:00", "updated", r#""category":"other""#),
    ];
    let expected = [
        ("stage", "A".to_string(), at("10:00:00"), 1, "due"),
        ("stage", "S".to_string(), at("10:00:00"), 1, "due"),
        ("breached", "A".to_string(), at("11:00:00"), 0, "breached"),
        ("breached", "S".to_string(), at("11:00:00"), 0, "breached"),
    ];
    // All at once.
    let mut once = live(CLASSIFIED);
    push(&mut once, &lines);
    let told = once.advance(at("14:01:01")).alerts;
    assert_eq!(brief(&told), expected);
    // In two calls, the first before the `updated`s: the same, told by the second.
    let mut twice = live(CLASSIFIED);
    push(&mut twice, &lines[..4]);
    assert!(twice.advance(at("12:01:01")).alerts.is_empty());
    push(&mut twice, &lines[4..]);
    let told = twice.advance(at("14:01:01")).alerts;
    assert_eq!(brief(&told), expected);
    // An `updated` that changes nothing of what applies tells nothing again.
    push(
        &mut twice,
        &[event(
            "A",
            "15:00:00",
            "updated",
            r#""category":"facility","note":"x""#,
        )],
    );
    assert!(twice.advance(at("15:01:01")).alerts.is_empty());
}

/// Told after every event and once at the end: the same breaches and stages, each once.
fn told_often_equals_told_once(set: &PolicySet, text: &[u8]) {
    // In order of time: an event later than the reorder window (the example has one) may
    // contradict what was told before it came, and told at the end it is known already.
    let mut lines = timed_lines(text);
    lines.retain(|(_, at)| at.is_some());
    lines.sort_by_key(|(_, at)| *at);
    let end = lines
        .iter()
        .filter_map(|(_, at)| *at)
        .max()
        .expect("events")
        + Duration::days(2);
    let keys = |alerts: &[Alert]| {
        let mut breaches = BTreeSet::new();
        let mut stages = BTreeSet::new();
        for a in alerts {
            match a {
                Alert::Breached(v) => {
                    breaches.insert(breach_key(v));
                }
                Alert::Stage(a) => {
                    stages.insert((
                        a.ticket.to_string(),
                        a.clause.to_string(),
                        a.cycle,
                        a.stage,
                        a.at,
                    ));
                }
            }
        }
        (breaches, stages)
    };
    let window = Duration::minutes(1);
    let mut once = Engine::new(set, &Options::default().reorder_window(window));
    let mut often = Engine::new(set, &Options::default().reorder_window(window));
    let mut told_often = Vec::new();
    for (l, at) in &lines {
        once.push_json(l);
        often.push_json(l);
        if let Some(at) = at {
            told_often.extend(often.advance(*at).alerts);
        }
    }
    let told_once = once.advance(end).alerts;
    told_often.extend(often.advance(end).alerts);
    let (once, often) = (keys(&told_once), keys(&told_often));
    assert!(once.0.len() > 5, "breaches told: {once:?}");
    assert_eq!(once, often);
    assert_eq!(
        told_often.len(),
        once.0.len() + once.1.len(),
        "each told once"
    );
}
