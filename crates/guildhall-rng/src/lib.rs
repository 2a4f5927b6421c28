//! SplitMix64 (Steele, Lea and Flood, 2014): the seeded random stream every Guildhall
//! game draws from (arena spawn points, card deals, bot inputs).
//!
//! Written out rather than taken from a crate so that a game is fixed by its seed forever
//! and a replay tool in any language can reproduce it in a dozen lines. The stream's
//! position is part of a game's state, so the generator serializes.

use serde::{Deserialize, Serialize};

/// The SplitMix64 generator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A stream seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`: the top 53 bits of [`next_u64`](Self::next_u64)
    /// times 2⁻⁵³.
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A value in `0..bound` (`bound` ≥ 1): `floor(next_u64() × bound / 2⁶⁴)`. The bias
    /// is below `bound / 2⁶⁴`.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Shuffles `items` in place with Fisher–Yates: for `i` from `len - 1` down to 1,
    /// swap item `i` with item `below(i + 1)`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// The generator's internal state (for state hashes).
    pub fn state(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        let mut rng = SplitMix64::new(1_234_567);
        let outputs: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
        assert_eq!(
            outputs,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
    }

    #[test]
    fn below_stays_below_its_bound() {
        let mut rng = SplitMix64::new(3);
        for bound in 1..50 {
            for _ in 0..200 {
                assert!(rng.below(bound) < bound);
            }
        }
    }

    #[test]
    fn shuffles_are_permutations_fixed_by_the_seed() {
        let shuffled = |seed| {
            let mut items: Vec<u32> = (0..40).collect();
            SplitMix64::new(seed).shuffle(&mut items);
            items
        };
        let first = shuffled(7);
        assert_eq!(first, shuffled(7));
        assert_ne!(first, shuffled(8));
        assert_ne!(first, (0..40).collect::<Vec<_>>());
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn every_position_is_reachable() {
        // Each of 40 items lands in the first slot at some point over 2000 shuffles.
        let mut rng = SplitMix64::new(11);
        let mut seen = [false; 40];
        for _ in 0..2000 {
            let mut items: Vec<usize> = (0..40).collect();
            rng.shuffle(&mut items);
            seen[items[0]] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn unit_values_use_the_top_53_bits() {
        let mut rng = SplitMix64::new(0);
        // First output for seed 0 is 16294208416658607535.
        let expected = (16_294_208_416_658_607_535u64 >> 11) as f64 / 9_007_199_254_740_992.0;
        assert_eq!(rng.next_unit(), expected);
    }
}
