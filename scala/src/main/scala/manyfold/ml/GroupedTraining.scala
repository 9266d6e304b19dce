package manyfold.ml

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.{ArrowBatches, BatchBuilder, BatchColumn, FeatureLayout, GroupResult}
import manyfold.jni.NativeCalls
import org.apache.spark.{SparkException, TaskContext}
import org.apache.spark.ml.attribute.AttributeGroup
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{Column, DataFrame, Row}
import org.apache.spark.sql.catalyst.{CatalystTypeConverters, InternalRow}
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.sql.types.{DataType, DoubleType, StructType}
import org.apache.spark.sql.manyfold.SparkShim

/**
 * Training many models at once: the driver checks and plans, each executor task streams its rows
 * (shuffled by group key, in no order within the partition) in Arrow chunks into a native group
 * buffer, which sorts them into groups, and makes one native training call for all its groups. Used
 * by [[Grouped]] and, with no group columns, by a single [[NativeEstimator.fit]].
 */
private[manyfold] object GroupedTraining {

  val Ok = "ok"
  val Failed = "failed"

  /** Rows per chunk handed to the native group buffer: the most a task holds in Arrow at once. */
  val BatchRows: Int = 64 * 1024

  /**
   * A task's group ids: each distinct key (an UnsafeRow, copied when first seen) gets the next id,
   * in order of first appearance. With `keyTypes` of one integral column (byte, short, int, long,
   * date or timestamp), keys are told apart by that value in a [[LongIntMap]], and [[ofRow]] reads
   * it from the row without projecting a key row first.
   */
  final class GroupIds(keyTypes: Seq[DataType] = Nil) {
    private val ids = new java.util.HashMap[UnsafeRow, Integer]
    private val keys = ArrayBuffer.empty[UnsafeRow]
    private lazy val keyOf = Schemas.projection(keyTypes)
    // The integral key's value in a row; null when the key is not one integral column.
    private val valueOf: InternalRow => Long = Schemas.integralKey(keyTypes).orNull
    // Ids by the integral key's value (as prediction's key index looks models up).
    private val byValue = if (valueOf == null) null else new LongIntMap
    private var nullId = -1
    // The last integral key looked up and its id (-1: none): rows of a group often come together.
    private var lastValue = 0L
    private var lastId = -1

    /** The id of `key` (a row of the key columns), a new one if it was not seen since [[clear]]. */
    def apply(key: UnsafeRow): Int =
      if (valueOf != null) integral(key, key)
      else {
        val known = ids.get(key)
        if (known != null) known.intValue
        else {
          val copy = key.copy()
          ids.put(copy, keys.length)
          keys += copy
          keys.length - 1
        }
      }

    /** The id of the key in `row`'s first columns (a row of the task's input). */
    def ofRow(row: InternalRow): Int =
      if (valueOf != null) integral(row, null) else apply(keyOf(row))

    private def integral(row: InternalRow, key: UnsafeRow): Int =
      if (row.isNullAt(0)) {
        if (nullId < 0) nullId = add(row, key)
        nullId
      } else {
        val v = valueOf(row)
        if (lastId >= 0 && v == lastValue) lastId
        else {
          var id = byValue.getOrElse(v, -1)
          if (id < 0) {
            id = add(row, key)
            byValue.update(v, id)
          }
          lastValue = v
          lastId = id
          id
        }
      }

    private def add(row: InternalRow, key: UnsafeRow): Int = {
      keys += (if (key != null) key.copy() else keyOf(row).copy())
      keys.length - 1
    }

    /** The key of group `id`. */
    def key(id: Int): UnsafeRow = keys(id)

    def size: Int = keys.length

    def clear(): Unit = {
      ids.clear()
      keys.clear()
      if (byValue != null) byValue.clear()
      nullId = -1
      lastId = -1
    }
  }

  /** One group's outcome; `key` holds the group column values (Spark's internal form). */
  final case class Trained(key: InternalRow, result: GroupResult)

  /** What an executor task needs to train (shipped in the task closure). */
  final case class Plan(
      algorithm: String,
      paramsJson: String,
      label: Option[String],
      weight: Option[String],
      layout: FeatureLayout,
      keyTypes: Seq[DataType],
      metricColumns: Seq[String],
      maxRowsPerGroup: Long,
      batchRows: Int,
      time: Option[String] = None,
      fold: Option[String] = None,
      search: Option[SearchCall] = None
  ) {

    /**
     * The Float64 columns before the features, in the order of the selected rows (read for every
     * row written: built once).
     */
    @transient lazy val scalarColumns: Seq[BatchColumn] =
      label.map(BatchColumn.label).toSeq ++ weight.map(BatchColumn.weight) ++
        time.map(BatchColumn.time)

    /** How many [[scalarColumns]] there are (read for every row written: a plain field). */
    val scalarCount: Int = label.size + weight.size + time.size

    /** Bytes of one row of [[newBatch]]: the Int32 group, the Float64 columns, the Int32 fold. */
    def rowBytes: Long =
      4L + 8L * (scalarCount + layout.size) + (if (fold.isDefined) 4 else 0)

    /** An empty training batch of this plan's columns. */
    def newBatch(): BatchBuilder =
      BatchBuilder.training(scalarColumns ++ BatchColumn.features(layout.names), fold)
  }

  /** A per-group search instead of one fit per group: the native `searchGroups` arguments. */
  final case class SearchCall(searchJson: String, foldsJson: String)

  /**
   * Columns and calls a search adds to training: a time column (as double) and a fold column (as
   * int), each with the user's column name, and the per-group search to run.
   */
  final case class Extras(
      time: Option[(String, Column)] = None,
      fold: Option[(String, Column)] = None,
      search: Option[SearchCall] = None
  )

  /**
   * Trains one model per distinct value of `groupCols` (one model in all when empty): the outcomes,
   * distributed and in no particular order, trained when the returned RDD is computed (run that job
   * inside [[rethrowInvalidInput]]). Checks the input first: no job runs for a missing or
   * non-numeric column. An empty DataFrame is not looked for here (that would cost a job of its
   * own): it has no outcomes, and the caller fails it with [[emptyInput]].
   *
   * @throws IllegalArgumentException
   *   for invalid input
   */
  def train(
      df: DataFrame,
      groupCols: Seq[String],
      estimator: NativeEstimator[_],
      maxRowsPerGroup: Long,
      numPartitions: Int,
      extras: Extras = Extras()
  ): RDD[Trained] = {
    val keyFields = groupCols.map(c => Schemas.field(df.schema, c, "group"))
    val (selected, plan0) = select(df, groupCols, estimator, extras, checkEmpty = false)
    val plan = plan0.copy(keyTypes = keyFields.map(_.dataType), maxRowsPerGroup = maxRowsPerGroup)
    val minRows =
      if (StatsTraining.enabled(df, estimator, extras)) StatsTraining.minRows(df, plan.layout.size)
      else 0L
    val parts =
      if (groupCols.isEmpty) 1
      else if (numPartitions > 0) numPartitions
      else autoPartitions(selected)
    GroupShuffle.train(selected, plan, parts, minRows)
  }

  /**
   * The checked input, selected in the row layout of [[Plan]]: group keys, then label, weight and
   * time (doubles) when present, the fold (int) when present, then the features; and the plan of it
   * (without group key types). No job runs for a missing or non-numeric column; an empty DataFrame
   * fails here when `checkEmpty` (one job).
   *
   * @throws IllegalArgumentException
   *   for invalid input
   */
  def select(
      df: DataFrame,
      groupCols: Seq[String],
      estimator: NativeEstimator[_],
      extras: Extras,
      checkEmpty: Boolean = true
  ): (DataFrame, Plan) = {
    estimator.checkAndTransformSchema(df.schema, fitting = true)
    if (checkEmpty && df.isEmpty) throw emptyInput
    val layout = estimator.featureLayout(vectorSize(df, estimator.getFeaturesCol))
    val label = estimator.labelColumn
    val weight = estimator.weightColumn
    val selected = df.select(
      groupCols.map(Schemas.column) ++
        (label.toSeq ++ weight).map(c => Schemas.column(c).cast(DoubleType)) ++
        extras.time.map(_._2) ++ extras.fold.map(_._2) ++
        estimator.featureExpressions: _*
    )
    val plan = Plan(
      algorithm = estimator.algorithm,
      paramsJson = estimator.paramsJson,
      label = label,
      weight = weight,
      layout = layout,
      keyTypes = Nil,
      metricColumns = estimator.metricColumns,
      maxRowsPerGroup = NativeEstimator.MaxRowsPerFit,
      batchRows = BatchRows,
      time = extras.time.map(_._1),
      fold = extras.fold.map(_._1),
      search = extras.search
    )
    (selected, plan)
  }

  /**
   * Writes the columns of one selected row after its `from` group key columns (label, weight, time,
   * fold, features) as row `at` of a batch made by `plan.newBatch()`.
   */
  def writeRow(plan: Plan, row: InternalRow, from: Int, batch: BatchBuilder, at: Int): Unit = {
    val scalars = plan.scalarCount
    var j = 0
    while (j < scalars) {
      if (row.isNullAt(from + j)) batch.setNull(j, at)
      else batch.setDouble(j, at, row.getDouble(from + j))
      j += 1
    }
    var pos = from + scalars
    if (plan.fold.isDefined) {
      if (row.isNullAt(pos)) batch.setFoldNull(at) else batch.setFold(at, row.getInt(pos))
      pos += 1
    }
    ArrowBatches.writeFeatures(row, pos, plan.layout, batch, scalars, at)
  }

  /** The error of a fit on a DataFrame without rows. */
  def emptyInput: IllegalArgumentException =
    new IllegalArgumentException("the training DataFrame is empty")

  /** Input bytes per shuffle partition when the user sets no `numPartitions`. */
  val TargetPartitionBytes: Long = 64L << 20

  /**
   * The shuffle partitions for `numPartitions = 0`. Spark's default (200, or what adaptive
   * execution coalesces it to) is tuned for SQL: measured here, a group shuffle of 1M rows into 200
   * partitions spent most of its time opening shuffle files, three times the cost with 8. Two
   * partitions per core balance the cores; more only as the data grows. (With rows packed by
   * [[GroupShuffle]], a partition costs a reduce task's fixed work and little else: 1M rows of
   * 10,000 groups trained in 0.50 s with 4 partitions on 2 cores, 0.70 s with 8.)
   */
  def autoPartitions(df: DataFrame): Int = {
    val spark = df.sparkSession
    val perCore = 2L * spark.sparkContext.defaultParallelism
    // Unknown statistics come back as a huge default: the cap then applies.
    val bySize =
      SparkShim.queryExecution(df).optimizedPlan.stats.sizeInBytes / TargetPartitionBytes + 1
    val cap = spark.conf.get("spark.sql.shuffle.partitions").toLong
    math.max(1L, math.min(cap, math.max(perCore, bySize.min(BigInt(cap)).toLong))).toInt
  }

  /** The group key of `trained` as external Spark values (String, Int, java.sql.Date, ...). */
  def keyConverter(keySchema: StructType): InternalRow => Row = {
    val convert = CatalystTypeConverters.createToScalaConverter(keySchema)
    row => convert(row).asInstanceOf[Row]
  }

  /**
   * The size of the Vector column's vectors, from its ML attributes if set, else from its first
   * non-null vector. Each row's vector is checked against it when written.
   */
  private def vectorSize(df: DataFrame, column: String): Int = {
    val fromMetadata = AttributeGroup.fromStructField(Schemas.field(df.schema, column, "features"))
    if (fromMetadata.size >= 0) fromMetadata.size
    else {
      val first = df.select(Schemas.column(column)).where(Schemas.column(column).isNotNull).head(1)
      if (first.isEmpty) {
        if (df.isEmpty) throw emptyInput
        throw new IllegalArgumentException(s"the features column '$column' holds only null vectors")
      }
      first(0).getAs[org.apache.spark.ml.linalg.Vector](0).size
    }
  }

  /**
   * Task failures reach the driver wrapped in SparkException; an invalid input found on an executor
   * (vectors of different sizes) is rethrown as the IllegalArgumentException it is.
   */
  def rethrowInvalidInput[T](job: => T): T =
    try job
    catch {
      case e: SparkException =>
        Iterator
          .iterate[Throwable](e)(_.getCause)
          .takeWhile(_ != null)
          .collectFirst { case iae: IllegalArgumentException => iae } match {
          case Some(iae) => throw new IllegalArgumentException(iae.getMessage, e)
          case None => throw e
        }
    }

  /**
   * Trains the groups of one reduce partition from its [[GroupShuffle]] records, in any order. Each
   * distinct key gets a per-task group id (in order of first appearance); each record's rows batch
   * goes to a native group buffer as it is, with its own group numbers mapped to those ids, and the
   * buffer copies its values into per-group columns. When the records end, one native call trains
   * (or searches, or with `statsMinRows` > 0 solves with the statistics partials) every group; the
   * buffer is freed after it. A group's rows arrive in no fixed order, which does not matter: the
   * native side fits them in a canonical order.
   *
   * A group over `plan.maxRowsPerGroup` rows fails: the buffer frees its rows when it goes over and
   * keeps none of the later ones.
   */
  def trainPartition(
      plan: Plan,
      records: Iterator[InternalRow],
      statsMinRows: Long = 0
  ): Iterator[Trained] = {
    if (!records.hasNext) return Iterator.empty
    val direct = new GroupShuffle.DirectRows
    val handle =
      try NativeCalls.openGroupBuffer(plan.maxRowsPerGroup)
      catch { case e: Throwable => direct.close(); throw e }
    var closed = false
    def close(): Unit = if (!closed) {
      closed = true
      try NativeCalls.closeGroupBuffer(handle)
      finally direct.close()
    }
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    val threads = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

    val ids = new GroupIds(plan.keyTypes)
    var counts = new Array[Long](64) // group id -> rows received
    val partials = new StatsTraining.Partials
    val view = new UnsafeRow(plan.keyTypes.length)
    var numbers = new Array[Int](64) // a record's group number -> group id

    try {
      records.foreach { record =>
        if (GroupShuffle.isPartial(record)) {
          val bytes = GroupShuffle.partial(record)
          GroupShuffle.forEachGroup(record, view)((key, _) => partials.add(key.copy(), bytes))
        } else {
          var n = 0
          GroupShuffle.forEachGroup(record, view) { (key, rows) =>
            val id = ids(key)
            if (id >= counts.length) counts = java.util.Arrays.copyOf(counts, 2 * id + 2)
            counts(id) += rows
            if (n == numbers.length) numbers = java.util.Arrays.copyOf(numbers, 2 * n)
            numbers(n) = id
            n += 1
          }
          NativeCalls.appendGroupRows(
            handle,
            direct.of(record),
            java.util.Arrays.copyOf(numbers, n)
          )
        }
      }
      val results = plan.search match {
        case _ if statsMinRows > 0 =>
          // Groups with partials and no rows get ids after the buffer's.
          val input = partials.writeIpc(ids)
          if (counts.length < ids.size) counts = java.util.Arrays.copyOf(counts, ids.size)
          try
            NativeCalls.solveGroupBuffer(
              handle,
              plan.algorithm,
              plan.paramsJson,
              threads,
              statsMinRows,
              input.byteBuffer
            )
          finally input.close()
        case Some(search) =>
          NativeCalls.searchGroupBuffer(handle, search.searchJson, search.foldsJson, threads)
        case None =>
          NativeCalls.trainGroupBuffer(handle, plan.algorithm, plan.paramsJson, threads)
      }
      val noMetrics = plan.metricColumns.map(_ => None)
      ArrowBatches
        .readResults(results, plan.metricColumns)
        .map { r =>
          // The native count includes the rows of a group's statistics partials.
          if (counts(r.group) > plan.maxRowsPerGroup) {
            val reason = s"group has more than maxRowsPerGroup=${plan.maxRowsPerGroup} rows"
            Trained(
              ids.key(r.group),
              GroupResult(-1, Failed, reason, null, r.rows, 0.0, None, None, noMetrics)
            )
          } else Trained(ids.key(r.group), r)
        }
        .iterator
    } finally close()
  }
}
