"""
Event frames the Node worker put in shared memory (src/python/shared-frames.ts): a memory file of
fixed slots, one event per slot, mapped here read-only, one mapping per slot for as long as the
host runs. A request names its slot and where its frames lie; its frames are `SharedFrame`s over
that slot's mapping.

A slot goes back to Node (the reply's `freed`) only when nothing refers to its frames any more.
Every array, memoryview or buffer made from a frame keeps a reference to the frame or to the
buffer numpy took from the slot's mapping, and that buffer refers to the mapping: so the mapping's
reference count is above its resting count exactly while anything can still read the slot. A
payload that keeps a frame or a view keeps its slot until it lets go (checked again with every
request). Python 3.11 has no `__buffer__`, so a per-event exporter whose release could be watched
cannot be written in Python; and `mmap.close()` as the test would need a mapping per event, which
costs its page faults on every event.
"""
import mmap
import os
import sys
from typing import Any

import numpy as np


class SharedFrame(np.ndarray):
    """A frame in shared memory: a read-only uint8 array (buffer protocol, `np.frombuffer`,
    `bytes(frame)`, `len`) with `.bytes` and `.buffer` as a zmq.Frame has them."""

    @property
    def bytes(self) -> bytes:
        return self.tobytes()

    @property
    def buffer(self) -> memoryview:
        return memoryview(self)

    def __bool__(self) -> bool:
        # as a zmq.Frame: true when not empty (an array of several elements would refuse)
        return self.size > 0


class SharedSlots:
    def __init__(self, description: str) -> None:
        """`FD,SLOTS,SLOT_BYTES` as the Node side passes it."""
        fd, slots, slot_bytes = (int(part) for part in description.split(","))
        self.maps = [mmap.mmap(fd, slot_bytes, prot=mmap.PROT_READ, offset=i * slot_bytes) for i in range(slots)]
        os.close(fd)
        # slots whose frames were handed to the payload and are not given back yet
        self.held: set[int] = set()
        # a mapping referred to by this list and by getrefcount's argument only
        self.resting = sys.getrefcount(self.maps[0])

    def frames(self, placement: dict[str, Any]) -> list[SharedFrame]:
        slot = placement["slot"]
        if slot in self.held:
            raise RuntimeError(f"shared slot {slot} was handed over again before it was freed")
        self.held.add(slot)
        mapping = self.maps[slot]
        return [np.frombuffer(mapping, np.uint8, length, offset).view(SharedFrame) for offset, length in placement["spans"]]

    def settle(self) -> list[int]:
        """The held slots nothing refers to any more, given back (call it with no frames of a request in hand)."""
        freed = [slot for slot in self.held if sys.getrefcount(self.maps[slot]) == self.resting]
        self.held.difference_update(freed)
        return freed
