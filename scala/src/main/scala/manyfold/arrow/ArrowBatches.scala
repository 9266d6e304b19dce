package manyfold.arrow

import java.io.ByteArrayInputStream
import java.nio.charset.StandardCharsets

import scala.collection.mutable.ArrayBuffer

import org.apache.arrow.memory.{BufferAllocator, RootAllocator}
import org.apache.arrow.vector._
import org.apache.arrow.vector.complex.ListVector
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.apache.spark.ml.linalg.{DenseVector, SparseVector}
import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.InternalRow

/**
 * Spark rows to Arrow IPC batches and back, as laid out in docs/native-interface.md: the training
 * and prediction batches are written with [[BatchBuilder]] and [[writeFeatures]]; the results and
 * predictions batches that the native library returns are read with [[readResults]] and
 * [[readPredictions]].
 */
object ArrowBatches {

  /** The one Arrow allocator of this JVM; every batch takes a child of it and closes it. */
  lazy val allocator: BufferAllocator = new RootAllocator(Long.MaxValue)

  /**
   * Writes one row's features into columns `firstColumn..` of a batch row: either `layout.size`
   * double columns of `row` from position `pos` on, or the ML Vector at position `pos`. A null
   * value (or null vector) gives null features.
   *
   * @throws IllegalArgumentException
   *   if a vector's size differs from `layout.size`
   */
  def writeFeatures(
      row: InternalRow,
      pos: Int,
      layout: FeatureLayout,
      batch: BatchBuilder,
      firstColumn: Int,
      at: Int
  ): Unit = {
    val p = layout.size
    layout.vectorColumn match {
      case None =>
        var j = 0
        while (j < p) {
          if (row.isNullAt(pos + j)) batch.setNull(firstColumn + j, at)
          else batch.setDouble(firstColumn + j, at, row.getDouble(pos + j))
          j += 1
        }
      case Some(_) if row.isNullAt(pos) => writeNulls(p, batch, firstColumn, at)
      case Some(column) =>
        writeVector(row.getStruct(pos, 4), column, p, batch, firstColumn, at)
    }
  }

  /** [[writeFeatures]] for an external Row (whose Vector column holds ML Vector objects). */
  def writeFeatures(
      row: Row,
      pos: Int,
      layout: FeatureLayout,
      batch: BatchBuilder,
      firstColumn: Int,
      at: Int
  ): Unit = {
    val p = layout.size
    layout.vectorColumn match {
      case None =>
        var j = 0
        while (j < p) {
          if (row.isNullAt(pos + j)) batch.setNull(firstColumn + j, at)
          else batch.setDouble(firstColumn + j, at, row.getDouble(pos + j))
          j += 1
        }
      case Some(_) if row.isNullAt(pos) => writeNulls(p, batch, firstColumn, at)
      case Some(column) =>
        row.get(pos) match {
          case v: DenseVector =>
            checkSize(column, p, v.size)
            var j = 0
            while (j < p) {
              batch.setDouble(firstColumn + j, at, v.values(j))
              j += 1
            }
          case v: SparseVector =>
            checkSize(column, p, v.size)
            var j = 0
            while (j < p) {
              batch.setDouble(firstColumn + j, at, 0.0)
              j += 1
            }
            var k = 0
            while (k < v.indices.length) {
              batch.setDouble(firstColumn + v.indices(k), at, v.values(k))
              k += 1
            }
        }
    }
  }

  private def writeNulls(p: Int, batch: BatchBuilder, firstColumn: Int, at: Int): Unit = {
    var j = 0
    while (j < p) {
      batch.setNull(firstColumn + j, at)
      j += 1
    }
  }

  // An ML Vector is stored as struct<type: byte, size: int, indices: array<int>,
  // values: array<double>> (VectorUDT.sqlType); type 1 is dense, 0 sparse. Reading the struct
  // directly skips building a Vector object per row.
  private def writeVector(
      v: InternalRow,
      column: String,
      p: Int,
      batch: BatchBuilder,
      firstColumn: Int,
      at: Int
  ): Unit = {
    val values = v.getArray(3)
    if (v.getByte(0) == 1) {
      checkSize(column, p, values.numElements())
      var j = 0
      while (j < p) {
        batch.setDouble(firstColumn + j, at, values.getDouble(j))
        j += 1
      }
    } else {
      checkSize(column, p, v.getInt(1))
      var j = 0
      while (j < p) {
        batch.setDouble(firstColumn + j, at, 0.0)
        j += 1
      }
      val indices = v.getArray(2)
      var k = 0
      while (k < indices.numElements()) {
        batch.setDouble(firstColumn + indices.getInt(k), at, values.getDouble(k))
        k += 1
      }
    }
  }

  private def checkSize(column: String, expected: Int, actual: Int): Unit =
    if (actual != expected) {
      throw new IllegalArgumentException(
        s"column '$column' holds vectors of different sizes: $expected (the first vector, or " +
          s"the model's number of features) and $actual"
      )
    }

