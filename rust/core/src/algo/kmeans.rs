//! k-means (Spark's `KMeans`), initialized and iterated by linfa-clustering 0.8.1's `KMeans`,
//! finished here with Lloyd steps.
//!
//! The problem: `k` centers minimizing the inertia `sum_i min_c ||x_i - center_c||^2`, Spark's
//! `trainingCost` and scikit-learn's `inertia_`. A row's prediction is the index of its nearest
//! center (the lowest index on a tie), as a double.
//!
//! Params and their peers: `k` (>= 2, default 2), `maxIter` (default 20, Spark's), `tol`
//! (default 1e-4: stop when the centers move less, Spark's rule is per center, linfa's on the
//! norm of all the moves together, stricter by at most `sqrt(k)`; scikit-learn's is relative to
//! the data's variance), `seed` (default Spark's, the hash of its class name), `initMode`
//! (default "k-means++"; "random" picks `k` distinct rows), `nInit` (runs from different
//! initial centers, the lowest inertia kept; default 1, as Spark, which has no runs, and as
//! scikit-learn's `n_init='auto'` for k-means++). Spark's default `initMode` is "k-means||",
//! its parallel variant of k-means++: linfa's k-means|| draws from one generator per rayon
//! thread, so its centers depend on the thread count, which breaks retried Spark tasks; it is
//! not offered (nor `initSteps`, its param). linfa's k-means++ is the plain one (one candidate
//! per center); scikit-learn's is greedy (2 + ln k candidates). The initial centers come from
//! our seeded generator, so they equal neither Spark's nor scikit-learn's: the fitted centers
//! match theirs only where the optimum is unique and reached (well-separated clusters).
//!
//! What linfa does, and what is fixed around it:
//! - its update is "m_k-means": each center's old position counts as one more point of its
//!   cluster, so the centers it returns are not quite the means of their clusters (same fixed
//!   point, slower approach: 3.5e-9 relative away at the defaults on the 3-blob fixture, 1e-10
//!   at `tol = 1e-6`); its inertia is the mean, not the sum, over rows (times n it equals ours
//!   to 1e-12). Here, from linfa's centers, Lloyd steps (assign, then move each center to its
//!   cluster's mean) run until the partition is stable (at most `maxIter`, usually one step),
//!   so the stored centers are cluster means and the inertia is that of the stored centers;
//! - it has no sample weights: a weight column is refused (`InvalidParam` "weightCol");
//! - its `tol` must be > 0: `tol = 0` (run to a fixed point) is passed as the least positive;
//! - it computes the nearest center per row on rayon (ndarray's `par_for_each`): each row's
//!   answer is computed alone, so results do not depend on the thread count; inside a training
//!   pool it uses that pool's threads.
//!
//! Agreement with scikit-learn `KMeans(init='k-means++', n_init=10)` on the blobs of
//! `tests/fixtures/kmeans_*.json` (3 to 5 clusters, up to 500 x 4, feature scales 1e-2 to
//! 1e2; blobs scikit-learn recovers exactly): the same partition up to relabeling, inertia and
//! centers within 1e-15 relative (`nInit = 3`, `tol = 1e-6`); with the defaults (one run,
//! `tol = 1e-4`, `maxIter = 20`) the 3-blob inertia is within 2e-16.
//!
//! Speed (one thread, medians, `tests/linfa_timing.rs` against `bench/linfa_peers.py`, k = 5,
//! 10 features, one run): 0.97 ms at 1,000 rows (scikit-learn 1.15 ms), 58 to 67 ms at 100,000
//! (scikit-learn 46 ms).

use std::panic::{catch_unwind, AssertUnwindSafe};

use linfa::prelude::{DatasetBase, Fit};
use linfa_clustering::{KMeans as LinfaKMeans, KMeansInit};
use ndarray::{Array2, ArrayView1, ArrayView2};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use super::checks;
use crate::error::{Error, Result};
use crate::params::check_non_negative;

