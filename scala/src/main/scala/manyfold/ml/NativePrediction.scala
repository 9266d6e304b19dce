package manyfold.ml

import scala.collection.mutable.ArrayBuffer

import manyfold.arrow.{ArrowBatches, BatchBuilder, FeatureLayout, Predictions}
import manyfold.jni.NativeCalls
import org.apache.spark.TaskContext
import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.{Column, DataFrame, Encoders, Row}
import org.apache.spark.sql.functions.lit
import org.apache.spark.sql.types.{IntegerType, StructType}

/**
 * Vectorized prediction: each partition decodes its model set once (`openModels`), sends its rows
 * in batches of [[BatchRows]] (one `predict` call per batch) and frees the set when the partition
 * ends or its task completes, whichever comes first.
 */
private[manyfold] object NativePrediction {

  val BatchRows: Int = 64 * 1024

  private val IndexColumn = "__manyfold_model"
  private val FeaturePrefix = "__manyfold_feature_"

  /** What an executor task needs to predict (shipped in the task closure). */
  final case class Plan(
      numOriginal: Int,
      indexPos: Int,
      featurePos: Int,
      layout: FeatureLayout,
      outputs: Seq[OutputKind],
      optionsJson: String,
      batchRows: Int
  )

  /** Predicts every row of `df` with one model. */
  def transformWithOneModel(df: DataFrame, model: NativeModel[_]): DataFrame = {
    val bytes = model.bytes
    transform(
      input = df,
      originalColumns = df.columns.toSeq.map(Schemas.column),
      modelIndex = lit(0),
      params = model,
      numFeatures = model.nativeNumFeatures,
      models = () => Array(bytes),
      outSchema = model.transformSchema(df.schema)
    )
  }

  /**
   * Predicts the rows of `input`, each with the model whose position in `models()` `modelIndex`
   * gives (null: a null prediction), and returns `originalColumns` plus the output columns of
   * `params`, as `outSchema` describes them.
   */
  def transform(
      input: DataFrame,
      originalColumns: Seq[Column],
      modelIndex: Column,
      params: NativeParams,
      numFeatures: Int,
      models: () => Array[Array[Byte]],
      outSchema: StructType
  ): DataFrame = {
    val n = originalColumns.length
    val scalarFeatures =
      if (params.usesInputCols) params.featureExpressions.zipWithIndex.map { case (c, j) =>
        c.as(s"$FeaturePrefix$j")
      }
      else Nil
    val selected = input.select(
      originalColumns ++ Seq(modelIndex.cast(IntegerType).as(IndexColumn)) ++ scalarFeatures: _*
    )
    val plan = Plan(
      numOriginal = n,
      indexPos = n,
      featurePos = if (params.usesInputCols) n + 1 else outSchema.fieldIndex(params.getFeaturesCol),
      layout = params.featureLayout(numFeatures),
      outputs = params.outputColumns.map(_._2),
      optionsJson = params.predictionOptions,
      batchRows = BatchRows
    )
    selected.mapPartitions(rows => predictPartition(plan, models, rows))(Encoders.row(outSchema))
  }

  private def predictPartition(
      plan: Plan,
      models: () => Array[Array[Byte]],
      rows: Iterator[Row]
  ): Iterator[Row] = {
    if (!rows.hasNext) return Iterator.empty
    val handle = NativeCalls.openModels(models())
    val batch =
      try BatchBuilder.prediction(plan.layout.names)
      catch { case e: Throwable => NativeCalls.closeModels(handle); throw e }
    var closed = false
    def close(): Unit = if (!closed) {
      closed = true
      try NativeCalls.closeModels(handle)
      finally batch.close()
    }
    // A consumer may stop early (limit, take): the task's end frees the models then.
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
    val threads = Option(TaskContext.get).map(_.cpus()).getOrElse(1)

    def predictBatch(): Iterator[Row] = {
      val buffered = new ArrayBuffer[Row](math.min(plan.batchRows, 4096))
      batch.clear()
      while (rows.hasNext && buffered.length < plan.batchRows) {
        val row = rows.next()
        buffered += row
        val at =
          if (row.isNullAt(plan.indexPos)) batch.addRowWithNullIndex()
          else batch.addRow(row.getInt(plan.indexPos))
        ArrowBatches.writeFeatures(row, plan.featurePos, plan.layout, batch, 0, at)
      }
      val ipc = batch.writeIpc()
      val predictions =
        try
          ArrowBatches.readPredictions(
            NativeCalls.predict(handle, threads, plan.optionsJson, ipc.byteBuffer),
            buffered.length
          )
        finally ipc.close()
      buffered.iterator.zipWithIndex.map { case (row, i) => output(plan, row, predictions, i) }
    }

    new Iterator[Row] {
      private var current: Iterator[Row] = Iterator.empty
      override def hasNext: Boolean = current.hasNext || {
        if (!closed && rows.hasNext) {
          current = predictBatch()
          current.hasNext
        } else {
          close()
          false
        }
      }
      override def next(): Row =
        if (hasNext) current.next() else throw new NoSuchElementException("end of partition")
    }
  }

  private def output(plan: Plan, row: Row, p: Predictions, i: Int): Row = {
    val values = new Array[Any](plan.numOriginal + plan.outputs.length)
    var j = 0
    while (j < plan.numOriginal) {
      values(j) = row.get(j)
      j += 1
    }
    plan.outputs.zipWithIndex.foreach { case (kind, o) =>
      values(plan.numOriginal + o) =
        if (!p.defined(i)) null
        else
          kind match {
            case OutputKind.Prediction => p.prediction(i)
            case OutputKind.Cluster => p.prediction(i).toInt
            case OutputKind.RawPrediction => Option(p.rawPrediction(i)).map(Vectors.dense).orNull
            case OutputKind.Probability => Option(p.probability(i)).map(Vectors.dense).orNull
          }
    }
    Row.fromSeq(values)
  }
}
