//! Validation metrics of a search, computed natively from a fold model's predictions of its
//! held-out rows, equal to Spark's evaluators (`RegressionEvaluator`,
//! `BinaryClassificationEvaluator`, `MulticlassClassificationEvaluator`) on the same predictions.
//! Names, options and edge cases follow Spark's; the layout is docs/native-interface.md
//! ("searchJson").
//!
//! Each evaluator's arithmetic lives in its own file: [`regression`] (O(1) sums), [`binary`]
//! (sorted scores, exact curves) and [`multiclass`] (a confusion map and the log loss sums).
//! A metric that Spark would return as NaN or infinity (r2 of constant labels, the false positive
//! rate of the only label) is a `Data` error here, so that a search never ranks a NaN.

mod binary;
mod multiclass;
mod regression;

use serde_json::Value;

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

/// The Spark evaluator a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    Regression,
    BinaryClassification,
    MulticlassClassification,
}

impl Evaluator {
    /// Spark's class name (`RegressionEvaluator`, ...).
    pub fn spark_name(self) -> &'static str {
        match self {
            Evaluator::Regression => "RegressionEvaluator",
            Evaluator::BinaryClassification => "BinaryClassificationEvaluator",
            Evaluator::MulticlassClassification => "MulticlassClassificationEvaluator",
        }
    }
}

impl MetricName {
    /// Every metric, in the order of Spark's evaluators and their documentation.
    pub const ALL: [MetricName; 21] = [
        MetricName::Rmse,
        MetricName::Mse,
        MetricName::R2,
        MetricName::Mae,
        MetricName::Var,
        MetricName::AreaUnderRoc,
        MetricName::AreaUnderPr,
        MetricName::F1,
        MetricName::Accuracy,
        MetricName::WeightedPrecision,
        MetricName::WeightedRecall,
        MetricName::WeightedTruePositiveRate,
        MetricName::WeightedFalsePositiveRate,
        MetricName::WeightedFMeasure,
        MetricName::TruePositiveRateByLabel,
        MetricName::FalsePositiveRateByLabel,
        MetricName::PrecisionByLabel,
        MetricName::RecallByLabel,
        MetricName::FMeasureByLabel,
        MetricName::HammingLoss,
        MetricName::LogLoss,
    ];

    /// Spark's metric name (`areaUnderROC`, `rmse`, ...).
    pub fn spark_name(self) -> &'static str {
        match self {
            MetricName::Rmse => "rmse",
            MetricName::Mse => "mse",
            MetricName::R2 => "r2",
            MetricName::Mae => "mae",
            MetricName::Var => "var",
            MetricName::AreaUnderRoc => "areaUnderROC",
            MetricName::AreaUnderPr => "areaUnderPR",
            MetricName::F1 => "f1",
            MetricName::Accuracy => "accuracy",
            MetricName::WeightedPrecision => "weightedPrecision",
            MetricName::WeightedRecall => "weightedRecall",
            MetricName::WeightedTruePositiveRate => "weightedTruePositiveRate",
            MetricName::WeightedFalsePositiveRate => "weightedFalsePositiveRate",
            MetricName::WeightedFMeasure => "weightedFMeasure",
            MetricName::TruePositiveRateByLabel => "truePositiveRateByLabel",
            MetricName::FalsePositiveRateByLabel => "falsePositiveRateByLabel",
            MetricName::PrecisionByLabel => "precisionByLabel",
            MetricName::RecallByLabel => "recallByLabel",
            MetricName::FMeasureByLabel => "fMeasureByLabel",
            MetricName::HammingLoss => "hammingLoss",
            MetricName::LogLoss => "logLoss",
        }
    }

    /// The metric of a Spark name (case-sensitive, as Spark's `metricName` validator).
    pub fn from_spark_name(name: &str) -> Option<MetricName> {
        MetricName::ALL.into_iter().find(|m| m.spark_name() == name)
    }

    pub fn evaluator(self) -> Evaluator {
        use MetricName::*;
        match self {
            Rmse | Mse | R2 | Mae | Var => Evaluator::Regression,
            AreaUnderRoc | AreaUnderPr => Evaluator::BinaryClassification,
            _ => Evaluator::MulticlassClassification,
        }
    }

    /// Spark's `isLargerBetter` (`var`, the explained variance, counts as larger-is-better there).
    pub fn larger_is_better(self) -> bool {
        use MetricName::*;
        !matches!(
            self,
            Rmse | Mse
                | Mae
                | WeightedFalsePositiveRate
                | FalsePositiveRateByLabel
                | HammingLoss
                | LogLoss
        )
    }
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

