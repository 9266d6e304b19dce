//! k-means against scikit-learn on well-separated blobs, and its errors.
//!
//! The fixtures `tests/fixtures/kmeans_*.json` come from `tests/reference/make_linfa_fixtures.py`
//! (at the repository root).

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

mod common;

use std::collections::BTreeMap;

use common::{assert_close, fixtures, matrix, vector};
use manyfold_core::algo::kmeans::{fit, KMeansModel, KMeansParams};
use manyfold_core::Error;
use ndarray::{Array1, Array2};

#[test]
fn matches_sklearn_partition_and_inertia() {
    for f in fixtures("kmeans") {
        let params: KMeansParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        let m = fit(f.x.view(), None, &params).unwrap();
        let expected: Vec<usize> = vector(&f, "labels").iter().map(|v| *v as usize).collect();
        let ours: Vec<usize> =
            f.x.rows().into_iter().map(|r| m.predict_row(r.as_slice().unwrap()) as usize).collect();
        let inertia = f.json["expected"]["inertia"].as_f64().unwrap();
        assert_close(&format!("{} inertia", f.name), &[m.inertia], &[inertia], 1e-9, 0.0);
        assert_close(
            &format!("{} recomputed", f.name),
            &[m.inertia(f.x.view())],
            &[inertia],
            1e-9,
            0.0,
        );
        // The same partition up to relabeling: a one-to-one map between the two labelings.
        let mut map = BTreeMap::new();
        for (a, b) in ours.iter().zip(&expected) {
            assert_eq!(*map.entry(*a).or_insert(*b), *b, "{}: partitions differ", f.name);
        }
        assert_eq!(map.len(), params.k as usize, "{}", f.name);
        let centers = matrix(&f, "centers");
        for (ours, theirs) in map {
            let what = format!("{} center {ours}", f.name);
            assert_close(&what, &m.centers[ours], &centers[theirs], 1e-9, 1e-3);
        }
    }
}

#[test]
fn default_params_find_the_blobs_within_1_percent() {
    // One run and Spark's defaults (maxIter 20, tol 1e-4) on the 3-blob fixture.
    let f = fixtures("kmeans").into_iter().find(|f| f.name == "kmeans_k3").unwrap();
    let m = fit(f.x.view(), None, &KMeansParams { k: 3, ..KMeansParams::default() }).unwrap();
    let inertia = f.json["expected"]["inertia"].as_f64().unwrap();
    assert_close("inertia", &[m.inertia], &[inertia], 1e-2, 0.0);
}

fn blobs() -> Array2<f64> {
    Array2::from_shape_fn((30, 2), |(i, j)| (i % 3) as f64 * 10.0 + ((i * (j + 1)) as f64).sin())
}

#[test]
fn defaults_are_sparks() {
    let p = KMeansParams::default();
    assert_eq!((p.k, p.max_iter, p.tol, p.seed, p.n_init), (2, 20, 1e-4, 0, 1));
    assert_eq!(p.init_mode, "k-means++");
    assert_eq!(serde_json::from_str::<KMeansParams>("{}").unwrap(), p);
    assert!(serde_json::from_str::<KMeansParams>(r#"{"initSteps": 2}"#).is_err());
}

#[test]
fn every_bad_param_is_refused_by_name() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300] {
        let e = KMeansParams { tol: v, ..KMeansParams::default() }.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "tol"), "{v}: {e:?}");
    }
    for (name, p) in [
        ("k", KMeansParams { k: 0, ..KMeansParams::default() }),
        ("k", KMeansParams { k: 1, ..KMeansParams::default() }),
        ("maxIter", KMeansParams { max_iter: 0, ..KMeansParams::default() }),
        ("nInit", KMeansParams { n_init: 0, ..KMeansParams::default() }),
        ("initMode", KMeansParams { init_mode: "k-means||".into(), ..KMeansParams::default() }),
        ("initMode", KMeansParams { init_mode: "kmeans".into(), ..KMeansParams::default() }),
    ] {
        let e = p.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { name: ref n, .. } if n == name), "{e:?}");
        assert!(matches!(fit(blobs().view(), None, &p), Err(Error::InvalidParam { .. })));
    }
    for seed in [0, -1, i64::MIN, i64::MAX] {
        let p = KMeansParams { k: 3, seed, tol: 0.0, ..KMeansParams::default() };
        assert!(fit(blobs().view(), None, &p).is_ok(), "seed {seed}");
    }
}

#[test]
fn too_few_rows_bad_features_and_weights_are_refused() {
    let x = blobs();
    let p = KMeansParams { k: 31, ..KMeansParams::default() };
    let e = fit(x.view(), None, &p).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    assert_eq!(e.to_string(), "k = 31 clusters need at least 31 rows, got 30");
    let mut bad = x.clone();
    bad[[4, 1]] = f64::NAN;
    assert!(matches!(fit(bad.view(), None, &KMeansParams::default()), Err(Error::Data { .. })));
    let empty = Array2::zeros((0, 2));
    assert!(matches!(fit(empty.view(), None, &KMeansParams::default()), Err(Error::Data { .. })));
    let w = Array1::ones(30);
    let e = fit(x.view(), Some(w.view()), &KMeansParams::default()).unwrap_err();
    assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "weightCol"), "{e:?}");
}

#[test]
fn k_equal_to_rows_and_duplicate_rows_still_fit() {
    let x = blobs();
    let m = fit(x.view(), None, &KMeansParams { k: 30, ..KMeansParams::default() }).unwrap();
    assert!(m.inertia.abs() < 1e-9, "{}", m.inertia);
    let same = Array2::from_elem((5, 2), 1.5);
    let m = fit(same.view(), None, &KMeansParams { k: 3, ..KMeansParams::default() }).unwrap();
    assert_eq!(m.inertia, 0.0);
    assert_eq!(m.predict_row(&[1.5, 1.5]), 0.0, "ties go to the lowest index");
}

#[test]
fn a_seed_gives_identical_bits() {
    let x = blobs();
    for init_mode in ["k-means++", "random"] {
        let p = KMeansParams {
            k: 4,
            init_mode: init_mode.into(),
            n_init: 2,
            ..KMeansParams::default()
        };
        let (a, b) = (fit(x.view(), None, &p).unwrap(), fit(x.view(), None, &p).unwrap());
        let bits =
            |m: &KMeansModel| m.centers.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{init_mode}");
        assert_eq!(a.inertia.to_bits(), b.inertia.to_bits());
    }
}

#[test]
fn same_result_on_one_thread_and_many() {
    let f = fixtures("kmeans").into_iter().find(|f| f.name == "kmeans_k5_p4").unwrap();
    let p = KMeansParams { k: 5, n_init: 2, ..KMeansParams::default() };
    let pool = |t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
    let one = pool(1).install(|| fit(f.x.view(), None, &p).unwrap());
    let four = pool(4).install(|| fit(f.x.view(), None, &p).unwrap());
    assert_eq!(one, four);
}

#[test]
fn decoded_model_checks() {
    let m = fit(blobs().view(), None, &KMeansParams { k: 3, ..KMeansParams::default() }).unwrap();
    assert!(m.shapes_ok(2) && !m.shapes_ok(3) && m.is_finite() && m.num_features() == 2);
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<KMeansModel>(&json).unwrap(), m);
    let mut ragged = m.clone();
    ragged.centers[2].push(1.0);
    assert!(!ragged.shapes_ok(2));
}
