// Many tiny groups on a small driver: E2E_GROUPS groups (default 200,000) of 5 rows, one linear
// model each, trained, saved, loaded, counted and looked up on local[2] with a 512 MB driver heap.
// The table stays distributed: a listener sums the bytes of task results that reach the driver
// per job description, and every manyfold job (fit, failOnGroupError, save, load, model(keys))
// must return less than a tenth of what a collect of the model bytes returns (measured here too).
// Then E2E_SCORE_ROWS rows (default 1,000,000) are scored with the loaded model through the
// shuffle join (the broadcast threshold lowered to 8 MB), checked against each group's line.
//
// Run by tests/e2e/run.sh: spark-shell --driver-memory 512m --jars <jar> -i many_groups.scala,
// with E2E_OUT (scratch directory). Success is exit code 0 and the closing "E2E-PASS many-groups"
// line. E2E_GROUPS and E2E_MAX_HEAP_MB (default 600) scale it up by hand: 1,000,000 groups pass
// with a 2 GB driver; with 512 MB a training task runs out of heap (it holds its partition's
// outcomes, 125,000 here, while the table's cache is built).

import java.nio.file.{Files, Paths}
import java.util.concurrent.ConcurrentHashMap

import scala.collection.JavaConverters._

import org.apache.spark.scheduler._
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions._

import manyfold.ml.{Grouped, GroupedModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}

object ManyGroupsE2E {
  private def check(cond: Boolean, what: => String): Unit =
    if (!cond) throw new AssertionError(s"e2e check failed: $what")

  // The heap in use, sampled every 20 ms: its peak during each timed phase (garbage included),
  // and after the phase what a full collection leaves (what stayed live), for `make bench`'s
  // scale case.
  private object Heap {
    private val memory = java.lang.management.ManagementFactory.getMemoryMXBean
    @volatile var peak = 0L
    @volatile var overall = 0L
    private val sampler = new Thread(() =>
      while (true) {
        val used = memory.getHeapMemoryUsage.getUsed
        peak = math.max(peak, used)
        overall = math.max(overall, used)
        Thread.sleep(20)
      }
    )
    sampler.setDaemon(true)
    sampler.start()

    def live(): Long = { System.gc(); memory.getHeapMemoryUsage.getUsed }
  }

  private def timed[T](what: String)(body: => T): T = {
    Heap.peak = 0L
    val start = System.nanoTime
    val out = body
    val seconds = (System.nanoTime - start) / 1e9
    println(
      f"e2e many-groups: $what in $seconds%.1f s" +
        f" (peak heap ${Heap.peak >> 20} MB, live after ${Heap.live() >> 20} MB)"
    )
    out
  }

