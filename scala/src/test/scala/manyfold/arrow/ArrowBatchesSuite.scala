package manyfold.arrow

import java.io.ByteArrayOutputStream
import java.nio.channels.Channels
import java.nio.charset.StandardCharsets

import scala.collection.JavaConverters._

import manyfold.DirectBuffers.direct
import manyfold.SharedSpark
import manyfold.jni.NativeApi
import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector._
import org.apache.arrow.vector.complex.ListVector
import org.apache.arrow.vector.ipc.ArrowStreamWriter
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, FieldType}
import org.apache.spark.ml.linalg.{SQLDataTypes, Vectors}
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.execution.vectorized.OnHeapColumnVector
import org.apache.spark.sql.types._
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite
import org.apache.spark.sql.manyfold.{ReadOnlyColumn, SparkShim}

class ArrowBatchesSuite extends AnyFunSuite with SharedSpark with BeforeAndAfterAll {

  /** The vectors as one IPC stream, written the way Arrow Java writes it; frees them and `a`. */
  private def streamOf(vectors: Seq[FieldVector], a: BufferAllocator): Array[Byte] = {
    val root = new VectorSchemaRoot(vectors.asJava)
    val out = new ByteArrayOutputStream()
    val w = new ArrowStreamWriter(root, null, Channels.newChannel(out))
    w.start(); w.writeBatch(); w.end(); w.close()
    root.close()
    a.close()
    out.toByteArray
  }

  /** The columns of an IPC stream: name, Arrow type and values (null for null). */
  /** The roles of the columns of the last batch read back. */
  private var roles = Seq.empty[String]

  private def readBack(bytes: Array[Byte]): Seq[(String, ArrowType, Seq[Any])] = {
    var out = Seq.empty[(String, ArrowType, Seq[Any])]
    ArrowBatches.forEachBatch(bytes) { root =>
      roles = root.getSchema.getFields.asScala.toSeq.map(_.getMetadata.get(BatchColumn.RoleKey))
      out = root.getFieldVectors.asScala.toSeq.map { v =>
        (v.getName, v.getField.getType, (0 until root.getRowCount).map(i => v.getObject(i)))
      }
    }
    out
  }

  private def internalRows(df: DataFrame): Array[InternalRow] =
    SparkShim.queryExecution(df).toRdd.map(_.copy()).collect()

  override def afterAll(): Unit = {
    assert(ArrowBatches.allocator.getAllocatedMemory == 0, "an Arrow buffer leaked")
    super.afterAll()
  }

  test("BatchBuilder writes an index column and nullable Float64 columns") {
    val b =
      BatchBuilder.training(Seq(BatchColumn.label("y"), BatchColumn("x0", BatchColumn.Feature)))
    try {
      val r0 = b.addRow(0)
      b.setDouble(0, r0, 1.5)
      b.setNull(1, r0)
      val r1 = b.addRow(1)
      b.setDouble(0, r1, -2.0)
      b.setDouble(1, r1, 3.0)
      val cols = readBack(b.toIpc())
      assert(cols.map(_._1) == Seq("group", "y", "x0"))
      assert(roles == Seq("group", "label", "feature"))
      assert(cols(0)._2 == new ArrowType.Int(32, true))
      assert(cols(1)._2 == new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))
      assert(cols.map(_._3) == Seq(Seq(0, 1), Seq(1.5, -2.0), Seq(null, 3.0)))
    } finally b.close()
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("truncate drops rows, later rows overwrite them, clear starts over") {
    val b = BatchBuilder.prediction(Seq("x"))
    try {
      (0 until 5).foreach(i => b.setDouble(0, b.addRow(i), i.toDouble))
      b.truncate(2)
      b.setNull(0, b.addRowWithNullIndex())
      assert(readBack(b.toIpc()).map(_._3) == Seq(Seq(0, 1, null), Seq(0.0, 1.0, null)))
      assert(roles == Seq("model", "feature"))
      b.clear()
      b.setDouble(0, b.addRow(7), 7.0)
      assert(readBack(b.toIpc()).map(_._3) == Seq(Seq(7), Seq(7.0)))
      intercept[IllegalArgumentException](b.truncate(5))
    } finally b.close()
  }

