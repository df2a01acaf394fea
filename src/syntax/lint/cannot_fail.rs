//! `cannot_fail`: a clause no stream can breach. A target `at most 100%` or `at least 0%`, a
//! sample of 0 %, a coverage floor of 0 % or a quota of 0 per period is met by every period (and so is a measure `at least 0` or `change at least -100%`),
//! so the standard it stands for is not checked at all.

use super::{clauses, Context, Finding, Level, Lint};
use crate::policy::{ClauseBody, DutyRule, Measure, StatBound, Target};
use crate::syntax::grammar::Rule;

pub(super) const LINT: Lint = Lint {
    name: "cannot_fail",
    level: Level::Warn,
    description: "a target, sample, coverage floor or quota that every period meets (`at most 100%`, `at least 0%`, `ratio 0%`, `at least 0 per`)",
    help: "state the bound the standard sets; if the language cannot express it yet, `allow cannot_fail` with a comment saying what is missing",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (i, clause, facts) in clauses(cx) {
        let line = |rule: Rule| facts.lines.get(&rule).copied().unwrap_or(facts.name_span);
        let found = match &clause.body {
            // An obligation has no bound of its own: it fails when its event does not come.
            ClauseBody::Target(Target {
                measure: Measure::Obligation(_),
                ..
            }) => None,
            ClauseBody::Target(Target {
                measure: Measure::Stat(m),
                ..
            }) => match m.bound {
                StatBound::Value {
                    at_least: true,
                    value: 0,
                } => Some((
                    line(Rule::measure_bound_item),
                    "a count or a duration is never below 0".to_string(),
                )),
                StatBound::Change {
                    at_least: true,
                    permille,
                } if permille <= -1000 => Some((
                    line(Rule::change_item),
                    "nothing falls by more than 100%".to_string(),
                )),
                _ => None,
            },
            ClauseBody::Target(t) if !t.at_least && t.bound_permille >= 1000 => Some((
                line(Rule::bound_item),
                "a ratio is never above 100%".to_string(),
            )),
            ClauseBody::Target(t) if t.at_least && t.bound_permille == 0 => Some((
                line(Rule::bound_item),
                "a ratio is never below 0%".to_string(),
            )),
            ClauseBody::Sample(s) if s.ratio_permille == 0 => Some((
                line(Rule::sample_ratio_item),
                "a sample of 0% requires no check".to_string(),
            )),
            ClauseBody::Notify(n) if n.coverage_permille == Some(0) => Some((
                line(Rule::coverage_item),
                "a coverage is never below 0%".to_string(),
            )),
            ClauseBody::Every(d) if matches!(d.rule, DutyRule::Quota { count: 0, .. }) => Some((
                line(Rule::quota_item),
                "a quota of 0 is met by a period without any event".to_string(),
            )),
            ClauseBody::Record(r)
                if r.items
                    .iter()
                    .any(|i| matches!(i, crate::policy::RecordItem::AtLeast { count: 0, .. })) =>
            {
                Some((
                    line(Rule::count_item),
                    "at least 0 is met by a case without any such event".to_string(),
                ))
            }
            _ => None,
        };
        if let Some((span, label)) = found {
            out.push((
                Some(i),
                cx.diagnostic(
                    &LINT,
                    format!("`{}` can never fail", clause.name),
                    span,
                    label,
                ),
            ));
        }
    }
}
