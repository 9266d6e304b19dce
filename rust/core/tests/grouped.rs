//! Many groups in one call: the training and prediction batches end to end through IPC.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int32Array, ListArray, RecordBatch, StringArray,
};
use arrow_buffer::Buffer;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Schema};

use manyfold_core::algo::linear::Linear;
use manyfold_core::batch::{read_stream, role_field, Role};
use manyfold_core::model::StoredModel;
use manyfold_core::predict::{ModelSet, PredictOptions};
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};
use manyfold_core::Error;
use ndarray::{Array1, Array2};

const OPTIONS: TrainOptions = TrainOptions { threads: 2, max_rows_per_group: 1_000 };

/// Columns of a training batch: group indices, label, feature columns.
type Rows = (Vec<i32>, Vec<Option<f64>>, Vec<Vec<Option<f64>>>);

fn read_bytes(bytes: &[u8]) -> manyfold_core::Result<RecordBatch> {
    read_stream(Buffer::from_slice_ref(bytes))
}

fn ipc_buf(batches: &[Rows]) -> Buffer {
    Buffer::from(ipc(batches))
}

/// An IPC stream of one or more batches of (group, label, features...).
fn ipc(batches: &[Rows]) -> Vec<u8> {
    let p = batches[0].2.len();
    let mut fields = vec![
        role_field("group", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
    ];
    fields.extend(
        (0..p).map(|j| role_field(&format!("x{j}"), DataType::Float64, true, Role::Feature)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &schema).unwrap();
    for (g, y, xs) in batches {
        let mut cols: Vec<ArrayRef> =
            vec![Arc::new(Int32Array::from(g.clone())), Arc::new(Float64Array::from(y.clone()))];
        cols.extend(xs.iter().map(|x| Arc::new(Float64Array::from(x.clone())) as ArrayRef));
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    out
}

/// Group g: y = (g + 1) * x0 + 0.5 * x1 + 1 with a small deterministic wobble.
fn linear_rows(groups: &[i32], n: usize) -> Rows {
    let (mut g, mut y, mut x0, mut x1) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        for &grp in groups {
            let a = i as f64 / n as f64;
            let b = ((i * 7 + grp as usize * 3) % 11) as f64;
            let wobble = (((i * 13) % 5) as f64 - 2.0) * 1e-3;
            g.push(grp);
            x0.push(Some(a));
            x1.push(Some(b));
            y.push(Some((grp + 1) as f64 * a + 0.5 * b + 1.0 + wobble));
        }
    }
    (g, y, vec![x0, x1])
}

struct Results(RecordBatch);

impl Results {
    fn of(bytes: &[u8]) -> Self {
        Results(read_bytes(bytes).unwrap())
    }
    fn col<T: 'static>(&self, name: &str) -> &T {
        self.0.column_by_name(name).unwrap().as_any().downcast_ref::<T>().unwrap()
    }
    fn status(&self, i: usize) -> &str {
        self.col::<StringArray>("status").value(i)
    }
    fn error(&self, i: usize) -> &str {
        self.col::<StringArray>("error").value(i)
    }
    fn model(&self, i: usize) -> StoredModel {
        StoredModel::decode(self.col::<BinaryArray>("model").value(i)).unwrap()
    }
}

fn linear_trainer() -> Trainer {
    Trainer::new("linear", r#"{"regParam": 0.0}"#).unwrap()
}

#[test]
fn many_groups_train_in_one_call() {
    let out =
        train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[linear_rows(&[0, 1, 2], 50)])).unwrap();
    let r = Results::of(&out);
    assert_eq!(r.0.num_rows(), 3);
    for g in 0..3 {
        assert_eq!(r.col::<Int32Array>("group").value(g), g as i32);
        assert_eq!(r.status(g), "ok");
        assert_eq!(r.col::<arrow_array::Int64Array>("rows").value(g), 50);
        let stored = r.model(g);
        let m = stored.get::<Linear>().expect("a linear model");
        assert!((m.coefficients[0] - (g + 1) as f64).abs() < 0.01, "{m:?}");
        assert!((m.coefficients[1] - 0.5).abs() < 0.01, "{m:?}");
        assert!(r.col::<Float64Array>("r2").value(g) > 0.999);
        assert_eq!(r.model(g).feature_names, vec!["x0", "x1"]);
    }
}

