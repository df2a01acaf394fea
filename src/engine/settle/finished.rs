//! Tickets remembered after they settled, so that a late event of one is told apart from a
//! ticket new to the stream ("arrived after its case was settled"), for
//! [`FINISHED_MEMORY`](super::FINISHED_MEMORY) or twice the longest retention: their hashes, in
//! generations.

use super::*;

/// Hashes of finished tickets, in generations of a third of the memory asked for
/// ([`FINISHED_MEMORY`], or twice the longest retention, if longer): the one being filled, a
/// set, and the three before it, each frozen into a sorted slice when the next began (8 bytes
/// a ticket, where a set holds 10 to 20). The oldest is forgotten when a fourth is frozen, so a
/// ticket is remembered at least the memory asked for and at most a third more. Generations
/// of the whole memory, two of them, held up to twice it: the tickets of four months where two
/// were asked for, so memory grew with the length of a stream up to four months.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub(in crate::engine) struct Finished {
    current: Recent,
    /// Newest first, each sorted.
    #[serde(with = "frozen_bytes")]
    frozen: VecDeque<Box<[u64]>>,
    #[serde(with = "crate::event::compact_instant::option")]
    since: Option<Instant>,
}

impl Finished {
    /// How many generations are frozen: the memory asked for is split into this many.
    const FROZEN: usize = 3;

    /// Whether the ticket of `hash` settled recently, and if so whether it settled idle (never
    /// closed, no event for the retention) rather than closed. The lowest bit of a remembered
    /// hash says which: 63 bits are left to tell tickets apart.
    pub(in crate::engine) fn contains(&self, hash: u64) -> Option<bool> {
        let closed = hash & !1;
        let (mut as_closed, mut as_idle) = (
            self.current.contains(&closed),
            self.current.contains(&(hash | 1)),
        );
        for generation in &self.frozen {
            let (c, i) = pair_in(generation, closed);
            as_closed |= c;
            as_idle |= i;
        }
        match (as_closed, as_idle) {
            (true, _) => Some(false),
            (false, true) => Some(true),
            (false, false) => None,
        }
    }

    pub(in crate::engine) fn insert(&mut self, hash: u64, idle: bool) {
        self.current.insert(if idle { hash | 1 } else { hash & !1 });
    }

    /// Freezes the current generation when it has lasted a third of `memory`, and forgets the
    /// oldest frozen ones. Generations keep their length across a gap in the stream: a jump
    /// over several of them freezes empty ones, so a ticket is never remembered longer for the
    /// stream's being quiet.
    pub(in crate::engine) fn advance(&mut self, watermark: Instant, memory: Duration) {
        let since = *self.since.get_or_insert(watermark);
        let generation = (memory / Self::FROZEN as i32).num_seconds().max(1);
        let passed = (watermark - since).num_seconds() / generation;
        if passed < 1 {
            return;
        }
        let mut frozen = std::mem::take(&mut self.current).order;
        frozen.sort_unstable();
        self.frozen.push_front(frozen.into_boxed_slice());
        for _ in 1..passed.min(Self::FROZEN as i64 + 1) {
            self.frozen.push_front(Box::default());
        }
        self.frozen.truncate(Self::FROZEN);
        self.since = since
            .checked_add_signed(Duration::seconds(generation * passed))
            .or(Some(watermark));
    }

    /// Adds what another partition remembers, at the same stream time (so in the same
    /// generations).
    pub(in crate::engine) fn absorb(&mut self, other: Finished) {
        for hash in other.current.order {
            self.current.insert(hash);
        }
        for (i, theirs) in other.frozen.into_iter().enumerate() {
            match self.frozen.get_mut(i) {
                Some(mine) => {
                    let mut both = std::mem::take(mine).into_vec();
                    both.extend_from_slice(&theirs);
                    both.sort_unstable();
                    both.dedup();
                    *mine = both.into_boxed_slice();
                }
                None => self.frozen.push_back(theirs),
            }
        }
        self.since = self.since.max(other.since);
    }
}

/// The generation of finished tickets being filled: a set to look them up, and the same hashes
/// in the order they came, which is how it is written in a snapshot. The service commits its
/// state in parts cut by their content and writes only the parts that changed
/// (`serve::restparts`): written in the set's order, each commit's new tickets would fall all
/// over the generation's bytes and change every part of it; in the order they came, they are
/// appended at its end. (A set written as a sequence reads back from one: the layout is that
/// of the set it replaces.)
#[derive(Clone, Default)]
struct Recent {
    set: HashSet64,
    order: Vec<u64>,
}

impl Recent {
    fn contains(&self, hash: &u64) -> bool {
        self.set.contains(hash)
    }

