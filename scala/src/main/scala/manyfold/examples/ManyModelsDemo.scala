package manyfold.examples

import org.apache.logging.log4j.Level
import org.apache.logging.log4j.core.config.Configurator
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.functions._

import manyfold.ml.{Grouped, GroupedModel}
import manyfold.ml.regression.{LinearRegression, LinearRegressionModel}

/**
 * `make demo`: one linear regression per store for 1,200 generated stores (sales from price and
 * promotion, each store with its own true coefficients), plus three deliberately bad stores, on an
 * embedded local Spark; prints how many trained and failed, why, the time taken and a few fitted
 * coefficients next to the true ones. Exits 1 when the result is not what the data imply.
 *
 * Arguments: `[stores] [rowsPerStore]` (default 1200 200). Spark's master comes from spark-submit
 * when there is one (`spark-submit --class manyfold.examples.ManyModelsDemo manyfold.jar`),
 * otherwise it is `local[2]`.
 */
object ManyModelsDemo {
  private val badStores = Map(
    "bad-nan-price" -> "a NaN price",
    "bad-null-sales" -> "a null label",
    "bad-one-row" -> "a single row"
  )

  // The true model of store g: sales = slope(g) * price + promo(g) * promo + base(g) + noise.
  private def slope(g: Int): Double = 1.0 + (g % 10) * 0.5
  private def promo(g: Int): Double = -2.0 + (g % 4)
  private def base(g: Int): Double = 5.0 + (g % 3)

  def main(args: Array[String]): Unit = {
    val stores = args.headOption.fold(1200)(_.toInt)
    val rowsPerStore = if (args.length > 1) args(1).toInt else 200
    require(stores >= 1 && rowsPerStore >= 100, "usage: ManyModelsDemo [stores >= 1] [rows >= 100]")

    // Spark's startup INFO lines would bury the table.
    Configurator.setRootLevel(Level.WARN)
    Configurator.setLevel("org.apache.spark", Level.ERROR)
    Configurator.setLevel("org.apache.hadoop", Level.ERROR)
    val builder =
      SparkSession.builder().appName("manyfold demo").config("spark.ui.enabled", "false")
    if (!sys.props.contains("spark.master")) {
      builder.master("local[2]").config("spark.sql.shuffle.partitions", "8")
    }
    val spark = builder.getOrCreate()
    val ok =
      try run(spark, stores, rowsPerStore)
      finally spark.stop()
    if (!ok) sys.exit(1)
  }

  private def run(spark: SparkSession, stores: Int, rowsPerStore: Int): Boolean = {
    val data = generate(spark, stores, rowsPerStore).cache()
    val rows = data.count()
    println(
      f"manyfold demo: one linear model per store, ${spark.sparkContext.master}, " +
        f"${stores + badStores.size}%,d stores, $rows%,d rows"
    )

    val est = new LinearRegression().setInputCols(Array("price", "promo")).setLabelCol("sales")
    val start = System.nanoTime()
    val gm = Grouped(est).setGroupCols("store").fit(data)
    val models = gm.models.select("store", "rows", "status", "error", "trainingMillis").collect()
    val seconds = (System.nanoTime() - start) / 1e9
    val (trained, failed) = models.partition(_.getAs[String]("status") == "ok")
    val nativeMs = models.map(r => r.getAs[Number]("trainingMillis").doubleValue).sum

    println()
    println(f"  trained  ${trained.length}%,7d stores")
    println(f"  failed   ${failed.length}%,7d stores (deliberately bad, reasons below)")
    println(
      f"  time     $seconds%7.1f s for ${models.length}%,d stores " +
        f"(${models.length / seconds}%,.0f models/s; $nativeMs%,.0f ms inside the native fits)"
    )
    println()
    val shown = trained.map(_.getAs[String]("store")).sorted.take(5)
    printCoefficients(gm, shown)
    println()
    printFailures(failed)
    println()

    val problems = check(gm, stores, trained, failed)
    if (problems.isEmpty) {
      println(f"demo ok: ${trained.length}%,d models trained, ${failed.length} bad stores failed")
    } else problems.foreach(p => println(s"demo FAILED: $p"))
    problems.isEmpty
  }

