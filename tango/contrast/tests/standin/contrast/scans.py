"""Contrast's scan classes as far as a hook sees them: ``run()`` calls ``_before_scan`` first, then
records the positions; mesh scans set ``n_positions``; a fly scan arms its triggered detectors for
``fastintervals + 1`` frames per line before running."""
import itertools
import time
from collections import OrderedDict

import numpy as np

from .detectors import Detector, TriggeredDetector
from .recorders import active_recorders

_next_scan = itertools.count(1)


class SoftwareScan:
    def __init__(self, exposuretime):
        self.motors = []
        self.exposuretime = exposuretime
        self.scannr = next(_next_scan)
        self._command = type(self).__name__.lower()

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
        # Contrast prepares the detectors and reads every motor for the snapshot here
        for recorder in active_recorders():
            recorder.wait_for_subscriber()
        self._send(self._scan_info('started'))
        t0 = time.time()
        for position in positions:
            record = OrderedDict(dt=time.time() - t0)
            for detector in group:
                record[detector.name] = detector.read()
            for motor in self.motors:
                record[motor] = position[motor]
            record['status'] = 'running'
            self._send(record)
        self._after_scan()
        self._send(self._scan_info('finished'))


class Mesh(SoftwareScan):
    """``mesh <motor> <start> <stop> <intervals> ... <exp_time>``, the last motor fastest."""

    def __init__(self, *args):
        super().__init__(float(args[-1]))
        axes = [args[i:i + 4] for i in range(0, len(args) - 1, 4)]
        self.motors = [axis[0] for axis in axes]
        self.axes = [np.linspace(float(start), float(stop), int(intervals) + 1) for _, start, stop, intervals in axes]
        self.n_positions = np.prod([len(axis) for axis in self.axes])
        self._command = 'mesh ' + ' '.join(str(a) for a in args)

    def _generate_positions(self):
        for values in itertools.product(*self.axes):
            yield dict(zip(self.motors, values))


class LoopScan(SoftwareScan):
    """``loopscan <intervals> <exp_time>``: no motors, no ``n_positions`` (as in older Contrast)."""

    def __init__(self, intervals, exposuretime=1.0):
        super().__init__(float(exposuretime))
        self.intervals = int(intervals)

    def _generate_positions(self):
        for i in range(self.intervals + 1):
            yield {'fake': i}


class FlyScan(Mesh):
    """``flyscan <fast motor> <start> <stop> <intervals> <slow mesh args...> <exp_time>``: one record per slow line."""

    def __init__(self, fastmotor, start, stop, fastintervals, *args):
        super().__init__(*args)
        self.fastintervals = int(fastintervals)
        self._command = 'flyscan %s %s %s %s ' % (fastmotor, start, stop, fastintervals) + ' '.join(str(a) for a in args)

    def _set_triggers(self, on):
        for detector in Detector.get_active():
            if isinstance(detector, TriggeredDetector):
                detector.hw_trig = on
                detector.hw_trig_n = self.fastintervals + 1

    def run(self):
        self._set_triggers(True)
        try:
            super().run()
        finally:
            self._set_triggers(False)
