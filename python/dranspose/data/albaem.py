"""AlbaEM electrometer packets (protocols.md §2.7)."""
from typing import Literal

from dranspose.data._model import Model, PacketUnion


class AlbaemBase(Model):
    message_id: int
    version: Literal[1]


class AlbaemStart(AlbaemBase):
    message_type: Literal["series-start"]


class AlbaemData(AlbaemBase):
    message_type: Literal["data"]
    frame_number: int
    timestamp: float
    acquisition_timestamp: int


class AlbaemEnd(AlbaemBase):
    message_type: Literal["series-end"]


AlbaemPacket = PacketUnion(AlbaemStart, AlbaemData, AlbaemEnd)
