"""Contrast: every message is one pickled dict."""
import pickle

from dranspose.data.contrast import ContrastBase, ContrastPacket
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import expect_length, expect_typ


def parse(data: StreamData) -> ContrastBase:
    expect_typ(data, "contrast")
    expect_length(data, 1, "a Contrast message")
    return ContrastPacket.validate_python(dict(pickle.loads(frame_bytes(data.frames[0]))))  # type: ignore[return-value]
