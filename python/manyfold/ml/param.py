"""Params shared by several manyfold stages, declared as pyspark declares its shared params.
Spark's own shared params (regParam, maxIter, ...) come from :mod:`pyspark.ml.param.shared`."""

from typing import Any, List

from pyspark.ml.param import Param, Params, TypeConverters


def to_string(value: Any) -> str:
    """A string (pyspark 3.5's ``TypeConverters.toString`` fails with an AttributeError under
    numpy 2 for a value that is not a string)."""
    if isinstance(value, str):
        return str(value)
    raise TypeError("Could not convert %r to string type" % (value,))


def toListOfStrings(value: Any) -> List[str]:
    """A list of strings (a list or tuple of str; a lone string is refused, as pyspark does).
    Named toList... because pyspark reads list params back from Java by that prefix."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise TypeError("Could not convert %r to list of strings" % (value,))


def to_number_string(value: Any) -> str:
    """A string param that also takes a number ("scale", "auto", 0.05 or "0.05")."""
    if isinstance(value, bool):
        raise TypeError("Could not convert %r to a number or string" % (value,))
    if isinstance(value, str):
        return value
    try:
        return repr(TypeConverters.toFloat(value))
    except TypeError:
        raise TypeError("Could not convert %r to a number or string" % (value,)) from None


class HasInputCols(Params):
    """Mixin for param inputCols: plain numeric feature columns used instead of featuresCol."""

    inputCols: "Param[List[str]]" = Param(
        Params._dummy(),
        "inputCols",
        "numeric feature columns (byte, short, int, long, float, double or decimal), used instead "
        "of featuresCol when non-empty. Distinct, non-empty names. Default: empty",
        typeConverter=toListOfStrings,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(inputCols=[])

    def getInputCols(self) -> List[str]:
        """Gets the value of inputCols or its default value."""
        return self.getOrDefault(self.inputCols)


class HasSeed(Params):
    """Mixin for param seed, with manyfold's default 0 (pyspark's hashes the class name)."""

    seed: "Param[int]" = Param(
        Params._dummy(),
        "seed",
        "random seed (the fit is deterministic for a seed). Default: 0",
        typeConverter=TypeConverters.toInt,
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._setDefault(seed=0)

    def getSeed(self) -> int:
        """Gets the value of seed or its default value."""
        return self.getOrDefault(self.seed)
