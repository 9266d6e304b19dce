package manyfold.ml

import scala.collection.JavaConverters._

import manyfold.SharedSpark
import manyfold.jni.NativeCalls
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.LinearRegression
import org.apache.spark.ml.linalg.{SQLDataTypes, Vectors}
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.functions.{col, map, lit}
import org.apache.spark.sql.types._
import org.scalatest.funsuite.AnyFunSuite

/** Invalid input to Grouped: each case fails clearly, and bad groups never stop good ones. */
class GroupedBadInputSuite extends AnyFunSuite with SharedSpark {

  private def lin = new LinearRegression().setInputCols("a", "b").setLabelCol("y")

  private def good(g: String, n: Int = 8): Seq[(String, Double, Double, Double)] =
    (0 until n).map(i => (g, i.toDouble, (i * 3 % 4).toDouble, 1.0 + 2.0 * i - (i * 3 % 4)))

  private def frame(
      rows: Seq[(String, java.lang.Double, java.lang.Double, java.lang.Double)]
  ): DataFrame = {
    val schema = StructType(
      Seq(
        StructField("g", StringType),
        StructField("a", DoubleType),
        StructField("b", DoubleType),
        StructField("y", DoubleType)
      )
    )
    spark.createDataFrame(rows.map(r => Row(r._1, r._2, r._3, r._4)).asJava, schema)
  }

  private def boxed(rows: Seq[(String, Double, Double, Double)]) =
    rows.map(r => (r._1, Double.box(r._2), Double.box(r._3), Double.box(r._4)))

  /** Runs `body` and returns how many Spark jobs it started. */
  private def jobsDuring(body: => Unit): Int = {
    val group = s"check-${System.nanoTime}"
    spark.sparkContext.setJobGroup(group, "counting jobs")
    try body
    finally spark.sparkContext.clearJobGroup()
    spark.sparkContext.statusTracker.getJobIdsForGroup(group).length
  }

  private val df = frame(boxed(good("a") ++ good("b")))

  test("a missing column, named, before any job") {
    for (
      (est, name) <- Seq(
        Grouped(lin).setGroupCols("nope") -> "nope",
        Grouped(new LinearRegression().setInputCols("a", "zz").setLabelCol("y"))
          .setGroupCols("g") -> "zz",
        Grouped(new LinearRegression().setInputCols("a").setLabelCol("label"))
          .setGroupCols("g") -> "label",
        Grouped(new LinearRegression().setLabelCol("y")).setGroupCols("g") -> "features"
      )
    ) {
      var e: IllegalArgumentException = null
      assert(jobsDuring { e = intercept[IllegalArgumentException](est.fit(df)) } == 0)
      assert(
        e.getMessage.contains(s"'$name'") && e.getMessage.contains("does not exist"),
        e.getMessage
      )
    }
  }

  test("a non-numeric feature or label, named, before any job") {
    val withText = df.withColumn("t", lit("text"))
    var e: IllegalArgumentException = null
    assert(jobsDuring {
      e = intercept[IllegalArgumentException](
        Grouped(new LinearRegression().setInputCols("a", "t").setLabelCol("y"))
          .setGroupCols("g")
          .fit(withText)
      )
    } == 0)
    assert(
      e.getMessage.contains("'t'") && e.getMessage.contains("numeric") && e.getMessage.contains(
        "string"
      )
    )
    val label = intercept[IllegalArgumentException](
      Grouped(new LinearRegression().setInputCols("a").setLabelCol("t"))
        .setGroupCols("g")
        .fit(withText)
    )
    assert(label.getMessage.contains("label column 't'"))
  }

