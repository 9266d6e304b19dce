//! Probability estimates as libsvm makes them: Platt scaling of each pair's decision values,
//! then pairwise coupling.
//!
//! Per pair, decision values that were not trained on come from a 5-fold CV over the shuffled
//! rows of the two classes; a sigmoid `P(+1 | d) = 1 / (1 + exp(A d + B))` is fitted to them by
//! Newton's method with backtracking (Lin, Lin and Weng, "A note on Platt's probabilistic
//! outputs", 2007), with Platt's smoothed targets. At prediction, each pair's sigmoid gives
//! `r_ij`, clipped to `[1e-7, 1 - 1e-7]`, and the class probabilities solve Wu, Lin and Weng's
//! coupling problem ("method 2", JMLR 5, 2004). scikit-learn couples two classes the same way.

use super::{Problem, PROBABILITY_FOLDS};
use crate::rng::Rng;

/// A pair's sigmoid.
pub(crate) struct Platt {
    pub a: f64,
    pub b: f64,
    /// Some CV fit stopped at `maxIter`.
    pub timed_out: bool,
}

/// libsvm's `svm_binary_svc_probability` for rows `pos` (+1) against `neg` (-1).
pub(crate) fn platt(problem: &Problem, pos: &[usize], neg: &[usize], rng: &mut Rng) -> Platt {
    let rows: Vec<usize> = pos.iter().chain(neg).copied().collect();
    let positive = |t: usize| t < pos.len();
    let l = rows.len();
    let mut perm: Vec<usize> = (0..l).collect();
    rng.shuffle(&mut perm);
    let mut dec = vec![0.0; l];
    let mut timed_out = false;
    for fold in 0..PROBABILITY_FOLDS {
        let (begin, end) = (fold * l / PROBABILITY_FOLDS, (fold + 1) * l / PROBABILITY_FOLDS);
        let train = perm[..begin].iter().chain(&perm[end..]);
        // libsvm trains the fold's model through svm_train, which sorts the labels: -1 comes
        // first and is that model's +1, and the values are flipped back after prediction.
        let sub_pos: Vec<usize> =
            train.clone().filter(|&&t| !positive(t)).map(|&t| rows[t]).collect();
        let sub_neg: Vec<usize> = train.filter(|&&t| positive(t)).map(|&t| rows[t]).collect();
        let held_out = &perm[begin..end];
        if sub_pos.is_empty() || sub_neg.is_empty() {
            // One class only in the fold's training rows: libsvm's placeholder values.
            let v = if sub_neg.is_empty() && sub_pos.is_empty() {
                0.0
            } else if sub_pos.is_empty() {
                1.0
            } else {
                -1.0
            };
            held_out.iter().for_each(|&t| dec[t] = v);
            continue;
        }
        let b = problem.solve(&sub_pos, &sub_neg);
        timed_out |= b.timed_out;
        // The fold's support vectors, contiguous, for batched kernel values.
        let (mut sv, mut coef) = (Vec::new(), Vec::new());
        for (&r, &a) in sub_pos.iter().chain(&sub_neg).zip(&b.coef) {
            if a != 0.0 {
                sv.extend_from_slice(problem.row(r));
                coef.push(a);
            }
        }
        let mut kv = Vec::with_capacity(coef.len());
        for &t in held_out {
            problem.kernel.values(problem.row(rows[t]), &sv, problem.p, &mut kv);
            let sum: f64 = coef.iter().zip(&kv).map(|(a, k)| a * k).sum();
            dec[t] = -(sum - b.rho);
        }
    }
    let labels: Vec<bool> = (0..l).map(positive).collect();
    let (a, b) = sigmoid_train(&dec, &labels);
    Platt { a, b, timed_out }
}

