//! Lowers durations, percentages, limits (`within`, `same day`, `by`) and deadline stages.

use crate::calendar::Calendar;
use crate::policy::*;
use crate::syntax::grammar::Rule;
use chrono::Duration;
use pest::iterators::Pair;
use std::sync::Arc;

use super::Lowerer;

/// Longest duration a limit may name (100 years), so instant arithmetic cannot overflow.
pub(super) const MAX_DURATION_SECONDS: f64 = 100.0 * 366.0 * 86_400.0;

impl Lowerer<'_> {
    pub(super) fn duration(&mut self, pair: Pair<'_, Rule>) -> Option<Duration> {
        let span = Self::span(&pair);
        let mut seconds = 0f64;
        for part in pair.into_inner() {
            let mut it = part.into_inner();
            let n: f64 = it.next()?.as_str().parse().ok()?;
            let unit = it.next()?.as_str();
            seconds += n * unit_seconds(unit);
        }
        if !(0.0..=MAX_DURATION_SECONDS).contains(&seconds) {
            self.err(
                "pledge::syntax::duration_out_of_range",
                span,
                "duration is negative or longer than 100 years",
                "this duration",
            )
            .set_help(
                "write a duration from 0 up to 100 years, such as `8 hours`, `3 days` or `2 weeks`",
            );
            return None;
        }
        Some(Duration::milliseconds((seconds * 1000.0).round() as i64))
    }

    /// A target's bound or a notice's coverage above 100 %: a share of cases or households
    /// that can never be reached, so a standard that can never be met.
    pub(super) fn share_over_100(&mut self, span: Span) {
        self.err(
            "pledge::limits::share_over_100",
            span,
            "a share cannot be above 100%",
            "above 100%",
        )
        .set_help("write a share of at most `100%`, such as `at least 95%`");
    }

    pub(super) fn permille(&mut self, pair: Pair<'_, Rule>) -> Option<u32> {
        let span = Self::span(&pair);
        let n: f64 = pair.into_inner().next()?.as_str().parse().ok()?;
        let permille = (n * 10.0).round();
        if !(0.0..=100_000.0).contains(&permille) || (permille - n * 10.0).abs() > 1e-6 {
            self.err(
                "pledge::syntax::bad_percentage",
                span,
                "percentages are between 0% and 10000% with at most one decimal",
                "here",
            )
            .set_help("write a percentage such as `90%` or `97.5%`");
            return None;
        }
        Some(permille as u32)
    }

    pub(super) fn limit(&mut self, item: Pair<'_, Rule>) -> Option<Limit> {
        let rule = item.as_rule();
        self.limit_parts(rule, item.into_inner().collect())
    }

    pub(super) fn limit_parts(&mut self, rule: Rule, parts: Vec<Pair<'_, Rule>>) -> Option<Limit> {
        let on = parts
            .iter()
            .find(|p| p.as_rule() == Rule::on_calendar)
            .cloned();
        let has_on = on.is_some();
        let cal = self.calendar_ref(on);
        if has_on && cal.is_none() {
            return None;
        }
        match rule {
            Rule::within_limit => {
                let amount = parts.iter().find(|p| {
                    matches!(
                        p.as_rule(),
                        Rule::workdays | Rule::business_time | Rule::duration
                    )
                })?;
                // `within 0 minutes` breaches every clock not stopped at the instant it
                // starts, and `every 0 hours` makes every gap a finding: never a standard.
                let zero = amount
                    .clone()
                    .into_inner()
                    .flatten()
                    .filter(|p| p.as_rule() == Rule::number)
                    .all(|n| n.as_str().parse::<f64>().is_ok_and(|v| v == 0.0));
                if zero {
                    self.err(
                        "pledge::limits::zero",
                        Self::span(amount),
                        format!("a limit of `{}` allows no time at all", amount.as_str()),
                        "no time",
                    )
                    .set_help("write the time the standard allows, such as `1 hour` or `2 workdays on office`");
                    return None;
                }
                match amount.as_rule() {
                    Rule::duration => {
                        // `3 days on office` would be 72 hours of working time (eight
                        // workdays of nine hours): never what "三个工作日" means.
                        if cal.is_some() {
                            let whole_days = amount.clone().into_inner().find_map(|part| {
                                part.into_inner()
                                    .find(|p| p.as_rule() == Rule::time_unit)
                                    .filter(|u| {
                                        u.as_str().starts_with("day")
                                            || u.as_str().starts_with("week")
                                    })
                            });
                            if whole_days.is_some() {
                                self.err(
                                    "pledge::calendar::days_of_working_time",
                                    Self::span(amount),
                                    format!(
                                        "`{}` on a calendar would be days of 24 working hours each",
                                        amount.as_str()
                                    ),
                                    "days of working time",
                                )
                                .set_help("write `3 workdays on office` for working days, `24 business hours on office` for working time, or drop `on office` for days of 24 hours");
                                return None;
                            }
                        }
                        let d = self.duration(amount.clone())?;
                        match cal {
                            None => Some(Limit::Elapsed(d)),
                            // `within 8 hours on office` counts working time too.
                            Some(calendar) => Some(Limit::BusinessTime {
                                amount: d,
                                calendar,
                            }),
                        }
                    }
                    Rule::workdays => {
                        let n = amount.clone().into_inner().next()?;
                        let days = match n.as_str().parse::<u32>() {
                            Ok(d) if d <= 3660 => d,
                            _ => {
                                self.err(
                                    "pledge::syntax::invalid_workdays",
                                    Self::span(&n),
                                    "workdays must be a whole number up to 3660",
                                    "here",
                                )
            .set_help("write a whole number of workdays, such as `2 workdays`; for parts of a day use business time (`4 business hours`)");
                                return None;
                            }
                        };
                        let Some(calendar) = cal else {
                            self.err(
                                "pledge::calendar::missing",
                                Self::span(amount),
                                "workdays need a calendar",
                                "counted on which calendar?",
                            )
                            .set_help("add `on office` (a calendar declared in this policy)");
                            return None;
                        };
                        Some(Limit::Workdays { days, calendar })
                    }
                    _ => {
                        let mut it = amount.clone().into_inner();
                        let n: f64 = it.next()?.as_str().parse().ok()?;
                        let unit = it.nth(1)?.as_str();
                        let Some(calendar) = cal else {
                            self.err(
                                "pledge::calendar::missing",
                                Self::span(amount),
                                "business time needs a calendar",
                                "counted on which calendar?",
                            )
                            .set_help("add `on office` (a calendar declared in this policy)");
                            return None;
                        };
                        let secs = n * unit_seconds(unit);
                        if !(0.0..=MAX_DURATION_SECONDS).contains(&secs) {
                            self.err(
                                "pledge::syntax::duration_out_of_range",
                                Self::span(amount),
                                "duration is negative or longer than 100 years",
                                "this duration",
                            )
            .set_help("write a duration from 0 up to 100 years, such as `8 hours`, `3 days` or `2 weeks`");
                            return None;
                        }
                        Some(Limit::BusinessTime {
                            amount: Duration::milliseconds((secs * 1000.0).round() as i64),
                            calendar,
                        })
                    }
                }
            }
            Rule::same_day_limit => {
                let Some(calendar) = cal else {
                    self.err(
                        "pledge::calendar::missing",
                        Self::span(&parts[0]),
                        "`same day` needs a calendar",
                        "whose working day?",
                    )
                    .set_help("write `same day on office` (a calendar declared in this policy)");
                    return None;
                };
                Some(Limit::SameDay { calendar })
            }
            _ => {
                let time_pair = parts.iter().find(|p| p.as_rule() == Rule::clock_time)?;
                let time = self.clock_time(time_pair.clone(), false)??;
                let workday = parts.iter().any(|p| p.as_rule() == Rule::k_workday);
                let calendar = match cal {
                    Some(c) => c,
                    None if workday => {
                        self.err(
                            "pledge::calendar::missing",
                            Self::span(time_pair),
                            "`next workday` needs a calendar",
                            "whose workdays?",
                        )
                        .set_help("write `by 08:00 next workday on office`");
                        return None;
                    }
                    None => Arc::new(Calendar::always(self.zone)),
                };
                Some(Limit::NextAt {
                    time,
                    workday,
                    calendar,
                })
            }
        }
    }

    pub(super) fn stage(&mut self, item: Pair<'_, Rule>) -> Option<Stage> {
        let span = Self::span(&item);
        let mut point = None;
        let mut action = None;
        let mut role = None;
        let mut channels = Vec::new();
        let mut message = None;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::percent => {
                    let n: f64 = p.into_inner().next()?.as_str().parse().ok()?;
                    let permille = (n * 10.0).round();
                    if !(0.0..=100_000.0).contains(&permille) {
                        self.err(
                            "pledge::stage::bad_fraction",
                            span,
                            "a stage fraction must be between 0% and 10000%",
                            "here",
                        );
                        return None;
                    }
                    point = Some(StagePoint::Fraction(permille as u32));
                }
                Rule::duration => point = Some(StagePoint::After(self.duration(p)?)),
                Rule::action => {
                    action = Some(match p.as_str() {
                        "warn" => ActionKind::Warn,
                        "notify" => ActionKind::Notify,
                        _ => ActionKind::Escalate,
                    })
                }
                Rule::name => role = Some(p.as_str().to_string()),
                Rule::via => {
                    if let Some(list) = p.into_inner().find(|q| q.as_rule() == Rule::name_list) {
                        channels = list.into_inner().map(|n| n.as_str().to_string()).collect();
                    }
                }
                Rule::string => message = Some(self.string(p)),
                _ => {}
            }
        }
        Some(Stage {
            point: point?,
            action: action?,
            role: role?,
            channels,
            message,
            span,
        })
    }
}

pub(super) fn unit_seconds(unit: &str) -> f64 {
    match unit.trim_end_matches('s') {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        _ => 7.0 * 86_400.0,
    }
}
