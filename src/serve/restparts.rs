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

/// `bytes` cut into parts, in order: none empty, each at most [`MAX_PART`] bytes (what
/// [`Parts::replace`] gives a rest when it knows no previous parts).
#[cfg(test)]
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
    /// Each part's length and its first bytes, when the list was cut here (not when it was
    /// read from the store): what finds the parts the next rest still holds.
    cuts: Vec<Cut>,
}

/// What [`Parts::replace`] knows of a part it cut.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cut {
    len: usize,
    /// The part's first bytes (fewer if it is shorter), to find where it may start again.
    head: [u8; HEAD],
    /// The part ended the rest: it was cut by the end, not by its content.
    last: bool,
}

/// Bytes of a part's beginning that [`Cut`] keeps.
const HEAD: usize = 16;

fn head(bytes: &[u8]) -> [u8; HEAD] {
    let mut head = [0; HEAD];
    let n = bytes.len().min(HEAD);
    head[..n].copy_from_slice(&bytes[..n]);
    head
}

/// What a commit does to the table of parts: parts to write, keys to remove.
#[derive(Debug, Default)]
pub(super) struct Change<'a> {
    pub(super) write: Vec<(u128, &'a [u8])>,
    pub(super) remove: Vec<u128>,
    /// Bytes cut by their content (the others were parts taken again whole).
    pub(super) recut: usize,
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
        Ok(Parts {
            keys,
            cuts: Vec::new(),
        })
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
    ///
    /// Most of a rest is as it was at the previous commit, at most shifted: where one of the
    /// previous parts begins again (its first bytes, then its hash over its length, agree) it
    /// is taken whole, and only the bytes between such parts are cut by their content. Gear
    /// hashing every byte of a rest of tens of megabytes at every commit was an eighth of the
    /// commit thread's time; the parts' hashes are computed anyway. A part that ended the
    /// previous rest is not taken again (it was cut by the end, and taking it would leave a
    /// short part behind wherever the rest grew).
    pub(super) fn replace<'a>(&mut self, rest: &'a [u8]) -> Change<'a> {
        let old: HashSet<u128> = self.keys.iter().copied().collect();
        let mut by_head: std::collections::HashMap<[u8; HEAD], Vec<usize>> = Default::default();
        let old_keys = std::mem::take(&mut self.keys);
        let old_cuts = std::mem::take(&mut self.cuts);
        if old_cuts.len() == old_keys.len() {
            for (i, c) in old_cuts.iter().enumerate().filter(|(_, c)| !c.last) {
                by_head.entry(c.head).or_default().push(i);
            }
        }
        // (At most four candidates a place: a rest of repetitive bytes cannot make every
        // place try every part.)
        let again = |at: usize| -> Option<(usize, u128)> {
            let here = &rest[at..];
            by_head.get(&head(here))?.iter().take(4).find_map(|&i| {
                let len = old_cuts[i].len;
                let part = here.get(..len)?;
                (key(part) == old_keys[i]).then_some((len, old_keys[i]))
            })
        };
        let mut change = Change::default();
        let mut written = HashSet::new();
        let mut at = 0;
        while at < rest.len() {
            let (len, k) = match again(at) {
                Some(found) => found,
                None => {
                    let len = first_cut(&rest[at..]);
                    change.recut += len;
                    (len, key(&rest[at..at + len]))
                }
            };
            let part = &rest[at..at + len];
            self.keys.push(k);
            self.cuts.push(Cut {
                len,
                head: head(part),
                last: at + len == rest.len(),
            });
            if !old.contains(&k) && written.insert(k) {
                change.write.push((k, part));
            }
            at += len;
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

    /// A rest that grows at its end commit after commit (as the settled tickets of the
    /// generation being filled do) keeps parts of full size: the part that ended the rest is
    /// cut again rather than taken, so no short part is left at each old end.
    #[test]
    fn a_rest_growing_at_its_end_keeps_parts_of_full_size() {
        let mut rest = bytes(5, 1 << 20);
        let mut parts = Parts::default();
        parts.replace(&rest);
        for seed in 0..40 {
            rest.extend(bytes(100 + seed, 3000));
            let change = parts.replace(&rest);
            assert!(
                change.write.len() <= 2,
                "{} parts written",
                change.write.len()
            );
        }
        let lens: Vec<usize> = parts.cuts.iter().map(|c| c.len).collect();
        assert_eq!(lens.iter().sum::<usize>(), rest.len());
        assert!(
            lens[..lens.len() - 1].iter().all(|&l| l > MIN_PART),
            "{lens:?}"
        );
        let keys: Vec<u128> = cut(&rest).map(key).collect();
        assert_eq!(parts.keys(), keys, "as if cut afresh");
    }

    /// Parts shifted by an insertion before them are taken again whole, found by their first
    /// bytes and hash; a list read from the store (which knows no lengths) cuts by content,
    /// as the first commit does.
    #[test]
    fn shifted_parts_are_taken_again_and_a_stored_list_cuts_afresh() {
        let before = bytes(21, 2 << 20);
        let mut parts = Parts::default();
        parts.replace(&before);
        let mut after = bytes(22, 5000);
        after.extend_from_slice(&before);
        let change = parts.replace(&after);
        assert!(
            change.write.len() <= 2,
            "{} parts written",
            change.write.len()
        );
        assert!(change.remove.len() <= 2);
        assert!(
            change.recut < 2 * MAX_PART,
            "{} bytes cut again",
            change.recut
        );
        let mut read = Parts::from_bytes(&parts.to_bytes()).unwrap();
        assert_eq!(read.keys(), parts.keys());
        let fresh = read.replace(&after);
        assert_eq!(fresh.recut, after.len());
        assert_eq!(read.keys(), cut(&after).map(key).collect::<Vec<_>>());
        assert!(
            fresh.write.len() <= 2,
            "{} parts written",
            fresh.write.len()
        );
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
