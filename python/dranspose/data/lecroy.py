"""LeCroy oscilloscope packets (protocols.md §2.8)."""
import json
import pickle
from enum import IntEnum
from typing import Literal

from dranspose.data._model import Model, PacketUnion
from dranspose.event import StreamData

LECROY_TYPE = "lecroy_9fwdWp6Rq7"


class WhatEnum(IntEnum):
    PREPARE = 0
    START = 1
    SEQEND = 2
    STOP = 3


class LecroyBase(Model):
    frame: int

    def to_stream_data(self) -> StreamData:
        return StreamData(typ=LECROY_TYPE, frames=[json.dumps(self.model_dump()).encode()])


class LecroyPrepare(LecroyBase):
    htype: Literal["msg"]
    what: Literal[WhatEnum.PREPARE]


class LecroySeqStart(LecroyBase):
    htype: Literal["msg"]
    what: Literal[WhatEnum.START]
    ntriggers: int
    seqno: int
    channels: list


class LecroySeqEnd(LecroyBase):
    htype: Literal["msg"]
    what: Literal[WhatEnum.SEQEND]


class LecroyEnd(LecroyBase):
    frames: int
    what: Literal[WhatEnum.STOP]


class LecroyData(LecroyBase):
    htype: Literal["traces"]
    ch: int
    ts: float
    shape: list
    dtype: str
    horiz_offset: float
    horiz_interval: float


class LecroyParsed(LecroySeqStart):
    meta: list = []
    data: list = []
    timestamps: list = []

    def to_stream_data(self) -> StreamData:
        start = {k: v for k, v in self.model_dump().items() if k not in ("meta", "data", "timestamps")}
        frames = [json.dumps(start).encode()]
        for meta, data, stamps in zip(self.meta, self.data, self.timestamps):
            frames += [json.dumps(meta.model_dump()).encode(), data.tobytes(), pickle.dumps(stamps)]
        frames.append(json.dumps({"htype": "msg", "what": int(WhatEnum.SEQEND), "frame": self.frame}).encode())
        return StreamData(typ=LECROY_TYPE, frames=frames)


LecroyMessage = PacketUnion(LecroyPrepare, LecroySeqStart, LecroySeqEnd, LecroyEnd, LecroyData)
