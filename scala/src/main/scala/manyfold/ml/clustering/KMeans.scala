package manyfold.ml.clustering

import manyfold.ml.{NativeEstimator, NativeModel, NativeModelReader, NativeParams, OutputKind}
import manyfold.ml.param._
import org.apache.spark.ml.{Estimator, Model}
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.ml.param.{IntParam, Param, ParamMap, ParamValidators}
import org.apache.spark.ml.util.{DefaultParamsReadable, Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.types.StructType
import org.json4s.JsonDSL._
import org.json4s.jackson.JsonMethods.{compact, render}

/**
 * Params of [[KMeans]] and [[KMeansModel]]: `k` centers minimizing the inertia `sum_i min_c ||x_i
 * \- center_c||^2` (Spark's `trainingCost`, scikit-learn's `inertia_`), initialized by k-means++ or
 * random rows, then Lloyd iterations until the centers move less than `tol` or `maxIter` is
 * reached. No sample weights (the native k-means takes none). The prediction is the index of the
 * nearest center (the lowest index on a tie), an integer column as Spark's `KMeansModel` gives it.
 */
trait KMeansParams
    extends NativeParams
    with HasFeaturesAndPredictionCols
    with HasMaxIter
    with HasTol
    with HasSeed {

  /** Param for the number of clusters; >= 2. Default 2. */
  final val k: IntParam = new IntParam(
    this,
    "k",
    "number of clusters (>= 2; a group with fewer rows than k fails). Default: 2",
    ParamValidators.gtEq(2)
  )

  /**
   * Param for the initialization: "k-means++" or "random" (k distinct rows). Default "k-means++".
   * Spark's default is "k-means||", its parallel variant of k-means++; it is not offered because
   * the native implementation's centers would depend on the thread count, so a retried task could
   * fit another model. A single model per group fits in one task, where k-means++ is what k-means||
   * approximates.
   */
  final val initMode: Param[String] = new Param[String](
    this,
    "initMode",
    "initialization: k-means++ or random (k distinct rows). Default: k-means++ (Spark's " +
      "k-means|| is not offered: its native centers depend on the thread count)",
    ParamValidators.inArray(Array("k-means++", "random"))
  )

  /**
   * Param for the number of runs from different initial centers, the lowest inertia kept
   * (scikit-learn's `n_init`); >= 1. Default 1.
   */
  final val nInit: IntParam = new IntParam(
    this,
    "nInit",
    "number of runs from different initial centers, the one of lowest inertia kept (>= 1). " +
      "Default: 1",
    ParamValidators.gtEq(1)
  )

  setDefault(k -> 2, maxIter -> 20, tol -> 1e-4, initMode -> "k-means++", nInit -> 1)

  final def getK: Int = $(k)
  final def setK(value: Int): this.type = set(k, value)
  final def getInitMode: String = $(initMode)
  final def setInitMode(value: String): this.type = set(initMode, value)
  final def getNInit: Int = $(nInit)
  final def setNInit(value: Int): this.type = set(nInit, value)

  /** An integer cluster index, as Spark's `KMeansModel` predicts. */
  private[manyfold] override def outputColumns: Seq[(String, OutputKind)] =
    Seq($(predictionCol) -> OutputKind.Cluster)

  /** k-means iterates at least once: `maxIter = 0`, which the shared param allows, is refused. */
  private[manyfold] override def checkAndTransformSchema(
      schema: StructType,
      fitting: Boolean
  ): StructType = {
    if (fitting) require($(maxIter) >= 1, s"k-means needs maxIter >= 1, got ${$(maxIter)}")
    super.checkAndTransformSchema(schema, fitting)
  }

  private[manyfold] def paramsJson: String = compact(
    render(
      ("k" -> $(k)) ~ ("maxIter" -> $(maxIter)) ~ ("tol" -> $(tol)) ~ ("seed" -> $(seed)) ~
        ("initMode" -> $(initMode)) ~ ("nInit" -> $(nInit))
    )
  )
}

/**
 * k-means clustering, trained natively: a Spark `Estimator` (not a predictor: it takes no label).
 * Fit it on a whole DataFrame (one model, in one task; see [[NativeEstimator]]) or wrap it in
 * [[manyfold.ml.Grouped]] for one clustering per group, e.g. `Grouped(new
 * KMeans().setK(3)).setGroupCols("region")`; the models table then has each group's `inertia`.
 */
class KMeans(override val uid: String)
    extends Estimator[KMeansModel]
    with NativeEstimator[KMeansModel]
    with KMeansParams {

  def this() = this(Identifiable.randomUID("kmeans"))

  private[manyfold] override def algorithm: String = "kmeans"

  override protected def newModel(uid: String, modelBytes: Array[Byte]): KMeansModel =
    new KMeansModel(uid, modelBytes)

  override def copy(extra: ParamMap): KMeans = defaultCopy(extra)
}

object KMeans extends DefaultParamsReadable[KMeans] {
  override def load(path: String): KMeans = super.load(path)
}

/** A fitted k-means model: `prediction` is the index of the nearest of [[clusterCenters]]. */
class KMeansModel private[manyfold] (
    override val uid: String,
    private[manyfold] val bytes: Array[Byte]
) extends Model[KMeansModel]
    with NativeModel[KMeansModel]
    with KMeansParams {

  private[manyfold] override def expectedAlgorithm: String = "kmeans"

  /** The cluster centers, `k` of them, in the order of the cluster indices. */
  def clusterCenters: Array[Vector] =
    (description \ "centers").extract[Array[Array[Double]]].map(c => Vectors.dense(c))

  /**
   * The inertia of the training rows: the sum of their squared distances to their nearest center
   * (Spark's `KMeansSummary.trainingCost`, scikit-learn's `inertia_`).
   */
  def trainingCost: Double = (description \ "inertia").extract[Double]

  /** The number of features the model expects. */
  def numFeatures: Int = nativeNumFeatures

  /** The index of the nearest center of one feature vector, through the native library. */
  def predict(features: Vector): Int =
    predictOne(features).prediction
      .getOrElse(throw new IllegalArgumentException("no prediction for " + features))
      .toInt

  override def copy(extra: ParamMap): KMeansModel =
    copyValues(new KMeansModel(uid, bytes), extra).setParent(parent)
}

object KMeansModel extends MLReadable[KMeansModel] {

  override def read: MLReader[KMeansModel] =
    new NativeModelReader(classOf[KMeansModel], new KMeansModel(_, _))

  override def load(path: String): KMeansModel = super.load(path)

  /**
   * A model of bytes taken from [[KMeansModel.modelBytes]] or a [[manyfold.ml.GroupedModel]]'s
   * `models` table, with default column params and `k` set to its number of centers.
   *
   * @throws IllegalArgumentException
   *   if the bytes are not a valid k-means model
   */
  def fromBytes(modelBytes: Array[Byte]): KMeansModel = {
    val model = new KMeansModel(Identifiable.randomUID("kmeans"), modelBytes.clone())
    model.validate("the model bytes")
    model.setK(model.clusterCenters.length)
  }
}
