//! A count per listed value: `measure count of rated per month each channel in ["app", "sms",
//! "suggestion_box"]` (seed 000's rating channels: ratings arrive through each channel the
//! company offers, in each period).
//!
//! Each listed value is its own measure: the value joins the group (after the `group by`
//! values, under the attribute's name), so the verdicts, records, reports and merging of
//! measuring targets carry it unchanged, and a missed verdict names the value.
//!
//! - Every counted event (the `START` of the count, on a case the clause applies to, within
//!   its effective dates) makes its group *seen* with every listed value, and adds one to the
//!   value it carries (a list-valued attribute: to each listed element it holds). An event
//!   whose value is not listed, or which has none, still makes the group seen.
//! - The periods listed are those of every count: from the clause's first counted event to the
//!   period containing `now`, for every group seen in any of them. So a listed value with no
//!   event in a period counts 0 and misses `at least 1`, and so does every value of a seen
//!   group in a month without any rating (nothing came through any channel).
//! - A period still open at `now` is met for a value as soon as it has its count, and has no
//!   verdict for the others until it ends. Before the clause's first counted event there is
//!   nothing to judge.
//! - The state is the count per (period, group, value), zero included: merging partitions
//!   adds counts, and a value seen in one partition only is still judged on the sum.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use super::measure::Sample;
use crate::event::Event;
use crate::policy::EachValue;
use crate::value::Value;

/// The samples one counted event gives: one per listed value, `Counted` for the value (or
/// values) it carries, `Present` for the others.
pub(crate) fn samples(
    each: &EachValue,
    base: &Group,
    event: &Event,
    period: CalendarPeriod,
) -> Vec<(CalendarPeriod, Group, Sample)> {
    let carried = event.attrs.get(each.attr.as_str());
    each.values
        .iter()
        .map(|v| {
            let mut group = base.clone();
            group
                .values
                .push((each.attr.as_str().into(), Some(text(v))));
            let sample = if carries(carried, v) {
                Sample::Counted
            } else {
                Sample::Present
            };
            (period, group, sample)
        })
        .collect()
}

/// Whether the event's value is `v`, or a list holding it.
fn carries(value: Option<&Value>, v: &Value) -> bool {
    match value {
        Some(Value::List(items)) => items.contains(v),
        Some(other) => other == v,
        None => false,
    }
}

/// A value as a group shows it: strings bare, others as the language writes them.
fn text(v: &Value) -> Box<str> {
    match v {
        Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PeriodUnit;

    fn rated(channel: Option<Value>) -> Event {
        let mut attrs = crate::value::Attrs::new();
        if let Some(c) = channel {
            attrs.insert("channel", c);
        }
        Event {
            ticket: "T".into(),
            at: chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00")
                .unwrap()
                .to_utc(),
            kind: "rated".into(),
            id: None,
            attrs,
            line: 0,
        }
    }

    fn each() -> EachValue {
        EachValue {
            attr: "channel".into(),
            values: vec![Value::String("app".into()), Value::String("sms".into())],
        }
    }

    fn labels(event: &Event) -> Vec<(String, Sample)> {
        let period = CalendarPeriod::of_date(
            PeriodUnit::Month,
            chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        );
        samples(&each(), &Group::all(), event, period)
            .into_iter()
            .map(|(_, g, s)| (g.label(), s))
            .collect()
    }

    #[test]
    fn an_event_counts_for_its_value_and_makes_the_others_seen() {
        assert_eq!(
            labels(&rated(Some(Value::String("sms".into())))),
            [
                ("app".to_string(), Sample::Present),
                ("sms".to_string(), Sample::Counted)
            ]
        );
        // Unlisted or absent: every listed value is seen, none counted.
        for e in [rated(Some(Value::String("letter".into()))), rated(None)] {
            assert!(labels(&e).iter().all(|(_, s)| *s == Sample::Present));
        }
        // A list counts for each listed element it holds.
        let both = Value::List(vec![
            Value::String("app".into()),
            Value::String("sms".into()),
        ]);
        assert!(labels(&rated(Some(both)))
            .iter()
            .all(|(_, s)| *s == Sample::Counted));
    }
}
