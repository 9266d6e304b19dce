package manyfold.ml

import manyfold.arrow.{PredictionLists, Predictions}
import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.manyfold.ReadOnlyColumn
import org.apache.spark.sql.types.{ArrayType, ByteType, DataType, DoubleType, IntegerType}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarArray}

/**
 * A predictions batch as Spark column vectors, read in place (no copy, no object per row): the
 * prediction as a double (or, for a cluster, an int), raw prediction and probability as ML Vector
 * columns in their SQL form (struct of type 1 = dense, null size and indices, the values). A row
 * without a prediction is null in every column.
 */
private[manyfold] object PredictionColumns {

  def apply(p: Predictions, outputs: Seq[OutputKind]): Array[ColumnVector] =
    outputs.map {
      case OutputKind.Prediction => new Values(DoubleType, p.prediction, p.defined): ColumnVector
      case OutputKind.Cluster => new Values(IntegerType, p.prediction, p.defined)
      case OutputKind.RawPrediction => new DenseVectors(p.rawPrediction, p.defined)
      case OutputKind.Probability => new DenseVectors(p.probability, p.defined)
    }.toArray

  /** Null where `valid` is false (no `valid`: never null). */
  abstract class Validity(t: DataType, valid: Array[Boolean]) extends ReadOnlyColumn(t) {
    private lazy val nulls = if (valid == null) 0 else valid.count(!_)
    override def hasNull: Boolean = nulls > 0
    override def numNulls: Int = nulls
    override def isNullAt(rowId: Int): Boolean = valid != null && !valid(rowId)
  }

  /** Doubles, read as doubles or (an int type) truncated to ints. */
  final class Values(t: DataType, values: Array[Double], valid: Array[Boolean])
      extends Validity(t, valid) {
    override def getDouble(rowId: Int): Double = values(rowId)
    override def getInt(rowId: Int): Int = values(rowId).toInt
    override def getDoubles(rowId: Int, count: Int): Array[Double] =
      java.util.Arrays.copyOfRange(values, rowId, rowId + count)
  }

  /** Every row null. */
  final class Nulls(t: DataType, rows: Int) extends ReadOnlyColumn(t) {
    override def hasNull: Boolean = rows > 0
    override def numNulls: Int = rows
    override def isNullAt(rowId: Int): Boolean = true
  }

  /** The same byte in every row. */
  final class Constant(value: Byte) extends ReadOnlyColumn(ByteType) {
    override def hasNull: Boolean = false
    override def numNulls: Int = 0
    override def isNullAt(rowId: Int): Boolean = false
    override def getByte(rowId: Int): Byte = value
  }

  /** Row `i`'s list of `lists` as an array. */
  final class Lists(lists: PredictionLists, valid: Array[Boolean])
      extends Validity(ArrayType(DoubleType, containsNull = false), valid) {
    private val items = new Values(DoubleType, lists.values, null)
    override def getArray(rowId: Int): ColumnarArray = {
      val from = lists.offsets(rowId)
      new ColumnarArray(items, from, lists.offsets(rowId + 1) - from)
    }
  }

  /** Dense ML Vectors: row `i` holds list `i` of `lists`; null where either is missing. */
  final class DenseVectors(lists: PredictionLists, defined: Array[Boolean])
      extends Validity(
        SQLDataTypes.VectorType,
        Array.tabulate(defined.length)(i => defined(i) && lists.valid(i))
      ) {
    private val rows = defined.length
    private val children: Array[ColumnVector] = Array(
      new Constant(1),
      new Nulls(IntegerType, rows),
      new Nulls(ArrayType(IntegerType, containsNull = false), rows),
      new Lists(lists, null)
    )
    override def getChild(ordinal: Int): ColumnVector = children(ordinal)
  }
}
