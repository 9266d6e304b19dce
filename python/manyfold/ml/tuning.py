"""Native hyperparameter searches (Scala ``manyfold.ml.tuning``): every (parameter set, fold) fit
of a manyfold estimator runs natively, spread over ``parallelism`` Spark tasks, with the metric
computed natively (equal to the evaluator's). Shaped like pyspark's ``CrossValidator``:
``estimator``, ``estimatorParamMaps`` (pyspark's ``ParamGridBuilder``), ``evaluator`` (pyspark's
``RegressionEvaluator``, ``BinaryClassificationEvaluator`` or
``MulticlassClassificationEvaluator``)."""

from typing import Any, Dict, List, Optional

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.common import inherit_doc
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasCollectSubModels, HasParallelism
from pyspark.ml.tuning import _ValidatorParams
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaParams
from pyspark.sql import DataFrame

from manyfold.ml._wrapper import ManyfoldMLReadable, new_java_obj, with_accessors
from manyfold.ml.param import to_string
from manyfold.ml._wrapper_params import params_from_java, params_to_java

__all__ = [
    "NativeCrossValidator",
    "NativeCrossValidatorModel",
    "TimeSeriesCrossValidator",
    "TimeSeriesCrossValidatorModel",
    "NativeTrainValidationSplit",
    "NativeTrainValidationSplitModel",
]

# Params that are stages or grids: passed to Scala as objects, not as param values.
_STAGES = ("estimator", "estimatorParamMaps", "evaluator")


class _NativeSearchParams(_ValidatorParams, HasParallelism, HasCollectSubModels):
    """Params shared by the native searches and their models, named as Spark's
    ``CrossValidator`` names them; the seed defaults to 0, as in Scala."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(seed=0, parallelism=1, collectSubModels=False)


class _NativeSearch(Estimator, _NativeSearchParams, JavaMLWritable):
    """A native search: fit runs in Scala and gives a model of the search's model class."""

    _java_class: str
    _model_class: Any

    def _to_java(self) -> Any:
        for name in _STAGES:
            if not self.isDefined(getattr(self, name)):
                raise ValueError("%s has no %s: set it first" % (type(self).__name__, name))
        java_estimator, java_maps, java_evaluator = self._to_java_impl()
        java_obj = new_java_obj(self._java_class, self.uid)
        java_obj.setEstimator(java_estimator)
        java_obj.setEstimatorParamMaps(java_maps)
        java_obj.setEvaluator(java_evaluator)
        params_to_java(self, java_obj, skip=_STAGES)
        return java_obj

    @classmethod
    def _from_java(cls, java_stage: Any) -> Any:
        estimator, maps, evaluator = cls._from_java_impl(java_stage)
        py_stage = cls()
        py_stage._set(estimator=estimator, estimatorParamMaps=maps, evaluator=evaluator)
        params_from_java(py_stage, java_stage, skip=_STAGES)
        py_stage._resetUid(java_stage.uid())
        return py_stage

    def _fit(self, dataset: DataFrame) -> Any:
        java_model = self._to_java().fit(dataset._jdf)
        model = self._model_class._from_java(java_model)
        # The Python estimator, evaluator and grid, rather than wrappers of their Scala copies.
        self._copyValues(model)
        return model

    def copy(self, extra: Optional[dict] = None) -> Any:
        """A copy with this param map, whose estimator and evaluator are copies too."""
        if extra is None:
            extra = dict()
        that = Params.copy(self, extra)
        if self.isDefined(self.estimator):
            that._set(estimator=self.getEstimator().copy(extra))
        if self.isDefined(self.evaluator):
            that._set(evaluator=self.getEvaluator().copy(extra))
        return that


