package manyfold.ml.classification

import org.apache.spark.ml.linalg.{DenseVector, Vector}

/** What the probabilistic classifiers share: softmax of raw scores and Spark's thresholds rule. */
private[classification] object ClassScores {

  /**
   * The softmax of dense raw scores, in place (shifted by their maximum, so it cannot overflow).
   */
  def softmaxInPlace(rawPrediction: Vector): Vector = rawPrediction match {
    case dv: DenseVector =>
      val max = dv.values.max
      var sum = 0.0
      dv.values.indices.foreach { i =>
        dv.values(i) = math.exp(dv.values(i) - max); sum += dv.values(i)
      }
      dv.values.indices.foreach(i => dv.values(i) /= sum)
      dv
    case other =>
      throw new IllegalArgumentException(s"rawPrediction must be a dense vector, got $other")
  }

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
