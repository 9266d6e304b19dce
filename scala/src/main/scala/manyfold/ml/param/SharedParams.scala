package manyfold.ml.param

import org.apache.spark.ml.param._

// Params shared by several manyfold stages, each declared once as Spark declares its own
// (org.apache.spark.ml.param.shared, which is private to Spark). Defaults that differ between
// algorithms (maxIter, tol) are set by each algorithm's Params trait and stated in its docs.

/** Plain numeric feature columns, used instead of `featuresCol` when non-empty. */
trait HasInputCols extends CompatChecked {

  /**
   * Param for the numeric feature columns (byte, short, int, long, float, double or decimal), used
   * instead of `featuresCol` when non-empty: no VectorAssembler needed. Distinct, non-empty names.
   * Default: empty.
   */
  final val inputCols: StringArrayParam = new StringArrayParam(
    this,
    "inputCols",
    "numeric feature columns (byte, short, int, long, float, double or decimal), used instead " +
      "of featuresCol when non-empty. Distinct, non-empty names. Default: empty",
    ColumnNames.distinct
  )

  setDefault(inputCols -> Array.empty[String])

  final def getInputCols: Array[String] = $(inputCols)
  final def setInputCols(value: Array[String]): this.type = set(inputCols, value)
  final def setInputCols(first: String, more: String*): this.type =
    set(inputCols, (first +: more).toArray)
}

/** Sample weights, as Spark's `weightCol`. */
trait HasWeightCol extends CompatChecked {

  /**
   * Param for the sample weight column (numeric, finite, >= 0; a group whose weights are all 0
   * fails). Not set or empty: every row weighs 1. Default: not set.
   */
  final val weightCol: Param[String] = new Param[String](
    this,
    "weightCol",
    "sample weight column (numeric, finite, >= 0). Not set or empty: all weights are 1. " +
      "Default: not set"
  )

  final def getWeightCol: String = $(weightCol)
  final def setWeightCol(value: String): this.type = set(weightCol, value)
}

/** The regularization strength. */
trait HasRegParam extends CompatChecked {

  /** Param for the regularization parameter; finite, >= 0. Default 0.0. */
  final val regParam: DoubleParam = new DoubleParam(
    this,
    "regParam",
    "regularization parameter. Finite, >= 0. Default: 0.0",
    Ranges.finiteNonNegative
  )

  setDefault(regParam -> 0.0)

  final def getRegParam: Double = $(regParam)
  final def setRegParam(value: Double): this.type = set(regParam, value)
}

/** The mix of L1 and L2 penalties, as Spark's `elasticNetParam`. */
trait HasElasticNetParam extends CompatChecked {

  /**
   * Param for the ElasticNet mixing parameter alpha in [0, 1]: the penalty is `regParam * (alpha *
   * \||w||_1 + (1 - alpha) / 2 * ||w||_2^2)`; 0 is ridge (L2), 1 is lasso (L1). Default 0.0.
   */
  final val elasticNetParam: DoubleParam = new DoubleParam(
    this,
    "elasticNetParam",
    "ElasticNet mixing parameter alpha: 0 is an L2 penalty, 1 an L1 penalty. In [0, 1]. " +
      "Default: 0.0",
    ParamValidators.inRange(0, 1)
  )

  setDefault(elasticNetParam -> 0.0)

  final def getElasticNetParam: Double = $(elasticNetParam)
  final def setElasticNetParam(value: Double): this.type = set(elasticNetParam, value)
}

/** The iteration budget of an iterative fit; each algorithm sets and documents its default. */
trait HasMaxIter extends CompatChecked {

  /** Param for the maximum number of iterations; >= 0. The default is the algorithm's. */
  final val maxIter: IntParam = new IntParam(
    this,
    "maxIter",
    "maximum number of iterations (>= 0; the default depends on the algorithm)",
    ParamValidators.gtEq(0)
  )

  final def getMaxIter: Int = $(maxIter)
  final def setMaxIter(value: Int): this.type = set(maxIter, value)
}

