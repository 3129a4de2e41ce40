"""PandABox position capture over TCP (protocols.md §2.6): header block, value lines, END."""
from datetime import datetime
from typing import Optional, Union

from dranspose.data._model import Model
from dranspose.event import StreamData

VALUE_TYPES = {"uint32": int, "double": float}


class PositionCapField(Model):
    name: str
    type: str
    value: Optional[Union[int, float]] = None

    def parse(self, value: str) -> "PositionCapField":
        convert = VALUE_TYPES.get(self.type)
        if convert is None:
            raise ValueError(f"position capture field {self.name} has unknown type {self.type!r}")
        return PositionCapField(name=self.name, type=self.type, value=convert(value))


class PositionCapStart(Model):
    arm_time: datetime

    def to_stream_data(self, fields: list[PositionCapField]) -> StreamData:
        lines = [f"arm_time: {self.arm_time.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z", "missed: 0", "process: Scaled",
                 "format: ASCII", "fields:"]
        for field in fields:
            source, _, capture = field.name.rpartition(".")
            lines.append(f" {source} {field.type} {capture}")
        return StreamData(typ="PCAP_RAW", frames=["\n".join(lines + ["", ""]).encode()])


class PositionCapValues(Model):
    fields: dict = {}

    def to_stream_data(self) -> StreamData:
        line = "".join(f" {field.value}" for field in self.fields.values()) + "\n"
        return StreamData(typ="PCAP_RAW", frames=[line.encode()])


class PositionCapEnd(Model):
    def to_stream_data(self) -> StreamData:
        return StreamData(typ="PCAP_RAW", frames=[b"END 0 Disarmed\n"])


PositionCapPacketType = Union[PositionCapStart, PositionCapValues, PositionCapEnd]
