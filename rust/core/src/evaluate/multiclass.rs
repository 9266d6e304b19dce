//! `MulticlassClassificationEvaluator` as Spark's `MulticlassMetrics` computes it.
//!
//! The weighted confusion map (label, prediction) -> weight gives, per label l seen among the
//! rows' labels, with W_l its weight and W the total:
//! recall(l) = tp(l) / W_l, precision(l) = tp(l) / (tp(l) + fp(l)) (0 when both are 0),
//! fpr(l) = fp(l) / (W - W_l), F(l) = (1 + b^2) p r / (b^2 p + r) (0 when p + r = 0).
//! The weighted metrics average over the labels seen, by W_l / W; a class that is only ever
//! predicted adds false positives to the labels' precision but is no term of the averages, and a
//! `...ByLabel` metric of a label absent from the rows is undefined (Spark throws). A label whose
//! rows all weigh 0 still counts as seen: its recall is 0/0 and the average NaN, as in Spark.
//!
//! logLoss = sum w * -ln(clip(p_label)) / sum w, p_label the probability at the label's position
//! among the model's classes (Spark indexes by the label value; the same when classes are
//! 0..K-1), clipped to [eps, 1 - eps]; a label that is not a class counts as probability eps.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{MetricName, MetricSpec};

/// An f64 ordered by `total_cmp`, as a map key; -0.0 is folded into 0.0 first.
#[derive(Debug, Clone, Copy)]
struct Key(f64);

impl Key {
    fn new(v: f64) -> Self {
        Key(v + 0.0)
    }
}
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug)]
pub(super) struct Counts {
    /// Only logLoss reads probabilities (and needs them); the other metrics the confusion map.
    log_loss: bool,
    eps: f64,
    confusion: BTreeMap<(Key, Key), f64>,
    loss: f64,
    weight: f64,
}

impl Counts {
    pub(super) fn new(log_loss: bool, eps: f64) -> Self {
        Counts { log_loss, eps, confusion: BTreeMap::new(), loss: 0.0, weight: 0.0 }
    }

    pub(super) fn add(
        &mut self,
        name: &str,
        label: f64,
        weight: f64,
        predicted: f64,
        probability: Option<&[f64]>,
        classes: Option<&[f64]>,
    ) -> Result<(), String> {
        if !self.log_loss {
            *self.confusion.entry((Key::new(label), Key::new(predicted))).or_insert(0.0) += weight;
            return Ok(());
        }
        let Some(probability) = probability else {
            return Err(format!(
                "{name} needs class probabilities, and this model predicts none; choose another \
                 metric"
            ));
        };
        let position = match classes {
            Some(classes) => classes.iter().position(|&c| c == label),
            // Spark's own rule: the label value is the index.
            None => (label >= 0.0 && label.fract() == 0.0).then_some(label as usize),
        };
        let p = match position {
            Some(i) => *probability.get(i).ok_or_else(|| {
                format!("{name}: the model gave {} probabilities for class {i}", probability.len())
            })?,
            None => self.eps,
        };
        let loss = if p < self.eps {
            -self.eps.ln()
        } else if p > 1.0 - self.eps {
            -(-self.eps).ln_1p()
        } else {
            -p.ln()
        };
        self.loss += loss * weight;
        self.weight += weight;
        Ok(())
    }

    pub(super) fn metric(&self, spec: &MetricSpec) -> Result<f64, String> {
        if self.log_loss {
            return Ok(self.loss / self.weight);
        }
        // Per label seen: its weight, true positives; per predicted value: false positives.
        let mut label_weight: BTreeMap<Key, f64> = BTreeMap::new();
        let mut tp: BTreeMap<Key, f64> = BTreeMap::new();
        let mut fp: BTreeMap<Key, f64> = BTreeMap::new();
        let mut wrong = 0.0;
        for (&(label, predicted), &w) in &self.confusion {
            *label_weight.entry(label).or_insert(0.0) += w;
            let t = tp.entry(label).or_insert(0.0);
            if label == predicted {
                *t += w;
            } else {
                *fp.entry(predicted).or_insert(0.0) += w;
                wrong += w;
            }
        }
        let total: f64 = label_weight.values().sum();
        let fp_of = |l: &Key| fp.get(l).copied().unwrap_or(0.0);
        let tp_of = |l: &Key| tp.get(l).copied().unwrap_or(0.0);
        let recall = |l: &Key, w_l: f64| tp_of(l) / w_l;
        let precision = |l: &Key| {
            let (t, f) = (tp_of(l), fp_of(l));
            if t + f == 0.0 {
                0.0
            } else {
                t / (t + f)
            }
        };
        let fpr = |l: &Key, w_l: f64| fp_of(l) / (total - w_l);
        let f_measure = |l: &Key, w_l: f64, beta: f64| {
            let (p, r) = (precision(l), recall(l, w_l));
            let b2 = beta * beta;
            if p + r == 0.0 {
                0.0
            } else {
                (1.0 + b2) * p * r / (b2 * p + r)
            }
        };
        let average = |f: &dyn Fn(&Key, f64) -> f64| {
            label_weight.iter().map(|(l, &w_l)| f(l, w_l) * w_l / total).sum::<f64>()
        };
        let by_label = |f: &dyn Fn(&Key, f64) -> f64| {
            let l = Key::new(spec.metric_label);
            label_weight.get(&l).map(|&w_l| f(&l, w_l)).ok_or_else(|| {
                format!(
                    "metricLabel {} is not a label of the validation rows (Spark fails too)",
                    spec.metric_label
                )
            })
        };
        use MetricName::*;
        Ok(match spec.name {
            F1 => average(&|l, w| f_measure(l, w, 1.0)),
            WeightedFMeasure => average(&|l, w| f_measure(l, w, spec.beta)),
            Accuracy => tp.values().sum::<f64>() / total,
            WeightedPrecision => average(&|l, _| precision(l)),
            WeightedRecall | WeightedTruePositiveRate => average(&recall),
            WeightedFalsePositiveRate => average(&fpr),
            TruePositiveRateByLabel | RecallByLabel => by_label(&recall)?,
            FalsePositiveRateByLabel => by_label(&fpr)?,
            PrecisionByLabel => by_label(&|l, _| precision(l))?,
            FMeasureByLabel => by_label(&|l, w| f_measure(l, w, spec.beta))?,
            HammingLoss => wrong / total,
            other => return Err(format!("{} is not a multiclass metric", other.spark_name())),
        })
    }
}
