"""The worker of the Python-worker bench row: the ROI sum of a STINS image with numpy (as roi-payload.ts)."""
from dranspose.data.stream1 import Stream1Data
from dranspose.middlewares.stream1 import parse

TOP, BOTTOM, LEFT, RIGHT = 128, 384, 128, 384


class RoiWorker:
    def __init__(self, **kwargs):
        pass

    def process_event(self, event, parameters, tick=False):
        packet = parse(event.streams["det"])
        if not isinstance(packet, Stream1Data):
            return None
        return {"roi": int(packet.data[TOP:BOTTOM, LEFT:RIGHT].sum())}
