//! Arrow IPC batches in and out. Columns are found by their role, carried in each field's
//! metadata under [`ROLE_KEY`], never by position; field names are the user's column names, so
//! that errors can name the column at fault. Adding a role moves nothing. Layouts:
//! docs/native-interface.md.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, RecordBatch};
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};

use crate::algo::GroupData;
use crate::error::{Error, Result};

/// The field metadata key that names a column's role.
pub const ROLE_KEY: &str = "manyfold.role";

/// What a column of an input batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Int32, not null: the group index within the call (training).
    Group,
    /// Int32, nullable: the index into the model set (prediction).
    Model,
    /// Float64: the label.
    Label,
    /// Float64: the sample weight.
    Weight,
    /// Float64: a feature; features keep their order in the schema.
    Feature,
    /// Float64: a time value; the canonical row order sorts by it first.
    Time,
    /// Int32: a cross-validation fold.
    Fold,
}

impl Role {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "group" => Role::Group,
            "model" => Role::Model,
            "label" => Role::Label,
            "weight" => Role::Weight,
            "feature" => Role::Feature,
            "time" => Role::Time,
            "fold" => Role::Fold,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Group => "group",
            Role::Model => "model",
            Role::Label => "label",
            Role::Weight => "weight",
            Role::Feature => "feature",
            Role::Time => "time",
            Role::Fold => "fold",
        }
    }
}

/// A Float64 column and its (user) name.
#[derive(Debug, Clone)]
pub struct NamedColumn {
    pub name: String,
    pub values: Float64Array,
}

/// An Int32 fold column and its (user) name.
#[derive(Debug, Clone)]
pub struct NamedFoldColumn {
    pub name: String,
    pub values: Int32Array,
}

/// A decoded training batch: group index, optional label, weight and time, feature columns.
#[derive(Debug)]
pub struct TrainBatch {
    pub groups: Int32Array,
    pub label: Option<NamedColumn>,
    pub weight: Option<NamedColumn>,
    pub time: Option<NamedColumn>,
    pub fold: Option<NamedFoldColumn>,
    pub features: Vec<Float64Array>,
    pub feature_names: Vec<String>,
}

/// A decoded prediction batch: model index per row and the feature columns.
#[derive(Debug)]
pub struct PredictBatch {
    pub models: Int32Array,
    pub features: Vec<Float64Array>,
}

/// The columns of a batch by role, each checked for its type.
struct ByRole {
    batch: RecordBatch,
    roles: Vec<Role>,
}

impl ByRole {
    fn new(batch: RecordBatch, allowed: &[Role], what: &str) -> Result<Self> {
        let mut roles = Vec::with_capacity(batch.num_columns());
        for field in batch.schema_ref().fields() {
            let role = field.metadata().get(ROLE_KEY).ok_or_else(|| {
                Error::schema(format!("column '{}' of the {what} has no {ROLE_KEY}", field.name()))
            })?;
            let role = Role::parse(role).filter(|r| allowed.contains(r)).ok_or_else(|| {
                Error::schema(format!(
                    "column '{}' has role '{role}', which a {what} does not take",
                    field.name()
                ))
            })?;
            if role != Role::Feature && roles.contains(&role) {
                return Err(Error::schema(format!("the {what} has two {} columns", role.name())));
            }
            roles.push(role);
        }
        Ok(ByRole { batch, roles })
    }

    fn position(&self, role: Role) -> Option<usize> {
        self.roles.iter().position(|r| *r == role)
    }

    fn typed<T: Clone + 'static>(&self, i: usize, what: &str) -> Result<T> {
        let field = self.batch.schema_ref().field(i);
        self.batch.column(i).as_any().downcast_ref::<T>().cloned().ok_or_else(|| {
            Error::schema(format!(
                "column '{}' ({} role) must be {what}, got {}",
                field.name(),
                self.roles[i].name(),
                field.data_type()
            ))
        })
    }

    fn floats(&self, role: Role) -> Result<Option<NamedColumn>> {
        self.position(role)
            .map(|i| {
                Ok(NamedColumn {
                    name: self.batch.schema_ref().field(i).name().clone(),
                    values: self.typed::<Float64Array>(i, "Float64")?,
                })
            })
            .transpose()
    }

    fn ints(&self, role: Role) -> Result<Option<Int32Array>> {
        self.position(role).map(|i| self.typed::<Int32Array>(i, "Int32")).transpose()
    }

    fn name(&self, role: Role) -> Option<String> {
        self.position(role).map(|i| self.batch.schema_ref().field(i).name().clone())
    }

    fn features(&self) -> Result<(Vec<Float64Array>, Vec<String>)> {
        let mut cols = Vec::new();
        let mut names = Vec::new();
        for (i, role) in self.roles.iter().enumerate() {
            if *role == Role::Feature {
                cols.push(self.typed::<Float64Array>(i, "Float64")?);
                names.push(self.batch.schema_ref().field(i).name().clone());
            }
        }
        Ok((cols, names))
    }
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

