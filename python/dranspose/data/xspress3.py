"""Xspress3 packets (protocols.md §2.3)."""
import json
import pickle
from typing import Literal, Optional

from dranspose.data._model import Model, PacketUnion
from dranspose.event import StreamData

META_NAMES = ["ocr", "AllEvents", "AllGood", "ClockTicks", "TotalTicks", "ResetTicks", "event_widths", "dtc"]


class XspressBase(Model):
    def to_stream_data(self) -> StreamData:
        fields = {k: v for k, v in self.model_dump().items() if k not in ("data", "meta")}
        frames = [json.dumps(fields).encode()]
        if isinstance(self, XspressImage):
            frames.append(self.data.tobytes())  # type: ignore[attr-defined]
            frames.append(pickle.dumps([self.meta[k] for k in META_NAMES]))  # type: ignore[attr-defined]
        return StreamData(typ="xspress", frames=frames)


class XspressStart(XspressBase):
    htype: Literal["header"] = "header"
    filename: str


class XspressImage(XspressBase):
    htype: Literal["image"] = "image"
    frame: int
    shape: list
    exptime: Optional[float] = 1
    type: str
    compression: Optional[str] = "none"


class XspressEnd(XspressBase):
    htype: Literal["series_end"] = "series_end"


XspressPacket = PacketUnion(XspressStart, XspressImage, XspressEnd)
