// The jar built for the other Scala version (tests/e2e/run.sh wrong-scala, with JAR set to it):
// creating a stage fails at once with a message naming the jar's Scala version, the running one
// and the jar to use, not with a NoSuchMethodError inside a job.

object WrongScalaE2E {
  def run(): Unit = {
    val running = scala.util.Properties.versionNumberString
    val built = if (running.startsWith("2.13")) "2.12" else "2.13"
    val failure =
      try {
        new manyfold.ml.regression.LinearRegression()
        None
      } catch { case t: Throwable => Some(t) }
    val t = failure.getOrElse(throw new AssertionError("a stage of the wrong jar was created"))
    println(s"e2e wrong-scala: $t")
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
    println("E2E-PASS wrong-scala")
    0
  } catch {
    case t: Throwable =>
      t.printStackTrace()
      1
  }
spark.stop()
System.exit(e2eStatus)
