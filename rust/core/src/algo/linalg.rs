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
    #[allow(dead_code)] // read once linear regression takes weights (weightCol)
    fn weight(&self, _i: usize) -> f64 {
        1.0
    }
}

/// A dense matrix and its labels (same length).
pub(crate) struct Dense<'a> {
    pub x: ArrayView2<'a, f64>,
    pub y: ArrayView1<'a, f64>,
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
}

/// Columns (one slice per feature, the label, the optional weights) read through a row order:
/// row `i` is `order[i]` of every column. Every index of `order` must be in range of every column.
pub(crate) struct Columns<'a> {
    pub features: &'a [&'a [f64]],
    pub label: &'a [f64],
    #[allow(dead_code)] // read once linear regression takes weights (weightCol)
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

/// Per-feature statistics both linear and logistic regression standardize with.
pub(crate) struct FeatureStats {
    pub mean: Vec<f64>,
    /// Sample standard deviation (ddof 1), 0 for fewer than 2 rows.
    pub std: Vec<f64>,
    /// Indices of the features that are not constant (exactly: all values equal).
    pub active: Vec<usize>,
}

impl FeatureStats {
    pub fn new(x: ArrayView2<f64>) -> Self {
        let (n, p) = x.dim();
        FeatureStats::of(n, p, |i, out| {
            for (o, &v) in out.iter_mut().zip(x.row(i)) {
                *o = v;
            }
        })
    }

    /// Statistics of `n` rows of `p` features, row `i` copied into a buffer by `read`: the
    /// means (pass 1, [`FeatureStats::means`]), then the centered squares (pass 2).
    pub fn of(n: usize, p: usize, read: impl Fn(usize, &mut [f64])) -> Self {
        let mut stats = FeatureStats::means(n, p, &read);
        let mut ss = vec![-0.0; p];
        for_each_row(n, p, &read, |_, row| {
            for ((s, &v), m) in ss.iter_mut().zip(row).zip(&stats.mean) {
                *s += (v - m) * (v - m);
            }
        });
        stats.std = ss.iter().map(|&s| sample_std(s, n)).collect();
        stats
    }

    /// The means and active features in one pass, `std` left empty: linear regression sums
    /// the centered squares in its Gram pass instead of a pass of their own. All features at
    /// once, so that scattered columns are read row by row; each feature's sum still runs over
    /// the rows in order, so the bits are those of a column-wise sum.
    pub fn means(n: usize, p: usize, read: impl Fn(usize, &mut [f64])) -> Self {
        let mut first = vec![0.0; p];
        // -0.0 is `Iterator::sum`'s start: an all -0.0 column keeps the sign it had before.
        let mut sum = vec![-0.0; p];
        let mut varies = vec![false; p];
        for_each_row(n, p, &read, |i, row| {
            if i == 0 {
                first.copy_from_slice(row);
            }
            for (((s, d), &v), &f) in sum.iter_mut().zip(&mut varies).zip(row).zip(&first) {
                *s += v;
                // Exact equality, not a small std: the mean of equal values can differ from
                // them by rounding, which would leave a tiny, meaningless variance.
                *d |= v != f;
            }
        });
        let mean = sum.iter().map(|s| s / n as f64).collect();
        let active = (0..p).filter(|&j| varies[j]).collect();
        FeatureStats { mean, std: Vec::new(), active }
    }
}

/// The sample standard deviation (ddof 1) of `n` values whose centered squares sum to `ss`
/// (summed from -0.0, as `Iterator::sum`); 0 for fewer than 2 values.
pub(crate) fn sample_std(ss: f64, n: usize) -> f64 {
    if n > 1 {
        (ss / (n - 1) as f64).sqrt()
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
