package manyfold.ml

import java.nio.file.Files

import scala.collection.JavaConverters._

import manyfold.SharedSpark
import manyfold.arrow.ArrowBatches
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.LinearRegression
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.{col, lit}
import org.apache.spark.sql.manyfold.{ColumnarInput, SparkShim}
import org.scalatest.funsuite.AnyFunSuite

/**
 * Grouped training reads a cached DataFrame (or a Parquet scan) as its columnar batches, and packs
 * them for the shuffle a batch at a time: the same models as from rows, bit for bit.
 */
class ColumnarInputSuite extends AnyFunSuite with SharedSpark {

  /**
   * `groups` groups of `rows` rows: an int key `g`, a double label `y` (0/1 for `binary`), an int
   * feature `x0` and a double feature `x1`; group 7 has a null `x1`, group 8 a NaN label.
   */
  private def frame(groups: Int, rows: Int, binary: Boolean = false): DataFrame = {
    val rng = new scala.util.Random(5)
    val data = for {
      g <- 0 until groups
      i <- 0 until rows
    } yield {
      val x0 = rng.nextInt(21) - 10
      val x1 = rng.nextGaussian()
      val margin = 0.3 * x0 - x1 + 0.0005 * g
      var y =
        if (binary) (if (rng.nextDouble() < 1 / (1 + math.exp(-margin))) 1.0 else 0.0)
        else margin + 0.1 * rng.nextGaussian()
      if (g == 8 && i == 3) y = Double.NaN
      (g, y, x0, if (g == 7 && i == 2) null else java.lang.Double.valueOf(x1))
    }
    spark.createDataFrame(data).toDF("g", "y", "x0", "x1")
  }

  /** The rows of a DataFrame's columnar batches (None: not read as batches), sorted. */
  private def batchRows(df: DataFrame): Option[Seq[String]] = {
    val types = df.schema.map(_.dataType)
    ColumnarInput.batches(df).map { rdd =>
      rdd
        .mapPartitions { batches =>
          val toUnsafe = Schemas.projection(types)
          batches.flatMap(_.rowIterator().asScala.map(r => toUnsafe(r).copy()))
        }
        .collect()
        .map(r => types.indices.map(i => if (r.isNullAt(i)) "null" else r.get(i, types(i))))
        .map(_.mkString(","))
        .toSeq
        .sorted
    }
  }

  private def sparkRows(df: DataFrame): Seq[String] = {
    val types = df.schema.map(_.dataType)
    SparkShim
      .queryExecution(df)
      .toRdd
      .map(r => types.indices.map(i => if (r.isNullAt(i)) "null" else r.get(i, types(i))))
      .map(_.mkString(","))
      .collect()
      .toSeq
      .sorted
  }

  private def withConf[T](key: String, value: String)(body: => T): T = {
    val before = spark.conf.getOption(key)
    spark.conf.set(key, value)
    try body
    finally before.fold(spark.conf.unset(key))(spark.conf.set(key, _))
  }

  test("a cached numeric DataFrame and a Parquet scan are read as batches; other plans are not") {
    val df = frame(20, 10)
    val cached = df.repartition(3).cache()
    val strings = df.withColumn("s", col("g").cast("string")).cache()
    val dir = Files.createTempDirectory("manyfold-columnar").toString
    try {
      cached.count()
      strings.count()
      df.write.mode("overwrite").parquet(dir)
      // Columns reordered, an int feature cast to double (read as double), a label kept as is.
      def select(d: DataFrame) = d.select(col("x1"), col("g"), col("x0").cast("double"), col("y"))
      for (adaptive <- Seq("true", "false")) withConf("spark.sql.adaptive.enabled", adaptive) {
        for (d <- Seq(select(cached), cached, select(spark.read.parquet(dir)))) {
          val read = batchRows(d)
          assert(read.isDefined, s"adaptive=$adaptive: ${d.queryExecution.executedPlan}")
          assert(read.get == sparkRows(d) && read.get.length == 200)
        }
        // A filter, an expression, rows that are not columnar, a string column: read as rows.
        assert(batchRows(select(cached.where(col("g") > 3))).isEmpty)
        assert(batchRows(cached.select(col("g"), col("x0") + lit(1))).isEmpty)
        assert(batchRows(select(df)).isEmpty)
        assert(batchRows(select(strings)).isEmpty)
      }
    } finally {
      cached.unpersist()
      strings.unpersist()
    }
  }

  test("grouped training from batches gives the models of the row path, bit for bit") {
    // 2,000 groups of 40 rows in 2 partitions: each map task passes its rows through after the
    // first ProbeRows (linear: groups far under minRows), then packs a batch at a time. 60 groups
    // of 1,000 rows (linear): past minRows, a group's rows go to statistics a batch at a time.
    for ((groups, rows, binary) <- Seq((2000, 40, false), (2000, 40, true), (60, 1000, false))) {
      val df = frame(groups, rows, binary)
      val cached = df.repartition(2).cache()
      try {
        cached.count()
        val grouped: Grouped[_] =
          if (binary)
            new Grouped(new LogisticRegression().setInputCols("x0", "x1").setLabelCol("y"))
              .setGroupCols("g")
          else
            new Grouped(new LinearRegression().setInputCols("x0", "x1").setLabelCol("y"))
              .setGroupCols("g")
        val (selected, _) =
          GroupedTraining.select(cached, Seq("g"), grouped.estimator, GroupedTraining.Extras())
        assert(ColumnarInput.batches(selected).isDefined)
        def table(d: DataFrame): Seq[(Int, String, String, Seq[Byte])] = {
          val model = grouped.fit(d)
          try
            model.models
              .select("g", "status", "error", "model")
              .collect()
              .map { r =>
                val bytes = Option(r.getAs[Array[Byte]](3)).map(_.toSeq).getOrElse(Nil)
                (r.getInt(0), r.getString(1), r.getString(2), bytes)
              }
              .toSeq
              .sortBy(_._1)
          finally model.models.unpersist()
        }
        val columnar = table(cached)
        val rows = table(df)
        assert(columnar.length == groups)
        assert(columnar == rows)
        val failed = columnar.filter(_._2 != GroupedTraining.Ok).map(_._1)
        assert(failed == Seq(7, 8), columnar.filter(_._2 != GroupedTraining.Ok))
      } finally cached.unpersist()
    }
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }
}
