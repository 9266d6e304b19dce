//! Vectorized prediction: a set of decoded models, and a batch whose rows each name the model
//! (group) that predicts them.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::{Array, ArrayRef, Float64Array};
use arrow_buffer::Buffer;
use rayon::prelude::*;

use crate::algo::{Prediction, Task};
use crate::batch::{record_batch, write_stream, PredictBatch};
use crate::error::{Error, Result};
use crate::model::StoredModel;
use crate::pool;

/// Rows predicted per rayon work item: large enough to amortize scheduling.
const CHUNK_ROWS: usize = 4096;

/// Decoded models addressed by index; an entry may be absent (a failed or unknown group).
#[derive(Debug, Default)]
pub struct ModelSet {
    models: Vec<Option<StoredModel>>,
}

impl ModelSet {
    /// Decodes every model once.
    ///
    /// # Errors
    /// `Model` naming the index of the first undecodable entry.
    pub fn decode(models: &[Option<&[u8]>]) -> Result<Self> {
        let models = models
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                bytes
                    .map(|b| {
                        StoredModel::decode(b)
                            .map_err(|e| Error::model(format!("model {i} of the set: {e}")))
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelSet { models })
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    fn has_classifier(&self) -> bool {
        self.models.iter().flatten().any(|m| m.model.task() == Task::Classification)
    }

    /// Predicts an IPC prediction batch and returns the predictions batch as IPC.
    ///
    /// # Errors
    /// `Ipc`/`Schema` for a bad batch; `Schema` if a row names a model index outside the set or
    /// a model expects a different number of features than the batch has.
    pub fn predict_ipc(&self, threads: usize, batch: Buffer) -> Result<Vec<u8>> {
        let batch = PredictBatch::from_ipc(batch)?;
        self.check(&batch)?;
        let rows = batch.num_rows();
        let preds: Vec<Prediction> = pool::install(threads, || {
            (0..rows)
                .into_par_iter()
                .with_min_len(CHUNK_ROWS)
                .map_init(Vec::new, |x, r| self.predict_row(&batch, r, x))
                .collect()
        })?;
        self.predictions_batch(&preds)
    }

    fn check(&self, batch: &PredictBatch) -> Result<()> {
        let p = batch.features.len();
        for i in batch.models.iter().flatten() {
            let model =
                usize::try_from(i).ok().and_then(|i| self.models.get(i)).ok_or_else(|| {
                    Error::schema(format!("model index {i} is outside the set of {}", self.len()))
                })?;
            if let Some(m) = model {
                if m.model.num_features() != p {
                    return Err(Error::schema(format!(
                        "model {i} expects {} features ({}), the batch has {p}",
                        m.model.num_features(),
                        m.feature_names.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    fn predict_row(&self, batch: &PredictBatch, r: usize, x: &mut Vec<f64>) -> Prediction {
        let Some(model) = batch
            .models
            .is_valid(r)
            .then(|| batch.models.value(r))
            .and_then(|i| self.models.get(i as usize))
            .and_then(Option::as_ref)
        else {
            return Prediction::Missing;
        };
        x.clear();
        for col in &batch.features {
            if col.is_null(r) {
                return Prediction::Missing;
            }
            x.push(col.value(r));
        }
        model.model.predict(x)
    }

    fn predictions_batch(&self, preds: &[Prediction]) -> Result<Vec<u8>> {
        let prediction: Float64Array = preds.iter().map(Prediction::value).collect();
        let mut columns: Vec<(&str, ArrayRef)> = vec![("prediction", Arc::new(prediction))];
        if self.has_classifier() {
            let list = |f: fn(&Prediction) -> Option<&[f64]>| -> ArrayRef {
                let mut b = ListBuilder::new(Float64Builder::new());
                for p in preds {
                    match f(p) {
                        Some(values) => {
                            b.values().append_slice(values);
                            b.append(true);
                        }
                        None => b.append(false),
                    }
                }
                Arc::new(b.finish())
            };
            columns.push((
                "raw_prediction",
                list(|p| match p {
                    Prediction::Class { raw, .. } => Some(raw),
                    _ => None,
                }),
            ));
            columns.push((
                "probability",
                list(|p| match p {
                    Prediction::Class { probability, .. } => probability.as_deref(),
                    _ => None,
                }),
            ));
        }
        write_stream(&record_batch(columns)?)
    }
}
