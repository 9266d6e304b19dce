"""manyfold stages inside pyspark's own tools: Pipeline (and PipelineModel save/load),
CrossValidator with ParamGridBuilder and an evaluator."""

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.tuning import CrossValidator, CrossValidatorModel, ParamGridBuilder

from conftest import FEATURES
from manyfold.ml import Grouped, GroupedModel, LinearRegression, LinearRegressionModel


def test_pipeline_with_a_model_saves_and_loads(spark, tmp_path, linear_df):
    pipeline = Pipeline(stages=[
        VectorAssembler(inputCols=FEATURES, outputCol="features"),
        LinearRegression(labelCol="y", regParam=0.05),
    ])
    fitted = pipeline.fit(linear_df)
    assert isinstance(fitted.stages[1], LinearRegressionModel)
    fitted.write().overwrite().save(str(tmp_path / "pm"))
    loaded = PipelineModel.load(str(tmp_path / "pm"))
    assert isinstance(loaded.stages[1], LinearRegressionModel)
    assert loaded.stages[1].getRegParam() == 0.05
    a = fitted.transform(linear_df).select("prediction").toPandas()
    b = loaded.transform(linear_df).select("prediction").toPandas()
    pd.testing.assert_frame_equal(a, b)
    pipeline.write().overwrite().save(str(tmp_path / "p"))
    again = Pipeline.load(str(tmp_path / "p"))
    assert isinstance(again.getStages()[1], LinearRegression)


def test_pipeline_with_grouped_saves_and_loads(spark, tmp_path, linear_df):
    pipeline = Pipeline(stages=[
        Grouped(LinearRegression(inputCols=FEATURES, labelCol="y"), groupCols=["g"]),
    ])
    fitted = pipeline.fit(linear_df)
    assert isinstance(fitted.stages[0], GroupedModel)
    fitted.write().overwrite().save(str(tmp_path / "pm"))
    loaded = PipelineModel.load(str(tmp_path / "pm"))
    assert isinstance(loaded.stages[0], GroupedModel)
    a = fitted.transform(linear_df).orderBy("g", "x0").toPandas()
    b = loaded.transform(linear_df).orderBy("g", "x0").toPandas()
    pd.testing.assert_frame_equal(a, b)
    pipeline.write().overwrite().save(str(tmp_path / "p"))
    stage = Pipeline.load(str(tmp_path / "p")).getStages()[0]
    assert isinstance(stage, Grouped) and stage.getGroupCols() == ["g"]


def test_pyspark_cross_validator_tunes_a_manyfold_estimator(spark, tmp_path, linear_df):
    lr = LinearRegression(inputCols=FEATURES, labelCol="y")
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 1.0]).build()
    cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=2, seed=1,
                        evaluator=RegressionEvaluator(labelCol="y"))
    model = cv.fit(linear_df.where("g = 'a'"))
    assert isinstance(model.bestModel, LinearRegressionModel)
    assert model.avgMetrics[0] < model.avgMetrics[1]  # no penalty fits this data better
    model.write().overwrite().save(str(tmp_path / "cv"))
    loaded = CrossValidatorModel.load(str(tmp_path / "cv"))
    assert isinstance(loaded.bestModel, LinearRegressionModel)
    np.testing.assert_allclose(loaded.avgMetrics, model.avgMetrics)
    assert loaded.bestModel.modelBytes == model.bestModel.modelBytes
