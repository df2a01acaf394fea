//! Timestamps of events (`at`): RFC 3339 with a UTC offset, or local times in a named zone.
//!
//! Almost every event of a real stream carries the same shape of timestamp,
//! `YYYY-MM-DDTHH:MM:SS(.fff)?(Z|±HH:MM)`, and the reader parses millions of them, so that shape
//! has a hand-written parser that touches each byte once. Everything else goes to chrono's RFC 3339
//! parser, which decides what is valid; the fast path only ever accepts strings chrono would
//! accept too, with the same meaning.

use crate::event::Instant;
use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use std::cell::Cell;

/// Why a timestamp could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampError {
    /// A valid local date and time without a UTC offset, and no zone was named to interpret it.
    NoOffset,
    /// Not an RFC 3339 timestamp (nor an offset-less one), or a date or time that does not exist.
    Invalid,
    /// An event's instant before [`EARLIEST_EVENT_AT`] ([`parse_event_at`]).
    TooEarly,
    /// An event's instant at or after [`END_OF_EVENT_AT`] ([`parse_event_at`]).
    TooLate,
}

/// The earliest instant an event may carry, 1900-01-01T00:00:00Z, in seconds since 1970. Ticket
/// events do not come from before it; a year mistyped (`0206` for `2026`) would otherwise open
/// periods reaching back eighteen centuries, each one listed by period reports, and zones before
/// it keep local mean time, offsets in seconds that RFC 3339 cannot write back.
pub const EARLIEST_EVENT_AT: i64 = -2_208_988_800;

/// The first instant an event may no longer carry, 3000-01-01T00:00:00Z, in seconds since 1970:
/// the bound [`EARLIEST_EVENT_AT`] sets on the other side. A year mistyped into the far future
/// (`9026` for `2026`) would otherwise be judged like any event, and an instant past 9999, or a
/// due time up to a century after it, has no RFC 3339 form to be written back in.
pub const END_OF_EVENT_AT: i64 = 32_503_680_000;

/// [`parse_timestamp`] for an event's `at`: an instant before [`EARLIEST_EVENT_AT`] or from
/// [`END_OF_EVENT_AT`] on is refused.
pub fn parse_event_at(s: &str, tz: Option<Tz>) -> Result<Instant, TimestampError> {
    let at = parse_timestamp(s, tz)?;
    event_at_in_range(at)
}

/// `at` if an event may carry it (see [`EARLIEST_EVENT_AT`] and [`END_OF_EVENT_AT`]).
pub fn event_at_in_range(at: Instant) -> Result<Instant, TimestampError> {
    match at.timestamp() {
        t if t < EARLIEST_EVENT_AT => Err(TimestampError::TooEarly),
        t if t >= END_OF_EVENT_AT => Err(TimestampError::TooLate),
        _ => Ok(at),
    }
}

/// Parses an event timestamp into a UTC instant.
///
/// Accepted: RFC 3339 (`2026-03-02T09:15:00+08:00`, `…Z`, fractional seconds, a lowercase `t`
/// or `z`, and the space RFC 3339 allows in place of `T`). A timestamp with an offset keeps its
/// offset even when `tz` is given: the producer knew better than the command line.
///
/// Without an offset (`2026-03-02T09:15:00`) the time is local to `tz`. Because a zone's clock
/// skips and repeats hours, a local time may name no instant or two:
/// - in a gap (clocks jump forward), the time is moved forward by the length of the gap, so
///   Europe/Berlin 2026-03-29T02:30:00 is 03:30 CEST; this is what a clock that was not yet set
///   forward would have shown, which is the likeliest cause of such a record;
/// - in an overlap (clocks fall back), the first occurrence is taken, so Europe/Berlin
///   2026-10-25T02:30:00 is 02:30 CEST (+02:00).
pub fn parse_timestamp(s: &str, tz: Option<Tz>) -> Result<Instant, TimestampError> {
    match parse_fast(s.as_bytes()) {
        Fast::Utc(instant) => Ok(instant),
        Fast::Local(local) => in_zone(local, tz),
        Fast::Unknown => parse_slow(s, tz).map(without_leap_second),
    }
}

/// RFC 3339 allows a second `60`, a leap second; chrono keeps one as second 59 with a
/// nanosecond count of a second or more, which its arithmetic then takes for second 59 again:
/// a clock started at `09:00:60` fell due at `10:00:59`, while one stopped at `10:00:60` stopped
/// at `10:01:00`. An instant with second 60 is read as the start of the next minute (plus its
/// fraction), whether it starts or stops a clock, and is written that way.
fn without_leap_second(t: Instant) -> Instant {
    let nanos = t.nanosecond();
    if nanos < 1_000_000_000 {
        return t;
    }
    t.with_nanosecond(nanos - 1_000_000_000)
        .and_then(|t| t.checked_add_signed(TimeDelta::seconds(1)))
        .unwrap_or(t)
}

