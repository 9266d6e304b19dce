package manyfold.ml.tuning

import manyfold.ml.{GroupedTraining, Schemas}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.Column
import org.apache.spark.sql.functions.expr
import org.apache.spark.sql.types._
import org.json4s.{JBool, JDouble, JInt, JObject, JString}
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * k-fold cross-validation, shaped like Spark's `CrossValidator`, with every (fold, parameter set)
 * fit run natively and spread over `parallelism` tasks (see [[NativeSearch]]). The folds come from
 * `foldCol` when set (Spark's semantics: each row's validation fold, 0..numFolds-1), else from the
 * seed: the rows are shuffled (per class for a classifier, with `stratified`, the default) and cut
 * into `numFolds` folds that depend only on the data and the seed, never on partitioning.
 *
 * {{{
 * val cv = new NativeCrossValidator()
 *   .setEstimator(new SVC().setInputCols(features))
 *   .setEstimatorParamMaps(grid)
 *   .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy"))
 *   .setNumFolds(3)
 *   .setParallelism(2)
 * val model = cv.fit(df) // model.bestModel, model.avgMetrics, model.cvResults
 * }}}
 */
final class NativeCrossValidator(override val uid: String)
    extends NativeSearch[NativeCrossValidatorModel]
    with NativeCrossValidatorParams {

  def this() = this(Identifiable.randomUID("nativeCrossValidator"))

  def setNumFolds(value: Int): this.type = set(numFolds, value)
  def setFoldCol(value: String): this.type = set(foldCol, value)
  def setStratified(value: Boolean): this.type = set(stratified, value)

  override protected def folds(schema: StructType, classifier: Boolean): (String, Int) = {
    val json =
      if ($(foldCol).nonEmpty) JObject("kind" -> JString("column"), "k" -> JInt($(numFolds)))
      else
        JObject(
          "kind" -> JString("kfold"),
          "k" -> JInt($(numFolds)),
          "seed" -> Searches.seedJson($(seed)),
          "stratified" -> JBool(classifier && $(stratified))
        )
    (compact(render(json)), $(numFolds))
  }

  override protected def extras(schema: StructType): GroupedTraining.Extras =
    if ($(foldCol).isEmpty) GroupedTraining.Extras()
    else GroupedTraining.Extras(fold = Some($(foldCol) -> Searches.foldColumn(schema, $(foldCol))))

  override protected def newModel(uid: String, parts: SearchParts): NativeCrossValidatorModel =
    new NativeCrossValidatorModel(uid, parts)

  override def copy(extra: ParamMap): NativeCrossValidator = copySearch(extra)
}

object NativeCrossValidator extends MLReadable[NativeCrossValidator] {
  override def read: MLReader[NativeCrossValidator] =
    NativeSearch.reader(classOf[NativeCrossValidator], new NativeCrossValidator(_))
  override def load(path: String): NativeCrossValidator = super.load(path)
}

/** The outcome of a [[NativeCrossValidator]] (see [[NativeSearchModel]]). */
final class NativeCrossValidatorModel private[manyfold] (uid: String, parts: SearchParts)
    extends NativeSearchModel[NativeCrossValidatorModel](uid, parts)
    with NativeCrossValidatorParams {

  override protected def withParts(parts: SearchParts): NativeCrossValidatorModel =
    new NativeCrossValidatorModel(uid, parts)
}

object NativeCrossValidatorModel extends MLReadable[NativeCrossValidatorModel] {
  override def read: MLReader[NativeCrossValidatorModel] =
    NativeSearch.modelReader(
      classOf[NativeCrossValidatorModel],
      new NativeCrossValidatorModel(_, _)
    )
  override def load(path: String): NativeCrossValidatorModel = super.load(path)
}

