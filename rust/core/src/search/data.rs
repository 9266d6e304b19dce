//! A search's data set, opened once per JVM: the chunks decoded and concatenated, every value
//! checked, the rows in canonical order and the folds cut. Immutable afterwards, so that several
//! Spark tasks of one executor can run fits on it at once (behind an `Arc`).

use arrow_buffer::Buffer;
use serde_json::{json, Value};

use super::fits::{self, FitOutcome};
use super::folds::{FoldSpec, Split};
use super::spec::SearchSpec;
use crate::batch::TrainBatch;
use crate::error::{Error, Result};
use crate::{pool, rows, train};

/// A decoded, checked and ordered data set and its folds.
#[derive(Debug)]
pub struct SearchData {
    batch: TrainBatch,
    /// Every row, in canonical order.
    order: Vec<u32>,
    splits: Vec<Split>,
}

impl SearchData {
    /// Opens a data set from its chunks (IPC training batches of one schema; the group column
    /// is ignored) and cuts the folds of `folds_json`.
    ///
    /// # Errors
    /// `InvalidParam` for a bad foldsJson; `Ipc`/`Schema` for unreadable chunks or chunks of
    /// different schemas; `Data` naming the column for a null, NaN or infinity in the label,
    /// weight, time, fold or a feature, a negative or all-zero weight; the folds' errors (see
    /// [`FoldSpec::splits`]).
    pub fn open(chunks: Vec<Buffer>, folds_json: &str) -> Result<Self> {
        let spec = FoldSpec::from_json(folds_json)?;
        let batch = TrainBatch::from_ipc_chunks(chunks)?;
        let all: Vec<u32> = (0..batch.num_rows() as u32).collect();
        let order = rows::checked_order(&batch, &all)?;
        let splits = spec.splits(&batch, &order)?;
        Ok(SearchData { batch, order, splits })
    }

    /// The folds, in order.
    pub fn splits(&self) -> &[Split] {
        &self.splits
    }

    /// Every row of the data set, in canonical order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    pub fn batch(&self) -> &TrainBatch {
        &self.batch
    }

    /// The folds as JSON: `[{"fold", "trainRows", "validationRows", "trainTimeMin",
    /// "trainTimeMax", "validationTimeMin", "validationTimeMax"}]`, the times `null` without a
    /// time column.
    pub fn describe_splits(&self) -> String {
        describe(&self.batch, &self.splits).to_string()
    }

    /// Runs the fits `pairs` (parameter set, fold) on a pool of `threads`; one outcome per pair,
    /// in order.
    ///
    /// # Errors
    /// `InvalidParam` for a parameter set or fold index out of range or a bad thread count;
    /// `Schema` if the data does not fit the algorithm (no label, weights it does not take).
    pub fn fits(
        &self,
        spec: &SearchSpec,
        pairs: &[(usize, usize)],
        threads: usize,
    ) -> Result<Vec<FitOutcome>> {
        train::check_batch(spec.algorithm, &self.batch)?;
        if let Some((p, f)) =
            pairs.iter().find(|(p, f)| *p >= spec.len() || *f >= self.splits.len())
        {
            return Err(Error::invalid_param(
                "fits",
                format!(
                    "(parameter set {p}, fold {f}) is out of range: {} parameter sets, {} folds",
                    spec.len(),
                    self.splits.len()
                ),
            ));
        }
        pool::install(threads, || {
            fits::run(spec, &self.batch, &self.splits, pairs, spec.return_models)
        })
    }

    /// [`SearchData::fits`] from the JNI arguments: searchJson and the flat pair list
    /// `[param0, fold0, param1, fold1, ...]`; returns the fits batch as IPC.
    ///
    /// # Errors
    /// As [`SearchSpec::from_json`] and [`SearchData::fits`]; `InvalidParam` (`fits`) for a
    /// list of odd length or a negative index.
    pub fn fits_ipc(&self, search_json: &str, fits: &[i32], threads: usize) -> Result<Vec<u8>> {
        let spec = SearchSpec::from_json(search_json)?;
        if fits.len() % 2 != 0 {
            return Err(Error::invalid_param(
                "fits",
                format!("must hold (parameter set, fold) pairs, got {} values", fits.len()),
            ));
        }
        let pairs = fits
            .chunks_exact(2)
            .map(|p| match (usize::try_from(p[0]), usize::try_from(p[1])) {
                (Ok(a), Ok(b)) => Ok((a, b)),
                _ => Err(Error::invalid_param(
                    "fits",
                    format!("negative index in (parameter set {}, fold {})", p[0], p[1]),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        fits::fits_batch(&self.fits(&spec, &pairs, threads)?)
    }
}

/// The splits as the JSON of `describeSplits`.
pub(crate) fn describe(batch: &TrainBatch, splits: &[Split]) -> Value {
    let range = |rows: &[u32]| -> (Value, Value) {
        let Some(time) = &batch.time else { return (Value::Null, Value::Null) };
        let t = time.values.values();
        if rows.is_empty() {
            return (Value::Null, Value::Null);
        }
        let (lo, hi) = rows
            .iter()
            .map(|&r| t[r as usize])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (json!(lo), json!(hi))
    };
    Value::Array(
        splits
            .iter()
            .enumerate()
            .map(|(f, s)| {
                let (train_min, train_max) = range(&s.train);
                let (validation_min, validation_max) = range(&s.validation);
                json!({
                    "fold": f,
                    "trainRows": s.train.len(),
                    "validationRows": s.validation.len(),
                    "trainTimeMin": train_min,
                    "trainTimeMax": train_max,
                    "validationTimeMin": validation_min,
                    "validationTimeMax": validation_max,
                })
            })
            .collect(),
    )
}
