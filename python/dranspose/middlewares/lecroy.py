"""LeCroy: PREPARE and STOP alone; a sequence is SEQ START, (meta, waveforms, timestamps) per channel, SEQ END."""
import pickle

from dranspose.data.lecroy import (LECROY_TYPE, LecroyBase, LecroyData, LecroyEnd, LecroyMessage, LecroyParsed,
                                   LecroyPrepare, LecroySeqStart)
from dranspose.event import StreamData, frame_bytes
from dranspose.middlewares._frames import array_frame, expect_length, expect_typ, json_frame


def parse(data: StreamData) -> LecroyBase:
    expect_typ(data, LECROY_TYPE)
    first = LecroyMessage.validate_python(json_frame(data.frames[0]))
    if isinstance(first, (LecroyPrepare, LecroyEnd)):
        return first
    if not isinstance(first, LecroySeqStart):
        raise ValueError(f"a LeCroy sequence must start with SEQ START, got {type(first).__name__}")
    expect_length(data, 2 + 3 * len(first.channels), f"a LeCroy sequence of {len(first.channels)} channels")
    parsed = LecroyParsed(**first.model_dump())
    for i in range(len(first.channels)):
        meta_frame, data_frame, stamps_frame = data.frames[1 + 3 * i: 4 + 3 * i]
        meta = LecroyData(**json_frame(meta_frame))
        parsed.meta.append(meta)
        parsed.data.append(array_frame(data_frame, meta.dtype, meta.shape))
        parsed.timestamps.append(list(pickle.loads(frame_bytes(stamps_frame))))
    return parsed
