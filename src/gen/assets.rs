//! Places and equipment with recurring duties (EVENTS.md "Duties"): lifts, patrol zones, bins,
//! waste stations, roads, corridors, fire systems. Each subject is one case, opened once at the
//! start of the stream and never closed, whose duty events are generated day by day, so the
//! generator holds one day of them at a time.
//!
//! Duties mostly keep their period and window, with some missed, late or out-of-window ones, so
//! that duty and window clauses find gaps. Episodes that deadline clauses time on a subject (a
//! bin two-thirds full, rain on the roads) start a new cycle with `reopened`, as the cleaning
//! policy asks of producers.

use super::cases::{delay, Events, World};
use super::line::{DAY, HOUR, MINUTE};
use super::rng::Rng;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Type {
    ResidentialPatrol,
    CommercialPatrol,
    Lift,
    Bin,
    ConstructionStation,
    Roads,
    Seating,
    Corridor,
    FireSystem,
}

/// The subjects in the order they are assigned: with nine or more subjects, every type appears.
const TYPES: [Type; 9] = [
    Type::Lift,
    Type::Bin,
    Type::ResidentialPatrol,
    Type::Corridor,
    Type::ConstructionStation,
    Type::Roads,
    Type::FireSystem,
    Type::Seating,
    Type::CommercialPatrol,
];

/// One subject and its duty schedule state.
pub struct Asset {
    pub ticket: String,
    ty: Type,
    project: usize,
    rng: Rng,
    /// The next patrol, for patrol zones.
    next_patrol: i64,
    /// Days until the next episode (fill-up, rain) or periodic duty.
    countdown: [i64; 3],
    /// Whether an episode was already timed (later ones need a reopen first).
    episodes: u32,
}

impl Asset {
    pub fn new(index: usize, world: &World, rng: Rng) -> Asset {
        let ty = TYPES[index % TYPES.len()];
        let short = match ty {
            Type::ResidentialPatrol | Type::CommercialPatrol => "patrol",
            Type::Lift => "lift",
            Type::Bin => "bin",
            Type::ConstructionStation => "cstation",
            Type::Roads => "roads",
            Type::Seating => "seating",
            Type::Corridor => "corridor",
            Type::FireSystem => "fire",
        };
        let project = index % world.projects.len();
        Asset {
            ticket: format!("A-{}-{short}-{:03}", world.projects[project], index + 1),
            ty,
            project,
            rng,
            next_patrol: 0,
            countdown: [0; 3],
            episodes: 0,
        }
    }

