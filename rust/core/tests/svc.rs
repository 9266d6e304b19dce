//! SVC against scikit-learn's `SVC` (libsvm), and its error handling.
//!
//! The fixtures `tests/fixtures/svc_*.json` come from `tests/reference/make_svc_fixtures.py`
//! (at the repository root; its docstring says how to rerun it and how params map to sklearn).
//! Run with `--nocapture` to see the measured gaps per case.

#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

use std::path::Path;

use manyfold_core::algo::svc::{fit, SvcModel, SvcParams};
use manyfold_core::Error;
use ndarray::{s, Array1, Array2};
use serde_json::Value;

struct Fixture {
    json: Value,
    x: Array2<f64>,
    y: Array1<f64>,
    weight: Array1<f64>,
    n_train: usize,
}

fn fixture(name: &str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.json"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows: Vec<Vec<f64>> = serde_json::from_value(json["x"].clone()).unwrap();
    let (n, p) = (rows.len(), rows[0].len());
    let x = Array2::from_shape_vec((n, p), rows.concat()).unwrap();
    let y = Array1::from(serde_json::from_value::<Vec<f64>>(json["y"].clone()).unwrap());
    let weight = Array1::from(serde_json::from_value::<Vec<f64>>(json["weight"].clone()).unwrap());
    let n_train = json["nTrain"].as_u64().unwrap() as usize;
    Fixture { json, x, y, weight, n_train }
}

fn get<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

/// Fits one fixture case on the training rows.
fn fit_case(f: &Fixture, case: &Value) -> SvcModel {
    let params: SvcParams = get(&case["params"]);
    let n = f.n_train;
    let w = f.weight.view();
    let weight = case["weighted"].as_bool().unwrap().then_some(w);
    fit(f.x.slice(s![..n, ..]), f.y.slice(s![..n]), weight, &params).unwrap()
}

/// `|a - b| / max(1, |b|)`: relative for large values, absolute near zero.
fn gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

const FIXTURES: [&str; 3] = ["svc_binary", "svc_multiclass", "svc_binary_large"];

#[test]
fn decision_values_and_labels_match_sklearn() {
    println!(
        "{:<18} {:<28} {:>10} {:>9} {:>12} {:>12} {:>6} {:>6}",
        "fixture", "case", "max gap", "labels", "nSV", "sklearn nSV", "iter", "sk"
    );
    for name in FIXTURES {
        let f = fixture(name);
        for case in f.json["cases"].as_array().unwrap() {
            let what = format!("{name}/{}", case["name"].as_str().unwrap());
            let m = fit_case(&f, case);
            let e = &case["expected"];
            assert_eq!(m.classes, get::<Vec<f64>>(&e["classes"]), "{what}");
            let gamma: f64 = get(&e["gamma"]);
            assert!(gap(m.gamma, gamma) < 1e-12, "{what}: gamma {} vs {gamma}", m.gamma);
            let expected: Vec<Vec<f64>> = get(&e["decision"]);
            let labels: Vec<f64> = get(&e["predicted"]);
            let (mut worst, mut agree) = (0.0f64, 0usize);
            for (r, (row, want)) in f.x.rows().into_iter().zip(&expected).enumerate() {
                let row = row.to_vec();
                let got = m.decision_values(&row);
                assert_eq!(got.len(), want.len(), "{what}: row {r}");
                for (a, b) in got.iter().zip(want) {
                    worst = worst.max(gap(*a, *b));
                }
                let (label, raw, _) = m.predict_row(&row);
                agree += usize::from(label == labels[r]);
                // Raw scores: binary [-d, d] with d the decision value, else the ovr scores.
                let scores = if got.len() == 1 { vec![-got[0], got[0]] } else { got.clone() };
                assert_eq!(raw, scores, "{what}: row {r}");
            }
            let share = agree as f64 / labels.len() as f64;
            let counts: Vec<usize> = get(&e["supportCounts"]);
            println!(
                "{name:<18} {:<28} {worst:>10.2e} {agree:>4}/{:<4} {:>12} {:>12} {:>6} {:>6}",
                case["name"].as_str().unwrap(),
                labels.len(),
                format!("{:?}", m.support_counts),
                format!("{counts:?}"),
                m.iterations,
                e["iterations"]
            );
            assert!(worst <= 1e-3, "{what}: decision values off by {worst:e}");
            assert!(share >= 0.995, "{what}: labels agree on {agree} of {}", labels.len());
            // The same iterates as libsvm up to rounding (dot products are summed in another
            // order), so nearly the same number of them.
            let iterations: u64 = get(&e["iterations"]);
            let slack = 1 + iterations / 100;
            assert!(
                m.iterations.abs_diff(iterations) <= slack,
                "{what}: {} SMO iterations, sklearn {iterations}",
                m.iterations
            );
            assert_eq!(m.support_counts, counts, "{what}: support vectors per class");
            let max_iter = case["params"]["maxIter"].as_i64().unwrap();
            assert_eq!(m.converged, max_iter <= 0, "{what}");
        }
    }
}

