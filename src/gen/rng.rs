//! A small seeded random number generator of our own, so that a stream generated from a seed is
//! the same on every machine and in every version, whatever crates we depend on.
//!
//! xoshiro256** (Blackman and Vigna) seeded through SplitMix64, as its authors recommend. Only
//! integer arithmetic is used to draw values: no `ln`, `exp` or `powf`, whose last bits may
//! differ between platforms' maths libraries.

/// One step of SplitMix64: a good 64-bit mixer, used to derive seeds.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256**.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for one stream of a seed: `stream` separates independent uses (one per case,
    /// one for displacement...), so that adding draws to one never shifts another.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut sm = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias for the small `n` we
    /// use is below 2⁻⁴⁰ and does not matter for test data.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`; `lo` if `hi <= lo`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `permille / 1000`.
    pub fn chance(&mut self, permille: u32) -> bool {
        self.below(1000) < u64::from(permille)
    }

    /// One of `items`, drawn by weight. Weights must not all be zero.
    pub fn pick<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|&(_, w)| u64::from(w)).sum();
        let mut x = self.below(total.max(1));
        for &(item, w) in items {
            if x < u64::from(w) {
                return item;
            }
            x -= u64::from(w);
        }
        items[items.len() - 1].0
    }

    /// One of `items`, uniformly.
    pub fn one<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Roughly log-uniform in `lo..=hi` (`lo >= 1`): each doubling of the value is about as
    /// likely as the next, so a delay drawn this way lands past every limit between `lo` and
    /// `hi` with some probability. Integer-only: an octave, then a uniform value inside it.
    pub fn log_uniform(&mut self, lo: i64, hi: i64) -> i64 {
        let lo = lo.max(1);
        if hi <= lo {
            return lo;
        }
        let octaves = 64 - ((hi / lo) as u64).leading_zeros() as i64; // ≥ 1
        let k = self.below(octaves as u64) as i64;
        let a = lo.saturating_mul(1 << k).min(hi);
        let b = lo.saturating_mul(1 << (k + 1)).min(hi);
        self.range(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7, 1);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7, 1);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut c = Rng::new(7, 2);
        assert_ne!(a[0], c.next_u64());
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut r = Rng::new(1, 0);
        for _ in 0..10_000 {
            let x = r.range(5, 9);
            assert!((5..=9).contains(&x));
            let y = r.log_uniform(60, 86_400);
            assert!((60..=86_400).contains(&y), "{y}");
            assert!(r.below(3) < 3);
        }
        assert_eq!(r.range(4, 4), 4);
        assert_eq!(r.log_uniform(10, 5), 10);
    }

    #[test]
    fn log_uniform_reaches_both_ends() {
        let mut r = Rng::new(3, 0);
        let draws: Vec<i64> = (0..5_000).map(|_| r.log_uniform(1, 100_000)).collect();
        assert!(draws.iter().any(|&d| d < 10));
        assert!(draws.iter().any(|&d| d > 50_000));
    }
}
