"""What every manyfold model offers beyond Spark's: its feature names and its model bytes."""

from typing import Any, List, Type, TypeVar

from manyfold.ml._wrapper import java_class

M = TypeVar("M")


class NativeModelMixin:
    """Mixed into every single-model wrapper (the Scala ``NativeModel``)."""

    _java_class: str
    _java_obj: Any

    @property
    def featureNames(self) -> List[str]:
        """The feature names the model was trained with (for a Vector column ``features[0]``,
        ...)."""
        return list(self._java_obj.featureNames())

    @property
    def modelBytes(self) -> bytes:
        """The model bytes: they can be stored anywhere and given to :py:meth:`fromBytes`."""
        return bytes(self._java_obj.modelBytes())

    @classmethod
    def fromBytes(cls: Type[M], modelBytes: bytes) -> M:
        """A model of bytes taken from :py:attr:`modelBytes` or a ``GroupedModel``'s ``models``
        table, with default column params. Raises IllegalArgumentException for bytes that are not
        a valid model of this class."""
        if not isinstance(modelBytes, (bytes, bytearray)):
            raise TypeError("modelBytes must be bytes, got %s" % type(modelBytes).__name__)
        java_model = java_class(cls._java_class).fromBytes(bytearray(modelBytes))
        model = cls(java_model)  # type: ignore[call-arg]
        model._transfer_params_from_java()  # type: ignore[attr-defined]
        return model
