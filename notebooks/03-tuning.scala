// Databricks notebook source
// MAGIC %md
// MAGIC # Hyperparameter search, natively: the recipe's SVC grid
// MAGIC
// MAGIC `NativeCrossValidator` is shaped like Spark's `CrossValidator` (estimator, parameter maps,
// MAGIC evaluator, folds, parallelism), but every (fold, parameter set) fit is a native fit inside
// MAGIC a Spark task: the data crosses to each executor once, no Python worker, no distributed job
// MAGIC per fit. It replaces the PySpark recipe "scikit-learn's `GridSearchCV` under joblib-spark"
// MAGIC (shown in comments next to each step) and Spark's own `CrossValidator`.
// MAGIC
// MAGIC **Attach the jar first** (`manyfold_2.12-0.1.0.jar`, Spark 3.5 / Scala 2.12, x86_64 Linux).
// MAGIC Locally, from the repository root:
// MAGIC `spark-shell --jars target/jar/manyfold_2.12-0.1.0.jar -i notebooks/03-tuning.scala`.
// MAGIC
// MAGIC **Data:** `tests/fixtures/tuning/svc_recipe.csv` of the repository (1,000 rows of
// MAGIC `make_classification(n_samples=1000, n_features=20, random_state=0)`, columns `f0..f19`,
// MAGIC `label` and a `fold` column 0..2). On Databricks upload it (Catalog > Add data, or a
// MAGIC volume) and set `dataPath` below. scikit-learn's results on the same file are in
// MAGIC `tests/fixtures/tuning/svc_recipe_grid.json` (`tests/reference/make_tuning_fixtures.py`).

// COMMAND ----------

import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator
import org.apache.spark.ml.tuning.ParamGridBuilder
import org.apache.spark.sql.functions._

import manyfold.ml.classification.{SVC, SVCModel}
import manyfold.ml.tuning.{NativeCrossValidator, ParamGrids}

// COMMAND ----------

// MAGIC %md
// MAGIC ## The data
// MAGIC
// MAGIC ```python
// MAGIC # PySpark recipe: the rows go to the driver as pandas, then to every joblib-spark task.
// MAGIC pdf = spark.read.csv(data_path, header=True, inferSchema=True).toPandas()
// MAGIC X, y = pdf[[f"f{j}" for j in range(20)]], pdf["label"]
// MAGIC ```
// MAGIC
// MAGIC Here the data stay a DataFrame; the features are plain numeric columns (`setInputCols`),
// MAGIC no `VectorAssembler`.

// COMMAND ----------

val dataPath = sys.env.getOrElse("MANYFOLD_TUNING_DATA", "tests/fixtures/tuning/svc_recipe.csv")
// val dataPath = "/Volumes/main/default/manyfold/svc_recipe.csv"
val recipe = spark.read.option("header", "true").option("inferSchema", "true").csv(dataPath).cache()
val features = (0 until 20).map(j => s"f$j").toArray
println(s"${recipe.count()} rows; folds: " +
  recipe.groupBy("fold").count().orderBy("fold").collect().map(r => s"${r.get(0)}: ${r.getLong(1)}").mkString(", "))
assert(recipe.count() == 1000)

// COMMAND ----------

// MAGIC %md
// MAGIC ## The grid: C × kernel × shrinking, 48 parameter sets
// MAGIC
// MAGIC ```python
// MAGIC grid = {"C": [0.01, 0.1, 0.5, 1, 5, 10], "kernel": ["linear", "poly", "rbf", "sigmoid"],
// MAGIC         "shrinking": [True, False]}
// MAGIC svc = SVC(gamma="auto", probability=True, random_state=0)
// MAGIC ```
// MAGIC
// MAGIC manyfold's `SVC` takes scikit-learn's params under Spark-style names (`cost` is `C`). The
// MAGIC grid is Spark's `ParamGridBuilder`, or `ParamGrids.build` from the same JSON-like dict
// MAGIC (handy from PySpark through py4j).

// COMMAND ----------

val svc = new SVC()
  .setInputCols(features)
  .setLabelCol("label")
  .setGamma("auto")
  .setProbability(true)
  .setSeed(0)

val costs = Array(0.01, 0.1, 0.5, 1.0, 5.0, 10.0)
val kernels = Array("linear", "poly", "rbf", "sigmoid")
val grid = new ParamGridBuilder()
  .addGrid(svc.cost, costs)
  .addGrid(svc.kernel, kernels)
  .addGrid(svc.shrinking, Array(true, false))
  .build()

val sameGrid = ParamGrids.build(
  svc,
  """{"cost": [0.01, 0.1, 0.5, 1.0, 5.0, 10.0], "kernel": ["linear", "poly", "rbf", "sigmoid"],
    | "shrinking": [true, false]}""".stripMargin
)
assert(grid.length == 48 && sameGrid.length == 48, s"${grid.length} and ${sameGrid.length} sets")
assert(sameGrid.map(_.toSeq.map(p => p.param.name -> p.value).toSet).toSet ==
  grid.map(_.toSeq.map(p => p.param.name -> p.value).toSet).toSet, "the same 48 sets")

