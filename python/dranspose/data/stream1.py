"""STINS ("stream1") packets (protocols.md §2.1)."""
import json
from typing import Literal

from dranspose.data._model import Model, PacketUnion
from dranspose.event import StreamData


class Stream1(Model):
    msg_number: int

    def to_stream_data(self) -> StreamData:
        fields = {k: v for k, v in self.model_dump().items() if k != "data"}
        frames = [json.dumps(fields).encode()]
        if getattr(self, "data", None) is not None:
            frames.append(self.data.tobytes())  # type: ignore[attr-defined]
        return StreamData(typ="STINS", frames=frames)


class Stream1Start(Stream1):
    htype: Literal["header"] = "header"
    filename: str


class Stream1Data(Stream1):
    htype: Literal["image"] = "image"
    frame: int
    shape: list
    type: str
    compression: str


class Stream1End(Stream1):
    htype: Literal["series_end"] = "series_end"


Stream1Packet = PacketUnion(Stream1Start, Stream1Data, Stream1End)
