//! What a person types where the program expects an instant or a duration: on the command
//! line, in the REPL, in a policy test file, in a query parameter of the service. More lenient
//! than event timestamps (a date alone, a local time without seconds, durations like `1h30min`),
//! and answered with a sentence that shows the accepted forms.

use super::timestamp::parse_timestamp;
use crate::event::Instant;
use chrono::Duration;
use chrono_tz::Tz;

/// A duration a person types (`--within`, `--retain`, a test file, a query parameter): a number and a unit, with or without a space:
/// `30s`, `15min`, `4h`, `2 d`, `1 week`; several parts add up (`1h30min`).
pub fn parse_typed_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("`{text}` is not a duration: use a number and a unit, like `30min`, `4h` or `2d`")
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::zero();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let seconds: i64 = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            _ => return Err(bad()),
        };
        let part = n
            .checked_mul(seconds)
            .and_then(Duration::try_seconds)
            .ok_or_else(bad)?;
        total = total.checked_add(&part).ok_or_else(bad)?;
    }
    // As in the policy language: no standard counts beyond a century, and the evaluator may
    // add such a duration to itself and to instants.
    if total > Duration::days(MAX_TYPED_DAYS) {
        return Err(format!(
            "`{text}` is longer than {} years, the longest duration pledge takes",
            MAX_TYPED_DAYS / 366
        ));
    }
    Ok(total)
}

/// The longest duration typed on a command line, in a query or in a test file: 100 years of
/// 366 days, the bound of the policy language's durations.
const MAX_TYPED_DAYS: i64 = 100 * 366;

/// An instant a person types (on the command line, in the REPL, in a policy test file): RFC 3339 with an offset, or a local date and time
/// (`2026-03-05T18:00`, `2026-03-05 18:00:00`) in `zone`, or a date alone meaning its midnight.
pub fn parse_typed_instant(text: &str, zone: Tz) -> Result<Instant, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "`{text}` is not an instant: use RFC 3339 like `2026-03-05T18:00:00+08:00`, or a \
             local `2026-03-05T18:00` in the policy's zone"
        )
    };
    let full = match text.len() {
        10 => format!("{text}T00:00:00"),
        16 => format!("{text}:00"),
        _ => text.to_string(),
    };
    parse_timestamp(&full, Some(zone)).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_typed_duration("4h"), Ok(Duration::hours(4)));
        assert_eq!(parse_typed_duration("30 min"), Ok(Duration::minutes(30)));
        assert_eq!(parse_typed_duration("1h30min"), Ok(Duration::minutes(90)));
        assert_eq!(parse_typed_duration("2d"), Ok(Duration::days(2)));
        assert!(parse_typed_duration("").is_err());
        assert!(parse_typed_duration("h").is_err());
        assert!(parse_typed_duration("4 fortnights").is_err());
        assert!(parse_typed_duration("99999999999999999999h").is_err());
        assert_eq!(parse_typed_duration("36600d"), Ok(Duration::days(36_600)));
        assert_eq!(
            parse_typed_duration("36601d"),
            Err("`36601d` is longer than 100 years, the longest duration pledge takes".into())
        );
    }

    #[test]
    fn typed_instants() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let a = parse_typed_instant("2026-03-05T18:00", tz).unwrap();
        let b = parse_typed_instant("2026-03-05T10:00:00Z", tz).unwrap();
        assert_eq!(a, b);
        let midnight = parse_typed_instant("2026-03-05", tz).unwrap();
        assert_eq!(midnight.to_rfc3339(), "2026-03-04T16:00:00+00:00");
        assert!(parse_typed_instant("tomorrow", tz).is_err());
    }
}
