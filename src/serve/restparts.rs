//! The rest of the engine's state (everything but its cases) as parts cut where its content
//! says, so that a commit writes only the parts that changed.
//!
//! The rest grows with the cases kept: on the dense 10 M stream it reaches 25 MB (the settling
//! queue, the tickets settled in the last two months, the running cycles of idle cases), and
//! written whole at every commit it was four fifths of what the service wrote. Between two
//! commits most of it is unchanged: the settling queue changes near stream time and near
//! stream time plus a retention, the frozen generations of settled tickets not at all.
//!
//! So the bytes are cut into parts at positions chosen by their content (a gear hash of the
//! last 64 bytes, as in FastCDC: a cut after every byte whose hash has its top bits clear,
//! between [`MIN_PART`] and [`MAX_PART`] bytes apart). An insertion or a removal moves the cuts
//! near it and no others, so the parts away from a change come out the same at the next commit.
//! Each part is stored under its 128-bit hash (xxh3): a part already stored is not written
//! again, and the rest is the list of its parts' keys ([`Parts`]). Two different parts with the
//! same key would be taken for one; among the few thousand parts a store ever holds at once the
//! odds are about 1 in 10^31.

use std::collections::HashSet;

/// No cut before this many bytes of a part: parts are not smaller, but at the end.
pub(super) const MIN_PART: usize = 16 << 10;
/// A cut after this many bytes of a part whatever the content.
pub(super) const MAX_PART: usize = 256 << 10;
/// A cut where the top 15 bits of the hash are clear: about every 32 KiB past the minimum.
const CUT_MASK: u64 = !(u64::MAX >> 15);

/// 256 pseudo-random words, one per byte value (splitmix64 from a fixed seed): the same in
/// every build, so that the same bytes are cut in the same places everywhere.
const GEAR: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut state: u64 = 0x005E_ED0F_9A57_5EED;
    let mut i = 0;
    while i < 256 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
};

/// The length of the first part of `bytes`.
fn first_cut(bytes: &[u8]) -> usize {
    if bytes.len() <= MIN_PART {
        return bytes.len();
    }
    let end = bytes.len().min(MAX_PART);
    let mut hash: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(end).skip(MIN_PART) {
        hash = (hash << 1).wrapping_add(GEAR[b as usize]);
        if hash & CUT_MASK == 0 {
            return i + 1;
        }
    }
    end
}

/// `bytes` cut into parts, in order: none empty, each at most [`MAX_PART`] bytes.
pub(super) fn cut(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let (part, rest) = bytes.split_at(first_cut(bytes));
        bytes = rest;
        Some(part)
    })
}

/// The key a part is stored under.
pub(super) fn key(part: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(part)
}

/// The keys of the parts of a rest, in order: what the store keeps of the rest besides the
/// parts themselves, and what a commit compares the next rest's parts with.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Parts {
    keys: Vec<u128>,
}

/// What a commit does to the table of parts: parts to write, keys to remove.
#[derive(Debug, Default)]
pub(super) struct Change<'a> {
    pub(super) write: Vec<(u128, &'a [u8])>,
    pub(super) remove: Vec<u128>,
}

impl Parts {
    /// The parts listed in `bytes` (as [`Parts::to_bytes`] wrote them).
    pub(super) fn from_bytes(bytes: &[u8]) -> Result<Parts, String> {
        if bytes.len() % 16 != 0 {
            return Err(format!(
                "a list of parts of {} bytes (not a multiple of 16)",
                bytes.len()
            ));
        }
        let keys = bytes
            .chunks_exact(16)
            .map(|k| u128::from_le_bytes(k.try_into().unwrap_or_default()))
            .collect();
        Ok(Parts { keys })
    }

    pub(super) fn to_bytes(&self) -> Vec<u8> {
        self.keys.iter().flat_map(|k| k.to_le_bytes()).collect()
    }

    #[cfg(test)]
    pub(super) fn keys(&self) -> &[u128] {
        &self.keys
    }

