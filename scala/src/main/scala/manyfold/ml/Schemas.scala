package manyfold.ml

import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{BoundReference, Expression, UnsafeProjection}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._

/** Schema checks shared by the stages, each failing with a message naming the column. */
private[manyfold] object Schemas {

  /** A column name quoted for Spark's parser: dots and backticks in it are taken literally. */
  def quote(name: String): String = "`" + name.replace("`", "``") + "`"

  /** A column by its exact name (dots and backticks in names are taken literally). */
  def column(name: String): Column = col(quote(name))

  /**
   * The projection of an internal row's fields `from`, `from + 1`, ... (of `types`) into an
   * UnsafeRow: group keys, a prediction's inputs, a row's original columns.
   */
  def projection(types: Seq[DataType], from: Int = 0): UnsafeProjection =
    UnsafeProjection.create(types.zipWithIndex.map { case (t, i) =>
      BoundReference(from + i, t, nullable = true): Expression
    })

  /**
   * For one group key column of an integral type (byte, short, int, long, date or timestamp): its
   * value in column 0 of a row, as a long, to look keys up in a map of primitives; None for other
   * keys (looked up as UnsafeRows).
   */
  def integralKey(keyTypes: Seq[DataType]): Option[InternalRow => Long] = keyTypes match {
    case Seq(LongType | TimestampType) => Some(_.getLong(0))
    case Seq(IntegerType | DateType) => Some(_.getInt(0).toLong)
    case Seq(ShortType) => Some(_.getShort(0).toLong)
    case Seq(ByteType) => Some(_.getByte(0).toLong)
    case _ => None
  }

  def field(schema: StructType, name: String, role: String): StructField =
    schema.fields.find(_.name == name).getOrElse {
      throw new IllegalArgumentException(
        s"the $role column '$name' does not exist; the columns are: " +
          schema.fieldNames.mkString(", ")
      )
    }

  def requireNumeric(schema: StructType, name: String, role: String): Unit =
    field(schema, name, role).dataType match {
      case _: NumericType =>
      case other =>
        throw new IllegalArgumentException(
          s"the $role column '$name' must be numeric (byte, short, int, long, float, double " +
            s"or decimal) but is ${other.simpleString}"
        )
    }

  def requireVector(schema: StructType, name: String): Unit = {
    val t = field(schema, name, "features").dataType
    require(
      t == SQLDataTypes.VectorType,
      s"the features column '$name' must be an ML Vector (or set inputCols to plain numeric " +
        s"columns) but is ${t.simpleString}"
    )
  }

  /** Whether Spark can sort and hash-partition by a column of this type. */
  def orderable(t: DataType): Boolean = t match {
    case _: NumericType | StringType | BinaryType | BooleanType | DateType | TimestampType |
        TimestampNTZType | NullType =>
      true
    case ArrayType(e, _) => orderable(e)
    case StructType(fields) => fields.forall(f => orderable(f.dataType))
    case _ => false
  }
}
