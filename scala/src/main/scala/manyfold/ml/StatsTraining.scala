package manyfold.ml

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.{ArrowBatches, IpcBuffer}
import manyfold.jni.NativeApi
import org.apache.arrow.vector.{IntVector, VarBinaryVector, VectorSchemaRoot}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.unsafe.Platform

/**
 * Linear models from sufficient statistics (docs/native-interface.md, "Sufficient statistics"):
 * each map task reduces its rows of a large group to exact per-group moments natively
 * (`accumulateStats`), only those cross the shuffle, and each reduce task merges a group's partials
 * and solves it (`solveGroupBuffer`). Taken for linear regression without an L1 part (OLS, ridge)
 * and the gaussian identity GLM when no search, time or fold column is involved, unless
 * `spark.manyfold.sufficientStats` is `off`.
 *
 * Statistics pay only for groups with many rows: `minRows` ([[MinRowsKey]], by default
 * [[defaultMinRows]] for the feature count). A map task keeps the rows of a group until it has seen
 * `minRows` of them; then it reduces them, and its later rows of the group, to statistics. The rows
 * of a group it never saw that many of cross the shuffle as rows, as in the row path (the map side
 * is [[GroupShuffle.mapSide]]). A reduce task buffers the rows that arrive and collects the
 * partials, then fits each group by its total row count: under `minRows` (it then has no partial)
 * exactly as the row path fits it, else from the exact merge of its partials and its rows'
 * statistics. So the models depend on the data only, not on the partitioning, and small groups get
 * the row path's very bytes.
 */
