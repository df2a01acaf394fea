//! The numbers of the rows a host stores a case's kept events under (the service keeps them
//! to explain a case, `GET /cases/{ticket}`), carried in the case's own state.
//!
//! Why in the case: the service kept them in a table of its own, by ticket, beside the
//! evaluator's table of cases. Every event then looked its ticket up twice in two tables of
//! hundreds of thousands of entries, the second time out of the cache (a tenth of the
//! service's loop on the dense 10 M stream), and the second table held tens of megabytes. In
//! the case they cost a few bytes each, are found with the case, rest with it, are written with
//! it at a checkpoint and are let go of when it settles.

/// The numbers of a case's rows, in increasing order, as bytes: the first number, then each
/// other one's distance from it, in LEB128 varints (two to four bytes a number on a dense
/// stream). Empty unless a host keeps the case's events.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RowNumbers(#[serde(with = "super::raw_bytes")] Vec<u8>);

impl RowNumbers {
    /// Appends `n`, above every number held.
    pub(crate) fn push(&mut self, n: u64) {
        let value = match self.iter().next() {
            Some(first) => {
                debug_assert!(n > first, "row numbers come in increasing order");
                n.saturating_sub(first)
            }
            None => n,
        };
        let mut v = value;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                break;
            }
            self.0.push(byte | 0x80);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The numbers, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut bytes = self.0.iter();
        let mut first = None;
        std::iter::from_fn(move || {
            let (mut value, mut shift) = (0u64, 0);
            loop {
                let byte = *bytes.next()?;
                value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            Some(match first {
                None => {
                    first = Some(value);
                    value
                }
                // (Saturating: bytes read back from a damaged store never overflow.)
                Some(base) => base.saturating_add(value),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RowNumbers;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the increasing numbers (gaps of one to huge), they read back in order, and
        /// through their bytes too.
        #[test]
        fn row_numbers_read_back_as_pushed(
            first in 0u64..(1 << 40),
            gaps in proptest::collection::vec(prop_oneof![1u64..4, 1u64..100_000, 1u64..(1 << 40)], 0..60),
        ) {
            let mut numbers = vec![first];
            for gap in gaps {
                let last = *numbers.last().unwrap_or(&0);
                numbers.push(last + gap);
            }
            let mut rows = RowNumbers::default();
            for n in &numbers {
                rows.push(*n);
            }
            prop_assert_eq!(rows.iter().collect::<Vec<_>>(), numbers.clone());
            let bytes = postcard::to_stdvec(&rows).unwrap();
            let back: RowNumbers = postcard::from_bytes(&bytes).unwrap();
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), numbers);
        }
    }

    /// Damaged bytes (a first number near the top of the range, then a distance) read as
    /// numbers without overflowing.
    #[test]
    fn damaged_bytes_read_without_overflow() {
        let mut bytes = vec![11u8];
        bytes.extend([0xff; 9]);
        bytes.extend([0x01, 0x05]);
        let rows: RowNumbers = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(rows.iter().collect::<Vec<_>>(), [u64::MAX, u64::MAX]);
    }

    /// A dense stream's numbers take a few bytes each, not eight; none take one byte.
    #[test]
    fn row_numbers_are_small() {
        let mut rows = RowNumbers::default();
        assert!(rows.is_empty());
        assert_eq!(postcard::to_stdvec(&rows).unwrap(), [0]);
        for n in [9_000_001u64, 9_000_050, 9_012_000, 9_400_000, 9_900_000] {
            rows.push(n);
        }
        assert!(!rows.is_empty());
        assert_eq!(rows.0.len(), 4 + 1 + 2 + 3 + 3);
    }
}
