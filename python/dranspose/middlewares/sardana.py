"""Sardana: one JSON frame per record."""
from dranspose.data.sardana import SardanaPacket, SardanaPacketType
from dranspose.event import StreamData
from dranspose.middlewares._frames import expect_length, expect_typ, json_frame


def parse(data: StreamData) -> SardanaPacketType:
    expect_typ(data, "sardana")
    expect_length(data, 1, "a Sardana record")
    return SardanaPacket.validate_python(json_frame(data.frames[0]))  # type: ignore[return-value]
