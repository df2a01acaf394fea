//! Hash tables keyed by hashes.
//!
//! Cases, kept events and parts of the stored state are found by 128-bit xxh3 hashes of their
//! ticket or bytes. Such a key is uniformly distributed already: hashing it again with the
//! standard library's SipHash cost the service's commit thread about a tenth of its time in
//! its index of cases alone. These tables fold the key instead.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Takes an integer key as it is (a 128-bit key folded to 64 bits); other bytes are mixed in
/// a byte at a time, for keys that are not integers (none of this crate's).
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n >> 64) as u64 ^ n as u64;
    }
}

/// The hasher of [`HashedMap`].
pub(crate) type Fold = BuildHasherDefault<IdentityHasher>;

/// A map whose keys are hashes already.
pub(crate) type HashedMap<K, V> = HashMap<K, V, Fold>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn a_128_bit_key_is_folded_and_a_64_bit_one_kept() {
        let fold = Fold::default();
        let key: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        assert_eq!(
            fold.hash_one(key),
            0x0123_4567_89ab_cdef ^ 0xfedc_ba98_7654_3210
        );
        assert_eq!(fold.hash_one(7u64), 7);
    }

    #[test]
    fn tables_find_what_they_hold() {
        let mut map: HashedMap<u128, u32> = HashedMap::default();
        for i in 0..10_000u32 {
            let key = xxhash_rust::xxh3::xxh3_128(&i.to_le_bytes());
            map.insert(key, i);
        }
        for i in 0..10_000u32 {
            let key = xxhash_rust::xxh3::xxh3_128(&i.to_le_bytes());
            assert_eq!(map.get(&key), Some(&i));
        }
        assert!(!map.contains_key(&xxhash_rust::xxh3::xxh3_128(b"absent")));
    }
}
