"""The Contrast hook with the Contrast stand-in: descriptions, the patch of SoftwareScan, failures.

Run: /usr/bin/python3 -m unittest discover -s tango/contrast/tests  (test/contrast-hook.test.ts does)."""
import contextlib
import io
import os
import pickle
import socket
import sys
import unittest

import numpy as np
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

from contrast.detectors import CounterDetector, Detector, LinkDetector  # noqa: E402
from contrast.recorders import StreamRecorder  # noqa: E402
from contrast.scans import FlyScan, LoopScan, Mesh, SoftwareScan  # noqa: E402
from dranspose_hook import describe_scan, detector_frames, install, n_positions, scan_description  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class WithDetectors(unittest.TestCase):
    def setUp(self):
        Detector._instances.clear()
        self.eiger = LinkDetector('eiger', '/data/eiger.h5')
        self.i0 = CounterDetector('i0')
        self.addCleanup(setattr, SoftwareScan, '_before_scan', SoftwareScan._before_scan)

    def subscribed_recorder(self):
        """A StreamRecorder and a SUB socket receiving what it publishes."""
        port = free_port()
        recorder = StreamRecorder(port)
        self.addCleanup(recorder.close)
        subscriber = zmq.Context.instance().socket(zmq.SUB)
        subscriber.setsockopt(zmq.SUBSCRIBE, b'')
        subscriber.connect('tcp://127.0.0.1:%d' % port)
        self.addCleanup(subscriber.close, 0)
        return subscriber


class Description(unittest.TestCase):
    def test_step_scan_one_frame_per_position(self):
        self.assertEqual(scan_description(6, [('eiger', 1), ('i0', 1)]), {
            'kind': 'step', 'nb_points': 6, 'streams': ['eiger', 'i0', 'contrast'], 'skip_unavailable': True})

    def test_fly_scan_lines_of_frames_with_contrast_on_the_last(self):
        self.assertEqual(scan_description(3, [('eiger', 4), ('panda', 2)]), {
            'kind': 'fly', 'lines': 3, 'frames_per_line': 4,
            'stream_options': {'panda': {'frames_per_point': 2}, 'contrast': {'frames_per_point': 1}},
            'streams': ['eiger', 'panda', 'contrast'], 'skip_unavailable': True})
        # two detectors on one stream: the stream takes the larger count; no scan stream
        self.assertEqual(scan_description(2, [('eiger', 2), ('eiger', 4)], scan_stream=None), {
            'kind': 'fly', 'lines': 2, 'frames_per_line': 4, 'streams': ['eiger'], 'skip_unavailable': True})

    def test_refuses_what_cannot_be_announced(self):
        for count in (0, -1, None, True, 2.0):
            with self.assertRaisesRegex(ValueError, r'no usable number of positions'):
                scan_description(count, [('eiger', 1)])
        with self.assertRaisesRegex(ValueError, r'detector stream eiger takes 0 frames per position'):
            scan_description(3, [('eiger', 0)])
        with self.assertRaisesRegex(ValueError, r'no streams to announce'):
            scan_description(3, [], scan_stream=None)


class Scans(WithDetectors):
    def test_frames_per_position_of_detectors(self):
        self.assertEqual(detector_frames(self.eiger), 1)
        self.eiger.hw_trig, self.eiger.hw_trig_n = True, 5
        self.assertEqual(detector_frames(self.eiger), 5)
        self.i0.burst_n = 3
        self.assertEqual(detector_frames(self.i0), 3)

    def test_positions_known_or_counted(self):
        mesh = Mesh('sx', 0, 1, 2, 'sy', 0, 1, 1, 0.1)
        self.assertIsInstance(mesh.n_positions, np.integer)
        self.assertEqual((n_positions(mesh), type(n_positions(mesh))), (6, int))
        self.assertEqual(n_positions(LoopScan(3, 0.1)), 4)

    def test_describes_active_detectors_renamed_or_left_out(self):
        self.i0.active = False
        self.assertEqual(describe_scan(Mesh('sx', 0, 1, 2, 0.1)), {
            'kind': 'step', 'nb_points': 3, 'streams': ['eiger', 'contrast'], 'skip_unavailable': True})
        self.i0.active = True
        self.assertEqual(describe_scan(Mesh('sx', 0, 1, 2, 0.1), {'eiger': 'eiger4m', 'i0': None}, 'scan')['streams'], ['eiger4m', 'scan'])

    def test_fly_scan_seen_from_before_scan_and_on_the_wire(self):
        seen = []
        SoftwareScan._before_scan = lambda scan: seen.append(describe_scan(scan))
        subscriber = self.subscribed_recorder()
        FlyScan('sx', 0, 1, 3, 'sy', 0, 1, 2, 0.1).run()
        self.assertEqual(seen, [{
            'kind': 'fly', 'lines': 3, 'frames_per_line': 4,
            'stream_options': {'i0': {'frames_per_point': 1}, 'contrast': {'frames_per_point': 1}},
            'streams': ['eiger', 'i0', 'contrast'], 'skip_unavailable': True}])
        messages = [subscriber.recv() for _ in range(5)]
        self.assertTrue(all(m.startswith(b'\x80\x02') for m in messages), 'pickle protocol 2')
        started, *lines, finished = [pickle.loads(m) for m in messages]
        self.assertEqual((started['status'], finished['status']), ('started', 'finished'))
        self.assertEqual(started['description'], 'flyscan sx 0 1 3 sy 0 1 2 0.1')
        self.assertEqual([type(line).__name__ for line in lines], ['OrderedDict'] * 3)
        self.assertEqual([list(line) for line in lines], [['dt', 'eiger', 'i0', 'sy', 'status']] * 3)
        self.assertEqual([(type(line['sy']), float(line['sy']), line['status']) for line in lines],
                         [(np.float64, 0.0, 'running'), (np.float64, 0.5, 'running'), (np.float64, 1.0, 'running')])
        self.assertEqual(lines[0]['eiger'], {'type': 'Link', 'filename': '/data/eiger.h5', 'path': '/entry/instrument/eiger/', 'universal': True})


class Install(WithDetectors):
    def run_scan(self):
        self.subscribed_recorder()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            Mesh('sx', 0, 1, 1, 0.1).run()
        return printed.getvalue().splitlines()

    def test_runs_after_the_beamline_hook_once_even_if_installed_twice(self):
        SoftwareScan._before_scan = lambda scan: print('beamline pre-scan')
        port = free_port()
        install('http://127.0.0.1:1')
        install('http://127.0.0.1:%d' % port)
        printed = self.run_scan()
        self.assertEqual(len(printed), 2, printed)
        self.assertEqual(printed[0], 'beamline pre-scan')
        self.assertRegex(printed[1], r'^dranspose: cannot reach http://127\.0\.0\.1:%d: .*refused.*; the scan runs without the pipeline$' % port)

    def test_never_stops_the_scan(self):
        def broken_positions():
            raise RuntimeError('motor sx does not answer')

        install('http://127.0.0.1:%d' % free_port())
        scan = LoopScan(2, 0.1)
        scan._generate_positions, positions = broken_positions, scan._generate_positions
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            scan._before_scan()
        self.assertEqual(printed.getvalue(), 'dranspose: unexpected RuntimeError: motor sx does not answer; the scan runs without the pipeline\n')
        self.assertEqual(len(list(positions())), 3)


if __name__ == '__main__':
    unittest.main()