  /**
   * Reads a results batch. `metricColumns` are the algorithm's metric columns, in the order
   * [[GroupResult.metrics]] gets them.
   */
  def readResults(bytes: Array[Byte], metricColumns: Seq[String]): Array[GroupResult] = {
    val out = ArrayBuffer.empty[GroupResult]
    forEachBatch(bytes) { root =>
      val group = root.getVector("group").asInstanceOf[IntVector]
      val status = column(root, "status")
      val error = column(root, "error")
      val model = column(root, "model")
      val rows = root.getVector("rows").asInstanceOf[BigIntVector]
      val millis = root.getVector("train_ms").asInstanceOf[Float8Vector]
      val converged = root.getVector("converged").asInstanceOf[BitVector]
      val iterations = root.getVector("iterations").asInstanceOf[IntVector]
      // Per-group search results carry the chosen parameter set and its CV metric.
      val bestParam = Option(root.getVector("best_param")).map(_.asInstanceOf[IntVector])
      val bestMetric = Option(root.getVector("best_metric")).map(_.asInstanceOf[Float8Vector])
      val metrics = metricColumns.map { name =>
        Option(root.getVector(name))
          .getOrElse {
            throw new IllegalStateException(
              s"the native results batch has no metric column '$name'"
            )
          }
          .asInstanceOf[Float8Vector]
      }
      var i = 0
      while (i < root.getRowCount) {
        out += GroupResult(
          group = group.get(i),
          status = string(status, i),
          error = string(error, i),
          model = binary(model, i),
          rows = rows.get(i),
          trainMillis = millis.get(i),
          converged = if (converged.isNull(i)) None else Some(converged.get(i) == 1),
          iterations = if (iterations.isNull(i)) None else Some(iterations.get(i)),
          metrics = metrics.map(m => if (m.isNull(i)) None else Some(m.get(i))),
          bestParam = bestParam.filterNot(_.isNull(i)).map(_.get(i)),
          bestMetric = bestMetric.filterNot(_.isNull(i)).map(_.get(i))
        )
        i += 1
      }
    }
    out.toArray
  }

  /** Reads a search's fits batch (docs/native-interface.md, "Fits batch"). */
  def readFits(bytes: Array[Byte]): Array[FitResult] = {
    val out = ArrayBuffer.empty[FitResult]
    forEachBatch(bytes) { root =>
      val param = column(root, "param").asInstanceOf[IntVector]
      val fold = column(root, "fold").asInstanceOf[IntVector]
      val status = column(root, "status")
      val error = column(root, "error")
      val metric = column(root, "metric").asInstanceOf[Float8Vector]
      val millis = column(root, "fit_ms").asInstanceOf[Float8Vector]
      val trainRows = column(root, "train_rows").asInstanceOf[BigIntVector]
      val validationRows = column(root, "validation_rows").asInstanceOf[BigIntVector]
      val converged = column(root, "converged").asInstanceOf[BitVector]
      val model = Option(root.getVector("model"))
      var i = 0
      while (i < root.getRowCount) {
        out += FitResult(
          param = param.get(i),
          fold = fold.get(i),
          status = string(status, i),
          error = string(error, i),
          metric = if (metric.isNull(i)) None else Some(metric.get(i)),
          fitMillis = millis.get(i),
          trainRows = trainRows.get(i),
          validationRows = validationRows.get(i),
          converged = if (converged.isNull(i)) None else Some(converged.get(i) == 1),
          model = model.map(binary(_, i)).orNull
        )
        i += 1
      }
    }
    out.toArray
  }

  /**
   * Reads a predictions batch; `rows` is the number of rows sent, which it must hold. The list
   * columns are read in bulk into flat arrays ([[PredictionLists]]), not an array per row.
   */
  def readPredictions(bytes: Array[Byte], rows: Int): Predictions = {
    val out = new Predictions(rows)
    var at = 0
    forEachBatch(bytes) { root =>
      val prediction = root.getVector("prediction").asInstanceOf[Float8Vector]
      val n = root.getRowCount
      if (at + n > rows) throw new IllegalStateException(s"native predictions exceed $rows rows")
      var i = 0
      while (i < n) {
        if (!prediction.isNull(i)) {
          out.defined(at + i) = true
          out.prediction(at + i) = prediction.get(i)
        }
        i += 1
      }
      out.rawPrediction.append(root.getVector("raw_prediction"), at, n)
      out.probability.append(root.getVector("probability"), at, n)
      at += n
    }
    if (at != rows)
      throw new IllegalStateException(s"native returned $at predictions for $rows rows")
    out.rawPrediction.finish(rows)
    out.probability.finish(rows)
    out
  }

