package manyfold.jni

import scala.annotation.nowarn

/**
 * Every native method of manyfold, in one class (natives of a Scala `object` would get `$` in their
 * JNI names). The contract, including the Arrow IPC layouts, is docs/native-interface.md. Use
 * [[NativeApi.get]], which loads the library first.
 */
@nowarn("cat=unused-params") // the parameters of @native methods are used by Rust
final class NativeApi private () {
  @native def version(): String
  @native def defaultParams(algorithm: String): String

  /** Every registered algorithm: name, task, metrics, weights, iterative, defaultParams (JSON). */
  @native def algorithms(): String
  @native def trainGroups(
      algorithm: String,
      paramsJson: String,
      threads: Int,
      maxRowsPerGroup: Long,
      batch: java.nio.ByteBuffer
  ): Array[Byte]
  @native def openModels(models: Array[Array[Byte]]): Long
  @native def predict(
      handle: Long,
      threads: Int,
      optionsJson: String,
      batch: java.nio.ByteBuffer
  ): Array[Byte]
  @native def closeModels(handle: Long): Unit

  /**
   * Predicts one row with the first model of a set: `[defined (1 or 0), prediction, nRaw, raw...,
   * nProb, prob...]` (nRaw and nProb 0 when absent).
   */
  @native def predictRow(handle: Long, features: Array[Double]): Array[Double]
  @native def describeModel(model: Array[Byte]): String

  // Searches (docs/native-interface.md, "Search").
  @native def openSearchData(chunks: Array[Array[Byte]], foldsJson: String): Long
  @native def describeSplits(handle: Long): String
  @native def searchFits(
      handle: Long,
      searchJson: String,
      fits: Array[Int],
      threads: Int
  ): Array[Byte]
  @native def closeSearchData(handle: Long): Unit
  @native def searchGroups(
      searchJson: String,
      foldsJson: String,
      threads: Int,
      maxRowsPerGroup: Long,
      batch: java.nio.ByteBuffer
  ): Array[Byte]
  @native def debugFail(kind: String): Unit

  // Sufficient statistics (docs/native-interface.md, "Sufficient statistics").

  /**
   * Per-group exact moments of a training batch: an IPC stream of `group` Int32, `stats` Binary.
   */
  @native def accumulateStats(
      algorithm: String,
      paramsJson: String,
      threads: Int,
      batch: java.nio.ByteBuffer
  ): Array[Byte]

  /** Whether the statistics fit this algorithm and params exactly as `trainGroups` does. */
  @native def statsApplies(algorithm: String, paramsJson: String): Boolean

  // Grouped training without a sort: a task's rows by group in a native group buffer
  // (docs/native-interface.md, "Group buffer").
  @native def openGroupBuffer(maxRowsPerGroup: Long): Long

  /**
   * Fits every group of a buffer by the statistics path from its rows and the statistics partials
   * of its other rows (`group` Int32 by buffer group id, `stats` Binary): the results batch of
   * `trainGroups`; a group of fewer than `minRows` rows (0: the default) is fitted from its rows.
   */
  @native def solveGroupBuffer(
      handle: Long,
      algorithm: String,
      paramsJson: String,
      threads: Int,
      minRows: Long,
      partials: java.nio.ByteBuffer
  ): Array[Byte]
  @native def appendGroupRows(
      handle: Long,
      batch: java.nio.ByteBuffer,
      groupIds: Array[Int]
  ): Unit
  @native def trainGroupBuffer(
      handle: Long,
      algorithm: String,
      paramsJson: String,
      threads: Int
  ): Array[Byte]
  @native def searchGroupBuffer(
      handle: Long,
      searchJson: String,
      foldsJson: String,
      threads: Int
  ): Array[Byte]
  @native def closeGroupBuffer(handle: Long): Unit
}

object NativeApi {
  private lazy val instance: NativeApi = {
    NativeLoader.load()
    new NativeApi()
  }

  /** The native API, loading the library on first use in this JVM. */
  def get: NativeApi = instance
}
