//! One model per group of a training batch, for any registered algorithm. Groups train in
//! parallel on a pool sized to the task's CPUs; a group that cannot be trained gets a `failed`
//! row with the reason and the others go on. A panic inside one group's fit fails that group only.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use arrow_buffer::Buffer;
use rayon::prelude::*;

use crate::algo::{Convergence, GroupData};
use crate::batch::{record_batch, write_stream, TrainBatch};
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::StoredModel;
use crate::pool;
use crate::registry::{self, AnyModel, DynAlgorithm, GroupFitter};
use crate::rows;

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

    /// Fits the rows of `data` (checked, in the order the fit must see them).
    ///
    /// # Errors
    /// As the algorithm's fit.
    pub fn fit(&self, data: &GroupData<'_>) -> Result<Box<dyn AnyModel>> {
        self.fitter.fit(data)
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
    check_batch(trainer.algorithm, batch)?;
    let outcomes = per_group(batch, options.threads, |rows| {
        train_group(trainer, batch, rows, options.max_rows_per_group).map(|fitted| (fitted, ()))
    })?;
    Ok(outcomes.into_iter().map(|(outcome, _)| outcome).collect())
}

/// Runs `work` on the rows of every group of the batch that has rows, groups in parallel on a pool
/// of `threads`; a panic fails its group only. One outcome per group, in group order, with what
/// `work` returned beside it when it succeeded.
pub(crate) fn per_group<T: Send>(
    batch: &TrainBatch,
    threads: usize,
    work: impl Fn(&[u32]) -> Result<(Fitted, T)> + Sync,
) -> Result<Vec<(GroupOutcome, Option<T>)>> {
    let groups = batch.rows_by_group();
    pool::install(threads, || {
        groups
            .par_iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(g, rows)| {
                let start = Instant::now();
                let result = catch_unwind(AssertUnwindSafe(|| work(rows)))
                    .unwrap_or_else(|panic| Err(Error::numerical(panic_message(&panic))));
                let (outcome, extra) = match result {
                    Ok((fitted, extra)) => (Ok(fitted), Some(extra)),
                    Err(e) => (Err(e), None),
                };
                let outcome = GroupOutcome {
                    group: g as i32,
                    rows: rows.len(),
                    millis: start.elapsed().as_secs_f64() * 1e3,
                    outcome,
                };
                (outcome, extra)
            })
            .collect()
    })
}

/// `Schema` if the batch does not fit the algorithm: no label for a supervised one, weights for
/// one that takes none.
pub(crate) fn check_batch(algorithm: &dyn DynAlgorithm, batch: &TrainBatch) -> Result<()> {
    check_roles(algorithm, batch.label.is_some(), batch.weight.is_some())
}

/// [`check_batch`] from which columns there are.
pub(crate) fn check_roles(algorithm: &dyn DynAlgorithm, label: bool, weight: bool) -> Result<()> {
    if algorithm.task().supervised() && !label {
        return Err(Error::schema(format!("{} needs a label column", algorithm.name())));
    }
    if weight && !algorithm.weights() {
        return Err(Error::schema(format!("{} does not take sample weights", algorithm.name())));
    }
    Ok(())
}

/// The message of a panic caught inside one fit, for its failed row.
pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("internal error while fitting (panic): {msg}")
}

/// `Data` for a group of more than `max_rows` rows.
pub(crate) fn check_group_size(rows: usize, max_rows: u64) -> Result<()> {
    if rows as u64 > max_rows {
        return Err(Error::data(format!(
            "group has {rows} rows, more than maxRowsPerGroup={max_rows}"
        )));
    }
    Ok(())
}

pub(crate) fn train_group(
    trainer: &Trainer,
    batch: &TrainBatch,
    rows: &[u32],
    max_rows: u64,
) -> Result<Fitted> {
    check_group_size(rows.len(), max_rows)?;
    let order = rows::checked_order(batch, rows)?;
    fit_ordered(trainer, batch, &order)
}

/// Fits rows already checked and in canonical order: the model bytes, training metrics and
/// convergence of a group's row of the results batch.
///
/// # Errors
/// As the algorithm's fit; `Numerical` if the model cannot be encoded.
pub(crate) fn fit_ordered(trainer: &Trainer, batch: &TrainBatch, order: &[u32]) -> Result<Fitted> {
    let features = batch.feature_slices();
    let data = batch.view(&features, order);
    let model = trainer.fitter.fit(&data)?;
    let metrics = metrics::training(model.as_ref(), &data);
    let convergence = model.convergence();
    let stored = StoredModel { feature_names: batch.feature_names.clone(), model };
    Ok(Fitted { bytes: stored.encode()?, metrics, convergence })
}

pub(crate) fn results_batch(trainer: &Trainer, outcomes: &[GroupOutcome]) -> Result<Vec<u8>> {
    write_stream(&record_batch(results_columns(trainer, outcomes))?)
}

/// The columns of the results batch: group, status, error, model, rows, train_ms, converged,
/// iterations, then the task's metrics by name.
pub(crate) fn results_columns(
    trainer: &Trainer,
    outcomes: &[GroupOutcome],
) -> Vec<(&'static str, ArrayRef)> {
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
    let mut columns: Vec<(&'static str, ArrayRef)> = vec![
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
    columns
}
