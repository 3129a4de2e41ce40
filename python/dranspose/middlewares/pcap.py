"""PandABox PCAP (Tango zmq publisher): one JSON frame per row."""
from dranspose.data.pcap import PCAPBase, PCAPPacket
from dranspose.event import StreamData
from dranspose.middlewares._frames import expect_length, expect_typ, json_frame


def parse(data: StreamData) -> PCAPBase:
    expect_typ(data, "PCAP")
    expect_length(data, 1, "a PCAP message")
    return PCAPPacket.validate_python(json_frame(data.frames[0]))  # type: ignore[return-value]
