package manyfold.ml

import manyfold.jni.NativeApi
import manyfold.ml.classification.{LogisticRegression, SVC}
import manyfold.ml.regression.LinearRegression
import org.apache.spark.ml.param.{ParamMap, Params}
import org.json4s.{DefaultFormats, Formats, JObject}
import org.json4s.jackson.JsonMethods.parse
import org.scalatest.funsuite.AnyFunSuite

class ParamsSuite extends AnyFunSuite {
  implicit val formats: Formats = DefaultFormats

  private def paramsOf(json: String): Map[String, Any] = parse(json).asInstanceOf[JObject].values

  test("LinearRegression defaults") {
    val lr = new LinearRegression()
    assert(lr.getRegParam == 0.0 && lr.getFitIntercept && lr.getStandardization)
    assert(lr.getFeaturesCol == "features" && lr.getInputCols.isEmpty)
    assert(lr.getLabelCol == "label" && lr.getPredictionCol == "prediction")
  }

  test("LogisticRegression defaults") {
    val lr = new LogisticRegression()
    assert(lr.getRegParam == 0.0 && lr.getMaxIter == 100 && lr.getTol == 1e-6)
    assert(lr.getFitIntercept && lr.getStandardization && lr.getFamily == "auto")
    assert(lr.getProbabilityCol == "probability" && lr.getRawPredictionCol == "rawPrediction")
    assert(lr.getElasticNetParam == 0.0 && !lr.isDefined(lr.weightCol))
  }

  test("SVC defaults") {
    val svc = new SVC()
    assert(svc.getCost == 1.0 && svc.getKernel == "rbf" && svc.getGamma == "scale")
    assert(svc.getDegree == 3 && svc.getCoef0 == 0.0 && svc.getShrinking)
    assert(svc.getTol == 1e-3 && svc.getMaxIter == 0 && !svc.getProbability && svc.getSeed == 0L)
    assert(!svc.isDefined(svc.weightCol) && svc.getRawPredictionCol == "rawPrediction")
  }

  test("Grouped defaults") {
    val g = Grouped(new LinearRegression())
    assert(g.getGroupCols.isEmpty && g.getMaxRowsPerGroup == 1000000L)
    assert(!g.getFailOnGroupError && g.getNumPartitions == 0)
  }

  /** One estimator per native algorithm: a new algorithm fails the walk below until listed. */
  private val estimators: Seq[NativeEstimator[_]] =
    Seq(new LinearRegression(), new LogisticRegression(), new SVC())

  test("every native algorithm has an estimator whose defaults equal the native ones") {
    for (e <- estimators) {
      val native = AlgorithmInfo(e.algorithm).defaultParams.asInstanceOf[JObject].values
      assert(paramsOf(e.paramsJson) == native, e.algorithm)
      assert(paramsOf(NativeApi.get.defaultParams(e.algorithm)) == native, e.algorithm)
    }
    // Last, so that the listed estimators are checked while an algorithm still lacks one.
    assert(AlgorithmInfo.all.keySet == estimators.map(_.algorithm).toSet)
  }

  test("the params JSON carries set values under Spark's names, and native accepts it") {
    val lr = new LogisticRegression()
      .setRegParam(0.5)
      .setMaxIter(7)
      .setTol(1e-3)
      .setFitIntercept(false)
      .setStandardization(false)
      .setFamily("multinomial")
      .setElasticNetParam(0.25)
    assert(
      paramsOf(lr.paramsJson) == Map(
        "regParam" -> 0.5,
        "elasticNetParam" -> 0.25,
        "maxIter" -> 7,
        "tol" -> 1e-3,
        "fitIntercept" -> false,
        "standardization" -> false,
        "family" -> "multinomial"
      )
    )
    val svc = new SVC()
      .setCost(0.5)
      .setKernel("poly")
      .setGamma("0.25")
      .setDegree(2)
      .setCoef0(-1.0)
      .setShrinking(false)
      .setTol(1e-4)
      .setMaxIter(50)
      .setProbability(true)
      .setSeed(-1L)
    assert(
      paramsOf(svc.paramsJson) == Map(
        "cost" -> 0.5,
        "kernel" -> "poly",
        "gamma" -> "0.25",
        "degree" -> BigInt(2),
        "coef0" -> -1.0,
        "shrinking" -> false,
        "tol" -> 1e-4,
        "maxIter" -> BigInt(50),
        "probability" -> true,
        "seed" -> BigInt("18446744073709551615")
      )
    )
    val lin = new LinearRegression().setRegParam(0.25).setFitIntercept(false).setElasticNetParam(1)
    assert(
      paramsOf(lin.paramsJson) == Map(
        "regParam" -> 0.25,
        "elasticNetParam" -> 1.0,
        "maxIter" -> 100,
        "tol" -> 1e-6,
        "fitIntercept" -> false,
        "standardization" -> true
      )
    )
  }

