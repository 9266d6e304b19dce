package manyfold.ml

import manyfold.arrow.GroupResult
import manyfold.ml.tuning.{NativeSearch, SearchPlan}
import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.spark.SparkContext
import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.{DoubleType, StructField, StructType}
import org.apache.spark.storage.StorageLevel
import org.json4s.{JObject, JValue}
import org.json4s.JsonDSL._

/** Params of [[Grouped]] and [[GroupedModel]]. */
trait GroupedParams extends manyfold.ml.param.CompatChecked {

  /**
   * Param for the group columns: one model is trained per distinct combination of their values
   * (nulls included). Any orderable type: numbers, strings, booleans, dates, timestamps, binary,
   * and arrays or structs of those. Required: at least one, distinct names. Default: none.
   */
  final val groupCols: StringArrayParam = new StringArrayParam(
    this,
    "groupCols",
    "columns whose distinct values define the groups, one model per group. Any orderable type. " +
      "Required (at least one), distinct names. Default: none",
    manyfold.ml.param.ColumnNames.distinct
  )

  /**
   * Param for the most rows a group may have; a bigger group is not trained but gets a failed row.
   * >= 1. Default 1000000.
   */
  final val maxRowsPerGroup: LongParam = new LongParam(
    this,
    "maxRowsPerGroup",
    "most rows a group may have (a group's rows are trained in one task's memory; a bigger " +
      "group fails). >= 1. Default: 1000000",
    ParamValidators.gtEq(1)
  )

  /**
   * Param for whether a group that fails to train fails the fit (an IllegalStateException naming
   * the first failed group) instead of giving a `failed` row in `models`. Default false.
   */
  final val failOnGroupError: BooleanParam = new BooleanParam(
    this,
    "failOnGroupError",
    "whether a group that cannot be trained fails fit, instead of giving a failed row in " +
      "models. Default: false"
  )

  /**
   * Param for the number of partitions the rows are shuffled into by group; 0 picks one from the
   * input's estimated size: one per 64 MB, at least 2 per core (`spark.default.parallelism`), at
   * most `spark.sql.shuffle.partitions`. >= 0. Default 0.
   */
  final val numPartitions: IntParam = new IntParam(
    this,
    "numPartitions",
    "number of partitions the rows are shuffled into by group; 0 picks one from the input " +
      "size (one per 64 MB, at least 2 per core, at most spark.sql.shuffle.partitions). " +
      ">= 0. Default: 0",
    ParamValidators.gtEq(0)
  )

  setDefault(
    groupCols -> Array.empty[String],
    maxRowsPerGroup -> 1000000L,
    failOnGroupError -> false,
    numPartitions -> 0
  )

  final def getGroupCols: Array[String] = $(groupCols)
  final def getMaxRowsPerGroup: Long = $(maxRowsPerGroup)
  final def getFailOnGroupError: Boolean = $(failOnGroupError)
  final def getNumPartitions: Int = $(numPartitions)

  /** Checks the group columns against a schema and the estimator's columns. */
  private[manyfold] def validateGroupCols(
      schema: StructType,
      estimator: NativeEstimator[_]
  ): Unit = {
    require($(groupCols).nonEmpty, "no group columns: call setGroupCols(...) with at least one")
    val reserved = GroupedModel.resultColumns(estimator)
    val inputs = estimator.featureColumnNames ++ estimator.labelColumn ++ estimator.weightColumn
    $(groupCols).foreach { c =>
      val t = Schemas.field(schema, c, "group").dataType
      require(
        Schemas.orderable(t),
        s"the group column '$c' has type ${t.simpleString}, which Spark cannot sort or partition by"
      )
      require(
        !reserved.contains(c),
        s"the group column '$c' has the name of a column of GroupedModel.models " +
          s"(${reserved.mkString(", ")}): rename it"
      )
      require(
        !inputs.contains(c),
        s"the group column '$c' is also a feature, label or weight column"
      )
    }
  }
}

/**
 * Trains one model per group: `Grouped(new LinearRegression()).setGroupCols("store").fit(df)`. The
 * estimator's params and columns (features, label, outputs) are used for every group.
 *
 * The rows are shuffled by group and sorted within partitions; each task streams its rows into
 * Arrow batches of many groups (up to about 256k rows, cut at a group boundary) and trains each
 * batch with one native call, on `TaskContext.cpus()` threads. A group's rows must fit in the
 * memory of one task (at most `maxRowsPerGroup`). The outcomes stay distributed:
 * [[GroupedModel.models]] has one row per group, persisted where it was trained (memory and disk),
 * in no particular order; nothing brings all the models to the driver. Each phase's Spark jobs are
 * described (`manyfold Grouped(LinearRegression) by store: training groups`) in the Spark UI.
 *
 * A group whose data cannot be trained on (a null, NaN or infinite label or feature, a single
 * class, too few rows, more than `maxRowsPerGroup` rows) gets a `failed` row with the reason, and
 * the other groups train; with `failOnGroupError` fit throws instead.
 */
