//! Gaussian naive Bayes (Spark's `NaiveBayes` with `modelType = "gaussian"`), fitted by
//! linfa-bayes 0.8.1's `GaussianNb`.
//!
//! The model: class `c` has prior `pi_c` (its share of the rows, or of the weight) and, per
//! feature `j`, a normal density with mean `theta_cj` and variance `sigma_cj` (the class's
//! population variance, ddof 0, plus `varSmoothing * max_j var(x_j)`, the largest variance of
//! a feature over all rows, unweighted). The joint log-likelihood of a row,
//! `ln pi_c - 1/2 sum_j (ln(2 pi sigma_cj) + (x_j - theta_cj)^2 / sigma_cj)`, is Spark's
//! `rawPrediction`; its softmax is the probability; the label is the class of the largest
//! (the smallest class value on a tie). That is scikit-learn's `GaussianNB(var_smoothing)`
//! with `sample_weight`, exactly; Spark adds the same smoothing with its constant 1e-9 (its
//! `smoothing` param is for the multinomial and Bernoulli models only, so it is not taken
//! here). Spark's default `modelType` is "multinomial", which is not offered yet: the default
//! here is "gaussian". Classes are the sorted distinct label values, any finite doubles.
//!
//! What linfa does, and what is fitted around it:
//! - it is right: on `tests/fixtures/naive_bayes_*.json` (3 fits, 2 to 4 classes, one
//!   weighted) class means, variances, priors and joint log-likelihoods equal scikit-learn's to
//!   1e-15 relative, probabilities to 1.1e-14 (the test asserts 1e-9);
//! - its labels must be `Hash + Eq`, which `f64` is not: it is fitted on each row's class
//!   index in the sorted classes;
//! - its fitted state is private: it is read once through linfa's own serde form (the crate's
//!   `serde` feature) into this module's model, so the stored model format never depends on
//!   linfa's types. A change of that form fails the fit with `Numerical`, never a wrong model;
//! - it has no sample weights: with a weight column the same estimates are computed here
//!   (weighted means, weighted population variances, weighted class shares), as scikit-learn
//!   does. Unit weights give linfa's estimates to 1e-15 (not bit for bit: other summation).
//!
//! linfa fits single-threaded (no rayon in linfa-bayes) and keeps classes in a `HashMap`, but
//! each class's estimates depend on that class's rows only, so the result does not depend on
//! hash order.
//!
//! Speed (one thread, medians, `tests/linfa_timing.rs` against `bench/linfa_peers.py`, 3
//! classes, 10 features): linfa 0.14 ms at 1,000 rows (scikit-learn 0.83 ms), 26 ms at 100,000
//! (scikit-learn 28 ms). The weighted path here takes 0.06 and 10 ms: linfa copies each class's
//! rows before summing them. As fast as scikit-learn, so linfa stays.

use std::panic::{catch_unwind, AssertUnwindSafe};

use linfa::prelude::{DatasetView, Fit};
use linfa_bayes::GaussianNb;
use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::checks;
use crate::error::{Error, Result};
use crate::params::check_non_negative;

/// Hyperparameters, named as Spark's `NaiveBayes` names them (`varSmoothing` as scikit-learn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NaiveBayesParams {
    /// "gaussian" only. Default "gaussian".
    pub model_type: String,
    /// Share of the largest feature variance added to every variance, >= 0. Default 1e-9.
    pub var_smoothing: f64,
}

impl Default for NaiveBayesParams {
    fn default() -> Self {
        NaiveBayesParams { model_type: "gaussian".to_string(), var_smoothing: 1e-9 }
    }
}

impl NaiveBayesParams {
    /// # Errors
    /// `InvalidParam` naming the Spark param that is out of range or unknown.
    pub fn validate(&self) -> Result<()> {
        if self.model_type != "gaussian" {
            return Err(Error::invalid_param(
                "modelType",
                format!("'{}' is not supported; supported: gaussian", self.model_type),
            ));
        }
        check_non_negative("varSmoothing", self.var_smoothing)
    }
}

/// A fitted Gaussian naive Bayes model: per class (in the order of `classes`) its prior, and
/// per feature its mean and smoothed variance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NaiveBayesModel {
    pub params: NaiveBayesParams,
    /// The sorted distinct label values seen in training.
    pub classes: Vec<f64>,
    pub priors: Vec<f64>,
    /// `k x p`.
    pub means: Vec<Vec<f64>>,
    /// `k x p`, each > 0.
    pub variances: Vec<Vec<f64>>,
}

