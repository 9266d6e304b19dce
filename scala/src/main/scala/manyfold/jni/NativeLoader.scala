package manyfold.jni

import java.io.{ByteArrayOutputStream, IOException, InputStream}
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path, Paths, StandardCopyOption}
import java.security.MessageDigest
import java.util.Locale

/**
 * Loads `libmanyfold_jni` into this JVM, once.
 *
 * Where the library comes from, in order:
 *   1. the file named by the system property `manyfold.native.lib`, if set; 2. the copy bundled in
 *      the jar as `manyfold/native/<os>-<arch>/libmanyfold_jni.<so|dylib>` (`manyfold_jni.dll` on
 *      Windows, as cargo names it), extracted into the directory named by `manyfold.native.dir`
 *      (default `<java.io.tmpdir>/manyfold-native-<version>-<hash>`, where `<hash>` is a prefix of
 *      the library's SHA-256, so two builds never share a file).
 *
 * `<os>-<arch>` comes from `os.name` and `os.arch` (see [[platform]]). The jar bundles
 * `linux-x86_64` and `linux-aarch64`, built against glibc 2.17, and lists them in
 * `manyfold/native/platforms.txt`; on any other platform the error names the platform, the bundled
 * ones and `manyfold.native.lib`.
 *
 * Several executor JVMs on one machine may extract at the same time: each writes its own temporary
 * file and renames it into place atomically, so none ever loads a half-written library.
 */
object NativeLoader {

  /** System property naming a library file to load instead of the bundled one. */
  val LibraryProperty = "manyfold.native.lib"

  /** System property naming the directory the bundled library is extracted into. */
  val DirectoryProperty = "manyfold.native.dir"

  /** Resource listing the platforms the jar bundles a library for, one per line. */
  val PlatformIndex = "manyfold/native/platforms.txt"

  /** Platforms probed for a bundled library when the jar has no [[PlatformIndex]]. */
  val KnownPlatforms: Seq[String] =
    Seq("linux-x86_64", "linux-aarch64", "darwin-x86_64", "darwin-aarch64", "windows-x86_64")

  /** The oldest glibc the bundled Linux libraries run on. */
  val GlibcFloor = "2.17"

  @volatile private var loadedFrom: Option[Path] = None

  /** Loads the library unless this JVM already has; safe to call from many threads. */
  def load(): Unit = if (loadedFrom.isEmpty) synchronized {
    if (loadedFrom.isEmpty) {
      val osName = System.getProperty("os.name", "")
      val osArch = System.getProperty("os.arch", "")
      val platform = this.platform(osName, osArch)
      val file = locateFor(osName, osArch, readResource)
      try System.load(file.toAbsolutePath.toString)
      catch {
        case e: UnsatisfiedLinkError =>
          throw new NativeLibraryException(
            s"cannot load the manyfold native library $file on $platform: ${e.getMessage} " +
              s"(the bundled libraries need glibc $GlibcFloor or newer; a library built for " +
              s"this machine can be given with -D$LibraryProperty=/path/to/" +
              s"${libraryFileName(platform)})",
            e
          )
      }
      loadedFrom = Some(file)
    }
  }

  /** The file the library was loaded from, if it has been loaded. */
  def loadedPath: Option[Path] = loadedFrom

