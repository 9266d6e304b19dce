package manyfold.ml.classification

import manyfold.ml.{NativeEstimator, NativeModel, NativeModelReader, NativeParams, OutputKind}
import org.apache.spark.SparkException
import org.apache.spark.ml.linalg.{DenseMatrix, Matrix, Vector, Vectors}
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[LogisticRegression]] and [[LogisticRegressionModel]]. The objective is the mean log
 * loss plus `regParam/2 * ||W||^2` on the standardized scale when `standardization` is on; the
 * intercepts are never penalized. (Spark's `elasticNetParam` is not supported: L2 only.)
 *
 * Labels may be any numeric values: the classes are the sorted distinct labels of the training
 * data, and the prediction is one of those label values.
 */
trait LogisticRegressionParams extends NativeParams {

  /** Param for the L2 penalty; finite, >= 0. Default 0.0. */
  final val regParam: DoubleParam = new DoubleParam(
    this,
    "regParam",
    "L2 regularization parameter. Finite, >= 0. Default: 0.0",
    (v: Double) => v >= 0.0 && !v.isInfinite
  )

  /** Param for the maximum number of optimizer iterations; >= 1. Default 100. */
  final val maxIter: IntParam = new IntParam(
    this,
    "maxIter",
    "maximum number of iterations. >= 1. Default: 100",
    ParamValidators.gtEq(1)
  )

  /** Param for the convergence tolerance; finite, >= 0. Default 1e-6. */
  final val tol: DoubleParam = new DoubleParam(
    this,
    "tol",
    "convergence tolerance of the optimizer. Finite, >= 0. Default: 1e-6",
    (v: Double) => v >= 0.0 && !v.isInfinite
  )

  /** Param for whether to fit intercepts. Default true. */
  final val fitIntercept: BooleanParam =
    new BooleanParam(this, "fitIntercept", "whether to fit intercept terms. Default: true")

  /** Param for whether to fit on standardized features. Default true. */
  final val standardization: BooleanParam = new BooleanParam(
    this,
    "standardization",
    "whether to standardize the features before fitting (coefficients are reported on the " +
      "original scale). Default: true"
  )

  /** Param for the family: "auto", "binomial" or "multinomial". Default "auto". */
  final val family: Param[String] = new Param[String](
    this,
    "family",
    "label distribution: auto (binomial for two classes, else multinomial), binomial or " +
      "multinomial. Default: auto",
    ParamValidators.inArray(Array("auto", "binomial", "multinomial"))
  )

  /** Param for the class probabilities column (a Vector); empty to omit. Default "probability". */
  final val probabilityCol: Param[String] = new Param[String](
    this,
    "probabilityCol",
    "column of class probabilities (a Vector, in the order of the model's classes); empty to " +
      "omit. Default: probability"
  )

  /**
   * Param for the raw prediction (margins) column (a Vector); empty to omit. Default
   * "rawPrediction".
   */
  final val rawPredictionCol: Param[String] = new Param[String](
    this,
    "rawPredictionCol",
    "column of raw predictions (margins per class, a Vector); empty to omit. " +
      "Default: rawPrediction"
  )

  setDefault(
    regParam -> 0.0,
    maxIter -> 100,
    tol -> 1e-6,
    fitIntercept -> true,
    standardization -> true,
    family -> "auto",
    probabilityCol -> "probability",
    rawPredictionCol -> "rawPrediction"
  )

  final def getRegParam: Double = $(regParam)
  final def getMaxIter: Int = $(maxIter)
  final def getTol: Double = $(tol)
  final def getFitIntercept: Boolean = $(fitIntercept)
  final def getStandardization: Boolean = $(standardization)
  final def getFamily: String = $(family)
  final def getProbabilityCol: String = $(probabilityCol)
  final def getRawPredictionCol: String = $(rawPredictionCol)

  final def setProbabilityCol(value: String): this.type = set(probabilityCol, value)
  final def setRawPredictionCol(value: String): this.type = set(rawPredictionCol, value)

  private[manyfold] override def outputColumns: Seq[(String, OutputKind)] =
    Seq(
      $(rawPredictionCol) -> OutputKind.RawPrediction,
      $(probabilityCol) -> OutputKind.Probability
    ).filter(_._1.nonEmpty) ++ super.outputColumns
}

/**
 * Logistic regression, binomial or multinomial, with an optional L2 penalty, trained natively. Fit
 * it on a whole DataFrame (one model, in one task; see [[NativeEstimator]]) or wrap it in
 * [[manyfold.ml.Grouped]] for one model per group.
 */
class LogisticRegression(override val uid: String)
    extends NativeEstimator[LogisticRegressionModel]
    with LogisticRegressionParams {

  def this() = this(Identifiable.randomUID("logreg"))

  def setRegParam(value: Double): this.type = set(regParam, value)
  def setMaxIter(value: Int): this.type = set(maxIter, value)
  def setTol(value: Double): this.type = set(tol, value)
  def setFitIntercept(value: Boolean): this.type = set(fitIntercept, value)
  def setStandardization(value: Boolean): this.type = set(standardization, value)
  def setFamily(value: String): this.type = set(family, value)

  private[manyfold] override def algorithm: String = "logistic"

  private[manyfold] override def paramsJson: String = compact(
    render(
      ("regParam" -> $(regParam)) ~ ("maxIter" -> $(maxIter)) ~ ("tol" -> $(tol)) ~
        ("fitIntercept" -> $(fitIntercept)) ~ ("standardization" -> $(standardization)) ~
        ("family" -> $(family))
    )
  )

  override protected def newModel(uid: String, modelBytes: Array[Byte]): LogisticRegressionModel =
    new LogisticRegressionModel(uid, modelBytes)

  override def copy(extra: ParamMap): LogisticRegression = defaultCopy(extra)
}

object LogisticRegression extends DefaultParamsReadable[LogisticRegression] {
  override def load(path: String): LogisticRegression = super.load(path)
}

/**
 * A fitted logistic regression. `rawPrediction` holds the margins per class and `probability` the
 * class probabilities, both in the order of [[classes]]; `prediction` is the label value of the
 * most probable class. For a binomial model the raw prediction is `[-m, m]` and the probability `[1
 * \- p, p]` for the second class, as in Spark.
 */
class LogisticRegressionModel private[manyfold] (
    override val uid: String,
    modelBytes: Array[Byte]
) extends NativeModel[LogisticRegressionModel](modelBytes)
    with LogisticRegressionParams {

  private[manyfold] override def expectedAlgorithm: String = "logistic"

  /** The class labels, sorted: the distinct label values seen in training. */
  def classes: Array[Double] = (description \ "classes").extract[Array[Double]]

  def numClasses: Int = classes.length

  /** One row of coefficients per class (a single row for a binomial model). */
  def coefficientMatrix: Matrix = {
    val rows = (description \ "coefficientMatrix").extract[Array[Array[Double]]]
    new DenseMatrix(rows.length, numFeatures, rows.flatten, true)
  }

  /** One intercept per row of [[coefficientMatrix]]. */
  def interceptVector: Vector =
    Vectors.dense((description \ "interceptVector").extract[Array[Double]])

  /**
   * Whether the optimizer met `tol`: false when it stopped at `maxIter` or could decrease the
   * objective no further first (separable classes with `regParam = 0`, where the coefficients grow
   * without bound), as scikit-learn's ConvergenceWarning. The models table of
   * [[manyfold.ml.Grouped]] has it per group in `converged`.
   */
  def converged: Boolean = (description \ "converged").extract[Boolean]

  /** The optimizer iterations used. */
  def numIterations: Int = (description \ "iterations").extract[Int]

  /** Whether the model has one row of coefficients per class (else one row in all). */
  def isMultinomial: Boolean = coefficientMatrix.numRows > 1

  /**
   * The coefficients of a binomial model.
   *
   * @throws SparkException
   *   for a multinomial model, which has a matrix of coefficients
   */
  override def coefficients: Vector = {
    if (isMultinomial) {
      throw new SparkException(
        "Multinomial models contain a matrix of coefficients, use coefficientMatrix instead."
      )
    }
    Vectors.dense((description \ "coefficientMatrix")(0).extract[Array[Double]])
  }

  /**
   * The intercept of a binomial model.
   *
   * @throws SparkException
   *   for a multinomial model, which has a vector of intercepts
   */
  override def intercept: Double = {
    if (isMultinomial) {
      throw new SparkException(
        "Multinomial models contain a vector of intercepts, use interceptVector instead."
      )
    }
    interceptVector(0)
  }

  override def copy(extra: ParamMap): LogisticRegressionModel =
    copyValues(new LogisticRegressionModel(uid, bytes), extra).setParent(parent)
}

object LogisticRegressionModel extends MLReadable[LogisticRegressionModel] {

  override def read: MLReader[LogisticRegressionModel] =
    new NativeModelReader(classOf[LogisticRegressionModel], new LogisticRegressionModel(_, _))

  override def load(path: String): LogisticRegressionModel = super.load(path)

  /**
   * A model of bytes taken from [[LogisticRegressionModel.modelBytes]] or a
   * [[manyfold.ml.GroupedModel]]'s `models` table, with default column params.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid logistic model
   */
  def fromBytes(modelBytes: Array[Byte]): LogisticRegressionModel = {
    val model = new LogisticRegressionModel(Identifiable.randomUID("logreg"), modelBytes.clone())
    model.validate("the model bytes")
    model
  }
}
