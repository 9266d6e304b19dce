"""The package as installed: its bundled jar, the session helper, and the error when the jar is
not attached to Spark."""

import os
import subprocess
import sys
import textwrap

import pyspark
import pytest
from pyspark.sql import SparkSession

import manyfold

# The Scala version of the installed pyspark's line: 2.12 for Spark 3, 2.13 for Spark 4.
SCALA = "2.13" if pyspark.__version__.startswith("4.") else "2.12"


def test_the_package_comes_from_the_installed_wheel_with_its_jar():
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.abspath(os.path.join(here, "..", "manyfold"))
    assert not os.path.abspath(manyfold.__file__).startswith(source)
    jar = manyfold.jar_path()
    assert os.path.isfile(jar) and jar.startswith(os.path.dirname(manyfold.__file__))
    assert os.path.basename(jar) in manyfold.bundled_jars()
    assert os.path.basename(jar).startswith("manyfold_%s-" % SCALA)
    # The wheel carries both lines' jars.
    assert os.path.basename(manyfold.jar_path("3.5.7")).startswith("manyfold_2.12-")
    assert os.path.basename(manyfold.jar_path("4.1.0")).startswith("manyfold_2.13-")


def test_jar_path_names_the_bundled_jars_for_an_unknown_spark():
    with pytest.raises(FileNotFoundError, match="no jar for Spark 9.0.0.*bundled: manyfold_2.12"):
        manyfold.jar_path("9.0.0")


def test_configure_adds_the_jar_and_keeps_other_jars():
    builder = SparkSession.Builder().config("spark.jars", "/opt/other.jar")
    manyfold.configure(builder)
    manyfold.configure(builder)  # twice: the jar once
    assert builder._options["spark.jars"] == "/opt/other.jar," + manyfold.jar_path()


def test_the_session_has_the_jar(spark):
    manyfold.check_jar(spark)
    assert manyfold.jar_path() in spark.conf.get("spark.jars")


def test_without_the_jar_stages_say_how_to_attach_it():
    # A Spark session without the jar needs its own JVM: a separate Python process.
    script = textwrap.dedent(
        """
        from pyspark.sql import SparkSession
        import manyfold
        from manyfold.ml import LinearRegression, LinearRegressionModel, Grouped
        spark = (SparkSession.builder.master("local[1]")
                 .config("spark.ui.enabled", "false").getOrCreate())
        for make in (lambda: LinearRegression(inputCols=["x"]),
                     lambda: LinearRegressionModel.load("/nonexistent"),
                     lambda: Grouped(None).setGroupCols(["g"])._to_java()):
            try:
                make()
                print("NO-ERROR")
            except manyfold.JarNotAttachedError as e:
                print("ERROR:", e)
            except ValueError as e:
                print("VALUE-ERROR:", e)
        spark.stop()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith(("ERROR", "NO-", "VALUE"))]
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(lines) == 3, out.stdout + out.stderr[-3000:]
    for line in lines[:2]:
        assert line.startswith("ERROR: manyfold's jar is not attached to this Spark session")
        assert "manyfold.configure(SparkSession.builder)" in line
        assert "cluster library" in line
    # Grouped without an estimator fails on that before reaching the JVM.
    assert lines[2].startswith("VALUE-ERROR: Grouped has no estimator")


# The jar of the other Spark line than the installed pyspark's: its Scala version differs.
OTHER_SCALA = "2.12" if SCALA == "2.13" else "2.13"
OTHER_SCALA_JAR = os.path.join(
    os.path.dirname(__file__), "..", "..", "target", "jar", "manyfold_%s-0.1.0.jar" % OTHER_SCALA
)


@pytest.mark.skipif(
    not os.path.exists(OTHER_SCALA_JAR), reason="the other Spark line's jar is not built (make jars)"
)
def test_a_jar_for_the_other_scala_version_names_both_versions():
    # The installed Spark with the other line's jar, in its own JVM.
    script = textwrap.dedent(
        f"""
        from pyspark.sql import SparkSession
        import manyfold
        from manyfold.ml import LinearRegression
        spark = (SparkSession.builder.master("local[1]").config("spark.jars", {OTHER_SCALA_JAR!r})
                 .config("spark.ui.enabled", "false").getOrCreate())
        try:
            LinearRegression(inputCols=["x"])
            print("NO-ERROR")
        except manyfold.WrongJarError as e:
            print("ERROR:", e)
        spark.stop()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith(("ERROR", "NO-"))]
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(lines) == 1, out.stdout + out.stderr[-3000:]
    built = {"2.12": "Scala 2.12 (Spark 3.5.7)", "2.13": "Scala 2.13 (Spark 4.1.0)"}
    line = {"2.12": "manyfold_2.12 (Spark 3.5)", "2.13": "manyfold_2.13 (Spark 4)"}
    assert "manyfold_%s-0.1.0.jar was built for %s" % (OTHER_SCALA, built[OTHER_SCALA]) in lines[0]
    assert "runs Scala %s." % SCALA in lines[0]
    assert line[SCALA] in lines[0]
