//! Lowers `record` clauses: what a case's own history must show (complete records, the order of
//! its steps, counts and distinct actors, warranty windows, follow-ups and events due before a
//! moment the case names).
//!
//! Unlike other clause kinds, a record clause may hold several lines of the same kind (`opened
//! has ...` and `maintained has ...`): each line is one item, kept in the clause's order.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use crate::syntax::schema::AttrType;
use pest::iterators::Pair;

use super::{ClauseParts, Lowerer};

/// The lines only a `record` clause takes.
pub(super) fn is_record_line(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::fields_item
            | Rule::value_item
            | Rule::steps_item
            | Rule::order_item
            | Rule::count_item
            | Rule::warranty_item
            | Rule::gap_item
            | Rule::followed_item
            | Rule::before_item
    )
}

impl Lowerer<'_> {
    /// Lowers one item of a `record` clause into `clause` (an item with errors of its own is
    /// left out; its errors are reported).
    pub(super) fn record_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        let rule = item.as_rule();
        let parts: Vec<Pair<'_, Rule>> = item.into_inner().collect();
        let mut triggers = Vec::new();
        let mut names = Vec::new();
        let mut number = None;
        let mut duration = None;
        let mut values = Vec::new();
        let mut distinct = false;
        let mut ok = true;
        for p in parts {
            match p.as_rule() {
                Rule::trigger => match self.trigger(p) {
                    Some(t) => triggers.push(t),
                    None => ok = false,
                },
                Rule::name => names.push((p.as_str().to_string(), Self::span(&p))),
                Rule::number => match p.as_str().parse::<u32>() {
                    Ok(n) => number = Some(n),
                    Err(_) => {
                        ok = false;
                        self.err(
                            "pledge::record::bad_count",
                            Self::span(&p),
                            "a count is a whole number of events or people",
                            "not a whole number",
                        )
                        .set_help("write a whole number, such as `at least 2`");
                    }
                },
                Rule::duration => match self.duration(p) {
                    Some(d) => duration = Some(d),
                    None => ok = false,
                },
                Rule::list => values = self.list(p),
                Rule::k_distinct => distinct = true,
                _ => {}
            }
        }
        if !ok {
            return;
        }
        let mut triggers = triggers.into_iter();
        let item = match rule {
            Rule::fields_item => triggers.next().map(|event| RecordItem::Fields {
                event,
                attrs: names.into_iter().map(|(n, _)| n).collect(),
            }),
            Rule::value_item => match (triggers.next(), names.into_iter().next()) {
                (Some(event), Some((attr, _))) => Some(RecordItem::Value {
                    event,
                    attr,
                    values,
                }),
                _ => None,
            },
            Rule::steps_item => Some(RecordItem::Steps(triggers.collect())),
            Rule::order_item => match (triggers.next(), triggers.next()) {
                (Some(event), Some(after)) => Some(RecordItem::OnlyAfter { event, after }),
                _ => None,
            },
            Rule::count_item => match (triggers.next(), number) {
                (Some(event), Some(count)) => Some(RecordItem::AtLeast {
                    event,
                    count,
                    distinct_by: distinct,
                    after: triggers.next(),
                }),
                _ => None,
            },
            Rule::warranty_item => match (triggers.next(), duration, triggers.next()) {
                (Some(event), Some(within), Some(after)) => Some(RecordItem::Warranty {
                    event,
                    within,
                    after,
                }),
                _ => None,
            },
            Rule::gap_item => match (triggers.next(), duration) {
                (Some(event), Some(apart)) => Some(RecordItem::Gap { event, apart }),
                _ => None,
            },
            Rule::followed_item => match (triggers.next(), triggers.next()) {
                (Some(event), Some(then)) => Some(RecordItem::FollowedBy {
                    event,
                    then,
                    within: duration,
                }),
                _ => None,
            },
            Rule::before_item => match (triggers.next(), names.into_iter().next()) {
                (Some(event), Some((attr, span))) => {
                    if !self.due_attribute(&attr, span) {
                        return;
                    }
                    Some(RecordItem::Before { event, attr })
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(item) = item {
            clause.record.push(item);
        }
    }

    /// With a schema, the attribute of `EV before ATTR` is a declared case attribute of type
    /// `time` (or `any`): an instant compared with event times, so a typo or a text attribute
    /// would otherwise only show as `record.time_unknown` on every case. Reports and returns
    /// false when it is not.
    fn due_attribute(&mut self, attr: &str, span: Span) -> bool {
        if self.schema.is_empty() {
            return true;
        }
        match self.schema.case.get(attr).cloned() {
            Some(AttrType::Time | AttrType::Any) => true,
            Some(other) => {
                self.err(
                    "pledge::record::not_a_time",
                    span,
                    format!("`{attr}` is a {}, not a timestamp", other.describe()),
                    "not a `time` attribute",
                )
                .set_help(format!(
                    "`before` compares event times with an instant held in the case: declare it `attributes {{ {attr}: time }}`"
                ));
                false
            }
            None => {
                self.err(
                    "pledge::schema::unknown_attribute",
                    span,
                    format!("unknown case attribute `{attr}`"),
                    "not in the attribute schema",
                )
                .set_help(format!(
                    "`before` compares event times with an instant held in the case: declare it `attributes {{ {attr}: time }}`"
                ));
                false
            }
        }
    }

    /// Builds a `record` clause's body from its items, reporting a clause without any.
    pub(super) fn record_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let any_line = clause.seen.keys().any(|r| is_record_line(*r));
        if !any_line {
            self.missing(
                &clause.seen,
                (name, span),
                "record",
                "record",
                "add an item such as `opened has location, contact`, `steps opened, resolved, revisited` or `progress only after reviewed`",
            );
        }
        Some(ClauseBody::Record(Record {
            items: std::mem::take(&mut clause.record),
        }))
    }
}
