//! A search's data set and folds: time-series folds against scikit-learn's TimeSeriesSplit
//! (tests/reference/make_search_fixtures.py), k-fold, fold column and train/validation
//! properties, `describeSplits`, and every bad input of `openSearchData`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::batches::{some, Columns};
use manyfold_core::rng::Rng;
use manyfold_core::search::{SearchData, Split};
use manyfold_core::Error;
use serde_json::Value;

/// `n` rows: x0 the row's id (its content key), label `row % classes` (or by `class_of`).
fn labelled(n: usize, class_of: impl Fn(usize) -> f64) -> Columns {
    let ids: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let y: Vec<f64> = (0..n).map(class_of).collect();
    Columns { label: Some(some(&y)), features: vec![some(&ids)], ..Default::default() }
}

fn open(c: &Columns, folds: &str) -> manyfold_core::Result<SearchData> {
    SearchData::open(vec![c.buffer()], folds)
}

/// Each split's sides as sets of row ids (x0).
fn by_id(data: &SearchData) -> Vec<(BTreeSet<u64>, BTreeSet<u64>)> {
    let x = data.batch().features[0].values();
    let ids = |rows: &[u32]| rows.iter().map(|&r| x[r as usize] as u64).collect::<BTreeSet<_>>();
    data.splits().iter().map(|s| (ids(&s.train), ids(&s.validation))).collect()
}

fn error_text(r: manyfold_core::Result<SearchData>) -> (Error, String) {
    let e = r.expect_err("must fail");
    let text = e.to_string();
    (e, text)
}

fn assert_param(r: manyfold_core::Result<SearchData>, name: &str, fragments: &[&str]) {
    let (e, text) = error_text(r);
    assert!(matches!(&e, Error::InvalidParam { name: n, .. } if n == name), "{e:?}");
    for f in fragments {
        assert!(text.contains(f), "'{f}' missing from: {text}");
    }
}

fn assert_kind(r: manyfold_core::Result<SearchData>, schema: bool, fragments: &[&str]) {
    let (e, text) = error_text(r);
    if schema {
        assert!(matches!(e, Error::Schema { .. }), "{e:?}");
    } else {
        assert!(matches!(e, Error::Data { .. }), "{e:?}");
    }
    for f in fragments {
        assert!(text.contains(f), "'{f}' missing from: {text}");
    }
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    order
}

#[test]
fn time_series_folds_are_scikit_learns_on_the_distinct_times() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/search/time_series_splits.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut compared, mut refused) = (0, 0);
    for case in doc["cases"].as_array().unwrap() {
        let get = |k: &str| case[k].as_u64().unwrap() as usize;
        let (n, repeats) = (get("distinctTimes"), get("repeats"));
        let time_of = |d: usize| 100.0 + 2.5 * d as f64;
        // Rows of every time value, delivered in a shuffled order.
        let rows = n * repeats;
        let order = shuffled(rows, 7);
        let t: Vec<f64> = order.iter().map(|&i| time_of(i / repeats)).collect();
        let ids: Vec<f64> = order.iter().map(|&i| i as f64).collect();
        let y: Vec<f64> = order.iter().map(|&i| (i % 3) as f64).collect();
        let c = Columns {
            label: Some(some(&y)),
            time: Some(some(&t)),
            features: vec![some(&ids)],
            ..Default::default()
        };
        let folds = format!(
            r#"{{"kind": "timeSeries", "nSplits": {}, "testSize": {}, "gap": {}, "maxTrainSize": {}}}"#,
            case["nSplits"], case["testSize"], case["gap"], case["maxTrainSize"]
        );
        let opened = open(&c, &folds);
        if let Some(sk) = case["error"].as_str() {
            refused += 1;
            let (e, text) = error_text(opened);
            assert!(matches!(&e, Error::InvalidParam { name, .. } if name == "nSplits"), "{e:?}");
            if get("nSplits") >= 2 {
                let there = format!("there are {n}");
                assert!(text.contains(&there) && text.contains("need at least"), "{text} ({sk})");
            }
            continue;
        }
        let data = opened.unwrap();
        let expected = case["splits"].as_array().unwrap();
        assert_eq!(data.splits().len(), expected.len(), "{folds}");
        let distinct = |rows: &[u32]| -> Vec<usize> {
            let tv = data.batch().time.as_ref().unwrap().values.values();
            let set: BTreeSet<usize> =
                rows.iter().map(|&r| ((tv[r as usize] - 100.0) / 2.5).round() as usize).collect();
            set.into_iter().collect()
        };
        for (s, (split, want)) in data.splits().iter().zip(expected).enumerate() {
            for (side, rows, key) in
                [("train", &split.train, "train"), ("validation", &split.validation, "test")]
            {
                let range = want[key].as_array().unwrap();
                let (a, b) =
                    (range[0].as_u64().unwrap() as usize, range[1].as_u64().unwrap() as usize);
                assert_eq!(distinct(rows), (a..b).collect::<Vec<_>>(), "{folds} split {s} {side}");
                // Every row of each of those times is on this side.
                assert_eq!(rows.len(), (b - a) * repeats, "{folds} split {s} {side}");
            }
            compared += 1;
        }
        // describeSplits reports the same boundaries, as times.
        let described: Value = serde_json::from_str(&data.describe_splits()).unwrap();
        for (d, want) in described.as_array().unwrap().iter().zip(expected) {
            let bound = |key: &str, i: usize| want[key][i].as_u64().unwrap() as usize;
            assert_eq!(d["validationTimeMin"].as_f64(), Some(time_of(bound("test", 0))));
            assert_eq!(d["validationTimeMax"].as_f64(), Some(time_of(bound("test", 1) - 1)));
            assert_eq!(d["trainTimeMin"].as_f64(), Some(time_of(bound("train", 0))));
            assert_eq!(d["trainTimeMax"].as_f64(), Some(time_of(bound("train", 1) - 1)));
        }
    }
    assert!(compared >= 30 && refused >= 4, "{compared} splits compared, {refused} refusals");
}

