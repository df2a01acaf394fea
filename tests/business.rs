//! Deadline clauses on business calendars, written as policy text and judged on event lines:
//! the rules of SEMANTICS.md "Limits and calendars" end to end through the language, and the
//! calendar diagnostics of policies.

use pledge::engine::evaluate_case;
use pledge::eval::{Status, Verdict};
use pledge::input::{parse_jsonl_line, ReadOptions, Record};
use pledge::policy::Policy;
use pledge::syntax::{parse_policy, render};
use pledge::Event;

const CALENDAR: &str = r#"
  calendar office {
    hours mon..fri 08:30-12:00, 13:30-18:00
    holidays "cn"
  }
"#;

fn policy(clauses: &str) -> Policy {
    let src = format!("policy \"p\" {{\n{CALENDAR}\n{clauses}\n}}\n");
    parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid policy:\n{}", render(&e, false)))
}

/// Events from `(at, type, attrs-json)` triples of one ticket.
fn events(lines: &[(&str, &str, &str)]) -> Vec<Event> {
    lines
        .iter()
        .enumerate()
        .map(|(i, (at, kind, attrs))| {
            let line =
                format!(r#"{{"ticket":"T","at":"{at}+08:00","type":"{kind}","attrs":{attrs}}}"#);
            match parse_jsonl_line(line.as_bytes(), i as u64 + 1, &ReadOptions::default()) {
                Record::Event(e) => e,
                Record::Rejected(r) => panic!("{line}: {}", r.reason),
            }
        })
        .collect()
}

fn judge(policy: &Policy, evs: &[Event], now: &str) -> Vec<Verdict> {
    let now = chrono::DateTime::parse_from_rfc3339(&format!("{now}+08:00"))
        .unwrap()
        .to_utc();
    evaluate_case(policy, evs, now)
}

fn local(t: pledge::Instant) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[test]
fn two_workdays_count_working_hours_and_skip_the_lunch_break() {
    let p = policy(r#"deadline own_dept { until resolved within 2 workdays on office }"#);
    // Monday 2026-03-02 11:00: 1 h before lunch, 4.5 h after; 8 h days; due Wednesday 11:00.
    let evs = events(&[
        ("2026-03-02T11:00:00", "opened", "{}"),
        ("2026-03-04T11:00:00", "resolved", "{}"),
    ]);
    let v = &judge(&p, &evs, "2026-03-06T00:00:00")[0];
    assert_eq!(local(v.due), "2026-03-04 11:00");
    assert_eq!(
        v.status,
        Status::Met,
        "stopping exactly at the due time is met"
    );
    // Opened during lunch: the clock begins at 13:30.
    let evs = events(&[("2026-03-02T12:30:00", "opened", "{}")]);
    let v = &judge(&p, &evs, "2026-03-03T00:00:00")[0];
    // 4.5 h on Monday, 8 h on Tuesday, 3.5 h on Wednesday morning: due as the morning ends.
    assert_eq!(local(v.due), "2026-03-04 12:00");
    assert_eq!(v.status, Status::Pending);
}

#[test]
fn a_holiday_monday_and_the_spring_festival_week_are_skipped() {
    let p = policy(r#"deadline d { until resolved within 1 workday on office }"#);
    // Friday 2026-04-03 17:00; Saturday 04-04 to Monday 04-06 are 清明 days off: 1 h on
    // Friday, then 7 h on Tuesday 04-07 → 16:00... 08:30–12:00 (3.5) + 13:30–17:00 (3.5).
    let evs = events(&[("2026-04-03T17:00:00", "opened", "{}")]);
    let v = &judge(&p, &evs, "2026-04-03T18:00:00")[0];
    assert_eq!(local(v.due), "2026-04-07 17:00");
    // Friday 2026-02-13 15:00: 3 h left that day, then the make-up Saturday 02-14 (5 h more),
    // then 02-15..02-23 off: due Saturday 02-14 at 15:00... 08:30–12:00 + 13:30–15:00.
    let evs = events(&[("2026-02-13T15:00:00", "opened", "{}")]);
    let v = &judge(&p, &evs, "2026-02-13T16:00:00")[0];
    assert_eq!(local(v.due), "2026-02-14 15:00");
    // Opened on the make-up Saturday at 17:00: 1 h, then the holiday week, then Tuesday 02-24.
    let evs = events(&[("2026-02-14T17:00:00", "opened", "{}")]);
    let v = &judge(&p, &evs, "2026-02-14T18:00:00")[0];
    assert_eq!(local(v.due), "2026-02-24 17:00");
}

#[test]
fn a_pause_across_a_night_and_a_weekend_moves_the_due_by_its_working_time_only() {
    let p = policy(
        r#"deadline d {
             until resolved
             within 8 business hours on office
             pause while status in ["waiting_parts"]
           }"#,
    );
    // Opened Thursday 2026-03-05 09:00; waiting for parts from Friday 16:00 to Monday 10:00:
    // paused working time = Friday 16:00–18:00 (2 h) + Monday 08:30–10:00 (1.5 h) = 3.5 h.
    // Without the pause: due Thursday 17:30... 09:00–12:00 (3) + 13:30–18:00 (4.5) = 7.5 h,
    // so 8 h is Friday 09:00; the pause starts after that, so it does not move it.
    let evs = events(&[
        ("2026-03-05T09:00:00", "opened", "{}"),
        (
            "2026-03-06T16:00:00",
            "status",
            r#"{"status":"waiting_parts"}"#,
        ),
        (
            "2026-03-09T10:00:00",
            "status",
            r#"{"status":"in_progress"}"#,
        ),
    ]);
    let v = &judge(&p, &evs, "2026-03-09T12:00:00")[0];
    assert_eq!(local(v.due), "2026-03-06 09:00");
    assert_eq!(v.status, Status::Breached);
    // Opened Friday 2026-03-06 11:00 and paused from 16:00 to Monday 10:00. Working time before
    // the pause: 11:00–12:00 + 13:30–16:00 = 3.5 h; 4.5 h more from Monday 10:00 is 10:00–12:00
    // + 13:30–16:00: due Monday 16:00, and the record shows 3.5 h of paused working time.
    let evs = events(&[
        ("2026-03-06T11:00:00", "opened", "{}"),
        (
            "2026-03-06T16:00:00",
            "status",
            r#"{"status":"waiting_parts"}"#,
        ),
        (
            "2026-03-09T10:00:00",
            "status",
            r#"{"status":"in_progress"}"#,
        ),
        ("2026-03-09T15:00:00", "resolved", "{}"),
    ]);
    let v = &judge(&p, &evs, "2026-03-09T18:00:00")[0];
    assert_eq!(local(v.due), "2026-03-09 16:00");
    assert_eq!(v.paused_time, chrono::Duration::minutes(210));
    assert_eq!(v.status, Status::Met);
}

#[test]
fn same_day_and_by_eight_next_day_through_the_language() {
    let p = policy(
        r#"deadline same { until resolved same day on office }
           deadline night { until acknowledged by 08:00 next day }
           deadline night_work { until acknowledged by 08:00 next workday on office }"#,
    );
    // Opened Friday 2026-01-30 19:00, after hours: same day is the next working day's end
    // (Monday 02-02 18:00); by 08:00 next day is Saturday 01-31 08:00; next workday, Monday.
    let evs = events(&[("2026-01-30T19:00:00", "opened", "{}")]);
    let vs = judge(&p, &evs, "2026-01-30T20:00:00");
    let due: Vec<String> = vs.iter().map(|v| local(v.due)).collect();
    assert_eq!(
        due,
        vec!["2026-02-02 18:00", "2026-01-31 08:00", "2026-02-02 08:00"]
    );
    // Across a month end: Saturday 2026-01-31 23:30 → Sunday 02-01 08:00.
    let evs = events(&[("2026-01-31T23:30:00", "opened", "{}")]);
    let vs = judge(&p, &evs, "2026-02-01T00:00:00");
    assert_eq!(local(vs[1].due), "2026-02-01 08:00");
    // At exactly 08:00 the next 08:00 is a day later.
    let evs = events(&[("2026-03-03T08:00:00", "opened", "{}")]);
    let vs = judge(&p, &evs, "2026-03-03T09:00:00");
    assert_eq!(local(vs[1].due), "2026-03-04 08:00");
}

#[test]
fn calendar_mistakes_in_a_policy_are_diagnostics_with_codes() {
    let src = r#"policy "p" {
  calendar office {
    hours mon..fri 08:30-12:00, 11:30-18:00
    workday 2026-03-04
  }
  calendar shop {
    hours mon..sun 10:00-22:00
    holidays "cn-2031"
  }
  deadline d {
    until resolved
    within 2 workdays on offfice
  }
}
"#;
    let e = parse_policy(src, "calendars.pledge", None).unwrap_err();
    let codes = e.codes();
    for code in [
        "pledge::calendar::overlapping_hours",
        "pledge::calendar::makeup_not_weekend",
        "pledge::calendar::unknown_holidays",
        "pledge::calendar::unknown",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let text = render(&e, false);
    assert!(text.contains("did you mean `office`"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn an_included_holiday_file_that_does_not_parse_points_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("company.toml"),
        "name = \"company\"\nyears = [2026, 2026]\n[[holiday]]\ndate = 2026-02-30\n",
    )
    .unwrap();
    let src = r#"policy "p" {
  include calendar "company.toml" as company
  calendar office {
    hours mon..fri 09:00-18:00
    holidays company
  }
}
"#;
    let e = parse_policy(src, "inc.pledge", Some(dir.path())).unwrap_err();
    let codes = e.codes();
    assert!(
        codes
            .iter()
            .any(|c| c.starts_with("pledge::holidays::") || c.starts_with("pledge::include::")),
        "{codes:?}"
    );
    let text = render(&e, false);
    assert!(text.contains("2026-02-30"), "{text}");
    // The calendar naming the schedule is no second error: the include said what failed.
    assert!(
        !codes.contains(&"pledge::calendar::unknown_holidays"),
        "{codes:?}"
    );
    // Nor when the file cannot be read at all; a name never included still is one.
    let src = r#"policy "p" {
  include calendar "missing.toml" as company
  calendar office {
    hours mon..fri 09:00-18:00
    holidays company
    holidays compnay2
  }
}
"#;
    let e = parse_policy(src, "inc.pledge", Some(dir.path())).unwrap_err();
    assert_eq!(
        e.codes(),
        [
            "pledge::include::unreadable",
            "pledge::calendar::unknown_holidays"
        ]
    );
}
