//! The events the record items `A followed by B`, `EV before ATTR` and value tests read, added
//! after a ticket's life is drawn (`cases`, `extras`) or a service's (`families`), each ticket
//! with its own PRNG stream so that every earlier draw stays as it was:
//!
//! - complaints: about one in thirty is logged `unclassified` and classified by an `updated`,
//!   mostly before the first contact, some after it, a few never (`complaint_classify`);
//! - in the shopping centre, the department manager rules each complaint valid or invalid
//!   (`updated` by `department_manager` with `valid`), a few hours after it is logged; a few
//!   rulings are missing or lack the verdict (`mall_validity`);
//! - a dissatisfied revisit or rating is followed by a reopen and a second round mostly (most
//!   of those `cases` leaves without one); without one, the loop is broken
//!   (`reopen_until_satisfied`);
//! - weather alerts: drains inspected, outdoor fixtures secured, sandbags and pumps prepared
//!   between the forecast and the landfall (`expected_at`), one preparation in fifteen late
//!   or missing (`typhoon_prep`);
//! - housekeeping jobs: the booking confirmed (scope, time, fee) before the worker arrives,
//!   signed off after the work, and one job in twenty-five reworked within the 7 days, free
//!   mostly (`housekeeping_confirm`, `housekeeping_rework_7d`).
//!
//! A ticket's `closed` stays its last event: it moves after anything added here.

use super::cases::{delay, Events};
use super::line::{DAY, HOUR, MINUTE};
use super::rng::Rng;
use super::OFFSET_SECONDS;

/// Applies every refinement that fits a ticket of `cases`.
pub fn enrich(rng: &mut Rng, ev: &mut Events) {
    let Some((t0, opened)) = ev.list.first() else {
        return;
    };
    let t0 = *t0;
    if opened.has_str("kind", "complaint") {
        let mall = opened.has_str("project", "mall");
        classify(rng, ev, t0);
        if mall {
            rule(rng, ev, t0);
        }
    } else if opened.has_str("kind", "weather_alert") {
        prepare(rng, ev, t0);
    }
    rework_after_dissatisfaction(rng, ev);
    close_last(rng, ev);
}

/// Applies the refinements of a service case of `families` (housekeeping jobs).
pub fn service(rng: &mut Rng, ev: &mut Events) {
    if ev
        .list
        .first()
        .is_some_and(|(_, l)| l.has_str("kind", "housekeeping"))
    {
        housekeeping(rng, ev);
        close_last(rng, ev);
    }
}

/// The first time of an event of type `kind`.
fn first(ev: &Events, kind: &str) -> Option<i64> {
    ev.list
        .iter()
        .filter(|(_, l)| l.kind() == kind)
        .map(|(t, _)| *t)
        .min()
}

/// The complaint categories the generator draws (`cases`).
const COMPLAINT_CATEGORIES: &[&str] = &[
    "facility",
    "hygiene",
    "service_quality",
    "service",
    "service_attitude",
    "noise",
    "parking",
];

fn classify(rng: &mut Rng, ev: &mut Events, t0: i64) {
    if !rng.chance(35) {
        return;
    }
    let Some(category) = COMPLAINT_CATEGORIES
        .iter()
        .copied()
        .find(|c| ev.list[0].1.has_str("category", c))
    else {
        return;
    };
    ev.list[0]
        .1
        .replace_str("category", category, "unclassified");
    let contact = first(ev, "contacted");
    let t = match (rng.pick(&[(0u8, 75), (1, 17), (2, 8)]), contact) {
        // Classified before the first contact (or within the hour when nobody calls back).
        (0, Some(c)) => t0 + rng.range(1, (c - t0 - 1).max(1)),
        (0, None) => t0 + rng.range(5 * MINUTE, HOUR),
        // After the contact: the verification came first.
        (1, Some(c)) => c + rng.range(10 * MINUTE, 6 * HOUR),
        (1, None) => t0 + rng.range(HOUR, DAY),
        // Never.
        _ => return,
    };
    ev.at(t, "updated").str("category", category);
}

