"""Inference cases of the benchmark: predicting with models already fitted, on a cached DataFrame.

- infer_logistic: one logistic model, 10,000,000 rows x 20 numeric columns. manyfold's
  `LogisticRegressionModel.transform` (`setInputCols`, the 20 columns), the same model as a SQL
  function (`SELECT *, score(x0, ..., x19) FROM t`), Spark ML's `LogisticRegressionModel.transform`
  on a cached, pre-assembled Vector column and on the 20 columns through `VectorAssembler` (the
  assembling timed), and a pandas UDF calling scikit-learn's `predict_proba`. One set of
  coefficients on every side: manyfold's LogisticRegression is fitted on a 200,000-row sample of
  the same distribution, and Spark's and scikit-learn's models are built from its coefficients.
- infer_grouped: 10,000 per-group linear models (10 features), 10,000,000 rows. manyfold's
  `GroupedModel.transform` with its models broadcast (the default for under 64 MB of model bytes)
  and shuffled with the rows (`spark.manyfold.predict.broadcastThreshold=0`), against
  `applyInPandas` predicting each group's rows with that group's scikit-learn `LinearRegression`
  (fitted beforehand on the same training rows, a dict broadcast to the Python workers).

Every method's output (the input columns plus its predictions) is forced the same way, written to
Spark's `noop` sink, which evaluates every column of every row and keeps nothing. The scan floor
writes the cached input itself to `noop`: what reading the cache costs before any prediction.

Quality: every method's predictions on a sample of rows (P(y = 1) for the logistic case, the
prediction for the grouped one) against manyfold `transform`'s, largest absolute difference.
"""

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

import data
from data import feature_names
from methods import _java_strings

# Predictions of the same model on the same rows agree to this (absolute).
PREDICTION_TOL = 1e-9
SAMPLE_ROWS = 1_000

# The SQL functions' names (temporary functions of the session).
SQL_SCORE, SQL_PROBABILITY = "mf_score", "mf_score_probability"

METHOD_TITLES = {
    "manyfold": "manyfold transform (inputCols)",
    "manyfold_sql": "manyfold SQL function",
    "manyfold_shuffle": "manyfold transform, shuffle path (broadcastThreshold=0)",
    "spark_ml_preassembled": "Spark ML transform, cached Vector column",
    "spark_ml_assembled": "Spark ML VectorAssembler + transform",
    "pandas_udf": "pandas UDF + sklearn predict_proba",
    "apply_in_pandas": "applyInPandas + sklearn predict per group",
    "scan_floor": "scan floor (cached input to noop)",
}


def cases(smoke, seed):
    """The two inference cases at full or smoke size (rows x features; groups; training rows)."""
    return [
        {"name": "infer_logistic", "algorithm": "logistic",
         "rows": 20_000 if smoke else 10_000_000, "features": 20, "groups": 1,
         "train_rows": 5_000 if smoke else 200_000, "seed": seed,
         "methods_order": ["manyfold", "manyfold_sql", "spark_ml_preassembled",
                           "spark_ml_assembled", "pandas_udf", "scan_floor"]},
        {"name": "infer_grouped", "algorithm": "linear",
         "rows": 20_000 if smoke else 10_000_000, "features": 10,
         "groups": 20 if smoke else 10_000, "train_rows": 2_000 if smoke else 1_000_000,
         "seed": seed,
         "methods_order": ["manyfold", "manyfold_shuffle", "apply_in_pandas", "scan_floor"]},
    ]


def force(df):
    """Evaluates every column of every row of `df`, keeping nothing (the same for every method)."""
    df.write.format("noop").mode("overwrite").save()


def _java_doubles(spark, values):
    gateway = spark.sparkContext._gateway
    arr = gateway.new_array(gateway.jvm.double, len(values))
    for i, v in enumerate(values):
        arr[i] = float(v)
    return arr


# --- one logistic model -----------------------------------------------------------------------

