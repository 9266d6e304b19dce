package manyfold.ml.tuning

import scala.collection.JavaConverters._

import manyfold.ml.{GroupedTraining, Jobs}
import org.apache.hadoop.fs.Path
import org.apache.spark.ml.{Estimator, Model}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{ParamMap, ParamPair, Params}
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset, SparkSession}
import org.apache.spark.sql.types.StructType
import org.json4s._
import org.json4s.jackson.JsonMethods.{compact, parse, render}

/**
 * A native search: every (parameter set, fold) fit of a manyfold estimator runs natively, spread
 * over `parallelism` Spark tasks that share the data decoded once per executor; the validation
 * metrics are computed natively (equal to the evaluator's), and the best parameter set is refit on
 * all the data. See [[NativeCrossValidator]], [[TimeSeriesCrossValidator]] and
 * [[NativeTrainValidationSplit]]; wrapped in `manyfold.ml.Grouped`, the whole search runs per
 * group.
 */
abstract class NativeSearch[M <: NativeSearchModel[M]]
    extends Estimator[M]
    with NativeSearchParams
    with MLWritable {

  def setEstimator(value: Estimator[_]): this.type = set(estimator, value)
  def setEstimatorParamMaps(value: Array[ParamMap]): this.type = set(estimatorParamMaps, value)
  def setEvaluator(value: Evaluator): this.type = set(evaluator, value)
  def setParallelism(value: Int): this.type = set(parallelism, value)
  def setCollectSubModels(value: Boolean): this.type = set(collectSubModels, value)

  /** The search's name in messages and in the Spark UI. */
  private[manyfold] def kind: String = getClass.getSimpleName

  /** The folds JSON (docs/native-interface.md) and the number of folds. */
  protected def folds(schema: StructType, classifier: Boolean): (String, Int)

  /** The time or fold column the folds need, checked against the schema. */
  protected def extras(schema: StructType): GroupedTraining.Extras

  /** A model of this search's class, with these parts. */
  protected def newModel(uid: String, parts: SearchParts): M

  /** The checked plan of this search on data of this schema. */
  private[manyfold] def plan(schema: StructType, returnModels: Boolean): SearchPlan =
    SearchPlan(kind, this, c => folds(schema, c), extras(schema), returnModels)

  /**
   * Runs the search and refits the best parameter set on all the data.
   *
   * @throws IllegalArgumentException
   *   for bad settings or columns (before any job), folds that cannot be cut, or data that does not
   *   fit one executor (before any fit)
   * @throws IllegalStateException
   *   if every parameter set failed, quoting the first failure
   */
  override def fit(dataset: Dataset[_]): M = {
    // The plan checks the settings and columns, as transformSchema does.
    val plan = this.plan(dataset.schema, $(collectSubModels))
    getEstimator.transformSchema(dataset.schema)
    val outcome = SearchRunner.run(plan, dataset.toDF, $(parallelism))
    val results = SearchResults(plan, outcome.fits)
    val best = plan.estimator.copy(plan.paramMaps(results.bestIndex))
    val sc = dataset.sparkSession.sparkContext
    val bestModel = Jobs.describe(sc, s"manyfold $kind: refit of the best set") {
      best.fit(dataset).asInstanceOf[Model[_]]
    }
    val subModels =
      if (! $(collectSubModels)) None
      else {
        val byKey = outcome.fits.map(f => (f.fold, f.param) -> f).toMap
        Some(Array.tabulate[Model[_]](plan.numFolds, plan.paramMaps.length) { (f, p) =>
          val fit = byKey((f, p))
          if (fit.model == null) null
          else plan.estimator.copy(plan.paramMaps(p)).modelOf(fit.model).asInstanceOf[Model[_]]
        })
      }
    val parts = SearchParts(
      bestModel = bestModel,
      avgMetrics = results.avgMetrics,
      stdMetrics = results.stdMetrics,
      foldMetrics = results.foldMetrics,
      bestIndex = results.bestIndex,
      cvResults = results.table(dataset.sparkSession),
      splitsJson = outcome.splitsJson,
      subModels = subModels
    )
    copyValues(newModel(uid, parts).setParent(this))
  }

  override def transformSchema(schema: StructType): StructType = {
    plan(schema, returnModels = false)
    getEstimator.transformSchema(schema)
  }

  /** A copy with this param map, whose estimator and evaluator are copies too (as Spark's). */
  protected def copySearch(extra: ParamMap): this.type = {
    val copied = defaultCopy(extra).asInstanceOf[this.type]
    if (copied.isDefined(estimator)) copied.setEstimator(copied.getEstimator.copy(extra))
    if (copied.isDefined(evaluator)) copied.setEvaluator(copied.getEvaluator.copy(extra))
    copied
  }

  override def write: MLWriter = new NativeSearch.Writer(this, None)
}

