"""A replay source in the style of the original's examples: generators of InternalWorkerMessages."""
import numpy as np

from dranspose.data.stream1 import Stream1Data, Stream1End, Stream1Start
from dranspose.event import InternalWorkerMessage


class RampSource:
    def get_source_generators(self):
        return [self.images(), self.slow()]

    def images(self):
        yield InternalWorkerMessage(event_number=0, streams={"xrd": Stream1Start(filename="ramp", msg_number=0).to_stream_data()})
        for frame in range(5):
            image = (np.arange(100, dtype=np.uint16) + frame).reshape(10, 10)
            packet = Stream1Data(msg_number=frame + 1, frame=frame, shape=image.shape, type="uint16", compression="none", data=image)
            yield InternalWorkerMessage(event_number=frame + 1, streams={"xrd": packet.to_stream_data()})
        yield InternalWorkerMessage(event_number=6, streams={"xrd": Stream1End(msg_number=6).to_stream_data()})

    def slow(self):
        # a second stream on every other event, merged into those events by number
        for number in range(0, 7, 2):
            yield InternalWorkerMessage(event_number=number, streams={"note": Stream1End(msg_number=number).to_stream_data()})
