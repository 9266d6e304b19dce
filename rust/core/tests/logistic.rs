//! Logistic regression on small hand-made data sets: classes, errors, determinism.

#![allow(clippy::unwrap_used)]

use manyfold_core::algo::logistic::{fit, fit_weighted, metrics, LogisticModel, LogisticParams};
use manyfold_core::algo::Prediction;
use manyfold_core::Error;

use ndarray::{Array1, Array2};

/// Three features (the second ~1000x the others); labels from a noisy linear score, class
/// `labels[0]` the most frequent.
fn data(n: usize, labels: &[f64]) -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let t = i as f64;
        [(t * 0.9).sin() * 2.0, (t * 0.37).cos() * 1000.0 + 40.0, (t * 1.7).sin()][j]
    });
    let y = x
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let score = r[0] + 0.002 * r[1] + (i as f64 * 2.3).sin() - 1.0;
            let c = usize::from(score >= 0.0) + usize::from(score > 1.0);
            labels[c.min(labels.len() - 1)]
        })
        .collect();
    (x, y)
}

fn params(reg_param: f64, family: &str) -> LogisticParams {
    LogisticParams { reg_param, family: family.to_string(), ..LogisticParams::default() }
}

#[test]
fn one_class_or_no_row_is_a_data_error() {
    let x = Array2::from_shape_fn((5, 2), |(i, j)| (i + j) as f64);
    let e = fit(x.view(), Array1::from_elem(5, 3.0).view(), &params(0.1, "auto")).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "label has only one class (value 3); logistic regression needs at least two"
    );
    let e = fit(x.slice(ndarray::s![..0, ..]), Array1::zeros(0).view(), &params(0.1, "auto"));
    assert!(matches!(e, Err(Error::Data { .. })), "{e:?}");
}

#[test]
fn binomial_family_refuses_three_classes() {
    let (x, y) = data(60, &[0.0, 1.0, 2.0]);
    let e = fit(x.view(), y.view(), &params(0.1, "binomial")).unwrap_err();
    assert!(e.to_string().contains("family binomial needs 2 classes, the label has 3"), "{e}");
    let m = fit(x.view(), y.view(), &params(0.1, "auto")).unwrap();
    assert_eq!((m.coefficients.len(), m.intercepts.len()), (3, 3));
}

#[test]
fn frequent_class_zero_stays_class_zero() {
    // linfa-logistic makes the more frequent class its positive one; here it is classes[0].
    let (x, y) = data(80, &[0.0, 1.0]);
    assert!(y.iter().filter(|v| **v == 0.0).count() > 40);
    let m = fit(x.view(), y.view(), &params(0.01, "auto")).unwrap();
    assert_eq!(m.classes, vec![0.0, 1.0]);
    assert!(m.coefficients[0][0] > 0.0, "class 1 grows with feature 0: {m:?}");
    let r = metrics(&m, x.view(), y.view());
    assert!(r.accuracy > 0.8, "{r:?}");
}

