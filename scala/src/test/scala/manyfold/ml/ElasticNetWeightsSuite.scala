package manyfold.ml

import manyfold.{Close, SharedSpark}
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import org.apache.spark.ml.{classification => sparkc, regression => sparkr}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite

/**
 * `elasticNetParam` and `weightCol` against Spark's own estimators on the same data (the reference:
 * the objectives are Spark's), and the bad weights that fail a group.
 */
class ElasticNetWeightsSuite extends AnyFunSuite with SharedSpark {

  /** 400 rows, 4 features, a linear label with noise, a binary label, positive weights. */
  private lazy val data: DataFrame = {
    val base = spark
      .range(400)
      .select(
        (col("id") % 4).cast("string").as("g"),
        sin(col("id") * 0.37).as("x0"),
        (cos(col("id") * 0.11) * 3).as("x1"),
        ((col("id") % 7) / 7.0).as("x2"),
        (sin(col("id") * 1.3) * 0.1 + 5).as("x3"),
        (col("id") % 5 + 0.5).as("w")
      )
    val y = lit(1.0) + col("x0") * 2 - col("x1") * 0.5 + col("x2") * 0.05 + sin(col("x3") * 97)
    val withLabel = base
      .withColumn("y", y)
      .withColumn("c", when(y + sin(col("x0") * 31) * 0.8 > 1.0, 1.0).otherwise(0.0))
    new VectorAssembler()
      .setInputCols(Array("x0", "x1", "x2", "x3"))
      .setOutputCol("features")
      .transform(withLabel)
      .cache()
  }

  test("linear elastic net and lasso, weighted or not, match Spark's LinearRegression") {
    for (alpha <- Seq(0.5, 1.0); weighted <- Seq(false, true); std <- Seq(true, false)) {
      val ours = new LinearRegression()
        .setLabelCol("y")
        .setRegParam(0.05)
        .setElasticNetParam(alpha)
        .setStandardization(std)
        .setTol(1e-12)
        .setMaxIter(10000)
      val spark = new sparkr.LinearRegression()
        .setLabelCol("y")
        .setRegParam(0.05)
        .setElasticNetParam(alpha)
        .setStandardization(std)
        .setTol(1e-12)
        .setMaxIter(10000)
      if (weighted) { ours.setWeightCol("w"); spark.setWeightCol("w") }
      val (a, b) = (ours.fit(data), spark.fit(data))
      val what = s"alpha=$alpha weighted=$weighted standardization=$std"
      Close(what, a.coefficients.toArray.toSeq, b.coefficients.toArray.toSeq, 1e-5, 1e-7)
      Close(what + " intercept", Seq(a.intercept), Seq(b.intercept), 1e-5, 1e-7)
    }
  }

  test("logistic elastic net, weighted, matches Spark's LogisticRegression") {
    for (alpha <- Seq(0.0, 0.5, 1.0)) {
      val ours = new LogisticRegression()
        .setLabelCol("c")
        .setRegParam(0.02)
        .setElasticNetParam(alpha)
        .setWeightCol("w")
        .setTol(1e-10)
        .setMaxIter(200)
      val spark = new sparkc.LogisticRegression()
        .setLabelCol("c")
        .setRegParam(0.02)
        .setElasticNetParam(alpha)
        .setWeightCol("w")
        .setTol(1e-12)
        .setMaxIter(1000)
      val (a, b) = (ours.fit(data), spark.fit(data))
      Close(s"alpha=$alpha", a.coefficients.toArray.toSeq, b.coefficients.toArray.toSeq, 1e-3, 1e-4)
      Close(s"alpha=$alpha intercept", Seq(a.intercept), Seq(b.intercept), 1e-3, 1e-4)
    }
  }

  test("integer weights per group equal repeating the rows") {
    val lr = new LinearRegression().setInputCols("x0", "x1", "x2").setLabelCol("y")
    val weighted = Grouped(lr.copy(org.apache.spark.ml.param.ParamMap.empty).setWeightCol("w"))
      .setGroupCols("g")
      .fit(data)
    // Each row repeated w times (w = 0.5 .. 4.5, so twice the weight, rounded to integers).
    val repeated = data
      .withColumn("k", explode(sequence(lit(1), (col("w") * 2).cast("int"))))
      .drop("k")
    val plain = Grouped(lr).setGroupCols("g").fit(repeated)
    for (g <- Seq("0", "1", "2", "3")) {
      val (a, b) = (weighted.model(g), plain.model(g))
      Close(s"group $g", a.coefficients.toArray.toSeq, b.coefficients.toArray.toSeq, 1e-9, 1e-12)
    }
  }

  test("negative, NaN and all-zero weights fail their group, naming the column") {
    val bad = data.withColumn(
      "w",
      when(col("g") === "1", -1.0)
        .when(col("g") === "2", lit(Double.NaN))
        .when(col("g") === "3", 0.0)
        .otherwise(col("w"))
    )
    val model =
      Grouped(new LinearRegression().setInputCols("x0", "x1").setLabelCol("y").setWeightCol("w"))
        .setGroupCols("g")
        .fit(bad)
    val rows = model.models.select("g", "status", "error").collect().map(r => r.getString(0) -> r)
    val byGroup = rows.toMap
    assert(byGroup("0").getString(1) == "ok")
    assert(byGroup("1").getString(2).contains("weight column 'w' has a negative value"))
    assert(byGroup("2").getString(2).contains("column 'w' has a NaN value"))
    assert(byGroup("3").getString(2).contains("weight column 'w' is 0 for every row"))
    val loaded: LinearRegressionModel = model.model("0")
    assert(loaded.numFeatures == 2)
  }

  test("a weight column that is missing, non-numeric or also the label is refused before any job") {
    val lr = new LinearRegression().setInputCols("x0").setLabelCol("y")
    val e1 = intercept[IllegalArgumentException](
      lr.copy(org.apache.spark.ml.param.ParamMap.empty).setWeightCol("nope").fit(data)
    )
    assert(e1.getMessage.contains("the weight column 'nope' does not exist"), e1.getMessage)
    val e2 = intercept[IllegalArgumentException](
      lr.copy(org.apache.spark.ml.param.ParamMap.empty).setWeightCol("g").fit(data)
    )
    assert(e2.getMessage.contains("the weight column 'g' must be numeric"), e2.getMessage)
    val e3 = intercept[IllegalArgumentException](
      lr.copy(org.apache.spark.ml.param.ParamMap.empty).setWeightCol("y").fit(data)
    )
    assert(e3.getMessage.contains("the label and weight columns must differ"), e3.getMessage)
  }
}
