"""Loading a payload class named `module:Class` or `path/file.py:Class`, and the descriptions it declares."""
import importlib
import importlib.util
import os
import sys
from typing import Any

from dranspose.parameters import ParameterBase


class LoadError(Exception):
    pass


def load_class(spec: str) -> type:
    module_name, sep, class_name = spec.rpartition(":")
    if not sep or not module_name or not class_name:
        raise LoadError(f"class {spec!r} must be written module.path:Class or path/file.py:Class")
    try:
        if module_name.endswith(".py"):
            module = _load_file(os.path.abspath(module_name))
        else:
            module = importlib.import_module(module_name)
    except LoadError:
        raise
    except BaseException as error:  # a payload's import may raise anything, SystemExit included
        raise LoadError(f"class {spec}: importing {module_name} failed: {type(error).__name__}: {error}") from error
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise LoadError(f"class {spec}: {module_name} has no class {class_name}")
    return cls


def _load_file(path: str) -> Any:
    if not os.path.isfile(path):
        raise LoadError(f"no file {path}")
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.append(directory)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def described_parameters(*classes: type) -> dict[str, ParameterBase]:
    """The parameters the classes' `describe_parameters()` declare, FileParameters expanded; later classes win."""
    described: dict[str, ParameterBase] = {}
    for cls in classes:
        describe = getattr(cls, "describe_parameters", None)
        if describe is None:
            continue
        for parameter in describe():
            if not isinstance(parameter, ParameterBase):
                raise LoadError(f"{cls.__name__}.describe_parameters() returned {parameter!r}, not a dranspose.parameters type")
            for expanded in parameter.descriptions():
                described[expanded.name] = expanded
    return described


def description_json(parameter: ParameterBase) -> dict[str, Any]:
    default = parameter.default
    if isinstance(default, (bytes, bytearray)):
        default = bytes(default).decode("utf8", errors="replace")
    return {"name": parameter.name, "dtype": parameter.dtype, "description": parameter.description, "default": default}
