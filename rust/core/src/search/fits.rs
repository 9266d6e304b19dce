//! Running (parameter set, fold) fits: each fits its fold's training rows (a view of the data,
//! no copy), predicts the validation rows with the set's prediction options and reduces them to
//! the validation metric. A fit that errs or panics is a failed row, never a failed call.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
};
use rayon::prelude::*;

use super::folds::Split;
use super::spec::SearchSpec;
use crate::algo::Convergence;
use crate::batch::{record_batch, write_stream, TrainBatch};
use crate::error::{Error, Result};
use crate::evaluate::Evaluation;
use crate::model::StoredModel;
use crate::train::panic_message;

/// A fit that went through: its validation metric, convergence and, with `returnModels`, the
/// fold model's bytes.
#[derive(Debug, Clone)]
pub struct FoldFit {
    pub metric: f64,
    pub convergence: Option<Convergence>,
    pub model: Option<Vec<u8>>,
}

/// What happened to one (parameter set, fold) fit.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub param: usize,
    pub fold: usize,
    pub train_rows: usize,
    pub validation_rows: usize,
    /// Milliseconds to fit and evaluate.
    pub millis: f64,
    pub outcome: Result<FoldFit>,
}

/// Runs the `(param, fold)` pairs (indices already checked) in parallel on the current rayon
/// pool; one outcome per pair, in the order of `pairs`; fold models serialized if `keep_models`.
pub(crate) fn run(
    spec: &SearchSpec,
    batch: &TrainBatch,
    splits: &[Split],
    pairs: &[(usize, usize)],
    keep_models: bool,
) -> Vec<FitOutcome> {
    let features = batch.feature_slices();
    pairs
        .par_iter()
        .map(|&(param, fold)| {
            let split = &splits[fold];
            let start = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                fit_one(spec, batch, &features, param, split, keep_models)
            }))
            .unwrap_or_else(|panic| Err(Error::numerical(panic_message(&panic))));
            FitOutcome {
                param,
                fold,
                train_rows: split.train.len(),
                validation_rows: split.validation.len(),
                millis: start.elapsed().as_secs_f64() * 1e3,
                outcome,
            }
        })
        .collect()
}

/// Fits parameter set `param` on the training rows of `split` and evaluates it on its
/// validation rows.
///
/// # Errors
/// The fit's error; `Schema` for thresholds that do not fit the fold model; the metric's error
/// (undefined on these rows); `Numerical` if the model cannot be encoded.
pub(crate) fn fit_one(
    spec: &SearchSpec,
    batch: &TrainBatch,
    features: &[&[f64]],
    param: usize,
    split: &Split,
    keep_model: bool,
) -> Result<FoldFit> {
    let model = spec.trainers[param].fit(&batch.view(features, &split.train))?;
    let options = &spec.predict_options[param];
    options.check_model("the fold model", model.as_ref())?;
    let label = batch
        .label
        .as_ref()
        .map(|c| c.values.values())
        .ok_or_else(|| Error::schema("a search needs a label column"))?;
    let weight = batch.weight.as_ref().filter(|_| spec.metric.weighted).map(|c| c.values.values());
    let classes = model.classes();
    let mut evaluation = Evaluation::new(&spec.metric);
    let mut x = vec![0.0; features.len()];
    for &r in &split.validation {
        let r = r as usize;
        for (v, col) in x.iter_mut().zip(features) {
            *v = col[r];
        }
        let prediction = options.apply(model.as_ref(), model.predict(&x));
        evaluation.add(label[r], weight.map_or(1.0, |w| w[r]), &prediction, classes);
    }
    let metric = evaluation.finish()?;
    let convergence = model.convergence();
    let model = if keep_model {
        Some(StoredModel { feature_names: batch.feature_names.clone(), model }.encode()?)
    } else {
        None
    };
    Ok(FoldFit { metric, convergence, model })
}

/// The fits batch: param, fold, status, error, metric, fit_ms, train_rows, validation_rows,
/// converged, model (docs/native-interface.md, "Fits batch").
///
/// # Errors
/// `Ipc` if the batch cannot be written (it always can).
pub(crate) fn fits_batch(outcomes: &[FitOutcome]) -> Result<Vec<u8>> {
    fn ok(o: &FitOutcome) -> Option<&FoldFit> {
        o.outcome.as_ref().ok()
    }
    let int = |v: usize| Some(i32::try_from(v).unwrap_or(i32::MAX));
    let param: Int32Array = outcomes.iter().map(|o| int(o.param)).collect();
    let fold: Int32Array = outcomes.iter().map(|o| int(o.fold)).collect();
    let status: StringArray =
        outcomes.iter().map(|o| Some(if ok(o).is_some() { "ok" } else { "failed" })).collect();
    let error: StringArray =
        outcomes.iter().map(|o| o.outcome.as_ref().err().map(|e| e.to_string())).collect();
    let metric: Float64Array = outcomes.iter().map(|o| ok(o).map(|f| f.metric)).collect();
    let millis: Float64Array = outcomes.iter().map(|o| Some(o.millis)).collect();
    let train_rows: Int64Array = outcomes.iter().map(|o| Some(o.train_rows as i64)).collect();
    let validation_rows: Int64Array =
        outcomes.iter().map(|o| Some(o.validation_rows as i64)).collect();
    let converged: BooleanArray =
        outcomes.iter().map(|o| ok(o).and_then(|f| f.convergence).map(|c| c.converged)).collect();
    let model: BinaryArray =
        outcomes.iter().map(|o| ok(o).and_then(|f| f.model.as_deref())).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("param", Arc::new(param)),
        ("fold", Arc::new(fold)),
        ("status", Arc::new(status)),
        ("error", Arc::new(error)),
        ("metric", Arc::new(metric)),
        ("fit_ms", Arc::new(millis)),
        ("train_rows", Arc::new(train_rows)),
        ("validation_rows", Arc::new(validation_rows)),
        ("converged", Arc::new(converged)),
        ("model", Arc::new(model)),
    ];
    write_stream(&record_batch(columns)?)
}
