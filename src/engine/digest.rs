//! What a case keeps of its events beyond its compact state: the digest (events of the
//! types notification, period and record clauses read, evaluated when the case settles,
//! and which of them a case keeps: [`DigestRule`]) and the replay log (the clock events of
//! a case whose clocks were not all followed, replayed when it is reclassified).

use super::*;

/// What a case keeps for its notification and period clauses until it settles.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Digest {
    pub(super) events: Vec<Kept>,
    /// Which of the evaluator's first-only digest rules have been met (bit `i`: rule `i`).
    #[serde(with = "set_bits")]
    pub(super) firsts: u128,
    /// The latest accepted event (instant and type, in canonical order): "the case's last
    /// event" must mean the same as with every event kept (a subject's duties end at its
    /// `closed` only when that is its last event).
    #[serde(with = "last_event")]
    pub(super) last: Option<(Instant, InlineStr)>,
}

/// [`Digest::last`] with a compact instant.
mod last_event {
    use crate::event::compact_instant::Compact;
    use crate::event::Instant;
    use crate::inline_str::InlineStr;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        last: &Option<(Instant, InlineStr)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        last.as_ref()
            .map(|(at, kind)| (Compact(*at), kind))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(Instant, InlineStr)>, D::Error> {
        Ok(Option::<(Compact, InlineStr)>::deserialize(d)?.map(|(at, kind)| (at.0, kind)))
    }
}

/// A set of bits written as the indices of those set, in binary formats: a case meets two or
/// three first-only rules of a hundred, whose indices take a byte each where the number took
/// up to nineteen (varints of a number with a high bit set). Human-readable formats keep the
/// number.
mod set_bits {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(bits: &u128, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return bits.serialize(s);
        }
        let mut seq = s.serialize_seq(Some(bits.count_ones() as usize))?;
        for i in (0..128u8).filter(|&i| bits & (1u128 << i) != 0) {
            seq.serialize_element(&i)?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        if d.is_human_readable() {
            return u128::deserialize(d);
        }
        struct Indices;
        impl<'de> Visitor<'de> for Indices {
            type Value = u128;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("indices of set bits below 128")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u128, A::Error> {
                let mut bits = 0u128;
                while let Some(i) = seq.next_element::<u8>()? {
                    if i >= 128 {
                        return Err(A::Error::custom(format!("bit {i} of a 128-bit set")));
                    }
                    bits |= 1u128 << i;
                }
                Ok(bits)
            }
        }
        d.deserialize_seq(Indices)
    }

    #[cfg(test)]
    mod tests {
        use proptest::prelude::*;

        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Set(#[serde(with = "super")] u128);

        #[test]
        fn a_few_high_bits_take_a_few_bytes() {
            let set = Set(1 << 127 | 1 << 3);
            let bytes = postcard::to_stdvec(&set).unwrap();
            assert_eq!(bytes, vec![2, 3, 127]);
            assert!(postcard::from_bytes::<Set>(&[1, 128, 1]).is_err());
            assert_eq!(serde_json::to_string(&set).unwrap(), format!("{}", set.0));
        }

        proptest! {
            #[test]
            fn reads_back_what_it_wrote(bits: u128) {
                let bytes = postcard::to_stdvec(&Set(bits)).unwrap();
                prop_assert_eq!(postcard::from_bytes::<Set>(&bytes).unwrap(), Set(bits));
            }
        }
    }
}

/// The events of a case that matter to clocks, in canonical order, with the status before the
/// first of them.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct ReplayLog {
    pub(super) status: Option<InlineStr>,
    pub(super) events: Vec<Logged>,
}

/// One event of a [`ReplayLog`]: its type (an index into the evaluator's `log_names`), and its
/// attributes only when a trigger filters on them or it is a `status`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Logged {
    #[serde(with = "crate::event::compact_instant")]
    pub(super) at: Instant,
    pub(super) seq: u32,
    pub(super) kind: u16,
    pub(super) attrs: Option<Box<Attrs>>,
}

/// An event a case keeps for its notification and period clauses: without the ticket, id and
/// line, which the case knows or the clauses never read.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Kept {
    #[serde(with = "crate::event::compact_instant")]
    pub(super) at: Instant,
    pub(super) kind: InlineStr,
    pub(super) attrs: Attrs,
}

/// Which events of a digest type a case keeps for its notification and period clauses: every
/// event matching `trigger`, or only the first (`first_only`, for triggers whose later
/// matches cannot change a result: a sample's population and a target's `among` and
/// `success`, which count by their first event, a notice's start, the `opened` of repeat
/// rules).
pub(super) struct DigestRule<'p> {
    pub(super) trigger: std::borrow::Cow<'p, Trigger>,
    pub(super) first_only: bool,
}

