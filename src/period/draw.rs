//! Drawing samples: which cases a checker should look at, chosen so that anyone can redo the
//! choice by hand or in another program and get the same cases.
//!
//! # The algorithm (stable across machines and versions)
//!
//! For a sampling clause and one of its periods:
//!
//! 1. The population is the cases whose first population event falls in the period (see
//!    [`super::sampling`]); when the clause has `group by`, each group is a stratum and is drawn
//!    on its own, otherwise the whole population is one stratum.
//! 2. In each stratum, `required = ceil(ratio × stratum size)` on exact integers (ratio in
//!    per-mille).
//! 3. Each case gets the rank key `xxh3_64_with_seed(ticket, seed)`: XXH3, 64-bit, over the
//!    UTF-8 bytes of the ticket id, with the seed (default 0) as XXH3's 64-bit seed.
//! 4. Cases are sorted by rank key ascending, ties by ticket (byte order); the first `required`
//!    are drawn.
//!
//! Nothing else enters the choice: not the order of the input, not the time of the run, not a
//! process-wide random state. The same ticket keeps its key under the same seed, so changing the
//! seed is the way to draw a different sample of the same period.

use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The rank key of a ticket under a seed.
pub fn rank_key(ticket: &str, seed: u64) -> u64 {
    xxh3_64_with_seed(ticket.as_bytes(), seed)
}

/// The first `required` of `tickets` by `(rank key, ticket)`, with their keys. Duplicate tickets
/// count once.
pub fn draw(tickets: &[Arc<str>], required: u64, seed: u64) -> Vec<(Arc<str>, u64)> {
    let mut ranked: Vec<(u64, Arc<str>)> = tickets
        .iter()
        .map(|t| (rank_key(t, seed), t.clone()))
        .collect();
    ranked.sort_unstable();
    ranked.dedup_by(|a, b| a.1 == b.1);
    let take = usize::try_from(required).unwrap_or(usize::MAX);
    ranked.into_iter().take(take).map(|(k, t)| (t, k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_pinned() {
        // These values must never change: published draws depend on them.
        // (xxh3-64 of the ticket's UTF-8 bytes with the seed; any other implementation of
        // xxh3, e.g. Python's `xxhash.xxh3_64_intdigest(b"T-1", seed=0)`, gives the same.)
        let pinned: [(&str, u64, u64); 8] = [
            ("", 0, 0x2d06800538d394c2),
            ("", 20261001, 0xb76628642ac3a823),
            ("T-1", 0, 0x8ff64debf66af128),
            ("T-1", 20261001, 0x0503104d6955d829),
            ("T-2026-000017", 0, 0xddd39b32262a0d17),
            ("T-2026-000017", 20261001, 0x743c31eea94afca3),
            ("报修-0001", 0, 0x48ec509682492dbd),
            ("报修-0001", 20261001, 0x248dc157202b94e7),
        ];
        for (ticket, seed, key) in pinned {
            assert_eq!(rank_key(ticket, seed), key, "{ticket:?} with seed {seed}");
        }
    }

    #[test]
    fn order_of_input_does_not_matter() {
        let a: Vec<Arc<str>> = ["T-3", "T-1", "T-2", "T-4"]
            .iter()
            .map(|s| Arc::from(*s))
            .collect();
        let mut b = a.clone();
        b.reverse();
        assert_eq!(draw(&a, 2, 7), draw(&b, 2, 7));
        assert_eq!(draw(&a, 10, 7).len(), 4);
    }
}
