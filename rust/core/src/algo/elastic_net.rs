//! Coordinate descent for the elastic net on the normal equations (glmnet's "covariance
//! updates"): linear regression reduces a group to its `q x q` Gram matrix in one pass over the
//! rows, and every sweep then costs `O(q^2)`, independent of the number of rows.
//!
//! Minimizes `1/2 b'Gb - r'b + sum_j (l2_j/2 b_j^2 + l1_j |b_j|)` over `b`, where `G` and `r` are
//! the weighted (and, with an intercept, centered) `X'WX/W` and `X'Wy/W`. Each coordinate has
//! the closed-form minimizer `S(r_j - sum_{k != j} G_jk b_k, l1_j) / (G_jj + l2_j)` (`S` the
//! soft threshold); the residual correlations `r - Gb` are kept up to date with one column of
//! `G` per change. Cyclic order, so the result is deterministic.

/// Where coordinate descent stopped.
pub(crate) struct Solution {
    pub coefficients: Vec<f64>,
    /// Full sweeps made.
    pub sweeps: u32,
    /// Whether the last sweep changed no coordinate by more than the tolerance.
    pub converged: bool,
}

/// Cyclic coordinate descent from `b = 0` on the problem of the module doc, `gram` row-major
/// `q x q`. A sweep whose largest change `sqrt(G_jj) |delta b_j|` (the change of the fitted
/// values' spread, in label units) is at most `tol_scale` ends the descent; at most `max_sweeps`
/// sweeps. Coordinates with `G_jj + l2_j = 0` stay 0.
pub(crate) fn coordinate_descent(
    gram: &[f64],
    rhs: &[f64],
    l1: &[f64],
    l2: &[f64],
    max_sweeps: u32,
    tol_scale: f64,
) -> Solution {
    let q = rhs.len();
    let mut b = vec![0.0; q];
    // Residual correlations r - G b; b = 0 to start.
    let mut grad = rhs.to_vec();
    let mut sweeps = 0;
    let mut converged = q == 0;
    while !converged && sweeps < max_sweeps {
        sweeps += 1;
        let mut largest = 0.0f64;
        for j in 0..q {
            let d = gram[j * q + j];
            let denominator = d + l2[j];
            if denominator <= 0.0 {
                continue;
            }
            let z = grad[j] + d * b[j];
            let new = soft_threshold(z, l1[j]) / denominator;
            let delta = new - b[j];
            if delta != 0.0 {
                b[j] = new;
                for (g, &c) in grad.iter_mut().zip(&gram[j * q..(j + 1) * q]) {
                    *g -= c * delta;
                }
                largest = largest.max(d.sqrt() * delta.abs());
            }
        }
        converged = largest <= tol_scale;
    }
    Solution { coefficients: b, sweeps, converged }
}

/// `sign(z) max(|z| - t, 0)`.
pub(crate) fn soft_threshold(z: f64, t: f64) -> f64 {
    if z > t {
        z - t
    } else if z < -t {
        z + t
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lasso_on_an_orthogonal_design_is_the_soft_threshold() {
        // G = I: each coefficient is S(r_j, l1_j) / (1 + l2_j) after one sweep.
        let gram = [1.0, 0.0, 0.0, 1.0];
        let s = coordinate_descent(&gram, &[2.0, -0.3], &[0.5, 0.5], &[1.0, 0.0], 10, 1e-12);
        assert_eq!(s.coefficients, vec![0.75, 0.0]);
        assert!(s.converged && s.sweeps == 2, "{} sweeps", s.sweeps);
    }

    #[test]
    fn max_sweeps_stops_without_convergence() {
        let gram = [1.0, 0.9, 0.9, 1.0];
        let s = coordinate_descent(&gram, &[1.0, 0.8], &[0.01, 0.01], &[0.0, 0.0], 2, 1e-14);
        assert!(!s.converged && s.sweeps == 2);
        let s = coordinate_descent(&gram, &[1.0, 0.8], &[0.01, 0.01], &[0.0, 0.0], 0, 1e-14);
        assert!(!s.converged && s.sweeps == 0 && s.coefficients == vec![0.0, 0.0]);
    }
}