fn rule(rng: &mut Rng, ev: &mut Events, t0: i64) {
    let invalid = ev.list[0].1.has_false("valid");
    let t = t0 + delay(rng, 3 * HOUR, 150, 3 * DAY);
    match rng.pick(&[(0u8, 940), (1, 25), (2, 35)]) {
        0 => {
            ev.at(t, "updated")
                .str("by", "department_manager")
                .bool("valid", !invalid);
        }
        // The manager's update names who handles it but rules nothing.
        1 => {
            ev.at(t, "updated")
                .str("by", "department_manager")
                .str("responsible", "operations");
        }
        // Ruled by the supervisor instead, or not at all.
        _ => {
            if rng.chance(500) {
                ev.at(t, "updated")
                    .str("by", "supervisor")
                    .bool("valid", !invalid);
            }
        }
    }
}

/// Whether a complaint or repair may be reopened at `t`: the round before it (since the last
/// reopen) has its fix and revisit, and a complaint its contact, so that every clock of the
/// round is stopped; the benchmark's SQL peer relies on it (`cases` keeps the same rule).
fn round_complete(ev: &Events, t: i64) -> bool {
    let opened = &ev.list[0].1;
    let complaint = opened.has_str("kind", "complaint");
    if !complaint && !opened.has_str("kind", "repair") {
        return true;
    }
    let since = ev
        .list
        .iter()
        .filter(|(r, l)| l.kind() == "reopened" && *r < t)
        .map(|(r, _)| *r)
        .max()
        .unwrap_or(i64::MIN);
    let seen = |kind: &str| {
        ev.list
            .iter()
            .any(|(at, l)| l.kind() == kind && *at > since && *at <= t)
    };
    seen("resolved") && seen("revisited") && (!complaint || seen("contacted"))
}

/// The kinds of `reopen_until_satisfied`: what residents report and ask for.
const REQUESTS: &[&str] = &[
    "complaint",
    "repair",
    "inquiry",
    "help",
    "suggestion",
    "dispute",
];

/// After a dissatisfied revisit or rating, the case is reopened and handled again, mostly:
/// `cases` reopens some cases after a dissatisfied revisit; here most of the others follow
/// (a complaint only once it was contacted, so that the first round's clocks are stopped).
fn rework_after_dissatisfaction(rng: &mut Rng, ev: &mut Events) {
    let mut unhappy: Vec<i64> = ev
        .list
        .iter()
        .filter(|(_, l)| matches!(l.kind(), "revisited" | "rated") && l.has_false("satisfied"))
        .map(|(t, _)| *t)
        .collect();
    unhappy.sort_unstable();
    // Requests only: an activity's participants rate the activity, not a handling.
    if !REQUESTS.iter().any(|k| ev.list[0].1.has_str("kind", k)) {
        return;
    }
    let complaint = ev.list[0].1.has_str("kind", "complaint");
    for t in unhappy {
        let reopened = ev
            .list
            .iter()
            .any(|(r, l)| l.kind() == "reopened" && *r >= t);
        if reopened || !round_complete(ev, t) || rng.chance(100) {
            continue;
        }
        let r = t + rng.range(20 * MINUTE, 8 * HOUR);
        ev.at(r, "reopened").str("reason", "dissatisfied");
        // The second round's first step, as after a dissatisfied revisit (`cases`): a
        // complaint is contacted again, a repair dispatched again.
        let mut after = r;
        if complaint {
            after = r + delay(rng, 45 * MINUTE, 150, 8 * HOUR);
            ev.at(after, "contacted")
                .str("by", "supervisor")
                .str("method", "phone");
        } else if ev.list[0].1.has_str("kind", "repair") {
            after = r + delay(rng, 8 * MINUTE, 150, 3 * HOUR);
            ev.at(after, "dispatched").str("to", "engineering");
        }
        let fixed = after + delay(rng, 6 * HOUR, 150, 4 * DAY);
        ev.at(fixed, "resolved");
    }
}