    fn insert(&mut self, hash: u64) {
        if self.set.insert(hash) {
            self.order.push(hash);
        }
    }
}

impl serde::Serialize for Recent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        hash_bytes::serialize(&self.order, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Recent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hashes = hash_bytes::deserialize(deserializer)?;
        let mut recent = Recent {
            set: HashSet64::with_capacity_and_hasher(hashes.len(), Default::default()),
            order: Vec::with_capacity(hashes.len()),
        };
        for hash in hashes {
            recent.insert(hash);
        }
        Ok(recent)
    }
}

/// Hashes of settled tickets written as their little-endian bytes in one piece, where serde
/// writes a sequence of varints one by one: a million of them or more (the tickets settled in
/// the last two months of a dense stream) are most of the rest of the state the service
/// writes at every commit, and a copy of their memory is a fraction of the time of encoding
/// each.
mod hash_bytes {
    pub(super) fn serialize<S: serde::Serializer>(hashes: &[u64], s: S) -> Result<S::Ok, S::Error> {
        #[cfg(target_endian = "little")]
        {
            // SAFETY: `u64` has no padding and every byte of it is a valid `u8`; the slice
            // covers exactly the memory of `hashes`, which it borrows, and on a little-endian
            // machine that memory is the little-endian bytes of each hash.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    hashes.as_ptr().cast::<u8>(),
                    std::mem::size_of_val(hashes),
                )
            };
            s.serialize_bytes(bytes)
        }
        #[cfg(not(target_endian = "little"))]
        {
            let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
            s.serialize_bytes(&bytes)
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<u64>, D::Error> {
        let bytes = crate::engine::raw_bytes::deserialize(d)?;
        if bytes.len() % 8 != 0 {
            return Err(serde::de::Error::invalid_length(
                bytes.len(),
                &"8 bytes a hash",
            ));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect())
    }
}

/// The frozen generations of [`Finished`], each as [`hash_bytes`].
mod frozen_bytes {
    use std::collections::VecDeque;

    pub(super) fn serialize<S: serde::Serializer>(
        frozen: &VecDeque<Box<[u64]>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        struct Generation<'a>(&'a [u64]);
        impl serde::Serialize for Generation<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::hash_bytes::serialize(self.0, s)
            }
        }
        s.collect_seq(frozen.iter().map(|g| Generation(g)))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<VecDeque<Box<[u64]>>, D::Error> {
        struct Generation(Box<[u64]>);
        impl<'de> serde::Deserialize<'de> for Generation {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Generation(
                    super::hash_bytes::deserialize(d)?.into_boxed_slice(),
                ))
            }
        }
        let generations: Vec<Generation> = serde::Deserialize::deserialize(d)?;
        Ok(generations.into_iter().map(|g| g.0).collect())
    }
}

/// Whether `even` and `even | 1` are in `sorted`, a sorted slice of hashes. Hashes are spread
/// evenly over the 64 bits, so the place of `even` is guessed from its value and the search
/// widens from there: a ticket new to the stream (the usual question) costs a cache line or
/// two per generation, where a binary search over a million entries costs twenty.
fn pair_in(sorted: &[u64], even: u64) -> (bool, bool) {
    let len = sorted.len();
    if len == 0 {
        return (false, false);
    }
    let guess = ((u128::from(even) * len as u128) >> 64) as usize;
    let (mut lo, mut hi) = (guess, guess + 1);
    let mut step = 16;
    // Widen until `sorted[lo] <= even` (or lo is 0) and `even | 1 < sorted[hi]` (or hi is len).
    while lo > 0 && sorted[lo] > even {
        lo = lo.saturating_sub(step);
        step *= 2;
    }
    step = 16;
    while hi < len && sorted[hi] <= (even | 1) {
        hi = (hi + step).min(len);
        step *= 2;
    }
    let window = &sorted[lo..hi];
    let at = window.partition_point(|&h| h < even);
    let closed = window.get(at) == Some(&even);
    let idle = window[at..].iter().take(2).any(|&h| h == even | 1);
    (closed, idle)
}

#[cfg(test)]
mod tests {
    use super::{Finished, Recent};
    use chrono::{Duration, TimeZone, Utc};

