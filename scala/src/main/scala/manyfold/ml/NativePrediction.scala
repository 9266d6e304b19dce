package manyfold.ml

import java.security.MessageDigest

import scala.collection.mutable

import manyfold.arrow.{ArrowBatches, BatchBuilder, FeatureLayout, Predictions}
import manyfold.jni.NativeCalls
import org.apache.spark.TaskContext
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.sql.{Column, DataFrame, SparkSession}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{UnsafeProjection, UnsafeRow}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.manyfold.{BatchEval, BatchEvaluator, BatchFunction, SparkShim}
import org.apache.spark.sql.vectorized.ColumnVector
import org.apache.spark.sql.types.{
  DataType,
  DateType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  ShortType,
  StructField,
  StructType,
  TimestampType
}

/**
 * Vectorized prediction on Spark's internal rows. Each partition's rows go to the native library in
 * Arrow batches of `spark.manyfold.predict.batchRows` rows (default 65536), one `predict` call per
 * batch, and the results come back as columns appended to the rows (a [[BatchEval]] node in the
 * plan: Spark optimizes around it as around any projection).
 *
 * Models: a single model, or a grouped model's models keyed by group, are decoded once per executor
 * JVM and shared by its tasks ([[ModelCache]]): the model bytes travel as a broadcast. Grouped
 * models too large to broadcast (`spark.manyfold.predict.broadcastThreshold`, default 64 MB of
 * model bytes) are instead shuffled with the rows by group key: each task then decodes the models
 * of its own groups, once.
 */
