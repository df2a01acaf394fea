//! When cases may settle: a queue of `(instant, case)` taken in order up to a frontier.
//!
//! A dense stream keeps hundreds of thousands of cases within their retention, each with an
//! entry here, and stream time moves forward an event at a time. A single binary heap of all
//! entries made every settle a walk of twenty levels through a heap far larger than the
//! cache. Settle times are close to stream time plus a retention, so entries are kept in
//! buckets of [`BUCKET_SECONDS`] by their instant (pushing is an append to a recent bucket),
//! and only the bucket stream time has reached is moved into a small heap that yields its
//! entries in order. The order is that of the one heap it replaces: by instant, then key.

use crate::event::Instant;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// The width of a bucket: a few hundred entries each on a dense stream.
const BUCKET_SECONDS: i64 = 1024;

fn bucket(at: Instant) -> i64 {
    at.timestamp().div_euclid(BUCKET_SECONDS)
}

/// Entries `(instant, key)`, taken smallest first once their instant is before a frontier.
///
/// Invariant: every entry of `near` lies in a bucket before `near_until`, every entry of
/// `later` in a bucket from `near_until` on, so the smallest entry of `near`, when there is
/// one, is the smallest of all.
#[derive(Debug, Clone)]
pub(crate) struct SettleQueue<K: Ord> {
    near: BinaryHeap<Reverse<(Instant, K)>>,
    near_until: i64,
    later: BTreeMap<i64, Vec<(Instant, K)>>,
    len: usize,
}

impl<K: Ord> Default for SettleQueue<K> {
    fn default() -> Self {
        SettleQueue {
            near: BinaryHeap::new(),
            near_until: i64::MIN,
            later: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<K: Ord + Copy> SettleQueue<K> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, at: Instant, key: K) {
        self.len += 1;
        let b = bucket(at);
        if b < self.near_until {
            self.near.push(Reverse((at, key)));
        } else {
            self.later.entry(b).or_default().push((at, key));
        }
    }

    /// The smallest entry when its instant is before `frontier`.
    pub(crate) fn peek_before(&mut self, frontier: Instant) -> Option<(Instant, K)> {
        loop {
            if let Some(&Reverse(first)) = self.near.peek() {
                return (first.0 < frontier).then_some(first);
            }
            let (&b, _) = self.later.first_key_value()?;
            if b > bucket(frontier) {
                return None;
            }
            if let Some((b, entries)) = self.later.pop_first() {
                self.near_until = b + 1;
                self.near.extend(entries.into_iter().map(Reverse));
            }
        }
    }

    /// Removes the entry [`SettleQueue::peek_before`] returned.
    pub(crate) fn pop(&mut self) -> Option<(Instant, K)> {
        let Reverse(first) = self.near.pop()?;
        self.len -= 1;
        Some(first)
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Instant, K)> {
        self.near
            .iter()
            .map(|Reverse(e)| e)
            .chain(self.later.values().flatten())
    }

    /// Takes in the entries of `other`.
    pub(crate) fn absorb(&mut self, other: SettleQueue<K>) {
        for Reverse((at, key)) in other.near {
            self.push(at, key);
        }
        for (at, key) in other.later.into_values().flatten() {
            self.push(at, key);
        }
    }
}

/// Written as the sequence of its entries, as the binary heap it replaces was: snapshots of
/// either read the same.
impl<K: Ord + Copy + serde::Serialize> serde::Serialize for SettleQueue<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for entry in self.iter() {
            seq.serialize_element(entry)?;
        }
        seq.end()
    }
}

