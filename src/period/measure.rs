//! Measuring targets (`measure count|mean|median|percentile N of [STOP -] START per PERIOD`):
//! a count of cases or a statistic of durations per period and group, held against a value
//! (`at most 24 hours`, `at least 12`) or against the same period a year earlier (`change at
//! most -35% against previous year`).
//!
//! - A count counts `START` events of the cases the clause applies to, each in the period (in
//!   the policy's zone) of its instant: `count of opened` counts cases, `count of
//!   held(type == "activity")` the activities an entity held.
//! - A duration belongs to the period of its case's first `START` event, as a ratio target's
//!   case does.
//! - Its duration runs from its first `START` to its first `STOP` event, wall clock, or
//!   working time with `on CALENDAR`. A case without `STOP` by the end of the stream is
//!   *running*: it is not measured, and the record says how many were. A first `STOP` before
//!   the first `START` is not a duration either: the case is not measured.
//! - Durations are whole milliseconds; every comparison is on integers: a mean is at most `B`
//!   when `sum <= B × n`, a change is at most `c` ‰ when `value × 1000 <= (1000 + c) × previous`
//!   (with the two values as exact fractions).
//! - The median is the 50th nearest-rank percentile: the `ceil(p × n / 100)`-th smallest
//!   duration (the lower median for an even `n`).
//! - A period with nothing measured has no verdict; a change has no verdict when the period a
//!   year earlier has nothing measured or a value of zero (a change from zero has no size).
//!
//! The state per (clause, period, group) is a count and a sum, and, for a median or a
//! percentile, every duration (8 bytes per measured case): what merging partitions needs, since
//! medians of parts do not give the median of the whole.

use super::calendar_period::CalendarPeriod;
use super::group::Group;
use super::records::TargetStatus;
use crate::eval::case::CaseView;
use crate::policy::{Clause, StatBound, StatMeasure, Statistic, Target};
use chrono::Months;
use chrono_tz::Tz;

/// What one period and group of a measuring target holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct MeasureAcc {
    /// Events counted, or durations measured.
    pub n: u64,
    /// The sum of the durations, in milliseconds.
    pub sum: u64,
    /// Every duration, in milliseconds, unsorted (medians and percentiles only).
    pub values: Vec<u64>,
    /// Cases with a `START` and no `STOP` by the end of the stream.
    pub running: u64,
}

impl MeasureAcc {
    /// Adds another partition's state of the same period and group.
    pub fn absorb(&mut self, other: MeasureAcc) {
        self.n += other.n;
        self.sum = self.sum.saturating_add(other.sum);
        self.values.extend(other.values);
        self.running += other.running;
    }

    fn add(&mut self, sample: Sample, keep_values: bool) {
        match sample {
            Sample::Counted => self.n += 1,
            Sample::Running => self.running += 1,
            Sample::Present => {}
            Sample::Duration(ms) => {
                self.n += 1;
                self.sum = self.sum.saturating_add(ms);
                if keep_values {
                    self.values.push(ms);
                }
            }
        }
    }

    /// The statistic as an exact fraction `(numerator, denominator)`; `None` when nothing was
    /// measured (a count of zero is a value).
    pub fn value(&self, statistic: Statistic) -> Option<(u128, u128)> {
        match statistic {
            Statistic::Count => Some((u128::from(self.n), 1)),
            _ if self.n == 0 => None,
            Statistic::Mean => Some((u128::from(self.sum), u128::from(self.n))),
            Statistic::Median => nearest_rank(&self.values, 50).map(|v| (u128::from(v), 1)),
            Statistic::Percentile(p) => nearest_rank(&self.values, p).map(|v| (u128::from(v), 1)),
        }
    }
}

/// The nearest-rank `p`-th percentile: the `ceil(p × n / 100)`-th smallest value.
pub fn nearest_rank(values: &[u64], p: u8) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let rank = (usize::from(p) * n).div_ceil(100).clamp(1, n);
    let mut sorted = values.to_vec();
    let (_, v, _) = sorted.select_nth_unstable(rank - 1);
    Some(*v)
}

/// What one case gives a measuring target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sample {
    /// Counted (a count).
    Counted,
    /// A duration, in milliseconds.
    Duration(u64),
    /// Started and not stopped by the end of the stream.
    Running,
    /// Nothing counted, but the group exists with this value (a listed value of `each` that
    /// the event does not carry: its count is 0, so it is listed and judged).
    Present,
}

