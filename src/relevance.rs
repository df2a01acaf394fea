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

/// A set of a few dozen short names, asked millions of times: grouped by length (most names
/// differ in length), then compared byte by byte, each with its position in sorted order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NameSet {
    sorted: BTreeSet<Box<str>>,
    /// `by_len[n]`: the names of `n` bytes, with their positions in `sorted`; built by `seal`.
    by_len: Vec<Vec<(Box<str>, u32)>>,
}

impl NameSet {
    fn insert(&mut self, name: &str) {
        self.sorted.insert(name.into());
    }

    /// Builds the lookup table; called once all names are in.
    fn seal(&mut self) {
        self.by_len.clear();
        for (i, name) in self.sorted.iter().enumerate() {
            if self.by_len.len() <= name.len() {
                self.by_len.resize(name.len() + 1, Vec::new());
            }
            self.by_len[name.len()].push((name.clone(), i as u32));
        }
    }

    /// The position of `name` in sorted order, if it is in the set.
    #[inline]
    fn position(&self, name: &str) -> Option<u32> {
        self.by_len.get(name.len()).and_then(|names| {
            names
                .iter()
                .find(|(n, _)| crate::inline_str::eq_short(n, name))
                .map(|&(_, i)| i)
        })
    }

    #[inline]
    fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.sorted.iter().map(|n| &**n)
    }
}

/// A set of event types as bits: the relevant types by their position, any other type as
/// [`TypeMask::OTHER`]. Lets the evaluator skip, in one instruction, a clause whose start event
/// does not occur in a case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeMask(pub u128);

impl TypeMask {
    /// Types past the 127th relevant one, and irrelevant types, share the last bit.
    pub const OTHER: u32 = 127;

    pub fn intersects(self, other: TypeMask) -> bool {
        self.0 & other.0 != 0
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
        r.types.seal();
        r.keys.seal();
        r
    }

    /// This, keeping the attributes `keys` too: for readers of the case attributes other than
    /// the clauses, such as a report grouped by an attribute no clause names.
    pub fn with_keys<'k>(mut self, keys: impl IntoIterator<Item = &'k str>) -> Relevance {
        for k in keys {
            self.keys.insert(k);
        }
        self.keys.seal();
        self
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

    /// The bit of an event type in a [`TypeMask`].
    pub fn type_bit(&self, kind: &str) -> u32 {
        self.types
            .position(kind)
            .map_or(TypeMask::OTHER, |i| i.min(TypeMask::OTHER))
    }

    /// The mask of the types of `events`.
    pub fn mask_of<'a>(&self, kinds: impl IntoIterator<Item = &'a str>) -> TypeMask {
        TypeMask(kinds.into_iter().fold(0, |m, k| m | 1 << self.type_bit(k)))
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
