//! Kernel support vector classification (C-SVC), as scikit-learn's `SVC`, which is libsvm.
//!
//! Own solver, not linfa-svm 0.8.1: with shrinking on it panics (measured, see DESIGN.md), it
//! classifies two classes (bool targets) and calibrates probabilities its own way, so it can
//! reproduce neither scikit-learn's one-vs-one models nor libsvm's cross-validated Platt
//! scaling, and its solver is not libsvm's step for step.
//!
//! The problem, for two classes with labels `y_i = +1/-1`, sample weights `w_i` and `cost` (the
//! `C` of scikit-learn, libsvm's `-c`):
//! `min 1/2 ||f||^2 + cost * sum_i w_i max(0, 1 - y_i (f(x_i) - rho))` over `f` in the kernel's
//! feature space, solved in its dual `min 1/2 a'Qa - e'a`, `y'a = 0`, `0 <= a_i <= cost w_i`
//! with `Q_ij = y_i y_j K(x_i, x_j)`. The decision function is `sum_i a_i y_i K(x_i, x) - rho`.
//! Kernels: linear `x'z`, poly `(gamma x'z + coef0)^degree`, rbf `exp(-gamma |x - z|^2)`,
//! sigmoid `tanh(gamma x'z + coef0)`.
//!
//! What follows libsvm 3.x as scikit-learn vendors it (`sklearn/svm/src/libsvm/svm.cpp`):
//! - rows of weight 0 are dropped before training; classes are the sorted distinct labels;
//! - more than two classes: one binary problem per pair `(i, j)`, `i < j` in class order, class
//!   `i` as +1; prediction by votes (ties to the lower class), per-class scores as scikit-learn's
//!   `decision_function_shape='ovr'`; two classes report scikit-learn's sign (positive means
//!   `classes[1]`);
//! - the solver (`smo.rs`): SMO with second-order working-set selection, shrinking with
//!   gradient reconstruction, `f32` kernel rows in an LRU cache, the same stop test and rho;
//! - probability (`probability.rs`): per pair, decision values from an internal 5-fold CV,
//!   Platt's sigmoid by Lin, Lin and Weng's Newton method, pairwise coupling (Wu, Lin and Weng),
//!   for two classes too as scikit-learn does; the predicted label still comes from the votes.
//!
//! Where it deviates, and why:
//! - the internal CV shuffle uses its own generator seeded by `seed`: scikit-learn's
//!   probabilities depend on its Mersenne Twister stream, so they agree only statistically;
//! - with probability on, every class needs at least 5 rows of positive weight (one per fold);
//!   libsvm trains anyway and fits the sigmoid to placeholder decision values;
//! - negative weights are an error (libsvm silently drops them like zeros); a class whose rows
//!   all have weight 0 is an error (scikit-learn fails with an index error);
//! - the kernel cache holds 100 MB (scikit-learn's default is 200 MB) since many fits run at once;
//! - `exp` and `tanh` of kernel rows are computed by vectorized code (`math.rs`) within a few ulp
//!   of libm, and dot products are summed in another order: rows are stored as `f32`, so this
//!   almost never changes a stored value;
//! - `iterations` is the sum over the pairwise problems (scikit-learn's `n_iter_.sum()`).
//!
//! Measured against scikit-learn 1.9.1 (`tests/svc.rs` on the fixtures of
//! `tests/reference/make_svc_fixtures.py`: 30 fits, binary and 3-class, 300 to 800 training
//! rows, every kernel, gamma scale/auto/number, shrinking on and off, with and without weights,
//! a `maxIter` stop): decision values within 7.5e-13 (scale-aware relative gap), the same
//! labels on every row, the same support vectors per class, and the same SMO iteration counts
//! except one fit (235 against 236): the solver takes libsvm's steps. Probabilities, whose CV
//! shuffles differ: mean absolute gap 0.004 to 0.012, largest 0.06.
//!
//! Speed, one thread (`benches/svc_fit.rs` against `bench/svc_sklearn.py`, medians of 45 and
//! 9 runs interleaved with scikit-learn's on a 2-vCPU machine busy with other builds): one rbf
//! fit on `make_classification(2000 x 20)`, 37 ms against 52 ms (0.70x; best of 40 on a quieter
//! machine, 19 against 24.5 ms); the 48 fits of the recipe's grid (cost x kernel x shrinking,
//! probability on) on 1000 x 20, 3.7 s against 6.3 s (0.58x). The steps are libsvm's; kernel
//! rows cost less (contiguous rows, vectorized dot products, `exp` and `tanh`).

mod kernel;
mod math;
mod model;
mod plugin;
mod probability;
mod smo;

pub use model::SvcModel;
pub use plugin::Svc;

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use kernel::{Kernel, Kind, QMatrix};

/// Bytes of kernel rows a fit may cache.
const CACHE_BYTES: usize = 100 << 20;

