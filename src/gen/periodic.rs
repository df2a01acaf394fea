//! Cases for the periodic and round standards (`policies/cleaning.pledge`'s
//! `vk_bin_interval_15m`, `policies/security.pledge`'s `vk_shift_briefing`): one function per
//! family, each a line of [`super::families::FAMILIES`].

use super::cases::{Events, World};
use super::line::{HOUR, MINUTE};
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
