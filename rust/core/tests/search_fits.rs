//! Running a search: fits against fitting by hand, failing parameter sets, fold models,
//! concurrent calls on one data set, and per-group search against `trainGroups`.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use arrow_array::{
    Array, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_buffer::Buffer;
use serde_json::{json, Value};

use common::batches::{some, Columns};
use manyfold_core::algo::Prediction;
use manyfold_core::batch::{read_stream, TrainBatch};
use manyfold_core::evaluate::{Evaluation, MetricSpec};
use manyfold_core::model::StoredModel;
use manyfold_core::search::{search_groups_ipc, SearchData};
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};
use manyfold_core::Error;

const OPTIONS: TrainOptions = TrainOptions { threads: 2, max_rows_per_group: 10_000 };

/// `n` rows of y = 2 x0 - x1 + 3 + wobble (label > 0), with weights; group `g` shifts the slope.
fn regression(n: usize, groups: usize) -> Columns {
    let (mut g, mut y, mut w, mut x0, mut x1) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        for grp in 0..groups {
            let a = ((i * 37 + grp * 11) % 101) as f64 / 50.0;
            let b = ((i * 17 + 5) % 23) as f64 / 23.0;
            let wobble = (((i * 13 + grp) % 7) as f64 - 3.0) * 0.05;
            g.push(grp as i32);
            x0.push(a);
            x1.push(b);
            y.push((2.0 + grp as f64) * a - b + 3.0 + wobble);
            w.push(1.0 + (i % 3) as f64);
        }
    }
    Columns {
        group: Some(g),
        label: Some(some(&y)),
        weight: Some(some(&w)),
        features: vec![some(&x0), some(&x1)],
        ..Default::default()
    }
}

/// Two overlapping classes 0 and 1 over two features.
fn binary(n: usize) -> Columns {
    let (mut y, mut x0, mut x1) = (vec![], vec![], vec![]);
    for i in 0..n {
        let class = (i % 2) as f64;
        let a = ((i * 29) % 31) as f64 / 31.0;
        let b = ((i * 7) % 13) as f64 / 13.0;
        y.push(class);
        x0.push(a + class * 0.6);
        x1.push(b - class * 0.3);
    }
    Columns { label: Some(some(&y)), features: vec![some(&x0), some(&x1)], ..Default::default() }
}

fn search(algorithm: &str, sets: Value, metric: Value, extra: Value) -> String {
    let mut s = json!({"algorithm": algorithm, "paramSets": sets, "metric": metric});
    if let Value::Object(m) = extra {
        s.as_object_mut().unwrap().extend(m);
    }
    s.to_string()
}

fn all_pairs(sets: usize, folds: usize) -> Vec<i32> {
    (0..sets).flat_map(|p| (0..folds).flat_map(move |f| [p as i32, f as i32])).collect()
}

struct Batch(RecordBatch);

impl Batch {
    fn of(bytes: &[u8]) -> Self {
        Batch(read_stream(Buffer::from_slice_ref(bytes)).unwrap())
    }
    fn col<T: 'static>(&self, name: &str) -> &T {
        self.0.column_by_name(name).unwrap().as_any().downcast_ref::<T>().unwrap()
    }
    fn len(&self) -> usize {
        self.0.num_rows()
    }
    fn status(&self, i: usize) -> &str {
        self.col::<StringArray>("status").value(i)
    }
    fn error(&self, i: usize) -> &str {
        self.col::<StringArray>("error").value(i)
    }
    fn metric(&self, name: &str, i: usize) -> Option<f64> {
        let c = self.col::<Float64Array>(name);
        c.is_valid(i).then(|| c.value(i))
    }
    fn int(&self, name: &str, i: usize) -> i32 {
        self.col::<Int32Array>(name).value(i)
    }
    fn model(&self, i: usize) -> Option<&[u8]> {
        let c = self.col::<BinaryArray>("model");
        c.is_valid(i).then(|| c.value(i))
    }
    /// Every column but the timings, for comparing two runs.
    fn without_timings(&self) -> Vec<String> {
        let schema = self.0.schema();
        schema
            .fields()
            .iter()
            .zip(self.0.columns())
            .filter(|(f, _)| !f.name().ends_with("_ms"))
            .map(|(f, c)| format!("{}: {:?}", f.name(), c))
            .collect()
    }
}