  test("group columns: required, orderable, and not clashing with the models table") {
    val none = intercept[IllegalArgumentException](Grouped(lin).fit(df))
    assert(none.getMessage.contains("setGroupCols"))
    val withMap = df.withColumn("m", map(lit("k"), col("a")))
    val unorderable =
      intercept[IllegalArgumentException](Grouped(lin).setGroupCols("m").fit(withMap))
    assert(unorderable.getMessage.contains("'m'") && unorderable.getMessage.contains("map"))
    val clash = intercept[IllegalArgumentException](
      Grouped(lin).setGroupCols("status").fit(df.withColumn("status", col("g")))
    )
    assert(clash.getMessage.contains("'status'"))
    val label = intercept[IllegalArgumentException](Grouped(lin).setGroupCols("y").fit(df))
    assert(label.getMessage.contains("'y'"))
  }

  test("an empty DataFrame fails before any training") {
    val before = NativeCalls.trainGroupsCalls
    val e = intercept[IllegalArgumentException](Grouped(lin).setGroupCols("g").fit(df.limit(0)))
    assert(e.getMessage == "the training DataFrame is empty")
    assert(NativeCalls.trainGroupsCalls == before)
  }

  test("a null, NaN or infinite value fails its group, naming the column; the others train") {
    val rows = boxed(good("ok")) ++
      boxed(good("nullFeature"))
        .updated(2, ("nullFeature", Double.box(2.0), null, Double.box(1.0))) ++
      boxed(good("nanLabel"))
        .updated(3, ("nanLabel", Double.box(3.0), Double.box(1.0), Double.box(Double.NaN))) ++
      boxed(good("infFeature")).updated(
        4,
        ("infFeature", Double.box(Double.PositiveInfinity), Double.box(1.0), Double.box(1.0))
      ) ++
      boxed(good("nullLabel")).updated(1, ("nullLabel", Double.box(1.0), Double.box(1.0), null))
    val model = Grouped(lin).setGroupCols("g").fit(frame(rows))
    val byGroup = model.models.collect().map(r => r.getString(0) -> r).toMap
    assert(byGroup("ok").getAs[String]("status") == "ok")
    for (
      (g, column, what) <- Seq(
        ("nullFeature", "b", "null"),
        ("nanLabel", "y", "NaN"),
        ("infFeature", "a", "infinite"),
        ("nullLabel", "y", "null")
      )
    ) {
      val r = byGroup(g)
      assert(r.getAs[String]("status") == "failed", g)
      assert(r.isNullAt(r.fieldIndex("model")) && r.isNullAt(r.fieldIndex("rmse")))
      val error = r.getAs[String]("error")
      assert(error.contains(s"'$column'") && error.contains(what), s"$g: $error")
      assert(r.getAs[Long]("rows") == 8)
    }
  }

  test("too few rows fails the group") {
    val model = Grouped(lin).setGroupCols("g").fit(frame(boxed(good("ok") ++ good("tiny", 1))))
    val tiny = model.models.where(col("g") === "tiny").head()
    assert(tiny.getAs[String]("status") == "failed")
    assert(tiny.getAs[String]("error").contains("rows"), tiny.getAs[String]("error"))
  }

  test("a single class fails a logistic group; the others train") {
    val rows = (0 until 20).flatMap { i =>
      Seq(
        ("two", i.toDouble, (i % 3).toDouble, if (i % 2 == 0) 1.0 else 0.0),
        ("one", i.toDouble, (i % 3).toDouble, 1.0)
      )
    }
    val model = Grouped(new LogisticRegression().setInputCols("a", "b").setLabelCol("y"))
      .setGroupCols("g")
      .fit(frame(boxed(rows)))
    val byGroup = model.models.collect().map(r => r.getString(0) -> r).toMap
    assert(byGroup("two").getAs[String]("status") == "ok")
    assert(byGroup("one").getAs[String]("status") == "failed")
    assert(
      byGroup("one").getAs[String]("error").contains("class"),
      byGroup("one").getAs[String]("error")
    )
  }

