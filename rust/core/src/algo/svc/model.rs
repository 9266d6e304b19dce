//! The fitted SVC: libsvm's model layout, and prediction from it without the training data.

use serde::{Deserialize, Serialize};

use super::kernel::{Kernel, Kind};
use super::{probability, Binary, Problem, SvcParams};

/// A fitted C-SVC in libsvm's layout (what scikit-learn keeps as `support_vectors_`,
/// `_dual_coef_`, `_intercept_ = -rho`, `_n_support`, `probA_`, `probB_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SvcModel {
    pub params: SvcParams,
    /// The sorted distinct label values seen in training.
    pub classes: Vec<f64>,
    /// The kernel's gamma as resolved from `params.gamma` at fit time.
    pub gamma: f64,
    pub features: usize,
    /// `nSV x features`, row-major, grouped by class in the order of `classes`.
    pub support_vectors: Vec<f64>,
    /// Support vectors per class (`nSV` is their sum).
    pub support_counts: Vec<usize>,
    /// `(k - 1) x nSV`, row-major: libsvm's `sv_coef`. The classifier of pair `(i, j)` reads
    /// row `j - 1` for the support vectors of class `i` and row `i` for those of class `j`.
    pub dual_coef: Vec<f64>,
    /// One per pair `(i, j)`, `i < j`, in that order: the decision value is `sum - rho`,
    /// positive for class `i`.
    pub rho: Vec<f64>,
    /// Platt's sigmoid per pair (empty without probability).
    pub prob_a: Vec<f64>,
    pub prob_b: Vec<f64>,
    /// SMO iterations, summed over the pairwise problems.
    pub iterations: u64,
    /// False if `maxIter` stopped any SMO run (the pairs' or the probability CV's).
    pub converged: bool,
}

impl SvcModel {
    /// libsvm's model building: a row is a support vector if any pair gave it a nonzero
    /// coefficient; its coefficients for the other pairs are then stored too (often zero).
    pub(crate) fn assemble(
        problem: &Problem,
        classes: Vec<f64>,
        members: &[Vec<usize>],
        pairs: &[Binary],
        prob_a: Vec<f64>,
        prob_b: Vec<f64>,
        converged: bool,
    ) -> Self {
        let k = classes.len();
        let mut nonzero: Vec<Vec<bool>> = members.iter().map(|m| vec![false; m.len()]).collect();
        let mut pair = pairs.iter();
        let mut ordered = Vec::with_capacity(pairs.len());
        for i in 0..k {
            for j in i + 1..k {
                let Some(b) = pair.next() else { continue };
                let (ci, cj) = b.coef.split_at(members[i].len());
                nonzero[i].iter_mut().zip(ci).for_each(|(nz, a)| *nz |= a.abs() > 0.0);
                nonzero[j].iter_mut().zip(cj).for_each(|(nz, a)| *nz |= a.abs() > 0.0);
                ordered.push((i, j, b));
            }
        }
        let support_counts: Vec<usize> =
            nonzero.iter().map(|nz| nz.iter().filter(|v| **v).count()).collect();
        let nsv: usize = support_counts.iter().sum();
        let mut start = vec![0; k];
        for c in 1..k {
            start[c] = start[c - 1] + support_counts[c - 1];
        }
        let mut support_vectors = Vec::with_capacity(nsv * problem.p);
        for (rows, nz) in members.iter().zip(&nonzero) {
            for (&r, _) in rows.iter().zip(nz).filter(|(_, nz)| **nz) {
                support_vectors.extend_from_slice(problem.row(r));
            }
        }
        let mut dual_coef = vec![0.0; (k - 1) * nsv];
        for &(i, j, b) in &ordered {
            let (ci, cj) = b.coef.split_at(members[i].len());
            for (class, coef, row) in [(i, ci, j - 1), (j, cj, i)] {
                let kept = coef.iter().zip(&nonzero[class]).filter(|(_, nz)| **nz);
                for (q, (a, _)) in kept.enumerate() {
                    dual_coef[row * nsv + start[class] + q] = *a;
                }
            }
        }
        SvcModel {
            params: problem.params.clone(),
            classes,
            gamma: problem.kernel.gamma,
            features: problem.p,
            support_vectors,
            support_counts,
            dual_coef,
            rho: ordered.iter().map(|(_, _, b)| b.rho).collect(),
            prob_a,
            prob_b,
            iterations: pairs.iter().map(|b| b.iterations).sum(),
            converged,
        }
    }

    pub fn num_features(&self) -> usize {
        self.features
    }