def logistic_models(spark, train, p):
    """manyfold's LogisticRegression (unpenalized) fitted on `train`, and Spark's and
    scikit-learn's logistic models built from its coefficients."""
    from sklearn.linear_model import LogisticRegression

    jvm = spark._jvm
    names = feature_names(p)
    est = (jvm.manyfold.ml.classification.LogisticRegression().setRegParam(0.0)
           .setInputCols(_java_strings(spark, names)).setLabelCol("y"))
    mine = est.fit(train._jdf)
    coef = np.array(list(mine.coefficients().toArray()), dtype=float)
    intercept = float(mine.intercept())
    theirs = jvm.org.apache.spark.ml.classification.LogisticRegressionModel(
        "spark-lr-bench", jvm.org.apache.spark.ml.linalg.Vectors.dense(_java_doubles(spark, coef)),
        intercept)
    sk = LogisticRegression()
    sk.classes_ = np.array([0.0, 1.0])
    sk.coef_ = coef.reshape(1, -1)
    sk.intercept_ = np.array([intercept])
    sk.n_features_in_ = p
    jvm.manyfold.sql.register(spark._jsparkSession, SQL_SCORE, mine, "prediction")
    jvm.manyfold.sql.register(spark._jsparkSession, SQL_PROBABILITY, mine, "probability")
    return {"manyfold": mine, "spark": theirs, "sklearn": sk, "coef": coef,
            "intercept": intercept}


def _proba_udf(model):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def proba(x: pd.DataFrame) -> pd.Series:
        # Runs in the Python workers: the model is pickled with the closure.
        import pandas as pd

        return pd.Series(model.predict_proba(x.to_numpy())[:, 1])

    return proba


def assemble(df, p):
    from pyspark.ml.feature import VectorAssembler

    return VectorAssembler(inputCols=feature_names(p), outputCol="features").transform(df)


def logistic_methods(spark, models, df, vectors, view, p):
    """name -> function building the method's output DataFrame (not yet forced). `df`: the 20
    columns (cached), `vectors`: the pre-assembled Vector column (cached), `view`: `df`'s
    temporary view."""
    names = feature_names(p)
    udf = _proba_udf(models["sklearn"])
    cols = ", ".join(names)
    return {
        "manyfold": lambda: DataFrame(models["manyfold"].transform(df._jdf), spark),
        "manyfold_sql": lambda: spark.sql(f"SELECT *, {SQL_SCORE}({cols}) AS score FROM {view}"),
        "spark_ml_preassembled":
            lambda: DataFrame(models["spark"].transform(vectors._jdf), spark),
        "spark_ml_assembled": lambda: DataFrame(models["spark"].transform(assemble(df, p)._jdf),
                                                spark),
        "pandas_udf": lambda: df.withColumn("p1", udf(F.struct(*names))),
        "scan_floor": lambda: df,
    }


def _p1(col):
    """P(y = 1) from a probability Vector column."""
    from pyspark.ml.functions import vector_to_array

    return vector_to_array(col)[1]


def logistic_quality(spark, models, df, p, seed):
    """Largest |P(y = 1) - manyfold transform's| over a sample of rows, per method, and whether
    the predicted classes agree."""
    names = feature_names(p)
    sample = df.sample(fraction=min(1.0, 3 * SAMPLE_ROWS / max(df.count(), 1)), seed=seed)
    pdf = sample.limit(SAMPLE_ROWS).toPandas()
    pdf.insert(0, "rid", np.arange(len(pdf), dtype=np.int64))
    small = spark.createDataFrame(pdf)
    small.createOrReplaceTempView("infer_quality_sample")
    cols = ", ".join(names)

    def spark_side(out):
        return out.select("rid", _p1(F.col("probability")).alias("p1"),
                          F.col("prediction").alias("label"))

    mine = spark_side(DataFrame(models["manyfold"].transform(small._jdf), spark)).toPandas()
    others = {
        "manyfold_sql": spark.sql(
            f"SELECT rid, {SQL_PROBABILITY}({cols}) AS probability, {SQL_SCORE}({cols}) AS label "
            "FROM infer_quality_sample").select("rid", _p1(F.col("probability")).alias("p1"),
                                                "label"),
        "spark_ml_preassembled": spark_side(DataFrame(
            models["spark"].transform(assemble(small, p).select("rid", "features")._jdf), spark)),
        "spark_ml_assembled": spark_side(DataFrame(
            models["spark"].transform(assemble(small, p)._jdf), spark)),
        "pandas_udf": small.select("rid", _proba_udf(models["sklearn"])(F.struct(*names))
                                   .alias("p1")),
    }
    mine = mine.set_index("rid").sort_index()
    out = {"rows": int(len(mine)), "max_abs_diff": {}, "labels_differ": {}}
    # scikit-learn on the driver, as a check of the pandas UDF's plumbing.
    direct = models["sklearn"].predict_proba(pdf[names].to_numpy())[:, 1]
    out["max_abs_diff"]["sklearn_driver"] = float(np.abs(direct - mine["p1"].to_numpy()).max())
    for name, frame in others.items():
        theirs = frame.toPandas().set_index("rid").sort_index()
        out["max_abs_diff"][name] = float((theirs["p1"] - mine["p1"]).abs().max())
        if "label" in theirs:
            out["labels_differ"][name] = int((theirs["label"] != mine["label"]).sum())
    out["worst"] = max(out["max_abs_diff"].values())
    out["within_tolerance"] = (out["worst"] <= PREDICTION_TOL
                               and not any(out["labels_differ"].values()))
    return out


