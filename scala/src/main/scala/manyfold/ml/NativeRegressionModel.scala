package manyfold.ml

import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.regression.RegressionModel

/**
 * A native regression model as Spark's `RegressionModel`: `numFeatures` and single-Vector `predict`
 * go through the native library; `transform` stays the vectorized native one of [[NativeModel]].
 */
abstract class NativeRegressionModel[M <: NativeRegressionModel[M]]
    extends RegressionModel[Vector, M]
    with NativeModel[M] {

  override def numFeatures: Int = nativeNumFeatures

  /** Predicts one feature vector through the native library. */
  override def predict(features: Vector): Double =
    predictOne(features).prediction.getOrElse(Double.NaN)
}
