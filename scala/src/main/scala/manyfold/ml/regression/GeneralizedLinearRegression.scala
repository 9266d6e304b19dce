package manyfold.ml.regression

import manyfold.ml.{
  NativeEstimator,
  NativeModelReader,
  NativePredictorParams,
  NativeRegressionModel
}
import manyfold.ml.param._
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.ml.param.{DoubleParam, Param, ParamMap, ParamValidators}
import org.apache.spark.ml.regression.Regressor
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.types.StructType
import org.json4s.{JNull, JString}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[GeneralizedLinearRegression]] and [[GeneralizedLinearRegressionModel]]: a GLM of the
 * Tweedie family with variance power `p` (gaussian 0, poisson 1, gamma 2, tweedie `variancePower`)
 * and mean `mu = h(b + x.w)` (`h` the inverse link), minimizing `sum_i s_i d(y_i, mu_i) / (2 sum_i
 * s_i) + regParam / 2 ||w||^2` (`d` the unit deviance, `s` the weights, intercept unpenalized) by
 * Newton / Fisher scoring. That is scikit-learn's `TweedieRegressor(power, link, alpha =
 * regParam)`; Spark's `GeneralizedLinearRegression` has the same optimum at `regParam = 0` only (it
 * penalizes the standardized coefficients). Labels must be >= 0 for poisson and tweedie with `1 <=
 * p < 2`, > 0 for gamma and tweedie with `p >= 2`; a group breaking the rule fails, naming the row.
 */
trait GeneralizedLinearRegressionParams
    extends NativePredictorParams
    with HasRegParam
    with HasFitIntercept
    with HasMaxIter
    with HasTol
    with HasWeightCol {

  /**
   * Param for the family: "gaussian", "poisson", "gamma" or "tweedie" (Spark's names; Spark's
   * binomial is not offered). Default "gaussian".
   */
  final val family: Param[String] = new Param[String](
    this,
    "family",
    "label distribution: gaussian, poisson, gamma or tweedie (variance power variancePower). " +
      "Default: gaussian",
    ParamValidators.inArray(GeneralizedLinearRegression.Families)
  )

  /**
   * Param for the variance power of the tweedie family (read for family "tweedie" only): 0 or
   * finite and >= 1, as Spark's. Default 0.0.
   */
  final val variancePower: DoubleParam = new DoubleParam(
    this,
    "variancePower",
    "variance power of the tweedie family, read for family tweedie only: 0 (gaussian), 1 " +
      "(poisson), 2 (gamma), or any finite value >= 1. Default: 0.0",
    (v: Double) => v == 0.0 || (v >= 1.0 && !v.isInfinite)
  )

  /**
   * Param for the link: "identity" or "log". Not set: the family's default, as scikit-learn's
   * (identity for gaussian and tweedie with variance power 0, else log). Spark's inverse and power
   * links (and `linkPower`) are not offered, so gamma defaults to log where Spark uses the inverse
   * link. Default: not set.
   */
  final val link: Param[String] = new Param[String](
    this,
    "link",
    "link function: identity or log. Not set: identity for gaussian (and tweedie with " +
      "variancePower 0), log otherwise. Default: not set",
    ParamValidators.inArray(GeneralizedLinearRegression.Links)
  )

  setDefault(family -> "gaussian", variancePower -> 0.0, maxIter -> 25, tol -> 1e-6)

  final def getFamily: String = $(family)
  final def setFamily(value: String): this.type = set(family, value)
  final def getVariancePower: Double = $(variancePower)
  final def setVariancePower(value: Double): this.type = set(variancePower, value)
  final def setLink(value: String): this.type = set(link, value)

  /** The link set (a model: the link it was fitted with, see the model's override). */
  def getLink: String = $(link)

  /** The fit takes at least one step: `maxIter = 0`, which the shared param allows, is refused. */
  private[manyfold] override def checkAndTransformSchema(
      schema: StructType,
      fitting: Boolean
  ): StructType = {
    if (fitting) {
      require(
        $(maxIter) >= 1,
        s"generalized linear regression needs maxIter >= 1, got ${$(maxIter)}"
      )
    }
    super.checkAndTransformSchema(schema, fitting)
  }

  private[manyfold] def paramsJson: String = compact(
    render(
      ("family" -> $(family)) ~ ("variancePower" -> $(variancePower)) ~
        ("link" -> get(link).map(JString(_)).getOrElse(JNull)) ~ ("regParam" -> $(regParam)) ~
        ("fitIntercept" -> $(fitIntercept)) ~ ("maxIter" -> $(maxIter)) ~ ("tol" -> $(tol))
    )
  )
}

/**
 * Generalized linear regression (gaussian, poisson, gamma or tweedie; identity or log link;
 * optional L2 penalty and sample weights), trained natively: a Spark `Regressor`. Fit it on a whole
 * DataFrame (one model, in one task; see [[NativeEstimator]]) or wrap it in [[manyfold.ml.Grouped]]
 * for one model per group. The prediction is the mean `h(b + x.w)`.
 */
class GeneralizedLinearRegression(override val uid: String)
    extends Regressor[Vector, GeneralizedLinearRegression, GeneralizedLinearRegressionModel]
    with NativeEstimator[GeneralizedLinearRegressionModel]
    with GeneralizedLinearRegressionParams {

  def this() = this(Identifiable.randomUID("glm"))

  private[manyfold] override def algorithm: String = "glm"

  override protected def newModel(
      uid: String,
      modelBytes: Array[Byte]
  ): GeneralizedLinearRegressionModel = new GeneralizedLinearRegressionModel(uid, modelBytes)

  override def copy(extra: ParamMap): GeneralizedLinearRegression = defaultCopy(extra)
}

object GeneralizedLinearRegression extends DefaultParamsReadable[GeneralizedLinearRegression] {

  private[regression] val Families = Array("gaussian", "poisson", "gamma", "tweedie")
  private[regression] val Links = Array("identity", "log")

  override def load(path: String): GeneralizedLinearRegression = super.load(path)
}

/** A fitted GLM: `prediction = h(coefficients . features + intercept)`, the mean. */
class GeneralizedLinearRegressionModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends NativeRegressionModel[GeneralizedLinearRegressionModel]
    with GeneralizedLinearRegressionParams {

  private[manyfold] override def expectedAlgorithm: String = "glm"

  /** The coefficients, one per feature, on the original scale of the features. */
  def coefficients: Vector =
    Vectors.dense((description \ "coefficients").extract[Array[Double]])

  /** The intercept (0.0 when fitIntercept was false). */
  def intercept: Double = (description \ "intercept").extract[Double]

  /** The link the model was fitted with: the one set, else the family's default. */
  override def getLink: String = (description \ "link").extract[String]

  /** Whether the largest gradient component met `tol` (false: `maxIter` stopped the fit). */
  def converged: Boolean = (description \ "converged").extract[Boolean]

  /** The Newton / Fisher scoring steps taken. */
  def numIterations: Int = (description \ "iterations").extract[Int]

  override def copy(extra: ParamMap): GeneralizedLinearRegressionModel =
    copyValues(new GeneralizedLinearRegressionModel(uid, bytes), extra).setParent(parent)
}

object GeneralizedLinearRegressionModel extends MLReadable[GeneralizedLinearRegressionModel] {

  override def read: MLReader[GeneralizedLinearRegressionModel] =
    new NativeModelReader(
      classOf[GeneralizedLinearRegressionModel],
      new GeneralizedLinearRegressionModel(_, _)
    )

  override def load(path: String): GeneralizedLinearRegressionModel = super.load(path)

  /**
   * A model of bytes taken from [[GeneralizedLinearRegressionModel.modelBytes]] or a
   * [[manyfold.ml.GroupedModel]]'s `models` table, with default column params.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid GLM
   */
  def fromBytes(modelBytes: Array[Byte]): GeneralizedLinearRegressionModel = {
    val model =
      new GeneralizedLinearRegressionModel(Identifiable.randomUID("glm"), modelBytes.clone())
    model.validate("the model bytes")
    model
  }
}
