package manyfold.ml

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.GroupResult
import manyfold.jni.NativeCalls
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{Column, DataFrame, Row, SparkSession}
import org.apache.spark.sql.catalyst.{CatalystTypeConverters, InternalRow}
import org.apache.spark.sql.catalyst.expressions.{
  GenericInternalRow,
  InterpretedOrdering,
  UnsafeRow
}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._
import org.apache.spark.sql.manyfold.{CachedTable, SparkShim}
import org.apache.spark.unsafe.types.UTF8String

/**
 * The models table of a [[GroupedModel]] as a distributed DataFrame: built from the training
 * outcomes on the executors, summarized, searched and checked by Spark jobs. Nothing here brings
 * the table to the driver; at most one row per partition comes back.
 */
private[manyfold] object ModelsTable {

  /** What one pass over the table tells: groups, failed groups and the ok models' total bytes. */
  final case class Summary(numGroups: Long, failedGroups: Long, modelBytes: Long)

  object Summary {

    /** The summary of a table from those of its partitions. */
    def total(parts: Seq[Summary]): Summary =
      Summary(
        parts.map(_.numGroups).sum,
        parts.map(_.failedGroups).sum,
        parts.map(_.modelBytes).sum
      )
  }

  /** The schema of the models table (see [[GroupedModel]] for its columns). */
  def schema(
      keyFields: Seq[StructField],
      estimator: NativeEstimator[_],
      extra: Seq[StructField]
  ): StructType = {
    val converged = if (estimator.info.iterative) Seq("converged") else Nil
    StructType(
      keyFields.map(f => StructField(f.name, f.dataType, nullable = true)) ++ Seq(
        StructField("model", BinaryType, nullable = true),
        StructField("rows", LongType, nullable = false)
      ) ++ estimator.metricColumns.map(m => StructField(m, DoubleType, nullable = true)) ++
        converged.map(StructField(_, BooleanType, nullable = true)) ++
        Seq(
          StructField("status", StringType, nullable = false),
          StructField("error", StringType, nullable = true),
          StructField("trainingMillis", DoubleType, nullable = false)
        ) ++ extra
    )
  }

  /**
   * The models table of training outcomes, distributed as they were trained (in no particular
   * order): each row is built on the executor that trained its group, as Spark's internal row (no
   * encoder, so no code generated per task).
   */
  def of(
      spark: SparkSession,
      keyFields: Seq[StructField],
      estimator: NativeEstimator[_],
      trained: RDD[GroupedTraining.Trained],
      extra: Seq[(StructField, GroupResult => Any)] = Nil
  ): DataFrame = {
    val tableSchema = schema(keyFields, estimator, extra.map(_._1))
    val keyTypes = keyFields.map(_.dataType).toArray
    val iterative = estimator.info.iterative
    val rows = trained.mapPartitions { outcomes =>
      // The extra cells are external values (a String, a boxed Double): converted to Spark's.
      val cells = extra.map { case (field, cell) =>
        val toCatalyst = CatalystTypeConverters.createToCatalystConverter(field.dataType)
        (r: GroupResult) => toCatalyst(cell(r))
      }
      outcomes.map { case GroupedTraining.Trained(key, r) =>
        val values = new Array[Any](tableSchema.length)
        var i = 0
        while (i < keyTypes.length) {
          values(i) = if (key.isNullAt(i)) null else key.get(i, keyTypes(i))
          i += 1
        }
        def put(value: Any): Unit = { values(i) = value; i += 1 }
        put(r.model)
        put(r.rows)
        r.metrics.foreach(m => put(m.map(Double.box).orNull))
        if (iterative) put(r.converged.map(Boolean.box).orNull)
        put(UTF8String.fromString(r.status))
        put(UTF8String.fromString(r.error))
        put(r.trainMillis)
        cells.foreach(cell => put(cell(r)))
        new GenericInternalRow(values): InternalRow
      }
    }
    SparkShim.createDataFrame(spark, rows, tableSchema)
  }

  /**
   * Counts groups, failed groups and model bytes in one pass over the table: one job with no
   * shuffle (an aggregation would add a shuffle and, with adaptive execution, two more jobs), one
   * row per partition back to the driver. A persisted table is read from its cache's batches
   * ([[CachedTable]]), so that building the cache and counting are one job.
   */
  def summarize(models: DataFrame): Summary = {
    val columns = CachedTable.rows(models, Seq("status", "model")).getOrElse {
      SparkShim.queryExecution(models.select("status", "model")).toRdd
    }
    val ok = UTF8String.fromString(GroupedTraining.Ok)
    val perPartition = columns
      .mapPartitions { rows =>
        var groups, failed, bytes = 0L
        rows.foreach { row =>
          groups += 1
          if (row.getUTF8String(0) == ok) {
            if (!row.isNullAt(1)) bytes += row.getBinary(1).length
          } else failed += 1
        }
        Iterator.single(Summary(groups, failed, bytes))
      }
      .collect()
    Summary.total(perPartition)
  }

  /** `col` for a column name that may hold dots or backticks. */
  def column(models: DataFrame, name: String): Column =
    models.col(Schemas.quote(name))

  /**
   * The key values and error of the first failed group in key order (nulls first, as Spark sorts),
   * by a query over the failed rows only; None if no group failed.
   */
  def firstFailed(models: DataFrame, keyCols: Seq[String]): Option[(Seq[Any], String)] = {
    val keys = keyCols.map(column(models, _))
    models
      .where(col("status") =!= GroupedTraining.Ok)
      .select(keys :+ col("error"): _*)
      .orderBy(keys: _*)
      .head(1)
      .headOption
      .map(r => (r.toSeq.take(keyCols.length), r.getString(keyCols.length)))
  }

  /** Models decoded per native call when checking a table. */
  val CheckChunk = 1024

  /** One partition's check: its figures and its first (in key order) model that does not decode. */
  final case class Checked(summary: Summary, firstBad: Option[(InternalRow, String)])

  /**
   * Decodes every ok model of the table natively, in a distributed job: the summary of the table
   * and the key values and error of the first (in key order) model that does not decode, if any.
   */
  def check(models: DataFrame, keyFields: Seq[StructField]): (Summary, Option[(Row, String)]) = {
    val keyTypes = keyFields.map(_.dataType)
    val selected = models.select(
      keyFields.map(f => column(models, f.name)) ++ Seq(col("model"), col("status")): _*
    )
    val perPartition = SparkShim
      .queryExecution(selected)
      .toRdd
      .mapPartitions(rows => Iterator.single(checkPartition(rows, keyTypes)))
      .collect()
    val summary = Summary.total(perPartition.map(_.summary))
    val ordering = InterpretedOrdering.forSchema(keyTypes)
    val bad = perPartition.flatMap(_.firstBad).sortWith((a, b) => ordering.lt(a._1, b._1))
    val toKey = GroupedTraining.keyConverter(
      StructType(keyFields.map(f => StructField(f.name, f.dataType, nullable = true)))
    )
    (summary, bad.headOption.map { case (key, error) => (toKey(key), error) })
  }

  /** Rows (keys..., model, status): decoded in chunks, one native call per chunk. */
  private def checkPartition(rows: Iterator[InternalRow], keyTypes: Seq[DataType]): Checked = {
    val k = keyTypes.length
    val keyOf = Schemas.projection(keyTypes)
    val ordering = InterpretedOrdering.forSchema(keyTypes)
    var groups = 0L
    var failed = 0L
    var bytes = 0L
    var firstBad: Option[(InternalRow, String)] = None
    def bad(key: UnsafeRow, error: String): Unit =
      if (firstBad.forall(b => ordering.lt(key, b._1))) firstBad = Some((key, error))
    val keys = ArrayBuffer.empty[UnsafeRow]
    val chunk = ArrayBuffer.empty[Array[Byte]]
    def decode(): Unit = if (chunk.nonEmpty) {
      val ok =
        try { NativeCalls.closeModels(NativeCalls.openModels(chunk.toArray)); true }
        catch { case _: Exception => false }
      if (!ok) {
        // Which of the chunk's models does not decode: each one on its own.
        keys.zip(chunk).foreach { case (key, model) =>
          try NativeModel.describe(model)
          catch { case e: Exception => bad(key, e.getMessage) }
        }
      }
      keys.clear()
      chunk.clear()
    }
    rows.foreach { row =>
      groups += 1
      if (row.getUTF8String(k + 1).toString != GroupedTraining.Ok) failed += 1
      else if (row.isNullAt(k)) bad(keyOf(row).copy(), "an ok group without model bytes")
      else {
        val model = row.getBinary(k)
        bytes += model.length
        keys += keyOf(row).copy()
        chunk += model
        if (chunk.length >= CheckChunk) decode()
      }
    }
    decode()
    Checked(Summary(groups, failed, bytes), firstBad)
  }
}
