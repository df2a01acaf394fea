//! The short-lived kinds of ticket: emergencies, notices, litter reports, loans and other
//! simple requests, move-ins, activities, alarms and weather alerts, each a few events after
//! its opening. Requests (repairs, complaints, inquiries) are the parent module's.

use super::{delay, Events, World};
use crate::gen::line::{DAY, HOUR, MINUTE};
use crate::gen::rng::Rng;

pub(super) fn emergency(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    let category = rng.pick(&[
        ("fire", 20),
        ("burst_pipe", 35),
        ("power", 25),
        ("flooding", 20),
    ]);
    ev.at(t0, "opened")
        .str("kind", "emergency")
        .str("category", category)
        .str("severity", rng.pick(&[("urgent", 70), ("critical", 30)]))
        .str("channel", rng.pick(&[("phone", 80), ("app", 20)]))
        .str("project", &world.projects[project]);
    if !rng.chance(20) {
        let t = t0 + delay(rng, 4 * MINUTE, 150, HOUR);
        ev.at(t, "acknowledged")
            .str("by", "receptionist")
            .str("channel", "phone");
    }
    if !rng.chance(30) {
        let t = t0 + delay(rng, 4 * MINUTE, 150, HOUR);
        ev.at(t, "plan_activated").str("by", "supervisor");
    }
    let audience = match category {
        "fire" => "fire_brigade",
        "power" => "utility",
        _ => "maintenance",
    };
    if !rng.chance(50) {
        let t = t0 + delay(rng, 4 * MINUTE, 150, HOUR);
        ev.at(t, "notified")
            .str("audience", audience)
            .str("channel", "phone");
    }
    let arrived = t0 + delay(rng, 8 * MINUTE, 150, HOUR);
    ev.at(arrived, "arrived").str("by", "security");
    let mut start = arrived;
    if category == "flooding" {
        start = t0 + rng.range(30 * MINUTE, 6 * HOUR);
        ev.at(start, "rain_stopped");
    }
    let resolved = start + delay(rng, 5 * HOUR, 150, 30 * HOUR);
    ev.at(resolved, "resolved").str("by", "engineering");
    let t = resolved + rng.range(HOUR, DAY);
    ev.at(t, "closed");
}

/// A notice to residents: one `notified` event per channel, with coverage counts.
pub(super) fn notice(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    let topic = rng.pick(&[
        ("water_outage", 35),
        ("power_outage", 30),
        ("fee_change", 20),
        ("lift_stop", 15),
    ]);
    ev.at(t0, "opened")
        .str("kind", "notice")
        .str("topic", topic)
        .str("project", &world.projects[project]);
    let total = rng.range(200, 1200);
    let mut best = 0;
    for channel in ["sms", "notice_board", "app_push"] {
        if rng.chance(50) {
            continue;
        }
        let t = t0 + delay(rng, 40 * MINUTE, 120, DAY);
        let reached = total * rng.range(700, 1000) / 1000;
        best = best.max(reached);
        ev.at(t, "notified")
            .str("channel", channel)
            .str("audience", "residents")
            .int("reached", reached)
            .int("total", total);
    }
    if rng.chance(200) {
        let t = ev.last() + rng.range(MINUTE, HOUR);
        let union = (best + total * rng.range(0, 100) / 1000).min(total);
        ev.at(t, "notified")
            .str("channel", "all")
            .str("audience", "residents")
            .int("reached", union)
            .int("total", total);
    }
    let t = ev.last() + rng.range(DAY, 3 * DAY);
    ev.at(t, "closed");
}

/// Litter spotted in a zone, cleared within the zone's limit mostly (seed 004).
pub(super) fn litter(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    let (zone, limit) = rng.pick(&[
        (("gate_20m", 5 * MINUTE), 15),
        (("public", HOUR), 20),
        (("roadside", HOUR), 10),
        (("shopfront", HOUR), 5),
        (("lobby", HOUR), 10),
        (("lift_car", HOUR), 5),
        (("lift_hall", 3 * HOUR), 15),
        (("fire_stair", DAY), 10),
        (("garage", 3 * HOUR), 10),
    ]);
    ev.at(t0, "opened")
        .str("kind", "litter")
        .str("zone", zone)
        .str("project", &world.projects[project])
        .str(
            "channel",
            rng.pick(&[("patrol", 60), ("camera", 20), ("app", 20)]),
        );
    if !rng.chance(20) {
        let t = t0 + delay(rng, limit * 9 / 10, 150, limit * 6);
        ev.at(t, "cleaned").str("by", "cleaner");
    }
    let t = ev.last() + rng.range(10 * MINUTE, 6 * HOUR);
    ev.at(t, "closed");
}

