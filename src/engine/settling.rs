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

/// A key as a bucket stores it: a 128-bit ticket key as two 64-bit halves, so that an entry
/// takes 24 bytes rather than the 32 a 16-byte-aligned integer pads it to.
pub(crate) trait Packed: Ord + Copy {
    type Packed: Copy;
    /// The bytes of a packed key as a snapshot writes it.
    const BYTES: usize;
    fn pack(self) -> Self::Packed;
    fn unpack(packed: Self::Packed) -> Self;
    /// Appends the packed key's [`Packed::BYTES`] bytes.
    fn put(packed: Self::Packed, out: &mut Vec<u8>);
    /// The packed key of [`Packed::BYTES`] bytes.
    fn take(bytes: &[u8]) -> Self::Packed;
}

/// An entry of a bucket: its key, and its instant as the offset into the bucket.
#[derive(Debug, Clone, Copy)]
struct Slot<P> {
    key: P,
    nanos: u32,
    offset: u16,
}

impl<P: Copy> Slot<P> {
    fn new<K: Packed<Packed = P>>(at: Instant, key: K) -> Slot<P> {
        Slot {
            key: key.pack(),
            nanos: at.timestamp_subsec_nanos(),
            // In 0..BUCKET_SECONDS.
            offset: at.timestamp().rem_euclid(BUCKET_SECONDS) as u16,
        }
    }

    fn entry<K: Packed<Packed = P>>(self, bucket: i64) -> (Instant, K) {
        let secs = bucket * BUCKET_SECONDS + i64::from(self.offset);
        // The instant it was made of, which is in range.
        let at = chrono::DateTime::from_timestamp(secs, self.nanos)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        (at, K::unpack(self.key))
    }
}

/// Entries `(instant, key)`, taken smallest first once their instant is before a frontier.
///
/// Invariant: every entry of `near` lies in a bucket before `near_until`, every entry of
/// `later` in a bucket from `near_until` on, so the smallest entry of `near`, when there is
/// one, is the smallest of all.
#[derive(Debug, Clone)]
pub(crate) struct SettleQueue<K: Packed> {
    near: BinaryHeap<Reverse<(Instant, K)>>,
    near_until: i64,
    later: BTreeMap<i64, Vec<Slot<K::Packed>>>,
    len: usize,
}

impl<K: Packed> Default for SettleQueue<K> {
    fn default() -> Self {
        SettleQueue {
            near: BinaryHeap::new(),
            near_until: i64::MIN,
            later: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<K: Packed> SettleQueue<K> {
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
            let slots = self.later.entry(b).or_default();
            // Buckets fill over weeks, in no order: growing by half rather than doubling
            // leaves less room unused in the thousands of them.
            if slots.len() == slots.capacity() {
                slots.reserve_exact((slots.len() / 2).max(8));
            }
            slots.push(Slot::new(at, key));
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
            if let Some((b, slots)) = self.later.pop_first() {
                self.near_until = b + 1;
                self.near
                    .extend(slots.into_iter().map(|slot| Reverse(slot.entry(b))));
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
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Instant, K)> + '_ {
        self.near.iter().map(|Reverse(e)| *e).chain(
            self.later
                .iter()
                .flat_map(|(&b, slots)| slots.iter().map(move |slot| slot.entry(b))),
        )
    }

    /// Takes in the entries of `other`.
    pub(crate) fn absorb(&mut self, other: SettleQueue<K>) {
        for (at, key) in other.iter() {
            self.push(at, key);
        }
    }
}

/// An instant of an entry as written: seconds and nanoseconds in a snapshot, not chrono's
/// text (formatting a hundred thousand instants was most of the cost of writing the rest of
/// the state at every commit of the service).
#[derive(serde::Serialize, serde::Deserialize)]
struct At(#[serde(with = "crate::event::compact_instant")] Instant);

/// A bucket's slots as written (after its number): as they are in memory, one after the other
/// (key, nanoseconds, offset; little-endian). A dense stream's service writes its settling
/// queue, hundreds of thousands of entries, at every commit: entry by entry, each instant
/// rebuilt and each 128-bit key written as a varint of up to 19 bytes, it was most of the cost
/// of writing the rest of the state.
struct Bucket<'a, P>(&'a [Slot<P>]);

impl<P: Copy> Bucket<'_, P> {
    const SLOT: usize = 6;

    fn bytes<K: Packed<Packed = P>>(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * (K::BYTES + Self::SLOT));
        for slot in self.0 {
            K::put(slot.key, &mut out);
            out.extend_from_slice(&slot.nanos.to_le_bytes());
            out.extend_from_slice(&slot.offset.to_le_bytes());
        }
        out
    }

