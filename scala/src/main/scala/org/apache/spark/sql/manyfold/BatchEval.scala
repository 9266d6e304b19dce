package org.apache.spark.sql.manyfold

import scala.collection.mutable.ArrayBuffer

import org.apache.spark.TaskContext
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{Column, DataFrame, SparkSession}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.analysis.FunctionRegistry
import org.apache.spark.sql.catalyst.expressions.{
  Attribute,
  AttributeReference,
  AttributeSet,
  Cast,
  Expression,
  ExpressionInfo,
  NamedExpression,
  UnsafeProjection,
  UnsafeRow,
  Unevaluable
}
import org.apache.spark.sql.catalyst.expressions.codegen.GenerateUnsafeRowJoiner
import org.apache.spark.sql.catalyst.FunctionIdentifier
import org.apache.spark.sql.catalyst.plans.logical.{LogicalPlan, Project, UnaryNode}
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy, UnaryExecNode}
import org.apache.spark.sql.types.{
  ByteType,
  DataType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  Metadata,
  ShortType,
  StructField,
  StructType
}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}

/**
 * Batched evaluation of native models inside Spark SQL plans: manyfold's `transform` and its SQL
 * functions both become a [[BatchEval]] node, whose physical operator streams each partition
 * through a [[BatchFunction]] in batches (one native call per batch) and appends the results as
 * columns, without an external `Row` per prediction. Spark's own Python UDFs are planned the same
 * way (an extraction rule pulls the calls out of projections and filters into a batching node).
 *
 * Two ways in: when the child produces columnar batches (a cached DataFrame of numeric columns, a
 * Parquet or ORC scan) and every input is one of its columns, each of its batches is read column by
 * column and passed on with the result columns appended (the operator is columnar; Spark converts
 * to rows after it, in generated code). Otherwise rows are buffered `batchRows` at a time and each
 * is joined to its results' bytes.
 *
 * Internal to manyfold: the types live in Spark's package only to reach Spark's internal planning
 * APIs.
 */
trait BatchFunction extends Serializable {

  /** Rows per batch. */
  def batchRows: Int

  /** A name for plans and errors. */
  def name: String

  /** Opens an evaluator for one task; closed when the partition ends or the task completes. */
  def open(): BatchEvaluator

  /**
   * Whether [[BatchEvaluator.evaluateColumns]] takes the inputs as columns of these types: the
   * inputs' own columns, an input `cast(c as double)` of a numeric column `c` given as `c`.
   */
  def readsColumns(types: Seq[DataType]): Boolean
}

/**
 * One task's evaluator: rows are added and evaluated, or evaluated a columnar batch at a time; the
 * results come back as columns, valid until the next evaluation.
 */
trait BatchEvaluator extends AutoCloseable {

  /** Adds the next row (the function's input expressions, evaluated); the row may be reused. */
  def add(inputs: InternalRow): Unit

  /** Evaluates the rows added since the last call: their results, one column per result. */
  def evaluate(): Array[ColumnVector]

  /** Evaluates `numRows` rows given as input columns (see [[BatchFunction.readsColumns]]). */
  def evaluateColumns(inputs: Array[ColumnVector], numRows: Int): Array[ColumnVector]
}

/**
 * `child` plus the results of `function` on `inputs` (expressions over `child`), as `resultAttrs`.
 */
case class BatchEval(
    function: BatchFunction,
    inputs: Seq[Expression],
    resultAttrs: Seq[Attribute],
    child: LogicalPlan
) extends UnaryNode {
  override def output: Seq[Attribute] = child.output ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override protected def withNewChildInternal(newChild: LogicalPlan): BatchEval =
    copy(child = newChild)
}

