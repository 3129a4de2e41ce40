"""PandABox position capture: the header names the fields that every following line holds."""
from datetime import datetime
from typing import Optional

from dranspose.data.positioncap import (PositionCapEnd, PositionCapField, PositionCapPacketType, PositionCapStart,
                                        PositionCapValues)
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import expect_length, expect_typ


class PositioncapParser:
    """Stateful: one per worker, since value lines are read with the fields of the last header."""

    def __init__(self) -> None:
        self.fields: list[PositionCapField] = []
        self.arm_time: Optional[datetime] = None

    def parse(self, data: StreamData) -> PositionCapPacketType:
        expect_typ(data, "PCAP_RAW")
        expect_length(data, 1, "a position capture message")
        text = frame_bytes(data.frames[0]).decode()
        if text.startswith("arm_time:"):
            return self._header(text)
        if text.startswith("END"):
            return PositionCapEnd()
        values = text.split()
        if len(values) != len(self.fields):
            raise ValueError(f"position capture line has {len(values)} values for {len(self.fields)} fields")
        return PositionCapValues(fields={f.name: f.parse(v) for f, v in zip(self.fields, values)})

    def _header(self, text: str) -> PositionCapStart:
        self.fields = []
        for line in text.splitlines():
            if line.startswith("arm_time:"):
                # the original drops the Z: a naive datetime
                self.arm_time = datetime.fromisoformat(line.split(":", 1)[1].strip().rstrip("Z"))
            elif line.startswith(" "):
                tokens = line.split()
                self.fields.append(PositionCapField(name=f"{tokens[0]}.{tokens[2]}", type=tokens[1]))
        return PositionCapStart(arm_time=self.arm_time)
