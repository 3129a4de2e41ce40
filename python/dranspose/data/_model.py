"""
A small stand-in for the pydantic models of the original: fields are declared as class
annotations; a field without a default is required, a Literal field must match, a datetime field
accepts ISO text, and (with `extra = True`) unknown keys become attributes too.
"""
import copy
import json
import typing
from datetime import datetime
from typing import Any, Literal, NamedTuple, Optional

_MISSING = object()


class _Field(NamedTuple):
    name: str
    annotation: Any
    default: Any
    literals: Optional[tuple[Any, ...]]


class Model:
    extra: typing.ClassVar[bool] = True

    def __init__(self, **values: Any) -> None:
        for field in self._fields():
            value = values.pop(field.name, _MISSING)
            if value is _MISSING:
                if field.default is _MISSING:
                    raise ValueError(f"{type(self).__name__}: field {field.name!r} is required")
                # a fresh copy of a list or dict default, which would otherwise be shared by every instance
                value = copy.copy(field.default)
            setattr(self, field.name, _check(type(self).__name__, field, value))
        if values and not self.extra:
            raise ValueError(f"{type(self).__name__}: unexpected fields {sorted(values)}")
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def _fields(cls) -> tuple[_Field, ...]:
        # worked out once per class: models are built for every event
        cached = cls.__dict__.get("_field_cache")
        if cached is None:
            annotations: dict[str, Any] = {}
            for klass in reversed(cls.__mro__):
                for name, annotation in vars(klass).get("__annotations__", {}).items():
                    if typing.get_origin(annotation) is not typing.ClassVar:
                        annotations[name] = annotation
            cached = tuple(_Field(name, annotation, getattr(cls, name, _MISSING),
                                  typing.get_args(annotation) if typing.get_origin(annotation) is Literal else None)
                           for name, annotation in annotations.items())
            cls._field_cache = cached
        return cached

    @classmethod
    def matches(cls, values: dict[str, Any]) -> bool:
        """Whether the discriminating Literal fields of `values` fit this class."""
        return all(values.get(f.name, f.default) in f.literals for f in cls._fields() if f.literals is not None)

    def model_dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def model_dump_json(self) -> str:
        return json.dumps(self.model_dump(), default=str, separators=(",", ":"))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _check(model: str, field: _Field, value: Any) -> Any:
    annotation = field.annotation
    if field.literals is not None:
        if value not in field.literals:
            raise ValueError(f"{model}: {field.name} must be one of {field.literals}, got {value!r}")
        return value
    if annotation is datetime and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if annotation in (int, float, str) and (not isinstance(value, annotation) or (annotation is int and isinstance(value, bool))):
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{model}: {field.name} must be {annotation.__name__}, got {value!r}")
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
