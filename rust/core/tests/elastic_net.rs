//! Elastic net, lasso, sample weights and collinear features against Spark ML and scikit-learn.
//!
//! The fixtures `tests/fixtures/enet_*.json` come from `tests/reference/make_enet_fixtures.py`
//! (its docstring gives the objectives and the sklearn mappings): `expected` from pyspark 3.5.7
//! converged to tol 1e-10, `sklearn` from scikit-learn where it has the same objective.

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

mod common;

use common::fixtures;
use manyfold_core::algo::linear::{self, LinearParams};
use manyfold_core::algo::logistic::{self, LogisticParams};
use manyfold_core::Error;
use ndarray::{Array1, Array2};
use serde_json::Value;

fn get<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

/// The largest `|a - e| / max(|e|, floor)`.
fn worst(actual: &[f64], expected: &[f64], floor: f64) -> f64 {
    assert_eq!(actual.len(), expected.len());
    actual.iter().zip(expected).map(|(a, e)| (a - e).abs() / e.abs().max(floor)).fold(0.0, f64::max)
}

/// The scale a coefficient is compared on: a lasso zero has no scale of its own, so every
/// coefficient is also allowed the error relative to the largest one.
fn floor(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs())) * 1e-3
}

#[test]
fn linear_matches_spark_and_sklearn() {
    let cases = fixtures("spark_linear");
    assert!(cases.len() >= 8, "{} spark_linear fixtures", cases.len());
    for f in cases {
        let params: LinearParams = get(&f.json["params"]);
        let w = f.weight.as_ref().map(|w| w.view());
        let m = linear::fit_weighted(f.x.view(), f.y.view(), w, &params).unwrap();
        assert!(m.converged, "{}: {} sweeps", f.name, m.iterations);
        for source in ["expected", "sklearn"] {
            let coef: Vec<f64> = get(&f.json[source]["coefficients"]);
            let intercept: f64 = get(&f.json[source]["intercept"]);
            let (c, i) = (
                worst(&m.coefficients, &coef, floor(&coef)),
                worst(&[m.intercept], &[intercept], 1e-6),
            );
            eprintln!("{}: vs {source}: coefficients {c:.1e}, intercept {i:.1e}", f.name);
            // Spark's OWL-QN stops on a relative change of its objective; 1e-6 is measured.
            assert!(c < 1e-6 && i < 1e-6, "{}: {:?} vs {source} {coef:?}", f.name, m);
            let zeros = coef.iter().filter(|v| **v == 0.0).count();
            if source == "expected" {
                let ours = m.coefficients.iter().filter(|v| **v == 0.0).count();
                assert_eq!(ours, zeros, "{}: lasso zeros {m:?}", f.name);
            }
        }
    }
}

#[test]
fn weighted_ols_matches_sklearn_to_1e8() {
    let f = fixtures("spark_linear").into_iter().find(|f| f.name == "linear_ols_weighted").unwrap();
    let params: LinearParams = get(&f.json["params"]);
    let w = f.weight.as_ref().map(|w| w.view());
    let m = linear::fit_weighted(f.x.view(), f.y.view(), w, &params).unwrap();
    let coef: Vec<f64> = get(&f.json["sklearn"]["coefficients"]);
    assert!(worst(&m.coefficients, &coef, 0.0) < 1e-8, "{m:?} vs {coef:?}");
    let intercept: f64 = get(&f.json["sklearn"]["intercept"]);
    assert!(worst(&[m.intercept], &[intercept], 0.0) < 1e-8);
    assert_eq!((m.iterations, m.converged), (0, true), "the closed form");
}

#[test]
fn integer_weights_equal_repeated_rows() {
    let f = fixtures("spark_linear").into_iter().next().unwrap();
    let n = f.y.len();
    let counts: Vec<usize> = (0..n).map(|i| 1 + i % 3).collect();
    let rows: Vec<usize> = (0..n).flat_map(|i| std::iter::repeat_n(i, counts[i])).collect();
    let x = Array2::from_shape_fn((rows.len(), f.x.ncols()), |(r, j)| f.x[[rows[r], j]]);
    let y: Array1<f64> = rows.iter().map(|&i| f.y[i]).collect();
    let w: Array1<f64> = counts.iter().map(|&c| c as f64).collect();
    for (lambda, alpha) in [(0.0, 0.0), (0.3, 0.0), (0.3, 0.5)] {
        let params = LinearParams {
            reg_param: lambda,
            elastic_net_param: alpha,
            tol: 1e-12,
            max_iter: 10_000,
            ..LinearParams::default()
        };
        let a = linear::fit_weighted(f.x.view(), f.y.view(), Some(w.view()), &params).unwrap();
        let b = linear::fit(x.view(), y.view(), &params).unwrap();
        assert!(worst(&a.coefficients, &b.coefficients, 1e-9) < 1e-9, "{a:?} vs {b:?}");
        // Spark's logistic standardizes with the unbiased weighted std (reliability weights:
        // sum w - sum w^2 / sum w), which is not that of repeated rows: compare unstandardized.
        let p = LogisticParams {
            reg_param: lambda,
            elastic_net_param: alpha,
            tol: 1e-10,
            standardization: false,
            ..Default::default()
        };
        let mid = f.y.mean().unwrap();
        let labels = |y: &Array1<f64>| y.mapv(|v| f64::from(u8::from(v > mid)));
        let a =
            logistic::fit_weighted(f.x.view(), labels(&f.y).view(), Some(w.view()), &p).unwrap();
        let b = logistic::fit(x.view(), labels(&y).view(), &p).unwrap();
        assert!(worst(&a.coefficients[0], &b.coefficients[0], 1e-9) < 1e-7, "{a:?} vs {b:?}");
    }
}

