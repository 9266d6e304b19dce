//! Per-group search: inside each group of a training batch, the group's own folds, every
//! (parameter set, fold) fit, the best parameter set by mean validation metric, and a refit on
//! all the group's rows with it, whose model bytes and training metrics are exactly those
//! `trainGroups` gives for that group with those params (without the time column, which only
//! cuts folds). Groups run in parallel, and so do the
//! fits within a group.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array};
use arrow_buffer::Buffer;

use super::fits::{self, FitOutcome};
use super::folds::FoldSpec;
use super::spec::SearchSpec;
use crate::batch::{record_batch, write_stream, TrainBatch};
use crate::error::{Error, Result};
use crate::rows;
use crate::train::{self, Fitted, GroupOutcome, TrainOptions};

/// One group's search: its row of the results batch and, when it went through, the best
/// parameter set and its mean metric.
#[derive(Debug)]
pub struct GroupSearch {
    pub outcome: GroupOutcome,
    pub best: Option<(usize, f64)>,
}

/// Runs a per-group search over an IPC training batch and returns the results batch of
/// `trainGroups` plus `best_param` and `best_metric`.
///
/// # Errors
/// As [`SearchSpec::from_json`] and [`FoldSpec::from_json`]; for the batch, as
/// [`search_groups`]. Group failures are rows of the result.
pub fn search_groups_ipc(
    search_json: &str,
    folds_json: &str,
    options: TrainOptions,
    batch: Buffer,
) -> Result<Vec<u8>> {
    let spec = SearchSpec::from_json(search_json)?;
    let folds = FoldSpec::from_json(folds_json)?;
    let batch = TrainBatch::from_ipc(batch)?;
    let searches = search_groups(&spec, &folds, options, &batch)?;
    search_results_batch(&spec, searches)
}

/// The results batch of `trainGroups` for the searches' refits, plus `best_param` and
/// `best_metric`.
///
/// # Errors
/// `Ipc` if arrow cannot write it.
pub(crate) fn search_results_batch(
    spec: &SearchSpec,
    searches: Vec<GroupSearch>,
) -> Result<Vec<u8>> {
    let (outcomes, bests): (Vec<GroupOutcome>, Vec<Option<(usize, f64)>>) =
        searches.into_iter().map(|s| (s.outcome, s.best)).unzip();
    let mut columns = train::results_columns(&spec.trainers[0], &outcomes);
    let best_param: Int32Array =
        bests.iter().map(|b| b.map(|(p, _)| i32::try_from(p).unwrap_or(i32::MAX))).collect();
    let best_metric: Float64Array = bests.iter().map(|b| b.map(|(_, m)| m)).collect();
    columns.push(("best_param", Arc::new(best_param) as ArrayRef));
    columns.push(("best_metric", Arc::new(best_metric) as ArrayRef));
    write_stream(&record_batch(columns)?)
}

/// Searches every group of a decoded batch; one result per group index that has rows, in order.
///
/// # Errors
/// `Schema` if the batch does not fit the algorithm; `InvalidParam` for a bad thread count.
pub fn search_groups(
    spec: &SearchSpec,
    folds: &FoldSpec,
    options: TrainOptions,
    batch: &TrainBatch,
) -> Result<Vec<GroupSearch>> {
    train::check_batch(spec.algorithm, batch)?;
    let outcomes = train::per_group(batch, options.threads, |rows| {
        search_group(spec, folds, batch, rows, options.max_rows_per_group)
    })?;
    Ok(outcomes.into_iter().map(|(outcome, best)| GroupSearch { outcome, best }).collect())
}

pub(crate) fn search_group(
    spec: &SearchSpec,
    folds: &FoldSpec,
    batch: &TrainBatch,
    rows: &[u32],
    max_rows: u64,
) -> Result<(Fitted, (usize, f64))> {
    train::check_group_size(rows.len(), max_rows)?;
    let order = rows::checked_order(batch, rows)?;
    let splits = folds.splits(batch, &order)?;
    let pairs: Vec<(usize, usize)> =
        (0..spec.len()).flat_map(|p| (0..splits.len()).map(move |f| (p, f))).collect();
    let outcomes = fits::run(spec, batch, &splits, &pairs, false);
    let best = best_set(spec.len(), spec.metric.larger_is_better(), &outcomes)?;
    // The refit is the estimator's own fit of the group: the time column that cut the folds is
    // no part of it, so neither is it of the row order (which moves the last bits of a fit).
    let refit_order = rows::canonical_order_untimed(batch, &order);
    let fitted = train::fit_ordered(&spec.trainers[best.0], batch, &refit_order)?;
    Ok((fitted, best))
}