const OPTIONS: [&str; 6] = ["name", "weighted", "throughOrigin", "metricLabel", "beta", "eps"];

impl MetricSpec {
    /// A metric with Spark's default options.
    pub fn new(name: MetricName) -> Self {
        MetricSpec {
            name,
            weighted: false,
            through_origin: false,
            metric_label: 0.0,
            beta: 1.0,
            eps: 1e-15,
        }
    }

    /// Parses the `metric` object of a search JSON; absent options take Spark's defaults
    /// (weighted false, throughOrigin false, metricLabel 0, beta 1, eps 1e-15).
    ///
    /// # Errors
    /// `InvalidParam` ("metricName") for an unknown name, or an option out of Spark's range.
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| {
            Error::invalid_param("metric", format!("must be a JSON object, not {value}"))
        })?;
        if let Some(key) = object.keys().find(|k| !OPTIONS.contains(&k.as_str())) {
            return Err(Error::invalid_param(
                "metric",
                format!("unknown option '{key}'; the options are {}", OPTIONS.join(", ")),
            ));
        }
        let name = match object.get("name") {
            Some(Value::String(s)) => MetricName::from_spark_name(s).ok_or_else(|| {
                Error::invalid_param(
                    "metricName",
                    format!("'{s}' is not a metric; {}", valid_names()),
                )
            })?,
            Some(other) => {
                return Err(Error::invalid_param(
                    "metricName",
                    format!("must be a string, not {other}; {}", valid_names()),
                ))
            }
            None => {
                return Err(Error::invalid_param(
                    "metricName",
                    format!("is required; {}", valid_names()),
                ))
            }
        };
        let mut spec = MetricSpec::new(name);
        spec.weighted = boolean(object, "weighted")?.unwrap_or(spec.weighted);
        spec.through_origin = boolean(object, "throughOrigin")?.unwrap_or(spec.through_origin);
        spec.metric_label = number(object, "metricLabel")?.unwrap_or(spec.metric_label);
        spec.beta = number(object, "beta")?.unwrap_or(spec.beta);
        spec.eps = number(object, "eps")?.unwrap_or(spec.eps);
        // Spark's validators: metricLabel gtEq(0), beta gt(0), eps inRange(0, 0.5) exclusive.
        if !(spec.metric_label >= 0.0 && spec.metric_label.is_finite()) {
            return Err(Error::invalid_param(
                "metricLabel",
                format!("must be >= 0 (a class label), got {}", spec.metric_label),
            ));
        }
        if !(spec.beta > 0.0 && spec.beta.is_finite()) {
            return Err(Error::invalid_param("beta", format!("must be > 0, got {}", spec.beta)));
        }
        if !(spec.eps > 0.0 && spec.eps < 0.5) {
            return Err(Error::invalid_param(
                "eps",
                format!("must be in (0, 0.5), got {}", spec.eps),
            ));
        }
        Ok(spec)
    }

    /// The task whose models this metric evaluates (Regression or Classification).
    pub fn task(&self) -> Task {
        match self.name.evaluator() {
            Evaluator::Regression => Task::Regression,
            _ => Task::Classification,
        }
    }

    /// Spark's `isLargerBetter`.
    pub fn larger_is_better(&self) -> bool {
        self.name.larger_is_better()
    }

    /// Spark's metric name (`areaUnderROC`, `rmse`, ...).
    pub fn spark_name(&self) -> &'static str {
        self.name.spark_name()
    }

    /// # Errors
    /// `InvalidParam` ("metricName") when the algorithm's task is not the metric's (r2 on a
    /// classifier, accuracy on a regressor, any metric on clustering).
    pub fn check_task(&self, algorithm: &str, task: Task) -> Result<()> {
        if task == self.task() {
            return Ok(());
        }
        let (kind, advice) = match task {
            Task::Regression => ("a regressor", "choose a RegressionEvaluator metric"),
            Task::Classification => (
                "a classifier",
                "choose a BinaryClassificationEvaluator or MulticlassClassificationEvaluator metric",
            ),
            Task::Clustering => ("a clustering algorithm", "no evaluator metric applies to it"),
        };
        Err(Error::invalid_param(
            "metricName",
            format!(
                "{} is a {} metric; {algorithm} is {kind} ({advice})",
                self.spark_name(),
                self.name.evaluator().spark_name()
            ),
        ))
    }
}

