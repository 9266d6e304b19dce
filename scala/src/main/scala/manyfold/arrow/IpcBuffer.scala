package manyfold.arrow

import java.nio.ByteBuffer
import java.nio.channels.WritableByteChannel

import org.apache.arrow.memory.{ArrowBuf, BufferAllocator}
import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.arrow.vector.ipc.ArrowStreamWriter

/**
 * An Arrow IPC stream in off-heap memory owned by an Arrow allocator, handed to native code as a
 * direct ByteBuffer (read in place, no copy) and freed deterministically by [[close]].
 */
final class IpcBuffer private[arrow] (buf: ArrowBuf, val size: Long) extends AutoCloseable {
  require(size <= Int.MaxValue, s"an IPC batch of $size bytes is larger than 2 GiB")
  private var written = 0L
  private var closed = false

  /** The stream's bytes as a direct ByteBuffer; valid until [[close]]. */
  def byteBuffer: ByteBuffer = buf.nioBuffer(0, size.toInt)

  /** Copies the stream's bytes into `target` from `offset` on. */
  def copyTo(target: Array[Byte], offset: Int): Unit = buf.getBytes(0, target, offset, size.toInt)

  def toArray: Array[Byte] = {
    val out = new Array[Byte](size.toInt)
    buf.getBytes(0, out)
    out
  }

  private[arrow] val channel: WritableByteChannel = new WritableByteChannel {
    override def write(src: ByteBuffer): Int = {
      val n = src.remaining()
      require(written + n <= size, s"IPC stream longer than its counted $size bytes")
      buf.setBytes(written, src)
      // ArrowBuf.setBytes does not promise to advance the source: Arrow's writer loops on it.
      src.position(src.limit())
      written += n
      n
    }
    override def isOpen: Boolean = !closed
    override def close(): Unit = ()
  }

  override def close(): Unit = if (!closed) {
    closed = true
    buf.close()
  }
}

object IpcBuffer {

  /**
   * `root`'s rows as one Arrow IPC stream with one record batch, in off-heap memory of `allocator`
   * of exactly its size (a counting pass first, then one copy). The caller closes it.
   */
  def write(root: VectorSchemaRoot, allocator: BufferAllocator): IpcBuffer = {
    val counter = new Counter
    writeStream(root, counter)
    val out = new IpcBuffer(allocator.buffer(math.max(counter.size, 1L)), counter.size)
    try writeStream(root, out.channel)
    catch { case e: Throwable => out.close(); throw e }
    out
  }

  /**
   * `root`'s rows as one Arrow IPC stream with one record batch, written straight into a heap
   * array: `place` gets the stream's size (a counting pass first) and returns the array and the
   * offset to write it at, with room for that many bytes.
   */
  def writeInto(root: VectorSchemaRoot)(place: Long => (Array[Byte], Int)): Unit = {
    val counter = new Counter
    writeStream(root, counter)
    val (target, offset) = place(counter.size)
    require(
      offset >= 0 && offset + counter.size <= target.length,
      s"no room for an IPC stream of ${counter.size} bytes at $offset of ${target.length}"
    )
    writeStream(root, new ArrayChannel(target, offset, counter.size))
  }

  private def writeStream(root: VectorSchemaRoot, channel: WritableByteChannel): Unit = {
    val writer = new ArrowStreamWriter(root, null, channel)
    try {
      writer.start()
      writer.writeBatch()
      writer.end()
    } finally writer.close()
  }

  /** A channel writing into `size` bytes of a heap array from `offset` on. */
  private final class ArrayChannel(target: Array[Byte], offset: Int, size: Long)
      extends WritableByteChannel {
    private var written = 0L
    override def write(src: ByteBuffer): Int = {
      val n = src.remaining()
      require(written + n <= size, s"IPC stream longer than its counted $size bytes")
      src.get(target, offset + written.toInt, n)
      written += n
      n
    }
    override def isOpen: Boolean = true
    override def close(): Unit = ()
  }

  /** A channel that only counts: the first pass of writing a stream of exactly known size. */
  private[arrow] final class Counter extends WritableByteChannel {
    var size = 0L
    override def write(src: ByteBuffer): Int = {
      val n = src.remaining()
      src.position(src.limit())
      size += n
      n
    }
    override def isOpen: Boolean = true
    override def close(): Unit = ()
  }
}
