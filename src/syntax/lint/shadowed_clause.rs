//! `shadowed_clause`: two clauses over the same cases, with the same start and stop, where one
//! limit makes the other redundant. A deadline of 30 minutes is met whenever one of 10 minutes
//! on the same clock is; a target `at least 80%` whenever `at least 90%` of the same ratio is.
//! The redundant clause (the looser one) is reported, unless it has stages of its own
//! (escalations are a reason to keep it).

use super::{clauses, ClauseFacts, Context, Finding, Level, Lint};
use crate::policy::{Clause, ClauseBody, Limit};
use std::collections::HashMap;

pub(super) const LINT: Lint = Lint {
    name: "shadowed_clause",
    level: Level::Warn,
    description: "a clause met whenever another one is: same `when`, start, stop (or ratio) and a looser limit",
    help: "remove the looser clause, or give it what makes it different (another `when`, start or stop)",
};

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // Only clauses over the same cases can shadow each other: compare within those groups,
    // so that a policy of many clauses is not compared pair by pair.
    let mut groups: HashMap<String, Vec<(usize, &Clause, &ClauseFacts)>> = HashMap::new();
    for (i, clause, facts) in clauses(cx) {
        if matches!(clause.body, ClauseBody::Deadline(_) | ClauseBody::Target(_)) {
            let key = format!("{:?} {:?}", clause.applies, clause.effective);
            groups.entry(key).or_default().push((i, clause, facts));
        }
    }
    for all in groups.values() {
        for &(i, loose, facts) in all {
            let stricter = all.iter().find(|&&(j, strict, _)| {
                j != i
                    && makes_redundant(strict, loose)
                    && (!makes_redundant(loose, strict) || j < i)
            });
            if let Some(&(_, strict, strict_facts)) = stricter {
                let mut d = cx.diagnostic(
                    &LINT,
                    format!("`{}` is met whenever `{}` is", loose.name, strict.name),
                    facts.name_span,
                    "redundant clause",
                );
                d.labels
                    .push((strict_facts.name_span, "the stricter clause".to_string()));
                out.push((Some(i), d));
            }
        }
    }
}

/// Whether meeting `strict` implies meeting `loose`: same cases and clock, and a limit at
/// least as tight.
fn makes_redundant(strict: &Clause, loose: &Clause) -> bool {
    if strict.applies != loose.applies || strict.effective != loose.effective {
        return false;
    }
    match (&strict.body, &loose.body) {
        (ClauseBody::Deadline(s), ClauseBody::Deadline(l)) => {
            l.stages.is_empty()
                && s.start == l.start
                && s.stop == l.stop
                && s.pause == l.pause
                && tighter(&s.limit, &l.limit)
        }
        (ClauseBody::Target(s), ClauseBody::Target(l)) => {
            s.measure == l.measure
                && s.period == l.period
                && s.group_by == l.group_by
                && s.at_least == l.at_least
                && if s.at_least {
                    s.bound_permille >= l.bound_permille
                } else {
                    s.bound_permille <= l.bound_permille
                }
        }
        _ => false,
    }
}

/// Whether limit `a` is never later than limit `b` (same kind and calendar, less or equal).
fn tighter(a: &Limit, b: &Limit) -> bool {
    match (a, b) {
        (Limit::Elapsed(x), Limit::Elapsed(y)) => x <= y,
        (
            Limit::BusinessTime {
                amount: x,
                calendar: c,
            },
            Limit::BusinessTime {
                amount: y,
                calendar: d,
            },
        ) => c == d && x <= y,
        (
            Limit::Workdays {
                days: x,
                calendar: c,
            },
            Limit::Workdays {
                days: y,
                calendar: d,
            },
        ) => c == d && x <= y,
        _ => false,
    }
}