impl TrainBatch {
    /// Decodes a training batch: a `group` column, `feature` columns (at least one), and
    /// optionally `label`, `weight`, `time` and `fold` columns, each found by its role.
    ///
    /// # Errors
    /// `Ipc` for unreadable bytes; `Schema` for a column without a role or of the wrong type, a
    /// missing group or feature column, a null or out-of-range group index.
    pub fn from_ipc(bytes: Buffer) -> Result<Self> {
        Self::from_ipc_with_groups(bytes, |rows| rows)
    }

    /// [`TrainBatch::from_ipc`] with group indices below `limit(rows)` rather than below the
    /// batch's rows (a chunk of a group buffer carries ids of the whole task).
    ///
    /// # Errors
    /// As [`TrainBatch::from_ipc`].
    pub fn from_ipc_with_groups(bytes: Buffer, limit: impl Fn(usize) -> usize) -> Result<Self> {
        let batch = read_stream(bytes)?;
        let limit = limit(batch.num_rows());
        Self::from_record_batch(batch, limit)
    }

    /// Decodes several IPC streams of one schema (the chunks of a search's data set) as one
    /// training batch, their rows one after another.
    ///
    /// # Errors
    /// As [`TrainBatch::from_ipc`]; `Schema` for no chunk at all or chunks whose schemas differ.
    pub fn from_ipc_chunks(chunks: Vec<Buffer>) -> Result<Self> {
        let batches = chunks.into_iter().map(read_stream).collect::<Result<Vec<_>>>()?;
        let first = batches.first().ok_or_else(|| Error::schema("the data set has no chunk"))?;
        let schema = first.schema();
        if let Some(i) = batches.iter().position(|b| b.schema() != schema) {
            return Err(Error::schema(format!(
                "chunk {i} of the data set has another schema than chunk 0"
            )));
        }
        let batch = if batches.len() == 1 {
            batches.into_iter().next().ok_or_else(|| Error::schema("no chunk"))?
        } else {
            arrow_select::concat::concat_batches(&schema, &batches)?
        };
        let rows = batch.num_rows();
        Self::from_record_batch(batch, rows)
    }

    fn from_record_batch(batch: RecordBatch, group_limit: usize) -> Result<Self> {
        use Role::*;
        let cols =
            ByRole::new(batch, &[Group, Label, Weight, Feature, Time, Fold], "training batch")?;
        let groups = cols
            .ints(Group)?
            .ok_or_else(|| Error::schema("a training batch needs a group column"))?;
        // Group indices are 0..G-1 with G <= rows (or the caller's limit): anything else is a
        // caller bug, and a huge index must not make `rows_by_group` allocate for it.
        let n = group_limit;
        if groups.null_count() > 0 || groups.values().iter().any(|g| *g < 0 || *g as usize >= n) {
            return Err(Error::schema(
                "group index column has a null, negative or out-of-range (>= rows) value",
            ));
        }
        let (features, feature_names) = cols.features()?;
        if features.is_empty() {
            return Err(Error::schema("a training batch needs at least one feature column"));
        }
        Ok(TrainBatch {
            groups,
            label: cols.floats(Label)?,
            weight: cols.floats(Weight)?,
            time: cols.floats(Time)?,
            fold: cols.ints(Fold)?.map(|values| NamedFoldColumn {
                name: cols.name(Fold).unwrap_or_default(),
                values,
            }),
            features,
            feature_names,
        })
    }

    pub fn num_rows(&self) -> usize {
        self.groups.len()
    }

    /// The feature columns as slices indexed by batch row (what a [`GroupData`] reads).
    pub fn feature_slices(&self) -> Vec<&[f64]> {
        self.features.iter().map(|c| &c.values()[..]).collect()
    }

    /// The rows `rows` (checked, in the order a fit must see them) as an algorithm's input, with
    /// no copy; `features` from [`TrainBatch::feature_slices`].
    pub fn view<'a>(&'a self, features: &'a [&'a [f64]], rows: &'a [u32]) -> GroupData<'a> {
        GroupData {
            features,
            feature_names: &self.feature_names,
            label: self.label.as_ref().map(|c| &c.values.values()[..]),
            weight: self.weight.as_ref().map(|c| &c.values.values()[..]),
            rows,
        }
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
    /// Decodes a prediction batch: a `model` index column (nullable) and `feature` columns.
    ///
    /// # Errors
    /// `Ipc` for unreadable bytes; `Schema` for a missing model column or wrong types.
    pub fn from_ipc(bytes: Buffer) -> Result<Self> {
        let cols =
            ByRole::new(read_stream(bytes)?, &[Role::Model, Role::Feature], "prediction batch")?;
        let models = cols
            .ints(Role::Model)?
            .ok_or_else(|| Error::schema("a prediction batch needs a model index column"))?;
        let (features, _) = cols.features()?;
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

/// A field of an input batch with its role in the metadata (what the Scala side writes; tests
/// and benchmarks build batches with it too).
pub fn role_field(name: &str, data_type: DataType, nullable: bool, role: Role) -> Field {
    Field::new(name, data_type, nullable).with_metadata(std::collections::HashMap::from([(
        ROLE_KEY.to_string(),
        role.name().to_string(),
    )]))
}
