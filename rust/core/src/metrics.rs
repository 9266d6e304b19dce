//! Training metrics, generic over the algorithms: computed from each model's predictions of its
//! own training rows, by task (see [`Task::metrics`]), weighted when the rows are.

use crate::algo::{GroupData, Prediction, Task};
use crate::registry::AnyModel;

/// Probabilities are clipped to `[EPS, 1 - EPS]` in the log loss, as Spark's
/// `MulticlassClassificationEvaluator` (`eps` 1e-15) does, so a confident mistake costs a large
/// finite loss rather than infinity.
const EPS: f64 = 1e-15;

/// The task's metrics of `model` on `data`, in the order of [`Task::metrics`]; a metric the model
/// cannot give (log loss without probabilities, R^2 of a constant label) is `None`.
pub fn training(model: &dyn AnyModel, data: &GroupData<'_>) -> Vec<Option<f64>> {
    let task = model.task();
    let (label, weight) = (data.label, data.weight);
    let mut x = vec![0.0; data.p()];
    let mut total_w = 0.0;
    // Regression: weighted label sum, then residual and total squares; classification: correct
    // weight, log loss, whether every row had probabilities; clustering: inertia.
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    let mut all_probabilities = true;
    let center = match (task, label) {
        (Task::Regression, Some(y)) if !model.through_origin() => {
            let (mut s, mut sw) = (0.0, 0.0);
            for &r in data.rows {
                let w = weight.map_or(1.0, |w| w[r as usize]);
                s += w * y[r as usize];
                sw += w;
            }
            s / sw
        }
        _ => 0.0,
    };
    for &r in data.rows {
        let r = r as usize;
        for (v, col) in x.iter_mut().zip(data.features) {
            *v = col[r];
        }
        let w = weight.map_or(1.0, |w| w[r]);
        total_w += w;
        let y = label.map_or(f64::NAN, |l| l[r]);
        match model.predict(&x) {
            Prediction::Value(p) => {
                a += w * (y - p) * (y - p);
                b += w * (y - center) * (y - center);
            }
            Prediction::Class { label: predicted, probability, .. } => {
                if predicted == y {
                    a += w;
                }
                match (probability, class_index(model, y)) {
                    (Some(p), Some(k)) => b -= w * p[k].clamp(EPS, 1.0 - EPS).ln(),
                    (Some(_), None) => b -= w * EPS.ln(),
                    (None, _) => all_probabilities = false,
                }
            }
            Prediction::Cluster { distance2, .. } => c += w * distance2,
            Prediction::Missing => {}
        }
    }
    match task {
        Task::Regression => {
            let rmse = (a / total_w).sqrt();
            let r2 = (b > 0.0).then(|| 1.0 - a / b);
            vec![Some(rmse), r2]
        }
        Task::Classification => {
            vec![Some(a / total_w), all_probabilities.then(|| b / total_w)]
        }
        Task::Clustering => vec![Some(c)],
    }
}

/// The position of label value `y` among the model's classes (that of its probabilities); `None`
/// for a label the model never saw.
fn class_index(model: &dyn AnyModel, y: f64) -> Option<usize> {
    model.classes()?.iter().position(|v| *v == y)
}
