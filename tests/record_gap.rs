//! The record item `EVENT at most D apart` (gaps inside a round): its edges on one case, its
//! formatting, and the streaming evaluator, with two laws: the finding does not depend on the
//! arrival order of the case's events, and there is one exactly when the largest gap between
//! neighbours in time order exceeds D.

use chrono::{DateTime, Duration, Utc};
use pledge::engine::evaluate_case_full;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::policy::Policy;
use pledge::syntax::{format_clause, parse_policy};
use pledge::value::{Attrs, Value};
use pledge::{Event, Instant};
use proptest::prelude::*;

/// `"09:00"` or `"09:00:30"` on 2026-03-02 in +08:00.
fn t(s: &str) -> Instant {
    let s = if s.len() == 5 {
        format!("{s}:00")
    } else {
        s.to_string()
    };
    let full = format!("2026-03-02T{s}+08:00");
    DateTime::parse_from_rfc3339(&full)
        .unwrap_or_else(|e| panic!("{full}: {e}"))
        .with_timezone(&Utc)
}

fn ev(at: Instant, kind: &str, pairs: &[(&str, &str)]) -> Event {
    Event {
        ticket: "RD-1".into(),
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

fn policy(item: &str) -> Policy {
    let src =
        format!("policy \"p\" {{\n  record r {{\n    when kind == \"round\"\n    {item}\n  }}\n}}");
    parse_policy(&src, "test.pledge", None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A round opened at 09:00 with a `cleaned` at each of `times`.
fn round(times: &[&str]) -> Vec<Event> {
    let mut out = vec![ev(t("09:00"), "opened", &[("kind", "round")])];
    for (i, at) in times.iter().enumerate() {
        out.push(ev(t(at), "cleaned", &[("bin", &format!("B{i}"))]));
    }
    out
}

/// `code@HH:MM message` of each finding.
fn findings(p: &Policy, events: &[Event]) -> Vec<String> {
    evaluate_case_full(std::slice::from_ref(p), events, t("23:00"))
        .findings
        .iter()
        .map(|f| {
            let local = f.at.with_timezone(&chrono_tz::Asia::Shanghai);
            format!("{}@{} {}", f.code, local.format("%H:%M"), f.message)
        })
        .collect()
}

#[test]
fn a_gap_of_exactly_d_is_kept_and_one_second_more_is_a_finding_at_the_later_event() {
    let p = policy("cleaned at most 15 minutes apart");
    assert!(findings(&p, &round(&["09:05", "09:20", "09:35"])).is_empty());
    assert_eq!(
        findings(&p, &round(&["09:05", "09:20", "09:35:01"])),
        ["record.gap@09:35 `cleaned` at 2026-03-02T09:35:01+08:00 came 15 min 01 s after `cleaned` at 2026-03-02T09:20:00+08:00 (at most 15 min) (`cleaned at most 15 minutes apart`)"]
    );
}

#[test]
fn fewer_than_two_events_have_no_gap() {
    let p = policy("cleaned at most 15 minutes apart");
    assert!(findings(&p, &round(&[])).is_empty());
    assert!(findings(&p, &round(&["11:00"])).is_empty());
    // The gap from `opened` to the first bin is not a gap between bins.
    assert!(findings(&p, &round(&["12:00", "12:10"])).is_empty());
}

#[test]
fn one_finding_per_case_counting_the_later_gaps() {
    let p = policy("cleaned at most 10 minutes apart");
    let got = findings(&p, &round(&["09:00", "09:30", "09:35", "10:00", "10:30"]));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("record.gap@09:30 "), "{got:?}");
    assert!(
        got[0].contains("; 2 later gap(s) too long as well"),
        "{got:?}"
    );
}

#[test]
fn only_matching_events_are_neighbours() {
    // A `cleaned` with `skipped` is not a stop of the round: the gap runs over it.
    let p = policy("cleaned(not skipped) at most 15 minutes apart");
    let mut events = round(&["09:05", "09:30"]);
    let mut skipped = ev(t("09:15"), "cleaned", &[]);
    skipped.attrs.insert("skipped", Value::Bool(true));
    events.push(skipped);
    events.sort_by_key(|e| e.at);
    let got = findings(&p, &events);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("record.gap@09:30 "), "{got:?}");
    // Other event types in between do not split a gap either.
    let p = policy("cleaned at most 15 minutes apart");
    let mut events = round(&["09:05", "09:30"]);
    events.insert(2, ev(t("09:15"), "inspected", &[]));
    assert_eq!(findings(&p, &events).len(), 1);
}

#[test]
fn the_item_formats_back_to_itself() {
    for item in [
        "cleaned at most 15 minutes apart",
        "cleaned(bin == \"B1\") or inspected at most 1 hour 30 minutes apart",
    ] {
        let p = policy(item);
        let text = format_clause(&p.clauses[0]);
        assert!(text.contains(item), "{item} not in\n{text}");
        let again = parse_policy(&format!("policy \"p\" {{\n{text}}}"), "again.pledge", None)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(again.clauses[0], p.clauses[0]);
    }
}

#[test]
fn a_gap_without_a_unit_is_a_syntax_error_naming_the_item() {
    let err = parse_policy(
        "policy \"p\" {\n  record r {\n    cleaned at most 15 apart\n  }\n}\n",
        "bad.pledge",
        None,
    )
    .unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("pledge::syntax"), "{text}");
}

fn stream(p: &Policy, events: Vec<Event>) -> Collect {
    let opts = EvalOptions {
        reorder_window: Duration::days(1),
        ..EvalOptions::default()
    };
    let mut ev = Evaluator::new(std::slice::from_ref(p), opts, Collect::default());
    for (i, mut e) in events.into_iter().enumerate() {
        e.line = i as u64 + 1;
        ev.push(e);
    }
    ev.finish().1
}

#[test]
fn the_streaming_evaluator_keeps_the_instants_and_finds_the_same_gap() {
    let p = policy("cleaned at most 15 minutes apart");
    let mut events = round(&["09:05", "09:12", "09:40", "09:50"]);
    events.push(ev(t("10:00"), "closed", &[]));
    let one = evaluate_case_full(std::slice::from_ref(&p), &events, t("23:00")).findings;
    let streamed = stream(&p, events).findings;
    assert_eq!(streamed, one);
    assert_eq!(streamed.len(), 1);
    assert_eq!(streamed[0].code, "record.gap");
}

proptest! {
    /// Laws: the finding does not depend on the order the events arrive in (within the
    /// reorder window), and there is one exactly when some gap between neighbours in time order
    /// is longer than D.
    #[test]
    fn a_gap_is_found_exactly_when_the_largest_sorted_gap_exceeds_d(
        offsets in proptest::collection::vec(0i64..7200, 0..12),
        seed in any::<u64>(),
    ) {
        let p = policy("cleaned at most 15 minutes apart");
        let base = t("09:00");
        let mut events = vec![ev(base, "opened", &[("kind", "round")])];
        for o in &offsets {
            events.push(ev(base + Duration::seconds(*o), "cleaned", &[]));
        }
        let mut sorted: Vec<i64> = offsets.clone();
        sorted.sort_unstable();
        let expect = sorted.windows(2).any(|w| w[1] - w[0] > 900);
        let mut shuffled = events.clone();
        let mut s = seed;
        for i in (2..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = 1 + (s >> 33) as usize % i;
            shuffled.swap(i, j);
        }
        let a = stream(&p, events);
        let b = stream(&p, shuffled);
        prop_assert_eq!(a.findings.len(), usize::from(expect));
        prop_assert_eq!(a.findings, b.findings);
    }
}
