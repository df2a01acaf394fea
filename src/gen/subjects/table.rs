//! The tables of subject types: what each project has, and what the stream has once, with
//! their duties and schedules (see the parent module for what a `Spec`, `Duty` and `When` say).
//! A new subject type is one `Spec` here; a new duty one line in a spec.

use super::{duty, CustomState, Duty, Spec, When, V};
use crate::gen::cases::Events;
use crate::gen::cover;
use crate::gen::line::{HOUR, MINUTE};
use crate::gen::rng::Rng;

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
            duty("contacted", &[], When::Custom(cover::storm_check), 0),
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
            duty("contacted", &[], When::Custom(cover::storm_check), 0),
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
        duties: &[duty("raised", &[], When::Custom(cover::warnings), 0)],
    },
    Spec {
        short: "hotline",
        opened: &[("kind", V::S("post")), ("post", V::S("hotline"))],
        count: 1,
        duties: &[duty("shift_started", &[], When::Custom(cover::hotline), 0)],
    },
    Spec {
        short: "repairline",
        opened: &[("kind", V::S("post")), ("post", V::S("repair_line"))],
        count: 1,
        duties: &[duty(
            "shift_started",
            &[],
            When::Custom(cover::repair_line),
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
            When::Custom(cover::duty_room),
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
            When::Custom(cover::locksmith),
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
            When::Custom(cover::flood_duty),
            0,
        )],
    },
];

/// Typhoon season on a basement or rooftop: patrolled about every hour while a typhoon
/// warning of the stream's feed is up (`cover::warning_on`), from shortly after it is raised
/// until it is lifted, some patrols late.
fn typhoon_watch(rng: &mut Rng, _st: &mut CustomState, day_start: i64, ev: &mut Events) {
    let Some(w) = cover::warning_on(day_start).filter(|w| w.typhoon) else {
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
