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
//!
//! # Partitions: merge, not route
//!
//! Under a partition of the tickets (`--partition I/N`), two cases of one key may be judged by
//! different evaluators. The candidates are *merged*, not routed: each partition keeps every
//! candidate of its own cases (`keep_all`: no pruning, one `(opened, ticket, key)` per case a
//! rule compares, the same order of memory as the firings every evaluator keeps anyway), and
//! [`RepeatState::merged`] runs the rule again over the union of the partitions' candidates,
//! added in `(opened, ticket)` order, and unites their firings (a firing found within one
//! partition names a subset of the cases the union names). Since nothing is pruned before the
//! merge, the merge finds every pair of the rule: every pair a single evaluator finds, and,
//! where a single evaluator's memory rule above is not exact (a case settled more than one
//! window after the latest opening of its key), also the pairs it misses. After the merge
//! (the cases still open when the merged state is finished), the single evaluator's memory
//! rule holds again.

use super::group::Group;
use crate::event::Instant;
use chrono::Duration;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// How many insertions between two sweeps of stale keys.
const SWEEP_EVERY: u32 = 4096;

/// One case of a key: when it was opened, and its ticket.
type Entry = (Instant, Arc<str>);

/// Where a case stands in the order cases settle, for a check split by tickets: during the
/// stream, the position of the line being pushed, then the case's settling instant and key; at
/// the end, its ticket. The order of the values is the order one evaluator settles them in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SettleOrder {
    Stream { seq: u64, when: Instant, key: u128 },
    End { ticket: Arc<str> },
}

/// The cases a partition of a split check offered to a recurrence rule, with where each
/// settled: replayed in that order over all partitions, they give what one evaluator gives,
/// its forgetting included.
pub(crate) type RepeatLog = Vec<(SettleOrder, Group, Entry)>;

/// The state of one recurrence clause.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RepeatState {
    /// Per key, the kept cases in `(opened, ticket)` order.
    keys: HashMap<Group, Vec<Entry>>,
    /// Firing cases, keyed by `(opened, ticket)`, with their key and the cases they name.
    fired: BTreeMap<Entry, (Group, Vec<Entry>)>,
    latest: Option<Instant>,
    inserts: u32,
    /// Keeps every candidate (a partition's state, to be merged): see the module doc.
    pub keep_all: bool,
    /// A partition of a split check: the cases are logged, not compared (see [`RepeatLog`]).
    #[serde(skip)]
    pub log: Option<RepeatLog>,
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
        let keep_all = self.keep_all;
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
        if keep_all {
            return;
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

    /// The state one evaluator gives from the logs of the partitions of a split check: their
    /// cases offered again in the order one evaluator settles them (a stable sort: the cases
    /// of one settling are one partition's, in its order).
    pub fn replayed(logs: Vec<RepeatLog>, times: u32, within: Duration) -> RepeatState {
        let mut all: RepeatLog = logs.into_iter().flatten().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = RepeatState::default();
        for (_, key, entry) in all {
            out.add(key, entry, times, within);
        }
        out
    }

    /// The state one evaluator over the union of `states`' cases gives: the rule run again
    /// over the union of their candidates, in `(opened, ticket)` order, and their firings
    /// united (a case's firing names the union of the cases each state named). The result
    /// keeps every candidate if one of `states` did (more partitions may be merged into it);
    /// [`crate::period::PeriodTally`] then sets it to prune as a single evaluator does.
    pub fn merged(states: Vec<RepeatState>, times: u32, within: Duration) -> RepeatState {
        let mut all: Vec<(Entry, Group)> = Vec::new();
        let mut fired: BTreeMap<Entry, (Group, Vec<Entry>)> = BTreeMap::new();
        let keep_all = states.iter().any(|s| s.keep_all);
        for state in states {
            for (key, list) in state.keys {
                all.extend(list.into_iter().map(|e| (e, key.clone())));
            }
            for (entry, (key, named)) in state.fired {
                unite(&mut fired, entry, key, named);
            }
        }
        all.sort();
        all.dedup();
        // Nothing is pruned while the union is built: a state merged next may hold earlier
        // cases of a key that pair with any of these.
        let mut out = RepeatState {
            keep_all: true,
            ..RepeatState::default()
        };
        for (entry, key) in all {
            out.add(key, entry, times, within);
        }
        for (entry, (key, named)) in fired {
            unite(&mut out.fired, entry, key, named);
        }
        out.keep_all = keep_all;
        out
    }

    /// The firings, in `(opened, ticket)` order.
    pub fn into_fired(self) -> impl Iterator<Item = (Entry, Group, Vec<Entry>)> {
        self.fired.into_iter().map(|(e, (k, named))| (e, k, named))
    }
}

