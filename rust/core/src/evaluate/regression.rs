//! `RegressionEvaluator` as Spark's `RegressionMetrics` computes it, from O(1) running sums.
//!
//! Spark summarizes the columns (label, label - prediction, prediction) with its weighted
//! `Summarizer` and derives, with W the weight sum:
//!
//! - mse = sum w e^2 / W, rmse its root, mae = sum w |e| / W;
//! - var = sum w (p - mean_w(y))^2 / W (the variance of the predictions around the label mean,
//!   not scikit-learn's explained variance score);
//! - r2 = 1 - sum w e^2 / SStot, SStot = var_w(y) * (W - 1) with var_w the Summarizer's unbiased
//!   weighted variance, sum w (y - mean)^2 / (W - sum w^2 / W); with unit weights that is the
//!   usual sum of squares, with other weights it is not, and we follow Spark;
//! - r2 through the origin = 1 - sum w e^2 / sum w y^2.
//!
//! Rows of weight 0 are skipped, as the Summarizer does.

use super::{MetricName, MetricSpec};

/// Weighted running sums; means and second moments are updated incrementally (West's
/// algorithm) so that a label offset far from 0 costs no precision.
#[derive(Debug, Default)]
pub(super) struct Sums {
    weight: f64,
    weight_squares: f64,
    label_mean: f64,
    label_m2: f64,
    prediction_mean: f64,
    prediction_m2: f64,
    squared_error: f64,
    absolute_error: f64,
    squared_label: f64,
}

impl Sums {
    pub(super) fn add(&mut self, label: f64, prediction: f64, weight: f64) {
        if weight == 0.0 {
            return;
        }
        self.weight += weight;
        self.weight_squares += weight * weight;
        let share = weight / self.weight;
        let d = label - self.label_mean;
        self.label_mean += d * share;
        self.label_m2 += weight * d * (label - self.label_mean);
        let d = prediction - self.prediction_mean;
        self.prediction_mean += d * share;
        self.prediction_m2 += weight * d * (prediction - self.prediction_mean);
        let error = label - prediction;
        self.squared_error += weight * error * error;
        self.absolute_error += weight * error.abs();
        self.squared_label += weight * label * label;
    }

    pub(super) fn metric(&self, spec: &MetricSpec) -> Result<f64, String> {
        let w = self.weight;
        if w <= 0.0 {
            return Err("the validation rows' weights sum to 0".to_string());
        }
        let mse = self.squared_error / w;
        Ok(match spec.name {
            MetricName::Mse => mse,
            MetricName::Rmse => mse.sqrt(),
            MetricName::Mae => self.absolute_error / w,
            MetricName::Var => {
                let shift = self.prediction_mean - self.label_mean;
                (self.prediction_m2 + w * shift * shift) / w
            }
            MetricName::R2 if spec.through_origin => {
                if self.squared_label == 0.0 {
                    return Err("every validation label is 0 (r2 through the origin)".to_string());
                }
                1.0 - self.squared_error / self.squared_label
            }
            MetricName::R2 => {
                let denominator = w - self.weight_squares / w;
                let variance = if denominator > 0.0 { self.label_m2 / denominator } else { 0.0 };
                let total = variance * (w - 1.0);
                if total == 0.0 {
                    return Err(
                        "the validation labels are all equal (or there is one row)".to_string()
                    );
                }
                1.0 - self.squared_error / total
            }
            other => return Err(format!("{} is not a regression metric", other.spark_name())),
        })
    }
}
