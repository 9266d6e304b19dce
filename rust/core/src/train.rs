//! One model per group of a training batch. Groups train in parallel on a pool sized to the
//! task's CPUs; a group that cannot be trained gets a `failed` row with the reason and the
//! others go on. A panic inside one group's fit fails that group only.

use std::cmp::Ordering;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use arrow_buffer::Buffer;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::algo::{linear, logistic, ClassificationMetrics, Columns, RegressionMetrics};
use crate::batch::{record_batch, write_stream, TrainBatch};
use crate::error::{Error, Result};
use crate::model::{Model, StoredModel};
use crate::params::{Algorithm, LinearParams, LogisticParams};
use crate::pool;

/// Parsed and validated hyperparameters of one algorithm.
#[derive(Debug, Clone)]
pub enum Trainer {
    Linear(LinearParams),
    Logistic(LogisticParams),
}

impl Trainer {
    /// # Errors
    /// `InvalidParam` for an unknown algorithm or bad params JSON.
    pub fn new(algorithm: &str, params_json: &str) -> Result<Self> {
        Ok(match Algorithm::parse(algorithm)? {
            Algorithm::Linear => Trainer::Linear(LinearParams::from_json(params_json)?),
            Algorithm::Logistic => Trainer::Logistic(LogisticParams::from_json(params_json)?),
        })
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

#[derive(Debug, Clone, Copy)]
enum Metrics {
    Regression(RegressionMetrics),
    Classification(ClassificationMetrics),
}

/// What happened to one group.
#[derive(Debug)]
pub struct GroupOutcome {
    pub group: i32,
    pub rows: usize,
    pub millis: f64,
    outcome: Result<(Vec<u8>, Metrics)>,
}

impl GroupOutcome {
    /// The model bytes, or the reason the group failed.
    pub fn model_bytes(&self) -> std::result::Result<&[u8], &Error> {
        self.outcome.as_ref().map(|(b, _)| b.as_slice())
    }
}

/// Trains every group of an IPC training batch and returns the results batch as IPC.
///
/// # Errors
/// Only for the call as a whole: bad params, unreadable or mis-typed batch. Group failures are
/// rows of the result.
pub fn train_ipc(trainer: &Trainer, options: TrainOptions, batch: Buffer) -> Result<Vec<u8>> {
    let batch = TrainBatch::from_ipc(batch)?;
    let outcomes = train_groups(trainer, options, &batch)?;
    results_batch(trainer, &outcomes)
}

/// Trains every group of a decoded batch; one outcome per group index that has rows, in order.
///
/// # Errors
/// `InvalidParam` if the pool cannot be built.
pub fn train_groups(
    trainer: &Trainer,
    options: TrainOptions,
    batch: &TrainBatch,
) -> Result<Vec<GroupOutcome>> {
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

fn train_group(
    trainer: &Trainer,
    batch: &TrainBatch,
    rows: &[u32],
    max_rows: u64,
) -> Result<(Vec<u8>, Metrics)> {
    if rows.len() as u64 > max_rows {
        return Err(Error::data(format!(
            "group has {} rows, more than maxRowsPerGroup={max_rows}",
            rows.len()
        )));
    }
    check_column(&batch.label_name, &batch.label, rows)?;
    for (name, col) in batch.feature_names.iter().zip(&batch.features) {
        check_column(name, col, rows)?;
    }
    // Spark's shuffle delivers a group's rows in no fixed order, and a retried task must give
    // the same model bytes: fit on a canonical order (label, then features), not input order.
    let label: &[f64] = batch.label.values();
    let features: Vec<&[f64]> = batch.features.iter().map(|c| &c.values()[..]).collect();
    let mut order = rows.to_vec();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        std::iter::once(label)
            .chain(features.iter().copied())
            .map(|c| c[a].total_cmp(&c[b]))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    let (model, metrics) = match trainer {
        Trainer::Linear(params) => {
            // Linear regression makes only a few passes over the rows: read them in place
            // through `order` rather than gather an n x p copy (80 MB for 1M rows x 10).
            let data = Columns { features: &features, label, order: &order };
            let m = linear::fit_rows(&data, params)?;
            let metrics = linear::metrics_rows(&m, &data);
            (Model::Linear(m), Metrics::Regression(metrics))
        }
        Trainer::Logistic(params) => {
            // Logistic regression iterates many times over the rows: gather them once.
            let x = Array2::from_shape_fn((order.len(), features.len()), |(i, j)| {
                features[j][order[i] as usize]
            });
            let y: Array1<f64> = order.iter().map(|&r| label[r as usize]).collect();
            let m = logistic::fit(x.view(), y.view(), params)?;
            let metrics = logistic::metrics(&m, x.view(), y.view());
            (Model::Logistic(m), Metrics::Classification(metrics))
        }
    };
    let stored = StoredModel { feature_names: batch.feature_names.clone(), model };
    Ok((stored.encode()?, metrics))
}

fn results_batch(trainer: &Trainer, outcomes: &[GroupOutcome]) -> Result<Vec<u8>> {
    let ok = |o: &GroupOutcome| o.outcome.is_ok();
    let group: Int32Array = outcomes.iter().map(|o| Some(o.group)).collect();
    let status: StringArray =
        outcomes.iter().map(|o| Some(if ok(o) { "ok" } else { "failed" })).collect();
    let error: StringArray =
        outcomes.iter().map(|o| o.outcome.as_ref().err().map(|e| e.to_string())).collect();
    let model: BinaryArray = outcomes.iter().map(|o| o.model_bytes().ok()).collect();
    let rows: Int64Array = outcomes.iter().map(|o| Some(o.rows as i64)).collect();
    let millis: Float64Array = outcomes.iter().map(|o| Some(o.millis)).collect();
    let metric = |f: fn(&Metrics) -> Option<f64>| -> ArrayRef {
        let a: Float64Array =
            outcomes.iter().map(|o| o.outcome.as_ref().ok().and_then(|(_, m)| f(m))).collect();
        Arc::new(a)
    };
    let mut columns: Vec<(&str, ArrayRef)> = vec![
        ("group", Arc::new(group)),
        ("status", Arc::new(status)),
        ("error", Arc::new(error)),
        ("model", Arc::new(model)),
        ("rows", Arc::new(rows)),
        ("train_ms", Arc::new(millis)),
    ];
    match trainer {
        Trainer::Linear(_) => {
            columns.push(("rmse", metric(|m| regression(m).map(|r| r.rmse))));
            columns.push(("r2", metric(|m| regression(m).map(|r| r.r2))));
        }
        Trainer::Logistic(_) => {
            columns.push(("accuracy", metric(|m| classification(m).map(|c| c.accuracy))));
            columns.push(("log_loss", metric(|m| classification(m).map(|c| c.log_loss))));
        }
    }
    write_stream(&record_batch(columns)?)
}

fn regression(m: &Metrics) -> Option<RegressionMetrics> {
    match m {
        Metrics::Regression(r) => Some(*r),
        Metrics::Classification(_) => None,
    }
}

fn classification(m: &Metrics) -> Option<ClassificationMetrics> {
    match m {
        Metrics::Classification(c) => Some(*c),
        Metrics::Regression(_) => None,
    }
}
