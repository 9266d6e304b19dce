//! Every registered algorithm, walked through the generic machinery: its defaults parse back,
//! it trains on data of its task through the IPC path, its model bytes round-trip exactly and
//! deterministically, garbage and other algorithms' bytes are clean errors, and a saved model of
//! the current format version (tests/fixtures/models/v<N>-<name>.mnfd) keeps loading.
//!
//! A new algorithm fails `every_algorithm_has_a_fixture_of_the_current_format` until its fixture
//! is written once: `MANYFOLD_WRITE_FIXTURES=1 cargo test -p manyfold-core --test registry`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int32Array, RecordBatch, StringArray,
};
use arrow_buffer::Buffer;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Schema};

use manyfold_core::algo::Task;
use manyfold_core::batch::{read_stream, role_field, Role};
use manyfold_core::model::{StoredModel, FORMAT_VERSION};
use manyfold_core::registry::{self, DynAlgorithm};
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};
use manyfold_core::Error;

const OPTIONS: TrainOptions = TrainOptions { threads: 1, max_rows_per_group: 10_000 };

/// 90 rows, 3 features, a label that suits the task (a noisy linear value, three classes, or
/// none), deterministic.
fn batch_for(task: Task) -> Vec<u8> {
    let n = 90;
    let x: Vec<Vec<f64>> = (0..3)
        .map(|j| (0..n).map(|i| ((i * (j + 3) + 7 * j) % 17) as f64 / 4.0 - 2.0).collect())
        .collect();
    let mut fields = vec![role_field("group", DataType::Int32, false, Role::Group)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![0; n]))];
    if task.supervised() {
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let v =
                    1.0 + 2.0 * x[0][i] - x[1][i] + 0.5 * x[2][i] + ((i % 5) as f64 - 2.0) * 0.3;
                match task {
                    Task::Classification => f64::from(u8::from(v > 0.0) + u8::from(v > 3.0)),
                    _ => v.abs() + 0.5,
                }
            })
            .collect();
        fields.push(role_field("y", DataType::Float64, true, Role::Label));
        cols.push(Arc::new(Float64Array::from(y)));
    }
    for (j, col) in x.into_iter().enumerate() {
        fields.push(role_field(&format!("x{j}"), DataType::Float64, true, Role::Feature));
        cols.push(Arc::new(Float64Array::from(col)));
    }
    let schema = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &schema).unwrap();
    w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    w.finish().unwrap();
    drop(w);
    out
}

/// Trains one group with default params; returns the model bytes.
fn train_default(a: &dyn DynAlgorithm) -> Vec<u8> {
    let trainer = Trainer::new(a.name(), "{}").unwrap();
    let out = train_ipc(&trainer, OPTIONS, Buffer::from(batch_for(a.task()))).unwrap();
    let r = read_stream(Buffer::from(out)).unwrap();
    let col = |name: &str| r.column_by_name(name).unwrap_or_else(|| panic!("{name} missing"));
    let status = col("status").as_any().downcast_ref::<StringArray>().unwrap();
    let error = col("error").as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(status.value(0), "ok", "{}: {:?}", a.name(), error.value(0));
    for m in a.task().metrics() {
        assert!(col(m).as_any().downcast_ref::<Float64Array>().is_some(), "{}: {m}", a.name());
    }
    let converged = col("converged");
    assert_eq!(converged.is_null(0), !a.iterative(), "{}: converged column", a.name());
    col("model").as_any().downcast_ref::<BinaryArray>().unwrap().value(0).to_vec()
}

fn fixture(a: &dyn DynAlgorithm) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models")
        .join(format!("v{FORMAT_VERSION}-{}.mnfd", a.name()))
}

#[test]
fn defaults_parse_back_and_are_accepted() {
    for a in registry::all() {
        let defaults = a.default_params().unwrap();
        assert!(defaults.is_object(), "{}", a.name());
        a.trainer(&defaults.to_string()).unwrap_or_else(|e| panic!("{}: {e}", a.name()));
        let e = a.trainer(r#"{"noSuchParam": 1}"#).err().unwrap();
        assert!(matches!(e, Error::InvalidParam { .. }), "{}: {e:?}", a.name());
    }
    let all: serde_json::Value = serde_json::from_str(&registry::describe_all().unwrap()).unwrap();
    assert_eq!(all.as_array().unwrap().len(), registry::all().len());
}

#[test]
fn every_algorithm_trains_and_its_bytes_round_trip() {
    for a in registry::all() {
        let bytes = train_default(*a);
        assert_eq!(bytes, train_default(*a), "{}: training is deterministic", a.name());
        let decoded = StoredModel::decode(&bytes).unwrap();
        assert_eq!(decoded.model.algorithm(), a.name());
        assert_eq!(decoded.feature_names, vec!["x0", "x1", "x2"]);
        assert_eq!(decoded.encode().unwrap(), bytes, "{}: re-encoding", a.name());
        let described: serde_json::Value =
            serde_json::from_str(&manyfold_core::describe::describe(&decoded).unwrap()).unwrap();
        assert_eq!(described["algorithm"], a.name());
        assert_eq!(described["task"], a.task().name());
    }
}

#[test]
fn garbage_and_corrupt_payloads_are_clean_errors() {
    for a in registry::all() {
        for payload in [&b""[..], b"{}", b"[1,2]", b"{\"featureNames\":[\"a\"],\"model\":{}}"] {
            let e = a.decode(payload).err().unwrap();
            assert!(matches!(e, Error::Model { .. }), "{}: {e:?}", a.name());
        }
        let bytes = train_default(*a);
        // Another algorithm's code on this payload: a clean error, never a misread model.
        for other in registry::all().iter().filter(|o| o.code() != a.code()) {
            let mut b = bytes.clone();
            b[6] = other.code();
            let e = StoredModel::decode(&b).unwrap_err();
            assert!(matches!(e, Error::Model { .. }), "{} as {}: {e:?}", a.name(), other.name());
        }
    }
}

#[test]
fn every_algorithm_has_a_fixture_of_the_current_format() {
    for a in registry::all() {
        let path = fixture(*a);
        if std::env::var_os("MANYFOLD_WRITE_FIXTURES").is_some() && !path.exists() {
            std::fs::write(&path, train_default(*a)).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; write it once with MANYFOLD_WRITE_FIXTURES=1", path.display())
        });
        let decoded = StoredModel::decode(&bytes).unwrap();
        assert_eq!(decoded.model.algorithm(), a.name());
        assert_eq!(decoded.encode().unwrap(), bytes, "{}", path.display());
    }
}
