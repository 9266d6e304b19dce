"""The hyperparameter searches the benchmark times, each on the same data in one SparkSession:

- logistic_cv: a logistic regression grid (regParam x elasticNetParam), 3 folds, area under ROC:
  manyfold's `NativeCrossValidator`, Spark ML's `CrossValidator` over Spark's
  `LogisticRegression`, and scikit-learn's `GridSearchCV(LogisticRegression)` under joblib-spark
  and locally;
- svc_grid: the PySpark recipe's SVC grid (C x kernel x shrinking, gamma "auto", probability on),
  3 folds, accuracy: manyfold's `NativeCrossValidator`, `GridSearchCV(SVC)` under joblib-spark
  and locally;
- ts_cv_groups: one time-series search per store (a ridge on lag features, regParam x 5
  expanding-window folds, RMSE): manyfold's `Grouped(TimeSeriesCrossValidator)` and
  `applyInPandas` running `GridSearchCV` with `TimeSeriesSplit` per store.

Every method uses the same folds: the data's `fold` column (Spark's `foldCol`, scikit-learn's
`PredefinedSplit`) for the k-fold cases, scikit-learn's `TimeSeriesSplit` on each store's days
for the last. Every method refits the best parameter set on all the rows, as each API does by
default. The scikit-learn methods start from numpy arrays already on the driver (taken from the
cached DataFrame before the clock starts), as the recipe does.

Each method returns {"scores": {set index: mean validation metric}, "best": set index} for the
k-fold cases (indices into the case's `sets`), or a pandas frame by store with `best` and
`metric` (the best mean RMSE) for the per-store case.
"""

import contextlib
import json
import warnings

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame

import data
from data import DEMAND_FEATURES, feature_names
from methods import _java_strings

FOLDS = 3
# Spark's time-series folds as scikit-learn's TimeSeriesSplit(n_splits, test_size, gap).
TS_SPLITS, TS_TEST_SIZE, TS_GAP = 5, 28, 0
SVC_COSTS = [0.01, 0.1, 0.5, 1.0, 5.0, 10.0]
SVC_KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TS_REG_PARAMS = [1.0, 10.0, 100.0, 1000.0]

# Largest differences from scikit-learn that still mean "the same search": the best mean
# AUC / accuracy within 0.005; per store, the same best regParam (or a tie) and its mean RMSE
# within 1e-6 (relative).
BEST_GAP, TS_RMSE_REL = 0.005, 1e-6


def cases(smoke, seed):
    """The three searches at full or smoke size. `make` builds the data (a pandas frame).
    The smoke run leaves out the two peers that cost seconds per fit whatever the size (Spark's
    CrossValidator: a distributed job per optimizer iteration; joblib-spark on the 144 SVC
    fits: a Spark job per batch of fits); joblib-spark still runs in logistic_cv."""
    rows, sets = (3_000, logistic_sets([1e-3, 1e-1], [0.0, 0.5])) if smoke else (
        100_000, logistic_sets([1e-4, 1e-3, 1e-2, 1e-1], [0.0, 0.25, 0.5, 1.0]))
    # The recipe's data set is make_classification(1000, 20, random_state=0), whatever --seed.
    svc_rows = 300 if smoke else 1_000
    stores, days = (8, 200) if smoke else (500, 730)
    return [
        {"name": "logistic_cv", "algorithm": "logistic", "metric": "areaUnderROC",
         "shape": f"{rows:,} rows x 20 features, {len(sets)} sets x {FOLDS} folds",
         "data": f"classification-{rows}x20-seed{seed}",
         "make": lambda: data.classification(rows, 20, seed),
         "features": feature_names(20), "label": "y", "sets": sets,
         "peers": (["spark_cv"] if not smoke else []) + ["joblib_spark", "sklearn_local"]},
        {"name": "svc_grid", "algorithm": "svc", "metric": "accuracy",
         "shape": f"{svc_rows:,} rows x 20 features, 48 sets x {FOLDS} folds",
         "data": f"classification-{svc_rows}x20-seed0",
         "make": lambda: data.classification(svc_rows, 20, 0),
         "features": feature_names(20), "label": "y", "sets": svc_sets(SVC_COSTS, SVC_KERNELS),
         "peers": (["joblib_spark"] if not smoke else []) + ["sklearn_local"]},
        {"name": "ts_cv_groups", "algorithm": "ridge", "metric": "rmse",
         "shape": f"{stores:,} stores x {days:,} days, {len(TS_REG_PARAMS)} sets x "
                  f"{TS_SPLITS} time-series folds",
         "data": f"demand-{stores}x{days}-seed{seed}",
         "make": lambda: data.demand(stores, days, seed),
         "features": DEMAND_FEATURES, "label": "demand",
         "sets": [{"regParam": r} for r in TS_REG_PARAMS], "peers": ["apply_in_pandas_ts"]},
    ]


