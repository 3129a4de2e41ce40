"""Xspress3: an image is JSON, the uint32 spectra and a pickled list of per-channel statistics."""
import pickle
from typing import Union

from dranspose.data.xspress3 import META_NAMES, XspressEnd, XspressImage, XspressPacket, XspressStart
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import array_frame, expect_length, expect_typ, json_frame


def parse(data: StreamData) -> Union[XspressStart, XspressImage, XspressEnd]:
    expect_typ(data, "xspress")
    packet = XspressPacket.validate_python(json_frame(data.frames[0]))
    if isinstance(packet, XspressImage):
        expect_length(data, 3, "an Xspress3 image")
        packet.data = array_frame(data.frames[1], packet.type, packet.shape)
        # newer devices send a 9th array (window_counts); the original maps the first 8 only
        packet.meta = dict(zip(META_NAMES, pickle.loads(frame_bytes(data.frames[2]))))
    return packet  # type: ignore[return-value]