class _NativeSearchModel(Model, _NativeSearchParams, JavaMLWritable):
    """The outcome of a native search: :py:attr:`bestModel` (refit on all the data with the best
    parameter set), :py:attr:`avgMetrics`, :py:attr:`stdMetrics` and :py:attr:`foldMetrics` per
    parameter set (in the order of ``estimatorParamMaps``), :py:attr:`bestIndex`, and
    :py:attr:`cvResults`, a PySpark DataFrame with one row per parameter set. ``transform``
    predicts with the best model."""

    _java_class: str

    def __init__(self, java_model: Any = None) -> None:
        super().__init__()
        self._java_obj = java_model
        self.bestModel: Any = None
        self.avgMetrics: List[float] = []
        self.stdMetrics: List[float] = []
        self.foldMetrics: List[List[float]] = []
        self.bestIndex: int = 0
        self.subModels: Optional[List[List[Any]]] = None

    @property
    def cvResults(self) -> DataFrame:
        """One row per parameter set, like scikit-learn's ``cv_results_``: a column per param the
        grid sets, ``fold0``, ``fold1``, ... (the validation metric per fold), ``mean``,
        ``std``, ``rank`` (1 is best; null for a failed set), ``meanFitMillis``, ``status``,
        ``error``."""
        return self._call_java("cvResults")

    @property
    def folds(self) -> DataFrame:
        """The folds the search cut, one row per fold (``fold``, ``trainRows``,
        ``validationRows`` and, with a time column, its range on each side)."""
        return self._call_java("folds")

    @property
    def bestParams(self) -> Dict[Param, Any]:
        """The best parameter set."""
        return self.getEstimatorParamMaps()[self.bestIndex]

    def _call_java(self, name: str) -> Any:
        from pyspark import SparkContext
        from pyspark.ml.common import _java2py

        return _java2py(SparkContext._active_spark_context, getattr(self._java_obj, name)())

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return self.bestModel.transform(dataset)

    def _to_java(self) -> Any:
        return self._java_obj

    @classmethod
    def _from_java(cls, java_stage: Any) -> Any:
        estimator, maps, evaluator = cls._from_java_impl(java_stage)
        model = cls(java_stage)
        model._set(estimator=estimator, estimatorParamMaps=maps, evaluator=evaluator)
        params_from_java(model, java_stage, skip=_STAGES)
        model.bestModel = JavaParams._from_java(java_stage.bestModel())
        model.avgMetrics = [float(v) for v in java_stage.avgMetrics()]
        model.stdMetrics = [float(v) for v in java_stage.stdMetrics()]
        model.foldMetrics = [[float(v) for v in row] for row in java_stage.foldMetrics()]
        model.bestIndex = int(java_stage.bestIndex())
        if java_stage.hasSubModels():
            model.subModels = [
                [None if m is None else JavaParams._from_java(m) for m in fold]
                for fold in java_stage.subModels()
            ]
        model._resetUid(java_stage.uid())
        return model

    def copy(self, extra: Optional[dict] = None) -> Any:
        """A copy with this param map; its best model is a copy too."""
        if extra is None:
            extra = dict()
        that = Params.copy(self, extra)
        that.bestModel = self.bestModel.copy(extra)
        return that


_CV = ("numFolds", "foldCol", "stratified")