    /// Cuts `rest` into parts and becomes its list; returns the parts not stored yet and the
    /// keys no longer listed.
    pub(super) fn replace<'a>(&mut self, rest: &'a [u8]) -> Change<'a> {
        let old: HashSet<u128> = self.keys.iter().copied().collect();
        let mut change = Change::default();
        let mut written = HashSet::new();
        self.keys.clear();
        for part in cut(rest) {
            let k = key(part);
            self.keys.push(k);
            if !old.contains(&k) && written.insert(k) {
                change.write.push((k, part));
            }
        }
        let new: HashSet<u128> = self.keys.iter().copied().collect();
        change.remove = old.into_iter().filter(|k| !new.contains(k)).collect();
        change.remove.sort_unstable();
        change
    }

    /// The rest, from its parts as `part` finds them by key.
    pub(super) fn assemble(
        &self,
        mut part: impl FnMut(u128) -> Result<Option<Vec<u8>>, String>,
    ) -> Result<Vec<u8>, String> {
        let mut rest = Vec::new();
        for &k in &self.keys {
            match part(k)? {
                Some(bytes) => rest.extend_from_slice(&bytes),
                None => return Err(format!("the part {k:032x} of the state is missing")),
            }
        }
        Ok(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Bytes that look like a rest: runs of varints, repeated records and noise.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as u8
            })
            .collect()
    }

    #[test]
    fn parts_are_within_their_bounds_and_make_up_the_bytes() {
        let data = bytes(7, 3 << 20);
        let parts: Vec<&[u8]> = cut(&data).collect();
        assert_eq!(parts.concat(), data);
        assert!(parts.iter().all(|p| !p.is_empty() && p.len() <= MAX_PART));
        assert!(parts[..parts.len() - 1].iter().all(|p| p.len() > MIN_PART));
        // About every 32 KiB past the minimum: 3 MiB in some 60 parts.
        assert!((40..100).contains(&parts.len()), "{}", parts.len());
        assert_eq!(cut(&[]).count(), 0);
        assert_eq!(cut(&data[..100]).collect::<Vec<_>>(), [&data[..100]]);
    }

    #[test]
    fn an_insertion_changes_only_the_parts_near_it() {
        let before = bytes(11, 4 << 20);
        let mut after = before.clone();
        let inserted = bytes(12, 1000);
        after.splice(2 << 20..2 << 20, inserted);
        let mut parts = Parts::default();
        let first = parts.replace(&before);
        assert_eq!(first.write.len(), parts.keys().len());
        assert!(first.remove.is_empty());
        let change = parts.replace(&after);
        let written: usize = change.write.iter().map(|(_, p)| p.len()).sum();
        assert!(
            change.write.len() <= 3,
            "{} parts rewritten",
            change.write.len()
        );
        assert!(written < 3 * MAX_PART);
        assert_eq!(change.remove.len(), change.write.len());
    }

    proptest! {
        /// Replacing the rest again and again, the table of parts (written and removed as
        /// told) always holds exactly the parts listed, and they make up the latest rest.
        #[test]
        fn the_table_holds_exactly_the_listed_parts(
            edits in prop::collection::vec((0u64..1000, 0usize..200_000, 0usize..40_000, 0usize..40_000), 1..12),
        ) {
            let mut rest = bytes(1, 600_000);
            let mut parts = Parts::default();
            let mut table: HashMap<u128, Vec<u8>> = HashMap::new();
            for (seed, at, remove, insert) in edits {
                let at = at.min(rest.len());
                let end = (at + remove).min(rest.len());
                rest.splice(at..end, bytes(seed, insert));
                let change = parts.replace(&rest);
                for (k, part) in change.write {
                    prop_assert!(table.insert(k, part.to_vec()).is_none());
                }
                for k in change.remove {
                    prop_assert!(table.remove(&k).is_some());
                }
                let listed: HashSet<u128> = parts.keys().iter().copied().collect();
                prop_assert_eq!(listed, table.keys().copied().collect::<HashSet<_>>());
                let read = Parts::from_bytes(&parts.to_bytes()).unwrap();
                let whole = read.assemble(|k| Ok(table.get(&k).cloned())).unwrap();
                prop_assert!(whole == rest);
            }
        }
    }

    #[test]
    fn a_missing_part_or_a_torn_list_is_an_error() {
        let mut parts = Parts::default();
        parts.replace(&bytes(3, 100_000));
        assert!(parts.assemble(|_| Ok(None)).is_err());
        assert!(Parts::from_bytes(&[0; 17]).is_err());
    }
}