  private def rejects(p: Params)(set: => Any): Unit = {
    val e = intercept[IllegalArgumentException](set)
    assert(e.getMessage.contains(p.uid) || e.getMessage.contains("parameter"), e.getMessage)
  }

  test("illegal values are refused by the validators") {
    val lin = new LinearRegression()
    for (v <- Seq(-1.0, -1e-9, Double.NaN, Double.PositiveInfinity))
      rejects(lin)(lin.setRegParam(v))
    for (v <- Seq(-0.1, 1.1, Double.NaN, Double.PositiveInfinity))
      rejects(lin)(lin.setElasticNetParam(v))
    rejects(lin)(lin.setInputCols(Array("a", "a")))
    rejects(lin)(lin.setInputCols(Array("a", "")))

    val log = new LogisticRegression()
    for (v <- Seq(-0.1, Double.NaN, Double.NegativeInfinity)) rejects(log)(log.setRegParam(v))
    for (v <- Seq(-1, -100)) rejects(log)(log.setMaxIter(v))
    for (v <- Seq(-1e-6, Double.NaN, Double.PositiveInfinity)) rejects(log)(log.setTol(v))
    for (v <- Seq("poisson", "Binomial", "")) rejects(log)(log.setFamily(v))

    val svc = new SVC()
    for (v <- Seq(0.0, -1.0, Double.NaN, Double.PositiveInfinity)) rejects(svc)(svc.setCost(v))
    for (v <- Seq("RBF", "gaussian", "")) rejects(svc)(svc.setKernel(v))
    for (v <- Seq("0", "-1", "abc", "", "NaN", "Infinity", "1d", "0x1p3", "Scale"))
      rejects(svc)(svc.setGamma(v))
    for (v <- Seq(0.0, -0.5)) rejects(svc)(svc.setGamma(v))
    for (v <- Seq(0, -3)) rejects(svc)(svc.setDegree(v))
    for (v <- Seq(Double.NaN, Double.NegativeInfinity)) rejects(svc)(svc.setCoef0(v))
    rejects(svc)(svc.setMaxIter(-1))
    rejects(svc)(svc.setTol(Double.NaN))

    val g = Grouped(lin)
    for (v <- Seq(0L, -5L)) rejects(g)(g.setMaxRowsPerGroup(v))
    rejects(g)(g.setNumPartitions(-1))
    rejects(g)(g.setGroupCols("a", "a"))
    rejects(g)(g.setGroupCols("a", ""))
  }

  test("boundary values are accepted") {
    new LinearRegression().setRegParam(0.0).setRegParam(1e300)
    new LogisticRegression()
      .setMaxIter(0)
      .setTol(0.0)
      .setFamily("binomial")
      .setFamily("multinomial")
    Grouped(new LinearRegression()).setMaxRowsPerGroup(1L).setNumPartitions(0)
    val svc = new SVC().setCost(1e-9).setDegree(1).setCoef0(-3.0).setMaxIter(0).setSeed(-1L)
    for (v <- Seq("scale", "auto", "0.02", " 1e-3 ", "+2", ".5", "3.")) svc.setGamma(v)
    SVC.supportedKernels.foreach(svc.setKernel)
  }

  /** Params the stages inherit from Spark's predictor classes, documented by Spark. */
  private val sparksOwn =
    Set(
      "featuresCol",
      "labelCol",
      "predictionCol",
      "rawPredictionCol",
      "probabilityCol",
      "thresholds"
    )

  test("every param manyfold declares documents its default") {
    for (
      p <- new LogisticRegression().params ++ new LinearRegression().params ++
        new SVC().params ++ Grouped(new LinearRegression()).params
      if !sparksOwn.contains(p.name)
    ) {
      assert(p.doc.contains("Default") || p.doc.contains("default"), s"${p.name}: ${p.doc}")
    }
  }

  test("copy keeps set values and applies extra ones") {
    val lr = new LogisticRegression().setMaxIter(5).setInputCols("a", "b")
    val copy = lr.copy(ParamMap(lr.regParam -> 0.3))
    assert(copy.uid == lr.uid && copy.getMaxIter == 5 && copy.getRegParam == 0.3)
    assert(copy.getInputCols.toSeq == Seq("a", "b") && lr.getRegParam == 0.0)

    // A Grouped copy hands extra params of its estimator down (as Spark's tuning does).
    val lin = new LinearRegression()
    val g = Grouped(lin).setGroupCols("k").setMaxRowsPerGroup(10)
    val gc = g.copy(ParamMap(lin.regParam -> 0.7, g.failOnGroupError -> true))
    assert(
      gc.getGroupCols.toSeq == Seq("k") && gc.getMaxRowsPerGroup == 10 && gc.getFailOnGroupError
    )
    assert(gc.estimator.asInstanceOf[LinearRegression].getRegParam == 0.7 && lin.getRegParam == 0.0)
  }
}
