//! Event filters that compare with a case attribute (`acknowledged(channel ==
//! case.preferred_channel)`): the model, the layout, the diagnostics, and the value the
//! streaming evaluator compares with (the case's at the end of the event's instant), checked
//! against the whole-case reading for any arrival order within the reorder window.

use chrono::{DateTime, Duration, Utc};
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::Status;
use pledge::period::{PeriodRecord, TargetStatus};
use pledge::policy::{CmpOp, Condition, Policy};
use pledge::syntax::{
    format_clause, parse_policy, parse_policy_linted, render, PolicyErrors, Schema,
};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

fn t(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(&format!("2026-{}:00+08:00", s.replace(' ', "T")))
        .unwrap()
        .with_timezone(&Utc)
}

fn ev_at(ticket: &str, at: Instant, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: ticket.into(),
        at,
        kind: kind.into(),
        id: None,
        attrs: pairs
            .iter()
            .map(|(k, v)| (Box::from(*k), Value::String((*v).into())))
            .collect::<Attrs>(),
        line: 0,
    }
}

fn ev(ticket: &str, at: &str, kind: &str, pairs: &[(&str, &str)]) -> Event {
    ev_at(ticket, t(at), kind, pairs)
}

fn policy(body: &str) -> Policy {
    let src = format!("policy \"p\" {{\n{body}\n}}");
    parse_policy(&src, "test.pledge", None)
        .unwrap_or_else(|e| panic!("invalid test policy:\n{}", render(&e, false)))
}

/// The policy's clauses as `pledge` writes them, in a policy of their own.
fn format_policy(p: &Policy) -> String {
    let clauses: Vec<String> = p.clauses.iter().map(format_clause).collect();
    format!("policy \"p\" {{\n{}\n}}\n", clauses.join("\n"))
}

fn errors(src: &str) -> PolicyErrors {
    match parse_policy_linted(src, "test.pledge", None, &Schema::default(), &[]) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

const CONTACT: &str = r#"
  deadline contact_preferred_1h "1小时内以客户偏好渠道联系" {
    from opened until contacted(channel == case.preferred_channel)
    within 1 hour
  }
  target first_contact_preferred "首次联系使用偏好渠道" {
    when has preferred_channel
    ratio contacted(channel == case.preferred_channel) among contacted per month
    at least 100%
  }
"#;

#[test]
fn a_case_comparison_lowers_to_its_own_condition_and_formats_back() {
    let p = policy(CONTACT);
    let pledge::policy::ClauseBody::Deadline(d) = &p.clauses[0].body else {
        panic!("a deadline")
    };
    assert_eq!(
        d.stop.matchers[0].filter,
        Some(Condition::CompareCase {
            attr: "channel".into(),
            op: CmpOp::Eq,
            case_attr: "preferred_channel".into(),
        })
    );
    let text = format_policy(&p);
    assert!(
        text.contains("until contacted(channel == case.preferred_channel)"),
        "{text}"
    );
    let again = parse_policy(&text, "again.pledge", None).unwrap();
    assert_eq!(again.clauses, p.clauses);
    // Inside `not`, `and`, `or`, with another operator.
    let p = policy(
        r#"
  deadline c "c" {
    from opened until contacted(not (channel != case.preferred_channel) or urgent and channel == "phone")
    within 1 hour
  }
"#,
    );
    let text = format_policy(&p);
    assert_eq!(
        parse_policy(&text, "again.pledge", None).unwrap().clauses,
        p.clauses
    );
}

#[test]
fn pledge_fmt_keeps_case_dot_name_as_one_token() {
    let src = "policy \"p\" {\n  deadline c \"c\" {\n    from opened until contacted( channel==case.preferred_channel )\n    within 1 hour\n  }\n}\n";
    let out = pledge::syntax::format_source(src, "p.pledge").unwrap();
    assert!(
        out.contains("until contacted(channel == case.preferred_channel)"),
        "{out}"
    );
    assert_eq!(
        pledge::syntax::format_source(&out, "p.pledge").unwrap(),
        out
    );
}

#[test]
fn case_dot_name_outside_an_event_filter_is_an_error() {
    let e = errors(
        "policy \"p\" {\n  deadline c \"c\" {\n    when channel == case.preferred_channel\n    until contacted\n    within 1 hour\n  }\n}\n",
    );
    assert_eq!(e.codes(), ["pledge::condition::case_outside_filter"]);
    assert_eq!(e.errors[0].underlined(), Some("case.preferred_channel"));
    insta::assert_snapshot!("case_outside_filter", render(&e, false));
}

#[test]
fn with_a_schema_the_case_attribute_must_be_declared() {
    let src = |name: &str| {
        format!(
            "policy \"p\" {{\n  attributes {{\n    preferred_channel: \"phone\" | \"sms\"\n  }}\n  deadline c \"c\" {{\n    from opened until contacted(channel == case.{name})\n    within 1 hour\n  }}\n}}\n"
        )
    };
    let e = errors(&src("prefered_channel"));
    assert_eq!(e.codes(), ["pledge::schema::unknown_attribute"]);
    assert_eq!(e.errors[0].underlined(), Some("prefered_channel"));
    insta::assert_snapshot!("case_compare_unknown_attribute", render(&e, false));
    // Declared: valid, and no lint calls the filter unsatisfiable.
    let ok = parse_policy_linted(
        &src("preferred_channel"),
        "t.pledge",
        None,
        &Schema::default(),
        &[],
    )
    .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    assert!(
        ok.lints.iter().all(|d| d.lint != Some("never_applies")),
        "{:?}",
        ok.lints.iter().map(|d| d.lint).collect::<Vec<_>>()
    );
}

fn run(policies: &[Policy], events: Vec<Event>, window_hours: i64) -> Collect {
    let opts = EvalOptions {
        reorder_window: Duration::hours(window_hours),
        ..EvalOptions::default()
    };
    let mut engine = Evaluator::new(policies, opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        engine.push(e);
    }
    engine.finish().1
}

#[test]
fn a_contact_on_another_channel_does_not_stop_the_clock() {
    let p = [policy(CONTACT)];
    let events = vec![
        ev(
            "A",
            "03-02 09:00",
            "opened",
            &[("preferred_channel", "phone")],
        ),
        ev("A", "03-02 09:10", "contacted", &[("channel", "sms")]),
        ev("A", "03-02 09:50", "contacted", &[("channel", "phone")]),
        // No preference: the comparison is false, so the clock never stops.
        ev("B", "03-02 09:00", "opened", &[]),
        ev("B", "03-02 09:10", "contacted", &[("channel", "phone")]),
        ev(
            "C",
            "03-02 12:00",
            "opened",
            &[("preferred_channel", "sms")],
        ),
    ];
    let out = run(&p, events, 1);
    let got: Vec<(&str, Status, Option<Instant>)> = out
        .verdicts
        .iter()
        .map(|v| (&*v.ticket, v.status, v.stop))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A", Status::Met, Some(t("03-02 09:50"))),
            ("B", Status::Breached, None),
            ("C", Status::Pending, None),
        ]
    );
}

