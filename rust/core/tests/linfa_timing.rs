//! Fit times of GLM, naive Bayes and k-means on a typical group (1,000 x 10) and a large one
//! (100,000 x 10): the Rust half of `bench/linfa_peers.py`, which times scikit-learn on the same
//! shapes. Not part of the default run:
//!
//! ```text
//! cargo test --release -p manyfold-core --test linfa_timing -- --ignored --nocapture
//! ```
//!
//! Prints one line per case: the median of the repeats in milliseconds, on one thread.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use manyfold_core::algo::glm::{self, GlmParams};
use manyfold_core::algo::kmeans::{self, KMeansParams};
use manyfold_core::algo::naive_bayes::{self, NaiveBayesParams};
use ndarray::{Array1, Array2};

/// A small deterministic generator (xorshift), so the harness needs no RNG crate of its own.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Standard normal features; a Poisson-like count label (rounded log-linear mean); 3 classes
/// from the first feature; well-separated blobs for k-means (5 centers).
fn data(n: usize, p: usize) -> (Array2<f64>, Array1<f64>, Array1<f64>, Array2<f64>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let x = Array2::from_shape_fn((n, p), |_| rng.normal());
    let counts =
        x.rows().into_iter().map(|r| (0.5 + 0.3 * r[0] - 0.2 * r[1]).exp().round()).collect();
    let classes = x
        .rows()
        .into_iter()
        .map(|r| f64::from(u8::from(r[0] > -0.5) + u8::from(r[0] > 0.5)))
        .collect();
    let blobs =
        Array2::from_shape_fn((n, p), |(i, j)| ((i % 5) * (j + 1) % 7) as f64 * 8.0 + rng.normal());
    (x, counts, classes, blobs)
}

fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// One timed fit.
type Fit<'a> = Box<dyn Fn() + Sync + 'a>;

#[test]
#[ignore = "timing, run by hand"]
fn fit_times() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for (n, repeats) in [(1_000, 51), (100_000, 7)] {
        let (x, counts, classes, blobs) = data(n, 10);
        let poisson = GlmParams { family: "poisson".into(), ..GlmParams::default() };
        let gamma_y = counts.mapv(|v| v + 0.5);
        let gamma = GlmParams { family: "gamma".into(), ..GlmParams::default() };
        let km = KMeansParams { k: 5, ..KMeansParams::default() };
        let cases: [(&str, Fit); 5] = [
            (
                "glm_poisson",
                Box::new(|| drop(glm::fit(x.view(), counts.view(), None, &poisson).unwrap())),
            ),
            (
                "glm_gamma",
                Box::new(|| drop(glm::fit(x.view(), gamma_y.view(), None, &gamma).unwrap())),
            ),
            (
                "naive_bayes",
                Box::new(|| {
                    drop(
                        naive_bayes::fit(
                            x.view(),
                            classes.view(),
                            None,
                            &NaiveBayesParams::default(),
                        )
                        .unwrap(),
                    )
                }),
            ),
            (
                "naive_bayes_weighted",
                Box::new(|| {
                    drop(
                        naive_bayes::fit(
                            x.view(),
                            classes.view(),
                            Some(counts.view()),
                            &NaiveBayesParams::default(),
                        )
                        .unwrap(),
                    )
                }),
            ),
            ("kmeans_k5", Box::new(|| drop(kmeans::fit(blobs.view(), None, &km).unwrap()))),
        ];
        for (name, f) in cases {
            let ms = pool.install(|| median_ms(repeats, &f));
            println!("{name:22} {n:>7} x 10: {ms:9.3} ms");
        }
    }
}
