package manyfold.ml

import manyfold.SharedSpark
import manyfold.jni.NativeCalls
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.clustering.KMeans
import manyfold.ml.regression.LinearRegression
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.{AnalysisException, DataFrame, Row}
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec
import org.apache.spark.sql.functions.{col, date_add, lit, when}
import org.apache.spark.sql.manyfold.{BatchEvalExec, SparkShim}
import org.scalatest.funsuite.AnyFunSuite

/** Columnar transform paths and models as SQL functions. */
class PredictionSqlSuite extends AnyFunSuite with SharedSpark {

  // 30 stores, y = store + 2a - 0.5b (+ a little store-dependent curvature for distinct models).
  private def sales(stores: Int, rows: Int): DataFrame =
    spark
      .createDataFrame((0 until stores).flatMap { g =>
        (0 until rows).map { i =>
          val a = (i % 11).toDouble
          val b = ((i * 7 + g) % 5).toDouble
          (
            g.toLong,
            a,
            b,
            g + 2.0 * a - 0.5 * b + 0.01 * g * a * a / 10,
            if (a + b > 6) 1.0 else 0.0
          )
        }
      })
      .toDF("store", "price", "promo", "sales", "churn")

  private def predictions(df: DataFrame, column: String): Map[(Long, Double, Double), Any] =
    df.select(col("store"), col("price"), col("promo"), col(column))
      .collect()
      .map(r => (r.getLong(0), r.getDouble(1), r.getDouble(2)) -> r.get(3))
      .toMap

  private def dropIfExists(name: String): Unit =
    spark.sql(s"DROP TEMPORARY FUNCTION IF EXISTS $name")

  test("a model as a SQL function equals its transform, in projections, filters and aggregates") {
    val df = sales(1, 200)
    val model = new LinearRegression().setInputCols("price", "promo").setLabelCol("sales").fit(df)
    dropIfExists("sales_score")
    manyfold.sql.register(spark, "sales_score", model)
    df.createOrReplaceTempView("t_one")
    val sql = spark.sql("SELECT store, price, promo, sales_score(price, promo) AS p FROM t_one")
    val expected = predictions(model.transform(df), "prediction")
    val got = predictions(sql, "p")
    assert(got.size == expected.size && got.forall { case (k, v) => v == expected(k) })
    // In a filter and an aggregate, and with an int argument (cast to double).
    val all = model.transform(df).collect().map(_.getAs[Double]("prediction"))
    val high = spark.sql("SELECT count(*) FROM t_one WHERE sales_score(price, promo) > 10").head()
    assert(high.getLong(0) == all.count(_ > 10))
    val avg = spark.sql("SELECT avg(sales_score(price, cast(promo AS int))) FROM t_one").head()
    assert(math.abs(avg.getDouble(0) - all.sum / all.length) < 1e-9)
    // Nested in an expression, twice in one projection.
    val twice = spark.sql("SELECT sales_score(price, promo) - sales_score(price, promo) FROM t_one")
    assert(twice.collect().forall(_.getDouble(0) == 0.0))
  }

  test("a Vector argument, and a classifier's probability output") {
    val df = new VectorAssembler()
      .setInputCols(Array("price", "promo"))
      .setOutputCol("features")
      .transform(sales(1, 200))
    val model = new LogisticRegression().setLabelCol("churn").setRegParam(0.1).fit(df)
    dropIfExists("churn_p")
    dropIfExists("churn_label")
    manyfold.sql.register(spark, "churn_p", model, "probability")
    manyfold.sql.register(spark, "churn_label", model)
    df.createOrReplaceTempView("t_vec")
    val got = spark.sql(
      "SELECT store, price, promo, churn_p(features) AS p, churn_label(price, promo) AS l FROM t_vec"
    )
    val transformed = model.transform(df)
    val probability = predictions(transformed, "probability")
    val label = predictions(transformed, "prediction")
    got.collect().foreach { r =>
      val k = (r.getLong(0), r.getDouble(1), r.getDouble(2))
      assert(r.getAs[Vector]("p") == probability(k))
      assert(r.getAs[Double]("l") == label(k))
    }
  }