# --- one linear model per group ---------------------------------------------------------------

def grouped_models(spark, train, train_path, p):
    """manyfold's Grouped(LinearRegression) fitted on `train` (the Java GroupedModel), and
    scikit-learn's LinearRegression per group fitted on the same rows on the driver."""
    import pyarrow.parquet as pq
    from sklearn.linear_model import LinearRegression

    jvm = spark._jvm
    names = feature_names(p)
    est = (jvm.manyfold.ml.regression.LinearRegression().setRegParam(0.0)
           .setInputCols(_java_strings(spark, names)).setLabelCol("y"))
    grouped = jvm.manyfold.ml.Grouped(est)
    grouped.setGroupCols(jvm.org.apache.spark.api.python.PythonUtils.toSeq(["g"]))
    mine = grouped.fit(train._jdf)
    rows = pq.read_table(train_path).to_pandas()
    sk = {int(g): LinearRegression().fit(part[names].to_numpy(), part["y"].to_numpy())
          for g, part in rows.groupby("g")}
    failed = DataFrame(mine.models(), spark).where("status != 'ok'").count()
    if failed:
        raise RuntimeError(f"{failed} groups failed to train")
    return {"manyfold": mine, "sklearn": sk,
            "sklearn_broadcast": spark.sparkContext.broadcast(sk),
            "model_bytes": int(mine.modelBytesTotal())}


def _group_predictor(models_bc, names):
    def predict(pdf):
        # Runs in the Python workers: the models dict comes from the broadcast (once a worker).
        import numpy as np

        model = models_bc.value.get(int(pdf["g"].iloc[0]))
        out = pdf.copy()
        out["prediction"] = (model.predict(pdf[names].to_numpy()) if model is not None
                             else np.nan)
        return out

    return predict


def _apply_in_pandas(df, models, p):
    schema = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in df.schema.fields)
    fn = _group_predictor(models["sklearn_broadcast"], feature_names(p))
    return df.groupBy("g").applyInPandas(fn, schema + ", prediction double")


def _grouped_transform(spark, models, df, shuffle):
    """GroupedModel.transform; `shuffle`: the models shuffled with the rows (the threshold read
    when the plan is built, so it is set only around the call)."""
    key = "spark.manyfold.predict.broadcastThreshold"
    if not shuffle:
        return DataFrame(models["manyfold"].transform(df._jdf), spark)
    spark.conf.set(key, "0")
    try:
        return DataFrame(models["manyfold"].transform(df._jdf), spark)
    finally:
        spark.conf.unset(key)


def grouped_methods(spark, models, df, p):
    return {
        "manyfold": lambda: _grouped_transform(spark, models, df, shuffle=False),
        "manyfold_shuffle": lambda: _grouped_transform(spark, models, df, shuffle=True),
        "apply_in_pandas": lambda: _apply_in_pandas(df, models, p),
        "scan_floor": lambda: df,
    }