    /// The events of the day starting at `day_start` (local midnight); `first` adds `opened`.
    pub fn day(&mut self, world: &World, day_start: i64, first: bool) -> Events {
        let mut ev = Events::default();
        let rng = &mut self.rng;
        if first {
            let line = ev.at(day_start, "opened");
            match self.ty {
                Type::ResidentialPatrol | Type::CommercialPatrol => {
                    line.str("kind", "area").str(
                        "zone",
                        if self.ty == Type::ResidentialPatrol {
                            "residential"
                        } else {
                            "commercial"
                        },
                    );
                }
                Type::Roads => {
                    line.str("kind", "area").str("zone", "roads");
                }
                Type::Seating => {
                    line.str("kind", "area").str("zone", "seating");
                }
                Type::Corridor => {
                    line.str("kind", "area").str("zone", "corridor");
                }
                Type::Lift => {
                    line.str("kind", "asset").str("asset_type", "lift");
                }
                Type::Bin => {
                    line.str("kind", "asset").str("asset_type", "bin");
                }
                Type::ConstructionStation => {
                    line.str("kind", "asset")
                        .str("asset_type", "construction_station");
                }
                Type::FireSystem => {
                    line.str("kind", "asset").str("asset_type", "fire_system");
                }
            }
            line.str("project", &world.projects[self.project]);
            self.next_patrol = day_start + rng.range(MINUTE, HOUR);
            self.countdown = [rng.range(0, 6), rng.range(0, 14), rng.range(0, 60)];
        }
        let day_end = day_start + DAY;
        match self.ty {
            Type::ResidentialPatrol | Type::CommercialPatrol => {
                let period = if self.ty == Type::ResidentialPatrol {
                    2 * HOUR
                } else {
                    HOUR
                };
                while self.next_patrol < day_end {
                    let t = self.next_patrol;
                    ev.at(t, "patrolled")
                        .str("by", "security")
                        .str("route", "main");
                    // Mostly a little early; sometimes late, sometimes one round missed.
                    self.next_patrol = t + if rng.chance(20) {
                        period + rng.range(period / 2, 2 * period)
                    } else {
                        period - rng.range(0, 15 * MINUTE)
                    };
                }
            }
            Type::Lift => {
                if !rng.chance(30) {
                    let t = day_start + rng.range(8 * HOUR, 10 * HOUR);
                    ev.at(t, "inspected")
                        .str("by", "engineering")
                        .str("result", "ok");
                }
                if tick(&mut self.countdown[0], rng, 7) {
                    let t = day_start + rng.range(10 * HOUR, 16 * HOUR);
                    ev.at(t, "cleaned")
                        .str("by", "cleaner")
                        .str("level", "daily");
                }
                if tick(&mut self.countdown[1], rng, 15) {
                    // Maintenance belongs between 00:00 and 05:00; some visits come in the day.
                    let t = if rng.chance(100) {
                        day_start + rng.range(9 * HOUR, 17 * HOUR)
                    } else {
                        day_start + rng.range(10 * MINUTE, 4 * HOUR + 50 * MINUTE)
                    };
                    ev.at(t, "maintained")
                        .str("by", "vendor")
                        .str("vendor", "lift_co");
                }
                if tick(&mut self.countdown[2], rng, 90) {
                    let t = day_start + rng.range(MINUTE, 4 * HOUR);
                    ev.at(t, "maintained")
                        .str("by", "vendor")
                        .str("level", "quarterly");
                }
            }
            Type::Bin => {
                // Three rounds a day, in the windows 07-09, 13-14 and 19-21 (some outside).
                for (from, to) in [(7, 9), (13, 14), (19, 21)] {
                    if rng.chance(30) {
                        continue;
                    }
                    let (lo, hi) = if rng.chance(50) {
                        (to * HOUR, to * HOUR + HOUR)
                    } else {
                        (from * HOUR, to * HOUR - MINUTE)
                    };
                    let t = day_start + rng.range(lo, hi);
                    ev.at(t, "cleaned")
                        .str("by", "cleaner")
                        .str("level", "daily");
                }
                // Disinfected once a day after the morning round, now and then forgotten.
                if !rng.chance(30) {
                    let t = day_start + rng.range(9 * HOUR + 30 * MINUTE, 11 * HOUR);
                    ev.at(t, "disinfected").str("by", "cleaner");
                }
                if tick(&mut self.countdown[0], rng, 4) {
                    let t = day_start + rng.range(9 * HOUR, 18 * HOUR);
                    self.episode(&mut ev, t);
                    let rng = &mut self.rng;
                    if rng.chance(500) {
                        ev.at(t + MINUTE, "deposited");
                        let c = t + MINUTE + delay(rng, 100 * MINUTE, 150, 8 * HOUR);
                        ev.at(c, "cleaned")
                            .str("by", "cleaner")
                            .str("level", "daily");
                    } else {
                        let fill = rng.range(670, 950);
                        let line = ev.at(t + MINUTE, "inspected");
                        line.str("by", "cleaner").thousandths("fill", fill);
                        // Nearly full before its round: the cleaner is told at once.
                        if fill >= 900 {
                            line.bool("full", true);
                        }
                        let c = t + MINUTE + delay(rng, 50 * MINUTE, 150, 6 * HOUR);
                        ev.at(c, "cleaned")
                            .str("by", "cleaner")
                            .str("level", "daily");
                    }
                }
            }
            Type::ConstructionStation => {
                let t = day_start + rng.range(8 * HOUR, 11 * HOUR);
                let full = tick(&mut self.countdown[0], rng, 5);
                if full {
                    self.episode(&mut ev, t - MINUTE);
                }
                let rng = &mut self.rng;
                let fill = if full {
                    rng.range(667, 980)
                } else {
                    rng.range(100, 600)
                };
                ev.at(t, "inspected")
                    .str("by", "manager")
                    .thousandths("fill", fill);
                if full {
                    // Same day mostly; sometimes the haulier comes the next day.
                    let c = if rng.chance(150) {
                        day_start + DAY + rng.range(8 * HOUR, 16 * HOUR)
                    } else {
                        t + rng.range(HOUR, 10 * HOUR)
                    };
                    ev.at(c, "cleaned").str("by", "vendor");
                }
            }
            Type::Roads | Type::Seating => {
                let t = day_start + rng.range(6 * HOUR, 7 * HOUR);
                ev.at(t, "cleaned")
                    .str("by", "cleaner")
                    .str("level", "daily");
                if tick(&mut self.countdown[0], rng, 8) {
                    let t = day_start + rng.range(9 * HOUR, 20 * HOUR);
                    self.episode(&mut ev, t);
                    let rng = &mut self.rng;
                    ev.at(t + MINUTE, "rain_stopped");
                    let c = t + MINUTE + delay(rng, 25 * MINUTE, 150, 4 * HOUR);
                    ev.at(c, "cleaned")
                        .str("by", "cleaner")
                        .str("level", "after_rain");
                }
            }
            Type::Corridor => {
                if !rng.chance(30) {
                    let deep = tick(&mut self.countdown[0], rng, 7);
                    let t = day_start + rng.range(7 * HOUR, 11 * HOUR);
                    ev.at(t, "cleaned")
                        .str("by", "cleaner")
                        .str("level", if deep { "deep" } else { "daily" });
                }
                if rng.chance(600) {
                    let t = day_start + rng.range(14 * HOUR, 17 * HOUR);
                    ev.at(t, "spot_checked")
                        .str("by", "supervisor")
                        .bool("passed", !rng.chance(100));
                }
            }
            Type::FireSystem => {
                if tick(&mut self.countdown[0], rng, 30) {
                    let t = day_start + rng.range(9 * HOUR, 16 * HOUR);
                    ev.at(t, "inspected")
                        .str("by", "engineering")
                        .str("test", "pressure")
                        .str("result", "ok");
                }
                if tick(&mut self.countdown[2], rng, 365) {
                    let t = day_start + rng.range(9 * HOUR, 16 * HOUR);
                    ev.at(t, "inspected")
                        .str("by", "third_party")
                        .str("level", "full")
                        .str("result", "ok");
                }
                if tick(&mut self.countdown[1], rng, 91) {
                    let t = day_start + rng.range(14 * HOUR, 16 * HOUR);
                    ev.at(t, "drilled").str("scenario", "fire_evacuation");
                }
            }
        }
        ev
    }

    /// Starts a timed episode: from the second one on, the subject is reopened first.
    fn episode(&mut self, ev: &mut Events, t: i64) {
        if self.episodes > 0 {
            ev.at(t, "reopened").str("reason", "episode");
        }
        self.episodes += 1;
    }
}

/// Counts a periodic duty down; true (and restarts, with a day of jitter either way) when due.
fn tick(countdown: &mut i64, rng: &mut Rng, period_days: i64) -> bool {
    if *countdown <= 0 {
        *countdown = period_days + rng.range(-1, 1) - 1;
        true
    } else {
        *countdown -= 1;
        false
    }
}
