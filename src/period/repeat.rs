//! Recurrence rules (SEMANTICS.md, "Targets and recurrence", "Repeat complaints"): `times`
//! matching cases sharing the `same` attributes, opened within `within` of each other, produce
//! an action.
//!
//! # The rule
//!
//! Cases are ordered by their first `opened` instant, then by ticket (so two complaints opened in
//! the same second still have an order). A case *fires* when at least `times - 1` earlier cases
//! of its key were opened within `within` before it, inclusive (`opened(later) -
//! opened(earlier) <= within`): with `2 times within 30 days`, complaints 30 × 24 h apart fire,
//! 30 days and one second apart do not. Each later case fires again and names every earlier one
//! still inside its window. A case lacking one of the `same` attributes is not compared: it
//! shares no key with anything.
//!
//! # Memory
//!
//! Cases reach this module when the evaluator settles them, which is roughly (not exactly) in
//! the order they were opened. Per key only the cases opened within two windows of the latest
//! opening of that key are kept, and keys whose latest opening is that old are dropped, so
//! memory follows the window, not the stream. The result is exact as long as every case is
//! settled within one window of the latest opening of its key; a case settled later is
//! compared only with the cases still kept.

use super::group::Group;
use crate::event::Instant;
use chrono::Duration;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How many insertions between two sweeps of stale keys.
const SWEEP_EVERY: u32 = 4096;

/// One case of a key: when it was opened, and its ticket.
type Entry = (Instant, Arc<str>);

/// The state of one recurrence clause.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RepeatState {
    /// Per key, the kept cases in `(opened, ticket)` order.
    keys: HashMap<Group, Vec<Entry>>,
    /// Firing cases, keyed by `(opened, ticket)`, with their key and the cases they name.
    fired: BTreeMap<Entry, (Group, Vec<Entry>)>,
    latest: Option<Instant>,
    inserts: u32,
}

impl RepeatState {
    /// Adds a case and (re)computes the firings it takes part in.
    pub fn add(&mut self, key: Group, entry: Entry, times: u32, within: Duration) {
        let keep = within.checked_mul(2).unwrap_or(Duration::MAX);
        self.latest = self.latest.max(Some(entry.0));
        let list = self.keys.entry(key.clone()).or_default();
        let pos = match list.binary_search(&entry) {
            Ok(_) => return,
            Err(pos) => pos,
        };
        list.insert(pos, entry.clone());
        // The new case, and every later case within one window of it, may fire now.
        let horizon = entry.0.checked_add_signed(within);
        let mut i = pos;
        while i < list.len() && horizon.is_none_or(|h| list[i].0 <= h) {
            let (at, _) = &list[i];
            let from = at.checked_sub_signed(within);
            let first = list[..i].partition_point(|(t, _)| from.is_some_and(|f| *t < f));
            if (i - first + 1) as u64 >= u64::from(times.max(1)) {
                let named: Vec<Entry> = list[first..=i].to_vec();
                self.fired.insert(list[i].clone(), (key.clone(), named));
            }
            i += 1;
        }
        // Forget what no later case of this key can reach.
        if let Some(newest) = list.last().map(|e| e.0) {
            if let Some(cut) = newest.checked_sub_signed(keep) {
                let stale = list.partition_point(|(t, _)| *t < cut);
                list.drain(..stale);
            }
        }
        self.inserts += 1;
        if self.inserts % SWEEP_EVERY == 0 {
            if let Some(cut) = self.latest.and_then(|l| l.checked_sub_signed(keep)) {
                self.keys
                    .retain(|_, list| list.last().is_some_and(|(t, _)| *t >= cut));
            }
        }
    }

    /// The firings, in `(opened, ticket)` order.
    pub fn into_fired(self) -> impl Iterator<Item = (Entry, Group, Vec<Entry>)> {
        self.fired.into_iter().map(|(e, (k, named))| (e, k, named))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn key(n: u32) -> Group {
        Group {
            values: vec![("unit".into(), Some(n.to_string().into()))],
        }
    }

    #[test]
    fn memory_follows_the_window() {
        let mut state = RepeatState::default();
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let within = Duration::days(30);
        // 20 000 complaints, one per hour, on 500 units in turn: each unit sees one every
        // 500 hours (about 21 days), so each fires.
        for i in 0..20_000u32 {
            let at = start + Duration::hours(i64::from(i));
            state.add(key(i % 500), (at, format!("T-{i}").into()), 2, within);
        }
        let kept: usize = state.keys.values().map(Vec::len).sum();
        // Two windows (60 days) hold at most 3 or 4 cases per unit: about 2000, not 20 000.
        assert!(kept <= 2000, "{kept}");
        assert!(state.keys.values().all(|l| l.len() <= 4));
        assert_eq!(state.fired.len(), 20_000 - 500);
    }

    #[test]
    fn a_late_earlier_case_makes_a_kept_later_case_fire() {
        let mut state = RepeatState::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let within = Duration::days(30);
        state.add(key(1), (t0 + Duration::days(10), "B".into()), 2, within);
        assert!(state.fired.is_empty());
        state.add(key(1), (t0, "A".into()), 2, within);
        let fired: Vec<_> = state.into_fired().map(|(e, _, n)| (e.1, n.len())).collect();
        assert_eq!(fired, [("B".into(), 2)]);
    }
}
