package manyfold.ml

import scala.reflect.ClassTag

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util._
import org.apache.spark.sql.{Column, DataFrame, Dataset, Row}
import org.apache.spark.sql.catalyst.expressions.Literal
import org.apache.spark.sql.functions.{col, lit}
import org.apache.spark.sql.manyfold.SparkShim
import org.apache.spark.sql.types._
import org.json4s.JsonDSL._

/**
 * One model per group, as [[Grouped]] trained them.
 *
 * [[models]] has one row per group, in no particular order (sort it by the group columns to list
 * them): the group columns (their names and types), `model` (the model bytes; null if the group
 * failed), `rows`, the training metrics (`rmse` and `r2` for a regression, `accuracy` and `logLoss`
 * for a classifier, `inertia` for k-means; null if failed), for iterative algorithms `converged`
 * (false: the fit stopped at maxIter without meeting tol), `status` ("ok" or "failed"), `error`
 * (why it failed; null if ok) and `trainingMillis`. It is a distributed DataFrame, never collected
 * by manyfold outside `transform`: after `fit` it is persisted (memory and disk;
 * `models.unpersist()` frees it), after `load` it reads the saved parquet files.
 *
 * `transform` predicts each row with its group's model and adds the estimator's output columns
 * (prediction; for a classifier also probability and raw prediction). A row whose group is not in
 * [[models]], or whose group failed, gets null outputs, as does a row with a null feature.
 */
final class GroupedModel[M <: NativeModel[M]] private[manyfold] (
    override val uid: String,
    val estimator: NativeEstimator[M],
    val models: DataFrame,
    known: Option[ModelsTable.Summary] = None
) extends Model[GroupedModel[M]]
    with GroupedParams
    with MLWritable {

  /** The group column names. */
  def groupColumns: Array[String] = $(groupCols)

  /** `manyfold GroupedModel(LinearRegression)`, how this model's Spark jobs are described. */
  private def jobName: String = s"manyfold GroupedModel(${estimator.getClass.getSimpleName})"

  // Groups, failed groups and model bytes: from training or the load check, else one query.
  @transient @volatile private var summaryKnown: Option[ModelsTable.Summary] = known

  private def summary: ModelsTable.Summary = summaryKnown.getOrElse {
    val s = Jobs.describe(models.sparkSession, s"$jobName: counting groups") {
      ModelsTable.summarize(models)
    }
    summaryKnown = Some(s)
    s
  }

  /** The total size of the ok groups' model bytes (to choose how to join rows to models). */
  private[manyfold] def modelBytesTotal: Long = summary.modelBytes

  /** The trained models broadcast for transform (made once per model object). */
  @transient private[manyfold] lazy val broadcastTable: NativePrediction.BroadcastGroups =
    Jobs.describe(models.sparkSession, s"$jobName: collecting the models to broadcast them") {
      NativePrediction.broadcastGroups(this)
    }

  /** The number of features of the models (all groups share the columns); 0 if none trained. */
  @transient lazy val numFeatures: Int =
    Jobs.describe(models.sparkSession, s"$jobName: reading the number of features") {
      models
        .where(col("status") === GroupedTraining.Ok)
        .select("model")
        .head(1)
        .headOption
        .map(r => estimator.modelOf(r.getAs[Array[Byte]](0)).nativeNumFeatures)
        .getOrElse(0)
    }

  /** The number of groups, trained or failed. */
  def numGroups: Long = summary.numGroups

  /**
   * The model of one group, given its key values in the order of the group columns: a model of the
   * estimator's type (a `LinearRegressionModel` for a `LinearRegression`, ...). A query of the
   * models table (null-safe equality on the group columns, with Spark's type coercion: an Int finds
   * a long key).
   *
   * @throws NoSuchElementException
   *   if no group has this key
   * @throws IllegalStateException
   *   if the group failed to train, with the reason
   */
  def model(keys: Any*): M = {
    val cols = groupColumns.toSeq
    require(
      keys.length == cols.length,
      s"model(...) takes one value per group column (${cols.mkString(", ")}), got ${keys.length}"
    )
    val described = GroupedModel.describeKey(cols, keys)
    val found = Jobs.describe(models.sparkSession, s"$jobName: looking up group $described") {
      models
        .where(
          cols
            .zip(keys)
            .map { case (c, v) => ModelsTable.column(models, c) <=> keyLiteral(c, v) }
            .reduce(_ && _)
        )
        .select("model", "status", "error")
        .head(2)
    }
    if (found.isEmpty) throw new NoSuchElementException(s"no group $described")
    if (found.length > 1) {
      throw new IllegalStateException(s"the models table has several rows for group $described")
    }
    val row = found(0)
    if (row.getAs[String]("status") != GroupedTraining.Ok) {
      throw new IllegalStateException(
        s"group ${GroupedModel.describeKey(cols, keys)} failed: ${row.getAs[String]("error")}"
      )
    }
    estimator.modelOf(row.getAs[Array[Byte]]("model"))
  }

  // A struct key is given as a Row, an array key as a Seq: typed as the column. Other values go
  // through lit, so that Spark coerces them (an Int finds a long key).
  private def keyLiteral(column: String, value: Any): Column = value match {
    case _: Row | _: scala.collection.Seq[_] =>
      SparkShim.column(Literal.create(value, models.schema(column).dataType))
    case other => lit(other)
  }

  /**
   * This model typed by its per-group model class, for a model whose type is not known statically
   * (`GroupedModel.load(path).as[LinearRegressionModel]`).
   *
   * @throws IllegalArgumentException
   *   if the groups' models are of another class
   */
  def as[T <: NativeModel[T]](implicit tag: ClassTag[T]): GroupedModel[T] = {
    val actual = estimator.modelOf(Array.emptyByteArray).getClass
    require(
      tag.runtimeClass.isAssignableFrom(actual),
      s"this GroupedModel holds ${actual.getSimpleName} models, not ${tag.runtimeClass.getSimpleName}"
    )
    this.asInstanceOf[GroupedModel[T]]
  }

  override def transformSchema(schema: StructType): StructType = {
    groupColumns.foreach(c => Schemas.field(schema, c, "group"))
    val out = estimator.checkAndTransformSchema(schema, fitting = false)
    if (estimator.usesInputCols && numFeatures > 0) {
      require(
        estimator.getInputCols.length == numFeatures,
        s"the models have $numFeatures features but inputCols names " +
          s"${estimator.getInputCols.length}: ${estimator.getInputCols.mkString(", ")}"
      )
    }
    out
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema, logging = true)
    val df = dataset.toDF
    if (numFeatures == 0) {
      // No group trained: every output is null.
      val original = df.columns.toSeq.map(c => df.col(Schemas.quote(c)))
      return df.select(original ++ estimator.outputColumns.map { case (name, kind) =>
        lit(null).cast(kind.dataType).as(name)
      }: _*)
    }
    NativePrediction.transformGrouped(df, this, outSchema)
  }

  /**
   * Checks that the table has the expected columns and, in one distributed job, that every ok
   * group's model decodes; remembers the table's figures.
   *
   * @throws IllegalArgumentException
   *   for a missing column or a model that does not decode, naming the first such group in key
   *   order
   */
  private[manyfold] def validate(context: String): Unit = {
    val names = models.schema.fieldNames.toSeq
    val expected = groupColumns.toSeq ++ GroupedModel.resultColumns(estimator)
    require(
      expected.forall(names.contains),
      s"$context: the models table has columns ${names.mkString(", ")}; expected " +
        expected.mkString(", ")
    )
    val keyFields = groupColumns.toSeq.map(c => models.schema(c))
    val (checked, bad) = Jobs.describe(models.sparkSession, s"$jobName: checking the models") {
      ModelsTable.check(models, keyFields)
    }
    bad.foreach { case (key, error) =>
      throw new IllegalArgumentException(
        s"$context: the model of group ${GroupedModel.describeKey(groupColumns.toSeq, key.toSeq)} " +
          s"cannot be decoded: $error"
      )
    }
    summaryKnown = Some(checked)
  }

  override def copy(extra: ParamMap): GroupedModel[M] =
    copyValues(new GroupedModel[M](uid, estimator.copy(extra), models, summaryKnown), extra)
      .setParent(parent)

  override def write: MLWriter = new GroupedModel.GroupedModelWriter(this)
}

