package manyfold.ml.classification

import manyfold.ml.{
  NativeClassificationModel,
  NativeClassifierParams,
  NativeEstimator,
  NativeModelReader
}
import manyfold.ml.param._
import org.apache.spark.ml.classification.ProbabilisticClassifier
import org.apache.spark.ml.linalg.{DenseMatrix, Matrix, Vector, Vectors}
import org.apache.spark.ml.param.{DoubleParam, Param, ParamMap}
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[NaiveBayes]] and [[NaiveBayesModel]]: Gaussian naive Bayes. Class `c` has prior
 * `pi_c` (its share of the rows, or of the weight) and per feature `j` a normal density of mean
 * `theta_cj` and variance `sigma_cj` (the class's population variance plus `varSmoothing` times the
 * largest variance of a feature over all rows). That is scikit-learn's `GaussianNB(var_smoothing)`
 * with `sample_weight`, and Spark's `NaiveBayes(modelType = "gaussian")`, which adds the same
 * smoothing with the constant 1e-9.
 *
 * Labels may be any numeric values (Spark's must be 0, 1, ...): the classes are the sorted distinct
 * labels of the training data, and the prediction is one of those label values.
 */
trait NaiveBayesParams extends NativeClassifierParams with HasWeightCol {

  /**
   * Param for the model type: "gaussian" only. Default "gaussian". Spark's default is "multinomial"
   * (and it has "bernoulli" and "complement"), for counts or binary features; those are not
   * offered, and a default that could not be fitted would be no default, so ours is the Gaussian
   * model, for real-valued features.
   */
  final val modelType: Param[String] = new Param[String](
    this,
    "modelType",
    "model type: gaussian (the only one supported; Spark's multinomial, bernoulli and " +
      "complement are not). Default: gaussian",
    (v: String) => v == "gaussian"
  )

  /**
   * Param for the share of the largest feature variance added to every variance, for numerical
   * stability (scikit-learn's `var_smoothing`); finite, >= 0. Default 1e-9.
   */
  final val varSmoothing: DoubleParam = new DoubleParam(
    this,
    "varSmoothing",
    "share of the largest feature variance added to every class variance (finite, >= 0). " +
      "Default: 1e-9",
    Ranges.finiteNonNegative
  )

  setDefault(modelType -> "gaussian", varSmoothing -> 1e-9)

  final def getModelType: String = $(modelType)

  /**
   * Sets the model type.
   *
   * @throws IllegalArgumentException
   *   for any other than "gaussian", naming what is supported
   */
  final def setModelType(value: String): this.type = {
    require(
      value == "gaussian",
      s"$uid parameter modelType: '$value' is not supported; supported: gaussian (Spark's " +
        "multinomial, bernoulli and complement are not offered)"
    )
    set(modelType, value)
  }

  final def getVarSmoothing: Double = $(varSmoothing)
  final def setVarSmoothing(value: Double): this.type = set(varSmoothing, value)

  private[manyfold] def paramsJson: String = compact(
    render(("modelType" -> $(modelType)) ~ ("varSmoothing" -> $(varSmoothing)))
  )
}

/**
 * Gaussian naive Bayes, optionally weighted, trained natively: a Spark `ProbabilisticClassifier`.
 * Fit it on a whole DataFrame (one model, in one task; see [[NativeEstimator]]) or wrap it in
 * [[manyfold.ml.Grouped]] for one model per group.
 */
class NaiveBayes(override val uid: String)
    extends ProbabilisticClassifier[Vector, NaiveBayes, NaiveBayesModel]
    with NativeEstimator[NaiveBayesModel]
    with NaiveBayesParams {

  def this() = this(Identifiable.randomUID("nb"))

  private[manyfold] override def algorithm: String = "naive_bayes"

  override protected def newModel(uid: String, modelBytes: Array[Byte]): NaiveBayesModel =
    new NaiveBayesModel(uid, modelBytes)

  override def copy(extra: ParamMap): NaiveBayes = defaultCopy(extra)
}

object NaiveBayes extends DefaultParamsReadable[NaiveBayes] {
  override def load(path: String): NaiveBayes = super.load(path)
}

/**
 * A fitted Gaussian naive Bayes model. `rawPrediction` is the joint log-likelihood of each class,
 * `ln pi_c - 1/2 sum_j (ln(2 pi sigma_cj) + (x_j - theta_cj)^2 / sigma_cj)`, and `probability` its
 * softmax, both in the order of [[classes]]; `prediction` is the label value of the most probable
 * class (with `thresholds`, of the largest `p / t`).
 */
class NaiveBayesModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends NativeClassificationModel[NaiveBayesModel]
    with NaiveBayesParams {

  private[manyfold] override def expectedAlgorithm: String = "naive_bayes"

  /** The log of the class priors, one per class (Spark's `pi`). */
  def pi: Vector =
    Vectors.dense((description \ "priors").extract[Array[Double]].map(math.log))

  /** The class means: one row per class, one column per feature (Spark's `theta`). */
  def theta: Matrix = classByFeature("means")

  /** The smoothed class variances, shaped as [[theta]] (Spark's `sigma`). */
  def sigma: Matrix = classByFeature("variances")

  private def classByFeature(field: String): Matrix = {
    val rows = (description \ field).extract[Array[Array[Double]]]
    new DenseMatrix(rows.length, numFeatures, rows.flatten, true)
  }

  /** Joint log-likelihoods to probabilities: their softmax (Spark's Gaussian rule). */
  override protected def raw2probabilityInPlace(rawPrediction: Vector): Vector =
    ClassScores.softmaxInPlace(rawPrediction)

  override def copy(extra: ParamMap): NaiveBayesModel =
    copyValues(new NaiveBayesModel(uid, bytes), extra).setParent(parent)
}

object NaiveBayesModel extends MLReadable[NaiveBayesModel] {

  override def read: MLReader[NaiveBayesModel] =
    new NativeModelReader(classOf[NaiveBayesModel], new NaiveBayesModel(_, _))

  override def load(path: String): NaiveBayesModel = super.load(path)

  /**
   * A model of bytes taken from [[NaiveBayesModel.modelBytes]] or a [[manyfold.ml.GroupedModel]]'s
   * `models` table, with default column params.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid naive Bayes model
   */
  def fromBytes(modelBytes: Array[Byte]): NaiveBayesModel = {
    val model = new NaiveBayesModel(Identifiable.randomUID("nb"), modelBytes.clone())
    model.validate("the model bytes")
    model
  }
}