#[test]
fn probabilities_are_close_to_sklearn_and_sum_to_one() {
    // libsvm's internal CV shuffles with scikit-learn's Mersenne Twister, manyfold with its
    // own generator: the sigmoids are fitted to different out-of-fold decision values, so only
    // a statistical agreement is expected.
    for name in ["svc_binary", "svc_multiclass"] {
        let f = fixture(name);
        for case in f.json["cases"].as_array().unwrap() {
            if !case["params"]["probability"].as_bool().unwrap() {
                continue;
            }
            let what = format!("{name}/{}", case["name"].as_str().unwrap());
            let m = fit_case(&f, case);
            let expected: Vec<Vec<f64>> = get(&case["expected"]["probability"]);
            let (mut worst, mut total, mut count) = (0.0f64, 0.0, 0usize);
            for (row, want) in f.x.rows().into_iter().zip(&expected) {
                let (_, _, prob) = m.predict_row(&row.to_vec());
                let prob = prob.unwrap();
                assert!((prob.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{what}: {prob:?}");
                for (a, b) in prob.iter().zip(want) {
                    worst = worst.max((a - b).abs());
                    total += (a - b).abs();
                    count += 1;
                }
            }
            let mean = total / count as f64;
            println!("{what:<40} probability gap: max {worst:.4}, mean {mean:.4}");
            assert!(mean < 0.02, "{what}: mean probability gap {mean}");
            assert!(worst < 0.15, "{what}: max probability gap {worst}");
        }
    }
}

#[test]
fn fits_are_deterministic_and_survive_serde() {
    let f = fixture("svc_multiclass");
    let params = SvcParams { probability: true, seed: 11, ..SvcParams::default() };
    let (x, y) = (f.x.slice(s![..200, ..]), f.y.slice(s![..200]));
    let a = fit(x, y, Some(f.weight.slice(s![..200])), &params).unwrap();
    let b = fit(x, y, Some(f.weight.slice(s![..200])), &params).unwrap();
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    let back: SvcModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
    assert!(back.shapes_ok(20) && back.is_finite() && back.num_features() == 20);
    assert!(!back.shapes_ok(19));
    let row = f.x.row(250).to_vec();
    assert_eq!(back.predict_row(&row), a.predict_row(&row));
    // Another seed shuffles the internal CV differently: other sigmoids, same SVM.
    let c = fit(x, y, Some(f.weight.slice(s![..200])), &SvcParams { seed: 12, ..params }).unwrap();
    assert_eq!((&c.dual_coef, &c.rho), (&a.dual_coef, &a.rho));
    assert_ne!(c.prob_a, a.prob_a);
}

#[test]
fn rows_of_weight_zero_are_dropped() {
    let f = fixture("svc_binary");
    let n = 120;
    let mut w = f.weight.slice(s![..n]).to_owned();
    w.iter_mut().for_each(|v| *v = if *v == 0.0 { 0.0 } else { 1.0 });
    let keep: Vec<usize> = (0..n).filter(|&i| w[i] > 0.0).collect();
    assert!(keep.len() < n);
    // gamma "scale" reads every row (as sklearn's X.var()), so fix gamma for the comparison.
    let params = SvcParams { gamma: "0.05".into(), ..SvcParams::default() };
    let full = fit(f.x.slice(s![..n, ..]), f.y.slice(s![..n]), Some(w.view()), &params).unwrap();
    let xs = f.x.select(ndarray::Axis(0), &keep);
    let ys = f.y.select(ndarray::Axis(0), &keep);
    let kept = fit(xs.view(), ys.view(), None, &params).unwrap();
    assert_eq!(full, kept);
}

/// The recipe's grid: C x kernel x shrinking, gamma "auto", probability on.
#[test]
fn recipe_grid_trains() {
    let f = fixture("svc_binary_large");
    let (x, y) = (f.x.slice(s![..300, ..]), f.y.slice(s![..300]));
    let mut fits = 0;
    for cost in [0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0] {
        for kernel in ["rbf", "poly", "sigmoid"] {
            for shrinking in [true, false] {
                let params = SvcParams {
                    cost,
                    kernel: kernel.into(),
                    gamma: "auto".into(),
                    shrinking,
                    probability: true,
                    ..SvcParams::default()
                };
                let m = fit(x, y, None, &params).unwrap();
                assert!(m.converged && m.is_finite() && m.shapes_ok(20), "{params:?}");
                let (_, _, prob) = m.predict_row(&f.x.row(900).to_vec());
                assert!((prob.unwrap().iter().sum::<f64>() - 1.0).abs() < 1e-9, "{params:?}");
                fits += 1;
            }
        }
    }
    assert_eq!(fits, 48);
}

fn small() -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((12, 2), |(i, j)| ((i * 7 + j * 3) % 5) as f64 + j as f64);
    let y = Array1::from_shape_fn(12, |i| if i % 3 == 0 { 4.0 } else { 9.0 });
    (x, y)
}

fn param_error(params: &SvcParams) -> String {
    let (x, y) = small();
    match fit(x.view(), y.view(), None, params) {
        Err(Error::InvalidParam { name, .. }) => name,
        other => panic!("{params:?}: expected InvalidParam, got {other:?}"),
    }
}

#[test]
fn out_of_range_hyperparameters_are_refused_by_name() {
    let d = SvcParams::default;
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0] {
        assert_eq!(param_error(&SvcParams { cost: v, ..d() }), "cost", "cost {v}");
        assert_eq!(param_error(&SvcParams { tol: v, ..d() }), "tol", "tol {v}");
        assert_eq!(param_error(&SvcParams { gamma: v.to_string(), ..d() }), "gamma", "{v}");
    }
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(param_error(&SvcParams { coef0: v, ..d() }), "coef0", "coef0 {v}");
    }
    for g in ["0", "-1", "abc", "", "1e400", "-0.0"] {
        assert_eq!(param_error(&SvcParams { gamma: g.into(), ..d() }), "gamma", "gamma {g}");
    }
    for k in ["", "RBF", "precomputed", "laplacian"] {
        assert_eq!(param_error(&SvcParams { kernel: k.into(), ..d() }), "kernel", "kernel {k}");
    }
    assert_eq!(param_error(&SvcParams { degree: 0, ..d() }), "degree");
    for m in [-2, -100, i64::MIN] {
        assert_eq!(param_error(&SvcParams { max_iter: m, ..d() }), "maxIter", "maxIter {m}");
    }
    // In range: a negative coef0, maxIter 0, -1 or 1, a numeric gamma.
    let (x, y) = small();
    for p in [
        SvcParams { coef0: -1.0, kernel: "poly".into(), ..d() },
        SvcParams { coef0: 0.0, kernel: "sigmoid".into(), ..d() },
        SvcParams { max_iter: 1, ..d() },
        SvcParams { max_iter: 0, ..d() },
        SvcParams { max_iter: -1, ..d() },
        SvcParams { gamma: " 0.5 ".into(), ..d() },
    ] {
        fit(x.view(), y.view(), None, &p).unwrap();
    }
}

