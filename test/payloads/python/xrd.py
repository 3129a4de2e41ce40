"""A worker and reducer in the style of the original's tutorial, for the STINS capture dump_xrd.cbors."""
import logging
import os
import threading

import numpy as np

from dranspose.data.stream1 import Stream1Data, Stream1Start
from dranspose.event import EventData, ResultData
from dranspose.middlewares import stream1
from dranspose.parameters import FileParameter, IntParameter, StrParameter

logger = logging.getLogger(__name__)


class CornerWorker:
    @staticmethod
    def describe_parameters():
        return [IntParameter(name="till_x", default=2), IntParameter(name="from_y", default=8),
                StrParameter(name="label", default="xrd"), FileParameter(name="mask")]

    def __init__(self, parameters=None, context=None, state=None, **kwargs):
        self.name = state.name
        context.setdefault("scans", 0)
        context["scans"] += 1
        self.scans = context["scans"]

    def process_event(self, event: EventData, parameters=None, tick=False):
        packet = stream1.parse(event.streams["xrd"])
        if isinstance(packet, Stream1Start):
            return {"filename": packet.filename, "scans": self.scans, "worker": self.name}
        if not isinstance(packet, Stream1Data):
            return None
        corner = packet.data[: parameters["till_x"].value, parameters["from_y"].value:]
        mask = parameters["mask"].data
        return {
            "mean": float(corner.mean()),
            "image": packet.data,
            "rows": packet.data.sum(axis=1),
            "frame": packet.frame,
            "pair": (packet.frame, parameters["label"].value),
            "mask_bytes": len(mask),
            "mask_name": parameters["mask_file"].value,
            "tick": tick,
        }

    def close(self, context):
        # called once when the worker process stops; a test names the file
        marker = os.environ.get("XRD_CLOSE_MARKER")
        if marker:
            with open(marker, "a") as out:
                out.write(f"{self.name} closed after {context['scans']} scans\n")


class CornerReducer:
    def __init__(self, parameters=None, **kwargs):
        self.publish = {"reduced": {}, "images": {}, "rows": None, "meta": {}, "map": {"x": [], "y": []},
                        "map_attrs": {"NX_class": "NXdata"}, "_attrs": {"title": "corner means"}}
        self.publish_rlock = threading.RLock()
        self.timer_calls = 0

    def process_result(self, result: ResultData, parameters=None):
        payload = result.payload
        with self.publish_rlock:
            if "filename" in payload:
                self.publish["meta"] = {"filename": payload["filename"], "scans": payload["scans"]}
                return
            self.publish["reduced"][str(result.event_number)] = payload["mean"]
            self.publish["images"][f"frame{payload['frame']}"] = payload["image"]
            rows = payload["rows"].astype(np.int64)
            self.publish["rows"] = rows if self.publish["rows"] is None else self.publish["rows"] + rows
            self.publish["map"]["x"].append(float(payload["frame"]))
            self.publish["map"]["y"].append(payload["pair"][1])
            self.publish["mask"] = [payload["mask_bytes"], payload["mask_name"]]

    def timer(self):
        self.timer_calls += 1
        self.publish["timer_calls"] = self.timer_calls
        return 0.05

    def finish(self, parameters=None):
        self.publish["finished"] = True
