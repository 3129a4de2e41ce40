"""A live STINS worker and reducer in the original's style: ROI sums and column profiles with numpy."""
import os
import threading

import numpy as np

from dranspose.data.stream1 import Stream1Data, Stream1End, Stream1Start
from dranspose.middlewares.stream1 import parse
from dranspose.parameters import IntParameter, StrParameter


class RoiWorker:
    @staticmethod
    def describe_parameters():
        return [IntParameter(name="roi_rows", default=4), StrParameter(name="mode", default="normal"),
                IntParameter(name="tick_ms", default=0)]

    def __init__(self, parameters=None, context=None, state=None, **kwargs):
        self.worker = state.name

    def get_tick_interval(self, parameters):
        return parameters["tick_ms"].value / 1000

    def process_event(self, event, parameters, tick=False):
        packet = parse(event.streams["det"])
        if isinstance(packet, Stream1Start):
            return {"start": packet.filename, "worker": self.worker}
        if isinstance(packet, Stream1End):
            return None
        assert isinstance(packet, Stream1Data)
        mode = parameters["mode"].value
        if mode == "crash" and packet.frame == 3:
            os._exit(3)
        if mode == "raise" and packet.frame == 2:
            raise ValueError(f"frame {packet.frame} refused")
        if mode == "opaque" and packet.frame == 1:
            return {"opaque": object()}
        rows = parameters["roi_rows"].value
        return {
            "frame": packet.frame,
            "roi": int(packet.data[:rows].sum()),
            "profile": packet.data.sum(axis=0, dtype=np.uint32),
            "image": packet.data,
            "tick": tick,
            "misc": (1, 2.5, "three", b"four", None, [np.float32(0.5)], {"nested": np.arange(3, dtype=np.int16)}),
        }


class RoiReducer:
    def __init__(self, parameters=None, **kwargs):
        self.publish = {"roi": {}, "profile_sum": None, "ticks": 0, "starts": [], "frames": [],
                        "roi_attrs": {"units": "counts"}}
        self.publish_rlock = threading.RLock()

    def process_result(self, result, parameters=None):
        payload = result.payload
        with self.publish_rlock:
            if "start" in payload:
                self.publish["starts"].append(payload["worker"])
                return
            self.publish["roi"][str(payload["frame"])] = payload["roi"]
            self.publish["frames"].append(payload["frame"])
            profile = payload["profile"].astype(np.int64)
            current = self.publish["profile_sum"]
            self.publish["profile_sum"] = profile if current is None else current + profile
            self.publish["ticks"] += int(payload["tick"])
            self.publish["last_image"] = payload["image"]
            self.publish["misc"] = payload["misc"]

    def finish(self, parameters=None):
        self.publish["frames"].sort()
