//! Small dense linear algebra and feature statistics shared by the algorithms. No BLAS or
//! LAPACK: the systems are p x p with p small, and a native dependency would complicate the
//! one-jar story.

use ndarray::{ArrayView1, ArrayView2};

/// A pivot of the Jacobi-scaled Cholesky factor below this (squared) means the feature is a
/// linear combination of the ones before it up to `1 - R^2 < 1e-12`: far above rounding noise
/// (~1e-16), far below any feature worth a coefficient.
const MIN_PIVOT: f64 = 1e-12;

/// Row-by-row read access to one group's training data, so that linear regression can read
/// the Arrow columns in place through the canonical row order instead of a gathered `n x p`
/// copy (80 MB for 1M rows x 10 features). Generic, not `dyn`: the access inlines into the
/// passes over the rows.
pub(crate) trait Rows {
    /// Number of rows, `n`.
    fn n(&self) -> usize;
    /// Number of features, `p`.
    fn p(&self) -> usize;
    /// Copies the features of row `i < n` into `out` (length `p`).
    fn read(&self, i: usize, out: &mut [f64]);
    /// The label of row `i < n`.
    fn label(&self, i: usize) -> f64;
    /// The sample weight of row `i < n` (1 when unweighted).
    fn weight(&self, _i: usize) -> f64 {
        1.0
    }
}

/// A dense matrix, its labels and optional weights (same length).
pub(crate) struct Dense<'a> {
    pub x: ArrayView2<'a, f64>,
    pub y: ArrayView1<'a, f64>,
    pub w: Option<ArrayView1<'a, f64>>,
}

impl Rows for Dense<'_> {
    fn n(&self) -> usize {
        self.x.nrows()
    }
    fn p(&self) -> usize {
        self.x.ncols()
    }
    fn read(&self, i: usize, out: &mut [f64]) {
        for (o, &v) in out.iter_mut().zip(self.x.row(i)) {
            *o = v;
        }
    }
    fn label(&self, i: usize) -> f64 {
        self.y[i]
    }
    fn weight(&self, i: usize) -> f64 {
        self.w.map_or(1.0, |w| w[i])
    }
}

/// Columns (one slice per feature, the label, the optional weights) read through a row order:
/// row `i` is `order[i]` of every column. Every index of `order` must be in range of every column.
pub(crate) struct Columns<'a> {
    pub features: &'a [&'a [f64]],
    pub label: &'a [f64],
    pub weight: Option<&'a [f64]>,
    pub order: &'a [u32],
}

impl Rows for Columns<'_> {
    fn n(&self) -> usize {
        self.order.len()
    }
    fn p(&self) -> usize {
        self.features.len()
    }
    fn read(&self, i: usize, out: &mut [f64]) {
        let r = self.order[i] as usize;
        for (o, c) in out.iter_mut().zip(self.features) {
            *o = c[r];
        }
    }
    fn label(&self, i: usize) -> f64 {
        self.label[self.order[i] as usize]
    }
    fn weight(&self, i: usize) -> f64 {
        self.weight.map_or(1.0, |w| w[self.order[i] as usize])
    }
}

/// Calls `f(i, row i)` for the `n` rows `0..n` in order, each row of `p` features copied by
/// `read`. Rows are read a block at a time before any is used: reads from scattered columns
/// then overlap in the memory system instead of waiting behind the arithmetic of the previous
/// row.
pub(crate) fn for_each_row(
    n: usize,
    p: usize,
    read: impl Fn(usize, &mut [f64]),
    mut f: impl FnMut(usize, &[f64]),
) {
    const BLOCK: usize = 256;
    let width = p.max(1); // chunks of 0 are not allowed; a row of 0 features is an empty slice
    let mut block = vec![0.0; BLOCK.min(n) * width];
    for start in (0..n).step_by(BLOCK) {
        let rows = BLOCK.min(n - start);
        for (k, out) in block.chunks_exact_mut(width).take(rows).enumerate() {
            read(start + k, &mut out[..p]);
        }
        for (k, row) in block.chunks_exact(width).take(rows).enumerate() {
            f(start + k, &row[..p]);
        }
    }
}

/// The mean of the labels: a plain sequential sum over the rows in order, not ndarray's `sum`,
/// whose order (so last bits) depends on layout.
pub(crate) fn label_mean(data: &impl Rows) -> f64 {
    (0..data.n()).map(|i| data.label(i)).sum::<f64>() / data.n() as f64
}

/// Per-feature weighted statistics both linear and logistic regression standardize with. With
/// unit weights every sum is the plain one (`1 * x` and `n * 1` are exact), so the bits are
/// those of the unweighted statistics.
pub(crate) struct FeatureStats {
    pub mean: Vec<f64>,
    /// Spark's unbiased weighted standard deviation (`Summarizer.std`, the sample std for unit
    /// weights); 0 when its denominator is not positive. Empty after [`FeatureStats::means`].
    pub std: Vec<f64>,
    /// Indices of the features that are not constant over the rows of positive weight
    /// (exactly: all values equal).
    pub active: Vec<usize>,
    /// Sum of the weights.
    pub weight_sum: f64,
    /// Sum of the squared weights (the effective sample size's denominator).
    pub weight_sq_sum: f64,
}

