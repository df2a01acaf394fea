//! Which events and attributes a set of policies can look at.
//!
//! A stream carries many event types no clause mentions (`progress`, `dispatched`, ...) and
//! attributes no condition reads. Keeping them in the buffers of open cases costs memory that
//! grows with the stream (assets that are never closed accumulate a year of events), and
//! building them costs time. The evaluator keeps only what [`Relevance`] says can matter; the
//! results are those of keeping everything, which the tests check against full evaluation.
//!
//! An event type is relevant when a clause names it (start, stop, evidence, population,
//! measure, duty, window, first contact) or when evaluation gives it a meaning of its own
//! (`opened`, `updated`, `status`, `closed`, `reopened`, `escalated`, `notified`). An attribute
//! is relevant when a condition, a grouping or a lead time names it, or when evaluation reads it
//! by name (`status`, `to`, `channel`, `audience`, `by`, `reached`, `total`).

use crate::policy::{ClauseBody, Condition, Measure, Policy, Trigger};
use std::collections::BTreeSet;

/// A set of a few dozen short names, asked millions of times: a sorted list, searched by
/// length first (most names differ in length) and then by bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NameSet {
    sorted: BTreeSet<Box<str>>,
    /// The same names grouped by length: `by_len[n]` holds the names of `n` bytes.
    by_len: Vec<Vec<Box<str>>>,
}

impl NameSet {
    fn insert(&mut self, name: &str) {
        if self.sorted.insert(name.into()) {
            if self.by_len.len() <= name.len() {
                self.by_len.resize(name.len() + 1, Vec::new());
            }
            self.by_len[name.len()].push(name.into());
        }
    }

    #[inline]
    fn contains(&self, name: &str) -> bool {
        self.by_len
            .get(name.len())
            .is_some_and(|names| names.iter().any(|n| n.as_bytes() == name.as_bytes()))
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.sorted.iter().map(|n| &**n)
    }
}

/// Event types whose meaning is fixed by the semantics, whatever the clauses say.
pub const STRUCTURAL_TYPES: &[&str] = &[
    "opened",
    "updated",
    "status",
    "closed",
    "reopened",
    "escalated",
    "notified",
];

/// Attributes that evaluation reads by name.
pub const STRUCTURAL_KEYS: &[&str] = &[
    "status", "to", "channel", "audience", "by", "reached", "total",
];

/// The event types and attribute keys that policies can look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relevance {
    types: NameSet,
    keys: NameSet,
    /// Keeps every type and key, whatever the sets say.
    everything: bool,
}

impl Relevance {
    /// Keeps everything: evaluation as if nothing were ever left out.
    pub fn everything() -> Relevance {
        Relevance {
            everything: true,
            ..Relevance::default()
        }
    }

    /// What `policies` can look at.
    pub fn of(policies: &[Policy]) -> Relevance {
        let mut r = Relevance::default();
        for t in STRUCTURAL_TYPES {
            r.types.insert(t);
        }
        for k in STRUCTURAL_KEYS {
            r.keys.insert(k);
        }
        for clause in policies.iter().flat_map(|p| &p.clauses) {
            r.condition(&clause.applies);
            match &clause.body {
                ClauseBody::Deadline(d) => {
                    r.trigger(&d.start);
                    r.trigger(&d.stop);
                }
                ClauseBody::Notify(n) => {
                    r.trigger(&n.start);
                    if let Some((trigger, _)) = &n.first_contact {
                        r.trigger(trigger);
                    }
                    if let Some(lead) = &n.lead {
                        r.keys.insert(&lead.attr);
                    }
                }
                ClauseBody::Sample(s) => {
                    r.trigger(&s.population);
                    r.trigger(&s.evidence);
                    r.names(&s.group_by);
                }
                ClauseBody::Target(t) => {
                    if let Measure::Events { success, among } = &t.measure {
                        r.trigger(success);
                        r.trigger(among);
                    }
                    r.names(&t.group_by);
                }
                ClauseBody::Repeat(rep) => r.names(&rep.same),
                ClauseBody::Every(duty) => {
                    r.trigger(&duty.event);
                    if let Some((from, until)) = &duty.active {
                        r.trigger(from);
                        r.trigger(until);
                    }
                }
                ClauseBody::Window(w) => r.trigger(&w.event),
            }
        }
        r
    }

    /// Whether events of this type can change any result.
    #[inline]
    pub fn keeps_type(&self, kind: &str) -> bool {
        self.everything || self.types.contains(kind)
    }

    /// Whether this attribute can change any result.
    #[inline]
    pub fn keeps_key(&self, key: &str) -> bool {
        self.everything || self.keys.contains(key)
    }

    /// The relevant event types, sorted.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.types.iter()
    }

    /// The relevant attribute keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter()
    }

    fn trigger(&mut self, trigger: &Trigger) {
        for m in &trigger.matchers {
            self.types.insert(&m.event);
            if let Some(filter) = &m.filter {
                self.condition(filter);
            }
        }
    }

    fn names(&mut self, names: &[String]) {
        for n in names {
            self.keys.insert(n);
        }
    }

    fn condition(&mut self, c: &Condition) {
        // An explicit stack: conditions from policy text can nest deeply.
        let mut stack = vec![c];
        while let Some(c) = stack.pop() {
            match c {
                Condition::Compare { attr, .. } | Condition::In { attr, .. } => {
                    self.keys.insert(attr);
                }
                Condition::Has(attr) | Condition::Truthy(attr) => {
                    self.keys.insert(attr);
                }
                Condition::Not(inner) => stack.push(inner),
                Condition::And(parts) | Condition::Or(parts) => stack.extend(parts.iter()),
                Condition::Always => {}
            }
        }
    }
}
