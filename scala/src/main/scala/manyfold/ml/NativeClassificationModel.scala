package manyfold.ml

import org.apache.spark.ml.classification.ProbabilisticClassificationModel
import org.apache.spark.ml.linalg.{Vector, Vectors}

/**
 * A native classifier as Spark's `ProbabilisticClassificationModel`: its classes are the sorted
 * distinct label values seen in training, and `predict`, `predictRaw` and `predictProbability` of
 * one Vector go through the native library (`predict` gives a label value, with `thresholds` the
 * class of the largest `p / t`, as Spark). `transform` stays the vectorized native one of
 * [[NativeModel]], which applies `thresholds` natively.
 */
abstract class NativeClassificationModel[M <: NativeClassificationModel[M]]
    extends ProbabilisticClassificationModel[Vector, M]
    with NativeModel[M]
    with NativeClassifierParams {

  /** The class labels, sorted: the distinct label values seen in training. */
  def classes: Array[Double] = (description \ "classes").extract[Array[Double]]

  override def numClasses: Int = classes.length

  override def numFeatures: Int = nativeNumFeatures

  /** The label value predicted for one feature vector, through the native library. */
  override def predict(features: Vector): Double = {
    val p = predictOne(features)
    if (isDefined(thresholds)) {
      classes(NativeClassificationModel.argmaxOverThresholds(probabilities(p), $(thresholds)))
    } else p.prediction.getOrElse(Double.NaN)
  }

  override def predictRaw(features: Vector): Vector =
    Vectors.dense(predictOne(features).raw.get)

  /**
   * The class probabilities of one feature vector.
   *
   * @throws UnsupportedOperationException
   *   if the model gives no probabilities
   */
  override def predictProbability(features: Vector): Vector =
    Vectors.dense(probabilities(predictOne(features)))

  /** Why a model of this kind has no probabilities, and what to do. */
  protected def withoutProbabilities: String = s"this $expectedAlgorithm model has no probabilities"

  private def probabilities(p: RowPrediction): Array[Double] =
    p.probability.getOrElse(throw new UnsupportedOperationException(withoutProbabilities))
}

object NativeClassificationModel {

  /** Spark's rule: the class with the largest `p / t` (a 0 threshold wins where `p > 0`). */
  def argmaxOverThresholds(probability: Array[Double], thresholds: Array[Double]): Int = {
    require(
      thresholds.length == probability.length,
      s"thresholds has ${thresholds.length} values but the model has ${probability.length} classes"
    )
    probability.indices.maxBy(i =>
      if (thresholds(i) == 0.0) Double.PositiveInfinity else probability(i) / thresholds(i)
    )
  }
}
