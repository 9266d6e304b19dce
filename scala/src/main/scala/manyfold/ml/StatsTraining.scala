package manyfold.ml

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.{ArrowBatches, IpcBuffer}
import manyfold.jni.{NativeApi, NativeCalls}
import org.apache.arrow.vector.{IntVector, VarBinaryVector, VectorSchemaRoot}
import org.apache.spark.TaskContext
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{GenericInternalRow, JoinedRow, UnsafeRow}
import org.apache.spark.sql.manyfold.SparkShim
import org.apache.spark.sql.types.{BinaryType, StructField, StructType}

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
 * of a group it never saw that many of cross the shuffle as they are, as in the row path. A reduce
 * task buffers the rows that arrive and collects the partials, then fits each group by its total
 * row count: under `minRows` (it then has no partial) exactly as the row path fits it, else from
 * the exact merge of its partials and its rows' statistics. So the models depend on the data only,
 * not on the partitioning, and small groups get the row path's very bytes.
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

  /** Rows per native `accumulateStats` call: a group gets one partial per call. */
  val StatsBatchRows: Int = 1 << 20

  /** The column of a partial's bytes after the selected columns in the shuffle (null on rows). */
  private val PartialColumn = "__manyfold_partial"

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
   * Map side on the unshuffled input ([[accumulate]]: rows of small groups as they are, partials of
   * large ones), shuffled by group key into `numPartitions` (Spark SQL's exchange), then per reduce
   * partition [[GroupedTraining.trainPartition]] with the partials.
   */
  def train(
      selected: DataFrame,
      keyFields: Seq[StructField],
      plan: GroupedTraining.Plan,
      numPartitions: Int,
      minRows: Long
  ): RDD[GroupedTraining.Trained] = {
    val k = keyFields.length
    val width = selected.schema.length + 1
    val mapped = SparkShim
      .queryExecution(selected)
      .toRdd
      .mapPartitions(rows => accumulate(plan, minRows, width, rows))
    // Partials have nulls in the value columns: every column but the keys is nullable.
    val schema = StructType(selected.schema.fields.zipWithIndex.map { case (f, i) =>
      if (i < k) f else f.copy(nullable = true)
    } :+ StructField(PartialColumn, BinaryType, nullable = true))
    val df = SparkShim.createDataFrame(selected.sparkSession, mapped, schema)
    val shuffled =
      if (k == 0) df.repartition(1)
      else
        df.repartition(math.max(1, numPartitions), keyFields.map(f => Schemas.column(f.name)): _*)
    SparkShim.queryExecution(shuffled).toRdd.mapPartitions { rows =>
      GroupedTraining.trainPartition(plan, rows, statsMinRows = minRows)
    }
  }

  private def threads: Int = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

  /**
   * Rows a map task keeps for groups under `minRows` before it passes them on: bounds its memory
   * when a partition holds many small groups.
   */
  val KeptRows: Int = 1 << 18

  /**
   * One partition's rows (the selected columns) to the rows to shuffle (those columns and the
   * partial's, `width` in all): a group's rows are kept until the task has seen `minRows` of them,
   * then they and its later rows go into a training batch, reduced to one statistics partial per
   * group and batch of [[StatsBatchRows]] rows (a row of the key columns, nulls, and the partial's
   * bytes); kept rows are passed on as they are when the input ends or `keptLimit` are kept.
   */
  def accumulate(
      plan: GroupedTraining.Plan,
      minRows: Long,
      width: Int,
      rows: Iterator[InternalRow],
      keptLimit: Int = KeptRows
  ): Iterator[InternalRow] = {
    if (!rows.hasNext) return Iterator.empty
    val k = plan.keyTypes.length
    val keyOf = Schemas.projection(plan.keyTypes)
    val batch = plan.newBatch()
    var closed = false
    def close(): Unit = if (!closed) { closed = true; batch.close() }
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    val ids = new GroupedTraining.GroupIds
    var counts = new Array[Long](64) // task group id -> rows seen
    // Rows kept per task group id while it is under minRows; null once it reached it.
    val kept = ArrayBuffer.empty[ArrayBuffer[InternalRow]]
    var keptRows = 0
    val batchIds = new GroupedTraining.GroupIds // per training batch, as accumulateStats numbers
    val out = ArrayBuffer.empty[InternalRow]
    val noPartial = new GenericInternalRow(1)

    def flush(): Unit = if (batch.numRows > 0) {
      val ipc = batch.writeIpc()
      batch.clear()
      val bytes =
        try NativeCalls.accumulateStats(plan.algorithm, plan.paramsJson, threads, ipc.byteBuffer)
        finally ipc.close()
      readStats(bytes).foreach { case (g, stats) =>
        val key = batchIds.key(g)
        val values = new Array[Any](width)
        var i = 0
        while (i < k) { values(i) = key.get(i, plan.keyTypes(i)); i += 1 }
        values(width - 1) = stats
        out += new GenericInternalRow(values)
      }
      batchIds.clear()
    }

    def toBatch(key: UnsafeRow, row: InternalRow): Unit = {
      GroupedTraining.writeRow(plan, row, k, batch, batch.addRow(batchIds(key)))
      if (batch.numRows >= StatsBatchRows) flush()
    }

    def add(row: InternalRow): Unit = {
      val key = keyOf(row)
      val id = ids(key)
      if (id == counts.length) counts = java.util.Arrays.copyOf(counts, 2 * id)
      if (id == kept.length) kept += ArrayBuffer.empty[InternalRow]
      counts(id) += 1
      if (counts(id) < minRows) {
        kept(id) += row.copy()
        keptRows += 1
      } else {
        if (counts(id) == minRows) {
          keptRows -= kept(id).length
          kept(id).foreach(r => toBatch(key, r))
          kept(id) = null
        }
        toBatch(key, row)
      }
    }

    /** The kept rows and the partials so far, forgotten here. */
    def drain(): Iterator[InternalRow] = {
      val rows = kept.filter(_ != null).flatMap(_.iterator).map(new JoinedRow(_, noPartial))
      kept.indices.foreach(g => if (kept(g) != null) kept(g) = ArrayBuffer.empty[InternalRow])
      keptRows = 0
      val partials = out.toList
      out.clear()
      rows.iterator ++ partials.iterator
    }

    new Iterator[InternalRow] {
      private var pending: Iterator[InternalRow] = Iterator.empty
      private var done = false

      override def hasNext: Boolean = {
        while (!pending.hasNext && !done) {
          while (rows.hasNext && keptRows < keptLimit) add(rows.next())
          if (!rows.hasNext) {
            flush()
            close()
            done = true
          }
          pending = drain()
        }
        pending.hasNext
      }

      override def next(): InternalRow =
        if (hasNext) pending.next() else throw new NoSuchElementException("no more rows")
    }
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

  /** A reduce task's statistics partials, by its group ids, for `solveGroupBuffer`. */
  final class Partials {
    private val groups = ArrayBuffer.empty[Int]
    private val bytes = ArrayBuffer.empty[Array[Byte]]

    def add(group: Int, partial: Array[Byte]): Unit = { groups += group; bytes += partial }

    /**
     * The partials as an IPC stream of `group` Int32 and `stats` Binary, in off-heap memory of
     * exactly its size. The caller closes it.
     */
    def writeIpc(): IpcBuffer = {
      val allocator = ArrowBatches.allocator.newChildAllocator("stats", 0, Long.MaxValue)
      val group = new IntVector("group", allocator)
      val stats = new VarBinaryVector("stats", allocator)
      val root = VectorSchemaRoot.of(group, stats)
      try {
        var row = 0
        while (row < groups.length) {
          group.setSafe(row, groups(row))
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