/**
 * The outcome of a native search: the best model (refit on all the data with the best parameter
 * set), the mean and standard deviation of the validation metric per parameter set (in the order of
 * `estimatorParamMaps`), the metric per fold, and [[cvResults]]. `transform` predicts with the best
 * model.
 */
abstract class NativeSearchModel[M <: NativeSearchModel[M]](
    override val uid: String,
    parts: SearchParts
) extends Model[M]
    with NativeSearchParams
    with MLWritable {

  /** The best parameter set's model, refit on all the data. */
  val bestModel: Model[_] = parts.bestModel

  /** The mean validation metric per parameter set (NaN for a set that failed). */
  val avgMetrics: Array[Double] = parts.avgMetrics

  /** The (population) standard deviation of the metric over the folds, per parameter set. */
  val stdMetrics: Array[Double] = parts.stdMetrics

  /** The validation metric per parameter set and fold: `foldMetrics(set)(fold)`. */
  val foldMetrics: Array[Array[Double]] = parts.foldMetrics

  /** The index of the best parameter set in `estimatorParamMaps`. */
  val bestIndex: Int = parts.bestIndex

  /** One row per parameter set; see [[results]]. */
  @transient val cvResults: DataFrame = parts.cvResults

  /** The folds the search cut, as the native side describes them; see [[folds]]. */
  val splitsJson: String = parts.splitsJson

  private val fittedSubModels = parts.subModels

  /** A model of this class with these parts (for `copy`). */
  protected def withParts(parts: SearchParts): M

  override def copy(extra: ParamMap): M =
    copyValues(
      withParts(parts.copy(bestModel = bestModel.copy(extra).asInstanceOf[Model[_]])),
      extra
    ).setParent(parent)

  /**
   * `cvResults` has one row per parameter set, like scikit-learn's `cv_results_`: one column per
   * param the grid sets (its value in that set), `fold0`, `fold1`, ... (the validation metric per
   * fold), `mean`, `std`, `rank` (1 is best; null for a set that failed), `meanFitMillis`, `status`
   * (`ok` or `failed`) and `error` (the first failure of the set).
   */
  def results: DataFrame = cvResults

  /**
   * The folds the search cut, one row per fold: `fold`, `trainRows`, `validationRows`, and with a
   * time column `trainTimeMin`, `trainTimeMax`, `validationTimeMin`, `validationTimeMax` (in the
   * time column's numeric form: days for a date, microseconds for a timestamp).
   */
  def folds: DataFrame = {
    import org.apache.spark.sql.Row
    import org.apache.spark.sql.types._
    val times = Seq("trainTimeMin", "trainTimeMax", "validationTimeMin", "validationTimeMax")
    val schema = StructType(
      Seq(
        StructField("fold", IntegerType, nullable = false),
        StructField("trainRows", LongType, nullable = false),
        StructField("validationRows", LongType, nullable = false)
      ) ++ times.map(StructField(_, DoubleType, nullable = true))
    )
    def number(v: JValue): Any = v match {
      case JInt(i) => i.toDouble
      case JDouble(d) => d
      case _ => null
    }
    def long(v: JValue): Long = v match {
      case JInt(i) => i.toLong
      case JDouble(d) => d.toLong
      case _ => 0L
    }
    val rows = parse(splitsJson).children.map { f =>
      Row.fromSeq(
        Seq[Any](long(f \ "fold").toInt, long(f \ "trainRows"), long(f \ "validationRows")) ++
          times.map(t => number(f \ t))
      )
    }
    cvResults.sparkSession.createDataFrame(rows.asJava, schema)
  }

  /** The best parameter set. */
  def bestParams: ParamMap = getEstimatorParamMaps(bestIndex)

  /** Whether the fold models were kept (`collectSubModels`). */
  def hasSubModels: Boolean = fittedSubModels.isDefined

  /**
   * The model of every fit, `subModels(fold)(parameter set)` (null for a fit that failed).
   *
   * @throws IllegalStateException
   *   if the search ran without `collectSubModels`
   */
  def subModels: Array[Array[Model[_]]] = fittedSubModels.getOrElse {
    throw new IllegalStateException(
      "the fold models were not kept: run the search with setCollectSubModels(true)"
    )
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    bestModel.transform(dataset)
  }

  override def transformSchema(schema: StructType): StructType = bestModel.transformSchema(schema)

  override def write: MLWriter = new NativeSearch.Writer(this, Some(this))
}

