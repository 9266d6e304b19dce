package manyfold.ml

import manyfold.SharedSpark
import manyfold.arrow.ArrowBatches
import manyfold.jni.{NativeApi, NativeCalls}
import manyfold.ml.regression.{
  GeneralizedLinearRegression,
  GeneralizedLinearRegressionModel,
  LinearRegression
}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.sql.functions.rand
import org.apache.spark.sql.types.{DoubleType, StringType}
import org.apache.spark.unsafe.types.UTF8String
import org.scalatest.funsuite.AnyFunSuite

/**
 * Linear regression and the gaussian identity GLM from sufficient statistics (StatsTraining)
 * against the row path (`spark.manyfold.sufficientStats=off`) on the same grouped data.
 */
class StatsTrainingSuite extends AnyFunSuite with SharedSpark {

  private def frame(): DataFrame = {
    val rng = new scala.util.Random(17)
    val rows = for {
      g <- 0 until 30
      i <- 0 until 40
    } yield {
      val x0 = 1e6 + rng.nextGaussian()
      val x1 = rng.nextGaussian() * 3
      val x2 = rng.nextDouble()
      var y = 2.0 + 0.5 * g + 1.5 * (x0 - 1e6) - 0.25 * x1 + x2 + 0.1 * rng.nextGaussian()
      var feature: java.lang.Double = x1
      // Bad groups: a NaN label (group 3), a null feature (group 4).
      if (g == 3 && i == 5) y = Double.NaN
      if (g == 4 && i == 7) feature = null
      (s"g$g", x0, feature, x2, y, 0.5 + rng.nextDouble())
    }
    // Too few rows for OLS (group "tiny": 2 rows, 3 features and an intercept).
    val tiny = Seq(
      ("tiny", 1.0, java.lang.Double.valueOf(2.0), 3.0, 1.0, 1.0),
      ("tiny", 2.0, java.lang.Double.valueOf(1.0), 0.0, 2.0, 1.0)
    )
    spark.createDataFrame(rows ++ tiny).toDF("g", "x0", "x1", "x2", "y", "w").repartition(4)
  }

  private def estimator(reg: Double, weighted: Boolean, glm: Boolean = false): Grouped[_] =
    if (glm) {
      val est = new GeneralizedLinearRegression().setRegParam(reg).setInputCols("x0", "x1", "x2")
      if (weighted) est.setWeightCol("w")
      Grouped(est.setLabelCol("y")).setGroupCols("g")
    } else {
      val est = new LinearRegression().setRegParam(reg).setInputCols("x0", "x1", "x2")
      if (weighted) est.setWeightCol("w")
      Grouped(est.setLabelCol("y")).setGroupCols("g")
    }

  /**
   * The models table with the statistics path `mode` (`auto` or `off`) and its `minRows` (default
   * 1: every group from statistics; "" for the library's default).
   */
  private def fitTable(
      df: DataFrame,
      reg: Double,
      weighted: Boolean,
      mode: String,
      glm: Boolean = false,
      minRows: String = "1"
  ): Array[Row] = {
    val confs = Seq(StatsTraining.ConfKey -> mode, StatsTraining.MinRowsKey -> minRows)
    val before = confs.map { case (k, _) => k -> spark.conf.getOption(k) }
    confs.foreach { case (k, v) => if (v.isEmpty) spark.conf.unset(k) else spark.conf.set(k, v) }
    try estimator(reg, weighted, glm).fit(df).models.orderBy("g").collect()
    finally before.foreach { case (k, v) => v.fold(spark.conf.unset(k))(spark.conf.set(k, _)) }
  }

  private def modelBytes(table: Array[Row]): Seq[(String, Seq[Byte])] =
    table
      .map(r => r.getString(0) -> Option(r.getAs[Array[Byte]]("model")).map(_.toSeq).getOrElse(Nil))
      .toSeq

  /** Coefficients, intercept, iterations and convergence of a model's bytes. */
  private def coefficients(bytes: Array[Byte], glm: Boolean): Array[Double] =
    if (glm) {
      val m = GeneralizedLinearRegressionModel.fromBytes(bytes)
      m.coefficients.toArray ++ Array(m.intercept, m.numIterations, if (m.converged) 1 else 0)
    } else {
      val m = new LinearRegression().modelOf(bytes)
      m.coefficients.toArray :+ m.intercept
    }