/// One row's prediction: the label, the joint log-likelihood per class (Spark's rawPrediction
/// for naive Bayes) and the probabilities per class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassPrediction {
    pub label: f64,
    pub raw: Vec<f64>,
    pub probability: Vec<f64>,
}

impl NaiveBayesModel {
    /// Predicts one row (length = [`NaiveBayesModel::num_features`]): `raw` holds the joint
    /// log-likelihood of each class.
    pub fn predict_row(&self, x: &[f64]) -> ClassPrediction {
        let raw: Vec<f64> = (0..self.classes.len())
            .map(|c| {
                let terms = self.means[c].iter().zip(&self.variances[c]).zip(x);
                let sum: f64 = terms
                    .map(|((m, v), x)| {
                        (2.0 * std::f64::consts::PI * v).ln() + (x - m) * (x - m) / v
                    })
                    .sum();
                self.priors[c].ln() - 0.5 * sum
            })
            .collect();
        let mut best = 0;
        for (c, v) in raw.iter().enumerate() {
            best = if *v > raw[best] { c } else { best };
        }
        let lse = raw[best] + raw.iter().map(|v| (v - raw[best]).exp()).sum::<f64>().ln();
        let probability = raw.iter().map(|v| (v - lse).exp()).collect();
        ClassPrediction { label: self.classes[best], raw, probability }
    }

    pub fn num_features(&self) -> usize {
        self.means.first().map_or(0, Vec::len)
    }

    /// Finite state, priors in (0, 1] and variances > 0.
    pub fn is_finite(&self) -> bool {
        self.classes.iter().chain(self.means.iter().flatten()).all(|v| v.is_finite())
            && self.priors.iter().all(|v| v.is_finite() && *v > 0.0 && *v <= 1.0)
            && self.variances.iter().flatten().all(|v| v.is_finite() && *v > 0.0)
    }

    /// Whether a decoded model can predict rows of `p` features.
    pub fn shapes_ok(&self, p: usize) -> bool {
        let k = self.classes.len();
        k >= 2
            && self.priors.len() == k
            && self.means.len() == k
            && self.variances.len() == k
            && self.means.iter().chain(&self.variances).all(|row| row.len() == p)
            && self.params.validate().is_ok()
    }
}

/// Fits the model of the module doc on `x` (n x p) and the class values `y`; with `weight`,
/// each row counts by its weight.
///
/// # Errors
/// `InvalidParam` for bad params; `Data` for lengths that differ, non-finite values, fewer
/// than two classes, a class of weight 0, or a zero variance (a feature constant within a
/// class, and `varSmoothing` 0 or every feature constant); `Numerical` when linfa fails.
pub fn fit(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    weight: Option<ArrayView1<f64>>,
    params: &NaiveBayesParams,
) -> Result<NaiveBayesModel> {
    params.validate()?;
    let n = x.nrows();
    if y.len() != n {
        return Err(Error::data(format!("{n} feature rows but {} labels", y.len())));
    }
    checks::features(x, "naive Bayes")?;
    if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::data(format!("label must be finite, row {i} has {v}")));
    }
    let mut classes = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    if classes.len() < 2 {
        return Err(Error::data(format!(
            "label has only one class (value {}); naive Bayes needs at least two",
            classes[0]
        )));
    }
    let codes: Array1<usize> = y.iter().map(|v| classes.partition_point(|c| c < v)).collect();
    let (priors, means, variances) = match weight {
        None => fit_linfa(x.view(), codes.view(), classes.len(), params.var_smoothing)?,
        Some(w) => fit_weighted(x, &codes, &checks::weights(n, Some(w))?, &classes, params)?,
    };
    for (c, row) in variances.iter().enumerate() {
        if let Some(j) = row.iter().position(|v| v.is_nan() || *v <= 0.0) {
            return Err(Error::data(format!(
                "feature {j} has zero variance in class {}: set varSmoothing > 0",
                classes[c]
            )));
        }
    }
    let model = NaiveBayesModel { params: params.clone(), classes, priors, means, variances };
    if !model.is_finite() {
        return Err(Error::numerical("naive Bayes produced a non-finite mean or variance"));
    }
    Ok(model)
}

type Estimates = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>);