#[test]
fn the_value_at_the_events_instant_counts_not_a_later_one() {
    let p = [policy(CONTACT)];
    let events = vec![
        ev(
            "A",
            "03-02 09:00",
            "opened",
            &[("preferred_channel", "phone")],
        ),
        ev("A", "03-02 09:10", "contacted", &[("channel", "phone")]),
        // Changed later: the contact at 09:10 still matched.
        ev(
            "A",
            "03-05 09:00",
            "updated",
            &[("preferred_channel", "wechat")],
        ),
        ev(
            "B",
            "03-02 09:00",
            "opened",
            &[("preferred_channel", "phone")],
        ),
        // The contact and the change at one instant, the change after it in the stream: counts.
        ev("B", "03-02 09:30", "contacted", &[("channel", "wechat")]),
        ev(
            "B",
            "03-02 09:30",
            "updated",
            &[("preferred_channel", "wechat")],
        ),
    ];
    let out = run(&p, events, 1);
    let deadline: Vec<(&str, Status)> = out
        .verdicts
        .iter()
        .map(|v| (&*v.ticket, v.status))
        .collect();
    assert_eq!(deadline, vec![("A", Status::Met), ("B", Status::Met)]);
    let target: Vec<(u64, u64, TargetStatus)> = out
        .periods
        .iter()
        .filter_map(|r| match r {
            PeriodRecord::Target(t) => Some((t.hits, t.total, t.status)),
            _ => None,
        })
        .collect();
    assert_eq!(target, vec![(2, 2, TargetStatus::Met)]);
}

/// A case: a preference at opening, then contacts and changes of preference at minutes drawn
/// from a small range (so that ties happen).
fn a_case() -> impl Strategy<Value = Vec<Event>> {
    let channel = prop::sample::select(vec!["phone", "sms", "wechat"]);
    let step = (
        0i64..90,
        prop::bool::ANY,
        prop::sample::select(vec!["phone", "sms", "wechat"]),
    );
    (channel, prop::collection::vec(step, 1..8)).prop_map(|(first, steps)| {
        let start = t("03-02 09:00");
        let mut events = vec![ev_at("A", start, "opened", &[("preferred_channel", first)])];
        for (minute, is_update, ch) in steps {
            let at = start + Duration::minutes(minute);
            events.push(if is_update {
                ev_at("A", at, "updated", &[("preferred_channel", ch)])
            } else {
                ev_at("A", at, "contacted", &[("channel", ch)])
            });
        }
        events
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// In any arrival order within the window, the streaming evaluator stops the clock where
    /// the whole-case reading does: the comparison reads the case at the end of each event's
    /// instant, whatever came first.
    #[test]
    fn arrival_order_does_not_change_what_matched(
        (events, order) in a_case().prop_flat_map(|events| {
            let n = events.len();
            (Just(events), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let policies = [policy(CONTACT)];
        let now = t("03-02 12:00");
        let mut shuffled: Vec<Event> = order.iter().map(|&i| events[i].clone()).collect();
        // A later case moves the stream to `now`.
        shuffled.push(ev_at("Z", now, "opened", &[]));
        let out = run(&policies, shuffled, 24);
        let got: Vec<(Status, Option<Instant>)> = out
            .verdicts
            .iter()
            .filter(|v| &*v.ticket == "A")
            .map(|v| (v.status, v.stop))
            .collect();
        let whole = evaluate_case_full(&policies, &events, now);
        let want: Vec<(Status, Option<Instant>)> =
            whole.verdicts.iter().map(|v| (v.status, v.stop)).collect();
        prop_assert_eq!(got, want);
    }
}

/// The README's example of a comparison with a case attribute parses and is laid out as written.
#[test]
fn the_readme_example_works_as_written() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let block = readme
        .split("```pledge\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("case.preferred_channel"))
        .expect("the README shows `case.preferred_channel`");
    parse_policy(block, "README", None).unwrap_or_else(|e| panic!("{}", render(&e, false)));
    assert_eq!(
        pledge::syntax::format_source(block, "README").unwrap(),
        block
    );
}
