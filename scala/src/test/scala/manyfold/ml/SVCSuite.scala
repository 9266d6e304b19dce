package manyfold.ml

import java.nio.file.Files

import scala.collection.JavaConverters._

import manyfold.{Fixtures, SharedSpark}
import manyfold.ml.classification.{SVC, SVCModel}
import org.apache.spark.ml.classification.OneVsRest
import org.apache.spark.ml.evaluation.{
  BinaryClassificationEvaluator,
  MulticlassClassificationEvaluator
}
import org.apache.spark.ml.linalg.{SQLDataTypes, Vector, Vectors}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.{Column, DataFrame, Row, SparkSession}
import org.apache.spark.sql.functions.{col, lit, rand, udf}
import org.apache.spark.sql.types._
import org.json4s.{DefaultFormats, Formats, JValue}
import org.scalatest.funsuite.AnyFunSuite

/**
 * Single SVC models fitted through Spark against scikit-learn's `SVC`: the cases of
 * rust/core/tests/fixtures/svc_*.json, made by tests/reference/make_svc_fixtures.py (each fitted on
 * the first `nTrain` rows; decision values, labels and probabilities of every row).
 */
class SVCSuite extends AnyFunSuite with SharedSpark {
  import SVCSuite._

  private lazy val binary = SvcData(spark, "svc_binary")
  private lazy val multiclass = SvcData(spark, "svc_multiclass")

  test("a binary model: classes, support vectors, gamma; rawPrediction is [-d, d]") {
    val c = binary.caseNamed("rbf_scale")
    val model = svcOf(c).setLabelCol("y").fit(binary.train(weighted = false))
    val e = c \ "expected"
    assert(model.classes.toSeq == (e \ "classes").extract[Seq[Double]] && model.numClasses == 2)
    assert(model.numFeatures == 20 && model.featureNames.head == "features[0]")
    assert(model.supportCounts.toSeq == (e \ "supportCounts").extract[Seq[Int]])
    assert(model.numSupportVectors == model.supportCounts.sum)
    assert(gap(model.resolvedGamma, (e \ "gamma").extract[Double]) < 1e-12)
    assert(model.converged && model.numIterations > 0 && !model.hasProbability)
    val out = model.transform(binary.all)
    assert(out.columns.toSeq.takeRight(2) == Seq("rawPrediction", "prediction"))
    val rows = out.select("features", "rawPrediction", "prediction").collect()
    for (r <- rows) {
      val (v, raw) = (r.getAs[Vector](0), r.getAs[Vector](1))
      assert(raw.size == 2 && raw(0) == -raw(1))
      assert(model.predictRaw(v) == raw && model.predict(v) == r.getDouble(2))
    }
    val e2 =
      intercept[UnsupportedOperationException](model.predictProbability(rows(0).getAs[Vector](0)))
    assert(e2.getMessage.contains("probability=true"), e2.getMessage)
  }

