//! Partitioned evaluation (`--partition I/N`) and the merge of the partitions' states: N
//! evaluators, each judging the tickets of one partition of a stream while every event moves
//! its time, merged, give the period records and the summary of one evaluator over the whole
//! stream, wherever the stream is cut.

mod common;

use common::{shipped_policies, STORM};

use chrono::{DateTime, Utc};
use pledge::engine::PeriodSink;
use pledge::engine::{Collect, EvalOptions, Evaluator, Partition, Sink};
use pledge::eval::Summary;
use pledge::input::{read_events, ReadOptions, Record};
use pledge::period::{PeriodRecord, ReportSpec};
use pledge::policy::{PeriodUnit, Policy};
use pledge::report::period::merged_periods;
use proptest::prelude::*;

/// A generated stream, with a bad line in the middle.
fn stream(seed: u64, cases: u64, days: u32, shuffle: f64) -> Vec<Record> {
    stream_from((2026, 1, 1), seed, cases, days, shuffle)
}

/// The same from another first day (a summer's: weather warnings are raised).
fn stream_from(
    start: (i32, u32, u32),
    seed: u64,
    cases: u64,
    days: u32,
    shuffle: f64,
) -> Vec<Record> {
    let opts = pledge::gen::GenOptions {
        cases,
        seed,
        start,
        days,
        assets: Some(6),
        shuffle,
        max_displacement: if shuffle > 0.0 { 40 } else { 0 },
        ..pledge::gen::GenOptions::default()
    }
    .dense();
    let mut text = Vec::new();
    pledge::gen::generate(&opts, &mut text).expect("generates");
    let mid = text.len() / 2;
    let cut = mid + text[mid..].iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
    let tail = text.split_off(cut.min(text.len()));
    text.extend_from_slice(b"{broken\n");
    text.extend_from_slice(&tail);
    let mut records = Vec::new();
    read_events(&text[..], &ReadOptions::default(), |r| records.push(r)).expect("reads");
    records
}

fn opts() -> EvalOptions {
    EvalOptions {
        reorder_window: chrono::Duration::hours(2),
        ..EvalOptions::default()
    }
}

fn spec() -> ReportSpec {
    ReportSpec {
        unit: PeriodUnit::Week,
        group_by: vec!["project".into()],
    }
}

fn feed<S: Sink>(e: &mut Evaluator<'_, S>, records: &[Record]) {
    for r in records {
        match r.clone() {
            Record::Event(ev) => e.push(ev),
            Record::Rejected(r) => e.reject(r),
        }
    }
}

fn single(policies: &[Policy], records: &[Record]) -> (Summary, Vec<PeriodRecord>) {
    let mut e = Evaluator::new(policies, opts(), PeriodSink::default());
    e.periods_mut().report_by(spec());
    feed(&mut e, records);
    let (summary, sink) = e.finish();
    (summary, sink.records)
}

/// The states of `n` partitions having read `records`.
fn states(policies: &[Policy], records: &[Record], n: u32) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let mut e = Evaluator::new(policies, opts(), Collect::default());
            e.partition(Partition::new(i, n).expect("a partition"));
            e.periods_mut().report_by(spec());
            feed(&mut e, records);
            (format!("p{i}"), e.snapshot().expect("a snapshot"))
        })
        .collect()
}

fn merged(policies: &[Policy], records: &[Record], n: u32) -> (Summary, Vec<PeriodRecord>) {
    let (tallied, summary, sink) =
        merged_periods(policies, &states(policies, records, n)).expect("merges");
    assert_eq!(tallied, Some(spec()));
    (summary, sink.records)
}

fn repeats(records: &[PeriodRecord]) -> usize {
    records
        .iter()
        .filter(|r| matches!(r, PeriodRecord::Repeat(_)))
        .count()
}

