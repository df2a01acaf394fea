//! The laws of business-time arithmetic, on random calendars (random working periods, holidays
//! and make-up days, in zones with and without daylight saving) and random instants over
//! 2025–2027. Case counts stay moderate: each case walks many dates.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use pledge::calendar::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Zones with no daylight saving, ordinary DST, half-hour offsets, a half-hour DST change
/// (Lord Howe) and clocks that jump at midnight (Santiago), so dates themselves start late.
const ZONES: [Tz; 6] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
];

const MINUTES_2025_TO_2027: i64 = 3 * 365 * 24 * 60;

fn epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("epoch")
        .with_timezone(&Utc)
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
}

/// A day's hours from a set of quarter-hour marks: consecutive pairs are periods; 96 is 24:00.
fn periods_from_marks(marks: &BTreeSet<u32>) -> Vec<Period> {
    let marks: Vec<u32> = marks.iter().copied().collect();
    marks
        .chunks_exact(2)
        .map(|pair| {
            let time = |mark: u32| NaiveTime::from_hms_opt(mark / 4, mark % 4 * 15, 0);
            Period::new(
                time(pair[0]).expect("mark below 96"),
                if pair[1] == 96 { None } else { time(pair[1]) },
            )
        })
        .collect()
}

fn calendar_strategy() -> impl Strategy<Value = Calendar> {
    let week = proptest::array::uniform7(proptest::collection::btree_set(0u32..=96, 0..=6));
    let holidays = proptest::collection::btree_set(0u64..1095, 0..40);
    // Make-up days: (week number, Saturday or Sunday) from the first Saturday of 2025.
    let makeup = proptest::collection::btree_set((0u64..156, any::<bool>()), 0..8);
    (0..ZONES.len(), week, holidays, makeup).prop_map(|(zone, week, holidays, makeup)| {
        let mut spec = CalendarSpec::new("random", ZONES[zone]);
        spec.week = week.map(|marks| periods_from_marks(&marks));
        if spec.week.iter().all(Vec::is_empty) {
            spec.week[0] = vec!["09:00-17:00".parse().expect("period")];
        }
        spec.holidays = holidays
            .into_iter()
            .map(|offset| first_day() + chrono::Days::new(offset))
            .collect();
        let first_saturday = NaiveDate::from_ymd_opt(2025, 1, 4).expect("date");
        spec.makeup_days = makeup
            .into_iter()
            .map(|(week, sunday)| first_saturday + chrono::Days::new(week * 7 + u64::from(sunday)))
            .collect();
        spec.workday_length = Some(Duration::hours(8));
        Calendar::new(spec).expect("random calendar is valid")
    })
}

/// Daylight-saving changes of the zones above in 2025–2026, as UTC dates; instants in the
/// three days before one of them make the random cases cross it often.
const CHANGES: [&str; 14] = [
    "2025-03-09", "2025-11-02", "2026-03-08", "2026-11-01", // New York
    "2025-03-30", "2025-10-26", "2026-03-29", "2026-10-25", // Berlin
    "2025-04-05", "2025-10-04", // Lord Howe
    "2025-04-06", "2025-09-07", "2026-04-05", "2026-09-06", // Santiago
];

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let anywhere = (0..MINUTES_2025_TO_2027).prop_map(|minutes| epoch() + Duration::minutes(minutes));
    let near_a_change = (0..CHANGES.len(), 0i64..3 * 24 * 60).prop_map(|(change, minutes)| {
        let date = NaiveDate::parse_from_str(CHANGES[change], "%Y-%m-%d").expect("date");
        let midnight = date.and_time(NaiveTime::MIN).and_utc() + Duration::days(1);
        midnight - Duration::minutes(minutes)
    });
    prop_oneof![anywhere, near_a_change]
}

/// Up to 60 hours of working time, in minutes: enough to cross weeks on sparse calendars.
fn amount() -> impl Strategy<Value = Duration> {
    (0i64..=60 * 60).prop_map(Duration::minutes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn add_working_is_monotone(
        calendar in calendar_strategy(),
        start in instant(),
        a in amount(),
        b in amount(),
    ) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(calendar.add_working(start, small) <= calendar.add_working(start, large));
    }

    #[test]
    fn add_working_is_additive(
        calendar in calendar_strategy(),
        start in instant(),
        a in amount(),
        b in amount(),
    ) {
        let start = calendar.next_working_moment(start);
        prop_assert!(calendar.is_working_moment(start));
        let stepwise = calendar.add_working(calendar.add_working(start, a), b);
        prop_assert_eq!(stepwise, calendar.add_working(start, a + b));
    }

    #[test]
    fn working_between_inverts_add_working(
        calendar in calendar_strategy(),
        start in instant(),
        amount in amount(),
    ) {
        let due = calendar.add_working(start, amount);
        prop_assert!(due >= start);
        prop_assert_eq!(calendar.working_between(start, due), amount);
    }

    #[test]
    fn add_working_lands_in_working_time_or_at_a_close(
        calendar in calendar_strategy(),
        start in instant(),
        amount in amount(),
    ) {
        let due = calendar.add_working(start, amount);
        if amount == Duration::zero() {
            prop_assert_eq!(due, start);
        } else {
            let at_a_close = calendar.is_working_moment(due - Duration::seconds(1));
            prop_assert!(calendar.is_working_moment(due) || at_a_close, "due {due}");
            // Earliest: a moment earlier, the amount was not yet reached.
            let before = due - Duration::seconds(1);
            if before >= start {
                prop_assert!(calendar.working_between(start, before) < amount);
            }
        }
    }

    #[test]
    fn working_between_is_additive(
        calendar in calendar_strategy(),
        a in instant(),
        b in instant(),
        c in instant(),
    ) {
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(
            calendar.working_between(a, c),
            calendar.working_between(a, b) + calendar.working_between(b, c)
        );
        prop_assert_eq!(calendar.working_between(c, a), Duration::zero());
    }

    #[test]
    fn next_working_moment_is_the_first_working_moment(
        calendar in calendar_strategy(),
        t in instant(),
    ) {
        let next = calendar.next_working_moment(t);
        prop_assert!(next >= t);
        prop_assert!(calendar.is_working_moment(next));
        prop_assert_eq!(calendar.working_between(t, next), Duration::zero());
        prop_assert_eq!(next == t, calendar.is_working_moment(t));
    }

    #[test]
    fn same_day_ends_a_working_day_after_the_start(
        calendar in calendar_strategy(),
        t in instant(),
    ) {
        let end = calendar.end_of_working_day(t);
        prop_assert!(end > t);
        prop_assert!(calendar.is_working_moment(end - Duration::seconds(1)));
        // Nothing of the working day is left after its end on the same date's intervals.
        let last = calendar
            .working_intervals((end - Duration::seconds(1)).with_timezone(&calendar.zone).date_naive())
            .last()
            .map(|&(_, close)| close);
        prop_assert!(last.is_none() || last == Some(end), "end {end}, last {last:?}");
    }

    #[test]
    fn next_at_is_strictly_after_and_within_a_day(
        calendar in calendar_strategy(),
        t in instant(),
        minutes in 0u32..1440,
    ) {
        let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).expect("time");
        let any_day = calendar.next_at(t, time, false);
        prop_assert!(any_day > t);
        prop_assert!(any_day - t <= Duration::hours(26), "{t} -> {any_day}");
        let workday = calendar.next_at(t, time, true);
        prop_assert!(workday >= any_day);
    }
}
