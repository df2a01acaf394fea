//! Lowers `sample` clauses: a share of cases checked by a role each period.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use chrono::Duration;
use pest::iterators::Pair;

use super::common::period_unit;
use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `sample` clause takes into `clause`.
    pub(super) fn sample_line(
        &mut self,
        item: Pair<'_, Rule>,
        item_span: Span,
        clause: &mut ClauseParts,
    ) {
        match item.as_rule() {
            Rule::having_item => {
                clause.having = item
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::trigger)
                    .and_then(|t| self.trigger(t))
            }
            Rule::sample_ratio_item => {
                let (mut ratio, mut role, mut period) = (None, None, None);
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::percent => ratio = self.permille(p),
                        Rule::name => role = Some(p.as_str().to_string()),
                        Rule::period_unit => period = Some(period_unit(p.as_str())),
                        _ => {}
                    }
                }
                if let (Some(r), Some(role), Some(period)) = (ratio, role, period) {
                    if r > 1000 {
                        self.err(
                            "pledge::sample::ratio_over_100",
                            item_span,
                            "a sampling ratio cannot exceed 100%",
                            "here",
                        )
            .set_help("write a ratio from 0% to 100%, such as `ratio 10% by management_dept per month`");
                    } else {
                        clause.sample_ratio = Some((r, role, period));
                    }
                }
            }
            Rule::evidence_item => {
                clause.evidence = item
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::trigger)
                    .and_then(|t| self.trigger(t))
            }
            Rule::lag_item => {
                clause.lag = item
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::duration)
                    .and_then(|d| self.duration(d))
            }
            _ => {}
        }
    }

    /// Builds a `sample` clause's body from its lines, reporting the missing ones.
    pub(super) fn sample_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let Some((ratio_permille, role, period)) = clause.sample_ratio.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "sample",
                "ratio",
                "add `ratio 10% by management_dept per month`",
            );
            return None;
        };
        let Some(population) = clause.having.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "sample",
                "having",
                "say which event puts a case in the population, e.g. `having revisited`",
            );
            return None;
        };
        Some(ClauseBody::Sample(Sample {
            population,
            ratio_permille,
            role,
            period,
            evidence: clause
                .evidence
                .take()
                .unwrap_or_else(|| Trigger::event("spot_checked")),
            lag: clause.lag.unwrap_or_else(Duration::zero),
            group_by: std::mem::take(&mut clause.group_by),
        }))
    }
}