  for (
    (name, data) <- Seq[(String, () => SvcData)](
      "svc_binary" -> (() => binary),
      "svc_multiclass" -> (() => multiclass)
    );
    caseName <- SvcData.caseNames(name) if caseName != "rbf_maxiter"
  ) {
    test(s"$name/$caseName: decision values, labels (and probabilities) match scikit-learn") {
      val d = data()
      val c = d.caseNamed(caseName)
      val weighted = (c \ "weighted").extract[Boolean]
      val est = svcOf(c).setLabelCol("y")
      if (weighted) est.setWeightCol("w")
      val model = est.fit(d.train(weighted))
      val e = c \ "expected"
      assert(model.classes.toSeq == (e \ "classes").extract[Seq[Double]])
      assert(gap(model.resolvedGamma, (e \ "gamma").extract[Double]) < 1e-12)
      val rows = model.transform(d.all).collect()
      val decision = Fixtures.matrix(e \ "decision")
      val labels = Fixtures.doubles(e \ "predicted")
      var (worst, total, flips) = (0.0, 0.0, 0)
      def record(a: Double, b: Double): Unit = {
        val g = gap(a, b)
        worst = math.max(worst, g)
        total += g / rows.length / decision(0).length
      }
      for ((r, i) <- rows.zipWithIndex) {
        val raw = r.getAs[Vector]("rawPrediction").toArray
        val label = r.getAs[Double]("prediction")
        if (decision(i).length == 1) {
          // Binary: raw(1) is scikit-learn's decision value, whose sign gives the label: the
          // gap bound lets labels differ only within it of the boundary.
          record(raw(1), decision(i)(0))
          if (label != labels(i)) flips += 1
        } else {
          // More classes: scikit-learn's ovr scores, votes + a continuous confidence part in
          // (-1/3, 1/3). The votes may differ where a pairwise decision value is near 0.
          val (votes, conf) = raw.map(v => (math.round(v).toDouble, v - math.round(v))).unzip
          val (refVotes, refConf) =
            decision(i).map(v => (math.round(v).toDouble, v - math.round(v))).unzip
          conf.zip(refConf).foreach { case (a, b) => record(a, b) }
          if (votes.toSeq != refVotes.toSeq) flips += 1
          else assert(label == labels(i), s"row $i: label $label vs ${labels(i)}")
        }
      }
      if ((c \ "params" \ "kernel").extract[String] == "sigmoid") {
        // The sigmoid kernel is not positive semi-definite: the dual is not convex, and libsvm
        // stops at a stationary point that depends on the row order (binary sigmoid_scale:
        // decision values 0.048 apart on average, 0.25 at most, 7 of 400 labels differ; the
        // other sigmoid cases agree as the convex kernels do). Only a close agreement holds.
        assert(total < 0.1 && flips <= rows.length / 40, s"$name/$caseName: $total, $flips")
      } else {
        assert(worst < Tolerance, s"$name/$caseName: decision values off by $worst")
        assert(flips <= rows.length / 200, s"$name/$caseName: $flips rows decided otherwise")
      }
      val probabilityNote = (e \ "probability").toOption.map { p =>
        val expected = Fixtures.matrix(p)
        val gaps = rows.zip(expected).flatMap { case (r, want) =>
          val got = r.getAs[Vector]("probability").toArray
          assert(math.abs(got.sum - 1.0) < 1e-9)
          got.zip(want).map { case (a, b) => math.abs(a - b) }
        }
        val mean = gaps.sum / gaps.length
        // libsvm's internal CV shuffles differ from ours: only a statistical agreement.
        assert(mean < 0.02 && gaps.max < 0.15, s"$name/$caseName probability gap $mean")
        assert(model.hasProbability)
        f", probability gap mean $mean%.4f max ${gaps.max}%.4f"
      }
      info(
        f"decision gap max $worst%.2e mean $total%.2e, $flips of ${rows.length} labels differ" +
          s"${probabilityNote.getOrElse("")}"
      )
    }
  }

  test("the row order does not change the model: the bytes of a shuffled input are identical") {
    val df = binary.train(weighted = true)
    val svc = new SVC().setLabelCol("y").setWeightCol("w").setProbability(true)
    val a = svc.fit(df)
    val b = svc.fit(df.orderBy(rand(3)).repartition(3))
    assert(a.modelBytes.toSeq == b.modelBytes.toSeq)
  }

  test("probability on: a probability column; thresholds pick the largest p / t") {
    val model = new SVC().setLabelCol("y").setProbability(true).fit(binary.train(false))
    assert(model.hasProbability && model.getProbability)
    val out = model.transform(binary.all)
    assert(out.columns.toSeq.takeRight(3) == Seq("rawPrediction", "probability", "prediction"))
    val plain = out.where(col("prediction") === model.classes(1)).count()
    model.setThresholds(Array(0.8, 0.2))
    val rows = model.transform(binary.all).select("features", "probability", "prediction").collect()
    var second = 0
    for (r <- rows) {
      val p = r.getAs[Vector](1)
      val expected = if (p(0) / 0.8 >= p(1) / 0.2) model.classes(0) else model.classes(1)
      assert(r.getDouble(2) == expected && model.predict(r.getAs[Vector](0)) == expected)
      assert(model.predictProbability(r.getAs[Vector](0)) == p)
      if (expected == model.classes(1)) second += 1
    }
    assert(second > plain, s"thresholds 0.8/0.2 should predict the second class more ($second)")
  }

  test("thresholds without probability are refused, naming probability") {
    val model = new SVC().setLabelCol("y").fit(binary.train(false)).setThresholds(Array(0.4, 0.6))
    val e = intercept[IllegalArgumentException](model.transform(binary.all))
    assert(e.getMessage.contains("probability=true"), e.getMessage)
  }