  test("setDoubles writes a column in one copy, over a cleared batch's old nulls") {
    val b = BatchBuilder.prediction(Seq("x", "z"))
    try {
      // 19 rows: two full validity bytes and three bits; old nulls must not survive a clear.
      (0 until 19).foreach(i => b.setNull(0, b.addRow(i)))
      b.clear()
      (0 until 19).foreach(b.addRow)
      val values = Array.tabulate(19)(i => i * 0.5)
      b.setDoubles(0, values)
      b.setDoubles(1, values.map(-_))
      b.setNull(1, 8)
      b.setNull(1, 18)
      val cols = readBack(b.toIpc()).map(_._3)
      assert(cols(1) == values.toSeq)
      assert(cols(2) == values.toSeq.map(-_).updated(8, null).updated(18, null))
      intercept[IndexOutOfBoundsException](b.setDoubles(0, new Array[Double](20)))
    } finally b.close()
  }

  test("addRows and copyColumn fill rows in bulk, in a given order, nulls and bit edges included") {
    val b =
      BatchBuilder.training(Seq(BatchColumn.label("y"), BatchColumn("x", BatchColumn.Feature)))
    // Source columns of 30 rows: y without nulls, x null at every fifth row; read in reverse.
    val y = new OnHeapColumnVector(30, DoubleType)
    val x = new OnHeapColumnVector(30, IntegerType)
    try {
      (0 until 30).foreach { i =>
        y.putDouble(i, i + 0.25)
        if (i % 5 == 0) x.putNull(i) else x.putInt(i, -i)
      }
      val asDouble = new ReadOnlyColumn(DoubleType) {
        override def hasNull: Boolean = x.hasNull
        override def numNulls: Int = x.numNulls
        override def isNullAt(r: Int): Boolean = x.isNullAt(r)
        override def getDouble(r: Int): Double = x.getInt(r).toDouble
      }
      val order = Array.tabulate(30)(29 - _)
      // 3 rows one by one (a start that is not byte-aligned), then 13 + 14 in bulk.
      (0 until 3).foreach(i => b.setDouble(1, b.addRow(100 + i), 0.5))
      (0 until 3).foreach(i => b.setDouble(0, i, 0.5))
      val numbers = Array.tabulate(30)(i => i % 4)
      val first = b.addRows(numbers, 13)
      assert(first == 3 && b.numRows == 16)
      b.copyColumn(0, first, y, order, 0, 13)
      b.copyColumn(1, first, asDouble, order, 0, 13)
      val second = b.addRows(numbers.drop(13), 14)
      b.copyColumn(0, second, y, order, 13, 14)
      b.copyColumn(1, second, asDouble, order, 13, 14)
      val cols = readBack(b.toIpc()).map(_._3)
      assert(cols(0) == Seq(100, 101, 102) ++ numbers.take(13) ++ numbers.drop(13).take(14))
      assert(cols(1) == Seq(0.5, 0.5, 0.5) ++ order.take(27).map(_ + 0.25))
      assert(
        cols(2) == Seq(0.5, 0.5, 0.5) ++
          order.take(27).map(i => if (i % 5 == 0) null else -i.toDouble)
      )
      intercept[IndexOutOfBoundsException](b.copyColumn(0, 20, y, order, 0, 11))
      intercept[IllegalArgumentException](b.addRows(numbers, 31))
      // Written straight into a heap array at an offset: the bytes of writeIpc; no room refused.
      val bytes = b.toIpc()
      var into: Array[Byte] = null
      b.writeIpcInto { size => into = new Array[Byte](size.toInt + 5); (into, 5) }
      assert(into.drop(5).sameElements(bytes) && into.take(5).forall(_ == 0))
      intercept[IllegalArgumentException](b.writeIpcInto(size => (new Array[Byte](size.toInt), 1)))
    } finally {
      b.close()
      y.close()
      x.close()
    }
  }

