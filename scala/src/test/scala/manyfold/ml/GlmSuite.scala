package manyfold.ml

import java.nio.file.Files

import scala.util.Random

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.ml.regression.{GeneralizedLinearRegression, GeneralizedLinearRegressionModel}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.regression.Regressor
import org.apache.spark.sql.DataFrame
import org.json4s.JValue
import org.scalatest.funsuite.AnyFunSuite

/**
 * Generalized linear models against scikit-learn: the cases of rust/core/tests/fixtures, made by
 * tests/reference/make_linfa_fixtures.py (TweedieRegressor(power, link, alpha = regParam) with
 * sample_weight, newton-cholesky to tol 1e-12).
 */
class GlmSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private val cases = Seq(
    "glm_gaussian_l2",
    "glm_gaussian_log",
    "glm_poisson",
    "glm_poisson_identity",
    "glm_poisson_l2_weighted",
    "glm_poisson_no_intercept",
    "glm_gamma_l2",
    "glm_gamma_weighted",
    "glm_tweedie_1_5_weighted",
    "glm_tweedie_3"
  )

  private def dataOf(c: JValue): (DataFrame, Array[Array[Double]]) = {
    val x = matrix(c \ "x")
    val y = doubles(c \ "y")
    val df = c \ "weight" match {
      case org.json4s.JNull | org.json4s.JNothing => frame(spark, x, y)
      case w => weightedFrame(spark, x, y, doubles(w))
    }
    (df, x)
  }

  /** The family, link, penalty and intercept of the case, the rest at the defaults. */
  private def estimatorFor(c: JValue, p: Int, weighted: Boolean): GeneralizedLinearRegression = {
    val params = c \ "params"
    val glm = new GeneralizedLinearRegression()
      .setFamily((params \ "family").extract[String])
      .setRegParam((params \ "regParam").extract[Double])
      .setFitIntercept((params \ "fitIntercept").extract[Boolean])
      .setInputCols(featureNames(p))
      .setLabelCol("y")
    (params \ "variancePower").extractOpt[Double].foreach(glm.setVariancePower)
    if (weighted) glm.setWeightCol("w") else glm
  }

  private def check(
      name: String,
      model: GeneralizedLinearRegressionModel,
      c: JValue,
      rel: Double
  ) = {
    Close(
      s"$name coefficients",
      model.coefficients.toArray,
      doubles(c \ "expected" \ "coefficients"),
      rel,
      1e-9
    )
    Close(
      s"$name intercept",
      Seq(model.intercept),
      Seq((c \ "expected" \ "intercept").extract[Double]),
      rel,
      1e-9
    )
  }

  for (name <- cases) {
    test(s"$name: coefficients, intercept and means match scikit-learn to 1e-6 at its tol") {
      val c = rustCase(name)
      val (df, x) = dataOf(c)
      val model = estimatorFor(c, x.head.length, df.columns.contains("w"))
        .setLink((c \ "params" \ "link").extract[String])
        .setMaxIter((c \ "params" \ "maxIter").extract[Int])
        .setTol((c \ "params" \ "tol").extract[Double])
        .fit(df)
      check(name, model, c, 1e-6)
      assert(model.getLink == (c \ "params" \ "link").extract[String])
      assert(model.converged && model.numIterations >= 1)
      val expected = doubles(c \ "expected" \ "prediction")
      val got = model.transform(df).select("prediction").head(expected.length).map(_.getDouble(0))
      Close(s"$name means", got.toSeq, expected.toSeq, 1e-6, 1e-9)
    }
  }

  test("the defaults (maxIter 25, tol 1e-6, link unset) agree with scikit-learn to 1e-4") {
    // Every fixture's link is its family's default but poisson_identity's and gaussian_log's.
    for (name <- cases.filterNot(n => n == "glm_poisson_identity" || n == "glm_gaussian_log")) {
      val c = rustCase(name)
      val (df, x) = dataOf(c)
      val model = estimatorFor(c, x.head.length, df.columns.contains("w")).fit(df)
      check(name, model, c, 1e-4)
      val family = (c \ "params" \ "family").extract[String]
      assert(model.getLink == (if (family == "gaussian") "identity" else "log"), name)
    }
  }

  test("a GLM is a Spark Regressor; predict on one Vector equals transform") {
    assert(new GeneralizedLinearRegression().isInstanceOf[Regressor[_, _, _]])
    val c = rustCase("glm_gamma_l2")
    val (df, x) = dataOf(c)
    val features =
      new VectorAssembler().setInputCols(featureNames(x.head.length)).setOutputCol("features")
    val withVector = features.transform(df)
    val model = new GeneralizedLinearRegression()
      .setFamily("gamma")
      .setRegParam(0.01)
      .setLabelCol("y")
      .fit(withVector)
    assert(model.numFeatures == x.head.length)
    for (r <- model.transform(withVector).select("features", "prediction").head(20)) {
      assert(model.predict(r.getAs[Vector](0)) == r.getDouble(1))
    }
  }

  /** Knuth's Poisson sampler: fine for the small rates here. */
  private def poisson(rng: Random, rate: Double): Double = {
    val limit = math.exp(-rate)
    var (k, p) = (0, rng.nextDouble())
    while (p > limit) { k += 1; p *= rng.nextDouble() }
    k.toDouble
  }

  private val rates = Seq("low" -> 0.5, "mid" -> 4.0, "high" -> 15.0)

  /** Counts with rate `rate * exp(0.3 x)`, x uniform in [-1, 1], 1500 rows per store. */
  private lazy val counts: DataFrame = {
    val rng = new Random(11)
    val rows = for ((store, rate) <- rates; _ <- 1 to 1500) yield {
      val x = 2 * rng.nextDouble() - 1
      (store, x, poisson(rng, rate * math.exp(0.3 * x)))
    }
    spark.createDataFrame(rows).toDF("store", "x", "y")
  }

  test("Grouped Poisson regression recovers each store's rate") {
    val glm =
      new GeneralizedLinearRegression().setFamily("poisson").setInputCols("x").setLabelCol("y")
    val grouped = Grouped(glm).setGroupCols("store").fit(counts)
    assert(
      grouped.models.columns.toSeq == Seq(
        "store",
        "model",
        "rows",
        "rmse",
        "r2",
        "converged",
        "status",
        "error",
        "trainingMillis"
      )
    )
    val out = grouped.transform(counts).collect()
    for ((store, rate) <- rates) {
      val m = grouped.model(store)
      assert(m.converged && m.getLink == "log")
      // 1500 rows: the standard error of the log rate is at most 1 / sqrt(1500 * 0.5) = 0.037.
      assert(math.abs(m.intercept - math.log(rate)) < 0.15, s"$store: ${m.intercept}")
      assert(math.abs(m.coefficients(0) - 0.3) < 0.3, s"$store: ${m.coefficients}")
      // The intercept's score equation: fitted means and counts have the same sum.
      val rows = out.filter(_.getAs[String]("store") == store)
      val (means, ys) = (rows.map(_.getAs[Double]("prediction")), rows.map(_.getAs[Double]("y")))
      Close(s"$store sum of means", Seq(means.sum), Seq(ys.sum), 1e-6, 0.0)
    }
  }

  test("labels outside the family's range fail the group, naming the label and the rule") {
    val base = counts.where("store = 'mid'")
    val bad = base.union(
      spark.createDataFrame(Seq(("neg", 0.5, -1.0), ("neg", 0.1, 2.0))).toDF(base.columns: _*)
    )
    val poisson = Grouped(
      new GeneralizedLinearRegression().setFamily("poisson").setInputCols("x").setLabelCol("y")
    ).setGroupCols("store").fit(bad)
    val failed = poisson.models.where("store = 'neg'").head()
    assert(failed.getAs[String]("status") == "failed")
    val reason = failed.getAs[String]("error")
    assert(
      reason.contains("label") && reason.contains(">= 0") && reason.contains("poisson"),
      reason
    )
    assert(poisson.model("mid").converged)

    // Gamma needs labels > 0: the zero counts of 'mid' fail it; a negative label too.
    val gamma =
      new GeneralizedLinearRegression().setFamily("gamma").setInputCols("x").setLabelCol("y")
    for (df <- Seq(base, bad.where("store = 'neg'"))) {
      val e = intercept[IllegalStateException](gamma.fit(df))
      assert(e.getMessage.contains("> 0") && e.getMessage.contains("gamma"), e.getMessage)
    }
  }

  test("bad params are refused: variancePower in (0, 1), unknown family or link, maxIter 0") {
    val glm = new GeneralizedLinearRegression()
    for (v <- Seq(0.5, 1e-9, 0.999, -1.0, Double.NaN, Double.PositiveInfinity)) {
      intercept[IllegalArgumentException](glm.setVariancePower(v))
    }
    glm.setVariancePower(0.0).setVariancePower(1.0).setVariancePower(1.5)
    for (f <- Seq("binomial", "Poisson", "")) intercept[IllegalArgumentException](glm.setFamily(f))
    for (l <- Seq("inverse", "logit", "Log")) intercept[IllegalArgumentException](glm.setLink(l))
    val e = intercept[IllegalArgumentException](
      glm.setMaxIter(0).setInputCols("x").setLabelCol("y").fit(counts)
    )
    assert(e.getMessage.contains("maxIter"), e.getMessage)
  }

  test("save and load: a model and a GroupedModel predict identically") {
    val dir = Files.createTempDirectory("manyfold-glm")
    val glm = new GeneralizedLinearRegression()
      .setFamily("tweedie")
      .setVariancePower(1.5)
      .setInputCols("x")
      .setLabelCol("y")
    val model = glm.fit(counts)
    model.write.save(dir.resolve("model").toString)
    val loaded = GeneralizedLinearRegressionModel.load(dir.resolve("model").toString)
    assert(loaded.getFamily == "tweedie" && loaded.getVariancePower == 1.5)
    assert(loaded.coefficients == model.coefficients && loaded.getLink == "log")
    assert(loaded.transform(counts).collect().toSeq == model.transform(counts).collect().toSeq)

    val grouped = Grouped(glm).setGroupCols("store").fit(counts)
    grouped.write.save(dir.resolve("grouped").toString)
    val again =
      GroupedModel.load(dir.resolve("grouped").toString).as[GeneralizedLinearRegressionModel]
    assert(again.model("high").coefficients == grouped.model("high").coefficients)
    assert(again.transform(counts).collect().toSeq == grouped.transform(counts).collect().toSeq)
    val fromBytes = GeneralizedLinearRegressionModel.fromBytes(model.modelBytes)
    assert(fromBytes.intercept == model.intercept && fromBytes.getLink == "log")
  }
}