#[test]
fn params_json_defaults_and_unknown_fields() {
    assert_eq!(serde_json::from_str::<SvcParams>("{}").unwrap(), SvcParams::default());
    let p: SvcParams = serde_json::from_str(r#"{"cost": 2, "maxIter": 50}"#).unwrap();
    assert_eq!((p.cost, p.max_iter), (2.0, 50));
    assert!(serde_json::from_str::<SvcParams>(r#"{"C": 2}"#).is_err());
}

fn data_error(x: &Array2<f64>, y: &Array1<f64>, w: Option<&Array1<f64>>, p: &SvcParams) -> String {
    match fit(x.view(), y.view(), w.map(|w| w.view()), p) {
        Err(e @ Error::Data { .. }) => e.to_string(),
        other => panic!("expected a Data error, got {other:?}"),
    }
}

#[test]
fn bad_data_is_a_data_error_that_says_why() {
    let d = SvcParams::default();
    let (x, y) = small();
    let one = Array1::from_elem(12, 3.0);
    assert_eq!(
        data_error(&x, &one, None, &d),
        "label has only one class (value 3); SVC needs at least two"
    );
    let prob = SvcParams { probability: true, ..SvcParams::default() };
    let e = data_error(&x, &y, None, &prob);
    assert!(e.contains("class 4 has 4 rows") && e.contains("at least 5"), "{e}");
    let short = Array1::from_elem(11, 1.0);
    assert!(data_error(&x, &short, None, &d).contains("12 feature rows but 11 labels"));
    assert!(data_error(&x, &y, Some(&short), &d).contains("11 weights"));
    let empty = Array2::zeros((0, 2));
    assert!(data_error(&empty, &Array1::zeros(0), None, &d).contains("0 x 2"));
    let mut nan = x.clone();
    nan[[3, 1]] = f64::NAN;
    assert!(data_error(&nan, &y, None, &d).contains("finite"));
    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        let mut w = Array1::ones(12);
        w[5] = bad;
        assert!(data_error(&x, &y, Some(&w), &d).contains("weight"), "weight {bad}");
    }
    assert!(data_error(&x, &y, Some(&Array1::zeros(12)), &d).contains("weight sums to 0"));
    let w = Array1::from_shape_fn(12, |i| if y[i] == 4.0 { 0.0 } else { 1.0 });
    let e = data_error(&x, &y, Some(&w), &d);
    assert!(e.contains("class 4 has no row with a positive weight"), "{e}");
}
