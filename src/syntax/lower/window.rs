//! Lowers `window` clauses: an event allowed only in periods of the day, weekdays or a season.

use crate::calendar::Period;
use crate::policy::*;
use crate::syntax::grammar::Rule;
use chrono::Weekday;
use pest::iterators::Pair;

use super::calendars::day_set;
use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a `window` clause's `only` line into `clause`.
    pub(super) fn window_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        let mut trigger = None;
        let mut periods = Vec::new();
        let mut days = Vec::new();
        let mut season = None;
        let mut season_ok = true;
        let mut each = None;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::season_range => {
                    let ends: Vec<Option<MonthDay>> =
                        p.into_inner().map(|d| self.month_day(&d)).collect();
                    match ends.as_slice() {
                        [Some(a), Some(b)] => season = Some((*a, *b)),
                        _ => season_ok = false,
                    }
                }
                Rule::trigger => trigger = self.trigger(p),
                Rule::time_range => {
                    if let Some(period) = self.time_range(p) {
                        periods.push(period);
                    }
                }
                Rule::day_set => days = day_set(p),
                Rule::window_each => each = Some(p),
                _ => {}
            }
        }
        let each = match each {
            None => Some(false),
            Some(p) => self.window_each(p, season.is_some()),
        };
        if let (Some(t), true, Some(each)) = (trigger, season_ok, each) {
            clause.window = Some((t, periods, days, season, each));
        }
    }

    /// Reads `each day` (windows of the day) or `each year` (a window of the year): the unit must
    /// be the one the windows repeat in, anything else is an error rather than a guess.
    fn window_each(&mut self, p: Pair<'_, Rule>, season: bool) -> Option<bool> {
        let span = Self::span(&p);
        let unit = p
            .into_inner()
            .find(|u| u.as_rule() == Rule::period_unit)
            .map(|u| u.as_str().to_string())
            .unwrap_or_default();
        let want = if season { "year" } else { "day" };
        if unit == want {
            return Some(true);
        }
        let what = if season {
            "a window of the year repeats each year"
        } else {
            "windows of the day repeat each day"
        };
        self.err(
            "pledge::window::each_unit",
            span,
            format!("`each {unit}` does not fit this window: {what}"),
            "this unit",
        )
        .set_help(format!("write `each {want}`"));
        None
    }

    /// Builds a `window` clause's body from its lines, reporting the missing ones.
    pub(super) fn window_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let Some((event, periods, days, season, each)) = clause.window.take() else {
            if clause.seen.contains_key(&Rule::window_item) {
                // The line is there but did not lower; its own error says why.
                return None;
            }
            self.missing(
                &clause.seen,
                (name, span),
                "window",
                "window",
                "add `maintained only 00:00-05:00`",
            );
            return None;
        };
        Some(ClauseBody::Window(Window {
            event,
            periods,
            days,
            zone: self.zone,
            season,
            each,
        }))
    }
}

/// A `window` clause's event, periods of the day, weekdays and season, as read.
pub(super) type WindowParts = (
    Trigger,
    Vec<Period>,
    Vec<Weekday>,
    Option<(MonthDay, MonthDay)>,
    bool,
);
