package manyfold.tmp

import manyfold.SharedSpark
import manyfold.ml.classification.LogisticRegression
import org.apache.spark.ml.classification.{LogisticRegression => SparkLR}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite

class SpeedProbe extends AnyFunSuite with SharedSpark {
  test("probe") {
    val n = 2000000
    val p = 20
    val cols = (0 until p).map(j => (rand(j) * 2 - 1).as(s"x$j"))
    val base = spark.range(n).repartition(2).select(cols :+ (when(rand(99) > 0.5, 1.0).otherwise(0.0)).as("y"): _*)
    val df = new VectorAssembler().setInputCols((0 until p).map(j => s"x$j").toArray).setOutputCol("features").transform(base).cache()
    df.count()
    val sample = df.limit(20000)
    val m = new LogisticRegression().setInputCols((0 until p).map(j => s"x$j").toArray).setLabelCol("y").fit(sample)
    val s = new SparkLR().setLabelCol("y").fit(sample)
    def time(name: String)(f: => Unit): Unit = {
      f
      val t = (1 to 3).map { _ => val t0 = System.nanoTime; f; (System.nanoTime - t0) / 1e9 }
      println(f"$name%-20s ${t.min}%.3f s  ${n / t.min / 1e6}%.2f Mrows/s")
    }
    time("manyfold")(m.transform(df).write.format("noop").mode("overwrite").save())
    if (sys.env.contains("PROBE_ALL")) time("spark")(s.transform(df).write.format("noop").mode("overwrite").save())
    manyfold.sql.register(spark, "probe_score", m)
    df.createOrReplaceTempView("probe_t")
    if (sys.env.contains("PROBE_ALL")) time("sql")(spark.sql(s"SELECT probe_score(${(0 until p).map(j => s"x$j").mkString(",")}) FROM probe_t").write.format("noop").mode("overwrite").save())
    time("scan")(df.write.format("noop").mode("overwrite").save())
  }
}