  def run(spark: SparkSession): Unit = {
    val groups = sys.env.getOrElse("E2E_GROUPS", "200000").toLong
    val out = Paths.get(sys.env("E2E_OUT"), "many-groups")
    val sc = spark.sparkContext
    val heap = Runtime.getRuntime.maxMemory
    println(s"e2e many-groups: $groups groups, driver heap ${heap >> 20} MB")
    val maxHeapMb = sys.env.getOrElse("E2E_MAX_HEAP_MB", "600").toLong
    check(heap < (maxHeapMb << 20), s"a driver heap under $maxHeapMb MB (${heap >> 20} MB)")

    // Bytes of task results that reached the driver, by job description.
    val stages = new ConcurrentHashMap[Int, String]
    val results = new ConcurrentHashMap[String, java.lang.Long]
    val events = new java.util.concurrent.atomic.AtomicLong
    sc.addSparkListener(new SparkListener {
      override def onJobStart(job: SparkListenerJobStart): Unit = {
        val d = Option(job.properties).flatMap(p => Option(p.getProperty("spark.job.description")))
        job.stageIds.foreach(stages.put(_, d.getOrElse("<none>")))
        events.incrementAndGet()
      }
      override def onTaskEnd(task: SparkListenerTaskEnd): Unit = {
        if (task.taskMetrics != null) {
          val d = stages.getOrDefault(task.stageId, "<none>")
          results.merge(d, task.taskMetrics.resultSize, (a: java.lang.Long, b: java.lang.Long) => a + b)
        }
        events.incrementAndGet()
      }
    })

    // Group g: y = (1 + (g mod 1000) / 1000) x + g / 1000 on x = 0..4, except two groups with a
    // NaN label.
    val bad = Seq(groups / 3 + 7, groups / 2 + 1)
    val df = spark
      .range(0, groups * 5, 1, 4)
      .select(
        (col("id") % groups).as("g"),
        (col("id") / groups).cast("long").cast("double").as("x")
      )
      .withColumn(
        "y",
        when(col("g").isin(bad: _*) && col("x") === 2.0, lit(Double.NaN))
          .otherwise(col("x") * (lit(1.0) + col("g") % 1000 / 1000.0) + col("g") / 1000.0)
      )
    val lr = new LinearRegression().setInputCols(Array("x")).setLabelCol("y")
    val model = timed("fit")(Grouped(lr).setGroupCols("g").fit(df))
    check(model.numGroups == groups, s"numGroups ${model.numGroups}")
    val stats = model.models
      .agg(sum(length(col("model"))), sum(when(col("status") === "failed", 1).otherwise(0)))
      .head()
    val bytes = stats.getLong(0)
    println(s"e2e many-groups: model bytes ${bytes >> 20} MB in total, ${bytes / groups} per model")
    check(stats.getLong(1) == 2, s"two failed groups, not ${stats.getLong(1)}")

    val m = timed("model(12345)")(model.model(12345L))
    check(math.abs(m.coefficients(0) - 1.345) < 1e-9, s"slope ${m.coefficients}")
    check(math.abs(m.intercept - 12.345) < 1e-9, s"intercept ${m.intercept}")
    val failed =
      try { model.model(bad.max); None }
      catch { case e: IllegalStateException => Some(e.getMessage) }
    check(failed.exists(_.contains(s"g=${bad.max}")), s"failed lookup: $failed")

    timed("save")(model.write.overwrite().save(out.toString))
    val files = Files.list(out.resolve("data")).iterator.asScala
      .count(_.getFileName.toString.endsWith(".parquet"))
    check(files > 1, s"the table is saved as it is partitioned: $files parquet files")
    model.models.unpersist()
    val loaded = timed("load (checks every model)") {
      GroupedModel.load(out.toString).as[LinearRegressionModel]
    }
    check(loaded.numGroups == groups, s"loaded numGroups ${loaded.numGroups}")
    val last = loaded.model(groups - 1)
    check(math.abs(last.intercept - (groups - 1) / 1000.0) < 1e-6, s"last intercept ${last.intercept}")

    // Scoring: rows joined to their group's model by a shuffle (the models are over the
    // broadcast threshold set here), each task decoding its groups' models once.
    val scoreRows = sys.env.getOrElse("E2E_SCORE_ROWS", "1000000").toLong
    spark.conf.set("spark.manyfold.predict.broadcastThreshold", (8L << 20).toString)
    val toScore = spark
      .range(0, scoreRows, 1, 8)
      .select((col("id") % (groups + 10)).as("g"), (col("id") % 7).cast("double").as("x"))
    val scored = loaded.transform(toScore)
    val expected = col("x") * (lit(1.0) + col("g") % 1000 / 1000.0) + col("g") / 1000.0
    val summary = timed(s"transform of $scoreRows rows") {
      scored
        .agg(
          count(when(col("prediction").isNull, 1)).as("nulls"),
          max(abs(col("prediction") - expected)).as("maxError"),
          count(when(col("g") >= groups || col("g").isin(bad: _*), 1)).as("noModel")
        )
        .head()
    }
    println(s"e2e many-groups: scoring: $summary")
    check(summary.getLong(0) == summary.getLong(2), s"null predictions exactly where no model: $summary")
    check(summary.getDouble(1) < 1e-6, s"predictions equal the groups' lines: $summary")
    spark.conf.unset("spark.manyfold.predict.broadcastThreshold")

    val error =
      try {
        timed("fit with failOnGroupError") {
          Grouped(lr).setGroupCols("g").setFailOnGroupError(true).fit(df)
        }
        None
      } catch { case e: IllegalStateException => Some(e.getMessage) }
    println(s"e2e many-groups: failOnGroupError: $error")
    check(error.exists(_.startsWith(s"group g=${bad.min} failed")), s"failOnGroupError: $error")

    // What a collect of the model bytes brings to the driver, against every manyfold job.
    sc.setJobDescription("e2e: collecting the model bytes")
    loaded.models.select("model").collect()
    sc.setJobDescription(null)
    var seen = -1L
    while (seen != events.get) { seen = events.get; Thread.sleep(1000) }
    val byJob = results.asScala.toSeq.sortBy(-_._2)
    byJob.foreach { case (d, b) => println(f"e2e many-groups: $b%,12d result bytes: $d") }
    val collected = results.get("e2e: collecting the model bytes")
    check(collected > (1L << 20), s"a collect of the model bytes returned $collected bytes")
    val manyfold = byJob.filter(_._1.startsWith("manyfold"))
    check(manyfold.exists(_._1.contains("training groups")), "the training job was seen")
    manyfold.foreach { case (d, b) =>
      check(b < collected / 10, s"'$d' brought $b bytes to the driver (a collect: $collected)")
    }
    println(s"e2e many-groups: peak heap ${Heap.overall >> 20} MB of ${heap >> 20} MB")
  }
}

val e2eStatus =
  try {
    ManyGroupsE2E.run(spark)
    println("E2E-PASS many-groups")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
