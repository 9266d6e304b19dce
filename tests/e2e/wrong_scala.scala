// The jar built for the other Scala version (tests/e2e/run.sh cross, with JAR set to it): its
// check (manyfold.Compat.check, which the Python package calls before creating any stage, and
// Spark at session start through manyfold.CompatCheckProvider) fails with a message naming the
// jar's Scala version, the running one and the jar to use. Called by reflection, as py4j does: the
// REPL's compiler cannot read the other Scala version's class signatures. (A stage class of the
// wrong jar fails when the JVM links it, NoClassDefFoundError of a Scala collection class, before
// any of its code runs.) run.sh prints the scenario's pass marker when this script printed
// WRONG-SCALA-CHECKED and the session-start warning was logged.

object WrongScalaE2E {
  def run(): Unit = {
    val running = scala.util.Properties.versionNumberString
    val built = if (running.startsWith("2.13")) "2.12" else "2.13"
    val failure =
      try {
        Class.forName("manyfold.Compat").getMethod("check").invoke(null)
        None
      } catch {
        case e: java.lang.reflect.InvocationTargetException => Some(e.getCause)
        case t: Throwable => Some(t)
      }
    val t = failure.getOrElse(throw new AssertionError("the check passed the wrong jar"))
    println(s"e2e wrong-scala: $t")
    t.printStackTrace(System.out)
    val message = String.valueOf(t.getMessage)
    if (!t.isInstanceOf[IllegalStateException]) throw new AssertionError(s"not a clear error: $t")
    val expected = Seq(s"built for Scala $built", s"runs Scala $running", s"manyfold_${
        running.split('.').take(2).mkString(".")
      }")
    expected.foreach { e =>
      if (!message.contains(e)) throw new AssertionError(s"the message does not say '$e'")
    }
  }
}

val e2eStatus =
  try {
    WrongScalaE2E.run()
    println("WRONG-SCALA-CHECKED")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