object GroupedModel extends MLReadable[GroupedModel[_]] {

  override def read: MLReader[GroupedModel[_]] = new GroupedModelReader

  override def load(path: String): GroupedModel[_] = super.load(path)

  /** The columns of [[GroupedModel.models]] after the group columns. */
  private[manyfold] def resultColumns(estimator: NativeParams): Seq[String] = {
    val (metrics, converged) = estimator match {
      case e: NativeEstimator[_] =>
        (e.metricColumns, if (e.info.iterative) Seq("converged") else Nil)
      case _ => (Nil, Nil)
    }
    Seq("model", "rows") ++ metrics ++ converged ++ Seq("status", "error", "trainingMillis")
  }

  /** `store=3, day=2024-01-01`. */
  private[manyfold] def describeKey(cols: Seq[String], values: Seq[Any]): String =
    cols.zip(values).map { case (c, v) => s"$c=$v" }.mkString(", ")

  private class GroupedModelWriter(instance: GroupedModel[_]) extends MLWriter {
    override protected def saveImpl(path: String): Unit = {
      val summary = instance.summary
      val groups = Jobs.groups(summary.numGroups)
      Jobs.describe(sparkSession, s"${instance.jobName}: saving $groups to $path") {
        ManyfoldMetadata.save(
          instance,
          path,
          sc,
          Some(
            Grouped.estimatorMetadata(instance.estimator, sc) ~
              ("numGroups" -> summary.numGroups) ~ ("modelBytesTotal" -> summary.modelBytes)
          )
        )
        // As partitioned: each task writes its part of the table.
        instance.models.write.parquet(Grouped.dataPath(path))
      }
    }
  }

  private class GroupedModelReader extends MLReader[GroupedModel[_]] {
    override def load(path: String): GroupedModel[_] =
      Jobs.describe(sparkSession, s"manyfold GroupedModel: loading $path") {
        val metadata = ManyfoldMetadata.load(path, sc, classOf[GroupedModel[_]].getName)
        val estimator = Grouped.estimatorFrom[Nothing](metadata.json, path)
        // Read lazily: the files stay the table, checked once here by a distributed job.
        val models = sparkSession.read.parquet(Grouped.dataPath(path))
        val model = new GroupedModel[Nothing](metadata.uid, estimator, models)
        metadata.setParams(model)
        model.validate(s"the model saved at $path")
        model
      }
  }
}