  test("Grouped: one SVC per group, a models table with accuracy, logLoss, converged") {
    val all = binary.train(weighted = false)
    val groups = all.withColumn("g", (col("id") % 3).cast("string"))
    val svc = new SVC().setLabelCol("y").setProbability(true)
    val model = Grouped(svc).setGroupCols("g").fit(groups)
    assert(
      model.models.columns.toSeq == Seq(
        "g",
        "model",
        "rows",
        "accuracy",
        "logLoss",
        "converged",
        "status",
        "error",
        "trainingMillis"
      )
    )
    for (r <- model.models.collect()) {
      val g = r.getAs[String]("g")
      assert(r.getAs[String]("status") == "ok" && r.getAs[Long]("rows") == 100, g)
      assert(r.getAs[Double]("accuracy") > 0.8 && r.getAs[Boolean]("converged"), g)
      val logLoss = r.getAs[Double]("logLoss")
      assert(logLoss > 0.0 && logLoss < 0.6, s"$g: logLoss $logLoss")
      // A group's model is the model of a single fit of its rows.
      val single = svc.fit(groups.where(col("g") === g))
      assert(model.model(g).modelBytes.toSeq == single.modelBytes.toSeq, g)
    }
    val out = model.transform(groups)
    assert(out.columns.toSeq.takeRight(3) == Seq("rawPrediction", "probability", "prediction"))
    assert(out.where(col("prediction").isNull).count() == 0)
  }

  test("Grouped: a group with one class, or too few rows of a class for probability, fails alone") {
    val base = binary.train(weighted = false).where(col("id") < 60)
    val one = base.where(col("y") === 3.0).withColumn("g", lit("one"))
    // Four rows of class 7: one short of a row per fold of the internal cross-validation.
    val fewRows = base
      .where(col("y") === 3.0)
      .union(base.where(col("y") === 7.0).orderBy("id").limit(4))
      .withColumn("g", lit("few"))
    val ok = base.withColumn("g", lit("ok"))
    val model = Grouped(new SVC().setLabelCol("y").setProbability(true))
      .setGroupCols("g")
      .fit(ok.union(one).union(fewRows))
    val byGroup = model.models.collect().map(r => r.getAs[String]("g") -> r).toMap
    assert(byGroup("ok").getAs[String]("status") == "ok")
    for ((g, reason) <- Seq("one" -> "only one class", "few" -> "probability needs at least 5")) {
      val r = byGroup(g)
      assert(r.getAs[String]("status") == "failed" && r.isNullAt(r.fieldIndex("model")), g)
      assert(r.getAs[String]("error").contains(reason), s"$g: ${r.getAs[String]("error")}")
    }
    val e = intercept[IllegalStateException](
      new SVC().setLabelCol("y").fit(one.drop("g"))
    )
    assert(e.getMessage.contains("svc training failed") && e.getMessage.contains("one class"))
  }

  test("the recipe's grid (cost x kernel x shrinking) in Spark's CrossValidator") {
    val large = SvcData(spark, "svc_binary_large")
    val df = large.train(weighted = false).where(col("id") < 300).cache()
    val svc = new SVC().setLabelCol("y").setGamma("auto").setProbability(true)
    val grid = new ParamGridBuilder()
      .addGrid(svc.cost, Array(0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0))
      .addGrid(svc.kernel, Array("rbf", "poly", "sigmoid"))
      .addGrid(svc.shrinking, Array(true, false))
      .build()
    val cv = new CrossValidator()
      .setEstimator(svc)
      .setEstimatorParamMaps(grid)
      .setEvaluator(
        new MulticlassClassificationEvaluator().setLabelCol("y").setMetricName("accuracy")
      )
      .setNumFolds(2)
      .setParallelism(2)
      .setSeed(5)
    val start = System.nanoTime()
    val best = cv.fit(df)
    val seconds = (System.nanoTime() - start) / 1e9
    assert(best.avgMetrics.length == 48 && best.avgMetrics.forall(m => m > 0.3 && m <= 1.0))
    val bestModel = best.bestModel.asInstanceOf[SVCModel]
    assert(bestModel.hasProbability && best.avgMetrics.max > 0.85, best.avgMetrics.toSeq)
    // Shrinking changes the path, not the optimum: paired settings score alike.
    grid.zip(best.avgMetrics).groupBy { case (m, _) => (m(svc.cost), m(svc.kernel)) }.foreach {
      case (k, pair) =>
        assert(math.abs(pair.head._2 - pair.last._2) < 0.02, s"$k: ${pair.map(_._2).toSeq}")
    }
    info(f"48 settings x 2 folds in $seconds%.1f s, best accuracy ${best.avgMetrics.max}%.3f")
    df.unpersist()
  }

