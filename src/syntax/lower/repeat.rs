//! Lowers `repeat` clauses: the same kind of case recurring, and what then happens.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::common::action_kind;
use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `repeat` clause takes into `clause`.
    pub(super) fn repeat_line(
        &mut self,
        item: Pair<'_, Rule>,
        item_span: Span,
        clause: &mut ClauseParts,
    ) {
        match item.as_rule() {
            Rule::repeat_item => {
                let mut names = Vec::new();
                let (mut times, mut within) = (None, None);
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::name => names.push(p.as_str().to_string()),
                        Rule::number => match p.as_str().parse::<u32>() {
                            Ok(n) if (2..=1000).contains(&n) => times = Some(n),
                            _ => {
                                self.err(
                                    "pledge::repeat::bad_count",
                                    Self::span(&p),
                                    "a repeat needs a whole number of at least 2 cases",
                                    "here",
                                )
            .set_help("write a whole number from 2 to 1000, such as `same unit, topic 2 times within 30 days`");
                            }
                        },
                        Rule::duration => within = self.duration(p),
                        _ => {}
                    }
                }
                if let (Some(t), Some(w)) = (times, within) {
                    clause.repeat = Some((names, t, w));
                }
            }
            Rule::then_item => {
                // Same shape as a stage, without the clock point.
                let mut action = ActionKind::Escalate;
                let mut role = None;
                let mut channels = Vec::new();
                let mut message = None;
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::action => action = action_kind(p.as_str()),
                        Rule::name => role = Some(p.as_str().to_string()),
                        Rule::via => {
                            if let Some(list) =
                                p.into_inner().find(|q| q.as_rule() == Rule::name_list)
                            {
                                channels =
                                    list.into_inner().map(|n| n.as_str().to_string()).collect();
                            }
                        }
                        Rule::string => message = Some(self.string(p)),
                        _ => {}
                    }
                }
                clause.then = role.map(|role| Stage {
                    point: StagePoint::Fraction(0),
                    action,
                    role,
                    channels,
                    message,
                    span: item_span,
                });
            }
            _ => {}
        }
    }

    /// Builds a `repeat` clause's body from its lines, reporting the missing ones.
    pub(super) fn repeat_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let Some((same, times, within)) = clause.repeat.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "repeat",
                "same",
                "add `same unit, topic 2 times within 30 days`",
            );
            return None;
        };
        let Some(then) = clause.then.take() else {
            self.missing(
                &clause.seen,
                (name, span),
                "repeat",
                "then",
                "add `then escalate project_manager \"special_rectification\"`",
            );
            return None;
        };
        Some(ClauseBody::Repeat(Repeat {
            same,
            times,
            within,
            action: then.action,
            role: then.role,
            channels: then.channels,
            message: then.message,
        }))
    }
}