#[test]
fn row_order_does_not_change_the_model_bytes() {
    let (g, y, xs) = linear_rows(&[0, 1], 40);
    let rev = |v: &Vec<Option<f64>>| v.iter().rev().copied().collect::<Vec<_>>();
    let reversed = (g.iter().rev().copied().collect(), rev(&y), xs.iter().map(rev).collect());
    let a = train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[(g, y, xs)])).unwrap();
    let b = train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[reversed])).unwrap();
    let (a, b) = (Results::of(&a), Results::of(&b));
    for i in 0..2 {
        let bytes = |r: &Results| r.col::<BinaryArray>("model").value(i).to_vec();
        assert_eq!(bytes(&a), bytes(&b));
    }
}

#[test]
fn a_stream_of_several_batches_is_one_call() {
    let first = linear_rows(&[0], 30);
    let second = linear_rows(&[1], 30);
    let out = train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[first, second])).unwrap();
    let r = Results::of(&out);
    assert_eq!(r.0.num_rows(), 2);
    assert_eq!((r.status(0), r.status(1)), ("ok", "ok"));
}

#[test]
fn bad_groups_fail_alone_naming_the_column() {
    let (mut g, mut y, mut xs) = linear_rows(&[0, 1, 2, 3, 4], 20);
    // rows are interleaved by group: row i*5 + grp
    xs[0][5 + 1] = Some(f64::NAN); // group 1: NaN in x0
    y[5 + 2] = None; // group 2: null label
    xs[1][10 + 3] = Some(f64::INFINITY); // group 3: infinity in x1
    xs[1][4] = None; // group 4: null in x1
    g.push(5); // group 5: a single row
    y.push(Some(1.0));
    xs[0].push(Some(1.0));
    xs[1].push(Some(2.0));
    let out = train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[(g, y, xs)])).unwrap();
    let r = Results::of(&out);
    assert_eq!(r.status(0), "ok");
    let expect = [
        (1, "'x0' has a NaN"),
        (2, "'y' has a null"),
        (3, "'x1' has an infinite"),
        (4, "'x1' has a null"),
    ];
    for (i, text) in expect {
        assert_eq!(r.status(i), "failed", "group {i}");
        assert!(r.error(i).contains(text), "group {i}: {}", r.error(i));
        assert!(r.col::<BinaryArray>("model").is_null(i));
        assert!(r.col::<Float64Array>("rmse").is_null(i));
    }
    assert_eq!(r.status(5), "failed");
    assert!(r.error(5).contains("row"), "{}", r.error(5));
}

#[test]
fn a_group_over_the_row_limit_fails() {
    let options = TrainOptions { max_rows_per_group: 10, ..OPTIONS };
    let (mut g, mut y, mut xs) = linear_rows(&[0], 11);
    let small = linear_rows(&[1], 10);
    g.extend(small.0);
    y.extend(small.1);
    xs[0].extend(small.2[0].clone());
    xs[1].extend(small.2[1].clone());
    let r = Results::of(&train_ipc(&linear_trainer(), options, ipc_buf(&[(g, y, xs)])).unwrap());
    assert_eq!(r.status(0), "failed");
    assert!(r.error(0).contains("maxRowsPerGroup=10"), "{}", r.error(0));
    assert_eq!(r.status(1), "ok");
}

#[test]
fn logistic_groups_report_classification_metrics_and_one_class_fails() {
    let (mut g, mut y, mut xs) = (vec![], vec![], vec![vec![]]);
    for i in 0..60 {
        let x = i as f64 / 10.0 - 3.0;
        g.extend([0, 1]);
        y.extend([
            Some(if (x + 0.3 * ((i % 3) as f64 - 1.0)) > 0.0 { 1.0 } else { 0.0 }),
            Some(1.0),
        ]);
        xs[0].extend([Some(x), Some(x)]);
    }
    let trainer = Trainer::new("logistic", r#"{"regParam": 0.01}"#).unwrap();
    let r = Results::of(&train_ipc(&trainer, OPTIONS, ipc_buf(&[(g, y, xs)])).unwrap());
    assert_eq!(r.status(0), "ok", "{:?}", r.0);
    assert!(r.col::<Float64Array>("accuracy").value(0) > 0.9);
    assert!(r.col::<Float64Array>("logLoss").value(0) > 0.0);
    assert!(r.0.column_by_name("rmse").is_none());
    assert_eq!(r.status(1), "failed");
    assert!(r.error(1).contains("one class"), "{}", r.error(1));
}

#[test]
fn call_level_errors_are_typed() {
    assert!(matches!(Trainer::new("forest", "{}"), Err(Error::InvalidParam { .. })));
    assert!(matches!(
        Trainer::new("linear", "{\"regParam\": -1}"),
        Err(Error::InvalidParam { .. })
    ));
    let e =
        train_ipc(&linear_trainer(), OPTIONS, Buffer::from_slice_ref(b"not arrow")).unwrap_err();
    assert!(matches!(e, Error::Ipc { .. }), "{e:?}");
    let (g, y, xs) = linear_rows(&[0], 5);
    let bad_group = (g.iter().map(|_| 99).collect(), y, xs);
    let e = train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[bad_group])).unwrap_err();
    assert!(matches!(e, Error::Schema { .. }), "{e:?}");
}