/// Outcome of the fast path.
enum Fast {
    /// An instant: the text had an offset (or `Z`).
    Utc(Instant),
    /// A local date-time without an offset.
    Local(NaiveDateTime),
    /// Not the common shape (or not valid): let chrono decide.
    Unknown,
}

#[inline]
fn digit(b: &[u8], i: usize) -> Option<u32> {
    match b.get(i) {
        Some(c @ b'0'..=b'9') => Some(u32::from(c - b'0')),
        _ => None,
    }
}

#[inline]
fn two(b: &[u8], i: usize) -> Option<u32> {
    Some(digit(b, i)? * 10 + digit(b, i + 1)?)
}

/// The common shape, `YYYY-MM-DD[Tt ]HH:MM:SS(.f{1,9})?(Z|z|±HH:MM)?`.
fn parse_fast(b: &[u8]) -> Fast {
    fast_parts(b).unwrap_or(Fast::Unknown)
}

/// Days in a month of the proleptic Gregorian calendar.
#[inline]
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date of years 0 to 9999 (the usual era arithmetic of the
/// proleptic Gregorian calendar): a few multiplications instead of chrono's validated date
/// types, which showed in profiles of the reader at several percent.
#[inline]
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `DateTime::from_timestamp`, with the date of the day last asked for on this thread
/// remembered: a sorted stream changes day once in thousands of events, and chrono's
/// conversion of a day number to a date (`from_num_days_from_ce_opt`) showed in profiles of
/// the reader at several percent.
fn from_timestamp(secs: i64, nanos: u32) -> Option<Instant> {
    thread_local! {
        static DAY: Cell<Option<(i64, NaiveDate)>> = const { Cell::new(None) };
    }
    let day = secs.div_euclid(86_400);
    let second = u32::try_from(secs.rem_euclid(86_400)).ok()?;
    let date = DAY.with(|cached| match cached.get() {
        Some((d, date)) if d == day => Some(date),
        _ => {
            let date = DateTime::from_timestamp(day.checked_mul(86_400)?, 0)?.date_naive();
            cached.set(Some((day, date)));
            Some(date)
        }
    })?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(second, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

fn fast_parts(b: &[u8]) -> Option<Fast> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    let (hour, minute, second) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    // Leap seconds are rare enough to leave to chrono.
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d) = digit(b, i) {
            if i - start == 9 {
                return None;
            }
            nanos = nanos * 10 + d;
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - n as u32);
    }
    let local =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let rest = &b[i..];
    let offset = match rest {
        [] => {
            let local = from_timestamp(local, nanos)?.naive_utc();
            return Some(Fast::Local(local));
        }
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (two(rest, 1)?, two(rest, 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    from_timestamp(local - offset, nanos).map(Fast::Utc)
}

fn to_utc(local: NaiveDateTime, offset_secs: i32) -> Result<Instant, TimestampError> {
    local
        .checked_sub_signed(TimeDelta::seconds(i64::from(offset_secs)))
        .map(|utc| Utc.from_utc_datetime(&utc))
        .ok_or(TimestampError::Invalid)
}

fn parse_slow(s: &str, tz: Option<Tz>) -> Result<Instant, TimestampError> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    // Only a well-formed local date-time deserves the "no offset" reason; anything else is
    // simply not a timestamp.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dt%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(s, format) {
            return in_zone(local, tz);
        }
    }
    Err(TimestampError::Invalid)
}

