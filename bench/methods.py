"""The ways to train one model per group that the benchmark times, each on the same cached
DataFrame and each ending with its per-group results on the driver:

- manyfold: `Grouped(LinearRegression | LogisticRegression | SVC).setGroupCols("g").fit(df)`
  through py4j (fit collects the models to the driver);
- applyInPandas: `df.groupBy("g").applyInPandas(fit_with_sklearn)`, collected;
- the JVM floor: `df.groupBy("g").agg(...)` of the per-group sums of products a least-squares
  fit needs (X'X, X'y, y'y), collected: the least any per-group pass through Spark can cost.

Each returns a pandas DataFrame indexed by group with `metric` (r2 on the training rows for a
linear model, accuracy for a classifier) and, for linear models, `c0..c{p-1}` and `intercept`.

Algorithms: `linear` (OLS), `logistic` (unpenalized), `linear_enet` (Spark's elastic net,
regParam ENET_REG x elasticNetParam ENET_ALPHA, standardization off; scikit-learn's
`ElasticNet` with the equivalent alpha and l1_ratio, see `_sklearn_fitter`) and `svc` (rbf,
C = 1, gamma "scale", probability on, both sides).
"""

import json

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from data import feature_names

# Same objective on both sides: ordinary least squares, and unpenalized logistic regression
# (scikit-learn's C=inf; its default C=1.0 would fit a different model). maxIter is
# manyfold's default; scikit-learn keeps its own defaults (lbfgs, max_iter=100, tol=1e-4).
LOGISTIC_MAX_ITER = 100

# The elastic net case: Spark's objective 1/(2n)||y - Xb - b0||^2 + R (A ||b||_1 + (1 - A) / (2 d)
# ||b||^2), d the label's population std (Spark standardizes the label when regParam > 0).
ENET_REG, ENET_ALPHA, ENET_TOL = 0.1, 0.5, 1e-8

# The model format (docs/native-interface.md): a 16-byte header, then a JSON payload.
MODEL_HEADER_BYTES = 16


def _java_strings(spark, values):
    gateway = spark.sparkContext._gateway
    arr = gateway.new_array(gateway.jvm.java.lang.String, len(values))
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def manyfold_estimator(spark, algorithm, p):
    jvm = spark._jvm
    if algorithm == "linear":
        est = jvm.manyfold.ml.regression.LinearRegression().setRegParam(0.0)
    elif algorithm == "linear_enet":
        est = (jvm.manyfold.ml.regression.LinearRegression().setRegParam(ENET_REG)
               .setElasticNetParam(ENET_ALPHA).setStandardization(False).setTol(ENET_TOL)
               .setMaxIter(10_000))
    elif algorithm == "svc":
        est = jvm.manyfold.ml.classification.SVC().setProbability(True)
    else:
        est = jvm.manyfold.ml.classification.LogisticRegression()
        est = est.setRegParam(0.0).setMaxIter(LOGISTIC_MAX_ITER)
    return est.setInputCols(_java_strings(spark, feature_names(p))).setLabelCol("y")


def manyfold_fit(spark, df, algorithm, p):
    """Fits and returns the Java GroupedModel (its models are on the driver already)."""
    jvm = spark._jvm
    grouped = jvm.manyfold.ml.Grouped(manyfold_estimator(spark, algorithm, p))
    grouped.setGroupCols(jvm.org.apache.spark.api.python.PythonUtils.toSeq(["g"]))
    return grouped.fit(df._jdf)


