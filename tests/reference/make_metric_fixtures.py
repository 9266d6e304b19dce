"""Reference values of the validation metrics (rust/core/src/evaluate.rs), from Spark's own
evaluators on small seeded prediction sets.

Every `expected` value in tests/fixtures/metrics/*.json is what pyspark.ml's RegressionEvaluator,
BinaryClassificationEvaluator (numBins=0, i.e. exact curves) or MulticlassClassificationEvaluator
returns on the fixture's rows, never a value computed by manyfold. Where Spark raises (a
`...ByLabel` metric of a label absent from the rows), the fixture records the error instead and
manyfold must fail too. rust/core/tests/evaluate.rs feeds the rows through `Evaluation` and
compares.

Rerun from the repository root (Java 17):

    ~/.cache/manyfold/venv-spark-3.5.7/bin/python tests/reference/make_metric_fixtures.py
    cargo test -p manyfold-core --test evaluate

A fixture holds the columns Spark evaluates (`label`, `weight`, `prediction`, `raw` =
rawPrediction, `probability`), the model's `classes` (null for a regressor) and a list of
`{"metric": <the search JSON's metric object>, "expected": value or null, "error": text or null}`.
An unweighted metric ignores the weight column (the evaluator has no weightCol).
"""

import json
import math
import os
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "metrics"

REGRESSION = ["rmse", "mse", "r2", "mae", "var"]
BINARY = ["areaUnderROC", "areaUnderPR"]
MULTICLASS = ["f1", "accuracy", "weightedPrecision", "weightedRecall", "weightedTruePositiveRate",
              "weightedFalsePositiveRate", "weightedFMeasure", "truePositiveRateByLabel",
              "falsePositiveRateByLabel", "precisionByLabel", "recallByLabel", "fMeasureByLabel",
              "hammingLoss", "logLoss"]


def spark_session():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.pop("PYSPARK_SUBMIT_ARGS", None)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def frame(spark, case):
    from pyspark.ml.linalg import Vectors
    from pyspark.sql.types import DoubleType, StructField, StructType
    from pyspark.ml.linalg import VectorUDT

    n = len(case["label"])
    fields = [StructField("label", DoubleType()), StructField("weight", DoubleType()),
              StructField("prediction", DoubleType())]
    has_vectors = case["raw"] is not None
    if has_vectors:
        fields += [StructField("rawPrediction", VectorUDT()),
                   StructField("probability", VectorUDT())]
    rows = []
    for i in range(n):
        row = [case["label"][i], case["weight"][i], case["prediction"][i]]
        if has_vectors:
            row += [Vectors.dense(case["raw"][i]), Vectors.dense(case["probability"][i])]
        rows.append(tuple(row))
    # Two partitions, so that Spark's cross-partition merges are exercised too.
    return spark.createDataFrame(rows, StructType(fields)).repartition(2).cache()


def evaluator(metric):
    from pyspark.ml.evaluation import (BinaryClassificationEvaluator,
                                       MulticlassClassificationEvaluator, RegressionEvaluator)

    name = metric["name"]
    if name in REGRESSION:
        e = RegressionEvaluator(metricName=name, throughOrigin=metric["throughOrigin"])
    elif name in BINARY:
        e = BinaryClassificationEvaluator(metricName=name, numBins=0)
    else:
        e = MulticlassClassificationEvaluator(metricName=name, metricLabel=metric["metricLabel"],
                                              beta=metric["beta"], eps=metric["eps"])
    if metric["weighted"]:
        e.setWeightCol("weight")
    return e


def metric(name, weighted=False, through_origin=False, metric_label=0.0, beta=1.0, eps=1e-15):
    return {"name": name, "weighted": weighted, "throughOrigin": through_origin,
            "metricLabel": metric_label, "beta": beta, "eps": eps}


def evaluate_all(spark, case, metrics):
    df = frame(spark, case)
    out = []
    for m in metrics:
        try:
            value = float(evaluator(m).evaluate(df))
            out.append({"metric": m, "expected": value, "error": None})
        except Exception as e:  # Spark's own failure is the reference here
            java = getattr(e, "java_exception", None)
            text = (java.toString() if java is not None else str(e)).splitlines()[0][:200]
            out.append({"metric": m, "expected": None, "error": text})
    case["metrics"] = out
    return case


def regression_case(spark, name, seed, n, offset):
    rng = np.random.default_rng(seed)
    y = offset + rng.normal(scale=3.0, size=n)
    pred = 0.8 * y + 0.2 * offset + rng.normal(scale=1.0, size=n)
    w = rng.uniform(0.2, 3.0, size=n)
    metrics = [metric(m, weighted, origin)
               for m in REGRESSION for weighted in (False, True) for origin in (False, True)]
    case = {"name": name, "kind": "regression", "classes": None,
            "label": y.tolist(), "weight": w.tolist(), "prediction": pred.tolist(),
            "raw": None, "probability": None}
    return evaluate_all(spark, case, metrics)


