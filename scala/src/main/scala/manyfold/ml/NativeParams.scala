package manyfold.ml

import manyfold.arrow.FeatureLayout
import manyfold.ml.param.{HasInputCols, HasWeightCol}
import org.apache.spark.ml.param.{DoubleArrayParam, Param, Params}
import org.apache.spark.sql.Column
import org.apache.spark.sql.types._
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * The columns every manyfold estimator and model reads and writes. Features come either from
 * `inputCols` (plain numeric columns, no VectorAssembler needed) or, when `inputCols` is empty,
 * from the ML Vector column `featuresCol`. `featuresCol` and `predictionCol` are Spark's own params
 * for the stages that extend Spark's predictors, [[manyfold.ml.param.HasFeaturesAndPredictionCols]]
 * for the others.
 */
trait NativeParams extends Params with HasInputCols {

  def featuresCol: Param[String]
  def predictionCol: Param[String]
  def getFeaturesCol: String
  def getPredictionCol: String

  /** The label column, for supervised algorithms. */
  private[manyfold] def labelColumn: Option[String] = None

  /** The sample weight column, when the stage takes weights and one is set. */
  private[manyfold] def weightColumn: Option[String] = this match {
    case w: HasWeightCol if w.isDefined(w.weightCol) && w.getWeightCol.nonEmpty =>
      Some(w.getWeightCol)
    case _ => None
  }

  /**
   * The columns that transform adds, in order, with their kind; a classifier adds its raw
   * prediction and probability columns before the prediction, as Spark's classifiers do.
   */
  private[manyfold] def outputColumns: Seq[(String, OutputKind)] =
    Seq($(predictionCol) -> OutputKind.Prediction)

  /** Options of the native prediction call (JSON): classifiers' `thresholds` when set. */
  private[manyfold] def predictionOptions: String = "{}"

  /** Whether features come from `inputCols` (else from the Vector column `featuresCol`). */
  private[manyfold] def usesInputCols: Boolean = $(inputCols).nonEmpty

  /** The feature column names: `inputCols`, or the Vector column. */
  private[manyfold] def featureColumnNames: Seq[String] =
    if (usesInputCols) $(inputCols).toSeq else Seq($(featuresCol))

  /**
   * Checks the schema for training (`fitting`: features, label, weight) or prediction (features,
   * and that the output columns are new), and returns the schema transform produces.
   */
  private[manyfold] def checkAndTransformSchema(
      schema: StructType,
      fitting: Boolean
  ): StructType = {
    if (usesInputCols) {
      $(inputCols).foreach(c => Schemas.requireNumeric(schema, c, "feature"))
    } else {
      Schemas.requireVector(schema, $(featuresCol))
    }
    if (fitting) {
      val roles = labelColumn.map(_ -> "label").toSeq ++ weightColumn.map(_ -> "weight")
      roles.foreach { case (c, role) =>
        Schemas.requireNumeric(schema, c, role)
        require(!featureColumnNames.contains(c), s"the $role column '$c' is also a feature column")
      }
      require(
        roles.map(_._1).distinct.length == roles.length,
        s"the label and weight columns must differ, both are '${roles.head._1}'"
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

/** The params of a supervised stage: its label column is Spark's `labelCol`. */
trait NativePredictorParams extends NativeParams {

  def labelCol: Param[String]
  def getLabelCol: String

  private[manyfold] override def labelColumn: Option[String] = Some($(labelCol))
}

/**
 * The params of a classifier: Spark's `rawPredictionCol`, `probabilityCol` (either may be empty to
 * omit it) and `thresholds`, from Spark's classifier base classes.
 */
trait NativeClassifierParams extends NativePredictorParams {

  def rawPredictionCol: Param[String]
  def probabilityCol: Param[String]
  def thresholds: DoubleArrayParam

  private[manyfold] override def predictionOptions: String =
    if (isDefined(thresholds)) compact(render("thresholds" -> $(thresholds).toSeq)) else "{}"

  private[manyfold] override def outputColumns: Seq[(String, OutputKind)] =
    Seq(
      $(rawPredictionCol) -> OutputKind.RawPrediction,
      $(probabilityCol) -> OutputKind.Probability
    ).filter(_._1.nonEmpty) ++ super.outputColumns
}
