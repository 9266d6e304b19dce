package manyfold.arrow

import scala.collection.JavaConverters._

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.{
  BaseFixedWidthVector,
  FieldVector,
  Float8Vector,
  IntVector,
  VectorSchemaRoot
}
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, FieldType}
import org.apache.spark.sql.vectorized.ColumnVector
import org.apache.spark.unsafe.Platform

/**
 * One Int32 index column followed by Float64 columns, each field carrying its role in its metadata,
 * filled row by row and written as an Arrow IPC stream: the shape of both the training batch (index
 * \= group; label, weight, features) and the prediction batch (index = model; features) of
 * docs/native-interface.md. Use [[BatchBuilder.training]] or [[BatchBuilder.prediction]].
 *
 * Rows are written at explicit positions so that a caller can [[truncate]] (drop the rows of a
 * group that turned out too big) and overwrite. The builder owns a child allocator; [[close]] frees
 * everything and fails loudly if a buffer leaked.
 *
 * Filling is the hot loop of training (a value per row and column): [[addRow]] checks the capacity
 * once per row (doubling every vector when full, or growing it at once to [[expectRows]]), and
 * values and validity bits are then written straight into the vectors' off-heap buffers, with no
 * per-value bounds check or reallocation test (Arrow's `setSafe`). Positions are checked against
 * the rows added (`row < numRows`).
 */
