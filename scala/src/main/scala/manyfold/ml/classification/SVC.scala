package manyfold.ml.classification

import manyfold.ml.{
  NativeClassificationModel,
  NativeClassifierParams,
  NativeEstimator,
  NativeModelReader,
  OutputKind
}
import manyfold.ml.param._
import org.apache.spark.ml.classification.ProbabilisticClassifier
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.types.StructType
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[SVC]] and [[SVCModel]]: scikit-learn's `SVC` (libsvm's C-SVC). For two classes with
 * labels `y_i = +1/-1` and sample weights `w_i` the fit solves `min 1/2 ||f||^2 + cost * sum_i w_i
 * max(0, 1 - y_i (f(x_i) - rho))` over `f` in the kernel's feature space; more classes train one
 * such problem per pair of classes and predict by their votes. Kernels: linear `x'z`, poly `(gamma
 * x'z + coef0)^degree`, rbf `exp(-gamma |x - z|^2)`, sigmoid `tanh(gamma x'z + coef0)`.
 *
 * The penalty is `cost` rather than Spark's `regParam` because it is an inverse one: a larger
 * `cost` penalizes margin violations more and regularizes less (scikit-learn's `C`, libsvm's `-c`).
 * Labels may be any numeric values: the classes are the sorted distinct labels.
 */
trait SVCParams
    extends NativeClassifierParams
    with HasMaxIter
    with HasTol
    with HasSeed
    with HasWeightCol {

  /**
   * Param for the penalty on margin violations: scikit-learn's `C`, libsvm's `-c cost`; the inverse
   * of a regularization strength. Finite, > 0. Default 1.0.
   */
  final val cost: DoubleParam = new DoubleParam(
    this,
    "cost",
    "penalty on margin violations (scikit-learn's C, libsvm's -c; larger regularizes less). " +
      "Finite, > 0. Default: 1.0",
    (v: Double) => v > 0.0 && !v.isInfinite
  )

  /** Param for the kernel: "linear", "rbf", "poly" or "sigmoid". Default "rbf". */
  final val kernel: Param[String] = new Param[String](
    this,
    "kernel",
    "kernel: linear, rbf, poly or sigmoid. Default: rbf",
    ParamValidators.inArray(SVC.supportedKernels)
  )

  /**
   * Param for the kernel coefficient of rbf, poly and sigmoid: "scale" (`1 / (p * var(X))`, over
   * every feature value of the training rows), "auto" (`1 / p`) or a finite number > 0 written as a
   * string (e.g. "0.05"). Default "scale".
   */
  final val gamma: Param[String] = new Param[String](
    this,
    "gamma",
    "kernel coefficient of rbf, poly and sigmoid: scale (1 / (p * var(X))), auto (1 / p) or a " +
      "finite number > 0 as a string. Default: scale",
    SVCParams.validGamma
  )

  /** Param for the degree of the poly kernel; >= 1. Default 3. */
  final val degree: IntParam = new IntParam(
    this,
    "degree",
    "degree of the poly kernel. >= 1. Default: 3",
    ParamValidators.gtEq(1)
  )

  /** Param for the constant term of the poly and sigmoid kernels; finite. Default 0.0. */
  final val coef0: DoubleParam = new DoubleParam(
    this,
    "coef0",
    "constant term of the poly and sigmoid kernels. Finite. Default: 0.0",
    (v: Double) => !v.isNaN && !v.isInfinite
  )

  /**
   * Param for whether the solver shrinks its active set (libsvm's heuristic: same optimum, often
   * faster). Default true.
   */
  final val shrinking: BooleanParam = new BooleanParam(
    this,
    "shrinking",
    "whether the solver shrinks its active set (libsvm's heuristic, same optimum). Default: true"
  )

  /**
   * Param for whether to fit class probabilities: Platt's sigmoid per pair of classes on the
   * decision values of an internal 5-fold cross-validation (seeded by `seed`), coupled pairwise, as
   * libsvm. Needs at least 5 rows of positive weight per class and costs about 5 more fits. Without
   * it there is no probability column. Default false.
   */
  final val probability: BooleanParam = new BooleanParam(
    this,
    "probability",
    "whether to fit class probabilities (Platt scaling on an internal 5-fold cross-validation; " +
      "at least 5 rows per class). Without it there is no probability column. Default: false"
  )

  setDefault(
    cost -> 1.0,
    kernel -> "rbf",
    gamma -> "scale",
    degree -> 3,
    coef0 -> 0.0,
    shrinking -> true,
    tol -> 1e-3,
    maxIter -> 0,
    probability -> false
  )

  final def getCost: Double = $(cost)
  final def setCost(value: Double): this.type = set(cost, value)
  final def getKernel: String = $(kernel)
  final def setKernel(value: String): this.type = set(kernel, value)
  final def getGamma: String = $(gamma)
  final def setGamma(value: String): this.type = set(gamma, value)
  final def setGamma(value: Double): this.type = set(gamma, value.toString)
  final def getDegree: Int = $(degree)
  final def setDegree(value: Int): this.type = set(degree, value)
  final def getCoef0: Double = $(coef0)
  final def setCoef0(value: Double): this.type = set(coef0, value)
  final def getShrinking: Boolean = $(shrinking)
  final def setShrinking(value: Boolean): this.type = set(shrinking, value)
  final def getProbability: Boolean = $(probability)
  final def setProbability(value: Boolean): this.type = set(probability, value)

  /** Without `probability` the model has no probabilities: no probability column then. */
  private[manyfold] override def outputColumns: Seq[(String, OutputKind)] =
    super.outputColumns.filter(c => $(probability) || c._2 != OutputKind.Probability)

  /**
   * `tol` must be > 0 for the solver (the shared param allows 0); thresholds need probabilities.
   */
  private[manyfold] override def checkAndTransformSchema(
      schema: StructType,
      fitting: Boolean
  ): StructType = {
    require($(tol) > 0.0, s"tol must be > 0 for SVC's solver, got ${$(tol)}")
    require(
      !isDefined(thresholds) || $(probability),
      "thresholds apply to class probabilities: set probability=true to use them with SVC"
    )
    super.checkAndTransformSchema(schema, fitting)
  }

  // The native seed is unsigned: a negative Long maps to the u64 of the same bits.
  private[manyfold] def paramsJson: String = compact(
    render(
      ("cost" -> $(cost)) ~ ("kernel" -> $(kernel)) ~ ("gamma" -> $(gamma)) ~
        ("degree" -> $(degree)) ~ ("coef0" -> $(coef0)) ~ ("shrinking" -> $(shrinking)) ~
        ("tol" -> $(tol)) ~ ("maxIter" -> $(maxIter)) ~ ("probability" -> $(probability)) ~
        ("seed" -> BigInt(java.lang.Long.toUnsignedString($(seed))))
    )
  )
}

