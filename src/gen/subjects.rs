//! Organisations, places, equipment and residents with routine duties, described by tables:
//! each subject type (`Spec`) says how its case is opened and which duties it has (`Duty`),
//! each duty which event it records, with which attributes, on which schedule (`When`) and how
//! often it is missed or done at the wrong time.
//!
//! A new subject type is one `Spec` in [`PER_PROJECT`] or [`PER_STREAM`]; a new duty is one
//! line in a spec; a duty whose events follow a pattern a schedule cannot say (an alert period
//! with patrols inside it) is a `When::Custom` function. Duties are done by day: the generator
//! holds one day of a subject's events at a time, as for `assets`.
//!
//! Each subject is one case opened at the start of the stream and never closed, with its own
//! PRNG stream, so adding a subject or a duty never shifts the draws of another.
//!
//! Misses: a calendar duty (per day, week, month, quarter, year) is skipped for a whole period
//! with its `miss` share, which the quota clauses report as a finding; a gap duty is late by
//! up to half its period with that share; a duty with time windows is done outside them with
//! its `off` share.

use super::cases::{Events, World};
use super::line::{Line, DAY, HOUR, MINUTE};
use super::rng::Rng;
use super::OFFSET_SECONDS;
use chrono::{Datelike, NaiveDate};

/// An attribute value, fixed or drawn.
#[derive(Clone, Copy)]
pub enum V {
    S(&'static str),
    B(bool),
    /// `true` with this share, per mille.
    Chance(u32),
    /// One of these strings, uniformly.
    OneOf(&'static [&'static str]),
}