  test("BinaryClassificationEvaluator: areaUnderROC of rawPrediction equals scikit-learn's") {
    val large = SvcData(spark, "svc_binary_large")
    val c = large.caseNamed("rbf_scale_1000")
    val model = svcOf(c).setLabelCol("y").fit(large.train(weighted = false))
    val unseen = large.all.where(col("id") >= large.nTrain)
    val evaluator = new BinaryClassificationEvaluator().setLabelCol("y")
    val auc = evaluator.evaluate(model.transform(unseen))
    val decision = Fixtures.matrix(c \ "expected" \ "decision")
    val reference = SVCSuite
      .frame(
        spark,
        (large.nTrain until large.x.length).map(i => (large.x(i), large.y(i), 1.0))
      )
      .withColumn("rawPrediction", rawOf(col("id") + large.nTrain, decision))
    val sklearnAuc = evaluator.evaluate(reference)
    assert(auc > 0.5 && math.abs(auc - sklearnAuc) < 1e-3, s"$auc vs scikit-learn $sklearnAuc")
    info(f"areaUnderROC $auc%.5f, scikit-learn's decision values $sklearnAuc%.5f")
  }

  test("OneVsRest over a binary SVC classifies three classes as well as the pairwise SVC") {
    val c = multiclass.caseNamed("rbf_scale")
    val classes = (c \ "expected" \ "classes").extract[Seq[Double]]
    val index = udf((y: Double) => classes.indexOf(y).toDouble)
    val df = multiclass.train(weighted = false).withColumn("label", index(col("y")))
    val ovr = new OneVsRest().setClassifier(new SVC())
    val model = ovr.fit(df)
    assert(model.models.length == 3 && model.models.forall(_.isInstanceOf[SVCModel]))
    val unseen =
      multiclass.all.where(col("id") >= multiclass.nTrain).withColumn("label", index(col("y")))
    val accuracy = new MulticlassClassificationEvaluator().evaluate(model.transform(unseen))
    val labels = Fixtures.doubles(c \ "expected" \ "predicted").drop(multiclass.nTrain)
    val y = multiclass.y.drop(multiclass.nTrain)
    val sklearn = labels.zip(y).count { case (a, b) => a == b }.toDouble / y.length
    assert(accuracy > sklearn - 0.1, s"one-vs-rest $accuracy vs scikit-learn's one-vs-one $sklearn")
    info(f"unseen rows: one-vs-rest accuracy $accuracy%.3f, scikit-learn SVC $sklearn%.3f")
  }

  test("bad params are refused when set, naming the param and the value") {
    val svc = new SVC()
    for (
      (set, param, value) <- Seq[(() => Any, String, String)](
        (() => svc.setKernel("gaussian"), "kernel", "gaussian"),
        (() => svc.setGamma("0"), "gamma", "0"),
        (() => svc.setGamma("-1"), "gamma", "-1"),
        (() => svc.setGamma("abc"), "gamma", "abc"),
        (() => svc.setCost(0.0), "cost", "0.0"),
        (() => svc.setCost(-1.0), "cost", "-1.0"),
        (() => svc.setDegree(0), "degree", "0")
      )
    ) {
      val e = intercept[IllegalArgumentException](set())
      assert(e.getMessage.contains(s"parameter $param given invalid value $value"), e.getMessage)
    }
    val zeroTol = intercept[IllegalArgumentException](
      svc.setTol(0.0).setLabelCol("y").fit(binary.train(weighted = false))
    )
    assert(zeroTol.getMessage.contains("tol must be > 0"), zeroTol.getMessage)
  }

