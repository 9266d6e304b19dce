package manyfold.ml

import scala.collection.JavaConverters._
import scala.reflect.ClassTag

import manyfold.arrow.GroupResult
import manyfold.jni.NativeCalls
import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset, Row, SparkSession}
import org.apache.spark.sql.functions.lit
import org.apache.spark.sql.types._

/**
 * One model per group, as [[Grouped]] trained them.
 *
 * [[models]] has one row per group, sorted by group key: the group columns (their names and types),
 * `model` (the model bytes; null if the group failed), `rows`, the training metrics (`rmse` and
 * `r2` for a regression, `accuracy` and `logLoss` for a classifier, `inertia` for k-means; null if
 * failed), for iterative algorithms `converged` (false: the fit stopped at maxIter without meeting
 * tol), `status` ("ok" or "failed"), `error` (why it failed; null if ok) and `trainingMillis`.
 *
 * `transform` predicts each row with its group's model and adds the estimator's output columns
 * (prediction; for a classifier also probability and raw prediction). A row whose group is not in
 * [[models]], or whose group failed, gets null outputs, as does a row with a null feature.
 */
final class GroupedModel[M <: NativeModel[M]] private[manyfold] (
    override val uid: String,
    val estimator: NativeEstimator[M],
    val models: DataFrame
) extends Model[GroupedModel[M]]
    with GroupedParams
    with MLWritable {

  /** The group column names. */
  def groupColumns: Array[String] = $(groupCols)

  @transient private lazy val table: Array[Row] = models.collect()

  @transient private lazy val okRows: Array[Row] =
    table.filter(_.getAs[String]("status") == GroupedTraining.Ok)

  @transient private lazy val byKey: Map[Seq[Any], Row] =
    table.map(r => r.toSeq.take(groupColumns.length) -> r).toMap

  /** The total bytes of the trained models (decides broadcast or shuffle in transform). */
  @transient private[manyfold] lazy val modelBytesTotal: Long = NativePrediction.modelBytes(models)

  /** The trained models broadcast for transform (made once per model object). */
  @transient private[manyfold] lazy val broadcastTable: NativePrediction.BroadcastGroups =
    NativePrediction.broadcastGroups(this)

  /** The number of features of the models (all groups share the columns); 0 if none trained. */
  @transient lazy val numFeatures: Int =
    okRows.headOption
      .map(r => estimator.modelOf(r.getAs[Array[Byte]]("model")).nativeNumFeatures)
      .getOrElse(0)

  /** The number of groups, trained or failed. */
  def numGroups: Int = table.length

  /**
   * The model of one group, given its key values in the order of the group columns: a model of the
   * estimator's type (a `LinearRegressionModel` for a `LinearRegression`, ...).
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
    val row = byKey.getOrElse(
      keys,
      throw new NoSuchElementException(s"no group ${GroupedModel.describeKey(cols, keys)}")
    )
    if (row.getAs[String]("status") != GroupedTraining.Ok) {
      throw new IllegalStateException(
        s"group ${GroupedModel.describeKey(cols, keys)} failed: ${row.getAs[String]("error")}"
      )
    }
    estimator.modelOf(row.getAs[Array[Byte]]("model"))
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
      val original = df.columns.toSeq.map(c => df.col(quote(c)))
      return df.select(original ++ estimator.outputColumns.map { case (name, kind) =>
        lit(null).cast(kind.dataType).as(name)
      }: _*)
    }
    NativePrediction.transformGrouped(df, this, outSchema)
  }

  private def quote(name: String): String = "`" + name.replace("`", "``") + "`"

  /** Checks that the table has the expected columns and that every model decodes. */
  private[manyfold] def validate(context: String): Unit = {
    val names = models.schema.fieldNames.toSeq
    val expected = groupColumns.toSeq ++ GroupedModel.resultColumns(estimator)
    require(
      expected.forall(names.contains),
      s"$context: the models table has columns ${names.mkString(", ")}; expected " +
        expected.mkString(", ")
    )
    try NativeCalls.closeModels(NativeCalls.openModels(okRows.map(_.getAs[Array[Byte]]("model"))))
    catch {
      case e: Exception =>
        // Name the first group whose bytes do not decode.
        okRows.foreach { r =>
          try estimator.modelOf(r.getAs[Array[Byte]]("model")).validate("")
          catch {
            case _: Exception =>
              val key =
                GroupedModel.describeKey(groupColumns.toSeq, r.toSeq.take(groupColumns.length))
              throw new IllegalArgumentException(
                s"$context: the model of group $key cannot be decoded: ${e.getMessage}",
                e
              )
          }
        }
        throw new IllegalArgumentException(s"$context: ${e.getMessage}", e)
    }
  }

  override def copy(extra: ParamMap): GroupedModel[M] =
    copyValues(new GroupedModel[M](uid, estimator.copy(extra), models), extra).setParent(parent)

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

  /** The models table of training outcomes (already sorted by key). */
  private[manyfold] def modelsTable(
      spark: SparkSession,
      keyFields: Seq[StructField],
      estimator: NativeEstimator[_],
      trained: Array[GroupedTraining.Trained],
      extra: Seq[(StructField, GroupResult => Any)] = Nil
  ): DataFrame = {
    val converged = if (estimator.info.iterative) Seq("converged") else Nil
    val keySchema = StructType(keyFields.map(f => StructField(f.name, f.dataType, nullable = true)))
    val schema = StructType(
      keySchema.fields ++ Seq(
        StructField("model", BinaryType, nullable = true),
        StructField("rows", LongType, nullable = false)
      ) ++ estimator.metricColumns.map(m => StructField(m, DoubleType, nullable = true)) ++
        converged.map(StructField(_, BooleanType, nullable = true)) ++
        Seq(
          StructField("status", StringType, nullable = false),
          StructField("error", StringType, nullable = true),
          StructField("trainingMillis", DoubleType, nullable = false)
        ) ++ extra.map(_._1)
    )
    val toKey = GroupedTraining.keyConverter(keySchema)
    val rows = trained.map { case GroupedTraining.Trained(key, r) =>
      Row.fromSeq(
        toKey(key).toSeq ++ Seq(r.model, r.rows) ++ r.metrics.map(_.map(Double.box).orNull) ++
          converged.map(_ => r.converged.map(Boolean.box).orNull) ++
          Seq(r.status, r.error, r.trainMillis) ++ extra.map(_._2(r))
      )
    }
    spark.createDataFrame(rows.toSeq.asJava, schema)
  }

  private class GroupedModelWriter(instance: GroupedModel[_]) extends MLWriter {
    override protected def saveImpl(path: String): Unit = {
      ManyfoldMetadata.save(
        instance,
        path,
        sc,
        Some(Grouped.estimatorMetadata(instance.estimator, sc))
      )
      instance.models.repartition(1).write.parquet(Grouped.dataPath(path))
    }
  }

  private class GroupedModelReader extends MLReader[GroupedModel[_]] {
    override def load(path: String): GroupedModel[_] = {
      val metadata = ManyfoldMetadata.load(path, sc, classOf[GroupedModel[_]].getName)
      val estimator = Grouped.estimatorFrom[Nothing](metadata.json, path)
      // The table is small (one row per group) and needed on the driver to predict: keep it
      // in memory rather than re-reading the files at every use.
      val stored = sparkSession.read.parquet(Grouped.dataPath(path))
      val models = sparkSession.createDataFrame(stored.collect().toSeq.asJava, stored.schema)
      val model = new GroupedModel[Nothing](metadata.uid, estimator, models)
      metadata.setParams(model)
      model.validate(s"the model saved at $path")
      model
    }
  }
}
