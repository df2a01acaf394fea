//! The life of one ticket, kind by kind: which events happen, with which attributes, and after
//! which delays.
//!
//! Delays are drawn so that every deadline of `bench/wallclock.pledge` and of the shipped
//! `policies/` gets both met and breached cases: most steps happen a little before the
//! tightest limit on them, a share happens later, log-uniformly up to several times the
//! loosest one (so that each limit in between is crossed by some cases), and a few never
//! happen (breached, or pending near the end of the stream).
//!
//! Reopens: a case is reopened only after a revisit that found the customer dissatisfied,
//! that is after its contact, its resolution and its revisit. Every clock of the case was then
//! stopped, so each cycle's events lie between two reopens. The SQL peer of the benchmark
//! relies on this (and checks it).

mod short;

use super::line::{Line, DAY, HOUR, MINUTE};
use super::rng::Rng;
use short::{activity, alarm, emergency, litter, move_in, notice, simple, weather_alert};
use std::collections::VecDeque;

/// The events of one case, not yet in time order; times are Unix seconds.
#[derive(Default)]
pub struct Events {
    pub list: Vec<(i64, Line)>,
}

impl Events {
    pub fn at(&mut self, t: i64, kind: &'static str) -> &mut Line {
        self.list.push((t, Line::new(kind)));
        &mut self.list.last_mut().expect("just pushed").1
    }

    /// The time of the latest event so far.
    pub fn last(&self) -> i64 {
        self.list.iter().map(|e| e.0).max().unwrap_or(0)
    }
}

/// A delay in seconds: usually up to `typical` (but at least a fifth of it), with `late` per
/// mille drawn log-uniformly between `typical` and `max`.
pub fn delay(rng: &mut Rng, typical: i64, late: u32, max: i64) -> i64 {
    if rng.chance(late) {
        rng.log_uniform(typical + 1, max)
    } else {
        rng.range((typical / 5).max(1), typical)
    }
}

/// What the cases of a stream share: projects and the recent complaints that a new complaint
/// may repeat (same unit and topic).
pub struct World {
    pub projects: Vec<String>,
    recent_complaints: VecDeque<(usize, String, &'static str)>,
}

/// Projects named after typical residential estates; a shopping centre is the last one.
const PROJECT_NAMES: &[&str] = &[
    "jindi", "lanting", "binjiang", "xishan", "huayuan", "jinqiao", "yuefu", "donghu", "taoyuan",
    "mingdu", "qingyuan", "shuian",
];

/// How many complaints are remembered as candidates for a repeat complaint.
const RECENT_COMPLAINTS: usize = 64;

impl World {
    /// `count` projects; the last one is the shopping centre `mall`.
    pub fn new(count: usize) -> World {
        let count = count.max(1);
        let mut projects: Vec<String> = (0..count - 1)
            .map(|i| {
                let name = PROJECT_NAMES[i % PROJECT_NAMES.len()];
                match i / PROJECT_NAMES.len() {
                    0 => name.to_string(),
                    n => format!("{name}-{}", n + 1),
                }
            })
            .collect();
        projects.push("mall".to_string());
        World {
            projects,
            recent_complaints: VecDeque::new(),
        }
    }

    fn mall(&self) -> usize {
        self.projects.len() - 1
    }