def manyfold_results(spark, jmodel, algorithm, p):
    """The per-group table of a fitted GroupedModel, with coefficients read from the bytes."""
    models = DataFrame(jmodel.models(), spark).toPandas()
    failed = models[models["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} groups failed, e.g. {failed.iloc[0].to_dict()}")
    out = pd.DataFrame({"g": models["g"]})
    linear = algorithm in ("linear", "linear_enet")
    out["metric"] = models["r2" if linear else "accuracy"]
    if algorithm == "svc":  # no coefficients to compare: the accuracy is
        return out.set_index("g").sort_index()
    coefs, intercepts = [], []
    for raw in models["model"]:
        fitted = json.loads(bytes(raw)[MODEL_HEADER_BYTES:])["model"]
        if linear:
            coefs.append(fitted["coefficients"])
            intercepts.append(fitted["intercept"])
        else:  # binomial: one row, the margin of the larger class (1.0)
            coefs.append(fitted["coefficients"][0])
            intercepts.append(fitted["intercepts"][0])
    coefs = np.asarray(coefs, dtype=float).reshape(len(out), p)
    for j in range(p):
        out[f"c{j}"] = coefs[:, j]
    out["intercept"] = intercepts
    return out.set_index("g").sort_index()


def _sklearn_fitter(algorithm, p):
    names = feature_names(p)
    # Captured by value: the workers cannot import this module, only unpickle the closure.
    reg, mix, tol = ENET_REG, ENET_ALPHA, ENET_TOL

    def fit(pdf):
        # Imported here: this runs in the Python workers.
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import LinearRegression, LogisticRegression

        x, y = pdf[names].to_numpy(), pdf["y"].to_numpy()
        coef = intercept = None
        if algorithm == "linear":
            model = LinearRegression().fit(x, y)
            coef, intercept = model.coef_, float(model.intercept_)
        elif algorithm == "linear_enet":
            from sklearn.linear_model import ElasticNet

            # Spark's objective as ElasticNet's: alpha * l1_ratio = R A, alpha (1 - l1_ratio)
            # = R (1 - A) / d with d the label's population std.
            alpha = reg * mix + reg * (1 - mix) / float(np.std(y))
            model = ElasticNet(alpha=alpha, l1_ratio=reg * mix / alpha, tol=tol,
                               max_iter=100_000).fit(x, y)
            coef, intercept = model.coef_, float(model.intercept_)
        elif algorithm == "svc":
            from sklearn.svm import SVC

            model = SVC(probability=True, random_state=0).fit(x, y)
        else:
            model = LogisticRegression(C=np.inf).fit(x, y)
            coef, intercept = model.coef_[0], float(model.intercept_[0])
        row = {"g": [int(pdf["g"].iloc[0])], "metric": [float(model.score(x, y))]}
        if coef is None:
            return pd.DataFrame(row)
        row.update({f"c{j}": [float(c)] for j, c in enumerate(coef)})
        row["intercept"] = [intercept]
        return pd.DataFrame(row)

    return fit


def apply_in_pandas(spark, df, algorithm, p):
    schema = "g int, metric double"
    if algorithm != "svc":
        schema += ", " + ", ".join(f"c{j} double" for j in range(p)) + ", intercept double"
    rows = df.groupBy("g").applyInPandas(_sklearn_fitter(algorithm, p), schema).collect()
    out = pd.DataFrame([r.asDict() for r in rows])
    return out.set_index("g").sort_index()


def jvm_floor(spark, df, algorithm, p):
    xs = [F.col(n) for n in feature_names(p)]
    y = F.col("y")
    sums = [F.count(F.lit(1)), F.sum(y), F.sum(y * y)] + [F.sum(x) for x in xs]
    sums += [F.sum(x * y) for x in xs]
    sums += [F.sum(a * b) for i, a in enumerate(xs) for b in xs[i:]]
    rows = df.groupBy("g").agg(*sums).collect()
    return pd.DataFrame({"g": [r[0] for r in rows]}).set_index("g").sort_index()


def quality(manyfold, sklearn):
    """Max absolute differences between manyfold's and scikit-learn's per-group results."""
    if len(manyfold) != len(sklearn) or not manyfold.index.equals(sklearn.index):
        raise RuntimeError(
            f"manyfold has {len(manyfold)} groups and scikit-learn {len(sklearn)}: not the same"
        )
    coef_cols = [c for c in manyfold.columns if c.startswith("c") or c == "intercept"]
    out = {
        "groups": int(len(manyfold)),
        "metric_max_abs_diff": float((manyfold["metric"] - sklearn["metric"]).abs().max()),
        "metric_mean_manyfold": float(manyfold["metric"].mean()),
        "metric_mean_sklearn": float(sklearn["metric"].mean()),
    }
    if coef_cols:
        coef_diff = (manyfold[coef_cols] - sklearn[coef_cols]).abs().to_numpy()
        scale = np.maximum(sklearn[coef_cols].abs().to_numpy(), 1.0)
        out["coef_max_abs_diff"] = float(coef_diff.max())
        out["coef_max_rel_diff"] = float((coef_diff / scale).max())
    return out
