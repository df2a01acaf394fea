//! A seeded generator of realistic ticket event streams (EVENTS.md), for benchmarks, demos and
//! tests: `pledge gen --cases N --seed S`.
//!
//! The same options give the same bytes on every machine and in every version that keeps this
//! module's draws: the generator has its own PRNG (`rng`), draws with integer arithmetic only,
//! and never iterates a hash map.
//!
//! What a stream holds:
//! - tickets of every kind the seed policies know (repairs by severity, complaints by category,
//!   enquiries, help requests, suggestions, disputes, emergencies, notices with channels and
//!   coverage, litter, tool loans, move-ins, activities, fire alarms, weather alerts), in
//!   realistic proportions, opened more by day than by night (`cases`);
//! - per kind a realistic sequence of events with delays drawn so that each deadline has met
//!   and breached cases, pauses (`status` `waiting_customer` / `waiting_parts`), reopenings after
//!   a dissatisfied revisit, ratings and spot checks;
//! - places and equipment with their recurring duties (`assets`);
//! - the events record clauses read: classifications, rulings, follow-ups after a dissatisfied
//!   revisit, storm preparations, housekeeping confirmations and rework (`recitems`);
//! - root-cause analyses on a project's case after a month of urgent repairs below 98 %
//!   closed (`rootcause`).
//!
//! The stream is a snapshot taken at the end of the span: events after it are not written, so
//! cases opened near the end are still running (pending verdicts) and the last event is close
//! to the end of the span.
//!
//! Events are written in time order globally: cases are generated in the order they open and
//! their events wait in a min-heap until every event before them is out, so memory follows the
//! open cases, not the length of the stream. Optionally a fraction of lines is then displaced
//! by a bounded number of lines (`displace`).

mod assets;
mod cases;
mod cover;
mod displace;
mod extras;
mod families;
mod line;
mod periodic;
mod recitems;
mod rng;
mod rootcause;
mod rows;
mod subjects;

use assets::Asset;
use cases::{Events, World};
use displace::Displacer;
use line::{days_from_civil, DAY, HOUR};
use rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// The UTC offset of generated timestamps: +08:00, China Standard Time, which has no daylight
/// saving time.
pub const OFFSET_SECONDS: i32 = 8 * 3600;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Tickets to open over the span (assets come on top).
    pub cases: u64,
    pub seed: u64,
    /// First day of the span (local date in +08:00), as (year, month, day).
    pub start: (i32, u32, u32),
    /// Length of the span in days.
    pub days: u32,
    /// Places and equipment with episodes; `None`: one per 4,000 tickets, between 9 and 90.
    /// `Some(0)` also leaves out the subjects with routine duties (`subjects`), which
    /// otherwise come with every project.
    pub assets: Option<u32>,
    /// Projects (estates) the tickets belong to, the last one a shopping centre; `None`: one per
    /// 20,000 tickets, between 2 and 24.
    pub projects: Option<u32>,
    /// Fraction of lines displaced, `0.0..=1.0`.
    pub shuffle: f64,
    /// How many lines a displaced line moves at most.
    pub max_displacement: u64,
    /// Tickets, per mille, that never get a `closed` event (inquiries answered and left,
    /// abandoned tickets).
    pub never_closed_permille: u32,
    /// Tickets, per mille, that the desk closes shortly after their first resolution, so that
    /// their revisit, rating, spot check and reopen come after `closed` (hours to days later).
    pub close_on_resolve_permille: u32,
}

impl Default for GenOptions {
    /// 1,000 tickets over the year 2026, seed 0, in order.
    fn default() -> Self {
        GenOptions {
            cases: 1000,
            seed: 0,
            start: (2026, 1, 1),
            days: 365,
            assets: None,
            projects: None,
            shuffle: 0.0,
            max_displacement: 0,
            never_closed_permille: 0,
            close_on_resolve_permille: 0,
        }
    }
}

