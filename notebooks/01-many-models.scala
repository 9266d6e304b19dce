// Databricks notebook source
// MAGIC %md
// MAGIC # Many models at once
// MAGIC
// MAGIC One regression per store, and one classifier per region, each trained natively by
// MAGIC manyfold inside Spark tasks: no Python worker, many groups per task.
// MAGIC
// MAGIC **Attach the jar first.** Databricks: add `manyfold_2.12-0.1.0.jar` to the cluster as a
// MAGIC library (Compute > your cluster > Libraries > Install new > JAR), Databricks Runtime with
// MAGIC Spark 3.5 and Scala 2.12, on x86_64. Locally:
// MAGIC `spark-shell --jars target/jar/manyfold_2.12-0.1.0.jar -i notebooks/01-many-models.scala`.
// MAGIC
// MAGIC This replaces the PySpark recipe
// MAGIC `df.groupBy("store").applyInPandas(train_with_sklearn, schema)`.

// COMMAND ----------

import org.apache.spark.sql.functions._

import manyfold.ml.{Grouped, GroupedModel}
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}

// COMMAND ----------

// MAGIC %md
// MAGIC ## Data: 250 stores, each with its own price and promotion effect
// MAGIC
// MAGIC `sales = slope * price + promoEffect * promo + base + noise`, where the slope, the
// MAGIC promotion effect and the base depend on the store. One store, `store-bad`, has a single
// MAGIC row: too few to fit a model with two features and an intercept.

// COMMAND ----------

val stores = 250
val rowsPerStore = 100
val g = (col("id") / rowsPerStore).cast("int")
val slope = lit(1.0) + (g % 10) * 0.5
val promoEffect = lit(-2.0) + (g % 4)
val base = lit(5.0) + (g % 3)

val sales = spark
  .range(0L, stores.toLong * rowsPerStore, 1L, 4)
  .select(
    format_string("store-%03d", g).as("store"),
    (rand(1L) * 10).as("price"),
    rand(2L).as("promo"),
    slope.as("slope"),
    promoEffect.as("promoEffect"),
    base.as("base")
  )
  .withColumn(
    "sales",
    col("slope") * col("price") + col("promoEffect") * col("promo") + col("base") + randn(3L) * 0.5
  )
  .select("store", "price", "promo", "sales")
  .union(Seq(("store-bad", 1.0, 0.0, 3.0)).toDF("store", "price", "promo", "sales"))
  .cache()

sales.show(5)
// display(sales)

// COMMAND ----------

// MAGIC %md
// MAGIC ## One model per store
// MAGIC
// MAGIC `Grouped(estimator)` fits one copy of the estimator per value of the group columns. The
// MAGIC features are plain numeric columns (`setInputCols`): no `VectorAssembler` needed.

// COMMAND ----------

val lr = new LinearRegression().setInputCols(Array("price", "promo")).setLabelCol("sales")
val storeModels = Grouped(lr).setGroupCols("store").fit(sales)

val summary = storeModels.models.drop("model").cache()
summary.orderBy("store").show(5, truncate = false)
// display(summary)

val trained = summary.filter(col("status") === "ok").count()
println(s"trained $trained of ${summary.count()} stores")
assert(trained == stores, s"$trained stores trained")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Failed groups do not stop the others
// MAGIC
// MAGIC A group whose data cannot be fitted (NaN, a null, too few rows, one class only) gets
// MAGIC `status = failed` and the reason. `setFailOnGroupError(true)` makes `fit` raise instead.

// COMMAND ----------

val failures = summary.filter(col("status") === "failed").select("store", "rows", "error")
failures.show(truncate = false)
val failed = failures.collect()
assert(failed.map(_.getString(0)).toSeq == Seq("store-bad"), "only store-bad failed")
assert(failed.forall(r => r.getString(2) != null && r.getString(2).nonEmpty), "a reason is given")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Coefficients of one store
// MAGIC
// MAGIC `store-007` was generated with slope 4.5, promotion effect 1.0 and base 6.0.