/// The metric of parameter set `params` on fold `fold` computed by hand: the trainer on the
/// training rows, prediction and the evaluation of the validation rows, outside the search.
fn by_hand(
    data: &SearchData,
    algorithm: &str,
    params: &Value,
    metric: &Value,
    fold: usize,
    thresholds: Option<&[f64]>,
) -> f64 {
    let batch: &TrainBatch = data.batch();
    let split = &data.splits()[fold];
    let trainer = Trainer::new(algorithm, &params.to_string()).unwrap();
    let features = batch.feature_slices();
    let model = trainer.fit(&batch.view(&features, &split.train)).unwrap();
    let spec = MetricSpec::from_json(metric).unwrap();
    let mut evaluation = Evaluation::new(&spec);
    let y = batch.label.as_ref().unwrap().values.values();
    let w = batch.weight.as_ref().filter(|_| spec.weighted).map(|c| c.values.values());
    for &r in &split.validation {
        let r = r as usize;
        let x: Vec<f64> = features.iter().map(|c| c[r]).collect();
        let mut p = model.predict(&x);
        if let (Some(t), Prediction::Class { label, probability: Some(prob), .. }) =
            (thresholds, &mut p)
        {
            let classes = model.classes().unwrap();
            let best = (0..t.len())
                .max_by(|&a, &b| (prob[a] / t[a]).total_cmp(&(prob[b] / t[b])).then(b.cmp(&a)))
                .unwrap();
            *label = classes[best];
        }
        evaluation.add(y[r], w.map_or(1.0, |w| w[r]), &p, model.classes());
    }
    evaluation.finish().unwrap()
}

