"""Param transfer for the manyfold stages that Python assembles (``Grouped``, the searches),
which are not ``JavaParams``: their Python params are set on a Scala object made at fit or save
time, and read back from one at load time."""

from typing import Any, Iterable

from pyspark import SparkContext
from pyspark.ml.common import _java2py, _py2java
from pyspark.ml.param import Params


def params_to_java(py: Params, java_obj: Any, skip: Iterable[str] = ()) -> None:
    """Sets every param of ``py`` that is set or has a default (but those in ``skip``) on the
    Scala object."""
    sc = SparkContext._active_spark_context
    assert sc is not None
    skipped = set(skip)
    for param in py.params:
        if param.name in skipped or not py.isDefined(param):
            continue
        java_param = java_obj.getParam(param.name)
        java_obj.set(java_param.w(_py2java(sc, py.getOrDefault(param))))


def params_from_java(py: Params, java_obj: Any, skip: Iterable[str] = ()) -> None:
    """Sets on ``py`` the params the Scala object has set (but those in ``skip``)."""
    sc = SparkContext._active_spark_context
    assert sc is not None
    skipped = set(skip)
    for param in py.params:
        if param.name in skipped or not java_obj.hasParam(param.name):
            continue
        java_param = java_obj.getParam(param.name)
        if java_obj.isSet(java_param):
            value = java_obj.getOrDefault(java_param)
            if param.typeConverter.__name__.startswith("toList"):
                py._set(**{param.name: [_java2py(sc, x) for x in list(value)]})
            else:
                py._set(**{param.name: _java2py(sc, value)})