private[manyfold] object NativeSearch {

  private val Separate = Seq("estimator", "evaluator", "estimatorParamMaps")

  /**
   * Saves a search or its model in Spark's layout for `CrossValidator`: metadata (params, the grid
   * as Spark encodes it), `estimator/`, `evaluator/`, and for a model `bestModel/`, `cvResults/`
   * (Parquet) and, when kept, `subModels/fold<f>/<set>`.
   */
  final class Writer(instance: NativeSearchParams, model: Option[NativeSearchModel[_]])
      extends MLWriter {

    override protected def saveImpl(path: String): Unit = {
      val grid = JArray(instance.getEstimatorParamMaps.toList.map { map =>
        JArray(map.toSeq.toList.map { case ParamPair(p, v) =>
          JObject(
            "parent" -> JString(p.parent),
            "name" -> JString(p.name),
            "value" -> JString(p.jsonEncode(v)),
            "isJson" -> JString("true")
          )
        })
      })
      val params = JObject(
        instance.extractParamMap().toSeq.toList.collect {
          case ParamPair(p, v) if !Separate.contains(p.name) =>
            JField(p.name, parse(p.jsonEncode(v)))
        } :+ JField("estimatorParamMaps", grid)
      )
      val extra = model.map { m =>
        JObject(
          "avgMetrics" -> JArray(m.avgMetrics.toList.map(doubleJson)),
          "stdMetrics" -> JArray(m.stdMetrics.toList.map(doubleJson)),
          "foldMetrics" -> JArray(m.foldMetrics.toList.map(f => JArray(f.toList.map(doubleJson)))),
          "bestIndex" -> JInt(m.bestIndex),
          "splits" -> parse(m.splitsJson),
          "persistSubModels" -> JBool(m.hasSubModels)
        )
      }
      ManyfoldMetadata.save(instance, path, sc, extra, params)
      writable(instance.getEstimator, "estimator").save(new Path(path, "estimator").toString)
      writable(instance.getEvaluator, "evaluator").save(new Path(path, "evaluator").toString)
      model.foreach { m =>
        writable(m.bestModel, "best model").save(new Path(path, "bestModel").toString)
        m.cvResults.repartition(1).write.parquet(new Path(path, "cvResults").toString)
        if (m.hasSubModels) {
          m.subModels.zipWithIndex.foreach { case (models, f) =>
            models.zipWithIndex.foreach { case (sub, p) =>
              if (sub != null) {
                writable(sub, "fold model").save(new Path(path, s"subModels/fold$f/$p").toString)
              }
            }
          }
        }
      }
    }

    private def writable(stage: Params, what: String): MLWriter = stage match {
      case w: MLWritable => w.write.session(sparkSession)
      case other =>
        throw new UnsupportedOperationException(
          s"the $what ${other.getClass.getName} cannot be saved (it is not MLWritable)"
        )
    }
  }

  // JSON has no NaN: a failed parameter set's metric is saved as null.
  private def doubleJson(v: Double): JValue = if (v.isNaN) JNull else JDouble(v)

  private def doubles(json: JValue): Array[Double] = json match {
    case JArray(values) =>
      values.map {
        case JDouble(d) => d
        case JInt(i) => i.toDouble
        case _ => Double.NaN
      }.toArray
    case _ => Array.empty
  }

  /** What a saved search holds, for its class's reader to build the instance. */
  final case class Saved(
      metadata: ManyfoldMetadata.Loaded,
      estimator: Estimator[_],
      evaluator: Evaluator,
      paramMaps: Array[ParamMap]
  ) {

    /** Sets the saved params, estimator, evaluator and grid on a new instance. */
    def setOn[T <: NativeSearchParams](instance: T): T = {
      metadata.setParams(instance, Separate)
      instance.set(instance.estimator, estimator)
      instance.set(instance.evaluator, evaluator)
      instance.set(instance.estimatorParamMaps, paramMaps)
      instance
    }
  }

  /** Reads the metadata, estimator, evaluator and grid saved at `path` by a `className`. */
  def load(path: String, spark: SparkSession, className: String): Saved = {
    val sc = spark.sparkContext
    val metadata = ManyfoldMetadata.load(path, sc, className)
    val estimator =
      ManyfoldMetadata.loadStage[Estimator[_]](new Path(path, "estimator").toString, sc)
    val evaluator = ManyfoldMetadata.loadStage[Evaluator](new Path(path, "evaluator").toString, sc)
    val maps = metadata.param("estimatorParamMaps") match {
      case JArray(sets) =>
        sets.map {
          case JArray(pairs) =>
            val map = ParamMap.empty
            pairs.foreach { pair =>
              val name = (pair \ "name").asInstanceOf[JString].s
              val value = (pair \ "value").asInstanceOf[JString].s
              require(
                estimator.hasParam(name),
                s"the search saved at $path sets '$name', which its estimator lacks"
              )
              val param = estimator.getParam(name)
              map.put(param, param.jsonDecode(value))
            }
            map
          case other =>
            throw new IllegalArgumentException(s"bad parameter set: ${compact(render(other))}")
        }.toArray
      case _ => throw new IllegalArgumentException(s"the search saved at $path has no grid")
    }
    Saved(metadata, estimator, evaluator, maps)
  }

  /** A reader of a search estimator saved by [[Writer]]. */
  def reader[T <: NativeSearch[_]](cls: Class[T], make: String => T): MLReader[T] =
    new MLReader[T] {
      override def load(path: String): T = {
        val saved = NativeSearch.load(path, sparkSession, cls.getName)
        saved.setOn(make(saved.metadata.uid))
      }
    }

  /** A reader of a search model saved by [[Writer]]. */
  def modelReader[T <: NativeSearchModel[T]](
      cls: Class[T],
      make: (String, SearchParts) => T
  ): MLReader[T] =
    new MLReader[T] {
      override def load(path: String): T = {
        val saved = NativeSearch.load(path, sparkSession, cls.getName)
        saved.setOn(make(saved.metadata.uid, loadModel(path, sparkSession, saved)))
      }
    }

  private def loadModel(path: String, spark: SparkSession, saved: Saved): SearchParts = {
    val sc = spark.sparkContext
    val json = saved.metadata.json
    val bestModel = ManyfoldMetadata.loadStage[Model[_]](new Path(path, "bestModel").toString, sc)
    val stored = spark.read.parquet(new Path(path, "cvResults").toString)
    // Small (one row per parameter set): kept in memory rather than re-read at every use.
    val cvResults = spark.createDataFrame(stored.collect().toSeq.asJava, stored.schema)
    val foldMetrics = (json \ "foldMetrics") match {
      case JArray(folds) => folds.map(doubles).toArray
      case _ => Array.empty[Array[Double]]
    }
    val persisted = (json \ "persistSubModels") match {
      case JBool(b) => b
      case _ => false
    }
    val subModels =
      if (!persisted) None
      else {
        val fs = org.apache.hadoop.fs.FileSystem.get(new Path(path).toUri, sc.hadoopConfiguration)
        val k = foldMetrics.headOption.map(_.length).getOrElse(0)
        Some(Array.tabulate[Model[_]](k, saved.paramMaps.length) { (f, p) =>
          val at = new Path(path, s"subModels/fold$f/$p")
          if (fs.exists(at)) ManyfoldMetadata.loadStage[Model[_]](at.toString, sc) else null
        })
      }
    SearchParts(
      bestModel = bestModel,
      avgMetrics = doubles(json \ "avgMetrics"),
      stdMetrics = doubles(json \ "stdMetrics"),
      foldMetrics = foldMetrics,
      bestIndex = (json \ "bestIndex") match {
        case JInt(i) => i.toInt
        case _ => 0
      },
      cvResults = cvResults,
      splitsJson = compact(render(json \ "splits")),
      subModels = subModels
    )
  }
}

/** What a search model is made of: see [[NativeSearchModel]]. */
final case class SearchParts(
    bestModel: Model[_],
    avgMetrics: Array[Double],
    stdMetrics: Array[Double],
    foldMetrics: Array[Array[Double]],
    bestIndex: Int,
    cvResults: DataFrame,
    splitsJson: String,
    subModels: Option[Array[Array[Model[_]]]]
)
