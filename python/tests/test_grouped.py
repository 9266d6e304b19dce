"""Grouped / GroupedModel from Python: per-group models against scikit-learn, the models table as
a PySpark DataFrame, failed groups, save and load."""

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import DataFrame
from sklearn.linear_model import LinearRegression as SkLinearRegression

from conftest import FEATURES
from manyfold.ml import (
    Grouped,
    GroupedModel,
    LinearRegression,
    LinearRegressionModel,
    LogisticRegression,
)


@pytest.fixture(scope="module")
def grouped_model(linear_df):
    est = LinearRegression(inputCols=FEATURES, labelCol="y", predictionCol="yhat")
    return Grouped(est, groupCols=["g"]).fit(linear_df)


def test_per_group_models_match_scikit_learn(spark, linear_pdf, linear_df, grouped_model):
    assert isinstance(grouped_model, GroupedModel)
    models = grouped_model.models
    assert isinstance(models, DataFrame)
    assert models.columns[:3] == ["g", "model", "rows"]
    table = models.orderBy("g").toPandas()
    assert list(table["g"]) == ["a", "b", "c"] and set(table["status"]) == {"ok"}
    assert grouped_model.numGroups == 3 and grouped_model.numFeatures == 3
    assert grouped_model.groupColumns == ["g"] and grouped_model.getGroupCols() == ["g"]
    predictions = grouped_model.transform(linear_df).toPandas()
    for g, part in linear_pdf.groupby("g"):
        reference = SkLinearRegression().fit(part[FEATURES], part["y"])
        model = grouped_model.model(g)
        assert isinstance(model, LinearRegressionModel)
        np.testing.assert_allclose(model.coefficients.toArray(), reference.coef_, atol=1e-9)
        from_table = LinearRegressionModel.fromBytes(
            bytes(table.loc[table.g == g, "model"].iloc[0]))
        assert list(from_table.coefficients) == list(model.coefficients)
        mine = predictions[predictions.g == g].sort_values(["x0"])
        np.testing.assert_allclose(
            mine["yhat"], reference.predict(mine[FEATURES]), atol=1e-9)
    assert grouped_model.estimator.getPredictionCol() == "yhat"


def test_unknown_and_failed_groups(spark, linear_pdf):
    pdf = linear_pdf.copy()
    pdf["label"] = (pdf["y"] > 0).astype(float)
    pdf.loc[pdf.g == "c", "label"] = 1.0  # a single class: group c cannot be trained
    df = spark.createDataFrame(pdf)
    est = LogisticRegression(inputCols=FEATURES, labelCol="label")
    model = Grouped(est, groupCols=["g"]).fit(df)
    table = model.models.orderBy("g").toPandas()
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "class" in table["error"].iloc[2]
    with pytest.raises(Exception, match="group g=c failed"):
        model.model("c")
    with pytest.raises(Exception, match="no group g=z"):
        model.model("z")
    with pytest.raises(ValueError, match="one value per group column"):
        model.model("a", 1)
    out = model.transform(df).where("g = 'c'").select("prediction").toPandas()
    assert out["prediction"].isna().all()
    with pytest.raises(Exception, match="group g=c failed"):
        Grouped(est, groupCols=["g"], failOnGroupError=True).fit(df)


def test_save_and_load(spark, tmp_path, linear_df, grouped_model):
    grouped = Grouped(LinearRegression(inputCols=FEATURES, labelCol="y", regParam=0.1),
                      groupCols=["g"], maxRowsPerGroup=500)
    grouped.write().overwrite().save(str(tmp_path / "grouped"))
    loaded = Grouped.load(str(tmp_path / "grouped"))
    assert isinstance(loaded, Grouped) and loaded.uid == grouped.uid
    assert loaded.getGroupCols() == ["g"] and loaded.getMaxRowsPerGroup() == 500
    assert isinstance(loaded.getEstimator(), LinearRegression)
    assert loaded.getEstimator().getRegParam() == 0.1
    grouped_model.write().overwrite().save(str(tmp_path / "model"))
    again = GroupedModel.load(str(tmp_path / "model"))
    a = grouped_model.transform(linear_df).orderBy("g", "x0").toPandas()
    b = again.transform(linear_df).orderBy("g", "x0").toPandas()
    pd.testing.assert_frame_equal(a, b)
    assert again.model("b").modelBytes == grouped_model.model("b").modelBytes


def test_copy_copies_the_estimator(spark):
    grouped = Grouped(LinearRegression(inputCols=FEATURES), groupCols=["g"])
    twin = grouped.copy({grouped.numPartitions: 3})
    assert twin.getNumPartitions() == 3 and grouped.getNumPartitions() == 0
    assert twin.getEstimator() is not grouped.getEstimator()
    assert twin.getEstimator().uid == grouped.getEstimator().uid