private[classification] object SVCParams {

  // A plain decimal number, as the native side parses it (no Java-only forms such as "1d").
  private val Number = """[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?""".r

  val validGamma: String => Boolean = {
    case "scale" | "auto" => true
    case s =>
      s.trim match {
        case t @ Number(_*) => val g = t.toDouble; g > 0.0 && !g.isInfinite
        case _ => false
      }
  }
}

/**
 * Kernel support vector classification (C-SVC), two or more classes, with optional Platt-scaled
 * probabilities and sample weights, trained natively as libsvm does (scikit-learn's `SVC`): a Spark
 * `ProbabilisticClassifier`. Fit it on a whole DataFrame (one model, in one task; see
 * [[NativeEstimator]]) or wrap it in [[manyfold.ml.Grouped]] for one model per group.
 */
class SVC(override val uid: String)
    extends ProbabilisticClassifier[Vector, SVC, SVCModel]
    with NativeEstimator[SVCModel]
    with SVCParams {

  def this() = this(Identifiable.randomUID("svc"))

  private[manyfold] override def algorithm: String = "svc"

  override protected def newModel(uid: String, modelBytes: Array[Byte]): SVCModel =
    new SVCModel(uid, modelBytes)

  override def copy(extra: ParamMap): SVC = defaultCopy(extra)
}

object SVC extends DefaultParamsReadable[SVC] {

