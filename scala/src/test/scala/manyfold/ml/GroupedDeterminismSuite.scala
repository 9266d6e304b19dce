package manyfold.ml

import manyfold.SharedSpark
import manyfold.arrow.{ArrowBatches, BatchBuilder, BatchColumn}
import manyfold.jni.NativeCalls
import manyfold.ml.classification.LogisticRegression
import manyfold.ml.regression.LinearRegression
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.{col, rand}
import org.scalatest.funsuite.AnyFunSuite

/**
 * Grouped training groups rows inside each task (no sort): models must be bit-identical whatever
 * the partitioning and row order, and identical to the previous path's, where each group's rows
 * went to the native `trainGroups` in one batch (called directly here, on each group's rows).
 */
class GroupedDeterminismSuite extends AnyFunSuite with SharedSpark {

  // 30 groups of 20 to 77 rows, weighted, a logistic and a linear label; rows of the groups
  // interleaved.
  private val data: Seq[(String, Double, Double, Double, Double, Double, Double)] = {
    val r = new scala.util.Random(11)
    (0 until 30).flatMap { g =>
      (0 until 20 + (g * 37) % 58).map { _ =>
        val (a, b, c) = (r.nextGaussian(), r.nextGaussian(), r.nextGaussian())
        val z = (g % 5 + 1) * a - 0.7 * b + 0.2 * c + 0.5 * r.nextGaussian()
        (f"g$g%02d", a, b, c, if (z > 0.3) 1.0 else 0.0, z, 0.5 + r.nextDouble())
      }
    }
  }

  private lazy val df: DataFrame = {
    val s = spark
    import s.implicits._
    data.toDF("g", "a", "b", "c", "label", "y", "w")
  }

  private def estimators: Seq[(String, NativeEstimator[_])] = Seq(
    "logistic" -> new LogisticRegression()
      .setInputCols("a", "b", "c")
      .setLabelCol("label")
      .setWeightCol("w"),
    "linear" -> new LinearRegression()
      .setInputCols("a", "b", "c")
      .setLabelCol("y")
      .setWeightCol("w")
  )

  /** Each group's rows alone through `trainGroups` (in the data's order): the model bytes. */
  private def reference(est: NativeEstimator[_], label: String): Map[String, Seq[Byte]] =
    data.groupBy(_._1).map { case (g, rows) =>
      val batch = BatchBuilder.training(
        Seq(BatchColumn.label(label), BatchColumn.weight("w")) ++
          BatchColumn.features(Seq("a", "b", "c"))
      )
      val results =
        try {
          rows.foreach { case (_, a, b, c, l, y, w) =>
            val at = batch.addRow(0)
            Seq(if (label == "label") l else y, w, a, b, c).zipWithIndex.foreach { case (v, j) =>
              batch.setDouble(j, at, v)
            }
          }
          val ipc = batch.writeIpc()
          try
            NativeCalls.trainGroups(est.algorithm, est.paramsJson, 1, Long.MaxValue, ipc.byteBuffer)
          finally ipc.close()
        } finally batch.close()
      val r = ArrowBatches.readResults(results, est.metricColumns).head
      assert(r.status == "ok", s"$g: ${r.error}")
      g -> r.model.toSeq
    }

  private def grouped(est: NativeEstimator[_]): Grouped[_] = est match {
    case e: LogisticRegression => Grouped(e)
    case e: LinearRegression => Grouped(e)
  }

  private def fitted(est: NativeEstimator[_], input: DataFrame, partitions: Int) = {
    val model = grouped(est).setGroupCols("g").setNumPartitions(partitions).fit(input)
    model.models
      .select("g", "model")
      .collect()
      .map(r => r.getString(0) -> r.getAs[Array[Byte]](1).toSeq)
      .toMap
  }

  for ((name, est) <- estimators) {
    test(s"$name: bit-identical models across partitionings, row orders and the previous path") {
      val label = est.labelColumn.get
      val expected = reference(est, label)
      assert(expected.size == 30)
      val (opened, closed) = (NativeCalls.openGroupBufferCalls, NativeCalls.closeGroupBufferCalls)
      val inputs = Seq(
        ("repartition(1)", df.repartition(1), 1),
        ("repartition(5)", df.repartition(5), 5),
        ("shuffled rows", df.orderBy(rand(7)).repartition(3), 3),
        ("another shuffle", df.orderBy(rand(8)).coalesce(2), 7)
      )
      for ((what, input, partitions) <- inputs) {
        val got = fitted(est, input, partitions)
        assert(got.keySet == expected.keySet, what)
        for ((g, bytes) <- expected) assert(got(g) == bytes, s"$what, group $g")
      }
      assert(
        NativeCalls.closeGroupBufferCalls - closed == NativeCalls.openGroupBufferCalls - opened
      )
      assert(ArrowBatches.allocator.getAllocatedMemory == 0)
    }
  }

  test("one group fitted alone by the estimator is that group's model of the grouped fit") {
    val (_, est) = estimators.head
    val one = df.where(col("g") === "g07").orderBy(rand(3))
    val single = est.fit(one).asInstanceOf[NativeModel[_]]
    val ofGroup = grouped(est).setGroupCols("g").fit(df).model("g07").asInstanceOf[NativeModel[_]]
    assert(single.modelBytes.toSeq == ofGroup.modelBytes.toSeq)
  }
}