#[test]
fn logistic_matches_spark() {
    let cases = fixtures("spark_logistic");
    assert!(cases.len() >= 8, "{} spark_logistic fixtures", cases.len());
    for f in cases {
        let params: LogisticParams = get(&f.json["params"]);
        let w = f.weight.as_ref().map(|w| w.view());
        let m = logistic::fit_weighted(f.x.view(), f.y.view(), w, &params).unwrap();
        assert!(m.converged, "{}: {} iterations", f.name, m.iterations);
        let coef: Vec<Vec<f64>> = get(&f.json["expected"]["coefficients"]);
        let intercepts: Vec<f64> = get(&f.json["expected"]["intercepts"]);
        assert_eq!(m.coefficients.len(), coef.len(), "{}", f.name);
        let all: Vec<f64> = coef.concat();
        let c = worst(&m.coefficients.concat(), &all, floor(&all));
        let i = worst(&m.intercepts, &intercepts, floor(&intercepts).max(1e-6));
        eprintln!(
            "{}: vs Spark: coefficients {c:.1e}, intercepts {i:.1e} ({} steps)",
            f.name, m.iterations
        );
        assert!(c < 1e-5 && i < 1e-5, "{}: {m:?} vs Spark {coef:?} {intercepts:?}", f.name);
        let zeros = all.iter().filter(|v| **v == 0.0).count();
        let ours = m.coefficients.concat().iter().filter(|v| **v == 0.0).count();
        assert_eq!(ours, zeros, "{}: L1 zeros", f.name);
    }
}

#[test]
fn collinear_features_give_sklearns_minimum_norm_solution() {
    let cases = fixtures("sklearn_linear");
    assert_eq!(cases.len(), 2);
    for f in cases {
        let m = linear::fit(f.x.view(), f.y.view(), &LinearParams::default()).unwrap();
        let coef: Vec<f64> = get(&f.json["expected"]["coefficients"]);
        let pred: Vec<f64> = get(&f.json["expected"]["predictions"]);
        let ours: Vec<f64> =
            f.x.rows().into_iter().map(|r| m.predict_row(r.as_slice().unwrap())).collect();
        let (c, p) = (worst(&m.coefficients, &coef, floor(&coef)), worst(&ours, &pred, 1e-3));
        eprintln!("{}: coefficients {c:.1e}, predictions {p:.1e}", f.name);
        assert!(c < 1e-6 && p < 1e-6, "{}: {m:?} vs {coef:?}", f.name);
    }
}

#[test]
fn overflowing_squares_fail_naming_the_problem() {
    let x = Array2::from_shape_fn(
        (10, 2),
        |(i, j)| if j == 0 { 1e200 * i as f64 } else { i as f64 * 0.5 },
    );
    let y = Array1::from_shape_fn(10, |i| i as f64);
    let e = linear::fit(x.view(), y.view(), &LinearParams::default()).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    assert!(e.to_string().contains("feature 0 has values too large to square"), "{e}");
    assert!(!e.to_string().contains("collinear"), "{e}");
}

#[test]
fn elastic_net_is_deterministic_and_reports_convergence() {
    let f = fixtures("spark_linear").into_iter().find(|f| f.name == "linear_enet_std").unwrap();
    let params = LinearParams { reg_param: 0.3, elastic_net_param: 0.5, ..LinearParams::default() };
    let a = linear::fit(f.x.view(), f.y.view(), &params).unwrap();
    let b = linear::fit(f.x.view(), f.y.view(), &params).unwrap();
    assert_eq!(a, b);
    assert!(a.converged && a.iterations > 1, "{a:?}");
    let stopped =
        linear::fit(f.x.view(), f.y.view(), &LinearParams { max_iter: 1, tol: 0.0, ..params })
            .unwrap();
    assert_eq!((stopped.iterations, stopped.converged), (1, false));
    let lp = LogisticParams {
        reg_param: 0.05,
        elastic_net_param: 1.0,
        max_iter: 1,
        tol: 0.0,
        ..Default::default()
    };
    let mid = f.y.mean().unwrap();
    let y = f.y.mapv(|v| f64::from(u8::from(v > mid)));
    let m = logistic::fit(f.x.view(), y.view(), &lp).unwrap();
    assert_eq!((m.iterations, m.converged), (1, false));
}

#[test]
fn bad_elastic_net_params_are_refused_by_name() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1.1] {
        let e = LinearParams { elastic_net_param: v, ..Default::default() }.validate().unwrap_err();
        assert!(
            matches!(e, Error::InvalidParam { ref name, .. } if name == "elasticNetParam"),
            "{v}"
        );
        let e =
            LogisticParams { elastic_net_param: v, ..Default::default() }.validate().unwrap_err();
        assert!(
            matches!(e, Error::InvalidParam { ref name, .. } if name == "elasticNetParam"),
            "{v}"
        );
    }
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1] {
        let e = LinearParams { tol: v, ..Default::default() }.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "tol"), "{v}");
        let e = LogisticParams { tol: v, ..Default::default() }.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "tol"), "{v}");
    }
    // maxIter 0 returns the starting point, as Spark does.
    LogisticParams { max_iter: 0, ..Default::default() }.validate().unwrap();
    for json in [r#"{"maxIter": -1}"#, r#"{"maxIter": 0.5}"#, r#"{"maxIter": 1e12}"#] {
        let e = manyfold_core::params::parse_json::<LogisticParams>(json).unwrap_err();
        assert!(e.to_string().contains("maxIter must be an integer"), "{e}");
    }
}