/// What a case gives a measuring target: for a count, one sample per `START` event (each in
/// the period of its instant, within the clause's effective dates); for a duration, at most
/// one, in the period of the first `START`.
pub(crate) fn measure_member(
    clause: &Clause,
    target: &Target,
    m: &StatMeasure,
    zone: Tz,
    view: &CaseView<'_>,
) -> Vec<(CalendarPeriod, Group, Sample)> {
    if !view.opened || !clause.applies.eval(&view.attrs) {
        return Vec::new();
    }
    let group = || Group::of(&target.group_by, &view.attrs);
    let mut starts = view
        .events
        .iter()
        .filter(|e| m.start.matches(&e.kind, &e.attrs));
    if let (None, Some(each)) = (&m.stop, &m.each) {
        let base = group();
        return starts
            .filter(|e| clause.holds_at(zone, e.at))
            .filter_map(|e| Some((e, CalendarPeriod::containing(target.period, zone, e.at)?)))
            .flat_map(|(e, p)| super::each::samples(each, &base, e, p))
            .collect();
    }
    let Some(stop) = &m.stop else {
        return starts
            .filter(|e| clause.holds_at(zone, e.at))
            .filter_map(|e| CalendarPeriod::containing(target.period, zone, e.at))
            .map(|p| (p, group(), Sample::Counted))
            .collect();
    };
    let Some(start) = starts.next() else {
        return Vec::new();
    };
    if !clause.holds_at(zone, start.at) {
        return Vec::new();
    }
    let sample = match view.events.iter().find(|e| stop.matches(&e.kind, &e.attrs)) {
        None => Sample::Running,
        Some(end) if end.at < start.at => return Vec::new(),
        Some(end) => {
            let elapsed = match &m.calendar {
                Some(cal) => cal.working_between(start.at, end.at),
                None => end.at - start.at,
            };
            Sample::Duration(u64::try_from(elapsed.num_milliseconds()).unwrap_or(0))
        }
    };
    CalendarPeriod::containing(target.period, zone, start.at)
        .map(|p| (p, group(), sample))
        .into_iter()
        .collect()
}

/// Adds a case's sample to its period's state.
pub(crate) fn add_sample(acc: &mut MeasureAcc, m: &StatMeasure, sample: Sample) {
    let keep = matches!(m.statistic, Statistic::Median | Statistic::Percentile(_));
    acc.add(sample, keep);
}

/// The same period a year earlier: the period containing the date a year before its first
/// date (for a week, the week of that date).
pub fn year_before(period: CalendarPeriod) -> Option<CalendarPeriod> {
    let date = period.first_date().checked_sub_months(Months::new(12))?;
    Some(CalendarPeriod::of_date(period.unit, date))
}

/// The verdict of a measure, given the state of its period and of the period a year earlier.
pub fn measure_status(
    m: &StatMeasure,
    current: Option<(u128, u128)>,
    previous: Option<(u128, u128)>,
) -> TargetStatus {
    let Some((num, den)) = current else {
        return TargetStatus::NoVerdict;
    };
    let ok = match m.bound {
        StatBound::Value { at_least, value } => {
            let lhs = num;
            let rhs = u128::from(value.unsigned_abs()) * den;
            if at_least {
                lhs >= rhs
            } else {
                lhs <= rhs
            }
        }
        StatBound::Change { at_least, permille } => {
            let Some((pnum, pden)) = previous.filter(|(n, _)| *n > 0) else {
                return TargetStatus::NoVerdict;
            };
            // value / previous - 1 against permille / 1000, on integers:
            // num × pden × 1000 against (1000 + permille) × pnum × den.
            let lhs = num as i128 * pden as i128 * 1000;
            let rhs = (1000 + i128::from(permille)) * pnum as i128 * den as i128;
            if at_least {
                lhs >= rhs
            } else {
                lhs <= rhs
            }
        }
    };
    if ok {
        TargetStatus::Met
    } else {
        TargetStatus::Missed
    }
}