#[test]
fn k_folds_partition_the_rows_in_sizes_within_one() {
    for (n, k) in [(10, 3), (11, 4), (100, 5), (7, 7)] {
        let data = open(
            &labelled(n, |i| (i % 2) as f64),
            &format!(r#"{{"kind": "kfold", "k": {k}, "seed": 3}}"#),
        )
        .unwrap();
        let splits = by_id(&data);
        assert_eq!(splits.len(), k);
        let sizes: Vec<usize> = splits.iter().map(|(_, v)| v.len()).collect();
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(hi - lo <= 1, "n {n} k {k}: {sizes:?}");
        let mut seen = BTreeMap::new();
        for (train, validation) in &splits {
            for id in validation {
                *seen.entry(*id).or_insert(0) += 1;
            }
            assert!(train.is_disjoint(validation));
            assert_eq!(train.len() + validation.len(), n);
        }
        assert_eq!(seen.len(), n, "every row validated");
        assert!(seen.values().all(|c| *c == 1), "in exactly one fold");
    }
}

#[test]
fn both_sides_keep_the_canonical_order() {
    let c = labelled(40, |i| (i % 3) as f64).select(&shuffled(40, 1));
    let data = open(&c, r#"{"kind": "kfold", "k": 4, "seed": 9}"#).unwrap();
    let position: BTreeMap<u32, usize> =
        data.order().iter().enumerate().map(|(p, &r)| (r, p)).collect();
    for Split { train, validation } in data.splits() {
        for side in [train, validation] {
            assert!(side.windows(2).all(|w| position[&w[0]] < position[&w[1]]));
        }
    }
}

#[test]
fn stratified_folds_hold_each_class_in_proportion() {
    // 30 of class 0, 12 of class 1, 5 of class 2.
    let class_of = |i: usize| {
        if i < 30 {
            0.0
        } else if i < 42 {
            1.0
        } else {
            2.0
        }
    };
    let c = labelled(47, class_of);
    let data = open(&c, r#"{"kind": "kfold", "k": 4, "seed": 11, "stratified": true}"#).unwrap();
    let splits = by_id(&data);
    for (class, count) in [(0.0, 30), (1.0, 12), (2.0, 5)] {
        let per_fold: Vec<usize> = splits
            .iter()
            .map(|(_, v)| v.iter().filter(|id| class_of(**id as usize) == class).count())
            .collect();
        assert_eq!(per_fold.iter().sum::<usize>(), count);
        let (lo, hi) = (per_fold.iter().min().unwrap(), per_fold.iter().max().unwrap());
        assert!(hi - lo <= 1, "class {class}: {per_fold:?}");
    }
    let sizes: Vec<usize> = splits.iter().map(|(_, v)| v.len()).collect();
    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
}

#[test]
fn k_folds_depend_on_the_rows_content_and_the_seed_only() {
    let c = labelled(60, |i| (i % 2) as f64);
    for stratified in [false, true] {
        let folds = |seed: u64| {
            format!(r#"{{"kind": "kfold", "k": 5, "seed": {seed}, "stratified": {stratified}}}"#)
        };
        let base = by_id(&open(&c, &folds(42)).unwrap());
        let permuted = by_id(&open(&c.select(&shuffled(60, 5)), &folds(42)).unwrap());
        assert_eq!(base, permuted, "a permuted input cuts the same folds");
        let chunked = by_id(&SearchData::open(c.chunks(3), &folds(42)).unwrap());
        assert_eq!(base, chunked, "chunks are one data set");
        assert_eq!(base, by_id(&open(&c, &folds(42)).unwrap()), "same seed, same folds");
        assert_ne!(base, by_id(&open(&c, &folds(43)).unwrap()), "another seed, other folds");
    }
}

#[test]
fn a_fold_column_gives_each_rows_validation_fold() {
    let mut c = labelled(9, |i| (i % 2) as f64);
    c.fold = Some((0..9).map(|i| Some(i % 3)).collect());
    let data = open(&c, r#"{"kind": "column", "k": 3}"#).unwrap();
    for (f, (train, validation)) in by_id(&data).iter().enumerate() {
        let want: BTreeSet<u64> = (0..9).filter(|i| i % 3 == f as u64).collect();
        assert_eq!(validation, &want);
        assert_eq!(train.len(), 6);
    }
}

#[test]
fn train_validation_sends_the_ratio_to_training() {
    let c = labelled(40, |i| if i < 28 { 0.0 } else { 1.0 });
    let data = open(&c, r#"{"kind": "trainValidation", "trainRatio": 0.75, "seed": 1}"#).unwrap();
    let splits = by_id(&data);
    assert_eq!(splits.len(), 1);
    assert_eq!((splits[0].0.len(), splits[0].1.len()), (30, 10));
    let stratified = by_id(
        &open(
            &c,
            r#"{"kind": "trainValidation", "trainRatio": 0.75, "seed": 1, "stratified": true}"#,
        )
        .unwrap(),
    );
    let ones = stratified[0].0.iter().filter(|id| **id >= 28).count();
    assert_eq!((stratified[0].0.len(), ones), (30, 9), "21 of 28 and 9 of 12");
    let other =
        by_id(&open(&c, r#"{"kind": "trainValidation", "trainRatio": 0.75, "seed": 2}"#).unwrap());
    assert_ne!(splits, other);
}

#[test]
fn describe_splits_without_a_time_column_has_null_times() {
    let data = open(&labelled(10, |i| (i % 2) as f64), r#"{"kind": "kfold", "k": 2}"#).unwrap();
    let d: Value = serde_json::from_str(&data.describe_splits()).unwrap();
    assert_eq!(d[1]["fold"], 1);
    assert_eq!(d[0]["trainRows"].as_u64().unwrap() + d[0]["validationRows"].as_u64().unwrap(), 10);
    assert!(d[0]["trainTimeMin"].is_null() && d[1]["validationTimeMax"].is_null());
}

#[test]
fn more_folds_than_rows_or_than_a_class_when_stratified() {
    assert_param(
        open(&labelled(4, |_| 0.0), r#"{"kind": "kfold", "k": 5}"#),
        "k",
        &["5", "4 rows"],
    );
    let one_rare = labelled(40, |i| if i == 3 { 1.0 } else { 0.0 });
    assert_param(
        open(&one_rare, r#"{"kind": "kfold", "k": 3, "stratified": true}"#),
        "k",
        &["class 1", "'y'", "has 1 row,", "3 folds"],
    );
    assert!(open(&one_rare, r#"{"kind": "kfold", "k": 3}"#).is_ok(), "fine unstratified");
    let empty = labelled(0, |_| 0.0);
    assert_kind(open(&empty, r#"{"kind": "kfold", "k": 2}"#), true, &["empty"]);
}

#[test]
fn bad_fold_columns_name_the_column_and_the_value() {
    let mut c = labelled(6, |i| (i % 2) as f64);
    c.fold = Some(vec![Some(0), Some(1), Some(7), Some(0), Some(1), Some(0)]);
    assert_kind(open(&c, r#"{"kind": "column", "k": 2}"#), true, &["'fold'", "7", "0..1"]);
    c.fold = Some(vec![Some(0), Some(1), Some(-1), Some(0), Some(1), Some(0)]);
    assert_kind(open(&c, r#"{"kind": "column", "k": 2}"#), true, &["'fold'", "-1"]);
    c.fold = Some(vec![Some(0), Some(2), Some(0), Some(0), Some(2), Some(0)]);
    assert_kind(open(&c, r#"{"kind": "column", "k": 3}"#), true, &["'fold'", "no row of fold 1"]);
    c.fold = Some(vec![Some(0), None, Some(1), Some(0), Some(1), Some(0)]);
    assert_kind(open(&c, r#"{"kind": "column", "k": 2}"#), false, &["'fold'", "null"]);
    c.fold = None;
    assert_kind(open(&c, r#"{"kind": "column", "k": 2}"#), true, &["fold column"]);
}

#[test]
fn time_series_folds_need_a_time_column_and_enough_distinct_times() {
    let mut c = labelled(20, |i| (i % 2) as f64);
    assert_kind(open(&c, r#"{"kind": "timeSeries", "nSplits": 3}"#), true, &["time column"]);
    // 20 rows but only 4 distinct times.
    c.time = Some((0..20).map(|i| Some((i % 4) as f64)).collect());
    assert_param(
        open(&c, r#"{"kind": "timeSeries", "nSplits": 4}"#),
        "nSplits",
        &["'t'", "there are 4", "at least 5"],
    );
    assert_param(
        open(&c, r#"{"kind": "timeSeries", "nSplits": 2, "testSize": 1, "gap": 2}"#),
        "nSplits",
        &["there are 4", "at least 5", "gap = 2"],
    );
    assert!(open(&c, r#"{"kind": "timeSeries", "nSplits": 2, "testSize": 1, "gap": 1}"#).is_ok());
}

#[test]
fn an_empty_side_is_refused_naming_the_param() {
    // Two rows, ratio 0.9: both rows to training, none to validation.
    let c = labelled(2, |i| i as f64);
    assert_param(
        open(&c, r#"{"kind": "trainValidation", "trainRatio": 0.9}"#),
        "trainRatio",
        &["no validation row"],
    );
    assert_param(
        open(&c, r#"{"kind": "trainValidation", "trainRatio": 0.1}"#),
        "trainRatio",
        &["no training row"],
    );
}

#[test]
fn bad_values_fail_the_open_naming_the_column() {
    let base = || {
        let mut c = labelled(12, |i| (i % 2) as f64);
        c.weight = Some(some(&[1.0; 12]));
        c.time = Some(some(&(0..12).map(f64::from).collect::<Vec<_>>()));
        c.features.push(some(&[0.5; 12]));
        c
    };
    let folds = r#"{"kind": "kfold", "k": 3}"#;
    type Spoil = Box<dyn Fn(&mut Columns)>;
    let cases: Vec<(Spoil, &[&str])> = vec![
        (Box::new(|c| c.label.as_mut().unwrap()[3] = None), &["'y'", "null"]),
        (Box::new(|c| c.label.as_mut().unwrap()[3] = Some(f64::NAN)), &["'y'", "NaN"]),
        (Box::new(|c| c.features[1][5] = Some(f64::INFINITY)), &["'x1'", "infinite"]),
        (Box::new(|c| c.features[0][0] = None), &["'x0'", "null"]),
        (Box::new(|c| c.time.as_mut().unwrap()[2] = Some(f64::NAN)), &["'t'", "NaN"]),
        (Box::new(|c| c.weight.as_mut().unwrap()[1] = Some(-1.0)), &["'w'", "negative"]),
        (Box::new(|c| c.weight = Some(some(&[0.0; 12]))), &["'w'", "0 for every row"]),
        (Box::new(|c| c.weight.as_mut().unwrap()[4] = None), &["'w'", "null"]),
    ];
    for (spoil, fragments) in cases {
        let mut c = base();
        spoil(&mut c);
        assert_kind(open(&c, folds), false, fragments);
    }
    assert!(open(&base(), folds).is_ok());
}

#[test]
fn bad_fold_specs_and_chunks_are_refused() {
    let c = labelled(10, |i| (i % 2) as f64);
    assert_param(open(&c, r#"{"kind": "kfold", "k": 1}"#), "k", &[">= 2"]);
    assert_param(open(&c, r#"{"kind": "timeSeries", "gap": -1}"#), "gap", &[">= 0"]);
    assert_param(
        open(&c, r#"{"kind": "trainValidation", "trainRatio": 1.5}"#),
        "trainRatio",
        &["(0, 1)"],
    );
    assert_param(open(&c, r#"{"kind": "shuffle"}"#), "folds", &["shuffle"]);
    assert_kind(SearchData::open(vec![], r#"{"kind": "kfold"}"#), true, &["no chunk"]);
    let mut other = c.clone();
    other.features.push(some(&[1.0; 10]));
    assert_kind(
        SearchData::open(vec![c.buffer(), other.buffer()], r#"{"kind": "kfold"}"#),
        true,
        &["chunk 1", "schema"],
    );
}
