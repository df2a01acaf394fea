//! Partitions of the tickets, for a scale-out over several evaluators (`--partition I/N`).
//!
//! # The mapping (stable across machines and versions)
//!
//! A ticket belongs to partition `(k × N) >> 64` of `N`, where `k` is its rank key with seed 0
//! ([`crate::period::draw::rank_key`]: XXH3-64 of the ticket's UTF-8 bytes, the key the sample
//! draw uses): range partitioning of the 64-bit key space into `N` equal ranges. Every event
//! of a ticket lands in the same partition, so each case is judged whole by one evaluator.
//!
//! Every evaluator of a split reads the whole stream: the events of other partitions are not
//! applied, but they move stream time (the watermark, the reorder window, `now`) exactly as
//! they do in a single evaluator, so that running clocks are judged at the same instant
//! everywhere. Lines rejected before their ticket is known are counted by partition 0 alone.

use crate::period::draw::rank_key;

/// Partition `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

impl Partition {
    /// Partition `index` of `count`; `None` unless `0 <= index < count`.
    pub fn new(index: u32, count: u32) -> Option<Partition> {
        (index < count).then_some(Partition { index, count })
    }

    /// The partition `ticket` belongs to among `count`.
    pub fn of(ticket: &str, count: u32) -> u32 {
        let key = rank_key(ticket, 0);
        ((u128::from(key) * u128::from(count)) >> 64) as u32
    }

    /// Whether the events of `ticket` are this partition's.
    pub fn contains(&self, ticket: &str) -> bool {
        self.count <= 1 || Partition::of(ticket, self.count) == self.index
    }

    /// Whether this partition counts the lines rejected before their ticket is known.
    pub fn counts_unattributed(&self) -> bool {
        self.index == 0
    }

    /// Reads `I/N`, e.g. `0/3`.
    pub fn parse(text: &str) -> Result<Partition, String> {
        let bad = || format!("`{text}` is not a partition: write I/N with 0 <= I < N, e.g. 0/3");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: u32 = i.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Partition::new(i, n).ok_or_else(bad)
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ticket_has_one_partition_and_the_ranges_are_even() {
        let mut counts = [0u32; 3];
        for i in 0..3000 {
            let t = format!("T-{i}");
            let p = Partition::of(&t, 3);
            counts[p as usize] += 1;
            let owners = (0..3)
                .filter(|&j| Partition { index: j, count: 3 }.contains(&t))
                .count();
            assert_eq!(owners, 1, "{t}");
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn the_mapping_is_pinned() {
        // rank key of "T-1" is 0x8ff64debf66af128: the upper half of the key space.
        assert_eq!(Partition::of("T-1", 2), 1);
        assert_eq!(Partition::of("T-1", 1), 0);
        // 0x8ff6.. × 3 >> 64 = 1 (0x8ff6.. / 0x5555.. = 1.69)
        assert_eq!(Partition::of("T-1", 3), 1);
    }

    #[test]
    fn parse_reads_i_of_n_and_refuses_the_rest() {
        assert_eq!(
            Partition::parse("1/3"),
            Ok(Partition { index: 1, count: 3 })
        );
        for bad in ["3/3", "1", "a/3", "1/0", "-1/3"] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
    }
}
