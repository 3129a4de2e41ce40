"""Workers that report how their frames arrived (type, length, CRC-32) and, for the pinning tests, keep frames or views of them."""
import zlib
from collections import deque

import numpy as np


class FrameWorker:
    """Keeps the last `keep` events' frames (whole or as numpy views) and checks on every event that none changed."""
    keep = 0

    def __init__(self, **kwargs):
        self.kept = deque(maxlen=self.keep or None)

    def process_event(self, event, parameters):
        frames = [frame for stream in event.streams.values() for frame in stream.frames]
        report = {"types": [type(frame).__name__ for frame in frames], "lengths": [len(frame) for frame in frames],
                  "crcs": [zlib.crc32(frame) for frame in frames], "bytes_crcs": [zlib.crc32(frame.bytes) for frame in frames]}
        if self.keep:
            for i, frame in enumerate(frames):
                # every other one a view of a view, which refers to the frame only through numpy's bases
                held = frame if i % 2 else np.frombuffer(frame, np.uint8)[1:]
                self.kept.append((held, zlib.crc32(held)))
        report["changed"] = sum(zlib.crc32(held) != crc for held, crc in self.kept)
        return report


class KeepEverything(FrameWorker):
    keep = 10**9


class KeepRecent(FrameWorker):
    keep = 3
