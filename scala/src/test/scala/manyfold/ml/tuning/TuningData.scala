package manyfold.ml.tuning

import scala.collection.JavaConverters._

import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types._

/** Seeded data for the search suites. */
object TuningData {

  private def features(p: Int): Seq[String] = (0 until p).map(j => s"x$j")

  /**
   * `x0..x{p-1}`, `y` (0/1 from a noisy linear score, or the score itself for a regression), `w`
   * (positive weights) and `fold` (0..folds-1, shuffled), `n` rows.
   */
  def frame(
      spark: SparkSession,
      n: Int,
      p: Int,
      seed: Long,
      classification: Boolean,
      folds: Int = 3
  ): DataFrame = {
    val rnd = new scala.util.Random(seed)
    val beta = Array.tabulate(p)(j => if (j % 2 == 0) 1.0 + j * 0.3 else -0.7)
    val rows = (0 until n).map { i =>
      val x = Array.fill(p)(rnd.nextGaussian())
      val score = x.zip(beta).map { case (a, b) => a * b }.sum + 0.8 * rnd.nextGaussian()
      val y = if (classification) (if (score > 0.3) 1.0 else 0.0) else 2.0 + score
      val fold: Int = (i * 7 + rnd.nextInt(2)) % folds
      Row.fromSeq(x.toSeq ++ Seq[Any](y, 0.5 + rnd.nextDouble(), fold))
    }
    val schema = StructType(
      features(p).map(StructField(_, DoubleType)) ++ Seq(
        StructField("y", DoubleType),
        StructField("w", DoubleType),
        StructField("fold", IntegerType)
      )
    )
    spark.createDataFrame(rows.asJava, schema)
  }

  def inputCols(p: Int): Array[String] = features(p).toArray

  /**
   * Daily demand per store: `store`, `day` (0..days-1), `lag1`, `lag7`, `dow` (day of week), and
   * `demand` (level per store, weekly pattern, AR(1) noise). Store `s` has a noise level growing
   * with `s`, so that stores prefer different amounts of ridge.
   */
  def series(spark: SparkSession, stores: Int, days: Int, seed: Long): DataFrame = {
    val rnd = new scala.util.Random(seed)
    val rows = (0 until stores).flatMap { s =>
      val level = 50.0 + 10 * s
      val weekly = Array.tabulate(7)(d => 5.0 * math.sin(d + s))
      val y = new Array[Double](days + 7)
      var e = 0.0
      for (t <- y.indices) {
        e = 0.6 * e + (1.0 + s) * rnd.nextGaussian()
        y(t) = level + weekly(t % 7) + 0.02 * t + e
      }
      (7 until days + 7).map { t =>
        Row(s"store$s", t - 7, y(t - 1), y(t - 7), (t % 7).toDouble, y(t))
      }
    }
    val schema = StructType(
      Seq(
        StructField("store", StringType),
        StructField("day", IntegerType),
        StructField("lag1", DoubleType),
        StructField("lag7", DoubleType),
        StructField("dow", DoubleType),
        StructField("demand", DoubleType)
      )
    )
    spark.createDataFrame(rows.asJava, schema)
  }
}