fn predict_batch(models: Vec<Option<i32>>, xs: Vec<Vec<Option<f64>>>) -> Vec<u8> {
    let mut fields = vec![role_field("model", DataType::Int32, true, Role::Model)];
    fields.extend(
        (0..xs.len()).map(|j| role_field(&format!("x{j}"), DataType::Float64, true, Role::Feature)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(models))];
    cols.extend(xs.into_iter().map(|x| Arc::new(Float64Array::from(x)) as ArrayRef));
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &schema).unwrap();
    w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    w.finish().unwrap();
    drop(w);
    out
}

#[test]
fn predictions_follow_each_rows_model_and_nulls_stay_null() {
    let r = Results::of(
        &train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[linear_rows(&[0, 1], 30)])).unwrap(),
    );
    let bytes: Vec<&[u8]> = (0..2).map(|i| r.col::<BinaryArray>("model").value(i)).collect();
    let set = ModelSet::decode(&[Some(bytes[0]), None, Some(bytes[1])]).unwrap();
    let batch = predict_batch(
        vec![Some(0), Some(2), None, Some(1), Some(0)],
        vec![vec![Some(0.5), Some(0.5), Some(0.5), Some(0.5), None], vec![Some(2.0); 5]],
    );
    let out =
        read_bytes(&set.predict_ipc(1, &PredictOptions::default(), batch.into()).unwrap()).unwrap();
    let pred = out.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    let (s0, s1) = (r.model(0), r.model(1));
    let (m0, m1) = (s0.get::<Linear>().unwrap(), s1.get::<Linear>().unwrap());
    assert_eq!(pred.value(0), m0.predict_row(&[0.5, 2.0]));
    assert_eq!(pred.value(1), m1.predict_row(&[0.5, 2.0]));
    assert!(pred.is_null(2) && pred.is_null(3) && pred.is_null(4));
    assert!(out.column_by_name("probability").is_none());
}