def grouped_quality(spark, models, df, p, seed):
    """Largest |prediction - manyfold transform's| over a sample of rows, per method (the shuffle
    path, applyInPandas, and scikit-learn's models on the driver)."""
    names = feature_names(p)
    sample = df.sample(fraction=min(1.0, 3 * SAMPLE_ROWS / max(df.count(), 1)), seed=seed)
    pdf = sample.limit(SAMPLE_ROWS).toPandas()
    pdf.insert(0, "rid", np.arange(len(pdf), dtype=np.int64))
    small = spark.createDataFrame(pdf)

    def preds(frame):
        return frame.select("rid", "prediction").toPandas().set_index("rid").sort_index()

    mine = preds(_grouped_transform(spark, models, small, shuffle=False))
    out = {"rows": int(len(mine)), "max_abs_diff": {},
           "null_predictions": int(mine["prediction"].isna().sum())}
    for name, frame in (("manyfold_shuffle",
                         _grouped_transform(spark, models, small, shuffle=True)),
                        ("apply_in_pandas", _apply_in_pandas(small, models, p))):
        out["max_abs_diff"][name] = float((preds(frame)["prediction"]
                                           - mine["prediction"]).abs().max())
    direct = np.array([models["sklearn"][int(g)].predict(x.reshape(1, -1))[0]
                       for g, x in zip(pdf["g"], pdf[names].to_numpy())])
    out["max_abs_diff"]["sklearn_driver"] = float(np.abs(direct
                                                         - mine["prediction"].to_numpy()).max())
    out["worst"] = max(out["max_abs_diff"].values())
    out["within_tolerance"] = out["worst"] <= PREDICTION_TOL and out["null_predictions"] == 0
    return out


# --- the case runner --------------------------------------------------------------------------

def run_case(spark, pid, case, args, measure):
    """Fits the models (untimed), caches the input, times every method with `measure`
    (run.measure), and checks the predictions. Returns the case's results."""
    p, seed = case["features"], case["seed"]
    kind = case["algorithm"]
    path = data.inference_parquet_path(args.cache_dir, kind, case["rows"], p, case["groups"], seed,
                                       "score")
    train_path = data.inference_parquet_path(args.cache_dir, kind, case["train_rows"], p,
                                             case["groups"], seed, "train")
    print(f"== {case['name']}: {case['rows']:,} rows x {p} features, {case['groups']:,} "
          f"model(s) ({kind})", flush=True)
    train = spark.read.parquet(train_path)
    cached = []
    try:
        df = data.cached_frame(spark, path)
        cached.append(df)
        if case["name"] == "infer_logistic":
            models = logistic_models(spark, train, p)
            df = df.select(*feature_names(p))  # the label is not an input to any method
            vectors = assemble(df, p).select("features").cache()
            vectors.count()
            cached.append(vectors)
            view = "infer_logistic_rows"
            df.createOrReplaceTempView(view)
            builders = logistic_methods(spark, models, df, vectors, view, p)
            quality = lambda: logistic_quality(spark, models, df, p, seed)  # noqa: E731
            extra = {"coefficients_l2": float(np.linalg.norm(models["coef"]))}
        else:
            models = grouped_models(spark, train, train_path, p)
            df = df.select("g", *feature_names(p))
            builders = grouped_methods(spark, models, df, p)
            quality = lambda: grouped_quality(spark, models, df, p, seed)  # noqa: E731
            extra = {"model_bytes": models["model_bytes"],
                     "sklearn_models_pickled_bytes": _pickled_size(models["sklearn"])}
        runs = {name: (lambda b=builders[name]: force(b())) for name in case["methods_order"]}
        measured = measure(spark, pid, args.repeats, runs)
        out = dict(case)
        out["methods"] = {name: m for name, (m, _) in measured.items()}
        out["quality"] = quality()
        out.update(extra)
        print(f"   quality: {out['quality']}", flush=True)
    finally:
        for frame in cached:
            frame.unpersist(blocking=True)
    out["ratios"] = ratios(out)
    for key, value in out["ratios"].items():
        print(f"   {key}: {value:.3g}", flush=True)
    return out


def _pickled_size(obj):
    import pickle

    return len(pickle.dumps(obj))