    /// The slots of `bytes`, or why they are not slots of a bucket.
    fn slots<K: Packed<Packed = P>>(bytes: &[u8]) -> Result<Vec<Slot<P>>, String> {
        let size = K::BYTES + Self::SLOT;
        if bytes.len() % size != 0 {
            return Err(format!("a bucket of {} bytes", bytes.len()));
        }
        bytes
            .chunks_exact(size)
            .map(|b| {
                let (key, rest) = b.split_at(K::BYTES);
                let nanos = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
                let offset = u16::from_le_bytes([rest[4], rest[5]]);
                if offset as i64 >= BUCKET_SECONDS || nanos >= 2_000_000_000 {
                    return Err(format!("an entry at offset {offset}, {nanos} ns"));
                }
                Ok(Slot {
                    key: K::take(key),
                    nanos,
                    offset,
                })
            })
            .collect()
    }
}

/// Written as the entries near stream time (in no order), then each later bucket.
impl<K: Packed + serde::Serialize> serde::Serialize for SettleQueue<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeSeq, SerializeTuple};
        struct Near<'a, K>(&'a BinaryHeap<Reverse<(Instant, K)>>);
        impl<K: serde::Serialize + Copy> serde::Serialize for Near<'_, K> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for Reverse((at, key)) in self.0.iter() {
                    seq.serialize_element(&(At(*at), key))?;
                }
                seq.end()
            }
        }
        struct Later<'a, K: Packed>(&'a BTreeMap<i64, Vec<Slot<K::Packed>>>);
        impl<K: Packed> serde::Serialize for Later<'_, K> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for (&b, slots) in self.0 {
                    let bytes = Bucket(slots).bytes::<K>();
                    seq.serialize_element(&(b, RawBytes(&bytes)))?;
                }
                seq.end()
            }
        }
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&Near(&self.near))?;
        tuple.serialize_element(&Later::<K>(&self.later))?;
        tuple.end()
    }
}

/// Bytes that serialize as bytes in one piece.
#[derive(serde::Serialize)]
struct RawBytes<'a>(#[serde(with = "super::raw_bytes")] &'a [u8]);

