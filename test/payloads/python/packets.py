"""A worker that parses whatever protocol arrives with the dranspose middlewares, and reducers that keep what it finds."""
import numpy as np

from dranspose.data.contrast import ContrastRunning
from dranspose.data.eiger_legacy import EigerLegacyHeader, EigerLegacyImage
from dranspose.data.lecroy import LecroyParsed
from dranspose.data.pcap import PCAPData
from dranspose.data.xspress3 import XspressImage
from dranspose.data.albaem import AlbaemData
from dranspose.middlewares import albaem, contrast, eiger_legacy, lecroy, pcap, xspress


def summary(stream):
    if stream.typ == "contrast":
        packet = contrast.parse(stream)
        if isinstance(packet, ContrastRunning):
            return {"x": packet.pseudo["x"][0], "y": packet.pseudo["y"][0]}
    elif stream.typ == "xspress":
        packet = xspress.parse(stream)
        if isinstance(packet, XspressImage):
            return {"roi1": packet.data[-1][0:10].sum(), "sums": packet.data.sum(axis=1), "all_good": packet.meta["AllGood"]}
    elif stream.typ == "lecroy_9fwdWp6Rq7":
        packet = lecroy.parse(stream)
        if isinstance(packet, LecroyParsed):
            return {"max": np.stack([d.max(axis=1) for d in packet.data]), "ts": packet.timestamps, "channels": packet.channels}
    elif stream.typ == "albaem":
        packet = albaem.parse(stream)
        if isinstance(packet, AlbaemData):
            return {"frame": packet.frame_number, "channel1": packet.channel1, "acquired": packet.acquisition_timestamp}
    elif stream.typ == "PCAP":
        packet = pcap.parse(stream)
        if isinstance(packet, PCAPData):
            return {"frame": packet.frame_number, "energy": packet.energy}
    elif stream.typ == "EIGER_LEGACY":
        packet = eiger_legacy.parse(stream)
        if isinstance(packet, EigerLegacyHeader):
            return {"width": packet.info["x_pixels_in_detector"], "col_id": packet.appendix["collect_dict"]["col_id"]}
        if isinstance(packet, EigerLegacyImage):
            return {"encoding": packet.data["encoding"], "real_time": packet.config["real_time"], "blob": len(packet.data["buffer"])}
    return None


class PacketWorker:
    def __init__(self, *args, **kwargs):
        pass

    def process_event(self, event, parameters=None):
        found = {name: summary(stream) for name, stream in event.streams.items()}
        found = {name: value for name, value in found.items() if value is not None}
        return found or None


class PacketReducer:
    def __init__(self, *args, **kwargs):
        self.publish = {"events": {}}

    def process_result(self, result, parameters=None):
        self.publish["events"][str(result.event_number)] = result.payload


class FluorescenceReducer:
    """The map of a Contrast + Xspress3 scan: positions and the ROI of channel 1."""

    def __init__(self, *args, **kwargs):
        self.publish = {"map": {"x": {}, "y": {}, "roi1": {}}}

    def process_result(self, result, parameters=None):
        if "contrast" in result.payload and "xspress3" in result.payload:
            for key, value in (("x", result.payload["contrast"]["x"]), ("y", result.payload["contrast"]["y"]),
                               ("roi1", result.payload["xspress3"]["roi1"])):
                self.publish["map"][key][result.event_number] = value

    def timer(self):
        return 0.1
