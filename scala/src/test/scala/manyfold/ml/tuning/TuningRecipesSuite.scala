package manyfold.ml.tuning

import manyfold.{Fixtures, SharedSpark}
import manyfold.ml.Grouped
import manyfold.ml.classification.{LogisticRegression, SVC}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import org.apache.spark.ml.classification.{LogisticRegression => SparkLogisticRegression}
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.col
import org.json4s.JValue
import org.scalatest.funsuite.AnyFunSuite

/**
 * The recipes manyfold replaces, as tests on data made by tests/reference/make_tuning_fixtures.py:
 * scikit-learn's `GridSearchCV` of an SVC on the same folds, Spark's own `CrossValidator` of a
 * logistic regression on the same folds, and per-store `TimeSeriesSplit` searches of a ridge.
 */
class TuningRecipesSuite extends AnyFunSuite with SharedSpark {
  import Fixtures.formats

  private def csv(name: String): DataFrame =
    spark.read
      .option("header", "true")
      .option("inferSchema", "true")
      .csv(Fixtures.root.resolve(s"tests/fixtures/tuning/$name").toString)

  private def json(name: String): JValue = Fixtures.json(s"tests/fixtures/tuning/$name")

  test("the SVC recipe: 48 parameter sets x 3 given folds against scikit-learn's GridSearchCV") {
    val ref = json("svc_recipe_grid.json")
    val df = csv("svc_recipe.csv")
    val features = (ref \ "features").extract[Array[String]]
    val svc = new SVC()
      .setInputCols(features)
      .setLabelCol("label")
      .setGamma("auto")
      .setProbability(true)
      .setSeed(0L)
    val grid = ParamGrids.build(svc, org.json4s.jackson.JsonMethods.compact(ref \ "grid"))
    assert(grid.length == 48)
    val m = new NativeCrossValidator()
      .setEstimator(svc)
      .setEstimatorParamMaps(grid)
      .setEvaluator(
        new MulticlassClassificationEvaluator().setLabelCol("label").setMetricName("accuracy")
      )
      .setFoldCol("fold")
      .setNumFolds(3)
      .setParallelism(2)
      .fit(df)
    val sets = (ref \ "sets").children
    def key(cost: Double, kernel: String, shrinking: Boolean) = (cost, kernel, shrinking)
    val sklearn = sets.map { s =>
      val p = s \ "params"
      key(
        (p \ "cost").extract[Double],
        (p \ "kernel").extract[String],
        (p \ "shrinking").extract[Boolean]
      ) ->
        (s \ "meanTestScore").extract[Double]
    }.toMap
    val ours = grid.indices.map { i =>
      key(
        grid(i).get(svc.cost).get,
        grid(i).get(svc.kernel).get,
        grid(i).get(svc.shrinking).get
      ) -> m.avgMetrics(i)
    }
    val gaps = ours.map { case (k, v) => k -> math.abs(v - sklearn(k)) }
    assert(gaps.forall(_._2 <= 0.02), gaps.filter(_._2 > 0.02))
    val (bestKey, _) = ours(m.bestIndex)
    val sklearnBest = sklearn.values.max
    assert(
      sklearn(bestKey) >= sklearnBest - 0.005,
      s"manyfold's best $bestKey scores ${sklearn(bestKey)} in scikit-learn, best $sklearnBest"
    )
  }