def binary_case(spark, name, seed, n, decimals, weighted_zero=False):
    """Scores rounded to `decimals` so that many rows share a score (ties)."""
    rng = np.random.default_rng(seed)
    label = (rng.uniform(size=n) < 0.4).astype(float)
    m = np.round(rng.normal(size=n) + 1.2 * (label - 0.4), decimals)
    w = rng.uniform(0.1, 2.5, size=n)
    if weighted_zero:
        w[::7] = 0.0
    prob1 = 1.0 / (1.0 + np.exp(-2.0 * m))
    case = {"name": name, "kind": "binary", "classes": [0.0, 1.0],
            "label": label.tolist(), "weight": w.tolist(),
            "prediction": (m > 0).astype(float).tolist(),
            "raw": [[-v, v] for v in m.tolist()],
            "probability": [[1.0 - p, p] for p in prob1.tolist()]}
    metrics = [metric(b, weighted) for b in BINARY for weighted in (False, True)]
    # The multiclass metrics of a binary classifier too.
    metrics += [metric(c, weighted) for c in ("f1", "accuracy", "logLoss")
                for weighted in (False, True)]
    return evaluate_all(spark, case, metrics)


def multiclass_case(spark, name, seed, n, label_classes, predicted_classes):
    """Three model classes; the rows' labels and the predictions may each miss some of them."""
    rng = np.random.default_rng(seed)
    k = 3
    label = rng.choice(label_classes, size=n).astype(float)
    logits = rng.normal(scale=1.5, size=(n, k))
    for i in range(n):
        logits[i, int(label[i])] += 1.0
    mask = np.full(k, -np.inf)
    mask[predicted_classes] = 0.0
    logits = logits + mask
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    # Probabilities of exactly 0 and 1 and below eps, for the clipping.
    prob[0] = [1.0, 0.0, 0.0]
    prob[1] = [0.0, 1.0, 0.0]
    prob[2] = [1e-17, 1.0 - 1e-17, 0.0]
    pred = prob.argmax(axis=1).astype(float)
    w = rng.uniform(0.2, 3.0, size=n)
    raw = np.where(np.isfinite(logits), logits, -50.0)
    case = {"name": name, "kind": "multiclass", "classes": [0.0, 1.0, 2.0],
            "label": label.tolist(), "weight": w.tolist(), "prediction": pred.tolist(),
            "raw": raw.tolist(), "probability": prob.tolist()}
    metrics = []
    for weighted in (False, True):
        for m in MULTICLASS:
            if m.endswith("ByLabel"):
                for metric_label in (0.0, 1.0, 2.0):
                    betas = (1.0, 0.5, 2.0) if m == "fMeasureByLabel" else (1.0,)
                    metrics += [metric(m, weighted, metric_label=metric_label, beta=b)
                                for b in betas]
            elif m == "weightedFMeasure":
                metrics += [metric(m, weighted, beta=b) for b in (1.0, 0.5, 2.0)]
            elif m == "logLoss":
                metrics += [metric(m, weighted, eps=e) for e in (1e-15, 0.1)]
            else:
                metrics.append(metric(m, weighted))
    return evaluate_all(spark, case, metrics)


def write(case, spark_version):
    case["source"] = (f"pyspark {spark_version} evaluators (tests/reference/"
                      f"make_metric_fixtures.py)")
    path = OUT / f"{case['name']}.json"
    path.write_text(json.dumps(case, indent=None, separators=(",", ":")) + "\n")
    print(f"{path}: {len(case['label'])} rows, {len(case['metrics'])} metrics, "
          f"{sum(m['error'] is not None for m in case['metrics'])} Spark errors")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    spark = spark_session()
    cases = [
        regression_case(spark, "regression_centered", 1, 60, 0.0),
        regression_case(spark, "regression_offset", 2, 45, 50.0),
        binary_case(spark, "binary_ties", 3, 200, 1),
        binary_case(spark, "binary_heavy_ties_zero_weights", 4, 80, 0, weighted_zero=True),
        binary_case(spark, "binary_distinct", 5, 50, 12),
        # Class 2 is a label but never predicted.
        multiclass_case(spark, "multiclass_never_predicted", 6, 150, [0, 1, 2], [0, 1]),
        # Class 2 is predicted but never a label (Spark's label set is the labels seen).
        multiclass_case(spark, "multiclass_predicted_only", 7, 120, [0, 1], [0, 1, 2]),
    ]
    for case in cases:
        assert all(math.isfinite(x) for x in case["label"])
        write(case, spark.version)
    spark.stop()


if __name__ == "__main__":
    main()
