//! `never_applies`: a `when` condition no case can satisfy, or an event filter no event can,
//! given the schema: `kind == "complaint" and kind == "repair"`, `severity in []`, a bare
//! `kind` (true only for the value `true`) when `kind` is enumerated text. The clause then
//! judges nothing, silently.
//!
//! The check is exact for the conditions of the language: every comparison is against a
//! literal, so an attribute's behaviour is decided by where its value falls among the literals
//! it is compared with. Trying one representative value of each such region (absent, each
//! literal, a value between and beyond them, another text, the booleans, a list of the
//! literals) for every attribute decides satisfiability; conditions over too many attributes
//! for that are passed over rather than guessed.

use super::{clauses, Context, Finding, Level, Lint};
use crate::policy::Condition;
use crate::syntax::schema::AttrType;
use crate::value::{Attrs, Value};
use std::collections::BTreeMap;

pub(super) const LINT: Lint = Lint {
    name: "never_applies",
    level: Level::Warn,
    description: "a `when` condition or event filter that no value of the schema satisfies",
    help: "an attribute holds one value: to accept several write `kind in [\"complaint\", \"repair\"]`",
};

/// Assignments tried at most per condition.
const MAX_TRIES: usize = 20_000;

/// Condition nodes evaluated at most over a whole policy (tries × size), so that a large
/// adversarial policy still loads quickly; past it, conditions are passed over.
const BUDGET: usize = 50_000_000;

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut budget = BUDGET;
    for (i, clause, facts) in clauses(cx) {
        if let Some(span) = facts.lines.get(&crate::syntax::grammar::Rule::when_item) {
            if !satisfiable(
                &clause.applies,
                |a| cx.schema.case.get(a).cloned(),
                &mut budget,
            ) {
                out.push((
                    Some(i),
                    cx.diagnostic(
                        &LINT,
                        format!("clause `{}` applies to no case", clause.name),
                        *span,
                        "no case satisfies this condition",
                    )
                    .help(help_for(&clause.applies)),
                ));
            }
        }
        for (event, cond, span) in &facts.filters {
            if !satisfiable(cond, |a| cx.schema.event_attr(event, a), &mut budget) {
                out.push((
                    Some(i),
                    cx.diagnostic(
                        &LINT,
                        format!(
                            "the filter on `{event}` in `{}` matches no event",
                            clause.name
                        ),
                        *span,
                        "no event satisfies this condition",
                    )
                    .help(help_for(cond)),
                ));
            }
        }
    }
}

/// Help that fits the condition: when it asks one attribute to equal two values at once, how
/// to accept either (`kind in ["complaint", "repair"]`); otherwise where to look.
fn help_for(cond: &Condition) -> String {
    fn equalities<'c>(cond: &'c Condition, out: &mut BTreeMap<&'c str, Vec<&'c Value>>) {
        match cond {
            Condition::Compare {
                attr,
                op: crate::policy::CmpOp::Eq,
                value,
            } => {
                let values = out.entry(attr.as_str()).or_default();
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            Condition::And(parts) => parts.iter().for_each(|p| equalities(p, out)),
            _ => {}
        }
    }
    let mut eq = BTreeMap::new();
    equalities(cond, &mut eq);
    match eq.into_iter().find(|(_, values)| values.len() > 1) {
        Some((attr, values)) => {
            let list: Vec<String> = values
                .iter()
                .map(|v| crate::syntax::format::format_value(v))
                .collect();
            format!(
                "an attribute holds one value: to accept several write `{attr} in [{}]`",
                list.join(", ")
            )
        }
        None => "no value satisfies all of its comparisons together (given the schema's types \
                 and values): check the bounds and operators, or drop the line"
            .to_string(),
    }
}

/// Whether some assignment of values (of the schema's types, where it declares them) makes
/// `cond` true. Undecided (too many combinations, or `budget` spent) counts as satisfiable.
pub(crate) fn satisfiable(
    cond: &Condition,
    ty: impl Fn(&str) -> Option<AttrType>,
    budget: &mut usize,
) -> bool {
    // A comparison with a case attribute depends on a value the condition does not name:
    // undecided, so satisfiable.
    // A register lookup depends on the register's rows: undecided as well.
    let mut case_refs = Vec::new();
    cond.case_attributes(&mut case_refs);
    if !case_refs.is_empty() || looks_up_a_register(cond) {
        return true;
    }
    let mut literals: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    collect(cond, &mut literals);
    // Each attribute has about as many representative values as literals: more than can be
    // tried is undecided before they are made (making them is quadratic in the literals).
    if literals.values().any(|lits| lits.len() >= MAX_TRIES) {
        return true;
    }
    let domains: Vec<(&str, Vec<Option<Value>>)> = literals
        .iter()
        .map(|(attr, lits)| (*attr, domain(ty(attr), lits)))
        .collect();
    let total = domains
        .iter()
        .try_fold(1usize, |acc, (_, d)| acc.checked_mul(d.len().max(1)));
    let cost = total.and_then(|t| t.checked_mul(size(cond)));
    match (total, cost) {
        (Some(t), Some(c)) if t <= MAX_TRIES && c <= *budget => *budget -= c,
        _ => return true,
    }
    let mut index = vec![0usize; domains.len()];
    loop {
        let mut attrs = Attrs::new();
        for ((attr, values), &k) in domains.iter().zip(&index) {
            if let Some(Some(v)) = values.get(k) {
                attrs.insert(attr, v.clone());
            }
        }
        if cond.eval(&attrs) {
            return true;
        }
        // The next assignment, as an odometer.
        let mut pos = 0;
        loop {
            let Some((_, values)) = domains.get(pos) else {
                return false;
            };
            index[pos] += 1;
            if index[pos] < values.len() {
                break;
            }
            index[pos] = 0;
            pos += 1;
        }
    }
}

