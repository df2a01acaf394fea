//! Lowers obligations triggered by a target's outcome: a `target` clause whose only measure line
//! is `require EVENT within D after TARGET missed` (module `period::obligation` evaluates it).
//!
//! The obligation has no ratio, measure, bound or `group by` of its own: it owes one event per
//! (period, group) that the named target misses, so it takes that target's period and groups.
//! The name is resolved once every clause of the policy is lowered (a target may be written
//! below the obligation on it); in the REPL, the clauses of the policy a snippet works on count
//! too.

use crate::policy::*;
use crate::syntax::diagnostics::closest;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::{ClauseParts, Lowerer};

/// A target an obligation may name, as the lowering knows it: its name, period, groups and
/// whether it is an obligation itself (which has no verdict of its own to trigger another).
#[derive(Debug, Clone)]
pub(crate) struct KnownTarget {
    pub name: String,
    pub period: PeriodUnit,
    pub group_by: Vec<String>,
    pub obligation: bool,
}

impl KnownTarget {
    /// The target of `clause`, if it is a `target` clause.
    pub(crate) fn of(clause: &Clause) -> Option<KnownTarget> {
        let ClauseBody::Target(t) = &clause.body else {
            return None;
        };
        Some(KnownTarget {
            name: clause.name.clone(),
            period: t.period,
            group_by: t.group_by.clone(),
            obligation: matches!(t.measure, Measure::Obligation(_)),
        })
    }
}

/// The lines a clause with an obligation may not have, with what they are called.
const OTHER_TARGET_LINES: [(Rule, &str); 6] = [
    (Rule::target_ratio_item, "`ratio`"),
    (Rule::measure_item, "`measure`"),
    (Rule::bound_item, "`at least`/`at most`"),
    (Rule::measure_bound_item, "`at least`/`at most`"),
    (Rule::change_item, "`change`"),
    (Rule::group_item, "`group by`"),
];

impl Lowerer<'_> {
    /// Lowers a `require EVENT within D after TARGET missed` line into `clause`.
    pub(super) fn obligation_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        let mut event = None;
        let mut within = None;
        let mut target = None;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::trigger => event = self.trigger(p),
                Rule::duration => within = self.duration(p),
                Rule::name => target = Some((p.as_str().to_string(), Self::span(&p))),
                _ => {}
            }
        }
        if let (Some(event), Some(within), Some((target, span))) = (event, within, target) {
            clause.obligation = Some((
                Obligation {
                    event,
                    within,
                    target,
                },
                span,
            ));
        }
    }

    /// The body of a `target` clause with a `require` line, or `None` when it has none. A ratio,
    /// measure, bound or `group by` beside it is an error: those are the target's.
    pub(super) fn obligation_body(
        &mut self,
        name: &str,
        clause: &mut ClauseParts,
    ) -> Option<Option<ClauseBody>> {
        if !clause.seen.contains_key(&Rule::obligation_item) {
            return None;
        }
        // Without it, the line's own error (an unknown event, a bad duration) is reported.
        let Some((obligation, target_span)) = clause.obligation.take() else {
            return Some(None);
        };
        let mut mixed = false;
        for (rule, word) in OTHER_TARGET_LINES {
            let Some(&span) = clause.seen.get(&rule) else {
                continue;
            };
            mixed = true;
            let target = obligation.target.clone();
            self.err(
                "pledge::target::obligation_mixed",
                span,
                format!("target `{name}` requires an event after `{target}` missed and also has a {word} line"),
                "not beside `require`",
            )
            .set_help(format!(
                "an obligation takes the period and groups of `{target}`: move this line to `{target}`, or put the obligation in a clause of its own"
            ));
        }
        if mixed {
            return Some(None);
        }
        self.obligations.push((name.to_string(), target_span));
        Some(Some(ClauseBody::Target(Target {
            measure: Measure::Obligation(obligation),
            // Set from the named target once every clause is lowered.
            period: PeriodUnit::Month,
            group_by: Vec::new(),
            at_least: true,
            bound_permille: 0,
        })))
    }

    /// Resolves the target each obligation names, among the clauses of the policy (and, for a
    /// snippet, those of the policy it works on): copies its period and groups, or reports a
    /// name that is no target, or an obligation on an obligation.
    pub(super) fn resolve_obligations(&mut self, clauses: &mut [Clause]) {
        let pending = std::mem::take(&mut self.obligations);
        if pending.is_empty() {
            return;
        }
        let mut known: Vec<KnownTarget> = clauses.iter().filter_map(KnownTarget::of).collect();
        for k in &self.context_targets {
            if !known.iter().any(|t| t.name == k.name) {
                known.push(k.clone());
            }
        }
        let mut spans = pending.into_iter();
        for clause in clauses.iter_mut() {
            let ClauseBody::Target(t) = &mut clause.body else {
                continue;
            };
            let Measure::Obligation(o) = &t.measure else {
                continue;
            };
            let Some((_, span)) = spans.next() else {
                break;
            };
            let target = o.target.clone();
            match known.iter().find(|k| k.name == target) {
                Some(k) if !k.obligation => {
                    t.period = k.period;
                    t.group_by = k.group_by.clone();
                }
                Some(_) => {
                    self.err(
                        "pledge::target::obligation_on_obligation",
                        span,
                        format!("`{target}` is an obligation, not a target with a verdict"),
                        "an obligation",
                    )
                    .set_help("name the target whose missed periods create the duty");
                }
                None => {
                    let names = known
                        .iter()
                        .filter(|k| !k.obligation)
                        .map(|k| k.name.as_str());
                    let help = match closest(&target, names) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => "name a `target` clause of this policy".to_string(),
                    };
                    self.err(
                        "pledge::target::obligation_unknown",
                        span,
                        format!("no target `{target}` in this policy"),
                        "not a target of this policy",
                    )
                    .set_help(help);
                }
            }
        }
    }
}