pub(crate) fn in_zone(local: NaiveDateTime, tz: Option<Tz>) -> Result<Instant, TimestampError> {
    let tz = tz.ok_or(TimestampError::NoOffset)?;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Ok(a.with_timezone(&Utc).min(b.with_timezone(&Utc))),
        LocalResult::None => {
            // In a gap: read the time with the offset in force before the gap, which moves it
            // forward by the gap's length. A day earlier is before any gap (transitions are
            // months apart, and even the longest gap on record, Samoa's skipped day, fits).
            let before = local
                .checked_sub_signed(TimeDelta::days(1))
                .ok_or(TimestampError::Invalid)?;
            let offset = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
            to_utc(local, offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Instant {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_event_may_carry_an_instant_from_1900_to_the_end_of_2999_only() {
        assert!(parse_event_at("1900-01-01T00:00:00Z", None).is_ok());
        assert_eq!(
            parse_event_at("1899-12-31T23:59:59Z", None),
            Err(TimestampError::TooEarly)
        );
        assert!(parse_event_at("2999-12-31T23:59:59Z", None).is_ok());
        assert!(parse_event_at("3000-01-01T07:59:59+08:00", None).is_ok());
        assert_eq!(
            parse_event_at("3000-01-01T00:00:00Z", None),
            Err(TimestampError::TooLate)
        );
        // In range as written, out of range as an instant.
        assert_eq!(
            parse_event_at("2999-12-31T23:59:59-12:00", None),
            Err(TimestampError::TooLate)
        );
        assert_eq!(
            parse_event_at("9999-12-31T23:59:59+08:00", None),
            Err(TimestampError::TooLate)
        );
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2026-03-02T09:15:00+08:00",
            "2026-03-02T09:15:00Z",
            "2026-03-02t09:15:00z",
            "2026-03-02 09:15:00-05:30",
            "2026-03-02T09:15:00.5+08:00",
            "2026-03-02T09:15:00.123456789Z",
            "0000-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
            "2024-02-29T12:00:00Z",
        ] {
            assert!(matches!(parse_fast(s.as_bytes()), Fast::Utc(..)), "{s}");
            assert_eq!(parse_timestamp(s, None), Ok(utc(s)), "{s}");
        }
    }

    /// The remembered day: instants of one day, across midnight in either direction, before
    /// 1970 and at the ends of the range, each as chrono gives it.
    #[test]
    fn the_remembered_day_gives_chronos_instants() {
        for s in [
            "2026-03-02T09:15:00+08:00",
            "2026-03-02T23:59:59.999Z",
            "2026-03-03T00:00:00Z",
            "2026-03-03T07:59:59+08:00",
            "2026-03-03T08:00:00+08:00",
            "2026-03-02T23:00:00-05:00",
            "2026-03-02T09:15:01+08:00",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "0000-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
            "2026-03-02T09:15:00+08:00",
        ] {
            assert_eq!(parse_timestamp(s, None), Ok(utc(s)), "{s}");
        }
        let local = "2026-03-02T09:15:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            parse_timestamp("2026-03-02T09:15:00", Some(chrono_tz::Asia::Shanghai)),
            in_zone(local, Some(chrono_tz::Asia::Shanghai))
        );
    }

    /// Second 60 is the next minute's start, as a start and as a stop alike.
    #[test]
    fn a_leap_second_is_the_start_of_the_next_minute() {
        let next = parse_timestamp("2026-03-02T09:01:00.5+08:00", None);
        assert_eq!(parse_timestamp("2026-03-02T09:00:60.5+08:00", None), next);
        let t = parse_timestamp("2026-03-02T09:00:60+08:00", None).unwrap();
        assert_eq!(t.nanosecond(), 0);
        assert_eq!(
            t + TimeDelta::hours(1),
            parse_timestamp("2026-03-02T10:01:00+08:00", None).unwrap()
        );
        let local = parse_timestamp("2026-03-02 09:00:60", Some(chrono_tz::Asia::Shanghai));
        assert_eq!(local, parse_timestamp("2026-03-02T09:01:00+08:00", None));
    }

    #[test]
    fn fast_path_declines_the_unusual() {
        for s in [
            "2026-03-02T09:15:60Z",
            "2026-03-02T09:15:00.1234567891Z",
            "2026-03-02T09:15:00.Z",
            "2026-03-02T09:15:00+0800",
            "2026-03-02T09:15:00+24:00",
            "2026-02-30T09:15:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02",
            "２０２６-03-02T09:15:00Z",
        ] {
            assert!(matches!(parse_fast(s.as_bytes()), Fast::Unknown), "{s}");
        }
    }

    proptest::proptest! {
        /// The fast path gives what the full parser (chrono) gives, with and without an offset
        /// and a zone, on dates valid or not (day 31 of every month, 29 February of every kind
        /// of year, hour 24, minute 60), with fractions of every length.
        #[test]
        fn fast_path_equals_the_full_parser(
            y in proptest::sample::select(vec![0u32, 1, 4, 100, 400, 1582, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999]),
            mo in 0u32..=13, d in 0u32..=32, h in 0u32..=24, mi in 0u32..=60, sec in 0u32..=60,
            frac in proptest::option::of((1usize..=10, 0u64..10_000_000_000)),
            off in proptest::option::of((proptest::bool::ANY, 0u32..=24, 0u32..=60)),
            sep in proptest::sample::select(vec!['T', 't', ' ']),
            z in proptest::sample::select(vec!["Z", "z"]),
            tz in proptest::option::of(proptest::sample::select(vec![chrono_tz::Asia::Shanghai, chrono_tz::Europe::Berlin])),
        ) {
            let mut text = format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{sec:02}");
            if let Some((digits, n)) = frac {
                let n = format!("{n:010}");
                text.push('.');
                text.push_str(&n[..digits]);
            }
            match off {
                None if d % 2 == 0 => text.push_str(z),
                None => {}
                Some((neg, oh, om)) => text.push_str(&format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' })),
            }
            proptest::prop_assert_eq!(
                parse_timestamp(&text, tz),
                parse_slow(&text, tz).map(without_leap_second),
                "{}",
                text
            );
        }
    }
}