/// The four preparations of a storm, between the forecast (`opened`) and the landfall.
fn prepare(rng: &mut Rng, ev: &mut Events, t0: i64) {
    let Some(landfall) = ev.list[0]
        .1
        .str_value("expected_at")
        .and_then(|s| crate::input::parse_timestamp(s, None).ok())
        .map(|t| t.timestamp())
    else {
        return;
    };
    let lead = (landfall - t0).max(HOUR);
    for (kind, key, value) in [
        ("inspected", "target", "drainage"),
        ("secured", "target", "outdoor_fixtures"),
        ("prepared", "item", "sandbags"),
        ("prepared", "item", "pumps"),
    ] {
        let t = match rng.pick(&[(0u8, 935), (1, 45), (2, 20)]) {
            0 => t0 + rng.range(HOUR, lead),
            1 => landfall + rng.range(MINUTE, 12 * HOUR),
            _ => continue,
        };
        ev.at(t, kind).str(key, value);
    }
}

fn housekeeping(rng: &mut Rng, ev: &mut Events) {
    let t0 = ev.list[0].0;
    let (Some(arrived), Some(resolved)) = (first(ev, "arrived"), first(ev, "resolved")) else {
        return;
    };
    // The booking confirmed with the resident: scope, time and fee.
    let when = rng.pick(&[(0u8, 975), (1, 15), (2, 10)]);
    let t = match when {
        0 => t0 + rng.range(10 * MINUTE, (arrived - t0 - HOUR).max(11 * MINUTE)),
        1 => arrived + rng.range(5 * MINUTE, 30 * MINUTE),
        _ => 0,
    };
    if t > 0 {
        let lacking = rng.chance(20).then(|| rng.below(3));
        let line = ev.at(t, "confirmed");
        if lacking != Some(0) {
            line.str(
                "scope",
                rng.one(&["regular_clean", "deep_clean", "appliance_cleaning"]),
            );
        }
        if lacking != Some(1) {
            line.time("scheduled_at", arrived, OFFSET_SECONDS);
        }
        if lacking != Some(2) {
            line.int("fee", rng.range(8, 30) * 10);
        }
    }
    sign_off(rng, ev, resolved);
    // Rework within the 7 days: free, mostly.
    if !rng.chance(40) {
        return;
    }
    // The job's `closed` moves after the rework (`close_last`): a stream's case is closed
    // once, at its end.
    let r = resolved + rng.range(DAY, 6 * DAY);
    let fee = if rng.chance(100) {
        rng.range(5, 12) * 10
    } else {
        0
    };
    ev.at(r, "reopened").str("reason", "rework").int("fee", fee);
    let fixed = r + rng.range(2 * HOUR, 5 * HOUR);
    ev.at(fixed, "resolved");
    sign_off(rng, ev, fixed);
}

/// The resident's sign-off after the work, mostly within half an hour.
fn sign_off(rng: &mut Rng, ev: &mut Events, resolved: i64) {
    if !rng.chance(40) {
        let t = resolved + rng.range(2 * MINUTE, 30 * MINUTE);
        ev.at(t, "signed_off");
    }
}

/// Keeps `closed` the ticket's last event: it moves after anything added here.
fn close_last(rng: &mut Rng, ev: &mut Events) {
    let last_other = ev
        .list
        .iter()
        .filter(|(_, l)| l.kind() != "closed")
        .map(|(t, _)| *t)
        .max()
        .unwrap_or(0);
    let Some(last_closed) = ev
        .list
        .iter_mut()
        .filter(|(_, l)| l.kind() == "closed")
        .max_by_key(|(t, _)| *t)
    else {
        return;
    };
    if last_closed.0 <= last_other {
        last_closed.0 = last_other + rng.range(10 * MINUTE, 2 * HOUR);
    }
}
