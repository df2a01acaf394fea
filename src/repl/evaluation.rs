//! One evaluation of every clause kind over the session's events, as `pledge check` makes it,
//! and a small cache so `:summary`, `:diff` and `:why` do not evaluate the same policies twice.
//!
//! The session keeps its events grouped by case; they are fed to the streaming
//! [`crate::engine::Evaluator`] in the order of their lines in the file, with `now` given
//! explicitly, so verdicts, actions, findings and period records are those `pledge check
//! --now NOW` gives on the same file. Period clauses (sampling, targets, repeats) need the whole
//! stream, which is why the REPL no longer evaluates case by case.

use crate::engine::{Collect, EvalOptions, Evaluator};
use crate::eval::{Action, Finding, Summary, Verdict};
use crate::event::{Event, Instant};
use crate::period::PeriodRecord;
use crate::policy::Policy;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every record of one evaluation, and its summary (one `ClauseSummary` per clause).
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluation {
    pub verdicts: Vec<Verdict>,
    pub actions: Vec<Action>,
    pub findings: Vec<Finding>,
    pub periods: Vec<PeriodRecord>,
    pub summary: Summary,
}

/// Evaluates `policies` over `cases` as of `now`, feeding events in line order.
pub(crate) fn evaluate(
    policies: &[Policy],
    cases: &BTreeMap<String, Vec<Event>>,
    now: Instant,
) -> Evaluation {
    let mut events: Vec<&Event> = cases.values().flatten().collect();
    // Stable: events of one line (never, from one file) keep their ticket order.
    events.sort_by_key(|e| e.line);
    let opts = EvalOptions {
        now: Some(now),
        ..EvalOptions::default()
    };
    let mut evaluator = Evaluator::new(policies, opts, Collect::default());
    for e in events {
        evaluator.push(e.clone());
    }
    let (summary, sink) = evaluator.finish();
    Evaluation {
        verdicts: sink.verdicts,
        actions: sink.actions,
        findings: sink.findings,
        periods: sink.periods,
        summary,
    }
}

/// What an evaluation depends on: the policies, `now`, and which events were loaded.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    policies: Vec<Policy>,
    now: Instant,
    /// Bumped by the session every time it loads events.
    events: u64,
}

/// The last two evaluations (the baseline and the working copy, which `:diff` needs together),
/// keyed by what they depend on. Looking up compares the policies, which costs microseconds;
/// keying by content rather than invalidating by hand means no command can forget to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cache {
    entries: RefCell<Vec<(Key, Arc<Evaluation>)>>,
}

impl Cache {
    /// Keeps this many evaluations.
    const SIZE: usize = 2;

    /// The evaluation of `policies` as of `now` over the events of generation `events`,
    /// computed by `compute` unless cached.
    pub fn get(
        &self,
        policies: &[Policy],
        now: Instant,
        events: u64,
        compute: impl FnOnce() -> Evaluation,
    ) -> Arc<Evaluation> {
        let mut entries = self.entries.borrow_mut();
        if let Some(i) = entries.iter().position(|(k, _)| {
            k.now == now && k.events == events && k.policies.as_slice() == policies
        }) {
            let entry = entries.remove(i);
            let result = entry.1.clone();
            entries.push(entry);
            return result;
        }
        let result = Arc::new(compute());
        entries.push((
            Key {
                policies: policies.to_vec(),
                now,
                events,
            },
            result.clone(),
        ));
        if entries.len() > Self::SIZE {
            entries.remove(0);
        }
        result
    }

    /// How many evaluations are kept (for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_last_two_evaluations() {
        let cache = Cache::default();
        let now = chrono::Utc::now();
        let a = vec![Policy {
            name: "a".into(),
            zone: crate::syntax::DEFAULT_ZONE,
            calendars: Vec::new(),
            clauses: Vec::new(),
            alerts: Vec::new(),
        }];
        let mut b = a.clone();
        b[0].name = "b".into();
        let computed = std::cell::Cell::new(0);
        let get = |p: &[Policy], events| {
            cache.get(p, now, events, || {
                computed.set(computed.get() + 1);
                Evaluation::default()
            });
            computed.get()
        };
        get(&a, 1);
        get(&b, 1);
        get(&a, 1);
        assert_eq!(get(&b, 1), 2, "both copies were cached");
        assert_eq!(get(&a, 2), 3, "new events evaluate again");
        assert_eq!(get(&b, 1), 3, "the working copy stayed cached");
        assert_eq!(get(&a, 1), 4, "the least recent one was dropped");
        assert_eq!(cache.len(), 2);
    }
}