def logistic_sets(reg_params, enet_params):
    return [{"regParam": r, "elasticNetParam": a} for r in reg_params for a in enet_params]


def svc_sets(costs, kernels):
    return [{"cost": c, "kernel": k, "shrinking": s}
            for c in costs for k in kernels for s in (True, False)]


def grid_json(sets):
    """The sets as ParamGrids.build's JSON (every combination of the listed values)."""
    keys = list(sets[0])
    return json.dumps({k: sorted({s[k] for s in sets}, key=lambda v: (str(type(v)), v))
                       for k in keys})


@contextlib.contextmanager
def _quiet():
    """scikit-learn's warnings that would flood the log: SVC(probability=True) is deprecated
    since 1.9; saga stops at max_iter on some sets (as it does for the recipe's users).
    scikit-learn passes the filters on to its joblib workers."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _set_index(sets, params):
    """The index in `sets` of a parameter set given by (a superset of) its values."""
    for i, s in enumerate(sets):
        if all(_same(params[k], v) for k, v in s.items()):
            return i
    raise KeyError(f"no parameter set {params} in the grid")


def _same(a, b):
    if isinstance(b, float):
        return abs(float(a) - b) <= 1e-12 * max(1.0, abs(b))
    return a == b


# --- manyfold, through py4j -------------------------------------------------------------------

def _manyfold_estimator(spark, case):
    jvm = spark._jvm
    if case["algorithm"] == "svc":
        est = (jvm.manyfold.ml.classification.SVC().setGamma("auto").setProbability(True)
               .setSeed(0))
    elif case["algorithm"] == "logistic":
        est = jvm.manyfold.ml.classification.LogisticRegression().setStandardization(False)
    else:  # the per-store ridge
        est = (jvm.manyfold.ml.regression.LinearRegression().setElasticNetParam(0.0)
               .setFitIntercept(True).setStandardization(False))
    return est.setInputCols(_java_strings(spark, case["features"])).setLabelCol(case["label"])


def _evaluator(spark, case):
    ev = spark._jvm.org.apache.spark.ml.evaluation
    if case["metric"] == "areaUnderROC":
        ev = ev.BinaryClassificationEvaluator()
    elif case["metric"] == "accuracy":
        ev = ev.MulticlassClassificationEvaluator()
    else:
        ev = ev.RegressionEvaluator()
    return ev.setMetricName(case["metric"]).setLabelCol(case["label"])


def manyfold_cv(spark, df, case):
    """NativeCrossValidator on the fold column, parallelism 2."""
    jvm = spark._jvm
    est = _manyfold_estimator(spark, case)
    cv = (jvm.manyfold.ml.tuning.NativeCrossValidator().setEstimator(est)
          .setEstimatorParamMaps(jvm.manyfold.ml.tuning.ParamGrids.build(est,
                                                                         grid_json(case["sets"])))
          .setEvaluator(_evaluator(spark, case)).setNumFolds(FOLDS).setFoldCol("fold")
          .setSeed(0).setParallelism(2).setCollectSubModels(False))
    model = cv.fit(df._jdf)
    results = DataFrame(model.cvResults(), spark).toPandas()
    failed = results[results["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} parameter sets failed, e.g. {failed.iloc[0].to_dict()}")
    scores = {_set_index(case["sets"], row): float(row["mean"])
              for row in results.to_dict("records")}
    best = results[results["rank"] == 1].to_dict("records")[0]
    return {"scores": scores, "best": _set_index(case["sets"], best),
            "best_model_java_class": model.bestModel().getClass().getName()}


def manyfold_ts_groups(spark, df, case):
    """Grouped(TimeSeriesCrossValidator) by store; the per-store table collected."""
    jvm = spark._jvm
    est = _manyfold_estimator(spark, case)
    search = (jvm.manyfold.ml.tuning.TimeSeriesCrossValidator().setEstimator(est)
              .setEstimatorParamMaps(jvm.manyfold.ml.tuning.ParamGrids.build(
                  est, grid_json(case["sets"])))
              .setEvaluator(_evaluator(spark, case)).setTimeCol("day").setNSplits(TS_SPLITS)
              .setTestSize(TS_TEST_SIZE).setGap(TS_GAP).setMaxTrainSize(0).setParallelism(2))
    # Grouped.apply(search), the companion's factory (the constructor takes an estimator).
    grouped = jvm.manyfold.ml.Grouped.apply(search)
    grouped.setGroupCols(jvm.org.apache.spark.api.python.PythonUtils.toSeq(["store"]))
    model = grouped.fit(df._jdf)
    rows = DataFrame(model.models(), spark).select("store", "regParam", "cvMetric",
                                                   "status").toPandas()
    failed = rows[rows["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} stores failed, e.g. {failed.iloc[0].to_dict()}")
    regs = [s["regParam"] for s in case["sets"]]
    rows["best"] = [_set_index(case["sets"], {"regParam": r}) for r in rows["regParam"]]
    rows = rows.rename(columns={"cvMetric": "metric"})
    assert sorted(rows["regParam"].unique()) <= sorted(regs)
    return rows.set_index("store")[["best", "metric"]].sort_index()


# --- Spark ML's CrossValidator -------------------------------------------------------------------

def spark_cv(spark, df, case):
    """Spark's CrossValidator(parallelism=2) on the fold column over Spark's LogisticRegression
    (standardization off, as manyfold's side). Each fit is a distributed Spark job."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.tuning import CrossValidator

    assembled = VectorAssembler(inputCols=case["features"], outputCol="features").transform(df)
    lr = LogisticRegression(labelCol="y", standardization=False)
    maps = [{lr.regParam: s["regParam"], lr.elasticNetParam: s["elasticNetParam"]}
            for s in case["sets"]]
    cv = CrossValidator(estimator=lr, estimatorParamMaps=maps,
                        evaluator=BinaryClassificationEvaluator(labelCol="y"),
                        numFolds=FOLDS, foldCol="fold", parallelism=2, seed=0)
    model = cv.fit(assembled)
    scores = dict(enumerate(float(m) for m in model.avgMetrics))
    return {"scores": scores, "best": int(np.argmax(model.avgMetrics))}


# --- scikit-learn's GridSearchCV: under joblib-spark, and locally ---------------------------------

def sklearn_arrays(df, case):
    """The features, label and fold column as numpy arrays on the driver (not timed)."""
    pdf = df.select(*case["features"], "y", "fold").toPandas()
    return pdf[case["features"]].to_numpy(), pdf["y"].to_numpy(), pdf["fold"].to_numpy()


def _sklearn_search(case, arrays, n_jobs):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.svm import SVC

    x, y, fold = arrays
    if case["algorithm"] == "logistic":
        # Spark's objective, mean log loss + regParam (a |w|_1 + (1 - a)/2 |w|^2), is
        # scikit-learn's C * sum of log losses + l1_ratio |w|_1 + (1 - l1_ratio)/2 |w|^2 with
        # C = 1 / (regParam * n_train) and l1_ratio = a: the same minimizer when
        # standardization is off (n_train: the rows of a training fold, equal up to one row).
        # scikit-learn's default solver (lbfgs) for the L2 sets, saga where there is an L1 part.
        n_train = len(y) * (FOLDS - 1) / FOLDS
        grid = [{"C": [1.0 / (s["regParam"] * n_train)], "l1_ratio": [s["elasticNetParam"]],
                 "solver": ["lbfgs" if s["elasticNetParam"] == 0 else "saga"]}
                for s in case["sets"]]
        # saga shuffles the rows: seeded, so that reruns give the same scores.
        est, scoring = LogisticRegression(random_state=0), "roc_auc"
    else:
        grid = [{"C": [s["cost"]], "kernel": [s["kernel"]], "shrinking": [s["shrinking"]]}
                for s in case["sets"]]
        est, scoring = SVC(gamma="auto", probability=True, random_state=0), "accuracy"
    search = GridSearchCV(est, grid, cv=PredefinedSplit(fold), scoring=scoring, n_jobs=n_jobs,
                          refit=True)
    with _quiet():
        search.fit(x, y)
    # A list of one-point grids keeps the sets' order.
    scores = dict(enumerate(float(v) for v in search.cv_results_["mean_test_score"]))
    return {"scores": scores, "best": int(search.best_index_)}


def joblib_spark(spark, arrays, case):
    """GridSearchCV with joblib's Spark backend, 2 jobs: each fit is a Spark task."""
    from joblib import parallel_backend
    from joblibspark import register_spark

    register_spark()
    with parallel_backend("spark", n_jobs=2):
        return _sklearn_search(case, arrays, n_jobs=2)


def sklearn_local(spark, arrays, case):
    """GridSearchCV(n_jobs=2) in the benchmark's own process (joblib's loky workers)."""
    return _sklearn_search(case, arrays, n_jobs=2)


# --- per store: applyInPandas + GridSearchCV(TimeSeriesSplit) ---------------------------------

def _store_search(regs, features, label, splits, test_size, gap):
    def search(pdf):
        # Imported and defined here: this runs in the Python workers, which cannot import
        # this module (the closure is pickled by value).
        import numpy as np
        import pandas as pd
        from sklearn.base import BaseEstimator, RegressorMixin
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

        class SparkRidge(RegressorMixin, BaseEstimator):
            """Spark's LinearRegression(regParam, elasticNetParam 0, standardization off):
            Spark standardizes the label when regParam > 0, so this is Ridge(alpha = regParam
            * n / sd(y)) on each fit's rows (tests/reference/make_tuning_fixtures.py)."""

            def __init__(self, regParam=0.0):
                self.regParam = regParam

            def fit(self, x, y):
                alpha = self.regParam * len(y) / float(np.std(y))
                self.ridge_ = Ridge(alpha=alpha, solver="cholesky").fit(x, y)
                return self

            def predict(self, x):
                return self.ridge_.predict(x)

        pdf = pdf.sort_values("day")
        cv = GridSearchCV(SparkRidge(), {"regParam": regs},
                          cv=TimeSeriesSplit(n_splits=splits, test_size=test_size, gap=gap),
                          scoring="neg_root_mean_squared_error", refit=True)
        cv.fit(pdf[features].to_numpy(), pdf[label].to_numpy())
        means = -cv.cv_results_["mean_test_score"]
        out = {"store": [int(pdf["store"].iloc[0])], "best": [int(cv.best_index_)],
               "metric": [float(means[cv.best_index_])]}
        out.update({f"m{i}": [float(m)] for i, m in enumerate(means)})
        return pd.DataFrame(out)

    return search


def apply_in_pandas_ts(spark, df, case):
    regs = [s["regParam"] for s in case["sets"]]
    schema = "store int, best int, metric double, " + ", ".join(
        f"m{i} double" for i in range(len(regs)))
    fn = _store_search(regs, case["features"], case["label"], TS_SPLITS, TS_TEST_SIZE, TS_GAP)
    rows = df.groupBy("store").applyInPandas(fn, schema).collect()
    return pd.DataFrame([r.asDict() for r in rows]).set_index("store").sort_index()


# --- quality ---------------------------------------------------------------------------------

def compare_searches(results, case, reference="sklearn_local"):
    """Best mean metric of every method, and manyfold's largest per-set gap to the reference."""
    out = {"best_mean": {m: r["scores"][r["best"]] for m, r in results.items()},
           "best_params": {m: case["sets"][r["best"]] for m, r in results.items()}}
    if "manyfold" in results and reference in results:
        mine, ref = results["manyfold"]["scores"], results[reference]["scores"]
        out["best_gap_vs_" + reference] = abs(out["best_mean"]["manyfold"]
                                              - out["best_mean"][reference])
        out["max_set_gap_vs_" + reference] = max(abs(mine[i] - ref[i]) for i in ref)
    return out


def compare_stores(mine, theirs):
    """Fraction of stores whose best regParam agree; a disagreement is a tie when scikit-learn's
    mean RMSE of manyfold's choice is within 1e-6 (relative) of its best."""
    if not mine.index.equals(theirs.index):
        raise RuntimeError(f"manyfold has {len(mine)} stores and applyInPandas {len(theirs)}")
    same = mine["best"] == theirs["best"]
    their_rmse_of_mine = np.array([theirs.loc[s, f"m{b}"] for s, b in mine["best"].items()])
    tie = np.abs(their_rmse_of_mine - theirs["metric"].to_numpy()) <= 1e-6 * theirs["metric"]
    rel = np.abs(mine["metric"] - theirs["metric"]) / theirs["metric"]
    return {"stores": int(len(mine)), "agreement": float(same.mean()),
            "disagreements_not_ties": int((~same.to_numpy() & ~tie).sum()),
            "best_rmse_max_rel_diff": float(rel[same].max()) if same.any() else None}
