//! The crate's one seeded generator: SplitMix64 (Steele, Lea and Flood, 2014). Shuffles (SVC's
//! probability CV, a search's k-fold and train/validation splits) need a small, fast, seedable
//! generator whose stream never depends on the platform, the thread count or a crate's version:
//! Spark retries tasks, and a retry must cut the same folds.

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)` by Lemire's multiply-shift (bias below `n / 2^64`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates, front to back as libsvm shuffles: position `i` takes a uniform pick of
    /// positions `i..n`. One draw per element, so the stream consumed depends only on the length.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        let n = items.len();
        for i in 0..n {
            let j = i + self.below(n - i);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_depends_only_on_the_seed() {
        let draw = |seed| {
            let mut g = Rng::new(seed);
            (0..8).map(|i| g.below(10 + i)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        assert!(draw(5).iter().enumerate().all(|(i, v)| *v < 10 + i));
    }

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut g = Rng::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn shuffle_is_a_permutation_and_is_seeded() {
        let shuffled = |seed| {
            let mut v: Vec<usize> = (0..50).collect();
            Rng::new(seed).shuffle(&mut v);
            v
        };
        let mut sorted = shuffled(1);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(shuffled(1), shuffled(1));
        assert_ne!(shuffled(1), shuffled(2));
        assert_ne!(shuffled(1), (0..50).collect::<Vec<_>>());
    }
}
