package org.apache.spark.sql.manyfold

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{
  AnalysisException,
  Column,
  DataFrame,
  Dataset,
  ExperimentalMethods,
  Row,
  SparkSession
}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.execution.QueryExecution
import org.apache.spark.sql.classic
import org.apache.spark.sql.types.StructType

/**
 * The Spark-internal APIs manyfold reaches, as Spark 4 spells them: they live on the classic
 * (JVM-side) session and Dataset, which are what a DataFrame is outside Spark Connect. Internal to
 * manyfold.
 */
object SparkShim {
  private def session(spark: SparkSession): classic.SparkSession =
    spark.asInstanceOf[classic.SparkSession]
  private def dataset(df: DataFrame): classic.Dataset[Row] =
    df.asInstanceOf[classic.Dataset[Row]]

  def experimental(spark: SparkSession): ExperimentalMethods = session(spark).experimental
  def functionRegistry(spark: SparkSession): FunctionRegistry =
    session(spark).sessionState.functionRegistry
  def ofRows(spark: SparkSession, plan: LogicalPlan): DataFrame =
    classic.Dataset.ofRows(session(spark), plan)
  def analyzed(df: DataFrame): LogicalPlan = dataset(df).queryExecution.analyzed
  def queryExecution(ds: Dataset[_]): QueryExecution =
    ds.asInstanceOf[classic.Dataset[_]].queryExecution
  def toRdd(df: DataFrame): RDD[InternalRow] = dataset(df).queryExecution.toRdd
  def createDataFrame(spark: SparkSession, rows: RDD[InternalRow], schema: StructType): DataFrame =
    session(spark).internalCreateDataFrame(rows, schema)
  def column(e: Expression): Column = classic.ExpressionUtils.column(e)
  def analysisError(message: String): AnalysisException =
    new AnalysisException(message, None, None, None, None, Map.empty, Array.empty)
}
