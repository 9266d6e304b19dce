package manyfold.ml

import java.nio.{ByteBuffer, ByteOrder}

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.{ArrowBatches, BatchBuilder, IpcBuffer}
import manyfold.jni.NativeCalls
import org.apache.arrow.memory.ArrowBuf
import org.apache.spark.TaskContext
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.sql.manyfold.{ColumnarInput, RowShuffle, SparkShim}
import org.apache.spark.sql.types.DataType
import org.apache.spark.sql.vectorized.ColumnarBatch
import org.apache.spark.unsafe.Platform

/**
 * The group shuffle of grouped training: map tasks pack their rows by shuffle partition into Arrow
 * training batches, and only those batches (and statistics partials) cross the shuffle, a few
 * records per map task and partition instead of one per row. A reduce task hands each batch to its
 * native group buffer as it is, with no per-row work on the JVM side.
 *
 * A record is an UnsafeRow of three binary columns:
 *   - `keys`: the record's groups, each as (Int32 size, the key columns as UnsafeRow bytes, Int64
 *     rows), little-endian, in the order of the record's own group numbers;
 *   - `rows`: an IPC training batch (the columns of [[GroupedTraining.Plan.newBatch]]) whose
 *     `group` column holds those numbers; null for a partial;
 *   - `partial`: the statistics partial of the record's one group ([[StatsTraining]]); null for
 *     rows.
 */
