package org.apache.spark.ml.util

import org.apache.spark.SparkContext
import org.apache.spark.ml.param.Params
import org.json4s.{JObject, JValue}
import org.json4s.jackson.JsonMethods.{compact, parse, render}

/**
 * Spark's own stage metadata writer and reader (`DefaultParamsWriter`/`DefaultParamsReader`, which
 * are `private[ml]`), opened to manyfold so that its stages are saved in exactly Spark's layout
 * (`metadata/part-00000` JSON + `data/`) and load like Spark's own. Lives in Spark's package for
 * that reason only; it holds no logic.
 */
object ManyfoldMetadata {

  /** Saved stage metadata: its uid, class, the whole JSON, and a way to set its params. */
  final class Loaded private[ManyfoldMetadata] (metadata: DefaultParamsReader.Metadata) {
    def uid: String = metadata.uid
    def className: String = metadata.className
    def json: JValue = metadata.metadata
    def setParams(instance: Params): Unit = metadata.getAndSetParams(instance)

    /** Sets the saved params except `skip` (params saved another way, like a search's grid). */
    def setParams(instance: Params, skip: Seq[String]): Unit =
      metadata.getAndSetParams(instance, Some(skip.toList))

    /** The saved value of one param, as JSON. */
    def param(name: String): JValue = metadata.params \ name
  }

  /** Writes `path/metadata` for a stage, with `extra` fields added to the JSON. */
  def save(instance: Params, path: String, sc: SparkContext, extra: Option[JObject]): Unit =
    DefaultParamsWriter.saveMetadata(instance, path, sc, extra)

  /**
   * Writes `path/metadata` for a stage whose params JSON is given (Spark's searches save their
   * estimator, evaluator and grid apart from the other params).
   */
  def save(
      instance: Params,
      path: String,
      sc: SparkContext,
      extra: Option[JObject],
      params: JValue
  ): Unit =
    DefaultParamsWriter.saveMetadata(instance, path, sc, extra, Some(params))

  /** Loads any stage saved in Spark's layout (its class's reader, found from its metadata). */
  def loadStage[T](path: String, sc: SparkContext): T =
    DefaultParamsReader.loadParamsInstance[T](path, sc)

  /** The metadata JSON of a stage (class, uid, params), to embed in another stage's metadata. */
  def toJson(instance: Params, sc: SparkContext): JValue =
    parse(DefaultParamsWriter.getMetadataToSave(instance, sc))

  /** Reads `path/metadata`, checking that it was written by `expectedClassName`. */
  def load(path: String, sc: SparkContext, expectedClassName: String): Loaded =
    new Loaded(DefaultParamsReader.loadMetadata(path, sc, expectedClassName))

  /** Parses metadata JSON embedded with [[toJson]]. */
  def fromJson(json: JValue): Loaded =
    new Loaded(DefaultParamsReader.parseMetadata(compact(render(json))))
}