final class BatchBuilder private (
    indexColumn: BatchColumn,
    columnsByRole: Seq[BatchColumn],
    foldColumn: Option[String]
) extends AutoCloseable {

  private val indexNullable = indexColumn.role == BatchColumn.Model

  private val allocator: BufferAllocator =
    ArrowBatches.allocator.newChildAllocator(
      s"manyfold-${indexColumn.role}-batch",
      0,
      Long.MaxValue
    )

  private def fieldType(nullable: Boolean, t: ArrowType, role: String): FieldType =
    new FieldType(nullable, t, null, Map(BatchColumn.RoleKey -> role).asJava)

  private val index = new IntVector(
    indexColumn.name,
    fieldType(indexNullable, new ArrowType.Int(32, true), indexColumn.role),
    allocator
  )

  private val columns: Array[Float8Vector] = columnsByRole.map { c =>
    new Float8Vector(
      c.name,
      fieldType(
        nullable = true,
        new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE),
        c.role
      ),
      allocator
    )
  }.toArray

  // The cross-validation fold (Int32, role `fold`), after the Float64 columns.
  private val fold: Option[IntVector] = foldColumn.map { name =>
    new IntVector(
      name,
      fieldType(nullable = true, new ArrowType.Int(32, true), BatchColumn.Fold),
      allocator
    )
  }

  private var rows = 0

  // Vectors hold room for `capacity` rows; the addresses of their buffers, refreshed on growth.
  private val vectors: Array[BaseFixedWidthVector] = ((index +: columns.toSeq) ++ fold).toArray
  private var capacity = 0
  private val dataAddress = new Array[Long](vectors.length)
  private val validityAddress = new Array[Long](vectors.length)
  private val foldAt = vectors.length - 1 // the fold vector's position, when there is one

  // The rows this batch is expected to reach (0: unknown), see [[expectRows]].
  private var expected = 0

  /**
   * Says the batch will likely fill to `rows` rows (a packed batch, cut at that many): when it
   * outgrows its first allocation of [[BatchBuilder.InitialRows]], it grows to `rows` at once, not
   * by doubling (each doubling copies the rows so far and zeroes the new half of every buffer).
   */
  def expectRows(rows: Int): Unit = expected = math.max(0, rows)

  private def grow(): Unit = {
    val target =
      if (capacity == 0) BatchBuilder.InitialRows else math.max(2 * capacity, expected)
    var i = 0
    while (i < vectors.length) {
      val v = vectors(i)
      if (capacity == 0) v.allocateNew(target)
      else if (target > 2 * capacity) reallocate(v, target)
      else while (v.getValueCapacity < target) v.reAlloc()
      dataAddress(i) = v.getDataBuffer.memoryAddress()
      validityAddress(i) = v.getValidityBuffer.memoryAddress()
      i += 1
    }
    capacity = vectors.map(_.getValueCapacity).min
  }

  // `v` with room for `target` rows in one allocation, its `rows` rows kept.
  private def reallocate(v: BaseFixedWidthVector, target: Int): Unit = {
    val dataBytes = rows.toLong * v.getTypeWidth
    val validityBytes = (rows + 7L) / 8
    val data = new Array[Byte](dataBytes.toInt)
    val validity = new Array[Byte](validityBytes.toInt)
    val offset = Platform.BYTE_ARRAY_OFFSET.toLong
    Platform.copyMemory(null, v.getDataBuffer.memoryAddress(), data, offset, dataBytes)
    Platform.copyMemory(null, v.getValidityBuffer.memoryAddress(), validity, offset, validityBytes)
    v.allocateNew(target) // frees the old buffers; the new ones are zeroed
    Platform.copyMemory(data, offset, null, v.getDataBuffer.memoryAddress(), dataBytes)
    Platform.copyMemory(validity, offset, null, v.getValidityBuffer.memoryAddress(), validityBytes)
  }

  @inline private def setValid(vector: Int, row: Int): Unit = {
    val at = validityAddress(vector) + (row >> 3)
    Platform.putByte(null, at, (Platform.getByte(null, at) | (1 << (row & 7))).toByte)
  }

  @inline private def setInvalid(vector: Int, row: Int): Unit = {
    val at = validityAddress(vector) + (row >> 3)
    Platform.putByte(null, at, (Platform.getByte(null, at) & ~(1 << (row & 7))).toByte)
  }

  @inline private def checkRow(row: Int): Unit =
    if (row < 0 || row >= rows) {
      throw new IndexOutOfBoundsException(s"row $row of a batch of $rows rows")
    }

  @inline private def putDouble(vector: Int, row: Int, value: Double): Unit = {
    checkRow(row)
    Platform.putDouble(null, dataAddress(vector) + 8L * row, value)
    setValid(vector, row)
  }

  @inline private def putInt(vector: Int, row: Int, value: Int): Unit = {
    checkRow(row)
    Platform.putInt(null, dataAddress(vector) + 4L * row, value)
    setValid(vector, row)
  }

  @inline private def putNull(vector: Int, row: Int): Unit = {
    checkRow(row)
    setInvalid(vector, row)
  }

  private def nextRow(): Int = {
    if (rows == capacity) grow()
    rows += 1
    rows - 1
  }

  /** Rows written so far (after any [[truncate]]). */
  def numRows: Int = rows

  /** Rows the vectors have room for. */
  private[arrow] def rowCapacity: Int = capacity

  /** Number of Float64 columns. */
  def numColumns: Int = columns.length

  /** Appends a row with this index value; returns its position. Set its columns next. */
  def addRow(indexValue: Int): Int = {
    val at = nextRow()
    putInt(0, at, indexValue)
    at
  }

  /**
   * Appends `count` rows with index values `indexValues(0 until count)`; returns the position of
   * the first. Set their columns next ([[copyColumn]]).
   */
  def addRows(indexValues: Array[Int], count: Int): Int = {
    require(count >= 0 && count <= indexValues.length, s"$count rows of ${indexValues.length}")
    while (capacity - rows < count) grow()
    val at = rows
    rows += count
    Platform.copyMemory(
      indexValues,
      Platform.INT_ARRAY_OFFSET.toLong,
      null,
      dataAddress(0) + 4L * at,
      4L * count
    )
    setValidRange(0, at, count)
    at
  }

  /** Appends a row whose index is null; returns its position. */
  def addRowWithNullIndex(): Int = {
    require(indexNullable, s"the ${indexColumn.role} column is not nullable")
    val at = nextRow()
    putNull(0, at)
    at
  }

  /** Sets column `column` (0 = the first Float64 column) of a row added before. */
  def setDouble(column: Int, row: Int, value: Double): Unit = putDouble(column + 1, row, value)

  def setNull(column: Int, row: Int): Unit = putNull(column + 1, row)

  /**
   * Sets column `column` of rows `0 until values.length` (rows added before) to `values`, every one
   * valid, in one copy; [[setNull]] then marks the nulls.
   */
  def setDoubles(column: Int, values: Array[Double]): Unit = {
    val n = values.length
    if (n > 0) checkRow(n - 1)
    val v = column + 1
    Platform.copyMemory(
      values,
      BatchBuilder.DoubleArrayOffset,
      null,
      dataAddress(v),
      8L * n
    )
    setValidRange(v, 0, n)
  }

  /**
   * Sets column `column` of rows `at until at + count` (added before) to the values of `source` at
   * its rows `order(from until from + count)`, read with `getDouble` (nulls as nulls).
   */
  def copyColumn(
      column: Int,
      at: Int,
      source: ColumnVector,
      order: Array[Int],
      from: Int,
      count: Int
  ): Unit = if (count > 0) {
    require(at >= 0 && from >= 0 && from + count <= order.length, "rows out of range")
    checkRow(at + count - 1)
    val v = column + 1
    val data = dataAddress(v) + 8L * at
    var i = 0
    if (!source.hasNull) {
      while (i < count) {
        Platform.putDouble(null, data + 8L * i, source.getDouble(order(from + i)))
        i += 1
      }
      setValidRange(v, at, count)
    } else
      while (i < count) {
        val r = order(from + i)
        if (source.isNullAt(r)) setInvalid(v, at + i)
        else {
          Platform.putDouble(null, data + 8L * i, source.getDouble(r))
          setValid(v, at + i)
        }
        i += 1
      }
  }

  /** Marks rows `at until at + count` of vector `vector` valid. */
  private def setValidRange(vector: Int, at: Int, count: Int): Unit = {
    val end = at + count
    var row = at
    while (row < end && (row & 7) != 0) {
      setValid(vector, row)
      row += 1
    }
    val bytes = (end - row) >> 3
    if (bytes > 0) {
      Platform.setMemory(validityAddress(vector) + (row >> 3), 0xff.toByte, bytes.toLong)
      row += bytes << 3
    }
    while (row < end) {
      setValid(vector, row)
      row += 1
    }
  }

  /** Sets the fold of a row (a builder made with a fold column). */
  def setFold(row: Int, value: Int): Unit = {
    require(fold.isDefined, "this batch has no fold column")
    putInt(foldAt, row, value)
  }

  def setFoldNull(row: Int): Unit = {
    require(fold.isDefined, "this batch has no fold column")
    putNull(foldAt, row)
  }

  /** Forgets rows from position `n` on; later rows overwrite them. */
  def truncate(n: Int): Unit = {
    require(n >= 0 && n <= rows, s"cannot truncate $rows rows to $n")
    rows = n
  }

  /**
   * The rows written so far as one Arrow IPC stream with one record batch, in off-heap memory of
   * exactly its size (a counting pass first, then one copy), for a native call to read in place.
   * The caller closes it.
   */
  def writeIpc(): IpcBuffer = IpcBuffer.write(root(), allocator)

  /**
   * [[writeIpc]] straight into a heap array, with no off-heap copy: `place` gets the stream's size
   * and returns the array and the offset to write at ([[IpcBuffer.writeInto]]).
   */
  def writeIpcInto(place: Long => (Array[Byte], Int)): Unit = IpcBuffer.writeInto(root())(place)

  // The rows written so far as a root that borrows the vectors: closing it would free them, so it
  // is not closed.
  private def root(): VectorSchemaRoot = {
    val fields: Seq[FieldVector] = vectors.toSeq
    fields.foreach(_.setValueCount(rows))
    val root = new VectorSchemaRoot(fields.asJava)
    root.setRowCount(rows)
    root
  }

  /** [[writeIpc]] copied onto the heap (for tests and small batches). */
  def toIpc(): Array[Byte] = {
    val ipc = writeIpc()
    try ipc.toArray
    finally ipc.close()
  }

  /**
   * Empties the builder and frees its buffers: a large training batch should not hold its Arrow
   * vectors while the native call works on its IPC copy.
   */
  def release(): Unit = {
    vectors.foreach(_.clear())
    capacity = 0
    rows = 0
  }

  /** Empties the builder, keeping its buffers (zeroed) for the next batch. */
  def clear(): Unit = {
    vectors.foreach(_.reset())
    rows = 0
  }

  override def close(): Unit = {
    vectors.foreach(_.close())
    capacity = 0
    allocator.close()
  }
}

object BatchBuilder {

  private val DoubleArrayOffset: Long =
    Platform.DOUBLE_ARRAY_OFFSET.toLong

  /** Rows allocated at the first row; doubled whenever full. */
  val InitialRows: Int = 4096

  /**
   * A training batch: the group index, then `columns` (label, weight, time, features) in this
   * order, then the fold column when `fold` names one.
   */
  def training(columns: Seq[BatchColumn], fold: Option[String] = None): BatchBuilder =
    new BatchBuilder(BatchColumn("group", BatchColumn.Group), columns, fold)

  /** A prediction batch: the (nullable) model index, then the features. */
  def prediction(featureNames: Seq[String]): BatchBuilder =
    new BatchBuilder(
      BatchColumn("model", BatchColumn.Model),
      BatchColumn.features(featureNames),
      None
    )
}