#[test]
fn classifier_predictions_carry_probability_lists() {
    let (mut g, mut y, mut xs) = (vec![], vec![], vec![vec![]]);
    for i in 0..40 {
        let x = i as f64 / 4.0 - 5.0;
        g.push(0);
        y.push(Some(if x + 0.7 * ((i % 3) as f64 - 1.0) > 0.0 { 1.0 } else { 0.0 }));
        xs[0].push(Some(x));
    }
    let trainer = Trainer::new("logistic", r#"{"regParam": 0.1}"#).unwrap();
    let r = Results::of(&train_ipc(&trainer, OPTIONS, ipc_buf(&[(g, y, xs)])).unwrap());
    let set = ModelSet::decode(&[Some(r.col::<BinaryArray>("model").value(0))]).unwrap();
    let batch = predict_batch(vec![Some(0), None], vec![vec![Some(4.0), Some(1.0)]]);
    let out =
        read_bytes(&set.predict_ipc(2, &PredictOptions::default(), batch.into()).unwrap()).unwrap();
    let pred = out.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(pred.value(0), 1.0);
    assert!(pred.is_null(1));
    let prob =
        out.column_by_name("probability").unwrap().as_any().downcast_ref::<ListArray>().unwrap();
    let p0 = prob.value(0);
    let p0 = p0.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(p0.len(), 2);
    assert!((p0.value(0) + p0.value(1) - 1.0).abs() < 1e-12);
    assert!(p0.value(1) > 0.5);
    assert!(prob.is_null(1));
}

#[test]
fn prediction_errors_are_clean() {
    let r = Results::of(
        &train_ipc(&linear_trainer(), OPTIONS, ipc_buf(&[linear_rows(&[0], 30)])).unwrap(),
    );
    let set = ModelSet::decode(&[Some(r.col::<BinaryArray>("model").value(0))]).unwrap();
    let wrong_width = predict_batch(vec![Some(0)], vec![vec![Some(1.0)]]);
    assert!(matches!(
        set.predict_ipc(1, &PredictOptions::default(), wrong_width.into()),
        Err(Error::Schema { .. })
    ));
    let out_of_set = predict_batch(vec![Some(3)], vec![vec![Some(1.0)], vec![Some(1.0)]]);
    assert!(matches!(
        set.predict_ipc(1, &PredictOptions::default(), out_of_set.into()),
        Err(Error::Schema { .. })
    ));
    let e = ModelSet::decode(&[Some(b"MNFD\x01garbage")]).unwrap_err();
    assert!(e.to_string().contains("model 0"), "{e}");
}

#[test]
fn weighted_groups_train_through_ipc_as_fit_weighted() {
    use manyfold_core::algo::linear::{fit_weighted, LinearParams};
    let (g, y, xs) = linear_rows(&[0, 1], 40);
    let w: Vec<f64> = (0..g.len()).map(|i| 0.5 + (i % 7) as f64).collect();
    let fields = vec![
        role_field("group", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
        role_field("w", DataType::Float64, true, Role::Weight),
        role_field("x0", DataType::Float64, true, Role::Feature),
        role_field("x1", DataType::Float64, true, Role::Feature),
    ];
    let schema = Arc::new(Schema::new(fields));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(g.clone())),
        Arc::new(Float64Array::from(y.clone())),
        Arc::new(Float64Array::from(w.clone())),
        Arc::new(Float64Array::from(xs[0].clone())),
        Arc::new(Float64Array::from(xs[1].clone())),
    ];
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, &schema).unwrap();
    writer.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    writer.finish().unwrap();
    drop(writer);
    let json = r#"{"regParam": 0.05, "elasticNetParam": 0.5, "tol": 1e-12, "maxIter": 10000}"#;
    let params: LinearParams = serde_json::from_str(json).unwrap();
    let trainer = Trainer::new("linear", json).unwrap();
    let r = Results::of(&train_ipc(&trainer, OPTIONS, Buffer::from(bytes)).unwrap());
    for grp in 0..2 {
        assert_eq!(r.status(grp as usize), "ok", "{}", r.error(grp as usize));
        let rows: Vec<usize> = (0..g.len()).filter(|&i| g[i] == grp).collect();
        let x = Array2::from_shape_fn((rows.len(), 2), |(i, j)| xs[j][rows[i]].unwrap());
        let yy: Array1<f64> = rows.iter().map(|&i| y[i].unwrap()).collect();
        let ww: Array1<f64> = rows.iter().map(|&i| w[i]).collect();
        let expected = fit_weighted(x.view(), yy.view(), Some(ww.view()), &params).unwrap();
        let stored = r.model(grp as usize);
        let m = stored.get::<Linear>().unwrap();
        for (a, e) in m.coefficients.iter().zip(&expected.coefficients) {
            assert!((a - e).abs() <= 1e-9 * e.abs().max(1e-3), "{m:?} vs {expected:?}");
        }
        assert!(r.col::<arrow_array::BooleanArray>("converged").value(grp as usize));
        assert!(r.col::<Int32Array>("iterations").value(grp as usize) > 0);
    }
}

