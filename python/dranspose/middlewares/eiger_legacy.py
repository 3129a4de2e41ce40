"""Eiger legacy stream: a 9-frame header, 5-frame images (pixels left compressed), a 1-frame end."""
from typing import Union

from dranspose.data.eiger_legacy import EigerLegacyEnd, EigerLegacyHeader, EigerLegacyImage, EigerLegacyPacket
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import expect_length, expect_typ, json_frame


def parse(data: StreamData) -> Union[EigerLegacyHeader, EigerLegacyImage, EigerLegacyEnd]:
    expect_typ(data, "EIGER_LEGACY")
    packet = EigerLegacyPacket.validate_python(json_frame(data.frames[0]))
    if isinstance(packet, EigerLegacyHeader):
        expect_length(data, 9, "an Eiger legacy header")
        packet.info = json_frame(data.frames[1])
        packet.appendix = json_frame(data.frames[8])
    elif isinstance(packet, EigerLegacyImage):
        expect_length(data, 5, "an Eiger legacy image")
        packet.data = {**json_frame(data.frames[1]), "buffer": frame_bytes(data.frames[2])}
        packet.config = json_frame(data.frames[3])
    return packet  # type: ignore[return-value]