private[manyfold] object NativePrediction {

  val DefaultBatchRows: Int = 64 * 1024
  val DefaultBroadcastThreshold: Long = 64L << 20

  private def conf(spark: SparkSession, key: String, default: Long): Long =
    spark.conf.getOption(key).map(_.toLong).getOrElse(default)

  /** Most model bytes a grouped model broadcasts (`spark.manyfold.predict.broadcastThreshold`). */
  def broadcastThreshold(spark: SparkSession): Long =
    conf(spark, "spark.manyfold.predict.broadcastThreshold", DefaultBroadcastThreshold)

  private def batchRows(df: DataFrame): Int = {
    val n = conf(df.sparkSession, "spark.manyfold.predict.batchRows", DefaultBatchRows.toLong)
    require(
      n >= 1 && n <= (1 << 24),
      s"spark.manyfold.predict.batchRows must be in [1, 2^24], got $n"
    )
    n.toInt
  }

  /** What a task needs to predict besides its models (shipped in the task closure). */
  final case class Plan(
      keyTypes: Seq[DataType],
      layout: FeatureLayout,
      outputs: Seq[OutputKind],
      optionsJson: String,
      batchRows: Int,
      name: String
  )

  /** Where a task's models come from. */
  sealed trait Models extends Serializable

  /** One model, predicting every row: its bytes broadcast, keyed by their content hash. */
  final case class OneModel(key: String, bytes: Broadcast[Array[Byte]]) extends Models

  /** Models by group key (as UnsafeRows of the key types), broadcast. */
  final case class GroupModels(keys: Array[UnsafeRow], models: Array[Array[Byte]])

  final case class BroadcastGroups(table: Broadcast[GroupModels], totalBytes: Long) extends Models

  /** The content hash of model bytes: the cache key of a model wherever it is predicted. */
  def contentKey(bytes: Array[Byte]): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map("%02x".format(_)).mkString

  /** Predicts every row of `df` with one model. */
  def transformWithOneModel(df: DataFrame, model: NativeModel[_]): DataFrame = {
    val outSchema = model.transformSchema(df.schema)
    val plan = planFor(df, Nil, model, model.nativeNumFeatures, model.getClass.getSimpleName)
    val function = Function(plan, OneModel(model.contentKey, model.broadcastBytes(df.sparkSession)))
    BatchEval.transform(df, function, model.featureExpressions, resultSchema(outSchema, model))
  }

  private def planFor(
      df: DataFrame,
      keyTypes: Seq[DataType],
      params: NativeParams,
      numFeatures: Int,
      name: String
  ): Plan =
    Plan(
      keyTypes,
      params.featureLayout(numFeatures),
      params.outputColumns.map(_._2),
      params.predictionOptions,
      batchRows(df),
      name
    )

  /** The output columns of `outSchema` that `params` adds. */
  private def resultSchema(outSchema: StructType, params: NativeParams): StructType =
    StructType(params.outputColumns.map { case (name, _) =>
      outSchema(name).copy(nullable = true)
    })

  /**
   * Predicts each row of `df` with the model of its group (null outputs for a row whose group has
   * no model or a failed one), choosing a broadcast of the models or a shuffle by key.
   */
  def transformGrouped(df: DataFrame, model: GroupedModel[_], outSchema: StructType): DataFrame = {
    val estimator = model.estimator
    val keyFields = model.models.schema.fields.take(model.groupColumns.length).toSeq
    val keys = model.groupColumns.toSeq.zip(keyFields).map { case (c, f) =>
      df.col(Schemas.quote(c)).cast(f.dataType)
    }
    val plan = planFor(
      df,
      keyFields.map(_.dataType),
      estimator,
      model.numFeatures,
      s"Grouped(${estimator.getClass.getSimpleName})"
    )
    val results = resultSchema(outSchema, estimator)
    val ok = model.models.where(col("status") === GroupedTraining.Ok)
    val total = model.modelBytesTotal
    if (total <= broadcastThreshold(df.sparkSession)) {
      val function = Function(plan, model.broadcastTable)
      BatchEval.transform(df, function, keys ++ estimator.featureExpressions, results)
    } else {
      shuffled(df, plan, keys, estimator.featureExpressions, ok, keyFields, results, total)
    }
  }

  /** The ok models of `model` collected and broadcast (for small model tables). */
  def broadcastGroups(model: GroupedModel[_]): BroadcastGroups = {
    val keyFields = model.models.schema.fields.take(model.groupColumns.length).toSeq
    val k = keyFields.length
    val keyTypes = keyFields.map(_.dataType)
    val selected = model.models
      .where(col("status") === GroupedTraining.Ok)
      .select(keyFields.map(f => Schemas.column(f.name)) :+ col("model"): _*)
    val rows = SparkShim
      .toRdd(selected)
      .mapPartitions { part =>
        val toKey = Schemas.projection(keyTypes)
        part.map(r => (toKey(r).copy(), r.getBinary(k)))
      }
      .collect()
    val table = GroupModels(rows.map(_._1), rows.map(_._2))
    val sc = model.models.sparkSession.sparkContext
    BroadcastGroups(sc.broadcast(table), rows.map(_._2.length.toLong).sum)
  }

  // Rows and models hashed by the same key expressions into the same partitions; each task decodes
  // the models of its partition once and predicts its rows.
  private def shuffled(
      df: DataFrame,
      plan: Plan,
      keys: Seq[Column],
      features: Seq[Column],
      ok: DataFrame,
      keyFields: Seq[StructField],
      results: StructType,
      totalBytes: Long
  ): DataFrame = {
    val spark = df.sparkSession
    val k = keys.length
    val n = math
      .max(
        spark.sparkContext.defaultParallelism * 4L,
        math.min(totalBytes / (32L << 20) + 1, 10000L)
      )
      .toInt
    val keyNames = (0 until k).map(i => s"__manyfold_key_$i")
    val featureNames = features.indices.map(i => s"__manyfold_feature_$i")
    val original = df.columns.toSeq.map(c => df.col(Schemas.quote(c)))
    val rows = df
      .select(
        original ++ keys.zip(keyNames).map { case (c, name) => c.as(name) } ++
          features.zip(featureNames).map { case (c, name) => c.as(name) }: _*
      )
      .repartition(n, keyNames.map(col): _*)
    val models = ok
      .select(
        keyFields.zip(keyNames).map { case (f, name) => Schemas.column(f.name).as(name) } :+
          col("model"): _*
      )
      .repartition(n, keyNames.map(col): _*)
    val numOriginal = original.length
    val fields = rows.schema.fields.toSeq
    val outFields = df.schema.fields ++ results.fields
    val inputTypes = fields.drop(numOriginal).map(_.dataType)
    val keep = StructType(fields.take(numOriginal))
    val predicted =
      SparkShim.queryExecution(rows).toRdd.zipPartitions(SparkShim.queryExecution(models).toRdd) {
        (part, partModels) =>
          val inputs = Schemas.projection(inputTypes, from = numOriginal)
          // The original columns only; the key and feature columns were for the inputs.
          val original = Schemas.projection(keep.fields.toSeq.map(_.dataType))
          val function = Function(plan, PartitionModels(partModels, k))
          BatchEval.evaluate(function, inputs, keep, results, part, Some(original))
      }
    BatchEval.createDataFrame(spark, predicted, StructType(outFields))
  }

  /** The models of one shuffled partition (key columns then model bytes), decoded by its task. */
  private final case class PartitionModels(@transient rows: Iterator[InternalRow], k: Int)
      extends Models

  /** Native prediction of `plan` with `models`. */
  final case class Function(plan: Plan, models: Models) extends BatchFunction {
    override def batchRows: Int = plan.batchRows
    override def name: String = plan.name
    override def open(): BatchEvaluator = new Evaluator(plan, models)

    // Columns: features of a numeric type, and no key or one integral key of the key's own type
    // (looked up as a primitive long), with models that are not a shuffled partition's.
    override def readsColumns(types: Seq[DataType]): Boolean = {
      val k = plan.keyTypes.length
      val keysOk = k == 0 || (k == 1 && Schemas.integralKey(types.take(1)).isDefined &&
        types.head == plan.keyTypes.head && !models.isInstanceOf[PartitionModels])
      plan.layout.vectorColumn.isEmpty && keysOk && types.drop(k).forall(BatchEval.numeric)
    }
  }

  /** Reading numeric columns as Spark casts them to double. */
  private object ColumnReads {

    /** Writes `n` values of `c` into feature column `j` of the batch's rows `0 until n`. */
    def writeFeature(c: ColumnVector, n: Int, batch: BatchBuilder, j: Int): Unit = {
      val values = c.dataType match {
        case DoubleType => c.getDoubles(0, n)
        case FloatType => Array.tabulate(n)(c.getFloat(_).toDouble)
        case LongType => Array.tabulate(n)(c.getLong(_).toDouble)
        case IntegerType => Array.tabulate(n)(c.getInt(_).toDouble)
        case ShortType => Array.tabulate(n)(c.getShort(_).toDouble)
        case _ => Array.tabulate(n)(c.getByte(_).toDouble)
      }
      batch.setDoubles(j, values)
      if (c.hasNull) {
        var i = 0
        while (i < n) {
          if (c.isNullAt(i)) batch.setNull(j, i)
          i += 1
        }
      }
    }
  }

  /**
   * Group keys -> model positions, read-only once built (shared by the tasks of a JVM). A single
   * integral key column is looked up as a primitive long; other keys as UnsafeRows.
   */
  private sealed trait KeyIndex {

    /** A lookup for one task, with its own key projection; -1 for a key without a model. */
    def lookup(keyOf: UnsafeProjection): InternalRow => Int

    /** The model of row `i` of a key column (one integral key only); -1 for none. */
    def lookupColumn(c: ColumnVector, i: Int): Int
  }

  private object KeyIndex {

    /** The index of `keys` (the i-th key -> model i). */
    def apply(keyTypes: Seq[DataType], keys: Iterator[UnsafeRow]): KeyIndex =
      Schemas.integralKey(keyTypes) match {
        case Some(read) =>
          val map = new LongIntMap
          var nullModel = -1
          keys.zipWithIndex.foreach { case (key, i) =>
            if (key.isNullAt(0)) nullModel = i else map.update(read(key), i)
          }
          new LongKeys(keyTypes.head, read, map, nullModel)
        case None =>
          val map = new java.util.HashMap[UnsafeRow, Integer]()
          keys.zipWithIndex.foreach { case (key, i) => map.put(key, i) }
          new RowKeys(map)
      }
  }

  private final class RowKeys(map: java.util.HashMap[UnsafeRow, Integer]) extends KeyIndex {
    override def lookup(keyOf: UnsafeProjection): InternalRow => Int = { row =>
      val i = map.get(keyOf(row))
      if (i == null) -1 else i.intValue
    }

    override def lookupColumn(c: ColumnVector, i: Int): Int =
      throw new UnsupportedOperationException(
        s"row $i of a ${c.dataType.simpleString} key column: these keys are looked up as rows"
      )
  }

  private final class LongKeys(
      t: DataType,
      read: InternalRow => Long,
      map: LongIntMap,
      nullModel: Int
  ) extends KeyIndex {
    override def lookup(keyOf: UnsafeProjection): InternalRow => Int = { row =>
      if (row.isNullAt(0)) nullModel else map.getOrElse(read(row), -1)
    }

    override def lookupColumn(c: ColumnVector, i: Int): Int =
      if (c.isNullAt(i)) nullModel
      else
        map.getOrElse(
          t match {
            case LongType | TimestampType => c.getLong(i)
            case IntegerType | DateType => c.getInt(i).toLong
            case ShortType => c.getShort(i).toLong
            case _ => c.getByte(i).toLong
          },
          -1
        )
  }

  private final class Evaluator(plan: Plan, models: Models) extends BatchEvaluator {
    private val k = plan.keyTypes.length
    private val keyOf = Schemas.projection(plan.keyTypes)

    // The decoded models: cached per JVM, or (shuffled partitions) this task's own.
    private val (handle, index, lease): (Long, KeyIndex, AutoCloseable) =
      models match {
        case OneModel(key, bytes) =>
          val l = ModelCache.acquire(
            key,
            bytes.value.length.toLong,
            () => ModelCache.Opened(NativeCalls.openModels(Array(bytes.value)), null)
          )
          (l.handle, null, l)
        case BroadcastGroups(table, total) =>
          val l = ModelCache.acquire(
            s"broadcast-${table.id}",
            total,
            () => {
              val t = table.value
              val index = KeyIndex(plan.keyTypes, t.keys.iterator)
              ModelCache.Opened(NativeCalls.openModels(t.models), index)
            }
          )
          (l.handle, l.opened.index.asInstanceOf[KeyIndex], l)
        case PartitionModels(rows, keys) =>
          val bytes = mutable.ArrayBuffer.empty[Array[Byte]]
          val index = KeyIndex(
            plan.keyTypes,
            rows.map { r =>
              bytes += r.getBinary(keys)
              keyOf(r).copy()
            }
          )
          val h = NativeCalls.openModels(bytes.toArray)
          (h, index, () => NativeCalls.closeModels(h))
      }

    // This task's lookup of a row's model (its own projection: the index is shared by tasks).
    private val lookup: InternalRow => Int = if (k == 0) _ => 0 else index.lookup(keyOf)

    private val batch =
      try BatchBuilder.prediction(plan.layout.names)
      catch { case e: Throwable => lease.close(); throw e }
    private val threads = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

    override def add(inputs: InternalRow): Unit = {
      val i = lookup(inputs)
      val at = if (i < 0) batch.addRowWithNullIndex() else batch.addRow(i)
      ArrowBatches.writeFeatures(inputs, k, plan.layout, batch, 0, at)
    }

    override def evaluate(): Array[ColumnVector] = {
      val rows = batch.numRows
      val predictions =
        if (rows == 0) new Predictions(0)
        else {
          val ipc = batch.writeIpc()
          try
            ArrowBatches.readPredictions(
              NativeCalls.predict(handle, threads, plan.optionsJson, ipc.byteBuffer),
              rows
            )
          finally ipc.close()
        }
      batch.clear()
      PredictionColumns(predictions, plan.outputs)
    }

    override def evaluateColumns(inputs: Array[ColumnVector], numRows: Int): Array[ColumnVector] = {
      var i = 0
      while (i < numRows) {
        val m = if (k == 0) 0 else index.lookupColumn(inputs(0), i)
        if (m < 0) batch.addRowWithNullIndex() else batch.addRow(m)
        i += 1
      }
      var j = 0
      while (j < plan.layout.size) {
        ColumnReads.writeFeature(inputs(k + j), numRows, batch, j)
        j += 1
      }
      evaluate()
    }

    override def close(): Unit =
      try batch.close()
      finally lease.close()
  }
}