/// The parameter set with the best mean metric (larger or smaller is better as the metric's
/// evaluator says) and that mean. A set with any failed fold, or an undefined (NaN) mean, is out
/// of the running; ties go to the lowest index.
///
/// # Errors
/// `Data` when no set is left: quoting the first failure (lowest set, then fold), or saying that
/// every mean was undefined.
pub fn best_set(
    sets: usize,
    larger_is_better: bool,
    outcomes: &[FitOutcome],
) -> Result<(usize, f64)> {
    let mut sums = vec![(0.0, 0usize, true); sets];
    let mut first_failure: Option<&FitOutcome> = None;
    for o in outcomes {
        let entry = &mut sums[o.param];
        match &o.outcome {
            Ok(fit) => {
                entry.0 += fit.metric;
                entry.1 += 1;
            }
            Err(_) => {
                entry.2 = false;
                if first_failure.is_none_or(|f| (o.param, o.fold) < (f.param, f.fold)) {
                    first_failure = Some(o);
                }
            }
        }
    }
    let mut best: Option<(usize, f64)> = None;
    for (p, &(sum, count, ok)) in sums.iter().enumerate() {
        let mean = sum / count as f64;
        if !ok || count == 0 || mean.is_nan() {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) if larger_is_better => mean > b,
            Some((_, b)) => mean < b,
        };
        if better {
            best = Some((p, mean));
        }
    }
    best.ok_or_else(|| match first_failure {
        Some(f) => Error::data(format!(
            "every parameter set failed; the first failure, parameter set {} on fold {}: {}",
            f.param,
            f.fold,
            f.outcome.as_ref().err().map(ToString::to_string).unwrap_or_default()
        )),
        None => Error::data(
            "every parameter set failed: no parameter set has a defined mean metric (NaN)",
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::fits::FoldFit;

    fn fit(param: usize, fold: usize, metric: Option<f64>) -> FitOutcome {
        FitOutcome {
            param,
            fold,
            train_rows: 8,
            validation_rows: 2,
            millis: 0.0,
            outcome: metric
                .map(|metric| FoldFit { metric, convergence: None, model: None })
                .ok_or_else(|| Error::data(format!("set {param} fold {fold} broke"))),
        }
    }

    fn grid(metrics: &[[Option<f64>; 2]]) -> Vec<FitOutcome> {
        let mut out = Vec::new();
        for (p, folds) in metrics.iter().enumerate() {
            for (f, m) in folds.iter().enumerate() {
                out.push(fit(p, f, *m));
            }
        }
        out
    }

    #[test]
    fn the_best_mean_wins_by_the_metrics_direction() {
        let g = grid(&[[Some(1.0), Some(3.0)], [Some(0.5), Some(2.5)], [Some(4.0), Some(0.0)]]);
        assert_eq!(best_set(3, false, &g), Ok((1, 1.5)));
        assert_eq!(best_set(3, true, &g), Ok((0, 2.0)), "ties go to the lowest index");
    }

    #[test]
    fn a_set_with_a_failed_fold_or_a_nan_mean_is_out() {
        let g = grid(&[[Some(0.1), None], [Some(0.5), Some(0.7)], [Some(f64::NAN), Some(0.0)]]);
        assert_eq!(best_set(3, false, &g), Ok((1, 0.6)));
    }

    #[test]
    fn when_every_set_fails_the_first_failure_is_quoted() {
        // Outcomes in any order: the first failure is the lowest set, then fold.
        let mut g = grid(&[[Some(0.1), None], [None, None]]);
        g.reverse();
        let e = best_set(2, false, &g).unwrap_err().to_string();
        assert!(e.starts_with("every parameter set failed"), "{e}");
        assert!(e.contains("parameter set 0 on fold 1: set 0 fold 1 broke"), "{e}");
        let nan = grid(&[[Some(f64::NAN), Some(1.0)]]);
        assert!(best_set(1, true, &nan).unwrap_err().to_string().contains("NaN"));
    }
}
