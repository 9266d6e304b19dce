package manyfold.ml

import manyfold.jni.NativeApi
import manyfold.ml.classification.{LogisticRegression, NaiveBayes, SVC}
import manyfold.ml.clustering.KMeans
import manyfold.ml.regression.{GeneralizedLinearRegression, LinearRegression}
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

  test("GeneralizedLinearRegression, NaiveBayes and KMeans defaults") {
    val glm = new GeneralizedLinearRegression()
    assert(glm.getFamily == "gaussian" && glm.getVariancePower == 0.0 && !glm.isDefined(glm.link))
    assert(glm.getMaxIter == 25 && glm.getTol == 1e-6 && glm.getRegParam == 0.0)
    assert(glm.getFitIntercept && !glm.isDefined(glm.weightCol))
    val nb = new NaiveBayes()
    assert(nb.getModelType == "gaussian" && nb.getVarSmoothing == 1e-9)
    assert(!nb.isDefined(nb.weightCol) && nb.getProbabilityCol == "probability")
    val km = new KMeans()
    assert(km.getK == 2 && km.getMaxIter == 20 && km.getTol == 1e-4 && km.getSeed == 0L)
    assert(km.getInitMode == "k-means++" && km.getNInit == 1)
    assert(km.getFeaturesCol == "features" && km.getPredictionCol == "prediction")
  }

  test("Grouped defaults") {
    val g = Grouped(new LinearRegression())
    assert(g.getGroupCols.isEmpty && g.getMaxRowsPerGroup == 1000000L)
    assert(!g.getFailOnGroupError && g.getNumPartitions == 0)
  }

  /** One estimator per native algorithm: a new algorithm fails the walk below until listed. */
  private val estimators: Seq[NativeEstimator[_]] =
    Seq(
      new LinearRegression(),
      new LogisticRegression(),
      new SVC(),
      new GeneralizedLinearRegression(),
      new NaiveBayes(),
      new KMeans()
    )

  test("every native algorithm has an estimator whose defaults equal the native ones") {
    // The listed ones first, so that a missing estimator does not hide a mismatch of the others.
    for (e <- estimators) {
      val native = AlgorithmInfo(e.algorithm).defaultParams.asInstanceOf[JObject].values
      assert(paramsOf(e.paramsJson) == native, e.algorithm)
      assert(paramsOf(NativeApi.get.defaultParams(e.algorithm)) == native, e.algorithm)
    }
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

  test("an unset GLM link crosses as null (the family's default), a set one by name") {
    val glm = new GeneralizedLinearRegression().setFamily("tweedie").setVariancePower(1.5)
    assert(paramsOf(glm.paramsJson)("link") == null)
    assert(paramsOf(glm.setLink("identity").paramsJson)("link") == "identity")
    val km = new KMeans().setK(4).setSeed(-3L).setInitMode("random").setNInit(2)
    assert(
      paramsOf(km.paramsJson) == Map(
        "k" -> 4,
        "maxIter" -> 20,
        "tol" -> 1e-4,
        "seed" -> -3,
        "initMode" -> "random",
        "nInit" -> 2
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

    val glm = new GeneralizedLinearRegression()
    for (v <- Seq("binomial", "Gaussian", "")) rejects(glm)(glm.setFamily(v))
    for (v <- Seq("inverse", "sqrt", "")) rejects(glm)(glm.setLink(v))
    for (v <- Seq(0.5, 0.999, 1e-300, -1.0, Double.NaN, Double.PositiveInfinity))
      rejects(glm)(glm.setVariancePower(v))
    for (v <- Seq(-0.1, Double.NaN, Double.PositiveInfinity)) rejects(glm)(glm.setRegParam(v))
    rejects(glm)(glm.setMaxIter(-1))
    for (v <- Seq(-1e-6, Double.NaN)) rejects(glm)(glm.setTol(v))

    val nb = new NaiveBayes()
    for (v <- Seq("multinomial", "bernoulli", "complement", "Gaussian", "")) {
      val e = intercept[IllegalArgumentException](nb.setModelType(v))
      assert(e.getMessage.contains("supported: gaussian"), e.getMessage)
      rejects(nb)(nb.set(nb.modelType, v))
    }
    for (v <- Seq(-1e-12, Double.NaN, Double.PositiveInfinity)) rejects(nb)(nb.setVarSmoothing(v))

    val km = new KMeans()
    for (v <- Seq(1, 0, -3)) rejects(km)(km.setK(v))
    for (v <- Seq(0, -1)) rejects(km)(km.setNInit(v))
    for (v <- Seq("k-means||", "kmeans++", "")) rejects(km)(km.setInitMode(v))
    for (v <- Seq(-1e-4, Double.NaN, Double.NegativeInfinity)) rejects(km)(km.setTol(v))
    rejects(km)(km.setMaxIter(-1))
    rejects(km)(km.setFeaturesCol(""))
    rejects(km)(km.setPredictionCol(""))

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
    new GeneralizedLinearRegression()
      .setVariancePower(0.0)
      .setVariancePower(1.0)
      .setVariancePower(1e6)
      .setLink("identity")
      .setLink("log")
      .setFamily("tweedie")
    new NaiveBayes().setModelType("gaussian").setVarSmoothing(0.0)
    new KMeans().setK(2).setNInit(1).setInitMode("random").setTol(0.0).setSeed(-7L)
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
      p <- estimators.flatMap(_.params) ++ Grouped(new LinearRegression()).params
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