case class BatchEvalExec(
    function: BatchFunction,
    inputs: Seq[Expression],
    resultAttrs: Seq[Attribute],
    child: SparkPlan
) extends UnaryExecNode {
  override def output: Seq[Attribute] = child.output ++ resultAttrs
  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)
  override protected def withNewChildInternal(newChild: SparkPlan): BatchEvalExec =
    copy(child = newChild)

  // How the Spark UI's SQL tab names the operator: `ManyfoldPredict LogisticRegressionModel`.
  override def nodeName: String = "ManyfoldPredict"
  override def simpleString(maxFields: Int): String =
    s"$nodeName ${function.name} -> ${resultAttrs.map(_.name).mkString(", ")}"

  // The child's column of each input, when the function reads them as columns: then a columnar
  // child (a cached DataFrame, a Parquet or ORC scan) is read a batch at a time, and the results
  // are appended to its batches as columns.
  @transient private lazy val inputColumns: Option[Array[Int]] =
    BatchEval
      .columnsOf(inputs, child.output)
      .filter(cols => function.readsColumns(cols.toSeq.map(child.output(_).dataType)))

  override def supportsColumnar: Boolean = child.supportsColumnar && inputColumns.isDefined

  override protected def doExecuteColumnar(): RDD[ColumnarBatch] = {
    val f = function
    val columns = inputColumns.get
    child.executeColumnar().mapPartitionsInternal(BatchEval.evaluateColumns(f, columns, _))
  }

  override protected def doExecute(): RDD[InternalRow] = {
    val f = function
    val in = inputs
    val childOutput = child.output
    val rowSchema = BatchEval.schemaOf(childOutput)
    val resultSchema = BatchEval.schemaOf(resultAttrs)
    child.execute().mapPartitionsInternal { rows =>
      BatchEval.evaluate(f, UnsafeProjection.create(in, childOutput), rowSchema, resultSchema, rows)
    }
  }
}

object BatchEval {

  private[manyfold] def schemaOf(attrs: Seq[Attribute]): StructType =
    StructType(attrs.map(a => StructField(a.name, a.dataType, a.nullable, a.metadata)))

  /** The types read as columns and cast to double as Spark casts them. */
  def numeric(t: DataType): Boolean = t match {
    case ByteType | ShortType | IntegerType | LongType | FloatType | DoubleType => true
    case _ => false
  }

  /**
   * The position in `output` of the column each input reads (an attribute, or a numeric one cast to
   * double), or None if some input is another expression.
   */
  private[manyfold] def columnsOf(inputs: Seq[Expression], output: Seq[Attribute]) = {
    def column(a: Attribute): Option[Int] =
      Some(output.indexWhere(_.exprId == a.exprId)).filter(_ >= 0)
    val columns = inputs.map {
      case a: Attribute => column(a)
      case c: Cast if c.dataType == DoubleType =>
        c.child match {
          case a: Attribute if numeric(a.dataType) => column(a)
          case _ => None
        }
      case _ => None
    }
    if (columns.forall(_.isDefined)) Some(columns.flatten.toArray) else None
  }

  /**
   * Streams columnar `batches` through `function` (`columns`: its inputs' positions in a batch):
   * each batch with the results appended as columns. A batch is evaluated when it is read, so its
   * columns stay valid while the consumer reads it, as Spark's columnar operators require.
   */
  def evaluateColumns(
      function: BatchFunction,
      columns: Array[Int],
      batches: Iterator[ColumnarBatch]
  ): Iterator[ColumnarBatch] = {
    if (!batches.hasNext) return Iterator.empty
    val task = new TaskEvaluator(function)
    import task.{close, closed, evaluator}
    new Iterator[ColumnarBatch] {
      override def hasNext: Boolean = !closed && (batches.hasNext || { close(); false })
      override def next(): ColumnarBatch = {
        if (!hasNext) throw new NoSuchElementException("end of partition")
        val batch = batches.next()
        val n = batch.numRows
        val results =
          try evaluator.evaluateColumns(columns.map(batch.column), n)
          catch { case e: Throwable => close(); throw e }
        new ColumnarBatch(Array.tabulate(batch.numCols)(batch.column) ++ results, n)
      }
    }
  }

