//! Arrow IPC batches in and out. Columns are found by position and keep the user's names, so
//! that errors can name the column at fault. Layouts: docs/native-interface.md.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, RecordBatch};
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::Schema;

use crate::error::{Error, Result};

/// A decoded training batch: group index, label and feature columns.
#[derive(Debug)]
pub struct TrainBatch {
    pub groups: Int32Array,
    pub label: Float64Array,
    pub label_name: String,
    pub features: Vec<Float64Array>,
    pub feature_names: Vec<String>,
}

/// A decoded prediction batch: model index per row and the feature columns.
#[derive(Debug)]
pub struct PredictBatch {
    pub models: Int32Array,
    pub features: Vec<Float64Array>,
}

/// Reads every record batch of an IPC stream into one batch. The arrays share `buffer`'s memory
/// where it is aligned (always, for streams written by Arrow): no copy of the data is made, so a
/// batch of many groups costs its IPC bytes once, not twice.
///
/// # Errors
/// `Ipc` for bytes that are not a complete Arrow IPC stream.
pub fn read_stream(mut buffer: Buffer) -> Result<RecordBatch> {
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while !buffer.is_empty() {
        let before = buffer.len();
        if let Some(batch) = decoder.decode(&mut buffer)? {
            batches.push(batch);
        } else if buffer.len() == before {
            break;
        }
    }
    decoder.finish()?;
    let schema = decoder.schema().ok_or_else(|| Error::schema("the IPC stream has no schema"))?;
    // One batch is the usual case: take it as it is rather than pay for a copy.
    if batches.len() == 1 {
        return Ok(batches.remove(0));
    }
    Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
}

/// Writes one record batch as an IPC stream.
///
/// # Errors
/// `Ipc` if arrow cannot write it (it should always can for batches built here).
pub fn write_stream(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = StreamWriter::try_new(&mut out, batch.schema_ref())?;
        w.write(batch)?;
        w.finish()?;
    }
    Ok(out)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, i: usize, what: &str) -> Result<&'a T> {
    let field = batch.schema_ref().field(i).clone();
    batch.column(i).as_any().downcast_ref::<T>().ok_or_else(|| {
        Error::schema(format!(
            "column {i} ('{}') must be {what}, got {}",
            field.name(),
            field.data_type()
        ))
    })
}

fn float_columns(batch: &RecordBatch, from: usize) -> Result<(Vec<Float64Array>, Vec<String>)> {
    let mut cols = Vec::with_capacity(batch.num_columns().saturating_sub(from));
    let mut names = Vec::with_capacity(cols.capacity());
    for i in from..batch.num_columns() {
        cols.push(column::<Float64Array>(batch, i, "Float64")?.clone());
        names.push(batch.schema_ref().field(i).name().clone());
    }
    Ok((cols, names))
}

impl TrainBatch {
    /// Decodes a training batch: `group` Int32, label Float64, then feature Float64 columns.
    ///
    /// # Errors
    /// `Ipc` for unreadable bytes; `Schema` for missing columns or wrong types, a null or
    /// negative group index.
    pub fn from_ipc(bytes: Buffer) -> Result<Self> {
        let batch = read_stream(bytes)?;
        if batch.num_columns() < 3 {
            return Err(Error::schema(format!(
                "a training batch needs a group, a label and at least one feature column, got {} columns",
                batch.num_columns()
            )));
        }
        let groups = column::<Int32Array>(&batch, 0, "Int32 (the group index)")?.clone();
        // Group indices are 0..G-1 with G <= rows: anything else is a caller bug, and a huge
        // index must not make `rows_by_group` allocate for it.
        let n = groups.len();
        if groups.null_count() > 0 || groups.values().iter().any(|g| *g < 0 || *g as usize >= n) {
            return Err(Error::schema(
                "group index column has a null, negative or out-of-range (>= rows) value",
            ));
        }
        let label = column::<Float64Array>(&batch, 1, "Float64 (the label)")?.clone();
        let label_name = batch.schema_ref().field(1).name().clone();
        let (features, feature_names) = float_columns(&batch, 2)?;
        Ok(TrainBatch { groups, label, label_name, features, feature_names })
    }

    pub fn num_rows(&self) -> usize {
        self.groups.len()
    }

    /// Row indices of each group index `0..=max`, in input order. A group index with no rows
    /// gets an empty list (the caller skips it).
    pub fn rows_by_group(&self) -> Vec<Vec<u32>> {
        let max = self.groups.values().iter().copied().max().map_or(0, |m| m as usize + 1);
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); max];
        for (row, g) in self.groups.values().iter().enumerate() {
            out[*g as usize].push(row as u32);
        }
        out
    }
}

impl PredictBatch {
    /// Decodes a prediction batch: model index Int32 (nullable), then feature Float64 columns.
    ///
    /// # Errors
    /// `Ipc` for unreadable bytes; `Schema` for wrong types.
    pub fn from_ipc(bytes: Buffer) -> Result<Self> {
        let batch = read_stream(bytes)?;
        if batch.num_columns() < 1 {
            return Err(Error::schema("a prediction batch needs a model index column"));
        }
        let models = column::<Int32Array>(&batch, 0, "Int32 (the model index)")?.clone();
        let (features, _) = float_columns(&batch, 1)?;
        Ok(PredictBatch { models, features })
    }

    pub fn num_rows(&self) -> usize {
        self.models.len()
    }
}

/// Builds a record batch from named columns, every field nullable.
///
/// # Errors
/// `Ipc` if the columns differ in length.
pub fn record_batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let fields: Vec<_> = columns
        .iter()
        .map(|(name, a)| arrow_schema::Field::new(*name, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