    pub fn unit(rng: &mut Rng) -> String {
        format!(
            "{}-{}-{}{:02}",
            rng.range(1, 24),
            rng.range(1, 3),
            rng.range(1, 32),
            rng.range(1, 4)
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Repair,
    Complaint,
    Inquiry,
    Help,
    Suggestion,
    Dispute,
    Emergency,
    Notice,
    Litter,
    Loan,
    MoveIn,
    Activity,
    Alarm,
    WeatherAlert,
}

/// Kinds of tickets in per-mille proportions: repairs and enquiries dominate a service desk.
const KINDS: &[(Kind, u32)] = &[
    (Kind::Repair, 360),
    (Kind::Complaint, 170),
    (Kind::Inquiry, 190),
    (Kind::Help, 70),
    (Kind::Suggestion, 50),
    (Kind::Dispute, 30),
    (Kind::Emergency, 20),
    (Kind::Notice, 20),
    (Kind::Litter, 30),
    (Kind::Loan, 20),
    (Kind::MoveIn, 15),
    (Kind::Activity, 5),
    (Kind::Alarm, 15),
    (Kind::WeatherAlert, 5),
];

const REQUEST_CHANNELS: &[(&str, u32)] = &[
    ("phone", 35),
    ("app", 25),
    ("wechat", 20),
    ("front_desk", 10),
    ("voicemail", 5),
    ("letter", 3),
    ("email", 2),
];

const TEAMS: &[&str] = &[
    "engineering",
    "cleaning",
    "security",
    "greening",
    "customer_service",
];

/// The events of one ticket opened at `t0`.
pub fn ticket(world: &mut World, rng: &mut Rng, t0: i64) -> Events {
    let kind = rng.pick(KINDS);
    let mut ev = Events::default();
    let project = if rng.chance(120) {
        world.mall()
    } else {
        rng.below(world.projects.len() as u64) as usize
    };
    match kind {
        Kind::Repair
        | Kind::Complaint
        | Kind::Inquiry
        | Kind::Help
        | Kind::Suggestion
        | Kind::Dispute => request(world, rng, &mut ev, kind, project, t0),
        Kind::Emergency => emergency(world, rng, &mut ev, project, t0),
        Kind::Notice => notice(world, rng, &mut ev, project, t0),
        Kind::Litter => litter(world, rng, &mut ev, project, t0),
        Kind::Loan => simple(
            world,
            rng,
            &mut ev,
            project,
            t0,
            "loan",
            "returned",
            20 * HOUR,
        ),
        Kind::MoveIn => move_in(world, rng, &mut ev, project, t0),
        Kind::Activity => activity(world, rng, &mut ev, project, t0),
        Kind::Alarm => alarm(world, rng, &mut ev, project, t0),
        Kind::WeatherAlert => weather_alert(world, rng, &mut ev, project, t0),
    }
    ev
}

/// A customer request: repair, complaint, enquiry, help, suggestion or neighbour dispute.
fn request(world: &mut World, rng: &mut Rng, ev: &mut Events, kind: Kind, project: usize, t0: i64) {
    let channel = rng.pick(REQUEST_CHANNELS);
    let bot = matches!(channel, "app" | "wechat") && rng.chance(400);
    let mut unit = World::unit(rng);
    let (kind_name, category, severity) = match kind {
        Kind::Repair => {
            let severity = rng.pick(&[("minor", 55), ("medium", 25), ("major", 8), ("urgent", 12)]);
            let category = if severity == "urgent" && rng.chance(800) {
                rng.one(&["water", "power", "gas"])
            } else {
                rng.one(&[
                    "plumbing",
                    "electrical",
                    "door",
                    "lock",
                    "lighting",
                    "lift",
                    "wall",
                    "water",
                ])
            };
            ("repair", category, Some(severity))
        }
        Kind::Complaint => {
            let category = rng.pick(&[
                ("facility", 25),
                ("hygiene", 20),
                ("service_quality", 15),
                ("service", 15),
                ("service_attitude", 10),
                ("noise", 10),
                ("parking", 5),
            ]);
            let severity = rng.pick(&[("normal", 85), ("urgent", 12), ("critical", 3)]);
            ("complaint", category, Some(severity))
        }
        Kind::Inquiry => {
            let category = rng.pick(&[
                ("fee", 30),
                ("renovation", 20),
                ("pet", 10),
                ("parking", 15),
                ("general", 25),
            ]);
            let severity = rng.pick(&[("normal", 90), ("urgent", 10)]);
            ("inquiry", category, Some(severity))
        }
        Kind::Help => {
            let category = rng.pick(&[
                ("medical", 12),
                ("lost_key", 25),
                ("elderly", 20),
                ("moving", 15),
                ("other", 28),
            ]);
            ("help", category, None)
        }
        Kind::Suggestion => {
            let category = rng.one(&["greening", "facility", "activity", "security"]);
            let severity = rng.pick(&[("normal", 95), ("urgent", 5)]);
            ("suggestion", category, Some(severity))
        }
        _ => (
            "dispute",
            rng.one(&["noise", "parking", "leak", "pets"]),
            None,
        ),
    };
    // A repeat complaint: the same unit and topic as a recent one of the same project.
    let mut topic = category;
    if kind == Kind::Complaint {
        let repeat = world
            .recent_complaints
            .iter()
            .rev()
            .find(|c| c.0 == project)
            .filter(|_| rng.chance(80))
            .cloned();
        if let Some((_, u, t)) = repeat {
            unit = u;
            topic = t;
        } else {
            if world.recent_complaints.len() == RECENT_COMPLAINTS {
                world.recent_complaints.pop_front();
            }
            world
                .recent_complaints
                .push_back((project, unit.clone(), topic));
        }
    }
    let cross_department = kind == Kind::Complaint && rng.chance(150);
    let complex = kind == Kind::Complaint && category == "facility" && rng.chance(300);
    let in_mall = project == world.mall();
    let opened = ev.at(t0, "opened");
    opened.str("kind", kind_name).str("category", category);
    if let Some(s) = severity {
        opened.str("severity", s);
    }
    opened
        .str("channel", channel)
        .str("project", &world.projects[project])
        .str("unit", &unit);
    if kind == Kind::Complaint {
        opened.str("topic", topic);
    }
    if bot {
        opened.str("handled_by", "bot");
    }
    if cross_department {
        opened.bool("cross_department", true);
    }
    if complex {
        opened.bool("complex", true);
    }
    if kind == Kind::Repair {
        opened.str("scope", if rng.chance(300) { "public" } else { "private" });
    }
    if kind == Kind::Help && category == "elderly" && rng.chance(500) {
        opened.str("segment", "empty_nest");
    }
    if kind == Kind::Complaint && in_mall {
        opened.str(
            "cause",
            rng.pick(&[("external", 30), ("facility", 40), ("other", 30)]),
        );
        if rng.chance(250) {
            opened.bool("affects_trading", true);
        }
    }

    acknowledge(rng, ev, t0, channel, bot, kind == Kind::Repair);

    let urgent = severity == Some("urgent");
    let mut contacted = None;
    let mut after = t0; // resolution comes after the steps that lead to it
    if kind == Kind::Complaint && category != "service" && !rng.chance(30) {
        let t = t0 + delay(rng, 50 * MINUTE, 150, 8 * HOUR);
        contact(rng, ev, t, category);
        contacted = Some(t);
        after = after.max(t);
    }
    // Dispatch and acceptance: all repairs, most complaints, urgent requests.
    let dispatch = match kind {
        Kind::Repair => !rng.chance(20),
        Kind::Complaint => rng.chance(700),
        _ => urgent && rng.chance(900),
    };
    if dispatch {
        let t = t0
            + if cross_department {
                delay(rng, 20 * HOUR, 200, 8 * DAY)
            } else {
                delay(rng, 8 * MINUTE, 150, 3 * HOUR)
            };
        ev.at(t, "dispatched").str("to", rng.one(TEAMS));
        after = after.max(t);
        if kind == Kind::Complaint && category == "service" && !rng.chance(30) {
            let t2 = t + delay(rng, 3 * HOUR, 200, 2 * DAY);
            contact(rng, ev, t2, category);
            contacted = Some(t2);
            after = after.max(t2);
        }
        if !rng.chance(30) {
            let t2 = t + delay(rng, 12 * MINUTE, 120, 2 * HOUR);
            ev.at(t2, "accepted").str("by", "team_leader");
            after = after.max(t2);
        }
    } else if cross_department && rng.chance(500) {
        let t = t0 + delay(rng, 20 * HOUR, 200, 8 * DAY);
        ev.at(t, "updated").str("responsible", rng.one(TEAMS));
    }
    // On site.
    let arrive = kind == Kind::Repair
        || (kind == Kind::Complaint && category == "hygiene")
        || (kind == Kind::Help && category == "medical")
        || (urgent && dispatch);
    if arrive && !rng.chance(30) {
        let typical = if kind == Kind::Help || urgent {
            4 * MINUTE
        } else if kind == Kind::Complaint {
            25 * MINUTE
        } else {
            2 * HOUR
        };
        let t = t0 + delay(rng, typical, 150, (typical * 12).max(4 * HOUR));
        let by = if kind == Kind::Complaint {
            rng.pick(&[("cleaning_supervisor", 85), ("cleaner", 15)])
        } else {
            "technician"
        };
        ev.at(t, "arrived").str("by", by);
        after = after.max(t);
    }
    if kind == Kind::Help && category == "medical" {
        for audience in ["ambulance_120", "security_on_duty", "relatives"] {
            if !rng.chance(100) {
                let t = t0 + delay(rng, 3 * MINUTE, 150, HOUR);
                ev.at(t, "notified")
                    .str("audience", audience)
                    .str("channel", "phone");
            }
        }
    }
    // Engineering's first diagnosis and written plan for facility complaints.
    if kind == Kind::Complaint && category == "facility" && !rng.chance(50) {
        let t = t0 + delay(rng, 100 * MINUTE, 150, 10 * HOUR);
        ev.at(t, "progress")
            .str("by", "engineering")
            .str("channel", "phone")
            .bool("plan", true);
    }
    if complex && !rng.chance(50) {
        let t = t0 + delay(rng, 40 * HOUR, 150, 8 * DAY);
        ev.at(t, "planned").bool("written", !rng.chance(80));
    }
    if kind == Kind::Dispute && !rng.chance(40) {
        let t = t0 + delay(rng, 20 * HOUR, 150, 5 * DAY);
        ev.at(t, "mediated").str("by", "customer_service");
        after = after.max(t);
    }
    // A reclassification: a repair turns out bigger than reported.
    if kind == Kind::Repair && severity == Some("minor") && rng.chance(50) {
        let t = t0 + delay(rng, 2 * HOUR, 100, 6 * HOUR);
        ev.at(t, "updated").str("severity", "medium");
    }
    // How long the fix takes.
    let (typical, late, max) = match (kind, severity, category) {
        (Kind::Repair, Some("minor"), _) => (7 * HOUR, 150, 3 * DAY),
        (Kind::Repair, Some("medium"), _) => (60 * HOUR, 150, 10 * DAY),
        (Kind::Repair, Some("major"), _) => (6 * DAY, 300, 30 * DAY),
        (Kind::Repair, _, _) => (100 * MINUTE, 150, 12 * HOUR),
        (Kind::Complaint, _, "hygiene") => (3 * HOUR, 150, 2 * DAY),
        (Kind::Complaint, _, "service_quality") => (4 * HOUR, 200, 3 * DAY),
        (Kind::Complaint, _, _) => (22 * HOUR, 200, 9 * DAY),
        (Kind::Inquiry, _, _) => (20 * HOUR, 200, 7 * DAY),
        (Kind::Help, _, _) => (3 * HOUR, 150, 2 * DAY),
        _ => (30 * HOUR, 200, 8 * DAY),
    };
    let (typical, late, max) = if kind == Kind::Complaint && ev_flag(ev, "affects_trading") {
        (50 * MINUTE, 200, 8 * HOUR)
    } else {
        (typical, late, max)
    };
    let mut resolved = if rng.chance(25) {
        None
    } else {
        Some((t0 + delay(rng, typical, late, max)).max(after + rng.range(60, 20 * MINUTE)))
    };
    // Replies along the way (initial feedback, written replies, daily updates).
    let reply_channel = |rng: &mut Rng| -> &'static str {
        match (kind, category, channel) {
            (Kind::Inquiry, _, "letter") => "letter",
            (Kind::Inquiry, "renovation" | "pet", _) => {
                rng.pick(&[("letter", 20), ("email", 20), ("app", 40), ("phone", 20)])
            }
            _ => rng.pick(&[("phone", 50), ("app", 30), ("wechat", 20)]),
        }
    };
    if !rng.chance(80) {
        let (typical, late, max) = match (kind, channel) {
            (Kind::Inquiry, "letter") => (30 * HOUR, 200, 6 * DAY),
            (Kind::Inquiry, _) => (90 * MINUTE, 150, 3 * DAY),
            _ => (10 * HOUR, 150, 5 * DAY),
        };
        let t = t0 + delay(rng, typical, late, max);
        let c = reply_channel(rng);
        ev.at(t, "progress").str("channel", c);
    }
    if kind == Kind::Repair && matches!(severity, Some("medium" | "major")) {
        if let Some(end) = resolved {
            let mut t = t0 + rng.range(16 * HOUR, 26 * HOUR);
            while t < end {
                ev.at(t, "progress").str("channel", "app");
                t += rng.range(18 * HOUR, 30 * HOUR);
            }
        }
    }
    // Pauses: waiting for the customer's papers or for spare parts.
    let wait = match (kind, category) {
        (Kind::Inquiry, "renovation" | "pet") => Some(("waiting_customer", 300)),
        (Kind::Repair, _) if matches!(severity, Some("medium" | "major")) => {
            Some(("waiting_parts", 200))
        }
        (Kind::Repair | Kind::Complaint, _) => Some(("waiting_customer", 40)),
        _ => None,
    };
    if let Some((status, permille)) = wait {
        if rng.chance(permille) {
            let t = t0 + rng.range(HOUR, 10 * HOUR);
            let back = t + delay(rng, 30 * HOUR, 200, 6 * DAY);
            ev.at(t, "status").str("status", status);
            ev.at(back, "status").str("status", "in_progress");
            if let Some(r) = resolved.as_mut() {
                *r = (*r).max(back + rng.range(HOUR, 8 * HOUR));
            }
        }
    }
    let Some(resolved) = resolved else {
        // Never resolved: most are closed unresolved later (withdrawn, merged), a few stay open.
        if rng.chance(800) {
            let t = ev.last() + rng.range(3 * DAY, 30 * DAY);
            ev.at(t, "closed");
        }
        return;
    };
    resolve(rng, ev, resolved, kind, category, reply_channel);
    let revisits = matches!(
        kind,
        Kind::Repair | Kind::Complaint | Kind::Inquiry | Kind::Suggestion
    );
    let mut last = resolved;
    if revisits {
        let mut satisfied = true;
        if let Some(t) = revisit(rng, ev, resolved, 0) {
            satisfied = ev_last_bool(ev, "satisfied");
            last = t;
        }
        // A dissatisfied revisit reopens some cases: only after the contact, the fix and the
        // revisit, so every clock of the first cycle is stopped (see the module notes).
        let contact_done = kind != Kind::Complaint || contacted.is_some();
        if !satisfied && contact_done && last > resolved && rng.chance(600) {
            let r = last + rng.range(10 * MINUTE, 6 * HOUR);
            ev.at(r, "reopened").str("reason", "dissatisfied");
            if kind == Kind::Complaint && !rng.chance(50) {
                let t = r + delay(rng, 45 * MINUTE, 150, 8 * HOUR);
                contact(rng, ev, t, category);
            }
            if kind == Kind::Repair {
                let t = r + delay(rng, 8 * MINUTE, 150, 3 * HOUR);
                ev.at(t, "dispatched").str("to", "engineering");
            }
            last = r;
            if !rng.chance(40) {
                let t = r + delay(rng, typical, late, max);
                resolve(rng, ev, t, kind, category, reply_channel);
                last = t;
                if let Some(t2) = revisit(rng, ev, t, 1) {
                    last = t2;
                }
            }
        }
    }
    if rng.chance(500) {
        let t = last + rng.range(10 * MINUTE, 2 * DAY);
        let score = rng.pick(&[(5, 45), (4, 30), (3, 13), (2, 7), (1, 5)]);
        ev.at(t, "rated")
            .int("score", score)
            .bool("satisfied", score >= 4);
    }
    spot_check(rng, ev, resolved);
    let t = ev.last() + rng.range(10 * MINUTE, 2 * DAY);
    ev.at(t, "closed");
}

/// The first answer: the bot within seconds, a person within half a minute mostly, a night
/// voicemail before 08:00 next morning mostly.
fn acknowledge(rng: &mut Rng, ev: &mut Events, t0: i64, channel: &str, bot: bool, repair: bool) {
    if rng.chance(20) {
        return;
    }
    let t = if bot {
        t0 + delay(rng, 8, 100, 5 * MINUTE)
    } else if channel == "voicemail" {
        // The first 08:00 (+08:00) strictly after the message.
        let local = t0 + 8 * HOUR;
        let eight = local - local.rem_euclid(DAY) + 8 * HOUR;
        let due = if eight > local { eight } else { eight + DAY } - 8 * HOUR;
        if rng.chance(150) {
            due + rng.log_uniform(MINUTE, 8 * HOUR)
        } else {
            (due - rng.range(0, 3 * HOUR)).max(t0 + 30)
        }
    } else {
        t0 + delay(rng, 28, 150, 4 * HOUR)
    };
    let line = ev.at(t, "acknowledged");
    line.str("by", if bot { "bot" } else { "receptionist" })
        .str("channel", channel);
    if repair && !rng.chance(150) {
        line.str("eta", "within 2 hours")
            .str("contact_phone", "138-0000-0000");
    }
}

fn contact(rng: &mut Rng, ev: &mut Events, t: i64, category: &str) {
    let (by, method) = if category == "service_attitude" {
        (
            rng.pick(&[("department_manager", 80), ("supervisor", 20)]),
            rng.pick(&[("visit", 70), ("phone", 30)]),
        )
    } else {
        (
            rng.pick(&[
                ("receptionist", 60),
                ("supervisor", 30),
                ("building_manager", 10),
            ]),
            "phone",
        )
    };
    ev.at(t, "contacted").str("by", by).str("method", method);
}

fn resolve(
    rng: &mut Rng,
    ev: &mut Events,
    t: i64,
    kind: Kind,
    category: &str,
    reply_channel: impl Fn(&mut Rng) -> &'static str,
) {
    let by = match kind {
        Kind::Repair => "engineering",
        Kind::Complaint if category == "hygiene" => "cleaning",
        _ => "customer_service",
    };
    let ftf = !rng.chance(70);
    let channel = reply_channel(rng);
    let line = ev.at(t, "resolved");
    line.str("by", by);
    if kind == Kind::Repair {
        line.bool("first_time_fix", ftf);
    }
    if kind == Kind::Complaint && category == "hygiene" {
        line.bool("photo", !rng.chance(150));
    }
    if kind == Kind::Inquiry {
        line.str("channel", channel);
    }
}

/// The follow-up after a fix: the receptionist or building manager, mostly within 24 hours.
fn revisit(rng: &mut Rng, ev: &mut Events, resolved: i64, cycle: u32) -> Option<i64> {
    if rng.chance(if cycle == 0 { 70 } else { 100 }) {
        return None;
    }
    let t = resolved + delay(rng, 20 * HOUR, 150, 5 * DAY);
    let satisfied = !rng.chance(if cycle == 0 { 150 } else { 60 });
    ev.at(t, "revisited")
        .str(
            "by",
            rng.pick(&[("receptionist", 60), ("building_manager", 40)]),
        )
        .str(
            "method",
            // One in a hundred is logged as a text message, which is not one of the
            // three methods the standard allows (`revisit_methods`).
            rng.pick(&[("phone", 69), ("visit", 20), ("online", 10), ("sms", 1)]),
        )
        .bool("satisfied", satisfied);
    Some(t)
}

/// Quality control: spot checks by the supervisor (about 20 %), the management department
/// (10 %) and the general office (3 %); a failed check is rectified, mostly within 24 hours.
fn spot_check(rng: &mut Rng, ev: &mut Events, after: i64) {
    for (by, permille) in [
        ("supervisor", 200),
        ("management_dept", 100),
        ("general_office", 30),
    ] {
        if rng.chance(permille) {
            let t = after + rng.range(HOUR, 3 * DAY);
            let passed = !rng.chance(100);
            ev.at(t, "spot_checked")
                .str("by", by)
                .bool("passed", passed);
            if !passed && !rng.chance(50) {
                let t2 = t + delay(rng, 20 * HOUR, 150, 4 * DAY);
                ev.at(t2, "rectified").str("by", "customer_service");
            }
            return;
        }
    }
}

/// Whether the latest event's attributes of the opening include `key: true`.
fn ev_flag(ev: &Events, key: &str) -> bool {
    ev.list.first().is_some_and(|(_, l)| l.has_true(key))
}

/// The boolean `key` of the latest event added.
fn ev_last_bool(ev: &Events, key: &str) -> bool {
    ev.list.last().is_some_and(|(_, l)| l.has_true(key))
}
