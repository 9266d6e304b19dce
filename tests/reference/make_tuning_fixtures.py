"""Reference fixtures for manyfold's searches (manyfold.ml.tuning), from scikit-learn.

scikit-learn is the independent source: every expected fold boundary, validation score, mean,
rank and best parameter set in tests/fixtures/tuning/*.json comes from it, never from manyfold.
The JVM tests read the CSV files as Spark DataFrames, run the search and compare.

Rerun from the repository root with the venv `make venv` builds (numpy, pandas, scikit-learn):

    ~/.cache/manyfold/venv-spark-3.5.7/bin/python tests/reference/make_tuning_fixtures.py
    ... make_tuning_fixtures.py --check-spark   # also checks SparkRidge against pyspark (1 min)

Everything comes from fixed seeds, so a rerun with the same numpy and scikit-learn rewrites the
same files (another version may move the last digits of the scores). Each CSV holds the shortest
decimal form of every double (exact: Java's parser reads back the same bits) and is read back
and compared before scikit-learn sees it, so the JVM side reads exactly the numbers
scikit-learn was given (read them with inferSchema, or a schema of doubles and integer
store, day and fold). The data generators are bench/data.py's `classification`
and `demand` (the benchmark's tuning cases use them at larger sizes): changing them means
rerunning this script.

Files (tests/fixtures/tuning/):

- svc_recipe.csv, svc_recipe_grid.json: the PySpark recipe's SVC grid search.
  make_classification(n_samples=1000, n_features=20, random_state=0) as f0..f19 and label; fold
  from KFold(3, shuffle=True, random_state=0) (row i has fold k when it is in split k's
  validation part: Spark's foldCol convention). GridSearchCV(SVC(gamma="auto",
  probability=True, random_state=0), cv=PredefinedSplit(fold), scoring="accuracy") over C x
  kernel x shrinking (48 sets). Param names are manyfold's (cost = sklearn's C). scikit-learn's
  SVC predicts from the sign of the decision function (Platt's probabilities do not enter the
  accuracy). Several sets tie; ranks are scikit-learn's (ties share the lowest rank) and `best`
  is its choice, the first of the best in its grid order (C slowest, shrinking fastest): match
  sets by params, not by index, since Spark's ParamGridBuilder orders them differently.
- logistic_binary.csv: make_classification(n_samples=2000, n_features=10, random_state=1) as
  f0..f9, label and fold (KFold(3, shuffle=True, random_state=1)). No scikit-learn numbers: its
  reference is Spark's own CrossValidator, run by the JVM test on the same fold column.
- demand.csv, demand_ts_cv.json: bench/data.py's `demand(6 stores, 400 days, seed 7)`: columns
  store, day, lag1, lag7, lag14, roll7, dow, demand. Per store, scikit-learn's
  TimeSeriesSplit(n_splits=5, test_size=28, gap=0) on the store's rows sorted by day (one row
  per day, so these are the store's sorted distinct days): each fold's first and last training
  and validation day and row counts; and GridSearchCV with that split over SparkRidge (below),
  scoring neg_root_mean_squared_error: per regParam the RMSE of each fold and their mean, and
  the best regParam (lowest mean RMSE).

SparkRidge is Spark's LinearRegression with elasticNetParam = 0, fitIntercept = true and
standardization = false. Spark standardizes the label whenever regParam > 0 and applies regParam
on that scale, so it minimizes 1/(2n) ||y - Xb - b0||^2 + regParam/(2 sd(y)) ||b||^2, sd(y) the
population std of the training label: sklearn Ridge(alpha = regParam * n / sd(y)), with n and
sd(y) those of each fold's training rows (`--check-spark` fits pyspark's LinearRegression on a
store's rows for every regParam of the grid and compares; make_fixtures.py states the same
mapping). Without the 1/sd(y) (alpha = regParam * n) the coefficients are another model's.
"""

import json
import pathlib
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, PredefinedSplit, TimeSeriesSplit
from sklearn.svm import SVC

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "tuning"
sys.path.insert(0, str(ROOT / "bench"))

import data  # noqa: E402  (bench/data.py: the generators the benchmark shares)

