package manyfold

import org.apache.spark.sql.SparkSession
import org.scalatest.Suite

/** The one local[2] SparkSession of the test JVM, shared by every suite. */
object SharedSpark {
  lazy val session: SparkSession = SparkSession
    .builder()
    .master("local[2]")
    .appName("manyfold-tests")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.driver.host", "127.0.0.1")
    .getOrCreate()
}

trait SharedSpark { self: Suite =>
  def spark: SparkSession = SharedSpark.session
}
