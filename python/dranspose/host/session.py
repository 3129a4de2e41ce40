"""What the host does for each request: one loaded class, its instances (one per scan), parameters, context."""
import logging
import os
import threading
import traceback
import uuid
from typing import Any, Callable, Optional

from dranspose.event import EventData, ResultData, StreamData
from dranspose.host import codec
from dranspose.host.calls import call_positional, construct
from dranspose.host.payload import LoadError, described_parameters, description_json, load_class
from dranspose.host.shared import SharedSlots
from dranspose.parameters import ParameterBase
from dranspose.protocol import ReducerState, WorkerState, WorkParameter

logger = logging.getLogger("dranspose.host")

Reply = tuple[dict[str, Any], list[Any]]
REQUIRED_METHOD = {"worker": "process_event", "reducer": "process_result"}
READ_ATTEMPTS = 3


class PayloadUnavailable(Exception):
    """The payload object could not be constructed; its reason was logged once at construction."""


class Instance:
    """One payload object; lanes other than main wait until main has constructed it."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.obj: Any = None
        self.context: dict[str, Any] = {}
        self.error: Optional[str] = None


class Session:
    def __init__(self, kind: str, shared: Optional[SharedSlots] = None) -> None:
        self.kind = kind
        self.shared = shared
        self.cls: Optional[type] = None
        self.described: dict[str, ParameterBase] = {}
        self.parameters: dict[str, WorkParameter] = {}
        # kept across scans, as the original's `context`: one per component name (replay runs several workers here)
        self.contexts: dict[str, dict[str, Any]] = {}
        self.instances: dict[int, Instance] = {}
        self.latest: Optional[Instance] = None
        self.reported: set[tuple[str, int]] = set()
        self.ops: dict[str, Callable[[dict[str, Any], list[Any]], Reply]] = {
            "load": self.load, "new": self.new, "event": self.event, "result": self.result, "finish": self.finish,
            "timer": self.timer, "read": self.read, "drop": self.drop,
        }

    def handle(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        reply = self.dispatch(header, frames)
        if self.shared is not None:
            # after dispatch, whose locals held this request's frames
            freed = self.shared.settle()
            if freed:
                reply[0]["freed"] = freed
        return reply

    def dispatch(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        try:
            # first, so that the slot is held (and freed later) whatever fails after
            shared = self.shared_frames(header)
            frames = self.take_parameters(header, frames)
            return self.ops[header["op"]](header, shared if shared is not None else frames)
        except (LoadError, PayloadUnavailable) as error:
            return {"error": str(error)}, []
        except Exception as error:  # user code: reported to the Node side, which counts it
            return {"error": self.describe(error)}, []

    def describe(self, error: BaseException) -> str:
        """One line: type, message and where in the payload it happened; the first traceback of each place is logged."""
        frames = traceback.extract_tb(error.__traceback__)
        own = os.path.dirname(os.path.dirname(__file__))
        user = [f for f in frames if not f.filename.startswith(own)]
        where = f" ({os.path.basename(user[-1].filename)}:{user[-1].lineno} in {user[-1].name})" if user else ""
        if user and (user[-1].filename, user[-1].lineno) not in self.reported:
            self.reported.add((user[-1].filename, user[-1].lineno))
            logger.warning("".join(traceback.format_exception(error)).rstrip())
        return f"{type(error).__name__}: {error}{where}"

    def shared_frames(self, header: dict[str, Any]) -> Optional[list[Any]]:
        """A request's frames when they came in shared memory (its `shared` placement)."""
        placement = header.get("shared")
        if placement is None:
            return None
        if self.shared is None:
            raise RuntimeError("frames came in shared memory, but this host has none")
        return self.shared.frames(placement)

    def take_parameters(self, header: dict[str, Any], frames: list[Any]) -> list[Any]:
        """Changed parameters travel ahead of a request: `params` names them, one value frame each."""
        changed = header.get("params") or []
        for (name, version), frame in zip(changed, frames):
            data = frame.bytes if hasattr(frame, "bytes") else bytes(frame)
            description = self.described.get(name)
            value = description.from_bytes(data) if description else None
            self.parameters[name] = WorkParameter(name=name, data=data, value=value, uuid=as_uuid(version))
        for name in header.get("dropped") or []:
            self.parameters.pop(name, None)
        return frames[len(changed):]

    def load(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        cls = load_class(header["spec"])
        method = REQUIRED_METHOD[self.kind]
        if not callable(getattr(cls, method, None)):
            raise LoadError(f"class {header['spec']}: {cls.__name__} has no {method} method")
        try:
            self.described = described_parameters(cls)
        except LoadError:
            raise
        except Exception as error:
            raise LoadError(f"class {header['spec']}: describe_parameters() failed: {self.describe(error)}") from error
        self.cls = cls
        has = [name for name in ("finish", "close", "timer", "get_tick_interval") if callable(getattr(cls, name, None))]
        return {"name": cls.__name__, "descriptions": [description_json(p) for p in self.described.values()],
                "has": has}, []

    def new(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        instance = self.instances.setdefault(header["instance"], Instance())
        try:
            # inside the try: whatever fails here, the instance is marked ready (with its error), so
            # that the timer and read lanes waiting for it answer instead of hanging
            instance.context = self.contexts.setdefault(header["state"].get("name", ""), {})
            state = WorkerState(**header["state"]) if self.kind == "worker" else ReducerState(**header["state"])
            instance.obj = construct(self.cls, parameters=self.parameters, context=instance.context, state=state)  # type: ignore[arg-type]
            self.latest = instance
        except Exception as error:
            instance.error = f"constructing {self.cls.__name__} failed: {self.describe(error)}"  # type: ignore[union-attr]
        finally:
            instance.ready.set()
        if instance.error:
            return {"error": instance.error}, []
        return self.tick_interval(instance.obj), []

    def payload(self, header: dict[str, Any]) -> Any:
        # the timer and read lanes may ask before the main lane has constructed it
        instance = self.instances.get(header["instance"])
        if instance is None:
            instance = self.instances.setdefault(header["instance"], Instance())
        instance.ready.wait()
        if instance.error:
            raise PayloadUnavailable(instance.error)
        return instance.obj

    def tick_interval(self, obj: Any) -> dict[str, Any]:
        if not hasattr(obj, "get_tick_interval"):
            return {}
        interval = call_positional(obj.get_tick_interval, self.parameters)
        return {"tick_interval": float(interval) if isinstance(interval, (int, float)) else None}

    def event(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        obj = self.payload(header)
        streams: dict[str, StreamData] = {}
        at = 0
        for name, typ, length in header["streams"]:
            streams[name] = StreamData(typ=typ, frames=frames[at:at + length])
            at += length
        event = EventData(event_number=header["event_number"], streams=streams)
        result = call_positional(obj.process_event, event, self.parameters, bool(header.get("tick")))
        reply = self.tick_interval(obj)
        if result is None:
            return reply, []
        try:
            body = codec.encode(result)
        except Exception as error:
            raise TypeError(f"result cannot be encoded: {error}") from error
        return {**reply, "result": True}, [body]

    def result(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        obj = self.payload(header)
        body = frames[0].bytes if hasattr(frames[0], "bytes") else bytes(frames[0])
        result = ResultData(event_number=header["event_number"], worker=header["worker"],
                            parameters_hash=header.get("parameters_hash"), payload=codec.decode(body))
        call_positional(obj.process_result, result, self.parameters)
        return {}, []

    def finish(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        try:
            obj = self.payload(header)
        except PayloadUnavailable:
            return {}, []  # nothing was constructed, so nothing finishes (as for a TypeScript class)
        if hasattr(obj, "finish"):
            call_positional(obj.finish, self.parameters)
        return {}, []

    def timer(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        delay = call_positional(self.payload(header).timer, self.parameters)
        return {"delay": delay if isinstance(delay, (int, float)) and not isinstance(delay, bool) else None}, []

    def read(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        obj = self.payload(header)
        if not hasattr(obj, "publish"):
            return {"missing": "the reducer class has no publish attribute"}, []
        lock = getattr(obj, "publish_rlock", None)
        for attempt in range(READ_ATTEMPTS):
            try:
                if lock is None:
                    return self.encode_published(obj.publish, header)
                with lock:
                    return self.encode_published(obj.publish, header)
            except RuntimeError:  # a dict changed size while process_result wrote to it unlocked
                if attempt == READ_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def encode_published(self, publish: Any, header: dict[str, Any]) -> Reply:
        node = publish
        for step in header["path"]:
            found, node = child(node, step)
            if not found:
                return {"missing": f"nothing published at {step!r}"}, []
        if header.get("outline") and isinstance(node, dict):
            node = outline(node)
        return {}, [codec.encode(node)]

    def drop(self, header: dict[str, Any], frames: list[Any]) -> Reply:
        if self.instances.get(header["instance"]) is not self.latest:  # close(context) still needs the latest
            self.instances.pop(header["instance"], None)
        return {}, []

    def close(self) -> None:
        """The Node process is gone: `close(context)` on the latest payload, as the original at shutdown."""
        obj = self.latest.obj if self.latest else None
        if obj is not None and hasattr(obj, "close"):
            try:
                call_positional(obj.close, self.latest.context)  # type: ignore[union-attr]
            except Exception as error:
                logger.error("close(context) failed: %s", self.describe(error))


def as_uuid(version: str) -> Any:
    try:
        return uuid.UUID(version)
    except ValueError:
        return version


def child(node: Any, step: Any) -> tuple[bool, Any]:
    """A dict's key (a numeric text also names an int key) or a list's index."""
    if isinstance(node, dict):
        if step in node:
            return True, node[step]
        if isinstance(step, str) and step.lstrip("-").isdigit() and int(step) in node:
            return True, node[int(step)]
        return False, None
    if isinstance(node, (list, tuple)):
        try:
            return True, node[int(step)]
        except (ValueError, IndexError):
            return False, None
    return False, None


def outline(group: dict[Any, Any]) -> dict[str, Any]:
    """A group's children without their data: sub-groups as {}, datasets as None, attribute dicts whole."""
    shown: dict[str, Any] = {}
    for key, value in group.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, dict):
            shown[key] = value if key.endswith("_attrs") else {}
        else:
            shown[key] = None
    return shown
