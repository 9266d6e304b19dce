// Models saved by one Spark line load in the other: run once with the Spark 3.5 / Scala 2.12 jar
// and once with the Spark 4 / Scala 2.13 jar (tests/e2e/run.sh cross-version). `save` trains a
// linear model, a grouped model (one linear model per data set) and a logistic model, saves them
// with the predictions they make; `load`, on the other line, loads them, checks that they were
// written by the other Spark, and predicts the same rows to within 1e-12.
//
// Environment: CROSS_MODE (save or load), CROSS_DIR (where the models are), E2E_DATA (the recipe's
// data, tests/e2e/make_recipe_data.py).

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._

import manyfold.ml.{Grouped, GroupedModel}
import manyfold.ml.classification.{LogisticRegression, LogisticRegressionModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}

object CrossVersionE2E {
  private def check(cond: Boolean, what: => String): Unit =
    if (!cond) throw new AssertionError(s"cross-version check failed: $what")

  private def predictions(df: DataFrame, column: String): Map[(String, Long), Double] =
    df.select(col("dataset"), col("id"), col(column).cast("double"))
      .collect()
      .map(r => (r.getString(0), r.getLong(1)) -> r.getDouble(2))
      .toMap

  def run(spark: SparkSession): Unit = {
    val mode = sys.env("CROSS_MODE")
    val dir = sys.env("CROSS_DIR")
    val df = spark.read
      .option("header", "true")
      .schema("id LONG, x DOUBLE, y DOUBLE")
      .csv(sys.env("E2E_DATA"))
      .withColumn("dataset", regexp_extract(input_file_name(), "([^/]+)\\.csv\\.gz$", 1))
      .withColumn("label", when(col("y") > col("x") * 2.75, 1.0).otherwise(0.0))
      .cache()
    val linear = new LinearRegression().setInputCols(Array("x")).setLabelCol("y")
    val logistic = new LogisticRegression().setInputCols(Array("x", "y")).setLabelCol("label")
    mode match {
      case "save" =>
        val lr = linear.fit(df)
        val gm = Grouped(linear).setGroupCols("dataset").fit(df)
        val lg = logistic.fit(df)
        lr.write.overwrite().save(s"$dir/linear")
        gm.write.overwrite().save(s"$dir/grouped")
        lg.write.overwrite().save(s"$dir/logistic")
        lr.transform(df).select("dataset", "id", "prediction").write.parquet(s"$dir/p-linear")
        gm.transform(df).select("dataset", "id", "prediction").write.parquet(s"$dir/p-grouped")
        lg.transform(df).select("dataset", "id", "prediction").write.parquet(s"$dir/p-logistic")
        println(s"E2E-PASS cross-version save: Spark ${spark.version} wrote $dir")
      case "load" =>
        val written = spark.read.json(s"$dir/linear/metadata").select("sparkVersion").head.getString(0)
        check(
          written.takeWhile(_ != '.') != spark.version.takeWhile(_ != '.'),
          s"the models were written by Spark $written, not by the other line than ${spark.version}"
        )
        val loaded = Seq(
          "linear" -> LinearRegressionModel.load(s"$dir/linear").transform(df),
          "grouped" -> GroupedModel.load(s"$dir/grouped").as[LinearRegressionModel].transform(df),
          "logistic" -> LogisticRegressionModel.load(s"$dir/logistic").transform(df)
        )
        loaded.foreach { case (name, out) =>
          val now = predictions(out, "prediction")
          val saved = predictions(spark.read.parquet(s"$dir/p-$name"), "prediction")
          check(saved.size == 4000 && now.keySet == saved.keySet, s"$name: ${now.size} rows")
          val worst = saved.map { case (k, v) => math.abs(now(k) - v) }.max
          check(worst <= 1e-12, s"$name: predictions differ by $worst")
          println(s"cross-version: $name saved by Spark $written predicts the same (max diff $worst)")
        }
        println(s"E2E-PASS cross-version load: Spark ${spark.version} read models of Spark $written")
      case other => throw new IllegalArgumentException(s"CROSS_MODE $other")
    }
  }
}

val e2eStatus =
  try {
    CrossVersionE2E.run(spark)
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
