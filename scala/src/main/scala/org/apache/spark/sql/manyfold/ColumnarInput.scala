package org.apache.spark.sql.manyfold

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.expressions.{Alias, Expression}
import org.apache.spark.sql.execution.{
  ColumnarToRowExec,
  InputAdapter,
  ProjectExec,
  SparkPlan,
  WholeStageCodegenExec
}
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec
import org.apache.spark.sql.types._
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}

/**
 * A DataFrame read as the columnar batches under it, when its plan is a projection of columns over
 * a columnar source (a cached DataFrame of numeric columns, a Parquet or ORC scan): Spark would
 * turn each batch into UnsafeRows, one written row per input row; here a batch is passed on as it
 * is, its columns reordered to the DataFrame's and read in place. Each column of the DataFrame must
 * be a column of the batches, or a numeric one cast to double (as [[BatchEval.columnsOf]] reads
 * them).
 *
 * Internal to manyfold: it lives in Spark's package only to reach Spark's physical plans.
 */
object ColumnarInput {

  /**
   * `df`'s batches, per partition, each in `df`'s layout (its columns views of the source batch's,
   * valid until the next batch); None when its plan is not of that shape.
   */
  def batches(df: DataFrame): Option[RDD[ColumnarBatch]] = {
    val types = df.schema.fields.map(_.dataType)
    source(SparkShim.queryExecution(df).executedPlan).map { case (child, columns) =>
      child.executeColumnar().mapPartitionsInternal(_.map(view(_, columns, types)))
    }
  }

  /** The columnar plan under `plan` and the position in its output of each column of `plan`. */
  private[manyfold] def source(plan: SparkPlan): Option[(SparkPlan, Array[Int])] = {
    def unwrap(p: SparkPlan): SparkPlan = p match {
      // Adaptive execution plans a scan of a cached DataFrame as a query stage of its own; the
      // plan it starts from reads the cached batches directly.
      case a: AdaptiveSparkPlanExec => unwrap(a.inputPlan)
      case w: WholeStageCodegenExec => unwrap(w.child)
      case i: InputAdapter => unwrap(i.child)
      case other => other
    }
    // A cached DataFrame's scan gives rows or batches itself; a file scan's batches are turned
    // into rows by a ColumnarToRow.
    def columnar(p: SparkPlan): Option[SparkPlan] = unwrap(p) match {
      case c: ColumnarToRowExec if unwrap(c.child).supportsColumnar => Some(unwrap(c.child))
      case scan if scan.supportsColumnar && scan.children.isEmpty => Some(scan)
      case _ => None
    }
    val (child, expressions) = unwrap(plan) match {
      case ProjectExec(list, below) =>
        (
          columnar(below),
          list.map {
            case a: Alias => a.child
            case e => e: Expression
          }
        )
      case other => (columnar(other), other.output)
    }
    child.flatMap(c => BatchEval.columnsOf(expressions, c.output).map(cols => (c, cols)))
  }

  /**
   * `batch` in the layout of `types`: column `i` is the batch's column `columns(i)`, read as a
   * double when `types(i)` is double and the column is another numeric type.
   */
  private def view(batch: ColumnarBatch, columns: Array[Int], types: Array[DataType]) =
    new ColumnarBatch(
      Array.tabulate(columns.length) { i =>
        val c = batch.column(columns(i))
        if (c.dataType == types(i)) c else new AsDouble(c)
      },
      batch.numRows
    )

  /** A numeric column read as Spark casts it to double. */
  private final class AsDouble(c: ColumnVector) extends ReadOnlyColumn(DoubleType) {
    private val read: Int => Double = c.dataType match {
      case DoubleType => c.getDouble
      case FloatType => c.getFloat(_).toDouble
      case LongType => c.getLong(_).toDouble
      case IntegerType => c.getInt(_).toDouble
      case ShortType => c.getShort(_).toDouble
      case ByteType => c.getByte(_).toDouble
      case other => throw new IllegalArgumentException(s"a $other column read as double")
    }
    override def getDouble(rowId: Int): Double = read(rowId)
    override def isNullAt(rowId: Int): Boolean = c.isNullAt(rowId)
    override def hasNull: Boolean = c.hasNull
    override def numNulls: Int = c.numNulls
  }
}