  private def sameTables(stats: Array[Row], rows: Array[Row], glm: Boolean): Unit = {
    assert(stats.map(_.getString(0)).toSeq == rows.map(_.getString(0)).toSeq)
    for ((s, r) <- stats.zip(rows)) {
      val key = s.getString(0)
      for (c <- Seq("status", "error")) {
        assert(s.getAs[String](c) == r.getAs[String](c), s"$key $c")
      }
      assert(s.getAs[Long]("rows") == r.getAs[Long]("rows"), key)
      if (s.getAs[String]("status") == "ok") {
        coefficients(s.getAs[Array[Byte]]("model"), glm)
          .zip(coefficients(r.getAs[Array[Byte]]("model"), glm))
          .foreach { case (a, b) =>
            assert(math.abs(a - b) <= 1e-9 * math.abs(b), s"$key: $a vs $b")
          }
        // A perfect fit's rmse is rounding noise (about 1e-11 for the two-row group): 1e-9 on
        // top of the relative 1e-6.
        for (m <- Seq("rmse", "r2")) {
          val (a, b) = (s.getAs[Double](m), r.getAs[Double](m))
          assert(math.abs(a - b) <= 1e-6 * math.abs(b) + 1e-9, s"$key $m: $a vs $b")
        }
      }
    }
  }

  for ((reg, weighted) <- Seq((0.0, false), (0.0, true), (0.3, true))) {
    test(s"regParam $reg, weighted $weighted: the statistics path fits as the row path") {
      val df = frame().cache()
      val callsBefore = NativeCalls.accumulateStatsCalls
      val stats = fitTable(df, reg, weighted, "auto")
      assert(NativeCalls.accumulateStatsCalls > callsBefore, "the statistics path was not taken")
      val trainsBefore = NativeCalls.trainGroupsCalls
      val rows = fitTable(df, reg, weighted, "off")
      assert(NativeCalls.trainGroupsCalls > trainsBefore)
      sameTables(stats, rows, glm = false)
      val errors = stats.map(r => r.getString(0) -> r.getAs[String]("error")).toMap
      assert(errors("g3") == "column 'y' has a NaN value")
      assert(errors("g4") == "column 'x1' has a null value")
      // A penalty makes two rows enough.
      assert(reg > 0 || errors("tiny").contains("needs at least 4 rows, got 2"))
      df.unpersist()
    }
  }

  for ((reg, weighted) <- Seq((0.0, true), (0.2, false))) {
    test(s"GLM gaussian identity, regParam $reg, weighted $weighted: fits as the row path") {
      val df = frame().cache()
      val callsBefore = NativeCalls.accumulateStatsCalls
      val stats = fitTable(df, reg, weighted, "auto", glm = true)
      assert(NativeCalls.accumulateStatsCalls > callsBefore, "the statistics path was not taken")
      val rows = fitTable(df, reg, weighted, "off", glm = true)
      sameTables(stats, rows, glm = true)
      val errors = stats.map(r => r.getString(0) -> r.getAs[String]("error")).toMap
      assert(errors("g3") == "column 'y' has a NaN value")
      assert(errors("g4") == "column 'x1' has a null value")
      // The GLM has no minimum row count: two rows fit.
      assert(errors("tiny") == null)
      df.unpersist()
    }
  }

  test("model bytes are bit-identical across partitionings and row orders") {
    val df = frame().cache()
    def bytes(d: DataFrame): Seq[(String, Seq[Byte])] =
      modelBytes(fitTable(d, 0.1, weighted = true, "auto"))
    val one = bytes(df.repartition(1))
    assert(one == bytes(df.repartition(7)))
    assert(one == bytes(df.orderBy(rand(5)).repartition(3)))
    def glmBytes(d: DataFrame): Seq[(String, Seq[Byte])] =
      modelBytes(fitTable(d, 0.0, weighted = true, "auto", glm = true))
    val glmOne = glmBytes(df.repartition(1))
    assert(glmOne.count(_._2.nonEmpty) == 29)
    assert(glmOne == glmBytes(df.repartition(5)))
    assert(glmOne == glmBytes(df.orderBy(rand(9)).repartition(2)))
    df.unpersist()
  }

