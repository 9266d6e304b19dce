"""Classification: manyfold's :py:class:`LogisticRegression`, :py:class:`NaiveBayes` and
:py:class:`SVC` (Scala ``manyfold.ml.classification``), trained and predicted natively. Labels may
be any numeric values: the classes are the sorted distinct labels, and the prediction is one of
those label values."""

from typing import Any, Dict, List, Optional

from pyspark import keyword_only
from pyspark.ml.classification import (
    _JavaProbabilisticClassificationModel,
    _JavaProbabilisticClassifier,
    _ProbabilisticClassifierParams,
)
from pyspark.ml.common import inherit_doc
from pyspark.ml.linalg import Matrix, Vector
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
from pyspark.ml.util import JavaMLWritable

from manyfold.ml._common import NativeModelMixin
from manyfold.ml._wrapper import ManyfoldMLReadable, new_java_obj, with_accessors
from manyfold.ml.param import HasInputCols, HasSeed, to_number_string, to_string

__all__ = [
    "LogisticRegression",
    "LogisticRegressionModel",
    "NaiveBayes",
    "NaiveBayesModel",
    "SVC",
    "SVCModel",
]


class _NativeClassificationModelMixin(NativeModelMixin):
    @property
    def classes(self) -> List[float]:
        """The class labels, sorted: the distinct label values seen in training."""
        return list(self._java_obj.classes())


_LOGISTIC = (
    "inputCols",
    "regParam",
    "elasticNetParam",
    "weightCol",
    "maxIter",
    "tol",
    "fitIntercept",
    "standardization",
    "family",
)


@with_accessors(*_LOGISTIC, setters=False)
class _LogisticRegressionParams(
    _ProbabilisticClassifierParams,
    HasInputCols,
    HasRegParam,
    HasElasticNetParam,
    HasWeightCol,
    HasMaxIter,
    HasTol,
    HasFitIntercept,
    HasStandardization,
):
    """Params of :py:class:`LogisticRegression` and its model: Spark's objective, the weighted mean
    log loss plus an elastic net penalty (Newton's method, proximal Newton with an L1 part)."""

    family: "Param[str]" = Param(
        Params._dummy(),
        "family",
        "label distribution: auto (binomial for two classes, else multinomial), binomial or "
        "multinomial. Default: auto",
        typeConverter=to_string,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=100, tol=1e-6, family="auto", regParam=0.0)