impl GenOptions {
    /// The dense profile: 30 % of tickets never closed, 70 % closed soon after their first
    /// resolution with their follow-ups after `closed`. With `--days 90 --cases 1000000`: a busy
    /// quarter of about 11,000 tickets a day and ten million events (with the other cases and
    /// subjects).
    pub fn dense(self) -> GenOptions {
        GenOptions {
            never_closed_permille: 300,
            close_on_resolve_permille: 700,
            ..self
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Tickets (`--cases`).
    pub cases: u64,
    /// Places and equipment with episodes (`--assets`).
    pub assets: u64,
    /// Organisations, places, equipment and residents with routine duties (`subjects`).
    pub subjects: u64,
    /// Short-lived cases besides tickets: parcels, works, cleaning worksheets, ... (`families`).
    pub services: u64,
    pub events: u64,
    pub bytes: u64,
}

/// Options that cannot be generated from.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("the shuffle fraction must be between 0 and 1, not `{0}`")]
    Shuffle(f64),
    #[error("a shuffle needs `--max-displacement` of at least 1 line")]
    NoDisplacement,
    #[error("the span must be at least one day")]
    NoDays,
    #[error("there must be at least one project")]
    NoProjects,
    #[error("a share of tickets must be between 0 and 1")]
    Share,
    #[error("`{0}-{1:02}-{2:02}` is not a date")]
    Start(i32, u32, u32),
    /// The generator counts days from 1970, and timestamps have four-digit years; follow-ups
    /// come up to a year after the span.
    #[error("the span must lie between 1970 and the end of 9998: {1} day(s) from `{0}` do not")]
    Span(chrono::NaiveDate, u32),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl GenOptions {
    pub fn validate(&self) -> Result<(), GenError> {
        if !(0.0..=1.0).contains(&self.shuffle) {
            return Err(GenError::Shuffle(self.shuffle));
        }
        if self.shuffle > 0.0 && self.max_displacement == 0 {
            return Err(GenError::NoDisplacement);
        }
        if self.days == 0 {
            return Err(GenError::NoDays);
        }
        if self.projects == Some(0) {
            return Err(GenError::NoProjects);
        }
        if self.never_closed_permille > 1000 || self.close_on_resolve_permille > 1000 {
            return Err(GenError::Share);
        }
        let (y, m, d) = self.start;
        let Some(start) = chrono::NaiveDate::from_ymd_opt(y, m, d) else {
            return Err(GenError::Start(y, m, d));
        };
        // The span's last day (`days` is at least 1).
        let last = start.checked_add_days(chrono::Days::new(u64::from(self.days) - 1));
        if y < 1970 || last.is_none_or(|last| chrono::Datelike::year(&last) > 9998) {
            return Err(GenError::Span(start, self.days));
        }
        Ok(())
    }

    fn asset_count(&self) -> u64 {
        match self.assets {
            Some(n) => u64::from(n),
            None => (self.cases / 4000).clamp(9, 90),
        }
    }

    fn project_count(&self) -> usize {
        match self.projects {
            Some(n) => n.max(1) as usize,
            None => (self.cases / 20_000).clamp(2, 24) as usize,
        }
    }
}

/// Separate PRNG streams, so that draws for one purpose never shift those of another.
const STREAM_TIMES: u64 = 1 << 40;
const STREAM_ASSETS: u64 = 2 << 40;
const STREAM_DISPLACE: u64 = 3 << 40;
const STREAM_CLOSING: u64 = 4 << 40;
const STREAM_SUBJECTS: u64 = 5 << 40;
const STREAM_FAMILIES: u64 = 6 << 40;
const STREAM_EXTRAS: u64 = 7 << 40;
/// What the record clauses of `rows` add: per ticket, and per day for places and equipment.
const STREAM_ROWS: u64 = 11 << 40;
const STREAM_ROWS_SUBJECTS: u64 = 12 << 40;
/// The channels of ratings (`periodic::rating_channels`): tickets from `case_no`, other cases
/// from `STREAM_RATINGS + 2^39` on.
const STREAM_RATINGS: u64 = 8 << 40;
const STREAM_RECITEMS: u64 = 0x5245 << 40;
const STREAM_RECITEMS_SERVICES: u64 = 0x5253 << 40;
/// Root-cause analyses (`rootcause`): one stream per month and project.
const STREAM_ROOTCAUSE: u64 = 0x5243 << 40;

/// Relative weight of each hour of the day for opening tickets: quiet at night, busy in the
/// morning and afternoon.
const HOURS: [(i64, u32); 24] = [
    (0, 3),
    (1, 2),
    (2, 1),
    (3, 1),
    (4, 1),
    (5, 2),
    (6, 4),
    (7, 8),
    (8, 12),
    (9, 14),
    (10, 14),
    (11, 12),
    (12, 8),
    (13, 10),
    (14, 13),
    (15, 13),
    (16, 12),
    (17, 11),
    (18, 9),
    (19, 9),
    (20, 8),
    (21, 6),
    (22, 5),
    (23, 4),
];

/// Writes the stream to `out` (buffer it: the generator writes line by line).
pub fn generate<W: Write>(opts: &GenOptions, out: W) -> Result<GenStats, GenError> {
    opts.validate()?;
    let (y, m, d) = opts.start;
    let start = days_from_civil(i64::from(y), m, d) * DAY - i64::from(OFFSET_SECONDS);
    let days = i64::from(opts.days);
    let end = start + days * DAY;
    let mut world = World::new(opts.project_count());
    let mut assets: Vec<Asset> = (0..opts.asset_count())
        .map(|i| Asset::new(i as usize, &world, Rng::new(opts.seed, STREAM_ASSETS + i)))
        .collect();
    // `--assets 0` leaves out every subject with duties, these too.
    let mut subjects = if opts.assets == Some(0) {
        Vec::new()
    } else {
        subjects::all(&world, opts.seed, STREAM_SUBJECTS)
    };
    let mut family_seq = vec![0u64; families::FAMILIES.len()];
    let mut services = 0u64;
    let ppm = (opts.shuffle * 1_000_000.0).round() as u32;
    let mut merge = Merge {
        heap: BinaryHeap::new(),
        seq: 0,
        end,
        out: Displacer::new(
            out,
            Rng::new(opts.seed, STREAM_DISPLACE),
            ppm,
            opts.max_displacement,
        ),
        events: 0,
    };
    let year = y;
    // The project cases that analyse months of urgent repairs below 98 % closed.
    let mut urgent = rootcause::UrgentTally::default();
    let project_cases: Vec<Option<String>> = world
        .projects
        .iter()
        .map(|name| {
            let ticket = format!("S-{name}-project-01");
            subjects
                .iter()
                .any(|s| s.ticket == ticket)
                .then_some(ticket)
        })
        .collect();
    let mut case_no = 0u64;
    let mut times = Vec::new();
    for day in 0..days {
        let day_start = start + day * DAY;
        merge.emit_before(day_start)?;
        for (ticket, ev) in urgent.analyses(&project_cases, opts.seed, STREAM_ROOTCAUSE, day_start)
        {
            merge.push_case(&ticket, ev);
        }
        let mut records = Rng::new(opts.seed, STREAM_ROWS_SUBJECTS + day as u64);
        for asset in &mut assets {
            let mut ev = asset.day(&world, day_start, day == 0);
            rows::maintenance_records(&mut records, &mut ev);
            merge.push_case(&asset.ticket, ev);
        }
        for subject in &mut subjects {
            let mut ev = subject.day(&world, day_start, day == 0);
            rows::maintenance_records(&mut records, &mut ev);
            merge.push_case(&subject.ticket, ev);
        }
        for (i, ev) in families::day(
            &world,
            opts.seed,
            STREAM_FAMILIES,
            opts.cases,
            days as u64,
            day as u64,
            day_start,
        ) {
            let family = &families::FAMILIES[i];
            family_seq[i] += 1;
            services += 1;
            let mut ev = ev;
            periodic::rating_channels(
                &mut Rng::new(opts.seed, STREAM_RATINGS + (1 << 39) + services),
                &mut ev,
            );
            let ticket = format!("F-{year}-{}-{:06}", family.short, family_seq[i]);
            recitems::service(
                &mut Rng::new(opts.seed, STREAM_RECITEMS_SERVICES + services),
                &mut ev,
            );
            merge.push_case(&ticket, ev);
        }
        // This day's share of the tickets, at times drawn from the hourly profile.
        let n = opts.cases * (day as u64 + 1) / days as u64 - opts.cases * day as u64 / days as u64;
        let mut rng = Rng::new(opts.seed, STREAM_TIMES + day as u64);
        times.clear();
        times.extend((0..n).map(|_| day_start + rng.pick(&HOURS) * HOUR + rng.range(0, HOUR - 1)));
        times.sort_unstable();
        for &t in &times {
            merge.emit_before(t)?;
            case_no += 1;
            let mut rng = Rng::new(opts.seed, case_no);
            let mut ev = cases::ticket(&mut world, &mut rng, t);
            extras::enrich(&mut Rng::new(opts.seed, STREAM_EXTRAS + case_no), &mut ev);
            rows::enrich(&mut Rng::new(opts.seed, STREAM_ROWS + case_no), &mut ev);
            periodic::rating_channels(&mut Rng::new(opts.seed, STREAM_RATINGS + case_no), &mut ev);
            recitems::enrich(&mut Rng::new(opts.seed, STREAM_RECITEMS + case_no), &mut ev);
            if opts.never_closed_permille > 0 || opts.close_on_resolve_permille > 0 {
                let mut rng = Rng::new(opts.seed, STREAM_CLOSING + case_no);
                reshape_closing(&mut ev, &mut rng, opts);
            }
            urgent.note(&world, &ev, end);
            let ticket = format!("T-{year}-{case_no:06}");
            merge.push_case(&ticket, ev);
        }
    }
    merge.emit_before(i64::MAX)?;
    let events = merge.events;
    // Lines a shuffle still holds are written by `finish`: count them too.
    let bytes = merge.out.bytes + merge.out.held_bytes();
    merge.out.finish()?;
    Ok(GenStats {
        cases: case_no,
        assets: assets.len() as u64,
        subjects: subjects.len() as u64,
        services,
        events,
        bytes,
    })
}

/// The dense profile's closings: drops a ticket's `closed` events, or moves its first one to
/// shortly after the first resolution (follow-ups keep their times, so they now come after it).
fn reshape_closing(ev: &mut Events, rng: &mut Rng, opts: &GenOptions) {
    if rng.chance(opts.never_closed_permille) {
        ev.list.retain(|(_, line)| line.kind() != "closed");
        return;
    }
    if !rng.chance(opts.close_on_resolve_permille) {
        return;
    }
    let resolved = ev
        .list
        .iter()
        .filter(|(_, line)| line.kind() == "resolved")
        .map(|(at, _)| *at)
        .min();
    let Some(resolved) = resolved else {
        return;
    };
    let early = resolved + rng.range(5 * line::MINUTE, 4 * HOUR);
    let first_closed = ev
        .list
        .iter_mut()
        .filter(|(_, line)| line.kind() == "closed")
        .min_by_key(|(at, _)| *at);
    if let Some((at, _)) = first_closed {
        *at = (*at).min(early);
    }
}

/// The time-ordered merge of the cases' events.
struct Merge<W: Write> {
    heap: BinaryHeap<Reverse<(i64, u64, Vec<u8>)>>,
    /// Generation order, to break ties between cases at the same second.
    seq: u64,
    end: i64,
    out: Displacer<W>,
    events: u64,
}

impl<W: Write> Merge<W> {
    /// Queues a case's events: in time order, each at least a second after the one before (so
    /// that no verdict depends on how ties are broken), and none after the end of the span.
    fn push_case(&mut self, ticket: &str, mut ev: Events) {
        ev.list.sort_by_key(|e| e.0); // stable: generation order breaks ties
        let mut prev = i64::MIN;
        for (at, line) in &ev.list {
            let at = (*at).max(prev.saturating_add(1));
            prev = at;
            if at >= self.end {
                break;
            }
            self.seq += 1;
            self.heap.push(Reverse((
                at,
                self.seq,
                line.finish(ticket, at, OFFSET_SECONDS),
            )));
        }
    }

    /// Writes every queued event earlier than `t`.
    fn emit_before(&mut self, t: i64) -> io::Result<()> {
        while let Some(Reverse((at, _, _))) = self.heap.peek() {
            if *at >= t {
                break;
            }
            let Reverse((_, _, line)) = self.heap.pop().expect("peeked");
            self.events += 1;
            self.out.push(line)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
