//! Training batches built inside the tests: every role, nullable values, any row subset.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use arrow_buffer::Buffer;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};

use manyfold_core::batch::{role_field, Role};

/// The columns of a training batch; `None` leaves a role out. Names: `group`, `y`, `w`, `t`,
/// `fold`, `x0`, `x1`, ...
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Group indices; `None` means every row in group 0.
    pub group: Option<Vec<i32>>,
    pub label: Option<Vec<Option<f64>>>,
    pub weight: Option<Vec<Option<f64>>>,
    pub time: Option<Vec<Option<f64>>>,
    pub fold: Option<Vec<Option<i32>>>,
    pub features: Vec<Vec<Option<f64>>>,
}

pub fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

impl Columns {
    pub fn rows(&self) -> usize {
        self.features[0].len()
    }

    fn schema_and_columns(&self) -> (Arc<Schema>, Vec<ArrayRef>) {
        let n = self.rows();
        let mut fields: Vec<Field> = vec![role_field("group", DataType::Int32, false, Role::Group)];
        let mut cols: Vec<ArrayRef> =
            vec![Arc::new(Int32Array::from(self.group.clone().unwrap_or_else(|| vec![0; n])))];
        for (name, role, values) in [
            ("y", Role::Label, &self.label),
            ("w", Role::Weight, &self.weight),
            ("t", Role::Time, &self.time),
        ] {
            if let Some(v) = values {
                fields.push(role_field(name, DataType::Float64, true, role));
                cols.push(Arc::new(Float64Array::from(v.clone())));
            }
        }
        if let Some(f) = &self.fold {
            fields.push(role_field("fold", DataType::Int32, true, Role::Fold));
            cols.push(Arc::new(Int32Array::from(f.clone())));
        }
        for (j, x) in self.features.iter().enumerate() {
            fields.push(role_field(&format!("x{j}"), DataType::Float64, true, Role::Feature));
            cols.push(Arc::new(Float64Array::from(x.clone())));
        }
        (Arc::new(Schema::new(fields)), cols)
    }

    /// One IPC stream of one batch.
    pub fn ipc(&self) -> Vec<u8> {
        let (schema, cols) = self.schema_and_columns();
        let mut out = Vec::new();
        let mut w = StreamWriter::try_new(&mut out, &schema).unwrap();
        w.write(&RecordBatch::try_new(schema, cols).unwrap()).unwrap();
        w.finish().unwrap();
        drop(w);
        out
    }

    pub fn buffer(&self) -> Buffer {
        Buffer::from(self.ipc())
    }

    /// The rows `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Columns {
        fn pick<T: Clone>(v: &Option<Vec<T>>, rows: &[usize]) -> Option<Vec<T>> {
            v.as_ref().map(|v| rows.iter().map(|&r| v[r].clone()).collect())
        }
        Columns {
            group: pick(&self.group, rows),
            label: pick(&self.label, rows),
            weight: pick(&self.weight, rows),
            time: pick(&self.time, rows),
            fold: pick(&self.fold, rows),
            features: self.features.iter().map(|x| rows.iter().map(|&r| x[r]).collect()).collect(),
        }
    }

    /// The rows cut into `parts` chunks of consecutive rows, one IPC stream each.
    pub fn chunks(&self, parts: usize) -> Vec<Buffer> {
        let n = self.rows();
        (0..parts)
            .map(|i| {
                let rows: Vec<usize> = (i * n / parts..(i + 1) * n / parts).collect();
                self.select(&rows).buffer()
            })
            .collect()
    }
}