  test("a group over maxRowsPerGroup fails; the others train") {
    // The row path finds it on the JVM side, the sufficient statistics path (linear) natively.
    def callsSoFar = NativeCalls.trainGroupsCalls + NativeCalls.solveStatsCalls
    val before = callsSoFar
    val model = Grouped(lin)
      .setGroupCols("g")
      .setMaxRowsPerGroup(10)
      .setNumPartitions(1)
      .fit(frame(boxed(good("big", 25) ++ good("small", 10) ++ good("zz", 3))))
    assert(callsSoFar - before == 1)
    val byGroup = model.models.collect().map(r => r.getString(0) -> r).toMap
    val big = byGroup("big")
    assert(big.getAs[String]("status") == "failed" && big.getAs[Long]("rows") == 25)
    assert(big.getAs[String]("error") == "group has more than maxRowsPerGroup=10 rows")
    assert(
      byGroup("small").getAs[String]("status") == "ok" && byGroup("small").getAs[Long]("rows") == 10
    )
    assert(byGroup("zz").getAs[String]("status") == "ok")
  }

  test("failOnGroupError=true raises naming the first failed group and its reason") {
    val rows = boxed(good("a")) ++ boxed(good("b"))
      .updated(0, ("b", Double.box(Double.NaN), Double.box(0.0), Double.box(1.0))) ++
      boxed(good("c", 1))
    val e = intercept[IllegalStateException](
      Grouped(lin).setGroupCols("g").setFailOnGroupError(true).fit(frame(rows))
    )
    assert(
      e.getMessage.contains("g=b") && e.getMessage.contains("'a'") && e.getMessage.contains("NaN"),
      e.getMessage
    )
    // Without it, the same data fits with failed rows.
    assert(
      Grouped(lin)
        .setGroupCols("g")
        .fit(frame(rows))
        .models
        .where(col("status") === "failed")
        .count() == 2
    )
  }

  test("failOnGroupError names the first failed group in key order across partitions") {
    // 60 groups over 4 partitions; three fail, in different partitions as the hash deals them.
    val names = (0 until 60).map(i => f"g$i%02d")
    val rows = names.flatMap { g =>
      val rows = boxed(good(g))
      if (Set("g41", "g17", "g53")(g)) {
        rows.updated(3, (g, Double.box(1.0), Double.box(Double.PositiveInfinity), Double.box(1.0)))
      } else rows
    }
    val grouped = Grouped(lin).setGroupCols("g").setNumPartitions(4)
    val partitionsOfFailed = grouped
      .fit(frame(rows))
      .models
      .where(col("status") === "failed")
      .select(org.apache.spark.sql.functions.spark_partition_id())
      .distinct()
      .count()
    assert(partitionsOfFailed >= 2, "the failed groups should span partitions")
    val e = intercept[IllegalStateException](grouped.setFailOnGroupError(true).fit(frame(rows)))
    assert(
      e.getMessage.startsWith("group g=g17 failed:") && e.getMessage.contains("'b'"),
      e.getMessage
    )
  }

  test("vectors of different sizes are an IllegalArgumentException naming the column and sizes") {
    val schema = StructType(
      Seq(
        StructField("g", StringType),
        StructField("features", SQLDataTypes.VectorType),
        StructField("y", DoubleType)
      )
    )
    val rows = (0 until 6).map(i => Row("a", Vectors.dense(i.toDouble, 1.0), i.toDouble)) :+
      Row("b", Vectors.dense(1.0, 2.0, 3.0), 1.0)
    val e = intercept[IllegalArgumentException](
      Grouped(new LinearRegression().setLabelCol("y"))
        .setGroupCols("g")
        .fit(spark.createDataFrame(rows.asJava, schema))
    )
    assert(
      e.getMessage.contains("'features'") && e.getMessage.contains("2") && e.getMessage.contains(
        "3"
      ),
      e.getMessage
    )
  }

  test("a model whose groups all failed predicts null everywhere") {
    val model = Grouped(lin).setGroupCols("g").fit(frame(boxed(good("x", 1))))
    val out = model.transform(df).select("prediction").collect()
    assert(out.nonEmpty && out.forall(_.isNullAt(0)))
  }
}
