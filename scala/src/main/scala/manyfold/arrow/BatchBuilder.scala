package manyfold.arrow

import java.nio.channels.WritableByteChannel

import scala.collection.JavaConverters._

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.{FieldVector, Float8Vector, IntVector, VectorSchemaRoot}
import org.apache.arrow.vector.ipc.ArrowStreamWriter
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, FieldType}

/**
 * One Int32 index column followed by Float64 columns, each field carrying its role in its metadata,
 * filled row by row and written as an Arrow IPC stream: the shape of both the training batch (index
 * \= group; label, weight, features) and the prediction batch (index = model; features) of
 * docs/native-interface.md. Use [[BatchBuilder.training]] or [[BatchBuilder.prediction]].
 *
 * Rows are written at explicit positions so that a caller can [[truncate]] (drop the rows of a
 * group that turned out too big) and overwrite. The builder owns a child allocator; [[close]] frees
 * everything and fails loudly if a buffer leaked.
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

  /** Rows written so far (after any [[truncate]]). */
  def numRows: Int = rows

  /** Number of Float64 columns. */
  def numColumns: Int = columns.length

  /** Appends a row with this index value; returns its position. Set its columns next. */
  def addRow(indexValue: Int): Int = {
    index.setSafe(rows, 1, indexValue)
    rows += 1
    rows - 1
  }

  /** Appends a row whose index is null; returns its position. */
  def addRowWithNullIndex(): Int = {
    require(indexNullable, s"the ${indexColumn.role} column is not nullable")
    index.setSafe(rows, 0, 0)
    rows += 1
    rows - 1
  }

  def setDouble(column: Int, row: Int, value: Double): Unit = columns(column).setSafe(row, 1, value)

  def setNull(column: Int, row: Int): Unit = columns(column).setSafe(row, 0, 0.0)

  /** Sets the fold of a row (a builder made with a fold column). */
  def setFold(row: Int, value: Int): Unit = fold.get.setSafe(row, 1, value)

  def setFoldNull(row: Int): Unit = fold.get.setSafe(row, 0, 0)

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
  def writeIpc(): IpcBuffer = {
    val vectors: Seq[FieldVector] = (index +: columns.toSeq) ++ fold
    vectors.foreach(_.setValueCount(rows))
    // The root borrows the vectors: closing it would free them, so it is not closed.
    val root = new VectorSchemaRoot(vectors.asJava)
    root.setRowCount(rows)
    def writeTo(channel: WritableByteChannel): Unit = {
      val writer = new ArrowStreamWriter(root, null, channel)
      try {
        writer.start()
        writer.writeBatch()
        writer.end()
      } finally writer.close()
    }
    val counter = new IpcBuffer.Counter
    writeTo(counter)
    val out = new IpcBuffer(allocator.buffer(math.max(counter.size, 1L)), counter.size)
    try writeTo(out.channel)
    catch { case e: Throwable => out.close(); throw e }
    out
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
    index.clear()
    columns.foreach(_.clear())
    fold.foreach(_.clear())
    rows = 0
  }

  /** Empties the builder, keeping its buffers for the next batch. */
  def clear(): Unit = {
    index.reset()
    columns.foreach(_.reset())
    fold.foreach(_.reset())
    rows = 0
  }

  override def close(): Unit = {
    index.close()
    columns.foreach(_.close())
    fold.foreach(_.close())
    allocator.close()
  }
}

object BatchBuilder {

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
