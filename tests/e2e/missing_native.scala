// With -Dmanyfold.native.lib pointing at a file that does not exist, training fails with a clear
// message naming the path and the property, and the JVM stays up.
//
// Run by tests/e2e/run.sh: spark-shell --jars <jar>
//   --driver-java-options -Dmanyfold.native.lib=/nonexistent/libmanyfold_jni.so -i missing_native.scala
// Success is exit code 0 and the closing "E2E-PASS" line (see recipe.scala).

import org.apache.spark.sql.SparkSession

import manyfold.ml.Grouped
import manyfold.ml.regression.LinearRegression

object MissingNativeE2E {
  def run(spark: SparkSession): Unit = {
    import spark.implicits._
    val path = sys.props.getOrElse("manyfold.native.lib", throw new AssertionError("no -D option"))
    val df = Seq(("a", 1.0, 2.0), ("a", 2.0, 4.1), ("a", 3.0, 5.9)).toDF("g", "x", "y")
    val est = new LinearRegression().setInputCols(Array("x")).setLabelCol("y")
    val failure =
      try {
        Grouped(est).setGroupCols("g").fit(df).models.collect()
        None
      } catch { case t: Throwable => Some(t) }
    val t = failure.getOrElse(throw new AssertionError("training without the library succeeded"))
    // In local mode the error may come straight from the driver or wrapped in a task failure.
    val messages = Iterator.iterate(t)(_.getCause).takeWhile(_ != null).map(_.toString).toList
    messages.foreach(m => println(s"e2e missing-native: $m"))
    val clear = messages.exists(m => m.contains(path) && m.contains("manyfold.native.lib"))
    if (!clear) throw new AssertionError(s"no message names $path and manyfold.native.lib")
    // The JVM is still usable.
    if (spark.range(10).count() != 10) throw new AssertionError("session unusable")
  }
}

// Stop Spark before exiting: local-cluster workers would otherwise relaunch the executors.
val e2eStatus =
  try {
    MissingNativeE2E.run(spark)
    println("E2E-PASS missing-native")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
