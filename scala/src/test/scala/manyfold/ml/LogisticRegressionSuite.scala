package manyfold.ml

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.ml.classification.{LogisticRegression, LogisticRegressionModel}
import org.apache.spark.SparkException
import org.apache.spark.ml.linalg.{SQLDataTypes, Vector}
import org.apache.spark.sql.types.DoubleType
import org.json4s.JValue
import org.scalatest.funsuite.AnyFunSuite

/**
 * Single logistic models against scikit-learn: the cases of rust/core/tests/fixtures, made by
 * tests/reference/make_fixtures.py (LogisticRegression(C = 1 / (n * regParam)) on X / s).
 */
class LogisticRegressionSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private val cases = Seq(
    "logistic_binomial",
    "logistic_binomial_labels",
    "logistic_binomial_unstandardized",
    "logistic_multinomial",
    "logistic_multinomial_unstandardized"
  )

  private def fit(c: JValue): (LogisticRegressionModel, Array[Array[Double]]) = {
    val x = matrix(c \ "x")
    val lr = new LogisticRegression()
      .setRegParam((c \ "params" \ "regParam").extract[Double])
      .setStandardization((c \ "params" \ "standardization").extract[Boolean])
      .setInputCols(featureNames(x.head.length))
      .setLabelCol("y")
    (lr.fit(frame(spark, x, doubles(c \ "y"))), x)
  }

  /** Softmax (or sigmoid for one row) of the reference coefficients. */
  private def referenceProbabilities(c: JValue, x: Array[Double]): Seq[Double] = {
    val w = matrix(c \ "expected" \ "coefficients")
    val b = doubles(c \ "expected" \ "intercepts")
    val m = w.indices.map(k => w(k).zip(x).map { case (a, v) => a * v }.sum + b(k))
    if (m.length == 1) {
      val p = 1.0 / (1.0 + math.exp(-m.head))
      Seq(1 - p, p)
    } else {
      val e = m.map(v => math.exp(v - m.max))
      e.map(_ / e.sum)
    }
  }

  test("a fit that stops at maxIter on separable classes is flagged as not converged") {
    // Separable classes with regParam = 0 have no finite optimum: the coefficients grow until
    // maxIter, as scikit-learn warns with a ConvergenceWarning.
    val x = Array.tabulate(40)(i => Array(i / 4.0 - 5.0))
    val y = x.map(r => if (r(0) > 0) 1.0 else 0.0)
    val lr = new LogisticRegression().setInputCols(featureNames(1)).setLabelCol("y")
    val separable = lr.copy(org.apache.spark.ml.param.ParamMap.empty).setMaxIter(5)
    val flagged = separable.fit(frame(spark, x, y))
    assert(!flagged.converged && flagged.numIterations == 5)
    val noisy = y.zipWithIndex.map { case (v, i) => if (i % 7 == 3) 1 - v else v }
    val fine = lr.setRegParam(0.01).fit(frame(spark, x, noisy))
    assert(fine.converged && fine.numIterations < 100)
  }

  for (name <- cases) {
    test(s"$name: classes, coefficients and intercepts match scikit-learn to 1e-3") {
      val c = rustCase(name)
      val (model, x) = fit(c)
      assert(model.classes.toSeq == doubles(c \ "expected" \ "classes").toSeq)
      assert(model.numClasses == model.classes.length)
      val w = matrix(c \ "expected" \ "coefficients")
      val m = model.coefficientMatrix
      assert(m.numRows == w.length && m.numCols == x.head.length)
      for (k <- w.indices) {
        Close(
          s"$name coefficients[$k]",
          (0 until m.numCols).map(j => m(k, j)),
          w(k).toSeq,
          1e-3,
          1e-12
        )
      }
      val b = doubles(c \ "expected" \ "intercepts")
      Close(s"$name intercepts", model.interceptVector.toArray, b, 1e-3, b.map(math.abs).max)
      if (w.length == 1) {
        assert(!model.isMultinomial)
        assert(model.coefficients.toArray.toSeq == (0 until m.numCols).map(j => m(0, j)))
        assert(model.intercept == model.interceptVector(0))
      } else {
        assert(model.isMultinomial)
        val e = intercept[SparkException](model.coefficients)
        assert(e.getMessage.contains("coefficientMatrix"))
        intercept[SparkException](model.intercept)
      }
    }
  }

  test("transform adds rawPrediction, probability and prediction (a label value)") {
    val c = rustCase("logistic_binomial_labels") // labels -2 and 7
    val (model, x) = fit(c)
    val df = frame(spark, x, doubles(c \ "y"))
    val out = model.transform(df)
    assert(
      out.columns.toSeq == df.columns.toSeq ++ Seq("rawPrediction", "probability", "prediction")
    )
    assert(out.schema("probability").dataType == SQLDataTypes.VectorType)
    assert(out.schema("prediction").dataType == DoubleType)
    val rows = out.select("rawPrediction", "probability", "prediction").collect()
    rows.zip(x).foreach { case (r, xi) =>
      val prob = r.getAs[Vector](1).toArray
      Close("probability", prob.toSeq, referenceProbabilities(c, xi), 1e-3, 1e-3)
      assert(r.getAs[Vector](0).size == 2)
      assert(r.getDouble(2) == model.classes(prob.indexOf(prob.max)))
    }
    assert(rows.map(_.getDouble(2)).toSet == Set(-2.0, 7.0))
  }

  test("multinomial probabilities sum to one and match the reference") {
    val c = rustCase("logistic_multinomial")
    val (model, x) = fit(c)
    val rows = model.transform(frame(spark, x, doubles(c \ "y"))).select("probability").collect()
    rows.zip(x).foreach { case (r, xi) =>
      val prob = r.getAs[Vector](0).toArray
      assert(math.abs(prob.sum - 1.0) < 1e-9)
      Close("probability", prob.toSeq, referenceProbabilities(c, xi), 1e-3, 1e-3)
    }
  }

  test("empty probability and raw prediction columns are omitted") {
    val c = rustCase("logistic_binomial")
    val (model, x) = fit(c)
    val out = model
      .setProbabilityCol("")
      .setRawPredictionCol("")
      .transform(frame(spark, x, doubles(c \ "y")))
    assert(!out.columns.contains("probability") && !out.columns.contains("rawPrediction"))
    assert(out.columns.last == "prediction")
  }

  test("a single class fails the fit with the reason") {
    val df = spark.createDataFrame((1 to 20).map(i => (i.toDouble, 1.0))).toDF("a", "y")
    val e = intercept[IllegalStateException](
      new LogisticRegression().setInputCols("a").setLabelCol("y").fit(df)
    )
    assert(e.getMessage.toLowerCase.contains("class"), e.getMessage)
  }

  test("family=binomial with three classes fails with the reason") {
    val df =
      spark.createDataFrame((1 to 30).map(i => (i.toDouble, (i % 3).toDouble))).toDF("a", "y")
    val e = intercept[IllegalStateException](
      new LogisticRegression().setFamily("binomial").setInputCols("a").setLabelCol("y").fit(df)
    )
    assert(e.getMessage.contains("binomial"), e.getMessage)
  }
}