/// A case that opens and waits for one event: a tool loan and its return.
#[allow(clippy::too_many_arguments)]
pub(super) fn simple(
    world: &World,
    rng: &mut Rng,
    ev: &mut Events,
    project: usize,
    t0: i64,
    kind: &str,
    stop: &'static str,
    typical: i64,
) {
    ev.at(t0, "opened")
        .str("kind", kind)
        .str("project", &world.projects[project])
        .str("unit", &World::unit(rng));
    if !rng.chance(30) {
        let t = t0 + delay(rng, typical, 200, typical * 8);
        ev.at(t, stop);
        let t = t + rng.range(MINUTE, HOUR);
        ev.at(t, "closed");
    }
}

/// A new owner moving in: documents, keys, then the renovation briefing.
pub(super) fn move_in(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    ev.at(t0, "opened")
        .str("kind", "move_in")
        .str("project", &world.projects[project])
        .str("unit", &World::unit(rng));
    let docs = t0 + rng.range(HOUR, DAY);
    ev.at(docs, "documents_checked");
    let keys = docs + rng.range(HOUR, DAY);
    ev.at(keys, "keys_handed");
    if !rng.chance(30) {
        let t = t0 + delay(rng, 50 * HOUR, 200, 12 * DAY);
        ev.at(t.max(keys + HOUR), "renovation_briefed");
        let t = ev.last() + rng.range(HOUR, DAY);
        ev.at(t, "closed");
    }
}

/// A community activity: held, recapped within 24 h, rated; a low satisfaction is rectified.
pub(super) fn activity(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    ev.at(t0, "opened")
        .str("kind", "activity")
        .str(
            "topic",
            rng.one(&["festival", "health_clinic", "appliance_check", "children"]),
        )
        .str("project", &world.projects[project]);
    let ended = t0 + rng.range(2 * HOUR, 5 * HOUR);
    ev.at(ended, "ended");
    if !rng.chance(50) {
        let t = ended + delay(rng, 20 * HOUR, 200, 4 * DAY);
        ev.at(t, "notified")
            .str("topic", "recap")
            .str("channel", "official_account");
    }
    let ratings = rng.range(5, 15);
    let mut satisfied = 0;
    for _ in 0..ratings {
        let t = ended + rng.range(10 * MINUTE, DAY);
        let score = rng.pick(&[(5, 40), (4, 30), (3, 15), (2, 10), (1, 5)]);
        satisfied += i64::from(score >= 4);
        ev.at(t, "rated")
            .int("score", score)
            .bool("satisfied", score >= 4);
    }
    let measured = ended + DAY + rng.range(HOUR, 4 * HOUR);
    let share = satisfied * 1000 / ratings;
    ev.at(measured, "updated")
        .thousandths("satisfaction", share);
    if share < 800 && !rng.chance(50) {
        let t = measured + delay(rng, 3 * DAY, 200, 15 * DAY);
        ev.at(t, "rectified").str("by", "customer_service");
    }
    let t = ev.last() + rng.range(HOUR, DAY);
    ev.at(t, "closed");
}

/// A fire alarm: someone on site within 10 minutes; a third are false alarms.
pub(super) fn alarm(world: &World, rng: &mut Rng, ev: &mut Events, project: usize, t0: i64) {
    let false_alarm = rng.chance(330);
    ev.at(t0, "opened")
        .str("kind", "alarm")
        .str("category", "fire_alarm")
        .str("project", &world.projects[project])
        .str("vendor", rng.one(&["anquan", "xiaofang"]))
        .bool("false", false_alarm);
    let t = t0 + delay(rng, 8 * MINUTE, 150, HOUR);
    ev.at(t, "arrived").str("by", "security");
    let r = t + rng.range(5 * MINUTE, 2 * HOUR);
    ev.at(r, "resolved").str("by", "security");
    let c = r + rng.range(10 * MINUTE, 6 * HOUR);
    ev.at(c, "closed");
}

/// A typhoon or rainstorm alert: after it ends, facilities are repaired within 24 hours.
pub(super) fn weather_alert(
    world: &World,
    rng: &mut Rng,
    ev: &mut Events,
    project: usize,
    t0: i64,
) {
    ev.at(t0, "opened")
        .str("kind", "weather_alert")
        .str("category", rng.one(&["typhoon", "rainstorm"]))
        .str("project", &world.projects[project]);
    let ended = t0 + rng.range(6 * HOUR, 2 * DAY);
    ev.at(ended, "ended");
    if !rng.chance(30) {
        let t = ended + delay(rng, 20 * HOUR, 200, 4 * DAY);
        ev.at(t, "resolved").str("by", "engineering");
    }
    let t = ev.last() + rng.range(HOUR, DAY);
    ev.at(t, "closed");
}
