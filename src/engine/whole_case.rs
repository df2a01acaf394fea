//! One case evaluated at once, from all its events: the reference the streaming
//! [`super::Evaluator`] is tested against, and what explanations and what-if runs read. It
//! gives every kind of per-case record: deadlines, notifications, records, and the duty and
//! window findings of the period clauses, which is why it sits above both.

use crate::eval::case::{case_facts, plan, resolve, CaseView};
use crate::eval::notify;
use crate::eval::verdict::{Action, Finding, Verdict};
use crate::event::{Event, Instant};
use crate::policy::Policy;
use std::sync::Arc;

/// Verdicts, actions and findings of one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseResult {
    pub verdicts: Vec<Verdict>,
    pub actions: Vec<Action>,
    /// Findings of non-deadline clauses: notifications (by clause order, then instant, then
    /// code), then duties and windows.
    pub findings: Vec<Finding>,
}

/// Evaluates one case's events (any order; those after `now` are ignored) against every deadline
/// clause of `policy`, as of `now`. Duplicate ids are not checked here. For explanation tools and
/// what-if runs; the streaming [`super::Evaluator`] gives the same verdicts.
pub fn evaluate_case(policy: &Policy, events: &[Event], now: Instant) -> Vec<Verdict> {
    evaluate_case_full(std::slice::from_ref(policy), events, now).verdicts
}

/// Like [`evaluate_case`], for several policies, with the actions and the findings of
/// notification clauses too.
pub fn evaluate_case_full(policies: &[Policy], events: &[Event], now: Instant) -> CaseResult {
    let mut sorted: Vec<Event> = events.iter().filter(|e| e.at <= now).cloned().collect();
    sorted.sort_by(Event::canonical_cmp);
    let plans = plan(policies);
    let mut result = CaseResult::default();
    let Some(first) = sorted.first() else {
        return result;
    };
    let ticket: Arc<str> = (*first.ticket).into();
    let view = CaseView::new(&sorted);
    let mut facts = Vec::new();
    for i in 0..plans.len() {
        case_facts(&view, &plans, i, &mut facts);
    }
    // Closed when the last `closed` or `reopened` is a `closed`.
    let case_closed = sorted
        .iter()
        .rev()
        .find(|e| matches!(&*e.kind, "closed" | "reopened"))
        .is_some_and(|e| &*e.kind == "closed");
    for f in &facts {
        let mut v = resolve(f, &plans[f.plan], &ticket, now, &mut result.actions);
        v.case_closed = case_closed;
        result.verdicts.push(v);
    }
    let notices = notify::plan(policies);
    let mut notice_facts = Vec::new();
    notify::case_facts(&view, &notices, &mut notice_facts);
    for f in &notice_facts {
        notify::resolve(f, &notices[f.plan], &ticket, now, &mut result.findings);
    }
    let records = crate::eval::record::plan(policies);
    crate::eval::record::case_findings(&view, &records, &ticket, now, &mut result.findings);
    notify::sort_findings(&mut result.findings);
    crate::period::tally::case_findings(policies, &view, &ticket, now, &mut result.findings);
    result
}
