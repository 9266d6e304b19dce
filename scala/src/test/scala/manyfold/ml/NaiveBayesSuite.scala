package manyfold.ml

import java.nio.file.Files

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.ml.classification.{NaiveBayes, NaiveBayesModel}
import org.apache.spark.ml.classification.ProbabilisticClassifier
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.lit
import org.json4s.JValue
import org.scalatest.funsuite.AnyFunSuite

/**
 * Gaussian naive Bayes against scikit-learn: the cases of rust/core/tests/fixtures, made by
 * tests/reference/make_linfa_fixtures.py (GaussianNB(var_smoothing) with sample_weight).
 */
class NaiveBayesSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private val cases =
    Seq("naive_bayes_smoothing", "naive_bayes_three_classes", "naive_bayes_weighted")

  private def dataOf(c: JValue): (DataFrame, Array[Array[Double]]) = {
    val x = matrix(c \ "x")
    val y = doubles(c \ "y")
    val df = c \ "weight" match {
      case org.json4s.JNull | org.json4s.JNothing => frame(spark, x, y)
      case w => weightedFrame(spark, x, y, doubles(w))
    }
    (df, x)
  }

  private def fit(c: JValue): (NaiveBayesModel, DataFrame, Array[Array[Double]]) = {
    val (df, x) = dataOf(c)
    val nb = new NaiveBayes()
      .setVarSmoothing((c \ "params" \ "varSmoothing").extract[Double])
      .setInputCols(featureNames(x.head.length))
      .setLabelCol("y")
    if (df.columns.contains("w")) nb.setWeightCol("w")
    (nb.fit(df), df, x)
  }

  private def rows(m: org.apache.spark.ml.linalg.Matrix): Seq[Seq[Double]] =
    (0 until m.numRows).map(i => (0 until m.numCols).map(j => m(i, j)))

  for (name <- cases) {
    test(s"$name: means, variances, priors, log-likelihoods and probabilities to 1e-9") {
      val c = rustCase(name)
      val (model, df, x) = fit(c)
      val e = c \ "expected"
      assert(model.classes.toSeq == doubles(e \ "classes").toSeq)
      assert(model.numClasses == model.classes.length && model.numFeatures == x.head.length)
      val (theta, sigma) = (matrix(e \ "means"), matrix(e \ "variances"))
      rows(model.theta).zip(theta).foreach { case (a, b) => Close("theta", a, b, 1e-9, 1e-12) }
      rows(model.sigma).zip(sigma).foreach { case (a, b) => Close("sigma", a, b, 1e-9, 1e-12) }
      Close("pi", model.pi.toArray, doubles(e \ "priors").map(math.log), 1e-9, 1e-12)

      val out = model.transform(df).select("rawPrediction", "probability", "prediction").collect()
      val (jll, proba) = (matrix(e \ "jointLogLikelihood"), matrix(e \ "probability"))
      val predicted = doubles(e \ "prediction")
      for ((r, i) <- out.zipWithIndex) {
        Close(s"raw[$i]", r.getAs[Vector](0).toArray, jll(i), 1e-9, 1e-12)
        Close(s"probability[$i]", r.getAs[Vector](1).toArray, proba(i), 1e-9, 1e-3)
        assert(r.getDouble(2) == predicted(i), s"prediction[$i]")
      }
    }
  }

  test("predict, predictRaw, predictProbability and the softmax of raw agree with transform") {
    assert(new NaiveBayes().isInstanceOf[ProbabilisticClassifier[_, _, _]])
    val c = rustCase("naive_bayes_three_classes")
    val (df, x) = dataOf(c)
    val withVector = new VectorAssembler()
      .setInputCols(featureNames(x.head.length))
      .setOutputCol("features")
      .transform(df)
    val fitted = new NaiveBayes().setLabelCol("y").fit(withVector)
    val model = new NaiveBayesSuite.WithSoftmax(fitted.uid, fitted.modelBytes)
    val out = fitted.transform(withVector)
    for (r <- out.select("features", "rawPrediction", "probability", "prediction").head(50)) {
      val v = r.getAs[Vector](0)
      assert(model.predict(v) == r.getDouble(3))
      assert(model.predictRaw(v) == r.getAs[Vector](1))
      Close(
        "probability",
        model.predictProbability(v).toArray,
        r.getAs[Vector](2).toArray,
        1e-12,
        1e-12
      )
      Close(
        "softmax",
        model.softmax(r.getAs[Vector](1)).toArray,
        r.getAs[Vector](2).toArray,
        1e-12,
        1e-15
      )
    }
    val thresholds =
      fitted.copy(org.apache.spark.ml.param.ParamMap.empty).setThresholds(Array(1, 1, 1e-9))
    assert(thresholds.predict(Vectors.dense(x.head)) == fitted.classes(2))
  }

  test("MulticlassClassificationEvaluator scores the output as scikit-learn's predictions") {
    val c = rustCase("naive_bayes_weighted") // labels 0..3: Spark's logLoss indexes by label
    val (model, df, _) = fit(c)
    val out = model.transform(df)
    val y = doubles(c \ "y")
    val expected = doubles(c \ "expected" \ "prediction")
    val reference = y.zip(expected).count { case (a, b) => a == b }.toDouble / y.length
    val evaluator = new MulticlassClassificationEvaluator().setLabelCol("y")
    Close(
      "accuracy",
      Seq(evaluator.setMetricName("accuracy").evaluate(out)),
      Seq(reference),
      1e-12,
      0.0
    )
    // Spark's weighted log loss of the probabilities equals the models table's (the native metric).
    val grouped = Grouped(
      new NaiveBayes().setInputCols(featureNames(3)).setLabelCol("y").setWeightCol("w")
    ).setGroupCols("g").fit(df.withColumn("g", lit(1)))
    val logLoss = grouped.models.head().getAs[Double]("logLoss")
    val measured = evaluator.setMetricName("logLoss").setWeightCol("w").evaluate(out)
    Close("logLoss", Seq(measured), Seq(logLoss), 1e-9, 0.0)
  }

  test("a group of one class fails with the reason; the others train") {
    val c = rustCase("naive_bayes_three_classes")
    val (df, _) = dataOf(c)
    val single = df.where("y = 2.0").withColumn("g", lit("single"))
    val all = df.withColumn("g", lit("all")).union(single)
    val grouped =
      Grouped(new NaiveBayes().setInputCols(featureNames(4)).setLabelCol("y"))
        .setGroupCols("g")
        .fit(all)
    val failed = grouped.models.where("g = 'single'").head()
    assert(failed.getAs[String]("status") == "failed")
    assert(failed.getAs[String]("error").contains("only one class"), failed.getAs[String]("error"))
    assert(grouped.model("all").classes.toSeq == Seq(-1.0, 2.0, 5.5))
    val e = intercept[IllegalStateException](
      new NaiveBayes().setInputCols(featureNames(4)).setLabelCol("y").fit(single)
    )
    assert(e.getMessage.contains("only one class"), e.getMessage)
  }

  test("save and load: a model and a GroupedModel predict identically") {
    val c = rustCase("naive_bayes_weighted")
    val (model, df, _) = fit(c)
    val dir = Files.createTempDirectory("manyfold-nb")
    model.write.save(dir.resolve("model").toString)
    val loaded = NaiveBayesModel.load(dir.resolve("model").toString)
    assert(loaded.getWeightCol == "w" && loaded.theta == model.theta && loaded.sigma == model.sigma)
    assert(loaded.transform(df).collect().toSeq == model.transform(df).collect().toSeq)
    assert(NaiveBayesModel.fromBytes(model.modelBytes).pi == model.pi)

    val halves = df.withColumn("g", (org.apache.spark.sql.functions.col("x0") > 0).cast("int"))
    val grouped = Grouped(
      new NaiveBayes().setInputCols(featureNames(3)).setLabelCol("y").setWeightCol("w")
    ).setGroupCols("g").fit(halves)
    grouped.write.save(dir.resolve("grouped").toString)
    val again = GroupedModel.load(dir.resolve("grouped").toString).as[NaiveBayesModel]
    assert(again.model(1).theta == grouped.model(1).theta)
    assert(again.transform(halves).collect().toSeq == grouped.transform(halves).collect().toSeq)
  }
}

object NaiveBayesSuite {

  /** Reaches the model's protected raw2probabilityInPlace. */
  final class WithSoftmax(uid: String, bytes: Array[Byte]) extends NaiveBayesModel(uid, bytes) {
    def softmax(raw: Vector): Vector = raw2probabilityInPlace(raw.copy)
  }
}