  test("by default the path is on, and groups under minRows are fitted as the row path") {
    assert(spark.conf.getOption(StatsTraining.ConfKey).isEmpty)
    assert(
      StatsTraining.enabled(frame(), estimator(0.0, false).estimator, GroupedTraining.Extras())
    )
    val df = frame().cache()
    val rows = modelBytes(fitTable(df, 0.1, weighted = true, "off"))
    val stats = modelBytes(fitTable(df, 0.1, weighted = true, "auto"))
    // 40 rows a group, under the default minRows at 3 features (90): every group is fitted from
    // its rows, bit for bit as the row path, though the statistics path ran.
    val callsBefore = NativeCalls.solveStatsCalls
    assert(modelBytes(fitTable(df, 0.1, weighted = true, "auto", minRows = "")) == rows)
    assert(NativeCalls.solveStatsCalls > callsBefore, "the statistics path was not taken")
    assert(StatsTraining.defaultMinRows(3) == 90)
    assert(stats.zip(rows).exists { case (a, b) => a != b }, "statistics round as the row path")
    // minRows 30: the 40-row groups are solved from statistics, the 2-row one from its rows, and
    // the bytes do not depend on whether a map task held 30 rows of a group.
    def hybrid(d: DataFrame) = modelBytes(fitTable(d, 0.1, weighted = true, "auto", minRows = "30"))
    val mixed = hybrid(df.repartition(1))
    assert(mixed == stats.filter(_._1 != "tiny") ++ rows.filter(_._1 == "tiny"))
    assert(mixed == hybrid(df.repartition(6)))
    assert(mixed == hybrid(df.orderBy(rand(3)).repartition(2)))
    df.unpersist()
  }

