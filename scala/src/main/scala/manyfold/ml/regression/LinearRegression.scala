package manyfold.ml.regression

import manyfold.ml.{NativeEstimator, NativeModel, NativeModelReader, NativeParams}
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.ml.param.{BooleanParam, DoubleParam, ParamMap}
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[LinearRegression]] and [[LinearRegressionModel]]. The objective is `1/(2n) ||y - Xw -
 * b||^2 + regParam/2 * sum_j (s_j w_j)^2`, with `s_j` the sample standard deviation of feature j
 * when `standardization` is on (else 1): Spark's `LinearRegression` with `elasticNetParam = 0`.
 * Coefficients are always reported on the original scale.
 */
trait LinearRegressionParams extends NativeParams {

  /** Param for the L2 penalty; finite, >= 0. Default 0.0 (ordinary least squares). */
  final val regParam: DoubleParam = new DoubleParam(
    this,
    "regParam",
    "L2 regularization parameter. Finite, >= 0. Default: 0.0 (ordinary least squares)",
    (v: Double) => v >= 0.0 && !v.isInfinite
  )

  /** Param for whether to fit an intercept. Default true. */
  final val fitIntercept: BooleanParam =
    new BooleanParam(this, "fitIntercept", "whether to fit an intercept term. Default: true")

  /** Param for whether to penalize on the standardized scale. Default true. */
  final val standardization: BooleanParam = new BooleanParam(
    this,
    "standardization",
    "whether to standardize the features before fitting (coefficients are reported on the " +
      "original scale). Default: true"
  )

  setDefault(regParam -> 0.0, fitIntercept -> true, standardization -> true)

  final def getRegParam: Double = $(regParam)
  final def getFitIntercept: Boolean = $(fitIntercept)
  final def getStandardization: Boolean = $(standardization)
}

/**
 * Linear regression (least squares with an optional L2 penalty), trained natively. Fit it on a
 * whole DataFrame (one model, in one task; see [[NativeEstimator]]) or wrap it in
 * [[manyfold.ml.Grouped]] for one model per group.
 */
class LinearRegression(override val uid: String)
    extends NativeEstimator[LinearRegressionModel]
    with LinearRegressionParams {

  def this() = this(Identifiable.randomUID("linReg"))

  def setRegParam(value: Double): this.type = set(regParam, value)
  def setFitIntercept(value: Boolean): this.type = set(fitIntercept, value)
  def setStandardization(value: Boolean): this.type = set(standardization, value)

  private[manyfold] override def algorithm: String = "linear"

  private[manyfold] override def paramsJson: String = compact(
    render(
      ("regParam" -> $(regParam)) ~ ("fitIntercept" -> $(fitIntercept)) ~
        ("standardization" -> $(standardization))
    )
  )

  override protected def newModel(uid: String, modelBytes: Array[Byte]): LinearRegressionModel =
    new LinearRegressionModel(uid, modelBytes)

  override def copy(extra: ParamMap): LinearRegression = defaultCopy(extra)
}

object LinearRegression extends DefaultParamsReadable[LinearRegression] {
  override def load(path: String): LinearRegression = super.load(path)
}

/** A fitted linear regression: `prediction = coefficients . features + intercept`. */
class LinearRegressionModel private[manyfold] (override val uid: String, modelBytes: Array[Byte])
    extends NativeModel[LinearRegressionModel](modelBytes)
    with LinearRegressionParams {

  private[manyfold] override def expectedAlgorithm: String = "linear"

  override def coefficients: Vector =
    Vectors.dense((description \ "coefficients").extract[Array[Double]])

  override def intercept: Double = (description \ "intercept").extract[Double]

  override def copy(extra: ParamMap): LinearRegressionModel =
    copyValues(new LinearRegressionModel(uid, bytes), extra).setParent(parent)
}

object LinearRegressionModel extends MLReadable[LinearRegressionModel] {

  override def read: MLReader[LinearRegressionModel] =
    new NativeModelReader(classOf[LinearRegressionModel], new LinearRegressionModel(_, _))

  override def load(path: String): LinearRegressionModel = super.load(path)

  /**
   * A model of bytes taken from [[modelBytes]] or a [[manyfold.ml.GroupedModel]]'s `models` table,
   * with default column params.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid linear model
   */
  def fromBytes(modelBytes: Array[Byte]): LinearRegressionModel = {
    val model = new LinearRegressionModel(Identifiable.randomUID("linReg"), modelBytes.clone())
    model.validate("the model bytes")
    model
  }
}