  test("a grouped model as a SQL function takes the group first; unknown groups give null") {
    val df = sales(30, 40)
    val grouped =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    dropIfExists("store_sales")
    manyfold.sql.register(spark, "store_sales", grouped)
    val scored = df.union(sales(32, 3).where(col("store") >= 30))
    scored.createOrReplaceTempView("t_grouped")
    val got =
      predictions(spark.sql("SELECT *, store_sales(store, price, promo) AS p FROM t_grouped"), "p")
    val expected = predictions(grouped.transform(scored), "prediction")
    assert(got == expected)
    assert(got.count(_._2 == null) == 6) // stores 30 and 31 have no model
    assert(got.count(_._2 != null) == 1200)
  }

  test("grouped transform: the shuffle path equals the broadcast path") {
    val df = sales(30, 40)
    val grouped =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    val scored = df.union(sales(31, 2).where(col("store") === 30)).repartition(3)
    val broadcast = predictions(grouped.transform(scored), "prediction")
    spark.conf.set("spark.manyfold.predict.broadcastThreshold", "0")
    val shuffled =
      try grouped.transform(scored)
      finally spark.conf.unset("spark.manyfold.predict.broadcastThreshold")
    assert(shuffled.columns.toSeq == grouped.transform(scored).columns.toSeq)
    assert(predictions(shuffled, "prediction") == broadcast)
    assert(broadcast.count(_._2 == null) == 2)
  }

  test("a null group key has its own model, broadcast or shuffled") {
    val df = sales(3, 40).withColumn(
      "store",
      when(col("store") === 2L, lit(null).cast("long")).otherwise(col("store"))
    )
    val grouped =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    val nullModel = grouped.model(null)
    def check(out: DataFrame): Unit = {
      val rows = out.where(col("store").isNull).collect()
      assert(rows.length == 40)
      rows.foreach { r =>
        val x = org.apache.spark.ml.linalg.Vectors
          .dense(r.getAs[Double]("price"), r.getAs[Double]("promo"))
        assert(r.getAs[Double]("prediction") == nullModel.predict(x))
      }
      assert(out.where(col("prediction").isNull).count() == 0)
    }
    check(grouped.transform(df))
    spark.conf.set("spark.manyfold.predict.broadcastThreshold", "0")
    try check(grouped.transform(df))
    finally spark.conf.unset("spark.manyfold.predict.broadcastThreshold")
  }

  test("a model is decoded once per executor JVM across transforms; batch size is configurable") {
    val df = sales(1, 300).repartition(3)
    val model = new LinearRegression().setInputCols("price", "promo").setLabelCol("sales").fit(df)
    ModelCache.clear()
    val opened = NativeCalls.openModelsCalls
    model.transform(df).collect()
    model.copy(model.extractParamMap()).transform(df).collect() // same bytes, same cache entry
    assert(NativeCalls.openModelsCalls - opened == 1)
    val calls = NativeCalls.predictCalls
    spark.conf.set("spark.manyfold.predict.batchRows", "10")
    try assert(model.transform(df.coalesce(1)).count() == 300)
    finally spark.conf.unset("spark.manyfold.predict.batchRows")
    assert(NativeCalls.predictCalls - calls == 30)
  }

