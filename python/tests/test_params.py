"""Params: Python and Scala declare the same params with the same defaults, wrong Python types
fail in Python before any JVM call, and bad values get Scala's message naming the param."""

import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.tuning import ParamGridBuilder

from manyfold.ml import (
    SVC,
    GeneralizedLinearRegression,
    Grouped,
    KMeans,
    LinearRegression,
    LogisticRegression,
    NaiveBayes,
    NativeCrossValidator,
    NativeTrainValidationSplit,
    TimeSeriesCrossValidator,
)

ESTIMATORS = [LinearRegression, GeneralizedLinearRegression, LogisticRegression, NaiveBayes, SVC,
              KMeans]


def _java_value(java_obj, java_param):
    from pyspark import SparkContext
    from pyspark.ml.common import _java2py

    value = _java2py(SparkContext._active_spark_context, java_obj.getDefault(java_param).get())
    return list(value) if hasattr(value, "__iter__") and not isinstance(value, str) else value


def _same_params_and_defaults(py, java_obj):
    java_names = sorted(p.name() for p in java_obj.params())
    py_names = sorted(p.name for p in py.params)
    assert py_names == java_names, type(py).__name__
    for param in py.params:
        assert param.doc, (type(py).__name__, param.name)
        java_param = java_obj.getParam(param.name)
        if java_obj.hasDefault(java_param):
            assert py.hasDefault(param), (type(py).__name__, param.name)
            expected = _java_value(java_obj, java_param)
            assert py.getOrDefault(param) == expected, (type(py).__name__, param.name)
        else:
            assert not py.hasDefault(param), (type(py).__name__, param.name)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimators_declare_the_scala_params_and_defaults(spark, cls):
    est = cls()
    # A fresh Scala instance, not the wrapped one (which the wrapper may have touched).
    from manyfold.ml._wrapper import java_class

    fresh = java_class(cls._java_class)()
    _same_params_and_defaults(est, fresh)


def test_grouped_and_searches_declare_the_scala_params_and_defaults(spark):
    lr = LinearRegression(inputCols=["x0"], labelCol="y")
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0]).build()
    jvm = spark.sparkContext._jvm
    grouped = Grouped(lr)
    fresh = jvm.manyfold.ml.Grouped(lr._to_java())
    _same_params_and_defaults_except(grouped, fresh, {"estimator"})
    for cls, java in [
        (NativeCrossValidator, jvm.manyfold.ml.tuning.NativeCrossValidator()),
        (TimeSeriesCrossValidator, jvm.manyfold.ml.tuning.TimeSeriesCrossValidator()),
        (NativeTrainValidationSplit, jvm.manyfold.ml.tuning.NativeTrainValidationSplit()),
    ]:
        search = cls(estimator=lr, estimatorParamMaps=grid, evaluator=RegressionEvaluator())
        _same_params_and_defaults(search, java)


def _same_params_and_defaults_except(py, java_obj, skip):
    java_names = sorted(p.name() for p in java_obj.params())
    py_names = sorted(p.name for p in py.params if p.name not in skip)
    assert py_names == java_names
    for param in py.params:
        if param.name in skip:
            continue
        java_param = java_obj.getParam(param.name)
        assert py.getOrDefault(param) == _java_value(java_obj, java_param), param.name


class _NoJvm:
    """Stands for a stage's Scala object and records every use of it."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self.calls.append(name)
        return lambda *args: None


WRONG_TYPE = "(?i)could not convert|requires value of type"


def _raises_before_the_jvm(stage, setting, exception=TypeError, match=WRONG_TYPE):
    real, spy = stage._java_obj, _NoJvm()
    stage._java_obj = spy
    try:
        with pytest.raises(exception, match=match):
            setting(stage)
    finally:
        stage._java_obj = real
    assert spy.calls == []


@pytest.mark.parametrize(
    "make, setting",
    [
        (LinearRegression, lambda s: s.setRegParam("high")),
        (LinearRegression, lambda s: s.setMaxIter(2.5)),
        (LinearRegression, lambda s: s.setInputCols("x0")),
        (LinearRegression, lambda s: s.setInputCols(["x0", 1])),
        (LinearRegression, lambda s: s.setFitIntercept("yes")),
        (LogisticRegression, lambda s: s.setFamily(2)),
        (LogisticRegression, lambda s: s.setThresholds("0.5")),
        (SVC, lambda s: s.setGamma(True)),
        (SVC, lambda s: s.setGamma([0.1])),
        (SVC, lambda s: s.setDegree("3")),
        (KMeans, lambda s: s.setK(2.5)),
        (KMeans, lambda s: s.setSeed("s")),
        (NaiveBayes, lambda s: s.setVarSmoothing("tiny")),
        (GeneralizedLinearRegression, lambda s: s.setVariancePower("one")),
    ],
)
def test_wrong_types_raise_type_error_before_the_jvm(spark, make, setting):
    _raises_before_the_jvm(make(), setting)


def test_wrong_types_in_constructors_and_meta_stages(spark):
    with pytest.raises(TypeError):
        LinearRegression(regParam="high")
    with pytest.raises(TypeError, match="Grouped takes a manyfold estimator"):
        Grouped(object())
    from pyspark.ml.regression import LinearRegression as SparkLinearRegression

    with pytest.raises(TypeError, match="Grouped takes a manyfold estimator"):
        Grouped(SparkLinearRegression())
    # Grouped has no Scala object until fit or save: a wrong type fails in Python.
    grouped = Grouped(LinearRegression())
    with pytest.raises(TypeError):
        grouped.setGroupCols("g")
    with pytest.raises(TypeError):
        grouped.setMaxRowsPerGroup(1.5)
    with pytest.raises(TypeError):
        NativeCrossValidator(numFolds="3")


def test_gamma_takes_numbers_and_strings(spark):
    assert SVC(gamma=0.05).getGamma() == "0.05"
    assert SVC(gamma="auto").getGamma() == "auto"
    assert SVC(gamma=1).getGamma() == "1.0"


def test_invalid_values_get_the_scala_message_naming_the_param(spark, linear_df):
    with pytest.raises(IllegalArgumentException, match="regParam"):
        LinearRegression(inputCols=["x0"], labelCol="y", regParam=-1.0).fit(linear_df)
    with pytest.raises(IllegalArgumentException, match="kernel"):
        SVC(inputCols=["x0"], labelCol="y", kernel="cubic").fit(linear_df)
    with pytest.raises(IllegalArgumentException, match="'nope'"):
        LinearRegression(inputCols=["nope"], labelCol="y").fit(linear_df)
