"""The Sardana hook without Sardana: descriptions from plain values, and the macro's failure paths.

Run: /usr/bin/python3 -m unittest discover -s tango/sardana/tests  (test/sardana-hook.test.ts does)."""
import json
import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

import dranspose_hook  # noqa: E402  (needs the paths above)
from dranspose_hook import (  # noqa: E402
    channel_streams, enabled_channels, env_value, parent_scan_info, scan_description)
from sardana.macroserver.macro import ScanMacro  # noqa: E402  (the stand-in)
from scan_macros import scan_macro  # noqa: E402

CONFIGURATION = json.dumps({
    'controllers': {
        'tango://host:10000/controller/ctctrl/ctctrl01': {'channels': {
            'tango://host:10000/expchan/ctctrl01/2': {'name': 'ct02', 'full_name': 'tango://host:10000/expchan/ctctrl01/2', 'enabled': True, 'index': 1},
            'tango://host:10000/expchan/ctctrl01/1': {'name': 'ct01', 'full_name': 'tango://host:10000/expchan/ctctrl01/1', 'enabled': True, 'index': 0},
            'tango://host:10000/expchan/ctctrl01/3': {'name': 'ct03', 'full_name': 'tango://host:10000/expchan/ctctrl01/3', 'enabled': False, 'index': 2},
        }},
        'tango://host:10000/controller/lima/eiger': {'channels': {
            'tango://host:10000/expchan/eiger/1': {'name': 'eiger_image', 'full_name': 'tango://host:10000/expchan/eiger/1', 'enabled': True, 'index': 3},
        }},
    },
    'label': 'mntgrp01',
})


