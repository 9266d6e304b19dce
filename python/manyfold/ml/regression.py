"""Regression: manyfold's :py:class:`LinearRegression` and :py:class:`GeneralizedLinearRegression`
(Scala ``manyfold.ml.regression``), trained and predicted natively."""

from typing import Any, Dict, List, Optional

from pyspark import keyword_only
from pyspark.ml.base import _PredictorParams
from pyspark.ml.common import inherit_doc
from pyspark.ml.linalg import Vector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (
    HasElasticNetParam,
    HasFitIntercept,
    HasMaxIter,
    HasRegParam,
    HasStandardization,
    HasTol,
    HasWeightCol,
)
from pyspark.ml.regression import _JavaRegressionModel, _JavaRegressor
from pyspark.ml.util import JavaMLWritable

from manyfold.ml._common import NativeModelMixin
from manyfold.ml._wrapper import ManyfoldMLReadable, new_java_obj, with_accessors
from manyfold.ml.param import HasInputCols, to_string

__all__ = [
    "LinearRegression",
    "LinearRegressionModel",
    "GeneralizedLinearRegression",
    "GeneralizedLinearRegressionModel",
]

_LINEAR = (
    "inputCols",
    "regParam",
    "elasticNetParam",
    "maxIter",
    "tol",
    "fitIntercept",
    "standardization",
    "weightCol",
)


