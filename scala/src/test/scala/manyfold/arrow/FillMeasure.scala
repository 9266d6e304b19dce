package manyfold.arrow

import scala.collection.JavaConverters._

import org.apache.arrow.vector.{FieldVector, Float8Vector, VectorSchemaRoot}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{BoundReference, Expression, UnsafeProjection}
import org.apache.spark.sql.execution.arrow.ArrowWriter
import org.apache.spark.sql.types.DoubleType

/**
 * A one-off measurement, not a test: filling Arrow from InternalRows (2M rows x 10 doubles, in
 * chunks of 64k rows whose vectors are reused) with Arrow's `setSafe` per value (what BatchBuilder
 * did), with Spark's ArrowWriter over a VectorSchemaRoot, and with BatchBuilder (capacity checked
 * per row, values written straight into the buffers). Run with `tools/sbt "Test/runMain
 * manyfold.arrow.FillMeasure"`; prints the best of 7 rounds of each.
 */
object FillMeasure {
  val Rows = 2000000
  val Cols = 10
  val Chunk = 64 * 1024

  def main(args: Array[String]): Unit = {
    val project = UnsafeProjection.create((0 until Cols).map { j =>
      BoundReference(j, DoubleType, nullable = true): Expression
    })
    // 64k distinct UnsafeRows, cycled: the rows a shuffle read hands over.
    val source = Array.tabulate(Chunk) { i =>
      project(InternalRow.fromSeq((0 until Cols).map(j => i * 0.5 + j))).copy()
    }
    val names = (0 until Cols).map(j => s"x$j")

    def setSafe(): Double = {
      val vectors = names.map(n => new Float8Vector(n, ArrowBatches.allocator))
      try {
        var at = 0
        var sum = 0.0
        for (i <- 0 until Rows) {
          val row = source(i % Chunk)
          var j = 0
          while (j < Cols) {
            if (row.isNullAt(j)) vectors(j).setNull(at)
            else vectors(j).setSafe(at, row.getDouble(j))
            j += 1
          }
          at += 1
          if (at == Chunk) {
            vectors.foreach(_.setValueCount(at))
            sum += vectors(0).get(at - 1)
            vectors.foreach(_.reset())
            at = 0
          }
        }
        sum
      } finally vectors.foreach(_.close())
    }

    def sparkWriter(): Double = {
      val vectors: Seq[FieldVector] = names.map(n => new Float8Vector(n, ArrowBatches.allocator))
      val root = new VectorSchemaRoot(vectors.asJava)
      try {
        val writer = ArrowWriter.create(root)
        var at = 0
        var sum = 0.0
        for (i <- 0 until Rows) {
          writer.write(source(i % Chunk))
          at += 1
          if (at == Chunk) {
            writer.finish()
            sum += root.getVector(0).asInstanceOf[Float8Vector].get(at - 1)
            writer.reset()
            at = 0
          }
        }
        sum
      } finally root.close()
    }

    def builder(): Double = {
      val batch = BatchBuilder.training(BatchColumn.features(names))
      try {
        var sum = 0.0
        for (i <- 0 until Rows) {
          val row = source(i % Chunk)
          val at = batch.addRow(0)
          var j = 0
          while (j < Cols) {
            if (row.isNullAt(j)) batch.setNull(j, at) else batch.setDouble(j, at, row.getDouble(j))
            j += 1
          }
          if (batch.numRows == Chunk) {
            sum += at
            batch.clear()
          }
        }
        sum
      } finally batch.close()
    }

    val ways = Seq(
      "setSafe per value" -> (() => setSafe()),
      "Spark ArrowWriter" -> (() => sparkWriter()),
      "BatchBuilder (direct writes)" -> (() => builder())
    )
    val best = scala.collection.mutable.Map.empty[String, Double]
    for (_ <- 0 until 7; (name, f) <- ways) {
      val t0 = System.nanoTime()
      f()
      val ms = (System.nanoTime() - t0) / 1e6
      best(name) = math.min(best.getOrElse(name, Double.MaxValue), ms)
    }
    ways.foreach { case (name, _) =>
      println(f"$name%-30s ${best(name)}%8.1f ms for $Rows rows x $Cols doubles")
    }
  }
}
