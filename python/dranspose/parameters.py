"""Parameter descriptions (core.md §5.1) with the original's byte parsing, as plain classes."""
from typing import Any, ClassVar, Optional, Union


class ParameterBase:
    dtype: ClassVar[str]
    default_value: ClassVar[Any]

    def __init__(self, name: str, description: Optional[str] = None, default: Any = None) -> None:
        self.name = name
        self.description = description
        self.default = self.default_value if default is None else default

    @staticmethod
    def to_bytes(val: Any) -> bytes:
        return str(val).encode("utf8")

    @staticmethod
    def from_bytes(by: bytes) -> Any:
        raise NotImplementedError

    def model_dump(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "dtype": self.dtype, "default": self.default}

    def descriptions(self) -> list["ParameterBase"]:
        """What this parameter adds to the pipeline's parameters (a FileParameter adds two)."""
        return [self]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, default={self.default!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.model_dump() == other.model_dump()  # type: ignore[attr-defined]


class StrParameter(ParameterBase):
    dtype = "str"
    default_value = ""

    @staticmethod
    def from_bytes(by: bytes) -> str:
        try:
            return by.decode("utf8")
        except ValueError:
            return ""


class BinaryParameter(ParameterBase):
    dtype = "binary"
    default_value = b""

    @staticmethod
    def to_bytes(val: Any) -> bytes:
        return bytes(val)

    @staticmethod
    def from_bytes(by: bytes) -> bytes:
        return by


class IntParameter(ParameterBase):
    dtype = "int"
    default_value = 0

    @staticmethod
    def from_bytes(by: bytes) -> int:
        try:
            return int(by)
        except ValueError:
            return 0


class FloatParameter(ParameterBase):
    dtype = "float"
    default_value = 0.0

    @staticmethod
    def from_bytes(by: bytes) -> float:
        try:
            return float(by)
        except ValueError:
            return 0.0


class BoolParameter(ParameterBase):
    dtype = "bool"
    default_value = False

    @staticmethod
    def from_bytes(by: bytes) -> bool:
        return by == b"True"


class FileParameter(BinaryParameter):
    """A file: `x` holds its content (binary, uploaded like any binary parameter), `x_file` its name."""

    def descriptions(self) -> list[ParameterBase]:
        return [BinaryParameter(name=self.name, description=self.description, default=self.default),
                StrParameter(name=f"{self.name}_file", description=f"name of the file in {self.name}")]


ParameterType = Union[StrParameter, BinaryParameter, IntParameter, FloatParameter, BoolParameter, FileParameter]

PARAMETER_CLASSES: dict[str, type[ParameterBase]] = {
    cls.dtype: cls for cls in (StrParameter, BinaryParameter, IntParameter, FloatParameter, BoolParameter)
}