  /**
   * Streams `rows` through `function` in batches (`inputs` gives a row's inputs): each row, as
   * `kept` projects it (of `rowSchema`; the whole row by default), followed by its results (of
   * `resultSchema`).
   */
  def evaluate(
      function: BatchFunction,
      inputs: UnsafeProjection,
      rowSchema: StructType,
      resultSchema: StructType,
      rows: Iterator[InternalRow],
      kept: Option[UnsafeProjection] = None
  ): Iterator[InternalRow] = {
    if (!rows.hasNext) return Iterator.empty
    val task = new TaskEvaluator(function)
    import task.{close, closed, evaluator}
    // Output rows: the row's bytes and the results' bytes concatenated (no per-field copy).
    val toUnsafe = kept.getOrElse(UnsafeProjection.create(rowSchema))
    val results = UnsafeProjection.create(resultSchema)
    val joiner = GenerateUnsafeRowJoiner.create(rowSchema, resultSchema)
    val buffer = new ArrayBuffer[InternalRow](math.min(function.batchRows, 4096))
    var evaluated: ColumnarBatch = null
    new Iterator[InternalRow] {
      private var i = 0
      override def hasNext: Boolean = i < buffer.length || {
        buffer.clear()
        i = 0
        if (!closed && rows.hasNext) {
          try {
            while (rows.hasNext && buffer.length < function.batchRows) {
              val row = rows.next()
              buffer += (row match {
                case u: UnsafeRow if kept.isEmpty => u.copy()
                case other => toUnsafe(other).copy()
              })
              evaluator.add(inputs(row))
            }
            evaluated = new ColumnarBatch(evaluator.evaluate(), buffer.length)
          } catch { case e: Throwable => close(); throw e }
          true
        } else {
          close()
          false
        }
      }
      override def next(): InternalRow = {
        if (!hasNext) throw new NoSuchElementException("end of partition")
        val row = joiner.join(buffer(i).asInstanceOf[UnsafeRow], results(evaluated.getRow(i)))
        i += 1
        row
      }
    }
  }

  /**
   * `function`'s evaluator for one task, closed once: by [[close]] at the end of the partition, or
   * when the task completes (a consumer may stop early: limit, take).
   */
  private final class TaskEvaluator(function: BatchFunction) {
    val evaluator: BatchEvaluator = function.open()
    private var done = false
    def closed: Boolean = done
    def close(): Unit = if (!done) { done = true; evaluator.close() }
    Option(TaskContext.get).foreach(_.addTaskCompletionListener[Unit](_ => close()))
  }