  test(
    "logistic regression over maxIter and regParam by areaUnderROC, against Spark's CrossValidator"
  ) {
    val df = csv("logistic_binary.csv")
    val features = (0 until 10).map(j => s"f$j").toArray
    val ours = new LogisticRegression().setInputCols(features).setLabelCol("label")
    val grid = new ParamGridBuilder()
      .addGrid(ours.regParam, Array(0.0, 0.01, 0.1, 1.0))
      .addGrid(ours.maxIter, Array(100, 300))
      .build()
    val auc = new BinaryClassificationEvaluator().setLabelCol("label")
    val m = new NativeCrossValidator()
      .setEstimator(ours)
      .setEstimatorParamMaps(grid)
      .setEvaluator(auc)
      .setFoldCol("fold")
      .setParallelism(2)
      .fit(df)
    // maxIter large enough for Spark's L-BFGS to converge at every regParam: below that, where it
    // stops depends on its BLAS (Java or vectorized), while Newton has long converged.
    val theirs = new SparkLogisticRegression().setLabelCol("label").setTol(1e-10)
    val sparkGrid = new ParamGridBuilder()
      .addGrid(theirs.regParam, Array(0.0, 0.01, 0.1, 1.0))
      .addGrid(theirs.maxIter, Array(100, 300))
      .build()
    val assembled =
      new VectorAssembler().setInputCols(features).setOutputCol("features").transform(df)
    val spark = new CrossValidator()
      .setEstimator(theirs)
      .setEstimatorParamMaps(sparkGrid)
      .setEvaluator(auc)
      .setFoldCol("fold")
      .setNumFolds(3)
      .fit(assembled)
    // ParamGridBuilder orders the sets by a hash of the params (their uids): match by values.
    val sparkByValues = sparkGrid.indices.map { i =>
      (sparkGrid(i).get(theirs.regParam).get, sparkGrid(i).get(theirs.maxIter).get) ->
        spark.avgMetrics(i)
    }.toMap
    for (i <- grid.indices) {
      val values = (grid(i).get(ours.regParam).get, grid(i).get(ours.maxIter).get)
      val (a, b) = (m.avgMetrics(i), sparkByValues(values))
      assert(math.abs(a - b) < 1e-4, s"set $values: manyfold $a, Spark $b")
    }
    assert(
      m.avgMetrics(m.bestIndex) >= spark.avgMetrics.max - 1e-4,
      s"${m.avgMetrics.toSeq} vs ${spark.avgMetrics.toSeq}"
    )
  }

  test("per-store time-series search: scikit-learn's folds, per-store best regParam and RMSE") {
    val ref = json("demand_ts_cv.json")
    val df = csv("demand.csv")
    val features = (ref \ "features").extract[Array[String]]
    val split = ref \ "split"
    val est = new LinearRegression()
      .setInputCols(features)
      .setLabelCol("demand")
      .setElasticNetParam(0.0)
      .setStandardization(false)
    val grid = new ParamGridBuilder()
      .addGrid(est.regParam, (ref \ "grid" \ "regParam").extract[Array[Double]])
      .build()
    def search = new TimeSeriesCrossValidator()
      .setEstimator(est)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new RegressionEvaluator().setLabelCol("demand").setMetricName("rmse"))
      .setTimeCol("day")
      .setNSplits((split \ "nSplits").extract[Int])
      .setTestSize((split \ "testSize").extract[Int])
      .setGap((split \ "gap").extract[Int])
    val gm = Grouped(search).setGroupCols("store").fit(df).as[LinearRegressionModel]
    val models = gm.models.collect().map(r => r.getAs[Int]("store") -> r).toMap
    for (store <- (ref \ "stores").children) {
      val id = (store \ "store").extract[Int]
      val row = models(id)
      assert(row.getAs[String]("status") == "ok", row)
      val results = (store \ "results").children
      val bestMean = (store \ "bestMeanRmse").extract[Double]
      // The same best regParam, or one whose scikit-learn RMSE is as good to 1e-6.
      val chosen = row.getAs[Double]("regParam")
      val chosenMean =
        results.find(r => (r \ "regParam").extract[Double] == chosen).get \ "meanRmse"
      assert(math.abs(chosenMean.extract[Double] - bestMean) <= 1e-6 * bestMean, s"store $id")
      assert(math.abs(row.getAs[Double]("cvMetric") - bestMean) <= 1e-6 * bestMean, s"store $id")
      // Folds: scikit-learn's boundaries on the store's distinct days, never validating the past.
      val alone = search.fit(df.where(col("store") === id))
      val folds = alone.folds.orderBy("fold").collect()
      val expected = (store \ "folds").children
      assert(folds.length == expected.length)
      for ((f, e) <- folds.zip(expected)) {
        for (k <- Seq("trainRows", "validationRows")) {
          assert(f.getAs[Long](k) == (e \ k).extract[Long], s"store $id $k")
        }
        for (k <- Seq("trainTimeMin", "trainTimeMax", "validationTimeMin", "validationTimeMax")) {
          assert(f.getAs[Double](k) == (e \ k).extract[Double], s"store $id $k")
        }
        assert(f.getAs[Double]("validationTimeMin") > f.getAs[Double]("trainTimeMax"))
      }
      for ((r, i) <- results.zipWithIndex) {
        val expectedMean = (r \ "meanRmse").extract[Double]
        assert(
          math.abs(alone.avgMetrics(i) - expectedMean) <= 1e-6 * expectedMean,
          s"store $id set $i"
        )
      }
    }
  }
}
