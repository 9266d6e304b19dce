"""MLflow's Spark flavour (mlflow.spark, local files, no tracking server) saves and loads manyfold
models, single and grouped, and its pyfunc predicts with them."""

import numpy as np
import pandas as pd

from conftest import FEATURES
from manyfold.ml import Grouped, GroupedModel, LinearRegression, LinearRegressionModel


def test_mlflow_spark_flavour_round_trip(spark, tmp_path, linear_pdf, linear_df):
    import mlflow.pyfunc
    import mlflow.spark

    single = LinearRegression(inputCols=FEATURES, labelCol="y").fit(linear_df.where("g = 'a'"))
    grouped = Grouped(LinearRegression(inputCols=FEATURES, labelCol="y"),
                      groupCols=["g"]).fit(linear_df)
    for name, model in [("single", single), ("grouped", grouped)]:
        # Given requirements: MLflow does not infer them (slow, and not what is tested here).
        mlflow.spark.save_model(model, str(tmp_path / name), pip_requirements=["manyfold"])
    back = mlflow.spark.load_model(str(tmp_path / "single"))
    assert isinstance(back.stages[0], LinearRegressionModel)
    assert back.stages[0].modelBytes == single.modelBytes
    back = mlflow.spark.load_model(str(tmp_path / "grouped"))
    assert isinstance(back.stages[0], GroupedModel)
    a = grouped.transform(linear_df).orderBy("g", "x0").toPandas()
    b = back.transform(linear_df).orderBy("g", "x0").toPandas()
    pd.testing.assert_frame_equal(a, b)
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "single"))
    rows = linear_pdf[linear_pdf.g == "a"][FEATURES]
    expected = single.transform(linear_df.where("g = 'a'")).toPandas()["prediction"]
    np.testing.assert_allclose(np.asarray(pyfunc.predict(rows), dtype=float), expected,
                               atol=1e-12)
