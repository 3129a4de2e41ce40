"""Contrast's scan classes as far as a hook sees them (contrast/scans/Scan.py and the NanoMAX
NpointFlyscan): ``run()`` calls ``_before_scan`` first; a step scan then sets ``hw_trig_n = 1`` on its
triggered detectors but a PandABox; ``_command`` stays None unless the scan was typed as a macro;
Ctrl-C during the points ends the scan with an ``interrupted`` footer. A fly scan sets its detectors'
triggers before running and leaves ``hw_trig`` on after it, as NpointFlyscan does."""
import itertools
import time
from collections import OrderedDict

import numpy as np

from .detectors import Detector, PandaBox, TriggeredDetector
from .recorders import active_recorders

_next_scan = itertools.count(1)


class SoftwareScan:
    def __init__(self, exposuretime):
        self._command = None  # set by the macro layer only
        self.motors = []
        self.exposuretime = exposuretime
        self.scannr = next(_next_scan)
        self.n_positions = None
        self.flyscan = False
        #: the stand-in's Ctrl-C: KeyboardInterrupt before this position (None: never)
        self.interrupt_before = None

    def _before_scan(self):
        pass

    def _after_scan(self):
        pass

    def _generate_positions(self):
        raise NotImplementedError

    def _send(self, message):
        for recorder in active_recorders():
            recorder.send(message)

    def _scan_info(self, status):
        return {'scannr': self.scannr, 'status': status, 'path': '/data/standin/raw', 'snapshot': {'energy': 12000.0},
                'description': self._command}

    def run(self):
        self._before_scan()
        positions = self._generate_positions()
        group = Detector.get_active()
        if not self.flyscan:
            for d in group:
                if isinstance(d, TriggeredDetector) and not isinstance(d, PandaBox):
                    d.hw_trig_n = 1
        for d in group:
            d.prepare(self.scannr)
        # Contrast prepares the detectors and reads every motor for the snapshot here
        for recorder in active_recorders():
            recorder.wait_for_subscriber()
        self._send(self._scan_info('started'))
        t0 = time.time()
        try:
            for i, position in enumerate(positions):
                if i == self.interrupt_before:
                    raise KeyboardInterrupt
                for detector in group:
                    detector.start()
                record = OrderedDict()
                for motor in self.motors:
                    record[motor] = position[motor]
                for detector in group:
                    record[detector.name] = detector.read()
                record['dt'] = time.time() - t0
                record['status'] = 'running'
                self._send(record)
            self._send(self._scan_info('finished'))
        except KeyboardInterrupt:
            self._send(self._scan_info('interrupted'))
        self._after_scan()


class Mesh(SoftwareScan):
    """``mesh <motor> <start> <stop> <intervals> ... <exp_time>``, the last motor fastest."""

    def __init__(self, *args):
        super().__init__(float(args[-1]))
        axes = [args[i:i + 4] for i in range(0, len(args) - 1, 4)]
        self.motors = [axis[0] for axis in axes]
        self.axes = [np.linspace(float(start), float(stop), int(intervals) + 1) for _, start, stop, intervals in axes]
        self.n_positions = np.prod([len(axis) for axis in self.axes])

    def _generate_positions(self):
        for values in itertools.product(*self.axes):
            yield dict(zip(self.motors, values))


class LoopScan(SoftwareScan):
    """``loopscan <intervals> <exp_time>``: no motors, ``{'fake': i}`` positions."""

    def __init__(self, intervals, exposuretime=1.0):
        super().__init__(float(exposuretime))
        self.intervals = int(intervals)
        self.n_positions = self.intervals + 1

    def _generate_positions(self):
        for i in range(self.intervals + 1):
            yield {'fake': i}


class FlyScan(Mesh):
    """``flyscan <fast motor> <start> <stop> <intervals> <slow mesh args...> <exp_time>``: one record per
    slow line, as NanoMAX's NpointFlyscan: every triggered detector but the PandABox takes
    ``fastintervals + 1`` hardware triggers per line, the PandABox a burst of as many; afterwards
    ``hw_trig`` stays on and the PandABox gets its own settings back."""

    def __init__(self, fastmotor, start, stop, fastintervals, *args):
        super().__init__(*args)
        self.flyscan = True
        self.fastintervals = int(fastintervals)

    def _set_triggers(self, on):
        for detector in Detector.get_active():
            if isinstance(detector, PandaBox):
                if on:
                    self._panda = (detector.hw_trig, detector.burst_n)
                    detector.burst_n, detector.hw_trig_n, detector.hw_trig = self.fastintervals + 1, 1, True
                else:
                    detector.hw_trig, detector.burst_n = self._panda
            elif isinstance(detector, TriggeredDetector):
                detector.hw_trig = True  # not set back after the scan, as in NpointFlyscan
                detector.hw_trig_n = self.fastintervals + 1

    def run(self):
        self._set_triggers(True)
        try:
            super().run()
        finally:
            self._set_triggers(False)
