package manyfold.ml.tuning

import scala.collection.JavaConverters._

import manyfold.arrow.FitResult
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types._

/**
 * A search's fits summed up per parameter set: the metric per fold, mean and (population) standard
 * deviation, rank, mean fit time, and why a set failed. A set with any failed fold is out of the
 * running: its mean is NaN and it has no rank.
 */
private[manyfold] final case class SearchResults(
    plan: SearchPlan,
    foldMetrics: Array[Array[Double]],
    avgMetrics: Array[Double],
    stdMetrics: Array[Double],
    meanFitMillis: Array[Double],
    errors: Array[Option[String]],
    ranks: Array[Option[Int]]
) {

  /** The best parameter set (ties to the lowest index). */
  def bestIndex: Int = ranks.indexWhere(_.contains(1))

  /** `cvResults`: one row per parameter set (see [[NativeSearchModel.cvResults]]). */
  def table(spark: SparkSession): DataFrame = SearchResults.table(spark, this)
}

private[manyfold] object SearchResults {

  /**
   * Sums up the fits.
   *
   * @throws IllegalStateException
   *   if every parameter set failed, quoting the first failure
   */
  def apply(plan: SearchPlan, fits: Array[FitResult]): SearchResults = {
    val sets = plan.paramMaps.length
    val k = plan.numFolds
    val metric = Array.fill(sets, k)(Double.NaN)
    val millis = Array.fill(sets)(0.0)
    val errors = Array.fill[Option[String]](sets)(None)
    fits.foreach { f =>
      f.metric.foreach(m => metric(f.param)(f.fold) = m)
      millis(f.param) += f.fitMillis / k
      if (f.metric.isEmpty && errors(f.param).isEmpty) {
        errors(f.param) = Some(s"fold ${f.fold}: ${Option(f.error).getOrElse("no metric")}")
      }
    }
    val ok = errors.map(_.isEmpty)
    val avg = Array.tabulate(sets)(i => if (ok(i)) metric(i).sum / k else Double.NaN)
    val std = Array.tabulate(sets) { i =>
      if (ok(i)) math.sqrt(metric(i).map(m => (m - avg(i)) * (m - avg(i))).sum / k)
      else Double.NaN
    }
    if (!ok.exists(identity)) {
      throw new IllegalStateException(
        s"${plan.kind}: every parameter set failed; parameter set 0, ${errors(0).get}"
      )
    }
    def better(a: Double, b: Double): Boolean = if (plan.largerIsBetter) a > b else a < b
    val ranks = Array.tabulate(sets) { i =>
      if (!ok(i)) None
      else Some(1 + (0 until sets).count(j => ok(j) && better(avg(j), avg(i))))
    }
    SearchResults(plan, metric, avg, std, millis, errors, ranks)
  }

  private def table(spark: SparkSession, r: SearchResults): DataFrame = {
    val plan = r.plan
    val sets = plan.paramMaps.indices
    val paramColumns = plan.paramColumns
    val k = plan.numFolds
    val schema = StructType(
      paramColumns.map(_._1) ++
        (0 until k).map(f => StructField(s"fold$f", DoubleType, nullable = true)) ++
        Seq(
          StructField("mean", DoubleType, nullable = true),
          StructField("std", DoubleType, nullable = true),
          StructField("rank", IntegerType, nullable = true),
          StructField("meanFitMillis", DoubleType, nullable = false),
          StructField("status", StringType, nullable = false),
          StructField("error", StringType, nullable = true)
        )
    )
    def cell(v: Double): Any = if (v.isNaN) null else v
    val rows = sets.map { i =>
      Row.fromSeq(
        paramColumns.map(_._2(i)) ++ r.foldMetrics(i).map(cell) ++ Seq(
          cell(r.avgMetrics(i)),
          cell(r.stdMetrics(i)),
          r.ranks(i).map(Int.box).orNull,
          r.meanFitMillis(i),
          if (r.errors(i).isEmpty) "ok" else "failed",
          r.errors(i).orNull
        )
      )
    }
    spark.createDataFrame(rows.asJava, schema)
  }
}
