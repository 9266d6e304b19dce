package manyfold.ml

import java.sql.Date

import scala.collection.JavaConverters._

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.arrow.{ArrowBatches, FeatureLayout}
import manyfold.jni.NativeCalls
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.LinearRegression
import org.apache.spark.ListenerBusAccess
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._
import org.apache.spark.storage.StorageLevel
import org.apache.spark.unsafe.types.UTF8String
import org.json4s.JValue
import org.scalatest.funsuite.AnyFunSuite
import org.apache.spark.sql.manyfold.SparkShim

/**
 * Grouped training and prediction against scikit-learn: tests/fixtures/scala, made by
 * tests/reference/make_scala_fixtures.py (each group its own data and reference model).
 */
class GroupedSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private def groupsOf(c: JValue): List[JValue] = (c \ "groups").children
  private def key(g: JValue): String = (g \ "key").extract[String]

  private def linear(c: JValue): LinearRegression =
    new LinearRegression()
      .setRegParam((c \ "params" \ "regParam").extract[Double])
      .setInputCols("x0", "x1", "x2")
      .setLabelCol("y")

  for (name <- Seq("grouped_ols", "grouped_ridge")) {
    test(s"$name: every group's linear model matches scikit-learn") {
      val c = scalaCase(name)
      val df = groupedFrame(spark, c)
      val model = Grouped(linear(c)).setGroupCols("g").fit(df)
      val table = model.models.orderBy("g").collect()
      assert(
        model.models.columns.toSeq ==
          Seq("g", "model", "rows", "rmse", "r2", "converged", "status", "error", "trainingMillis")
      )
      // The closed form (no L1 part) reports converged, as Spark's normal solver.
      assert(model.models.where("converged").count() == groupsOf(c).length)
      assert(model.models.schema("g").dataType == StringType)
      assert(table.map(_.getString(0)).toSeq == groupsOf(c).map(key))
      for ((row, g) <- table.zip(groupsOf(c))) {
        assert(row.getAs[String]("status") == "ok" && row.isNullAt(row.fieldIndex("error")))
        assert(row.getAs[Long]("rows") == matrix(g \ "x").length)
        assert(row.getAs[Double]("r2") > 0.5 && row.getAs[Double]("rmse") > 0.0)
        assert(row.getAs[Double]("trainingMillis") >= 0.0)
        val m = model.model(key(g))
        Close(
          s"$name ${key(g)} coefficients",
          m.coefficients.toArray,
          doubles(g \ "expected" \ "coefficients"),
          1e-6,
          1e-12
        )
        Close(
          s"$name ${key(g)} intercept",
          Seq(m.intercept),
          Seq((g \ "expected" \ "intercept").extract[Double]),
          1e-6,
          1e-12
        )
      }
      // Each group is predicted with its own model.
      val predicted = model
        .transform(df)
        .select("g", "prediction")
        .collect()
        .groupBy(_.getString(0))
        .mapValues(_.map(_.getDouble(1)).sorted.toSeq)
      for (g <- groupsOf(c)) {
        Close(
          s"$name ${key(g)} predictions",
          predicted(key(g)),
          doubles(g \ "expected" \ "predictions").sorted.toSeq,
          1e-6,
          1.0
        )
      }
    }
  }

  private def logistic(c: JValue, p: Int): LogisticRegression =
    new LogisticRegression()
      .setRegParam((c \ "params" \ "regParam").extract[Double])
      .setInputCols(featureNames(p))
      .setLabelCol("y")

  for ((name, p) <- Seq("grouped_logistic_binary" -> 2, "grouped_logistic_multinomial" -> 3)) {
    test(s"$name: every group's logistic model and probabilities match scikit-learn") {
      val c = scalaCase(name)
      val df = groupedFrame(spark, c)
      val model = Grouped(logistic(c, p)).setGroupCols("g").fit(df)
      assert(
        model.models.columns.toSeq ==
          Seq(
            "g",
            "model",
            "rows",
            "accuracy",
            "logLoss",
            "converged",
            "status",
            "error",
            "trainingMillis"
          )
      )
      assert(model.models.where("converged").count() == groupsOf(c).length)
      for (g <- groupsOf(c)) {
        val m = model.model(key(g)).asInstanceOf[classification.LogisticRegressionModel]
        assert(m.classes.toSeq == doubles(g \ "expected" \ "classes").toSeq)
        val w = matrix(g \ "expected" \ "coefficientMatrix")
        assert(m.coefficientMatrix.numRows == w.length)
        for (k <- w.indices) {
          Close(
            s"$name ${key(g)} coefficients[$k]",
            (0 until p).map(j => m.coefficientMatrix(k, j)),
            w(k).toSeq,
            1e-3,
            1e-12
          )
        }
        val b = doubles(g \ "expected" \ "interceptVector")
        Close(
          s"$name ${key(g)} intercepts",
          m.interceptVector.toArray,
          b,
          1e-3,
          b.map(math.abs).max
        )
      }
      // Probabilities row by row: the frame keeps the fixture's row order within a group.
      val out = model
        .transform(
          df.withColumn("id", org.apache.spark.sql.functions.monotonically_increasing_id())
        )
        .orderBy("id")
        .select("g", "probability", "prediction")
        .collect()
      for (g <- groupsOf(c)) {
        val rows = out.filter(_.getString(0) == key(g))
        val probs = matrix(g \ "expected" \ "probabilities")
        assert(rows.length == probs.length)
        rows.zip(probs).foreach { case (r, expected) =>
          Close(s"$name ${key(g)} probability", r.getAs[Vector](1).toArray, expected, 1e-3, 1e-3)
        }
        val accuracy = rows.zip(doubles(g \ "expected" \ "predictions")).count { case (r, e) =>
          r.getDouble(2) == e
        }
        assert(
          accuracy >= rows.length - 2,
          s"${key(g)}: predictions differ from scikit-learn's in ${rows.length - accuracy} rows"
        )
      }
    }
  }

  private def manyGroups(groups: Int, rowsPerGroup: Int): DataFrame =
    spark
      .createDataFrame((0 until groups).flatMap { g =>
        (0 until rowsPerGroup).map(i =>
          (g, i.toDouble, (i * 7 % 5).toDouble, g + 2.0 * i - 0.5 * (i * 7 % 5))
        )
      })
      .toDF("k", "a", "b", "y")

  test("many groups share one native call per batch, not one per group") {
    // Linear regression trains through the sufficient statistics path: one solveGroupBuffer call
    // per partition.
    def callsSoFar = NativeCalls.trainGroupsCalls + NativeCalls.solveStatsCalls
    val before = callsSoFar
    val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("k")
      .setNumPartitions(3)
      .fit(manyGroups(300, 8))
    val calls = callsSoFar - before
    assert(calls >= 1 && calls <= 3, s"$calls native fit calls for 300 groups in 3 partitions")
    assert(model.numGroups == 300)
    assert(model.models.where(col("status") =!= "ok").count() == 0)
    val m = model.model(17)
    Close("group 17", m.coefficients.toArray.toSeq :+ m.intercept, Seq(2.0, -0.5, 17.0), 1e-8, 1.0)
  }

  test("numPartitions = 0 picks 2 partitions per core, capped by spark.sql.shuffle.partitions") {
    val df = spark.range(1000).selectExpr("id % 10 AS g", "CAST(id AS DOUBLE) AS x")
    val cores = spark.sparkContext.defaultParallelism
    val before = spark.conf.get("spark.sql.shuffle.partitions")
    try {
      spark.conf.set("spark.sql.shuffle.partitions", "200")
      assert(GroupedTraining.autoPartitions(df) == 2 * cores)
      spark.conf.set("spark.sql.shuffle.partitions", "3")
      assert(GroupedTraining.autoPartitions(df) == 3)
    } finally spark.conf.set("spark.sql.shuffle.partitions", before)
    // A large input gets one partition per 64 MB (range() has exact size statistics).
    val big = spark.range(0, 200L * 1000 * 1000).selectExpr("id", "id AS b", "id AS c")
    spark.conf.set("spark.sql.shuffle.partitions", "1000")
    try {
      val expected = SparkShim.queryExecution(big).optimizedPlan.stats.sizeInBytes /
        GroupedTraining.TargetPartitionBytes + 1
      assert(expected > 2 * cores)
      assert(GroupedTraining.autoPartitions(big) == expected.toInt)
    } finally spark.conf.set("spark.sql.shuffle.partitions", before)
  }

  test("a partition's rows, in any order, go packed to the group buffer and train in one call") {
    val plan = GroupedSuite.linearPlan(maxRowsPerGroup = 100, batchRows = 25)
    // 10 groups of 10 rows (y = 3 x + g plus a wobble), in key order and interleaved.
    val rows = (0 until 10).flatMap { g =>
      (0 until 10).map(i =>
        InternalRow(UTF8String.fromString(f"g$g%02d"), 3.0 * i + g + 0.01 * (i * i % 7), i.toDouble)
      )
    }
    val interleaved =
      (0 until 10).flatMap(i => (0 until 10).map(g => rows(10 * g + (i * 3 + g) % 10)))
    def run(input: Seq[InternalRow]): Map[String, GroupedTraining.Trained] = {
      val (calls, appends) = (NativeCalls.trainGroupsCalls, NativeCalls.appendGroupRowsCalls)
      val (opened, closed) = (NativeCalls.openGroupBufferCalls, NativeCalls.closeGroupBufferCalls)
      val types = Seq(StringType, DoubleType, DoubleType)
      val records = GroupShuffle.mapSide(plan, types, Left(input.iterator), 1).map(_._2).toList
      val trained = GroupedTraining.trainPartition(plan, records.iterator).toSeq
      // 100 rows packed in records of 25 rows: 4 records, each appended as it is, one training
      // call, the buffer closed.
      assert(records.length == 4 && !records.exists(GroupShuffle.isPartial))
      assert(NativeCalls.trainGroupsCalls - calls == 1)
      assert(NativeCalls.appendGroupRowsCalls - appends == 4)
      assert(NativeCalls.openGroupBufferCalls - opened == 1)
      assert(NativeCalls.closeGroupBufferCalls - closed == 1)
      assert(ArrowBatches.allocator.getAllocatedMemory == 0)
      trained.map(t => t.key.getUTF8String(0).toString -> t).toMap
    }
    val sorted = run(rows)
    val mixed = run(interleaved)
    assert(sorted.keySet == (0 until 10).map(g => f"g$g%02d").toSet)
    assert(sorted.values.forall(t => t.result.status == "ok" && t.result.rows == 10))
    for ((k, t) <- sorted) assert(mixed(k).result.model.sameElements(t.result.model), k)
  }

  test("group columns of several types (int, long, date, string, null) keep their types") {
    val schema = StructType(
      Seq(
        StructField("day", DateType),
        StructField("store", LongType),
        StructField("name", StringType),
        StructField("a", DoubleType),
        StructField("y", DoubleType)
      )
    )
    val days = Seq(Date.valueOf("2024-01-01"), Date.valueOf("2024-01-02"))
    val rows = for {
      d <- days; s <- Seq(1L, 2L); n <- Seq("x", null); i <- 0 until 6
    } yield Row(d, s, n, i.toDouble, 10.0 * s + (if (n == null) 1 else 2) * i)
    val df = spark.createDataFrame(rows.asJava, schema)
    val model = Grouped(new LinearRegression().setInputCols("a").setLabelCol("y"))
      .setGroupCols("day", "store", "name")
      .fit(df)
    assert(
      model.models.schema.fields.take(3).map(_.dataType).toSeq == Seq(
        DateType,
        LongType,
        StringType
      )
    )
    assert(model.numGroups == 8)
    // Sorted by key, nulls first as Spark sorts them.
    assert(
      model.models
        .orderBy("day", "store", "name")
        .select("name")
        .collect()
        .take(2)
        .map(_.getString(0))
        .toSeq == Seq(null, "x")
    )
    val m = model.model(days(1), 2, null) // an Int key finds a long group
    Close("slope", Seq(m.coefficients(0), m.intercept), Seq(1.0, 20.0), 1e-9, 1.0)
    val predicted = model.transform(df).select("store", "name", "a", "prediction").collect()
    predicted.foreach { r =>
      val slope = if (r.isNullAt(1)) 1 else 2
      assert(math.abs(r.getDouble(3) - (10.0 * r.getLong(0) + slope * r.getDouble(2))) < 1e-8)
    }
  }

  test("unknown and failed groups predict null; known groups predict") {
    val df = spark
      .createDataFrame(
        Seq(
          ("ok", 1.0, 2.0),
          ("ok", 2.0, 4.0),
          ("ok", 3.0, 6.1),
          ("bad", 1.0, Double.NaN),
          ("bad", 2.0, 1.0)
        )
      )
      .toDF("g", "a", "y")
    val model =
      Grouped(new LinearRegression().setInputCols("a").setLabelCol("y")).setGroupCols("g").fit(df)
    val test = spark.createDataFrame(Seq(("ok", 4.0), ("bad", 4.0), ("new", 4.0))).toDF("g", "a")
    val out = model.transform(test).collect().map(r => r.getString(0) -> r.get(2)).toMap
    assert(out("ok").asInstanceOf[Double] > 7.0 && out("bad") == null && out("new") == null)
  }

  test("model(keys): unknown key, wrong arity and failed groups are clear errors") {
    val df = spark
      .createDataFrame(Seq(("ok", 1.0, 2.0), ("ok", 2.0, 4.0), ("ok", 3.0, 6.1), ("bad", 1.0, 1.0)))
      .toDF("g", "a", "y")
    val model =
      Grouped(new LinearRegression().setInputCols("a").setLabelCol("y")).setGroupCols("g").fit(df)
    Close("group ok", Seq(model.model("ok").coefficients(0)), Seq(2.05), 1e-9, 1.0)
    val unknown = intercept[NoSuchElementException](model.model("nope"))
    assert(unknown.getMessage.contains("g=nope"))
    intercept[IllegalArgumentException](model.model("ok", 1))
    val failed = intercept[IllegalStateException](model.model("bad"))
    assert(
      failed.getMessage.contains("g=bad") && failed.getMessage.contains("2 rows"),
      failed.getMessage
    )
  }

  test("a Vector features column works per group") {
    val c = scalaCase("grouped_ols")
    val df = new VectorAssembler()
      .setInputCols(Array("x0", "x1", "x2"))
      .setOutputCol("features")
      .transform(groupedFrame(spark, c))
    val model = Grouped(new LinearRegression().setLabelCol("y")).setGroupCols("g").fit(df)
    for (g <- groupsOf(c)) {
      Close(
        "coefficients",
        model.model(key(g)).coefficients.toArray,
        doubles(g \ "expected" \ "coefficients"),
        1e-6,
        1e-12
      )
    }
    assert(model.numFeatures == 3)
    assert(model.transform(df).where(col("prediction").isNull).count() == 0)
  }

  test("prediction decodes a model set once per JVM; every set is closed; no Arrow leaks") {
    ModelCache.clear()
    val opened = NativeCalls.openModelsCalls
    val closed = NativeCalls.closeModelsCalls
    val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("k")
      .fit(manyGroups(20, 6))
    val df = manyGroups(20, 6).repartition(3)
    model.transform(df).collect()
    model.transform(df).limit(3).collect() // stops early: the task end releases the models
    // Three tasks, two transforms: the executor (this JVM) decoded the models once.
    assert(NativeCalls.openModelsCalls - opened == 1)
    assert(ModelCache.size == 1)
    ModelCache.clear()
    assert(NativeCalls.openModelsCalls - opened == NativeCalls.closeModelsCalls - closed)
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("prediction batches: one predict call per batch of rows, not per row") {
    val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("k")
      .fit(manyGroups(10, 6))
    val df = manyGroups(10, 500).repartition(2)
    val before = NativeCalls.predictCalls
    assert(model.transform(df).count() == 5000)
    assert(NativeCalls.predictCalls - before <= 2)
  }

  test("the models table stays distributed: persisted as trained, one row per group") {
    val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("k")
      .setNumPartitions(3)
      .fit(manyGroups(200, 6).union(manyGroups(1, 1).selectExpr("-1 AS k", "a", "b", "y")))
    val trainings = NativeCalls.trainGroupsCalls
    assert(model.models.storageLevel == StorageLevel.MEMORY_AND_DISK)
    assert(model.models.rdd.getNumPartitions == 3)
    assert(model.numGroups == 201)
    assert(model.models.select("k").distinct().count() == 201)
    assert(model.numFeatures == 2)
    // The table's model bytes, summed independently.
    val bytes = model.models.collect().flatMap(r => Option(r.getAs[Array[Byte]]("model")))
    assert(bytes.length == 200 && model.modelBytesTotal == bytes.map(_.length.toLong).sum)
    val m = model.model(123)
    Close(
      "group 123",
      m.coefficients.toArray.toSeq :+ m.intercept,
      Seq(2.0, -0.5, 123.0),
      1e-8,
      1.0
    )
    intercept[NoSuchElementException](model.model(500))
    val failed = intercept[IllegalStateException](model.model(-1))
    assert(failed.getMessage.contains("k=-1"), failed.getMessage)
    // The fit trained once, into the persisted table: using the table does not train again.
    assert(NativeCalls.trainGroupsCalls == trainings)
    model.models.unpersist()
  }

  test("every job of a fit is described: manyfold, the estimator, the groups") {
    val descriptions = new java.util.concurrent.ConcurrentLinkedQueue[String]
    val listener = new SparkListener {
      override def onJobStart(job: SparkListenerJobStart): Unit =
        descriptions.add(
          Option(job.properties)
            .flatMap(p => Option(p.getProperty("spark.job.description")))
            .getOrElse("<none>")
        )
    }
    val sc = spark.sparkContext
    ListenerBusAccess.drain(sc)
    sc.addSparkListener(listener)
    try {
      val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
        .setGroupCols("k")
        .fit(manyGroups(30, 6))
      model.model(3)
      new LinearRegression().setInputCols("a", "b").setLabelCol("y").fit(manyGroups(1, 30))
      intercept[IllegalStateException](
        Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
          .setGroupCols("k")
          .setFailOnGroupError(true)
          .fit(manyGroups(30, 6).union(manyGroups(1, 1).selectExpr("-1 AS k", "a", "b", "y")))
      )
      ListenerBusAccess.drain(sc)
    } finally sc.removeSparkListener(listener)
    val seen = descriptions.asScala.toSeq
    assert(seen.nonEmpty)
    assert(
      seen.forall(d =>
        d.startsWith("manyfold Grouped(LinearRegression)") ||
          d.startsWith("manyfold GroupedModel(LinearRegression)") ||
          d == "manyfold LinearRegression: training one model"
      ),
      seen.mkString("\n")
    )
    assert(seen.contains("manyfold Grouped(LinearRegression) by k: training groups"), seen)
    assert(seen.contains("manyfold GroupedModel(LinearRegression): looking up group k=3"), seen)
    assert(seen.contains("manyfold LinearRegression: training one model"), seen)
    assert(
      seen.contains(
        "manyfold Grouped(LinearRegression): 31 groups trained, finding the first failed group"
      ),
      seen
    )
  }

  test("a fit is one Spark job: it trains every group into the cached table and counts them") {
    val jobs = new java.util.concurrent.atomic.AtomicInteger
    val listener = new SparkListener {
      override def onJobStart(job: SparkListenerJobStart): Unit = jobs.incrementAndGet()
    }
    val sc = spark.sparkContext
    // 30 groups of 6 rows, and one that fails (NaN label): its model is null.
    val df = manyGroups(30, 6).union(manyGroups(1, 6).selectExpr("-1 AS k", "a", "b", "0D/0D AS y"))
    for (adaptive <- Seq("true", "false")) {
      val before = spark.conf.getOption("spark.sql.adaptive.enabled")
      spark.conf.set("spark.sql.adaptive.enabled", adaptive)
      try {
        ListenerBusAccess.drain(sc)
        sc.addSparkListener(listener)
        jobs.set(0)
        val model =
          try {
            val fitted = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
              .setGroupCols("k")
              .fit(df)
            ListenerBusAccess.drain(sc)
            fitted
          } finally sc.removeSparkListener(listener)
        assert(jobs.get == 1, s"adaptive=$adaptive: ${jobs.get} jobs")
        val cached = spark.sharedState.cacheManager.lookupCachedData(model.models)
        assert(cached.isDefined, s"adaptive=$adaptive: the models table is not persisted")
        assert(cached.get.cachedRepresentation.cacheBuilder.isCachedColumnBuffersLoaded)
        // The counts, as the table's own rows give them.
        val rows = model.models.select("status", "model").collect()
        assert(model.numGroups == 31 && rows.length == 31)
        assert(rows.count(_.getString(0) != "ok") == 1)
        assert(model.models.where("k = -1").select("model").head().isNullAt(0))
        assert(
          model.modelBytesTotal ==
            rows.filter(_.getString(0) == "ok").map(_.getAs[Array[Byte]](1).length.toLong).sum
        )
        model.models.unpersist()
      } finally
        before.fold(spark.conf.unset("spark.sql.adaptive.enabled"))(
          spark.conf.set("spark.sql.adaptive.enabled", _)
        )
    }
  }

  test("model(keys) finds array and struct keys, given as a Seq and a Row") {
    val df = manyGroups(3, 6).selectExpr(
      "array(k, k + 1) AS arr",
      "named_struct('id', k, 'name', CAST(k AS STRING)) AS st",
      "a",
      "b",
      "y"
    )
    val model = Grouped(new LinearRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("arr", "st")
      .fit(df)
    val m = model.model(Seq(2, 3), Row(2, "2"))
    Close("group 2", m.coefficients.toArray.toSeq :+ m.intercept, Seq(2.0, -0.5, 2.0), 1e-8, 1.0)
    intercept[NoSuchElementException](model.model(Seq(2, 4), Row(2, "2")))
  }
}

object GroupedSuite {

  /** The plan of a grouped linear fit of label `y` on one feature `x`, by one string key. */
  def linearPlan(maxRowsPerGroup: Long, batchRows: Int): GroupedTraining.Plan =
    GroupedTraining.Plan(
      "linear",
      new LinearRegression().paramsJson,
      label = Some("y"),
      weight = None,
      FeatureLayout.columns(Seq("x")),
      Seq(StringType),
      Seq("rmse", "r2"),
      maxRowsPerGroup = maxRowsPerGroup,
      batchRows = batchRows
    )
}
