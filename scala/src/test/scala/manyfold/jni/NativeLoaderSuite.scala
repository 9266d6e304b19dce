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

  test("more platform names: other Linux architectures and systems keep a normalized name") {
    assert(NativeLoader.platform("Linux", "arm64") == "linux-aarch64")
    assert(NativeLoader.platform("Linux", "AMD64") == "linux-x86_64")
    assert(NativeLoader.platform("Linux", "riscv64") == "linux-riscv64")
    assert(NativeLoader.platform("Linux", "ppc64le") == "linux-ppc64le")
    assert(NativeLoader.platform("Darwin", "x86_64") == "darwin-x86_64")
    assert(NativeLoader.platform("SunOS", "sparcv9") == "sunos-sparcv9")
    assert(NativeLoader.platform("FreeBSD", "amd64") == "freebsd-x86_64")
  }

  test("a missing platform names the platform, the resource and the property") {
    val e = intercept[NativeLibraryException](NativeLoader.locate("linux-riscv64"))
    assert(e.getMessage.contains("linux-riscv64"))
    assert(e.getMessage.contains("manyfold/native/linux-riscv64/libmanyfold_jni.so"))
    assert(e.getMessage.contains("-Dmanyfold.native.lib=/path/to/libmanyfold_jni.so"))
    // The jar on the test classpath (target/native-resources) bundles both Linux libraries.
    assert(e.getMessage.contains("this jar bundles linux-x86_64, linux-aarch64"), e.getMessage)
  }

  test("the build bundles linux-x86_64 and linux-aarch64, and lists them") {
    assert(NativeLoader.readResource(NativeLoader.PlatformIndex).isDefined)
    assert(
      NativeLoader.bundledPlatforms(NativeLoader.readResource) ==
        Seq("linux-x86_64", "linux-aarch64")
    )
  }

  /** A jar's resources: path -> bytes. */
  private def jar(entries: (String, String)*): String => Option[Array[Byte]] = {
    val m = entries.toMap
    path => m.get(path).map(_.getBytes("UTF-8"))
  }

  private val bothLinux = jar(
    NativeLoader.PlatformIndex -> "linux-x86_64\nlinux-aarch64\n",
    "manyfold/native/linux-x86_64/libmanyfold_jni.so" -> "x86_64 library",
    "manyfold/native/linux-aarch64/libmanyfold_jni.so" -> "aarch64 library"
  )

  test("the library is picked by os.name and os.arch") {
    withTempDir { dir =>
      withProperty(NativeLoader.DirectoryProperty, dir.toString) {
        for (
          (name, arch, expected) <- Seq(
            ("Linux", "amd64", "x86_64 library"),
            ("Linux", "aarch64", "aarch64 library"),
            ("Linux", "x86_64", "x86_64 library"),
            ("Linux", "arm64", "aarch64 library")
          )
        ) {
          val file = NativeLoader.locateFor(name, arch, bothLinux)
          assert(file == dir.resolve("libmanyfold_jni.so"))
          assert(new String(Files.readAllBytes(file), "UTF-8") == expected, s"$name $arch")
        }
      }
    }
  }

  test("an unsupported platform: the message names it, the bundled ones and the property") {
    val e = intercept[NativeLibraryException](NativeLoader.locateFor("Linux", "ppc64le", bothLinux))
    val m = e.getMessage
    assert(m.contains("no native library for platform linux-ppc64le"), m)
    assert(m.contains("os.name=Linux, os.arch=ppc64le"), m)
    assert(m.contains("this jar bundles linux-x86_64, linux-aarch64"), m)
    assert(m.contains("-Dmanyfold.native.lib=/path/to/libmanyfold_jni.so"), m)

    val mac = intercept[NativeLibraryException](
      NativeLoader.locateFor("Mac OS X", "aarch64", bothLinux)
    ).getMessage
    assert(mac.contains("platform darwin-aarch64 (os.name=Mac OS X, os.arch=aarch64)"), mac)
    assert(mac.contains("-Dmanyfold.native.lib=/path/to/libmanyfold_jni.dylib"), mac)

    val windows =
      intercept[NativeLibraryException](NativeLoader.locateFor("Windows 10", "amd64", bothLinux))
    assert(windows.getMessage.contains("platform windows-x86_64"))
    assert(windows.getMessage.contains("/path/to/manyfold_jni.dll"))
  }

  test("the bundled platforms: from the index, checked against the jar, or probed without one") {
    // An index entry whose library is absent is not offered.
    val partial = jar(
      NativeLoader.PlatformIndex -> "linux-x86_64\nlinux-aarch64\n",
      "manyfold/native/linux-x86_64/libmanyfold_jni.so" -> "x86_64 library"
    )
    assert(NativeLoader.bundledPlatforms(partial) == Seq("linux-x86_64"))
    // Without an index, the known platform names are probed.
    val noIndex = jar(
      "manyfold/native/linux-aarch64/libmanyfold_jni.so" -> "aarch64 library",
      "manyfold/native/darwin-aarch64/libmanyfold_jni.dylib" -> "mac library"
    )
    assert(NativeLoader.bundledPlatforms(noIndex) == Seq("linux-aarch64", "darwin-aarch64"))
    val m = intercept[NativeLibraryException](NativeLoader.locateFor("Linux", "amd64", noIndex))
    assert(m.getMessage.contains("this jar bundles linux-aarch64, darwin-aarch64"), m.getMessage)
    // A jar with no library at all says so.
    val empty =
      intercept[NativeLibraryException](NativeLoader.locateFor("Linux", "amd64", jar())).getMessage
    assert(empty.contains("platform linux-x86_64") && empty.contains("bundles no native library"))
    assert(empty.contains("-Dmanyfold.native.lib="), empty)
  }

  test("manyfold.native.lib wins over the bundled libraries on any platform") {
    withTempDir { dir =>
      val lib = Files.write(dir.resolve("libmine.so"), Array[Byte](1))
      withProperty(NativeLoader.LibraryProperty, lib.toString) {
        assert(NativeLoader.locateFor("Linux", "riscv64", jar()) == lib)
      }
    }
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