impl FeatureStats {
    /// Statistics of `n` rows of `p` features, row `i` copied into a buffer by `read`, weighted
    /// by `weight(i)`: the means (pass 1, [`FeatureStats::means`]), then the centered squares
    /// (pass 2).
    pub fn of(
        n: usize,
        p: usize,
        read: impl Fn(usize, &mut [f64]),
        weight: impl Fn(usize) -> f64,
    ) -> Self {
        let mut stats = FeatureStats::means(n, p, &read, &weight);
        let mut ss = vec![-0.0; p];
        for_each_row(n, p, &read, |i, row| {
            let w = weight(i);
            for ((s, &v), m) in ss.iter_mut().zip(row).zip(&stats.mean) {
                *s += w * ((v - m) * (v - m));
            }
        });
        let denominator = stats.weight_sum - stats.weight_sq_sum / stats.weight_sum;
        stats.std = ss.iter().map(|&s| unbiased_std(s, denominator)).collect();
        stats
    }

    /// The weighted means and active features in one pass, `std` left empty: linear regression
    /// sums the centered squares in its Gram pass instead of a pass of their own. All features
    /// at once, so that scattered columns are read row by row; each feature's sum still runs
    /// over the rows in order, so the bits are those of a column-wise sum.
    pub fn means(
        n: usize,
        p: usize,
        read: impl Fn(usize, &mut [f64]),
        weight: impl Fn(usize) -> f64,
    ) -> Self {
        let mut first: Option<Vec<f64>> = None;
        // -0.0 is `Iterator::sum`'s start: an all -0.0 column keeps the sign it had before.
        let mut sum = vec![-0.0; p];
        let mut varies = vec![false; p];
        let (mut weight_sum, mut weight_sq_sum) = (0.0, 0.0);
        for_each_row(n, p, &read, |i, row| {
            let w = weight(i);
            weight_sum += w;
            weight_sq_sum += w * w;
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += w * v;
            }
            // A row of weight 0 does not count: Spark's statistics ignore it.
            if w > 0.0 {
                let f = first.get_or_insert_with(|| row.to_vec());
                // Exact equality, not a small std: the mean of equal values can differ from
                // them by rounding, which would leave a tiny, meaningless variance.
                for ((d, &v), &f) in varies.iter_mut().zip(row).zip(f.iter()) {
                    *d |= v != f;
                }
            }
        });
        let mean = sum.iter().map(|s| s / weight_sum).collect();
        let active = (0..p).filter(|&j| varies[j]).collect();
        FeatureStats { mean, std: Vec::new(), active, weight_sum, weight_sq_sum }
    }
}

/// `sqrt(ss / denominator)`, 0 when the denominator is not positive (one row of positive
/// weight), as Spark's summarizer.
pub(crate) fn unbiased_std(ss: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        (ss / denominator).sqrt()
    } else {
        0.0
    }
}

/// Solves `a x = b` in place (`x` into `b`) for a symmetric positive definite `dim x dim`
/// row-major `a`, which it overwrites. On failure returns the index of the first pivot that is
/// not positive enough: that unknown is (nearly) a combination of the ones before it.
#[allow(clippy::needless_range_loop)] // index arithmetic reads as the textbook algorithm
pub(crate) fn solve_spd(a: &mut [f64], b: &mut [f64], dim: usize) -> Result<(), usize> {
    // Jacobi scaling makes the diagonal 1, so the pivot test is free of units.
    let mut scale = vec![0.0; dim];
    for k in 0..dim {
        let d = a[k * dim + k];
        if !d.is_finite() || d <= 0.0 {
            return Err(k);
        }
        scale[k] = 1.0 / d.sqrt();
    }
    for r in 0..dim {
        for c in 0..=r {
            a[r * dim + c] *= scale[r] * scale[c];
        }
        b[r] *= scale[r];
    }
    for k in 0..dim {
        let mut d = a[k * dim + k];
        for m in 0..k {
            d -= a[k * dim + m] * a[k * dim + m];
        }
        if d.is_nan() || d <= MIN_PIVOT {
            return Err(k);
        }
        let l = d.sqrt();
        a[k * dim + k] = l;
        for r in k + 1..dim {
            let mut v = a[r * dim + k];
            for m in 0..k {
                v -= a[r * dim + m] * a[k * dim + m];
            }
            a[r * dim + k] = v / l;
        }
    }
    for r in 0..dim {
        let mut v = b[r];
        for m in 0..r {
            v -= a[r * dim + m] * b[m];
        }
        b[r] = v / a[r * dim + r];
    }
    for r in (0..dim).rev() {
        let mut v = b[r];
        for m in r + 1..dim {
            v -= a[m * dim + r] * b[m];
        }
        b[r] = v / a[r * dim + r];
    }
    for (v, s) in b.iter_mut().zip(&scale) {
        *v *= s;
    }
    Ok(())
}

