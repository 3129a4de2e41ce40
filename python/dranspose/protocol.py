"""Names and states a payload sees (core.md §2): plain classes, no pydantic."""
import uuid
from typing import Any, NewType, Optional

StreamName = NewType("StreamName", str)
WorkerName = NewType("WorkerName", str)
WorkerTag = NewType("WorkerTag", str)
IngesterName = NewType("IngesterName", str)
VirtualConstraint = NewType("VirtualConstraint", int)
EventNumber = NewType("EventNumber", int)
ParameterName = NewType("ParameterName", str)
HashDigest = NewType("HashDigest", str)
MappingName = NewType("MappingName", str)

GENERIC_WORKER = WorkerTag("generic")


class WorkParameter:
    """One parameter version: the raw bytes, the value parsed by its description (None if undescribed)."""

    def __init__(self, name: str, data: bytes, value: Any = None, uuid: Optional[uuid.UUID] = None) -> None:
        self.name = name
        self.data = data
        self.value = value
        self.uuid = uuid or _new_uuid()

    def __repr__(self) -> str:
        shown = self.value if self.value is not None else self.data[:40]
        return f"WorkParameter(name={self.name!r}, value={shown!r}, uuid={self.uuid})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkParameter) and (self.name, self.data, self.uuid) == (other.name, other.data, other.uuid)


def _new_uuid() -> uuid.UUID:
    return uuid.uuid4()


class _State:
    """Attributes set from keywords; `model_dump()` gives them back as a dict."""

    def __init__(self, **fields: Any) -> None:
        self.service_uuid = fields.pop("service_uuid", None) or _new_uuid()
        self.mapping_uuid = fields.pop("mapping_uuid", None)
        self.dranspose_version = fields.pop("dranspose_version", None)
        self.mapreduce_version = fields.pop("mapreduce_version", None)
        self.parameters_hash = fields.pop("parameters_hash", None)
        self.processed_events = fields.pop("processed_events", 0)
        self.event_rate = fields.pop("event_rate", 0.0)
        self.__dict__.update(fields)

    def model_dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class DistributedState(_State):
    pass


class IngesterState(DistributedState):
    def __init__(self, name: str, url: str = "", streams: Optional[list[str]] = None, **fields: Any) -> None:
        super().__init__(name=name, url=url, streams=list(streams or []), connected_workers=fields.pop("connected_workers", {}), **fields)


class WorkerState(DistributedState):
    def __init__(self, name: str, tags: Optional[set[str]] = None, ingesters: Optional[list[IngesterState]] = None, **fields: Any) -> None:
        super().__init__(name=name, tags=set(tags or {GENERIC_WORKER}), ingesters=list(ingesters or []), **fields)


class ReducerState(DistributedState):
    def __init__(self, url: str = "", name: str = "reducer", **fields: Any) -> None:
        super().__init__(name=name, url=url, **fields)


class VirtualWorker:
    def __init__(self, tags: Optional[set[str]] = None, constraint: Optional[int] = None) -> None:
        self.tags = set(tags or {GENERIC_WORKER})
        self.constraint = constraint

    def model_dump(self) -> dict[str, Any]:
        return {"tags": sorted(self.tags), "constraint": self.constraint}


class ProtocolException(Exception):
    pass