  test("features at prediction must match the fit's count") {
    val df = spark
      .createDataFrame((0 until 40).map(i => (i.toDouble, (i % 7).toDouble, (i % 2).toDouble)))
      .toDF("a", "b", "y")
    val model = new SVC().setInputCols("a", "b").setLabelCol("y").fit(df)
    val e = intercept[IllegalArgumentException](model.predict(Vectors.dense(1.0, 2.0, 3.0)))
    assert(e.getMessage.contains("the model has 2 features, the vector has 3"), e.getMessage)
    val e2 = intercept[IllegalArgumentException](
      model.copy(ParamMap(model.inputCols -> Array("a"))).transform(df)
    )
    assert(e2.getMessage.contains("the model has 2 features but inputCols names 1"), e2.getMessage)
    val vectors = binary.train(weighted = false)
    val vm = new SVC().setLabelCol("y").fit(vectors)
    val narrow = vectors.withColumn("features", slice19(col("features")))
    val e3 = intercept[Exception](vm.transform(narrow).collect())
    assert(causes(e3).exists(m => m.contains("'features'") && m.contains("19")), causes(e3))
  }

  test("fromBytes refuses other algorithms' bytes and newer format versions") {
    val logistic =
      Files.readAllBytes(Fixtures.root.resolve("tests/fixtures/models/v2-logistic.mnfd"))
    val e = intercept[IllegalArgumentException](SVCModel.fromBytes(logistic))
    assert(e.getMessage.contains("holds a logistic model, not a svc model"), e.getMessage)
    val bytes = new SVC().setLabelCol("y").fit(binary.train(false)).modelBytes
    val newer = bytes.clone()
    newer(4) = 3 // the format version, u16 LE at offset 4
    val e2 = intercept[IllegalArgumentException](SVCModel.fromBytes(newer))
    assert(e2.getMessage.contains("unsupported format version 3"), e2.getMessage)
    intercept[IllegalArgumentException](SVCModel.fromBytes(bytes.dropRight(3)))
  }

  test("the released svc model fixture loads, with the params it was fitted with") {
    val fixture = Files.readAllBytes(Fixtures.root.resolve("tests/fixtures/models/v2-svc.mnfd"))
    val m = SVCModel.fromBytes(fixture)
    assert(m.numClasses >= 2 && m.numSupportVectors > 0 && m.getProbability == m.hasProbability)
    val x = Vectors.dense(Array.fill(m.numFeatures)(0.5))
    assert(m.classes.contains(m.predict(x)) && m.predictRaw(x).size == m.numClasses)
    val again = SVCModel.fromBytes(m.modelBytes)
    assert(again.getKernel == m.getKernel && again.getCost == m.getCost)
  }

  test("save and load: an SVCModel and a GroupedModel of SVCs predict identically") {
    val dir = Files.createTempDirectory("manyfold-svc")
    val df = binary.train(weighted = true)
    val model = new SVC()
      .setLabelCol("y")
      .setWeightCol("w")
      .setKernel("poly")
      .setDegree(2)
      .setGamma("0.05")
      .setProbability(true)
      .setSeed(9)
      .fit(df)
    model.write.save(dir.resolve("single").toString)
    val loaded = SVCModel.load(dir.resolve("single").toString)
    assert(loaded.uid == model.uid && loaded.getKernel == "poly" && loaded.getGamma == "0.05")
    assert(loaded.getSeed == 9 && loaded.getWeightCol == "w" && loaded.getProbability)
    assert(loaded.modelBytes.toSeq == model.modelBytes.toSeq)
    assert(
      loaded.transform(binary.all).collect().toSeq == model.transform(binary.all).collect().toSeq
    )

    val groups = df.withColumn("g", col("id") % 2)
    val grouped =
      Grouped(new SVC().setLabelCol("y").setKernel("sigmoid")).setGroupCols("g").fit(groups)
    grouped.write.save(dir.resolve("grouped").toString)
    val g2 = GroupedModel.load(dir.resolve("grouped").toString).as[SVCModel]
    assert(g2.model(0).getKernel == "sigmoid" && !g2.model(1).hasProbability)
    assert(g2.transform(groups).collect().toSeq == grouped.transform(groups).collect().toSeq)
    assert(!g2.transform(groups).columns.contains("probability"))
  }

  test("a maxIter stop is reported: not converged, maxIter SMO iterations per pair") {
    for (d <- Seq(binary, multiclass)) {
      val model =
        svcOf(d.caseNamed("rbf_maxiter")).setLabelCol("y").fit(d.train(weighted = false))
      val pairs = model.numClasses * (model.numClasses - 1) / 2
      assert(!model.converged && model.getMaxIter == 20 && model.numIterations == 20 * pairs)
    }
  }
}