/** The convergence tolerance of an iterative fit; each algorithm sets its default. */
trait HasTol extends CompatChecked {

  /** Param for the convergence tolerance; finite, >= 0. The default is the algorithm's. */
  final val tol: DoubleParam = new DoubleParam(
    this,
    "tol",
    "convergence tolerance of the optimizer (finite, >= 0; the default depends on the algorithm)",
    Ranges.finiteNonNegative
  )

  final def getTol: Double = $(tol)
  final def setTol(value: Double): this.type = set(tol, value)
}

/** Whether to fit an intercept. */
trait HasFitIntercept extends CompatChecked {

  /** Param for whether to fit an intercept term. Default true. */
  final val fitIntercept: BooleanParam =
    new BooleanParam(this, "fitIntercept", "whether to fit an intercept term. Default: true")

  setDefault(fitIntercept -> true)

  final def getFitIntercept: Boolean = $(fitIntercept)
  final def setFitIntercept(value: Boolean): this.type = set(fitIntercept, value)
}

/** Whether to penalize on the standardized scale. */
trait HasStandardization extends CompatChecked {

  /**
   * Param for whether to standardize the features before fitting (coefficients are always reported
   * on the original scale). Default true.
   */
  final val standardization: BooleanParam = new BooleanParam(
    this,
    "standardization",
    "whether to standardize the features before fitting (coefficients are reported on the " +
      "original scale). Default: true"
  )

  setDefault(standardization -> true)

  final def getStandardization: Boolean = $(standardization)
  final def setStandardization(value: Boolean): this.type = set(standardization, value)
}

/** The seed of a randomized fit; every fit is deterministic for a given seed. */
trait HasSeed extends CompatChecked {

  /** Param for the random seed (any long). Default 0. */
  final val seed: LongParam =
    new LongParam(this, "seed", "random seed (the fit is deterministic for a seed). Default: 0")

  setDefault(seed -> 0L)

  final def getSeed: Long = $(seed)
  final def setSeed(value: Long): this.type = set(seed, value)
}

/**
 * The features and prediction columns of a stage that is not one of Spark's predictors (k-means);
 * Spark's predictors get theirs from their base classes.
 */
trait HasFeaturesAndPredictionCols extends CompatChecked {

  /** Param for the features column, an ML Vector; used when `inputCols` is empty. */
  final val featuresCol: Param[String] = new Param[String](
    this,
    "featuresCol",
    "features column (an ML Vector), used when inputCols is empty. Non-empty. Default: features",
    ColumnNames.nonEmpty
  )

  /** Param for the prediction column that transform adds. Default "prediction". */
  final val predictionCol: Param[String] = new Param[String](
    this,
    "predictionCol",
    "prediction column that transform adds. Non-empty. Default: prediction",
    ColumnNames.nonEmpty
  )

  setDefault(featuresCol -> "features", predictionCol -> "prediction")

  final def getFeaturesCol: String = $(featuresCol)
  final def getPredictionCol: String = $(predictionCol)
  final def setFeaturesCol(value: String): this.type = set(featuresCol, value)
  final def setPredictionCol(value: String): this.type = set(predictionCol, value)
}

/** Validators of numeric params. */
private[manyfold] object Ranges {

  /** Finite and >= 0 (NaN fails the comparison). */
  val finiteNonNegative: Double => Boolean = v => v >= 0.0 && !v.isInfinite
}

/** Validators of column-name params. */
private[manyfold] object ColumnNames {

  /** A column name: non-empty. */
  val nonEmpty: String => Boolean = _.nonEmpty

  /** Column names: non-empty, none twice. */
  val distinct: Array[String] => Boolean = a =>
    a.forall(_.nonEmpty) && a.distinct.length == a.length
}

/**
 * Every manyfold stage's params extend this: its initializer runs before any other of theirs, and
 * checks that the jar fits the running Scala and Spark ([[manyfold.Compat]]).
 */
trait CompatChecked extends Params {
  manyfold.Compat.check()
}