/// Folds of the internal cross-validation behind the probability estimates (libsvm's).
const PROBABILITY_FOLDS: usize = 5;

/// Hyperparameters of [`fit`], named as the Spark side names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SvcParams {
    /// Penalty on margin violations: scikit-learn's `C`, libsvm's `cost`. Finite, > 0.
    /// Default 1.0.
    pub cost: f64,
    /// "linear", "rbf", "poly" or "sigmoid". Default "rbf".
    pub kernel: String,
    /// "scale" (`1 / (p * X.var())`), "auto" (`1 / p`) or a positive number as a string.
    /// Default "scale".
    pub gamma: String,
    /// Degree of the poly kernel, >= 1. Default 3.
    pub degree: u32,
    /// Constant term of the poly and sigmoid kernels, finite. Default 0.0.
    pub coef0: f64,
    /// Shrink the active set during SMO (libsvm's heuristic; same optimum). Default true.
    pub shrinking: bool,
    /// Stop when the maximal KKT violation is below this. Finite, > 0. Default 1e-3.
    pub tol: f64,
    /// SMO iterations per pairwise problem; 0 (Spark's side) or -1 (scikit-learn's) for no
    /// limit, else >= 1. Default 0.
    pub max_iter: i64,
    /// Fit Platt-scaled probabilities by an internal 5-fold CV. Default false.
    pub probability: bool,
    /// Seeds the shuffle of the internal CV. Default 0.
    pub seed: u64,
}

impl Default for SvcParams {
    fn default() -> Self {
        SvcParams {
            cost: 1.0,
            kernel: "rbf".to_string(),
            gamma: "scale".to_string(),
            degree: 3,
            coef0: 0.0,
            shrinking: true,
            tol: 1e-3,
            max_iter: 0,
            probability: false,
            seed: 0,
        }
    }
}

fn check_positive(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_param(name, format!("must be finite and > 0, got {v}")))
    }
}

impl SvcParams {
    /// # Errors
    /// `InvalidParam` naming the first parameter out of range.
    pub fn validate(&self) -> Result<()> {
        check_positive("cost", self.cost)?;
        if Kind::parse(&self.kernel).is_none() {
            return Err(Error::invalid_param(
                "kernel",
                format!("must be linear, rbf, poly or sigmoid, got '{}'", self.kernel),
            ));
        }
        if !matches!(self.gamma.as_str(), "scale" | "auto") {
            match self.gamma.trim().parse::<f64>() {
                Ok(g) if g.is_finite() && g > 0.0 => {}
                _ => {
                    return Err(Error::invalid_param(
                        "gamma",
                        format!("must be scale, auto or a finite number > 0, got '{}'", self.gamma),
                    ))
                }
            }
        }
        if self.degree == 0 {
            return Err(Error::invalid_param("degree", "must be >= 1, got 0"));
        }
        if !self.coef0.is_finite() {
            return Err(Error::invalid_param(
                "coef0",
                format!("must be finite, got {}", self.coef0),
            ));
        }
        check_positive("tol", self.tol)?;
        if self.max_iter < -1 {
            return Err(Error::invalid_param(
                "maxIter",
                format!("must be 0 or -1 (no limit) or >= 1, got {}", self.max_iter),
            ));
        }
        Ok(())
    }

    fn max_iter(&self) -> Option<u64> {
        u64::try_from(self.max_iter).ok().filter(|m| *m > 0)
    }
}

/// The training rows of a fit, row-major, and what every binary problem shares.
pub(crate) struct Problem<'a> {
    x: Vec<f64>,
    p: usize,
    weight: Vec<f64>,
    kernel: Kernel,
    params: &'a SvcParams,
}

/// One solved binary problem: `a_i y_i` per row of the problem, and rho.
pub(crate) struct Binary {
    coef: Vec<f64>,
    rho: f64,
    iterations: u64,
    timed_out: bool,
}

impl Problem<'_> {
    fn row(&self, r: usize) -> &[f64] {
        &self.x[r * self.p..(r + 1) * self.p]
    }

    /// Solves rows `pos` (as +1) against rows `neg` (as -1), in that order.
    fn solve(&self, pos: &[usize], neg: &[usize]) -> Binary {
        let rows = || pos.iter().chain(neg);
        let y: Vec<i8> = pos.iter().map(|_| 1).chain(neg.iter().map(|_| -1)).collect();
        let c: Vec<f64> = rows().map(|&r| self.params.cost * self.weight[r]).collect();
        let x: Vec<f64> = rows().flat_map(|&r| self.row(r).iter().copied()).collect();
        let mut q = QMatrix::new(self.kernel, x, self.p, y.clone(), CACHE_BYTES);
        let s = smo::solve(
            &mut q,
            &y,
            &c,
            self.params.tol,
            self.params.shrinking,
            self.params.max_iter(),
        );
        let coef = s.alpha.iter().zip(&y).map(|(a, &yi)| a * f64::from(yi)).collect();
        Binary { coef, rho: s.rho, iterations: s.iterations, timed_out: s.timed_out }
    }
}

