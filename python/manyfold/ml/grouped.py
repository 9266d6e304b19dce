"""One model per group: :py:class:`Grouped` and :py:class:`GroupedModel` (Scala
``manyfold.ml.Grouped`` and ``manyfold.ml.GroupedModel``)."""

import datetime
from typing import Any, List, Optional

from pyspark import SparkContext, keyword_only
from pyspark.ml import Estimator
from pyspark.ml.common import inherit_doc
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaModel, JavaParams
from pyspark.sql import DataFrame

from manyfold.ml._wrapper import ManyfoldMLReadable, java_class, new_java_obj, with_accessors
from manyfold.ml.param import toListOfStrings
from manyfold.ml._wrapper_params import params_from_java, params_to_java

__all__ = ["Grouped", "GroupedModel"]

_GROUPED = ("groupCols", "maxRowsPerGroup", "failOnGroupError", "numPartitions")


@with_accessors(*_GROUPED, setters=False)
class _GroupedParams(Params):
    """Params of :py:class:`Grouped` and :py:class:`GroupedModel`."""

    groupCols: "Param[List[str]]" = Param(
        Params._dummy(),
        "groupCols",
        "columns whose distinct values define the groups, one model per group. Any orderable "
        "type. Required (at least one), distinct names. Default: none",
        typeConverter=toListOfStrings,
    )
    maxRowsPerGroup: "Param[int]" = Param(
        Params._dummy(),
        "maxRowsPerGroup",
        "most rows a group may have (a group's rows are trained in one task's memory; a bigger "
        "group fails). >= 1. Default: 1000000",
        typeConverter=TypeConverters.toInt,
    )
    failOnGroupError: "Param[bool]" = Param(
        Params._dummy(),
        "failOnGroupError",
        "whether a group that cannot be trained fails fit, instead of giving a failed row in "
        "models. Default: false",
        typeConverter=TypeConverters.toBoolean,
    )
    numPartitions: "Param[int]" = Param(
        Params._dummy(),
        "numPartitions",
        "number of partitions the rows are shuffled into by group; 0 picks one from the input "
        "size (one per 64 MB, at least 2 per core, at most spark.sql.shuffle.partitions). "
        ">= 0. Default: 0",
        typeConverter=TypeConverters.toInt,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(groupCols=[], maxRowsPerGroup=1000000, failOnGroupError=False,
                         numPartitions=0)


def _to_estimator(value: Any) -> Any:
    from manyfold.ml.tuning import _NativeSearch

    if isinstance(value, (JavaEstimator, _NativeSearch)) and type(value).__module__.startswith(
        "manyfold."
    ):
        return value
    raise TypeError(
        "Grouped takes a manyfold estimator (manyfold.ml.LinearRegression, ...) or a manyfold "
        "search (manyfold.ml.tuning.NativeCrossValidator, ...), got %s" % type(value).__name__
    )


@inherit_doc
@with_accessors(*_GROUPED, getters=False)
class Grouped(Estimator["GroupedModel"], _GroupedParams, JavaMLWritable,
              ManyfoldMLReadable["Grouped"]):
    """Trains one model per group: ``Grouped(LinearRegression(...), groupCols=["store"])``. The
    estimator's params and columns are used for every group; with a search
    (``Grouped(NativeCrossValidator(...))``) the whole search runs per group. ``fit`` gives a
    :py:class:`GroupedModel` whose ``models`` table has one row per group; a group that cannot be
    trained gets a ``failed`` row (with ``failOnGroupError``, fit raises instead)."""

    _java_class = "manyfold.ml.Grouped"

    estimator: "Param[Any]" = Param(
        Params._dummy(),
        "estimator",
        "the manyfold estimator trained per group, or a manyfold search run per group",
        typeConverter=_to_estimator,
    )

    def __init__(
        self,
        estimator: Any = None,
        *,
        groupCols: Optional[List[str]] = None,
        maxRowsPerGroup: Optional[int] = None,
        failOnGroupError: Optional[bool] = None,
        numPartitions: Optional[int] = None,
    ) -> None:
        super().__init__()
        given = dict(
            estimator=estimator,
            groupCols=groupCols,
            maxRowsPerGroup=maxRowsPerGroup,
            failOnGroupError=failOnGroupError,
            numPartitions=numPartitions,
        )
        self._set(**{k: v for k, v in given.items() if v is not None})

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Any = None,
        groupCols: Optional[List[str]] = None,
        maxRowsPerGroup: int = 1000000,
        failOnGroupError: bool = False,
        numPartitions: int = 0,
    ) -> "Grouped":
        """Sets params for Grouped (keyword arguments only)."""
        return self._set(**self._input_kwargs)

    def setEstimator(self, value: Any) -> "Grouped":
        """Sets the estimator (or search) trained per group."""
        return self._set(estimator=value)

    def getEstimator(self) -> Any:
        """The estimator (or search) trained per group."""
        return self.getOrDefault(self.estimator)

    def _to_java(self) -> Any:
        """The Scala ``Grouped`` of this stage's estimator (or search) and params."""
        if not self.isDefined(self.estimator):
            raise ValueError("Grouped has no estimator: Grouped(LinearRegression(...), ...)")
        from manyfold.ml.tuning import _NativeSearch

        inner = self.getEstimator()
        option = java_class("scala.Option")
        if isinstance(inner, _NativeSearch):
            java_search = inner._to_java()
            java_estimator = java_search.getEstimator()
            search = option.apply(java_search)
        else:
            java_estimator = inner._to_java()
            search = option.empty()
        java_obj = new_java_obj(self._java_class, self.uid, java_estimator, search)
        params_to_java(self, java_obj, skip=["estimator"])
        return java_obj

    @classmethod
    def _from_java(cls, java_stage: Any) -> "Grouped":
        search = java_stage.search()
        java_inner = search.get() if search.isDefined() else java_stage.estimator()
        inner = JavaParams._from_java(java_inner)
        py_stage = cls(inner)
        params_from_java(py_stage, java_stage, skip=["estimator"])
        py_stage._resetUid(java_stage.uid())
        return py_stage

    def _fit(self, dataset: DataFrame) -> "GroupedModel":
        java_model = self._to_java().fit(dataset._jdf)
        model = GroupedModel(java_model)
        model._transfer_params_from_java()
        return model

    def copy(self, extra: Optional[dict] = None) -> "Grouped":
        """A copy with this param map, whose estimator is a copy too."""
        that = super().copy(extra)
        if self.isDefined(self.estimator):
            that.setEstimator(self.getEstimator().copy(extra))
        return that


