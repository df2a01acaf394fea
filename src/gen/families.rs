//! Short-lived cases besides tickets: parcels at the collection point, public works, a
//! shopping centre's special services, the daily cleaning worksheets, monthly tool checks,
//! activity feedback and invitations, staff assessments. Each family is one line in
//! [`FAMILIES`]: its rate (cases per 10,000 tickets, so the stream keeps its shape at every
//! size), whether it belongs to the shopping centre, and the function that draws one case's
//! life. A new family (alerts, shifts, register rows) is one more line and one function.
//!
//! Each family has its own PRNG stream per day, so its draws never shift those of tickets or
//! of another family; its cases are numbered `F-<year>-<short>-<n>`.

use super::cases::{delay, Events, World};
use super::line::{DAY, HOUR, MINUTE};
use super::rng::Rng;
use super::OFFSET_SECONDS;

/// One family of cases.
pub struct Family {
    pub short: &'static str,
    /// Cases per 10,000 tickets.
    pub per_10k: u64,
    /// Only in the shopping centre (the last project).
    pub mall: bool,
    /// The events of one case opened at `t0` in `project`.
    pub life: fn(&World, &mut Rng, i64, &str, &mut Events),
}

/// The families, in the order their cases are drawn each day.
pub static FAMILIES: &[Family] = &[
    Family {
        short: "parcel",
        per_10k: 1500,
        mall: false,
        life: parcel,
    },
    Family {
        short: "works",
        per_10k: 30,
        mall: false,
        life: works,
    },
    Family {
        short: "special",
        per_10k: 120,
        mall: true,
        life: special_service,
    },
    Family {
        short: "cleanjob",
        per_10k: 2000,
        mall: false,
        life: cleaning_job,
    },
    Family {
        short: "toolcheck",
        per_10k: 240,
        mall: false,
        life: tool_check,
    },
    Family {
        short: "feedback",
        per_10k: 600,
        mall: false,
        life: activity_feedback,
    },
    Family {
        short: "invite",
        per_10k: 300,
        mall: false,
        life: activity_invitation,
    },
    Family {
        short: "assess",
        per_10k: 40,
        mall: false,
        life: assessment,
    },
    Family {
        short: "housekeeping",
        per_10k: 300,
        mall: false,
        life: housekeeping,
    },
    Family {
        short: "handover",
        per_10k: 10,
        mall: false,
        life: handover,
    },
    Family {
        short: "datareq",
        per_10k: 15,
        mall: false,
        life: super::rows::data_request,
    },
    Family {
        short: "visit",
        per_10k: 1000,
        mall: false,
        life: super::rows::visit,
    },
    Family {
        short: "replant",
        per_10k: 40,
        mall: false,
        life: super::rows::replanting,
    },
    Family {
        short: "round",
        per_10k: 300,
        mall: false,
        life: super::periodic::round,
    },
    Family {
        short: "shift",
        per_10k: 450,
        mall: false,
        life: super::periodic::guard_shift,
    },
    Family {
        short: "slip",
        per_10k: 20,
        mall: false,
        life: super::periodic::suggestion_slip,
    },
];

/// A parcel received at the collection point: an SMS to the addressee within 2 hours mostly,
/// picked up within 3 days mostly (some much later, a few never).
fn parcel(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "parcel")
        .str("project", project)
        .str("unit", &World::unit(rng));
    if !rng.chance(30) {
        let t = t0 + delay(rng, 40 * MINUTE, 80, 10 * HOUR);
        ev.at(t, "notified")
            .str("channel", "sms")
            .str("audience", "resident");
    }
    if !rng.chance(20) {
        let t = t0 + delay(rng, 2 * DAY, 120, 12 * DAY);
        ev.at(t, "picked_up");
        ev.at(t + rng.range(MINUTE, 10 * MINUTE), "closed");
    }
}

/// Public works registered with the office: posted on the notice board the same working day
/// mostly.
fn works(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "works")
        .str("project", project)
        .str(
            "topic",
            rng.one(&[
                "road_resurfacing",
                "lift_upgrade",
                "pipe_renewal",
                "repainting",
            ]),
        );
    if !rng.chance(40) {
        let t = t0 + delay(rng, 2 * HOUR, 200, 4 * DAY);
        ev.at(t, "notified")
            .str("channel", "notice_board")
            .str("audience", "residents");
    }
    let t = ev.last() + rng.range(3 * DAY, 20 * DAY);
    ev.at(t, "resolved").str("by", "engineering");
    ev.at(t + rng.range(HOUR, DAY), "closed");
}

