package manyfold.ml.tuning

import manyfold.ml.{GroupedTraining, NativeEstimator}
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  Evaluator,
  MulticlassClassificationEvaluator,
  RegressionEvaluator
}
import org.apache.spark.ml.param.{Param, ParamMap}
import org.apache.spark.sql.types._
import org.json4s.{JArray, JBool, JDouble, JObject, JString, JValue}
import org.json4s.jackson.JsonMethods.{compact, parse, render}

/**
 * A search checked against its estimator and evaluator, and what the native side needs for it: one
 * params JSON and one prediction options JSON per parameter set, the metric, the folds. Built on
 * the driver before any job, so that every bad setting fails first.
 *
 * @param gridParams
 *   the params the grid sets, in order of first appearance (the columns of `cvResults`)
 */
private[manyfold] final case class SearchPlan(
    kind: String,
    estimator: NativeEstimator[_],
    paramMaps: Array[ParamMap],
    gridParams: Seq[Param[Any]],
    metricName: String,
    largerIsBetter: Boolean,
    searchJson: String,
    foldsJson: String,
    numFolds: Int,
    extras: GroupedTraining.Extras
) {

  /** The value of `param` in parameter set `i`: set by the grid, else the estimator's. */
  def value(i: Int, param: Param[Any]): Any =
    paramMaps(i).get(param).getOrElse(estimator.getOrDefault(estimator.getParam(param.name)))

  /**
   * The columns of the grid's params, as `cvResults` and a per-group models table show them: each
   * typed as its values (Double, Int, Long, Float, Boolean, String), else their JSON as a string,
   * with the cell of parameter set `i`.
   */
  def paramColumns: Seq[(StructField, Int => Any)] = gridParams.map { p =>
    val values = paramMaps.indices.map(i => value(i, p))
    val t = values.headOption match {
      case Some(_: Double) => DoubleType
      case Some(_: Int) => IntegerType
      case Some(_: Long) => LongType
      case Some(_: Float) => FloatType
      case Some(_: Boolean) => BooleanType
      case _ => StringType
    }
    val cells =
      values.map(v => if (t == StringType && !v.isInstanceOf[String]) p.jsonEncode(v) else v)
    (StructField(p.name, t, nullable = true), (i: Int) => cells(i))
  }

  /** `svc: 48 parameter sets x 3 folds = 144 fits`. */
  def size: String = {
    val sets = paramMaps.length
    s"${estimator.algorithm}: $sets parameter set${if (sets == 1) "" else "s"} x $numFolds " +
      s"fold${if (numFolds == 1) "" else "s"} = ${sets * numFolds} fits"
  }
}

private[manyfold] object SearchPlan {

  /**
   * Checks a search's estimator, grid and evaluator and plans it. `kind` names the search in
   * messages; `folds(classifier)` gives the folds JSON and the number of folds.
   *
   * @throws IllegalArgumentException
   *   for a missing or foreign estimator or evaluator, an empty grid, a grid param the estimator
   *   lacks or that names a column, a metric of another task than the estimator's
   */
  def apply(
      kind: String,
      params: NativeSearchParams,
      folds: Boolean => (String, Int),
      extras: GroupedTraining.Extras,
      returnModels: Boolean
  ): SearchPlan = {
    require(params.isDefined(params.estimator), s"$kind needs an estimator: call setEstimator")
    require(params.isDefined(params.evaluator), s"$kind needs an evaluator: call setEvaluator")
    require(
      params.isDefined(params.estimatorParamMaps),
      s"$kind needs parameter sets: call setEstimatorParamMaps (Spark's ParamGridBuilder)"
    )
    val estimator: NativeEstimator[_] = params.getEstimator match {
      case e: NativeEstimator[_] => e
      case other =>
        throw new IllegalArgumentException(
          s"$kind fits natively and takes a manyfold estimator (manyfold.ml.*); " +
            s"${other.getClass.getName} is not one: use Spark's CrossValidator for it"
        )
    }
    val maps = params.getEstimatorParamMaps
    require(
      maps.nonEmpty,
      s"$kind has an empty estimatorParamMaps: give at least one parameter set " +
        "(ParamGridBuilder().build() gives one empty set, the estimator's own params)"
    )
    val name = estimator.getClass.getSimpleName
    maps.zipWithIndex.foreach { case (map, i) =>
      map.toSeq.foreach { pair =>
        val p = pair.param
        require(
          p.parent == estimator.uid && estimator.hasParam(p.name),
          s"parameter set $i of estimatorParamMaps sets '${p.name}' of ${p.parent}, which is " +
            s"not a param of the estimator $name (uid ${estimator.uid}): build the grid from " +
            "the estimator's own params"
        )
        require(
          !p.name.endsWith("Col") && !p.name.endsWith("Cols"),
          s"parameter set $i of estimatorParamMaps sets '${p.name}': a search fits every " +
            "parameter set on the same columns, so the grid cannot vary a column param"
        )
      }
    }
    val gridParams =
      maps.flatMap(_.toSeq.map(_.param)).distinct.toSeq.map(_.asInstanceOf[Param[Any]])
    val copies = maps.map(m => estimator.copy(m))
    val classifier = estimator.info.task == "classification"
    val metric = Metric(params.getEvaluator, estimator, kind)
    val (foldsJson, numFolds) = folds(classifier)
    val searchJson = JObject(
      "algorithm" -> JString(estimator.algorithm),
      "paramSets" -> JArray(copies.map(c => parse(c.paramsJson)).toList),
      "predictOptions" -> JArray(copies.map(c => parse(c.predictionOptions)).toList),
      "metric" -> metric.json,
      "returnModels" -> JBool(returnModels)
    )
    SearchPlan(
      kind = kind,
      estimator = estimator,
      paramMaps = maps,
      gridParams = gridParams,
      metricName = metric.name,
      largerIsBetter = metric.largerIsBetter,
      searchJson = compact(render(searchJson)),
      foldsJson = foldsJson,
      numFolds = numFolds,
      extras = extras
    )
  }
}