#[derive(serde::Deserialize)]
struct OwnedBytes(#[serde(with = "super::raw_bytes")] Vec<u8>);

impl<'de, K: Packed + serde::Deserialize<'de>> serde::Deserialize<'de> for SettleQueue<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[allow(clippy::type_complexity)]
        let (near, later): (Vec<(At, K)>, Vec<(i64, OwnedBytes)>) =
            serde::Deserialize::deserialize(deserializer)?;
        let mut queue = SettleQueue::new();
        for (At(at), key) in near {
            queue.push(at, key);
        }
        for (b, OwnedBytes(bytes)) in later {
            let slots = Bucket::slots::<K>(&bytes).map_err(serde::de::Error::custom)?;
            if b.checked_mul(BUCKET_SECONDS)
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .is_none()
            {
                return Err(serde::de::Error::custom(format!(
                    "a bucket out of range: {b}"
                )));
            }
            queue.len += slots.len();
            queue.later.entry(b).or_default().extend(slots);
        }
        Ok(queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    impl Packed for u32 {
        type Packed = u32;
        const BYTES: usize = 4;
        fn pack(self) -> u32 {
            self
        }
        fn unpack(packed: u32) -> u32 {
            packed
        }
        fn put(packed: u32, out: &mut Vec<u8>) {
            out.extend_from_slice(&packed.to_le_bytes());
        }
        fn take(bytes: &[u8]) -> u32 {
            u32::from_le_bytes(bytes.try_into().unwrap_or_default())
        }
    }

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
    fn a_bucket_keeps_instants_exactly() {
        let instants = [
            Utc.timestamp_opt(1_770_000_000, 500_000_000).unwrap(),
            Utc.timestamp_opt(-86_401, 999_999_999).unwrap(),
            Utc.timestamp_opt(BUCKET_SECONDS - 1, 1).unwrap(),
            Utc.timestamp_opt(-BUCKET_SECONDS, 0).unwrap(),
        ];
        for (key, &at) in instants.iter().enumerate() {
            let slot = Slot::new(at, key as u32);
            assert_eq!(slot.entry::<u32>(bucket(at)), (at, key as u32));
        }
    }

    /// Bytes that are not a queue's are refused, not taken for entries.
    #[test]
    fn a_torn_or_impossible_bucket_is_refused() {
        let mut q = SettleQueue::new();
        q.push(at(5_000), 7u32);
        let bytes = postcard::to_stdvec(&q).unwrap();
        assert!(postcard::from_bytes::<SettleQueue<u32>>(&bytes).is_ok());
        // One slot is 10 bytes here (after their length), and its offset is the last two.
        let n = bytes.len();
        assert_eq!(bytes[n - 11], 10);
        let mut torn = bytes[..n - 11].to_vec();
        torn.push(9);
        torn.extend_from_slice(&bytes[n - 10..n - 1]);
        assert!(postcard::from_bytes::<SettleQueue<u32>>(&torn).is_err());
        let mut late = bytes.clone();
        late[n - 2..].copy_from_slice(&2000u16.to_le_bytes());
        assert!(postcard::from_bytes::<SettleQueue<u32>>(&late).is_err());
    }

    #[test]
    fn an_entry_of_a_ticket_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Slot<[u64; 2]>>(), 24);
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
            let mut all: Vec<_> = q.iter().collect();
            all.sort();
            let mut expected: Vec<_> = r.0.into_iter().map(|Reverse(e)| e).collect();
            expected.sort();
            prop_assert_eq!(all, expected);
        }

        /// A ticket key comes out of a bucket as it went in.
        #[test]
        fn a_ticket_key_survives_its_packing(key: u128) {
            use crate::engine::state::TicketKey;
            prop_assert_eq!(TicketKey::unpack(TicketKey(key).pack()), TicketKey(key));
            let mut bytes = Vec::new();
            TicketKey::put(TicketKey(key).pack(), &mut bytes);
            prop_assert_eq!(bytes.len(), TicketKey::BYTES);
            prop_assert_eq!(TicketKey::unpack(TicketKey::take(&bytes)), TicketKey(key));
        }

        /// A snapshot of the queue reads back as the same queue.
        #[test]
        fn reads_back_what_it_wrote(
            entries in proptest::collection::vec((0i64..100_000, 0u32..1_000_000_000, 0u32..50), 0..100),
        ) {
            let mut q = SettleQueue::new();
            for &(s, nanos, k) in &entries {
                q.push(at(s) + chrono::Duration::nanoseconds(i64::from(nanos)), k);
            }
            take_before(&mut q, at(50_000));
            let bytes = postcard::to_stdvec(&q).unwrap();
            let mut back: SettleQueue<u32> = postcard::from_bytes(&bytes).unwrap();
            prop_assert_eq!(back.len(), q.len());
            prop_assert_eq!(take_before(&mut back, chrono::DateTime::<Utc>::MAX_UTC), take_before(&mut q, chrono::DateTime::<Utc>::MAX_UTC));
        }
    }
}