/// An attribute of an event or of a case's `opened`.
pub type Attr = (&'static str, V);

/// When a duty is done; hours are local (+08:00) hours of the day, `(from, to)`.
#[derive(Clone, Copy)]
pub enum When {
    /// Once each day.
    Daily { hours: (i64, i64) },
    /// Once each working day (Monday to Friday).
    Workdays { hours: (i64, i64) },
    /// Once each week (Monday to Sunday), on a weekday between `days.0` and `days.1`
    /// (0 = Monday).
    Weekly { days: (i64, i64), hours: (i64, i64) },
    /// Once each calendar month, on a day up to the 25th.
    Monthly { hours: (i64, i64) },
    /// Once each calendar quarter, in its first ten weeks.
    Quarterly { hours: (i64, i64) },
    /// Once a year between two dates `(month, day)`; `off` puts it in the month after.
    Yearly {
        from: (u32, u32),
        to: (u32, u32),
        hours: (i64, i64),
    },
    /// At most `days` apart; late by up to half of that with the duty's `miss` share.
    Gap { days: i64, hours: (i64, i64) },
    /// Once in each of these windows every day; `off` puts it in the hour after a window.
    Windows(&'static [(i64, i64)]),
    /// A pattern of its own: the function writes the day's events.
    Custom(fn(&mut Rng, &mut CustomState, i64, &mut Events)),
}

/// One duty of a subject type.
#[derive(Clone, Copy)]
pub struct Duty {
    pub event: &'static str,
    pub attrs: &'static [Attr],
    pub when: When,
    /// Periods skipped (or gaps overrun), per mille.
    pub miss: u32,
    /// Events done outside their window, per mille (`Windows`, `Yearly`).
    pub off: u32,
}

/// A subject type: how its case is opened, how many each project has, and its duties.
pub struct Spec {
    /// The middle part of the case's ticket (`S-<project>-<short>-<n>`).
    pub short: &'static str,
    pub opened: &'static [Attr],
    /// Subjects of this type per project ([`PER_PROJECT`]) or per stream ([`PER_STREAM`]).
    pub count: u32,
    pub duties: &'static [Duty],
}

const fn duty(event: &'static str, attrs: &'static [Attr], when: When, miss: u32) -> Duty {
    Duty {
        event,
        attrs,
        when,
        miss,
        off: 0,
    }
}

const OFFICE: (i64, i64) = (9, 17);

/// What every project has: the project itself, its customer service department and security
/// team, the places cleaned and patrolled, equipment checked, and residents cared for.
pub const PER_PROJECT: &[Spec] = &[
    Spec {
        short: "project",
        opened: &[("kind", V::S("project"))],
        count: 1,
        duties: &[
            duty(
                "reported",
                &[("topic", V::S("forms_summary"))],
                When::Monthly { hours: OFFICE },
                80,
            ),
            duty(
                "meeting_held",
                &[("topic", V::S("coordination"))],
                When::Workdays { hours: (9, 10) },
                30,
            ),
            duty("appraised", &[], When::Monthly { hours: OFFICE }, 60),
            duty("surveyed", &[], When::Quarterly { hours: OFFICE }, 150),
            duty(
                "meeting_held",
                &[("topic", V::S("quality"))],
                When::Monthly { hours: (14, 17) },
                80,
            ),
            duty(
                "reported",
                &[("topic", V::S("weekly_summary"))],
                When::Weekly {
                    days: (3, 4),
                    hours: (15, 18),
                },
                60,
            ),
            duty(
                "meeting_held",
                &[("topic", V::S("improvement"))],
                When::Monthly { hours: (14, 17) },
                80,
            ),
            duty(
                "notified",
                &[
                    ("topic", V::S("monthly_report")),
                    ("channel", V::S("official_account")),
                    ("audience", V::S("residents")),
                ],
                When::Monthly { hours: OFFICE },
                80,
            ),
            duty(
                "inspected",
                &[("by", V::S("manager"))],
                When::Weekly {
                    days: (0, 4),
                    hours: (9, 12),
                },
                60,
            ),
            duty(
                "notified",
                &[
                    ("topic", V::S("half_year_report")),
                    ("channel", V::S("notice_board")),
                    ("audience", V::S("residents")),
                ],
                When::Gap {
                    days: 182,
                    hours: OFFICE,
                },
                300,
            ),
            duty(
                "reported",
                &[("topic", V::S("repair_revisits"))],
                When::Monthly { hours: OFFICE },
                80,
            ),
            duty(
                "meeting_held",
                &[("topic", V::S("sharing"))],
                When::Quarterly { hours: (14, 17) },
                150,
            ),
            duty(
                "drilled",
                &[(
                    "scenario",
                    V::OneOf(&["fire_evacuation", "first_aid", "flooding"]),
                )],
                When::Quarterly { hours: (14, 16) },
                150,
            ),
            duty(
                "held",
                &[("type", V::S("activity"))],
                When::Quarterly { hours: (9, 17) },
                150,
            ),
            duty(
                "held",
                &[("type", V::S("community_service"))],
                When::Monthly { hours: (9, 12) },
                100,
            ),
            duty(
                "cleaned",
                &[("by", V::S("vendor")), ("level", V::S("special"))],
                When::Monthly { hours: OFFICE },
                80,
            ),
            duty(
                "awarded",
                &[("by", V::S("manager"))],
                When::Monthly { hours: OFFICE },
                100,
            ),
        ],
    },
    Spec {
        short: "cs",
        opened: &[
            ("kind", V::S("department")),
            ("department", V::S("customer_service")),
        ],
        count: 1,
        duties: &[
            duty(
                "trained",
                &[(
                    "topic",
                    V::OneOf(&["etiquette", "communication", "emergency"]),
                )],
                When::Monthly { hours: (14, 17) },
                80,
            ),
            duty(
                "meeting_held",
                &[("topic", V::S("complaints"))],
                When::Monthly { hours: (9, 11) },
                80,
            ),
            duty(
                "meeting_held",
                &[("topic", V::S("overdue_complaints"))],
                When::Weekly {
                    days: (0, 0),
                    hours: (9, 11),
                },
                80,
            ),
        ],
    },
    Spec {
        short: "guard",
        opened: &[("kind", V::S("team")), ("team", V::S("security"))],
        count: 1,
        duties: &[
            // Weekend afternoons, when residents are about (seed 004).
            duty(
                "drilled",
                &[("scenario", V::S("guard_training"))],
                When::Weekly {
                    days: (5, 6),
                    hours: (14, 17),
                },
                60,
            ),
            duty(
                "trained",
                &[("topic", V::S("post_drill"))],
                When::Monthly { hours: (14, 17) },
                80,
            ),
        ],
    },
    Spec {
        short: "lighting",
        opened: &[("kind", V::S("asset")), ("asset_type", V::S("lighting"))],
        count: 2,
        duties: &[duty(
            "inspected",
            &[("by", V::S("engineering"))],
            When::Daily { hours: (18, 20) },
            20,
        )],
    },
    Spec {
        short: "pipe",
        opened: &[
            ("kind", V::S("asset")),
            ("asset_type", V::S("pipe")),
            ("rectified", V::Chance(500)),
        ],
        count: 2,
        duties: &[
            duty(
                "inspected",
                &[("by", V::S("engineering"))],
                When::Monthly { hours: OFFICE },
                60,
            ),
            duty(
                "inspected",
                &[("by", V::S("engineering")), ("method", V::S("infrared"))],
                When::Quarterly { hours: OFFICE },
                150,
            ),
        ],
    },
    Spec {
        short: "ac",
        opened: &[("kind", V::S("asset")), ("asset_type", V::S("ac"))],
        count: 2,
        duties: &[
            Duty {
                off: 250,
                ..duty(
                    "inspected",
                    &[("by", V::S("engineering")), ("level", V::S("full"))],
                    When::Yearly {
                        from: (4, 1),
                        to: (5, 31),
                        hours: OFFICE,
                    },
                    0,
                )
            },
            Duty {
                off: 250,
                ..duty(
                    "shutdown",
                    &[("by", V::S("engineering"))],
                    When::Yearly {
                        from: (10, 1),
                        to: (11, 30),
                        hours: OFFICE,
                    },
                    0,
                )
            },
        ],
    },
    Spec {
        short: "wstation",
        opened: &[
            ("kind", V::S("asset")),
            ("asset_type", V::S("waste_station")),
        ],
        count: 1,
        duties: &[
            duty(
                "inspected",
                &[("by", V::S("manager"))],
                When::Daily { hours: (8, 11) },
                20,
            ),
            duty(
                "cleaned",
                &[("by", V::S("vendor"))],
                When::Daily { hours: (16, 20) },
                15,
            ),
        ],
    },
    Spec {
        short: "floor",
        opened: &[("kind", V::S("area")), ("zone", V::S("floor"))],
        count: 1,
        duties: &[
            duty(
                "cleaned",
                &[("by", V::S("cleaner")), ("level", V::S("daily"))],
                When::Daily { hours: (7, 10) },
                20,
            ),
            duty(
                "cleaned",
                &[("by", V::S("cleaner")), ("level", V::S("wax"))],
                When::Monthly { hours: (20, 23) },
                80,
            ),
        ],
    },
    Spec {
        short: "toilet",
        opened: &[("kind", V::S("area")), ("zone", V::S("toilet"))],
        count: 1,
        duties: &[
            duty(
                "cleaned",
                &[
                    ("by", V::S("cleaner")),
                    ("level", V::S("daily")),
                    ("disinfected", V::Chance(970)),
                ],
                When::Daily { hours: (7, 10) },
                15,
            ),
            duty(
                "cleaned",
                &[
                    ("by", V::S("cleaner")),
                    ("level", V::S("deep")),
                    ("disinfected", V::B(true)),
                ],
                When::Weekly {
                    days: (0, 6),
                    hours: (13, 16),
                },
                60,
            ),
        ],
    },
    Spec {
        short: "stairwell",
        opened: &[("kind", V::S("area")), ("zone", V::S("stairwell"))],
        count: 1,
        duties: &[
            Duty {
                off: 40,
                ..duty(
                    "cleaned",
                    &[("by", V::S("cleaner")), ("round", V::B(true))],
                    When::Windows(&[(7, 9), (13, 14), (19, 21)]),
                    20,
                )
            },
            duty(
                "inspected",
                &[("by", V::S("supervisor"))],
                When::Daily { hours: (16, 18) },
                25,
            ),
        ],
    },
    Spec {
        short: "lobby",
        opened: &[("kind", V::S("area")), ("zone", V::S("lobby"))],
        count: 1,
        duties: &[duty(
            "cleaned",
            &[("by", V::S("cleaner")), ("level", V::S("daily"))],
            When::Daily { hours: (6, 9) },
            15,
        )],
    },
    Spec {
        short: "lifthall",
        opened: &[("kind", V::S("area")), ("zone", V::S("lift_hall"))],
        count: 1,
        duties: &[duty(
            "cleaned",
            &[("by", V::S("cleaner")), ("level", V::S("daily"))],
            When::Daily { hours: (8, 11) },
            15,
        )],
    },
    Spec {
        short: "rubbish",
        opened: &[("kind", V::S("area")), ("zone", V::S("rubbish_room"))],
        count: 1,
        duties: &[duty(
            "cleaned",
            &[("by", V::S("cleaner")), ("level", V::S("daily"))],
            When::Daily { hours: (20, 22) },
            15,
        )],
    },
    Spec {
        short: "parcels",
        opened: &[("kind", V::S("area")), ("zone", V::S("parcel_point"))],
        count: 1,
        duties: &[duty(
            "cleaned",
            &[("by", V::S("receptionist"))],
            When::Daily { hours: (8, 9) },
            20,
        )],
    },
    Spec {
        short: "building",
        opened: &[("kind", V::S("area")), ("zone", V::S("building"))],
        count: 2,
        duties: &[duty(
            "patrolled",
            &[("by", V::S("building_manager"))],
            When::Daily { hours: (9, 17) },
            20,
        )],
    },
    Spec {
        short: "basement",
        opened: &[("kind", V::S("area")), ("zone", V::S("basement"))],
        count: 1,
        duties: &[duty("patrolled", &[], When::Custom(typhoon_watch), 0)],
    },
    Spec {
        short: "rooftop",
        opened: &[("kind", V::S("area")), ("zone", V::S("rooftop"))],
        count: 1,
        duties: &[duty("patrolled", &[], When::Custom(typhoon_watch), 0)],
    },
    Spec {
        short: "alone",
        opened: &[
            ("kind", V::S("resident")),
            ("segment", V::OneOf(&["elderly_alone", "disabled"])),
        ],
        count: 3,
        duties: &[duty(
            "visited",
            &[("by", V::S("building_manager"))],
            When::Monthly { hours: (9, 17) },
            60,
        )],
    },
    Spec {
        short: "eldest",
        opened: &[
            ("kind", V::S("resident")),
            ("segment", V::S("empty_nest")),
            ("age_band", V::S("very_old")),
        ],
        count: 2,
        duties: &[
            duty(
                "visited",
                &[("by", V::S("building_manager"))],
                When::Daily { hours: (9, 11) },
                25,
            ),
            duty("contacted", &[], When::Custom(super::cover::storm_check), 0),
        ],
    },
    Spec {
        short: "entrusted",
        opened: &[
            ("kind", V::S("resident")),
            ("segment", V::S("empty_nest")),
            ("entrusted", V::B(true)),
        ],
        count: 2,
        duties: &[
            duty(
                "visited",
                &[("by", V::S("building_manager"))],
                When::Weekly {
                    days: (0, 6),
                    hours: (9, 17),
                },
                60,
            ),
            duty("contacted", &[], When::Custom(super::cover::storm_check), 0),
        ],
    },
];

/// What the stream has once: the company, which updates its service standards.
pub const PER_STREAM: &[Spec] = &[
    Spec {
        short: "company",
        opened: &[("kind", V::S("company"))],
        count: 1,
        duties: &[duty(
            "standards_updated",
            &[],
            When::Gap {
                days: 180,
                hours: OFFICE,
            },
            300,
        )],
    },
    // Posts staffed round the clock, the weather warning feed and the flood duty room (`cover`).
    Spec {
        short: "warnings",
        opened: &[("kind", V::S("weather_warning"))],
        count: 1,
        duties: &[duty("raised", &[], When::Custom(super::cover::warnings), 0)],
    },
    Spec {
        short: "hotline",
        opened: &[("kind", V::S("post")), ("post", V::S("hotline"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(super::cover::hotline),
            0,
        )],
    },
    Spec {
        short: "repairline",
        opened: &[("kind", V::S("post")), ("post", V::S("repair_line"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(super::cover::repair_line),
            0,
        )],
    },
    Spec {
        short: "dutyroom",
        opened: &[("kind", V::S("post")), ("post", V::S("duty_room"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(super::cover::duty_room),
            0,
        )],
    },
    Spec {
        short: "locksmith",
        opened: &[("kind", V::S("post")), ("post", V::S("locksmith"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(super::cover::locksmith),
            0,
        )],
    },
    Spec {
        short: "floodduty",
        opened: &[("kind", V::S("post")), ("post", V::S("flood_duty"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(super::cover::flood_duty),
            0,
        )],
    },
];

/// The state a `Custom` duty keeps between days.
#[derive(Default)]
pub struct CustomState {
    /// Whether the subject's first day is behind it (posts start their first shift then).
    pub begun: bool,
}

/// Typhoon season on a basement or rooftop: patrolled about every hour while a typhoon
/// warning of the stream's feed is up (`cover::warning_on`), from shortly after it is raised
/// until it is lifted, some patrols late.
fn typhoon_watch(rng: &mut Rng, _st: &mut CustomState, day_start: i64, ev: &mut Events) {
    let Some(w) = super::cover::warning_on(day_start).filter(|w| w.typhoon) else {
        return;
    };
    let mut t = w.start + rng.range(10 * MINUTE, 50 * MINUTE);
    while t < w.end {
        ev.at(t, "patrolled").str("by", "security");
        t += if rng.chance(30) {
            HOUR + rng.range(10 * MINUTE, HOUR)
        } else {
            HOUR - rng.range(0, 10 * MINUTE)
        };
    }
}

/// One subject and its schedule state.
pub struct Subject {
    pub ticket: String,
    spec: &'static Spec,
    project: Option<usize>,
    rng: Rng,
    /// Per duty: the period it was last planned for, and the day it is due (or `None`).
    plan: Vec<(i64, Option<i64>)>,
    custom: Vec<CustomState>,
}

/// The subjects of a stream: every type of [`PER_PROJECT`] for each project, then
/// [`PER_STREAM`], each with the PRNG stream `stream + its index`.
pub fn all(world: &World, seed: u64, stream: u64) -> Vec<Subject> {
    let mut out = Vec::new();
    for (p, name) in world.projects.iter().enumerate() {
        for spec in PER_PROJECT {
            for n in 0..spec.count {
                let ticket = format!("S-{name}-{}-{:02}", spec.short, n + 1);
                out.push((spec, Some(p), ticket));
            }
        }
    }
    for spec in PER_STREAM {
        for n in 0..spec.count {
            out.push((spec, None, format!("S-{}-{:02}", spec.short, n + 1)));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (spec, project, ticket))| Subject {
            ticket,
            spec,
            project,
            rng: Rng::new(seed, stream + i as u64),
            plan: vec![(i64::MIN, None); spec.duties.len()],
            custom: spec.duties.iter().map(|_| CustomState::default()).collect(),
        })
        .collect()
}

/// Writes the attributes, drawing those that are drawn.
pub fn put(line: &mut Line, attrs: &[Attr], rng: &mut Rng) {
    for (key, v) in attrs {
        match *v {
            V::S(s) => {
                line.str(key, s);
            }
            V::B(b) => {
                line.bool(key, b);
            }
            V::Chance(p) => {
                line.bool(key, rng.chance(p));
            }
            V::OneOf(list) => {
                line.str(key, rng.one(list));
            }
        }
    }
}

/// A local calendar day: its number since 1970-01-01 and its date.
struct Day {
    n: i64,
    date: NaiveDate,
}

impl Day {
    fn weekday(&self) -> i64 {
        i64::from(self.date.weekday().num_days_from_monday())
    }
}

fn date_of(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date") + chrono::Days::new(n as u64)
}

fn day_number(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")).num_days()
}

impl Subject {
    /// The events of the day starting at `day_start` (local midnight); `first` adds `opened`.
    pub fn day(&mut self, world: &World, day_start: i64, first: bool) -> Events {
        let mut ev = Events::default();
        let rng = &mut self.rng;
        if first {
            let line = ev.at(day_start, "opened");
            put(line, self.spec.opened, rng);
            if let Some(p) = self.project {
                line.str("project", &world.projects[p]);
            }
        }
        let n = (day_start + i64::from(OFFSET_SECONDS)).div_euclid(DAY);
        let day = Day {
            n,
            date: date_of(n),
        };
        for (i, d) in self.spec.duties.iter().enumerate() {
            match d.when {
                When::Custom(f) => {
                    f(rng, &mut self.custom[i], day_start, &mut ev);
                    continue;
                }
                When::Windows(list) => {
                    windows(d, list, rng, day_start, &mut ev);
                    continue;
                }
                _ => {}
            }
            if let Some(t) = plan(d, &mut self.plan[i], &day, rng, first) {
                let at = day_start + t;
                put(ev.at(at, d.event), d.attrs, rng);
            }
        }
        ev
    }
}

/// Whether the duty is done today, and at what second of the day.
fn plan(
    d: &Duty,
    st: &mut (i64, Option<i64>),
    day: &Day,
    rng: &mut Rng,
    first: bool,
) -> Option<i64> {
    let at_hours = |rng: &mut Rng, (from, to): (i64, i64)| rng.range(from * HOUR, to * HOUR - 1);
    match d.when {
        When::Daily { hours } => (!rng.chance(d.miss)).then(|| at_hours(rng, hours)),
        When::Workdays { hours } => {
            (day.weekday() < 5 && !rng.chance(d.miss)).then(|| at_hours(rng, hours))
        }
        // Written by `Subject::day` itself (several events a day, or a pattern of their own).
        When::Windows(_) | When::Custom(_) => None,
        When::Gap { days, hours } => {
            if first {
                st.1 = Some(day.n + rng.range(0, days / 4));
            }
            if st.1 != Some(day.n) {
                return None;
            }
            let next = if rng.chance(d.miss) {
                days + rng.range(1, days / 2)
            } else {
                days - rng.range(1, 3)
            };
            st.1 = Some(day.n + next);
            Some(at_hours(rng, hours))
        }
        When::Weekly { days, hours } => {
            let key = day.n - day.weekday();
            calendar(d, st, day, rng, key, key + days.0, key + days.1, hours)
        }
        When::Monthly { hours } => {
            let key = i64::from(day.date.year()) * 12 + i64::from(day.date.month0());
            let start = day.n - i64::from(day.date.day0());
            calendar(d, st, day, rng, key, start, start + 24, hours)
        }
        When::Quarterly { hours } => {
            let q = day.date.month0() / 3;
            let key = i64::from(day.date.year()) * 4 + i64::from(q);
            let first_day = NaiveDate::from_ymd_opt(day.date.year(), q * 3 + 1, 1).expect("a date");
            let start = day_number(first_day);
            calendar(d, st, day, rng, key, start, start + 69, hours)
        }
        When::Yearly { from, to, hours } => {
            let y = day.date.year();
            let key = i64::from(y);
            let (mut lo, mut hi) = (
                day_number(NaiveDate::from_ymd_opt(y, from.0, from.1).expect("a date")),
                day_number(NaiveDate::from_ymd_opt(y, to.0, to.1).expect("a date")),
            );
            if st.0 != key && rng.chance(d.off) {
                // Done in the month after the window.
                lo = hi + 1;
                hi += 30;
            }
            calendar(d, st, day, rng, key, lo, hi, hours)
        }
    }
}

/// A duty once per calendar period `key` (which starts or has started today), on a day drawn
/// between `lo` and `hi` (not before today), skipped for the period with the `miss` share.
#[allow(clippy::too_many_arguments)]
fn calendar(
    d: &Duty,
    st: &mut (i64, Option<i64>),
    day: &Day,
    rng: &mut Rng,
    key: i64,
    lo: i64,
    hi: i64,
    hours: (i64, i64),
) -> Option<i64> {
    if st.0 != key {
        st.0 = key;
        let lo = lo.max(day.n);
        st.1 = (hi >= lo && !rng.chance(d.miss)).then(|| rng.range(lo, hi));
    }
    (st.1 == Some(day.n)).then(|| rng.range(hours.0 * HOUR, hours.1 * HOUR - 1))
}

/// The `Windows` duties of a day: once in each window, some in the hour after it, some missed.
pub fn windows(d: &Duty, windows: &[(i64, i64)], rng: &mut Rng, day_start: i64, ev: &mut Events) {
    for &(from, to) in windows {
        if rng.chance(d.miss) {
            continue;
        }
        let t = if rng.chance(d.off) {
            rng.range(to * HOUR + MINUTE, to * HOUR + HOUR - 1)
        } else {
            rng.range(from * HOUR, to * HOUR - MINUTE)
        };
        put(ev.at(day_start + t, d.event), d.attrs, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The days (numbers since 1970-01-01) on which a duty is done over 2026, and its times.
    fn run(d: &Duty) -> Vec<(i64, i64)> {
        let mut rng = Rng::new(9, 1);
        let mut st = (i64::MIN, None);
        let first = day_number(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let mut out = Vec::new();
        for n in first..first + 365 {
            let day = Day {
                n,
                date: date_of(n),
            };
            if let Some(t) = plan(d, &mut st, &day, &mut rng, n == first) {
                out.push((n, t));
            }
        }
        out
    }

    #[test]
    fn a_calendar_duty_never_missed_is_done_once_in_each_period() {
        let monthly = duty("x", &[], When::Monthly { hours: (9, 17) }, 0);
        let months: Vec<u32> = run(&monthly)
            .iter()
            .map(|(n, _)| date_of(*n).month())
            .collect();
        assert_eq!(months, (1..=12).collect::<Vec<_>>());
        let weekly = duty(
            "x",
            &[],
            When::Weekly {
                days: (5, 6),
                hours: (14, 17),
            },
            0,
        );
        let done = run(&weekly);
        // 2026 has 52 weekends (3-4 January to 26-27 December); the last week's is in 2027.
        assert_eq!(done.len(), 52);
        assert!(done.iter().all(|(n, t)| {
            date_of(*n).weekday().num_days_from_monday() >= 5 && (14 * HOUR..17 * HOUR).contains(t)
        }));
        let quarterly = duty("x", &[], When::Quarterly { hours: (9, 17) }, 0);
        assert_eq!(run(&quarterly).len(), 4);
    }

    #[test]
    fn a_missed_share_skips_whole_periods() {
        let daily = duty("x", &[], When::Daily { hours: (8, 9) }, 100);
        let n = run(&daily).len();
        assert!((300..=350).contains(&n), "{n} of 365 days");
        let never = duty("x", &[], When::Monthly { hours: (8, 9) }, 1000);
        assert!(run(&never).is_empty());
    }

    #[test]
    fn a_gap_duty_keeps_its_gap_unless_late() {
        let kept = duty(
            "x",
            &[],
            When::Gap {
                days: 30,
                hours: (9, 17),
            },
            0,
        );
        let days: Vec<i64> = run(&kept).iter().map(|d| d.0).collect();
        assert!(days.len() >= 12);
        assert!(days.windows(2).all(|w| w[1] - w[0] < 30), "{days:?}");
        let late = duty(
            "x",
            &[],
            When::Gap {
                days: 30,
                hours: (9, 17),
            },
            1000,
        );
        let days: Vec<i64> = run(&late).iter().map(|d| d.0).collect();
        assert!(days.windows(2).all(|w| w[1] - w[0] > 30), "{days:?}");
    }

    #[test]
    fn a_yearly_window_is_kept_unless_off() {
        let ac = duty(
            "x",
            &[],
            When::Yearly {
                from: (4, 1),
                to: (5, 31),
                hours: (9, 17),
            },
            0,
        );
        let done = run(&ac);
        assert_eq!(done.len(), 1);
        assert!(matches!(date_of(done[0].0).month(), 4 | 5));
        let off = Duty { off: 1000, ..ac };
        let done = run(&off);
        assert_eq!(done.len(), 1);
        assert_eq!(date_of(done[0].0).month(), 6);
    }

    #[test]
    fn windows_are_kept_unless_off_and_every_subject_says_its_kind() {
        let d = duty("cleaned", &[], When::Windows(&[(7, 9), (13, 14)]), 0);
        let mut rng = Rng::new(1, 2);
        let mut ev = Events::default();
        for day in 0..50 {
            windows(&d, &[(7, 9), (13, 14)], &mut rng, day * DAY, &mut ev);
        }
        assert_eq!(ev.list.len(), 100);
        assert!(ev.list.iter().all(|(t, _)| {
            let s = t.rem_euclid(DAY);
            (7 * HOUR..9 * HOUR).contains(&s) || (13 * HOUR..14 * HOUR).contains(&s)
        }));
        for spec in PER_PROJECT.iter().chain(PER_STREAM) {
            assert!(
                spec.opened.first().is_some_and(|a| a.0 == "kind"),
                "{}",
                spec.short
            );
            assert!(spec.count > 0 && !spec.duties.is_empty(), "{}", spec.short);
        }
    }
}
