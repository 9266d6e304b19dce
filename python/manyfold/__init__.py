"""manyfold for PySpark: many small models trained and predicted natively.

The wheel carries manyfold's jar (the Spark stages and the native library inside it). Attach it
to a new session::

    from pyspark.sql import SparkSession
    import manyfold

    spark = manyfold.configure(SparkSession.builder.master("local[2]")).getOrCreate()

On a cluster that is already running (Databricks), install the jar as a cluster library (its path
is ``manyfold.jar_path()``) and this package as a PyPI or workspace library. The estimators are in
:mod:`manyfold.ml`.
"""

import glob
import os
from typing import Any, Dict, List, Optional

__version__ = "0.1.0"

__all__ = ["configure", "jar_path", "bundled_jars", "check_jar", "session", "JarNotAttachedError"]

_JARS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jars")

# Spark's major version decides the Scala version of the jar: Spark 3.x is built for Scala 2.12,
# Spark 4.x for Scala 2.13.
_SCALA_FOR_SPARK = {"3": "2.12", "4": "2.13"}

ATTACH_HINT = (
    "start the session with manyfold.configure(SparkSession.builder) (or set spark.jars="
    "manyfold.jar_path() / spark-submit --jars <jar>), or on Databricks install the jar as a "
    "cluster library"
)


class JarNotAttachedError(RuntimeError):
    """The Spark session has no manyfold classes: the jar is not on its classpath."""


class WrongJarError(RuntimeError):
    """The attached jar was built for another Scala version or Spark line than the session's."""


def bundled_jars() -> List[str]:
    """The manyfold jars inside this package, by file name."""
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(_JARS_DIR, "*.jar")))


def jar_path(spark_version: Optional[str] = None) -> str:
    """The path of the bundled jar for a Spark version (default: the installed pyspark's).

    Raises FileNotFoundError when no bundled jar fits that Spark version, naming the jars that
    are bundled.
    """
    if spark_version is None:
        import pyspark

        spark_version = pyspark.__version__
    major = spark_version.split(".")[0]
    scala = _SCALA_FOR_SPARK.get(major)
    matches = sorted(glob.glob(os.path.join(_JARS_DIR, "manyfold_%s-*.jar" % scala)))
    if scala is None or not matches:
        raise FileNotFoundError(
            "this manyfold package has no jar for Spark %s (Scala %s); bundled: %s"
            % (spark_version, scala or "unknown", ", ".join(bundled_jars()) or "none")
        )
    return matches[-1]


def configure(builder: Any) -> Any:
    """Adds the bundled jar to a ``SparkSession.builder`` (``spark.jars``) and returns it.

    Call it before the session's first ``getOrCreate()``: jars cannot be added to a running
    Spark context. Jars already set with ``spark.jars`` on this builder are kept.
    """
    path = jar_path()
    options: Dict[str, Any] = getattr(builder, "_options", {}) or {}
    existing = [j for j in str(options.get("spark.jars", "")).split(",") if j]
    if path not in existing:
        existing.append(path)
    return builder.config("spark.jars", ",".join(existing))


def session(app_name: str = "manyfold", master: str = "local[2]") -> Any:
    """The active SparkSession (e.g. a Databricks notebook's), else a new one with the jar.

    A new session runs on ``master`` with few shuffle partitions and no UI, for scripts and
    tests, its Python workers on this interpreter (unless PYSPARK_PYTHON says otherwise); it is
    checked to have the manyfold classes either way.
    """
    import sys

    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        builder = (
            SparkSession.builder.appName(app_name)
            .master(master)
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        # pyspark starts its Python workers with PYSPARK_PYTHON, else "python3" from PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = configure(builder).getOrCreate()
    check_jar(spark)
    return spark


_checked_contexts: set = set()


def check_jar(spark: Any = None) -> None:
    """Raises JarNotAttachedError, saying how to attach the jar, unless the active Spark session
    (or ``spark``) has manyfold's classes. Called before manyfold creates any Java object."""
    from pyspark import SparkContext

    sc = spark.sparkContext if spark is not None else SparkContext._active_spark_context
    if sc is None:
        raise RuntimeError(
            "no active Spark session: create one first, e.g. "
            "manyfold.configure(SparkSession.builder).getOrCreate()"
        )
    key = id(sc._jsc)
    if key in _checked_contexts:
        return
    from py4j.java_gateway import JavaClass

    jvm = sc._jvm
    # manyfold.Compat (Java APIs only) loads on any Scala version: its check of the running Scala
    # and Spark comes before any stage class is touched, which for the wrong Scala version would
    # fail to link (a NoClassDefFoundError that also drops py4j's connection).
    from py4j.protocol import Py4JJavaError

    compat = jvm.manyfold.Compat
    if not isinstance(compat, JavaClass):
        raise JarNotAttachedError(
            "manyfold's jar is not attached to this Spark session (the JVM has no class "
            "manyfold.Compat): " + ATTACH_HINT + ". The bundled jar: " + _jar_or_none()
        )
    try:
        compat.check()
    except Py4JJavaError as e:
        raise WrongJarError(str(e.java_exception.getMessage())) from None
    _checked_contexts.add(key)


def _jar_or_none() -> str:
    try:
        return jar_path()
    except FileNotFoundError as e:
        return str(e)
