package manyfold.ml

import scala.collection.mutable

import manyfold.jni.NativeCalls
import org.apache.spark.SparkEnv

/**
 * Decoded model sets of this JVM, shared by the tasks that predict with them: keyed by the models'
 * identity (a content hash, or a broadcast's id), so a task does not decode a model again that an
 * earlier task of the same executor decoded. Bounded: once the cached model bytes exceed
 * `spark.manyfold.modelCache.maxBytes` (default 256 MB), the least recently used sets that no task
 * holds are freed; a set nobody used for `spark.manyfold.modelCache.idleSeconds` (default 300) is
 * freed at the next acquire or release. A set in use is never freed.
 */
private[manyfold] object ModelCache {

  /** A decoded set and what the task needs with it (e.g. a key index); freed by `close`. */
  final case class Opened(handle: Long, index: AnyRef)

  final class Lease private[ModelCache] (key: String, val opened: Opened) extends AutoCloseable {
    private var released = false
    def handle: Long = opened.handle
    override def close(): Unit = if (!released) { released = true; release(key) }
  }

  private final class Entry(val opened: Opened, val bytes: Long) {
    var holders = 0
    var lastUsed: Long = System.nanoTime()
  }

  private val entries = mutable.LinkedHashMap.empty[String, Entry]
  private var cachedBytes = 0L

  private def conf(key: String, default: Long): Long =
    Option(SparkEnv.get).flatMap(e => e.conf.getOption(key)).map(_.toLong).getOrElse(default)

  private def maxBytes: Long = conf("spark.manyfold.modelCache.maxBytes", 256L << 20)
  private def idleNanos: Long = conf("spark.manyfold.modelCache.idleSeconds", 300L) * 1000000000L

  /**
   * The set cached under `key`, decoding it with `open` (of about `bytes` model bytes) if absent.
   * Close the lease when done.
   */
  def acquire(key: String, bytes: Long, open: () => Opened): Lease = synchronized {
    val entry = entries.remove(key) match {
      case Some(e) => e
      case None =>
        val e = new Entry(open(), bytes)
        cachedBytes += bytes
        e
    }
    entries.put(key, entry) // most recently used last
    entry.holders += 1
    entry.lastUsed = System.nanoTime()
    evict()
    new Lease(key, entry.opened)
  }

  private def release(key: String): Unit = synchronized {
    entries.get(key).foreach { e =>
      e.holders -= 1
      e.lastUsed = System.nanoTime()
    }
    evict()
  }

  private def evict(): Unit = {
    val now = System.nanoTime()
    val limit = maxBytes
    val idle = idleNanos
    val free = entries.iterator.filter { case (_, e) => e.holders == 0 }.map(_._1).toList
    free.foreach { key =>
      val e = entries(key)
      if (cachedBytes > limit || now - e.lastUsed > idle) {
        entries.remove(key)
        cachedBytes -= e.bytes
        NativeCalls.closeModels(e.opened.handle)
      }
    }
  }

  /** The number of model sets cached in this JVM (for tests). */
  def size: Int = synchronized(entries.size)

  /** Frees every set no task holds (for tests). */
  def clear(): Unit = synchronized {
    entries.toList.foreach { case (key, e) =>
      if (e.holders == 0) {
        entries.remove(key)
        cachedBytes -= e.bytes
        NativeCalls.closeModels(e.opened.handle)
      }
    }
  }
}