/// The change from `previous` to `current` in per-mille, rounded toward zero, for display.
pub fn change_permille(current: (u128, u128), previous: (u128, u128)) -> Option<i64> {
    let (num, den) = current;
    let (pnum, pden) = previous;
    if pnum == 0 || den == 0 {
        return None;
    }
    let a = num as i128 * pden as i128 * 1000;
    let b = pnum as i128 * den as i128;
    i64::try_from(a / b - 1000).ok()
}

/// A fraction rounded down to a whole number, for display.
pub fn whole(value: (u128, u128)) -> i64 {
    i64::try_from(value.0 / value.1.max(1)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Trigger;

    fn measure(statistic: Statistic, bound: StatBound) -> StatMeasure {
        StatMeasure {
            statistic,
            start: Trigger::event("opened"),
            stop: Some(Trigger::event("resolved")),
            calendar: None,
            bound,
            each: None,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [15, 20, 35, 40, 50];
        assert_eq!(nearest_rank(&v, 5), Some(15));
        assert_eq!(nearest_rank(&v, 30), Some(20));
        assert_eq!(nearest_rank(&v, 40), Some(20));
        assert_eq!(nearest_rank(&v, 50), Some(35));
        assert_eq!(nearest_rank(&v, 100), Some(50));
        assert_eq!(nearest_rank(&[3, 1], 50), Some(1), "the lower median");
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn a_mean_exactly_at_the_bound_is_met() {
        let hour = 3_600_000;
        let m = measure(
            Statistic::Mean,
            StatBound::Value {
                at_least: false,
                value: 24 * hour,
            },
        );
        let mut acc = MeasureAcc::default();
        add_sample(&mut acc, &m, Sample::Duration(20 * hour as u64));
        add_sample(&mut acc, &m, Sample::Duration(28 * hour as u64));
        assert_eq!(
            measure_status(&m, acc.value(m.statistic), None),
            TargetStatus::Met
        );
        add_sample(&mut acc, &m, Sample::Duration(24 * hour as u64 + 3));
        assert_eq!(
            measure_status(&m, acc.value(m.statistic), None),
            TargetStatus::Missed
        );
        add_sample(&mut acc, &m, Sample::Running);
        assert_eq!(acc.n, 3);
        assert_eq!(acc.running, 1);
        assert!(acc.values.is_empty(), "a mean keeps no durations");
        let empty = MeasureAcc::default();
        assert_eq!(
            measure_status(&m, empty.value(m.statistic), None),
            TargetStatus::NoVerdict
        );
    }

    #[test]
    fn a_change_compares_with_the_year_before_exactly() {
        let m = StatMeasure {
            statistic: Statistic::Count,
            start: Trigger::event("opened"),
            stop: None,
            calendar: None,
            each: None,
            bound: StatBound::Change {
                at_least: false,
                permille: -350,
            },
        };
        // 100 → 65 is a fall of exactly 35 %: met; 100 → 66 is not.
        assert_eq!(
            measure_status(&m, Some((65, 1)), Some((100, 1))),
            TargetStatus::Met
        );
        assert_eq!(
            measure_status(&m, Some((66, 1)), Some((100, 1))),
            TargetStatus::Missed
        );
        assert_eq!(change_permille((65, 1), (100, 1)), Some(-350));
        // Nothing or zero a year earlier: no verdict.
        assert_eq!(
            measure_status(&m, Some((3, 1)), None),
            TargetStatus::NoVerdict
        );
        assert_eq!(
            measure_status(&m, Some((3, 1)), Some((0, 1))),
            TargetStatus::NoVerdict
        );
        // A count of zero is a value: a fall of 100 %.
        assert_eq!(
            measure_status(&m, Some((0, 1)), Some((5, 1))),
            TargetStatus::Met
        );
    }

    #[test]
    fn the_period_a_year_earlier() {
        use crate::policy::PeriodUnit;
        use chrono::NaiveDate;
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let month = CalendarPeriod::of_date(PeriodUnit::Month, d(2026, 3, 1));
        assert_eq!(year_before(month).unwrap().label(), "2025-03");
        let year = CalendarPeriod::of_date(PeriodUnit::Year, d(2026, 1, 1));
        assert_eq!(year_before(year).unwrap().label(), "2025");
        let q = CalendarPeriod::of_date(PeriodUnit::Quarter, d(2026, 4, 1));
        assert_eq!(year_before(q).unwrap().label(), "2025-Q2");
    }
}
