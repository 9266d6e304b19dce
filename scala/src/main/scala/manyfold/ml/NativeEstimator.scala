package manyfold.ml

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.DefaultParamsWritable
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.StructType

/**
 * An estimator trained by the native library, mixed into Spark's own base class where one fits
 * (`Regressor`, `ProbabilisticClassifier`; plain `Estimator` for k-means), so that Spark's tools
 * that expect those accept it. It fits one model on a whole DataFrame, or, wrapped in [[Grouped]],
 * one model per group.
 *
 * `fit` on its own trains a single model in a single Spark task: every row goes to that task, which
 * trains on them all at once, so the DataFrame must fit in one executor's memory and may hold at
 * most [[NativeEstimator.MaxRowsPerFit]] rows. For more data per model use Spark's own estimators;
 * manyfold's strength is many models (see [[Grouped]]).
 */
trait NativeEstimator[M <: NativeModel[M]]
    extends Estimator[M]
    with NativeParams
    with DefaultParamsWritable {

  /** The native algorithm name (the registry's), e.g. "linear". */
  private[manyfold] def algorithm: String

  /** This estimator's hyperparameters as the native params JSON (Spark's param names). */
  private[manyfold] def paramsJson: String

  /** What the native registry says of [[algorithm]]: task, metrics, weights, convergence. */
  private[manyfold] def info: AlgorithmInfo = AlgorithmInfo(algorithm)

  /** The training metrics: columns of the native results batch and of the models table. */
  private[manyfold] def metricColumns: Seq[String] = info.metrics

  /** A model of these bytes (its params are set by [[modelOf]]). */
  protected def newModel(uid: String, modelBytes: Array[Byte]): M

  /** A model of these bytes with this estimator's params, whose parent is this estimator. */
  private[manyfold] def modelOf(modelBytes: Array[Byte]): M =
    copyValues(newModel(uid, modelBytes)).setParent(this)

  /**
   * Trains one model on the whole DataFrame (in one task; see the trait documentation).
   *
   * @throws IllegalArgumentException
   *   for a missing or non-numeric column, or an empty DataFrame
   * @throws IllegalStateException
   *   if the data cannot be trained on (null, NaN or infinite values, a single class, too few rows,
   *   more than [[NativeEstimator.MaxRowsPerFit]] rows)
   */
  override def fit(dataset: Dataset[_]): M = {
    transformSchema(dataset.schema, logging = true)
    val spark = dataset.sparkSession
    val trained =
      Jobs.describeIfOutermost(spark, s"manyfold ${getClass.getSimpleName}: training one model") {
        GroupedTraining.rethrowInvalidInput {
          GroupedTraining
            .train(
              dataset.toDF,
              groupCols = Nil,
              estimator = this,
              maxRowsPerGroup = NativeEstimator.MaxRowsPerFit,
              numPartitions = 1
            )
            .collect()
        }
      }
    // A single model: its one outcome row comes to the driver; none for an empty DataFrame.
    val result = trained.headOption.getOrElse(throw GroupedTraining.emptyInput).result
    if (result.rows > NativeEstimator.MaxRowsPerFit) {
      throw new IllegalStateException(
        s"$algorithm training failed: the DataFrame has more than ${NativeEstimator.MaxRowsPerFit}" +
          " rows, the most a single (not grouped) manyfold fit takes in its one task"
      )
    }
    if (result.status != GroupedTraining.Ok) {
      throw new IllegalStateException(s"$algorithm training failed: ${result.error}")
    }
    modelOf(result.model)
  }

  /** Spark's `Predictor.train`, for the estimators that extend a Spark predictor: [[fit]]. */
  protected def train(dataset: Dataset[_]): M = fit(dataset)

  override def transformSchema(schema: StructType): StructType =
    checkAndTransformSchema(schema, fitting = true)

  override def copy(extra: ParamMap): NativeEstimator[M]
}

object NativeEstimator {

  /** The most rows a single (not grouped) fit accepts; [[Grouped]]' default maxRowsPerGroup. */
  val MaxRowsPerFit: Long = 1000000L
}
