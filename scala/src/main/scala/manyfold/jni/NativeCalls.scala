package manyfold.jni

import java.nio.ByteBuffer
import java.util.concurrent.atomic.AtomicLong

/**
 * The native calls that move data, counted per JVM (each executor counts its own; in local mode the
 * driver sees them all). Tests use the counts to check batching (many groups per `trainGroups`
 * call) and that every opened model set is closed.
 */
object NativeCalls {
  private val trainGroupsCount = new AtomicLong
  private val predictCount = new AtomicLong
  private val openCount = new AtomicLong
  private val closeCount = new AtomicLong

  private val openSearchDataCount = new AtomicLong

  def trainGroupsCalls: Long = trainGroupsCount.get

  /** Search data sets decoded natively in this JVM. */
  def openSearchDataCalls: Long = openSearchDataCount.get
  def predictCalls: Long = predictCount.get
  def openModelsCalls: Long = openCount.get
  def closeModelsCalls: Long = closeCount.get

  private[manyfold] def trainGroups(
      algorithm: String,
      paramsJson: String,
      threads: Int,
      maxRowsPerGroup: Long,
      batch: ByteBuffer
  ): Array[Byte] = {
    trainGroupsCount.incrementAndGet()
    NativeApi.get.trainGroups(algorithm, paramsJson, threads, maxRowsPerGroup, batch)
  }

  private[manyfold] def searchGroups(
      searchJson: String,
      foldsJson: String,
      threads: Int,
      maxRowsPerGroup: Long,
      batch: ByteBuffer
  ): Array[Byte] = {
    trainGroupsCount.incrementAndGet()
    NativeApi.get.searchGroups(searchJson, foldsJson, threads, maxRowsPerGroup, batch)
  }

  private[manyfold] def openSearchData(chunks: Array[Array[Byte]], foldsJson: String): Long = {
    openSearchDataCount.incrementAndGet()
    NativeApi.get.openSearchData(chunks, foldsJson)
  }

  private[manyfold] def openModels(models: Array[Array[Byte]]): Long = {
    val handle = NativeApi.get.openModels(models)
    openCount.incrementAndGet()
    handle
  }

  private[manyfold] def predict(
      handle: Long,
      threads: Int,
      optionsJson: String,
      batch: ByteBuffer
  ): Array[Byte] = {
    predictCount.incrementAndGet()
    NativeApi.get.predict(handle, threads, optionsJson, batch)
  }

  private[manyfold] def closeModels(handle: Long): Unit = {
    closeCount.incrementAndGet()
    NativeApi.get.closeModels(handle)
  }

  // Sufficient statistics.
  private val accumulateStatsCount = new AtomicLong
  private val solveStatsCount = new AtomicLong

  /** Map-side statistics calls in this JVM (tests check the statistics path was taken). */
  def accumulateStatsCalls: Long = accumulateStatsCount.get
  def solveStatsCalls: Long = solveStatsCount.get

  private[manyfold] def accumulateStats(
      algorithm: String,
      paramsJson: String,
      threads: Int,
      batch: ByteBuffer
  ): Array[Byte] = {
    accumulateStatsCount.incrementAndGet()
    NativeApi.get.accumulateStats(algorithm, paramsJson, threads, batch)
  }

  private[manyfold] def solveGroupBuffer(
      handle: Long,
      algorithm: String,
      paramsJson: String,
      threads: Int,
      minRows: Long,
      partials: ByteBuffer
  ): Array[Byte] = {
    solveStatsCount.incrementAndGet()
    NativeApi.get.solveGroupBuffer(handle, algorithm, paramsJson, threads, minRows, partials)
  }

  // Grouped training without a sort (docs/native-interface.md, "Group buffer"). Training or
  // searching a buffer counts as a `trainGroups` call.
  private val openGroupBufferCount = new AtomicLong
  private val closeGroupBufferCount = new AtomicLong
  private val appendGroupRowsCount = new AtomicLong

  def openGroupBufferCalls: Long = openGroupBufferCount.get
  def closeGroupBufferCalls: Long = closeGroupBufferCount.get

  /** Chunks of rows handed to group buffers in this JVM. */
  def appendGroupRowsCalls: Long = appendGroupRowsCount.get

  private[manyfold] def openGroupBuffer(maxRowsPerGroup: Long): Long = {
    val handle = NativeApi.get.openGroupBuffer(maxRowsPerGroup)
    openGroupBufferCount.incrementAndGet()
    handle
  }

  /** Appends a batch whose `group` column numbers its own groups: `groupIds` maps them. */
  private[manyfold] def appendGroupRows(
      handle: Long,
      batch: ByteBuffer,
      groupIds: Array[Int]
  ): Unit = {
    appendGroupRowsCount.incrementAndGet()
    NativeApi.get.appendGroupRows(handle, batch, groupIds)
  }

  private[manyfold] def trainGroupBuffer(
      handle: Long,
      algorithm: String,
      paramsJson: String,
      threads: Int
  ): Array[Byte] = {
    trainGroupsCount.incrementAndGet()
    NativeApi.get.trainGroupBuffer(handle, algorithm, paramsJson, threads)
  }

  private[manyfold] def searchGroupBuffer(
      handle: Long,
      searchJson: String,
      foldsJson: String,
      threads: Int
  ): Array[Byte] = {
    trainGroupsCount.incrementAndGet()
    NativeApi.get.searchGroupBuffer(handle, searchJson, foldsJson, threads)
  }

  private[manyfold] def closeGroupBuffer(handle: Long): Unit = {
    closeGroupBufferCount.incrementAndGet()
    NativeApi.get.closeGroupBuffer(handle)
  }
}
