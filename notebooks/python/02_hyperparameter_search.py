# Databricks notebook source
# MAGIC %md
# MAGIC # Hyperparameter search from PySpark: joblib-spark `GridSearchCV`, and the manyfold line
# MAGIC
# MAGIC The usual PySpark recipe for a grid search over scikit-learn models collects the data to
# MAGIC the driver and runs `GridSearchCV` with joblib's Spark backend (each fit a Spark task that
# MAGIC unpickles the data). manyfold's `NativeCrossValidator` runs every (parameter set, fold)
# MAGIC fit natively in Spark tasks on data decoded once per executor, shaped like pyspark's
# MAGIC `CrossValidator`. Both search the same SVC grid on the same folds here, and their scores
# MAGIC and best parameters are compared (manyfold's SVC is libsvm's C-SVC, as scikit-learn's).
# MAGIC
# MAGIC **Setup.** As in `01_many_models.py`: the jar as a cluster library and the `manyfold`
# MAGIC wheel on Databricks, `pip install manyfold joblibspark` elsewhere.

# COMMAND ----------

import numpy as np
import pandas as pd
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.tuning import ParamGridBuilder

import manyfold
from manyfold.ml import SVC, NativeCrossValidator

try:
    spark  # noqa: B018 (a Databricks notebook has one)
except NameError:
    spark = manyfold.session("manyfold-hyperparameter-search")
manyfold.check_jar(spark)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Data: two classes on four features, three given folds

# COMMAND ----------

rng = np.random.default_rng(42)
n = 600
x = rng.normal(size=(n, 4))
y = ((x[:, 0] + 0.5 * x[:, 1] ** 2 - x[:, 2] + rng.normal(scale=0.7, size=n)) > 0.5).astype(float)
features = ["f0", "f1", "f2", "f3"]
pdf = pd.DataFrame(x, columns=features)
pdf["label"] = y
pdf["fold"] = np.arange(n) % 3
df = spark.createDataFrame(pdf).cache()

svc = SVC(inputCols=features, labelCol="label")
grid = (ParamGridBuilder().addGrid(svc.cost, [0.1, 1.0, 10.0])
        .addGrid(svc.kernel, ["linear", "rbf"]).build())

# COMMAND ----------

# MAGIC %md
# MAGIC ## Before: `GridSearchCV` under joblib-spark

# COMMAND ----------

from joblib import parallel_backend  # noqa: E402
from joblibspark import register_spark  # noqa: E402
from sklearn.model_selection import GridSearchCV, PredefinedSplit  # noqa: E402
from sklearn.svm import SVC as SkSVC  # noqa: E402

local = df.select(*features, "label", "fold").toPandas()
# One single-point grid per parameter set keeps pyspark's grid order.
sk_grid = [{"C": [m[svc.cost]], "kernel": [m[svc.kernel]]} for m in grid]
register_spark()
with parallel_backend("spark", n_jobs=2):
    search = GridSearchCV(SkSVC(), sk_grid, cv=PredefinedSplit(local["fold"]),
                          scoring="accuracy", n_jobs=2)
    search.fit(local[features], local["label"])
sk_scores = np.array(search.cv_results_["mean_test_score"])

# COMMAND ----------

# MAGIC %md
# MAGIC ## After: one manyfold line

# COMMAND ----------

accuracy = MulticlassClassificationEvaluator(labelCol="label", metricName="accuracy")
cv = NativeCrossValidator(estimator=svc, estimatorParamMaps=grid, evaluator=accuracy,
                          numFolds=3, foldCol="fold", parallelism=2).fit(df)

# COMMAND ----------

cv.cvResults.select("cost", "kernel", "fold0", "fold1", "fold2", "mean", "rank").show()

# COMMAND ----------

# MAGIC %md
# MAGIC ## The same scores and the same best parameters

# COMMAND ----------

native_scores = np.array(cv.avgMetrics)
print("scikit-learn:", np.round(sk_scores, 4))
print("manyfold:    ", np.round(native_scores, 4))
print("best: scikit-learn %s, manyfold cost=%s kernel=%s"
      % (search.best_params_, cv.bestModel.getCost(), cv.bestModel.getKernel()))
np.testing.assert_allclose(native_scores, sk_scores, atol=1e-12)
assert cv.bestIndex == search.best_index_
assert cv.bestModel.getCost() == search.best_params_["C"]
assert cv.bestModel.getKernel() == search.best_params_["kernel"]
# The refit best model predicts as scikit-learn's refit one.
predicted = cv.bestModel.transform(df).select("prediction").toPandas()["prediction"].to_numpy()
assert (predicted == search.predict(local[features])).all()
print("best model: %d support vectors, predictions equal scikit-learn's"
      % cv.bestModel.numSupportVectors)
