//! One model per group of a training batch, for any registered algorithm. Groups train in
//! parallel on a pool sized to the task's CPUs; a group that cannot be trained gets a `failed`
//! row with the reason and the others go on. A panic inside one group's fit fails that group only.

use std::cmp::Ordering;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use arrow_buffer::Buffer;
use rayon::prelude::*;

use crate::algo::{Convergence, GroupData};
use crate::batch::{record_batch, write_stream, NamedColumn, TrainBatch};
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::StoredModel;
use crate::pool;
use crate::registry::{self, DynAlgorithm, GroupFitter};

/// An algorithm with parsed and checked hyperparameters.
pub struct Trainer {
    algorithm: &'static dyn DynAlgorithm,
    fitter: Box<dyn GroupFitter>,
}

impl Trainer {
    /// # Errors
    /// `InvalidParam` for an unknown algorithm or bad params JSON.
    pub fn new(algorithm: &str, params_json: &str) -> Result<Self> {
        let algorithm = registry::get(algorithm)?;
        Ok(Trainer { algorithm, fitter: algorithm.trainer(params_json)? })
    }

    pub fn algorithm(&self) -> &'static dyn DynAlgorithm {
        self.algorithm
    }
}

/// Limits of one call.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Threads of the pool (0 means 1).
    pub threads: usize,
    /// A group with more rows fails.
    pub max_rows_per_group: u64,
}

/// A trained group: its model bytes, training metrics and convergence.
#[derive(Debug)]
pub struct Fitted {
    pub bytes: Vec<u8>,
    pub metrics: Vec<Option<f64>>,
    pub convergence: Option<Convergence>,
}

/// What happened to one group.
#[derive(Debug)]
pub struct GroupOutcome {
    pub group: i32,
    pub rows: usize,
    pub millis: f64,
    pub outcome: Result<Fitted>,
}

impl GroupOutcome {
    /// The model bytes, or the reason the group failed.
    pub fn model_bytes(&self) -> std::result::Result<&[u8], &Error> {
        self.outcome.as_ref().map(|f| f.bytes.as_slice())
    }
}

/// Trains every group of an IPC training batch and returns the results batch as IPC.
///
/// # Errors
/// Only for the call as a whole: bad params, unreadable or mis-typed batch, a batch that does not
/// fit the algorithm (no label for a supervised one, weights for one without). Group failures
/// are rows of the result.
pub fn train_ipc(trainer: &Trainer, options: TrainOptions, batch: Buffer) -> Result<Vec<u8>> {
    let batch = TrainBatch::from_ipc(batch)?;
    let outcomes = train_groups(trainer, options, &batch)?;
    results_batch(trainer, &outcomes)
}

/// Trains every group of a decoded batch; one outcome per group index that has rows, in order.
///
/// # Errors
/// `Schema` if the batch does not fit the algorithm; `InvalidParam` if the pool cannot be built.
pub fn train_groups(
    trainer: &Trainer,
    options: TrainOptions,
    batch: &TrainBatch,
) -> Result<Vec<GroupOutcome>> {
    let algorithm = trainer.algorithm;
    if algorithm.task().supervised() && batch.label.is_none() {
        return Err(Error::schema(format!("{} needs a label column", algorithm.name())));
    }
    if batch.weight.is_some() && !algorithm.weights() {
        return Err(Error::schema(format!("{} does not take sample weights", algorithm.name())));
    }
    let groups = batch.rows_by_group();
    pool::install(options.threads, || {
        groups
            .par_iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(g, rows)| {
                let start = Instant::now();
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    train_group(trainer, batch, rows, options.max_rows_per_group)
                }))
                .unwrap_or_else(|panic| Err(Error::numerical(panic_message(&panic))));
                GroupOutcome {
                    group: g as i32,
                    rows: rows.len(),
                    millis: start.elapsed().as_secs_f64() * 1e3,
                    outcome,
                }
            })
            .collect()
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("internal error while fitting (panic): {msg}")
}

fn check_column(name: &str, col: &Float64Array, rows: &[u32]) -> Result<()> {
    for &r in rows {
        let r = r as usize;
        if col.is_null(r) {
            return Err(Error::data(format!("column '{name}' has a null value")));
        }
        let v = col.value(r);
        if v.is_nan() {
            return Err(Error::data(format!("column '{name}' has a NaN value")));
        }
        if v.is_infinite() {
            return Err(Error::data(format!("column '{name}' has an infinite value ({v})")));
        }
    }
    Ok(())
}

fn check_weights(weight: &NamedColumn, rows: &[u32]) -> Result<()> {
    check_column(&weight.name, &weight.values, rows)?;
    let w = weight.values.values();
    if let Some(&r) = rows.iter().find(|&&r| w[r as usize] < 0.0) {
        return Err(Error::data(format!(
            "weight column '{}' has a negative value ({})",
            weight.name, w[r as usize]
        )));
    }
    if rows.iter().all(|&r| w[r as usize] == 0.0) {
        return Err(Error::data(format!(
            "weight column '{}' is 0 for every row of the group",
            weight.name
        )));
    }
    Ok(())
}

