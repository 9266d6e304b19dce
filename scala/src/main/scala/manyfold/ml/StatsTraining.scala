package manyfold.ml

import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.nio.channels.Channels

import scala.collection.JavaConverters._
import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.ArrowBatches
import manyfold.jni.{NativeApi, NativeCalls}
import org.apache.arrow.vector.{IntVector, VarBinaryVector, VectorSchemaRoot}
import org.apache.arrow.vector.ipc.ArrowStreamWriter
import org.apache.spark.{HashPartitioner, TaskContext}
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.sql.manyfold.SparkShim

/**
 * Linear models from sufficient statistics (docs/native-interface.md, "Sufficient statistics"):
 * each map task reduces its rows of every group to exact per-group moments natively
 * (`accumulateStats`), only those cross the shuffle, and each reduce task merges a group's partials
 * and solves it (`solveStats`). Taken for linear regression without an L1 part (OLS, ridge) and the
 * gaussian identity GLM when no search, time or fold column is involved and
 * `spark.manyfold.sufficientStats` is `auto`. Off by default: faster than the row path only with
 * many rows per group and map partition.
 */
private[manyfold] object StatsTraining {

  /** `auto`: the statistics path wherever it applies; `off` (the default): always the row path. */
  val ConfKey = "spark.manyfold.sufficientStats"

  /**
   * Rows per native `accumulateStats` call: a group gets one partial per call, so larger batches
   * send fewer partials through the shuffle.
   */
  val StatsBatchRows: Int = 1 << 20

  /** Groups per native `solveStats` call. */
  val SolveGroups: Int = 16384

  /** Whether the statistics path trains this estimator exactly as the row path would. */
  def applies(estimator: NativeEstimator[_], extras: GroupedTraining.Extras): Boolean =
    extras.search.isEmpty && extras.time.isEmpty && extras.fold.isEmpty &&
      NativeApi.get.statsApplies(estimator.algorithm, estimator.paramsJson)

  /** [[applies]], and the path not turned off in `df`'s session. */
  def enabled(
      df: DataFrame,
      estimator: NativeEstimator[_],
      extras: GroupedTraining.Extras
  ): Boolean =
    df.sparkSession.conf.get(ConfKey, "off").trim.toLowerCase match {
      case "off" => false
      case "auto" => applies(estimator, extras)
      case other =>
        throw new IllegalArgumentException(s"$ConfKey must be auto or off, got '$other'")
    }

  /**
   * Map side on the unshuffled input (per partition: rows -> per-task group ids by key -> training
   * batches of about [[StatsBatchRows]] rows -> `accumulateStats` -> (key, stats)), then the (key,
   * stats) pairs shuffled by key into `numPartitions`, then per reduce partition one `solveStats`
   * call per [[SolveGroups]] groups.
   */
  def train(
      selected: DataFrame,
      plan: GroupedTraining.Plan,
      numPartitions: Int
  ): RDD[GroupedTraining.Trained] = {
    val partials =
      SparkShim.queryExecution(selected).toRdd.mapPartitions(rows => accumulate(plan, rows))
    partials
      .partitionBy(new HashPartitioner(math.max(1, numPartitions)))
      .mapPartitions(pairs => solve(plan, pairs))
  }

  private def threads: Int = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

  /** One partition's rows to (group key, statistics bytes), one pair per group and batch. */
  def accumulate(
      plan: GroupedTraining.Plan,
      rows: Iterator[InternalRow]
  ): Iterator[(UnsafeRow, Array[Byte])] = {
    if (!rows.hasNext) return Iterator.empty
    val k = plan.keyTypes.length
    val keyOf = Schemas.projection(plan.keyTypes)
    val batch = plan.newBatch()
    var closed = false
    def close(): Unit = if (!closed) { closed = true; batch.close() }
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    val ids = new GroupedTraining.GroupIds
    val out = ArrayBuffer.empty[(UnsafeRow, Array[Byte])]

    def flush(): Unit = if (batch.numRows > 0) {
      val ipc = batch.writeIpc()
      batch.clear()
      val bytes =
        try NativeCalls.accumulateStats(plan.algorithm, plan.paramsJson, threads, ipc.byteBuffer)
        finally ipc.close()
      readStats(bytes).foreach { case (g, stats) => out += ((ids.key(g), stats)) }
      ids.clear()
    }

    try {
      rows.foreach { row =>
        GroupedTraining.writeRow(plan, row, k, batch, batch.addRow(ids(keyOf(row))))
        if (batch.numRows >= StatsBatchRows) flush()
      }
      flush()
    } finally close()
    out.iterator
  }

  /** A reduce partition's (key, statistics) pairs to one trained group per key. */
  def solve(
      plan: GroupedTraining.Plan,
      pairs: Iterator[(UnsafeRow, Array[Byte])]
  ): Iterator[GroupedTraining.Trained] = {
    val byKey = new java.util.LinkedHashMap[UnsafeRow, ArrayBuffer[Array[Byte]]]()
    pairs.foreach { case (key, stats) =>
      var list = byKey.get(key)
      if (list == null) {
        list = ArrayBuffer.empty[Array[Byte]]
        byKey.put(key, list)
      }
      list += stats
    }
    val out = ArrayBuffer.empty[GroupedTraining.Trained]
    byKey.entrySet().asScala.iterator.grouped(SolveGroups).foreach { chunk =>
      val keys = chunk.map(_.getKey).toIndexedSeq
      val input = writeStats(chunk.map(_.getValue))
      val results =
        NativeCalls.solveStats(
          plan.algorithm,
          plan.paramsJson,
          threads,
          plan.maxRowsPerGroup,
          input
        )
      ArrowBatches.readResults(results, plan.metricColumns).foreach { r =>
        out += GroupedTraining.Trained(keys(r.group), r)
      }
    }
    out.iterator
  }

  /** The `(group, stats)` rows of an `accumulateStats` result. */
  private def readStats(bytes: Array[Byte]): Seq[(Int, Array[Byte])] = {
    val out = ArrayBuffer.empty[(Int, Array[Byte])]
    ArrowBatches.forEachBatch(bytes) { root =>
      val group = root.getVector("group").asInstanceOf[IntVector]
      val stats = root.getVector("stats").asInstanceOf[VarBinaryVector]
      var i = 0
      while (i < root.getRowCount) {
        out += ((group.get(i), stats.get(i)))
        i += 1
      }
    }
    out.toSeq
  }

  /**
   * A `solveStats` input: row per partial, `group` the index of its group in `groups`, as an IPC
   * stream in a direct buffer of exactly its size.
   */
  private def writeStats(groups: Seq[ArrayBuffer[Array[Byte]]]): ByteBuffer = {
    val allocator = ArrowBatches.allocator.newChildAllocator("stats", 0, Long.MaxValue)
    try {
      val group = new IntVector("group", allocator)
      val stats = new VarBinaryVector("stats", allocator)
      val root = VectorSchemaRoot.of(group, stats)
      try {
        var row = 0
        groups.zipWithIndex.foreach { case (partials, g) =>
          partials.foreach { bytes =>
            group.setSafe(row, g)
            stats.setSafe(row, bytes)
            row += 1
          }
        }
        root.setRowCount(row)
        val sink = new ByteArrayOutputStream()
        val writer = new ArrowStreamWriter(root, null, Channels.newChannel(sink))
        try {
          writer.start()
          writer.writeBatch()
          writer.end()
        } finally writer.close()
        val bytes = sink.toByteArray
        val direct = ByteBuffer.allocateDirect(bytes.length)
        direct.put(bytes)
        direct.flip()
        direct
      } finally root.close()
    } finally allocator.close()
  }
}