/** The evaluator's metric as the native side computes it (docs/native-interface.md). */
private[manyfold] final case class Metric(name: String, largerIsBetter: Boolean, json: JValue)

private[manyfold] object Metric {

  private val regression = Set("rmse", "mse", "r2", "mae", "var")

  /**
   * The metric of one of Spark's evaluators, checked against the estimator: the same label column,
   * a weight column only if it is the estimator's, a metric of the estimator's task.
   */
  def apply(evaluator: Evaluator, estimator: NativeEstimator[_], kind: String): Metric = {
    val task = estimator.info.task
    val algorithm = estimator.getClass.getSimpleName
    require(
      task != "clustering",
      s"$kind compares models by a supervised metric; $algorithm is a clustering estimator"
    )
    def sameLabel(evaluatorLabel: String): Unit = estimator.labelColumn.foreach { label =>
      require(
        evaluatorLabel == label,
        s"the evaluator's labelCol '$evaluatorLabel' is not the estimator's labelCol '$label'"
      )
    }
    def weighted(evaluatorWeight: Option[String]): Boolean = evaluatorWeight match {
      case Some(w) if w.nonEmpty =>
        require(
          estimator.weightColumn.contains(w),
          s"the evaluator weights by '$w' but the estimator's weightCol is " +
            estimator.weightColumn.map(c => s"'$c'").getOrElse("not set") +
            ": set the same weightCol on both"
        )
        true
      case _ => false
    }
    def needs(expected: String, evaluatorName: String, metricName: String): Unit =
      require(
        task == expected,
        s"$metricName is a $evaluatorName metric, for a $expected; $algorithm is a " +
          s"$task estimator: use " +
          (if (task == "regression") "a RegressionEvaluator"
           else "a BinaryClassificationEvaluator or MulticlassClassificationEvaluator")
      )
    val base = evaluator match {
      case e: RegressionEvaluator =>
        needs("regression", "RegressionEvaluator", e.getMetricName)
        sameLabel(e.getLabelCol)
        require(regression.contains(e.getMetricName), s"unknown metric ${e.getMetricName}")
        JObject(
          "name" -> JString(e.getMetricName),
          "weighted" -> JBool(weighted(e.get(e.weightCol))),
          "throughOrigin" -> JBool(e.getThroughOrigin)
        )
      case e: BinaryClassificationEvaluator =>
        needs("classification", "BinaryClassificationEvaluator", e.getMetricName)
        sameLabel(e.getLabelCol)
        JObject(
          "name" -> JString(e.getMetricName),
          "weighted" -> JBool(weighted(e.get(e.weightCol)))
        )
      case e: MulticlassClassificationEvaluator =>
        needs("classification", "MulticlassClassificationEvaluator", e.getMetricName)
        sameLabel(e.getLabelCol)
        JObject(
          "name" -> JString(e.getMetricName),
          "weighted" -> JBool(weighted(e.get(e.weightCol))),
          "metricLabel" -> JDouble(e.getMetricLabel),
          "beta" -> JDouble(e.getBeta),
          "eps" -> JDouble(e.getEps)
        )
      case other =>
        throw new IllegalArgumentException(
          s"$kind computes metrics natively and takes Spark's RegressionEvaluator, " +
            s"BinaryClassificationEvaluator or MulticlassClassificationEvaluator; " +
            s"${other.getClass.getName} is none of these"
        )
    }
    val name = (base \ "name").asInstanceOf[JString].s
    Metric(name, evaluator.isLargerBetter, base)
  }
}