SVC_COSTS = [0.01, 0.1, 0.5, 1.0, 5.0, 10.0]
SVC_KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TS_REG_PARAMS = [1.0, 10.0, 100.0, 1000.0]
TS_SPLIT = {"nSplits": 5, "testSize": 28, "gap": 0, "maxTrainSize": 0}


class SparkRidge(RegressorMixin, BaseEstimator):
    """Spark's LinearRegression(regParam, elasticNetParam=0, standardization=false) as a
    scikit-learn estimator: Ridge with alpha = regParam * n / sd(y) of the rows it is fitted on."""

    def __init__(self, regParam=0.0):
        self.regParam = regParam

    def fit(self, x, y):
        alpha = self.regParam * len(y) / float(np.std(y))
        self.ridge_ = Ridge(alpha=alpha, solver="cholesky").fit(x, y)
        return self

    def predict(self, x):
        return self.ridge_.predict(x)


def write_csv(frame, name):
    """Writes the frame (floats in their shortest exact form) and returns it as read back."""
    path = OUT / name
    frame.to_csv(path, index=False)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
    back = pd.read_csv(path)
    same = (list(back.columns) == list(frame.columns)
            and np.array_equal(back.to_numpy(float), frame.to_numpy(float)))
    assert same, f"{name} does not read back exactly"
    return back


