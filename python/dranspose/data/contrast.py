"""Contrast scan records (protocols.md §2.4): pickled dicts, told apart by `status`."""
import pickle
from typing import Literal

from dranspose.data._model import Model, PacketUnion
from dranspose.event import StreamData


class ContrastBase(Model):
    def to_stream_data(self) -> StreamData:
        return StreamData(typ="contrast", frames=[pickle.dumps(self.model_dump())])


class ContrastStarted(ContrastBase):
    status: Literal["started"] = "started"
    path: str
    scannr: int
    description: str


class ContrastRunning(ContrastBase):
    status: Literal["running"] = "running"
    dt: float


class ContrastFinished(ContrastBase):
    status: Literal["finished"] = "finished"
    path: str
    scannr: int
    description: str


class ContrastHeartbeat(ContrastBase):
    status: Literal["heartbeat"]


ContrastPacket = PacketUnion(ContrastStarted, ContrastRunning, ContrastFinished, ContrastHeartbeat)
