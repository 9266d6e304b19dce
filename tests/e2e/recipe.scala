// The recipe, end to end on the packaged jar: two data sets, y = 2.5x + noise and y = 3.0x + noise,
// each its own gzip CSV file, one linear model per data set, then save, reload and compare.
// On local-cluster it also checks that the work ran in the executor JVMs, each of which loaded
// the native library itself.
//
// Run by tests/e2e/run.sh: spark-shell --jars <jar> -i recipe.scala, with the environment
//   E2E_DATA       directory holding a.csv.gz and b.csv.gz (tests/e2e/make_recipe_data.py)
//   E2E_OUT        scratch directory for saved models
//   E2E_EXECUTORS  executors expected: 0 for local[n], n for local-cluster[n,..]
// spark-shell loads this file as one unit: a compile error or exception runs nothing after it, so
// success is the exit code 0 *and* the closing "E2E-PASS" line, which run.sh both requires.

import java.util.concurrent.ConcurrentLinkedQueue

import scala.collection.JavaConverters._

import org.apache.spark.SparkEnv
import org.apache.spark.scheduler.{SparkListener, SparkListenerTaskEnd}
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._

import manyfold.ml.{Grouped, GroupedModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}

object RecipeE2E {
  private val expectedSlopes = Map("a" -> 2.5, "b" -> 3.0)

  private def check(cond: Boolean, what: => String): Unit =
    if (!cond) throw new AssertionError(s"e2e check failed: $what")

  def run(spark: SparkSession): Unit = {
    val dataDir = sys.env("E2E_DATA")
    val outDir = sys.env("E2E_OUT")
    val executors = sys.env("E2E_EXECUTORS").toInt
    val sc = spark.sparkContext
    println(s"e2e recipe: master ${sc.master}, data $dataDir")

    if (executors > 0) awaitExecutors(spark, executors)
    val taskExecutors = new ConcurrentLinkedQueue[String]()
    sc.addSparkListener(new SparkListener {
      override def onTaskEnd(end: SparkListenerTaskEnd): Unit =
        taskExecutors.add(end.taskInfo.executorId)
    })

    // Each file is one data set; its name (a, b) identifies it.
    val df = spark.read
      .option("header", "true")
      .schema("id LONG, x DOUBLE, y DOUBLE")
      .csv(dataDir)
      .withColumn("dataset", regexp_extract(input_file_name(), "([^/]+)\\.csv\\.gz$", 1))
      .cache()
    val perDataset = df.groupBy("dataset").count().collect().map(r => r.getString(0) -> r.getLong(1))
    check(perDataset.toMap == Map("a" -> 2000L, "b" -> 2000L), s"rows per data set $perDataset")

    val est = new LinearRegression().setInputCols(Array("x")).setLabelCol("y")
    val gm = Grouped(est).setGroupCols("dataset").fit(df)

    // One model per data set, trained, with its row count and metrics.
    val models = gm.models.drop("model").orderBy("dataset").collect()
    models.foreach(println)
    check(models.map(_.getAs[String]("dataset")).toSeq == Seq("a", "b"), "one model per data set")
    models.foreach { r =>
      val name = r.getAs[String]("dataset")
      check(r.getAs[String]("status") == "ok", s"$name trained: ${r.getAs[String]("error")}")
      check(r.getAs[Number]("rows").longValue == 2000L, s"$name rows ${r.getAs[Any]("rows")}")
      check(r.getAs[Double]("r2") > 0.95, s"$name r2 ${r.getAs[Any]("r2")}")
    }
    expectedSlopes.foreach { case (name, slope) =>
      val m = gm.model(name)
      println(f"e2e recipe: $name slope ${m.coefficients(0)}%.4f intercept ${m.intercept}%.4f")
      check(m.coefficients.size == 1, s"$name has one coefficient")
      check(math.abs(m.coefficients(0) - slope) <= 0.1, s"$name slope ${m.coefficients(0)}")
      check(math.abs(m.intercept) <= 0.3, s"$name intercept ${m.intercept}")
    }

    // Predictions are the model's formula, for every row.
    val predicted = predictions(gm, df)
    check(predicted.size == 4000, s"${predicted.size} predictions")
    val xs = df.select("dataset", "id", "x").collect()
    xs.foreach { r =>
      val (name, id, x) = (r.getString(0), r.getLong(1), r.getDouble(2))
      val m = gm.model(name)
      val expected = m.intercept + m.coefficients(0) * x
      val got = predicted((name, id))
      check(got != null && math.abs(got.doubleValue - expected) <= 1e-9, s"$name/$id: $got")
    }
    // A data set without a model predicts null.
    val unknown = gm.transform(df.limit(5).withColumn("dataset", lit("zzz"))).collect()
    check(unknown.length == 5 && unknown.forall(_.isNullAt(unknown(0).fieldIndex("prediction"))),
      "unknown data set predicts null")

    // Saved and reloaded: identical coefficients and predictions.
    val path = s"$outDir/recipe-model-${if (executors > 0) "cluster" else "local"}"
    gm.write.overwrite().save(path)
    val loaded = GroupedModel.load(path).as[LinearRegressionModel]
    expectedSlopes.keys.foreach { name =>
      check(loaded.model(name).coefficients == gm.model(name).coefficients, s"$name coefficients")
      check(loaded.model(name).intercept == gm.model(name).intercept, s"$name intercept")
    }
    val reloaded = predictions(loaded, df)
    check(reloaded == predicted, "reloaded model predicts the same")
    val statuses = loaded.models.select("dataset", "status", "rows").orderBy("dataset").collect()
    check(statuses.map(_.getString(1)).toSeq == Seq("ok", "ok"), "reloaded statuses")
    println(s"e2e recipe: saved to $path, reloaded, same coefficients and ${reloaded.size} predictions")

    if (executors > 0) checkExecutors(spark, executors, taskExecutors)
    else println(s"e2e recipe: tasks ran on ${taskExecutors.asScala.toSet.mkString(", ")}")
  }