  test("bad calls: wrong argument count, a string feature, a taken name, a non-classifier output") {
    val df = sales(1, 50)
    val model = new LinearRegression().setInputCols("price", "promo").setLabelCol("sales").fit(df)
    dropIfExists("bad_score")
    manyfold.sql.register(spark, "bad_score", model)
    df.createOrReplaceTempView("t_bad")
    val count = intercept[AnalysisException](spark.sql("SELECT bad_score(price) FROM t_bad"))
    assert(count.getMessage.contains("bad_score") && count.getMessage.contains("got 1"))
    val string =
      intercept[AnalysisException](spark.sql("SELECT bad_score(price, 'x') FROM t_bad"))
    assert(string.getMessage.contains("feature 'promo'") && string.getMessage.contains("string"))
    val taken =
      intercept[IllegalArgumentException](manyfold.sql.register(spark, "bad_score", model))
    assert(taken.getMessage.contains("'bad_score' already exists"))
    val builtin = intercept[IllegalArgumentException](manyfold.sql.register(spark, "abs", model))
    assert(builtin.getMessage.contains("'abs' already exists"))
    val output =
      intercept[IllegalArgumentException](manyfold.sql.register(spark, "p2", model, "probability"))
    assert(output.getMessage.contains("not one of this model's outputs"))
  }

  test("a feature column whose type changed since fit is refused, naming the column") {
    val df = sales(1, 50)
    val model = new LinearRegression().setInputCols("price", "promo").setLabelCol("sales").fit(df)
    val changed = df.withColumn("promo", col("promo").cast("string"))
    val e = intercept[IllegalArgumentException](model.transform(changed))
    assert(e.getMessage.contains("promo"), e.getMessage)
    val grouped =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    val g = intercept[IllegalArgumentException](grouped.transform(changed))
    assert(g.getMessage.contains("promo"), g.getMessage)
  }

  test("transform keeps the input's columns and rows when chained and filtered") {
    val df = sales(2, 100)
    val model = new LinearRegression().setInputCols("price", "promo").setLabelCol("sales").fit(df)
    val out = model.transform(df).where(col("prediction") > 5).select("store", "prediction")
    val expected = model
      .transform(df)
      .collect()
      .count(_.getAs[Double]("prediction") > 5)
    assert(out.count() == expected)
    assert(model.transform(df).schema.fieldNames.toSeq == df.columns.toSeq :+ "prediction")
    assert(model.transform(df.limit(0)).collect().isEmpty)
    val rows: Array[Row] = model.transform(df).take(3)
    assert(rows.length == 3)
  }

  // The ManyfoldPredict operator of an executed plan (AQE's included).
  private def predictOperator(df: DataFrame): BatchEvalExec = {
    val plan = SparkShim.queryExecution(df).executedPlan match {
      case a: AdaptiveSparkPlanExec => a.executedPlan
      case other => other
    }
    plan.collectFirst { case b: BatchEvalExec => b }.getOrElse(fail(s"no ManyfoldPredict in $plan"))
  }

  // Every row of `out` by (store, price, promo, a): the named columns.
  private def byRow(out: DataFrame, columns: String*): Map[Seq[Any], Seq[Any]] =
    out
      .select((Seq("store", "price", "promo", "a") ++ columns).map(col): _*)
      .collect()
      .map(r => r.toSeq.take(4) -> r.toSeq.drop(4))
      .toMap