fn looks_up_a_register(cond: &Condition) -> bool {
    match cond {
        Condition::InRegister { .. } => true,
        Condition::Not(inner) => looks_up_a_register(inner),
        Condition::And(parts) | Condition::Or(parts) => parts.iter().any(looks_up_a_register),
        _ => false,
    }
}

/// The number of nodes of a condition, a list counting its values: what one evaluation costs
/// at most.
fn size(cond: &Condition) -> usize {
    match cond {
        Condition::Not(inner) => 1 + size(inner),
        Condition::And(parts) | Condition::Or(parts) => 1 + parts.iter().map(size).sum::<usize>(),
        Condition::In { values, .. } => 1 + values.len(),
        _ => 1,
    }
}

fn collect<'a>(cond: &'a Condition, out: &mut BTreeMap<&'a str, Vec<&'a Value>>) {
    match cond {
        Condition::Always => {}
        Condition::Compare { attr, value, .. } => out.entry(attr).or_default().push(value),
        Condition::In { attr, values } => out.entry(attr).or_default().extend(values.iter()),
        Condition::Has(attr)
        | Condition::Truthy(attr)
        | Condition::CompareCase { attr, .. }
        | Condition::InRegister { attr, .. } => {
            out.entry(attr).or_default();
        }
        Condition::Not(inner) => collect(inner, out),
        Condition::And(parts) | Condition::Or(parts) => {
            for p in parts {
                collect(p, out);
            }
        }
    }
}

/// A number below `n`: `n - 1` where that is below it, else the next float down.
fn below(n: f64) -> f64 {
    if n - 1.0 < n || !n.is_finite() {
        return n - 1.0;
    }
    if n == 0.0 {
        return -f64::from_bits(1);
    }
    let bits = n.to_bits();
    f64::from_bits(if n > 0.0 { bits - 1 } else { bits + 1 })
}

/// Representative values of an attribute (`None`: absent).
fn domain(ty: Option<AttrType>, literals: &[&Value]) -> Vec<Option<Value>> {
    let mut out: Vec<Option<Value>> = vec![None];
    // Each value once (by its printed form: a value printed twice is the same value), in a set
    // rather than by a scan of those so far, which was quadratic in a long `in [...]` list.
    let mut seen = std::collections::HashSet::new();
    let mut push = |v: Value| {
        if seen.insert(format!("{v:?}")) {
            out.push(Some(v));
        }
    };
    let other_text = || Value::String("\u{0}other".into());
    let numbers = |push: &mut dyn FnMut(Value)| {
        let mut ns: Vec<f64> = literals.iter().filter_map(|v| v.as_f64()).collect();
        ns.sort_by(f64::total_cmp);
        // Below, between and above the literals: strictly so, also where adding 1 changes
        // nothing (from 2^53 up, a number and the number plus 1 are the same float).
        push(Value::Number(ns.first().map_or(0.0, |&n| below(n))));
        for w in ns.windows(2) {
            push(Value::Number((w[0] + w[1]) / 2.0));
        }
        for n in &ns {
            push(Value::Number(*n));
        }
        push(Value::Number(ns.last().map_or(1.0, |&n| -below(-n))));
    };
    match ty {
        Some(AttrType::OneOf(values)) => {
            for v in values {
                push(Value::String(v.as_str().into()));
            }
        }
        Some(AttrType::Bool) => {
            push(Value::Bool(true));
            push(Value::Bool(false));
        }
        Some(AttrType::Number) => numbers(&mut push),
        Some(AttrType::String | AttrType::Time) => {
            for v in literals.iter().filter(|v| v.as_str().is_some()) {
                push((*v).clone());
            }
            push(other_text());
        }
        Some(AttrType::Any) | None => {
            for v in literals {
                push((*v).clone());
            }
            push(Value::Null);
            push(Value::Bool(true));
            push(Value::Bool(false));
            push(other_text());
            numbers(&mut push);
            // A list attribute matches `in` when any element is in the set.
            push(Value::List(literals.iter().map(|v| (*v).clone()).collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::CmpOp;

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    /// `category in [N texts] and category == "zz"`: never true.
    fn contradiction(n: usize) -> Condition {
        Condition::And(vec![
            Condition::In {
                attr: "category".into(),
                values: (0..n).map(|i| text(&format!("v{i}"))).collect(),
            },
            Condition::Compare {
                attr: "category".into(),
                op: CmpOp::Eq,
                value: text("zz"),
            },
        ])
    }

    /// A list is decided while trying every value against it fits the budget, and passed over
    /// (undecided: satisfiable) once it does not: an evaluation of `in [...]` costs its length,
    /// so a list of tens of thousands of values no longer costs the square of its length.
    #[test]
    fn a_list_costs_its_length_against_the_budget() {
        let mut budget = BUDGET;
        assert!(!satisfiable(&contradiction(100), |_| None, &mut budget));
        assert!(budget < BUDGET - 100 * 100, "spent {}", BUDGET - budget);
        let mut budget = BUDGET;
        assert!(satisfiable(&contradiction(20_000), |_| None, &mut budget));
        assert_eq!(budget, BUDGET, "nothing tried");
        let mut budget = 1_000;
        assert!(satisfiable(&contradiction(100), |_| None, &mut budget));
    }
}