  /** The generated stores, then the bad ones: `store, price, promo, sales`. */
  private def generate(spark: SparkSession, stores: Int, rowsPerStore: Int): DataFrame = {
    import spark.implicits._
    val g = (col("id") / rowsPerStore).cast("int")
    def perStore(f: Int => Double, name: String) =
      element_at(typedLit((0 until stores).map(f)), g + 1).as(name)
    val good = spark
      .range(0L, stores.toLong * rowsPerStore, 1L, 4)
      .select(
        format_string("store-%04d", g).as("store"),
        (rand(1L) * 10).as("price"),
        rand(2L).as("promo"),
        perStore(slope, "slope"),
        perStore(promo, "promoEffect"),
        perStore(base, "base")
      )
      .select(
        $"store",
        $"price",
        $"promo",
        ($"slope" * $"price" + $"promoEffect" * $"promo" + $"base" + randn(3L) * 0.5).as("sales")
      )
    val bad = (0 until 50).map { i =>
      ("bad-nan-price", if (i == 7) Double.NaN else i.toDouble, (i % 3).toDouble, Option(2.0 * i))
    } ++ (0 until 50).map { i =>
      ("bad-null-sales", i.toDouble, (i % 3).toDouble, if (i == 3) None else Option(2.0 * i))
    } :+ (("bad-one-row", 1.0, 0.0, Option(3.0)))
    good.unionByName(bad.toDF("store", "price", "promo", "sales"))
  }

  private def printCoefficients(
      gm: GroupedModel[LinearRegressionModel],
      shown: Seq[String]
  ): Unit = {
    val t = "(true)"
    println(f"  ${"store"}%-11s ${"price"}%7s $t%6s ${"promo"}%9s $t%6s ${"intercept"}%11s $t%6s")
    shown.foreach { store =>
      val g = store.stripPrefix("store-").toInt
      val m = gm.model(store)
      println(
        f"  $store%-11s ${m.coefficients(0)}%7.3f ${slope(g)}%6.2f " +
          f"${m.coefficients(1)}%9.3f ${promo(g)}%6.2f ${m.intercept}%11.3f ${base(g)}%6.2f"
      )
    }
  }

  private def printFailures(failed: Seq[Row]): Unit = {
    println(f"  ${"failed store"}%-15s ${"rows"}%5s  ${"planted"}%-13s reason")
    failed.sortBy(_.getAs[String]("store")).foreach { r =>
      val store = r.getAs[String]("store")
      val rows = r.getAs[Number]("rows").longValue
      val planted = badStores.getOrElse(store, "-")
      println(f"  $store%-15s $rows%5d  $planted%-13s ${r.getAs[String]("error")}")
    }
  }

  /**
   * What the generated data imply: every good store trains, its price coefficient within 0.1 of the
   * truth (more than 5 standard errors with 100 rows or more), and the bad stores fail.
   */
  private def check(
      gm: GroupedModel[LinearRegressionModel],
      stores: Int,
      trained: Seq[Row],
      failed: Seq[Row]
  ): Seq[String] = {
    val failedNames = failed.map(_.getAs[String]("store")).toSet
    val far = trained.map(_.getAs[String]("store")).filter { store =>
      math.abs(gm.model(store).coefficients(0) - slope(store.stripPrefix("store-").toInt)) > 0.1
    }
    Seq(
      (trained.length == stores) -> s"${trained.length} of $stores stores trained",
      (failedNames == badStores.keySet) -> s"failed stores ${failedNames.mkString(", ")}",
      failed.forall(r => Option(r.getAs[String]("error")).exists(_.nonEmpty)) ->
        "every failed store says why",
      far.isEmpty -> s"price coefficients far from the truth: ${far.take(5).mkString(", ")}"
    ).collect { case (false, problem) => problem }
  }
}