@inherit_doc
@with_accessors(*_LOGISTIC, "thresholds", getters=False)
class LogisticRegression(
    _JavaProbabilisticClassifier["LogisticRegressionModel"],
    _LogisticRegressionParams,
    JavaMLWritable,
    ManyfoldMLReadable["LogisticRegression"],
):
    """Logistic regression, binomial or multinomial, with an optional elastic net penalty and
    sample weights, trained natively: a Spark ``ProbabilisticClassifier``."""

    _java_class = "manyfold.ml.classification.LogisticRegression"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        maxIter: int = 100,
        regParam: float = 0.0,
        elasticNetParam: float = 0.0,
        tol: float = 1e-6,
        fitIntercept: bool = True,
        standardization: bool = True,
        family: str = "auto",
        thresholds: Optional[List[float]] = None,
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
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        maxIter: int = 100,
        regParam: float = 0.0,
        elasticNetParam: float = 0.0,
        tol: float = 1e-6,
        fitIntercept: bool = True,
        standardization: bool = True,
        family: str = "auto",
        thresholds: Optional[List[float]] = None,
        weightCol: Optional[str] = None,
    ) -> "LogisticRegression":
        """Sets params for logistic regression (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "LogisticRegressionModel":
        return LogisticRegressionModel(java_model)


@inherit_doc
class LogisticRegressionModel(
    _JavaProbabilisticClassificationModel[Vector],
    _LogisticRegressionParams,
    _NativeClassificationModelMixin,
    JavaMLWritable,
    ManyfoldMLReadable["LogisticRegressionModel"],
):
    """A fitted logistic regression; ``rawPrediction`` and ``probability`` are in the order of
    :py:attr:`classes`."""

    _java_class = "manyfold.ml.classification.LogisticRegressionModel"

    @property
    def coefficientMatrix(self) -> Matrix:
        """One row of coefficients per class (a single row for a binomial model)."""
        return self._call_java("coefficientMatrix")

    @property
    def interceptVector(self) -> Vector:
        """One intercept per row of :py:attr:`coefficientMatrix`."""
        return self._call_java("interceptVector")

    @property
    def coefficients(self) -> Vector:
        """The coefficients of a binomial model (a multinomial one raises: use
        :py:attr:`coefficientMatrix`)."""
        return self._call_java("coefficients")

    @property
    def intercept(self) -> float:
        """The intercept of a binomial model."""
        return self._call_java("intercept")

    @property
    def isMultinomial(self) -> bool:
        """Whether the model has one row of coefficients per class."""
        return self._call_java("isMultinomial")

    @property
    def converged(self) -> bool:
        """Whether the optimizer met tol (false when it stopped at maxIter or could decrease the
        objective no further, as scikit-learn's ConvergenceWarning)."""
        return self._call_java("converged")

    @property
    def numIterations(self) -> int:
        """The optimizer iterations used."""
        return self._call_java("numIterations")


_NAIVE_BAYES = ("inputCols", "weightCol", "modelType", "varSmoothing")


@with_accessors(*_NAIVE_BAYES, setters=False)
class _NaiveBayesParams(_ProbabilisticClassifierParams, HasInputCols, HasWeightCol):
    """Params of :py:class:`NaiveBayes` and its model: Gaussian naive Bayes (scikit-learn's
    ``GaussianNB(var_smoothing)``)."""

    modelType: "Param[str]" = Param(
        Params._dummy(),
        "modelType",
        "model type: gaussian (the only one supported; Spark's multinomial, bernoulli and "
        "complement are not). Default: gaussian",
        typeConverter=to_string,
    )
    varSmoothing: "Param[float]" = Param(
        Params._dummy(),
        "varSmoothing",
        "share of the largest feature variance added to every class variance (finite, >= 0). "
        "Default: 1e-9",
        typeConverter=TypeConverters.toFloat,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(modelType="gaussian", varSmoothing=1e-9)


@inherit_doc
@with_accessors(*_NAIVE_BAYES, "thresholds", getters=False)
class NaiveBayes(
    _JavaProbabilisticClassifier["NaiveBayesModel"],
    _NaiveBayesParams,
    JavaMLWritable,
    ManyfoldMLReadable["NaiveBayes"],
):
    """Gaussian naive Bayes, optionally weighted, trained natively: a Spark
    ``ProbabilisticClassifier``."""

    _java_class = "manyfold.ml.classification.NaiveBayes"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        modelType: str = "gaussian",
        varSmoothing: float = 1e-9,
        thresholds: Optional[List[float]] = None,
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
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        modelType: str = "gaussian",
        varSmoothing: float = 1e-9,
        thresholds: Optional[List[float]] = None,
        weightCol: Optional[str] = None,
    ) -> "NaiveBayes":
        """Sets params for naive Bayes (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "NaiveBayesModel":
        return NaiveBayesModel(java_model)


@inherit_doc
class NaiveBayesModel(
    _JavaProbabilisticClassificationModel[Vector],
    _NaiveBayesParams,
    _NativeClassificationModelMixin,
    JavaMLWritable,
    ManyfoldMLReadable["NaiveBayesModel"],
):
    """A fitted Gaussian naive Bayes model."""

    _java_class = "manyfold.ml.classification.NaiveBayesModel"

    @property
    def pi(self) -> Vector:
        """The log of the class priors, one per class (Spark's ``pi``)."""
        return self._call_java("pi")

    @property
    def theta(self) -> Matrix:
        """The class means: one row per class, one column per feature."""
        return self._call_java("theta")

    @property
    def sigma(self) -> Matrix:
        """The smoothed class variances, shaped as :py:attr:`theta`."""
        return self._call_java("sigma")


_SVC = (
    "inputCols",
    "cost",
    "kernel",
    "gamma",
    "degree",
    "coef0",
    "shrinking",
    "probability",
    "maxIter",
    "tol",
    "seed",
    "weightCol",
)


@with_accessors(*_SVC, setters=False)
class _SVCParams(
    _ProbabilisticClassifierParams, HasInputCols, HasMaxIter, HasTol, HasSeed, HasWeightCol
):
    """Params of :py:class:`SVC` and its model: scikit-learn's ``SVC`` (libsvm's C-SVC)."""

    cost: "Param[float]" = Param(
        Params._dummy(),
        "cost",
        "penalty on margin violations (scikit-learn's C, libsvm's -c; larger regularizes less). "
        "Finite, > 0. Default: 1.0",
        typeConverter=TypeConverters.toFloat,
    )
    kernel: "Param[str]" = Param(
        Params._dummy(),
        "kernel",
        "kernel: linear, rbf, poly or sigmoid. Default: rbf",
        typeConverter=to_string,
    )
    gamma: "Param[str]" = Param(
        Params._dummy(),
        "gamma",
        "kernel coefficient of rbf, poly and sigmoid: scale (1 / (p * var(X))), auto (1 / p) or a "
        "finite number > 0 (a number or a string). Default: scale",
        typeConverter=to_number_string,
    )
    degree: "Param[int]" = Param(
        Params._dummy(),
        "degree",
        "degree of the poly kernel. >= 1. Default: 3",
        typeConverter=TypeConverters.toInt,
    )
    coef0: "Param[float]" = Param(
        Params._dummy(),
        "coef0",
        "constant term of the poly and sigmoid kernels. Finite. Default: 0.0",
        typeConverter=TypeConverters.toFloat,
    )
    shrinking: "Param[bool]" = Param(
        Params._dummy(),
        "shrinking",
        "whether the solver shrinks its active set (libsvm's heuristic, same optimum). "
        "Default: true",
        typeConverter=TypeConverters.toBoolean,
    )
    probability: "Param[bool]" = Param(
        Params._dummy(),
        "probability",
        "whether to fit class probabilities (Platt scaling on an internal 5-fold "
        "cross-validation; at least 5 rows per class). Without it there is no probability "
        "column. Default: false",
        typeConverter=TypeConverters.toBoolean,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(
            cost=1.0,
            kernel="rbf",
            gamma="scale",
            degree=3,
            coef0=0.0,
            shrinking=True,
            tol=1e-3,
            maxIter=0,
            probability=False,
        )


@inherit_doc
@with_accessors(*_SVC, "thresholds", getters=False)
class SVC(
    _JavaProbabilisticClassifier["SVCModel"],
    _SVCParams,
    JavaMLWritable,
    ManyfoldMLReadable["SVC"],
):
    """Kernel support vector classification (C-SVC), two or more classes, with optional
    Platt-scaled probabilities and sample weights, trained natively as libsvm does
    (scikit-learn's ``SVC``): a Spark ``ProbabilisticClassifier``."""

    _java_class = "manyfold.ml.classification.SVC"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        labelCol: str = "label",
        predictionCol: str = "prediction",
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        cost: float = 1.0,
        kernel: str = "rbf",
        gamma: Any = "scale",
        degree: int = 3,
        coef0: float = 0.0,
        shrinking: bool = True,
        probability: bool = False,
        maxIter: int = 0,
        tol: float = 1e-3,
        seed: int = 0,
        thresholds: Optional[List[float]] = None,
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
        probabilityCol: str = "probability",
        rawPredictionCol: str = "rawPrediction",
        inputCols: Optional[List[str]] = None,
        cost: float = 1.0,
        kernel: str = "rbf",
        gamma: Any = "scale",
        degree: int = 3,
        coef0: float = 0.0,
        shrinking: bool = True,
        probability: bool = False,
        maxIter: int = 0,
        tol: float = 1e-3,
        seed: int = 0,
        thresholds: Optional[List[float]] = None,
        weightCol: Optional[str] = None,
    ) -> "SVC":
        """Sets params for SVC (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "SVCModel":
        return SVCModel(java_model)


@inherit_doc
class SVCModel(
    _JavaProbabilisticClassificationModel[Vector],
    _SVCParams,
    _NativeClassificationModelMixin,
    JavaMLWritable,
    ManyfoldMLReadable["SVCModel"],
):
    """A fitted SVC: ``rawPrediction`` has one score per class in the order of
    :py:attr:`classes`; ``probability`` (with probability on) the coupled Platt probabilities."""

    _java_class = "manyfold.ml.classification.SVCModel"

    @property
    def supportCounts(self) -> List[int]:
        """The support vectors per class, in the order of :py:attr:`classes`."""
        return list(self._java_obj.supportCounts())

    @property
    def numSupportVectors(self) -> int:
        """All support vectors."""
        return self._call_java("numSupportVectors")

    @property
    def resolvedGamma(self) -> float:
        """The kernel's gamma as resolved at fit time."""
        return self._call_java("resolvedGamma")

    @property
    def hasProbability(self) -> bool:
        """Whether the model holds probabilities (it was fitted with probability on)."""
        return self._call_java("hasProbability")

    @property
    def converged(self) -> bool:
        """Whether every SMO run met tol."""
        return self._call_java("converged")

    @property
    def numIterations(self) -> int:
        """The SMO iterations, summed over the pairwise problems."""
        return self._call_java("numIterations")