final class Grouped[M <: NativeModel[M]](
    override val uid: String,
    val estimator: NativeEstimator[M],
    val search: Option[NativeSearch[_]]
) extends Estimator[GroupedModel[M]]
    with GroupedParams
    with MLWritable {

  def this(uid: String, estimator: NativeEstimator[M]) = this(uid, estimator, None)

  def this(estimator: NativeEstimator[M]) = this(Identifiable.randomUID("grouped"), estimator)

  def setGroupCols(cols: String*): this.type = set(groupCols, cols.toArray)
  def setMaxRowsPerGroup(value: Long): this.type = set(maxRowsPerGroup, value)
  def setFailOnGroupError(value: Boolean): this.type = set(failOnGroupError, value)
  def setNumPartitions(value: Int): this.type = set(numPartitions, value)

  /**
   * Trains one model per group.
   *
   * @throws IllegalArgumentException
   *   for invalid columns or params, or an empty DataFrame, before any training job
   * @throws IllegalStateException
   *   with `failOnGroupError`, naming the first failed group (in group key order) and why it failed
   */
  override def fit(dataset: Dataset[_]): GroupedModel[M] = {
    transformSchema(dataset.schema, logging = true)
    val df = dataset.toDF
    val spark = df.sparkSession
    val name = s"manyfold $label"
    val by = s"$name by ${$(groupCols).mkString(", ")}"
    val plan = search.map(_.plan(df.schema, returnModels = false))
    val extras = plan.fold(GroupedTraining.Extras()) { p =>
      p.extras.copy(search = Some(GroupedTraining.SearchCall(p.searchJson, p.foldsJson)))
    }
    val trained = Jobs.describe(spark, s"$by: checking the input, shuffling rows by group") {
      GroupedTraining.train(
        df,
        $(groupCols).toSeq,
        estimator,
        $(maxRowsPerGroup),
        $(numPartitions),
        extras
      )
    }
    val keyFields = $(groupCols).toSeq.map(c => Schemas.field(df.schema, c, "group"))
    val models = ModelsTable
      .of(spark, keyFields, estimator, trained, plan.map(Grouped.searchColumns).getOrElse(Nil))
      .persist(StorageLevel.MEMORY_AND_DISK)
    // Fit is eager, as Spark ML's: one job trains every group into the persisted table.
    val summary =
      try {
        Jobs.describe(spark, s"$by: training groups") {
          GroupedTraining.rethrowInvalidInput(ModelsTable.summarize(models))
        }
      } catch {
        case e: Throwable =>
          models.unpersist()
          throw e
      }
    if (summary.numGroups == 0) {
      models.unpersist()
      throw GroupedTraining.emptyInput
    }
    if ($(failOnGroupError) && summary.failedGroups > 0) {
      val trainedText = s"$name: ${Jobs.groups(summary.numGroups)} trained"
      val first = Jobs.describe(spark, s"$trainedText, finding the first failed group") {
        ModelsTable.firstFailed(models, $(groupCols).toSeq)
      }
      models.unpersist()
      throw new IllegalStateException(first.fold(s"${Jobs.groups(summary.failedGroups)} failed") {
        case (key, error) =>
          s"group ${GroupedModel.describeKey($(groupCols).toSeq, key)} failed: $error"
      })
    }
    copyValues(
      new GroupedModel[M](uid, estimator.copy(ParamMap.empty), models, Some(summary))
        .setParent(this)
    )
  }

  /** `Grouped(LinearRegression)`, or with a search `Grouped(NativeCrossValidator(SVC))`. */
  private def label: String = {
    val inner = estimator.getClass.getSimpleName
    s"Grouped(${search.fold(inner)(s => s"${s.getClass.getSimpleName}($inner)")})"
  }

  override def transformSchema(schema: StructType): StructType = {
    validateGroupCols(schema, estimator)
    search.foreach { s =>
      val plan = s.plan(schema, returnModels = false)
      (plan.extras.time ++ plan.extras.fold).map(_._1).foreach { c =>
        require(! $(groupCols).contains(c), s"the group column '$c' is also the search's $c")
      }
    }
    estimator.transformSchema(schema)
  }

  override def copy(extra: ParamMap): Grouped[M] =
    copyValues(
      new Grouped[M](
        uid,
        estimator.copy(extra),
        search.map(_.copy(extra).asInstanceOf[NativeSearch[_]])
      ),
      extra
    )

  override def write: MLWriter = new Grouped.GroupedWriter(this)
}

