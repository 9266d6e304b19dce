//! Generalized linear regression against scikit-learn, and its errors.
//!
//! The fixtures `tests/fixtures/glm_*.json` come from `tests/reference/make_linfa_fixtures.py`
//! (at the repository root; its docstring says how each objective maps to scikit-learn).

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

mod common;

use common::{assert_close, fixtures, vector};
use manyfold_core::algo::glm::{fit, GlmModel, GlmParams, Link};
use manyfold_core::Error;
use ndarray::{Array1, Array2};

#[test]
fn matches_sklearn_to_1e6() {
    for f in fixtures("glm") {
        let params: GlmParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        let m = fit(f.x.view(), f.y.view(), f.weight.as_ref().map(|w| w.view()), &params)
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(m.iterations < params.max_iter, "{}: {} steps", f.name, m.iterations);
        let coef = vector(&f, "coefficients");
        // Feature scales differ by 100x, so each coefficient is compared on its own scale.
        assert_close(&format!("{} coefficients", f.name), &m.coefficients, &coef, 1e-6, 1e-9);
        let b = f.json["expected"]["intercept"].as_f64().unwrap();
        assert_close(&format!("{} intercept", f.name), &[m.intercept], &[b], 1e-6, 1e-9);
        let pred: Vec<f64> =
            (0..10).map(|i| m.predict_row(f.x.row(i).as_slice().unwrap())).collect();
        assert_close(
            &format!("{} prediction", f.name),
            &pred,
            &vector(&f, "prediction"),
            1e-6,
            1e-9,
        );
    }
}

#[test]
fn default_tolerance_is_within_1e4_of_sklearn() {
    for f in fixtures("glm") {
        let mut params: GlmParams = serde_json::from_value(f.json["params"].clone()).unwrap();
        params.tol = GlmParams::default().tol;
        params.max_iter = GlmParams::default().max_iter;
        let m = fit(f.x.view(), f.y.view(), f.weight.as_ref().map(|w| w.view()), &params).unwrap();
        let coef = vector(&f, "coefficients");
        assert_close(&format!("{} coefficients", f.name), &m.coefficients, &coef, 1e-4, 1e-9);
    }
}

fn data(n: usize) -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((n, 2), |(i, j)| ((i * (j + 3)) as f64 * 0.37).sin());
    let y = x.rows().into_iter().map(|r| (0.3 + 0.5 * r[0] - 0.2 * r[1]).exp().round()).collect();
    (x, y)
}

fn params(family: &str) -> GlmParams {
    GlmParams { family: family.to_string(), ..GlmParams::default() }
}

#[test]
fn defaults_are_sparks() {
    let p = GlmParams::default();
    assert_eq!((p.family.as_str(), p.max_iter, p.tol, p.reg_param), ("gaussian", 25, 1e-6, 0.0));
    assert!(p.fit_intercept && p.link.is_none() && p.variance_power == 0.0);
    assert_eq!(serde_json::from_str::<GlmParams>("{}").unwrap(), p);
    let e = serde_json::from_str::<GlmParams>(r#"{"linkPower": 0}"#).unwrap_err();
    assert!(e.to_string().contains("linkPower"), "{e}");
}

#[test]
fn default_links_follow_the_family() {
    let link = |family: &str, power: f64| {
        GlmParams { variance_power: power, ..params(family) }.resolved_link()
    };
    assert_eq!(link("gaussian", 0.0), Link::Identity);
    assert_eq!(link("poisson", 0.0), Link::Log);
    assert_eq!(link("gamma", 0.0), Link::Log);
    assert_eq!(link("tweedie", 0.0), Link::Identity);
    assert_eq!(link("tweedie", 1.5), Link::Log);
    // variancePower is read for the tweedie family only, as in Spark.
    assert_eq!(GlmParams { variance_power: 3.0, ..params("poisson") }.power(), 1.0);
}

#[test]
fn every_bad_numeric_param_is_refused_by_name() {
    let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300];
    for v in bad {
        for (name, p) in [
            ("regParam", GlmParams { reg_param: v, ..GlmParams::default() }),
            ("tol", GlmParams { tol: v, ..GlmParams::default() }),
            ("variancePower", GlmParams { variance_power: v, ..params("tweedie") }),
        ] {
            let e = p.validate().unwrap_err();
            assert!(
                matches!(e, Error::InvalidParam { name: ref n, .. } if n == name),
                "{v}: {e:?}"
            );
        }
    }
    for v in [0.5, 0.999, 1e-9] {
        let e = GlmParams { variance_power: v, ..params("tweedie") }.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "variancePower"));
    }
    let e = GlmParams { max_iter: 0, ..GlmParams::default() }.validate().unwrap_err();
    assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "maxIter"), "{e:?}");
    for (name, p) in [
        ("family", params("binomial")),
        ("link", GlmParams { link: Some("inverse".to_string()), ..params("gamma") }),
        ("link", GlmParams { link: Some("logit".to_string()), ..params("poisson") }),
    ] {
        let e = p.validate().unwrap_err();
        assert!(matches!(e, Error::InvalidParam { name: ref n, .. } if n == name), "{e:?}");
        let (x, y) = data(10);
        assert!(matches!(fit(x.view(), y.view(), None, &p), Err(Error::InvalidParam { .. })));
    }
    // Zero is in range for every numeric param but maxIter.
    let p = GlmParams { reg_param: 0.0, tol: 0.0, variance_power: 0.0, ..params("tweedie") };
    assert!(p.validate().is_ok());
}