impl<'de, K: Ord + Copy + serde::Deserialize<'de>> serde::Deserialize<'de> for SettleQueue<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries: Vec<(Instant, K)> = serde::Deserialize::deserialize(deserializer)?;
        let mut queue = SettleQueue::new();
        for (at, key) in entries {
            queue.push(at, key);
        }
        Ok(queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn at(secs: i64) -> Instant {
        Utc.timestamp_opt(1_770_000_000 + secs, 0).unwrap()
    }

    /// What the queue replaces: one heap of every entry.
    #[derive(Default)]
    struct Reference(BinaryHeap<Reverse<(Instant, u32)>>);

    impl Reference {
        fn take_before(&mut self, frontier: Instant) -> Vec<(Instant, u32)> {
            let mut out = Vec::new();
            while self.0.peek().is_some_and(|Reverse(e)| e.0 < frontier) {
                out.push(self.0.pop().unwrap().0);
            }
            out
        }
    }

    fn take_before(q: &mut SettleQueue<u32>, frontier: Instant) -> Vec<(Instant, u32)> {
        let mut out = Vec::new();
        while q.peek_before(frontier).is_some() {
            out.push(q.pop().unwrap());
        }
        out
    }

    #[test]
    fn an_entry_exactly_at_the_frontier_waits() {
        let mut q = SettleQueue::new();
        q.push(at(5000), 1);
        q.push(at(4999), 2);
        assert_eq!(take_before(&mut q, at(5000)), vec![(at(4999), 2)]);
        assert_eq!(q.len(), 1);
        assert_eq!(take_before(&mut q, at(5001)), vec![(at(5000), 1)]);
        assert!(q.is_empty());
    }

    #[test]
    fn an_entry_pushed_before_the_loaded_bucket_comes_first() {
        let mut q = SettleQueue::new();
        q.push(at(3 * BUCKET_SECONDS + 10), 1);
        assert_eq!(q.peek_before(at(3 * BUCKET_SECONDS + 5)), None);
        q.push(at(0), 7);
        q.push(at(3 * BUCKET_SECONDS + 1), 9);
        assert_eq!(
            take_before(&mut q, at(10 * BUCKET_SECONDS)),
            vec![
                (at(0), 7),
                (at(3 * BUCKET_SECONDS + 1), 9),
                (at(3 * BUCKET_SECONDS + 10), 1)
            ]
        );
    }

    #[test]
    fn the_extremes_of_time_have_buckets() {
        let mut q = SettleQueue::new();
        q.push(chrono::DateTime::<Utc>::MAX_UTC, 1);
        q.push(chrono::DateTime::<Utc>::MIN_UTC, 2);
        assert_eq!(
            take_before(&mut q, chrono::DateTime::<Utc>::MAX_UTC),
            vec![(chrono::DateTime::<Utc>::MIN_UTC, 2)]
        );
        assert_eq!(q.len(), 1);
    }

    proptest! {
        /// Pushes and advances of the frontier in any mix give the entries the one heap gave,
        /// in its order, including entries pushed while others are taken.
        #[test]
        fn takes_what_one_heap_takes(
            steps in proptest::collection::vec((0i64..40_000, 0u32..50, 0i64..3_000, 0usize..4), 1..200)
        ) {
            let (mut q, mut r) = (SettleQueue::new(), Reference::default());
            let mut frontier = 0i64;
            for (offset, key, advance, pushes) in steps {
                for i in 0..pushes {
                    let when = at(frontier - 2_000 + offset + i as i64 * 997);
                    q.push(when, key);
                    r.0.push(Reverse((when, key)));
                }
                frontier += advance;
                prop_assert_eq!(take_before(&mut q, at(frontier)), r.take_before(at(frontier)));
                prop_assert_eq!(q.len(), r.0.len());
            }
            let mut all: Vec<_> = q.iter().copied().collect();
            all.sort();
            let mut expected: Vec<_> = r.0.into_iter().map(|Reverse(e)| e).collect();
            expected.sort();
            prop_assert_eq!(all, expected);
        }

        /// A snapshot of the queue reads back as the same queue.
        #[test]
        fn reads_back_what_it_wrote(entries in proptest::collection::vec((0i64..100_000, 0u32..50), 0..100)) {
            let mut q = SettleQueue::new();
            for &(s, k) in &entries {
                q.push(at(s), k);
            }
            take_before(&mut q, at(50_000));
            let bytes = postcard::to_stdvec(&q).unwrap();
            let mut back: SettleQueue<u32> = postcard::from_bytes(&bytes).unwrap();
            prop_assert_eq!(back.len(), q.len());
            prop_assert_eq!(take_before(&mut back, chrono::DateTime::<Utc>::MAX_UTC), take_before(&mut q, chrono::DateTime::<Utc>::MAX_UTC));
        }
    }
}
