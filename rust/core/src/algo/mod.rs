//! The algorithms: each takes one group's data as dense matrices and returns a fitted model.
//!
//! Inputs are already checked by the caller (no null, NaN or infinity; at least one row);
//! each algorithm checks what only it knows (too few rows for its parameters, one class).
//! Results are deterministic for a given input (no randomness, no thread-count dependence).

mod linalg;
pub(crate) use linalg::Columns;
pub mod linear;
pub mod logistic;

use serde::{Deserialize, Serialize};

use crate::params::{LinearParams, LogisticParams};

/// A fitted linear regression, coefficients on the original feature scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinearModel {
    pub params: LinearParams,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
}

impl LinearModel {
    /// Predicts one row of features (length = number of coefficients).
    pub fn predict_row(&self, x: &[f64]) -> f64 {
        self.intercept + self.coefficients.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }
}

/// A fitted logistic regression on the original feature scale.
///
/// Binomial models (two classes) hold one coefficient row and one intercept: the margin of
/// `classes[1]`, like Spark's binomial `coefficients`/`intercept`. Multinomial models hold one
/// row and intercept per class, in the order of `classes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogisticModel {
    pub params: LogisticParams,
    /// The sorted distinct label values seen in training.
    pub classes: Vec<f64>,
    /// `1 x p` (binomial) or `k x p` (multinomial), row-major.
    pub coefficients: Vec<Vec<f64>>,
    /// One entry (binomial) or `k` entries (multinomial).
    pub intercepts: Vec<f64>,
    /// Optimizer iterations used.
    pub iterations: u32,
}

/// One row's classification output.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassPrediction {
    /// The predicted class value (an entry of `classes`).
    pub label: f64,
    /// Margins per class (binomial: `[-m, m]`, as Spark's rawPrediction).
    pub raw: Vec<f64>,
    /// Probabilities per class, summing to 1.
    pub probability: Vec<f64>,
}

/// Training metrics of a linear model on its own training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub r2: f64,
}

/// Training metrics of a logistic model on its own training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationMetrics {
    pub accuracy: f64,
    /// Mean negative log-likelihood (natural log).
    pub log_loss: f64,
}