  private def predictions(model: GroupedModel[_], df: DataFrame): Map[(String, Long), java.lang.Double] =
    model
      .transform(df)
      .select("dataset", "id", "prediction")
      .collect()
      .map(r => (r.getString(0), r.getLong(1)) -> r.getAs[java.lang.Double](2))
      .toMap

  /** local-cluster executors register a few seconds after the driver starts. */
  private def awaitExecutors(spark: SparkSession, n: Int): Unit = {
    val deadline = System.nanoTime + 90L * 1000 * 1000 * 1000
    def registered = spark.sparkContext.statusTracker.getExecutorInfos.length - 1 // minus driver
    while (registered < n && System.nanoTime < deadline) Thread.sleep(250)
    check(registered == n, s"$n executors registered, found $registered")
  }

  /** The training tasks ran on executors, which are other JVMs that loaded the library. */
  private def checkExecutors(spark: SparkSession, n: Int, tasks: ConcurrentLinkedQueue[String]) = {
    val sc = spark.sparkContext
    // Listener events arrive asynchronously: the tasks may still be on the bus.
    val deadline = System.nanoTime + 10L * 1000 * 1000 * 1000
    while (tasks.isEmpty && System.nanoTime < deadline) Thread.sleep(100)
    val ran = tasks.asScala.toSet
    println(s"e2e recipe: tasks ran on executors ${ran.toSeq.sorted.mkString(", ")}")
    check(ran.nonEmpty && !ran.contains("driver"), s"tasks ran on executors, not $ran")

    val driverPid = ProcessHandle.current.pid
    val probes = sc
      .parallelize(0 until 2 * n, 2 * n)
      .map { _ =>
        val version = manyfold.jni.NativeApi.get.version()
        val from = manyfold.jni.NativeLoader.loadedPath.fold("?")(_.toString)
        (SparkEnv.get.executorId, ProcessHandle.current.pid, s"$version from $from")
      }
      .collect()
      .distinct
    probes.foreach { case (id, pid, lib) =>
      println(s"e2e recipe: executor $id, pid $pid, native library $lib")
    }
    check(probes.forall(_._2 != driverPid), "executors are JVMs other than the driver")
    check(probes.map(_._1).toSet.size == n, s"all $n executors loaded the native library")
    check(probes.map(_._2).toSet.size == n, s"$n executor JVMs")
  }
}

// Stop Spark before exiting: local-cluster workers would otherwise relaunch the executors.
val e2eStatus =
  try {
    RecipeE2E.run(spark)
    println("E2E-PASS recipe")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
