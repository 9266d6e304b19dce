package manyfold.ml

import manyfold.jni.NativeApi
import org.json4s.{DefaultFormats, Formats, JValue}
import org.json4s.jackson.JsonMethods.parse

/**
 * What the native registry says of one algorithm (`NativeApi.algorithms`): its task, the training
 * metrics of its results (the models table's metric columns, in order), whether it takes sample
 * weights and whether it reports convergence, and its default params. The Scala side derives these
 * rather than repeating them per estimator.
 */
final case class AlgorithmInfo(
    name: String,
    task: String,
    metrics: Seq[String],
    weights: Boolean,
    iterative: Boolean,
    defaultParams: JValue
)

object AlgorithmInfo {

  private implicit val formats: Formats = DefaultFormats

  /** Every algorithm of the loaded native library, by name. */
  lazy val all: Map[String, AlgorithmInfo] =
    parse(NativeApi.get.algorithms()).children.map { a =>
      val info = AlgorithmInfo(
        name = (a \ "name").extract[String],
        task = (a \ "task").extract[String],
        metrics = (a \ "metrics").extract[Seq[String]],
        weights = (a \ "weights").extract[Boolean],
        iterative = (a \ "iterative").extract[Boolean],
        defaultParams = a \ "defaultParams"
      )
      info.name -> info
    }.toMap

  /** The algorithm of this name (one the native library registers). */
  def apply(name: String): AlgorithmInfo =
    all.getOrElse(
      name,
      throw new IllegalStateException(
        s"the native library has no algorithm '$name' (it has ${all.keys.toSeq.sorted.mkString(", ")}): " +
          "is the jar's native library from another manyfold version?"
      )
    )
}
