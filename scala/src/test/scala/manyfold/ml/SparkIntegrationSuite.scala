package manyfold.ml

import java.nio.file.Files

import manyfold.{Fixtures, SharedSpark}
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.LinearRegression
import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder, TrainValidationSplit}
import org.apache.spark.sql.functions.col
import org.scalatest.funsuite.AnyFunSuite

/** manyfold stages among Spark's own: Pipeline, evaluators, tuning. */
class SparkIntegrationSuite extends AnyFunSuite with SharedSpark {
  import Fixtures._

  test("Grouped works in a Pipeline, which saves and loads") {
    val c = scalaCase("grouped_ols")
    val df = groupedFrame(spark, c)
    val pipeline = new Pipeline().setStages(
      Array(
        new VectorAssembler().setInputCols(Array("x0", "x1", "x2")).setOutputCol("raw"),
        new StandardScaler().setInputCol("raw").setOutputCol("features"),
        Grouped(new LinearRegression().setLabelCol("y")).setGroupCols("g")
      )
    )
    val fitted = pipeline.fit(df)
    val out = fitted.transform(df)
    assert(out.where(col("prediction").isNull).count() == 0)
    // Scaling the features does not change a least-squares fit's predictions.
    val reference =
      (c \ "groups").children.flatMap(g => doubles(g \ "expected" \ "predictions")).sorted
    val got = out.select("prediction").collect().map(_.getDouble(0)).sorted
    manyfold.Close("pipeline predictions", got.toSeq, reference, 1e-6, 1.0)

    val dir = Files.createTempDirectory("manyfold-pipeline").resolve("model").toString
    fitted.write.save(dir)
    val loaded = PipelineModel.load(dir)
    assert(loaded.stages.last.isInstanceOf[GroupedModel[_]])
    assert(
      loaded.transform(df).select("prediction").collect().toSeq == out
        .select("prediction")
        .collect()
        .toSeq
    )
    pipeline.write.save(dir + "-unfitted")
    assert(Pipeline.load(dir + "-unfitted").getStages.last.isInstanceOf[Grouped[_]])
  }

  test("RegressionEvaluator on grouped predictions equals the reference RMSE") {
    val c = scalaCase("grouped_ridge")
    val df = groupedFrame(spark, c)
    val out = Grouped(
      new LinearRegression().setRegParam(0.1).setInputCols("x0", "x1", "x2").setLabelCol("y")
    )
      .setGroupCols("g")
      .fit(df)
      .transform(df)
    val rmse = new RegressionEvaluator().setLabelCol("y").setMetricName("rmse").evaluate(out)
    val groups = (c \ "groups").children
    val residuals = groups.flatMap(g =>
      doubles(g \ "y").zip(doubles(g \ "expected" \ "predictions")).map { case (y, p) => y - p }
    )
    val expected = math.sqrt(residuals.map(r => r * r).sum / residuals.length)
    assert(math.abs(rmse - expected) < 1e-6 * expected, s"$rmse vs $expected")
  }

  test("BinaryClassificationEvaluator and MulticlassClassificationEvaluator on grouped output") {
    val c = scalaCase("grouped_logistic_binary")
    val df = groupedFrame(spark, c)
    val model =
      Grouped(new LogisticRegression().setRegParam(0.05).setInputCols("x0", "x1").setLabelCol("y"))
        .setGroupCols("g")
        .fit(df)
    val out = model.transform(df).cache()
    val auc = new BinaryClassificationEvaluator().setLabelCol("y").evaluate(out)
    // The same evaluator on scikit-learn's probabilities.
    val reference = spark
      .createDataFrame((c \ "groups").children.flatMap { g =>
        doubles(g \ "y").zip(matrix(g \ "expected" \ "probabilities").map(_(1)))
      })
      .toDF("y", "p")
    val referenceAuc = new BinaryClassificationEvaluator()
      .setLabelCol("y")
      .setRawPredictionCol("p")
      .evaluate(reference)
    assert(auc > 0.6 && math.abs(auc - referenceAuc) < 1e-3, s"$auc vs $referenceAuc")
    // Accuracy over all rows = the row-weighted training accuracies of the models table.
    val accuracy = new MulticlassClassificationEvaluator()
      .setLabelCol("y")
      .setMetricName("accuracy")
      .evaluate(out)
    val table = model.models.collect()
    val weighted = table.map(r => r.getAs[Double]("accuracy") * r.getAs[Long]("rows")).sum / table
      .map(_.getAs[Long]("rows"))
      .sum
    assert(math.abs(accuracy - weighted) < 1e-12)
    assert(out.select("rawPrediction").head().getAs[Vector](0).size == 2)
    out.unpersist()
  }

  test("Spark's CrossValidator tunes a Grouped estimator's inner params") {
    val c = scalaCase("grouped_ols")
    val df = groupedFrame(spark, c)
    val lr = new LinearRegression().setInputCols("x0", "x1", "x2").setLabelCol("y")
    val grouped = Grouped(lr).setGroupCols("g")
    val grid = new ParamGridBuilder().addGrid(lr.regParam, Array(0.0, 10.0)).build()
    val cv = new CrossValidator()
      .setEstimator(grouped)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new RegressionEvaluator().setLabelCol("y"))
      .setNumFolds(2)
      .setSeed(1)
    val best = cv.fit(df)
    assert(
      best.avgMetrics.length == 2 && best.avgMetrics(0) < best.avgMetrics(1),
      best.avgMetrics.toSeq
    )
    assert(
      best.bestModel
        .asInstanceOf[GroupedModel[_]]
        .estimator
        .asInstanceOf[LinearRegression]
        .getRegParam == 0.0
    )
  }

  test("TrainValidationSplit tunes a single LinearRegression") {
    val df = spark
      .createDataFrame(
        (1 to 60).map(i => (i.toDouble, (i % 5).toDouble, 2.0 * i - 3.0 * (i % 5) + (i % 3) * 0.1))
      )
      .toDF("a", "b", "y")
    val lr = new LinearRegression().setInputCols("a", "b").setLabelCol("y")
    val tvs = new TrainValidationSplit()
      .setEstimator(lr)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(lr.regParam, Array(0.0, 1.0)).build())
      .setEvaluator(new RegressionEvaluator().setLabelCol("y"))
      .setSeed(3)
    val best = tvs.fit(df)
    assert(best.validationMetrics(0) < best.validationMetrics(1))
  }
}
