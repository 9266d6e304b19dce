package manyfold.ml

import org.apache.spark.SparkContext
import org.apache.spark.sql.SparkSession

/**
 * Spark UI job descriptions for manyfold's phases (`manyfold Grouped(LinearRegression) by store:
 * training groups`), so that the UI and the logs show what runs and for which estimator.
 */
private[manyfold] object Jobs {

  private val Key = "spark.job.description"

  /** Runs `body` with this job description on the calling thread, restoring the previous one. */
  def describe[T](spark: SparkSession, text: String)(body: => T): T =
    describe(spark.sparkContext, text)(body)

  /** Runs `body` with this job description on the calling thread, restoring the previous one. */
  def describe[T](sc: SparkContext, text: String)(body: => T): T = {
    val previous = sc.getLocalProperty(Key)
    sc.setJobDescription(text)
    try body
    finally sc.setJobDescription(previous)
  }

  /**
   * Runs `body` with this job description unless a manyfold phase already describes the calling
   * thread's jobs (a search's refit of its best model keeps the search's description).
   */
  def describeIfOutermost[T](spark: SparkSession, text: String)(body: => T): T = {
    val current = spark.sparkContext.getLocalProperty(Key)
    if (current != null && current.startsWith("manyfold ")) body
    else describe(spark, text)(body)
  }

  /** `1,000 groups`, `1 group`. */
  def groups(n: Long): String = f"$n%,d group${if (n == 1) "" else "s"}"
}