/// A tenant's special service in the shopping centre (after-hours access, a delivery lift):
/// resolved, revisited by operations mostly, rated sometimes.
fn special_service(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "special_service")
        .str("project", project)
        .str("unit", &World::unit(rng))
        .str(
            "topic",
            rng.one(&["after_hours", "goods_lift", "power_extension"]),
        );
    let r = t0 + delay(rng, 6 * HOUR, 100, 3 * DAY);
    ev.at(r, "resolved").str("by", "operations");
    if !rng.chance(80) {
        let t = r + delay(rng, DAY, 100, 10 * DAY);
        ev.at(t, "revisited")
            .str("by", "operations")
            .str("method", "visit")
            .bool("satisfied", !rng.chance(100));
    }
    if rng.chance(600) {
        let t = ev.last() + rng.range(10 * MINUTE, DAY);
        let score = rng.pick(&[(5, 45), (4, 30), (3, 13), (2, 7), (1, 5)]);
        ev.at(t, "rated")
            .int("score", score)
            .bool("satisfied", score >= 4);
    }
    ev.at(ev.last() + rng.range(HOUR, DAY), "closed");
}

/// An area's cleaning worksheet for the day: resolved when the area is done, spot-checked by
/// the supervisor now and then.
fn cleaning_job(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "cleaning_job")
        .str("project", project)
        .str(
            "zone",
            rng.one(&["corridor", "lobby", "lift_hall", "stairwell", "toilet"]),
        );
    let r = t0 + rng.range(HOUR, 5 * HOUR);
    ev.at(r, "resolved").str("by", "cleaning");
    if rng.chance(150) {
        let t = r + rng.range(30 * MINUTE, 3 * HOUR);
        ev.at(t, "spot_checked")
            .str("by", "supervisor")
            .bool("passed", !rng.chance(80));
    }
    ev.at(ev.last() + rng.range(10 * MINUTE, HOUR), "closed");
}

/// A tool of the lending toolbox checked for the month: ok mostly, faulty now and then.
fn tool_check(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "tool_check")
        .str("project", project)
        .str(
            "asset",
            rng.one(&["drill", "ladder", "wrench", "multimeter", "pump"]),
        );
    let t = t0 + rng.range(10 * MINUTE, 2 * HOUR);
    ev.at(t, "resolved")
        .str("by", "engineering")
        .str("result", if rng.chance(40) { "faulty" } else { "ok" });
    ev.at(t + rng.range(MINUTE, HOUR), "closed");
}

/// A participant's rating of the month's activity of a project (the `activity` attribute
/// names it): satisfied about 85 % of the time.
fn activity_feedback(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    let (y, m, _) = super::line::civil_from_days((t0 + i64::from(OFFSET_SECONDS)).div_euclid(DAY));
    let activity = format!("{project}-{y}-{m:02}");
    ev.at(t0, "opened")
        .str("kind", "activity_feedback")
        .str("project", project)
        .str("activity", &activity);
    let t = t0 + rng.range(MINUTE, 2 * HOUR);
    let score = rng.pick(&[(5, 50), (4, 35), (3, 9), (2, 4), (1, 2)]);
    ev.at(t, "rated")
        .int("score", score)
        .bool("satisfied", score >= 4);
    ev.at(t + rng.range(MINUTE, HOUR), "closed");
}

/// A household invited to an activity: about two in three take part.
fn activity_invitation(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "activity_invitation")
        .str("project", project)
        .str("unit", &World::unit(rng));
    if rng.chance(680) {
        ev.at(t0 + rng.range(DAY, 10 * DAY), "attended");
    }
    ev.at(ev.last() + rng.range(10 * DAY, 12 * DAY), "closed");
}

