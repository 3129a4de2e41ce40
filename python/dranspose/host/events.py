"""
Events for `dranspose replay` from Python: `python -m dranspose.host.events pkls FILE` reads a
legacy sequence of pickles (InternalWorkerMessage objects, or raw frame lists of a capture), and
`… source module:Class` plays a source class's `get_source_generators()` merged by event number,
as the original's replay does. Standard output is a CBOR sequence: `["event", n, {stream: [typ,
[frames]]}]` or `["raw", [frames]]`, flushed per item so a slow source streams.
"""
import gzip
import heapq
import pickle
import sys
from typing import Any, Iterator

import cbor2

from dranspose.event import InternalWorkerMessage, frame_bytes
from dranspose.host.payload import load_class


def pickles(path: str) -> Iterator[Any]:
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as file:
        while True:
            try:
                yield pickle.load(file)
            except EOFError:
                return


def source_events(spec: str) -> Iterator[Any]:
    """The lowest event number of all generators' heads next; heads of one number form one event."""
    generators = load_class(spec)().get_source_generators()
    heads = [(message.event_number, i, message) for i, g in enumerate(generators) for message in [next(g, None)] if message]
    heapq.heapify(heads)
    while heads:
        number = heads[0][0]
        merged = InternalWorkerMessage(event_number=number)
        while heads and heads[0][0] == number:
            _, i, message = heapq.heappop(heads)
            merged.streams.update(message.streams)
            following = next(generators[i], None)
            if following is not None:
                heapq.heappush(heads, (following.event_number, i, following))
        yield merged


def item_of(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return ["raw", [frame_bytes(frame) for frame in value]]
    if hasattr(value, "event_number") and hasattr(value, "streams"):
        streams = {name: [data.typ, [frame_bytes(frame) for frame in data.frames]] for name, data in value.streams.items()}
        return ["event", value.event_number, streams]
    raise ValueError(f"expected an InternalWorkerMessage or a list of frames, got a {type(value).__name__}")


def main() -> None:
    mode, argument = sys.argv[1:3]
    sys.path.append(".")
    items = pickles(argument) if mode == "pkls" else source_events(argument)
    out = sys.stdout.buffer
    for value in items:
        out.write(cbor2.dumps(item_of(value)))
        out.flush()


if __name__ == "__main__":
    main()