    pub fn is_finite(&self) -> bool {
        self.gamma.is_finite()
            && [&self.support_vectors, &self.dual_coef, &self.rho, &self.prob_a, &self.prob_b]
                .iter()
                .all(|v| v.iter().all(|x| x.is_finite()))
    }

    /// Whether every length agrees with `p` features and the class count, so that prediction
    /// indexes only within bounds (what a decoder checks before trusting model bytes).
    pub fn shapes_ok(&self, p: usize) -> bool {
        let k = self.classes.len();
        let pairs = k * k.saturating_sub(1) / 2;
        let nsv: usize = self.support_counts.iter().sum();
        k >= 2
            && self.classes.windows(2).all(|w| w[0] < w[1])
            && self.features == p
            && self.params.validate().is_ok()
            && self.support_counts.len() == k
            && nsv.checked_mul(p) == Some(self.support_vectors.len())
            && nsv.checked_mul(k - 1) == Some(self.dual_coef.len())
            && self.rho.len() == pairs
            && self.prob_a.len() == self.prob_b.len()
            && (self.prob_a.is_empty() || self.prob_a.len() == pairs)
            && (!self.params.probability || self.prob_a.len() == pairs)
    }

    fn kernel(&self) -> Kernel {
        Kernel {
            kind: Kind::parse(&self.params.kernel).unwrap_or(Kind::Rbf),
            gamma: self.gamma,
            coef0: self.params.coef0,
            degree: self.params.degree,
        }
    }

    /// libsvm's decision value of each pair `(i, j)`, positive for class `i`.
    fn pair_decisions(&self, x: &[f64]) -> Vec<f64> {
        let (k, p) = (self.classes.len(), self.features.max(1));
        let mut kvalue = Vec::new();
        self.kernel().values(x, &self.support_vectors, p, &mut kvalue);
        let nsv = kvalue.len();
        let mut start = vec![0; k];
        for c in 1..k {
            start[c] = start[c - 1] + self.support_counts[c - 1];
        }
        let block = |row: usize, class: usize| {
            let (s, e) = (start[class], start[class] + self.support_counts[class]);
            let coef = &self.dual_coef[row * nsv + s..row * nsv + e];
            coef.iter().zip(&kvalue[s..e]).map(|(a, kv)| a * kv).sum::<f64>()
        };
        let mut dec = Vec::with_capacity(self.rho.len());
        for i in 0..k {
            for j in i + 1..k {
                dec.push(block(j - 1, i) + block(i, j) - self.rho[dec.len()]);
            }
        }
        dec
    }

    /// scikit-learn's `decision_function` of one row: two classes give one value, positive
    /// for `classes[1]`; more give one score per class (`decision_function_shape='ovr'`:
    /// votes plus a squashed sum of confidences that only breaks ties).
    pub fn decision_values(&self, x: &[f64]) -> Vec<f64> {
        let dec = self.pair_decisions(x);
        if self.classes.len() == 2 {
            vec![-dec[0]]
        } else {
            self.ovr(&dec)
        }
    }

    fn ovr(&self, dec: &[f64]) -> Vec<f64> {
        let k = self.classes.len();
        let (mut votes, mut conf) = (vec![0.0; k], vec![0.0; k]);
        let mut d = dec.iter();
        for i in 0..k {
            for j in i + 1..k {
                let v = d.next().copied().unwrap_or(0.0);
                conf[i] += v;
                conf[j] -= v;
                votes[if v < 0.0 { j } else { i }] += 1.0;
            }
        }
        votes.iter().zip(&conf).map(|(v, c)| v + c / (3.0 * (c.abs() + 1.0))).collect()
    }

    /// The predicted label (libsvm's vote: pair `(i, j)` votes `i` when its value is > 0, the
    /// first class with most votes wins, as scikit-learn's `predict`, also with probability
    /// on), raw scores per class (two classes: `[-d, d]` with `d` the decision value) and,
    /// with probability on, the probability of each class.
    pub fn predict_row(&self, x: &[f64]) -> (f64, Vec<f64>, Option<Vec<f64>>) {
        let k = self.classes.len();
        let dec = self.pair_decisions(x);
        let mut votes = vec![0usize; k];
        let mut d = dec.iter();
        for i in 0..k {
            for j in i + 1..k {
                votes[if d.next().is_some_and(|v| *v > 0.0) { i } else { j }] += 1;
            }
        }
        let mut best = 0;
        for c in 1..k {
            if votes[c] > votes[best] {
                best = c;
            }
        }
        let raw = if k == 2 { vec![dec[0], -dec[0]] } else { self.ovr(&dec) };
        let prob = (!self.prob_a.is_empty())
            .then(|| probability::predict(&dec, &self.prob_a, &self.prob_b, k));
        (self.classes[best], raw, prob)
    }
}
