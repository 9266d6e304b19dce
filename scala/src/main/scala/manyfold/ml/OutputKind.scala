package manyfold.ml

import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.types.{DataType, DoubleType, IntegerType}

/** What an output column of transform holds. */
sealed abstract class OutputKind(val dataType: DataType) extends Serializable

object OutputKind {

  /** A regression value or a class label. */
  case object Prediction extends OutputKind(DoubleType)

  /** A cluster index, an integer as Spark's clustering models give it. */
  case object Cluster extends OutputKind(IntegerType)
  case object RawPrediction extends OutputKind(SQLDataTypes.VectorType)
  case object Probability extends OutputKind(SQLDataTypes.VectorType)
}
