//! Which event types a set of policies can look at.
//!
//! A stream carries many event types no clause mentions (`progress`, `dispatched`, ...).
//! Keeping them in the buffers of open cases costs memory that grows with the stream (places
//! and equipment that are never closed accumulate a year of events), and building their
//! attributes costs time. The evaluator keeps only the events [`Relevance`] says can matter
//! (and of the others, only the latest of each case, without attributes); the results are
//! those of keeping everything, which the tests check against full evaluation.
//!
//! An event type is relevant when a clause names it (start, stop, evidence, population,
//! measure, duty, window, first contact) or when evaluation gives it a meaning of its own
//! (`opened`, `updated`, `status`, `closed`, `reopened`, `escalated`, `notified`).
//!
//! Relevant events keep all their attributes, even those no condition reads: events of the
//! same type at the same instant are ordered by their attributes, all of them (SEMANTICS.md,
//! "Ties"), and that order decides, say, which of two simultaneous `updated` events wins.

use crate::policy::{ClauseBody, Measure, Policy, Trigger};
use std::collections::BTreeSet;

/// A set of a few dozen short names, asked millions of times: grouped by length (most names
/// differ in length), then compared byte by byte, each with its position in sorted order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameSet {
    sorted: BTreeSet<Box<str>>,
    /// `by_len[n]`: the names of `n` bytes, with their positions in `sorted`; built by `seal`.
    by_len: Vec<Vec<(Box<str>, u32)>>,
}

impl NameSet {
    /// A sealed set of these names.
    pub(crate) fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> NameSet {
        let mut set = NameSet::default();
        for n in names {
            set.insert(n);
        }
        set.seal();
        set
    }

    /// How many names the set holds.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

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
    pub(crate) fn position(&self, name: &str) -> Option<u32> {
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

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
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

/// The event types that policies can look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relevance {
    types: NameSet,
    /// Keeps every type, whatever the set says.
    everything: bool,
    /// Case attributes the triggers' filters compare with (`case.NAME`).
    case_refs: BTreeSet<String>,
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
        for clause in policies.iter().flat_map(|p| &p.clauses) {
            match &clause.body {
                ClauseBody::Deadline(d) => {
                    r.trigger(&d.start);
                    r.trigger(&d.stop);
                }
                body => r.period_clause(body),
            }
        }
        // Alert periods are opened and lifted by these events of other cases.
        for alert in policies.iter().flat_map(|p| &p.alerts) {
            r.trigger(&alert.from);
            r.trigger(&alert.until);
        }
        r.types.seal();
        r
    }

    /// What a clause other than a deadline reads: its triggers, and `reopened` for record
    /// clauses (a reopen starts their cycle again). Deadlines read nothing the case's digest
    /// keeps, so they add nothing here.
    fn period_clause(&mut self, body: &ClauseBody) {
        let r = self;
        match body {
            ClauseBody::Deadline(_) => {}
            ClauseBody::Notify(n) => {
                r.trigger(&n.start);
                if let Some((trigger, _)) = &n.first_contact {
                    r.trigger(trigger);
                }
            }
            ClauseBody::Sample(s) => {
                r.trigger(&s.population);
                r.trigger(&s.evidence);
            }
            ClauseBody::Target(t) => {
                if let Measure::Events { success, among } = &t.measure {
                    r.trigger(success);
                    r.trigger(among);
                }
                if let Measure::Stat(m) = &t.measure {
                    r.trigger(&m.start);
                    if let Some(stop) = &m.stop {
                        r.trigger(stop);
                    }
                }
                if let Measure::Obligation(o) = &t.measure {
                    r.trigger(&o.event);
                }
            }
            ClauseBody::Repeat(_) => {}
            ClauseBody::Every(duty) => {
                r.trigger(&duty.event);
                if let Some((from, until)) = &duty.active {
                    r.trigger(from);
                    r.trigger(until);
                }
                if let crate::policy::DutyRule::Cover { until } = &duty.rule {
                    r.trigger(until);
                }
            }
            ClauseBody::Window(w) => r.trigger(&w.event),
            ClauseBody::Record(rec) => {
                for t in rec.triggers() {
                    r.trigger(&t);
                }
                r.types.insert("reopened");
            }
        }
    }

    /// What the notification and period clauses of `policies` read: the events the streaming
    /// evaluator keeps of a case until it settles (deadline clauses keep none). Empty when
    /// the policies have no such clause.
    pub fn of_period_clauses(policies: &[Policy]) -> Relevance {
        let mut r = Relevance::default();
        let mut any = false;
        for clause in policies.iter().flat_map(|p| &p.clauses) {
            any |= !matches!(clause.body, ClauseBody::Deadline(_));
            r.period_clause(&clause.body);
        }
        if any {
            for t in ["opened", "closed", "notified"] {
                r.types.insert(t);
            }
        }
        r.types.seal();
        r
    }

    /// The case attributes `policies` read: in conditions, groups, repeat keys, lead times and
    /// the instants of record items (`EV before ATTR`).
    /// The evaluator keeps only these of a case's merged attributes (with
    /// [`Relevance::everything`], all of them).
    pub fn case_attributes(policies: &[Policy]) -> BTreeSet<String> {
        let mut names: Vec<&str> = Vec::new();
        for clause in policies.iter().flat_map(|p| &p.clauses) {
            clause.applies.attributes(&mut names);
            match &clause.body {
                ClauseBody::Sample(s) => names.extend(s.group_by.iter().map(String::as_str)),
                ClauseBody::Target(t) => names.extend(t.group_by.iter().map(String::as_str)),
                ClauseBody::Repeat(r) => names.extend(r.same.iter().map(String::as_str)),
                ClauseBody::Notify(n) => {
                    if let Some(lead) = &n.lead {
                        names.push(&lead.attr);
                    }
                }
                // `EV before ATTR` reads the instant in the case attribute.
                ClauseBody::Record(rec) => names.extend(rec.items.iter().filter_map(|i| match i {
                    crate::policy::RecordItem::Before { attr, .. } => Some(attr.as_str()),
                    _ => None,
                })),
                _ => {}
            }
        }
        for alert in policies.iter().flat_map(|p| &p.alerts) {
            alert.applies.attributes(&mut names);
        }
        let mut out: BTreeSet<String> = names.into_iter().map(String::from).collect();
        // Filters compare events with these, when the events arrive.
        out.extend(Relevance::of(policies).case_refs);
        out
    }

    /// Whether the evaluator keeps every attribute, whatever the policies read.
    pub fn keeps_everything(&self) -> bool {
        self.everything
    }

    /// Whether events of this type can change any result.
    #[inline]
    pub fn keeps_type(&self, kind: &str) -> bool {
        self.everything || self.types.contains(kind)
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

    fn trigger(&mut self, trigger: &Trigger) {
        for m in &trigger.matchers {
            self.types.insert(&m.event);
        }
        let mut refs = Vec::new();
        trigger.case_attributes(&mut refs);
        self.case_refs.extend(refs.into_iter().map(String::from));
    }
}
