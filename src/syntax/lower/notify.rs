//! Lowers `notify` clauses: who must be told, through which channels, how soon and how widely.

use crate::policy::*;
use crate::syntax::grammar::Rule;
use pest::iterators::Pair;

use super::{ClauseParts, Lowerer};

impl Lowerer<'_> {
    /// Lowers a line only a `notify` clause takes into `clause`.
    pub(super) fn notify_line(&mut self, item: Pair<'_, Rule>, clause: &mut ClauseParts) {
        let rule = item.as_rule();
        match rule {
            Rule::channels_item | Rule::audience_item => {
                let mut all = true;
                let mut names = Vec::new();
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::quantifier => all = p.as_str() == "all",
                        Rule::name_list => {
                            names = p.into_inner().map(|n| n.as_str().to_string()).collect()
                        }
                        _ => {}
                    }
                }
                let req = Some(Required { all, names });
                if rule == Rule::channels_item {
                    clause.channels = req;
                } else {
                    clause.audiences = req;
                }
            }
            Rule::coverage_item => {
                let percent = item.into_inner().find(|p| p.as_rule() == Rule::percent);
                let span = percent.as_ref().map(Self::span);
                clause.coverage = percent.and_then(|p| self.permille(p));
                if let (Some(v), Some(span)) = (clause.coverage, span) {
                    if v > 1000 {
                        self.share_over_100(span);
                        clause.coverage = None;
                    }
                }
            }
            Rule::first_item => {
                let mut trigger = None;
                let mut channels = Vec::new();
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::trigger => trigger = self.trigger(p),
                        Rule::name_list => {
                            channels = p.into_inner().map(|n| n.as_str().to_string()).collect()
                        }
                        _ => {}
                    }
                }
                clause.first = trigger.map(|t| (t, channels));
            }
            Rule::lead_item => {
                let mut before = None;
                let mut attr = None;
                for p in item.into_inner() {
                    match p.as_rule() {
                        Rule::duration => before = self.duration(p),
                        Rule::name => attr = Some(p.as_str().to_string()),
                        _ => {}
                    }
                }
                if let (Some(before), Some(attr)) = (before, attr) {
                    clause.lead = Some(LeadTime { before, attr });
                }
            }
            _ => {}
        }
    }

    /// Builds a `notify` clause's body from its lines, reporting the missing ones.
    pub(super) fn notify_body(
        &mut self,
        name: &str,
        span: Span,
        clause: &mut ClauseParts,
    ) -> Option<ClauseBody> {
        if clause.channels.is_none() && clause.audiences.is_none() && clause.first.is_none() {
            self.missing(&clause.seen, (name, span), "notify", "channels", "add `channels all [sms, notice_board, app_push]`, `audience all [...]` or `first contacted via phone`");
        }
        Some(ClauseBody::Notify(Notify {
            start: clause
                .from
                .take()
                .unwrap_or_else(|| Trigger::event("opened")),
            limit: clause.limit.take(),
            channels: clause.channels.take(),
            audiences: clause.audiences.take(),
            coverage_permille: clause.coverage,
            first_contact: clause.first.take(),
            lead: clause.lead.take(),
        }))
    }
}
