//! `explain::explain_case`: the facts behind a case's verdicts, and the same verdicts as the
//! evaluator.

use pledge::calendar::SpecialDate;
use pledge::engine::evaluate_case_full;
use pledge::explain::explain_case;
use pledge::explain::{Applicability, CalendarStep};
use pledge::input::{read_events, ReadOptions, Record};
use pledge::policy::Policy;
use pledge::syntax::parse_policy;
use pledge::{Event, Instant};

const POLICY: &str = r#"
policy "p" {
  calendar office {
    hours mon..fri 09:00-12:00, 13:00-18:00
    holidays "cn-2026"
  }
  deadline reply {
    when kind == "complaint"
    until progress
    within 1 workday on office
    pause while status in ["waiting_customer", "waiting_parts"]
    at 50% warn supervisor
    after 3 days escalate project_manager
  }
  deadline revisit {
    from resolved
    until revisited
    within 24 hours
  }
  deadline repair {
    when kind == "repair" and severity == "major"
    until dispatched
    within 1 hour
  }
}
"#;

fn policy() -> Policy {
    parse_policy(POLICY, "p.pledge", None).unwrap()
}

fn events(jsonl: &str) -> Vec<Event> {
    let mut out = Vec::new();
    read_events(jsonl.as_bytes(), &ReadOptions::default(), |r| {
        if let Record::Event(e) = r {
            out.push(e)
        }
    })
    .unwrap();
    out
}

fn at(s: &str) -> Instant {
    pledge::input::parse_timestamp(s, None).unwrap()
}

const CASE: &str = r#"{"ticket":"T-1","at":"2026-09-30T17:00:00+08:00","type":"opened","attrs":{"kind":"complaint","severity":"minor"}}
{"ticket":"T-1","at":"2026-10-08T10:00:00+08:00","type":"status","attrs":{"status":"waiting_parts"}}
{"ticket":"T-1","at":"2026-10-09T10:00:00+08:00","type":"escalated","attrs":{"to":"project_manager"}}
{"ticket":"T-1","at":"2026-10-09T11:00:00+08:00","type":"resolved"}
{"ticket":"T-1","at":"2026-10-10T09:00:00+08:00","type":"revisited"}
{"ticket":"T-1","at":"2026-10-10T10:00:00+08:00","type":"reopened"}
{"ticket":"T-1","at":"2026-10-10T12:00:00+08:00","type":"resolved"}
"#;

#[test]
fn explanations_carry_the_same_verdicts_as_the_evaluator() {
    let p = [policy()];
    let evs = events(CASE);
    // How many verdicts each `now` gives: the comparison is never between two empty lists.
    for (now, verdicts) in [
        ("2026-10-08T12:00:00+08:00", 1),
        ("2026-10-10T11:00:00+08:00", 2),
        ("2026-10-20T00:00:00+08:00", 3),
    ] {
        let now = at(now);
        let expected = evaluate_case_full(&p, &evs, now).verdicts;
        let explained: Vec<_> = explain_case(&p, &evs, now)
            .clauses
            .iter()
            .flat_map(|c| c.cycles.iter().map(|cy| cy.verdict.clone()))
            .collect();
        assert_eq!(explained.len(), verdicts, "as of {now}");
        assert_eq!(explained, expected);
    }
}