/// Records a firing, uniting its named cases with those of the same firing already recorded.
fn unite(
    fired: &mut BTreeMap<Entry, (Group, Vec<Entry>)>,
    entry: Entry,
    key: Group,
    named: Vec<Entry>,
) {
    match fired.get_mut(&entry) {
        Some((_, list)) => {
            list.extend(named);
            list.sort();
            list.dedup();
        }
        None => {
            fired.insert(entry, (key, named));
        }
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

    #[test]
    fn a_pair_split_over_two_partitions_is_found_by_the_merge() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let within = Duration::days(30);
        let mut a = RepeatState {
            keep_all: true,
            ..RepeatState::default()
        };
        let mut b = RepeatState {
            keep_all: true,
            ..RepeatState::default()
        };
        a.add(key(1), (t0, "A".into()), 2, within);
        // Much later cases of the key in A would prune `A` from a single evaluator's memory,
        // but a partition keeps it.
        a.add(key(1), (t0 + Duration::days(200), "C".into()), 2, within);
        b.add(key(1), (t0 + Duration::days(3), "B".into()), 2, within);
        assert!(a.fired.is_empty() && b.fired.is_empty());
        let merged = RepeatState::merged(vec![a, b], 2, within);
        let fired: Vec<_> = merged
            .into_fired()
            .map(|(e, _, n)| (e.1, n.into_iter().map(|x| x.1).collect::<Vec<_>>()))
            .collect();
        assert_eq!(fired, [("B".into(), vec![Arc::from("A"), Arc::from("B")])]);
    }

    #[test]
    fn merging_keeps_the_firings_of_a_pruned_state() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let within = Duration::days(1);
        let mut single = RepeatState::default();
        single.add(key(1), (t0, "A".into()), 2, within);
        single.add(key(1), (t0 + Duration::hours(1), "B".into()), 2, within);
        single.add(key(1), (t0 + Duration::days(10), "C".into()), 2, within);
        let before: Vec<_> = single.fired.clone().into_iter().collect();
        let merged = RepeatState::merged(vec![single], 2, within);
        let after: Vec<_> = merged.fired.into_iter().collect();
        assert_eq!(before, after);
    }

    #[test]
    fn merging_three_partitions_one_at_a_time_loses_no_pair() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let within = Duration::days(30);
        let part = |cases: &[(i64, &str)]| {
            let mut s = RepeatState {
                keep_all: true,
                ..RepeatState::default()
            };
            for (day, t) in cases {
                s.add(key(1), (t0 + Duration::days(*day), (*t).into()), 2, within);
            }
            s
        };
        // E and G pair (one day apart) but sit in partitions 0 and 2; F, in partition 1, is
        // so much later that a pruning merge of 0 and 1 would forget E before 2 comes.
        let (p0, p1, p2) = (part(&[(0, "E")]), part(&[(100, "F")]), part(&[(1, "G")]));
        let first = RepeatState::merged(vec![p0, p1], 2, within);
        let all = RepeatState::merged(vec![first, p2], 2, within);
        let fired: Vec<_> = all.into_fired().map(|(e, _, _)| e.1).collect();
        assert_eq!(fired, [Arc::from("G")]);
    }
}