def closed_port():
    """A local port nobody listens on."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class ParentScan(unittest.TestCase):
    def test_reads_the_attributes_of_sardana_scans(self):
        self.assertEqual(parent_scan_info(ScanMacro('timescan', nb_points=10, integ_time=0.01)),
                         {'name': 'timescan', 'nb_points': 10, 'integ_time': 0.01, 'nr_intervs': None})
        # fscan: integ_time per point, older macros: nr_points
        self.assertEqual(parent_scan_info(ScanMacro('fscan', nr_points=4, integ_time=[0.5, 0.5, 0.5, 0.5])),
                         {'name': 'fscan', 'nb_points': 4, 'integ_time': 0.5, 'nr_intervs': None})
        self.assertEqual(parent_scan_info(ScanMacro('meshct', nb_points=5, nr_intervs=(4, 2), integ_time=0.1))['nr_intervs'], [4, 2])
        self.assertEqual(parent_scan_info(ScanMacro('ct', integ_time='<<non-serializable: ndarray>>'))['integ_time'], None)


class RealMacros(unittest.TestCase):
    """Each scan macro, with the attributes its prepare() sets, gets its kind of description."""

    def describe(self, kind, *args):
        info = parent_scan_info(scan_macro(kind, *args))
        return scan_description(info['name'], info['nb_points'], info['integ_time'], info['nr_intervs'], ['ct01'])

    def test_step_scans_are_their_points(self):
        for kind, args, points in [('ascan', (4, 0.1), 5), ('a2scan', (9, 0.1), 10), ('dscan', (2, 0.5), 3),
                                   ('timescan', (9, 0.01), 10), ('ascanct', (99, 0.01), 100),
                                   ('mesh', (5, 5, 0.1), 36), ('dmesh', (3, 1, 0.1), 8)]:
            with self.subTest(kind):
                self.assertEqual(self.describe(kind, *args), {
                    'kind': 'step', 'nb_points': points, 'streams': ['ct01', 'sardana'], 'skip_unavailable': True})

    def test_meshct_is_lines_of_frames(self):
        self.assertEqual(self.describe('meshct', 5, 3, 0.1), {
            'kind': 'fly', 'lines': 4, 'frames_per_line': 6, 'streams': ['ct01', 'sardana'], 'skip_unavailable': True})
        # one line: its points
        self.assertEqual(self.describe('meshct', 5, 0, 0.1)['kind'], 'step')

    def test_numpy_attributes_become_plain_values(self):
        info = parent_scan_info(scan_macro('mesh', 2, 1, 0.1))
        self.assertEqual(info, {'name': 'mesh', 'nb_points': 6, 'integ_time': 0.1, 'nr_intervs': [2, 1]})
        self.assertEqual([type(info['nb_points']), type(info['nr_intervs'][0])], [int, int])


class Channels(unittest.TestCase):
    def test_enabled_channels_in_index_order(self):
        self.assertEqual([name for name, _ in enabled_channels(CONFIGURATION)], ['ct01', 'ct02', 'eiger_image'])
        self.assertEqual(enabled_channels({'controllers': {}}), [])

    def test_stream_names_rename_drop_and_merge(self):
        channels = enabled_channels(CONFIGURATION)
        self.assertEqual(channel_streams(channels), ['ct01', 'ct02', 'eiger_image'])
        self.assertEqual(channel_streams(channels, {'eiger_image': 'eiger', 'ct02': None}), ['ct01', 'eiger'])
        by_full_name = {'tango://host:10000/expchan/ctctrl01/1': 'counters', 'ct02': 'counters'}
        self.assertEqual(channel_streams(channels, by_full_name), ['counters', 'eiger_image'])


class Description(unittest.TestCase):
    def test_step_scan(self):
        self.assertEqual(scan_description('timescan', 10, 0.01, None, ['ct01', 'ct02']), {
            'kind': 'step', 'nb_points': 10, 'streams': ['ct01', 'ct02', 'sardana'], 'skip_unavailable': True})

    def test_burst_scan_sends_the_scan_stream_once_per_point(self):
        self.assertEqual(scan_description('burstscan', 3, -5.0, None, ['eiger']), {
            'kind': 'burst', 'nb_points': 3, 'frames_per_point': 5, 'stream_options': {'sardana': {'frames_per_point': 1}},
            'streams': ['eiger', 'sardana'], 'skip_unavailable': True})
        # a positive integ_time is a time: one frame per point
        self.assertEqual(scan_description('burstscan', 3, 0.1, None, ['eiger'])['kind'], 'step')
        # without a scan stream there are no stream options
        self.assertEqual(scan_description('burstscan', 3, -2, None, ['eiger'], scan_stream=None), {
            'kind': 'burst', 'nb_points': 3, 'frames_per_point': 2, 'streams': ['eiger'], 'skip_unavailable': True})

    def test_continuous_mesh_is_lines_of_frames(self):
        self.assertEqual(scan_description('meshct', 5, 0.1, [4, 2], ['eiger'], 'sardana'), {
            'kind': 'fly', 'lines': 3, 'frames_per_line': 5, 'streams': ['eiger', 'sardana'], 'skip_unavailable': True})
        with self.assertRaisesRegex(ValueError, r'scan meshct: 15 points in all are not whole lines of 4'):
            scan_description('meshct', 4, 0.1, [4, 2], ['eiger'])

    def test_refuses_what_cannot_be_announced(self):
        for points in (0, -3, None, True, 2.5, '<<non-serializable: int>>'):
            with self.assertRaisesRegex(ValueError, r'scan ascan has no usable number of points'):
                scan_description('ascan', points, 0.1, None, ['ct01'])
        with self.assertRaisesRegex(ValueError, r'no streams to announce'):
            scan_description('ascan', 3, 0.1, None, [], scan_stream=None)


class Environment(unittest.TestCase):
    def test_literals_in_text_are_parsed(self):
        macro = dranspose_hook.Macro(env={'DransposeStreams': "{'eiger_image': 'eiger'}", 'DransposeScanStream': 'sardana',
                                          'Off': 'None', 'Dict': {'a': None}})
        self.assertEqual(env_value(macro, 'DransposeStreams'), {'eiger_image': 'eiger'})
        self.assertEqual(env_value(macro, 'DransposeScanStream'), 'sardana')
        self.assertIsNone(env_value(macro, 'Off', 'default'))
        self.assertEqual(env_value(macro, 'Dict'), {'a': None})
        self.assertEqual(env_value(macro, 'Unset', 'default'), 'default')


class MacroFailures(unittest.TestCase):
    """The hook never stops a scan: every failure is one warning naming the cause."""

    def run_macro(self, parent, env=None, url=None):
        macro = dranspose_hook.dranspose_announce(parent=parent, env=env)
        macro.run(url or 'http://127.0.0.1:%d' % closed_port())
        self.assertEqual(len(macro.printed), 1, macro.printed)
        return macro.printed[0]

    def test_without_a_parent_scan(self):
        self.assertEqual(self.run_macro(None), ('warning', 'dranspose_announce: not running as a scan hook, nothing to announce'))

    def test_unreachable_controller(self):
        port = closed_port()
        kind, message = self.run_macro(ScanMacro('ascan', nb_points=3, integ_time=0.1), url='http://127.0.0.1:%d' % port)
        self.assertEqual(kind, 'warning')
        self.assertRegex(message, r'^dranspose_announce: cannot reach http://127\.0\.0\.1:%d: .*refused.*; the scan runs without the pipeline$' % port)

    def test_bad_stream_map(self):
        kind, message = self.run_macro(ScanMacro('ascan', nb_points=3), {'DransposeStreams': "['eiger']"})
        self.assertEqual((kind, message), ('warning', "dranspose_announce: DransposeStreams must be a dict of channel name -> stream name, "
                                                      "not ['eiger']; the scan runs without the pipeline"))

    def test_unreadable_measurement_group(self):
        group = 'tango://127.0.0.1:%d/test/mntgrp/none#dbase=no' % closed_port()
        kind, message = self.run_macro(ScanMacro('ascan', nb_points=3), {'ActiveMntGrp': group})
        self.assertEqual(kind, 'warning')
        self.assertIn('cannot read the channels of measurement group %s' % group, message)

    def test_scan_without_points(self):
        kind, message = self.run_macro(ScanMacro('ct', integ_time=1.0))
        self.assertEqual((kind, message), ('warning', 'dranspose_announce: scan ct has no usable number of points (nb_points=None); '
                                                      'the scan runs without the pipeline'))


if __name__ == '__main__':
    unittest.main()
