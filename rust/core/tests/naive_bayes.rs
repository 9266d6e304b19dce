//! Gaussian naive Bayes against scikit-learn, and its errors.
//!
//! The fixtures `tests/fixtures/naive_bayes_*.json` come from
//! `tests/reference/make_linfa_fixtures.py` (at the repository root).

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

mod common;

use common::{assert_close, fixtures, matrix, vector};
use manyfold_core::algo::naive_bayes::{fit, NaiveBayesModel, NaiveBayesParams};
use manyfold_core::Error;
use ndarray::{Array1, Array2};

#[test]
fn matches_sklearn_to_1e9() {
    for f in fixtures("naive_bayes") {
        let params: NaiveBayesParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        let weight = f.weight.as_ref().map(|w| w.view());
        let m = fit(f.x.view(), f.y.view(), weight, &params).unwrap();
        let name = &f.name;
        assert_eq!(m.classes, vector(&f, "classes"), "{name}");
        assert_close(&format!("{name} priors"), &m.priors, &vector(&f, "priors"), 1e-9, 0.0);
        for (what, got) in [("means", &m.means), ("variances", &m.variances)] {
            for (c, (row, expected)) in got.iter().zip(matrix(&f, what)).enumerate() {
                assert_close(&format!("{name} {what}[{c}]"), row, &expected, 1e-9, 1e-12);
            }
        }
        let (jll, proba) = (matrix(&f, "jointLogLikelihood"), matrix(&f, "probability"));
        let labels = vector(&f, "prediction");
        for (i, row) in f.x.rows().into_iter().enumerate() {
            let p = m.predict_row(row.as_slice().unwrap());
            assert_close(&format!("{name} raw[{i}]"), &p.raw, &jll[i], 1e-9, 1e-12);
            // Probabilities below 1e-12 are compared absolutely: their relative error is that
            // of exp(a - b) for a - b ~ -30 (1e-14 on a and b gives 3e-13 on the result).
            assert_close(&format!("{name} proba[{i}]"), &p.probability, &proba[i], 1e-9, 1e-3);
            assert_eq!(p.label, labels[i], "{name} row {i}");
        }
    }
}

#[test]
fn unit_weights_agree_with_the_linfa_path() {
    let f = fixtures("naive_bayes").into_iter().next().unwrap();
    let p = NaiveBayesParams::default();
    let a = fit(f.x.view(), f.y.view(), None, &p).unwrap();
    let ones = Array1::ones(f.y.len());
    let b = fit(f.x.view(), f.y.view(), Some(ones.view()), &p).unwrap();
    assert_close("priors", &a.priors, &b.priors, 1e-14, 0.0);
    for c in 0..a.classes.len() {
        assert_close("means", &a.means[c], &b.means[c], 1e-13, 1e-9);
        assert_close("variances", &a.variances[c], &b.variances[c], 1e-12, 0.0);
    }
}

fn data() -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((12, 2), |(i, j)| ((i * (j + 2)) as f64 * 0.7).sin() + i as f64);
    let y = (0..12).map(|i| [0.5, -3.0, 7.0][i % 3]).collect();
    (x, y)
}

#[test]
fn defaults_and_unknown_params() {
    let p = NaiveBayesParams::default();
    assert_eq!((p.model_type.as_str(), p.var_smoothing), ("gaussian", 1e-9));
    assert_eq!(serde_json::from_str::<NaiveBayesParams>("{}").unwrap(), p);
    assert!(serde_json::from_str::<NaiveBayesParams>(r#"{"smoothing": 1.0}"#).is_err());
}

#[test]
fn every_bad_param_is_refused_by_name() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300] {
        let p = NaiveBayesParams { var_smoothing: v, ..NaiveBayesParams::default() };
        let e = p.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "varSmoothing"), "{v}");
    }
    for t in ["multinomial", "bernoulli", "complement", ""] {
        let p = NaiveBayesParams { model_type: t.to_string(), ..NaiveBayesParams::default() };
        let e = p.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "modelType"), "{e:?}");
        assert!(e.to_string().contains("supported: gaussian"), "{e}");
        let (x, y) = data();
        assert!(matches!(fit(x.view(), y.view(), None, &p), Err(Error::InvalidParam { .. })));
    }
    let zero = NaiveBayesParams { var_smoothing: 0.0, ..NaiveBayesParams::default() };
    let (x, y) = data();
    assert!(fit(x.view(), y.view(), None, &zero).is_ok());
}

