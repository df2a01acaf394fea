//! Leaving out what no clause can look at changes no result: the shipped policies on generated
//! streams (in order and shuffled) give the same records whether the evaluator keeps every
//! event or only those [`Relevance`] keeps, and whether the reader builds the attributes of
//! the others or not.

use pledge::check::check;
use pledge::engine::{Collect, EvalOptions, Evaluator};
use pledge::eval::Summary;
use pledge::gen::{generate, GenOptions};
use pledge::input::{read_events, ReadOptions, Record};
use pledge::policy::Policy;
use pledge::relevance::Relevance;
use pledge::syntax::load_policy;
use std::path::Path;

fn shipped_policies() -> Vec<Policy> {
    let mut paths: Vec<_> = std::fs::read_dir("policies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pledge"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| load_policy(Path::new(p)).unwrap_or_else(|e| panic!("{}: {e:?}", p.display())))
        .collect()
}

fn stream(cases: u64, seed: u64, shuffle: f64) -> Vec<u8> {
    let opts = GenOptions {
        cases,
        seed,
        days: 60,
        assets: Some(12),
        shuffle,
        max_displacement: if shuffle > 0.0 { 40 } else { 0 },
        ..GenOptions::default()
    };
    let mut out = Vec::new();
    generate(&opts, &mut out).unwrap();
    out
}

/// Events read without a projection, kept as `relevance` says.
fn evaluate(policies: &[Policy], input: &[u8], relevance: Relevance) -> (Summary, Collect) {
    let opts = EvalOptions::default();
    let mut ev = Evaluator::with_relevance(policies, opts, Collect::default(), relevance);
    read_events(input, &ReadOptions::default(), |r| match r {
        Record::Event(e) => ev.push(e),
        Record::Rejected(r) => ev.reject(r),
    })
    .unwrap();
    ev.finish()
}

/// Every event kept whole.
fn keeping_everything(policies: &[Policy], input: &[u8]) -> (Summary, Collect) {
    evaluate(policies, input, Relevance::everything())
}

/// The evaluator's own filtering (what `Evaluator::new` does).
fn filtering_in_the_evaluator(policies: &[Policy], input: &[u8]) -> (Summary, Collect) {
    evaluate(policies, input, Relevance::of(policies))
}

/// The library's check: the reader leaves out what the evaluator would drop.
fn projected_check(policies: &[Policy], input: &[u8]) -> (Summary, Collect) {
    let checked = check(
        policies,
        input,
        &ReadOptions::default(),
        EvalOptions::default(),
        Collect::default(),
    )
    .unwrap();
    (checked.summary, checked.sink)
}

fn assert_same(policies: &[Policy], input: &[u8]) {
    let full = keeping_everything(policies, input);
    assert!(
        full.1.verdicts.len() > 100,
        "the stream exercises the policies"
    );
    assert!(!full.1.findings.is_empty());
    assert!(!full.1.periods.is_empty());
    let filtered = filtering_in_the_evaluator(policies, input);
    assert!(
        full == filtered,
        "filtering in the evaluator changed a result"
    );
    let projected = projected_check(policies, input);
    assert!(
        full == projected,
        "projecting in the reader changed a result"
    );
}

#[test]
fn shipped_policies_give_the_same_records_on_a_stream_in_order() {
    assert_same(&shipped_policies(), &stream(1500, 3, 0.0));
}

#[test]
fn shipped_policies_give_the_same_records_on_a_shuffled_stream() {
    assert_same(&shipped_policies(), &stream(1500, 4, 0.2));
}

#[test]
fn relevance_names_the_types_the_clauses_use() {
    let policies = shipped_policies();
    let r = Relevance::of(&policies);
    for t in [
        "opened",
        "closed",
        "reopened",
        "status",
        "contacted",
        "resolved",
        "revisited",
    ] {
        assert!(r.keeps_type(t), "{t}");
    }
    assert!(!r.keeps_type("comment_added"));
    assert!(Relevance::everything().keeps_type("comment_added"));
}

/// SEMANTICS.md, "Ties": events of a case at the same instant are ordered by type name, then
/// by their attributes, all of them. Two `updated` events at the same instant that disagree on
/// `kind` are ordered by an attribute no clause reads (`a_note`), and the later one wins: it
/// must be the same one whatever is left out.
#[test]
fn ties_are_ordered_by_every_attribute_even_those_no_clause_reads() {
    let policies = [pledge::syntax::parse_policy(
        "policy \"p\" {\n  deadline contact {\n    when kind == \"complaint\"\n    from opened until contacted\n    within 1 hour\n  }\n}\n",
        "p.pledge",
        None,
    )
    .unwrap()];
    for (first, second) in [("complaint", "repair"), ("repair", "complaint")] {
        let stream = format!(
            "{}\n{}\n{}\n{}\n",
            r#"{"ticket":"T-1","at":"2026-03-02T09:00:00+08:00","type":"opened","attrs":{"kind":"inquiry"}}"#,
            format_args!(
                r#"{{"ticket":"T-1","at":"2026-03-02T09:10:00+08:00","type":"updated","attrs":{{"a_note":"z","kind":"{first}"}}}}"#
            ),
            format_args!(
                r#"{{"ticket":"T-1","at":"2026-03-02T09:10:00+08:00","type":"updated","attrs":{{"a_note":"a","kind":"{second}"}}}}"#
            ),
            r#"{"ticket":"T-1","at":"2026-03-02T11:00:00+08:00","type":"contacted"}"#,
        );
        let full = keeping_everything(&policies, stream.as_bytes());
        // `a_note` "z" sorts last, so its `kind` wins.
        assert_eq!(full.1.verdicts.len(), usize::from(first == "complaint"));
        assert!(full == filtering_in_the_evaluator(&policies, stream.as_bytes()));
        assert!(full == projected_check(&policies, stream.as_bytes()));
    }
}
