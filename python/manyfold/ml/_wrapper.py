"""How manyfold's Python classes reach their Scala stages: the jar check before any Java object
is made, readers that name the Scala class, and the get/set methods of declared params."""

from typing import Any, Callable, Type, TypeVar

from pyspark import SparkContext
from pyspark.ml.param import Param
from pyspark.ml.util import JavaMLReadable, JavaMLReader
from pyspark.ml.wrapper import JavaWrapper

import manyfold

T = TypeVar("T")


def java_class(name: str) -> Any:
    """The py4j handle of a manyfold Scala class (or companion object), after the jar check."""
    manyfold.check_jar()
    sc = SparkContext._active_spark_context
    assert sc is not None and sc._jvm is not None
    obj = sc._jvm
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def new_java_obj(name: str, *args: Any) -> Any:
    """A new instance of a manyfold Scala class, after the jar check."""
    manyfold.check_jar()
    return JavaWrapper._new_java_obj(name, *args)


class ManyfoldMLReader(JavaMLReader):
    """Spark's Java reader, for the Scala class that ``_java_class`` names (pyspark's maps
    ``pyspark.*`` module names to ``org.apache.spark.*`` classes)."""

    def __init__(self, clazz: Type[Any]) -> None:
        manyfold.check_jar()
        super().__init__(clazz)

    @classmethod
    def _java_loader_class(cls, clazz: Type[Any]) -> str:
        return clazz._java_class


class ManyfoldMLReadable(JavaMLReadable[T]):
    """``read()`` and ``load(path)`` of a stage saved by Scala or Python (the same format)."""

    @classmethod
    def read(cls) -> ManyfoldMLReader:
        return ManyfoldMLReader(cls)


def _cap(name: str) -> str:
    return name[0].upper() + name[1:]


def with_accessors(
    *names: str, getters: bool = True, setters: bool = True
) -> Callable[[Type[T]], Type[T]]:
    """Adds ``getX()`` (to a params class) or ``setX(value)`` (to a stage) for params ``X``,
    unless the class has them already, as pyspark's classes spell them out by hand."""

    def add(cls: Type[T]) -> Type[T]:
        for name in names:
            param = getattr(cls, name)
            assert isinstance(param, Param), name

            def setter(self: Any, value: Any, _name: str = name) -> Any:
                return self._set(**{_name: value})

            setter.__name__ = "set" + _cap(name)
            setter.__doc__ = "Sets the value of :py:attr:`%s`: %s" % (name, param.doc)
            if setters and not hasattr(cls, setter.__name__):
                setattr(cls, setter.__name__, setter)
            if getters:

                def getter(self: Any, _name: str = name) -> Any:
                    return self.getOrDefault(getattr(self, _name))

                getter.__name__ = "get" + _cap(name)
                getter.__doc__ = "Gets the value of :py:attr:`%s` or its default value." % name
                if not hasattr(cls, getter.__name__):
                    setattr(cls, getter.__name__, getter)
        return cls

    return add
