package manyfold

import java.util.Properties

/**
 * Checks, when manyfold's stages are first created, that this jar was built for the Scala version
 * (and Spark line) it runs on: a jar for Scala 2.12 on Spark 4 (Scala 2.13), or the reverse, fails
 * here with a message naming both versions and the jar to use, instead of a `NoSuchMethodError`
 * deep inside a job.
 *
 * Written with Java APIs only (no Scala collections, string interpolation or Options), so that it
 * runs the same whichever Scala library is on the classpath.
 */
object Compat {

  /** The resource the build writes: scalaBinaryVersion, scalaVersion, sparkVersion, version. */
  val BuildResource = "manyfold/build.properties"

  @volatile private var checked = false

  /**
   * @throws IllegalStateException
   *   if the running Scala binary version or Spark major version is not the jar's
   */
  def check(): Unit = if (!checked) {
    val problem = mismatch(
      buildProperties(),
      scala.util.Properties.versionNumberString,
      org.apache.spark.SPARK_VERSION,
      jarName()
    )
    if (problem != null) throw new IllegalStateException(problem)
    checked = true
  }

  /** The properties the build wrote into the jar (empty when missing, as in an IDE's classes). */
  def buildProperties(): Properties = {
    val props = new Properties()
    val in = Compat.getClass.getClassLoader.getResourceAsStream(BuildResource)
    if (in != null) {
      try props.load(in)
      finally in.close()
    }
    props
  }

  /**
   * Why a jar built as `build` says cannot run on Scala `runningScala` and Spark `runningSpark`, or
   * null when it can (or when the jar does not say what it was built for).
   */
  def mismatch(
      build: Properties,
      runningScala: String,
      runningSpark: String,
      jar: String
  ): String = {
    val builtScala = build.getProperty("scalaBinaryVersion")
    val builtSpark = build.getProperty("sparkVersion")
    if (builtScala == null || builtSpark == null) return null
    val scalaBinary = binaryVersion(runningScala)
    val sparkMajor = major(runningSpark)
    if (scalaBinary == builtScala && sparkMajor == major(builtSpark)) return null
    "manyfold: " + jar + " was built for Scala " + builtScala + " (Spark " + builtSpark +
      "), but this Spark " + runningSpark + " runs Scala " + runningScala + ". " +
      "Use the manyfold jar for Scala " + scalaBinary + ": " + jarFor(scalaBinary, sparkMajor) + "."
  }

  private def jarFor(scalaBinary: String, sparkMajor: String): String =
    if (scalaBinary == "2.12" && sparkMajor == "3") "manyfold_2.12 (Spark 3.5)"
    else if (scalaBinary == "2.13" && sparkMajor == "4") "manyfold_2.13 (Spark 4)"
    else
      "there is none for Spark " + sparkMajor + " with Scala " + scalaBinary +
        " (manyfold_2.12 runs on Spark 3.5, manyfold_2.13 on Spark 4)"

  private def binaryVersion(v: String): String = {
    val first = v.indexOf('.')
    val second = if (first < 0) -1 else v.indexOf('.', first + 1)
    if (second < 0) v else v.substring(0, second)
  }

  private def major(v: String): String = {
    val dot = v.indexOf('.')
    if (dot < 0) v else v.substring(0, dot)
  }

  private def jarName(): String = {
    val source = Compat.getClass.getProtectionDomain.getCodeSource
    val path =
      if (source == null || source.getLocation == null) null else source.getLocation.getPath
    if (path == null) "the manyfold jar"
    else
      path.substring(path.lastIndexOf('/') + 1) match {
        case "" => "the manyfold jar"
        case name => name
      }
  }
}
