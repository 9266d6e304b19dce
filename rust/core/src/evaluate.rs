//! Validation metrics of a search, computed natively from a fold model's predictions of its
//! held-out rows, equal to Spark's evaluators (`RegressionEvaluator`,
//! `BinaryClassificationEvaluator`, `MulticlassClassificationEvaluator`) on the same predictions.
//! Names, options and edge cases follow Spark's; the layout is docs/native-interface.md
//! ("searchJson").

use crate::algo::{Prediction, Task};
use crate::error::{Error, Result};

/// A metric by Spark's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricName {
    Rmse,
    Mse,
    R2,
    Mae,
    Var,
    AreaUnderRoc,
    AreaUnderPr,
    F1,
    Accuracy,
    WeightedPrecision,
    WeightedRecall,
    WeightedTruePositiveRate,
    WeightedFalsePositiveRate,
    WeightedFMeasure,
    TruePositiveRateByLabel,
    FalsePositiveRateByLabel,
    PrecisionByLabel,
    RecallByLabel,
    FMeasureByLabel,
    HammingLoss,
    LogLoss,
}

/// A metric and the evaluator options that change it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: MetricName,
    /// Whether the batch's weight column weights the metric (the evaluator's `weightCol`).
    pub weighted: bool,
    /// `RegressionEvaluator.throughOrigin` (r2 against 0).
    pub through_origin: bool,
    /// `MulticlassClassificationEvaluator.metricLabel` (the `...ByLabel` metrics).
    pub metric_label: f64,
    /// `MulticlassClassificationEvaluator.beta` (the F-measures).
    pub beta: f64,
    /// `MulticlassClassificationEvaluator.eps` (log loss clipping).
    pub eps: f64,
}

impl MetricSpec {
    /// Parses the `metric` object of a search JSON; absent options take Spark's defaults
    /// (weighted false, throughOrigin false, metricLabel 0, beta 1, eps 1e-15).
    ///
    /// # Errors
    /// `InvalidParam` ("metricName") for an unknown name, or an option out of Spark's range.
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        let _ = value;
        Err(Error::invalid_param("metricName", "not implemented yet"))
    }

    /// The task whose models this metric evaluates (Regression or Classification).
    pub fn task(&self) -> Task {
        Task::Regression
    }

    /// Spark's `isLargerBetter`.
    pub fn larger_is_better(&self) -> bool {
        false
    }

    /// Spark's metric name (`areaUnderROC`, `rmse`, ...).
    pub fn spark_name(&self) -> &'static str {
        "rmse"
    }

    /// # Errors
    /// `InvalidParam` ("metricName") when the algorithm's task is not the metric's (r2 on a
    /// classifier, accuracy on a regressor, any metric on clustering).
    pub fn check_task(&self, algorithm: &str, task: Task) -> Result<()> {
        let _ = (algorithm, task);
        Ok(())
    }
}

/// The validation rows of one fit, added one at a time, then reduced to the metric.
#[derive(Debug)]
pub struct Evaluation {
    spec: MetricSpec,
}

impl Evaluation {
    pub fn new(spec: &MetricSpec) -> Self {
        Evaluation { spec: spec.clone() }
    }

    /// Adds one held-out row: its label, its weight (1 when the metric is unweighted or the data
    /// has no weights) and the model's prediction; `classes` are the model's class labels (the
    /// order of `raw` and `probability`), `None` for a regressor.
    pub fn add(&mut self, label: f64, weight: f64, prediction: &Prediction, classes: Option<&[f64]>) {
        let _ = (label, weight, prediction, classes, &self.spec);
    }

    /// The metric.
    ///
    /// # Errors
    /// `Data` when it is undefined on these rows: no rows, areaUnderROC/PR with a single class,
    /// logLoss of a model without probabilities, a binary metric on a model with more than two
    /// classes, a missing prediction.
    pub fn finish(self) -> Result<f64> {
        Err(Error::data("not implemented yet"))
    }
}