/**
 * Time-series cross-validation, which Spark ML lacks: scikit-learn's `TimeSeriesSplit` (expanding
 * window, horizon `testSize`, `gap`, optional `maxTrainSize` window) on the sorted distinct values
 * of `timeCol`, so that rows sharing a time value are never split between training and validation
 * and no validation time precedes its fold's training times. Otherwise a [[NativeSearch]] like
 * [[NativeCrossValidator]]; wrapped in `manyfold.ml.Grouped`, each group (store, sensor) gets its
 * own folds and its own best parameters. A separate estimator rather than a split strategy of
 * [[NativeCrossValidator]], because its params (time column, splits, horizon, gap, window) have
 * nothing in common with k-fold's.
 */
final class TimeSeriesCrossValidator(override val uid: String)
    extends NativeSearch[TimeSeriesCrossValidatorModel]
    with TimeSeriesCrossValidatorParams {

  def this() = this(Identifiable.randomUID("timeSeriesCrossValidator"))

  def setTimeCol(value: String): this.type = set(timeCol, value)
  def setNSplits(value: Int): this.type = set(nSplits, value)
  def setTestSize(value: Int): this.type = set(testSize, value)
  def setGap(value: Int): this.type = set(gap, value)
  def setMaxTrainSize(value: Int): this.type = set(maxTrainSize, value)

  override protected def folds(schema: StructType, classifier: Boolean): (String, Int) = {
    val json = JObject(
      "kind" -> JString("timeSeries"),
      "nSplits" -> JInt($(nSplits)),
      "testSize" -> JInt($(testSize)),
      "gap" -> JInt($(gap)),
      "maxTrainSize" -> JInt($(maxTrainSize))
    )
    (compact(render(json)), $(nSplits))
  }

  override protected def extras(schema: StructType): GroupedTraining.Extras = {
    require(isDefined(timeCol) && $(timeCol).nonEmpty, s"$kind needs a time column: setTimeCol")
    GroupedTraining.Extras(time = Some($(timeCol) -> Searches.timeColumn(schema, $(timeCol))))
  }

  override protected def newModel(uid: String, parts: SearchParts): TimeSeriesCrossValidatorModel =
    new TimeSeriesCrossValidatorModel(uid, parts)

  override def copy(extra: ParamMap): TimeSeriesCrossValidator = copySearch(extra)
}

object TimeSeriesCrossValidator extends MLReadable[TimeSeriesCrossValidator] {
  override def read: MLReader[TimeSeriesCrossValidator] =
    NativeSearch.reader(classOf[TimeSeriesCrossValidator], new TimeSeriesCrossValidator(_))
  override def load(path: String): TimeSeriesCrossValidator = super.load(path)
}

/** The outcome of a [[TimeSeriesCrossValidator]] (see [[NativeSearchModel]]). */
final class TimeSeriesCrossValidatorModel private[manyfold] (uid: String, parts: SearchParts)
    extends NativeSearchModel[TimeSeriesCrossValidatorModel](uid, parts)
    with TimeSeriesCrossValidatorParams {

  override protected def withParts(parts: SearchParts): TimeSeriesCrossValidatorModel =
    new TimeSeriesCrossValidatorModel(uid, parts)
}

object TimeSeriesCrossValidatorModel extends MLReadable[TimeSeriesCrossValidatorModel] {
  override def read: MLReader[TimeSeriesCrossValidatorModel] =
    NativeSearch.modelReader(
      classOf[TimeSeriesCrossValidatorModel],
      new TimeSeriesCrossValidatorModel(_, _)
    )
  override def load(path: String): TimeSeriesCrossValidatorModel = super.load(path)
}

/**
 * One train/validation split, shaped like Spark's `TrainValidationSplit`: `trainRatio` of the
 * shuffled rows (per class for a classifier, with `stratified`) train, the rest validate.
 */
