"""The native searches from Python: metrics against pyspark's own CrossValidator on the same
folds, cvResults as a PySpark DataFrame, save and load, and a search per group."""

import numpy as np
import pytest
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from conftest import FEATURES
from manyfold.ml import (
    Grouped,
    LinearRegression,
    LinearRegressionModel,
    NativeCrossValidator,
    NativeCrossValidatorModel,
    NativeTrainValidationSplit,
    TimeSeriesCrossValidator,
)


@pytest.fixture(scope="module")
def folded(linear_df):
    # Noisier labels so that the penalty matters, and a fold column both searches use.
    return (linear_df.where("g = 'b'")
            .withColumn("y", F.col("y") + 3 * F.sin(F.col("x0") * 7))
            .withColumn("fold", (F.abs(F.hash("x0")) % 3).cast("int"))
            .withColumn("t", F.monotonically_increasing_id()))


def _search(lr):
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 0.5, 2.0]).build()
    return grid, RegressionEvaluator(labelCol="y", metricName="rmse")


def test_native_cross_validator_matches_pyspark_on_the_same_folds(spark, tmp_path, folded):
    lr = LinearRegression(inputCols=FEATURES, labelCol="y")
    grid, evaluator = _search(lr)
    native = NativeCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                                  numFolds=3, foldCol="fold", parallelism=2).fit(folded)
    spark_cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                              numFolds=3, foldCol="fold").fit(folded)
    assert isinstance(native, NativeCrossValidatorModel)
    np.testing.assert_allclose(native.avgMetrics, spark_cv.avgMetrics, rtol=1e-9)
    assert native.bestIndex == int(np.argmin(spark_cv.avgMetrics))
    assert native.bestParams == grid[native.bestIndex]
    assert isinstance(native.bestModel, LinearRegressionModel)
    assert native.bestModel.modelBytes == spark_cv.bestModel.modelBytes
    results = native.cvResults
    assert isinstance(results, DataFrame)
    table = results.toPandas()
    assert list(table["regParam"]) == [0.0, 0.5, 2.0]
    assert table.loc[table["rank"] == 1].index[0] == native.bestIndex
    np.testing.assert_allclose(table[["fold0", "fold1", "fold2"]].to_numpy(),
                               np.array(native.foldMetrics))
    assert native.folds.count() == 3
    out = native.transform(folded)
    assert "prediction" in out.columns
    native.write().overwrite().save(str(tmp_path / "cvm"))
    loaded = NativeCrossValidatorModel.load(str(tmp_path / "cvm"))
    assert loaded.avgMetrics == native.avgMetrics and loaded.bestIndex == native.bestIndex
    assert loaded.bestModel.modelBytes == native.bestModel.modelBytes
    assert loaded.getEstimatorParamMaps()[2][loaded.getEstimator().regParam] == 2.0
    assert loaded.cvResults.count() == 3


def test_search_estimator_saves_and_loads(spark, tmp_path):
    lr = LinearRegression(inputCols=FEATURES, labelCol="y")
    grid, evaluator = _search(lr)
    cv = NativeCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                              numFolds=4, seed=-5)
    cv.write().overwrite().save(str(tmp_path / "cv"))
    loaded = NativeCrossValidator.load(str(tmp_path / "cv"))
    assert loaded.getNumFolds() == 4 and loaded.getSeed() == -5
    assert len(loaded.getEstimatorParamMaps()) == 3
    assert isinstance(loaded.getEvaluator(), RegressionEvaluator)
    with pytest.raises(ValueError, match="has no estimator"):
        NativeCrossValidator(estimatorParamMaps=grid, evaluator=evaluator).fit(None)


def test_time_series_and_train_validation_searches(spark, folded):
    lr = LinearRegression(inputCols=FEATURES, labelCol="y")
    grid, evaluator = _search(lr)
    ts = TimeSeriesCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                                  timeCol="t", nSplits=3).fit(folded)
    assert ts.folds.count() == 3 and len(ts.avgMetrics) == 3
    tvs = NativeTrainValidationSplit(estimator=lr, estimatorParamMaps=grid,
                                     evaluator=evaluator, trainRatio=0.6).fit(folded)
    assert len(tvs.validationMetrics) == 3 and np.isfinite(tvs.validationMetrics).all()


def test_a_search_per_group(spark, linear_df):
    lr = LinearRegression(inputCols=FEATURES, labelCol="y")
    grid, evaluator = _search(lr)
    cv = NativeCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator)
    model = Grouped(cv, groupCols=["g"]).fit(linear_df)
    table = model.models.orderBy("g").toPandas()
    assert {"regParam", "cvMetric"} <= set(table.columns)
    assert list(table["status"]) == ["ok", "ok", "ok"]
    # This data is fitted best without a penalty in every group.
    assert list(table["regParam"]) == [0.0, 0.0, 0.0]
    assert isinstance(model.model("a"), LinearRegressionModel)
