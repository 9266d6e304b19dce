"""manyfold's estimators from a Spark Connect client (Spark 4): the jar on the Connect server
registers them for Spark's ML over Connect (META-INF/services/org.apache.spark.ml.Estimator), and
a pyspark.ml wrapper that names the Scala class fits, transforms and saves over Connect.

Run by tests/e2e/run.sh (the Spark 4 line): python connect_ml.py, with JAR (the Scala 2.13 jar)
and E2E_OUT (scratch directory). Prints "E2E-PASS connect-ml" when every check passed; prints
"connect-ml: not over Connect: ..." for what does not work yet (README, "Spark Connect").
"""

import os
import sys

from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasLabelCol, HasPredictionCol
from pyspark.ml.util import JavaMLReadable, JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaModel
from pyspark.sql import SparkSession, is_remote


class LinearRegression(JavaEstimator, HasLabelCol, HasPredictionCol):
    """A minimal Connect-side wrapper of manyfold.ml.regression.LinearRegression."""

    inputCols = Param(
        Params._dummy(), "inputCols", "numeric feature columns", TypeConverters.toListString
    )

    def __init__(self) -> None:
        super().__init__()
        self._java_obj = self._new_java_obj("manyfold.ml.regression.LinearRegression", self.uid)

    def setInputCols(self, value):
        return self._set(inputCols=value)

    def setLabelCol(self, value):
        return self._set(labelCol=value)

    def _create_model(self, java_model):
        return LinearRegressionModel(java_model)


class LinearRegressionModel(JavaModel, HasPredictionCol, JavaMLWritable, JavaMLReadable):
    pass


# Over Connect, pyspark names the Scala class of a model to load after the Python class's module.
LinearRegressionModel.__module__ = "manyfold.ml.regression"


def main() -> None:
    jar, out = os.environ["JAR"], os.environ["E2E_OUT"]
    spark = (
        SparkSession.builder.remote("local[2]")
        .config("spark.jars", jar)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    assert is_remote(), "not a Spark Connect session"
    print(f"connect-ml: Spark {spark.version} over Connect")
    # y = 2 x1 - 3 x2 + 1, exactly: least squares finds the coefficients to rounding.
    df = spark.range(200).selectExpr(
        "id", "cast(id % 17 as double) as x1", "cast(id % 5 as double) as x2"
    ).selectExpr("id", "x1", "x2", "2 * x1 - 3 * x2 + 1 as y")

    model = LinearRegression().setInputCols(["x1", "x2"]).setLabelCol("y").fit(df)
    rows = model.transform(df).select("x1", "x2", "prediction").collect()
    worst = max(abs(r.prediction - (2 * r.x1 - 3 * r.x2 + 1)) for r in rows)
    assert len(rows) == 200 and worst < 1e-9, f"{len(rows)} rows, worst error {worst}"
    print(f"connect-ml: fit and transform over Connect, worst error {worst:.3g}")

    path = os.path.join(out, "connect-linear")
    model.write().overwrite().save(path)
    assert os.path.isdir(os.path.join(path, "metadata")), "the model was not saved"
    print(f"connect-ml: saved over Connect to {path}")

    # What does not reach a third-party model over Connect yet: reported, not failed.
    for what, call in [
        ("the model's own attributes (coefficients)", lambda: model._call_java("coefficients")),
        ("loading a saved model by its class", lambda: LinearRegressionModel.load(path)),
    ]:
        try:
            call()
            print(f"connect-ml: works over Connect: {what}")
        except Exception as e:  # noqa: BLE001 - any failure is what is being reported
            first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            print(f"connect-ml: not over Connect: {what}: {type(e).__name__}: {first}")
    spark.stop()
    print("E2E-PASS connect-ml")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(1)
