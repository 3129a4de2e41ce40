"""
Calls into payload code with what each method's signature accepts: the original's 0.1 payloads
define `timer(self)` or `process_event(self, event, parameters)`, 0.2 payloads take more.
"""
import inspect
from typing import Any, Callable, Optional

_positional: dict[Any, Optional[int]] = {}


def positional_count(method: Callable[..., Any]) -> Optional[int]:
    """How many positional arguments a (bound) method takes; None for *args."""
    key = getattr(method, "__func__", method)
    if key not in _positional:
        count: Optional[int] = 0
        for parameter in inspect.signature(method).parameters.values():
            if parameter.kind == parameter.VAR_POSITIONAL:
                count = None
                break
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                count += 1  # type: ignore[operator]
        _positional[key] = count
    return _positional[key]


def call_positional(method: Callable[..., Any], *args: Any) -> Any:
    count = positional_count(method)
    return method(*(args if count is None else args[:count]))


def construct(cls: type, **keywords: Any) -> Any:
    """`cls(parameters=, context=, state=)` with the keywords its __init__ accepts (all with **kwargs)."""
    parameters = inspect.signature(cls).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return cls(**keywords)
    names = {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return cls(**{k: v for k, v in keywords.items() if k in names})
