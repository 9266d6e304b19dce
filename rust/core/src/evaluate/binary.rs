//! `BinaryClassificationEvaluator` as Spark's `BinaryClassificationMetrics` computes it with
//! `numBins = 0`: one curve point per distinct score.
//!
//! The score is the raw prediction of class index 1; a label above 0.5 is positive. Rows are
//! grouped by equal score and the groups taken in decreasing score; at each group the
//! cumulative weights of positives (tp) and negatives (fp) give one point:
//!
//! - ROC: (fp / N, tp / P), with (0, 0) before the first point and (1, 1) after the last;
//! - PR: (tp / P, precision), precision = tp / (tp + fp), or 1 when tp + fp = 0 (Spark's rule
//!   for a first group of weight 0), with (0, precision of the first point) before the first.
//!
//! Areas are the trapezoidal sums over consecutive points, in that order.

use super::{MetricName, MetricSpec};

/// The rows' (score, positive, weight): the curves need every distinct score, so this is the one
/// evaluator whose memory grows with the rows.
#[derive(Debug, Default)]
pub(super) struct Scores {
    rows: Vec<(f64, bool, f64)>,
}

impl Scores {
    pub(super) fn add(
        &mut self,
        name: &str,
        label: f64,
        weight: f64,
        raw: &[f64],
        classes: Option<&[f64]>,
    ) -> Result<(), String> {
        let k = classes.map_or(raw.len(), <[f64]>::len);
        if k != 2 || raw.len() != 2 {
            return Err(format!(
                "{name} is a binary metric, but the model has {k} classes ({} raw scores); \
                 use a MulticlassClassificationEvaluator metric",
                raw.len()
            ));
        }
        // Spark's score keys group -0.0 with 0.0 (a `binary_heavy_ties` fixture has both).
        self.rows.push((raw[1] + 0.0, label > 0.5, weight));
        Ok(())
    }

    pub(super) fn metric(&self, spec: &MetricSpec) -> Result<f64, String> {
        let mut rows = self.rows.clone();
        // Stable and total, so that equal scores form one group whatever the row order.
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        let positives: f64 = rows.iter().filter(|r| r.1).map(|r| r.2).sum();
        let negatives: f64 = rows.iter().filter(|r| !r.1).map(|r| r.2).sum();
        if positives <= 0.0 || negatives <= 0.0 {
            return Err(format!(
                "the validation rows hold a single class (positive weight {positives}, negative \
                 weight {negatives}); use more folds' data or a stratified split"
            ));
        }
        let mut points = Vec::new();
        let (mut tp, mut fp) = (0.0, 0.0);
        let mut i = 0;
        while i < rows.len() {
            let score = rows[i].0;
            while i < rows.len() && rows[i].0.total_cmp(&score).is_eq() {
                if rows[i].1 {
                    tp += rows[i].2;
                } else {
                    fp += rows[i].2;
                }
                i += 1;
            }
            points.push((tp, fp));
        }
        let curve: Vec<(f64, f64)> = match spec.name {
            MetricName::AreaUnderRoc => std::iter::once((0.0, 0.0))
                .chain(points.iter().map(|&(tp, fp)| (fp / negatives, tp / positives)))
                .chain(std::iter::once((1.0, 1.0)))
                .collect(),
            MetricName::AreaUnderPr => {
                let precision =
                    |tp: f64, fp: f64| if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) };
                let first = points.first().map_or(1.0, |&(tp, fp)| precision(tp, fp));
                std::iter::once((0.0, first))
                    .chain(points.iter().map(|&(tp, fp)| (tp / positives, precision(tp, fp))))
                    .collect()
            }
            other => return Err(format!("{} is not a binary metric", other.spark_name())),
        };
        Ok(curve.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum())
    }
}