/// Hyperparameters, named as Spark's `KMeans` names them (`nInit` as scikit-learn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct KMeansParams {
    /// Number of clusters, >= 2. Default 2.
    pub k: u32,
    /// Maximum iterations, >= 1. Default 20.
    pub max_iter: u32,
    /// Center movement at convergence, >= 0. Default 1e-4.
    pub tol: f64,
    /// Seed of the initialization. Default 0 (manyfold's default seed for every algorithm).
    pub seed: i64,
    /// "k-means++" or "random". Default "k-means++".
    pub init_mode: String,
    /// Runs from different initial centers, >= 1. Default 1.
    pub n_init: u32,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            k: 2,
            max_iter: 20,
            tol: 1e-4,
            seed: 0,
            init_mode: "k-means++".to_string(),
            n_init: 1,
        }
    }
}

impl KMeansParams {
    /// # Errors
    /// `InvalidParam` naming the Spark param that is out of range or unknown.
    pub fn validate(&self) -> Result<()> {
        if self.k < 2 {
            return Err(Error::invalid_param("k", format!("must be >= 2, got {}", self.k)));
        }
        if self.max_iter == 0 {
            return Err(Error::invalid_param("maxIter", "must be >= 1, got 0"));
        }
        if self.n_init == 0 {
            return Err(Error::invalid_param("nInit", "must be >= 1, got 0"));
        }
        check_non_negative("tol", self.tol)?;
        match self.init_mode.as_str() {
            "k-means++" | "random" => Ok(()),
            "k-means||" => Err(Error::invalid_param(
                "initMode",
                "k-means|| is not supported (its centers depend on the thread count); \
                 supported: k-means++, random",
            )),
            other => Err(Error::invalid_param(
                "initMode",
                format!("'{other}' is not supported; supported: k-means++, random"),
            )),
        }
    }
}

/// A fitted k-means model: `k` centers of `p` features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KMeansModel {
    pub params: KMeansParams,
    /// `k x p`.
    pub centers: Vec<Vec<f64>>,
    /// Sum of squared distances of the training rows to their nearest center.
    pub inertia: f64,
}

impl KMeansModel {
    /// The index of the nearest center of one row (the lowest on a tie), as a double.
    pub fn predict_row(&self, x: &[f64]) -> f64 {
        nearest(&self.centers, x).0 as f64
    }

    /// Sum of squared distances of the rows of `x` to their nearest centers.
    pub fn inertia(&self, x: ArrayView2<f64>) -> f64 {
        x.rows().into_iter().map(|r| nearest(&self.centers, &r.to_vec()).1).sum()
    }

    pub fn num_features(&self) -> usize {
        self.centers.first().map_or(0, Vec::len)
    }

    pub fn is_finite(&self) -> bool {
        self.inertia.is_finite() && self.centers.iter().flatten().all(|v| v.is_finite())
    }

    /// Whether a decoded model can predict rows of `p` features.
    pub fn shapes_ok(&self, p: usize) -> bool {
        !self.centers.is_empty()
            && self.centers.iter().all(|c| c.len() == p)
            && self.params.validate().is_ok()
    }
}