/// Eigenvalues below this fraction of the largest eigenvalue of the Jacobi-scaled matrix count
/// as 0 in [`solve_min_norm`]: the same threshold as [`MIN_PIVOT`], for the same reason.
const MIN_EIGENVALUE: f64 = MIN_PIVOT;

/// The minimum-norm solution of `a x = b` (least squares when inconsistent) for a symmetric
/// positive semidefinite `dim x dim` row-major `a`: what `numpy.linalg.lstsq` (so scikit-learn's
/// `LinearRegression`) returns for collinear features. The rank is decided on the Jacobi-scaled
/// matrix, free of units; the null directions found there are then projected out in the
/// original coordinates, so that the norm minimized is that of `x` itself, as lstsq's.
#[allow(clippy::needless_range_loop)] // index arithmetic reads as the textbook algorithm
pub(crate) fn solve_min_norm(a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    let scale: Vec<f64> = (0..dim)
        .map(|k| {
            let d = a[k * dim + k];
            if d > 0.0 {
                1.0 / d.sqrt()
            } else {
                0.0
            }
        })
        .collect();
    let mut scaled = vec![0.0; dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            scaled[r * dim + c] = a[r * dim + c] * scale[r] * scale[c];
        }
    }
    let (values, vectors) = symmetric_eigen(&mut scaled, dim);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(*v));
    let cutoff = MIN_EIGENVALUE * largest;
    let mut x = vec![0.0; dim];
    let mut null: Vec<Vec<f64>> = Vec::new();
    for k in 0..dim {
        let u = &vectors[k * dim..(k + 1) * dim];
        if values[k] > cutoff {
            let coef =
                u.iter().zip(b).zip(&scale).map(|((u, b), s)| u * b * s).sum::<f64>() / values[k];
            for (xi, (&ui, s)) in x.iter_mut().zip(u.iter().zip(&scale)) {
                *xi += coef * ui * s;
            }
        } else {
            // A zero-scaled coordinate (an all-zero column) is a null direction on its own.
            null.push(
                u.iter().zip(&scale).map(|(u, s)| if *s > 0.0 { u * s } else { *u }).collect(),
            );
        }
    }
    // Null directions of `a` are `S u` for null vectors `u` of `S a S`: orthonormalize them
    // (modified Gram-Schmidt) and remove their components from `x`.
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for mut v in null {
        for q in &basis {
            let d: f64 = v.iter().zip(q).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|a| *a /= norm);
            basis.push(v);
        }
    }
    for q in &basis {
        let d: f64 = x.iter().zip(q).map(|(a, b)| a * b).sum();
        x.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
    }
    x
}

/// Eigenvalues and eigenvectors (row `k` of the returned `dim x dim` matrix is the vector of
/// value `k`) of the symmetric row-major `a`, which it overwrites: the cyclic Jacobi method,
/// exact to rounding for the small matrices here, deterministic, and with no LAPACK.
#[allow(clippy::needless_range_loop)] // index arithmetic reads as the textbook algorithm
pub(crate) fn symmetric_eigen(a: &mut [f64], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; dim * dim];
    for k in 0..dim {
        v[k * dim + k] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..dim)
            .flat_map(|r| (0..r).map(move |c| (r, c)))
            .map(|(r, c)| a[r * dim + c].powi(2))
            .sum();
        let diag: f64 = (0..dim).map(|k| a[k * dim + k].powi(2)).sum();
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for p in 0..dim {
            for q in p + 1..dim {
                let apq = a[p * dim + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (a[p * dim + p], a[q * dim + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..dim {
                    let (akp, akq) = (a[k * dim + p], a[k * dim + q]);
                    a[k * dim + p] = c * akp - s * akq;
                    a[k * dim + q] = s * akp + c * akq;
                }
                for k in 0..dim {
                    let (apk, aqk) = (a[p * dim + k], a[q * dim + k]);
                    a[p * dim + k] = c * apk - s * aqk;
                    a[q * dim + k] = s * apk + c * aqk;
                }
                for k in 0..dim {
                    let (vpk, vqk) = (v[p * dim + k], v[q * dim + k]);
                    v[p * dim + k] = c * vpk - s * vqk;
                    v[q * dim + k] = s * vpk + c * vqk;
                }
            }
        }
    }
    ((0..dim).map(|k| a[k * dim + k]).collect(), v)
}

/// The Newton step of `hess step = -grad` (`hess` symmetric, `dim x dim` row-major, `work` of the
/// same size), damping the diagonal (Levenberg-Marquardt) while `hess` is singular: collinear
/// features, or separable classes, without a penalty. Returns false when even the most damped
/// system cannot be solved. Shared by logistic regression and the GLM.
pub(crate) fn damped_newton_step(
    hess: &[f64],
    grad: &[f64],
    work: &mut [f64],
    step: &mut [f64],
) -> bool {
    let dim = grad.len();
    [0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0].iter().any(|&damping| {
        work.copy_from_slice(hess);
        for i in 0..dim {
            work[i * dim + i] *= 1.0 + damping;
        }
        step.iter_mut().zip(grad).for_each(|(s, g)| *s = -g);
        solve_spd(work, step, dim).is_ok()
    })
}