/// Spark's shuffle delivers a group's rows in no fixed order, and a retried task must give the
/// same model bytes: the rows are fitted in a canonical order, by time first (so that time-series
/// folds can be cut from it), then label, weight and features. Rows equal in all of these are
/// interchangeable, so their order cannot change the fit.
fn canonical_order(batch: &TrainBatch, rows: &[u32]) -> Vec<u32> {
    let keys: Vec<&[f64]> = [&batch.time, &batch.label, &batch.weight]
        .into_iter()
        .flatten()
        .map(|c| &c.values.values()[..])
        .chain(batch.features.iter().map(|c| &c.values()[..]))
        .collect();
    let mut order = rows.to_vec();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        keys.iter()
            .map(|c| c[a].total_cmp(&c[b]))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    order
}

fn train_group(
    trainer: &Trainer,
    batch: &TrainBatch,
    rows: &[u32],
    max_rows: u64,
) -> Result<Fitted> {
    if rows.len() as u64 > max_rows {
        return Err(Error::data(format!(
            "group has {} rows, more than maxRowsPerGroup={max_rows}",
            rows.len()
        )));
    }
    for c in [&batch.label, &batch.time].into_iter().flatten() {
        check_column(&c.name, &c.values, rows)?;
    }
    if let Some(w) = &batch.weight {
        check_weights(w, rows)?;
    }
    for (name, col) in batch.feature_names.iter().zip(&batch.features) {
        check_column(name, col, rows)?;
    }
    let order = canonical_order(batch, rows);
    let features: Vec<&[f64]> = batch.features.iter().map(|c| &c.values()[..]).collect();
    let data = GroupData {
        features: &features,
        feature_names: &batch.feature_names,
        label: batch.label.as_ref().map(|c| &c.values.values()[..]),
        weight: batch.weight.as_ref().map(|c| &c.values.values()[..]),
        rows: &order,
    };
    let model = trainer.fitter.fit(&data)?;
    let metrics = metrics::training(model.as_ref(), &data);
    let convergence = model.convergence();
    let stored = StoredModel { feature_names: batch.feature_names.clone(), model };
    Ok(Fitted { bytes: stored.encode()?, metrics, convergence })
}

/// The results batch: group, status, error, model, rows, train_ms, converged, iterations, then
/// the task's metrics by name.
fn results_batch(trainer: &Trainer, outcomes: &[GroupOutcome]) -> Result<Vec<u8>> {
    fn ok(o: &GroupOutcome) -> Option<&Fitted> {
        o.outcome.as_ref().ok()
    }
    let group: Int32Array = outcomes.iter().map(|o| Some(o.group)).collect();
    let status: StringArray =
        outcomes.iter().map(|o| Some(if ok(o).is_some() { "ok" } else { "failed" })).collect();
    let error: StringArray =
        outcomes.iter().map(|o| o.outcome.as_ref().err().map(|e| e.to_string())).collect();
    let model: BinaryArray = outcomes.iter().map(|o| o.model_bytes().ok()).collect();
    let rows: Int64Array = outcomes.iter().map(|o| Some(o.rows as i64)).collect();
    let millis: Float64Array = outcomes.iter().map(|o| Some(o.millis)).collect();
    let convergence = |o: &GroupOutcome| ok(o).and_then(|f| f.convergence);
    let converged: BooleanArray =
        outcomes.iter().map(|o| convergence(o).map(|c| c.converged)).collect();
    let iterations: Int32Array = outcomes
        .iter()
        .map(|o| convergence(o).map(|c| i32::try_from(c.iterations).unwrap_or(i32::MAX)))
        .collect();
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("group", Arc::new(group)),
        ("status", Arc::new(status)),
        ("error", Arc::new(error)),
        ("model", Arc::new(model)),
        ("rows", Arc::new(rows)),
        ("train_ms", Arc::new(millis)),
        ("converged", Arc::new(converged)),
        ("iterations", Arc::new(iterations)),
    ];
    for (k, name) in trainer.algorithm.task().metrics().iter().enumerate() {
        let values: Float64Array = outcomes
            .iter()
            .map(|o| ok(o).and_then(|f| f.metrics.get(k).copied().flatten()))
            .collect();
        columns.push((name, Arc::new(values)));
    }
    write_stream(&record_batch(columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, values: Vec<f64>) -> NamedColumn {
        NamedColumn { name: name.into(), values: Float64Array::from(values) }
    }

    #[test]
    fn canonical_order_puts_time_first_then_label_then_features() {
        let batch = TrainBatch {
            groups: Int32Array::from(vec![0; 4]),
            label: Some(column("y", vec![0.0, 5.0, 9.0, 1.0])),
            weight: None,
            time: Some(column("t", vec![3.0, 1.0, 2.0, 1.0])),
            fold: None,
            features: vec![Float64Array::from(vec![0.5, 0.1, 0.2, 0.3])],
            feature_names: vec!["x".into()],
        };
        // Time first (1, 1, 2, 3); the two rows at time 1 by label (1.0 before 5.0).
        assert_eq!(canonical_order(&batch, &[0, 1, 2, 3]), vec![3, 1, 2, 0]);
        let untimed = TrainBatch { time: None, ..batch };
        assert_eq!(canonical_order(&untimed, &[0, 1, 2, 3]), vec![0, 3, 1, 2]);
    }
}
