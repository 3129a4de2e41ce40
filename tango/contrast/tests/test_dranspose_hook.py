"""The Contrast hook with the Contrast stand-in: descriptions, the patch of SoftwareScan, failures.

Run: /usr/bin/python3 -m unittest discover -s tango/contrast/tests  (test/contrast-hook.test.ts does)."""
import contextlib
import http.server
import io
import json
import os
import pickle
import socket
import sys
import threading
import unittest

import numpy as np
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

from contrast.detectors import CounterDetector, Detector, DummyWritingDetector, LinkDetector, PandaBox  # noqa: E402
from contrast.recorders import StreamRecorder  # noqa: E402
from contrast.scans import FlyScan, LoopScan, Mesh, SoftwareScan  # noqa: E402
from dranspose_hook import announce, describe_scan, detector_frames, install, n_positions, scan_description  # noqa: E402


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
        self.assertEqual(detector_frames(self.eiger, flyscan=True), 1)
        self.eiger.hw_trig, self.eiger.hw_trig_n = True, 5
        self.assertEqual(detector_frames(self.eiger, flyscan=True), 5)
        # a step scan arms it for one trigger whatever a fly scan left behind
        self.assertEqual(detector_frames(self.eiger, flyscan=False), 1)
        self.i0.burst_n = 3
        self.assertEqual(detector_frames(self.i0), 3)
        # the PandABox records hw_trig_n * burst_n rows, in step scans too (Contrast leaves its hw_trig_n alone)
        panda = PandaBox('panda')
        panda.hw_trig, panda.hw_trig_n, panda.burst_n = True, 1, 6
        self.assertEqual((detector_frames(panda, flyscan=True), detector_frames(panda, flyscan=False)), (6, 6))
        panda.hw_trig_n = 2
        self.assertEqual(detector_frames(panda, flyscan=True), 12)
        panda.hw_trig = False
        self.assertEqual(detector_frames(panda, flyscan=True), 6)

    def test_positions_known_or_counted(self):
        mesh = Mesh('sx', 0, 1, 2, 'sy', 0, 1, 1, 0.1)
        self.assertIsInstance(mesh.n_positions, np.integer)
        self.assertEqual((n_positions(mesh), type(n_positions(mesh))), (6, int))
        self.assertEqual(n_positions(LoopScan(3, 0.1)), 4)
        scan = LoopScan(2, 0.1)
        scan.n_positions = None  # older Contrast: counted from the positions
        self.assertEqual(n_positions(scan), 3)

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
        scan = FlyScan('sx', 0, 1, 3, 'sy', 0, 1, 2, 0.1)
        scan._command = 'flyscan sx 0 1 3 sy 0 1 2 0.1'  # typed at the prompt
        scan.run()
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
        self.assertEqual([list(line) for line in lines], [['sy', 'eiger', 'i0', 'dt', 'status']] * 3)
        self.assertEqual([(type(line['sy']), float(line['sy']), line['status']) for line in lines],
                         [(np.float64, 0.0, 'running'), (np.float64, 0.5, 'running'), (np.float64, 1.0, 'running')])
        self.assertEqual(lines[0]['eiger'], {'type': 'Link', 'filename': '/data/eiger.h5', 'path': '/entry/instrument/eiger/', 'universal': True})


    def test_a_step_scan_after_a_fly_scan_is_a_step_scan(self):
        """NpointFlyscan leaves hw_trig on and hw_trig_n at the line's frames; Contrast resets hw_trig_n only after _before_scan."""
        panda = PandaBox('panda')
        seen = []
        SoftwareScan._before_scan = lambda scan: seen.append((describe_scan(scan), self.eiger.hw_trig, self.eiger.hw_trig_n))
        self.subscribed_recorder()
        FlyScan('sx', 0, 1, 4, 'sy', 0, 1, 1, 0.1).run()
        Mesh('sx', 0, 1, 2, 0.1).run()
        fly, step = seen
        self.assertEqual(fly[0], {'kind': 'fly', 'lines': 2, 'frames_per_line': 5,
                                  'stream_options': {'i0': {'frames_per_point': 1}, 'contrast': {'frames_per_point': 1}},
                                  'streams': ['eiger', 'i0', 'panda', 'contrast'], 'skip_unavailable': True})
        self.assertEqual(step, ({'kind': 'step', 'nb_points': 3, 'streams': ['eiger', 'i0', 'panda', 'contrast'], 'skip_unavailable': True}, True, 5))
        self.assertEqual((self.eiger.hw_trig_n, panda.hw_trig, panda.burst_n), (1, False, 1))

    def test_script_scans_describe_themselves_as_none_and_writing_detectors_send_external_links(self):
        self.eiger.active, self.i0.active = False, False
        DummyWritingDetector('writer', '/tmp')
        subscriber = self.subscribed_recorder()
        Mesh('sx', 0, 1, 1, 0.1).run()
        started, first, second, finished = [pickle.loads(subscriber.recv()) for _ in range(4)]
        self.assertEqual((started['description'], finished['description']), (None, None))
        self.assertEqual(type(first['writer']).__name__, 'ExternalLink')
        self.assertEqual((first['writer'].filename, second['writer'].filename), (
            '/tmp/Dummy_scan_%03d_image_000.hdf5' % started['scannr'], '/tmp/Dummy_scan_%03d_image_001.hdf5' % started['scannr']))

    def test_ctrl_c_ends_the_scan_with_interrupted(self):
        subscriber = self.subscribed_recorder()
        scan = Mesh('sx', 0, 1, 4, 0.1)
        scan.interrupt_before = 2
        scan.run()
        messages = [pickle.loads(subscriber.recv()) for _ in range(4)]
        self.assertEqual([m['status'] for m in messages], ['started', 'running', 'running', 'interrupted'])


class Token(unittest.TestCase):
    def test_announcements_carry_the_bearer_token(self):
        received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append((self.path, self.headers.get('Authorization'), json.loads(self.rfile.read(int(self.headers['Content-Length'])))))
                body = json.dumps('0123').encode()
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = 'http://127.0.0.1:%d' % server.server_port
        Detector._instances.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(announce(LoopScan(1, 0.1), url, token='s3cret'), '0123')
            os.environ['DRANSPOSE_TOKEN'] = 'from-env'
            self.addCleanup(os.environ.pop, 'DRANSPOSE_TOKEN')
            announce(LoopScan(1, 0.1), url)
        self.assertEqual([(path, auth) for path, auth, _ in received], [('/api/v1/scan', 'Bearer s3cret'), ('/api/v1/scan', 'Bearer from-env')])


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
        scan.n_positions = None  # counted from the positions, which fail
        scan._generate_positions, positions = broken_positions, scan._generate_positions
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            scan._before_scan()
        self.assertEqual(printed.getvalue(), 'dranspose: unexpected RuntimeError: motor sx does not answer; the scan runs without the pipeline\n')
        self.assertEqual(len(list(positions())), 3)


if __name__ == '__main__':
    unittest.main()