  test("expectRows: past its first allocation a batch grows at once, its rows and nulls kept") {
    val b =
      BatchBuilder.training(Seq(BatchColumn.label("y"), BatchColumn("x", BatchColumn.Feature)))
    try {
      b.expectRows(50000)
      def add(i: Int): Unit = {
        val at = b.addRow(i % 7)
        b.setDouble(0, at, i + 0.5)
        if (i % 3 == 0) b.setNull(1, at) else b.setDouble(1, at, -i.toDouble)
      }
      add(0)
      // The first allocation: InitialRows, as Arrow rounds its buffers up.
      val first = b.rowCapacity
      assert(first >= BatchBuilder.InitialRows && first < 2 * BatchBuilder.InitialRows)
      (1 until first).foreach(add)
      assert(b.rowCapacity == first)
      add(first) // one row past the first allocation: room for the expected rows at once
      assert(b.rowCapacity >= 50000 && b.rowCapacity < 2 * 50000)
      val grown = b.rowCapacity
      // Past the expected rows, in bulk: doubling as before.
      val more = grown - first - 1 + 10
      val at = b.addRows(Array.tabulate(more)(i => (first + 1 + i) % 7), more)
      (0 until more).foreach(r => b.setDouble(0, at + r, at + r + 0.5))
      (0 until more).foreach(r => b.setNull(1, at + r))
      assert(b.rowCapacity >= 2 * grown)
      val n = first + 1 + more
      val cols = readBack(b.toIpc()).map(_._3)
      assert(cols(0) == (0 until n).map(_ % 7))
      assert(cols(1) == (0 until n).map(_ + 0.5))
      assert(cols(2) == (0 until n).map(i => if (i % 3 == 0 || i > first) null else -i.toDouble))
    } finally b.close()
    assert(ArrowBatches.allocator.getAllocatedMemory == 0)
  }

  test("every numeric type, decimal included, reaches Arrow as float64; nulls stay null") {
    val schema = StructType(
      Seq(
        StructField("b", ByteType),
        StructField("s", ShortType),
        StructField("i", IntegerType),
        StructField("l", LongType),
        StructField("f", FloatType),
        StructField("d", DoubleType),
        StructField("dec", DecimalType(12, 3))
      )
    )
    val rows = Seq(
      Row(1.toByte, 2.toShort, 3, 4L, 5.5f, 6.25, new java.math.BigDecimal("123456789.125")),
      Row(null, null, null, null, null, null, null),
      Row(
        -128.toByte,
        Short.MinValue,
        Int.MaxValue,
        Long.MaxValue,
        Float.NaN,
        Double.NegativeInfinity,
        new java.math.BigDecimal("-0.001")
      )
    )
    val df = spark.createDataFrame(rows.asJava, schema)
    val names = schema.fieldNames.toSeq
    val selected = df.select(names.map(c => col(c).cast(DoubleType)): _*)
    val layout = FeatureLayout.columns(names)
    val b = BatchBuilder.prediction(layout.names)
    try {
      internalRows(selected).foreach { r =>
        ArrowBatches.writeFeatures(r, 0, layout, b, 0, b.addRow(0))
      }
      val cols = readBack(b.toIpc()).drop(1)
      assert(cols.map(_._1) == names)
      val byRow = cols.map(_._3).transpose
      assert(byRow(0) == Seq(1.0, 2.0, 3.0, 4.0, 5.5, 6.25, 123456789.125))
      assert(byRow(1).forall(_ == null))
      val last = byRow(2).map(_.asInstanceOf[Double])
      assert(
        last.take(4) == Seq(
          -128.0,
          Short.MinValue.toDouble,
          Int.MaxValue.toDouble,
          Long.MaxValue.toDouble
        )
      )
      assert(last(4).isNaN && last(5) == Double.NegativeInfinity && last(6) == -0.001)
    } finally b.close()
  }

