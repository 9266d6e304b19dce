package manyfold.ml

import manyfold.arrow.FeatureLayout
import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.ml.param.{Param, Params, StringArrayParam}
import org.apache.spark.sql.Column
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._

/**
 * The columns every manyfold estimator and model reads and writes. Features come either from
 * `inputCols` (plain numeric columns, no VectorAssembler needed) or, when `inputCols` is empty,
 * from the ML Vector column `featuresCol`.
 */
trait NativeParams extends Params {

  /**
   * Param for the features column, an ML Vector; used when `inputCols` is empty. Default
   * "features".
   */
  final val featuresCol: Param[String] = new Param[String](
    this,
    "featuresCol",
    "features column (an ML Vector, dense or sparse), used when inputCols is empty. " +
      "Non-empty. Default: features",
    NativeParams.nonEmptyName
  )

  /**
   * Param for the numeric feature columns (byte, short, int, long, float, double or decimal), used
   * instead of `featuresCol` when non-empty. Distinct, non-empty names. Default: empty.
   */
  final val inputCols: StringArrayParam = new StringArrayParam(
    this,
    "inputCols",
    "numeric feature columns (byte, short, int, long, float, double or decimal), used instead " +
      "of featuresCol when non-empty. Distinct, non-empty names. Default: empty",
    NativeParams.distinctNames
  )

  /** Param for the numeric label column. Default "label". */
  final val labelCol: Param[String] = new Param[String](
    this,
    "labelCol",
    "label column (numeric). Non-empty. Default: label",
    NativeParams.nonEmptyName
  )

  /** Param for the prediction column that transform adds (double). Default "prediction". */
  final val predictionCol: Param[String] = new Param[String](
    this,
    "predictionCol",
    "prediction column that transform adds (double, null when a feature is null). " +
      "Non-empty. Default: prediction",
    NativeParams.nonEmptyName
  )

  setDefault(
    featuresCol -> "features",
    inputCols -> Array.empty[String],
    labelCol -> "label",
    predictionCol -> "prediction"
  )

  final def getFeaturesCol: String = $(featuresCol)
  final def getInputCols: Array[String] = $(inputCols)
  final def getLabelCol: String = $(labelCol)
  final def getPredictionCol: String = $(predictionCol)

  final def setFeaturesCol(value: String): this.type = set(featuresCol, value)
  final def setInputCols(value: Array[String]): this.type = set(inputCols, value)
  final def setInputCols(first: String, more: String*): this.type =
    set(inputCols, (first +: more).toArray)
  final def setLabelCol(value: String): this.type = set(labelCol, value)
  final def setPredictionCol(value: String): this.type = set(predictionCol, value)

  /**
   * The columns that transform adds, in order, with their kind; a classifier adds its raw
   * prediction and probability columns before the prediction, as Spark's classifiers do.
   */
  private[manyfold] def outputColumns: Seq[(String, OutputKind)] =
    Seq($(predictionCol) -> OutputKind.Prediction)

  /** Whether features come from `inputCols` (else from the Vector column `featuresCol`). */
  private[manyfold] def usesInputCols: Boolean = $(inputCols).nonEmpty

  /**
   * Checks the schema for training (`fitting`: features and label) or prediction (features, and
   * that the output columns are new), and returns the schema transform produces.
   */
  private[manyfold] def validateAndTransformSchema(
      schema: StructType,
      fitting: Boolean
  ): StructType = {
    if (usesInputCols) {
      $(inputCols).foreach(c => Schemas.requireNumeric(schema, c, "feature"))
    } else {
      Schemas.requireVector(schema, $(featuresCol))
    }
    if (fitting) {
      Schemas.requireNumeric(schema, $(labelCol), "label")
      val features = if (usesInputCols) $(inputCols).toSeq else Seq($(featuresCol))
      require(
        !features.contains($(labelCol)),
        s"the label column '${$(labelCol)}' is also a feature column"
      )
    }
    val outputs = outputColumns.map(_._1)
    require(
      outputs.distinct.length == outputs.length,
      s"the output columns must have distinct names, got ${outputs.mkString(", ")}"
    )
    outputs.foreach { c =>
      require(!schema.fieldNames.contains(c), s"output column '$c' already exists")
    }
    StructType(schema.fields ++ outputColumns.map { case (name, kind) =>
      StructField(name, kind.dataType, nullable = true)
    })
  }

  /**
   * The expressions selecting the features for a batch: the numeric columns cast to double, or the
   * Vector column as it is.
   */
  private[manyfold] def featureExpressions: Seq[Column] =
    if (usesInputCols) $(inputCols).toSeq.map(c => Schemas.column(c).cast(DoubleType))
    else Seq(Schemas.column($(featuresCol)))

  /** The feature layout, given the Vector size when features come from `featuresCol`. */
  private[manyfold] def featureLayout(vectorSize: => Int): FeatureLayout =
    if (usesInputCols) FeatureLayout.columns($(inputCols).toSeq)
    else FeatureLayout.vector($(featuresCol), vectorSize)
}

private[manyfold] object NativeParams {

  /** Validator of a column-name param. */
  val nonEmptyName: String => Boolean = _.nonEmpty

  /** Validator of a column-names param: non-empty names, none twice. */
  val distinctNames: Array[String] => Boolean = a =>
    a.forall(_.nonEmpty) && a.distinct.length == a.length
}

/** What an output column of transform holds. */
sealed abstract class OutputKind(val dataType: DataType) extends Serializable

object OutputKind {
  case object Prediction extends OutputKind(DoubleType)
  case object RawPrediction extends OutputKind(SQLDataTypes.VectorType)
  case object Probability extends OutputKind(SQLDataTypes.VectorType)
}

/** Schema checks shared by the stages, each failing with a message naming the column. */
private[manyfold] object Schemas {

  /** A column by its exact name (dots and backticks in names are taken literally). */
  def column(name: String): Column = col("`" + name.replace("`", "``") + "`")

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
