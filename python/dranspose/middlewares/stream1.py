"""STINS: frame 0 JSON; an image's frame 1 the pixels, raw, LZ4 or bitshuffle-LZ4, decoded to numpy."""
import struct
from typing import Any, Union

import numpy as np

from dranspose.data.stream1 import Stream1Data, Stream1End, Stream1Packet, Stream1Start
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import array_frame, buffer_of, expect_length, expect_typ, json_frame

BSLZ4_HEADER_BYTES = 12


def parse(data: StreamData) -> Union[Stream1Start, Stream1Data, Stream1End]:
    expect_typ(data, "STINS")
    packet = Stream1Packet.validate_python(json_frame(data.frames[0]))
    if isinstance(packet, Stream1Data):
        expect_length(data, 2, "a STINS image")
        packet.data = decode_image(packet, data.frames[1])
    return packet  # type: ignore[return-value]


def decode_image(header: Stream1Data, frame: Any) -> np.ndarray:
    dtype = np.dtype(header.type)
    shape = tuple(header.shape)
    if header.compression == "none":
        return array_frame(frame, header.type, shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if header.compression == "lz4":
        import lz4.block
        return np.frombuffer(lz4.block.decompress(frame_bytes(frame), uncompressed_size=nbytes), dtype).reshape(shape)
    if header.compression == "bslz4":
        return decode_bslz4(np.frombuffer(buffer_of(frame), np.uint8), dtype, shape, nbytes)
    raise ValueError(f"STINS image frame {header.frame}: unknown compression {header.compression!r}")


def decode_bslz4(blob: np.ndarray, dtype: np.dtype, shape: tuple, nbytes: int) -> np.ndarray:
    """A bitshuffle-LZ4 blob with or without the 12-byte header (total bytes, block bytes)."""
    try:
        import bitshuffle
    except ImportError as error:
        raise ImportError("bslz4 images need the bitshuffle module (Debian: apt-get install bitshuffle)") from error
    block_elements = 0
    if blob.size >= BSLZ4_HEADER_BYTES:
        total, block_bytes = struct.unpack(">QI", blob[:BSLZ4_HEADER_BYTES].tobytes())
        if total == nbytes:
            blob = blob[BSLZ4_HEADER_BYTES:]
            block_elements = block_bytes // dtype.itemsize
    return bitshuffle.decompress_lz4(blob, shape, dtype, block_elements)
