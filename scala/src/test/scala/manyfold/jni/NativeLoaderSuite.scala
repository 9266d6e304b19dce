package manyfold.jni

import java.nio.file.{Files, Path}
import java.util.concurrent.{Callable, Executors}

import scala.collection.JavaConverters._

import org.scalatest.funsuite.AnyFunSuite

class NativeLoaderSuite extends AnyFunSuite {

  private def withProperty[T](name: String, value: String)(body: => T): T = {
    val old = Option(System.getProperty(name))
    System.setProperty(name, value)
    try body
    finally old.fold(System.clearProperty(name))(System.setProperty(name, _))
  }

  private def withTempDir[T](body: Path => T): T = {
    val dir = Files.createTempDirectory("manyfold-loader-test")
    try body(dir)
    finally
      Files.walk(dir).iterator.asScala.toSeq.reverse.foreach(p => Files.deleteIfExists(p))
  }

  test("load twice: the second load is a no-op and the library works") {
    NativeLoader.load()
    val first = NativeLoader.loadedPath
    NativeLoader.load()
    assert(first.isDefined)
    assert(NativeLoader.loadedPath == first)
    assert(NativeApi.get.version() == "0.1.0")
  }

  test("loads from many threads at once") {
    val pool = Executors.newFixedThreadPool(8)
    try {
      val tasks = (1 to 16).map(_ =>
        new Callable[String] {
          def call(): String = { NativeLoader.load(); NativeApi.get.version() }
        }
      )
      assert(pool.invokeAll(tasks.asJava).asScala.map(_.get).toSet == Set("0.1.0"))
    } finally pool.shutdown()
  }

  test("platform names") {
    assert(NativeLoader.platform("Linux", "amd64") == "linux-x86_64")
    assert(NativeLoader.platform("Linux", "x86_64") == "linux-x86_64")
    assert(NativeLoader.platform("Linux", "aarch64") == "linux-aarch64")
    assert(NativeLoader.platform("Mac OS X", "aarch64") == "darwin-aarch64")
    assert(NativeLoader.platform("Mac OS X", "arm64") == "darwin-aarch64")
    assert(NativeLoader.platform("Windows 11", "amd64") == "windows-x86_64")
    assert(
      NativeLoader.resourcePath("linux-x86_64") ==
        "manyfold/native/linux-x86_64/libmanyfold_jni.so"
    )
    assert(
      NativeLoader.resourcePath("darwin-aarch64") ==
        "manyfold/native/darwin-aarch64/libmanyfold_jni.dylib"
    )
    assert(
      NativeLoader.resourcePath("windows-x86_64") ==
        "manyfold/native/windows-x86_64/manyfold_jni.dll"
    )
  }

  test("a missing platform names the platform, the resource and the property") {
    val e = intercept[NativeLibraryException](NativeLoader.locate("linux-aarch64"))
    assert(e.getMessage.contains("linux-aarch64"))
    assert(e.getMessage.contains("manyfold/native/linux-aarch64/libmanyfold_jni.so"))
    assert(e.getMessage.contains("-Dmanyfold.native.lib=/path/to/libmanyfold_jni.so"))
  }

  test("manyfold.native.lib is used as given, and must name a file") {
    withTempDir { dir =>
      val lib = Files.write(dir.resolve("libcustom.so"), Array[Byte](1, 2, 3))
      withProperty(NativeLoader.LibraryProperty, lib.toString) {
        assert(NativeLoader.locate("linux-aarch64") == lib)
      }
      withProperty(NativeLoader.LibraryProperty, dir.resolve("missing.so").toString) {
        val e = intercept[NativeLibraryException](NativeLoader.locate("linux-x86_64"))
        assert(e.getMessage.contains("missing.so") && e.getMessage.contains("manyfold.native.lib"))
      }
    }
  }

  test("extracts into manyfold.native.dir, concurrently, and replaces a foreign file") {
    withTempDir { dir =>
      withProperty(NativeLoader.DirectoryProperty, dir.toString) {
        val platform = NativeLoader.currentPlatform
        val target = dir.resolve(NativeLoader.libraryFileName(platform))
        Files.write(target, "not a library".getBytes)
        val pool = Executors.newFixedThreadPool(6)
        val paths =
          try {
            val tasks = (1 to 12).map(_ =>
              new Callable[Path] { def call(): Path = NativeLoader.locate(platform) }
            )
            pool.invokeAll(tasks.asJava).asScala.map(_.get).toSet
          } finally pool.shutdown()
        assert(paths == Set(target))
        val bundled =
          getClass.getClassLoader.getResourceAsStream(NativeLoader.resourcePath(platform))
        val expected =
          try Iterator.continually(bundled.read()).takeWhile(_ >= 0).map(_.toByte).toArray
          finally bundled.close()
        assert(java.util.Arrays.equals(Files.readAllBytes(target), expected))
        // No temporary file is left behind.
        assert(Files.list(dir).iterator.asScala.toSeq == Seq(target))
      }
    }
  }

  test("the default directory is versioned by content") {
    NativeLoader.load()
    val dir = NativeLoader.loadedPath.get.getParent.getFileName.toString
    assert(dir.matches("manyfold-native-[^/]+-[0-9a-f]{16}"), dir)
  }
}