@with_accessors(*_CV, setters=False)
class _NativeCrossValidatorParams(_NativeSearchParams):
    numFolds: "Param[int]" = Param(
        Params._dummy(), "numFolds", "number of folds. >= 2. Default: 3",
        typeConverter=TypeConverters.toInt,
    )
    foldCol: "Param[str]" = Param(
        Params._dummy(),
        "foldCol",
        "integer column of each row's validation fold, 0..numFolds-1; empty: folds from the "
        "seed. Default: empty",
        typeConverter=to_string,
    )
    stratified: "Param[bool]" = Param(
        Params._dummy(),
        "stratified",
        "whether seeded folds of a classifier keep each class's share in every fold. "
        "Default: true",
        typeConverter=TypeConverters.toBoolean,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(numFolds=3, foldCol="", stratified=True)


_SEARCH = ("estimator", "estimatorParamMaps", "evaluator", "seed", "parallelism",
           "collectSubModels")


@inherit_doc
@with_accessors(*(_SEARCH + _CV), getters=False)
class NativeCrossValidator(_NativeSearch, _NativeCrossValidatorParams,
                           ManyfoldMLReadable["NativeCrossValidator"]):
    """k-fold cross-validation shaped like pyspark's ``CrossValidator``, every fit native. The
    folds come from ``foldCol`` when set, else from the seed (stratified for a classifier)."""

    _java_class = "manyfold.ml.tuning.NativeCrossValidator"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        numFolds: int = 3,
        foldCol: str = "",
        stratified: bool = True,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        numFolds: int = 3,
        foldCol: str = "",
        stratified: bool = True,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> "NativeCrossValidator":
        """Sets params for the cross-validation (keyword arguments only)."""
        return self._set(**self._input_kwargs)


@inherit_doc
class NativeCrossValidatorModel(_NativeSearchModel, _NativeCrossValidatorParams,
                                ManyfoldMLReadable["NativeCrossValidatorModel"]):
    """The outcome of a :py:class:`NativeCrossValidator`."""

    _java_class = "manyfold.ml.tuning.NativeCrossValidatorModel"


NativeCrossValidator._model_class = NativeCrossValidatorModel

_TS = ("timeCol", "nSplits", "testSize", "gap", "maxTrainSize")


@with_accessors(*_TS, setters=False)
class _TimeSeriesCrossValidatorParams(_NativeSearchParams):
    timeCol: "Param[str]" = Param(
        Params._dummy(),
        "timeCol",
        "the time column (numeric, date or timestamp); folds are cut on its sorted distinct "
        "values. Required",
        typeConverter=to_string,
    )
    nSplits: "Param[int]" = Param(
        Params._dummy(), "nSplits", "number of splits (folds). >= 2. Default: 5",
        typeConverter=TypeConverters.toInt,
    )
    testSize: "Param[int]" = Param(
        Params._dummy(),
        "testSize",
        "distinct time values per validation fold (the horizon); 0: n / (nSplits + 1). >= 0. "
        "Default: 0",
        typeConverter=TypeConverters.toInt,
    )
    gap: "Param[int]" = Param(
        Params._dummy(),
        "gap",
        "distinct time values left out between training and validation. >= 0. Default: 0",
        typeConverter=TypeConverters.toInt,
    )
    maxTrainSize: "Param[int]" = Param(
        Params._dummy(),
        "maxTrainSize",
        "most distinct time values of training; 0: no limit (expanding window). >= 0. "
        "Default: 0",
        typeConverter=TypeConverters.toInt,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(nSplits=5, testSize=0, gap=0, maxTrainSize=0)


@inherit_doc
@with_accessors(*(_SEARCH + _TS), getters=False)
class TimeSeriesCrossValidator(_NativeSearch, _TimeSeriesCrossValidatorParams,
                               ManyfoldMLReadable["TimeSeriesCrossValidator"]):
    """Time-series cross-validation (scikit-learn's ``TimeSeriesSplit``) on the sorted distinct
    values of ``timeCol``; wrapped in :py:class:`manyfold.ml.Grouped`, each group gets its own
    folds and best parameters."""

    _java_class = "manyfold.ml.tuning.TimeSeriesCrossValidator"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        timeCol: Optional[str] = None,
        nSplits: int = 5,
        testSize: int = 0,
        gap: int = 0,
        maxTrainSize: int = 0,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        timeCol: Optional[str] = None,
        nSplits: int = 5,
        testSize: int = 0,
        gap: int = 0,
        maxTrainSize: int = 0,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> "TimeSeriesCrossValidator":
        """Sets params for the time-series cross-validation (keyword arguments only)."""
        return self._set(**self._input_kwargs)


@inherit_doc
class TimeSeriesCrossValidatorModel(_NativeSearchModel, _TimeSeriesCrossValidatorParams,
                                    ManyfoldMLReadable["TimeSeriesCrossValidatorModel"]):
    """The outcome of a :py:class:`TimeSeriesCrossValidator`."""

    _java_class = "manyfold.ml.tuning.TimeSeriesCrossValidatorModel"


TimeSeriesCrossValidator._model_class = TimeSeriesCrossValidatorModel

_TVS = ("trainRatio", "stratified")


@with_accessors(*_TVS, setters=False)
class _NativeTrainValidationSplitParams(_NativeSearchParams):
    trainRatio: "Param[float]" = Param(
        Params._dummy(), "trainRatio", "share of rows used for training. In (0, 1). Default: 0.75",
        typeConverter=TypeConverters.toFloat,
    )
    stratified: "Param[bool]" = Param(
        Params._dummy(),
        "stratified",
        "whether a classifier's split keeps each class's share on both sides. Default: true",
        typeConverter=TypeConverters.toBoolean,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(trainRatio=0.75, stratified=True)


@inherit_doc
@with_accessors(*(_SEARCH + _TVS), getters=False)
class NativeTrainValidationSplit(_NativeSearch, _NativeTrainValidationSplitParams,
                                 ManyfoldMLReadable["NativeTrainValidationSplit"]):
    """One train/validation split shaped like pyspark's ``TrainValidationSplit``, every fit
    native."""

    _java_class = "manyfold.ml.tuning.NativeTrainValidationSplit"
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        trainRatio: float = 0.75,
        stratified: bool = True,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Any = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Any = None,
        trainRatio: float = 0.75,
        stratified: bool = True,
        seed: int = 0,
        parallelism: int = 1,
        collectSubModels: bool = False,
    ) -> "NativeTrainValidationSplit":
        """Sets params for the train/validation split (keyword arguments only)."""
        return self._set(**self._input_kwargs)


@inherit_doc
class NativeTrainValidationSplitModel(_NativeSearchModel, _NativeTrainValidationSplitParams,
                                      ManyfoldMLReadable["NativeTrainValidationSplitModel"]):
    """The outcome of a :py:class:`NativeTrainValidationSplit`."""

    _java_class = "manyfold.ml.tuning.NativeTrainValidationSplitModel"

    @property
    def validationMetrics(self) -> List[float]:
        """The validation metric per parameter set (Spark's name)."""
        return self.avgMetrics


NativeTrainValidationSplit._model_class = NativeTrainValidationSplitModel
