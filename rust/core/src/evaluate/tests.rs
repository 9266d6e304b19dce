//! Parsing, task checks and Spark's isLargerBetter; the values themselves are checked against
//! Spark in tests/evaluate.rs.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

#[test]
fn every_name_round_trips_and_defaults_are_sparks() {
    for name in MetricName::ALL {
        let spec = MetricSpec::from_json(&json!({"name": name.spark_name()})).unwrap();
        assert_eq!(spec, MetricSpec::new(name));
        assert_eq!(spec.spark_name(), name.spark_name());
        assert!(!spec.weighted && !spec.through_origin);
        assert_eq!((spec.metric_label, spec.beta, spec.eps), (0.0, 1.0, 1e-15));
    }
}

#[test]
fn options_are_read() {
    let spec = MetricSpec::from_json(&json!({"name": "fMeasureByLabel", "weighted": true,
        "throughOrigin": true, "metricLabel": 2.0, "beta": 0.5, "eps": 0.01}))
    .unwrap();
    assert_eq!(spec.name, MetricName::FMeasureByLabel);
    assert!(spec.weighted && spec.through_origin);
    assert_eq!((spec.metric_label, spec.beta, spec.eps), (2.0, 0.5, 0.01));
}

fn invalid(value: serde_json::Value) -> (String, String) {
    match MetricSpec::from_json(&value) {
        Err(Error::InvalidParam { name, reason }) => (name, reason),
        other => panic!("{value}: expected InvalidParam, got {other:?}"),
    }
}

#[test]
fn unknown_names_list_the_valid_ones() {
    for name in [json!("auc"), json!("RMSE"), json!(""), json!(3)] {
        let (param, reason) = invalid(json!({ "name": name }));
        assert_eq!(param, "metricName");
        assert!(reason.contains("areaUnderROC") && reason.contains("logLoss"), "{reason}");
    }
    assert_eq!(invalid(json!({})).0, "metricName");
    assert_eq!(invalid(json!("rmse")).0, "metric");
    assert_eq!(invalid(json!({"name": "rmse", "metricLable": 1.0})).0, "metric");
}

#[test]
fn options_out_of_sparks_range_are_rejected() {
    let cases = [
        ("beta", json!(0.0)),
        ("beta", json!(-1.0)),
        ("eps", json!(0.0)),
        ("eps", json!(0.5)),
        ("eps", json!(-1e-3)),
        ("eps", json!(0.7)),
        ("metricLabel", json!(-1.0)),
        ("beta", json!("1")),
        ("weighted", json!(1)),
        ("throughOrigin", json!("yes")),
    ];
    for (key, value) in cases {
        let mut object = json!({"name": "logLoss"});
        object[key] = value.clone();
        assert_eq!(invalid(object).0, key, "{key} = {value}");
    }
    // The edges that Spark accepts.
    let spec = MetricSpec::from_json(&json!({"name": "logLoss", "eps": 0.4999, "beta": 1e-9,
        "metricLabel": 0.0}))
    .unwrap();
    assert_eq!(spec.eps, 0.4999);
}

#[test]
fn larger_is_better_is_sparks() {
    let smaller = [
        "rmse",
        "mse",
        "mae",
        "weightedFalsePositiveRate",
        "falsePositiveRateByLabel",
        "hammingLoss",
        "logLoss",
    ];
    for name in MetricName::ALL {
        let expected = !smaller.contains(&name.spark_name());
        assert_eq!(name.larger_is_better(), expected, "{}", name.spark_name());
        assert_eq!(MetricSpec::new(name).larger_is_better(), expected);
    }
    assert!(MetricName::Var.larger_is_better() && MetricName::R2.larger_is_better());
}

#[test]
fn tasks_and_evaluators() {
    for name in MetricName::ALL {
        let spec = MetricSpec::new(name);
        let regression = ["rmse", "mse", "r2", "mae", "var"].contains(&name.spark_name());
        assert_eq!(spec.task(), if regression { Task::Regression } else { Task::Classification });
        assert!(spec.check_task("algo", spec.task()).is_ok());
        assert!(matches!(
            spec.check_task("kmeans", Task::Clustering),
            Err(Error::InvalidParam { ref name, .. }) if name == "metricName"
        ));
    }
    assert_eq!(MetricName::AreaUnderPr.evaluator(), Evaluator::BinaryClassification);
    assert_eq!(MetricName::LogLoss.evaluator(), Evaluator::MulticlassClassification);
}

#[test]
fn a_metric_of_another_task_names_metric_evaluator_and_algorithm() {
    let reason = |metric: MetricName, algorithm: &str, task: Task| match MetricSpec::new(metric)
        .check_task(algorithm, task)
    {
        Err(Error::InvalidParam { name, reason }) if name == "metricName" => reason,
        other => panic!("expected InvalidParam(metricName), got {other:?}"),
    };
    let r = reason(MetricName::R2, "svc", Task::Classification);
    assert!(r.starts_with("r2 is a RegressionEvaluator metric; svc is a classifier"), "{r}");
    let r = reason(MetricName::Accuracy, "linear", Task::Regression);
    assert!(
        r.starts_with(
            "accuracy is a MulticlassClassificationEvaluator metric; linear is a regressor"
        ),
        "{r}"
    );
    let r = reason(MetricName::AreaUnderRoc, "glm", Task::Regression);
    assert!(r.starts_with("areaUnderROC is a BinaryClassificationEvaluator metric; glm is"), "{r}");
    let r = reason(MetricName::Rmse, "kmeans", Task::Clustering);
    assert!(r.contains("kmeans is a clustering algorithm"), "{r}");
}
