//! Vectorized prediction: a set of decoded models, and a batch whose rows each name the model
//! (group) that predicts them.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, ListArray};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field};
use rayon::prelude::*;

use crate::algo::{Prediction, Task};
use crate::batch::{record_batch, write_stream, PredictBatch};
use crate::error::{Error, Result};
use crate::model::StoredModel;
use crate::params::parse_json;
use crate::pool;
use crate::registry::AnyModel;
use serde::Deserialize;

/// Options of a prediction call, as JSON from the Scala side (unknown fields refused).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PredictOptions {
    /// Spark's classifier `thresholds`: the predicted class is the one with the largest
    /// `p / t` (a 0 threshold wins where `p > 0`), one threshold per class of every model used.
    pub thresholds: Option<Vec<f64>>,
}

impl PredictOptions {
    /// # Errors
    /// `InvalidParam` for malformed JSON or thresholds that are negative, NaN or hold two zeros.
    pub fn from_json(json: &str) -> Result<Self> {
        let o: Self = parse_json(json)?;
        if let Some(t) = &o.thresholds {
            if t.iter().any(|v| v.is_nan() || *v < 0.0)
                || t.iter().filter(|v| **v == 0.0).count() > 1
            {
                return Err(Error::invalid_param(
                    "thresholds",
                    format!("must be >= 0 with at most one 0, got {t:?}"),
                ));
            }
        }
        Ok(o)
    }

    /// Whether these options fit model `i` of the set.
    fn check(&self, i: i32, m: &StoredModel) -> Result<()> {
        self.check_model(&format!("model {i}"), m.model.as_ref())
    }

    /// Whether these options fit `model` (named `what` in the error).
    ///
    /// # Errors
    /// `Schema` when thresholds are set for a model that is not a classifier, or their number is
    /// not the model's number of classes.
    pub(crate) fn check_model(&self, what: &str, model: &dyn AnyModel) -> Result<()> {
        let Some(t) = &self.thresholds else { return Ok(()) };
        match model.classes() {
            Some(c) if c.len() == t.len() => Ok(()),
            Some(c) => Err(Error::schema(format!(
                "thresholds has {} values but {what} has {} classes ({c:?})",
                t.len(),
                c.len()
            ))),
            None => {
                Err(Error::schema(format!("thresholds are set but {what} is not a classifier")))
            }
        }
    }