  test("a map task passes rows on early, or cuts small batches: same fits") {
    val plan = GroupedSuite.linearPlan(maxRowsPerGroup = 1000, batchRows = 64)
    // Groups of 3, 12, 40, 15 and 20 rows, interleaved; minRows 10.
    val sizes = Seq(3, 12, 40, 15, 20)
    val rows = (0 until 40).flatMap { i =>
      sizes.zipWithIndex.collect {
        case (n, g) if i < n =>
          InternalRow(UTF8String.fromString(s"g$g"), 2.0 * i + g + 0.01 * (i * i % 7), i.toDouble)
      }
    }
    def fit(
        keptLimit: Int,
        probeRows: Long = 0,
        minRows: Long = 10,
        statsRows: Int = 0
    ): (Long, Int, Map[String, Seq[Byte]]) = {
      val types = Seq(StringType, DoubleType, DoubleType)
      val out = GroupShuffle
        .mapSide(plan, types, Left(rows.iterator), 1, minRows, keptLimit, probeRows, statsRows)
        .map(_._2)
        .toList
      val (stats, plain) = out.partition(GroupShuffle.isPartial)
      // Rows that crossed as rows, by the records' key tables.
      var crossed = 0L
      val view = new UnsafeRow(1)
      plain.foreach(r => GroupShuffle.forEachGroup(r, view)((_, n) => crossed += n))
      val trained =
        GroupedTraining.trainPartition(plan, out.iterator, statsMinRows = minRows).toSeq
      // Partials before the rows (more groups with partials only than rows: their ids must not
      // be taken before the rows'): the same outcomes.
      val reordered =
        GroupedTraining.trainPartition(plan, (stats ++ plain).iterator, minRows).toSeq
      assert(
        reordered.map(t => t.key.getString(0) -> t.result.model.toSeq).toMap ==
          trained.map(t => t.key.getString(0) -> t.result.model.toSeq).toMap
      )
      assert(trained.forall(_.result.status == "ok"))
      assert(trained.map(_.result.rows).sorted == sizes.map(_.toLong).sorted)
      (crossed, stats.length, trained.map(t => t.key.getString(0) -> t.result.model.toSeq).toMap)
    }
    // No limit reached: the 3-row group's rows cross as rows, the others as one partial each.
    val (rowsWhole, partialsWhole, whole) = fit(StatsTraining.KeptRowsLimit)
    assert((rowsWhole, partialsWhole) == ((3L, 4)))
    // A limit of 4 kept rows: rows pass on before groups reach minRows, so more cross as rows;
    // the models are the same bytes.
    val (rowsEarly, partialsEarly, early) = fit(4)
    assert(rowsEarly > 3 && partialsEarly >= 1)
    assert(early == whole)
    // Training batches of 7 rows: a group gets a partial per batch it has rows in; the models are
    // the same bytes (the partials are exact, so their number does not matter).
    val (rowsSmall, partialsSmall, small) = fit(StatsTraining.KeptRowsLimit, statsRows = 7)
    assert(rowsSmall == 3 && partialsSmall > 4)
    assert(small == whole)
    // minRows 40: after 3 rows of 3 groups (3 x 16 < 3 x 40), none reduced, the task passes every
    // later row through; every row crosses once, as a row, and the fits are those of the kept path
    // (the 40-row group from statistics of its rows).
    val (rowsPassed, partialsPassed, passed) = fit(StatsTraining.KeptRowsLimit, 3, 40)
    assert((rowsPassed, partialsPassed) == ((90L, 0)))
    val (rowsKept, partialsKept, kept) = fit(StatsTraining.KeptRowsLimit, minRows = 40)
    assert((rowsKept, partialsKept) == ((50L, 1)))
    assert(passed == kept)
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("a task waits 4 minRows before it may pass rows through: a large group is reduced") {
    val plan = GroupedSuite.linearPlan(maxRowsPerGroup = 1L << 20, batchRows = 1024)
    val types = Seq(StringType, DoubleType, DoubleType)
    // minRows above ProbeRows (as for many features): no row is reduced by ProbeRows rows.
    val minRows = StatsTraining.ProbeRows + 1
    val n = 5 * minRows
    def crossed(probeRows: Long): (Long, Int) = {
      val rows = Iterator
        .range(0, n.toInt)
        .map(i => InternalRow(UTF8String.fromString("big"), 0.5 * i, (i % 7).toDouble))
      val out = GroupShuffle.mapSide(plan, types, Left(rows), 1, minRows, probeRows = probeRows)
      val (stats, plain) = out.map(_._2).toList.partition(GroupShuffle.isPartial)
      var rowsCrossed = 0L
      val view = new UnsafeRow(1)
      plain.foreach(r => GroupShuffle.forEachGroup(r, view)((_, m) => rowsCrossed += m))
      (rowsCrossed, stats.length)
    }
    assert(StatsTraining.probeRows(minRows) == 4 * minRows)
    val (rows, partials) = crossed(0)
    assert(rows == 0 && partials > 0)
    // Deciding at ProbeRows, nothing reduced yet, keeps the rows too: they are all of one group.
    assert(crossed(StatsTraining.ProbeRows) == ((0L, partials)))
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("at the probe, groups that come in runs pass through; groups spread out are kept") {
    val plan = GroupedSuite.linearPlan(maxRowsPerGroup = 10000, batchRows = 1024)
    val types = Seq(StringType, DoubleType, DoubleType)
    // Rows crossed as rows, and partials, for groups given as (name, rows) in this row order.
    def crossed(order: Seq[String]): (Long, Int) = {
      val rows = order.zipWithIndex.map { case (g, i) =>
        InternalRow(UTF8String.fromString(g), 0.5 * i + g.length, (i % 7).toDouble)
      }
      val out = GroupShuffle.mapSide(plan, types, Left(rows.iterator), 1, 40, probeRows = 100)
      val (stats, plain) = out.map(_._2).toList.partition(GroupShuffle.isPartial)
      var n = 0L
      val view = new UnsafeRow(1)
      plain.foreach(r => GroupShuffle.forEachGroup(r, view)((_, m) => n += m))
      (n, stats.length)
    }
    // Runs of 30 rows of 20 groups, then a group of 200: at row 100 nothing was reduced and the
    // rows after row 50 are mostly of new groups, so the task passes every later row through; the
    // large group too crosses as rows.
    val runs = (0 until 20).flatMap(g => Seq.fill(30)(s"run$g")) ++ Seq.fill(200)("large")
    assert(crossed(runs) == ((800L, 0)))
    // 5 groups of 200 rows, interleaved: at row 100 nothing was reduced either, but every row
    // after row 50 is of a group seen before; rows are kept, and each group reaches minRows.
    val spread = (0 until 200).flatMap(_ => (0 until 5).map(g => s"spread$g"))
    val (rows, partials) = crossed(spread)
    assert(rows == 0 && partials >= 5)
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("kept rows come back by group, in order, across chunks, after take and clear") {
    val project = Schemas.projection(Seq(StringType, DoubleType))
    def row(g: Int, i: Int) = project(InternalRow(UTF8String.fromString("x" * (i % 9)), i + 0.5))
    // 48-byte chunks: rows of 24 or 32 bytes, one per chunk, so every row starts a chunk.
    val kept = new StatsTraining.KeptRows(2, chunkBytes = 48)
    def contents(it: Iterator[UnsafeRow]) =
      it.map(r => (r.getUTF8String(0).toString, r.getDouble(1))).toList
    for (round <- 0 until 2) {
      val added = (0 until 30).map(i => (i % 4, row(i % 4, i + round)))
      added.foreach { case (g, r) => kept.add(g, r) }
      assert(kept.size == 30)
      val taken = scala.collection.mutable.ArrayBuffer.empty[(String, Double)]
      kept.take(2)(r => taken += ((r.getUTF8String(0).toString, r.getDouble(1))))
      val byGroup = added.groupBy(_._1).map { case (g, rs) => g -> contents(rs.map(_._2).iterator) }
      assert(taken.toList == byGroup(2))
      def all = {
        val rows = scala.collection.mutable.ArrayBuffer.empty[(Int, (String, Double))]
        kept.foreach((g, r) => rows += ((g, (r.getUTF8String(0).toString, r.getDouble(1)))))
        rows.toList
      }
      assert(all == Seq(0, 1, 3).flatMap(g => byGroup(g).map((g, _))))
      kept.clear()
      assert(kept.size == 0 && all.isEmpty)
    }
  }

  test("solveGroupBuffer refuses a minRows under 1 and corrupt partials by name") {
    val api = NativeApi.get
    def withBuffer(body: Long => Unit): Unit = {
      val handle = api.openGroupBuffer(100)
      try body(handle)
      finally api.closeGroupBuffer(handle)
    }
    def solve(handle: Long, minRows: Long, partials: StatsTraining.Partials): Array[Byte] = {
      val ipc = partials.writeIpc(new GroupedTraining.GroupIds)
      try api.solveGroupBuffer(handle, "linear", "{}", 1, minRows, ipc.byteBuffer)
      finally ipc.close()
    }
    withBuffer { h =>
      val e = intercept[IllegalArgumentException](solve(h, 0, new StatsTraining.Partials))
      assert(e.getMessage.contains("minRows") && e.getMessage.contains("got 0"))
    }
    withBuffer { h =>
      val corrupt = new StatsTraining.Partials
      val key = Schemas.projection(Seq(StringType))(InternalRow(UTF8String.fromString("g"))).copy()
      corrupt.add(key, "MNFS not statistics".getBytes("UTF-8"))
      val e = intercept[Exception](solve(h, 10, corrupt))
      assert(e.getMessage.contains("invalid sufficient statistics"), e.getMessage)
    }
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test(
    "searches, an L1 part, other GLMs and an unknown mode keep to the row path or fail by name"
  ) {
    val lasso = new LinearRegression().setRegParam(0.1).setElasticNetParam(1.0)
    assert(!StatsTraining.applies(lasso, GroupedTraining.Extras()))
    assert(StatsTraining.applies(new LinearRegression(), GroupedTraining.Extras()))
    val gaussian = new GeneralizedLinearRegression()
    assert(StatsTraining.applies(gaussian, GroupedTraining.Extras()))
    assert(
      !StatsTraining.applies(gaussian.copy(ParamMap.empty).setLink("log"), GroupedTraining.Extras())
    )
    val poisson = new GeneralizedLinearRegression().setFamily("poisson")
    assert(!StatsTraining.applies(poisson, GroupedTraining.Extras()))
    spark.conf.set(StatsTraining.ConfKey, "sometimes")
    try {
      val e =
        intercept[IllegalArgumentException](fitTable(frame(), 0.0, weighted = false, "sometimes"))
      assert(e.getMessage.contains(StatsTraining.ConfKey))
    } finally spark.conf.unset(StatsTraining.ConfKey)
    for (bad <- Seq("-1", "many", "1.5")) {
      val e = intercept[IllegalArgumentException](
        fitTable(frame(), 0.0, weighted = false, "auto", minRows = bad)
      )
      assert(e.getMessage.contains(s"${StatsTraining.MinRowsKey} must be an integer >= 0"), bad)
      assert(e.getMessage.contains(s"'$bad'"))
    }
  }
}
