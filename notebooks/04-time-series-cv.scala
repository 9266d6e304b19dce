// Databricks notebook source
// MAGIC %md
// MAGIC # Time-series cross-validation, one search per store
// MAGIC
// MAGIC Daily demand per store, forecast one day ahead by a ridge regression on lag features. How
// MAGIC much to regularize differs by store (noisy stores want more), so each store gets its own
// MAGIC search: `TimeSeriesCrossValidator` (scikit-learn's `TimeSeriesSplit`: expanding training
// MAGIC window, a fixed validation horizon, an optional gap) wrapped in `Grouped`, every store's
// MAGIC whole search inside one Spark task, natively.
// MAGIC
// MAGIC It replaces the PySpark recipe
// MAGIC `df.groupBy("store").applyInPandas(grid_search_with_TimeSeriesSplit, schema)` (in comments
// MAGIC below), and time-series folds written by hand around Spark's `CrossValidator`.
// MAGIC
// MAGIC **Attach the jar first** (`manyfold_2.12-0.1.0.jar`, Spark 3.5 / Scala 2.12, x86_64 Linux).
// MAGIC Locally: `spark-shell --jars target/jar/manyfold_2.12-0.1.0.jar -i notebooks/04-time-series-cv.scala`.

// COMMAND ----------

import org.apache.spark.ml.evaluation.RegressionEvaluator
import org.apache.spark.ml.tuning.ParamGridBuilder
import org.apache.spark.sql.expressions.Window
import org.apache.spark.sql.functions._

import manyfold.ml.Grouped
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import manyfold.ml.tuning.TimeSeriesCrossValidator

// COMMAND ----------

// MAGIC %md
// MAGIC ## Data: 60 stores × 400 days
// MAGIC
// MAGIC Per store: a level, a trend, a weekly pattern, a few holidays (the same days for every
// MAGIC store) and noise of 3% to 35% of the level. The generator of
// MAGIC `tests/reference/make_tuning_fixtures.py` and the benchmark (`bench/data.py`), written with
// MAGIC Spark's functions (other random numbers, the same shape). Seeded `rand`/`randn` on a fixed
// MAGIC number of partitions, so reruns give the same data.

// COMMAND ----------

val stores = 60
val days = 400
val holidays = Seq(0, 45, 120, 185, 246, 330, 358)

val storeParams = spark
  .range(0L, stores.toLong, 1L, 1)
  .select(
    col("id").cast("int").as("store"),
    (rand(1) * 150 + 50).as("level"),
    (rand(2) * 0.1 - 0.02).as("slope"),
    (rand(3) * 0.25 + 0.05).as("weekly"),
    (rand(4) * 7).cast("int").as("phase"),
    (rand(5) * 0.32 + 0.03).as("noise"),
    (rand(6) + 1.5).as("lift")
  )

val daily = spark
  .range(0L, stores.toLong * days, 1L, 4)
  .select((col("id") / days).cast("int").as("store"), (col("id") % days).cast("int").as("day"), randn(7).as("z"))
  .join(storeParams, "store")
  .withColumn("holiday", (col("day") % 365).isin(holidays: _*))
  .withColumn(
    "mean",
    (col("level") * (lit(1.0) + col("slope") * col("day") / 100)) *
      (lit(1.0) + col("weekly") * sin(lit(2 * math.Pi) * ((col("day") + col("phase")) % 7) / 7)) *
      when(col("holiday"), col("lift")).otherwise(1.0)
  )
  .withColumn("demand", round(greatest(col("mean") + col("z") * col("noise") * col("level"), lit(0.0)), 3))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Lag features
// MAGIC
// MAGIC `lag1`, `lag7`, `lag14` (demand 1, 7 and 14 days before), `roll7` (mean of the 7 days
// MAGIC before) and the day of the week; the first 14 days of each store, whose lags are
// MAGIC undefined, are dropped. `day` is an integer day index: the time column of the folds.

// COMMAND ----------

val byDay = Window.partitionBy("store").orderBy("day")
val demand = daily
  .withColumn("lag1", lag("demand", 1).over(byDay))
  .withColumn("lag7", lag("demand", 7).over(byDay))
  .withColumn("lag14", lag("demand", 14).over(byDay))
  .withColumn("roll7", avg("demand").over(byDay.rowsBetween(-7, -1)))
  .withColumn("dow", (col("day") % 7).cast("double"))
  .where(col("day") >= 14)
  .select("store", "day", "lag1", "lag7", "lag14", "roll7", "dow", "demand")
  .cache()

demand.orderBy("store", "day").show(5)
// display(demand)
assert(demand.count() == stores.toLong * (days - 14), "one row per store and day after the first 14")

// COMMAND ----------

// MAGIC %md
// MAGIC ## The model and the grid
// MAGIC
// MAGIC Spark's ridge: `LinearRegression` with `elasticNetParam = 0`, here on the features'
// MAGIC own scale (`standardization = false`). Spark applies `regParam` to the standardized label,
// MAGIC so in scikit-learn terms this is `Ridge(alpha = regParam * n / sd(y))`.
// MAGIC
// MAGIC ```python
// MAGIC def search(pdf):                                 # the applyInPandas recipe, per store
// MAGIC     pdf = pdf.sort_values("day")
// MAGIC     cv = GridSearchCV(SparkRidge(), {"regParam": [1, 10, 100, 1000]},
// MAGIC                       cv=TimeSeriesSplit(n_splits=5, test_size=28, gap=0),
// MAGIC                       scoring="neg_root_mean_squared_error")
// MAGIC     cv.fit(pdf[features], pdf["demand"])
// MAGIC     return pd.DataFrame({"store": [pdf.store.iloc[0]], "regParam": [cv.best_params_["regParam"]],
// MAGIC                          "rmse": [-cv.best_score_]})
// MAGIC best = demand.groupBy("store").applyInPandas(search, "store int, regParam double, rmse double")
// MAGIC ```

