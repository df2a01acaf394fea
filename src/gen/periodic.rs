//! Cases for the periodic and round standards (`policies/cleaning.pledge`'s
//! `vk_bin_interval_15m`, `policies/security.pledge`'s `vk_shift_briefing`): one function per
//! family, each a line of [`super::families::FAMILIES`].

use super::cases::{Events, World};
use super::line::{DAY, HOUR, MINUTE};
use super::rng::Rng;

/// An outdoor clearing round (`kind: round`): one `cleaned` per bin along the route, 6 to 12
/// bins, mostly 3 to 12 minutes apart; now and then (15 in 1,000 gaps, so about one round in
/// eight) the cleaner is held up for 16 to 40 minutes between two bins.
pub fn round(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    let route = rng.below(4) + 1;
    ev.at(t0, "opened")
        .str("kind", "round")
        .str("project", project)
        .str("route", &format!("R{route}"));
    let bins = rng.range(6, 12);
    let first = rng.range(0, 8);
    let mut t = t0 + rng.range(2 * MINUTE, 10 * MINUTE);
    for i in 0..bins {
        if i > 0 {
            t += if rng.chance(15) {
                rng.range(16 * MINUTE, 40 * MINUTE)
            } else {
                rng.range(3 * MINUTE, 12 * MINUTE)
            };
        }
        ev.at(t, "cleaned")
            .str("bin", &format!("R{route}-B{:02}", first + i + 1))
            .str("by", "cleaning");
    }
    ev.at(t + rng.range(5 * MINUTE, 20 * MINUTE), "closed");
}

/// A guard shift (`kind: guard_shift`) of about eight hours: briefed at the start
/// (`phase: start`), handed over to the next shift, debriefed at the end (`phase: end`).
/// Some shifts skip a step: the start briefing 30 in 1,000, the handover 20, the end
/// briefing 50.
pub fn guard_shift(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "guard_shift")
        .str("project", project)
        .str("post", rng.one(&["gate", "patrol", "control_room"]));
    if !rng.chance(30) {
        ev.at(t0 + rng.range(MINUTE, 10 * MINUTE), "briefed")
            .str("phase", "start")
            .str("by", "security_lead");
    }
    let end = t0 + 8 * HOUR + rng.range(-10 * MINUTE, 10 * MINUTE);
    if !rng.chance(20) {
        ev.at(end, "handed_over").str("by", "security");
    }
    let mut last = end;
    if !rng.chance(50) {
        last = end + rng.range(5 * MINUTE, 20 * MINUTE);
        ev.at(last, "briefed")
            .str("phase", "end")
            .str("by", "security_lead");
    }
    ev.at(last + rng.range(MINUTE, 10 * MINUTE), "closed");
}

/// The channel of each rating (`policies/quality-control.pledge`'s `rating_channels`): most
/// ratings are given in the app (the service platform), 5 in 1,000 by replying to the survey
/// SMS, so that a project's month now and then has none by SMS. Ratings at the suggestion box
/// are cases of their own ([`suggestion_slip`]).
pub fn rating_channels(rng: &mut Rng, ev: &mut Events) {
    for (_, line) in &mut ev.list {
        if line.kind() == "rated" && !line.has_str("channel", "suggestion_box") {
            line.str("channel", if rng.chance(5) { "sms" } else { "app" });
        }
    }
}

/// A slip from the suggestion box (`kind: suggestion_slip`), read when the box is emptied: a
/// rating through the box (`channel: suggestion_box`), one or two a month in a
/// project, so that some months have none; a dissatisfied one is revisited by the service
/// desk mostly within a few days.
pub fn suggestion_slip(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "suggestion_slip")
        .str("project", project);
    let score = rng.pick(&[(5, 30), (4, 30), (3, 20), (2, 12), (1, 8)]);
    let t = t0 + rng.range(MINUTE, 30 * MINUTE);
    ev.at(t, "rated")
        .int("score", score)
        .bool("satisfied", score >= 4)
        .str("channel", "suggestion_box");
    if score < 4 && !rng.chance(100) {
        let t = t + rng.range(HOUR, 4 * DAY);
        ev.at(t, "revisited")
            .str("by", "customer_service")
            .str("method", "visit");
    }
    ev.at(ev.last() + rng.range(MINUTE, HOUR), "closed");
}

