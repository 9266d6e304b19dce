// Databricks notebook source
// MAGIC %md
// MAGIC # Beyond linear models: SVC, a Poisson GLM per store, k-means per region
// MAGIC
// MAGIC Three of manyfold's estimators, each a real Spark ML stage trained natively:
// MAGIC - `SVC`: scikit-learn's `SVC` (libsvm's algorithm), here the recipe's kernel SVC with
// MAGIC   Platt-scaled probabilities, then tuned with Spark's own `CrossValidator`;
// MAGIC - `GeneralizedLinearRegression` with `family = "poisson"`: one count model per store,
// MAGIC   the per-group recipe `groupBy("store").applyInPandas(fit_poisson_regressor)` in one line;
// MAGIC - `KMeans`: one clustering per region, no label needed.
// MAGIC
// MAGIC **Attach the jar first** (`manyfold_2.12-0.1.0.jar`, Spark 3.5 / Scala 2.12, x86_64 Linux).
// MAGIC Locally: `spark-shell --jars target/jar/manyfold_2.12-0.1.0.jar -i notebooks/02-estimators.scala`.

// COMMAND ----------

import org.apache.spark.ml.evaluation.{BinaryClassificationEvaluator, MulticlassClassificationEvaluator}
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.functions._

import manyfold.ml.Grouped
import manyfold.ml.classification.SVC
import manyfold.ml.clustering.KMeans
import manyfold.ml.regression.GeneralizedLinearRegression

// COMMAND ----------

// MAGIC %md
// MAGIC ## 1. The recipe's SVC on `make_classification`-like data
// MAGIC
// MAGIC 1,000 rows, 20 features of which 5 carry the class (shifted by the label), as
// MAGIC `sklearn.datasets.make_classification(n_samples=1000, n_features=20)` makes them.

// COMMAND ----------

val informative = 5
val features = (0 until 20).map(j => s"f$j")
val base = spark.range(1000).withColumn("label", (rand(7) > 0.5).cast("double"))
val classification = features.zipWithIndex
  .foldLeft(base) { case (df, (name, j)) =>
    val shift = if (j < informative) (col("label") * 2 - 1) * (0.6 + 0.1 * j) else lit(0.0)
    df.withColumn(name, randn(100 + j) + shift)
  }
  .cache()

val svc = new SVC()
  .setInputCols(features.toArray)
  .setCost(1.0)
  .setKernel("rbf")
  .setGamma("auto")
  .setProbability(true)
val svcModel = svc.fit(classification)
val scored = svcModel.transform(classification)
scored.select("label", "rawPrediction", "probability", "prediction").show(5, truncate = false)

val auc = new BinaryClassificationEvaluator().evaluate(scored)
val accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(scored)
println(f"SVC: ${svcModel.numSupportVectors} support vectors, training AUC $auc%.3f, accuracy $accuracy%.3f")
assert(auc > 0.9 && accuracy > 0.85, s"the classes are separable enough: AUC $auc, accuracy $accuracy")

// COMMAND ----------

// MAGIC %md
// MAGIC ### Tuning it with Spark's own `CrossValidator`
// MAGIC
// MAGIC The recipe's grid (C × kernel × shrinking, gamma "auto", probability on): 48 parameter sets,
// MAGIC 3 folds. Each fit is native; here on a 300-row sample to keep the notebook quick.

// COMMAND ----------

val grid = new ParamGridBuilder()
  .addGrid(svc.cost, Array(0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0))
  .addGrid(svc.kernel, Array("rbf", "poly", "sigmoid"))
  .addGrid(svc.shrinking, Array(true, false))
  .build()
val cv = new CrossValidator()
  .setEstimator(svc)
  .setEstimatorParamMaps(grid)
  .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy"))
  .setNumFolds(3)
  .setSeed(0)
val sample = classification.sample(0.3, 11)
val start = System.nanoTime
val tuned = cv.fit(sample)
val best = tuned.bestModel.asInstanceOf[manyfold.ml.classification.SVCModel]
println(
  f"48 x 3 SVC fits in ${(System.nanoTime - start) / 1e9}%.1f s; best: C=${best.getCost}, " +
    f"kernel=${best.getKernel}, shrinking=${best.getShrinking}, mean CV accuracy ${tuned.avgMetrics.max}%.3f"
)
assert(tuned.avgMetrics.length == 48 && tuned.avgMetrics.max > 0.8)

// COMMAND ----------

// MAGIC %md
// MAGIC ## 2. A Poisson GLM per store, for count data
// MAGIC
// MAGIC Daily customer counts per store: `log E[count] = base + 0.3 * promo - 0.02 * temperature`,
// MAGIC with a store-specific base. One `GeneralizedLinearRegression` per store, natively.

// COMMAND ----------

val stores = 200
val days = spark
  .range(stores * 365L)
  .select(
    col("id"),
    (col("id") % stores).as("store"),
    (rand(3) > 0.8).cast("double").as("promo"),
    (randn(4) * 8 + 15).as("temperature")
  )
val rate = exp(lit(2.0) + (col("store") % 5) * 0.2 + col("promo") * 0.3 - col("temperature") * 0.02)
// A Poisson draw per row (Knuth's method, seeded by the row id so that reruns agree).
val poisson = udf { (lambda: Double, id: Long) =>
  val random = new java.util.SplittableRandom(id)
  val limit = math.exp(-lambda)
  var (k, p) = (0, random.nextDouble())
  while (p > limit) { k += 1; p *= random.nextDouble() }
  k.toDouble
}
val counts = days.withColumn("customers", poisson(rate, col("id"))).cache()

val glm = new GeneralizedLinearRegression()
  .setFamily("poisson")
  .setInputCols(Array("promo", "temperature"))
  .setLabelCol("customers")
val perStore = Grouped(glm).setGroupCols("store").fit(counts)
perStore.models.select("store", "rows", "rmse", "converged", "status").show(5)
val m3 = perStore.model(3L)
println(s"store 3: coefficients ${m3.coefficients} (expected about [0.3, -0.02]), intercept ${m3.intercept}")
assert(math.abs(m3.coefficients(0) - 0.3) < 0.15 && math.abs(m3.coefficients(1) + 0.02) < 0.01)
assert(perStore.models.where("status = 'ok'").count() == stores)

// COMMAND ----------

// MAGIC %md
// MAGIC ## 3. k-means per region
// MAGIC
// MAGIC Customers of each region as points in (spend, visits); three segments per region, found by
// MAGIC one k-means per region. Unsupervised: no label column.

// COMMAND ----------

val regions = Seq("north", "south", "east", "west")
val customers = spark
  .range(4000)
  .select(
    element_at(typedLit(regions), (col("id") % 4 + 1).cast("int")).as("region"),
    (col("id") / 4 % 3).cast("int").as("segment")
  )
  .withColumn("spend", col("segment") * 50.0 + randn(5) * 5)
  .withColumn("visits", col("segment") * 4.0 + randn(6))
  .cache()

val perRegion = Grouped(new KMeans().setK(3).setInputCols(Array("spend", "visits")).setSeed(1))
  .setGroupCols("region")
  .fit(customers)
perRegion.models.select("region", "rows", "inertia", "status").show()
val clustered = perRegion.transform(customers)
// Each true segment of a region lands in one cluster.
val purity = clustered
  .groupBy("region", "segment")
  .agg(countDistinct("prediction").as("clusters"))
  .agg(max("clusters"))
  .head()
  .getLong(0)
println(s"the most clusters any (region, segment) was split into: $purity")
assert(purity == 1)
