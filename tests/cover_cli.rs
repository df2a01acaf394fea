//! Round-the-clock cover and alert periods through the real binary: `pledge check` (human
//! snapshot, JSON Lines), `pledge report` (human snapshot, JSON, HTML), `pledge fmt`, and the
//! REPL's `:why` and `:diff`.

#![cfg(feature = "cli")] // the real binary, built only with the command

mod common;

use common::cli::{assert_contains_all, assert_fmt_keeps, repl, run};
use serde_json::Value as Json;

const POLICY: &str = "tests/fixtures/cover/posts.pledge";
const EVENTS: &str = "tests/fixtures/cover/posts.jsonl";
const NOW: &str = "2026-03-03T12:00:00+08:00";

#[test]
fn check_lists_cover_gaps_and_missed_alerts_in_human_and_json() {
    let (code, text) = run(&["check", POLICY, "--events", EVENTS, "--now", NOW]);
    assert_eq!(code, Some(1), "findings fail the check\n{text}");
    insta::assert_snapshot!("cover_check_human", text);
    let (_, jsonl) = run(&[
        "check", POLICY, "--events", EVENTS, "--now", NOW, "--format", "jsonl",
    ]);
    let findings: Vec<(String, String, String)> = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .filter(|j| j["record"] == "finding")
        .map(|f| {
            (
                f["ticket"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = |t: &str, c: &str, at: &str| (t.to_string(), c.to_string(), at.to_string());
    assert_eq!(
        findings,
        [
            // The subjects are still kept at the end: their records come in ticket order.
            want("E-2", "duty.alert_short", "2026-03-03T06:00:00+08:00"),
            want("F-1", "cover.gap", "2026-03-02T10:00:00+08:00"),
            want("H-1", "cover.gap", "2026-03-01T16:00:00+08:00"),
        ],
        "{jsonl}"
    );
    let summary: Json = jsonl
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("json"))
        .find(|j| j["record"] == "summary")
        .expect("a summary");
    let met: Vec<u64> = summary["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["met"].as_u64().unwrap())
        .collect();
    // 2 March on the hotline (3 March runs at `now`), 3 March of the flood duty (until the
    // lifting), E-1 asked during the warning.
    assert_eq!(met, [1, 1, 1]);
}

#[test]
fn report_counts_cover_and_alert_checks_in_every_format() {
    let base = [
        "report", POLICY, "--events", EVENTS, "--now", NOW, "--period", "day",
    ];
    let (_, human) = run(&base);
    insta::assert_snapshot!("cover_report_by_day", human);
    let (_, json) = run(&[&base[..], &["--format", "json"]].concat());
    let json: Json = serde_json::from_str(&json).expect("json");
    let rows = json["rows"].as_array().expect("rows");
    let findings = |clause: &str| -> u64 {
        rows.iter()
            .filter(|r| r["clause"] == clause)
            .map(|r| r["findings"].as_u64().unwrap_or(0))
            .sum()
    };
    assert_eq!(findings("hotline_24h"), 1);
    assert_eq!(findings("typhoon_duty_24h"), 1);
    assert_eq!(findings("elder_storm_check"), 1);
    let (_, html) = run(&[&base[..], &["--format", "html"]].concat());
    for needle in [
        "typhoon_duty_24h",
        "covered from shift_started until shift_ended",
        "at least 1 per alert",
        "cover.gap",
    ] {
        assert!(html.contains(needle), "the HTML page lacks {needle:?}");
    }
}

#[test]
fn fmt_keeps_alerts_and_cover_items() {
    assert_fmt_keeps(POLICY);
}

#[test]
fn why_and_diff_in_the_repl_cover_posts_and_alerts() {
    // A what-if: the hotline owes cover only during typhoons, so its March day is not judged.
    // A snippet declares the event types it names (the REPL reads it as a policy of its own).
    let script = ":why H-1\n:why F-1\nevents shift_started, shift_ended every hotline_24h \"x\" {\n  when kind == \"post\" and post == \"hotline\"\n  during typhoon\n  covered from shift_started until shift_ended\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "cover.gap",
            "not covered from 2026-03-01T16:00:00+08:00 for 25 min on 2026-03-01",
            "during: the periods of alert `typhoon`",
            "1 finding(s) disappeared:",
        ],
    );
}

#[test]
fn a_what_if_on_an_alert_changes_the_duties_during_it() {
    // The warning is never lifted: the flood duty owes cover up to `now`, and the elders'
    // check waits for the lifting.
    let script = "events raised, lifted alert typhoon \"x\" {\n  when kind == \"weather_warning\"\n  from raised until lifted(category == \"none\")\n}\n:diff\n";
    let text = repl(&[POLICY, "--events", EVENTS, "--now", NOW], script);
    assert_contains_all(
        &text,
        &[
            "replaced alert `typhoon` in policy `posts`",
            "+ F-1 posts/typhoon_duty_24h `cover.gap`: not covered from 2026-03-03T06:20:00+08:00 for 5 h 40 min on 2026-03-03",
            "- E-2 posts/elder_storm_check `duty.alert_short`",
        ],
    );
}
