"""Reading frames the way every middleware does: JSON, raw numpy buffers, frame counts."""
import json
from typing import Any

import numpy as np

from dranspose.event import StreamData, frame_bytes


def json_frame(frame: Any) -> Any:
    return json.loads(frame_bytes(frame))


def buffer_of(frame: Any) -> Any:
    """A zero-copy buffer of a frame: zmq.Frame's `.buffer`, or the frame itself."""
    buffer = getattr(frame, "buffer", None)
    return buffer if buffer is not None else frame


def array_frame(frame: Any, dtype: str, shape: Any) -> np.ndarray:
    return np.frombuffer(buffer_of(frame), dtype=dtype).reshape(shape)


def expect_typ(data: StreamData, typ: str) -> None:
    if data.typ != typ:
        raise ValueError(f"expected StreamData of typ {typ!r}, got {data.typ!r}")


def expect_length(data: StreamData, length: int, what: str) -> None:
    if data.length != length:
        raise ValueError(f"{what} must have {length} frames, got {data.length}")
