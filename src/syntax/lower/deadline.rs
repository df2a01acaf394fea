//! Lowers `deadline` clauses: a clock from a start event to a stop event, with a limit, pauses
//! and stages.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::{name_span, ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `deadline` clause takes into `clause`.
    pub(super) fn deadline_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        match item.as_rule() {
            Rule::pause_item => {
                if let Some(l) = item.into_inner().find(|p| p.as_rule() == Rule::list) {
                    let values = self.list(l);
                    clause.pause = Some(Pause {
                        statuses: values
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect(),
                    });
                }
            }
            Rule::stage_item => {
                if let Some(s) = self.stage(item) {
                    clause.stages.push(s);
                }
            }
            _ => {}
        }
    }

    /// Builds a `deadline` clause's body from its lines, reporting the missing ones.
    pub(super) fn deadline_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        let until = clause.until.take();
        let limit = clause.limit.take();
        if until.is_none() && !clause.seen.contains_key(&Rule::until_item) {
            self.err(
                "pledge::clause::missing_stop",
                name_span(span, name, self.source.inner()),
                format!("deadline `{name}` has no `until` line"),
                "this deadline",
            )
            .set_help("say which event stops the clock, e.g. `until resolved`");
        }
        if limit.is_none()
            && !clause.seen.contains_key(&Rule::within_limit)
            && !clause.seen.contains_key(&Rule::same_day_limit)
            && !clause.seen.contains_key(&Rule::by_limit)
        {
            self.err("pledge::clause::missing_limit", name_span(span, name, self.source.inner()), format!("deadline `{name}` has no limit"), "this deadline")
                .set_help("add `within 8 hours`, `within 2 workdays on office`, `same day on office` or `by 08:00 next day`");
        }
        if clause.limit_span.is_some() && !clause.seen.is_empty() {
            // Limits of different forms on one clause are duplicates too.
            let forms = [Rule::within_limit, Rule::same_day_limit, Rule::by_limit];
            let present: Vec<Span> = forms
                .iter()
                .filter_map(|r| clause.seen.get(r).copied())
                .collect();
            if present.len() > 1 {
                self.err(
                    "pledge::clause::duplicate_line",
                    present[1],
                    format!("clause `{name}` has two limits"),
                    "second limit",
                )
                .set_help(
                    "a deadline has one limit; use stages (`at 80% warn ...`) for earlier points",
                );
            }
        }
        Some(ClauseBody::Deadline(Deadline {
            start: clause
                .from
                .take()
                .unwrap_or_else(|| Trigger::event("opened")),
            stop: until?,
            limit: limit?,
            pause: clause.pause.take(),
            stages: std::mem::take(&mut clause.stages),
        }))
    }
}
