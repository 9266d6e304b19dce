// The Spark extension. Spark, Scala and Arrow are provided by the cluster (the versions Spark
// 3.5.7 ships); the jar holds only manyfold's classes and the native libraries, which `make native`
// cross-builds (linux-x86_64, linux-aarch64; glibc 2.17) into
// target/native-resources/manyfold/native/<os>-<arch>/, listed in manyfold/native/platforms.txt.

val sparkVersion = "3.5.7"

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
    scalaVersion := "2.12.18",
    scalacOptions ++= Seq("-deprecation", "-feature", "-unchecked", "-Xlint", "-Ywarn-unused"),
    javacOptions ++= Seq("--release", "8"),
    libraryDependencies ++= Seq(
      "org.apache.spark" %% "spark-sql" % sparkVersion % "provided",
      "org.apache.spark" %% "spark-mllib" % sparkVersion % "provided",
      "org.scalatest" %% "scalatest" % "3.2.19" % Test
    ),
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
      (ThisBuild / baseDirectory).value / "target" / "jar" / s"manyfold_2.12-${version.value}.jar"
  )