#[test]
fn a_fits_metric_equals_fitting_by_hand() {
    let c = regression(60, 1);
    let data =
        SearchData::open(vec![c.buffer()], r#"{"kind": "kfold", "k": 3, "seed": 5}"#).unwrap();
    let sets = json!([{"regParam": 0.0}, {"regParam": 0.3, "elasticNetParam": 0.5}]);
    for metric in [json!({"name": "rmse"}), json!({"name": "r2", "weighted": true})] {
        let s = search("linear", sets.clone(), metric.clone(), json!({}));
        let out = Batch::of(&data.fits_ipc(&s, &all_pairs(2, 3), 2).unwrap());
        assert_eq!(out.len(), 6);
        for i in 0..6 {
            let (p, f) = (out.int("param", i) as usize, out.int("fold", i) as usize);
            assert_eq!((p, f), (i / 3, i % 3), "rows in the order of the pairs");
            assert_eq!(out.status(i), "ok", "{}", out.error(i));
            let want = by_hand(&data, "linear", &sets[p], &metric, f, None);
            assert_eq!(out.metric("metric", i), Some(want), "set {p} fold {f} {metric}");
            let split = &data.splits()[f];
            assert_eq!(out.col::<Int64Array>("train_rows").value(i), split.train.len() as i64);
            assert_eq!(
                out.col::<Int64Array>("validation_rows").value(i),
                split.validation.len() as i64
            );
            assert!(out.model(i).is_none(), "no models unless asked");
        }
    }
    // An independent check of the rmse: sqrt of the mean squared residual of the fold model.
    let s = search("linear", json!([{}]), json!({"name": "rmse"}), json!({"returnModels": true}));
    let out = Batch::of(&data.fits_ipc(&s, &[0, 1], 1).unwrap());
    let model = StoredModel::decode(out.model(0).unwrap()).unwrap();
    let split = &data.splits()[1];
    let b = data.batch();
    let y = b.label.as_ref().unwrap().values.values();
    let sq: f64 = split
        .validation
        .iter()
        .map(|&r| {
            let x: Vec<f64> = b.features.iter().map(|c| c.value(r as usize)).collect();
            (model.model.predict(&x).value().unwrap() - y[r as usize]).powi(2)
        })
        .sum();
    let rmse = (sq / split.validation.len() as f64).sqrt();
    assert!((out.metric("metric", 0).unwrap() - rmse).abs() <= 1e-12 * rmse, "{rmse}");
}

#[test]
fn thresholds_of_a_parameter_set_change_its_predictions() {
    let c = binary(80);
    let data =
        SearchData::open(vec![c.buffer()], r#"{"kind": "kfold", "k": 4, "seed": 1}"#).unwrap();
    let sets = json!([{}, {}, {}]);
    let options = json!([{}, {"thresholds": [1e-9, 1.0]}, {"thresholds": [0.5, 0.2, 0.3]}]);
    let metric = json!({"name": "accuracy"});
    let s = search("logistic", sets.clone(), metric.clone(), json!({"predictOptions": options}));
    let out = Batch::of(&data.fits_ipc(&s, &all_pairs(3, 4), 2).unwrap());
    let y = data.batch().label.as_ref().unwrap().values.values();
    for f in 0..4 {
        assert_eq!(
            out.metric("metric", f),
            Some(by_hand(&data, "logistic", &sets[0], &metric, f, None))
        );
        // A tiny threshold for class 0: every row is predicted 0.
        let v = &data.splits()[f].validation;
        let zeros = v.iter().filter(|&&r| y[r as usize] == 0.0).count() as f64 / v.len() as f64;
        assert_eq!(out.metric("metric", 4 + f), Some(zeros), "fold {f}");
        assert_eq!(
            out.metric("metric", 4 + f),
            Some(by_hand(&data, "logistic", &sets[1], &metric, f, Some(&[1e-9, 1.0])))
        );
        // Three thresholds for a two-class model: that set's fits fail, saying why.
        assert_eq!(out.status(8 + f), "failed");
        assert!(out.error(8 + f).contains("thresholds has 3 values"), "{}", out.error(8 + f));
    }
}

#[test]
fn a_failing_parameter_set_fails_its_rows_and_the_others_go_on() {
    // Labels below 0: poisson cannot fit them, gaussian can.
    let mut c = regression(40, 1);
    c.label = Some(c.label.unwrap().iter().map(|v| v.map(|v| v - 10.0)).collect());
    c.weight = None;
    let data =
        SearchData::open(vec![c.buffer()], r#"{"kind": "kfold", "k": 2, "seed": 5}"#).unwrap();
    let s = search(
        "glm",
        json!([{"family": "gaussian"}, {"family": "poisson"}]),
        json!({"name": "mae"}),
        json!({}),
    );
    let out = Batch::of(&data.fits_ipc(&s, &all_pairs(2, 2), 2).unwrap());
    for i in 0..2 {
        assert_eq!(out.status(i), "ok");
        assert!(out.col::<BooleanArray>("converged").is_valid(i), "glm reports convergence");
        assert_eq!(out.status(2 + i), "failed");
        assert!(out.metric("metric", 2 + i).is_none());
        assert!(!out.col::<BooleanArray>("converged").is_valid(2 + i));
        assert!(
            out.error(2 + i).contains("poisson") || out.error(2 + i).contains("label"),
            "{}",
            out.error(2 + i)
        );
    }
}

#[test]
fn fold_models_come_back_only_when_asked_and_equal_training_the_fold() {
    let c = regression(45, 1);
    let data =
        SearchData::open(vec![c.buffer()], r#"{"kind": "kfold", "k": 3, "seed": 8}"#).unwrap();
    let params = json!({"regParam": 0.1});
    let s =
        search("linear", json!([params]), json!({"name": "rmse"}), json!({"returnModels": true}));
    let out = Batch::of(&data.fits_ipc(&s, &[0, 2, 0, 0], 1).unwrap());
    assert_eq!((out.int("fold", 0), out.int("fold", 1)), (2, 0));
    for (i, fold) in [(0, 2), (1, 0)] {
        let train = &data.splits()[fold].train;
        let rows: Vec<usize> = train.iter().map(|&r| r as usize).collect();
        let fold_batch = c.select(&rows);
        let trained = Batch::of(
            &train_ipc(
                &Trainer::new("linear", &params.to_string()).unwrap(),
                OPTIONS,
                fold_batch.buffer(),
            )
            .unwrap(),
        );
        assert_eq!(out.model(i), trained.model(0), "fold {fold}");
    }
}

#[test]
fn bad_fit_lists_and_searches_are_refused() {
    let data =
        SearchData::open(vec![regression(20, 1).buffer()], r#"{"kind": "kfold", "k": 2}"#).unwrap();
    let s = search("linear", json!([{}]), json!({"name": "rmse"}), json!({}));
    let param = |r: manyfold_core::Result<Vec<u8>>, name: &str, fragment: &str| {
        let e = r.unwrap_err();
        assert!(matches!(&e, Error::InvalidParam { name: n, .. } if n == name), "{e:?}");
        assert!(e.to_string().contains(fragment), "{e}");
    };
    param(data.fits_ipc(&s, &[0, 2], 1), "fits", "fold 2");
    param(data.fits_ipc(&s, &[1, 0], 1), "fits", "parameter set 1");
    param(data.fits_ipc(&s, &[0, 0, 1], 1), "fits", "pairs");
    param(data.fits_ipc(&s, &[0, -1], 1), "fits", "negative");
    let bad_set =
        search("linear", json!([{}, {"regParam": -1}]), json!({"name": "rmse"}), json!({}));
    param(data.fits_ipc(&bad_set, &[0, 0], 1), "regParam of parameter set 1", "-1");
    let unknown = search("linear", json!([{"regParm": 1}]), json!({"name": "rmse"}), json!({}));
    param(data.fits_ipc(&unknown, &[0, 0], 1), "params of parameter set 0", "regParm");
    let options =
        search("linear", json!([{}]), json!({"name": "rmse"}), json!({"predictOptions": [{}, {}]}));
    param(data.fits_ipc(&options, &[0, 0], 1), "predictOptions", "one object per parameter set");
    let bad_thresholds = search(
        "logistic",
        json!([{}, {}]),
        json!({"name": "accuracy"}),
        json!({"predictOptions": [{}, {"thresholds": [-1, 1]}]}),
    );
    param(data.fits_ipc(&bad_thresholds, &[0, 0], 1), "thresholds of parameter set 1", "-1");
    param(
        data.fits_ipc(
            &search("svm-light", json!([{}]), json!({"name": "rmse"}), json!({})),
            &[0, 0],
            1,
        ),
        "algorithm",
        "svm-light",
    );
    param(
        data.fits_ipc(&search("linear", json!([]), json!({"name": "rmse"}), json!({})), &[0, 0], 1),
        "paramSets",
        "non-empty",
    );
    param(
        data.fits_ipc(
            &search("linear", json!([{}]), json!({"name": "accuracy"}), json!({})),
            &[0, 0],
            1,
        ),
        "metricName",
        "regressor",
    );
    param(
        data.fits_ipc(
            &search("kmeans", json!([{}]), json!({"name": "rmse"}), json!({})),
            &[0, 0],
            1,
        ),
        "metricName",
        "clustering",
    );
    param(
        data.fits_ipc(
            &search("linear", json!([{}]), json!({"name": "rmse"}), json!({"extra": 1})),
            &[0, 0],
            1,
        ),
        "search",
        "extra",
    );
    param(data.fits_ipc("[1, 2]", &[0, 0], 1), "search", "object");
    // A data set without a label cannot be searched by a supervised algorithm.
    let mut unlabelled = regression(20, 1);
    unlabelled.label = None;
    let data = SearchData::open(vec![unlabelled.buffer()], r#"{"kind": "kfold", "k": 2}"#).unwrap();
    let e = data.fits_ipc(&s, &[0, 0], 1).unwrap_err();
    assert!(matches!(e, Error::Schema { .. }) && e.to_string().contains("label"), "{e:?}");
}

#[test]
fn concurrent_calls_on_one_data_set_equal_serial_ones() {
    let c = binary(120);
    let data = Arc::new(
        SearchData::open(
            c.chunks(4),
            r#"{"kind": "kfold", "k": 5, "seed": 2, "stratified": true}"#,
        )
        .unwrap(),
    );
    let s = search(
        "logistic",
        json!([{"regParam": 0.0}, {"regParam": 0.1}, {"regParam": 1.0}]),
        json!({"name": "areaUnderROC"}),
        json!({"returnModels": true}),
    );
    let pairs = all_pairs(3, 5);
    let serial = Batch::of(&data.fits_ipc(&s, &pairs, 1).unwrap()).without_timings();
    assert!(serial.iter().any(|c| c.starts_with("status") && !c.contains("failed")));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (data, s, pairs) = (Arc::clone(&data), s.clone(), pairs.clone());
            std::thread::spawn(move || {
                Batch::of(&data.fits_ipc(&s, &pairs, 1 + t % 2).unwrap()).without_timings()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), serial);
    }
}

/// The rows of group `g` of `c` as a data set of their own.
fn group_rows(c: &Columns, g: i32) -> Vec<usize> {
    c.group.as_ref().unwrap().iter().enumerate().filter(|(_, x)| **x == g).map(|(i, _)| i).collect()
}

#[test]
fn per_group_search_picks_the_best_mean_and_refits_as_train_groups() {
    let mut c = regression(40, 3);
    // Group 2's labels are below 0: neither poisson nor gamma can fit them.
    let groups = c.group.clone().unwrap();
    c.label = Some(
        c.label
            .unwrap()
            .iter()
            .zip(&groups)
            .map(|(v, g)| v.map(|v| if *g == 2 { -v } else { v }))
            .collect(),
    );
    let sets =
        json!([{"family": "poisson"}, {"family": "gamma"}, {"family": "poisson", "regParam": 0.5}]);
    let folds = r#"{"kind": "kfold", "k": 3, "seed": 4}"#;
    for metric in [json!({"name": "rmse", "weighted": true}), json!({"name": "r2"})] {
        let s = search("glm", sets.clone(), metric.clone(), json!({}));
        let out = Batch::of(&search_groups_ipc(&s, folds, OPTIONS, c.buffer()).unwrap());
        assert_eq!(out.len(), 3);
        let larger = MetricSpec::from_json(&metric).unwrap().larger_is_better();
        for g in 0..2 {
            assert_eq!(out.status(g), "ok", "{}", out.error(g));
            // The group alone as a search: its folds are the group's folds.
            let alone = c.select(&group_rows(&c, g as i32));
            let data = SearchData::open(vec![alone.buffer()], folds).unwrap();
            let fits = Batch::of(&data.fits_ipc(&s, &all_pairs(3, 3), 1).unwrap());
            let means: Vec<f64> = (0..3)
                .map(|p| {
                    (0..3).map(|f| fits.metric("metric", p * 3 + f).unwrap()).sum::<f64>() / 3.0
                })
                .collect();
            let mut best = 0;
            for p in 1..3 {
                if (larger && means[p] > means[best]) || (!larger && means[p] < means[best]) {
                    best = p;
                }
            }
            assert_eq!(out.int("best_param", g), best as i32, "group {g} {metric}: {means:?}");
            assert_eq!(out.metric("best_metric", g), Some(means[best]));
            // The refit: what trainGroups gives for the group with the best params.
            let trainer = Trainer::new("glm", &sets[best].to_string()).unwrap();
            let trained = Batch::of(&train_ipc(&trainer, OPTIONS, alone.buffer()).unwrap());
            assert_eq!(out.model(g), trained.model(0), "group {g}");
            for m in ["rmse", "r2"] {
                assert_eq!(out.metric(m, g), trained.metric(m, 0), "group {g} {m}");
            }
            assert_eq!(out.col::<Int64Array>("rows").value(g), 40);
        }
        assert_eq!(out.status(2), "failed");
        assert!(out.error(2).starts_with("every parameter set failed"), "{}", out.error(2));
        assert!(out.error(2).contains("parameter set 0 on fold 0"), "{}", out.error(2));
        assert!(out.model(2).is_none() && !out.col::<Int32Array>("best_param").is_valid(2));
        assert!(out.metric("best_metric", 2).is_none());
    }
}

#[test]
fn a_group_whose_folds_cannot_be_cut_fails_alone() {
    // Group 0: 30 distinct days; group 1: 30 rows over 3 days.
    let mut c = regression(30, 2);
    let groups = c.group.clone().unwrap();
    let mut day = [0usize; 2];
    let t: Vec<f64> = groups
        .iter()
        .map(|&g| {
            let g = g as usize;
            day[g] += 1;
            // Group 0's days in another order than its labels'.
            if g == 0 {
                ((day[0] * 7) % 30) as f64
            } else {
                (day[1] % 3) as f64
            }
        })
        .collect();
    c.time = Some(some(&t));
    let s = search("linear", json!([{}, {"regParam": 1.0}]), json!({"name": "mse"}), json!({}));
    let folds = r#"{"kind": "timeSeries", "nSplits": 3, "testSize": 5}"#;
    let out = Batch::of(&search_groups_ipc(&s, folds, OPTIONS, c.buffer()).unwrap());
    assert_eq!((out.status(0), out.status(1)), ("ok", "failed"), "{}", out.error(0));
    // The refit is the estimator's fit of the group, which never sees the time column.
    let mut alone = c.select(&group_rows(&c, 0));
    alone.time = None;
    let best = Trainer::new(
        "linear",
        &json!([{}, {"regParam": 1.0}])[out.int("best_param", 0) as usize].to_string(),
    )
    .unwrap();
    let trained = Batch::of(&train_ipc(&best, OPTIONS, alone.buffer()).unwrap());
    assert_eq!(out.model(0), trained.model(0));
    assert!(
        out.error(1).contains("there are 3") && out.error(1).contains("'t'"),
        "{}",
        out.error(1)
    );
    // Bad values and too many rows fail a group as trainGroups does.
    let mut bad = regression(20, 2);
    bad.features[1][1] = Some(f64::NAN); // row 1 is group 1's
    let out = Batch::of(
        &search_groups_ipc(&s, r#"{"kind": "kfold", "k": 2}"#, OPTIONS, bad.buffer()).unwrap(),
    );
    assert_eq!(out.status(0), "ok");
    assert!(out.error(1).contains("'x1'") && out.error(1).contains("NaN"), "{}", out.error(1));
    let small = TrainOptions { threads: 1, max_rows_per_group: 19 };
    let out = Batch::of(
        &search_groups_ipc(&s, r#"{"kind": "kfold", "k": 2}"#, small, regression(20, 1).buffer())
            .unwrap(),
    );
    assert!(out.error(0).contains("maxRowsPerGroup=19"), "{}", out.error(0));
    // Call-level errors stay call-level.
    let e = search_groups_ipc(&s, r#"{"kind": "kfold", "k": 1}"#, OPTIONS, c.buffer()).unwrap_err();
    assert!(matches!(&e, Error::InvalidParam { name, .. } if name == "k"), "{e:?}");
}