  test("cached and Parquet input is read as columns, with the row path's exact predictions") {
    // Nullable doubles, an int and a float feature (read as Spark casts them), nulls among them.
    val rows = sales(3, 200)
      .withColumn("price", when(col("price") === 3.0, lit(null)).otherwise(col("price")))
      .withColumn("a", (col("promo") * 2).cast("int"))
      .withColumn("b", (col("promo") / 3).cast("float"))
    val fitOn = rows.na.drop()
    val classifier =
      new LogisticRegression().setInputCols("price", "a", "b").setLabelCol("churn").fit(fitOn)
    val regression =
      new LinearRegression().setInputCols("price", "a", "b").setLabelCol("sales").fit(fitOn)
    val clusters = new KMeans().setInputCols("price", "a").setK(3).setSeed(1L).fit(fitOn)
    val outputs = Seq("prediction", "rawPrediction", "probability")
    val cached = rows.repartition(2).cache() // `rows` itself stays uncached: the row path
    val dir = java.nio.file.Files.createTempDirectory("manyfold-columnar").resolve("t").toString
    rows.write.parquet(dir)
    val parquet = spark.read.parquet(dir)
    try {
      for (input <- Seq(cached, parquet)) {
        val scored = classifier.transform(input)
        assert(
          predictOperator(scored).supportsColumnar,
          SparkShim.queryExecution(scored).executedPlan
        )
        val got = byRow(scored, outputs: _*)
        assert(got == byRow(classifier.transform(rows), outputs: _*))
        // A null feature gives no prediction; every other row has all three.
        val nullPrice = rows.where(col("price").isNull).select("store", "promo", "a").distinct()
        assert(got.count(_._2.forall(_ == null)) == nullPrice.count())
        assert(got.forall { case (key, values) => (key(1) == null) == values.contains(null) })
        assert(
          byRow(regression.transform(input), "prediction") ==
            byRow(regression.transform(rows), "prediction")
        )
        val k = byRow(clusters.transform(input), "prediction")
        assert(k == byRow(clusters.transform(rows), "prediction"))
        assert(k.values.flatten.filter(_ != null).forall(_.isInstanceOf[Int]))
      }
      // The row path stays for rows (a local relation here).
      assert(!predictOperator(regression.transform(rows)).supportsColumnar)
    } finally cached.unpersist()
  }

  test("a grouped model reads a cached key column as columns; unknown and null keys as rows do") {
    val df = sales(4, 60)
      .withColumn("a", col("price"))
      .withColumn("store", when(col("store") === 3L, lit(null)).otherwise(col("store")))
    val grouped =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    val scored = df.union(sales(6, 2).where(col("store") >= 4).withColumn("a", col("price")))
    val cached = scored.repartition(2).cache()
    try {
      val out = grouped.transform(cached)
      assert(predictOperator(out).supportsColumnar, SparkShim.queryExecution(out).executedPlan)
      val got = byRow(out, "prediction")
      assert(got == byRow(grouped.transform(scored), "prediction"))
      assert(got.count(_._2.head == null) == 4) // stores 4 and 5 have no model
      // A key column of another type than the models' (cast per row) takes the row path.
      val intKeys = cached.withColumn("store", col("store").cast("int"))
      assert(!predictOperator(grouped.transform(intKeys)).supportsColumnar)
      assert(byRow(grouped.transform(intKeys), "prediction") == got)
      assert(!predictOperator(grouped.transform(scored)).supportsColumnar)
    } finally cached.unpersist()
  }

  test("one date or timestamp group key: a primitive lookup, in rows and Parquet columns") {
    // Each store on its own day (store 3: a null day), so each keying has the same groups.
    val df = sales(4, 60)
      .withColumn("a", col("price"))
      .withColumn(
        "day",
        when(col("store") === 3L, lit(null))
          .otherwise(date_add(lit("2024-02-27").cast("date"), col("store").cast("int")))
      )
      .withColumn("ts", col("day").cast("timestamp"))
    val byStore =
      Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
        .setGroupCols("store")
        .fit(df)
    val expected = byRow(byStore.transform(df), "prediction")
    assert(expected.values.forall(_.head != null))
    // Parquet is read as columns (Spark's cache keeps date and timestamp columns as rows).
    val dir = java.nio.file.Files.createTempDirectory("manyfold-dates").resolve("t").toString
    df.write.parquet(dir)
    val parquet = spark.read.parquet(dir)
    for (key <- Seq("day", "ts")) {
      val grouped =
        Grouped(new LinearRegression().setInputCols("price", "promo").setLabelCol("sales"))
          .setGroupCols(key)
          .fit(df)
      assert(grouped.numGroups == 4, key)
      val out = grouped.transform(parquet.select("store", "price", "promo", "a", key))
      assert(predictOperator(out).supportsColumnar, SparkShim.queryExecution(out).executedPlan)
      assert(byRow(out, "prediction") == expected, key)
      assert(byRow(grouped.transform(df), "prediction") == expected, key)
    }
  }
}
