"""Dectris Eiger legacy stream packets (protocols.md §2.2)."""
from typing import Literal

from dranspose.data._model import Model, PacketUnion


class EigerLegacy(Model):
    pass


class EigerLegacyHeader(EigerLegacy):
    htype: Literal["dheader-1.0"]


class EigerLegacyImage(EigerLegacy):
    htype: Literal["dimage-1.0"]
    frame: int


class EigerLegacyEnd(EigerLegacy):
    htype: Literal["dseries_end-1.0"]


EigerLegacyPacket = PacketUnion(EigerLegacyHeader, EigerLegacyImage, EigerLegacyEnd)