#[test]
fn three_partitions_merged_give_the_records_and_summary_of_one_evaluator() {
    let policies = shipped_policies();
    let records = stream(5, 600, 40, 0.1);
    let (one, one_records) = single(&policies, &records);
    let (three, three_records) = merged(&policies, &records, 3);
    assert!(one.rejected >= 1);
    assert!(
        repeats(&one_records) > 0,
        "the stream has repeat complaints"
    );
    assert!(one_records.len() > 100, "{}", one_records.len());
    assert_eq!(one, three);
    assert!(one_records == three_records, "the merged records differ");
}

/// Alert periods are opened by one ticket's events and read by other tickets' duties: each
/// partition follows the alert cases of the others (from their events, which it is handed),
/// through a snapshot and restore too, so that a resident closed and settled during the stream
/// in another partition than the warning's is judged against the warning, as one evaluator
/// judges it. (Residents still open at the end are judged after the merge, with every
/// partition's periods: they alone would not show it.)
#[test]
fn partitions_follow_each_others_alerts() {
    let policy = pledge::syntax::parse_policy(STORM, "storm.pledge", None).expect("parses");
    let policies = vec![policy];
    let line = |ticket: &str, at: &str, kind: &str, extra: &str| {
        format!(r#"{{"ticket":"{ticket}","at":"2026-07-{at}:00+08:00","type":"{kind}"{extra}}}"#)
    };
    let mut lines = vec![line(
        "W",
        "01T08:00",
        "opened",
        r#","attrs":{"kind":"weather_warning"}"#,
    )];
    for i in 0..9 {
        lines.push(line(
            &format!("R{i}"),
            "01T07:00",
            "opened",
            r#","attrs":{"kind":"resident"}"#,
        ));
    }
    lines.push(line("W", "01T09:00", "raised", ""));
    for i in (0..9).step_by(3) {
        lines.push(line(&format!("R{i}"), "01T12:00", "contacted", ""));
    }
    lines.push(line("W", "02T09:00", "lifted", ""));
    for i in 0..9 {
        lines.push(line(&format!("R{i}"), "03T10:00", "closed", ""));
    }
    // Past the retention: the residents settle in the stream, each in its partition.
    lines.push(
        r#"{"ticket":"Z","at":"2026-09-01T00:00:00+08:00","type":"opened","attrs":{"kind":"x"}}"#
            .to_string(),
    );
    let text = lines.join("\n") + "\n";
    let mut records = Vec::new();
    read_events(text.as_bytes(), &ReadOptions::default(), |r| {
        records.push(r)
    })
    .expect("reads");
    let (one, one_records) = single(&policies, &records);
    assert_eq!(one.clauses[0].findings, 6, "{one:?}");
    let owners: std::collections::BTreeSet<u32> =
        (0..9).map(|i| Partition::of(&format!("R{i}"), 3)).collect();
    assert!(owners.len() > 1 && owners.contains(&Partition::of("W", 3)));
    // Each partition is written and read back halfway, while the warning is up.
    let half = 11;
    let states: Vec<(String, Vec<u8>)> = (0..3)
        .map(|i| {
            let mut e = Evaluator::new(&policies, opts(), Collect::default());
            e.partition(Partition::new(i, 3).expect("a partition"));
            e.periods_mut().report_by(spec());
            feed(&mut e, &records[..half]);
            let bytes = e.snapshot().expect("a snapshot");
            let mut e =
                Evaluator::restore(&policies, Collect::default(), &bytes).expect("restores");
            feed(&mut e, &records[half..]);
            (format!("p{i}"), e.snapshot().expect("a snapshot"))
        })
        .collect();
    let (_, three, sink) = merged_periods(&policies, &states).expect("merges");
    assert_eq!(one, three);
    assert!(one_records == sink.records, "the merged records differ");
}

#[test]
fn each_partition_applies_its_own_tickets_and_counts_the_others_apart() {
    let policies = shipped_policies();
    let records = stream(8, 200, 20, 0.0);
    let events = records
        .iter()
        .filter(|r| matches!(r, Record::Event(_)))
        .count() as u64;
    let mut applied = 0;
    for i in 0..3 {
        let mut e = Evaluator::new(&policies, opts(), Collect::default());
        e.partition(Partition::new(i, 3).expect("a partition"));
        feed(&mut e, &records);
        let (summary, sink) = e.finish();
        assert_eq!(summary.events + summary.elsewhere, events);
        // The bad line is partition 0's alone.
        assert_eq!(summary.rejected, u64::from(i == 0));
        assert_eq!(sink.rejected.len(), usize::from(i == 0));
        for v in &sink.verdicts {
            assert_eq!(Partition::of(&v.ticket, 3), i, "{}", v.ticket);
        }
        applied += summary.events;
        assert!(summary.elsewhere > 0);
    }
    assert_eq!(applied, events);
}

/// A repeat pair on one unit whose two complaints fall in different partitions.
#[test]
fn a_repeat_pair_across_partitions_is_found_by_the_merge() {
    let policies = shipped_policies();
    // Two tickets of different partitions of 3.
    let a = (0..)
        .map(|i| format!("C-{i}"))
        .find(|t| Partition::of(t, 3) == 0)
        .expect("a ticket");
    let b = (0..)
        .map(|i| format!("C-{i}"))
        .find(|t| Partition::of(t, 3) == 2)
        .expect("a ticket");
    let mut lines = String::new();
    for (ticket, day) in [(&a, 2), (&b, 9)] {
        lines.push_str(&format!(
            r#"{{"ticket":"{ticket}","at":"2026-03-{day:02}T09:00:00+08:00","type":"opened","attrs":{{"kind":"complaint","project":"jindi","unit":"3-1-502","topic":"noise","urgency":"normal"}}}}"#
        ));
        lines.push('\n');
    }
    lines.push_str(
        r#"{"ticket":"X","at":"2026-03-20T09:00:00+08:00","type":"opened","attrs":{"kind":"inquiry","project":"jindi"}}"#,
    );
    lines.push('\n');
    let mut records = Vec::new();
    read_events(lines.as_bytes(), &ReadOptions::default(), |r| {
        records.push(r)
    })
    .expect("reads");
    let (one, one_records) = single(&policies, &records);
    let (three, three_records) = merged(&policies, &records, 3);
    assert_eq!(repeats(&one_records), 1);
    assert_eq!(one, three);
    assert!(one_records == three_records);
    let fired = three_records.iter().find_map(|r| match r {
        PeriodRecord::Repeat(r) => Some(r),
        _ => None,
    });
    let fired = fired.expect("a repeat action");
    assert_eq!(&*fired.ticket, b.as_str());
    let named: Vec<&str> = fired.cases.iter().map(|(t, _)| &**t).collect();
    assert_eq!(named, [a.as_str(), b.as_str()]);
}

#[test]
fn mismatched_states_are_refused_with_their_names() {
    let policies = shipped_policies();
    let records = stream(3, 40, 5, 0.0);
    let mut three = states(&policies, &records, 3);
    let two = states(&policies, &records, 2);
    let err = |s: &[(String, Vec<u8>)]| merged_periods(&policies, s).err().map(|e| e.to_string());
    let missing = err(&three[..2]).expect("refused");
    assert_eq!(
        missing,
        "partition 2/3 is missing: give the state of every instance of the split"
    );
    let mut twice = three.clone();
    twice[2] = (String::from("again"), three[1].1.clone());
    assert_eq!(
        err(&twice).expect("refused"),
        "partition 1/3 is given twice: `p1` and `again`"
    );
    let mut mixed = three.clone();
    mixed[2] = (String::from("other"), two[1].1.clone());
    assert_eq!(
        err(&mixed).expect("refused"),
        "`other` is partition 1/2 and `p0` is partition 0/3: the instances of one split have the same N"
    );
    let fewer = &policies[..policies.len() - 1];
    let other = merged_periods(fewer, &three).err().map(|e| e.to_string());
    assert_eq!(
        other.as_deref(),
        Some("`p0`: the snapshot was taken with other policies")
    );
    three.reverse();
    assert!(merged_periods(&policies, &three).is_ok(), "any order");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// A random stream cut anywhere and split into N partitions merges into one evaluator's
    /// period records and summary.
    #[test]
    fn any_split_of_any_prefix_merges_into_one(
        seed in 0u64..1000,
        n in 1u32..5,
        cut in 0.2f64..1.0,
        shuffle in prop::sample::select(vec![0.0, 0.3]),
    ) {
        let policies = shipped_policies();
        let records = stream(seed, 150, 20, shuffle);
        let keep = ((records.len() as f64) * cut) as usize;
        let records = &records[..keep];
        let (one, one_records) = single(&policies, records);
        let (many, many_records) = merged(&policies, records, n);
        prop_assert_eq!(one, many);
        prop_assert!(one_records == many_records);
    }
}

#[test]
fn the_merge_is_judged_at_the_latest_time_of_the_states() {
    // A live service commits on its own clock: a partition whose state is older is moved to
    // the latest one's time before the merge.
    let policies = shipped_policies();
    let records = stream(4, 80, 10, 0.0);
    let later: DateTime<Utc> = match records.iter().rev().find_map(|r| match r {
        Record::Event(e) => Some(e.at),
        _ => None,
    }) {
        Some(at) => at + chrono::Duration::days(3),
        None => panic!("no event"),
    };
    let mut all = states(&policies, &records, 2);
    let mut e = Evaluator::new(&policies, opts(), Collect::default());
    e.partition(Partition::new(1, 2).expect("a partition"));
    e.periods_mut().report_by(spec());
    feed(&mut e, &records);
    e.advance_to(later);
    all[1].1 = e.snapshot().expect("a snapshot");
    let (_, summary, _) = merged_periods(&policies, &all).expect("merges");
    assert_eq!(summary.now, Some(later));
}

/// The embedding API: engines made with `Options::partition`, their snapshots merged with
/// `merge_states`, give the records (those each partition gave as it went, and those of the
/// merged engine's end) and the summary of one engine.
#[test]
fn engines_of_a_split_merged_through_the_api_give_one_engines_check() {
    use pledge::{merge_states, Engine, Options, PolicySet};
    let policies = PolicySet::from_files(common::shipped_policy_paths()).expect("policies");
    let opts = pledge::gen::GenOptions {
        cases: 300,
        seed: 9,
        days: 30,
        ..pledge::gen::GenOptions::default()
    }
    .dense();
    let mut text = Vec::new();
    pledge::gen::generate(&opts, &mut text).expect("generates");
    text.extend_from_slice(b"{broken\n");
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let options = Options::default().reorder_window(chrono::Duration::hours(2));

    let mut one = Engine::new(&policies, &options);
    let mut expected: Vec<String> = Vec::new();
    for line in &lines {
        expected.extend(one.push_json(line).iter().map(|r| r.to_json().to_string()));
    }
    let one = one.finish();
    expected.extend(one.records.iter().map(|r| r.to_json().to_string()));

    let mut got: Vec<String> = Vec::new();
    let mut states = Vec::new();
    for i in 0..3 {
        let partition = Partition::new(i, 3).expect("a partition");
        let mut engine = Engine::new(&policies, &options.clone().partition(partition));
        assert_eq!(engine.partition(), Some(partition));
        for line in &lines {
            got.extend(
                engine
                    .push_json(line)
                    .iter()
                    .map(|r| r.to_json().to_string()),
            );
        }
        states.push((format!("p{i}"), engine.snapshot().expect("a snapshot")));
    }
    let merged = merge_states(&policies, &states).expect("merges").finish();
    got.extend(merged.records.iter().map(|r| r.to_json().to_string()));
    assert_eq!(merged.summary, one.summary);
    assert!(one.summary.rejected == 1 && one.summary.breached() > 0);
    expected.sort();
    got.sort();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the records differ");
}
