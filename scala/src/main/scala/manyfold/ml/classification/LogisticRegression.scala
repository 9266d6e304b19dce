package manyfold.ml.classification

import manyfold.ml.{
  NativeClassificationModel,
  NativeClassifierParams,
  NativeEstimator,
  NativeModelReader
}
import manyfold.ml.param._
import org.apache.spark.SparkException
import org.apache.spark.ml.classification.ProbabilisticClassifier
import org.apache.spark.ml.linalg.{DenseMatrix, DenseVector, Matrix, Vector, Vectors}
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[LogisticRegression]] and [[LogisticRegressionModel]]: Spark's objective, the weighted
 * mean log loss plus `regParam * (alpha * ||W||_1 + (1 - alpha) / 2 * ||W||_2^2)` on the
 * standardized scale when `standardization` is on (`alpha = elasticNetParam`); the intercepts are
 * never penalized. Without an L1 part the fit is Newton's method, with one proximal Newton.
 *
 * Labels may be any numeric values: the classes are the sorted distinct labels of the training
 * data, and the prediction is one of those label values.
 */
trait LogisticRegressionParams
    extends NativeClassifierParams
    with HasRegParam
    with HasElasticNetParam
    with HasWeightCol
    with HasMaxIter
    with HasTol
    with HasFitIntercept
    with HasStandardization {

  /** Param for the family: "auto", "binomial" or "multinomial". Default "auto". */
  final val family: Param[String] = new Param[String](
    this,
    "family",
    "label distribution: auto (binomial for two classes, else multinomial), binomial or " +
      "multinomial. Default: auto",
    ParamValidators.inArray(Array("auto", "binomial", "multinomial"))
  )

  setDefault(maxIter -> 100, tol -> 1e-6, family -> "auto")

  final def getFamily: String = $(family)
  final def setFamily(value: String): this.type = set(family, value)

  private[manyfold] def paramsJson: String = compact(
    render(
      ("regParam" -> $(regParam)) ~ ("elasticNetParam" -> $(elasticNetParam)) ~
        ("maxIter" -> $(maxIter)) ~ ("tol" -> $(tol)) ~
        ("fitIntercept" -> $(fitIntercept)) ~ ("standardization" -> $(standardization)) ~
        ("family" -> $(family))
    )
  )
}

/**
 * Logistic regression, binomial or multinomial, with an optional elastic net penalty and sample
 * weights, trained natively: a Spark `ProbabilisticClassifier`. Fit it on a whole DataFrame (one
 * model, in one task; see [[NativeEstimator]]) or wrap it in [[manyfold.ml.Grouped]] for one model
 * per group.
 */
class LogisticRegression(override val uid: String)
    extends ProbabilisticClassifier[Vector, LogisticRegression, LogisticRegressionModel]
    with NativeEstimator[LogisticRegressionModel]
    with LogisticRegressionParams {

  def this() = this(Identifiable.randomUID("logreg"))

  private[manyfold] override def algorithm: String = "logistic"

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
 * most probable class (with `thresholds`, of the largest `p / t`). For a binomial model the raw
 * prediction is `[-m, m]` and the probability `[1 - p, p]` for the second class, as in Spark.
 */
class LogisticRegressionModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends NativeClassificationModel[LogisticRegressionModel]
    with LogisticRegressionParams {

  private[manyfold] override def expectedAlgorithm: String = "logistic"

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
  def coefficients: Vector = {
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
  def intercept: Double = {
    if (isMultinomial) {
      throw new SparkException(
        "Multinomial models contain a vector of intercepts, use interceptVector instead."
      )
    }
    interceptVector(0)
  }

  /** Margins to probabilities as Spark's LogisticRegressionModel: softmax, sigmoid (binomial). */
  override protected def raw2probabilityInPlace(rawPrediction: Vector): Vector =
    rawPrediction match {
      case _ if isMultinomial => ClassScores.softmaxInPlace(rawPrediction)
      case dv: DenseVector =>
        dv.values.indices.foreach(i => dv.values(i) = 1.0 / (1.0 + math.exp(-dv.values(i))))
        dv
      case other =>
        throw new IllegalArgumentException(s"rawPrediction must be a dense vector, got $other")
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
