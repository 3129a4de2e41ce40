"""The Sardana recorder without Sardana: what it posts, in which order, with which headers, and how it
fails. Run: /usr/bin/python3 -m unittest discover -s tango/sardana/tests (test/sardana-hook.test.ts does)."""
import datetime
import http.server
import json
import os
import socket
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

import numpy  # noqa: E402

from dranspose_recorder import DransposeRecorder, flush  # noqa: E402
from run_recorder import ColumnDesc, Macro, Record, RecordList  # noqa: E402


class Ingester:
    """An HTTP upstream that keeps what it is sent: (path, body text, Authorization)."""

    def __init__(self, status=200):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                received.append((self.path, self.rfile.read(int(self.headers['Content-Length'])).decode(), self.headers.get('Authorization')))
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = 'http://127.0.0.1:%d' % self.server.server_port

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def play(recorder, points=2, unread=()):
    """One scan through the recorder, as GScan drives it."""
    columns = [ColumnDesc('point_nb', dtype='int64'), ColumnDesc('ct01'), ColumnDesc('image', shape=(2, 2)), ColumnDesc('timestamp')]
    start = datetime.datetime(2024, 1, 15, 10, 0, 0)
    records = RecordList({'datadesc': columns, 'ref_moveables': [], 'estimatedtime': 1.0, 'total_scan_intervals': points - 1,
                          'starttime': start, 'title': 'timescan', 'counters': ['ct01'], 'ScanFile': ['x.daq'], 'ScanDir': '/tmp',
                          'serialno': 3})
    recorder.startRecordList(records)
    for n in range(points):
        recorder.writeRecord(Record({'point_nb': numpy.int64(n), 'ct01': numpy.float64('nan') if n in unread else numpy.float64(n),
                                     'image': numpy.zeros((2, 2)), 'timestamp': numpy.float64(n / 10)}))
    records.environ.update(endtime=start, deadtime=0.5)
    recorder.endRecordList(records)
    flush()


class Recorder(unittest.TestCase):
    def test_successive_scans_keep_their_order_without_waiting_at_the_end(self):
        ingester = Ingester()
        self.addCleanup(ingester.close)
        for serial in range(3):
            play(DransposeRecorder('/tmp/x.daq', macro=Macro({'DransposeIngester': ingester.url})), points=1)
        self.assertEqual([path for path, _, _ in ingester.received], ['/v1/data_desc', '/v1/record_data', '/v1/record_end'] * 3)

    def test_posts_the_json_recorder_packets_in_order_with_nan_and_the_token(self):
        ingester = Ingester()
        self.addCleanup(ingester.close)
        recorder = DransposeRecorder('/tmp/x.daq', macro=Macro({'DransposeIngester': ingester.url, 'DransposeToken': 't0ken'}))
        play(recorder, points=2, unread=(1,))
        self.assertEqual([path for path, _, _ in ingester.received], ['/v1/data_desc', '/v1/record_data', '/v1/record_data', '/v1/record_end'])
        self.assertEqual({auth for _, _, auth in ingester.received}, {'Bearer t0ken'})
        desc = json.loads(ingester.received[0][1])
        self.assertEqual([c['name'] for c in desc['column_desc']], ['point_nb', 'ct01', 'timestamp'])
        self.assertEqual((desc['scandir'], desc['serialno'], desc['starttime']), ('/tmp', 3, 'Mon Jan 15 10:00:00 2024'))
        self.assertEqual(ingester.received[2][1], '{"point_nb": 1, "ct01": NaN, "timestamp": 0.1}')
        self.assertEqual(json.loads(ingester.received[3][1]), {'endtime': 'Mon Jan 15 10:00:00 2024', 'deadtime': 0.5})
        self.assertEqual(recorder.logged, [])

    def test_without_an_ingester_url_it_warns_and_sends_nothing(self):
        recorder = DransposeRecorder('/tmp/x.daq', macro=Macro({}))
        play(recorder)
        self.assertEqual(recorder.logged, [('warning', 'dranspose recorder: DransposeIngester is not set '
                                                       '(senv DransposeIngester http://host:port); nothing is sent')])
        recorder = DransposeRecorder('/tmp/x.daq', macro=Macro({'DransposeIngester': 'tcp://host:1'}))
        self.assertEqual(recorder.logged, [('warning', "dranspose recorder: DransposeIngester 'tcp://host:1' is not an http://host:port URL; nothing is sent")])

    def test_a_refusing_ingester_is_one_warning_and_the_rest_of_the_scan_is_dropped(self):
        ingester = Ingester(status=503)
        self.addCleanup(ingester.close)
        recorder = DransposeRecorder('/tmp/x.daq', macro=Macro({'DransposeIngester': ingester.url}))
        play(recorder, points=5)
        self.assertEqual(len(ingester.received), 1)
        self.assertEqual(len(recorder.logged), 1)
        self.assertRegex(recorder.logged[0][1], r'^dranspose recorder: http://127\.0\.0\.1:\d+: /v1/data_desc HTTP 503: ; the rest of this scan is not sent to the pipeline$')

    def test_an_unreachable_ingester_does_not_hold_up_the_scan(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        recorder = DransposeRecorder('/tmp/x.daq', macro=Macro({'DransposeIngester': 'http://127.0.0.1:%d' % port}))
        play(recorder, points=50)
        self.assertEqual(len(recorder.logged), 1)
        self.assertIn('refused', recorder.logged[0][1])


if __name__ == '__main__':
    unittest.main()
