//! Out-of-order input on purpose: a chosen fraction of lines is held back by a bounded number of
//! lines, as when several producers' exports are interleaved or a queue redelivers late.
//!
//! Line `i` is given an output key: `i` itself, or, for a displaced line, `i + d` with `d` drawn
//! in `1..=max`. Lines leave in key order (ties in input order) as soon as no later line can
//! come before them. No line ends up more than `max` positions from where it was: a line is
//! only passed by later lines if it was itself displaced (and then by at most `d ≤ max` of
//! them), and only overtaken by the at most `max` earlier lines displaced past it. Memory is
//! `max + 1` lines.

use super::rng::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// Writes lines to `out`, displacing some of them.
pub struct Displacer<W: Write> {
    out: W,
    rng: Rng,
    /// Parts per million of lines displaced.
    ppm: u32,
    max: u64,
    next: u64,
    held: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
    pub bytes: u64,
}

impl<W: Write> Displacer<W> {
    /// `ppm` of lines (parts per million) are displaced by `1..=max` lines; `ppm == 0` or
    /// `max == 0` writes the lines in order.
    pub fn new(out: W, rng: Rng, ppm: u32, max: u64) -> Displacer<W> {
        Displacer {
            out,
            rng,
            ppm,
            max,
            next: 0,
            held: BinaryHeap::new(),
            bytes: 0,
        }
    }

    pub fn push(&mut self, line: Vec<u8>) -> io::Result<()> {
        let i = self.next;
        self.next += 1;
        if self.ppm == 0 || self.max == 0 {
            self.bytes += line.len() as u64;
            return self.out.write_all(&line);
        }
        let displaced = self.rng.below(1_000_000) < u64::from(self.ppm);
        let key = if displaced {
            i + 1 + self.rng.below(self.max)
        } else {
            i
        };
        self.held.push(Reverse((key, i, line)));
        // Every line still to come has a key above `i`.
        while let Some(Reverse((key, _, _))) = self.held.peek() {
            if *key > i {
                break;
            }
            let Reverse((_, _, line)) = self.held.pop().expect("peeked");
            self.bytes += line.len() as u64;
            self.out.write_all(&line)?;
        }
        Ok(())
    }

    /// The bytes of the lines still held, which `finish` writes.
    pub fn held_bytes(&self) -> u64 {
        self.held
            .iter()
            .map(|Reverse((_, _, l))| l.len() as u64)
            .sum()
    }

    /// Writes the lines still held and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        while let Some(Reverse((_, _, line))) = self.held.pop() {
            self.bytes += line.len() as u64;
            self.out.write_all(&line)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: u64, ppm: u32, max: u64, seed: u64) -> Vec<u64> {
        let mut d = Displacer::new(Vec::new(), Rng::new(seed, 9), ppm, max);
        for i in 0..n {
            d.push(format!("{i}\n").into_bytes()).unwrap();
        }
        let out = String::from_utf8(d.finish().unwrap()).unwrap();
        out.lines().map(|l| l.parse().unwrap()).collect()
    }

    #[test]
    fn no_line_moves_more_than_the_bound_and_none_is_lost() {
        for &(ppm, max) in &[(100_000, 5), (500_000, 50), (1_000_000, 3), (20_000, 1000)] {
            let out = run(20_000, ppm, max, 42);
            let mut sorted = out.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..20_000).collect::<Vec<_>>());
            let worst = out
                .iter()
                .enumerate()
                .map(|(pos, &i)| (pos as i64 - i as i64).unsigned_abs())
                .max()
                .unwrap();
            assert!(worst <= max, "moved {worst} > {max}");
            assert!(worst > 0, "nothing moved");
        }
    }

    #[test]
    fn the_fraction_is_respected_roughly() {
        let out = run(100_000, 10_000, 10, 1);
        let moved_later = out
            .iter()
            .enumerate()
            .filter(|&(pos, &i)| pos as u64 > i)
            .count();
        // About 1 % of lines are held back.
        assert!((500..1_500).contains(&moved_later), "{moved_later}");
    }

    #[test]
    fn zero_fraction_keeps_the_order() {
        assert_eq!(run(1000, 0, 10, 1), (0..1000).collect::<Vec<_>>());
    }
}
