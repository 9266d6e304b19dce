// The Spark extension. Spark, Scala and Arrow are provided by the cluster; the jar holds only
// manyfold's classes and the native libraries, which `make native` cross-builds (linux-x86_64,
// linux-aarch64; glibc 2.17) into target/native-resources/manyfold/native/<os>-<arch>/, listed in
// manyfold/native/platforms.txt.
//
// Cross-built from the same sources: Scala 2.12 against Spark 3.5 (the default, `make jar`) and
// Scala 2.13 against Spark 4 (`tools/sbt "++2.13 package"`, `make jar-spark4`). What differs
// between the Spark lines lives in scala/src/main/scala-spark-<major>/.

val scala212 = "2.12.18"
val scala213 = "2.13.17"

/** The Spark line each Scala binary version is built against. */
def sparkFor(scalaBinary: String): String = scalaBinary match {
  case "2.12" => "3.5.7"
  case "2.13" => "4.1.0"
  case other => sys.error(s"no Spark line for Scala $other")
}

// Spark 3.5 on Java 17 outside spark-submit needs these (spark-submit passes them itself).
val javaOpens = Seq(
  "java.base/java.lang",
  "java.base/java.lang.invoke",
  "java.base/java.lang.reflect",
  "java.base/java.io",
  "java.base/java.net",
  "java.base/java.nio",
  "java.base/java.util",
  "java.base/java.util.concurrent",
  "java.base/java.util.concurrent.atomic",
  "java.base/jdk.internal.ref",
  "java.base/sun.nio.ch",
  "java.base/sun.nio.cs",
  "java.base/sun.security.action",
  "java.base/sun.util.calendar"
).map(p => s"--add-opens=$p=ALL-UNNAMED")

lazy val manyfold = (project in file("scala"))
  .settings(
    name := "manyfold",
    organization := "io.manyfold",
    version := "0.1.0",
    scalaVersion := scala212,
    crossScalaVersions := Seq(scala212, scala213),
    scalacOptions ++= Seq("-deprecation", "-feature", "-unchecked", "-Xlint", "-Ywarn-unused"),
    javacOptions ++= Seq("--release", "8"),
    libraryDependencies ++= Seq(
      "org.apache.spark" %% "spark-sql" % sparkFor(scalaBinaryVersion.value) % "provided",
      "org.apache.spark" %% "spark-mllib" % sparkFor(scalaBinaryVersion.value) % "provided",
      "org.scalatest" %% "scalatest" % "3.2.19" % Test
    ),
    Compile / unmanagedSourceDirectories += (Compile / sourceDirectory).value /
      s"scala-spark-${sparkFor(scalaBinaryVersion.value).takeWhile(_ != '.')}",
    // manyfold/build.properties: the Scala and Spark lines the jar was built for (checked when
    // manyfold starts, so a jar for the wrong Scala version fails with a message, not a
    // NoSuchMethodError in a task).
    Compile / resourceGenerators += Def.task {
      val file = (Compile / resourceManaged).value / "manyfold" / "build.properties"
      IO.write(
        file,
        s"""version=${version.value}
           |scalaBinaryVersion=${scalaBinaryVersion.value}
           |scalaVersion=${scalaVersion.value}
           |sparkVersion=${sparkFor(scalaBinaryVersion.value)}
           |""".stripMargin
      )
      Seq(file)
    }.taskValue,
    Compile / unmanagedResourceDirectories +=
      (ThisBuild / baseDirectory).value / "target" / "native-resources",
    // The demo and tests run an embedded local Spark: give `run` the provided jars too.
    Compile / run := Defaults
      .runTask(Compile / fullClasspath, Compile / run / mainClass, Compile / run / runner)
      .evaluated,
    run / fork := true,
    run / javaOptions ++= javaOpens ++ Seq("-Xmx4g"),
    run / connectInput := false,
    Test / fork := true,
    Test / parallelExecution := false,
    Test / javaOptions ++= javaOpens ++ Seq("-Xmx4g", "-Dspark.ui.enabled=false"),
    Test / testOptions += Tests.Argument(TestFrameworks.ScalaTest, "-oD"),
    Compile / packageBin / artifactPath :=
      (ThisBuild / baseDirectory).value / "target" / "jar" / s"manyfold_${scalaBinaryVersion.value}-${version.value}.jar"
  )
