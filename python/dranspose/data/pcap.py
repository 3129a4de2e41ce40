"""PandABox PCAP packets of the Tango zmq publisher (protocols.md §2.5)."""
from datetime import datetime
from typing import Literal

from dranspose.data._model import Model, PacketUnion
from dranspose.event import StreamData


class PCAPBase(Model):
    message_id: int
    version: Literal[1]

    def to_stream_data(self) -> StreamData:
        return StreamData(typ="PCAP", frames=[self.model_dump_json().encode()])


class PCAPStart(PCAPBase):
    message_type: Literal["series-start"]
    arm_time: datetime


class PCAPData(PCAPBase):
    message_type: Literal["data"]
    frame_number: int


class PCAPEnd(PCAPBase):
    message_type: Literal["series-end"]


PCAPPacket = PacketUnion(PCAPStart, PCAPData, PCAPEnd)