private[manyfold] object GroupShuffle {

  /** Columns of a record. */
  val Fields = 3

  /**
   * Bytes of Arrow columns a map task fills before it sends a batch, over all its shuffle
   * partitions: each partition's batch is cut at this share of it, at least 1,024 rows.
   */
  val PackBytes: Long = 16L << 20

  /** Rows per record for `plan` with `numPartitions` shuffle partitions. */
  def packRows(plan: GroupedTraining.Plan, numPartitions: Int): Int = {
    val share = PackBytes / math.max(1, numPartitions) / plan.rowBytes
    math.max(1L, math.min(plan.batchRows.toLong, math.max(1024L, share))).toInt
  }

  /**
   * Trains one model per group of `selected` (in the row layout of [[GroupedTraining.select]]):
   * [[mapSide]] on its partitions, the records shuffled by group key into `numPartitions`, then
   * [[GroupedTraining.trainPartition]] per reduce partition. `minRows` > 0 takes the statistics
   * path for groups of that many rows ([[StatsTraining]]).
   */
  def train(
      selected: DataFrame,
      plan: GroupedTraining.Plan,
      numPartitions: Int,
      minRows: Long
  ): RDD[GroupedTraining.Trained] = {
    val types = selected.schema.map(_.dataType)
    val parts = math.max(1, numPartitions)
    // Column batches carry plain numeric columns only: no fold column, no Vector features.
    val plain = plan.fold.isEmpty && plan.layout.vectorColumn.isEmpty
    val mapped = (if (plain) ColumnarInput.batches(selected) else None) match {
      case Some(batches) =>
        batches.mapPartitions(b => mapSide(plan, types, Right(b), parts, minRows))
      case None =>
        GroupedTraining
          .rethrowInvalidInput(SparkShim.queryExecution(selected).toRdd)
          .mapPartitions(rows => mapSide(plan, types, Left(rows), parts, minRows))
    }
    RowShuffle(mapped, parts, Fields).mapPartitions { records =>
      GroupedTraining.trainPartition(plan, records, statsMinRows = minRows)
    }
  }

  /**
   * One partition's rows (of `inputTypes`, key columns first), given as rows or as columnar batches
   * of plain numeric columns (no fold column, no vector), as records with their shuffle partitions
   * (the key's hash). With `minRows` 0, every row is packed, a batch at a time when the input is
   * batches. Else a group's rows are kept until the task has seen `minRows` of them; then they and
   * its later rows go into a statistics batch, reduced to one partial per group and batch of
   * `statsRows` rows ([[StatsTraining.statsBatchRows]] when 0). Kept rows are packed when the input
   * ends or `keptLimit` rows were kept, and the rows after the first `probeRows`
   * ([[StatsTraining.probeRows]] when 0) are packed at once when those say the groups will hardly
   * reach `minRows` in this task ([[StatsTraining.ProbeRows]]).
   */
  def mapSide(
      plan: GroupedTraining.Plan,
      inputTypes: Seq[DataType],
      input: Either[Iterator[InternalRow], Iterator[ColumnarBatch]],
      numPartitions: Int,
      minRows: Long = 0,
      keptLimit: Int = StatsTraining.KeptRowsLimit,
      probeRows: Long = 0,
      statsRows: Int = 0
  ): Iterator[(Int, InternalRow)] = {
    val more: Iterator[_] = input.fold(identity, identity)
    if (!more.hasNext) return Iterator.empty
    val k = plan.keyTypes.length
    val toUnsafe = Schemas.projection(inputTypes)
    val ids = new GroupedTraining.GroupIds(plan.keyTypes)
    var partitionOf = new Array[Int](64) // task group id -> shuffle partition
    var counts = new Array[Long](64) // task group id -> rows seen
    val out = ArrayBuffer.empty[(Int, InternalRow)]
    val packer = new Packer(plan, numPartitions, ids, out)
    val statsLimit = if (statsRows > 0) statsRows else StatsTraining.statsBatchRows(plan)
    val stats = if (minRows > 0) plan.newBatch() else null
    if (stats != null) stats.expectRows(statsLimit)
    var closed = false
    def close(): Unit = if (!closed) {
      closed = true
      try packer.close()
      finally if (stats != null) stats.close()
    }
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    val kept = if (minRows > 0) new StatsTraining.KeptRows(inputTypes.length) else null
    // Per statistics batch, as accumulateStats numbers.
    val batchIds = new GroupedTraining.GroupIds(plan.keyTypes)
    // The shuffle partition of a key row: rows and partials of a group go to the same one.
    def partitionOfKey(key: UnsafeRow): Int = Math.floorMod(key.hashCode, numPartitions)

    def flushStats(): Unit = if (stats != null && stats.numRows > 0) {
      val ipc = stats.writeIpc()
      stats.clear()
      val bytes =
        try
          NativeCalls.accumulateStats(plan.algorithm, plan.paramsJson, threads, ipc.byteBuffer)
        finally ipc.close()
      StatsTraining.readStats(bytes).foreach { case (g, partial) =>
        val key = batchIds.key(g)
        out += ((partitionOfKey(key), record(writeKeys(1, _ => key, _ => 0L), null, partial)))
      }
      batchIds.clear()
    }

    var reduced = 0L // rows that went to statistics
    def toStats(row: InternalRow): Unit = {
      GroupedTraining.writeRow(plan, row, k, stats, stats.addRow(batchIds.ofRow(row)))
      if (stats.numRows >= statsLimit) flushStats()
    }

    // Rows `rows(0 until count)` of `batch` into statistics, a column at a time.
    var statsNumbers = new Array[Int](0)
    def toStatsBatch(batch: ColumnarBatch, rows: Array[Int], count: Int): Unit = {
      if (statsNumbers.length < count) statsNumbers = new Array[Int](count)
      var at = 0
      while (at < count) {
        val c = math.min(count - at, statsLimit - stats.numRows)
        var r = 0
        while (r < c) {
          statsNumbers(r) = batchIds.ofRow(batch.getRow(rows(at + r)))
          r += 1
        }
        copyColumns(plan, stats, stats.addRows(statsNumbers, c), batch, rows, at, c)
        if (stats.numRows >= statsLimit) flushStats()
        at += c
      }
    }

    def packKept(): Unit = {
      kept.foreach((g, r) => packer.add(g, partitionOf(g), r))
      kept.clear()
    }

    var seen = 0L
    // Set at probeAt rows when fewer than half of them went to statistics, and the groups are
    // either tiny or come in runs (the rows after probeAt / 2 are mostly of groups not seen
    // before it), so they will hardly reach minRows later (or when there are no statistics): the
    // later rows are packed at once, without keeping them. Any split is correct: the reduce side
    // decides by a group's total rows.
    var passing = minRows == 0
    val probeAt = if (probeRows > 0) probeRows else StatsTraining.probeRows(minRows)
    val half = probeAt / 2
    var groupsAtHalf = 0 // groups seen in the first `half` rows
    var recurring = 0L // rows after `half` of those groups

    // The task id of `row`'s group, the row counted.
    def countRow(row: InternalRow): Int = {
      val id = ids.ofRow(row)
      if (id == counts.length) {
        counts = java.util.Arrays.copyOf(counts, 2 * id)
        partitionOf = java.util.Arrays.copyOf(partitionOf, 2 * id)
      }
      if (counts(id) == 0) partitionOf(id) = partitionOfKey(ids.key(id))
      counts(id) += 1
      id
    }

    // Packs or keeps `row` of group `id` (counted); true when it goes to statistics instead (the
    // caller writes it there; a group's kept rows go there first).
    def place(row: InternalRow, id: Int): Boolean = {
      var toStatistics = false
      if (passing) packer.add(id, partitionOf(id), row)
      else if (counts(id) < minRows) {
        kept.add(
          id,
          row match {
            case u: UnsafeRow => u
            case other => toUnsafe(other)
          }
        )
        if (kept.size >= keptLimit) packKept()
      } else {
        if (counts(id) == minRows) kept.take(id) { r => toStats(r); reduced += 1 }
        reduced += 1
        toStatistics = true
      }
      seen += 1
      if (seen == half) groupsAtHalf = ids.size
      else if (seen > half && id < groupsAtHalf) recurring += 1
      if (!passing && seen == probeAt && 2 * reduced < seen) {
        val tiny = seen * StatsTraining.TinyGroupFactor < ids.size * minRows
        val runs = 2 * recurring < seen - half
        passing = tiny || runs
      }
      toStatistics
    }

    def add(row: InternalRow): Unit = if (place(row, countRow(row))) toStats(row)

    // A batch's task group ids and shuffle partitions by row, and its rows to statistics (reused).
    var batchIdOf = new Array[Int](0)
    var batchPartOf = new Array[Int](0)
    var batchStats = new Array[Int](0)

    def addBatch(batch: ColumnarBatch): Unit = {
      val n = batch.numRows
      if (batchIdOf.length < n) {
        batchIdOf = new Array[Int](n)
        batchPartOf = new Array[Int](n)
        batchStats = new Array[Int](n)
      }
      var i = 0
      var toStatistics = 0
      while (i < n && !passing) {
        val row = batch.getRow(i)
        if (place(row, countRow(row))) {
          batchStats(toStatistics) = i
          toStatistics += 1
        }
        i += 1
      }
      if (toStatistics > 0) toStatsBatch(batch, batchStats, toStatistics)
      if (i < n) {
        val from = i
        while (i < n) {
          val id = countRow(batch.getRow(i))
          batchIdOf(i) = id
          batchPartOf(i) = partitionOf(id)
          i += 1
        }
        packer.addBatch(batch, from, n, batchIdOf, batchPartOf)
        seen += n - from
      }
    }

    def finish(): Unit = {
      if (kept != null) packKept()
      flushStats()
      packer.flushAll()
      close()
    }

    new Iterator[(Int, InternalRow)] {
      private var at = 0
      private var done = false

      override def hasNext: Boolean = {
        while (at == out.length && !done) {
          out.clear()
          at = 0
          input match {
            case Left(rows) => while (out.isEmpty && rows.hasNext) add(rows.next())
            case Right(batches) => while (out.isEmpty && batches.hasNext) addBatch(batches.next())
          }
          if (!more.hasNext) {
            finish()
            done = true
          }
        }
        at < out.length
      }

      override def next(): (Int, InternalRow) =
        if (!hasNext) throw new NoSuchElementException("no more records")
        else {
          at += 1
          out(at - 1)
        }
    }
  }

  private def threads: Int = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

  /**
   * Copies rows `order(from until from + count)` of `batch` (the layout of the map side's rows:
   * keys, then plain numeric columns) into rows `at until at + count` of `to`, a column at a time.
   */
  private def copyColumns(
      plan: GroupedTraining.Plan,
      to: BatchBuilder,
      at: Int,
      batch: ColumnarBatch,
      order: Array[Int],
      from: Int,
      count: Int
  ): Unit = {
    val k = plan.keyTypes.length
    var j = 0
    while (j < plan.scalarCount + plan.layout.size) {
      to.copyColumn(j, at, batch.column(k + j), order, from, count)
      j += 1
    }
  }

  /**
   * A map task's rows packed per shuffle partition: one training batch per partition, its `group`
   * column numbering the batch's own groups; a batch full at [[packRows]] rows, or any at
   * [[flushAll]], becomes a record in `out`. `ids` are the task's group ids (each in one
   * partition).
   */
  private final class Packer(
      plan: GroupedTraining.Plan,
      numPartitions: Int,
      ids: GroupedTraining.GroupIds,
      out: ArrayBuffer[(Int, InternalRow)]
  ) {
    private val k = plan.keyTypes.length
    private val limit = packRows(plan, numPartitions)
    private val batches = new Array[BatchBuilder](numPartitions)
    // Per partition: the task ids of its open batch's groups, by the batch's group number, and
    // how many there are.
    private val groups = Array.fill(numPartitions)(new Array[Int](16))
    private val groupCount = new Array[Int](numPartitions)
    // Per task id: its number in its partition's open batch (-1: none yet) and rows there.
    private var number = Array.fill(64)(-1)
    private var rowsOf = new Array[Long](64)

    def add(id: Int, part: Int, row: InternalRow): Unit = {
      val batch = openBatch(part)
      GroupedTraining.writeRow(plan, row, k, batch, batch.addRow(numberIn(part, id)))
      if (batch.numRows >= limit) flush(part)
    }

    // addBatch's rows ordered by partition, per-partition starts, and group numbers (reused).
    private var order = new Array[Int](0)
    private val starts = new Array[Int](numPartitions + 1)
    private var numbers = new Array[Int](0)

    /**
     * Packs rows `from until to` of `batch` (the layout of [[add]]'s rows, plain numeric columns),
     * row `i` of task group `idOf(i)` and partition `partOf(i)`: rows of a partition together, a
     * column at a time.
     */
    def addBatch(
        batch: ColumnarBatch,
        from: Int,
        to: Int,
        idOf: Array[Int],
        partOf: Array[Int]
    ): Unit = {
      if (order.length < to) {
        order = new Array[Int](to)
        numbers = new Array[Int](to)
      }
      java.util.Arrays.fill(starts, 0)
      var i = from
      while (i < to) {
        starts(partOf(i) + 1) += 1
        i += 1
      }
      var part = 0
      while (part < numPartitions) {
        starts(part + 1) += starts(part)
        part += 1
      }
      val next = java.util.Arrays.copyOf(starts, numPartitions)
      i = from
      while (i < to) {
        val p = partOf(i)
        order(next(p)) = i
        next(p) += 1
        i += 1
      }
      part = 0
      while (part < numPartitions) {
        var at = starts(part)
        val end = starts(part + 1)
        while (at < end) {
          val b = openBatch(part)
          val count = math.min(end - at, limit - b.numRows)
          var r = 0
          while (r < count) {
            numbers(r) = numberIn(part, idOf(order(at + r)))
            r += 1
          }
          copyColumns(plan, b, b.addRows(numbers, count), batch, order, at, count)
          if (b.numRows >= limit) flush(part)
          at += count
        }
        part += 1
      }
    }

    // Partition `part`'s open batch, made at its first row.
    private def openBatch(part: Int): BatchBuilder = {
      if (batches(part) == null) {
        batches(part) = plan.newBatch()
        batches(part).expectRows(limit)
      }
      batches(part)
    }

    // The number of task group `id` in partition `part`'s open batch (a new one if it has none
    // there yet), for one more row of it.
    private def numberIn(part: Int, id: Int): Int = {
      if (id >= number.length) {
        val grown = math.max(2 * number.length, id + 1)
        val n = Array.fill(grown)(-1)
        System.arraycopy(number, 0, n, 0, number.length)
        number = n
        rowsOf = java.util.Arrays.copyOf(rowsOf, grown)
      }
      if (number(id) < 0) {
        val n = groupCount(part)
        if (n == groups(part).length) groups(part) = java.util.Arrays.copyOf(groups(part), 2 * n)
        groups(part)(n) = id
        groupCount(part) = n + 1
        number(id) = n
      }
      rowsOf(id) += 1
      number(id)
    }

    private def flush(part: Int): Unit = {
      val batch = batches(part)
      if (batch != null && batch.numRows > 0) {
        val ofBatch = groups(part)
        val count = groupCount(part)
        val keys = writeKeys(count, n => ids.key(ofBatch(n)), n => rowsOf(ofBatch(n)))
        out += ((part, packedRecord(keys, batch)))
        batch.clear()
        var n = 0
        while (n < count) {
          number(ofBatch(n)) = -1
          rowsOf(ofBatch(n)) = 0
          n += 1
        }
        groupCount(part) = 0
      }
    }

    def flushAll(): Unit = (0 until numPartitions).foreach(flush)

    def close(): Unit = batches.foreach(b => if (b != null) b.close())
  }

  /**
   * A record: an UnsafeRow of [[Fields]] binary columns (null where absent), laid out in one array:
   * the null bits (one word), a word per column (its offset in the row and its size), then each
   * present column's bytes, padded to words. The rows batch is copied once, from its IPC buffer.
   */
  private[ml] def record(keys: Array[Byte], rows: IpcBuffer, partial: Array[Byte]): InternalRow =
    layout(keys, if (rows == null) -1L else rows.size, partial)(rows.copyTo)

  /** A [[record]] of packed rows, `batch` written as IPC straight into the record's array. */
  private[ml] def packedRecord(keys: Array[Byte], batch: BatchBuilder): InternalRow = {
    var out: InternalRow = null
    batch.writeIpcInto { size =>
      var at: (Array[Byte], Int) = null
      out = layout(keys, size, null)((bytes, offset) => at = (bytes, offset))
      at
    }
    out
  }

  /**
   * A record of `keys`, `rowsSize` bytes of rows (-1: none) and `partial` (null: none); `rows` gets
   * the array and the offset where the rows go, to write them there.
   */
  private def layout(keys: Array[Byte], rowsSize: Long, partial: Array[Byte])(
      rows: (Array[Byte], Int) => Unit
  ): InternalRow = {
    val sizes = Array(
      keys.length.toLong,
      rowsSize,
      if (partial == null) -1L else partial.length.toLong
    )
    val header = 8 + 8 * Fields
    val total = header + sizes.filter(_ >= 0).map(n => (n + 7) / 8 * 8).sum
    require(total <= Int.MaxValue, s"a shuffle record of $total bytes is larger than 2 GiB")
    val bytes = new Array[Byte](total.toInt)
    val base = Platform.BYTE_ARRAY_OFFSET
    var at = header
    var i = 0
    while (i < Fields) {
      if (sizes(i) < 0) Platform.putLong(bytes, base, Platform.getLong(bytes, base) | (1L << i))
      else {
        Platform.putLong(bytes, base + 8 + 8 * i, (at.toLong << 32) | sizes(i))
        i match {
          case 0 => System.arraycopy(keys, 0, bytes, at, keys.length)
          case 1 => rows(bytes, at)
          case _ => System.arraycopy(partial, 0, bytes, at, partial.length)
        }
        at += ((sizes(i) + 7) / 8 * 8).toInt
      }
      i += 1
    }
    val row = new UnsafeRow(Fields)
    row.pointTo(bytes, total.toInt)
    row
  }

  /** The `keys` column of a record holding `count` groups: group `i`'s key row and rows. */
  def writeKeys(count: Int, key: Int => UnsafeRow, rows: Int => Long): Array[Byte] = {
    var size = 0L
    var i = 0
    while (i < count) {
      size += 4 + key(i).getSizeInBytes + 8
      i += 1
    }
    require(size <= Int.MaxValue, s"the keys of $count groups take more than 2 GiB")
    val buffer = ByteBuffer.allocate(size.toInt).order(ByteOrder.LITTLE_ENDIAN)
    i = 0
    while (i < count) {
      val k = key(i)
      buffer.putInt(k.getSizeInBytes)
      k.writeToMemory(buffer.array, Platform.BYTE_ARRAY_OFFSET + buffer.position())
      buffer.position(buffer.position() + k.getSizeInBytes)
      buffer.putLong(rows(i))
      i += 1
    }
    buffer.array
  }

  /**
   * Calls `f` with each group of `record` (its key in `view`, valid during the call, and its rows),
   * in the order of the record's group numbers.
   */
  def forEachGroup(record: InternalRow, view: UnsafeRow)(f: (UnsafeRow, Long) => Unit): Unit = {
    val bytes = record.getBinary(0)
    val buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
    while (buffer.hasRemaining) {
      val size = buffer.getInt
      view.pointTo(bytes, Platform.BYTE_ARRAY_OFFSET + buffer.position(), size)
      buffer.position(buffer.position() + size)
      f(view, buffer.getLong)
    }
  }

  /** Whether `record` holds a statistics partial (else packed rows). */
  def isPartial(record: InternalRow): Boolean = record.isNullAt(1)

  /** The statistics partial of a partial record. */
  def partial(record: InternalRow): Array[Byte] = record.getBinary(2)

  /**
   * A reduce task's off-heap copy of each record's IPC batch, for a native call to read in place
   * (grown as needed, reused; [[close]] frees it).
   */
  final class DirectRows extends AutoCloseable {
    private var buf: ArrowBuf = _

    /**
     * `record`'s rows batch in off-heap memory, valid until the next call. Records are UnsafeRows
     * (made by [[record]], read back by the shuffle's UnsafeRowSerializer): the bytes are copied
     * straight from the row, without a heap copy first.
     */
    def of(record: InternalRow): ByteBuffer = {
      val row = record.asInstanceOf[UnsafeRow]
      // The binary column's offset (in the row) and size, as UnsafeRow.getBinary reads them.
      val offsetAndSize = row.getLong(1)
      val size = offsetAndSize.toInt
      reserve(size)
      Platform.copyMemory(
        row.getBaseObject,
        row.getBaseOffset + (offsetAndSize >>> 32),
        null,
        buf.memoryAddress,
        size.toLong
      )
      buf.nioBuffer(0, size)
    }

    private def reserve(size: Int): Unit =
      if (buf == null || buf.capacity < size) {
        val grown = math.max(size.toLong, if (buf == null) 0L else 2 * buf.capacity)
        close()
        buf = ArrowBatches.allocator.buffer(math.max(grown, 1L))
      }

    override def close(): Unit = if (buf != null) {
      buf.close()
      buf = null
    }
  }
}