private[manyfold] object StatsTraining {

  /** `auto` (the default): the statistics path wherever it applies; `off`: always the row path. */
  val ConfKey = "spark.manyfold.sufficientStats"

  /**
   * The fewest rows of a group solved from statistics, and the rows of a group a map task must see
   * before it reduces them; 0 (the default): [[defaultMinRows]].
   */
  val MinRowsKey = "spark.manyfold.sufficientStats.minRows"

  /**
   * `minRows` by default for `p` features: `max(64, 10 p^2)`. The exact solve costs a few hundred
   * exact products per entry of the `(p + 2)(p + 3)/2` statistics, the row path's fit about `p^2`
   * flops a row, so statistics pay only for groups of some `10 p^2` rows and more (measured: the
   * README's "Linear models from sufficient statistics").
   */
  def defaultMinRows(p: Int): Long = math.max(64L, 10L * p * p)

  /**
   * The most bytes of Arrow columns per native `accumulateStats` call. A group gets one partial per
   * call, so larger batches shuffle fewer partials; but a batch is held three times while it is
   * reduced (the Arrow columns, their IPC copy, the native columns), per running task.
   */
  val StatsBatchBytes: Long = 8L << 20

  /** Rows per `accumulateStats` call for `plan`: [[StatsBatchBytes]] of its columns. */
  def statsBatchRows(plan: GroupedTraining.Plan): Int = {
    math.max(1024L, math.min(1L << 20, StatsBatchBytes / plan.rowBytes)).toInt
  }

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
    df.sparkSession.conf.get(ConfKey, "auto").trim.toLowerCase match {
      case "off" => false
      case "auto" => applies(estimator, extras)
      case other =>
        throw new IllegalArgumentException(s"$ConfKey must be auto or off, got '$other'")
    }

  /** The session's [[MinRowsKey]] for `p` features, checked. */
  def minRows(df: DataFrame, p: Int): Long = {
    val value = df.sparkSession.conf.get(MinRowsKey, "0").trim
    scala.util.Try(value.toLong).toOption.filter(_ >= 0) match {
      case Some(0L) => defaultMinRows(p)
      case Some(n) => n
      case None =>
        throw new IllegalArgumentException(
          s"$MinRowsKey must be an integer >= 0 (0: the default), got '$value'"
        )
    }
  }

  /**
   * Rows a map task keeps for groups under `minRows` before it passes them on: bounds its memory
   * when a partition holds many small groups.
   */
  val KeptRowsLimit: Int = 1 << 18

  /**
   * After [[probeRows]] rows, a map task that reduced fewer than half of them to statistics passes
   * its later rows through as rows, without keeping them first, when its groups will hardly reach
   * `minRows` in it: they average fewer than `minRows /` [[TinyGroupFactor]] rows so far, or they
   * come in runs (most rows of the probe's second half are of groups not seen in its first half),
   * so a group's rows so far are about all it will get. Keeping every row of 10,000 groups of 100
   * rows, to pass them on at the end, cost more than the shuffle saved; groups of many rows in
   * random order are kept until they reach `minRows`.
   */
  val ProbeRows: Long = 1L << 14

  /** See [[ProbeRows]]. */
  val TinyGroupFactor: Long = 16

  /**
   * The rows a map task sees before it decides whether to pass rows through ([[ProbeRows]]): at
   * least [[ProbeRows]], and 4 `minRows`, so that one large group has had time to reach `minRows`
   * and be reduced.
   */
  def probeRows(minRows: Long): Long = math.max(ProbeRows, 4 * minRows)

  /**
   * Rows kept per group id, their bytes in a few large shared arrays: no object per row for the
   * garbage collector to trace, however long they are kept. Rows are read through one reused
   * [[UnsafeRow]], valid until the next read.
   */
  private[ml] final class KeptRows(numFields: Int, chunkBytes: Int = 4 << 20) {
    private val chunks = ArrayBuffer.empty[Array[Byte]]
    private var chunk = -1 // the chunk being filled
    private var used = chunkBytes // bytes used of it
    // Per row added since the last clear: its chunk, offset, size, and the next row of its group.
    private var rowChunk = new Array[Int](1024)
    private var rowAt = new Array[Int](1024)
    private var rowSize = new Array[Int](1024)
    private var next = new Array[Int](1024)
    private var n = 0
    // Per group id: its first and last kept row, -1 when none.
    private var head = Array.fill(64)(-1)
    private var tail = Array.fill(64)(-1)
    private var groups = 0 // group ids seen + 1
    private val view = new UnsafeRow(numFields)

    /** Rows added since the last [[clear]], taken ones included. */
    def size: Int = n

    def add(group: Int, row: UnsafeRow): Unit = {
      val bytes = row.getSizeInBytes
      if (chunk < 0 || used + bytes > chunks(chunk).length) {
        chunk += 1
        if (chunk == chunks.length || chunks(chunk).length < bytes) {
          val fresh = new Array[Byte](math.max(chunkBytes, bytes))
          if (chunk == chunks.length) chunks += fresh else chunks(chunk) = fresh
        }
        used = 0
      }
      row.writeToMemory(chunks(chunk), Platform.BYTE_ARRAY_OFFSET + used)
      if (n == rowChunk.length) {
        val grown = 2 * n
        rowChunk = java.util.Arrays.copyOf(rowChunk, grown)
        rowAt = java.util.Arrays.copyOf(rowAt, grown)
        rowSize = java.util.Arrays.copyOf(rowSize, grown)
        next = java.util.Arrays.copyOf(next, grown)
      }
      rowChunk(n) = chunk
      rowAt(n) = used
      rowSize(n) = bytes
      next(n) = -1
      used += bytes
      if (group >= head.length) {
        val grown = math.max(2 * head.length, group + 1)
        val (h, t) = (Array.fill(grown)(-1), Array.fill(grown)(-1))
        System.arraycopy(head, 0, h, 0, head.length)
        System.arraycopy(tail, 0, t, 0, tail.length)
        head = h
        tail = t
      }
      if (head(group) < 0) head(group) = n else next(tail(group)) = n
      tail(group) = n
      groups = math.max(groups, group + 1)
      n += 1
    }

    private def point(row: Int): UnsafeRow = {
      view.pointTo(chunks(rowChunk(row)), Platform.BYTE_ARRAY_OFFSET + rowAt(row), rowSize(row))
      view
    }

    /** Hands `group`'s kept rows to `f`, in the order they came, and forgets them. */
    def take(group: Int)(f: UnsafeRow => Unit): Unit = if (group < head.length) {
      var r = head(group)
      while (r >= 0) { f(point(r)); r = next(r) }
      head(group) = -1
      tail(group) = -1
    }

    /**
     * Calls `f` with every kept row and its group id, group by group (the row valid in the call).
     */
    def foreach(f: (Int, UnsafeRow) => Unit): Unit = {
      var g = 0
      while (g < groups) {
        var r = head(g)
        while (r >= 0) {
          f(g, point(r))
          r = next(r)
        }
        g += 1
      }
    }

    /** Forgets every row; the chunks are reused. */
    def clear(): Unit = {
      var g = 0
      while (g < groups) { head(g) = -1; tail(g) = -1; g += 1 }
      n = 0
      chunk = -1
      used = chunkBytes
    }
  }

  /** The `(group, stats)` rows of an `accumulateStats` result. */
  private[ml] def readStats(bytes: Array[Byte]): Seq[(Int, Array[Byte])] = {
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

  /** A reduce task's statistics partials, by group key, for `solveGroupBuffer`. */
  final class Partials {
    private val keys = ArrayBuffer.empty[UnsafeRow]
    private val bytes = ArrayBuffer.empty[Array[Byte]]

    /** Adds a partial of the group `key` (kept: a copy, not a reused row). */
    def add(key: UnsafeRow, partial: Array[Byte]): Unit = { keys += key; bytes += partial }

    /**
     * The partials as an IPC stream of `group` Int32 (each key's id in `ids`, a new one for a key
     * it lacks) and `stats` Binary, in off-heap memory of exactly its size. The caller closes it.
     */
    def writeIpc(ids: GroupedTraining.GroupIds): IpcBuffer = {
      val allocator = ArrowBatches.allocator.newChildAllocator("stats", 0, Long.MaxValue)
      val group = new IntVector("group", allocator)
      val stats = new VarBinaryVector("stats", allocator)
      val root = VectorSchemaRoot.of(group, stats)
      try {
        var row = 0
        while (row < keys.length) {
          group.setSafe(row, ids(keys(row)))
          stats.setSafe(row, bytes(row))
          row += 1
        }
        root.setRowCount(row)
        IpcBuffer.write(root, ArrowBatches.allocator)
      } finally {
        root.close()
        allocator.close()
      }
    }
  }
}
