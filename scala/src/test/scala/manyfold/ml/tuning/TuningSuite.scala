package manyfold.ml.tuning

import java.nio.file.Files

import scala.collection.mutable.ArrayBuffer

import manyfold.SharedSpark
import manyfold.jni.NativeCalls
import manyfold.ml.{Grouped, StatsTraining}
import manyfold.ml.classification.{LogisticRegression, LogisticRegressionModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}
import org.apache.spark.ml.Model
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  Evaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.tuning.ParamGridBuilder
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.col
import org.scalatest.funsuite.AnyFunSuite

/**
 * Native searches against Spark's own pieces: fold metrics against Spark's evaluators on the fold
 * models' predictions, fold models and the best model against fits of the estimator on the same
 * rows, folds that depend only on the seed, the execution contract (tasks, description, one decode
 * per JVM), persistence and per-group search.
 */
class TuningSuite extends AnyFunSuite with SharedSpark {
  import TuningSuite._

  private lazy val binary = TuningData.frame(spark, 600, 4, seed = 1, classification = true)
  private lazy val regression = TuningData.frame(spark, 500, 4, seed = 2, classification = false)

  private def logistic =
    new LogisticRegression().setInputCols(TuningData.inputCols(4)).setLabelCol("y")
  private def linear = new LinearRegression().setInputCols(TuningData.inputCols(4)).setLabelCol("y")

  /** Fold models and metrics of a foldCol search, each checked against Spark on the same rows. */
  private def checkAgainstSpark(
      df: DataFrame,
      search: NativeCrossValidator,
      evaluator: Evaluator,
      checkFits: Boolean = false
  ): NativeCrossValidatorModel = {
    val m = search.setEvaluator(evaluator).setFoldCol("fold").setCollectSubModels(true).fit(df)
    val maps = search.getEstimatorParamMaps
    for (f <- 0 until search.getNumFolds; p <- maps.indices) {
      val validation = df.where(col("fold") === f)
      val sub = m.subModels(f)(p)
      val expected = evaluator.evaluate(sub.transform(validation))
      val actual = m.foldMetrics(p)(f)
      assert(
        math.abs(actual - expected) <= 1e-9 * math.max(1.0, math.abs(expected)),
        s"${describe(evaluator)} fold $f set $p: native $actual, Spark $expected"
      )
      // The fold model is the estimator fitted on the fold's training rows (a search fits rows:
      // the direct fit too, not from sufficient statistics, which round differently).
      if (checkFits) {
        spark.conf.set(StatsTraining.ConfKey, "off")
        val direct =
          try search.getEstimator.fit(df.where(col("fold") =!= f), maps(p))
          finally spark.conf.unset(StatsTraining.ConfKey)
        assert(coefficients(sub) == coefficients(direct.asInstanceOf[Model[_]]), s"fold $f set $p")
      }
    }
    m
  }

  private val binaryMetrics = Seq("areaUnderROC", "areaUnderPR")
  private val multiclassMetrics = Seq(
    "f1",
    "accuracy",
    "weightedPrecision",
    "weightedRecall",
    "weightedTruePositiveRate",
    "weightedFalsePositiveRate",
    "weightedFMeasure",
    "truePositiveRateByLabel",
    "falsePositiveRateByLabel",
    "precisionByLabel",
    "recallByLabel",
    "fMeasureByLabel",
    "hammingLoss",
    "logLoss"
  )
  private val regressionMetrics = Seq("rmse", "mse", "r2", "mae", "var")

  test("classification fold metrics equal Spark's evaluators on the fold models' predictions") {
    val est = logistic
    val gridOf = new ParamGridBuilder().addGrid(est.regParam, Array(0.0, 0.1)).build()
    for (metric <- binaryMetrics) {
      val e = new BinaryClassificationEvaluator().setLabelCol("y").setMetricName(metric)
      checkAgainstSpark(binary, cv(est, gridOf), e, checkFits = metric == "areaUnderROC")
    }
    for (metric <- multiclassMetrics) {
      val e = new MulticlassClassificationEvaluator()
        .setLabelCol("y")
        .setMetricName(metric)
        .setMetricLabel(1.0)
      checkAgainstSpark(binary, cv(est, gridOf), e)
    }
  }