#[test]
fn an_open_pause_a_holiday_and_stages_are_explained() {
    let p = [policy()];
    let e = explain_case(&p, &events(CASE), at("2026-10-10T11:00:00+08:00"));
    let reply = &e.clauses[0];
    assert!(matches!(reply.applies, Applicability::Holds { .. }));
    let cy = &reply.cycles[0];
    assert_eq!(cy.start_event, "opened");
    // Opened at 17:00 on 30 September: one working hour that day, then the holiday.
    assert!(cy.calendar_steps.contains(&CalendarStep {
        first: "2026-10-01".parse().unwrap(),
        last: "2026-10-07".parse().unwrap(),
        reason: SpecialDate::Holiday(Some("国庆节".to_string())),
    }));
    // Still waiting for parts at `now`: the pause is open and moved the due time.
    assert_eq!(cy.pauses.len(), 1);
    assert_eq!(cy.pauses[0].status, "waiting_parts");
    assert_eq!(cy.pauses[0].until, None);
    assert!(cy.pauses[0].moved_due);
    assert!(cy.verdict.paused);
    let text = e.render();
    assert!(text.contains("pause: status `waiting_parts` from Thu 2026-10-08 10:00 and still paused: 17 h paused so far"), "{text}");
    // A paused clock does not advance: the 50% stage is not reached while parts are awaited.
    assert!(
        text.contains("stage 1 (at 50% warn supervisor): not reached"),
        "{text}"
    );
    assert!(text.contains("clock still running"), "{text}");
    assert!(
        text.contains("calendar: Sat 2026-10-10: make-up working day (国庆节调休), counted"),
        "{text}"
    );
    // The repair clause: both comparisons named, only the false one given as the reason.
    match &e.clauses[2].applies {
        Applicability::Fails { reasons, .. } => assert_eq!(
            reasons,
            &vec![
                "`kind` is \"complaint\", not \"repair\"".to_string(),
                "`severity` is \"minor\", not \"major\"".to_string()
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn stages_and_reopen_cycles_once_the_pause_ended() {
    let p = [policy()];
    let more = format!(
        "{CASE}{}\n",
        r#"{"ticket":"T-1","at":"2026-10-09T09:00:00+08:00","type":"status","attrs":{"status":"in_progress"}}"#
    );
    let e = explain_case(&p, &events(&more), at("2026-10-25T00:00:00+08:00"));
    let text = e.render();
    assert!(text.contains("pause: status `waiting_parts` from Thu 2026-10-08 10:00 to Fri 2026-10-09 09:00: 7 h paused"), "{text}");
    assert!(
        text.contains("due Fri 2026-10-09 16:00 (without the pauses: Thu 2026-10-08 17:00)"),
        "{text}"
    );
    assert!(
        text.contains("stage 1 (at 50% warn supervisor): reached Fri 2026-10-09 11:00"),
        "{text}"
    );
    // The escalation came before the stage fired, so it does not count as evidence.
    assert!(
        text.contains("stage 2 (after 3 days escalate project_manager): reached"),
        "{text}"
    );
    assert!(text.contains(", missed"), "{text}");
    assert!(text.contains("verdict: breached"), "{text}");
    // Reopened: two cycles of the revisit clause, the second started by the new `resolved`.
    assert_eq!(e.clauses[1].cycles.len(), 2);
    assert!(
        text.contains("  cycle 2:\n    clock starts Sat 2026-10-10 12:00 at `resolved`"),
        "{text}"
    );
}

#[test]
fn a_clock_started_after_hours_says_when_counting_begins() {
    let p = [policy()];
    let evs = events(
        r#"{"ticket":"T-2","at":"2026-10-09T20:00:00+08:00","type":"opened","attrs":{"kind":"complaint"}}"#,
    );
    let e = explain_case(&p, &evs, at("2026-10-09T21:00:00+08:00"));
    let text = e.render();
    assert!(
        text.contains("outside working hours at the start: counting begins Sat 2026-10-10 09:00"),
        "{text}"
    );
    assert!(text.contains("verdict: pending"), "{text}");
    assert!(text.contains("revisit\n  applies to every case (no `when`)\n  no verdict: the clock has not started: no `resolved` event yet"), "{text}");
}

#[test]
fn a_case_without_opened_gets_no_clause() {
    let p = [policy()];
    let evs = events(r#"{"ticket":"T-3","at":"2026-10-09T20:00:00+08:00","type":"progress"}"#);
    let e = explain_case(&p, &evs, at("2026-10-09T21:00:00+08:00"));
    assert!(!e.opened);
    assert!(e.render().contains("no `opened` event"));
}
