package manyfold.ml

import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.types.{DataType, DoubleType}

/** What an output column of transform holds. */
sealed abstract class OutputKind(val dataType: DataType) extends Serializable

object OutputKind {
  case object Prediction extends OutputKind(DoubleType)
  case object RawPrediction extends OutputKind(SQLDataTypes.VectorType)
  case object Probability extends OutputKind(SQLDataTypes.VectorType)
}
