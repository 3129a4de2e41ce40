"""
A small stand-in for the pydantic models of the original: fields are declared as class
annotations; a field without a default is required, a Literal field must match, a datetime field
accepts ISO text, and (with `extra = True`) unknown keys become attributes too.
"""
import copy
import json
import typing
from datetime import datetime
from typing import Any, Literal

_MISSING = object()


class Model:
    extra: typing.ClassVar[bool] = True

    def __init__(self, **values: Any) -> None:
        for name, annotation in self._fields().items():
            value = values.pop(name, _MISSING)
            if value is _MISSING:
                # a fresh copy of a list or dict default, which would otherwise be shared by every instance
                value = copy.copy(getattr(type(self), name, _MISSING))
            if value is _MISSING:
                raise ValueError(f"{type(self).__name__}: field {name!r} is required")
            setattr(self, name, _check(type(self).__name__, name, annotation, value))
        if values and not self.extra:
            raise ValueError(f"{type(self).__name__}: unexpected fields {sorted(values)}")
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def _fields(cls) -> dict[str, Any]:
        # computed once per class: models are built per event
        cached = cls.__dict__.get("_field_cache")
        if cached is None:
            cached = {}
            for klass in reversed(cls.__mro__):
                for name, annotation in vars(klass).get("__annotations__", {}).items():
                    if typing.get_origin(annotation) is not typing.ClassVar:
                        cached[name] = annotation
            cls._field_cache = cached
        return cached

    @classmethod
    def matches(cls, values: dict[str, Any]) -> bool:
        """Whether the discriminating Literal fields of `values` fit this class."""
        for name, annotation in cls._fields().items():
            if typing.get_origin(annotation) is Literal:
                value = values.get(name, getattr(cls, name, _MISSING))
                if value not in typing.get_args(annotation):
                    return False
        return True

    def model_dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def model_dump_json(self) -> str:
        return json.dumps(self.model_dump(), default=str, separators=(",", ":"))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _check(model: str, name: str, annotation: Any, value: Any) -> Any:
    if typing.get_origin(annotation) is Literal and value not in typing.get_args(annotation):
        raise ValueError(f"{model}: {name} must be one of {typing.get_args(annotation)}, got {value!r}")
    if annotation is datetime and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if annotation is int and isinstance(value, bool):
        raise ValueError(f"{model}: {name} must be an integer, got {value!r}")
    if annotation in (int, float, str) and not isinstance(value, annotation):
        if annotation is float and isinstance(value, int):
            return float(value)
        raise ValueError(f"{model}: {name} must be {annotation.__name__}, got {value!r}")
    return value


class PacketUnion:
    """Picks the class whose Literal fields fit, as the original's TypeAdapter over a union does."""

    def __init__(self, *classes: type[Model]) -> None:
        self.classes = classes

    def validate_python(self, values: Any) -> Model:
        if not isinstance(values, dict):
            raise ValueError(f"expected a dict, got {type(values).__name__}")
        for cls in self.classes:
            if cls.matches(values):
                return cls(**values)
        raise ValueError(f"no packet type of {[c.__name__ for c in self.classes]} fits {str(values)[:200]}")

    def validate_json(self, text: Any) -> Model:
        return self.validate_python(json.loads(text))
