//! Small dense linear algebra and feature statistics shared by the algorithms. No BLAS or
//! LAPACK: the systems are p x p with p small, and a native dependency would complicate the
//! one-jar story.

use ndarray::{ArrayView1, ArrayView2};

/// A pivot of the Jacobi-scaled Cholesky factor below this (squared) means the feature is a
/// linear combination of the ones before it up to `1 - R^2 < 1e-12`: far above rounding noise
/// (~1e-16), far below any feature worth a coefficient.
const MIN_PIVOT: f64 = 1e-12;

// A plain sequential sum, not ndarray's `sum`, whose order (so last bits) depends on layout.
pub(crate) fn mean(v: ArrayView1<f64>) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
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
        let n = x.nrows();
        let (mut means, mut stds, mut active) = (Vec::new(), Vec::new(), Vec::new());
        for (j, col) in x.columns().into_iter().enumerate() {
            let m = mean(col);
            let ss: f64 = col.iter().map(|v| (v - m) * (v - m)).sum();
            means.push(m);
            stds.push(if n > 1 { (ss / (n - 1) as f64).sqrt() } else { 0.0 });
            // Exact equality, not a small std: the mean of equal values can differ from them
            // by rounding, which would leave a tiny, meaningless variance.
            if col.iter().any(|v| Some(v) != col.first()) {
                active.push(j);
            }
        }
        FeatureStats { mean: means, std: stds, active }
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
