//! Lowers `target` clauses: a ratio over a period held at least or at most at a bound.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::common::period_unit;
use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `target` clause takes into `clause`.
    pub(super) fn target_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        match item.as_rule() {
            Rule::target_ratio_item => {
                let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
                let period = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::period_unit)
                    .map(|p| period_unit(p.as_str()));
                let measure = if let Some(word) =
                    parts.iter().find(|p| p.as_rule() == Rule::verdict_word)
                {
                    parts.iter().find(|p| p.as_rule() == Rule::name).map(|n| {
                        self.verdict_targets
                            .push((n.as_str().to_string(), Self::span(n)));
                        Measure::Verdicts {
                            status: word.as_str().to_string(),
                            clause: n.as_str().to_string(),
                        }
                    })
                } else {
                    let triggers: Vec<_> = parts
                        .iter()
                        .filter(|p| p.as_rule() == Rule::trigger)
                        .cloned()
                        .collect();
                    let success = triggers.first().cloned().and_then(|t| self.trigger(t));
                    let among = triggers.get(1).cloned().and_then(|t| self.trigger(t));
                    match (success, among) {
                        (Some(success), Some(among)) => Some(Measure::Events { success, among }),
                        _ => None,
                    }
                };
                if let (Some(m), Some(p)) = (measure, period) {
                    clause.target_ratio = Some((m, p));
                }
            }
            Rule::bound_item => {
                let mut at_least = true;
                let mut value = None;
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::k_most => at_least = false,
                        Rule::percent => {
                            let span = Self::span(&p);
                            value = self.permille(p);
                            if value.is_some_and(|v| v > 1000) {
                                self.share_over_100(span);
                                value = None;
                            }
                        }
                        _ => {}
                    }
                }
                clause.bound = value.map(|v| (at_least, v));
            }
            _ => {}
        }
    }

    /// Checks that each `ratio STATUS of CLAUSE` names a deadline clause of the policy (or, for
    /// a snippet, of the policy it works on): another name would count no verdict, ever.
    pub(super) fn resolve_verdict_targets(&mut self, clauses: &[Clause]) {
        let pending = std::mem::take(&mut self.verdict_targets);
        let context = std::mem::take(&mut self.context_deadlines);
        let deadlines: Vec<&str> = clauses
            .iter()
            .filter(|c| matches!(c.body, ClauseBody::Deadline(_)))
            .map(|c| c.name.as_str())
            .chain(context.iter().map(String::as_str))
            .collect();
        for (name, span) in pending {
            if deadlines.contains(&name.as_str()) {
                continue;
            }
            let other = clauses.iter().any(|c| c.name == name);
            let help = match crate::syntax::diagnostics::closest(&name, deadlines.iter().copied()) {
                Some(c) if !other => format!("did you mean `{c}`?"),
                _ => "name a `deadline` clause of this policy: its verdicts are what is counted"
                    .to_string(),
            };
            let message = if other {
                format!("`{name}` is not a deadline clause: it gives no verdicts to count")
            } else {
                format!("no deadline clause `{name}` in this policy")
            };
            self.err(
                "pledge::target::unknown_clause",
                span,
                message,
                "not a deadline clause of this policy",
            )
            .set_help(help);
        }
        self.context_deadlines = context;
    }

    /// Builds a `target` clause's body from its lines, reporting the missing ones.
    pub(super) fn target_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        if let Some(body) = self.obligation_body(name, clause) {
            return body;
        }
        if let Some(m) = clause.measure.take() {
            return self.measure_body(name, span, m, clause);
        }
        if clause.seen.contains_key(&Rule::measure_item) {
            // The `measure` line's own error is reported.
            return None;
        }
        let Some((measure, period)) = clause.target_ratio.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "target",
                "ratio",
                "add `ratio rated(satisfied == true) among rated per month`",
            );
            return None;
        };
        if let Some(span) = clause.measure_bound_span() {
            self.err(
                "pledge::measure::ratio_bound",
                span,
                "a ratio is bounded by a percentage",
                "not a percentage",
            )
            .set_help("write `at least 90%`, or measure a count or a duration with `measure`");
            return None;
        }
        let Some((at_least, bound_permille)) = clause.bound else {
            self.missing(
                &clause.seen,
                (name, span),
                "target",
                "bound",
                "add `at least 90%` or `at most 2%`",
            );
            return None;
        };
        Some(ClauseBody::Target(Target {
            measure,
            period,
            group_by: std::mem::take(&mut clause.group_by),
            at_least,
            bound_permille,
        }))
    }
}