final class NativeTrainValidationSplit(override val uid: String)
    extends NativeSearch[NativeTrainValidationSplitModel]
    with NativeTrainValidationSplitParams {

  def this() = this(Identifiable.randomUID("nativeTrainValidationSplit"))

  def setTrainRatio(value: Double): this.type = set(trainRatio, value)
  def setStratified(value: Boolean): this.type = set(stratified, value)

  override protected def folds(schema: StructType, classifier: Boolean): (String, Int) = {
    val json = JObject(
      "kind" -> JString("trainValidation"),
      "trainRatio" -> JDouble($(trainRatio)),
      "seed" -> Searches.seedJson($(seed)),
      "stratified" -> JBool(classifier && $(stratified))
    )
    (compact(render(json)), 1)
  }

  override protected def extras(schema: StructType): GroupedTraining.Extras =
    GroupedTraining.Extras()

  override protected def newModel(
      uid: String,
      parts: SearchParts
  ): NativeTrainValidationSplitModel =
    new NativeTrainValidationSplitModel(uid, parts)

  override def copy(extra: ParamMap): NativeTrainValidationSplit = copySearch(extra)
}

object NativeTrainValidationSplit extends MLReadable[NativeTrainValidationSplit] {
  override def read: MLReader[NativeTrainValidationSplit] =
    NativeSearch.reader(classOf[NativeTrainValidationSplit], new NativeTrainValidationSplit(_))
  override def load(path: String): NativeTrainValidationSplit = super.load(path)
}

/**
 * The outcome of a [[NativeTrainValidationSplit]]: `validationMetrics` (Spark's name) per parameter
 * set; see [[NativeSearchModel]].
 */
final class NativeTrainValidationSplitModel private[manyfold] (uid: String, parts: SearchParts)
    extends NativeSearchModel[NativeTrainValidationSplitModel](uid, parts)
    with NativeTrainValidationSplitParams {

  /** The validation metric per parameter set (NaN for a set that failed). */
  def getValidationMetrics: Array[Double] = avgMetrics

  override protected def withParts(parts: SearchParts): NativeTrainValidationSplitModel =
    new NativeTrainValidationSplitModel(uid, parts)
}

object NativeTrainValidationSplitModel extends MLReadable[NativeTrainValidationSplitModel] {
  override def read: MLReader[NativeTrainValidationSplitModel] =
    NativeSearch.modelReader(
      classOf[NativeTrainValidationSplitModel],
      new NativeTrainValidationSplitModel(_, _)
    )
  override def load(path: String): NativeTrainValidationSplitModel = super.load(path)
}

private[tuning] object Searches {

  /** A seed as the native side takes it: its 64 bits, unsigned. */
  def seedJson(seed: Long): JInt = JInt(BigInt(java.lang.Long.toUnsignedString(seed)))

  /** The fold column as int, checked to be of an integer type. */
  def foldColumn(schema: StructType, name: String): Column = {
    val t = Schemas.field(schema, name, "fold").dataType
    require(
      Seq(ByteType, ShortType, IntegerType, LongType).contains(t),
      s"the fold column '$name' has type ${t.simpleString}; it must hold integers 0..numFolds-1"
    )
    Schemas.column(name).cast(IntegerType)
  }

  /**
   * The time column as double: numbers as they are, dates as days since 1970-01-01, timestamps as
   * microseconds since the epoch (exact in a double for ±285 years).
   */
  def timeColumn(schema: StructType, name: String): Column = {
    Schemas.field(schema, name, "time").dataType match {
      case _: NumericType => Schemas.column(name).cast(DoubleType)
      case DateType => expr(s"unix_date(${Schemas.quote(name)})").cast(DoubleType)
      case TimestampType => expr(s"unix_micros(${Schemas.quote(name)})").cast(DoubleType)
      case TimestampNTZType =>
        expr(s"unix_micros(cast(${Schemas.quote(name)} as timestamp))").cast(DoubleType)
      case t =>
        throw new IllegalArgumentException(
          s"the time column '$name' has type ${t.simpleString}; it must be numeric, a date or " +
            "a timestamp"
        )
    }
  }
}