  private val vectorRows = Seq(
    Row(Vectors.dense(1.0, 2.0, 3.0)),
    Row(Vectors.sparse(3, Array(1), Array(-4.0))),
    Row(null),
    Row(Vectors.sparse(3, Array.empty[Int], Array.empty[Double]))
  )
  private val vectorExpected = Seq(
    Seq(1.0, 2.0, 3.0),
    Seq(0.0, -4.0, 0.0),
    Seq(null, null, null),
    Seq(0.0, 0.0, 0.0)
  )

  private def vectorFrame(rows: Seq[Row]): DataFrame = spark.createDataFrame(
    rows.asJava,
    StructType(Seq(StructField("features", SQLDataTypes.VectorType)))
  )

  test("a Vector column, dense, sparse and null, expands to features[0..p-1] (internal rows)") {
    val layout = FeatureLayout.vector("features", 3)
    val b = BatchBuilder.prediction(layout.names)
    try {
      internalRows(vectorFrame(vectorRows)).foreach { r =>
        ArrowBatches.writeFeatures(r, 0, layout, b, 0, b.addRow(0))
      }
      val cols = readBack(b.toIpc()).drop(1)
      assert(cols.map(_._1) == Seq("features[0]", "features[1]", "features[2]"))
      assert(cols.map(_._3).transpose == vectorExpected)
    } finally b.close()
  }

  test("a Vector column expands the same from external rows") {
    val layout = FeatureLayout.vector("features", 3)
    val b = BatchBuilder.prediction(layout.names)
    try {
      vectorRows.foreach(r => ArrowBatches.writeFeatures(r, 0, layout, b, 0, b.addRow(0)))
      assert(readBack(b.toIpc()).drop(1).map(_._3).transpose == vectorExpected)
    } finally b.close()
  }

  test("a vector of another size is an IllegalArgumentException naming the column and sizes") {
    val layout = FeatureLayout.vector("features", 3)
    val b = BatchBuilder.prediction(layout.names)
    try {
      val bad = Seq(Row(Vectors.dense(1.0, 2.0)), Row(Vectors.sparse(4, Array(0), Array(1.0))))
      for (r <- internalRows(vectorFrame(bad)) ++ Nil) {
        val e = intercept[IllegalArgumentException](
          ArrowBatches.writeFeatures(r, 0, layout, b, 0, b.addRow(0))
        )
        assert(e.getMessage.contains("'features'") && e.getMessage.contains("3"), e.getMessage)
      }
      val e = intercept[IllegalArgumentException](
        ArrowBatches.writeFeatures(bad(0), 0, layout, b, 0, b.addRow(0))
      )
      assert(e.getMessage.contains("3") && e.getMessage.contains("2"), e.getMessage)
    } finally b.close()
  }

