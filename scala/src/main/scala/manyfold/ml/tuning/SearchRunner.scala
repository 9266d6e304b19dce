package manyfold.ml.tuning

import scala.collection.mutable

import manyfold.arrow.{ArrowBatches, FitResult}
import manyfold.jni.{NativeApi, NativeCalls}
import manyfold.ml.{GroupedTraining, Jobs}
import org.apache.spark.TaskContext
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.manyfold.SparkShim

/**
 * Runs the fits of a search over one data set. The rows are written once into Arrow IPC chunks (one
 * per partition) and collected; the driver opens them natively first, so that bad data and folds
 * that cannot be cut fail before any fit; the chunks are broadcast, so the data crosses to each
 * executor once, and each executor decodes them natively once ([[SearchData]]). Then `parallelism`
 * tasks each run their share of the (parameter set, fold) fits on that handle.
 */
private[manyfold] object SearchRunner {

  /** What a search's fits gave, in the order (parameter set, fold). */
  final case class Outcome(fits: Array[FitResult], splitsJson: String)

  /**
   * The Spark conf key (session or context) setting the bytes a search's data may take on one
   * executor, instead of 0.6 x the executor memory.
   */
  val MaxDataBytesKey = "spark.manyfold.search.maxDataBytes"

  def run(plan: SearchPlan, df: DataFrame, parallelism: Int): Outcome = {
    val (selected, rowPlan) = GroupedTraining.select(df, Nil, plan.estimator, plan.extras)
    val sc = df.sparkSession.sparkContext
    checkSize(df.sparkSession, selected, rowPlan)
    val chunks = SparkShim
      .toRdd(selected)
      .mapPartitions(rows => chunk(rowPlan, rows))
      .collect()
    val broadcast = sc.broadcast(chunks)
    try {
      // Opened on the driver first: data and fold errors surface here, before any fit. In local
      // mode the driver is the executor, and the tasks find this handle.
      val handle = SearchData.handle(broadcast.id, chunks, plan.foldsJson)
      val splits = NativeApi.get.describeSplits(handle)
      val fits = for (p <- plan.paramMaps.indices; f <- 0 until plan.numFolds) yield (p, f)
      val tasks = math.min(parallelism, fits.length)
      // Fits dealt round-robin, so that each task gets a mix of parameter sets and folds.
      val perTask = Array.tabulate(tasks) { t =>
        fits.indices.filter(_ % tasks == t).flatMap(i => Seq(fits(i)._1, fits(i)._2)).toArray
      }
      val (searchJson, foldsJson) = (plan.searchJson, plan.foldsJson)
      val results = Jobs.describe(sc, s"manyfold ${plan.kind}: ${plan.size}, $tasks tasks") {
        sc.parallelize(perTask.toSeq, tasks)
          .mapPartitions { work =>
            val data = SearchData.handle(broadcast.id, broadcast.value, foldsJson)
            val threads = Option(TaskContext.get).map(_.cpus()).getOrElse(1)
            work.flatMap { pairs =>
              ArrowBatches.readFits(NativeApi.get.searchFits(data, searchJson, pairs, threads))
            }
          }
          .collect()
      }
      Outcome(results.sortBy(r => (r.param, r.fold)), splits)
    } finally {
      SearchData.release(broadcast.id)
      broadcast.destroy()
    }
  }

  /** One partition's rows as one Arrow IPC stream (none for an empty partition). */
  private def chunk(
      plan: GroupedTraining.Plan,
      rows: Iterator[org.apache.spark.sql.catalyst.InternalRow]
  ): Iterator[Array[Byte]] = {
    if (!rows.hasNext) return Iterator.empty
    val batch = plan.newBatch()
    try {
      rows.foreach(row => GroupedTraining.writeRow(plan, row, 0, batch, batch.addRow(0)))
      Iterator.single(batch.toIpc())
    } finally batch.close()
  }

  /**
   * Fails before any job moves the data if it cannot fit one executor: a search holds it once in
   * the JVM (the broadcast) and once natively (decoded), 8 bytes per value.
   */
  private def checkSize(
      spark: org.apache.spark.sql.SparkSession,
      df: DataFrame,
      plan: GroupedTraining.Plan
  ): Unit = {
    val sc = spark.sparkContext
    val columns = plan.scalarCount + plan.layout.size + plan.fold.size
    val rows = df.count()
    val needed = 2L * rows * columns * 8L
    val (available, source) = spark.conf.getOption(MaxDataBytesKey) match {
      case Some(v) => (v.toLong, MaxDataBytesKey)
      case None if sc.isLocal =>
        ((Runtime.getRuntime.maxMemory * 0.6).toLong, "0.6 x the driver JVM's maximum heap")
      case None =>
        val executor = sc.getConf.getSizeAsBytes("spark.executor.memory", "1g")
        ((executor * 0.6).toLong, "0.6 x spark.executor.memory")
    }
    if (needed > available) {
      throw new IllegalArgumentException(
        f"the search data needs about ${needed / 1e6}%.1f MB on each executor ($rows rows x " +
          f"$columns columns of 8 bytes, held once by the JVM and once natively), more than the " +
          f"${available / 1e6}%.1f MB available ($source): give executors more memory, or " +
          "search on a sample"
      )
    }
  }
}

/**
 * The search data sets decoded in this JVM, by broadcast id: each executor decodes a search's data
 * once and its tasks share the handle. At most [[SearchData.Kept]] are kept; the oldest is freed
 * when another arrives (and the driver frees its own when the search ends).
 */
private[manyfold] object SearchData {

  val Kept = 2

  private val handles = mutable.LinkedHashMap.empty[Long, Long]

  /** The native handle of broadcast `id`'s data, decoding `chunks` on first use in this JVM. */
  def handle(id: Long, chunks: => Array[Array[Byte]], foldsJson: String): Long = synchronized {
    handles.get(id) match {
      case Some(h) => h
      case None =>
        val h = NativeCalls.openSearchData(chunks, foldsJson)
        handles(id) = h
        while (handles.size > Kept) {
          val (oldest, old) = handles.head
          handles.remove(oldest)
          NativeApi.get.closeSearchData(old)
        }
        h
    }
  }

  /** Frees broadcast `id`'s data in this JVM, if decoded here. */
  def release(id: Long): Unit = synchronized {
    handles.remove(id).foreach(NativeApi.get.closeSearchData)
  }

  /** Data sets currently decoded in this JVM (tests). */
  def open: Int = synchronized(handles.size)
}