  /** The values of the `kernel` param. */
  val supportedKernels: Array[String] = Array("linear", "rbf", "poly", "sigmoid")

  override def load(path: String): SVC = super.load(path)
}

/**
 * A fitted SVC. `rawPrediction` holds one score per class in the order of [[classes]]: for two
 * classes `[-d, d]` with `d` scikit-learn's `decision_function` (positive for the second class), as
 * Spark's binary classifiers; for more, scikit-learn's one-vs-rest scores (`votes + a squashed sum
 * of the pairwise decision values`). `prediction` is libsvm's vote (with `thresholds`, the class of
 * the largest `p / t`); `probability`, with `probability` on, the coupled Platt probabilities.
 */
class SVCModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends NativeClassificationModel[SVCModel]
    with SVCParams {

  private[manyfold] override def expectedAlgorithm: String = "svc"

  /** The support vectors per class, in the order of [[classes]] (scikit-learn's `n_support_`). */
  def supportCounts: Array[Int] = (description \ "supportCounts").extract[Array[Int]]

  /** All support vectors. */
  def numSupportVectors: Int = supportCounts.sum

  /**
   * The kernel's gamma as resolved at fit time from the `gamma` param ("scale", "auto", a number).
   */
  def resolvedGamma: Double = (description \ "gamma").extract[Double]

  /** Whether the model holds probabilities (it was fitted with `probability` on). */
  def hasProbability: Boolean = (description \ "probability").extract[Boolean]

  /** Whether every SMO run met `tol` (false: `maxIter` stopped one). */
  def converged: Boolean = (description \ "converged").extract[Boolean]

  /** The SMO iterations, summed over the pairwise problems (scikit-learn's `n_iter_.sum()`). */
  def numIterations: Int = (description \ "iterations").extract[Int]

  /**
   * Not supported: SVC's probabilities come from Platt's sigmoids of the pairwise decision values,
   * coupled pairwise, which the per-class raw scores do not determine. Use [[predictProbability]]
   * or the probability column of `transform`.
   */
  override protected def raw2probabilityInPlace(rawPrediction: Vector): Vector =
    throw new UnsupportedOperationException(
      "SVC probabilities cannot be derived from rawPrediction (they come from Platt's sigmoids " +
        "of the pairwise decision values, coupled pairwise): use predictProbability or transform"
    )

  override protected def withoutProbabilities: String =
    "this SVC model has no probabilities: fit it with probability=true"

  /**
   * Sets the hyperparameters to those the bytes were fitted with: `probability` decides whether
   * transform adds a probability column.
   */
  private[classification] def setFittedParams(): this.type = {
    val p = description \ "params"
    set(cost, (p \ "cost").extract[Double])
    set(kernel, (p \ "kernel").extract[String])
    set(gamma, (p \ "gamma").extract[String])
    set(degree, (p \ "degree").extract[Int])
    set(coef0, (p \ "coef0").extract[Double])
    set(shrinking, (p \ "shrinking").extract[Boolean])
    set(tol, (p \ "tol").extract[Double])
    // Native -1 (scikit-learn's "no limit") is Spark's 0.
    set(maxIter, math.max(0, (p \ "maxIter").extract[Int]))
    set(probability, hasProbability)
    set(seed, (p \ "seed").extract[BigInt].toLong)
  }

  override def copy(extra: ParamMap): SVCModel =
    copyValues(new SVCModel(uid, bytes), extra).setParent(parent)
}

object SVCModel extends MLReadable[SVCModel] {

  override def read: MLReader[SVCModel] =
    new NativeModelReader(classOf[SVCModel], new SVCModel(_, _))

  override def load(path: String): SVCModel = super.load(path)

  /**
   * A model of bytes taken from [[SVCModel.modelBytes]] or a [[manyfold.ml.GroupedModel]]'s
   * `models` table, with default column params and the hyperparameters it was fitted with.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid svc model
   */
  def fromBytes(modelBytes: Array[Byte]): SVCModel = {
    val model = new SVCModel(Identifiable.randomUID("svc"), modelBytes.clone())
    model.validate("the model bytes")
    model.setFittedParams()
  }
}