def ratios(case):
    med = {k: v["median_s"] for k, v in case["methods"].items()}
    mine = med["manyfold"]
    if case["name"] == "infer_logistic":
        return {"pandas_udf_over_manyfold": med["pandas_udf"] / mine,
                "manyfold_over_spark_ml_preassembled": mine / med["spark_ml_preassembled"],
                "manyfold_over_spark_ml_assembled": mine / med["spark_ml_assembled"],
                "sql_over_transform": med["manyfold_sql"] / mine,
                "manyfold_over_scan_floor": mine / med["scan_floor"]}
    return {"apply_in_pandas_over_manyfold": med["apply_in_pandas"] / mine,
            "apply_in_pandas_over_manyfold_shuffle": med["apply_in_pandas"]
            / med["manyfold_shuffle"],
            "manyfold_shuffle_over_manyfold": med["manyfold_shuffle"] / mine,
            "manyfold_over_scan_floor": mine / med["scan_floor"]}


# (case, ratio key, description, limit, at least)
TARGETS = [
    ("infer_logistic", "pandas_udf_over_manyfold",
     "inference, 10M x 20 logistic: manyfold transform >= 10x faster than a pandas UDF with "
     "sklearn predict_proba", 10, True),
    ("infer_logistic", "manyfold_over_spark_ml_preassembled",
     "inference, 10M x 20 logistic: manyfold transform (20 columns) within 1.2x of Spark ML's "
     "transform on a cached pre-assembled Vector column", 1.2, False),
    ("infer_logistic", "manyfold_over_spark_ml_assembled",
     "inference, 10M x 20 logistic: manyfold transform within 1.2x of Spark ML's "
     "VectorAssembler + transform", 1.2, False),
    ("infer_logistic", "sql_over_transform",
     "inference, 10M x 20 logistic: the SQL function within 2x of transform", 2, False),
    ("infer_grouped", "apply_in_pandas_over_manyfold",
     "per-group inference, 10M rows, 10,000 linear models: GroupedModel.transform (broadcast) "
     ">= 10x faster than applyInPandas", 10, True),
    ("infer_grouped", "apply_in_pandas_over_manyfold_shuffle",
     "per-group inference: GroupedModel.transform, shuffle path, vs applyInPandas (reported)",
     None, True),
]


def targets(results):
    by = {c["name"]: c for c in results}
    out = []
    for name, key, text, limit, at_least in TARGETS:
        if name not in by:
            continue
        value = by[name]["ratios"].get(key)
        met = None if value is None or limit is None else (
            value >= limit if at_least else value <= limit)
        out.append({"target": text, "value": value, "met": met, "reported": limit is None})
    return out


def markdown(results):
    if not results:
        return []
    lines = ["", "## Inference", "",
             "Every method's output (input columns plus predictions) written to Spark's `noop` "
             "sink; times are medians (min–max) of the warm repeats; the methods take turns.", "",
             "| case | method | time | ÷ manyfold transform |", "|---|---|---|---|"]
    for c in results:
        mine = c["methods"]["manyfold"]["median_s"]
        shape = (f"{c['name']}: {c['rows']:,} rows × {c['features']} features, "
                 f"{c['groups']:,} model(s) ({c['algorithm']})")
        for k, name in enumerate(c["methods"]):
            m = c["methods"][name]
            lines.append(f"| {shape if k == 0 else ''} | {METHOD_TITLES[name]} | "
                         f"{m['median_s']:.3g} s ({m['min_s']:.3g}–{m['max_s']:.3g}) | "
                         f"{m['median_s'] / mine:.3g} |")
    lines.append("")
    for c in results:
        q = c["quality"]
        diffs = ", ".join(f"{k} {v:.2g}" for k, v in q["max_abs_diff"].items())
        lines.append(f"- {c['name']}: predictions on {q['rows']} sampled rows, largest absolute "
                     f"difference from manyfold transform's: {diffs}"
                     + (f"; predicted classes differ: {q['labels_differ']}"
                        if "labels_differ" in q else "")
                     + f" ({'within' if q['within_tolerance'] else 'NOT within'} "
                       f"{PREDICTION_TOL:g}).")
        if "model_bytes" in c:
            lines.append(f"  Model bytes: {c['model_bytes']:,} (manyfold), scikit-learn's dict "
                         f"pickled {c['sklearn_models_pickled_bytes']:,}.")
    return lines
