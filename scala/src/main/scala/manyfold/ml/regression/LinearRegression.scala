package manyfold.ml.regression

import manyfold.ml.{
  NativeEstimator,
  NativeModelReader,
  NativePredictorParams,
  NativeRegressionModel
}
import manyfold.ml.param._
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.regression.Regressor
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[LinearRegression]] and [[LinearRegressionModel]]: Spark's `LinearRegression`
 * objective, `1/(2W) sum_i w_i (y_i - x_i.b - b0)^2 + regParam * (alpha * sum_j c_j |b_j| + (1 -
 * alpha) / (2 d) * sum_j (c_j b_j)^2)` with `alpha = elasticNetParam`, `W` the weight sum, `c_j`
 * the feature's weighted population std when `standardization` is on (else 1) and `d` the label's,
 * as Spark's normal-equation solver standardizes the label whenever `regParam > 0`. Without an L1
 * part the fit is closed-form; with one, coordinate descent bounded by `maxIter` and `tol`.
 * Collinear features without a penalty give the minimum-norm least-squares solution. Coefficients
 * are always reported on the original scale.
 */
trait LinearRegressionParams
    extends NativePredictorParams
    with HasRegParam
    with HasElasticNetParam
    with HasMaxIter
    with HasTol
    with HasFitIntercept
    with HasStandardization
    with HasWeightCol {

  setDefault(maxIter -> 100, tol -> 1e-6)

  private[manyfold] def paramsJson: String = compact(
    render(
      ("regParam" -> $(regParam)) ~ ("elasticNetParam" -> $(elasticNetParam)) ~
        ("maxIter" -> $(maxIter)) ~ ("tol" -> $(tol)) ~ ("fitIntercept" -> $(fitIntercept)) ~
        ("standardization" -> $(standardization))
    )
  )
}

/**
 * Linear regression (least squares, ridge, lasso or elastic net, optionally weighted), trained
 * natively: a Spark `Regressor`. Fit it on a whole DataFrame (one model, in one task; see
 * [[NativeEstimator]]) or wrap it in [[manyfold.ml.Grouped]] for one model per group.
 */
class LinearRegression(override val uid: String)
    extends Regressor[Vector, LinearRegression, LinearRegressionModel]
    with NativeEstimator[LinearRegressionModel]
    with LinearRegressionParams {

  def this() = this(Identifiable.randomUID("linReg"))

  private[manyfold] override def algorithm: String = "linear"

  override protected def newModel(uid: String, modelBytes: Array[Byte]): LinearRegressionModel =
    new LinearRegressionModel(uid, modelBytes)

  override def copy(extra: ParamMap): LinearRegression = defaultCopy(extra)
}

object LinearRegression extends DefaultParamsReadable[LinearRegression] {
  override def load(path: String): LinearRegression = super.load(path)
}

/** A fitted linear regression: `prediction = coefficients . features + intercept`. */
class LinearRegressionModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends NativeRegressionModel[LinearRegressionModel]
    with LinearRegressionParams {

  private[manyfold] override def expectedAlgorithm: String = "linear"

  /** The coefficients, one per feature, on the original scale of the features. */
  def coefficients: Vector =
    Vectors.dense((description \ "coefficients").extract[Array[Double]])

  /** The intercept (0.0 when fitIntercept was false). */
  def intercept: Double = (description \ "intercept").extract[Double]

  override def copy(extra: ParamMap): LinearRegressionModel =
    copyValues(new LinearRegressionModel(uid, bytes), extra).setParent(parent)
}

object LinearRegressionModel extends MLReadable[LinearRegressionModel] {

  override def read: MLReader[LinearRegressionModel] =
    new NativeModelReader(classOf[LinearRegressionModel], new LinearRegressionModel(_, _))

  override def load(path: String): LinearRegressionModel = super.load(path)

  /**
   * A model of bytes taken from [[LinearRegressionModel.modelBytes]] or a
   * [[manyfold.ml.GroupedModel]]'s `models` table, with default column params.
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