/// The nearest of `centers` to `x` (the first on a tie) and the squared distance to it.
fn nearest(centers: &[Vec<f64>], x: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, center) in centers.iter().enumerate() {
        let d: f64 = center.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Fits `params.k` centers to the rows of `x`.
///
/// # Errors
/// `InvalidParam` for bad params or any `weight` (see the module doc); `Data` for non-finite
/// features or fewer rows than `k`; `Numerical` when linfa fails.
pub fn fit(
    x: ArrayView2<f64>,
    weight: Option<ArrayView1<f64>>,
    params: &KMeansParams,
) -> Result<KMeansModel> {
    params.validate()?;
    if weight.is_some() {
        return Err(Error::invalid_param(
            "weightCol",
            "k-means does not take weights (linfa-clustering 0.8.1 has none): unset weightCol",
        ));
    }
    checks::features(x, "k-means")?;
    let (n, k) = (x.nrows(), params.k as usize);
    if k > n {
        return Err(Error::data(format!("k = {k} clusters need at least {k} rows, got {n}")));
    }
    let init =
        if params.init_mode == "random" { KMeansInit::Random } else { KMeansInit::KMeansPlusPlus };
    // Spark's seed is a signed long; its bits seed the generator.
    let rng = Xoshiro256Plus::seed_from_u64(params.seed as u64);
    let dataset = DatasetBase::from(x);
    let fitted = catch_unwind(AssertUnwindSafe(|| {
        LinfaKMeans::params_with_rng(k, rng)
            .n_runs(params.n_init as usize)
            .tolerance(params.tol.max(f64::MIN_POSITIVE))
            .max_n_iterations(u64::from(params.max_iter))
            .init_method(init)
            .fit(&dataset)
    }))
    .map_err(|_| Error::numerical("linfa KMeans panicked"))?
    .map_err(|e| Error::numerical(format!("linfa KMeans: {e}")))?;
    let mut centers: Vec<Vec<f64>> =
        fitted.centroids().rows().into_iter().map(|r| r.to_vec()).collect();
    let inertia = lloyd(x, &mut centers, params.max_iter);
    let model = KMeansModel { params: params.clone(), centers, inertia };
    if !model.is_finite() {
        return Err(Error::numerical("k-means produced a non-finite center"));
    }
    Ok(model)
}

/// Lloyd steps from `centers` until the partition no longer changes (at most `max_iter`);
/// an empty cluster keeps its center. Returns the inertia of the final centers.
fn lloyd(x: ArrayView2<f64>, centers: &mut [Vec<f64>], max_iter: u32) -> f64 {
    let (p, k) = (x.ncols(), centers.len());
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    let mut labels: Vec<usize> = rows.iter().map(|r| nearest(centers, r).0).collect();
    for _ in 0..max_iter {
        let mut sums = Array2::<f64>::zeros((k, p));
        let mut counts = vec![0usize; k];
        for (r, &c) in rows.iter().zip(&labels) {
            counts[c] += 1;
            sums.row_mut(c).iter_mut().zip(r).for_each(|(s, v)| *s += v);
        }
        for (c, center) in centers.iter_mut().enumerate().filter(|(c, _)| counts[*c] > 0) {
            let count = counts[c] as f64;
            center.iter_mut().zip(sums.row(c)).for_each(|(m, s)| *m = s / count);
        }
        let next: Vec<usize> = rows.iter().map(|r| nearest(centers, r).0).collect();
        if next == labels {
            break;
        }
        labels = next;
    }
    rows.iter().map(|r| nearest(centers, r).1).sum()
}

/// The plug-in: `"kmeans"`, model code 6. Unsupervised: trained batches need no label.
pub struct KMeans;

impl super::Algorithm for KMeans {
    const NAME: &'static str = "kmeans";
    const CODE: u8 = 6;
    const TASK: super::Task = super::Task::Clustering;
    const WEIGHTS: bool = false;
    const ITERATIVE: bool = false;
    type Params = KMeansParams;
    type Model = KMeansModel;

    fn check(params: &KMeansParams) -> Result<()> {
        params.validate()
    }

    fn fit(params: &KMeansParams, data: &super::GroupData<'_>) -> Result<KMeansModel> {
        fit(data.x().view(), None, params)
    }
}

impl super::FittedModel for KMeansModel {
    fn num_features(&self) -> usize {
        KMeansModel::num_features(self)
    }
    fn is_finite(&self) -> bool {
        KMeansModel::is_finite(self)
    }
    fn shapes_ok(&self, p: usize) -> bool {
        KMeansModel::shapes_ok(self, p)
    }
    fn predict(&self, x: &[f64]) -> super::Prediction {
        let (index, distance2) = nearest(&self.centers, x);
        super::Prediction::Cluster { index, distance2 }
    }
}