// COMMAND ----------

// MAGIC %md
// MAGIC ## 3-fold cross-validation on the `fold` column
// MAGIC
// MAGIC ```python
// MAGIC from joblib import parallel_backend
// MAGIC from joblibspark import register_spark
// MAGIC from sklearn.model_selection import GridSearchCV, PredefinedSplit
// MAGIC register_spark()
// MAGIC search = GridSearchCV(svc, grid, cv=PredefinedSplit(pdf["fold"]), scoring="accuracy",
// MAGIC                       n_jobs=2)
// MAGIC with parallel_backend("spark", n_jobs=2):
// MAGIC     search.fit(X, y)    # each batch of fits is a Spark job; X and y pickled into each task
// MAGIC print(search.best_params_, search.best_score_)
// MAGIC ```
// MAGIC
// MAGIC `setFoldCol("fold")` uses the given folds (values 0..k-1), as `PredefinedSplit` does.
// MAGIC Without it the folds are drawn from `seed`, stratified by class for classifiers.
// MAGIC `parallelism` is how many fits run at once.

// COMMAND ----------

val accuracy = new MulticlassClassificationEvaluator().setLabelCol("label").setMetricName("accuracy")
val cv = new NativeCrossValidator()
  .setEstimator(svc)
  .setEstimatorParamMaps(grid)
  .setEvaluator(accuracy)
  .setNumFolds(3)
  .setFoldCol("fold")
  .setSeed(0)
  .setParallelism(2)
  .setCollectSubModels(false)

val start = System.nanoTime
val tuned = cv.fit(recipe)
println(f"48 sets x 3 folds (144 SVC fits) and the refit in ${(System.nanoTime - start) / 1e9}%.1f s")

// COMMAND ----------

// MAGIC %md
// MAGIC ## The results table
// MAGIC
// MAGIC `cvResults` is scikit-learn's `cv_results_` as a DataFrame: one column per grid param,
// MAGIC each fold's metric, `mean`, `std`, `rank` (1 = best), `meanFitMillis`, `status` and
// MAGIC `error` (a parameter set that fails does not stop the others).
// MAGIC
// MAGIC ```python
// MAGIC pd.DataFrame(search.cv_results_).sort_values("rank_test_score")
// MAGIC ```

// COMMAND ----------

val results = tuned.cvResults.cache()
results.orderBy("rank", "kernel", "cost").show(10, truncate = false)
// display(results.orderBy("rank"))

assert(results.count() == 48, "one row per parameter set")
assert(results.filter(col("status") =!= "ok").count() == 0, "every set fitted")
assert((0 until 3).forall(k => results.columns.contains(s"fold$k")), "a column per fold")
assert(tuned.avgMetrics.length == 48 && tuned.stdMetrics.length == 48)

// The kernels side by side: the best mean accuracy of each.
results.groupBy("kernel").agg(max("mean").as("best mean accuracy")).orderBy(desc("best mean accuracy")).show()

// COMMAND ----------

// MAGIC %md
// MAGIC ## The best parameter set, against scikit-learn's
// MAGIC
// MAGIC scikit-learn 1.9.1 on the same file and folds (`svc_recipe_grid.json`): best `C = 1`,
// MAGIC `kernel = rbf` (shrinking on or off: the same model), mean accuracy 0.95499. manyfold's
// MAGIC SVC is libsvm's algorithm with the same decision values, so the same set wins.

// COMMAND ----------

val best = tuned.bestModel.asInstanceOf[SVCModel]
val bestMean = tuned.avgMetrics(tuned.bestIndex)
println(f"best: C=${best.getCost}, kernel=${best.getKernel}, shrinking=${best.getShrinking}, " +
  f"mean CV accuracy $bestMean%.5f (scikit-learn: 0.95499)")
assert(best.getKernel == "rbf" && best.getCost == 1.0, s"best set ${tuned.bestParams}")
assert(math.abs(bestMean - 0.9549879220537902) < 0.0035, s"best mean accuracy $bestMean")

val bestRow = results.filter(col("rank") === 1).head()
assert(bestRow.getAs[String]("kernel") == "rbf", s"rank 1 in cvResults: $bestRow")

// COMMAND ----------

// MAGIC %md
// MAGIC ## The best model, refitted on all the rows
// MAGIC
// MAGIC `bestModel` is an ordinary fitted `SVCModel`: `transform` adds `rawPrediction`,
// MAGIC `probability` (Platt's scaling, `probability` on) and `prediction`; it saves and loads
// MAGIC like any Spark ML model.

// COMMAND ----------

val scored = best.transform(recipe)
scored.select("label", "probability", "prediction").show(5, truncate = false)
val trainingAccuracy = accuracy.evaluate(scored)
println(f"training accuracy of the refitted best model: $trainingAccuracy%.3f")
assert(trainingAccuracy > 0.95, s"training accuracy $trainingAccuracy")
