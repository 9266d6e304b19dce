package manyfold.ml.tuning

import manyfold.SharedSpark
import manyfold.ml.Grouped
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.clustering.KMeans
import manyfold.ml.regression.{GeneralizedLinearRegression, LinearRegression}
import org.apache.spark.ml.classification.{LogisticRegression => SparkLogisticRegression}
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  ClusteringEvaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.tuning.ParamGridBuilder
import org.apache.spark.sql.functions.{col, lit, when}
import org.scalatest.funsuite.AnyFunSuite

/** Every bad setting and bad input of a search: a clear error before any fit, or a failed row. */
class TuningBadInputSuite extends AnyFunSuite with SharedSpark {

  private lazy val binary = TuningData.frame(spark, 120, 3, seed = 3, classification = true)
  private lazy val regression = TuningData.frame(spark, 120, 3, seed = 4, classification = false)

  private def logistic =
    new LogisticRegression().setInputCols(TuningData.inputCols(3)).setLabelCol("y")
  private def linear = new LinearRegression().setInputCols(TuningData.inputCols(3)).setLabelCol("y")
  private def auc = new BinaryClassificationEvaluator().setLabelCol("y")
  private def rmse = new RegressionEvaluator().setLabelCol("y")

  private def cvOf(est: org.apache.spark.ml.Estimator[_], grid: Array[ParamMap]) =
    new NativeCrossValidator().setEstimator(est).setEstimatorParamMaps(grid)

  private def failsWith[E <: Throwable](fragments: String*)(f: => Any)(implicit
      m: Manifest[E]
  ): E = {
    val e = intercept[E](f)
    fragments.foreach(s => assert(e.getMessage.contains(s), e.getMessage))
    e
  }

  test("an empty grid, a missing estimator or evaluator") {
    failsWith[IllegalArgumentException]("empty estimatorParamMaps") {
      cvOf(logistic, Array.empty).setEvaluator(auc).fit(binary)
    }
    failsWith[IllegalArgumentException]("needs an evaluator") {
      cvOf(logistic, Array(ParamMap.empty)).fit(binary)
    }
    failsWith[IllegalArgumentException]("needs an estimator") {
      new NativeCrossValidator()
        .setEstimatorParamMaps(Array(ParamMap.empty))
        .setEvaluator(auc)
        .fit(binary)
    }
  }

  test("a grid naming a param the estimator lacks, or a column param") {
    val other = new LinearRegression()
    val grid = new ParamGridBuilder().addGrid(other.regParam, Array(0.1)).build()
    failsWith[IllegalArgumentException](
      "parameter set 0",
      "'regParam'",
      "not a param of the estimator"
    ) {
      cvOf(logistic, grid).setEvaluator(auc).fit(binary)
    }
    val est = logistic
    val byColumn = new ParamGridBuilder().addGrid(est.labelCol, Array("y", "w")).build()
    failsWith[IllegalArgumentException]("cannot vary a column param") {
      cvOf(est, byColumn).setEvaluator(auc).fit(binary)
    }
    failsWith[IllegalArgumentException]("'nope'") {
      ParamGrids.build(est, """{"nope": [1]}""")
    }
  }