#[test]
fn labels_outside_the_family_range_are_data_errors() {
    let (x, mut y) = data(20);
    y[3] = -1.0;
    for family in ["poisson", "gamma", "tweedie"] {
        let p = GlmParams { variance_power: 1.5, ..params(family) };
        let e = fit(x.view(), y.view(), None, &p).unwrap_err();
        assert!(matches!(e, Error::Data { .. }), "{e:?}");
        assert!(e.to_string().contains("row 3 has -1"), "{e}");
    }
    y[3] = 0.0;
    assert!(fit(x.view(), y.view(), None, &params("poisson")).is_ok());
    let e = fit(x.view(), y.view(), None, &params("gamma")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "label must be finite and > 0 for family gamma (variance power 2), row 3 has 0"
    );
    y[3] = f64::NAN;
    assert!(matches!(fit(x.view(), y.view(), None, &params("gaussian")), Err(Error::Data { .. })));
    let zeros = Array1::zeros(20);
    let e = fit(x.view(), zeros.view(), None, &params("poisson")).unwrap_err();
    assert!(e.to_string().contains("every weighted label is 0"), "{e}");
}

#[test]
fn bad_shapes_and_weights_are_data_errors() {
    let (x, y) = data(20);
    let short = Array1::ones(19);
    assert!(matches!(
        fit(x.view(), short.view(), None, &params("poisson")),
        Err(Error::Data { .. })
    ));
    assert!(matches!(
        fit(x.view(), y.view(), Some(short.view()), &params("poisson")),
        Err(Error::Data { .. })
    ));
    for v in [f64::NAN, f64::INFINITY, -1.0] {
        let mut w = Array1::ones(20);
        w[5] = v;
        let e = fit(x.view(), y.view(), Some(w.view()), &params("poisson")).unwrap_err();
        assert!(matches!(e, Error::Data { .. }) && e.to_string().contains("row 5"), "{e:?}");
    }
    let zero = Array1::zeros(20);
    assert!(matches!(
        fit(x.view(), y.view(), Some(zero.view()), &params("poisson")),
        Err(Error::Data { .. })
    ));
    let mut bad_x = x.clone();
    bad_x[[2, 1]] = f64::NEG_INFINITY;
    assert!(matches!(
        fit(bad_x.view(), y.view(), None, &params("poisson")),
        Err(Error::Data { .. })
    ));
    let empty = Array2::zeros((0, 2));
    assert!(matches!(
        fit(empty.view(), Array1::zeros(0).view(), None, &params("gaussian")),
        Err(Error::Data { .. })
    ));
}

#[test]
fn identity_link_without_intercept_has_no_start_and_says_so() {
    let (x, y) = data(20);
    let p =
        GlmParams { link: Some("identity".to_string()), fit_intercept: false, ..params("poisson") };
    let e = fit(x.view(), y.view(), None, &p).unwrap_err();
    assert!(matches!(e, Error::Numerical { .. }), "{e:?}");
}

#[test]
fn unit_weights_equal_no_weights_and_zero_weight_drops_a_row() {
    let (x, y) = data(40);
    let p = GlmParams { reg_param: 0.01, ..params("poisson") };
    let a = fit(x.view(), y.view(), None, &p).unwrap();
    let b = fit(x.view(), y.view(), Some(Array1::ones(40).view()), &p).unwrap();
    assert_eq!(a, b);
    let mut w = Array1::ones(40);
    w[39] = 0.0;
    let c = fit(x.view(), y.view(), Some(w.view()), &p).unwrap();
    let d = fit(x.slice(ndarray::s![..39, ..]), y.slice(ndarray::s![..39]), None, &p).unwrap();
    assert_close("dropped row", &c.coefficients, &d.coefficients, 1e-9, 1e-12);
}

#[test]
fn constant_feature_gets_coefficient_zero_and_fitting_twice_gives_identical_bits() {
    let (mut x, y) = data(30);
    x.column_mut(1).fill(2.5);
    let p = GlmParams { variance_power: 1.5, ..params("tweedie") };
    let a = fit(x.view(), y.view(), None, &p).unwrap();
    let b = fit(x.view(), y.view(), None, &p).unwrap();
    assert_eq!(a.coefficients[1], 0.0);
    let bits = |m: &GlmModel| {
        m.coefficients.iter().chain([&m.intercept]).map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn decoded_model_checks() {
    let (x, y) = data(20);
    let m = fit(x.view(), y.view(), None, &params("poisson")).unwrap();
    assert!(m.shapes_ok(2) && !m.shapes_ok(3) && m.is_finite() && m.num_features() == 2);
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<GlmModel>(&json).unwrap(), m);
    let bad = json.replace("\"log\"", "\"inverse\"");
    assert!(serde_json::from_str::<GlmModel>(&bad).is_err());
    let mut nan = m.clone();
    nan.intercept = f64::NAN;
    assert!(!nan.is_finite());
}
