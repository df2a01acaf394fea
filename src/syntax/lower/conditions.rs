//! Lowers `when` conditions, event triggers and literal values.

use crate::limits::MAX_CONDITION_DEPTH;
use crate::policy::*;
use crate::syntax::diagnostics::closest;
use crate::syntax::grammar::Rule;
use crate::value::Value;
use pest::iterators::{Pair, Pairs};

use super::Lowerer;

impl Lowerer<'_> {
    pub(crate) fn trigger(&mut self, pair: Pair<'_, Rule>) -> Option<Trigger> {
        let mut matchers = Vec::new();
        let mut ok = true;
        for m in pair.into_inner().filter(|p| p.as_rule() == Rule::matcher) {
            let mut inner = m.into_inner();
            let Some(name) = inner.next() else { continue };
            let event = name.as_str().to_string();
            if !self.events.contains(&event) {
                ok = false;
                let help = match closest(&event, self.events.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`? to use a new event type, declare it: `events {event}`"),
                    None => format!("event types are those of EVENTS.md; to use a new one, declare it in the policy: `events {event}`"),
                };
                self.err(
                    "pledge::clause::unknown_event",
                    Self::span(&name),
                    format!("unknown event type `{event}`"),
                    "not a known event type",
                )
                .set_help(help);
            }
            let filter = match inner.find(|p| p.as_rule() == Rule::condition) {
                Some(c) => {
                    let span = Self::span(&c);
                    let outer = self.filter_event.replace(event.clone());
                    let lowered = self.condition(c, 0);
                    self.filter_event = outer;
                    match lowered {
                        Some(c) => {
                            self.pending.filters.push((event.clone(), c.clone(), span));
                            Some(c)
                        }
                        None => {
                            ok = false;
                            None
                        }
                    }
                }
                None => None,
            };
            matchers.push(EventMatcher {
                event: event.into(),
                filter,
            });
        }
        (ok && !matchers.is_empty()).then_some(Trigger { matchers })
    }

    /// Lowers a condition. `depth` counts nesting; the pre-scan of the source already bounds it,
    /// this is the second guard for the recursion here.
    pub(crate) fn condition(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        if depth > MAX_CONDITION_DEPTH * 4 {
            self.err(
                "pledge::syntax::too_deep",
                Self::span(&pair),
                "condition is nested too deeply",
                "here",
            )
            .set_help(format!(
                "conditions may nest at most {MAX_CONDITION_DEPTH} levels"
            ));
            return None;
        }
        match pair.as_rule() {
            Rule::condition => {
                let parts = self.condition_parts(pair.into_inner(), Rule::conjunction, depth)?;
                Some(if parts.len() == 1 {
                    parts.into_iter().next()?
                } else {
                    Condition::Or(parts)
                })
            }
            Rule::conjunction => {
                let parts = self.condition_parts(pair.into_inner(), Rule::negation, depth)?;
                Some(if parts.len() == 1 {
                    parts.into_iter().next()?
                } else {
                    Condition::And(parts)
                })
            }
            Rule::negation => {
                let mut inner = pair.into_inner();
                let first = inner.next()?;
                if first.as_rule() == Rule::k_not {
                    Some(Condition::Not(Box::new(
                        self.condition(inner.next()?, depth + 1)?,
                    )))
                } else {
                    self.condition(first, depth + 1)
                }
            }
            Rule::has_test => {
                let name = pair.into_inner().find(|p| p.as_rule() == Rule::name)?;
                self.check_attribute(&name, &[]);
                Some(Condition::Has(name.as_str().to_string()))
            }
            Rule::truthy => {
                let name = pair.into_inner().next()?;
                self.check_attribute(&name, &[]);
                Some(Condition::Truthy(name.as_str().to_string()))
            }
            Rule::in_test | Rule::not_in_test => {
                let negated = pair.as_rule() == Rule::not_in_test;
                let mut attr = None;
                let mut values = Vec::new();
                let mut spans = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::name => attr = Some(p),
                        Rule::list => {
                            spans = p.clone().into_inner().map(|v| Self::span(&v)).collect();
                            values = self.list(p);
                        }
                        _ => {}
                    }
                }
                let attr = attr?;
                let literals: Vec<(Value, Span)> =
                    values.iter().cloned().zip(spans.iter().copied()).collect();
                self.check_attribute(&attr, &literals);
                let attr = attr.as_str().to_string();
                let c = Condition::In {
                    attr: attr.clone(),
                    values,
                };
                // `not in` is a comparison like `!=`: false when the case lacks the attribute
                // (SEMANTICS.md, "Applicability"), where `not (a in [...])` negates a false one.
                Some(if negated {
                    Condition::And(vec![Condition::Has(attr), Condition::Not(Box::new(c))])
                } else {
                    c
                })
            }
            Rule::case_comparison => self.case_comparison(pair),
            Rule::register_test => self.register_test(pair, depth),
            Rule::comparison => {
                let mut it = pair.into_inner();
                let attr_pair = it.next()?;
                let attr = attr_pair.as_str().to_string();
                let op_pair = it.next()?;
                let op = match op_pair.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let value_pair = it.next()?;
                let value_span = Self::span(&value_pair);
                let value = self.literal(value_pair);
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !matches!(value, Value::Number(_)) {
                    self.err(
                        "pledge::condition::ordering_needs_number",
                        value_span,
                        format!(
                            "`{}` compares numbers, not {}",
                            op.as_str(),
                            value_kind(&value)
                        ),
                        "not a number",
                    )
                    .set_help("use `==` / `!=` / `in [...]` for text and booleans");
                    return None;
                }
                self.check_attribute(&attr_pair, &[(value.clone(), value_span)]);
                Some(Condition::Compare { attr, op, value })
            }
            _ => {
                // Parenthesised condition.
                let inner = pair.into_inner().next()?;
                self.condition(inner, depth + 1)
            }
        }
    }

    pub(super) fn condition_parts(
        &mut self,
        pairs: Pairs<'_, Rule>,
        want: Rule,
        depth: usize,
    ) -> Option<Vec<Condition>> {
        let mut out = Vec::new();
        let mut ok = true;
        for p in pairs.filter(|p| p.as_rule() == want || p.as_rule() == Rule::condition) {
            match self.condition(p, depth + 1) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        (ok && !out.is_empty()).then_some(out)
    }

    pub(super) fn list(&mut self, pair: Pair<'_, Rule>) -> Vec<Value> {
        pair.into_inner().map(|p| self.literal(p)).collect()
    }

    pub(super) fn literal(&mut self, pair: Pair<'_, Rule>) -> Value {
        match pair.as_rule() {
            Rule::string => Value::String(self.string(pair).into()),
            Rule::number => Value::Number(pair.as_str().parse().unwrap_or(0.0)),
            Rule::boolean => Value::Bool(pair.as_str() == "true"),
            _ => Value::Null,
        }
    }
}

/// The operator of a `cmp_op` pair.
fn cmp_op(pair: &Pair<'_, Rule>) -> CmpOp {
    match pair.as_str() {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

impl Lowerer<'_> {
    /// `channel == case.preferred_channel`: only in an event filter (a `when` condition reads
    /// the case already, and has no event to compare). With a schema, the case attribute must
    /// be declared, like any case attribute a condition names.
    fn case_comparison(&mut self, pair: Pair<'_, Rule>) -> Option<Condition> {
        let mut it = pair.into_inner();
        let attr_pair = it.next()?;
        let op = cmp_op(&it.next()?);
        let case_ref = it.next()?;
        let case_name = case_ref
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::name)?;
        if self.filter_event.is_none() {
            self.err(
                "pledge::condition::case_outside_filter",
                Self::span(&case_ref),
                "`case.` compares an event with its case; this condition has no event",
                "not inside an event filter",
            )
            .set_help(format!(
                "a `when` condition reads the case's attributes directly: `{} {} \"value\"`; \
                 `case.{}` belongs in a trigger's filter, `event({} {} case.{})`",
                case_name.as_str(),
                op.as_str(),
                case_name.as_str(),
                attr_pair.as_str(),
                op.as_str(),
                case_name.as_str()
            ));
            return None;
        }
        self.check_attribute(&attr_pair, &[]);
        // The case side is checked as a `when` condition's attribute would be.
        let event = self.filter_event.take();
        self.check_attribute(&case_name, &[]);
        self.filter_event = event;
        Some(Condition::CompareCase {
            attr: attr_pair.as_str().to_string(),
            op,
            case_attr: case_name.as_str().to_string(),
        })
    }
}

pub(super) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "`null`",
        Value::Bool(_) => "booleans",
        Value::Number(_) => "numbers",
        Value::String(_) => "text",
        Value::List(_) => "lists",
    }
}