pub(super) fn digest_rules(policies: &[Policy]) -> Vec<DigestRule<'_>> {
    use std::borrow::Cow;
    let mut rules = Vec::new();
    let mut any = false;
    for clause in policies.iter().flat_map(|p| &p.clauses) {
        match &clause.body {
            ClauseBody::Deadline(_) => continue,
            ClauseBody::Notify(n) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&n.start),
                    first_only: true,
                });
                if let Some((trigger, _)) = &n.first_contact {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(trigger),
                        first_only: false,
                    });
                }
            }
            ClauseBody::Sample(s) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&s.population),
                    first_only: true,
                });
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&s.evidence),
                    first_only: false,
                });
            }
            ClauseBody::Target(t) => {
                if let Measure::Stat(m) = &t.measure {
                    // A count reads every start event; a duration the first start and the
                    // first stop only.
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(&m.start),
                        first_only: m.stop.is_some(),
                    });
                    if let Some(stop) = &m.stop {
                        rules.push(DigestRule {
                            trigger: Cow::Borrowed(stop),
                            first_only: true,
                        });
                    }
                }
                // Every required event of an obligation: each marks the periods of its instant.
                if let Measure::Obligation(o) = &t.measure {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(&o.event),
                        first_only: false,
                    });
                }
                if let Measure::Events { success, among } = &t.measure {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(among),
                        first_only: true,
                    });
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(success),
                        first_only: true,
                    });
                }
            }
            ClauseBody::Repeat(_) => {}
            ClauseBody::Every(duty) => {
                rules.push(DigestRule {
                    trigger: Cow::Borrowed(&duty.event),
                    first_only: false,
                });
                if let Some((from, until)) = &duty.active {
                    for t in [from, until] {
                        rules.push(DigestRule {
                            trigger: Cow::Borrowed(t),
                            first_only: false,
                        });
                    }
                }
                if let crate::policy::DutyRule::Cover { until } = &duty.rule {
                    rules.push(DigestRule {
                        trigger: Cow::Borrowed(until),
                        first_only: false,
                    });
                }
            }
            ClauseBody::Window(w) => rules.push(DigestRule {
                trigger: Cow::Borrowed(&w.event),
                first_only: false,
            }),
            ClauseBody::Record(r) => {
                for trigger in r.triggers() {
                    rules.push(DigestRule {
                        trigger,
                        first_only: false,
                    });
                }
                // Whether the case is closed at the end: its last `closed` or `reopened`.
                rules.push(DigestRule {
                    trigger: Cow::Owned(Trigger::event("reopened")),
                    first_only: false,
                });
            }
        }
        any = true;
    }
    if any {
        // The case's own `opened` (repeat rules), every `closed` (a notice's window, a
        // subject's end) and every `notified` (channels, audiences, coverage).
        rules.push(DigestRule {
            trigger: Cow::Owned(Trigger::event("opened")),
            first_only: true,
        });
        for t in ["closed", "notified"] {
            rules.push(DigestRule {
                trigger: Cow::Owned(Trigger::event(t)),
                first_only: false,
            });
        }
    }
    rules
}

impl<'p, S: Sink> Evaluator<'p, S> {
    /// The case's `kind` changed: the clocks of its new kind that were not followed are
    /// followed from the log.
    pub(super) fn replay(&mut self, case: &mut CaseState) {
        let Some(log) = case.log.take() else {
            return;
        };
        let none = Attrs::new();
        for t in 0..self.tracks.len() as u16 {
            let kind = case.attrs.get(crate::eval::case::GUARD_ATTR);
            if case.tracks.iter().any(|s| s.track == t) || !self.may_apply(t, kind) {
                continue;
            }
            let spec = &self.tracks[t as usize];
            let mut state: Option<TrackState> = None;
            let mut status = log.status.clone();
            let mut out = Vec::new();
            let mut i = 0;
            while i < log.events.len() {
                let at = log.events[i].at;
                let j = i + log.events[i..].iter().take_while(|e| e.at == at).count();
                let mut roles: Vec<(u32, Roles)> = Vec::new();
                for e in &log.events[i..j] {
                    let kind = &self.log_names[e.kind as usize];
                    let r = spec.roles(kind, e.attrs.as_deref().unwrap_or(&none), &case.attrs, at);
                    if !r.any() {
                        continue;
                    }
                    roles.push((e.seq, r));
                    match state.as_mut() {
                        Some(s) => s.step(at, &roles, &mut out),
                        None => {
                            let paused = spec.pauses_on(status.as_deref());
                            state = TrackState::start(spec, t, at, &roles, paused, &mut out);
                        }
                    }
                }
                for e in &log.events[i..j] {
                    if &*self.log_names[e.kind as usize] != "status" {
                        continue;
                    }
                    let value = e.attrs.as_deref().and_then(|a| a.get("status"));
                    let value = value.and_then(Value::as_str);
                    if let Some(s) = state.as_mut() {
                        if !spec.pausing.is_empty() {
                            s.status(at, spec.pauses_on(value));
                        }
                    }
                    status = value.map(InlineStr::new);
                }
                i = j;
            }
            if let Some(s) = state {
                case.tracks.push(s);
            }
            case.stopped.append(&mut out);
        }
        case.log = Some(log);
    }

    /// Whether a case keeps an event of a digest type for its notification and period clauses:
    /// when a rule that needs every matching event matches it, or a first-only rule matches it
    /// first (marked in `firsts`). Events are applied in canonical order, so "first" is the
    /// first of the whole case.
    pub(super) fn keeps_in_digest(&self, firsts: &mut u128, e: &Event, case_attrs: &Attrs) -> bool {
        let mut keep = false;
        let Some(ty) = self.digest_types.position(&e.kind) else {
            return false;
        };
        for &i in &self.digest_by_type[ty as usize] {
            let (i, rule) = (i as usize, &self.digest_rules[i as usize]);
            if !rule
                .trigger
                .matches_in(&*e.kind, &e.attrs, case_attrs, Some(e.at))
            {
                continue;
            }
            match rule.first_only.then_some(i).filter(|&i| i < 128) {
                Some(i) => {
                    if *firsts & (1 << i) == 0 {
                        *firsts |= 1 << i;
                        keep = true;
                    }
                }
                None => keep = true,
            }
        }
        keep
    }
}