    /// The prediction of `model` with the thresholds applied (where it gave probabilities).
    pub(crate) fn apply(&self, model: &dyn AnyModel, mut p: Prediction) -> Prediction {
        if let (Some(t), Some(classes), Prediction::Class { label, probability: Some(prob), .. }) =
            (&self.thresholds, model.classes(), &mut p)
        {
            if t.len() == prob.len() && classes.len() == prob.len() {
                let score = |k: usize| if t[k] == 0.0 { f64::INFINITY } else { prob[k] / t[k] };
                let best = (0..prob.len()).fold(0, |b, k| if score(k) > score(b) { k } else { b });
                *label = classes[best];
            }
        }
        p
    }
}

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
    /// `InvalidParam` for bad options; `Ipc`/`Schema` for a bad batch; `Schema` if a row names a
    /// model index outside the set, a model expects a different number of features than the batch
    /// has, or `thresholds` do not fit a model that a row names.
    pub fn predict_ipc(
        &self,
        threads: usize,
        options: &PredictOptions,
        batch: Buffer,
    ) -> Result<Vec<u8>> {
        let batch = PredictBatch::from_ipc(batch)?;
        self.check(&batch, options)?;
        let rows = batch.num_rows();
        let chunks: Vec<Chunk> = pool::install(threads, || {
            (0..rows.div_ceil(CHUNK_ROWS))
                .into_par_iter()
                .map(|c| {
                    let range = c * CHUNK_ROWS..rows.min((c + 1) * CHUNK_ROWS);
                    let mut chunk = Chunk::with_capacity(range.len());
                    let mut x = Vec::with_capacity(batch.features.len());
                    for r in range {
                        chunk.push(&self.predict_row(&batch, r, &mut x, options));
                    }
                    chunk
                })
                .collect()
        })?;
        self.predictions_batch(chunks)
    }

    /// Predicts one row with model `index`: `[defined, prediction, nRaw, raw.., nProb, prob..]`
    /// (the layout `NativeApi.predictRow` documents).
    ///
    /// # Errors
    /// `Schema` for an index outside the set, an absent model, or a row of the wrong width.
    pub fn predict_one(&self, index: usize, x: &[f64]) -> Result<Vec<f64>> {
        let model = self.models.get(index).and_then(Option::as_ref).ok_or_else(|| {
            Error::schema(format!("no model at index {index} of the set of {}", self.len()))
        })?;
        let p = model.model.num_features();
        if x.len() != p {
            return Err(Error::schema(format!(
                "the model expects {p} features ({}), the row has {}",
                model.feature_names.join(", "),
                x.len()
            )));
        }
        let prediction = model.model.predict(x);
        let (raw, probability): (&[f64], &[f64]) = match &prediction {
            Prediction::Class { raw, probability, .. } => {
                (raw, probability.as_deref().unwrap_or(&[]))
            }
            _ => (&[], &[]),
        };
        let mut out = Vec::with_capacity(4 + raw.len() + probability.len());
        let value = prediction.value();
        out.extend([f64::from(u8::from(value.is_some())), value.unwrap_or(f64::NAN)]);
        out.push(raw.len() as f64);
        out.extend_from_slice(raw);
        out.push(probability.len() as f64);
        out.extend_from_slice(probability);
        Ok(out)
    }

    fn check(&self, batch: &PredictBatch, options: &PredictOptions) -> Result<()> {
        let p = batch.features.len();
        for i in batch.models.iter().flatten() {
            let model =
                usize::try_from(i).ok().and_then(|i| self.models.get(i)).ok_or_else(|| {
                    Error::schema(format!("model index {i} is outside the set of {}", self.len()))
                })?;
            if let Some(m) = model {
                options.check(i, m)?;
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

    fn predict_row(
        &self,
        batch: &PredictBatch,
        r: usize,
        x: &mut Vec<f64>,
        options: &PredictOptions,
    ) -> Prediction {
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
        options.apply(model.model.as_ref(), model.model.predict(x))
    }

    fn predictions_batch(&self, chunks: Vec<Chunk>) -> Result<Vec<u8>> {
        let prediction: Float64Array =
            chunks.iter().flat_map(|c| c.value.iter().copied()).collect();
        let mut columns: Vec<(&str, ArrayRef)> = vec![("prediction", Arc::new(prediction))];
        if self.has_classifier() {
            let (raw, probability): (Vec<_>, Vec<_>) =
                chunks.into_iter().map(|c| (c.raw, c.probability)).unzip();
            columns.push(("raw_prediction", Flat::concat(raw).into_list()?));
            columns.push(("probability", Flat::concat(probability).into_list()?));
        }
        write_stream(&record_batch(columns)?)
    }
}

/// Variable-length lists of doubles, flat: values, one end offset per list, validity.
#[derive(Default)]
struct Flat {
    values: Vec<f64>,
    ends: Vec<usize>,
    valid: Vec<bool>,
}

impl Flat {
    fn push(&mut self, v: Option<&[f64]>) {
        if let Some(v) = v {
            self.values.extend_from_slice(v);
        }
        self.ends.push(self.values.len());
        self.valid.push(v.is_some());
    }

    fn concat(parts: Vec<Flat>) -> Flat {
        let mut out = Flat::default();
        for p in parts {
            let base = out.values.len();
            out.values.extend_from_slice(&p.values);
            out.ends.extend(p.ends.iter().map(|e| e + base));
            out.valid.extend_from_slice(&p.valid);
        }
        out
    }

    fn into_list(self) -> Result<ArrayRef> {
        let offsets = std::iter::once(0)
            .chain(self.ends.iter().copied())
            .map(|e| {
                i32::try_from(e).map_err(|_| Error::schema("a predictions batch over 2^31 values"))
            })
            .collect::<Result<Vec<i32>>>()?;
        let field = Arc::new(Field::new_list_field(DataType::Float64, true));
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(offsets.into()),
            Arc::new(Float64Array::from(self.values)),
            Some(NullBuffer::from(self.valid)),
        )?))
    }
}

/// The predictions of consecutive rows, flat.
struct Chunk {
    value: Vec<Option<f64>>,
    raw: Flat,
    probability: Flat,
}

impl Chunk {
    fn with_capacity(n: usize) -> Self {
        Chunk { value: Vec::with_capacity(n), raw: Flat::default(), probability: Flat::default() }
    }

    fn push(&mut self, p: &Prediction) {
        self.value.push(p.value());
        let (raw, probability) = match p {
            Prediction::Class { raw, probability, .. } => (Some(&raw[..]), probability.as_deref()),
            _ => (None, None),
        };
        self.raw.push(raw);
        self.probability.push(probability);
    }
}
