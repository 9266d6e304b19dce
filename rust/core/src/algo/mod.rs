//! The algorithms, each a plug-in: one file implementing [`Algorithm`] and one line in
//! [`crate::registry`]. Everything else (the model envelope, grouped training, prediction,
//! training metrics, `describe`) is generic over the trait. docs/adding-an-algorithm.md walks
//! through adding one.
//!
//! The shape follows linfa's: unchecked params (serde, Spark's names) -> [`Algorithm::check`] ->
//! [`Algorithm::fit`] on one group's [`GroupData`] -> a fitted [`FittedModel`] -> `predict`. An
//! algorithm taken from a linfa crate is a thin adapter: its `fit` prepares the data for linfa and
//! copies the fitted state into a model struct of ours, so that the stored format never depends
//! on linfa's types.
//!
//! Inputs are already checked by the caller (no null, NaN or infinity in the label, weight or
//! features; weights >= 0 with a positive sum; at least one row); each algorithm checks what only
//! it knows (too few rows for its parameters, one class). Results are deterministic for a given
//! input: no randomness but a seeded one, no thread-count dependence.

mod checks;
mod data;
mod elastic_net;
pub mod glm;
pub mod kmeans;
mod linalg;
pub mod linear;
pub mod logistic;
mod logistic_enet;
pub mod naive_bayes;
mod stored;
pub mod svc;

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use data::GroupData;

use crate::error::Result;

/// What an algorithm predicts, which decides its training metrics and output columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A real value; metrics `rmse`, `r2`.
    Regression,
    /// One of the label values seen in training; metrics `accuracy`, `logLoss`.
    Classification,
    /// A cluster index, no label; metric `inertia`.
    Clustering,
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Classification => "classification",
            Task::Clustering => "clustering",
        }
    }

    /// The training metrics of the task, in the order of the results batch's metric columns.
    pub fn metrics(self) -> &'static [&'static str] {
        match self {
            Task::Regression => &["rmse", "r2"],
            Task::Classification => &["accuracy", "logLoss"],
            Task::Clustering => &["inertia"],
        }
    }

    /// Whether training needs a label column.
    pub fn supervised(self) -> bool {
        !matches!(self, Task::Clustering)
    }
}

/// One algorithm. Implemented by a unit struct (`pub struct Linear;`) named in the registry.
pub trait Algorithm: Send + Sync + 'static {
    /// The name the Scala side and the registry use, e.g. `"linear"`.
    const NAME: &'static str;
    /// The algorithm byte of the model header. Never reuse a code: saved models carry it.
    const CODE: u8;
    const TASK: Task;
    /// Whether [`Algorithm::fit`] honours [`GroupData::weight`] (a weighted batch for an
    /// algorithm without weights is refused before any fit).
    const WEIGHTS: bool;
    /// Whether the fit is iterative and so reports [`Convergence`].
    const ITERATIVE: bool;

    /// Hyperparameters as they cross JNI: serde with Spark's names (camelCase), unknown fields
    /// refused, absent fields defaulted. `Default` must equal the Scala defaults (a test walks
    /// the registry and compares them).
    type Params: Serialize + DeserializeOwned + Default + Clone + Debug + PartialEq + Send + Sync;
    type Model: FittedModel;

    /// Validates params, naming the one at fault (`Error::InvalidParam { name, .. }`).
    ///
    /// # Errors
    /// `InvalidParam` for an out-of-range or unknown value.
    fn check(params: &Self::Params) -> Result<()>;

    /// Fits one group. `params` have passed [`Algorithm::check`].
    ///
    /// # Errors
    /// `Data` for data this algorithm cannot fit (too few rows, one class, ...), `Numerical` when
    /// the method fails.
    fn fit(params: &Self::Params, data: &GroupData<'_>) -> Result<Self::Model>;
}

/// A fitted model: the serde payload of the model format, and what prediction needs.
pub trait FittedModel:
    Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// Number of features the model expects.
    fn num_features(&self) -> usize;

    /// Whether every fitted number is finite (JSON cannot carry NaN; such a model would predict
    /// garbage).
    fn is_finite(&self) -> bool;

    /// Consistency of a decoded payload with `p` feature names, so that `predict` can index
    /// without fear: decoding refuses a model for which this is false.
    fn shapes_ok(&self, p: usize) -> bool;

    /// Predicts one row of `num_features()` values.
    fn predict(&self, x: &[f64]) -> Prediction;

    /// Classifiers: the class label values, in the order of raw scores and probabilities.
    fn classes(&self) -> Option<&[f64]> {
        None
    }

    /// Whether an iterative fit met its tolerance, and in how many iterations.
    fn convergence(&self) -> Option<Convergence> {
        None
    }

    /// Regression only: whether R^2 is measured against 0 rather than the label's mean (a model
    /// without intercept, as Spark's `RegressionMetrics(throughOrigin)`).
    fn through_origin(&self) -> bool {
        false
    }

    /// The JSON fields `describe` shows for this model (coefficients and the like); the
    /// envelope adds `algorithm`, `formatVersion` and `featureNames`.
    ///
    /// # Errors
    /// `Numerical` if the model cannot be serialized (it can when finite).
    fn describe(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| crate::Error::numerical(e.to_string()))
    }
}

/// Whether an iterative fit stopped because it met its tolerance or because it ran out of
/// iterations (scikit-learn's ConvergenceWarning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Convergence {
    pub converged: bool,
    pub iterations: u32,
}

/// One row's prediction.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// No prediction (a null feature, an unknown model).
    Missing,
    /// A regression value.
    Value(f64),
    /// A class: its label value, raw scores per class (Spark's rawPrediction; binomial `[-m, m]`)
    /// and, where the model has them, probabilities per class.
    Class { label: f64, raw: Vec<f64>, probability: Option<Vec<f64>> },
    /// A cluster index and the squared distance to its center.
    Cluster { index: usize, distance2: f64 },
}

impl Prediction {
    /// The value of the prediction column (class label, cluster index as f64), if any.
    pub fn value(&self) -> Option<f64> {
        match self {
            Prediction::Missing => None,
            Prediction::Value(v) => Some(*v),
            Prediction::Class { label, .. } => Some(*label),
            Prediction::Cluster { index, .. } => Some(*index as f64),
        }
    }
}
