//! The validation metrics against Spark 3.5.7's evaluators on the same predictions.
//!
//! The fixtures `tests/fixtures/metrics/*.json` (at the repository root) come from
//! `tests/reference/make_metric_fixtures.py`, which runs pyspark's RegressionEvaluator,
//! BinaryClassificationEvaluator (numBins = 0) and MulticlassClassificationEvaluator on each
//! fixture's rows. Every value must agree within 1e-9, absolute below 1 and relative above
//! (|actual - expected| <= 1e-9 * max(1, |expected|)); where Spark throws, manyfold must fail.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use manyfold_core::algo::Prediction;
use manyfold_core::evaluate::{Evaluation, MetricName, MetricSpec};
use manyfold_core::Error;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn fixtures() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/metrics");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

fn column(case: &Value, key: &str) -> Vec<f64> {
    serde_json::from_value(case[key].clone()).unwrap()
}

fn rows(case: &Value, key: &str) -> Option<Vec<Vec<f64>>> {
    serde_json::from_value(case[key].clone()).unwrap()
}

/// The fixture's metric on manyfold's side: every row through `Evaluation`.
fn evaluate(case: &Value, spec: &MetricSpec) -> Result<f64, Error> {
    let label = column(case, "label");
    let weight = column(case, "weight");
    let prediction = column(case, "prediction");
    let raw = rows(case, "raw");
    let probability = rows(case, "probability");
    let classes: Option<Vec<f64>> = serde_json::from_value(case["classes"].clone()).unwrap();
    let mut evaluation = Evaluation::new(spec);
    for i in 0..label.len() {
        let p = match &raw {
            None => Prediction::Value(prediction[i]),
            Some(raw) => Prediction::Class {
                label: prediction[i],
                raw: raw[i].clone(),
                probability: probability.as_ref().map(|p| p[i].clone()),
            },
        };
        let w = if spec.weighted { weight[i] } else { 1.0 };
        evaluation.add(label[i], w, &p, classes.as_deref());
    }
    evaluation.finish()
}

#[test]
fn every_metric_equals_sparks() {
    let cases = fixtures();
    assert!(cases.len() >= 7, "{} metric fixtures", cases.len());
    let (mut compared, mut failures_expected) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        for m in case["metrics"].as_array().unwrap() {
            let spec = MetricSpec::from_json(&m["metric"]).unwrap();
            seen.insert(spec.spark_name());
            let actual = evaluate(case, &spec);
            match m["expected"].as_f64() {
                Some(expected) => {
                    let actual = actual.unwrap_or_else(|e| panic!("{name} {}: {e}", m["metric"]));
                    let error = (actual - expected).abs();
                    assert!(
                        error <= TOLERANCE * expected.abs().max(1.0),
                        "{name} {}: manyfold {actual}, Spark {expected} (difference {error:e})",
                        m["metric"]
                    );
                    compared += 1;
                }
                None => {
                    assert!(
                        matches!(actual, Err(Error::Data { .. })),
                        "{name} {}: Spark failed ({}), manyfold gave {actual:?}",
                        m["metric"],
                        m["error"]
                    );
                    failures_expected += 1;
                }
            }
        }
    }
    assert_eq!(seen.len(), MetricName::ALL.len(), "metrics without a fixture: {seen:?}");
    assert!(compared >= 150 && failures_expected >= 1, "{compared} compared, {failures_expected}");
}

fn class(label: f64, p1: f64) -> Prediction {
    Prediction::Class { label, raw: vec![-p1, p1], probability: Some(vec![1.0 - p1, p1]) }
}

fn data_error(spec: &MetricSpec, rows: &[(f64, Prediction)], classes: Option<&[f64]>) -> String {
    let mut evaluation = Evaluation::new(spec);
    for (label, p) in rows {
        evaluation.add(*label, 1.0, p, classes);
    }
    match evaluation.finish() {
        Err(Error::Data { reason }) => reason,
        other => panic!("{}: expected a Data error, got {other:?}", spec.spark_name()),
    }
}

#[test]
fn no_rows_is_undefined_for_every_metric() {
    for name in MetricName::ALL {
        let reason = data_error(&MetricSpec::new(name), &[], None);
        assert!(reason.contains("no validation rows"), "{reason}");
    }
}

#[test]
fn a_missing_prediction_is_undefined() {
    for name in [MetricName::Rmse, MetricName::AreaUnderRoc, MetricName::Accuracy] {
        let rows = [(1.0, class(1.0, 0.9)), (0.0, Prediction::Missing)];
        let rows: Vec<_> = if name == MetricName::Rmse {
            vec![(1.0, Prediction::Value(1.0)), (0.0, Prediction::Missing)]
        } else {
            rows.to_vec()
        };
        let reason = data_error(&MetricSpec::new(name), &rows, Some(&[0.0, 1.0]));
        assert!(reason.contains("no prediction"), "{reason}");
    }
}

#[test]
fn areas_of_a_single_class_are_undefined() {
    for name in [MetricName::AreaUnderRoc, MetricName::AreaUnderPr] {
        for label in [0.0, 1.0] {
            let rows = [(label, class(1.0, 0.7)), (label, class(0.0, -0.2))];
            let reason = data_error(&MetricSpec::new(name), &rows, Some(&[0.0, 1.0]));
            assert!(reason.contains("single class"), "{reason}");
        }
    }
}

