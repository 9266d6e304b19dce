package manyfold.ml

import manyfold.jni.NativeApi

/**
 * One row's native prediction: the prediction (null when a feature is null), and for classifiers
 * the raw scores and, where the model has them, the probabilities per class.
 */
private[manyfold] final case class RowPrediction(
    prediction: Option[Double],
    raw: Option[Array[Double]],
    probability: Option[Array[Double]]
)

private[manyfold] object RowPrediction {

  /** Decodes `predictRow`'s `[defined, prediction, nRaw, raw..., nProb, prob...]`. */
  def apply(out: Array[Double]): RowPrediction = {
    val nRaw = out(2).toInt
    val nProb = out(3 + nRaw).toInt
    RowPrediction(
      if (out(0) != 0) Some(out(1)) else None,
      if (nRaw > 0) Some(out.slice(3, 3 + nRaw)) else None,
      if (nProb > 0) Some(out.slice(4 + nRaw, 4 + nRaw + nProb)) else None
    )
  }
}

/**
 * Decoded models for single-row prediction, behind native handles: a small LRU keyed by the model
 * bytes' identity, whose evicted handles are closed. Predictions hold the lock, so a handle is
 * never closed while in use; single-row prediction is for occasional calls (Spark's `predict`,
 * `OneVsRest` internals), batch `transform` is the fast path.
 */
private[manyfold] object ModelHandles {

  private val Capacity = 16

  private val open = new java.util.LinkedHashMap[Array[Byte], java.lang.Long](16, 0.75f, true) {
    override def removeEldestEntry(
        e: java.util.Map.Entry[Array[Byte], java.lang.Long]
    ): Boolean = {
      val evict = size() > Capacity
      if (evict) NativeApi.get.closeModels(e.getValue)
      evict
    }
  }

  def predictRow(bytes: Array[Byte], features: Array[Double]): Array[Double] = synchronized {
    // Identity keys (arrays hash by reference): the same model object reuses its handle.
    val handle = Option(open.get(bytes)).map(_.longValue).getOrElse {
      val h = NativeApi.get.openModels(Array(bytes))
      open.put(bytes, h)
      h
    }
    NativeApi.get.predictRow(handle, features)
  }
}