fn valid_names() -> String {
    let names: Vec<&str> = MetricName::ALL.iter().map(|m| m.spark_name()).collect();
    format!("the metrics are {}", names.join(", "))
}

fn boolean(object: &serde_json::Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            Err(Error::invalid_param(key, format!("must be true or false, not {other}")))
        }
    }
}

fn number(object: &serde_json::Map<String, Value>, key: &str) -> Result<Option<f64>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| Error::invalid_param(key, format!("must be a number, not {v}"))),
    }
}

/// What the rows have been reduced to so far, by evaluator.
#[derive(Debug)]
enum State {
    Regression(regression::Sums),
    Binary(binary::Scores),
    Multiclass(multiclass::Counts),
}

/// The validation rows of one fit, added one at a time, then reduced to the metric.
#[derive(Debug)]
pub struct Evaluation {
    spec: MetricSpec,
    state: State,
    rows: usize,
    /// Why the metric is undefined, from the first row that made it so.
    failure: Option<String>,
}

impl Evaluation {
    pub fn new(spec: &MetricSpec) -> Self {
        let state = match spec.name.evaluator() {
            Evaluator::Regression => State::Regression(regression::Sums::default()),
            Evaluator::BinaryClassification => State::Binary(binary::Scores::default()),
            Evaluator::MulticlassClassification => State::Multiclass(multiclass::Counts::new(
                spec.name == MetricName::LogLoss,
                spec.eps,
            )),
        };
        Evaluation { spec: spec.clone(), state, rows: 0, failure: None }
    }

    /// Adds one held-out row: its label, its weight (1 when the metric is unweighted or the data
    /// has no weights) and the model's prediction; `classes` are the model's class labels (the
    /// order of `raw` and `probability`), `None` for a regressor.
    pub fn add(
        &mut self,
        label: f64,
        weight: f64,
        prediction: &Prediction,
        classes: Option<&[f64]>,
    ) {
        self.rows += 1;
        if self.failure.is_some() {
            return;
        }
        let name = self.spec.spark_name();
        let outcome = match (&mut self.state, prediction) {
            (_, Prediction::Missing) => Err(format!(
                "{name} is undefined: a validation row has no prediction (a null feature?)"
            )),
            (State::Regression(sums), Prediction::Value(p)) => {
                sums.add(label, *p, weight);
                Ok(())
            }
            (State::Binary(scores), Prediction::Class { raw, .. }) => {
                scores.add(name, label, weight, raw, classes)
            }
            (
                State::Multiclass(counts),
                Prediction::Class { label: predicted, probability, .. },
            ) => counts.add(name, label, weight, *predicted, probability.as_deref(), classes),
            (_, other) => Err(format!(
                "{name} is a {} metric, but the model predicted {}",
                self.spec.name.evaluator().spark_name(),
                match other {
                    Prediction::Value(_) => "a regression value",
                    Prediction::Cluster { .. } => "a cluster",
                    _ => "a class",
                }
            )),
        };
        if let Err(reason) = outcome {
            self.failure = Some(reason);
        }
    }

    /// The metric.
    ///
    /// # Errors
    /// `Data` when it is undefined on these rows: no rows, areaUnderROC/PR with a single class,
    /// logLoss of a model without probabilities, a binary metric on a model with more than two
    /// classes, a missing prediction.
    pub fn finish(self) -> Result<f64> {
        let name = self.spec.spark_name();
        if let Some(reason) = self.failure {
            return Err(Error::data(reason));
        }
        if self.rows == 0 {
            return Err(Error::data(format!("{name} is undefined: there are no validation rows")));
        }
        let value = match &self.state {
            State::Regression(sums) => sums.metric(&self.spec),
            State::Binary(scores) => scores.metric(&self.spec),
            State::Multiclass(counts) => counts.metric(&self.spec),
        }
        .map_err(|reason| Error::data(format!("{name} is undefined: {reason}")))?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(Error::data(format!(
                "{name} is {value} on these validation rows, as Spark computes it (a label whose \
                 rows all weigh 0, or no row outside metricLabel?), and cannot rank a fit"
            )))
        }
    }
}

#[cfg(test)]
mod tests;
