package manyfold.ml.classification

import org.apache.spark.ml.linalg.{DenseVector, Vector}

/** The softmax of raw scores, shared by the classifiers whose probabilities are that. */
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
}
