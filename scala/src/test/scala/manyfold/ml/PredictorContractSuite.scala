package manyfold.ml

import java.nio.file.Files

import manyfold.{Close, Fixtures, SharedSpark}
import manyfold.ml.classification.{
  LogisticRegression,
  LogisticRegressionModel,
  NaiveBayes,
  NaiveBayesModel
}
import manyfold.ml.clustering.{KMeans, KMeansModel}
import manyfold.ml.regression.{
  GeneralizedLinearRegression,
  GeneralizedLinearRegressionModel,
  LinearRegression,
  LinearRegressionModel
}
import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.classification.{
  OneVsRest,
  OneVsRestModel,
  ProbabilisticClassificationModel,
  ProbabilisticClassifier
}
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  ClusteringEvaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.regression.{RegressionModel, Regressor}
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.{col, exp, floor, rand, randn}
import org.scalatest.funsuite.AnyFunSuite

/**
 * manyfold stages on Spark's predictor contract: they are Spark `Regressor`s and
 * `ProbabilisticClassifier`s, predict one Vector through the native library, honour `thresholds`,
 * and work inside Spark's `Pipeline`, `CrossValidator` and `OneVsRest`.
 */
class PredictorContractSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  private def withFeatures(df: DataFrame, p: Int): DataFrame =
    new VectorAssembler().setInputCols(featureNames(p)).setOutputCol("features").transform(df)

  private def data(name: String): (DataFrame, Int) = {
    val c = rustCase(name)
    val x = matrix(c \ "x")
    (withFeatures(frame(spark, x, doubles(c \ "y")), x.head.length), x.head.length)
  }

  test("the estimators and models are Spark's Regressor and ProbabilisticClassifier kinds") {
    assert(new LinearRegression().isInstanceOf[Regressor[_, _, _]])
    assert(new LogisticRegression().isInstanceOf[ProbabilisticClassifier[_, _, _]])
    val (df, p) = data("logistic_multinomial")
    val m = new LogisticRegression().setLabelCol("y").setRegParam(0.01).fit(df)
    assert(m.isInstanceOf[ProbabilisticClassificationModel[_, _]])
    assert(m.numFeatures == p && m.numClasses == 3)
    val (rdf, rp) = data("ols_intercept")
    val lm = new LinearRegression().setLabelCol("y").fit(rdf)
    assert(lm.isInstanceOf[RegressionModel[_, _]] && lm.numFeatures == rp)
  }

  test("predict, predictRaw and predictProbability on one Vector equal transform's columns") {
    val (df, _) = data("logistic_multinomial")
    val m = new LogisticRegression().setLabelCol("y").setRegParam(0.01).fit(df)
    val rows = m.transform(df).select("features", "rawPrediction", "probability", "prediction")
    for (r <- rows.collect()) {
      val v = r.getAs[Vector](0)
      assert(m.predict(v) == r.getDouble(3))
      Close("raw", m.predictRaw(v).toArray.toSeq, r.getAs[Vector](1).toArray.toSeq, 1e-12, 1e-12)
      Close(
        "probability",
        m.predictProbability(v).toArray.toSeq,
        r.getAs[Vector](2).toArray.toSeq,
        1e-12,
        1e-12
      )
    }
    val (rdf, _) = data("ols_intercept")
    val lm = new LinearRegression().setLabelCol("y").fit(rdf)
    for (r <- lm.transform(rdf).select("features", "prediction").collect()) {
      assert(lm.predict(r.getAs[Vector](0)) == r.getDouble(1))
    }
    val e =
      intercept[IllegalArgumentException](lm.predict(org.apache.spark.ml.linalg.Vectors.dense(1.0)))
    assert(e.getMessage.contains("features"), e.getMessage)
  }

  test("thresholds pick the class with the largest p / t, in transform and predict") {
    val (df, _) = data("logistic_binomial")
    val m = new LogisticRegression().setLabelCol("y").setRegParam(0.01).fit(df)
    val plain = m.transform(df).select("probability", "prediction").collect()
    m.setThresholds(Array(0.9, 0.1))
    val out = m.transform(df).select("features", "probability", "prediction").collect()
    var changed = 0
    for ((r, before) <- out.zip(plain)) {
      val p = r.getAs[Vector](1)
      val expected = if (p(0) / 0.9 >= p(1) / 0.1) m.classes(0) else m.classes(1)
      assert(r.getDouble(2) == expected)
      assert(m.predict(r.getAs[Vector](0)) == expected)
      if (r.getDouble(2) != before.getDouble(1)) changed += 1
    }
    assert(changed > 0, "thresholds of 0.9/0.1 should move some predictions to the second class")
    // Spark's setter refuses a wrong length; a copy (as tuning makes) reaches the native check.
    val wrong = m.copy(ParamMap(m.thresholds -> Array(0.2, 0.3, 0.5)))
    val e = intercept[Exception](wrong.transform(df).collect())
    assert(
      Iterator
        .iterate[Throwable](e)(_.getCause)
        .takeWhile(_ != null)
        .exists(
          _.getMessage.contains("thresholds has 3 values but model 0 has 2 classes")
        ),
      e.toString
    )
  }

  test("Pipeline(VectorAssembler, StandardScaler, LogisticRegression) fits, saves and loads") {
    val c = rustCase("logistic_multinomial")
    val x = matrix(c \ "x")
    val df = frame(spark, x, doubles(c \ "y"))
    val pipeline = new Pipeline().setStages(
      Array(
        new VectorAssembler().setInputCols(featureNames(x.head.length)).setOutputCol("raw"),
        new StandardScaler().setInputCol("raw").setOutputCol("features"),
        new LogisticRegression().setLabelCol("y").setRegParam(0.01)
      )
    )
    val fitted = pipeline.fit(df)
    val out = fitted.transform(df).select("prediction").collect().toSeq
    val dir = Files.createTempDirectory("manyfold-lr-pipeline").resolve("m").toString
    fitted.write.save(dir)
    val loaded = PipelineModel.load(dir)
    assert(loaded.stages.last.isInstanceOf[LogisticRegressionModel])
    assert(loaded.transform(df).select("prediction").collect().toSeq == out)
  }

  test("Spark's CrossValidator tunes a single LogisticRegression with areaUnderROC") {
    val (df, _) = data("logistic_binomial")
    val lr = new LogisticRegression().setLabelCol("y")
    val grid = new ParamGridBuilder().addGrid(lr.regParam, Array(0.001, 10.0)).build()
    val cv = new CrossValidator()
      .setEstimator(lr)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new BinaryClassificationEvaluator().setLabelCol("y"))
      .setNumFolds(3)
      .setSeed(7)
    val best = cv.fit(df)
    assert(best.avgMetrics.forall(m => m > 0.5 && m <= 1.0), best.avgMetrics.toSeq)
    assert(best.bestModel.isInstanceOf[LogisticRegressionModel])
  }

  test("Spark's CrossValidator tunes a single LinearRegression with RMSE") {
    val (df, _) = data("ridge_standardized")
    val lr = new LinearRegression().setLabelCol("y")
    val grid = new ParamGridBuilder().addGrid(lr.regParam, Array(0.0, 100.0)).build()
    val cv = new CrossValidator()
      .setEstimator(lr)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new RegressionEvaluator().setLabelCol("y"))
      .setNumFolds(3)
    val best = cv.fit(df)
    assert(best.avgMetrics(0) < best.avgMetrics(1), best.avgMetrics.toSeq)
    assert(best.bestModel.asInstanceOf[LinearRegressionModel].getRegParam == 0.0)
  }

  test("OneVsRest over a binary manyfold LogisticRegression classifies three classes") {
    val (df, _) = data("logistic_multinomial")
    val ovr = new OneVsRest()
      .setClassifier(new LogisticRegression().setRegParam(0.01))
      .setLabelCol("y")
    val model = ovr.fit(df)
    assert(model.models.length == 3 && model.models.forall(_.isInstanceOf[LogisticRegressionModel]))
    val out = model.transform(df)
    val accuracy = out.where(col("prediction") === col("y")).count().toDouble / df.count()
    val multinomial = new LogisticRegression().setLabelCol("y").setRegParam(0.01).fit(df)
    val reference =
      multinomial.transform(df).where(col("prediction") === col("y")).count().toDouble / df.count()
    assert(accuracy > reference - 0.1, s"one-vs-rest $accuracy vs multinomial $reference")
    val dir = Files.createTempDirectory("manyfold-ovr").resolve("m").toString
    model.write.save(dir)
    val loaded = OneVsRestModel.load(dir)
    assert(
      loaded.transform(df).select("prediction").collect().toSeq ==
        out.select("prediction").collect().toSeq
    )
  }

  test("Spark's CrossValidator tunes GeneralizedLinearRegression, NaiveBayes and KMeans") {
    val counts = withFeatures(
      spark
        .range(600)
        .select(randn(1).as("x0"), randn(2).as("x1"))
        .withColumn("y", floor(exp(col("x0") * 0.5 + 1.0) + rand(3) * 2)),
      2
    )
    val glm = new GeneralizedLinearRegression().setFamily("poisson").setLabelCol("y")
    val glmCv = new CrossValidator()
      .setEstimator(glm)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(glm.regParam, Array(0.0, 50.0)).build())
      .setEvaluator(new RegressionEvaluator().setLabelCol("y"))
      .setNumFolds(3)
    val glmBest = glmCv.fit(counts)
    assert(glmBest.avgMetrics(0) < glmBest.avgMetrics(1), glmBest.avgMetrics.toSeq)
    assert(glmBest.bestModel.asInstanceOf[GeneralizedLinearRegressionModel].getRegParam == 0.0)

    val (classes, _) = data("logistic_multinomial")
    val nb = new NaiveBayes().setLabelCol("y")
    val nbCv = new CrossValidator()
      .setEstimator(nb)
      .setEstimatorParamMaps(
        new ParamGridBuilder().addGrid(nb.varSmoothing, Array(1e-9, 1e-1, 100.0)).build()
      )
      .setEvaluator(new MulticlassClassificationEvaluator().setLabelCol("y"))
      .setNumFolds(3)
    val nbBest = nbCv.fit(classes)
    assert(nbBest.avgMetrics.length == 3 && nbBest.avgMetrics.max > 0.5, nbBest.avgMetrics.toSeq)
    assert(nbBest.bestModel.isInstanceOf[NaiveBayesModel])

    // Three well-separated blobs: silhouette is best at k = 3.
    val blobs = withFeatures(
      spark
        .range(300)
        .select(
          ((col("id") % 3) * 10 + randn(4)).as("x0"),
          ((col("id") % 3) * -7 + randn(5)).as("x1")
        ),
      2
    )
    val km = new KMeans().setNInit(5)
    val kmCv = new CrossValidator()
      .setEstimator(km)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(km.k, Array(2, 3, 5)).build())
      .setEvaluator(new ClusteringEvaluator())
      .setNumFolds(3)
    val kmBest = kmCv.fit(blobs)
    assert(kmBest.bestModel.asInstanceOf[KMeansModel].getK == 3, kmBest.avgMetrics.toSeq)
  }
}
