package org.apache.spark.sql.manyfold

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.execution.columnar.InMemoryRelation

/**
 * A persisted DataFrame read straight from its cache's batches. A query over a cached DataFrame
 * that is not built yet runs, under adaptive execution, two jobs: one builds the cache (a query
 * stage of its own), the next reads it. Reading the cache's own RDD instead builds it and reads it
 * in one job, and the cache is then built for every later query as well.
 *
 * Internal to manyfold: it lives in Spark's package only to reach Spark's cached relations.
 */
object CachedTable {

  /**
   * The rows of `columns` (names of `df`'s columns, in that order) of the cache `df` is persisted
   * in, computed from the cache's batches (building them if they are not yet); None if `df` is not
   * persisted as a whole.
   */
  def rows(df: DataFrame, columns: Seq[String]): Option[RDD[InternalRow]] = {
    val execution = SparkShim.queryExecution(df)
    execution.withCachedData match {
      case relation: InMemoryRelation =>
        val byName = relation.output.map(a => a.name -> a).toMap
        val selected = columns.map(byName)
        val builder = relation.cacheBuilder
        Some(
          builder.serializer.convertCachedBatchToInternalRow(
            builder.cachedColumnBuffers,
            relation.output,
            selected,
            execution.sparkSession.sessionState.conf
          )
        )
      case _ => None
    }
  }
}
