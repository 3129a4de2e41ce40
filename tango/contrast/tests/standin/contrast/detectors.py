"""Detectors as Contrast models them: instances register themselves; ``get_active`` lists the active
ones; ``TriggeredDetector`` (``hw_trig``, ``hw_trig_n``) and ``BurstDetector`` (``burst_n``) are mixins,
and the PandABox is both."""
import h5py
import numpy as np


class Detector:
    _instances = []

    def __init__(self, name):
        self.name = name
        self.active = True
        Detector._instances.append(self)

    @classmethod
    def getinstances(cls):
        return [d for d in Detector._instances if isinstance(d, cls)]

    @classmethod
    def get_active(cls):
        return DetectorGroup(*[d for d in cls.getinstances() if d.active])

    def prepare(self, scannr):
        pass

    def start(self):
        pass

    def read(self):
        raise NotImplementedError


class TriggeredDetector:
    """Optionally hardware triggered: ``hw_trig_n`` triggers per software step when ``hw_trig`` is on."""

    def __init__(self):
        self.hw_trig = False
        self.hw_trig_n = 1


class BurstDetector:
    """Takes ``burst_n`` frames per start."""

    def __init__(self):
        self.burst_n = 1


class DetectorGroup:
    def __init__(self, *detectors):
        self.detectors = list(detectors)

    def __iter__(self):
        return iter(self.detectors)

    def __len__(self):
        return len(self.detectors)


class LinkDetector(Detector, TriggeredDetector):
    """An area detector writing its own files: Contrast records the HDF5 link, as for NanoMAX's Eiger."""

    def __init__(self, name, filename):
        Detector.__init__(self, name)
        TriggeredDetector.__init__(self)
        self.filename = filename

    def read(self):
        return {'type': 'Link', 'filename': self.filename, 'path': '/entry/instrument/%s/' % self.name, 'universal': True}


class CounterDetector(Detector, BurstDetector):
    """A counter read by Contrast itself: an array of ``burst_n`` float64 values per position."""

    def __init__(self, name):
        Detector.__init__(self, name)
        BurstDetector.__init__(self)
        self.reads = 0

    def read(self):
        self.reads += 1
        return np.arange(self.burst_n, dtype=np.float64) + self.reads


class PandaBox(Detector, TriggeredDetector, BurstDetector):
    """The PandABox: ``hw_trig_n * burst_n`` rows per position when hardware triggered, else ``burst_n``;
    Contrast reads them as one array per channel."""

    def __init__(self, name):
        Detector.__init__(self, name)
        TriggeredDetector.__init__(self)
        BurstDetector.__init__(self)

    def read(self):
        rows = self.hw_trig_n * self.burst_n if self.hw_trig else self.burst_n
        return {'COUNTER1.OUT_Value': np.arange(rows, dtype=np.float64)}


class DummyWritingDetector(Detector):
    """Contrast's DummyWritingDetector: each start writes a frame to its own HDF5 file (the stand-in
    writes none) and reads back an ``h5py.ExternalLink`` to it, which the StreamRecorder pickles as it is."""

    def __init__(self, name, directory):
        Detector.__init__(self, name)
        self.directory = directory

    def prepare(self, scannr):
        self.filename_base = '%s/Dummy_scan_%03d_image_%%03d.hdf5' % (self.directory, scannr)
        self.next_image = -1

    def start(self):
        self.next_image += 1
        self.latest_link = h5py.ExternalLink(self.filename_base % self.next_image, 'entry/measurement/data')

    def read(self):
        return self.latest_link
