//! Lowers the lines of a measuring `target`: `measure STATISTIC of START [- STOP] per PERIOD
//! [on CALENDAR]`, held against `at least|at most AMOUNT` or `change at least|at most P%
//! against previous year` (module `period::measure` evaluates them).

use crate::calendar::Calendar;
use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;
use std::sync::Arc;

use super::common::period_unit;
use super::{ClauseParts, Lowerer};

/// A `measure` line as lowered, before its bound is known.
#[derive(Debug, Clone)]
pub(super) struct MeasureParts {
    statistic: Statistic,
    start: Trigger,
    stop: Option<Trigger>,
    calendar: Option<Arc<Calendar>>,
    period: PeriodUnit,
    span: Span,
    each: Option<EachValue>,
}

/// The amount of an `at least`/`at most` line under a `measure`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Amount {
    /// A duration, in milliseconds.
    Duration(i64),
    /// A bare whole number (a count).
    Number(i64),
}

impl ClauseParts {
    /// The span of a line only a measure takes (`at most 24 hours`, `change ...`), if any.
    pub(super) fn measure_bound_span(&self) -> Option<Span> {
        [Rule::measure_bound_item, Rule::change_item]
            .iter()
            .find_map(|r| self.seen.get(r).copied())
    }
}

impl Lowerer<'_> {
    /// Lowers a line only a measuring `target` takes into `clause`.
    pub(super) fn measure_line(
        &mut self,
        item: Pair<'_, Rule>,
        item_span: Span,
        clause: &mut ClauseParts,
    ) {
        match item.as_rule() {
            Rule::measure_item => {
                let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                let statistic = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::statistic)
                    .and_then(|s| self.statistic(s.clone()));
                let mut triggers = parts
                    .iter()
                    .filter(|p| p.as_rule() == Rule::trigger)
                    .map(|t| self.trigger(t.clone()));
                // `STOP - START`, or the counted event alone.
                let first = triggers.next().flatten();
                let (start, stop) = match triggers.next() {
                    Some(second) => (second, Some(first)),
                    None => (first, None),
                };
                let period = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::period_unit)
                    .map(|p| period_unit(p.as_str()));
                let on = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::on_calendar)
                    .cloned();
                let has_on = on.is_some();
                let calendar = self.calendar_ref(on);
                if has_on && calendar.is_none() {
                    return;
                }
                let (Some(statistic), Some(start), Some(period)) = (statistic, start, period)
                else {
                    return;
                };
                let each = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::measure_each)
                    .cloned();
                let each_span = each.as_ref().map(Self::span);
                let each = each.map(|p| self.measure_each(p));
                if let (Some(span), true) = (each_span, statistic != Statistic::Count) {
                    self.err(
                        "pledge::measure::each_needs_count",
                        span,
                        format!("a {} is not taken per listed value", statistic.words()),
                        "only a count is",
                    )
                    .set_help("count each value: `measure count of rated per month each channel in [\"app\", \"sms\"]`");
                    return;
                }
                let stop = match stop {
                    Some(Some(stop)) => Some(stop),
                    Some(None) => return,
                    None => None,
                };
                let duration = statistic != Statistic::Count;
                if duration && stop.is_none() {
                    self.err(
                        "pledge::measure::no_duration",
                        item_span,
                        format!("a {} is taken over durations", statistic.words()),
                        "no `- STOP` event",
                    )
                    .set_help("measure the time between two events: `mean of resolved - opened`");
                    return;
                }
                if !duration && (stop.is_some() || calendar.is_some()) {
                    self.err(
                        "pledge::measure::count_of_duration",
                        item_span,
                        "a count counts cases, not durations",
                        "a duration here",
                    )
                    .set_help("write `count of opened per year`, or `mean of resolved - opened`");
                    return;
                }
                clause.measure = Some(MeasureParts {
                    statistic,
                    start,
                    stop,
                    calendar,
                    period,
                    span: item_span,
                    each,
                });
            }
            Rule::measure_bound_item => {
                let mut at_least = true;
                let mut amount = None;
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::k_most => at_least = false,
                        Rule::duration => {
                            amount = self
                                .duration(p)
                                .map(|d| Amount::Duration(d.num_milliseconds()))
                        }
                        Rule::number => match p.as_str().parse::<i64>() {
                            Ok(n) if n >= 0 => amount = Some(Amount::Number(n)),
                            _ => {
                                self.err(
                                    "pledge::measure::bad_count",
                                    item_span,
                                    "a count bound is a whole number of at least 0",
                                    "here",
                                )
            .set_help("write a whole number, such as `at most 12`, or a duration for a time measure (`at most 24 hours`)");
                            }
                        },
                        _ => {}
                    }
                }
                clause.measure_bound = amount.map(|a| (at_least, a, item_span));
            }
            Rule::change_item => {
                let mut at_least = true;
                let mut permille = None;
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::k_most => at_least = false,
                        Rule::percent => permille = self.change_permille(p),
                        _ => {}
                    }
                }
                clause.change = permille.map(|p| (at_least, p));
            }
            _ => {}
        }
    }

    fn statistic(&mut self, pair: Pair<'_, Rule>) -> Option<Statistic> {
        let span = Self::span(&pair);
        let mut inner = pair.into_inner();
        let word = inner.next()?;
        Some(match word.as_rule() {
            Rule::k_count => Statistic::Count,
            Rule::k_mean => Statistic::Mean,
            Rule::k_median => Statistic::Median,
            _ => match inner.next().map(|n| n.as_str().parse::<u8>()) {
                Some(Ok(p)) if (1..=100).contains(&p) => Statistic::Percentile(p),
                _ => {
                    self.err(
                        "pledge::measure::bad_percentile",
                        span,
                        "a percentile is a whole number from 1 to 100",
                        "here",
                    )
                    .set_help("write a whole number from 1 to 100, such as `percentile 90`");
                    return None;
                }
            },
        })
    }

    /// A signed percentage with at most one decimal, from -100% (a fall to nothing) up.
    fn change_permille(&mut self, pair: Pair<'_, Rule>) -> Option<i32> {
        let span = Self::span(&pair);
        let n: f64 = pair.into_inner().next()?.as_str().parse().ok()?;
        let permille = (n * 10.0).round();
        if !(-1000.0..=100_000.0).contains(&permille) || (permille - n * 10.0).abs() > 1e-6 {
            self.err(
                "pledge::measure::bad_change",
                span,
                "a change is between -100% and 10000% with at most one decimal",
                "here",
            )
            .set_help("write a change such as `change at most -35% against previous year`");
            return None;
        }
        Some(permille as i32)
    }

    /// Builds a measuring `target` from its `measure` line and its bound.
    pub(super) fn measure_body(
        &mut self,
        name: &str,
        span: Span,
        m: MeasureParts,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        if clause.target_ratio.is_some() {
            self.err(
                "pledge::measure::ratio_and_measure",
                m.span,
                "a target has a `ratio` or a `measure`, not both",
                "second measure",
            )
            .set_help("split it into two targets");
            return None;
        }
        if let Some(span) = clause.seen.get(&Rule::bound_item).copied() {
            self.err(
                "pledge::measure::percent_bound",
                span,
                "a measure is bounded by a duration or a count, not a percentage",
                "a percentage",
            )
            .set_help("write `at most 24 hours`, `at least 12`, or `change at most -35% against previous year`");
            return None;
        }
        let bound = match (clause.measure_bound.take(), clause.change.take()) {
            (Some(_), Some(_)) => {
                self.err(
                    "pledge::measure::two_bounds",
                    m.span,
                    "a measure has one bound: a value or a change",
                    "this measure",
                )
                .set_help("split it into two targets");
                return None;
            }
            (None, None) if clause.measure_bound_span().is_some() => {
                // The bound line's own error is reported.
                return None;
            }
            (None, None) => {
                self.missing(
                    &clause.seen,
                    (name, span),
                    "target",
                    "bound",
                    "add `at most 24 hours`, `at least 12` or `change at most -35% against previous year`",
                );
                return None;
            }
            (None, Some((at_least, permille))) => StatBound::Change { at_least, permille },
            (Some((at_least, amount, bound_span)), None) => {
                let value = match (m.statistic, amount) {
                    (Statistic::Count, Amount::Number(n)) => n,
                    (Statistic::Count, Amount::Duration(_)) => {
                        self.err(
                            "pledge::measure::bound_unit",
                            bound_span,
                            "a count is bounded by a number",
                            "a duration",
                        )
                        .set_help("write `at least 12`");
                        return None;
                    }
                    (_, Amount::Duration(ms)) => ms,
                    (s, Amount::Number(_)) => {
                        self.err(
                            "pledge::measure::bound_unit",
                            bound_span,
                            format!("a {} is bounded by a duration", s.words()),
                            "a number",
                        )
                        .set_help("write `at most 24 hours`");
                        return None;
                    }
                };
                StatBound::Value { at_least, value }
            }
        };
        let at_least = match bound {
            StatBound::Value { at_least, .. } | StatBound::Change { at_least, .. } => at_least,
        };
        Some(ClauseBody::Target(Target {
            measure: Measure::Stat(StatMeasure {
                statistic: m.statistic,
                start: m.start,
                stop: m.stop,
                calendar: m.calendar,
                bound,
                each: m.each,
            }),
            period: m.period,
            group_by: std::mem::take(&mut clause.group_by),
            at_least,
            bound_permille: 0,
        }))
    }

    /// `each ATTR in [V, ...]`.
    fn measure_each(&mut self, each: Pair<'_, Rule>) -> EachValue {
        let mut attr = String::new();
        let mut values = Vec::new();
        for p in each.into_inner() {
            match p.as_rule() {
                Rule::name => attr = p.as_str().to_string(),
                Rule::list => values = self.list(p),
                _ => {}
            }
        }
        EachValue { attr, values }
    }
}
