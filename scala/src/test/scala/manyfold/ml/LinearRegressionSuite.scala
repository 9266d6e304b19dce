package manyfold.ml

import scala.collection.JavaConverters._

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.functions.array_to_vector
import org.apache.spark.sql.Row
import org.apache.spark.sql.functions.{array, col}
import org.apache.spark.sql.types.{DoubleType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

/**
 * Single linear models against scikit-learn: the cases of rust/core/tests/fixtures, made by
 * tests/reference/make_fixtures.py (LinearRegression / Ridge(alpha = n * regParam) on X / s).
 */
class LinearRegressionSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private val cases =
    Seq(
      "ols_intercept",
      "ols_no_intercept",
      "ridge_standardized",
      "ridge_unstandardized",
      "ridge_no_intercept_standardized"
    )

  private def estimatorFor(c: org.json4s.JValue, p: Int): LinearRegression =
    new LinearRegression()
      .setRegParam((c \ "params" \ "regParam").extract[Double])
      .setFitIntercept((c \ "params" \ "fitIntercept").extract[Boolean])
      .setStandardization((c \ "params" \ "standardization").extract[Boolean])
      .setInputCols(featureNames(p))
      .setLabelCol("y")

  for (name <- cases) {
    test(s"$name: coefficients and intercept match scikit-learn to 1e-6") {
      val c = rustCase(name)
      val x = matrix(c \ "x")
      val model = estimatorFor(c, x.head.length).fit(frame(spark, x, doubles(c \ "y")))
      Close(
        s"$name coefficients",
        model.coefficients.toArray,
        doubles(c \ "expected" \ "coefficients"),
        1e-6,
        1e-12
      )
      Close(
        s"$name intercept",
        Seq(model.intercept),
        Seq((c \ "expected" \ "intercept").extract[Double]),
        1e-6,
        1e-12
      )
      assert(model.numFeatures == x.head.length)
      assert(model.featureNames.toSeq == featureNames(x.head.length).toSeq)
      assert(new String(model.modelBytes.take(4), "US-ASCII") == "MNFD")
    }
  }

  test("a Vector features column gives the same model as inputCols") {
    val c = rustCase("ols_intercept")
    val x = matrix(c \ "x")
    val df = frame(spark, x, doubles(c \ "y"))
    val withVector = new VectorAssembler()
      .setInputCols(featureNames(x.head.length))
      .setOutputCol("features")
      .transform(df)
    val fromColumns = estimatorFor(c, x.head.length).fit(df)
    val fromVector = new LinearRegression().setLabelCol("y").fit(withVector)
    assert(
      fromVector.coefficients == fromColumns.coefficients && fromVector.intercept == fromColumns.intercept
    )
    assert(fromVector.featureNames.toSeq == (0 until x.head.length).map(j => s"features[$j]"))
  }

  test("transform predicts coefficients . x + intercept (reference coefficients)") {
    val c = rustCase("ridge_standardized")
    val x = matrix(c \ "x")
    val df = frame(spark, x, doubles(c \ "y"))
    val model = estimatorFor(c, x.head.length).fit(df)
    val w = doubles(c \ "expected" \ "coefficients")
    val b = (c \ "expected" \ "intercept").extract[Double]
    val out = model.transform(df)
    assert(out.columns.toSeq == df.columns.toSeq :+ "prediction")
    assert(out.schema("prediction").dataType == DoubleType)
    val got = out.select("prediction").collect().map(_.getDouble(0))
    val expected = x.map(xi => xi.zip(w).map { case (a, c) => a * c }.sum + b)
    Close("predictions", got.toSeq, expected.toSeq, 1e-6, 1.0)
  }

  test("a null feature predicts null; NaN propagates; other rows are unaffected") {
    val model = new LinearRegression()
      .setInputCols("a", "b")
      .setLabelCol("y")
      .fit(
        spark
          .createDataFrame(
            (1 to 20).map(i => (i.toDouble, (i % 7).toDouble, 2.0 * i - (i % 7) + 1))
          )
          .toDF("a", "b", "y")
      )
    val schema = StructType(Seq(StructField("a", DoubleType), StructField("b", DoubleType)))
    val rows = Seq(Row(1.0, 1.0), Row(null, 2.0), Row(Double.NaN, 2.0), Row(3.0, null))
    val out = model.transform(spark.createDataFrame(rows.asJava, schema)).collect()
    assert(math.abs(out(0).getDouble(2) - 2.0) < 1e-9)
    assert(out(1).isNullAt(2) && out(3).isNullAt(2))
    assert(out(2).getDouble(2).isNaN)
  }

  test("fit rejects bad input before any job and names the column") {
    val df = spark.createDataFrame(Seq((1.0, "x", 2.0))).toDF("a", "s", "y")
    val missing = intercept[IllegalArgumentException](
      new LinearRegression().setInputCols("a", "zz").setLabelCol("y").fit(df)
    )
    assert(missing.getMessage.contains("'zz'") && missing.getMessage.contains("does not exist"))
    val text = intercept[IllegalArgumentException](
      new LinearRegression().setInputCols("a", "s").setLabelCol("y").fit(df)
    )
    assert(text.getMessage.contains("'s'") && text.getMessage.contains("numeric"))
    val label = intercept[IllegalArgumentException](
      new LinearRegression().setInputCols("a").setLabelCol("s").fit(df)
    )
    assert(label.getMessage.contains("label column 's'"))
    val noVector = intercept[IllegalArgumentException](
      new LinearRegression().setFeaturesCol("a").setLabelCol("y").fit(df)
    )
    assert(noVector.getMessage.contains("'a'") && noVector.getMessage.contains("Vector"))
    val empty = intercept[IllegalArgumentException](
      new LinearRegression().setInputCols("a").setLabelCol("y").fit(df.limit(0))
    )
    assert(empty.getMessage == "the training DataFrame is empty")
    // A Vector column without size metadata: its size is read from the data, which has none.
    val vectors = df.select(array_to_vector(array(col("a"))).as("features"), col("y"))
    val emptyVectors = intercept[IllegalArgumentException](
      new LinearRegression().setLabelCol("y").fit(vectors.limit(0))
    )
    assert(emptyVectors.getMessage == "the training DataFrame is empty")
  }

  test("a single fit on bad data throws the reason") {
    val df = spark
      .createDataFrame((1 to 20).map(i => (i.toDouble, if (i == 5) Double.NaN else 2.0 * i)))
      .toDF("a", "y")
    val e = intercept[IllegalStateException](
      new LinearRegression().setInputCols("a").setLabelCol("y").fit(df)
    )
    assert(e.getMessage.contains("'y'") || e.getMessage.contains("y"), e.getMessage)
  }

  test("transform checks its input") {
    val df =
      spark.createDataFrame((1 to 10).map(i => (i.toDouble, i * 2.0, 3.0 * i))).toDF("a", "b", "y")
    val model =
      new LinearRegression().setInputCols("a", "b").setLabelCol("y").setRegParam(0.1).fit(df)
    val count = intercept[IllegalArgumentException](
      model.copy(org.apache.spark.ml.param.ParamMap(model.inputCols -> Array("a"))).transform(df)
    )
    assert(count.getMessage.contains("2 features"), count.getMessage)
    val exists = intercept[IllegalArgumentException](model.setPredictionCol("y").transform(df))
    assert(exists.getMessage.contains("'y' already exists"))
  }

  test("fromBytes rebuilds a model; foreign and corrupt bytes are refused") {
    val df = spark.createDataFrame((1 to 10).map(i => (i.toDouble, 3.0 * i + 1))).toDF("a", "y")
    val model = new LinearRegression().setInputCols("a").setLabelCol("y").fit(df)
    val again = LinearRegressionModel.fromBytes(model.modelBytes).setInputCols("a")
    assert(again.coefficients == model.coefficients && again.intercept == model.intercept)
    assert(
      again.transform(df).select("prediction").collect().toSeq == model
        .transform(df)
        .select("prediction")
        .collect()
        .toSeq
    )
    for (
      bad <- Seq(
        Array[Byte](1, 2, 3),
        model.modelBytes.dropRight(3),
        model.modelBytes.updated(20, 0.toByte)
      )
    ) {
      intercept[IllegalArgumentException](LinearRegressionModel.fromBytes(bad))
    }
  }
}
