"""Plays one Sardana scan through the dranspose recorder as Sardana's GScan drives its file recorders:
the recorder class chosen by the ScanFile extension from its ``formats``, made with the file name and
the macro, then startRecordList, one writeRecord per point (values as numpy scalars, NaN for counters
a continuous scan has not read yet), addCustomData, endRecordList.

Argument: JSON {"env": {Door environment}, "scan": {"title", "points", "counters": [full names],
"unread": {"<point>": [counters still NaN]}}}. Prints what the recorder logged, as JSON."""
import datetime
import json
import os
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

import dranspose_recorder  # noqa: E402


class ColumnDesc:
    """Sardana's column description: name, label, dtype, shape (scalars have shape [])."""

    def __init__(self, name, label=None, dtype='float64', shape=()):
        self.name, self.label, self.dtype, self.shape = name, label or name, dtype, list(shape)

    def toDict(self):
        return {'name': self.name, 'label': self.label, 'dtype': self.dtype, 'shape': self.shape}


class RecordList:
    def __init__(self, environ):
        self.environ = environ

    def getEnvironValue(self, name):
        return self.environ[name]


class Record:
    def __init__(self, data):
        self.data = data


class Macro:
    def __init__(self, env):
        self.env = env

    def getEnv(self, name):
        if name not in self.env:
            raise KeyError('Unknown environment %s' % name)
        return self.env[name]


def recorder_class(extension):
    return next(cls for cls in vars(dranspose_recorder).values()
                if isinstance(cls, type) and extension in getattr(cls, 'formats', {}).values())


def main(request):
    env, scan = request['env'], request['scan']
    scan_dir = env.get('ScanDir')
    file_name = os.path.join(scan_dir or '', 'stream.daq')
    recorder = recorder_class('.daq')(filename=file_name, macro=Macro(env))
    counters = scan['counters']
    start = datetime.datetime(2024, 1, 15, 10, 0, 0)
    columns = ([ColumnDesc('point_nb', '#Pt No', 'int64'), ColumnDesc('mot01')]
               + [ColumnDesc(c, c.split('/')[-2] + '/' + c.split('/')[-1]) for c in counters]
               + [ColumnDesc('eiger_image', dtype='uint16', shape=(4, 4)), ColumnDesc('timestamp', 'dt')])
    records = RecordList({
        'datadesc': columns, 'ref_moveables': ['mot01'], 'estimatedtime': 1.5, 'total_scan_intervals': scan['points'] - 1,
        'starttime': start, 'title': scan['title'], 'counters': counters, 'ScanFile': env.get('ScanFile'),
        'ScanDir': scan_dir, 'serialno': 17, 'macro_id': 'f7a0',
    })
    recorder.startRecordList(records)
    for n in range(scan['points']):
        unread = scan.get('unread', {}).get(str(n), [])
        data = {'point_nb': numpy.int64(n), 'mot01': numpy.float64(n / 10),
                **{c: numpy.float64('nan') if c in unread else numpy.float64((i + 1) * (n + 1)) for i, c in enumerate(counters)},
                'eiger_image': numpy.zeros((4, 4), dtype='uint16'), 'timestamp': numpy.float64(0.1 * (n + 1))}
        recorder.writeRecord(Record(data))
    recorder.addCustomData(numpy.arange(3), 'roi')
    records.environ.update(endtime=start + datetime.timedelta(seconds=2), deadtime=0.25)
    recorder.endRecordList(records)
    dranspose_recorder.flush()  # a MacroServer runs on; this script ends here
    print(json.dumps(recorder.logged))


if __name__ == '__main__':
    main(json.loads(sys.argv[1]))
