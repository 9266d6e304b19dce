package manyfold

import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path, Paths}

import scala.collection.JavaConverters._

import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types._
import org.json4s.{DefaultFormats, Formats, JValue}
import org.json4s.jackson.JsonMethods.parse

/**
 * Reference data computed by numpy/scikit-learn: the JSON files of rust/core/tests/fixtures
 * (written by tests/reference/make_fixtures.py) and those of tests/fixtures/scala (written by
 * tests/reference/make_scala_fixtures.py).
 */
object Fixtures {
  implicit val formats: Formats = DefaultFormats

  /** The repository root (the directory holding build.sbt), found from the working directory. */
  lazy val root: Path = Iterator
    .iterate(Paths.get("").toAbsolutePath)(_.getParent)
    .takeWhile(_ != null)
    .find(p => Files.exists(p.resolve("build.sbt")) && Files.isDirectory(p.resolve("rust")))
    .getOrElse(sys.error("cannot find the repository root from " + Paths.get("").toAbsolutePath))

  def json(relative: String): JValue =
    parse(new String(Files.readAllBytes(root.resolve(relative)), StandardCharsets.UTF_8))

  /** A case of rust/core/tests/fixtures: one dataset, its params and the expected model. */
  def rustCase(name: String): JValue = json(s"rust/core/tests/fixtures/$name.json")

  /** A case of tests/fixtures/scala: groups, each with its own data and expected model. */
  def scalaCase(name: String): JValue = json(s"tests/fixtures/scala/$name.json")

  def matrix(v: JValue): Array[Array[Double]] = v.extract[Array[Array[Double]]]
  def doubles(v: JValue): Array[Double] = v.extract[Array[Double]]

  /** A DataFrame `x0.., y` of one dataset. */
  def frame(spark: SparkSession, x: Array[Array[Double]], y: Array[Double]): DataFrame = {
    val p = x.head.length
    val schema = StructType(
      (0 until p).map(j => StructField(s"x$j", DoubleType)) :+ StructField("y", DoubleType)
    )
    val rows = x.zip(y).map { case (xi, yi) => Row.fromSeq(xi.toSeq :+ yi) }
    spark.createDataFrame(rows.toSeq.asJava, schema)
  }

  /** A DataFrame `x0.., y, w` of one weighted dataset. */
  def weightedFrame(
      spark: SparkSession,
      x: Array[Array[Double]],
      y: Array[Double],
      w: Array[Double]
  ): DataFrame = {
    val plain = frame(spark, x, y)
    val schema = StructType(plain.schema.fields :+ StructField("w", DoubleType))
    val rows = x.indices.map(i => Row.fromSeq(x(i).toSeq ++ Seq(y(i), w(i))))
    spark.createDataFrame(rows.asJava, schema)
  }

  /** A DataFrame `g, x0.., y` of a scala case's groups (g = the group key string). */
  def groupedFrame(spark: SparkSession, c: JValue): DataFrame = {
    val groups = (c \ "groups").children
    val p = matrix(groups.head \ "x").head.length
    val schema = StructType(
      StructField("g", StringType) +: ((0 until p).map(j => StructField(s"x$j", DoubleType)) :+
        StructField("y", DoubleType))
    )
    val rows = groups.flatMap { g =>
      val key = (g \ "key").extract[String]
      matrix(g \ "x").zip(doubles(g \ "y")).map { case (xi, yi) =>
        Row.fromSeq(key +: xi.toSeq :+ yi)
      }
    }
    spark.createDataFrame(rows.asJava, schema)
  }

  def featureNames(p: Int): Array[String] = Array.tabulate(p)(j => s"x$j")
}

/** The tolerance rule of rust/core/tests/reference.rs: |a - e| <= rel * max(|e|, floor). */
object Close {
  def apply(
      what: String,
      actual: Seq[Double],
      expected: Seq[Double],
      rel: Double,
      floor: Double
  ): Unit = {
    assert(
      actual.length == expected.length,
      s"$what: ${actual.length} values, expected ${expected.length}"
    )
    actual.zip(expected).zipWithIndex.foreach { case ((a, e), i) =>
      val tol = rel * math.max(math.abs(e), floor)
      assert(math.abs(a - e) <= tol, s"$what[$i]: $a vs reference $e (tolerance $tol)")
    }
  }
}
