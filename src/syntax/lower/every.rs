//! Lowers `every` clauses: a duty done at a steady gap or a quota per period.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::common::period_unit;
use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `every` clause takes into `clause`.
    pub(super) fn every_line(
        &mut self,
        item: Pair<'_, Rule>,
        item_span: Span,
        clause: &mut ClauseParts,
    ) {
        match item.as_rule() {
            Rule::quota_item => {
                let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                let trigger = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::trigger)
                    .cloned()
                    .and_then(|t| self.trigger(t));
                let count = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::number)
                    .and_then(|n| n.as_str().parse::<u32>().ok());
                let per = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::period_unit)
                    .map(|p| period_unit(p.as_str()));
                let on_part = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::on_calendar)
                    .cloned();
                let on_span = on_part.as_ref().map(Self::span);
                let on = self.calendar_ref(on_part);
                if let (Some(span), Some(per)) = (on_span, per) {
                    if on.is_none() {
                        // The unknown calendar is reported where it is named.
                        return;
                    }
                    if per != PeriodUnit::Day {
                        self.err(
                            "pledge::every::calendar_needs_day",
                            span,
                            format!("a {} is not a working day or a day off", per.as_str()),
                            "only a day is",
                        )
                        .set_help("owe the duty on working days only: `meeting_held at least 1 per day on office`");
                        return;
                    }
                }
                match (trigger, count, per) {
                    (Some(t), Some(count), Some(per)) if count >= 1 => {
                        clause.duty = Some((t, DutyRule::Quota { count, per, on }))
                    }
                    (Some(_), _, Some(_)) => {
                        self.err(
                            "pledge::every::bad_count",
                            item_span,
                            "a quota needs a whole number of at least 1",
                            "here",
                        )
            .set_help("write a whole number of at least 1, such as `drilled at least 1 per quarter`");
                    }
                    _ => {}
                }
            }
            Rule::duty_item => {
                let parts: Vec<Pair<'_, Rule>> = item.clone().into_inner().collect();
                let trigger = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::trigger)
                    .cloned()
                    .and_then(|t| self.trigger(t));
                let limit = self.limit_parts(
                    Rule::within_limit,
                    parts
                        .into_iter()
                        .filter(|p| p.as_rule() != Rule::trigger)
                        .collect(),
                );
                if let (Some(t), Some(l)) = (trigger, limit) {
                    clause.duty = Some((t, DutyRule::Gap(l)));
                }
            }
            _ => {}
        }
    }

    /// Builds a `every` clause's body from its lines, reporting the missing ones.
    pub(super) fn every_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let Some((event, rule)) = clause.duty.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "every",
                "duty",
                "add `patrolled every 2 hours` or `drilled at least 1 per quarter`",
            );
            return None;
        };
        self.check_per_alert(clause);
        let during = clause.during.take().map(|(n, _)| n);
        let active = match (clause.from.take(), clause.until.take()) {
            (None, None) => None,
            (from, Some(until)) => Some((from.unwrap_or_else(|| Trigger::event("opened")), until)),
            (Some(from), None) => Some((from, Trigger::event("closed"))),
        };
        Some(ClauseBody::Every(Duty {
            event,
            rule,
            active,
            during,
        }))
    }
}