@inherit_doc
class GroupedModel(JavaModel, _GroupedParams, JavaMLWritable, ManyfoldMLReadable["GroupedModel"]):
    """One model per group, as :py:class:`Grouped` trained them. :py:attr:`models` is a PySpark
    DataFrame with one row per group (the group columns, ``model`` bytes, ``rows``, the training
    metrics, ``status``, ``error``, ``trainingMillis``); ``transform`` predicts each row with its
    group's model (null outputs for an unknown or failed group)."""

    _java_class = "manyfold.ml.GroupedModel"

    def __init__(self, java_model: Any = None) -> None:
        super().__init__(java_model)

    @property
    def models(self) -> DataFrame:
        """The models table, one row per group, in no particular order (a distributed
        DataFrame; sort it by the group columns to list them)."""
        return self._call_java("models")

    @property
    def groupColumns(self) -> List[str]:
        """The group column names."""
        return list(self._java_obj.groupColumns())

    @property
    def numGroups(self) -> int:
        """The number of groups, trained or failed."""
        return self._call_java("numGroups")

    @property
    def numFeatures(self) -> int:
        """The number of features of the models (0 if no group trained)."""
        return self._call_java("numFeatures")

    @property
    def estimator(self) -> Any:
        """The estimator whose params and columns every group's model has."""
        return JavaParams._from_java(self._java_obj.estimator())

    def model(self, *keys: Any) -> Any:
        """The model of one group, by its key values in the order of the group columns: a
        ``LinearRegressionModel`` for a ``LinearRegression``, ... Raises for an unknown group
        (no such group) or a failed one (with the reason)."""
        sc = SparkContext._active_spark_context
        assert sc is not None and sc._jvm is not None
        if len(keys) != len(self.groupColumns):
            raise ValueError(
                "model(...) takes one value per group column (%s), got %d"
                % (", ".join(self.groupColumns), len(keys))
            )
        java_keys = sc._jvm.PythonUtils.toSeq([_key_to_java(sc, k) for k in keys])
        return JavaParams._from_java(self._java_obj.model(java_keys))


def _key_to_java(sc: SparkContext, value: Any) -> Any:
    jvm = sc._jvm
    assert jvm is not None
    if isinstance(value, datetime.datetime):
        return jvm.java.sql.Timestamp.valueOf(value.strftime("%Y-%m-%d %H:%M:%S.%f"))
    if isinstance(value, datetime.date):
        return jvm.java.sql.Date.valueOf(value.isoformat())
    return value