  test("readResults reads a results batch, nulls included") {
    val bytes = {
      val a = ArrowBatches.allocator.newChildAllocator("test", 0, Long.MaxValue)
      val group = new IntVector("group", a)
      val status = new VarCharVector("status", a)
      val error = new VarCharVector("error", a)
      val model = new VarBinaryVector("model", a)
      val rows = new BigIntVector("rows", a)
      val ms = new Float8Vector("train_ms", a)
      val converged = new BitVector("converged", a)
      val iterations = new IntVector("iterations", a)
      val rmse = new Float8Vector("rmse", a)
      val r2 = new Float8Vector("r2", a)
      val vectors =
        Seq[FieldVector](group, status, error, model, rows, ms, converged, iterations, rmse, r2)
      vectors.foreach(_.allocateNew())
      group.setSafe(0, 0); group.setSafe(1, 1)
      status.setSafe(0, "ok".getBytes); status.setSafe(1, "failed".getBytes)
      error.setNull(0);
      error.setSafe(1, "label column 'y' has a NaN".getBytes(StandardCharsets.UTF_8))
      model.setSafe(0, Array[Byte](9, 8, 7)); model.setNull(1)
      rows.setSafe(0, 10L); rows.setSafe(1, 3L)
      ms.setSafe(0, 1.5); ms.setSafe(1, 0.25)
      converged.setSafe(0, 0); converged.setNull(1)
      iterations.setSafe(0, 100); iterations.setNull(1)
      rmse.setSafe(0, 0.1); rmse.setNull(1)
      r2.setSafe(0, 0.9); r2.setNull(1)
      vectors.foreach(_.setValueCount(2))
      streamOf(vectors, a)
    }
    val results = ArrowBatches.readResults(bytes, Seq("rmse", "r2"))
    assert(results.length == 2)
    val ok = results(0)
    assert(
      ok.group == 0 && ok.status == "ok" && ok.error == null && ok.model.toSeq == Seq[Byte](9, 8, 7)
    )
    assert(ok.rows == 10L && ok.trainMillis == 1.5 && ok.metrics == Seq(Some(0.1), Some(0.9)))
    assert(ok.converged == Some(false) && ok.iterations == Some(100))
    val failed = results(1)
    assert(
      failed.status == "failed" && failed.error == "label column 'y' has a NaN" && failed.model == null
    )
    assert(failed.metrics == Seq(None, None) && failed.converged.isEmpty)
  }

  test("readPredictions reads predictions with list columns, nulls included") {
    val bytes = {
      val a = ArrowBatches.allocator.newChildAllocator("test", 0, Long.MaxValue)
      val prediction = new Float8Vector("prediction", a)
      val f64 = FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))
      def list(name: String): ListVector = {
        val l = ListVector.empty(name, a)
        l.addOrGetVector[Float8Vector](f64)
        l
      }
      val raw = list("raw_prediction")
      val prob = list("probability")
      prediction.allocateNew(); raw.allocateNew(); prob.allocateNew()
      prediction.setSafe(0, 1.0); prediction.setNull(1)
      def fill(l: ListVector, values: Seq[Double]): Unit = {
        val data = l.getDataVector.asInstanceOf[Float8Vector]
        l.startNewValue(0)
        values.zipWithIndex.foreach { case (v, i) => data.setSafe(i, v) }
        l.endValue(0, values.length)
        l.setNull(1)
        data.setValueCount(values.length)
        l.setValueCount(2)
      }
      fill(raw, Seq(-0.5, 0.5)); fill(prob, Seq(0.25, 0.75))
      prediction.setValueCount(2)
      streamOf(Seq[FieldVector](prediction, raw, prob), a)
    }
    val p = ArrowBatches.readPredictions(bytes, 2)
    assert(p.defined.toSeq == Seq(true, false))
    assert(p.prediction(0) == 1.0)
    assert(p.rawPrediction(0).toSeq == Seq(-0.5, 0.5) && p.probability(0).toSeq == Seq(0.25, 0.75))
    assert(p.rawPrediction(1) == null && p.probability(1) == null)
    intercept[IllegalStateException](ArrowBatches.readPredictions(bytes, 3))
  }

  test("a training batch round-trips through the native library") {
    val b =
      BatchBuilder.training(Seq(BatchColumn.label("y"), BatchColumn("x0", BatchColumn.Feature)))
    val bytes =
      try {
        // Two groups, y = 2x + 1 and y = -x, each with a few rows; groups need not be contiguous.
        for (i <- 0 until 10) {
          val x = i.toDouble
          val g = i % 2
          val at = b.addRow(g)
          b.setDouble(0, at, if (g == 0) 2 * x + 1 else -x)
          b.setDouble(1, at, x)
        }
        b.toIpc()
      } finally b.close()
    val out = NativeApi.get.trainGroups("linear", "{}", 1, 100L, direct(bytes))
    val results = ArrowBatches.readResults(out, Seq("rmse", "r2"))
    assert(results.map(r => (r.group, r.status, r.rows)).toSeq == Seq((0, "ok", 5L), (1, "ok", 5L)))
    assert(results.forall(_.metrics.head.exists(_ < 1e-8)))
  }
}