/// linfa's fit, its state read back through its serde form (see the module doc).
fn fit_linfa<'a>(
    x: ArrayView2<'a, f64>,
    codes: ArrayView1<'a, usize>,
    k: usize,
    var_smoothing: f64,
) -> Result<Estimates> {
    let fitted = catch_unwind(AssertUnwindSafe(|| {
        GaussianNb::params().var_smoothing(var_smoothing).fit(&DatasetView::new(x, codes))
    }))
    .map_err(|_| Error::numerical("linfa GaussianNb panicked"))?
    .map_err(|e| Error::numerical(format!("linfa GaussianNb: {e}")))?;
    let state = serde_json::to_value(&fitted)
        .map_err(|e| Error::numerical(format!("linfa GaussianNb state: {e}")))?;
    let unreadable = || Error::numerical("linfa GaussianNb state has an unknown form");
    let vector = |v: &serde_json::Value| -> Result<Vec<f64>> {
        serde_json::from_value(v["data"].clone()).map_err(|_| unreadable())
    };
    let mut out: Estimates = (Vec::new(), Vec::new(), Vec::new());
    for c in 0..k {
        let info = &state["class_info"][c.to_string()];
        out.0.push(info["prior"].as_f64().ok_or_else(unreadable)?);
        out.1.push(vector(&info["theta"])?);
        out.2.push(vector(&info["sigma"])?);
    }
    if out.1.iter().chain(&out.2).any(|row| row.len() != x.ncols()) {
        return Err(unreadable());
    }
    Ok(out)
}

/// Weighted estimates, as scikit-learn's `GaussianNB` computes them with `sample_weight`.
fn fit_weighted(
    x: ArrayView2<f64>,
    codes: &Array1<usize>,
    w: &[f64],
    classes: &[f64],
    params: &NaiveBayesParams,
) -> Result<Estimates> {
    let (k, p) = (classes.len(), x.ncols());
    let mut totals = vec![0.0; k];
    let mut means = vec![vec![0.0; p]; k];
    for ((xi, &c), &wi) in x.rows().into_iter().zip(codes).zip(w) {
        totals[c] += wi;
        means[c].iter_mut().zip(xi).for_each(|(m, v)| *m += wi * v);
    }
    if let Some(c) = totals.iter().position(|t| *t <= 0.0) {
        return Err(Error::data(format!("class {} has total weight 0", classes[c])));
    }
    for (row, t) in means.iter_mut().zip(&totals) {
        row.iter_mut().for_each(|m| *m /= t);
    }
    let mut variances = vec![vec![0.0; p]; k];
    for ((xi, &c), &wi) in x.rows().into_iter().zip(codes).zip(w) {
        for ((s, v), m) in variances[c].iter_mut().zip(xi).zip(&means[c]) {
            *s += wi * (v - m) * (v - m);
        }
    }
    let largest = x.var_axis(Axis(0), 0.0).iter().fold(0.0, |a: f64, v| a.max(*v));
    let epsilon = params.var_smoothing * largest;
    for (row, t) in variances.iter_mut().zip(&totals) {
        row.iter_mut().for_each(|s| *s = *s / t + epsilon);
    }
    let all: f64 = totals.iter().sum();
    Ok((totals.iter().map(|t| t / all).collect(), means, variances))
}

/// The plug-in: `"naive_bayes"`, model code 5.
pub struct NaiveBayes;

impl super::Algorithm for NaiveBayes {
    const NAME: &'static str = "naive_bayes";
    const CODE: u8 = 5;
    const TASK: super::Task = super::Task::Classification;
    const WEIGHTS: bool = true;
    const ITERATIVE: bool = false;
    type Params = NaiveBayesParams;
    type Model = NaiveBayesModel;

    fn check(params: &NaiveBayesParams) -> Result<()> {
        params.validate()
    }

    fn fit(params: &NaiveBayesParams, data: &super::GroupData<'_>) -> Result<NaiveBayesModel> {
        let w = data.w();
        fit(data.x().view(), data.y()?.view(), w.as_ref().map(|w| w.view()), params)
    }
}

impl super::FittedModel for NaiveBayesModel {
    fn num_features(&self) -> usize {
        NaiveBayesModel::num_features(self)
    }
    fn is_finite(&self) -> bool {
        NaiveBayesModel::is_finite(self)
    }
    fn shapes_ok(&self, p: usize) -> bool {
        NaiveBayesModel::shapes_ok(self, p)
    }
    fn predict(&self, x: &[f64]) -> super::Prediction {
        let p = self.predict_row(x);
        super::Prediction::Class { label: p.label, raw: p.raw, probability: Some(p.probability) }
    }
    fn classes(&self) -> Option<&[f64]> {
        Some(&self.classes)
    }
}