#[cfg(test)]
mod tests {
    use crate::gen::{generate, GenOptions};
    use crate::input::{parse_jsonl_line, ReadOptions, Record};
    use crate::value::Value;
    use std::collections::BTreeMap;

    /// A year of 20,000 tickets, as `tests/gen.rs` checks the shipped clauses on.
    fn year() -> Vec<crate::Event> {
        let mut out = Vec::new();
        generate(
            &GenOptions {
                cases: 20_000,
                seed: 3,
                ..GenOptions::default()
            },
            &mut out,
        )
        .unwrap();
        let opts = ReadOptions::default();
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, l)| match parse_jsonl_line(l, i as u64 + 1, &opts) {
                Record::Event(e) => e,
                Record::Rejected(r) => panic!("line {} rejected: {}", r.line, r.reason),
            })
            .collect()
    }

    fn text<'e>(e: &'e crate::Event, key: &str) -> Option<&'e str> {
        match e.attrs.get(key) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    #[test]
    fn rounds_shifts_and_rating_channels_have_realistic_shares_of_misses() {
        let events = year();
        let mut by_case: BTreeMap<&str, Vec<&crate::Event>> = BTreeMap::new();
        for e in &events {
            by_case.entry(&*e.ticket).or_default().push(e);
        }
        let kind = |list: &[&crate::Event]| text(list[0], "kind").unwrap_or("").to_string();
        // Rounds: about one in eight has a gap over 15 minutes between two bins.
        let rounds: Vec<&Vec<&crate::Event>> =
            by_case.values().filter(|l| kind(l) == "round").collect();
        let long = rounds
            .iter()
            .filter(|l| {
                let times: Vec<_> = l
                    .iter()
                    .filter(|e| &*e.kind == "cleaned")
                    .map(|e| e.at)
                    .collect();
                times.windows(2).any(|w| (w[1] - w[0]).num_seconds() > 900)
            })
            .count();
        assert!(rounds.len() > 400, "{} rounds", rounds.len());
        let share = long * 1000 / rounds.len();
        assert!(
            (60..200).contains(&share),
            "{long} of {} rounds",
            rounds.len()
        );
        // Shifts: most have both briefings and the handover, some miss one.
        let shifts: Vec<&Vec<&crate::Event>> = by_case
            .values()
            .filter(|l| kind(l) == "guard_shift")
            .collect();
        let complete = shifts
            .iter()
            .filter(|l| {
                let has = |k: &str, phase: Option<&str>| {
                    l.iter()
                        .any(|e| &*e.kind == k && (phase.is_none() || text(e, "phase") == phase))
                };
                has("briefed", Some("start"))
                    && has("handed_over", None)
                    && has("briefed", Some("end"))
            })
            .count();
        assert!(shifts.len() > 600, "{} shifts", shifts.len());
        let share = (shifts.len() - complete) * 1000 / shifts.len();
        assert!(
            (50..200).contains(&share),
            "{complete} of {} complete",
            shifts.len()
        );
        // Every rating names its channel; all three channels are used.
        let mut channels: BTreeMap<&str, usize> = BTreeMap::new();
        for e in events.iter().filter(|e| &*e.kind == "rated") {
            *channels
                .entry(text(e, "channel").expect("a rating's channel"))
                .or_default() += 1;
        }
        assert_eq!(
            channels.keys().copied().collect::<Vec<_>>(),
            ["app", "sms", "suggestion_box"]
        );
        assert!(
            channels["sms"] > 20 && channels["suggestion_box"] > 20,
            "{channels:?}"
        );
    }
}
