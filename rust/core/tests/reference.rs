//! Linear and logistic regression against scikit-learn.
//!
//! The fixtures in `tests/fixtures/` come from `tests/reference/make_fixtures.py` (at the
//! repository root; its docstring says how to rerun it and how each objective maps to sklearn).

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

mod common;

use common::{fixtures, Fixture};
use manyfold_core::algo::linear::{self, LinearParams};
use manyfold_core::algo::logistic::{self, LogisticParams};

fn expected<T: serde::de::DeserializeOwned>(f: &Fixture, key: &str) -> T {
    serde_json::from_value(f.json["expected"][key].clone()).unwrap()
}

fn metric(f: &Fixture, key: &str) -> f64 {
    f.json["expected"]["metrics"][key].as_f64().unwrap()
}

/// Asserts `|actual - expected| <= rel * max(|expected|, floor)` element-wise.
fn assert_close(what: &str, actual: &[f64], expected: &[f64], rel: f64, floor: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let tol = rel * e.abs().max(floor);
        assert!((a - e).abs() <= tol, "{what}[{i}]: {a} vs sklearn {e} (tolerance {tol:e})");
    }
}

#[test]
fn linear_matches_sklearn_to_1e6() {
    for f in fixtures("linear") {
        let params: LinearParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        let m = linear::fit(f.x.view(), f.y.view(), &params).unwrap();
        let coef: Vec<f64> = expected(&f, "coefficients");
        // Feature scales differ by 1000x, so each coefficient is compared on its own scale.
        assert_close(&format!("{} coefficients", f.name), &m.coefficients, &coef, 1e-6, 1e-12);
        let intercept: f64 = expected(&f, "intercept");
        assert_close(&format!("{} intercept", f.name), &[m.intercept], &[intercept], 1e-6, 1e-12);

        let r = linear::metrics(&m, f.x.view(), f.y.view());
        assert_close(&format!("{} rmse", f.name), &[r.rmse], &[metric(&f, "rmse")], 1e-9, 1e-12);
        assert_close(&format!("{} r2", f.name), &[r.r2], &[metric(&f, "r2")], 1e-9, 1e-12);
    }
}

#[test]
fn logistic_matches_sklearn_to_1e3() {
    for f in fixtures("logistic") {
        let params: LogisticParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        let m = logistic::fit(f.x.view(), f.y.view(), &params).unwrap();
        assert_eq!(m.classes, expected::<Vec<f64>>(&f, "classes"), "{}", f.name);
        let coef: Vec<Vec<f64>> = expected(&f, "coefficients");
        assert_eq!(m.coefficients.len(), coef.len(), "{}: coefficient rows", f.name);
        for (k, (a, e)) in m.coefficients.iter().zip(&coef).enumerate() {
            assert_close(&format!("{} coefficients[{k}]", f.name), a, e, 1e-3, 1e-12);
        }
        let intercepts: Vec<f64> = expected(&f, "intercepts");
        // Centered multinomial intercepts can be near 0: compare on the scale of the largest.
        let floor = intercepts.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        assert_close(&format!("{} intercepts", f.name), &m.intercepts, &intercepts, 1e-3, floor);
        assert!(
            m.iterations >= 1 && m.iterations < params.max_iter,
            "{}: {}",
            f.name,
            m.iterations
        );

        let r = logistic::metrics(&m, f.x.view(), f.y.view());
        assert_eq!(r.accuracy, metric(&f, "accuracy"), "{}: accuracy", f.name);
        assert_close(
            &format!("{} log loss", f.name),
            &[r.log_loss],
            &[metric(&f, "logLoss")],
            1e-6,
            0.0,
        );
    }
}
