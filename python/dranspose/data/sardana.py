"""Sardana records posted to the HTTP ingester (protocols.md §2.9)."""
from typing import Literal, Union

from dranspose.data._model import Model, PacketUnion


class SardanaDataDescription(Model):
    type: Literal["DataDescription"] = "DataDescription"
    serialno: int
    scandir: str
    title: str


class SardanaRecordData(Model):
    type: Literal["RecordData"] = "RecordData"
    timestamp: float


class SardanaRecordEnd(Model):
    type: Literal["RecordEnd"] = "RecordEnd"


SardanaPacketType = Union[SardanaDataDescription, SardanaRecordData, SardanaRecordEnd]
SardanaPacket = PacketUnion(SardanaDataDescription, SardanaRecordData, SardanaRecordEnd)
