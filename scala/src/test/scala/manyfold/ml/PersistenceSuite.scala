package manyfold.ml

import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path}

import scala.collection.JavaConverters._

import manyfold.{Fixtures, SharedSpark}
import manyfold.ml.classification.{LogisticRegression, LogisticRegressionModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.functions.{col, lit, when}
import org.json4s.{DefaultFormats, Formats}
import org.json4s.jackson.JsonMethods.parse
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

/** Saving and loading in Spark's layout (metadata JSON + data/ parquet), and corrupt files. */
class PersistenceSuite extends AnyFunSuite with SharedSpark with BeforeAndAfterAll {
  implicit val formats: Formats = DefaultFormats

  private lazy val dir: Path = Files.createTempDirectory("manyfold-persistence")

  override def afterAll(): Unit = {
    Files.walk(dir).iterator.asScala.toSeq.reverse.foreach(p => Files.deleteIfExists(p))
    super.afterAll()
  }

  private def path(name: String): String = dir.resolve(name).toString

  // The metadata's one JSON line: in metadata/part-00000 (Spark 3.5) or
  // metadata/part-00000-<id>.txt (Spark 4).
  private def metadata(p: String): org.json4s.JValue = {
    val files =
      dir.resolve(p).resolve("metadata").toFile.listFiles().filter(_.getName.startsWith("part-"))
    assert(files.length == 1, files.toSeq)
    parse(new String(Files.readAllBytes(files.head.toPath), StandardCharsets.UTF_8))
  }

  private def sameRows(a: DataFrame, b: DataFrame): Unit = {
    val (ra, rb) = (a.collect(), b.collect())
    assert(ra.length == rb.length)
    ra.zip(rb).foreach { case (x, y) =>
      assert(x.toSeq.map(normalize) == y.toSeq.map(normalize))
    }
  }

  private def normalize(v: Any): Any = v match {
    case b: Array[Byte] => b.toSeq
    case other => other
  }

  test("GroupedModel: save and load give identical models, coefficients and predictions") {
    val c = Fixtures.scalaCase("grouped_ols")
    val df = Fixtures.groupedFrame(spark, c)
    val lr = new LinearRegression()
      .setInputCols("x0", "x1", "x2")
      .setLabelCol("y")
      .setPredictionCol("yhat")
    // One failed group too: it must survive the round trip as failed.
    val withBad =
      df.union(spark.createDataFrame(Seq(("zz", 1.0, 1.0, 1.0, 1.0))).toDF(df.columns: _*))
    val model = Grouped(lr).setGroupCols("g").setMaxRowsPerGroup(1000).fit(withBad)
    model.write.save(path("grouped"))
    val loaded =
      GroupedModel.load(path("grouped")).asInstanceOf[GroupedModel[LinearRegressionModel]]

    assert(
      loaded.uid == model.uid && loaded.getGroupCols.toSeq == Seq(
        "g"
      ) && loaded.getMaxRowsPerGroup == 1000
    )
    assert(loaded.estimator.isInstanceOf[LinearRegression] && loaded.estimator.uid == lr.uid)
    assert(
      loaded.estimator.getInputCols.toSeq == Seq(
        "x0",
        "x1",
        "x2"
      ) && loaded.estimator.getPredictionCol == "yhat"
    )
    sameRows(model.models.orderBy("g"), loaded.models.orderBy("g"))
    for (g <- Seq("a", "b", "c", "d")) {
      assert(loaded.model(g).coefficients == model.model(g).coefficients)
      assert(loaded.model(g).intercept == model.model(g).intercept)
    }
    intercept[IllegalStateException](loaded.model("zz"))
    sameRows(model.transform(withBad), loaded.transform(withBad))

    // Spark's layout: metadata names the class, the estimator and the group columns.
    val meta = metadata("grouped")
    assert((meta \ "class").extract[String] == classOf[GroupedModel[_]].getName)
    assert((meta \ "estimatorClass").extract[String] == classOf[LinearRegression].getName)
    assert((meta \ "paramMap" \ "groupCols").extract[Seq[String]] == Seq("g"))
    assert((meta \ "estimator" \ "paramMap" \ "predictionCol").extract[String] == "yhat")
    assert(Files.isDirectory(dir.resolve("grouped").resolve("data")))
  }

  test("GroupedModel of logistic models round-trips probabilities") {
    val c = Fixtures.scalaCase("grouped_logistic_multinomial")
    val df = Fixtures.groupedFrame(spark, c)
    val model = Grouped(
      new LogisticRegression().setRegParam(0.02).setInputCols("x0", "x1", "x2").setLabelCol("y")
    )
      .setGroupCols("g")
      .fit(df)
    model.write.overwrite().save(path("grouped-logistic"))
    val loaded = GroupedModel.load(path("grouped-logistic"))
    sameRows(model.transform(df), loaded.transform(df))
    val m = loaded.model("a").asInstanceOf[LogisticRegressionModel]
    assert(
      m.coefficientMatrix == model
        .model("a")
        .asInstanceOf[LogisticRegressionModel]
        .coefficientMatrix
    )
  }

  test("single models: save and load keep params, coefficients and predictions") {
    val df = spark
      .createDataFrame(
        (1 to 30).map(i => (i.toDouble, (i % 4).toDouble, 1.5 * i - (i % 4) + 2, (i % 2).toDouble))
      )
      .toDF("a", "b", "y", "cls")
    val lin =
      new LinearRegression().setInputCols("a", "b").setLabelCol("y").setRegParam(0.01).fit(df)
    lin.write.save(path("linear"))
    val lin2 = LinearRegressionModel.load(path("linear"))
    assert(
      lin2.uid == lin.uid && lin2.getRegParam == 0.01 && lin2.getInputCols.toSeq == Seq("a", "b")
    )
    assert(lin2.coefficients == lin.coefficients && lin2.intercept == lin.intercept)
    assert(lin2.modelBytes.toSeq == lin.modelBytes.toSeq)
    sameRows(lin.transform(df), lin2.transform(df))
    assert((metadata("linear") \ "class").extract[String] == classOf[LinearRegressionModel].getName)

    val log = new LogisticRegression()
      .setInputCols("a", "b")
      .setLabelCol("cls")
      .setProbabilityCol("p")
      .fit(df)
    log.write.save(path("logistic"))
    val log2 = LogisticRegressionModel.load(path("logistic"))
    assert(log2.getProbabilityCol == "p" && log2.classes.toSeq == Seq(0.0, 1.0))
    assert(log2.coefficients == log.coefficients && log2.intercept == log.intercept)
    sameRows(log.transform(df), log2.transform(df))

    // A model of the other class is refused by Spark's metadata check.
    intercept[IllegalArgumentException](LogisticRegressionModel.load(path("linear")))
  }

  test("estimators and Grouped save and load their params") {
    val lr = new LogisticRegression().setMaxIter(7).setFamily("multinomial").setInputCols("a")
    lr.write.save(path("lr-estimator"))
    val lr2 = LogisticRegression.load(path("lr-estimator"))
    assert(
      lr2.getMaxIter == 7 && lr2.getFamily == "multinomial" && lr2.getInputCols.toSeq == Seq("a")
    )
    val g = Grouped(lr).setGroupCols("k", "j").setNumPartitions(5).setFailOnGroupError(true)
    g.write.save(path("grouped-estimator"))
    val g2 = Grouped.load(path("grouped-estimator"))
    assert(
      g2.uid == g.uid && g2.getGroupCols.toSeq == Seq(
        "k",
        "j"
      ) && g2.getNumPartitions == 5 && g2.getFailOnGroupError
    )
    assert(g2.estimator.asInstanceOf[LogisticRegression].getMaxIter == 7)
  }

  /** Rewrites the model bytes stored under `p`/data with `f`. */
  private def tamper(
      p: String,
      f: Array[Byte] => Array[Byte],
      where: org.apache.spark.sql.Column = lit(true)
  ): Unit = {
    val data = path(p) + "/data"
    val stored = spark.read.parquet(data).collect()
    val schema = spark.read.parquet(data).schema
    val i = schema.fieldIndex("model")
    val matches = spark.read
      .parquet(data)
      .select(when(where, true).otherwise(false))
      .collect()
      .map(_.getBoolean(0))
    val changed = stored.zip(matches).map { case (r, m) =>
      if (m && !r.isNullAt(i)) Row.fromSeq(r.toSeq.updated(i, f(r.getAs[Array[Byte]](i)))) else r
    }
    spark
      .createDataFrame(changed.toSeq.asJava, schema)
      .write
      .mode("overwrite")
      .parquet(data + ".tmp")
    spark.read.parquet(data + ".tmp").write.mode("overwrite").parquet(data)
  }

  test("corrupt or truncated model bytes fail loading with a clear exception") {
    val df = spark.createDataFrame((1 to 10).map(i => (i.toDouble, 2.0 * i))).toDF("a", "y")
    val model = new LinearRegression().setInputCols("a").setLabelCol("y").fit(df)
    for (
      (name, f) <- Seq[(String, Array[Byte] => Array[Byte])](
        "truncated" -> (_.dropRight(5)),
        "flipped" -> (b => b.updated(b.length - 2, (b(b.length - 2) ^ 0x55).toByte)),
        "garbage" -> (_ => "not a model".getBytes),
        "empty" -> (_ => Array.emptyByteArray)
      )
    ) {
      model.write.overwrite().save(path(s"corrupt-$name"))
      tamper(s"corrupt-$name", f)
      val e =
        intercept[IllegalArgumentException](LinearRegressionModel.load(path(s"corrupt-$name")))
      assert(
        e.getMessage.contains(s"corrupt-$name") && e.getMessage.contains("invalid model bytes"),
        e.getMessage
      )
    }
  }

  test("a GroupedModel with one corrupt model fails loading, naming the group") {
    val df = spark
      .createDataFrame(
        (1 to 20).map(i => (if (i % 2 == 0) "even" else "odd", i.toDouble, 3.0 * i + i % 2))
      )
      .toDF("g", "a", "y")
    val model =
      Grouped(new LinearRegression().setInputCols("a").setLabelCol("y")).setGroupCols("g").fit(df)
    model.write.save(path("grouped-corrupt"))
    tamper("grouped-corrupt", _.dropRight(1), col("g") === "odd")
    val e = intercept[IllegalArgumentException](GroupedModel.load(path("grouped-corrupt")))
    assert(e.getMessage.contains("g=odd") && e.getMessage.contains("grouped-corrupt"), e.getMessage)
  }

  private def manyGroups(groups: Int): DataFrame =
    spark
      .range(groups * 6L)
      .selectExpr(
        "CAST(id % " + groups + " AS INT) AS k",
        "CAST(id DIV " + groups + " AS DOUBLE) AS a",
        "CAST(id % " + groups + " AS DOUBLE) + 3.0 * CAST(id DIV " + groups + " AS DOUBLE) AS y"
      )

  test("GroupedModel: a table of several partitions is saved as several files, loaded lazily") {
    val model = Grouped(new LinearRegression().setInputCols("a").setLabelCol("y"))
      .setGroupCols("k")
      .setNumPartitions(3)
      .fit(manyGroups(90))
    val descriptions = new java.util.concurrent.ConcurrentLinkedQueue[String]
    val listener = new org.apache.spark.scheduler.SparkListener {
      override def onJobStart(job: org.apache.spark.scheduler.SparkListenerJobStart): Unit =
        descriptions.add(String.valueOf(job.properties.getProperty("spark.job.description")))
    }
    org.apache.spark.ListenerBusAccess.drain(spark.sparkContext)
    spark.sparkContext.addSparkListener(listener)
    try {
      model.write.save(path("grouped-partitioned"))
      GroupedModel.load(path("grouped-partitioned"))
      org.apache.spark.ListenerBusAccess.drain(spark.sparkContext)
    } finally spark.sparkContext.removeSparkListener(listener)
    val seen = descriptions.asScala.toSet
    assert(
      seen.contains(
        s"manyfold GroupedModel(LinearRegression): saving 90 groups to ${path("grouped-partitioned")}"
      ) &&
        seen.contains("manyfold GroupedModel(LinearRegression): checking the models") &&
        seen.forall(_.startsWith("manyfold GroupedModel")),
      seen
    )
    val data = dir.resolve("grouped-partitioned").resolve("data")
    val files = Files.list(data).iterator.asScala.map(_.getFileName.toString)
    assert(files.count(_.endsWith(".parquet")) == 3)
    val meta = metadata("grouped-partitioned")
    val bytes = model.models.collect().map(_.getAs[Array[Byte]]("model").length.toLong).sum
    assert((meta \ "numGroups").extract[Long] == 90)
    assert((meta \ "modelBytesTotal").extract[Long] == bytes)
    val loaded = GroupedModel
      .load(path("grouped-partitioned"))
      .asInstanceOf[GroupedModel[LinearRegressionModel]]
    assert(loaded.numGroups == 90 && loaded.modelBytesTotal == bytes)
    assert(loaded.models.rdd.getNumPartitions > 1)
    sameRows(model.models.orderBy("k"), loaded.models.orderBy("k"))
    val m = loaded.model(42)
    assert(math.abs(m.coefficients(0) - 3.0) < 1e-9 && math.abs(m.intercept - 42.0) < 1e-9)
  }

  test("a corrupt model in a table of several files: loading names the first corrupt group") {
    val model = Grouped(new LinearRegression().setInputCols("a").setLabelCol("y"))
      .setGroupCols("k")
      .setNumPartitions(3)
      .fit(manyGroups(60))
    model.write.save(path("grouped-corrupt-many"))
    tamper("grouped-corrupt-many", _.dropRight(3), col("k") === 37 || col("k") === 18)
    val e = intercept[IllegalArgumentException](GroupedModel.load(path("grouped-corrupt-many")))
    assert(
      e.getMessage.contains("group k=18 cannot be decoded") &&
        e.getMessage.contains("grouped-corrupt-many") && !e.getMessage.contains("k=37"),
      e.getMessage
    )
  }

  test("the released model format fixtures still load") {
    val linear = Files.readAllBytes(Fixtures.root.resolve("tests/fixtures/models/v1-linear.mnfd"))
    val m = LinearRegressionModel.fromBytes(linear)
    assert(m.numFeatures >= 1 && m.coefficients.size == m.numFeatures)
    val logistic =
      Files.readAllBytes(Fixtures.root.resolve("tests/fixtures/models/v1-logistic.mnfd"))
    val l = LogisticRegressionModel.fromBytes(logistic)
    assert(l.numClasses >= 2)
    intercept[IllegalArgumentException](LogisticRegressionModel.fromBytes(linear))
  }
}