/// A staff member's yearly assessment: certified and passed, with a few failures.
fn assessment(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    ev.at(t0, "opened")
        .str("kind", "assessment")
        .str("project", project)
        .str(
            "department",
            rng.one(&["customer_service", "engineering", "security", "cleaning"]),
        );
    let t = t0 + rng.range(HOUR, 6 * HOUR);
    ev.at(t, "assessed")
        .bool("certified", !rng.chance(15))
        .bool("passed", !rng.chance(30));
    ev.at(t + rng.range(HOUR, DAY), "closed");
}

/// A housekeeping job booked by a resident (`policies/staff.pledge`,
/// `customer-requests.pledge`'s `channel_preference`): most bookings name the channel the
/// resident prefers, and the booking is acknowledged on it (1 % on another); the worker who
/// arrives is one of the example register's (`policies/staff-register.csv`): W-001 holds both
/// certificates all year, W-002's health certificate lapses after 31 May, W-003 has no skills
/// certificate, so about 3 to 5 % of jobs are done by someone not fully certified.
fn housekeeping(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    const CHANNELS: &[&str] = &["phone", "app", "wechat", "front_desk"];
    let preferred = (!rng.chance(300)).then(|| rng.one(CHANNELS));
    let opened = ev
        .at(t0, "opened")
        .str("kind", "housekeeping")
        .str("project", project)
        .str("unit", &World::unit(rng));
    if let Some(channel) = preferred {
        opened.str("preferred_channel", channel);
    }
    let channel = match preferred {
        Some(p) if !rng.chance(10) => p,
        _ => rng.one(CHANNELS),
    };
    let t = t0 + delay(rng, 30 * MINUTE, 50, 6 * HOUR);
    ev.at(t, "acknowledged").str("channel", channel);
    let worker = match rng.below(1000) {
        0..=24 => "W-003",
        25..=124 => "W-002",
        _ => "W-001",
    };
    let t = t + rng.range(DAY, 3 * DAY);
    ev.at(t, "arrived").str("by", worker);
    let t = t + rng.range(2 * HOUR, 5 * HOUR);
    ev.at(t, "resolved").str("by", worker);
    ev.at(t + rng.range(HOUR, DAY), "closed");
}

/// A staff change (`policies/staff.pledge`, `vk_15_day_handover`): opened on the successor's
/// first day, naming the leaver. The example register keeps two leavers: S-101 employed until
/// 14 April 2026 and S-103 until 10 June 2026; a handover opened more than 14 days before the
/// leaver's last day keeps the 15 days, a later one does not.
fn handover(_: &World, rng: &mut Rng, t0: i64, project: &str, ev: &mut Events) {
    /// 2026-03-31, 00:00 in Shanghai: the last day a handover from S-101 keeps 15 days.
    const S101_LAST_START: i64 = 1_774_886_400;
    let (leaver, successor) = if t0 < S101_LAST_START + DAY || rng.chance(500) {
        ("S-101", "S-102")
    } else {
        ("S-103", "S-104")
    };
    ev.at(t0, "opened")
        .str("kind", "handover")
        .str("project", project)
        .str("leaver", leaver)
        .str("successor", successor);
    ev.at(t0 + rng.range(15 * DAY, 20 * DAY), "closed");
}

/// The cases of every family for one day: `(index in FAMILIES, events)`, in the
/// order of `FAMILIES`, each family drawn from `Rng::new(seed, stream + family × 2^20 + day)`.
pub fn day(
    world: &World,
    seed: u64,
    stream: u64,
    cases: u64,
    days: u64,
    day: u64,
    day_start: i64,
) -> Vec<(usize, Events)> {
    let mut out = Vec::new();
    for (i, f) in FAMILIES.iter().enumerate() {
        let total = cases * f.per_10k / 10_000;
        let n = total * (day + 1) / days - total * day / days;
        if n == 0 {
            continue;
        }
        let mut rng = Rng::new(seed, stream + ((i as u64) << 20) + day);
        for _ in 0..n {
            let project = if f.mall {
                world.projects.len() - 1
            } else {
                rng.below(world.projects.len() as u64) as usize
            };
            let t0 = day_start + rng.range(7 * HOUR, 21 * HOUR);
            let mut ev = Events::default();
            (f.life)(world, &mut rng, t0, &world.projects[project], &mut ev);
            out.push((i, ev));
        }
    }
    out
}