  /** Calls `f` on every record batch of an IPC stream; the root is only valid inside `f`. */
  def forEachBatch(bytes: Array[Byte])(f: VectorSchemaRoot => Unit): Unit = {
    val reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      while (reader.loadNextBatch()) f(root)
    } finally reader.close()
  }

  private def column(root: VectorSchemaRoot, name: String): FieldVector =
    Option(root.getVector(name)).getOrElse {
      throw new IllegalStateException(s"the native results batch has no column '$name'")
    }

  private def string(v: FieldVector, i: Int): String =
    if (v.isNull(i)) null
    else
      v match {
        case s: VarCharVector => new String(s.get(i), StandardCharsets.UTF_8)
        case s: LargeVarCharVector => new String(s.get(i), StandardCharsets.UTF_8)
        case other => String.valueOf(other.getObject(i))
      }

  private def binary(v: FieldVector, i: Int): Array[Byte] =
    if (v.isNull(i)) null
    else
      v match {
        case b: VarBinaryVector => b.get(i)
        case b: LargeVarBinaryVector => b.get(i)
        case other =>
          throw new IllegalStateException(
            s"unexpected Arrow type for model bytes: ${other.getField}"
          )
      }

}

/**
 * Which features a batch carries: `names` are the Arrow field names (the user's column names, or
 * `features[0]`, ... for the Vector column `vectorColumn`).
 */
final case class FeatureLayout(names: Array[String], vectorColumn: Option[String]) {
  def size: Int = names.length
}

object FeatureLayout {

  /** Plain numeric columns (already cast to double in the rows). */
  def columns(names: Seq[String]): FeatureLayout = FeatureLayout(names.toArray, None)

  /** An ML Vector column of `size` elements. */
  def vector(column: String, size: Int): FeatureLayout =
    FeatureLayout(Array.tabulate(size)(j => s"$column[$j]"), Some(column))
}

/**
 * One row of a results batch; `error` and `model` are null when absent. `group` is the index in its
 * batch, -1 for a group that failed on the JVM side before reaching one (too many rows).
 * `converged` and `iterations` are set for iterative algorithms' trained groups. A per-group search
 * also gives the index of the best parameter set and its mean validation metric.
 */
final case class GroupResult(
    group: Int,
    status: String,
    error: String,
    model: Array[Byte],
    rows: Long,
    trainMillis: Double,
    converged: Option[Boolean],
    iterations: Option[Int],
    metrics: Seq[Option[Double]],
    bestParam: Option[Int] = None,
    bestMetric: Option[Double] = None
)

/**
 * One (parameter set, fold) fit of a search: its validation metric (None when it failed, with the
 * reason in `error`), time, row counts, convergence and, when asked for, the fold model's bytes.
 */
final case class FitResult(
    param: Int,
    fold: Int,
    status: String,
    error: String,
    metric: Option[Double],
    fitMillis: Double,
    trainRows: Long,
    validationRows: Long,
    converged: Option[Boolean],
    model: Array[Byte]
)

/** A predictions batch: per row, whether there is a prediction, and its values. */
final class Predictions(val rows: Int) {
  val defined: Array[Boolean] = new Array[Boolean](rows)
  val prediction: Array[Double] = new Array[Double](rows)
  val rawPrediction: PredictionLists = new PredictionLists(rows)
  val probability: PredictionLists = new PredictionLists(rows)
}

/**
 * A list of doubles per row, flat: row `i`'s values are `values(offsets(i) until offsets(i + 1))`
 * when `valid(i)`. Rows of a batch without the column are all invalid.
 */
final class PredictionLists(rows: Int) {
  val offsets: Array[Int] = new Array[Int](rows + 1)
  val valid: Array[Boolean] = new Array[Boolean](rows)
  private var data = new Array[Double](0)
  private var size = 0

  /** The values of every row. */
  def values: Array[Double] = data

  /** Row `i`'s values (a copy), or null. */
  def apply(i: Int): Array[Double] =
    if (!valid(i)) null else java.util.Arrays.copyOfRange(data, offsets(i), offsets(i + 1))

  // Appends rows `at until at + n` from a list vector of an IPC batch (null: the column is absent).
  private[arrow] def append(vector: FieldVector, at: Int, n: Int): Unit = vector match {
    case null | _: NullVector =>
      java.util.Arrays.fill(offsets, at, at + n + 1, size)
    case list: ListVector =>
      val items = list.getDataVector.asInstanceOf[Float8Vector]
      val first = if (n == 0) 0 else list.getElementStartIndex(0)
      val last = if (n == 0) 0 else list.getElementEndIndex(n - 1)
      val count = last - first
      if (size + count > data.length) {
        data = java.util.Arrays.copyOf(data, math.max(size + count, 2 * data.length))
      }
      // The batch's values in one copy; the lists hold no null values.
      var j = 0
      while (j < count) {
        data(size + j) = items.get(first + j)
        j += 1
      }
      var i = 0
      while (i < n) {
        valid(at + i) = !list.isNull(i)
        offsets(at + i) = size + list.getElementStartIndex(i) - first
        i += 1
      }
      offsets(at + n) = size + count
      size += count
    case other =>
      throw new IllegalStateException(
        s"unexpected Arrow type for a predictions list: ${other.getField}"
      )
  }

  private[arrow] def finish(rows: Int): Unit = offsets(rows) = size
}