#[test]
fn probabilities_sum_to_one_and_match_the_label() {
    for (labels, family) in [(&[4.0, -1.0][..], "auto"), (&[2.0, 0.0, 1.0][..], "multinomial")] {
        let (x, y) = data(70, labels);
        let m = fit(x.view(), y.view(), &params(0.05, family)).unwrap();
        for row in x.rows() {
            let (label, raw, probability) = class(m.predict_row(row.as_slice().unwrap()));
            assert!((probability.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{probability:?}");
            let best = probability.iter().cloned().fold(f64::MIN, f64::max);
            assert_eq!(probability[m.classes.iter().position(|c| *c == label).unwrap()], best);
            assert_eq!(raw.len(), m.classes.len());
        }
    }
}

#[test]
fn constant_feature_gets_coefficient_zero() {
    let (mut x, y) = data(60, &[0.0, 1.0]);
    x.column_mut(2).fill(0.3);
    for std in [true, false] {
        let p = LogisticParams { standardization: std, ..params(0.02, "auto") };
        let m = fit(x.view(), y.view(), &p).unwrap();
        assert_eq!(m.coefficients[0][2], 0.0);
        assert!(m.coefficients[0][0] != 0.0);
    }
}

#[test]
fn collinear_features_and_separable_classes_still_fit_without_penalty() {
    let (mut x, y) = data(60, &[0.0, 1.0]);
    let twice = &x.column(0) * 2.0;
    x.column_mut(2).assign(&twice);
    let m = fit(x.view(), y.view(), &params(0.0, "auto")).unwrap();
    assert!(m.iterations < 100, "{}", m.iterations);
    let separable = x.column(0).mapv(|v| f64::from(u8::from(v > 0.1)));
    for (tol, family) in [(1e-6, "auto"), (0.0, "auto"), (0.0, "multinomial")] {
        let p = LogisticParams { tol, ..params(0.0, family) };
        let m = fit(x.view(), separable.view(), &p).unwrap();
        assert_eq!(metrics(&m, x.view(), separable.view()).accuracy, 1.0, "{p:?}");
    }
}

#[test]
fn two_class_multinomial_without_penalty_equals_binomial() {
    let (x, y) = data(80, &[0.0, 1.0]);
    let b = fit(x.view(), y.view(), &params(0.0, "binomial")).unwrap();
    let m = fit(x.view(), y.view(), &params(0.0, "multinomial")).unwrap();
    assert_eq!(m.coefficients.len(), 2);
    for row in x.rows() {
        let (_, _, pb) = class(b.predict_row(row.as_slice().unwrap()));
        let (_, _, pm) = class(m.predict_row(row.as_slice().unwrap()));
        assert!((pb[1] - pm[1]).abs() < 1e-6, "{pb:?} {pm:?}");
    }
}

#[test]
fn fitting_twice_gives_identical_bits() {
    let (x, y) = data(90, &[0.0, 1.0, 2.0]);
    let p = LogisticParams { standardization: false, ..params(0.01, "auto") };
    let (a, b) = (fit(x.view(), y.view(), &p).unwrap(), fit(x.view(), y.view(), &p).unwrap());
    let bits = |m: &LogisticModel| {
        m.coefficients
            .iter()
            .flatten()
            .chain(&m.intercepts)
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn rows_of_weight_zero_take_no_part() {
    // A class (7) seen only on rows of weight 0 is no class either.
    let (x, mut y) = data(120, &[0.0, 1.0, 2.0]);
    let w = Array1::from_shape_fn(120, |i| if i % 5 == 0 { 0.0 } else { 1.0 + (i % 3) as f64 });
    (0..120).step_by(10).for_each(|i| y[i] = 7.0);
    let kept: Vec<usize> = (0..120).filter(|i| i % 5 != 0).collect();
    let (xk, yk, wk) = (
        x.select(ndarray::Axis(0), &kept),
        y.select(ndarray::Axis(0), &kept),
        w.select(ndarray::Axis(0), &kept),
    );
    for family in ["auto", "binomial"] {
        let labels = if family == "binomial" { yk.mapv(|v| v.min(1.0)) } else { yk.clone() };
        let all_labels = if family == "binomial" {
            y.mapv(|v| if v == 7.0 { v } else { v.min(1.0) })
        } else {
            y.clone()
        };
        let p = params(0.01, family);
        let with = fit_weighted(x.view(), all_labels.view(), Some(w.view()), &p).unwrap();
        let without = fit_weighted(xk.view(), labels.view(), Some(wk.view()), &p).unwrap();
        assert_eq!(with.classes, without.classes, "{family}");
        let values = |m: &LogisticModel| {
            m.coefficients.iter().flatten().chain(&m.intercepts).copied().collect::<Vec<_>>()
        };
        for (a, b) in values(&with).iter().zip(values(&without)) {
            assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{family}: {a} vs {b}");
        }
    }
}

/// The label, raw scores and probabilities of a classifier's prediction.
fn class(p: Prediction) -> (f64, Vec<f64>, Vec<f64>) {
    match p {
        Prediction::Class { label, raw, probability: Some(probability) } => {
            (label, raw, probability)
        }
        other => panic!("not a class prediction with probabilities: {other:?}"),
    }
}