def write_json(obj, name):
    path = OUT / name
    path.write_text(json.dumps(obj, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


def classification_csv(rows, p, seed, name):
    frame = data.classification(rows, p, seed)
    frame = frame.rename(columns={f"x{j}": f"f{j}" for j in range(p)} | {"y": "label"})
    return write_csv(frame, name)


def svc_recipe():
    frame = classification_csv(1000, 20, 0, "svc_recipe.csv")
    x = frame[[f"f{j}" for j in range(20)]].to_numpy()
    y, fold = frame["label"].to_numpy(), frame["fold"].to_numpy()
    grid = {"C": SVC_COSTS, "kernel": SVC_KERNELS, "shrinking": [True, False]}
    search = GridSearchCV(SVC(gamma="auto", probability=True, random_state=0), grid,
                          cv=PredefinedSplit(fold), scoring="accuracy", refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # SVC(probability=True), deprecated in 1.9
        search.fit(x, y)
    r = search.cv_results_
    sets = []
    for i, params in enumerate(r["params"]):
        sets.append({
            "index": i,
            "params": {"cost": params["C"], "kernel": params["kernel"],
                       "shrinking": params["shrinking"]},
            "splitScores": [float(r[f"split{k}_test_score"][i]) for k in range(3)],
            "meanTestScore": float(r["mean_test_score"][i]),
            "stdTestScore": float(r["std_test_score"][i]),
            "rank": int(r["rank_test_score"][i]),
        })
    best = sets[search.best_index_]
    tied = [s["index"] for s in sets if s["meanTestScore"] == best["meanTestScore"]]
    write_json({
        "source": f"scikit-learn {sklearn.__version__} GridSearchCV(SVC(gamma='auto', "
                  "probability=True, random_state=0), cv=PredefinedSplit(fold), "
                  "scoring='accuracy') on svc_recipe.csv",
        "data": "svc_recipe.csv", "features": [f"f{j}" for j in range(20)], "label": "label",
        "foldCol": "fold", "numFolds": 3, "metric": "accuracy",
        "fixedParams": {"gamma": "auto", "probability": True, "seed": 0},
        "grid": {"cost": SVC_COSTS, "kernel": SVC_KERNELS, "shrinking": [True, False]},
        "sets": sets,
        "best": {"index": best["index"], "params": best["params"],
                 "meanTestScore": best["meanTestScore"], "tiedIndices": tied},
    }, "svc_recipe_grid.json")
    print(f"   svc: best {best['params']} mean accuracy {best['meanTestScore']:.4f} "
          f"({len(tied)} sets tie)")


def store_splits(days):
    """scikit-learn's TimeSeriesSplit on a store's sorted days, as describeSplits reports folds."""
    split = TimeSeriesSplit(n_splits=TS_SPLIT["nSplits"], test_size=TS_SPLIT["testSize"],
                            gap=TS_SPLIT["gap"])
    out = []
    for k, (train, validation) in enumerate(split.split(days)):
        out.append({"fold": k, "trainRows": len(train), "validationRows": len(validation),
                    "trainTimeMin": int(days[train[0]]), "trainTimeMax": int(days[train[-1]]),
                    "validationTimeMin": int(days[validation[0]]),
                    "validationTimeMax": int(days[validation[-1]])})
    return split, out


def demand():
    frame = write_csv(data.demand(6, 400, 7), "demand.csv")
    stores = []
    for store, rows in frame.groupby("store"):
        rows = rows.sort_values("day")
        days = rows["day"].to_numpy()
        assert len(np.unique(days)) == len(days), "one row per store and day"
        split, folds = store_splits(days)
        search = GridSearchCV(SparkRidge(), {"regParam": TS_REG_PARAMS}, cv=split,
                              scoring="neg_root_mean_squared_error", refit=False)
        search.fit(rows[data.DEMAND_FEATURES].to_numpy(), rows["demand"].to_numpy())
        r = search.cv_results_
        results = [{"regParam": TS_REG_PARAMS[i],
                    "foldRmse": [-float(r[f"split{k}_test_score"][i]) for k in range(len(folds))],
                    "meanRmse": -float(r["mean_test_score"][i]),
                    "rank": int(r["rank_test_score"][i])}
                   for i in range(len(TS_REG_PARAMS))]
        best = TS_REG_PARAMS[search.best_index_]
        stores.append({"store": int(store), "rows": len(rows), "folds": folds,
                       "results": results, "bestRegParam": best,
                       "bestMeanRmse": results[search.best_index_]["meanRmse"]})
        print(f"   store {store}: best regParam {best}, mean RMSE "
              + ", ".join(f"{x['meanRmse']:.4f}" for x in results))
    bests = {s["bestRegParam"] for s in stores}
    assert len(bests) > 1, "the stores should not all pick the same regParam"
    write_json({
        "source": f"scikit-learn {sklearn.__version__} TimeSeriesSplit(n_splits=5, test_size=28, "
                  "gap=0) per store and GridSearchCV(SparkRidge, scoring="
                  "'neg_root_mean_squared_error') on demand.csv; SparkRidge = Ridge(alpha = "
                  "regParam * n / sd(y)), Spark's LinearRegression with elasticNetParam 0, "
                  "fitIntercept, standardization off",
        "data": "demand.csv", "groupCol": "store", "timeCol": "day",
        "features": data.DEMAND_FEATURES, "label": "demand", "metric": "rmse",
        "split": TS_SPLIT,
        "fixedParams": {"elasticNetParam": 0.0, "fitIntercept": True, "standardization": False},
        "grid": {"regParam": TS_REG_PARAMS},
        "stores": stores,
    }, "demand_ts_cv.json")


def check_against_spark():
    """SparkRidge's coefficients against pyspark's LinearRegression on store 0 of demand.csv."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .getOrCreate())
    rows = pd.read_csv(OUT / "demand.csv").query("store == 0")
    df = VectorAssembler(inputCols=data.DEMAND_FEATURES, outputCol="features").transform(
        spark.createDataFrame(rows))
    x, y = rows[data.DEMAND_FEATURES].to_numpy(), rows["demand"].to_numpy()
    for reg in TS_REG_PARAMS:
        theirs = LinearRegression(labelCol="demand", regParam=reg, elasticNetParam=0.0,
                                  standardization=False, solver="normal").fit(df)
        mine = SparkRidge(reg).fit(x, y).ridge_
        gap = max(np.max(np.abs(theirs.coefficients.toArray() - mine.coef_)),
                  abs(theirs.intercept - mine.intercept_))
        scale = max(1.0, np.max(np.abs(mine.coef_)), abs(mine.intercept_))
        print(f"   regParam {reg}: SparkRidge within {gap / scale:.1e} (relative) of Spark's")
        assert gap <= 1e-6 * scale, f"SparkRidge is not Spark's LinearRegression at {reg}"
    spark.stop()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    svc_recipe()
    classification_csv(2000, 10, 1, "logistic_binary.csv")
    demand()
    if "--check-spark" in sys.argv[1:]:
        check_against_spark()


if __name__ == "__main__":
    main()