#[test]
fn thresholds_pick_the_largest_p_over_t_and_must_fit_the_model() {
    let (mut g, mut y, mut xs) = (vec![], vec![], vec![vec![]]);
    for i in 0..40 {
        let x = i as f64 / 4.0 - 5.0;
        g.push(0);
        y.push(Some(if x + 0.7 * ((i % 3) as f64 - 1.0) > 0.0 { 3.0 } else { 1.0 }));
        xs[0].push(Some(x));
    }
    let trainer = Trainer::new("logistic", r#"{"regParam": 0.1}"#).unwrap();
    let r = Results::of(&train_ipc(&trainer, OPTIONS, ipc_buf(&[(g, y, xs)])).unwrap());
    let set = ModelSet::decode(&[Some(r.col::<BinaryArray>("model").value(0))]).unwrap();
    let rows: Vec<Option<f64>> = (0..21).map(|i| Some(i as f64 / 2.0 - 5.0)).collect();
    let predict = |options: &PredictOptions| {
        let batch = predict_batch(vec![Some(0); rows.len()], vec![rows.clone()]);
        read_bytes(&set.predict_ipc(1, options, batch.into()).unwrap()).unwrap()
    };
    let plain = predict(&PredictOptions::default());
    let skewed = PredictOptions::from_json(r#"{"thresholds": [0.9, 0.1]}"#).unwrap();
    let out = predict(&skewed);
    let (before, after) = (
        plain.column(0).as_any().downcast_ref::<Float64Array>().unwrap(),
        out.column(0).as_any().downcast_ref::<Float64Array>().unwrap(),
    );
    let prob = out.column_by_name("probability").unwrap();
    let prob = prob.as_any().downcast_ref::<ListArray>().unwrap();
    let mut moved = 0;
    for i in 0..rows.len() {
        let p = prob.value(i);
        let p = p.as_any().downcast_ref::<Float64Array>().unwrap();
        let expected = if p.value(0) / 0.9 >= p.value(1) / 0.1 { 1.0 } else { 3.0 };
        assert_eq!(after.value(i), expected, "row {i}");
        moved += usize::from(after.value(i) != before.value(i));
    }
    assert!(moved > 0, "a 0.9/0.1 split moves some rows to the second class");
    let three = PredictOptions::from_json(r#"{"thresholds": [0.2, 0.3, 0.5]}"#).unwrap();
    let batch = predict_batch(vec![Some(0)], vec![vec![Some(1.0)]]);
    let e = set.predict_ipc(1, &three, batch.into()).unwrap_err();
    assert!(e.to_string().contains("thresholds has 3 values but model 0 has 2 classes"), "{e}");
    for bad in
        [r#"{"thresholds": [-0.1, 1.1]}"#, r#"{"thresholds": [0, 0]}"#, r#"{"thresold": []}"#]
    {
        let e = PredictOptions::from_json(bad).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }), "{bad}: {e:?}");
    }
}

/// A training batch of (group, label, time, one feature) with the time column's role.
fn timed_batch(g: &[i32], y: &[f64], time: &[Option<f64>], x: &[f64]) -> Buffer {
    let fields = vec![
        role_field("group", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
        role_field("day", DataType::Float64, true, Role::Time),
        role_field("x", DataType::Float64, true, Role::Feature),
    ];
    let schema = Arc::new(Schema::new(fields));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(g.to_vec())),
        Arc::new(Float64Array::from(y.to_vec())),
        Arc::new(Float64Array::from(time.to_vec())),
        Arc::new(Float64Array::from(x.to_vec())),
    ];
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &schema).unwrap();
    w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    w.finish().unwrap();
    drop(w);
    Buffer::from(out)
}

#[test]
fn a_time_column_orders_rows_first_and_is_checked_like_the_others() {
    // Rows that tie on time are ordered by label then features; any arrival order gives the
    // same model bytes.
    let n = 30;
    let time: Vec<Option<f64>> = (0..n).map(|i| Some((i / 3) as f64)).collect();
    let x: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64).collect();
    let y: Vec<f64> = x.iter().zip(&time).map(|(x, t)| 2.0 * x + t.unwrap() * 0.1).collect();
    let g = vec![0; n];
    let rev = |v: &[f64]| v.iter().rev().copied().collect::<Vec<_>>();
    let time_rev: Vec<Option<f64>> = time.iter().rev().copied().collect();
    let a = train_ipc(&linear_trainer(), OPTIONS, timed_batch(&g, &y, &time, &x)).unwrap();
    let b = train_ipc(&linear_trainer(), OPTIONS, timed_batch(&g, &rev(&y), &time_rev, &rev(&x)))
        .unwrap();
    let (a, b) = (Results::of(&a), Results::of(&b));
    assert_eq!(a.status(0), "ok");
    assert_eq!(
        a.col::<BinaryArray>("model").value(0),
        b.col::<BinaryArray>("model").value(0),
        "the canonical order does not depend on arrival order"
    );
    let mut bad = time.clone();
    bad[4] = None;
    let r =
        Results::of(&train_ipc(&linear_trainer(), OPTIONS, timed_batch(&g, &y, &bad, &x)).unwrap());
    assert_eq!(r.status(0), "failed");
    assert!(r.error(0).contains("column 'day' has a null value"), "{}", r.error(0));
}
