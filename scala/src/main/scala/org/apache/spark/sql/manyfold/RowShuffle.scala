package org.apache.spark.sql.manyfold

import org.apache.spark.Partitioner
import org.apache.spark.rdd.{RDD, ShuffledRDD}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.execution.UnsafeRowSerializer

/**
 * A shuffle of UnsafeRows to partitions the map side chose, serialized as Spark SQL's exchange
 * serializes rows (each row's bytes as they are), without a DataFrame around it: no projection of
 * every row on either side.
 */
object RowShuffle {

  /** Sends each `(partition, row)` to its partition; `rows` must be UnsafeRows of `numFields`. */
  def apply(rows: RDD[(Int, InternalRow)], numPartitions: Int, numFields: Int): RDD[InternalRow] =
    new ShuffledRDD[Int, InternalRow, InternalRow](rows, new Given(numPartitions))
      .setSerializer(new UnsafeRowSerializer(numFields))
      .mapPartitions(_.map(_._2), preservesPartitioning = true)

  /** The partition each record's key names. */
  private final class Given(override val numPartitions: Int) extends Partitioner {
    override def getPartition(key: Any): Int = key.asInstanceOf[Int]
  }
}