/// Fits a C-SVC on `x` (n rows x p features) and class values `y`, with optional sample
/// weights (scikit-learn's `sample_weight`: row `i`'s penalty is `cost * w_i`).
///
/// # Errors
/// `InvalidParam` for out-of-range params; `Data` for mismatched lengths, no rows or features,
/// non-finite values, bad weights, fewer than two classes, a class without positive weight, or
/// (probability on) a class with fewer rows than the internal CV has folds; `Numerical` for a
/// non-finite result.
pub fn fit(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    weight: Option<ArrayView1<f64>>,
    params: &SvcParams,
) -> Result<SvcModel> {
    params.validate()?;
    let (n, p) = x.dim();
    if y.len() != n {
        return Err(Error::data(format!("{n} feature rows but {} labels", y.len())));
    }
    if n == 0 || p == 0 {
        return Err(Error::data(format!(
            "SVC needs at least one row and one feature, got {n} x {p}"
        )));
    }
    if x.iter().chain(y.iter()).any(|v| !v.is_finite()) {
        return Err(Error::data("features and label must be finite (no NaN or infinity)"));
    }
    let weight = check_weight(weight, n)?;
    let kind = Kind::parse(&params.kernel).ok_or_else(|| {
        Error::invalid_param("kernel", format!("unknown kernel '{}'", params.kernel))
    })?;
    let kernel = Kernel {
        kind,
        gamma: resolve_gamma(params, x),
        coef0: params.coef0,
        degree: params.degree,
    };

    let mut classes = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let k = classes.len();
    if k < 2 {
        return Err(Error::data(format!(
            "label has only one class (value {}); SVC needs at least two",
            classes[0]
        )));
    }
    // Rows of each class with positive weight, in input order (libsvm's grouping).
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (r, (&label, &w)) in y.iter().zip(&weight).enumerate() {
        if w > 0.0 {
            members[classes.partition_point(|c| *c < label)].push(r);
        }
    }
    for (c, rows) in classes.iter().zip(&members) {
        if rows.is_empty() {
            return Err(Error::data(format!(
                "class {c} has no row with a positive weight; drop its rows or give them weight"
            )));
        }
        if params.probability && rows.len() < PROBABILITY_FOLDS {
            return Err(Error::data(format!(
                "class {c} has {} rows of positive weight; probability needs at least \
                 {PROBABILITY_FOLDS} per class (one per fold of the internal cross-validation)",
                rows.len()
            )));
        }
    }

    let mut data = Vec::with_capacity(n * p);
    for row in x.rows() {
        data.extend(row.iter());
    }
    let problem = Problem { x: data, p, weight, kernel, params };
    let mut rng = crate::rng::Rng::new(params.seed);
    let mut pairs = Vec::with_capacity(k * (k - 1) / 2);
    let (mut prob_a, mut prob_b) = (Vec::new(), Vec::new());
    let mut converged = true;
    for i in 0..k {
        for j in i + 1..k {
            if params.probability {
                let platt = probability::platt(&problem, &members[i], &members[j], &mut rng);
                prob_a.push(platt.a);
                prob_b.push(platt.b);
                converged &= !platt.timed_out;
            }
            let b = problem.solve(&members[i], &members[j]);
            converged &= !b.timed_out;
            pairs.push(b);
        }
    }
    let model = SvcModel::assemble(&problem, classes, &members, &pairs, prob_a, prob_b, converged);
    if !model.is_finite() {
        return Err(Error::numerical("SVC produced non-finite coefficients"));
    }
    Ok(model)
}

fn check_weight(weight: Option<ArrayView1<f64>>, n: usize) -> Result<Vec<f64>> {
    let Some(w) = weight else {
        return Ok(vec![1.0; n]);
    };
    if w.len() != n {
        return Err(Error::data(format!("{n} feature rows but {} weights", w.len())));
    }
    if let Some(bad) = w.iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(Error::data(format!("weight must be finite and >= 0, got {bad}")));
    }
    if w.sum() <= 0.0 {
        return Err(Error::data("weight sums to 0: no row would be trained on"));
    }
    Ok(w.to_vec())
}

/// scikit-learn's gamma: "scale" is `1 / (p * var(X))` over all entries (population
/// variance, rows of weight 0 included), or 1 for constant `X`.
fn resolve_gamma(params: &SvcParams, x: ArrayView2<f64>) -> f64 {
    let p = x.ncols() as f64;
    match params.gamma.as_str() {
        "scale" => {
            let count = x.len() as f64;
            let mean = x.sum() / count;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
            if var != 0.0 {
                1.0 / (p * var)
            } else {
                1.0
            }
        }
        "auto" => 1.0 / p,
        // validate() accepted it as a positive number.
        g => g.trim().parse().unwrap_or(1.0 / p),
    }
}
