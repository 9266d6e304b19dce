// A native search end to end on the packaged jar: k-fold cross-validation of a logistic
// regression whose fits run in parallel tasks, on local[2] (executors are threads of the driver)
// and on local-cluster (two executor JVMs, each of which gets the broadcast data once and decodes
// it natively once). The fold metrics are checked against Spark's own evaluator on the fold
// models' predictions, so the executors' results are compared with an independent computation.
//
// Run by tests/e2e/run.sh: spark-shell --jars <jar> -i search.scala, with E2E_EXECUTORS (0 for
// local[n], n for local-cluster[n,..]); success is exit code 0 and the "E2E-PASS search" line.

import org.apache.spark.SparkEnv
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.tuning.ParamGridBuilder
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions._

import manyfold.ml.classification.LogisticRegression
import manyfold.ml.tuning.NativeCrossValidator

object SearchE2E {
  private def check(cond: Boolean, what: => String): Unit =
    if (!cond) throw new AssertionError(s"e2e check failed: $what")

  def run(spark: SparkSession): Unit = {
    val executors = sys.env("E2E_EXECUTORS").toInt
    val sc = spark.sparkContext
    if (executors > 0) {
      val deadline = System.nanoTime + 60L * 1000 * 1000 * 1000
      while (sc.getExecutorMemoryStatus.size < executors + 1 && System.nanoTime < deadline) {
        Thread.sleep(200)
      }
    }
    // 3,000 rows, 4 features, a noisy linear score; fold = id % 3.
    val df = spark
      .range(0, 3000, 1, 4)
      .select(
        col("id"),
        randn(1).as("x0"),
        randn(2).as("x1"),
        randn(3).as("x2"),
        randn(4).as("x3"),
        randn(5).as("noise")
      )
      .withColumn("y", when(col("x0") - col("x1") + col("x2") * 0.5 + col("noise") > 0, 1.0).otherwise(0.0))
      .withColumn("fold", (col("id") % 3).cast("int"))
      .cache()
    val lr = new LogisticRegression().setInputCols(Array("x0", "x1", "x2", "x3")).setLabelCol("y")
    val grid = new ParamGridBuilder().addGrid(lr.regParam, Array(0.0, 0.01, 0.1, 1.0)).build()
    val auc = new BinaryClassificationEvaluator().setLabelCol("y")
    val m = new NativeCrossValidator()
      .setEstimator(lr)
      .setEstimatorParamMaps(grid)
      .setEvaluator(auc)
      .setFoldCol("fold")
      .setParallelism(4)
      .setCollectSubModels(true)
      .fit(df)
    m.cvResults.orderBy("rank").show(truncate = false)
    for (f <- 0 until 3; p <- grid.indices) {
      val expected = auc.evaluate(m.subModels(f)(p).transform(df.where(col("fold") === f)))
      val actual = m.foldMetrics(p)(f)
      check(math.abs(actual - expected) < 1e-9, s"fold $f set $p: native $actual, Spark $expected")
    }
    check(m.avgMetrics(m.bestIndex) == m.avgMetrics.max, s"best ${m.bestIndex} of ${m.avgMetrics.toSeq}")

    // Each executor JVM decoded the search data at most once (4 tasks over 2 executors).
    val decodes = sc
      .parallelize(0 until 8, 8)
      .map(_ => (SparkEnv.get.executorId, manyfold.jni.NativeCalls.openSearchDataCalls))
      .collect()
      .distinct
    decodes.foreach { case (id, n) => println(s"e2e search: executor $id decoded $n search data set(s)") }
    check(decodes.forall(_._2 <= 1), s"at most one decode per executor JVM: ${decodes.toSeq}")
    if (executors > 0) {
      check(decodes.map(_._1).toSet.size == executors, s"probes reached every executor: ${decodes.toSeq}")
      check(decodes.map(_._2).sum >= 1, "the fits ran in the executor JVMs")
    }
  }
}

val e2eStatus =
  try {
    SearchE2E.run(spark)
    println("E2E-PASS search")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