  /** This JVM's platform as the jar names it, e.g. `linux-x86_64`. */
  def currentPlatform: String =
    platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""))

  /**
   * The platform name for an `os.name` and `os.arch`. Unknown systems keep a normalized name, so
   * that the missing-library message says what was looked for.
   */
  def platform(osName: String, osArch: String): String = {
    val os = osName.toLowerCase(Locale.ROOT) match {
      case n if n.startsWith("linux") => "linux"
      case n if n.startsWith("mac") || n.startsWith("darwin") => "darwin"
      case n if n.startsWith("windows") => "windows"
      case n => n.replaceAll("[^a-z0-9]+", "")
    }
    val arch = osArch.toLowerCase(Locale.ROOT) match {
      case "amd64" | "x86_64" | "x86-64" => "x86_64"
      case "aarch64" | "arm64" => "aarch64"
      case a => a.replaceAll("[^a-z0-9_]+", "")
    }
    s"$os-$arch"
  }

  /** The library's file name on a platform, as cargo names a cdylib there. */
  def libraryFileName(platform: String): String =
    if (platform.startsWith("windows-")) "manyfold_jni.dll"
    else if (platform.startsWith("darwin-")) "libmanyfold_jni.dylib"
    else "libmanyfold_jni.so"

  /** The resource path of the bundled library for a platform. */
  def resourcePath(platform: String): String =
    s"manyfold/native/$platform/${libraryFileName(platform)}"

  /**
   * The library file to load on `platform`: the `manyfold.native.lib` file, or the bundled library
   * extracted (reused when an identical copy is already there).
   *
   * @throws NativeLibraryException
   *   if neither exists, naming the platform, the resource looked for and the property that points
   *   at a library file
   */
  def locate(platform: String): Path = locate(platform, s"platform $platform", readResource)

  /**
   * [[locate]] for a JVM whose `os.name` and `os.arch` are given, with the jar's resources read by
   * `resource` (a path to its bytes, `None` when absent).
   */
  private[jni] def locateFor(
      osName: String,
      osArch: String,
      resource: String => Option[Array[Byte]]
  ): Path = {
    val p = platform(osName, osArch)
    locate(p, s"platform $p (os.name=$osName, os.arch=$osArch)", resource)
  }

  private def locate(
      platform: String,
      described: String,
      resource: String => Option[Array[Byte]]
  ): Path =
    Option(System.getProperty(LibraryProperty)).filter(_.nonEmpty) match {
      case Some(configured) =>
        val file = Paths.get(configured)
        if (!Files.isRegularFile(file)) {
          throw new NativeLibraryException(
            s"-D$LibraryProperty=$configured does not name a file ($described)"
          )
        }
        file
      case None =>
        val bytes = resource(resourcePath(platform)).getOrElse {
          throw new NativeLibraryException(missingMessage(platform, described, resource))
        }
        extract(platform, bytes)
    }

  /**
   * The platforms with a library in the jar: those its [[PlatformIndex]] lists, or, without one,
   * those of [[KnownPlatforms]] present; either way only those whose library is there.
   */
  private[jni] def bundledPlatforms(resource: String => Option[Array[Byte]]): Seq[String] = {
    val listed = resource(PlatformIndex)
      .map(b => new String(b, StandardCharsets.UTF_8).split("\n").map(_.trim).filter(_.nonEmpty))
      .map(_.toSeq)
      .getOrElse(KnownPlatforms)
    listed.distinct.filter(p => resource(resourcePath(p)).isDefined)
  }

  private def missingMessage(
      platform: String,
      described: String,
      resource: String => Option[Array[Byte]]
  ): String = {
    val bundled = bundledPlatforms(resource)
    val has =
      if (bundled.isEmpty) "this jar bundles no native library"
      else s"this jar bundles ${bundled.mkString(", ")}"
    s"manyfold has no native library for $described: the resource ${resourcePath(platform)} " +
      s"is not in the jar, and $has. Build libmanyfold_jni for this platform (cargo build " +
      s"--release -p manyfold-jni) and pass -D$LibraryProperty=/path/to/" +
      s"${libraryFileName(platform)} to the driver and the executors"
  }

  private def extract(platform: String, bytes: Array[Byte]): Path = {
    val hash = sha256Hex(bytes)
    val dir = Option(System.getProperty(DirectoryProperty)).filter(_.nonEmpty) match {
      case Some(d) => Paths.get(d)
      case None =>
        Paths.get(
          System.getProperty("java.io.tmpdir"),
          s"manyfold-native-$version-${hash.take(16)}"
        )
    }
    val target = dir.resolve(libraryFileName(platform))
    try {
      // A file already there is trusted only if it is byte-identical: the directory may be
      // shared (and writable) by others, and a stale or foreign library must not be loaded.
      if (!(Files.isRegularFile(target) && sha256Hex(Files.readAllBytes(target)) == hash)) {
        Files.createDirectories(dir)
        val tmp = Files.createTempFile(dir, ".libmanyfold_jni-", ".tmp")
        try {
          Files.write(tmp, bytes)
          Files.move(
            tmp,
            target,
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING
          )
        } finally Files.deleteIfExists(tmp)
      }
      target
    } catch {
      case e: IOException =>
        throw new NativeLibraryException(
          s"cannot extract the manyfold native library to $dir: $e (choose another directory with " +
            s"-D$DirectoryProperty=/some/dir, or pass -D$LibraryProperty=/path/to/" +
            s"${libraryFileName(platform)})",
          e
        )
    }
  }

  private def version: String =
    Option(getClass.getPackage).flatMap(p => Option(p.getImplementationVersion)).getOrElse("dev")

  private[jni] def readResource(resource: String): Option[Array[Byte]] = {
    val loader =
      Option(Thread.currentThread.getContextClassLoader).getOrElse(getClass.getClassLoader)
    val in = Option(getClass.getClassLoader.getResourceAsStream(resource))
      .orElse(Option(loader.getResourceAsStream(resource)))
    in.map(readAll)
  }

  private def readAll(in: InputStream): Array[Byte] =
    try {
      val out = new ByteArrayOutputStream()
      val buf = new Array[Byte](1 << 16)
      var n = in.read(buf)
      while (n >= 0) {
        out.write(buf, 0, n)
        n = in.read(buf)
      }
      out.toByteArray
    } finally in.close()

  private def sha256Hex(bytes: Array[Byte]): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map(b => f"${b & 0xff}%02x").mkString
}
