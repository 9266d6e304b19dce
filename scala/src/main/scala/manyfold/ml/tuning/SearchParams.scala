package manyfold.ml.tuning

import manyfold.ml.param.HasSeed
import org.apache.spark.ml.Estimator
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param._

/**
 * Params shared by manyfold's searches ([[NativeCrossValidator]], [[TimeSeriesCrossValidator]],
 * [[NativeTrainValidationSplit]]) and their models, named as Spark's `CrossValidator` names them.
 */
trait NativeSearchParams extends Params with HasSeed {

  /** Param for the manyfold estimator whose parameter sets are compared. Required. */
  final val estimator: Param[Estimator[_]] = new Param(
    this,
    "estimator",
    "the manyfold estimator whose parameter sets are compared (manyfold.ml.*). Required"
  )

  /**
   * Param for the parameter sets to compare, as Spark's `ParamGridBuilder` builds them, each of
   * params of [[estimator]]. Required, at least one.
   */
  final val estimatorParamMaps: Param[Array[ParamMap]] = new Param(
    this,
    "estimatorParamMaps",
    "the parameter sets to compare (Spark's ParamGridBuilder), params of the estimator. " +
      "Required, at least one"
  )

  /**
   * Param for the evaluator naming the metric: Spark's `RegressionEvaluator`,
   * `BinaryClassificationEvaluator` or `MulticlassClassificationEvaluator` (the metric is computed
   * natively, equal to what the evaluator computes). Required.
   */
  final val evaluator: Param[Evaluator] = new Param(
    this,
    "evaluator",
    "Spark's RegressionEvaluator, BinaryClassificationEvaluator or " +
      "MulticlassClassificationEvaluator, naming the metric (computed natively). Required"
  )

  /**
   * Param for the most fits that run at once, across the cluster: the fits are split over this many
   * Spark tasks. >= 1. Default 1 (Spark's default).
   */
  final val parallelism: IntParam = new IntParam(
    this,
    "parallelism",
    "the most fits that run at once: the fits are split over this many Spark tasks. >= 1. " +
      "Default: 1",
    ParamValidators.gtEq(1)
  )

  /** Param for whether the fold models are kept (`subModels`). Default false. */
  final val collectSubModels: BooleanParam = new BooleanParam(
    this,
    "collectSubModels",
    "whether the model of every (fold, parameter set) fit is kept in subModels. Default: false"
  )

  setDefault(parallelism -> 1, collectSubModels -> false)

  final def getEstimator: Estimator[_] = $(estimator)
  final def getEstimatorParamMaps: Array[ParamMap] = $(estimatorParamMaps)
  final def getEvaluator: Evaluator = $(evaluator)
  final def getParallelism: Int = $(parallelism)
  final def getCollectSubModels: Boolean = $(collectSubModels)
}

/** Params of [[NativeCrossValidator]]: k folds, seeded (stratified for classifiers) or given. */
trait NativeCrossValidatorParams extends NativeSearchParams {

  /** Param for the number of folds. >= 2. Default 3. */
  final val numFolds: IntParam =
    new IntParam(this, "numFolds", "number of folds. >= 2. Default: 3", ParamValidators.gtEq(2))

  /**
   * Param for a column giving each row's validation fold, integers in 0..numFolds-1 (Spark's
   * `foldCol`); empty to derive the folds from the seed. Default empty.
   */
  final val foldCol: Param[String] = new Param[String](
    this,
    "foldCol",
    "integer column of each row's validation fold, 0..numFolds-1; empty: folds from the seed. " +
      "Default: empty"
  )

  /**
   * Param for whether seeded folds of a classifier keep each class's share in every fold. Default
   * true.
   */
  final val stratified: BooleanParam = new BooleanParam(
    this,
    "stratified",
    "whether seeded folds of a classifier keep each class's share in every fold. Default: true"
  )

  setDefault(numFolds -> 3, foldCol -> "", stratified -> true)

  final def getNumFolds: Int = $(numFolds)
  final def getFoldCol: String = $(foldCol)
  final def getStratified: Boolean = $(stratified)
}

/**
 * Params of [[TimeSeriesCrossValidator]]: scikit-learn's `TimeSeriesSplit` over the distinct values
 * of a time column.
 */
trait TimeSeriesCrossValidatorParams extends NativeSearchParams {

  /** Param for the time column: numeric, date or timestamp. Required. */
  final val timeCol: Param[String] = new Param[String](
    this,
    "timeCol",
    "the time column (numeric, date or timestamp); folds are cut on its sorted distinct values. " +
      "Required"
  )

  /** Param for the number of splits (folds). >= 2. Default 5 (scikit-learn's). */
  final val nSplits: IntParam = new IntParam(
    this,
    "nSplits",
    "number of splits (folds). >= 2. Default: 5",
    ParamValidators.gtEq(2)
  )

  /**
   * Param for the horizon: distinct time values per validation fold; 0 for `n / (nSplits + 1)` of
   * the n distinct times. >= 0. Default 0.
   */
  final val testSize: IntParam = new IntParam(
    this,
    "testSize",
    "distinct time values per validation fold (the horizon); 0: n / (nSplits + 1). >= 0. " +
      "Default: 0",
    ParamValidators.gtEq(0)
  )

  /** Param for the distinct time values left out between training and validation. Default 0. */
  final val gap: IntParam = new IntParam(
    this,
    "gap",
    "distinct time values left out between training and validation. >= 0. Default: 0",
    ParamValidators.gtEq(0)
  )

  /**
   * Param for the most distinct time values of training (a sliding window); 0 for no limit (an
   * expanding window). >= 0. Default 0.
   */
  final val maxTrainSize: IntParam = new IntParam(
    this,
    "maxTrainSize",
    "most distinct time values of training; 0: no limit (expanding window). >= 0. Default: 0",
    ParamValidators.gtEq(0)
  )

  setDefault(nSplits -> 5, testSize -> 0, gap -> 0, maxTrainSize -> 0)

  final def getTimeCol: String = $(timeCol)
  final def getNSplits: Int = $(nSplits)
  final def getTestSize: Int = $(testSize)
  final def getGap: Int = $(gap)
  final def getMaxTrainSize: Int = $(maxTrainSize)
}

/** Params of [[NativeTrainValidationSplit]]: one seeded split. */
trait NativeTrainValidationSplitParams extends NativeSearchParams {

  /** Param for the share of rows used for training. In (0, 1). Default 0.75 (Spark's). */
  final val trainRatio: DoubleParam = new DoubleParam(
    this,
    "trainRatio",
    "share of rows used for training. In (0, 1). Default: 0.75",
    ParamValidators.inRange(0, 1, lowerInclusive = false, upperInclusive = false)
  )

  /** Param for whether a classifier's split keeps each class's share. Default true. */
  final val stratified: BooleanParam = new BooleanParam(
    this,
    "stratified",
    "whether a classifier's split keeps each class's share on both sides. Default: true"
  )

  setDefault(trainRatio -> 0.75, stratified -> true)

  final def getTrainRatio: Double = $(trainRatio)
  final def getStratified: Boolean = $(stratified)
}
