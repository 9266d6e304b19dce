package manyfold

import java.nio.ByteBuffer

/** Heap bytes as the direct ByteBuffer the native batch methods take (its whole capacity). */
object DirectBuffers {
  def direct(bytes: Array[Byte]): ByteBuffer = {
    val b = ByteBuffer.allocateDirect(bytes.length)
    b.put(bytes)
    b.flip()
    b
  }
}