object Grouped extends MLReadable[Grouped[_]] {

  /** Groups an estimator: its params and columns are used for every group. */
  def apply[M <: NativeModel[M]](estimator: NativeEstimator[M]): Grouped[M] =
    new Grouped[M](estimator)

  /**
   * Runs a whole search per group, inside that group's task: each group gets its own folds, its own
   * best parameter set and a model refit on all its rows with it. `models` gains one column per
   * param of the grid (the group's best value) and `cvMetric` (the best set's mean validation
   * metric). The per-group model type is not known statically: type the fitted model with
   * `.as[LinearRegressionModel]` (or the estimator's model class) to get typed models.
   *
   * @throws IllegalArgumentException
   *   if the search has no manyfold estimator
   */
  def apply(search: NativeSearch[_]): Grouped[_] =
    new Grouped[Nothing](Identifiable.randomUID("grouped"), estimatorOf(search), Some(search))

  private def estimatorOf(search: NativeSearch[_]): NativeEstimator[Nothing] = {
    require(search.isDefined(search.estimator), "the search has no estimator: call setEstimator")
    search.getEstimator match {
      case e: NativeEstimator[_] => e.asInstanceOf[NativeEstimator[Nothing]]
      case other =>
        throw new IllegalArgumentException(
          s"a per-group search takes a manyfold estimator; ${other.getClass.getName} is not one"
        )
    }
  }

  /**
   * The models table's columns of a per-group search: each grid param's best value (typed as in
   * `cvResults`) and `cvMetric`, null for a failed group.
   */
  private[manyfold] def searchColumns(
      plan: SearchPlan
  ): Seq[(StructField, GroupResult => Any)] = {
    val params = plan.paramColumns.map { case (field, cell) =>
      (field, (r: GroupResult) => r.bestParam.map(cell).orNull)
    }
    val metric = (r: GroupResult) => r.bestMetric.map(Double.box).orNull
    params :+ ((StructField("cvMetric", DoubleType, nullable = true), metric))
  }

  override def read: MLReader[Grouped[_]] = new GroupedReader

  override def load(path: String): Grouped[_] = super.load(path)

  /** Embeds the estimator (class, uid, params) in the metadata JSON of a Grouped stage. */
  private[manyfold] def estimatorMetadata(
      estimator: NativeEstimator[_],
      sc: SparkContext
  ): JObject =
    ("estimatorClass" -> estimator.getClass.getName) ~
      ("estimator" -> ManyfoldMetadata.toJson(estimator, sc))

  /** The estimator embedded by [[estimatorMetadata]], with its params. */
  private[manyfold] def estimatorFrom[M <: NativeModel[M]](
      metadata: JValue,
      path: String
  ): NativeEstimator[M] = {
    val saved = ManyfoldMetadata.fromJson(metadata \ "estimator")
    val cls = Class.forName(saved.className, true, getClass.getClassLoader)
    require(
      classOf[NativeEstimator[_]].isAssignableFrom(cls),
      s"the estimator saved at $path is a ${saved.className}, not a manyfold estimator"
    )
    val estimator =
      cls.getConstructor(classOf[String]).newInstance(saved.uid).asInstanceOf[NativeEstimator[M]]
    saved.setParams(estimator)
    estimator
  }

  private class GroupedWriter(instance: Grouped[_]) extends MLWriter {
    override protected def saveImpl(path: String): Unit = {
      ManyfoldMetadata.save(instance, path, sc, Some(estimatorMetadata(instance.estimator, sc)))
      instance.search.foreach(_.write.session(sparkSession).save(searchPath(path)))
    }
  }

  private class GroupedReader extends MLReader[Grouped[_]] {
    override def load(path: String): Grouped[_] = {
      val metadata = ManyfoldMetadata.load(path, sc, classOf[Grouped[_]].getName)
      // The model type is not known statically when loading; erased at run time anyway.
      val fs = FileSystem.get(new Path(path).toUri, sc.hadoopConfiguration)
      val search: Option[NativeSearch[_]] =
        if (!fs.exists(new Path(searchPath(path)))) None
        else Some(ManyfoldMetadata.loadStage[NativeSearch[_]](searchPath(path), sc))
      val grouped =
        new Grouped[Nothing](metadata.uid, estimatorFrom[Nothing](metadata.json, path), search)
      metadata.setParams(grouped)
      grouped
    }
  }

  private[manyfold] def dataPath(path: String): String = new Path(path, "data").toString

  private def searchPath(path: String): String = new Path(path, "search").toString
}