/// Lin, Lin and Weng's Newton method for Platt's sigmoid, with libsvm's constants.
fn sigmoid_train(dec: &[f64], positive: &[bool]) -> (f64, f64) {
    let prior1 = positive.iter().filter(|p| **p).count() as f64;
    let prior0 = positive.len() as f64 - prior1;
    let (max_iter, min_step, sigma, eps) = (100, 1e-10, 1e-12, 1e-5);
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let objective = |a: f64, b: f64| -> f64 {
        dec.iter()
            .zip(&t)
            .map(|(d, ti)| {
                let f = d * a + b;
                if f >= 0.0 {
                    ti * f + (-f).exp().ln_1p()
                } else {
                    (ti - 1.0) * f + f.exp().ln_1p()
                }
            })
            .sum()
    };
    let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
    let mut fval = objective(a, b);
    for _ in 0..max_iter {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (sigma, sigma, 0.0, 0.0, 0.0);
        for (d, ti) in dec.iter().zip(&t) {
            let f = d * a + b;
            let (p, q) = if f >= 0.0 {
                let e = (-f).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = f.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += d * d * d2;
            h22 += d2;
            h21 += d * d2;
            let d1 = ti - p;
            g1 += d * d1;
            g2 += d1;
        }
        if g1.abs() < eps && g2.abs() < eps {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= min_step {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(na, nb);
            if nf < fval + 0.0001 * step * gd {
                (a, b, fval) = (na, nb, nf);
                break;
            }
            step /= 2.0;
        }
        if step < min_step {
            break;
        }
    }
    (a, b)
}

fn sigmoid_predict(dec: f64, a: f64, b: f64) -> f64 {
    let f = dec * a + b;
    // Both branches avoid exp of a large positive number.
    if f >= 0.0 {
        (-f).exp() / (1.0 + (-f).exp())
    } else {
        1.0 / (1.0 + f.exp())
    }
}

/// Class probabilities from libsvm's pairwise decision values (pair `(i, j)` positive for `i`).
#[allow(clippy::needless_range_loop)] // r is filled both ways, r[i][j] and r[j][i]
pub(crate) fn predict(dec: &[f64], prob_a: &[f64], prob_b: &[f64], k: usize) -> Vec<f64> {
    const MIN_PROB: f64 = 1e-7;
    let mut r = vec![vec![0.0; k]; k];
    let mut pair = 0;
    for i in 0..k {
        for j in i + 1..k {
            let (d, a, b) = (dec[pair], prob_a[pair], prob_b[pair]);
            r[i][j] = sigmoid_predict(d, a, b).clamp(MIN_PROB, 1.0 - MIN_PROB);
            r[j][i] = 1.0 - r[i][j];
            pair += 1;
        }
    }
    multiclass_probability(&r)
}

/// Wu, Lin and Weng's method 2: minimizes `sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2` over the
/// simplex by cyclic coordinate updates, libsvm's stopping rule and iteration cap.
fn multiclass_probability(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    let max_iter = k.max(100);
    let eps = 0.005 / k as f64;
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..t {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = q[j][t];
        }
        for j in t + 1..k {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = -r[j][t] * r[t][j];
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    for _ in 0..max_iter {
        // Recomputed each sweep rather than carried, for accuracy (as libsvm).
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t][j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupling_of_two_classes_returns_the_pairwise_probability() {
        let r = vec![vec![0.0, 0.8], vec![0.2, 0.0]];
        let p = multiclass_probability(&r);
        assert!((p[0] - 0.8).abs() < 1e-3 && (p[1] - 0.2).abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn coupling_sums_to_one_and_orders_consistently() {
        let r = vec![vec![0.0, 0.7, 0.9], vec![0.3, 0.0, 0.6], vec![0.1, 0.4, 0.0]];
        let p = multiclass_probability(&r);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{p:?}");
        assert!(p[0] > p[1] && p[1] > p[2], "{p:?}");
    }

    #[test]
    fn sigmoid_separates_separable_values() {
        let dec = [-2.0, -1.5, -1.0, -0.2, 0.3, 1.0, 1.4, 2.2];
        let pos = [false, false, false, true, false, true, true, true];
        let (a, b) = sigmoid_train(&dec, &pos);
        assert!(a < 0.0, "P(+1) must grow with the decision value: A = {a}, B = {b}");
        assert!(sigmoid_predict(2.0, a, b) > 0.8 && sigmoid_predict(-2.0, a, b) < 0.2);
    }
}