#[test]
fn binary_metrics_of_three_classes_are_undefined() {
    let p = Prediction::Class { label: 2.0, raw: vec![0.1, 0.2, 0.7], probability: None };
    let rows = [(0.0, p.clone()), (1.0, p)];
    let reason =
        data_error(&MetricSpec::new(MetricName::AreaUnderRoc), &rows, Some(&[0.0, 1.0, 2.0]));
    assert!(reason.contains("3 classes"), "{reason}");
}

#[test]
fn log_loss_without_probabilities_is_undefined() {
    let p = Prediction::Class { label: 1.0, raw: vec![-1.0, 1.0], probability: None };
    let reason = data_error(&MetricSpec::new(MetricName::LogLoss), &[(1.0, p)], Some(&[0.0, 1.0]));
    assert!(reason.contains("probabilities"), "{reason}");
    // The confusion metrics do not need them.
    let mut e = Evaluation::new(&MetricSpec::new(MetricName::Accuracy));
    e.add(
        1.0,
        1.0,
        &Prediction::Class { label: 1.0, raw: vec![-1.0, 1.0], probability: None },
        None,
    );
    assert_eq!(e.finish(), Ok(1.0));
}

#[test]
fn log_loss_of_a_label_that_is_not_a_class_is_eps() {
    let mut spec = MetricSpec::new(MetricName::LogLoss);
    spec.eps = 1e-3;
    let mut e = Evaluation::new(&spec);
    e.add(5.0, 1.0, &class(1.0, 0.9), Some(&[0.0, 1.0]));
    assert!((e.finish().unwrap() + 1e-3f64.ln()).abs() < 1e-12);
    // Classes other than 0..K-1: the label's position, not its value.
    let mut e = Evaluation::new(&spec);
    e.add(7.0, 1.0, &class(7.0, 0.25), Some(&[3.0, 7.0]));
    assert!((e.finish().unwrap() + 0.25f64.ln()).abs() < 1e-12);
}

#[test]
fn metric_label_absent_from_the_rows_is_undefined() {
    let mut spec = MetricSpec::new(MetricName::PrecisionByLabel);
    spec.metric_label = 2.0;
    let rows = [(0.0, class(0.0, 0.1)), (1.0, class(1.0, 0.8))];
    let reason = data_error(&spec, &rows, Some(&[0.0, 1.0]));
    assert!(reason.contains("metricLabel 2"), "{reason}");
}

#[test]
fn r2_of_constant_labels_is_undefined() {
    let rows = [(3.0, Prediction::Value(2.0)), (3.0, Prediction::Value(4.0))];
    let reason = data_error(&MetricSpec::new(MetricName::R2), &rows, None);
    assert!(reason.contains("all equal"), "{reason}");
    // rmse is still defined there.
    let mut e = Evaluation::new(&MetricSpec::new(MetricName::Rmse));
    for (label, p) in &rows {
        e.add(*label, 1.0, p, None);
    }
    assert_eq!(e.finish(), Ok(1.0));
}

#[test]
fn a_prediction_of_the_wrong_kind_is_undefined() {
    let reason = data_error(&MetricSpec::new(MetricName::Rmse), &[(1.0, class(1.0, 0.9))], None);
    assert!(reason.contains("RegressionEvaluator"), "{reason}");
    let rows = [(1.0, Prediction::Cluster { index: 0, distance2: 1.0 })];
    let reason = data_error(&MetricSpec::new(MetricName::Accuracy), &rows, None);
    assert!(reason.contains("cluster"), "{reason}");
}

#[test]
fn binary_areas_do_not_depend_on_row_order() {
    let rows: Vec<(f64, Prediction)> = (0..40)
        .map(|i| (f64::from(i % 3 == 0), class(f64::from(i % 2 == 0), f64::from(i % 5) - 2.0)))
        .collect();
    for name in [MetricName::AreaUnderRoc, MetricName::AreaUnderPr] {
        let run = |rows: &mut dyn Iterator<Item = &(f64, Prediction)>| {
            let mut e = Evaluation::new(&MetricSpec::new(name));
            for (label, p) in rows {
                e.add(*label, 1.0, p, Some(&[0.0, 1.0]));
            }
            e.finish().unwrap()
        };
        assert_eq!(run(&mut rows.iter()), run(&mut rows.iter().rev()));
    }
}

#[test]
fn a_nan_that_spark_would_return_is_undefined() {
    // falsePositiveRateByLabel with no row of another label: 0 / 0 in Spark.
    let spec = MetricSpec::new(MetricName::FalsePositiveRateByLabel);
    let rows = [(0.0, class(0.0, 0.2)), (0.0, class(1.0, 0.8))];
    let reason = data_error(&spec, &rows, Some(&[0.0, 1.0]));
    assert!(reason.contains("NaN"), "{reason}");
    // A label whose rows all weigh 0 is still a label for Spark: its recall is 0 / 0.
    let mut e = Evaluation::new(&MetricSpec::new(MetricName::WeightedRecall));
    e.add(0.0, 1.0, &class(0.0, 0.2), Some(&[0.0, 1.0]));
    e.add(1.0, 0.0, &class(0.0, 0.2), Some(&[0.0, 1.0]));
    assert!(matches!(e.finish(), Err(Error::Data { .. })));
}
