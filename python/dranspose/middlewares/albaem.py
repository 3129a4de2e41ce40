"""AlbaEM: one JSON frame per message (the original leaves this to the payload; here it is shared)."""
from dranspose.data.albaem import AlbaemBase, AlbaemPacket
from dranspose.event import StreamData
from dranspose.middlewares._frames import expect_length, expect_typ, json_frame


def parse(data: StreamData) -> AlbaemBase:
    expect_typ(data, "albaem")
    expect_length(data, 1, "an AlbaEM message")
    return AlbaemPacket.validate_python(json_frame(data.frames[0]))  # type: ignore[return-value]