// COMMAND ----------

val m7 = storeModels.model("store-007")
println(s"store-007: coefficients ${m7.coefficients}, intercept ${m7.intercept}")
assert(math.abs(m7.coefficients(0) - 4.5) < 0.1, s"price coefficient ${m7.coefficients(0)}")
assert(math.abs(m7.coefficients(1) - 1.0) < 0.5, s"promo coefficient ${m7.coefficients(1)}")
assert(math.abs(m7.intercept - 6.0) < 0.5, s"intercept ${m7.intercept}")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Predictions
// MAGIC
// MAGIC `transform` adds `prediction`, computed natively per partition with each row's own
// MAGIC store model. Rows of a store without a model (unknown or failed) predict `null`.

// COMMAND ----------

val newWeek = Seq(("store-007", 4.0, 1.0), ("store-123", 2.0, 0.0), ("store-bad", 1.0, 0.0))
  .toDF("store", "price", "promo")
val predicted = storeModels.transform(newWeek).orderBy("store").collect()
predicted.foreach(println)
assert(math.abs(predicted(0).getAs[Double]("prediction") - (4.5 * 4.0 + 1.0 + 6.0)) < 1.0)
assert(!predicted(1).isNullAt(predicted(1).fieldIndex("prediction")), "store-123 predicts")
assert(predicted(2).isNullAt(predicted(2).fieldIndex("prediction")), "store-bad predicts null")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Save and load
// MAGIC
// MAGIC The grouped model is a Spark ML model: `write.save` and `GroupedModel.load` (Spark's layout:
// MAGIC metadata JSON and Parquet data). On Databricks use a DBFS or Unity Catalog volume path.

// COMMAND ----------

val modelPath = java.nio.file.Files.createTempDirectory("manyfold-notebook").resolve("stores").toString
// val modelPath = "dbfs:/tmp/manyfold/stores"
storeModels.write.overwrite().save(modelPath)
val reloaded = GroupedModel.load(modelPath).as[LinearRegressionModel]
assert(reloaded.model("store-007").coefficients == m7.coefficients, "same coefficients")
val again = reloaded.transform(newWeek).orderBy("store").collect()
assert(again.toSeq == predicted.toSeq, "same predictions")
println(s"saved to $modelPath and reloaded: same coefficients and predictions")

// COMMAND ----------

// MAGIC %md
// MAGIC ## One classifier per region
// MAGIC
// MAGIC The same with `LogisticRegression`: will a customer churn, from tenure and monthly
// MAGIC spend, with one model per region. The summary reports training `accuracy` and `logLoss`.

// COMMAND ----------

val customers = spark
  .range(0L, 20L * 300, 1L, 4)
  .select(
    format_string("region-%02d", (col("id") / 300).cast("int")).as("region"),
    (rand(4L) * 60).as("tenure"),
    (rand(5L) * 100).as("spend")
  )
  .withColumn("score", lit(2.0) - col("tenure") * 0.1 + col("spend") * 0.02 + randn(6L) * 0.5)
  .withColumn("churned", when(col("score") > 0, 1.0).otherwise(0.0))

val churn = new LogisticRegression().setInputCols(Array("tenure", "spend")).setLabelCol("churned")
val regionModels = Grouped(churn).setGroupCols("region").fit(customers)
val churnSummary = regionModels.models.select("region", "rows", "accuracy", "logLoss", "status")
churnSummary.orderBy("region").show(5)
// display(churnSummary)

val worst = churnSummary.agg(min("accuracy")).head.getDouble(0)
assert(churnSummary.filter(col("status") === "ok").count() == 20, "20 regions trained")
assert(worst > 0.8, s"lowest training accuracy $worst")
println(f"20 region classifiers trained, lowest training accuracy $worst%.3f")