    /// A ticket is remembered at least the memory asked for and at most a third more, whether
    /// stream time moves day by day or jumps; closed and idle are told apart; partitions'
    /// memories unite.
    #[test]
    fn settled_tickets_are_remembered_the_memory_asked_for_and_at_most_a_third_more() {
        let memory = Duration::days(60);
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        for settled_on in [0, 5, 19, 20, 33] {
            let mut finished = Finished::default();
            let mut last_seen = None;
            for day in 0..200 {
                let now = start + Duration::days(day);
                finished.advance(now, memory);
                if day == settled_on {
                    finished.insert(42, false);
                    finished.insert(7, true);
                }
                if day >= settled_on && finished.contains(42) == Some(false) {
                    assert_eq!(finished.contains(7), Some(true));
                    last_seen = Some(day);
                }
            }
            let kept = last_seen.expect("remembered once settled") - settled_on;
            assert!(
                (60..80).contains(&kept),
                "settled on day {settled_on}: kept {kept} days"
            );
        }
        // A jump over the whole memory forgets everything before it.
        let mut finished = Finished::default();
        finished.advance(start, memory);
        finished.insert(42, false);
        finished.advance(start + Duration::days(59), memory);
        assert_eq!(finished.contains(42), Some(false));
        finished.advance(start + Duration::days(400), memory);
        assert_eq!(finished.contains(42), None);
        assert_eq!(finished.frozen.len(), Finished::FROZEN);
        // Two partitions' memories, united, remember both.
        let (mut a, mut b) = (Finished::default(), Finished::default());
        for f in [&mut a, &mut b] {
            f.advance(start, memory);
        }
        a.insert(2, false);
        b.insert(4, true);
        for f in [&mut a, &mut b] {
            f.advance(start + Duration::days(25), memory);
        }
        b.insert(6, false);
        a.absorb(b);
        assert_eq!(
            (a.contains(2), a.contains(4), a.contains(6), a.contains(8)),
            (Some(false), Some(true), Some(false), None)
        );
    }

    /// Frozen generations and the one being filled read back as written: every ticket is
    /// remembered as it was, closed or idle, and the bytes are the same again.
    #[test]
    fn remembered_tickets_read_back_from_their_bytes() {
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut finished = Finished::default();
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut hashes = Vec::new();
        for day in 0..70 {
            finished.advance(start + Duration::days(day), Duration::days(60));
            for _ in 0..50 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                finished.insert(state, state % 3 == 0);
                hashes.push(state);
            }
        }
        assert_eq!(finished.frozen.len(), Finished::FROZEN);
        let bytes = postcard::to_stdvec(&finished).unwrap();
        let read: Finished = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_stdvec(&read).unwrap(), bytes);
        for &h in &hashes {
            assert_eq!(read.contains(h), finished.contains(h), "{h}");
        }
        assert!(
            hashes
                .iter()
                .filter(|&&h| read.contains(h).is_some())
                .count()
                > 2000
        );
        // Cut anywhere, the bytes are refused rather than misread.
        for len in (0..bytes.len()).step_by(97) {
            assert!(
                postcard::from_bytes::<Finished>(&bytes[..len]).is_err(),
                "{len}"
            );
        }
    }

    /// The guessed search finds what a binary search finds, for present and absent pairs, at
    /// the ends of the range and in slices of any length.
    #[test]
    fn the_generation_being_filled_is_written_in_the_order_it_came_and_reads_as_a_set() {
        let mut recent = Recent::default();
        for hash in [90, 12, 90, 55, 3] {
            recent.insert(hash);
        }
        let bytes = postcard::to_stdvec(&recent).unwrap();
        // The hashes' little-endian bytes in one piece, after their length in bytes.
        let mut expected = vec![32u8];
        for hash in [90u64, 12, 55, 3] {
            expected.extend_from_slice(&hash.to_le_bytes());
        }
        assert_eq!(bytes, expected);
        // Bytes that are not whole hashes are refused.
        assert!(postcard::from_bytes::<Recent>(&[3, 1, 2, 3]).is_err());
        let again: Recent = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(again.order, [90, 12, 55, 3]);
        assert!(again.contains(&55) && !again.contains(&56));
        // Appending to it leaves the bytes written before it as they were.
        recent.insert(77);
        let longer = postcard::to_stdvec(&recent).unwrap();
        assert_eq!(longer[1..bytes.len()], bytes[1..]);
    }

    #[test]
    fn the_guessed_search_finds_what_a_binary_search_finds() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in [0usize, 1, 2, 3, 17, 1000, 40_000] {
            let mut sorted: Vec<u64> = (0..len).map(|_| next()).collect();
            sorted.extend([0, 1, u64::MAX - 1, u64::MAX]);
            sorted.sort_unstable();
            sorted.dedup();
            let mut probes: Vec<u64> = sorted.iter().map(|h| h & !1).collect();
            probes.extend((0..500).map(|_| next() & !1));
            for even in probes {
                let expected = (
                    sorted.binary_search(&even).is_ok(),
                    sorted.binary_search(&(even | 1)).is_ok(),
                );
                assert_eq!(super::pair_in(&sorted, even), expected, "{len} {even}");
            }
        }
    }
}