#[test]
fn one_class_and_bad_data_are_data_errors() {
    let (x, y) = data();
    let p = NaiveBayesParams::default();
    let one = Array1::from_elem(12, 4.0);
    let e = fit(x.view(), one.view(), None, &p).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    assert!(e.to_string().contains("only one class (value 4)"), "{e}");
    let mut bad_y = y.clone();
    bad_y[2] = f64::NAN;
    assert!(matches!(fit(x.view(), bad_y.view(), None, &p), Err(Error::Data { .. })));
    let mut bad_x = x.clone();
    bad_x[[3, 0]] = f64::INFINITY;
    assert!(matches!(fit(bad_x.view(), y.view(), None, &p), Err(Error::Data { .. })));
    let empty = Array2::zeros((0, 2));
    assert!(matches!(
        fit(empty.view(), Array1::zeros(0).view(), None, &p),
        Err(Error::Data { .. })
    ));
    assert!(matches!(fit(x.view(), Array1::zeros(3).view(), None, &p), Err(Error::Data { .. })));
    let mut w = Array1::ones(12);
    w[4] = -1.0;
    assert!(matches!(fit(x.view(), y.view(), Some(w.view()), &p), Err(Error::Data { .. })));
    // Every row of class -3 (rows 1, 4, 7, 10) weighs 0.
    let w = Array1::from_shape_fn(12, |i| if i % 3 == 1 { 0.0 } else { 1.0 });
    let e = fit(x.view(), y.view(), Some(w.view()), &p).unwrap_err();
    assert!(e.to_string().contains("class -3 has total weight 0"), "{e}");
}

#[test]
fn zero_variance_without_smoothing_is_a_data_error() {
    let (mut x, y) = data();
    x.column_mut(1).fill(2.0);
    let zero = NaiveBayesParams { var_smoothing: 0.0, ..NaiveBayesParams::default() };
    let e = fit(x.view(), y.view(), None, &zero).unwrap_err();
    assert!(matches!(e, Error::Data { .. }) && e.to_string().contains("feature 1"), "{e:?}");
    // The default smoothing lifts a constant feature by 1e-9 of feature 0's variance.
    let m = fit(x.view(), y.view(), None, &NaiveBayesParams::default()).unwrap();
    assert!(m.variances.iter().all(|v| v[1] > 0.0));
}

#[test]
fn predictions_are_consistent_and_deterministic() {
    let (x, y) = data();
    let p = NaiveBayesParams::default();
    let m = fit(x.view(), y.view(), None, &p).unwrap();
    assert_eq!(m.classes, vec![-3.0, 0.5, 7.0]);
    assert_eq!(m, fit(x.view(), y.view(), None, &p).unwrap());
    for row in x.rows() {
        let pr = m.predict_row(row.as_slice().unwrap());
        assert!((pr.probability.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let best = pr.raw.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(pr.raw[m.classes.iter().position(|c| *c == pr.label).unwrap()], best);
    }
}

#[test]
fn decoded_model_checks() {
    let (x, y) = data();
    let m = fit(x.view(), y.view(), None, &NaiveBayesParams::default()).unwrap();
    assert!(m.shapes_ok(2) && !m.shapes_ok(3) && m.is_finite() && m.num_features() == 2);
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<NaiveBayesModel>(&json).unwrap(), m);
    let mut short = m.clone();
    short.variances[1].pop();
    assert!(!short.shapes_ok(2));
    let mut zero = m.clone();
    zero.variances[0][0] = 0.0;
    assert!(!zero.is_finite());
}
