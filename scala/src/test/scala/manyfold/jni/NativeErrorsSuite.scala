package manyfold.jni

import manyfold.DirectBuffers.direct
import org.scalatest.funsuite.AnyFunSuite

/** The error mapping of the JNI boundary: typed exceptions, never a JVM abort. */
class NativeErrorsSuite extends AnyFunSuite {
  private def api = NativeApi.get

  test("a native panic is a NativeException with the panic message, and the JVM goes on") {
    val e = intercept[NativeException](api.debugFail("panic"))
    assert(e.getMessage.startsWith("native panic: "), e.getMessage)
    assert(e.getMessage.contains("debugFail asked for a panic"), e.getMessage)
    // The library still works after the panic, repeatedly.
    intercept[NativeException](api.debugFail("panic"))
    assert(api.version() == "0.1.0")
  }

  test("a data error is a NativeException") {
    val e = intercept[NativeException](api.debugFail("data"))
    assert(e.getMessage.contains("data error"), e.getMessage)
  }

  test("a param error is an IllegalArgumentException") {
    val e = intercept[IllegalArgumentException](api.debugFail("param"))
    assert(e.getMessage.contains("kind"), e.getMessage)
  }

  test("bad arguments of every data method are exceptions") {
    intercept[IllegalArgumentException](api.defaultParams("svm"))
    intercept[NativeException](
      api.trainGroups("linear", "{}", 1, 10L, direct(Array[Byte](1, 2, 3)))
    )
    intercept[IllegalArgumentException](
      api.trainGroups("linear", """{"regParam": -1}""", 1, 10L, direct(Array.emptyByteArray))
    )
    intercept[IllegalArgumentException](
      api.trainGroups("linear", """{"regParm": 1}""", 1, 10L, direct(Array.emptyByteArray))
    )
    intercept[NativeException](api.describeModel(Array[Byte](1, 2, 3)))
    intercept[IllegalArgumentException](api.closeModels(123456789L))
    intercept[IllegalArgumentException](
      api.predict(123456789L, 1, "{}", direct(Array.emptyByteArray))
    )
  }

  test("a batch must be a direct ByteBuffer, never a heap one") {
    val e = intercept[IllegalArgumentException](
      api.trainGroups("linear", "{}", 1, 10L, java.nio.ByteBuffer.wrap(Array[Byte](1, 2, 3)))
    )
    assert(e.getMessage.contains("direct ByteBuffer"), e.getMessage)
    intercept[IllegalArgumentException](api.trainGroups("linear", "{}", 1, 10L, null))
  }

  test("a group buffer refuses a null map of group ids and a batch that is not direct") {
    val handle = api.openGroupBuffer(10L)
    try {
      val e = intercept[IllegalArgumentException](
        api.appendGroupRows(handle, direct(Array[Byte](1, 2, 3)), null)
      )
      assert(e.getMessage.contains("groupIds"), e.getMessage)
      val heap = intercept[IllegalArgumentException](
        api.appendGroupRows(handle, java.nio.ByteBuffer.wrap(Array[Byte](1, 2, 3)), Array(0))
      )
      assert(heap.getMessage.contains("direct ByteBuffer"), heap.getMessage)
    } finally api.closeGroupBuffer(handle)
  }

  test("a closed handle cannot be closed twice") {
    val handle = api.openModels(Array(null))
    api.closeModels(handle)
    intercept[IllegalArgumentException](api.closeModels(handle))
  }
}