  test("non-manyfold estimators, clustering, foreign evaluators, metrics of another task") {
    val spark = new SparkLogisticRegression()
    failsWith[IllegalArgumentException]("use Spark's CrossValidator") {
      cvOf(spark, Array(ParamMap.empty)).setEvaluator(auc).fit(binary)
    }
    failsWith[IllegalArgumentException]("clustering") {
      cvOf(new KMeans().setInputCols(TuningData.inputCols(3)), Array(ParamMap.empty))
        .setEvaluator(auc)
        .fit(binary)
    }
    failsWith[IllegalArgumentException]("ClusteringEvaluator") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(new ClusteringEvaluator()).fit(binary)
    }
    failsWith[IllegalArgumentException]("r2 is a RegressionEvaluator metric", "classification") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(rmse.setMetricName("r2")).fit(binary)
    }
    failsWith[IllegalArgumentException]("f1 is a MulticlassClassificationEvaluator", "regression") {
      cvOf(linear, Array(ParamMap.empty))
        .setEvaluator(new MulticlassClassificationEvaluator().setLabelCol("y"))
        .fit(regression)
    }
    failsWith[IllegalArgumentException]("labelCol 'label'", "'y'") {
      cvOf(logistic, Array(ParamMap.empty))
        .setEvaluator(new BinaryClassificationEvaluator())
        .fit(binary)
    }
    failsWith[IllegalArgumentException]("weights by 'w'", "not set") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc.setWeightCol("w")).fit(binary)
    }
  }

  test("more folds than rows, or than a class's rows when stratified") {
    val tiny = binary.limit(4)
    failsWith[IllegalArgumentException]("5", "4 rows") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).setNumFolds(5).fit(tiny)
    }
    // One row of class 1 among 40: stratified folds need 3.
    val rare = binary
      .limit(40)
      .withColumn("y", when(col("x0") === binary.limit(40).head.getDouble(0), 1.0).otherwise(0.0))
    failsWith[IllegalArgumentException]("class 1", "1 row") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).fit(rare)
    }
  }

  test("a fold column out of range, of a non-integer type, or with a null") {
    val outOfRange = binary.withColumn("fold", when(col("fold") === 2, 7).otherwise(col("fold")))
    failsWith[IllegalArgumentException]("fold", "7") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).setFoldCol("fold").fit(outOfRange)
    }
    failsWith[IllegalArgumentException]("'fold'", "integers") {
      cvOf(logistic, Array(ParamMap.empty))
        .setEvaluator(auc)
        .setFoldCol("fold")
        .fit(binary.withColumn("fold", col("fold").cast("string")))
    }
    failsWith[IllegalArgumentException]("'nofold'") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).setFoldCol("nofold").fit(binary)
    }
    val withNull =
      binary.withColumn("fold", when(col("x0") > 1.5, lit(null)).otherwise(col("fold")))
    failsWith[RuntimeException]("'fold'", "null") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).setFoldCol("fold").fit(withNull)
    }
  }

  test("too few distinct times for the splits; a time column of the wrong type") {
    val days = TuningData.series(spark, 1, 30, seed = 1)
    val est = new LinearRegression().setInputCols(Array("lag1", "lag7")).setLabelCol("demand")
    def ts = new TimeSeriesCrossValidator()
      .setEstimator(est)
      .setEstimatorParamMaps(Array(ParamMap.empty))
      .setEvaluator(new RegressionEvaluator().setLabelCol("demand"))
      .setTimeCol("day")
    failsWith[IllegalArgumentException]("30") {
      ts.setNSplits(5).setTestSize(7).fit(days)
    }
    failsWith[IllegalArgumentException]("'store'", "numeric, a date or a timestamp") {
      ts.setTimeCol("store").fit(days)
    }
    failsWith[IllegalArgumentException]("setTimeCol") {
      new TimeSeriesCrossValidator()
        .setEstimator(est)
        .setEstimatorParamMaps(Array(ParamMap.empty))
        .setEvaluator(new RegressionEvaluator().setLabelCol("demand"))
        .fit(days)
    }
  }

  test("nulls and NaN in the data name the column; an empty DataFrame fails") {
    val nan = binary.withColumn("x1", when(col("x0") > 1.0, Double.NaN).otherwise(col("x1")))
    failsWith[RuntimeException]("'x1'", "NaN") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).fit(nan)
    }
    failsWith[IllegalArgumentException]("empty") {
      cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).fit(binary.limit(0))
    }
  }

  test("a failing parameter set is recorded in cvResults and the search goes on; all failing") {
    // Poisson needs labels >= 0: the labels here reach below 0.
    val shifted = regression.withColumn("y", col("y") - 2.5)
    val glm =
      new GeneralizedLinearRegression().setInputCols(TuningData.inputCols(3)).setLabelCol("y")
    val grid = new ParamGridBuilder().addGrid(glm.family, Array("gaussian", "poisson")).build()
    val m = cvOf(glm, grid).setEvaluator(rmse).fit(shifted)
    val rows = m.cvResults.collect().map(r => r.getAs[String]("family") -> r).toMap
    assert(rows("gaussian").getAs[String]("status") == "ok")
    assert(rows("gaussian").getAs[Int]("rank") == 1)
    val failed = rows("poisson")
    assert(failed.getAs[String]("status") == "failed" && failed.isNullAt(failed.fieldIndex("rank")))
    assert(failed.getAs[String]("error").contains("fold"), failed.getAs[String]("error"))
    assert(m.avgMetrics(grid.indexWhere(_.get(glm.family).contains("poisson"))).isNaN)
    val onlyPoisson = new ParamGridBuilder().addGrid(glm.family, Array("poisson")).build()
    failsWith[IllegalStateException]("every parameter set failed") {
      cvOf(glm, onlyPoisson).setEvaluator(rmse).fit(shifted)
    }
  }

  test("a per-group search whose every set fails in one group gives that group a failed row") {
    val glm =
      new GeneralizedLinearRegression().setInputCols(TuningData.inputCols(3)).setLabelCol("y")
    val grid = new ParamGridBuilder().addGrid(glm.family, Array("poisson", "gamma")).build()
    // Group "bad" has labels <= 0 (every family fails); group "good" has positive labels.
    val df = regression
      .withColumn("g", when(col("fold") === 0, "bad").otherwise("good"))
      .withColumn("y", when(col("fold") === 0, lit(-1.0) - col("w")).otherwise(col("w") + 1.0))
    val search = cvOf(glm, grid).setEvaluator(rmse)
    val gm = Grouped(search).setGroupCols("g").fit(df)
    val rows = gm.models.collect().map(r => r.getAs[String]("g") -> r).toMap
    assert(rows("good").getAs[String]("status") == "ok")
    assert(Seq("poisson", "gamma").contains(rows("good").getAs[String]("family")))
    assert(!rows("good").isNullAt(rows("good").fieldIndex("cvMetric")))
    val bad = rows("bad")
    assert(bad.getAs[String]("status") == "failed" && bad.isNullAt(bad.fieldIndex("family")))
    assert(
      bad.getAs[String]("error").contains("every parameter set failed"),
      bad.getAs[String]("error")
    )
  }

  test("a search whose data cannot fit one executor fails before any fit, saying how much") {
    spark.conf.set(SearchRunner.MaxDataBytesKey, "1000")
    try {
      failsWith[IllegalArgumentException]("needs about", "120 rows", SearchRunner.MaxDataBytesKey) {
        cvOf(logistic, Array(ParamMap.empty)).setEvaluator(auc).fit(binary)
      }
    } finally spark.conf.unset(SearchRunner.MaxDataBytesKey)
  }
}