  test("weighted metrics equal Spark's evaluators with the same weight column") {
    val est = logistic.setWeightCol("w")
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.05)).build()
    for (metric <- Seq("areaUnderROC", "accuracy", "logLoss", "f1")) {
      val e: Evaluator =
        if (binaryMetrics.contains(metric)) {
          new BinaryClassificationEvaluator()
            .setLabelCol("y")
            .setWeightCol("w")
            .setMetricName(metric)
        } else {
          new MulticlassClassificationEvaluator()
            .setLabelCol("y")
            .setWeightCol("w")
            .setMetricName(metric)
        }
      checkAgainstSpark(binary, cv(est, grid), e)
    }
    val lin = linear.setWeightCol("w")
    val linGrid = new ParamGridBuilder().addGrid(lin.regParam, Array(0.1)).build()
    for (metric <- regressionMetrics) {
      val e = new RegressionEvaluator().setLabelCol("y").setWeightCol("w").setMetricName(metric)
      checkAgainstSpark(regression, cv(lin, linGrid), e)
    }
  }

  test("regression fold metrics equal Spark's RegressionEvaluator, throughOrigin too") {
    val est = linear
    val grid = new ParamGridBuilder()
      .addGrid(est.regParam, Array(0.0, 0.5))
      .addGrid(est.fitIntercept, Array(true, false))
      .build()
    for (metric <- regressionMetrics; origin <- Seq(false, true)) {
      val e = new RegressionEvaluator()
        .setLabelCol("y")
        .setMetricName(metric)
        .setThroughOrigin(origin)
      checkAgainstSpark(regression, cv(est, grid), e, checkFits = metric == "rmse" && !origin)
    }
  }

  test("avgMetrics, stdMetrics, bestIndex and cvResults agree; the best model is refit on all") {
    val est = linear
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.0, 0.3, 3.0)).build()
    val m = cv(est, grid)
      .setEvaluator(new RegressionEvaluator().setLabelCol("y").setMetricName("rmse"))
      .fit(regression)
    assert(m.avgMetrics.length == 3 && m.stdMetrics.length == 3)
    for (p <- 0 until 3) {
      val folds = m.foldMetrics(p)
      val mean = folds.sum / folds.length
      assert(math.abs(m.avgMetrics(p) - mean) < 1e-12)
      val std = math.sqrt(folds.map(v => (v - mean) * (v - mean)).sum / folds.length)
      assert(math.abs(m.stdMetrics(p) - std) < 1e-12)
    }
    assert(m.bestIndex == m.avgMetrics.indexOf(m.avgMetrics.min)) // rmse: smaller is better
    val table = m.cvResults.orderBy("regParam").collect()
    assert(
      m.cvResults.columns.toSeq == Seq("regParam", "fold0", "fold1", "fold2", "mean", "std") ++
        Seq("rank", "meanFitMillis", "status", "error")
    )
    assert(table.map(_.getAs[Double]("regParam")).toSeq == Seq(0.0, 0.3, 3.0))
    assert(table.map(_.getAs[Double]("mean")).toSeq == m.avgMetrics.toSeq)
    assert(table(m.bestIndex).getAs[Int]("rank") == 1)
    assert(table.map(_.getAs[Int]("rank")).sorted.toSeq == Seq(1, 2, 3))
    assert(
      table.forall(r => r.getAs[String]("status") == "ok" && r.isNullAt(r.fieldIndex("error")))
    )
    val refit = est.copy(grid(m.bestIndex)).fit(regression)
    val best = m.bestModel.asInstanceOf[LinearRegressionModel]
    assert(best.coefficients == refit.coefficients && best.intercept == refit.intercept)
    assert(m.bestParams == grid(m.bestIndex))
    val out = m.transform(regression)
    assert(out.columns.contains("prediction"))
  }

  test("seeded folds depend on the seed only, not on partitioning; stratified by default") {
    val est = logistic
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.01, 0.2)).build()
    val e = new BinaryClassificationEvaluator().setLabelCol("y")
    def run(df: DataFrame, seed: Long) =
      cv(est, grid).setEvaluator(e).setSeed(seed).setCollectSubModels(true).fit(df)
    val a = run(binary, 7)
    val b = run(binary.repartition(5), 7)
    val c = run(binary, 8)
    assert(a.foldMetrics.map(_.toSeq).toSeq == b.foldMetrics.map(_.toSeq).toSeq)
    assert(a.foldMetrics.map(_.toSeq).toSeq != c.foldMetrics.map(_.toSeq).toSeq)
    val folds = a.folds.orderBy("fold").collect()
    assert(folds.length == 3 && folds.map(_.getAs[Long]("validationRows")).sum == 600)
    val sizes = folds.map(_.getAs[Long]("validationRows"))
    assert(sizes.max - sizes.min <= 2, sizes.toSeq) // stratified: per class sizes differ by <= 1
    assert(folds.forall(r => r.getAs[Long]("trainRows") + r.getAs[Long]("validationRows") == 600))
  }

  test("parallelism tasks share one native decode; the job description names the search") {
    val est = logistic
    val grid = new ParamGridBuilder()
      .addGrid(est.regParam, Array(0.0, 0.01, 0.1, 1.0))
      .build()
    val jobs = ArrayBuffer.empty[(String, Int)]
    val listener = new SparkListener {
      override def onJobStart(job: SparkListenerJobStart): Unit = jobs.synchronized {
        val description = Option(job.properties)
          .flatMap(p => Option(p.getProperty("spark.job.description")))
          .getOrElse("")
        jobs += description -> job.stageInfos.map(_.numTasks).sum
      }
    }
    spark.sparkContext.addSparkListener(listener)
    val opened = NativeCalls.openSearchDataCalls
    try {
      cv(est, grid)
        .setEvaluator(new BinaryClassificationEvaluator().setLabelCol("y"))
        .setParallelism(3)
        .fit(binary)
      // The listener bus is asynchronous.
      val deadline = System.currentTimeMillis() + 10000
      while (
        jobs.synchronized(!jobs.exists(_._1.contains("12 fits"))) &&
        System.currentTimeMillis() < deadline
      ) Thread.sleep(20)
    } finally spark.sparkContext.removeSparkListener(listener)
    // local mode: the driver's decode is the executor's.
    assert(NativeCalls.openSearchDataCalls - opened == 1)
    assert(SearchData.open == 0)
    val search = jobs.filter(_._1.contains("manyfold NativeCrossValidator: logistic: 4 parameter"))
    assert(
      search.map(_._1).toSeq == Seq(
        "manyfold NativeCrossValidator: logistic: 4 parameter sets x 3 folds = 12 fits, 3 tasks"
      ),
      jobs
    )
    assert(search.head._2 == 3)
  }

  test("a train/validation split: one split of trainRatio, validationMetrics per set") {
    val est = logistic
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.0, 0.5)).build()
    val m = new NativeTrainValidationSplit()
      .setEstimator(est)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new BinaryClassificationEvaluator().setLabelCol("y"))
      .setTrainRatio(0.8)
      .fit(binary)
    assert(m.getValidationMetrics.length == 2 && m.getValidationMetrics.forall(v => v > 0.5))
    val f = m.folds.collect()
    assert(f.length == 1)
    assert(math.abs(f(0).getAs[Long]("trainRows") - 480L) <= 2)
    assert(m.cvResults.columns.contains("fold0"))
    assert(m.bestModel.isInstanceOf[LogisticRegressionModel])
  }

  test("save and load a search and its model in Spark's layout, fold models included") {
    val est = logistic
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.0, 0.5)).build()
    val search = cv(est, grid)
      .setEvaluator(
        new BinaryClassificationEvaluator().setLabelCol("y").setMetricName("areaUnderPR")
      )
      .setNumFolds(4)
      .setSeed(11)
      .setCollectSubModels(true)
    val dir = Files.createTempDirectory("manyfold-cv").toString
    search.write.overwrite().save(s"$dir/cv")
    val loaded = NativeCrossValidator.load(s"$dir/cv")
    assert(loaded.getNumFolds == 4 && loaded.getSeed == 11 && loaded.getCollectSubModels)
    assert(
      loaded.getEstimatorParamMaps.toSeq.map(_.toSeq.map(p => p.param.name -> p.value)) ==
        grid.toSeq.map(_.toSeq.map(p => p.param.name -> p.value))
    )
    assert(
      loaded.getEvaluator.asInstanceOf[BinaryClassificationEvaluator].getMetricName == "areaUnderPR"
    )
    val m = loaded.fit(binary)
    assert(m.avgMetrics.toSeq == search.fit(binary).avgMetrics.toSeq)
    m.write.overwrite().save(s"$dir/model")
    val back = NativeCrossValidatorModel.load(s"$dir/model")
    assert(back.avgMetrics.toSeq == m.avgMetrics.toSeq && back.bestIndex == m.bestIndex)
    assert(back.cvResults.collect().toSeq == m.cvResults.collect().toSeq)
    assert(back.folds.collect().toSeq == m.folds.collect().toSeq)
    assert(back.hasSubModels && back.subModels.length == 4)
    val predict =
      (x: NativeCrossValidatorModel) => x.transform(binary).select("probability").collect().toSeq
    assert(predict(back) == predict(m))
  }

  test(
    "per-group time-series search: each store's best set equals its own search, refit included"
  ) {
    val stores = TuningData.series(spark, stores = 3, days = 200, seed = 5)
    val est = new LinearRegression()
      .setInputCols(Array("lag1", "lag7", "dow"))
      .setLabelCol("demand")
      .setStandardization(false)
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.0, 0.1, 1.0, 10.0)).build()
    def tscv = new TimeSeriesCrossValidator()
      .setEstimator(est)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new RegressionEvaluator().setLabelCol("demand").setMetricName("rmse"))
      .setTimeCol("day")
      .setNSplits(4)
      .setTestSize(21)
    val gm = Grouped(tscv).setGroupCols("store").fit(stores).as[LinearRegressionModel]
    val table = gm.models.orderBy("store").collect()
    assert(gm.models.columns.toSeq.takeRight(2) == Seq("regParam", "cvMetric"))
    for (r <- table) {
      val store = r.getAs[String]("store")
      val alone = tscv.fit(stores.where(col("store") === store))
      val expectedBest = grid(alone.bestIndex).get(est.regParam).get
      assert(r.getAs[Double]("regParam") == expectedBest, store)
      assert(math.abs(r.getAs[Double]("cvMetric") - alone.avgMetrics(alone.bestIndex)) < 1e-9)
      val best = alone.bestModel.asInstanceOf[LinearRegressionModel]
      // The per-group refit sorts the rows by time first, the plain fit by label: sums differ in
      // the last bits.
      val gap = gm.model(store).coefficients.toArray.zip(best.coefficients.toArray)
      assert(gap.forall { case (a, b) => math.abs(a - b) < 1e-9 }, store)
      val folds = alone.folds.collect()
      assert(
        folds.forall(f => f.getAs[Double]("validationTimeMin") > f.getAs[Double]("trainTimeMax"))
      )
    }
    val predicted = gm.transform(stores).where(col("prediction").isNull).count()
    assert(predicted == 0)
  }
}

object TuningSuite {

  def cv(est: org.apache.spark.ml.Estimator[_], grid: Array[org.apache.spark.ml.param.ParamMap]) =
    new NativeCrossValidator().setEstimator(est).setEstimatorParamMaps(grid)

  def describe(e: Evaluator): String =
    e.extractParamMap().toSeq.map(p => s"${p.param.name}=${p.value}").mkString(" ")

  def coefficients(m: Model[_]): Seq[Double] = m match {
    case l: LogisticRegressionModel => l.coefficients.toArray.toSeq :+ l.intercept
    case l: LinearRegressionModel => l.coefficients.toArray.toSeq :+ l.intercept
    case other => sys.error(s"no coefficients for $other")
  }
}
