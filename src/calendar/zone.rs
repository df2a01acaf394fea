//! Local wall-clock times of an IANA zone as instants, with the rules of SEMANTICS.md ("Time
//! zones") for the times a daylight-saving change makes special:
//! - a local time in a gap (clocks jump forward) does not exist; it *moves forward by the gap*,
//!   i.e. it is read with the offset in force just before the jump (02:30 on the night Berlin
//!   goes from +01:00 to +02:00 is 01:30 UTC, shown as 03:30);
//! - a local time that exists twice (clocks go back) takes its *first* occurrence.
//!
//! Everything returns `Option` instead of panicking: the only failures are instants near the
//! ends of chrono's representable range.

use crate::event::Instant;
use chrono::{Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Step and reach of the search for the offset in force before a gap. Real gaps last an hour or
/// less; the longest on record (Samoa skipping 2011-12-30) lasted a day.
const GAP_PROBE_STEP_MINUTES: i64 = 15;
const GAP_PROBE_STEPS: i64 = 48 * 60 / GAP_PROBE_STEP_MINUTES;

/// The instant of a local wall-clock time (gap: moved forward; repeated: first occurrence).
pub(crate) fn resolve(zone: Tz, local: NaiveDateTime) -> Option<Instant> {
    match zone.offset_from_local_datetime(&local) {
        LocalResult::Single(offset) => at_offset(local, offset.fix()),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (at_offset(local, a.fix())?, at_offset(local, b.fix())?);
            Some(a.min(b))
        }
        LocalResult::None => {
            // Find the latest existing wall time before `local`: its offset is the one in force
            // just before the jump, and reading `local` with it moves it forward by the gap.
            for step in 1..=GAP_PROBE_STEPS {
                let probe =
                    local.checked_sub_signed(Duration::minutes(step * GAP_PROBE_STEP_MINUTES))?;
                match zone.offset_from_local_datetime(&probe) {
                    LocalResult::Single(offset) => return at_offset(local, offset.fix()),
                    LocalResult::Ambiguous(_, later) => return at_offset(local, later.fix()),
                    LocalResult::None => continue,
                }
            }
            None
        }
    }
}

/// The instant at which a local date begins (its first existing moment).
pub(crate) fn start_of(zone: Tz, date: NaiveDate) -> Option<Instant> {
    resolve(zone, date.and_time(NaiveTime::MIN))
}

/// The local date shown on the wall clock at instant `t`.
pub(crate) fn local_date(zone: Tz, t: Instant) -> Option<NaiveDate> {
    let utc = t.naive_utc();
    let offset = zone.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).map(|local| local.date())
}

fn at_offset(local: NaiveDateTime, offset: chrono::FixedOffset) -> Option<Instant> {
    local.checked_sub_offset(offset).map(|utc| utc.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn a_time_in_a_gap_of_a_whole_day_moves_forward_by_the_gap() {
        // Samoa skipped 2011-12-30 entirely, from -10:00 to +14:00: 23:00 that day is read
        // with the offset in force before the jump, found 23 hours and more back.
        let expected = DateTime::parse_from_rfc3339("2011-12-30T23:00:00-10:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            resolve(chrono_tz::Pacific::Apia, local("2011-12-30 23:00")),
            Some(expected)
        );
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test time")
    }

    fn utc(text: &str) -> Instant {
        DateTime::parse_from_rfc3339(text)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn gap_moves_forward_by_the_gap() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            resolve(berlin, local("2026-03-29 02:30")),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        assert_eq!(
            resolve(berlin, local("2026-03-29 02:00")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
        assert_eq!(
            resolve(berlin, local("2026-03-29 03:00")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn repeated_hour_takes_first_occurrence() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            resolve(berlin, local("2026-10-25 02:30")),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            resolve(berlin, local("2026-10-25 03:00")),
            Some(utc("2026-10-25T02:00:00Z"))
        );
    }

    #[test]
    fn a_skipped_date_starts_where_the_next_one_does() {
        // Samoa moved across the date line: 2011-12-30 never happened in Apia.
        let apia = chrono_tz::Pacific::Apia;
        let skipped = NaiveDate::from_ymd_opt(2011, 12, 30).unwrap();
        let next = NaiveDate::from_ymd_opt(2011, 12, 31).unwrap();
        assert_eq!(start_of(apia, skipped), start_of(apia, next));
    }

    #[test]
    fn extremes_do_not_panic() {
        let shanghai = chrono_tz::Asia::Shanghai;
        assert!(local_date(shanghai, DateTime::<Utc>::MAX_UTC).is_none());
        assert!(local_date(shanghai, DateTime::<Utc>::MIN_UTC).is_some());
        assert!(resolve(shanghai, NaiveDateTime::MIN).is_none());
    }
}
