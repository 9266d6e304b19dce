"""Clustering: manyfold's :py:class:`KMeans` (Scala ``manyfold.ml.clustering``)."""

from typing import Any, Dict, List, Optional

import numpy as np
from pyspark import keyword_only
from pyspark.ml.common import inherit_doc
from pyspark.ml.linalg import Vector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasFeaturesCol, HasMaxIter, HasPredictionCol, HasTol
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaModel

from manyfold.ml._common import NativeModelMixin
from manyfold.ml._wrapper import ManyfoldMLReadable, new_java_obj, with_accessors
from manyfold.ml.param import HasInputCols, HasSeed, to_string

__all__ = ["KMeans", "KMeansModel"]

_KMEANS = ("featuresCol", "predictionCol", "inputCols", "k", "initMode", "nInit", "maxIter",
           "tol", "seed")


@with_accessors(*_KMEANS, setters=False)
class _KMeansParams(
    HasFeaturesCol, HasPredictionCol, HasInputCols, HasMaxIter, HasTol, HasSeed
):
    """Params of :py:class:`KMeans` and its model: k centers minimizing the inertia, initialized
    by k-means++ or random rows, then Lloyd iterations. No sample weights."""

    k: "Param[int]" = Param(
        Params._dummy(),
        "k",
        "number of clusters (>= 2; a group with fewer rows than k fails). Default: 2",
        typeConverter=TypeConverters.toInt,
    )
    initMode: "Param[str]" = Param(
        Params._dummy(),
        "initMode",
        "initialization: k-means++ or random (k distinct rows). Default: k-means++ (Spark's "
        "k-means|| is not offered: its native centers depend on the thread count)",
        typeConverter=to_string,
    )
    nInit: "Param[int]" = Param(
        Params._dummy(),
        "nInit",
        "number of runs from different initial centers, the one of lowest inertia kept (>= 1). "
        "Default: 1",
        typeConverter=TypeConverters.toInt,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(k=2, maxIter=20, tol=1e-4, initMode="k-means++", nInit=1)


@inherit_doc
@with_accessors(*_KMEANS, getters=False)
class KMeans(JavaEstimator["KMeansModel"], _KMeansParams, JavaMLWritable,
             ManyfoldMLReadable["KMeans"]):
    """k-means clustering trained natively: a Spark ``Estimator`` (it takes no label). Wrapped in
    :py:class:`manyfold.ml.Grouped`, one clustering per group."""

    _java_class = "manyfold.ml.clustering.KMeans"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        featuresCol: str = "features",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        k: int = 2,
        initMode: str = "k-means++",
        nInit: int = 1,
        maxIter: int = 20,
        tol: float = 1e-4,
        seed: int = 0,
    ):
        super().__init__()
        self._java_obj = new_java_obj(self._java_class, self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        featuresCol: str = "features",
        predictionCol: str = "prediction",
        inputCols: Optional[List[str]] = None,
        k: int = 2,
        initMode: str = "k-means++",
        nInit: int = 1,
        maxIter: int = 20,
        tol: float = 1e-4,
        seed: int = 0,
    ) -> "KMeans":
        """Sets params for k-means (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model: Any) -> "KMeansModel":
        return KMeansModel(java_model)


@inherit_doc
@with_accessors("featuresCol", "predictionCol", getters=False)
class KMeansModel(JavaModel, _KMeansParams, NativeModelMixin, JavaMLWritable,
                  ManyfoldMLReadable["KMeansModel"]):
    """A fitted k-means model: ``prediction`` is the (integer) index of the nearest center."""

    _java_class = "manyfold.ml.clustering.KMeansModel"

    def clusterCenters(self) -> List[np.ndarray]:
        """The cluster centers, k of them, in the order of the cluster indices (numpy arrays, as
        pyspark's ``KMeansModel.clusterCenters()``)."""
        return [c.toArray() for c in self._call_java("clusterCenters")]

    @property
    def trainingCost(self) -> float:
        """The inertia of the training rows (scikit-learn's ``inertia_``)."""
        return self._call_java("trainingCost")

    @property
    def numFeatures(self) -> int:
        """The number of features the model expects."""
        return self._call_java("numFeatures")

    def predict(self, value: Vector) -> int:
        """The index of the nearest center of one feature vector."""
        return self._call_java("predict", value)