// COMMAND ----------

val features = Array("lag1", "lag7", "lag14", "roll7", "dow")
val ridge = new LinearRegression()
  .setInputCols(features)
  .setLabelCol("demand")
  .setElasticNetParam(0.0)
  .setStandardization(false)
val regParams = Array(1.0, 10.0, 100.0, 1000.0)
val grid = new ParamGridBuilder().addGrid(ridge.regParam, regParams).build()
val rmse = new RegressionEvaluator().setLabelCol("demand").setMetricName("rmse")

def timeSeriesSearch() = new TimeSeriesCrossValidator()
  .setEstimator(ridge)
  .setEstimatorParamMaps(grid)
  .setEvaluator(rmse)
  .setTimeCol("day")
  .setNSplits(5)
  .setTestSize(28) // 4 weeks of validation per fold
  .setGap(0) // days left out between training and validation
  .setMaxTrainSize(0) // 0: the training window keeps growing
  .setParallelism(2)

// COMMAND ----------

// MAGIC %md
// MAGIC ## One store first
// MAGIC
// MAGIC `fit` returns a `TimeSeriesCrossValidatorModel`: `cvResults` has a column per fold (the
// MAGIC RMSE of each validation window), `mean`, `std` and `rank`; `bestModel` is refitted on every
// MAGIC day.

// COMMAND ----------

val store7 = timeSeriesSearch().fit(demand.where(col("store") === 7))
store7.cvResults.orderBy("rank").show(truncate = false)
val store7Best = store7.bestModel.asInstanceOf[LinearRegressionModel]
println(s"store 7: best regParam ${store7Best.getRegParam}, mean RMSE ${store7.avgMetrics(store7.bestIndex)}")
assert(store7.cvResults.count() == regParams.length)
assert(store7.avgMetrics(store7.bestIndex) == store7.avgMetrics.min, "RMSE: smaller is better")

// COMMAND ----------

// MAGIC %md
// MAGIC ## The folds
// MAGIC
// MAGIC scikit-learn's `TimeSeriesSplit` on the sorted distinct days: the last 5 × 28 days are
// MAGIC cut into 5 validation windows; each fold trains on every day before its window (minus
// MAGIC `gap`). Rows of the same day are always on the same side. `folds` shows them: for days
// MAGIC 14..399, fold 0 trains on days 14..259 and validates on 260..287, fold 4 validates on
// MAGIC 372..399.

// COMMAND ----------

val folds = store7.folds.orderBy("fold").cache()
folds.show(truncate = false)
val expected = (0 until 5).map { k =>
  val validationStart = days - (5 - k) * 28
  (k, 14.0, validationStart - 1.0, validationStart.toDouble, validationStart + 27.0)
}
val cut = folds.collect().map { r =>
  (r.getAs[Int]("fold"), r.getAs[Double]("trainTimeMin"), r.getAs[Double]("trainTimeMax"),
    r.getAs[Double]("validationTimeMin"), r.getAs[Double]("validationTimeMax"))
}
assert(cut.toSeq == expected, s"folds ${cut.mkString(", ")}")
assert(folds.collect().forall(_.getAs[Long]("validationRows") == 28L))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Every store: `Grouped(search)`
// MAGIC
// MAGIC One search per store, each in one task. The models table gains the best value of each grid
// MAGIC param (`regParam`) and `cvMetric` (the best mean RMSE); a store whose search fails gets
// MAGIC `status = failed` and the reason, the others still train.

// COMMAND ----------

val perStore = Grouped(timeSeriesSearch()).setGroupCols("store").fit(demand)
val table = perStore.models.select("store", "rows", "regParam", "cvMetric", "status").cache()
table.orderBy("store").show(10)
// display(table)

table.groupBy("regParam").count().orderBy("regParam").show()
val ok = table.where(col("status") === "ok").count()
val choices = table.select("regParam").distinct().count()
println(s"$ok of $stores stores searched; $choices different best regParam values")
assert(ok == stores, s"$ok stores")
assert(choices > 1, "the stores do not all want the same penalty")
val grouped7 = table.where(col("store") === 7).head()
assert(grouped7.getAs[Double]("regParam") == store7Best.getRegParam, "the same choice as the single search")
assert(math.abs(grouped7.getAs[Double]("cvMetric") - store7.avgMetrics(store7.bestIndex)) < 1e-9)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Forecast the next day
// MAGIC
// MAGIC The features of day 400 come from the last days of each store; `transform` predicts with
// MAGIC each store's refitted best model.

// COMMAND ----------

val lastDays = daily.where(col("day") >= days - 14)
val next = lastDays
  .groupBy("store")
  .agg(
    max(when(col("day") === days - 1, col("demand"))).as("lag1"),
    max(when(col("day") === days - 7, col("demand"))).as("lag7"),
    max(when(col("day") === days - 14, col("demand"))).as("lag14"),
    avg(when(col("day") >= days - 7, col("demand"))).as("roll7")
  )
  .withColumn("day", lit(days))
  .withColumn("dow", lit((days % 7).toDouble))
val forecast = perStore.transform(next).select("store", "day", "prediction").orderBy("store").cache()
forecast.show(5)
assert(forecast.count() == stores && forecast.where(col("prediction").isNull).count() == 0)
assert(forecast.where(col("prediction") < 0).count() <= stores / 10, "demand forecasts are mostly positive")