@with_accessors(*_LINEAR, setters=False)
class _LinearRegressionParams(
    _PredictorParams,
    HasInputCols,
    HasRegParam,
    HasElasticNetParam,
    HasMaxIter,
    HasTol,
    HasFitIntercept,
    HasStandardization,
    HasWeightCol,
):
    """Params of :py:class:`LinearRegression` and its model: Spark's ``LinearRegression``
    objective (least squares, ridge, lasso or elastic net, optionally weighted); without an L1
    part the fit is closed-form, with one coordinate descent bounded by maxIter and tol."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=100, tol=1e-6, regParam=0.0)


@inherit_doc
@with_accessors(*_LINEAR, getters=False)
class LinearRegression(
    _JavaRegressor["LinearRegressionModel"],
    _LinearRegressionParams,
    JavaMLWritable,
    ManyfoldMLReadable["LinearRegression"],
):
    """Linear regression trained natively, a Spark ``Regressor``. Fit it on a whole DataFrame (one
    model, in one task) or wrap it in :py:class:`manyfold.ml.Grouped` for one model per group.

    >>> lr = LinearRegression(inputCols=["x1", "x2"], labelCol="y", regParam=0.1)
    >>> model = lr.fit(df)                                     # doctest: +SKIP
    >>> model.coefficients, model.intercept                    # doctest: +SKIP
    """

    _java_class = "manyfold.ml.regression.LinearRegression"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        maxIter: int = 100,
        regParam: float = 0.0,
        elasticNetParam: float = 0.0,
        tol: float = 1e-6,
        fitIntercept: bool = True,
        standardization: bool = True,
        weightCol: Optional[str] = None,
    ):
        super().__init__()
        self._java_obj = new_java_obj(self._java_class, self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        maxIter: int = 100,
        regParam: float = 0.0,
        elasticNetParam: float = 0.0,
        tol: float = 1e-6,
        fitIntercept: bool = True,
        standardization: bool = True,
        weightCol: Optional[str] = None,
    ) -> "LinearRegression":
        """Sets params for linear regression (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "LinearRegressionModel":
        return LinearRegressionModel(java_model)


@inherit_doc
class LinearRegressionModel(
    _JavaRegressionModel[Vector],
    _LinearRegressionParams,
    NativeModelMixin,
    JavaMLWritable,
    ManyfoldMLReadable["LinearRegressionModel"],
):
    """A fitted linear regression: ``prediction = coefficients . features + intercept``."""

    _java_class = "manyfold.ml.regression.LinearRegressionModel"

    @property
    def coefficients(self) -> Vector:
        """The coefficients, one per feature, on the original scale of the features (a
        ``DenseVector``; ``.toArray()`` gives a numpy array)."""
        return self._call_java("coefficients")

    @property
    def intercept(self) -> float:
        """The intercept (0.0 when fitIntercept was false)."""
        return self._call_java("intercept")


_GLM = (
    "inputCols",
    "family",
    "variancePower",
    "link",
    "regParam",
    "fitIntercept",
    "maxIter",
    "tol",
    "weightCol",
)


@with_accessors(*_GLM, setters=False)
class _GeneralizedLinearRegressionParams(
    _PredictorParams,
    HasInputCols,
    HasRegParam,
    HasFitIntercept,
    HasMaxIter,
    HasTol,
    HasWeightCol,
):
    """Params of :py:class:`GeneralizedLinearRegression` and its model: a GLM of the Tweedie
    family (scikit-learn's ``TweedieRegressor(power, link, alpha=regParam)``)."""

    family: "Param[str]" = Param(
        Params._dummy(),
        "family",
        "label distribution: gaussian, poisson, gamma or tweedie (variance power variancePower). "
        "Default: gaussian",
        typeConverter=to_string,
    )
    variancePower: "Param[float]" = Param(
        Params._dummy(),
        "variancePower",
        "variance power of the tweedie family, read for family tweedie only: 0 (gaussian), 1 "
        "(poisson), 2 (gamma), or any finite value >= 1. Default: 0.0",
        typeConverter=TypeConverters.toFloat,
    )
    link: "Param[str]" = Param(
        Params._dummy(),
        "link",
        "link function: identity or log. Not set: identity for gaussian (and tweedie with "
        "variancePower 0), log otherwise. Default: not set",
        typeConverter=to_string,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(family="gaussian", variancePower=0.0, maxIter=25, tol=1e-6, regParam=0.0)


@inherit_doc
@with_accessors(*_GLM, getters=False)
class GeneralizedLinearRegression(
    _JavaRegressor["GeneralizedLinearRegressionModel"],
    _GeneralizedLinearRegressionParams,
    JavaMLWritable,
    ManyfoldMLReadable["GeneralizedLinearRegression"],
):
    """Generalized linear regression (gaussian, poisson, gamma or tweedie; identity or log link;
    optional L2 penalty and sample weights) trained natively, a Spark ``Regressor``. The
    prediction is the mean."""

    _java_class = "manyfold.ml.regression.GeneralizedLinearRegression"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        family: str = "gaussian",
        variancePower: float = 0.0,
        link: Optional[str] = None,
        regParam: float = 0.0,
        fitIntercept: bool = True,
        maxIter: int = 25,
        tol: float = 1e-6,
        weightCol: Optional[str] = None,
    ):
        super().__init__()
        self._java_obj = new_java_obj(self._java_class, self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        family: str = "gaussian",
        variancePower: float = 0.0,
        link: Optional[str] = None,
        regParam: float = 0.0,
        fitIntercept: bool = True,
        maxIter: int = 25,
        tol: float = 1e-6,
        weightCol: Optional[str] = None,
    ) -> "GeneralizedLinearRegression":
        """Sets params for generalized linear regression (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "GeneralizedLinearRegressionModel":
        return GeneralizedLinearRegressionModel(java_model)


@inherit_doc
class GeneralizedLinearRegressionModel(
    _JavaRegressionModel[Vector],
    _GeneralizedLinearRegressionParams,
    NativeModelMixin,
    JavaMLWritable,
    ManyfoldMLReadable["GeneralizedLinearRegressionModel"],
):
    """A fitted GLM: ``prediction = h(coefficients . features + intercept)``, the mean."""

    _java_class = "manyfold.ml.regression.GeneralizedLinearRegressionModel"

    @property
    def coefficients(self) -> Vector:
        """The coefficients, one per feature, on the original scale of the features."""
        return self._call_java("coefficients")

    @property
    def intercept(self) -> float:
        """The intercept (0.0 when fitIntercept was false)."""
        return self._call_java("intercept")

    def getLink(self) -> str:
        """The link the model was fitted with: the one set, else the family's default."""
        return self._call_java("getLink")

    @property
    def converged(self) -> bool:
        """Whether the largest gradient component met tol (false: maxIter stopped the fit)."""
        return self._call_java("converged")

    @property
    def numIterations(self) -> int:
        """The Newton / Fisher scoring steps taken."""
        return self._call_java("numIterations")
