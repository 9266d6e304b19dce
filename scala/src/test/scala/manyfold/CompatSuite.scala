package manyfold

import java.util.Properties

import org.scalatest.funsuite.AnyFunSuite

class CompatSuite extends AnyFunSuite {

  private def built(scala: String, spark: String): Properties = {
    val p = new Properties()
    p.setProperty("scalaBinaryVersion", scala)
    p.setProperty("sparkVersion", spark)
    p
  }

  test("the jar's own build properties match the running Scala and Spark") {
    val props = Compat.buildProperties()
    val running = scala.util.Properties.versionNumberString
    assert(running.startsWith(props.getProperty("scalaBinaryVersion") + "."), props)
    assert(props.getProperty("sparkVersion") == org.apache.spark.SPARK_VERSION, props)
    assert(
      Compat.mismatch(props, running, org.apache.spark.SPARK_VERSION, "manyfold.jar") == null
    )
    Compat.check()
  }

  test("a Scala 2.12 jar on Spark 4 names both Scala versions and the jar to use") {
    val message =
      Compat.mismatch(built("2.12", "3.5.7"), "2.13.17", "4.1.0", "manyfold_2.12-0.1.0.jar")
    assert(
      message == "manyfold: manyfold_2.12-0.1.0.jar was built for Scala 2.12 (Spark 3.5.7), " +
        "but this Spark 4.1.0 runs Scala 2.13.17. Use the manyfold jar for Scala 2.13: " +
        "manyfold_2.13 (Spark 4)."
    )
  }

  test("a Scala 2.13 jar on Spark 3.5 names both Scala versions and the jar to use") {
    val message =
      Compat.mismatch(built("2.13", "4.1.0"), "2.12.18", "3.5.7", "manyfold_2.13-0.1.0.jar")
    assert(message.contains("built for Scala 2.13 (Spark 4.1.0)"), message)
    assert(message.contains("runs Scala 2.12.18"), message)
    assert(message.contains("manyfold_2.12 (Spark 3.5)"), message)
  }

  test("the right Scala on the wrong Spark line (Spark 3.5 built for Scala 2.13) says so") {
    val message = Compat.mismatch(built("2.13", "4.1.0"), "2.13.8", "3.5.7", "m.jar")
    assert(message.contains("there is none for Spark 3 with Scala 2.13"), message)
  }

  test("other patch versions of the same lines are fine; unknown builds are not checked") {
    assert(Compat.mismatch(built("2.12", "3.5.7"), "2.12.20", "3.5.1", "m.jar") == null)
    assert(Compat.mismatch(built("2.13", "4.1.0"), "2.13.16", "4.0.1", "m.jar") == null)
    assert(Compat.mismatch(new Properties(), "2.13.16", "4.0.1", "m.jar") == null)
  }
}
