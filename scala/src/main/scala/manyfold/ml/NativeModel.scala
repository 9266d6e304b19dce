package manyfold.ml

import manyfold.jni.{NativeApi, NativeException}
import org.apache.hadoop.fs.Path
import org.apache.spark.ml.Model
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.util.{MLReader, MLWritable, MLWriter, ManyfoldMetadata}
import org.apache.spark.SparkContext
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.sql.{DataFrame, Dataset, SparkSession}
import org.apache.spark.sql.types.StructType
import org.json4s.{DefaultFormats, Formats, JValue}
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.parse

/**
 * A model trained by the native library: its state is the model bytes (docs/native-interface.md,
 * "The model format"), which it predicts with through JNI. Mixed into Spark's own model base class
 * where one fits (`RegressionModel`, `ProbabilisticClassificationModel`).
 *
 * `transform` is vectorized: rows go to the native library in Arrow batches. It adds the prediction
 * column (and a classifier's raw prediction and probability); a row with a null feature gets null
 * there. NaN and infinite features propagate into the prediction. `predict(features)` on one Vector
 * goes through the native library too, with the decoded model cached ([[ModelHandles]]).
 */
trait NativeModel[M <: NativeModel[M]] extends Model[M] with NativeParams with MLWritable {

  /** The model bytes. */
  private[manyfold] def bytes: Array[Byte]

  /** The algorithm whose bytes this model class holds (the native registry's name). */
  private[manyfold] def expectedAlgorithm: String

  /** The model bytes (a copy): they can be stored anywhere and given to `fromBytes` again. */
  def modelBytes: Array[Byte] = bytes.clone()

  /** The content hash of the bytes: the model's identity in executors' model caches. */
  @transient private[manyfold] lazy val contentKey: String = NativePrediction.contentKey(bytes)

  @transient private var broadcasted: Option[(SparkContext, Broadcast[Array[Byte]])] = None

  /** The bytes broadcast once per model object (and Spark context), for transform. */
  private[manyfold] def broadcastBytes(spark: SparkSession): Broadcast[Array[Byte]] = synchronized {
    val sc = spark.sparkContext
    broadcasted match {
      case Some((context, b)) if context eq sc => b
      case _ =>
        val b = sc.broadcast(bytes)
        broadcasted = Some((sc, b))
        b
    }
  }

  @transient private[manyfold] lazy val description: JValue = NativeModel.describe(bytes)

  @transient protected implicit lazy val formats: Formats = DefaultFormats

  /** The feature names the model was trained with (for a Vector column `features[0]`, ...). */
  def featureNames: Array[String] = (description \ "featureNames").extract[Array[String]]

  /** The number of features the model expects (Spark's `numFeatures`). */
  private[manyfold] def nativeNumFeatures: Int = featureNames.length

  override def transformSchema(schema: StructType): StructType = {
    val out = checkAndTransformSchema(schema, fitting = false)
    if (usesInputCols) {
      require(
        $(inputCols).length == nativeNumFeatures,
        s"the model has $nativeNumFeatures features but inputCols names ${$(inputCols).length}: " +
          $(inputCols).mkString(", ")
      )
    }
    out
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    NativePrediction.transformWithOneModel(dataset.toDF, this)
  }

  /** One row's prediction through the native library (the decoded model is cached). */
  private[manyfold] def predictOne(features: Vector): RowPrediction = {
    require(
      features.size == nativeNumFeatures,
      s"the model has $nativeNumFeatures features, the vector has ${features.size}"
    )
    RowPrediction(ModelHandles.predictRow(bytes, features.toArray))
  }

  /** Checks that the bytes decode as a model of this class's algorithm. */
  private[manyfold] def validate(context: String): Unit = {
    val found =
      try { (description \ "algorithm").extract[String] }
      catch {
        case e @ (_: NativeException | _: IllegalArgumentException) =>
          throw new IllegalArgumentException(s"$context: ${e.getMessage}", e)
      }
    require(
      found == expectedAlgorithm,
      s"$context holds a $found model, not a $expectedAlgorithm model"
    )
  }

  override def write: MLWriter = new NativeModelWriter(this)
}

object NativeModel {

  /** The native JSON description of model bytes (throws for corrupt or truncated bytes). */
  private[manyfold] def describe(bytes: Array[Byte]): JValue = {
    require(bytes != null, "model bytes are null")
    parse(NativeApi.get.describeModel(bytes))
  }
}

/** Saves a single model: Spark's metadata JSON, and `data/` holding the model bytes. */
private[manyfold] class NativeModelWriter(instance: NativeModel[_]) extends MLWriter {
  override protected def saveImpl(path: String): Unit = {
    val extra = ("algorithm" -> instance.expectedAlgorithm) ~
      ("numFeatures" -> instance.nativeNumFeatures)
    ManyfoldMetadata.save(instance, path, sc, Some(extra))
    sparkSession
      .createDataFrame(Seq(Tuple1(instance.bytes)))
      .toDF("model")
      .repartition(1)
      .write
      .parquet(new Path(path, "data").toString)
  }
}

/** Loads what [[NativeModelWriter]] saved, checking that the model bytes decode. */
private[manyfold] class NativeModelReader[M <: NativeModel[M]](
    cls: Class[M],
    create: (String, Array[Byte]) => M
) extends MLReader[M] {
  override def load(path: String): M = {
    val metadata = ManyfoldMetadata.load(path, sc, cls.getName)
    val rows = sparkSession.read.parquet(new Path(path, "data").toString).select("model").head(2)
    require(
      rows.length == 1 && !rows(0).isNullAt(0),
      s"the model saved at $path has ${rows.length} model rows in data/, expected one"
    )
    val model = create(metadata.uid, rows(0).getAs[Array[Byte]](0))
    model.validate(s"the model saved at $path")
    metadata.setParams(model)
    model
  }
}