object SVCSuite {
  implicit val formats: Formats = DefaultFormats

  /**
   * The decision value tolerance. The Rust side fits the rows in scikit-learn's order and agrees to
   * 7.5e-13 (tests/svc.rs); a Spark fit sorts each group's rows into a canonical order first (so
   * that the model does not depend on the shuffle), so libsvm's solver stops at another point
   * within its tolerance (`tol` = 1e-3 on the KKT violation): measured gaps up to 1.5e-3.
   */
  val Tolerance: Double = 2e-3

  /** `|a - b| / max(1, |b|)`: relative for large values, absolute near zero (as tests/svc.rs). */
  def gap(a: Double, b: Double): Double = math.abs(a - b) / math.max(1.0, math.abs(b))

  private val slice19 = udf((v: Vector) => Vectors.dense(v.toArray.take(19)))

  /** A rawPrediction column `[-d, d]` of scikit-learn's binary decision values, by row. */
  def rawOf(row: Column, decision: Array[Array[Double]]): Column = {
    val raw = udf((i: Int) => Vectors.dense(-decision(i)(0), decision(i)(0)))
    raw(row)
  }

  /** The messages of an exception and its causes. */
  def causes(e: Throwable): Seq[String] =
    Iterator
      .iterate(e)(_.getCause)
      .takeWhile(_ != null)
      .map(t => String.valueOf(t.getMessage))
      .toSeq

  /** An SVC with a fixture case's params (scikit-learn's max_iter -1 is Spark's 0). */
  def svcOf(c: JValue): SVC = {
    val p = c \ "params"
    new SVC()
      .setCost((p \ "cost").extract[Double])
      .setKernel((p \ "kernel").extract[String])
      .setGamma((p \ "gamma").extract[String])
      .setDegree((p \ "degree").extract[Int])
      .setCoef0((p \ "coef0").extract[Double])
      .setShrinking((p \ "shrinking").extract[Boolean])
      .setTol((p \ "tol").extract[Double])
      .setMaxIter(math.max(0, (p \ "maxIter").extract[Int]))
      .setProbability((p \ "probability").extract[Boolean])
      .setSeed((p \ "seed").extract[Long])
  }

  /** The schema of [[SvcData]]' frames: row id, features (a Vector), label, weight. */
  val schema: StructType = StructType(
    Seq(
      StructField("id", IntegerType),
      StructField("features", SQLDataTypes.VectorType),
      StructField("y", DoubleType),
      StructField("w", DoubleType)
    )
  )

  def frame(spark: SparkSession, rows: Seq[(Array[Double], Double, Double)]): DataFrame =
    spark.createDataFrame(
      rows.zipWithIndex.map { case ((x, y, w), i) => Row(i, Vectors.dense(x), y, w) }.asJava,
      schema
    )

  /** One fixture file: its data and cases. */
  final case class SvcData(
      json: JValue,
      x: Array[Array[Double]],
      y: Array[Double],
      w: Array[Double]
  )(
      spark: SparkSession
  ) {

    val nTrain: Int = (json \ "nTrain").extract[Int]

    def caseNamed(name: String): JValue =
      (json \ "cases").children.find(c => (c \ "name").extract[String] == name).get

    /** The first nTrain rows, with the fixture's weights (or all weights 1). */
    def train(weighted: Boolean): DataFrame = SVCSuite.frame(
      spark,
      (0 until nTrain).map(i => (x(i), y(i), if (weighted) w(i) else 1.0))
    )

    /** Every row, in order (the fixtures' decision values are of every row). */
    lazy val all: DataFrame =
      SVCSuite.frame(spark, x.indices.map(i => (x(i), y(i), 1.0))).cache()
  }

  object SvcData {

    def apply(spark: SparkSession, name: String): SvcData = {
      val json = Fixtures.rustCase(name)
      SvcData(
        json,
        Fixtures.matrix(json \ "x"),
        Fixtures.doubles(json \ "y"),
        Fixtures.doubles(json \ "weight")
      )(spark)
    }

    def caseNames(name: String): Seq[String] =
      (Fixtures.rustCase(name) \ "cases").children.map(c => (c \ "name").extract[String])
  }
}
