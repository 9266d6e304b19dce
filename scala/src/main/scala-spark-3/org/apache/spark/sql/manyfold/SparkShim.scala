package org.apache.spark.sql.manyfold

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{
  AnalysisException,
  Column,
  DataFrame,
  Dataset,
  ExperimentalMethods,
  SparkSession
}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.execution.QueryExecution
import org.apache.spark.sql.types.StructType

/** The Spark-internal APIs manyfold reaches, as Spark 3.5 spells them (internal to manyfold). */
object SparkShim {
  def experimental(spark: SparkSession): ExperimentalMethods = spark.experimental
  def functionRegistry(spark: SparkSession): FunctionRegistry = spark.sessionState.functionRegistry
  def ofRows(spark: SparkSession, plan: LogicalPlan): DataFrame = Dataset.ofRows(spark, plan)
  def analyzed(df: DataFrame): LogicalPlan = df.queryExecution.analyzed
  def queryExecution(ds: Dataset[_]): QueryExecution = ds.queryExecution
  def toRdd(df: DataFrame): RDD[InternalRow] = df.queryExecution.toRdd
  def createDataFrame(spark: SparkSession, rows: RDD[InternalRow], schema: StructType): DataFrame =
    spark.internalCreateDataFrame(rows, schema)
  def column(e: Expression): Column = new Column(e)
  def analysisError(message: String): AnalysisException = new AnalysisException(message)
}
