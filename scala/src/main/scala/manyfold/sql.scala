package manyfold

import manyfold.ml.{GroupedModel, NativeModel, NativeParams, NativePrediction, OutputKind}
import manyfold.arrow.FeatureLayout
import org.apache.spark.ml.linalg.SQLDataTypes
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.expressions.{Cast, Expression}
import org.apache.spark.sql.manyfold.BatchEval
import org.apache.spark.sql.types.{DoubleType, NumericType}

/**
 * Models as SQL functions. `manyfold.sql.register(spark, "churn_score", model)` makes `SELECT
 * churn_score(f1, f2, f3) FROM t` predict with `model`: one argument per feature, in the order of
 * the model's features (or a single Vector argument). A [[GroupedModel]] takes its group columns
 * first: `SELECT store_sales(store, price, promo) FROM t` (null for a group without a model, as
 * `transform`). The calls are batched like `transform` (Arrow batches, one native call per batch,
 * the decoded model cached per executor).
 *
 * `output` chooses the result: `prediction` (default; a double, or an int cluster for k-means), and
 * for classifiers `probability` or `rawPrediction` (a Vector, as `transform` gives them).
 *
 * A grouped model's models are broadcast to the executors for SQL, so a SQL function takes a models
 * table of at most `spark.manyfold.predict.broadcastThreshold` model bytes (default 64 MB); use
 * `transform` for larger ones.
 */
object sql {

  /**
   * Registers `model` as the temporary function `name` of `spark`'s session.
   *
   * @throws IllegalArgumentException
   *   if a function of that name exists, or `output` is not one of the model's outputs
   */
  def register(
      spark: SparkSession,
      name: String,
      model: NativeModel[_],
      output: String = "prediction"
  ): Unit = {
    val kind = outputKind(model, output)
    val names = model.featureNames.toSeq
    val plan = NativePrediction.Plan(
      keyTypes = Nil,
      layout = FeatureLayout.columns(names),
      outputs = Seq(kind),
      optionsJson = model.predictionOptions,
      batchRows = NativePrediction.DefaultBatchRows,
      name = name
    )
    val models = NativePrediction.OneModel(model.contentKey, model.broadcastBytes(spark))
    BatchEval.registerFunction(
      spark,
      name,
      s"$name(${names.mkString(", ")}) - the $output of a ${model.getClass.getSimpleName}",
      args =>
        features(args, names, Nil).map { case (inputs, vector) =>
          val p =
            if (vector) plan.copy(layout = FeatureLayout.vector("features", names.length)) else plan
          (NativePrediction.Function(p, models), inputs, kind.dataType)
        }
    )
  }

  /**
   * Registers `model` as the temporary function `name`, taking the group columns first, then the
   * features.
   *
   * @throws IllegalArgumentException
   *   if a function of that name exists, `output` is not one of the model's outputs, no group
   *   trained, or the models are larger than the broadcast threshold
   */
  def register(spark: SparkSession, name: String, model: GroupedModel[_]): Unit =
    register(spark, name, model, "prediction")

  def register(spark: SparkSession, name: String, model: GroupedModel[_], output: String): Unit = {
    val estimator = model.estimator
    val kind = outputKind(estimator, output)
    require(model.numFeatures > 0, s"cannot register '$name': no group of the model trained")
    val threshold = NativePrediction.broadcastThreshold(spark)
    require(
      model.modelBytesTotal <= threshold,
      s"cannot register '$name': its models hold ${model.modelBytesTotal} bytes, more than " +
        s"spark.manyfold.predict.broadcastThreshold ($threshold) allows a SQL function to " +
        "broadcast; use GroupedModel.transform, or raise the threshold"
    )
    val keyFields = model.models.schema.fields.take(model.groupColumns.length).toSeq
    val plan = NativePrediction.Plan(
      keyTypes = keyFields.map(_.dataType),
      layout = estimator.featureLayout(model.numFeatures),
      outputs = Seq(kind),
      optionsJson = estimator.predictionOptions,
      batchRows = NativePrediction.DefaultBatchRows,
      name = name
    )
    val table = model.broadcastTable
    BatchEval.registerFunction(
      spark,
      name,
      s"$name(${model.groupColumns.mkString(", ")}, features...) - the $output of the group's " +
        "model",
      args => {
        val k = keyFields.length
        if (args.length < k + 1) {
          Left(
            s"takes the group columns (${model.groupColumns.mkString(", ")}) and then the " +
              s"${model.numFeatures} features, got ${args.length} arguments"
          )
        } else {
          val keys = args.take(k).zip(keyFields).zipWithIndex.map { case ((a, f), i) =>
            if (Cast.canCast(a.dataType, f.dataType)) Right(Cast(a, f.dataType))
            else
              Left(
                s"argument ${i + 1} (group column '${f.name}') has type " +
                  s"${a.dataType.simpleString}, which cannot be cast to ${f.dataType.simpleString}"
              )
          }
          keys.collectFirst { case Left(m) => m } match {
            case Some(m) => Left(m)
            case None =>
              val featureNames =
                estimator.featureLayout(model.numFeatures).names
              features(args.drop(k), featureNames, model.groupColumns.toSeq).map {
                case (inputs, vector) =>
                  val p =
                    if (vector)
                      plan.copy(layout = FeatureLayout.vector("features", model.numFeatures))
                    else plan.copy(layout = FeatureLayout.columns(featureNames))
                  (
                    NativePrediction.Function(p, table),
                    keys.collect { case Right(e) => e: Expression } ++ inputs,
                    kind.dataType
                  )
              }
          }
        }
      }
    )
    ()
  }

  private def outputKind(params: NativeParams, output: String): OutputKind = {
    val kinds = params.outputColumns.map(_._2).distinct
    val wanted = output match {
      case "prediction" => kinds.find(k => k == OutputKind.Prediction || k == OutputKind.Cluster)
      case "probability" => kinds.find(_ == OutputKind.Probability)
      case "rawPrediction" => kinds.find(_ == OutputKind.RawPrediction)
      case _ => None
    }
    wanted.getOrElse(
      throw new IllegalArgumentException(
        s"output '$output' is not one of this model's outputs: " +
          kinds
            .map {
              case OutputKind.Probability => "probability"
              case OutputKind.RawPrediction => "rawPrediction"
              case _ => "prediction"
            }
            .mkString(", ")
      )
    )
  }

  /**
   * The feature arguments as inputs: one number per feature (cast to double), or one Vector; the
   * flag says which.
   */
  private def features(
      args: Seq[Expression],
      names: Seq[String],
      before: Seq[String]
  ): Either[String, (Seq[Expression], Boolean)] = {
    val offset = before.length
    val expected =
      (before ++ names).mkString(", ")
    if (args.length == 1 && args.head.dataType == SQLDataTypes.VectorType) {
      Right((args, true))
    } else if (args.length != names.length) {
      Left(
        s"takes ${before.length + names.length} arguments ($expected) or " +
          s"${before.length + 1} with the features as one vector, got ${offset + args.length}"
      )
    } else {
      args.zip(names).zipWithIndex.collectFirst {
        case ((a, n), i) if !a.dataType.isInstanceOf[NumericType] =>
          s"argument ${offset + i + 1} (feature '$n') has type ${a.dataType.simpleString}; " +
            "expected a number"
      } match {
        case Some(m) => Left(m)
        case None => Right((args.map(a => Cast(a, DoubleType): Expression), false))
      }
    }
  }
}
