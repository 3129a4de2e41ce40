"""Events and results as payloads see them (core.md §3.3, §3.4): plain classes, no pydantic."""
from datetime import datetime, timezone
from typing import Any, Optional, Sequence


def frame_bytes(frame: Any) -> bytes:
    """The bytes of a frame: a zmq.Frame (`.bytes`), bytes, or anything with the buffer protocol."""
    if isinstance(frame, bytes):
        return frame
    as_bytes = getattr(frame, "bytes", None)
    return as_bytes if isinstance(as_bytes, bytes) else bytes(frame)


class StreamData:
    """The frames of one stream in one event. Frames are zmq.Frame objects live, bytes in tests and dumps."""

    def __init__(self, typ: str, frames: Sequence[Any]) -> None:
        self.typ = typ
        self.frames = list(frames)

    @property
    def length(self) -> int:
        return len(self.frames)

    def get_bytes(self) -> "StreamData":
        return StreamData(typ=self.typ, frames=[frame_bytes(f) for f in self.frames])

    def model_dump(self) -> dict[str, Any]:
        return {"typ": self.typ, "frames": self.frames, "length": self.length}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StreamData) and self.typ == other.typ and \
            [frame_bytes(f) for f in self.frames] == [frame_bytes(f) for f in other.frames]

    def __repr__(self) -> str:
        return f"StreamData(typ={self.typ!r}, frames=<{self.length} frames>)"

    def __setstate__(self, state: Any) -> None:
        # the original's pydantic models pickle their fields under "__dict__"
        self.__dict__.update(state.get("__dict__", state) if isinstance(state, dict) else state)


class EventData:
    def __init__(self, event_number: int, streams: Optional[dict[str, StreamData]] = None) -> None:
        self.event_number = event_number
        self.streams = dict(streams or {})

    @classmethod
    def from_internals(cls, msgs: Sequence["InternalWorkerMessage"]) -> "EventData":
        if not msgs:
            raise ValueError("merge at least one message")
        numbers = {m.event_number for m in msgs}
        if len(numbers) != 1:
            raise ValueError(f"cannot merge data from events {sorted(numbers)}")
        event = cls(event_number=msgs[0].event_number)
        for msg in msgs:
            for name, stream in msg.streams.items():
                if name in event.streams:
                    raise ValueError(f"cannot merge data with duplicate stream {name}")
                event.streams[name] = stream
        return event

    def model_dump(self) -> dict[str, Any]:
        return {"event_number": self.event_number, "streams": {k: v.model_dump() for k, v in self.streams.items()}}

    def __repr__(self) -> str:
        return f"EventData(event_number={self.event_number}, streams={self.streams!r})"

    def __setstate__(self, state: Any) -> None:
        # the original's pydantic models pickle their fields under "__dict__"
        self.__dict__.update(state.get("__dict__", state) if isinstance(state, dict) else state)


class InternalWorkerMessage:
    def __init__(self, event_number: int, streams: Optional[dict[str, StreamData]] = None,
                 created_at: Optional[datetime] = None) -> None:
        self.event_number = event_number
        self.streams = dict(streams or {})
        self.created_at = created_at or datetime.now(timezone.utc)

    def get_all_frames(self) -> list[Any]:
        return [frame for stream in self.streams.values() for frame in stream.frames]

    def __setstate__(self, state: Any) -> None:
        # the original's pydantic models pickle their fields under "__dict__"
        self.__dict__.update(state.get("__dict__", state) if isinstance(state, dict) else state)


class ResultData:
    def __init__(self, event_number: int, worker: str, parameters_hash: Optional[str], payload: Any) -> None:
        self.event_number = event_number
        self.worker = worker
        self.parameters_hash = parameters_hash
        self.payload = payload

    def model_dump(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"ResultData(event_number={self.event_number}, worker={self.worker!r}, payload={self.payload!r})"
