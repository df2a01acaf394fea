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

mod table;

pub use table::{PER_PROJECT, PER_STREAM};

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

/// A duty done in its window (`off` 0), skipped with its `miss` share.
const fn duty(event: &'static str, attrs: &'static [Attr], when: When, miss: u32) -> Duty {
    Duty {
        event,
        attrs,
        when,
        miss,
        off: 0,
    }
}

/// The state a `Custom` duty keeps between days.
#[derive(Default)]
pub struct CustomState {
    /// Whether the subject's first day is behind it (posts start their first shift then).
    pub begun: bool,
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
