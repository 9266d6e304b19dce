"""manyfold's Spark ML stages for PySpark, each backed by its Scala stage (same params, same
saved format): ``fit``/``transform``, ``write().save()``/``load()``, usable in pyspark's
``Pipeline``, ``CrossValidator`` and evaluators.

The Python modules mirror the Scala packages (``manyfold.ml.regression.LinearRegression`` is
Scala's ``manyfold.ml.regression.LinearRegression``), so that pyspark finds the Python class of
a stage it loads; every class is also importable from here.
"""

from manyfold.ml.classification import (
    SVC,
    LogisticRegression,
    LogisticRegressionModel,
    NaiveBayes,
    NaiveBayesModel,
    SVCModel,
)
from manyfold.ml.clustering import KMeans, KMeansModel
from manyfold.ml.grouped import Grouped, GroupedModel
from manyfold.ml.regression import (
    GeneralizedLinearRegression,
    GeneralizedLinearRegressionModel,
    LinearRegression,
    LinearRegressionModel,
)
from manyfold.ml.tuning import (
    NativeCrossValidator,
    NativeCrossValidatorModel,
    NativeTrainValidationSplit,
    NativeTrainValidationSplitModel,
    TimeSeriesCrossValidator,
    TimeSeriesCrossValidatorModel,
)

__all__ = [
    "LinearRegression",
    "LinearRegressionModel",
    "GeneralizedLinearRegression",
    "GeneralizedLinearRegressionModel",
    "LogisticRegression",
    "LogisticRegressionModel",
    "NaiveBayes",
    "NaiveBayesModel",
    "SVC",
    "SVCModel",
    "KMeans",
    "KMeansModel",
    "Grouped",
    "GroupedModel",
    "NativeCrossValidator",
    "NativeCrossValidatorModel",
    "TimeSeriesCrossValidator",
    "TimeSeriesCrossValidatorModel",
    "NativeTrainValidationSplit",
    "NativeTrainValidationSplitModel",
]