  /** Plans [[BatchEval]]. */
  object Planning extends SparkStrategy {
    override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
      case BatchEval(f, inputs, results, child) =>
        BatchEvalExec(f, inputs, results, planLater(child)) :: Nil
      case _ => Nil
    }
  }

  /** Adds the planning strategy and the SQL call extraction to a session (once). */
  def install(spark: SparkSession): Unit = synchronized {
    val methods = SparkShim.experimental(spark)
    if (!methods.extraStrategies.contains(Planning)) {
      methods.extraStrategies = methods.extraStrategies :+ Planning
    }
    if (!methods.extraOptimizations.contains(ExtractBatchCalls)) {
      methods.extraOptimizations = methods.extraOptimizations :+ ExtractBatchCalls
    }
  }

  /**
   * `df` with the results of `function` on `inputs` appended as columns named and typed by
   * `results`.
   */
  def transform(
      df: DataFrame,
      function: BatchFunction,
      inputs: Seq[Column],
      results: StructType
  ): DataFrame = {
    val spark = df.sparkSession
    install(spark)
    val analyzed = SparkShim.analyzed(df)
    val resolved = SparkShim.analyzed(df.select(inputs: _*)) match {
      case Project(list, child) if child.sameResult(analyzed) =>
        list.map(stripAlias)
      case other =>
        throw new IllegalStateException(s"cannot resolve the inputs of ${function.name}: $other")
    }
    val attrs = results.fields.map { f =>
      AttributeReference(f.name, f.dataType, f.nullable, f.metadata)()
    }
    SparkShim.ofRows(spark, BatchEval(function, resolved, attrs.toSeq, analyzed))
  }

  private def stripAlias(e: NamedExpression): Expression = e match {
    case a: org.apache.spark.sql.catalyst.expressions.Alias => a.child
    case other => other
  }

  /** A DataFrame of internal rows (for evaluations planned as RDDs). */
  def createDataFrame(spark: SparkSession, rows: RDD[InternalRow], schema: StructType): DataFrame =
    SparkShim.createDataFrame(spark, rows, schema)

  /**
   * Registers a SQL function named `name`: `build` turns the call's arguments into the function,
   * its input expressions (one per argument, cast as needed) and its result type, or explains what
   * is wrong with them (an AnalysisException naming the function then fails the query).
   *
   * @throws IllegalArgumentException
   *   if a function of that name already exists
   */
  def registerFunction(
      spark: SparkSession,
      name: String,
      usage: String,
      build: Seq[Expression] => Either[String, (BatchFunction, Seq[Expression], DataType)]
  ): Unit = {
    require(name != null && name.nonEmpty, "the function name is empty")
    install(spark)
    val registry = SparkShim.functionRegistry(spark)
    val id = FunctionIdentifier(name)
    require(
      !registry.functionExists(id) && !FunctionRegistry.builtin.functionExists(id) &&
        !spark.catalog.functionExists(name),
      s"a function named '$name' already exists: choose another name, or drop it first " +
        s"(DROP TEMPORARY FUNCTION $name)"
    )
    val info =
      new ExpressionInfo(classOf[BatchCall].getName, null, name, usage, "", "", "", "", "", "", "")
    registry.registerFunction(
      id,
      info,
      (args: Seq[Expression]) =>
        build(args) match {
          case Right((function, inputs, dataType)) => BatchCall(function, inputs, dataType, name)
          case Left(message) => throw SparkShim.analysisError(s"$name: $message")
        }
    )
  }
}

/** A SQL call of a [[BatchFunction]] with one result, planned as a [[BatchEval]]. */
case class BatchCall(
    function: BatchFunction,
    children: Seq[Expression],
    dataType: DataType,
    prettyFunctionName: String
) extends Expression
    with Unevaluable {
  override def nullable: Boolean = true
  override def prettyName: String = prettyFunctionName
  override protected def withNewChildrenInternal(newChildren: IndexedSeq[Expression]): BatchCall =
    copy(children = newChildren)
}

/**
 * Moves each [[BatchCall]] (innermost first) out of the operator that holds it into a [[BatchEval]]
 * below it, replaced by the result's attribute; a projection on top keeps the operator's output.
 */
object ExtractBatchCalls extends Rule[LogicalPlan] {

  private def hasCall(e: Expression): Boolean = e.find(_.isInstanceOf[BatchCall]).isDefined

  override def apply(plan: LogicalPlan): LogicalPlan = plan.transformUp {
    case e: BatchEval => e
    case node if node.expressions.exists(hasCall) =>
      if (node.children.length != 1) {
        throw SparkShim.analysisError(
          s"manyfold model functions can only be used in a projection, filter or aggregation " +
            s"over one input, not in ${node.nodeName}"
        )
      }
      // Innermost calls: no call among their arguments.
      val calls = node.expressions
        .flatMap(_.collect { case c: BatchCall if !c.children.exists(hasCall) => c })
        .distinct
      var child = node.children.head
      val replaced = calls.map { c =>
        val attr =
          AttributeReference(c.prettyFunctionName, c.dataType, nullable = true, Metadata.empty)()
        child = BatchEval(c.function, c.children, Seq(attr), child)
        (c: Expression) -> (attr: Expression)
      }.toMap
      val rewritten = node.withNewChildren(Seq(child)).transformExpressions {
        case c: BatchCall if replaced.contains(c) => replaced(c)
      }
      if (rewritten.output == node.output) rewritten else Project(node.output, rewritten)
  }
}
