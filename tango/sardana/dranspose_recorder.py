"""A Sardana recorder posting each scan's records to a dranspose ingester (protocol ``sardana``).

Install it next to the pre-scan hook: put this file in a directory of the MacroServer's
``RecorderPath`` property, restart the MacroServer, then in Spock::

    senv DransposeIngester http://ingester-host:5010
    senv ScanFile "['scan.h5', 'stream.daq']"

The ``.daq`` entry of ``ScanFile`` selects this recorder (Sardana creates file recorders only
while ``ScanDir`` is set; it writes no file). With ``ScanRecorder`` it can also be named:
``senv ScanRecorder "['NXscanH5_FileRecorder', 'DransposeRecorder']"``.

For every scan it POSTs, in order, what Sardana's own JsonRecorder sends over the Door:
``/v1/data_desc`` (column descriptions, title, serial number, ``scandir``: None without ScanDir),
``/v1/record_data`` per point (the scalar columns: point_nb, motors, counters by full name,
timestamp), ``/v1/custom_data`` and ``/v1/record_end``. Bodies are Python's JSON: a counter not read
yet stays NaN. The POSTs go in order from one background thread per ingester, shared by successive
scans, so the scan never waits for the pipeline (unless it runs 100 000 packets ahead of it); an
ingester that cannot be reached or refuses a packet is warned about once, and the rest of that
scan is dropped.

Door environment: ``DransposeIngester`` (the ingester's upstream URL, required),
``DransposeToken`` (sent as ``Authorization: Bearer``; default ``DRANSPOSE_TOKEN`` of the
MacroServer's environment).
"""
import http.client
import json
import os
import queue
import threading
import urllib.parse

from sardana.macroserver.scan.recorder.storage import BaseFileRecorder

__all__ = ['DransposeRecorder']

#: packets waiting to be posted; a scan that outruns the pipeline by this much waits for it
MAX_PENDING = 100_000
TIMEOUT_S = 5.0
#: how long a record may wait for room in a full queue before the rest of its scan is dropped
FULL_WAIT_S = 30.0


def _plain(value):
    """numpy scalars and arrays as Python numbers and lists (json.dumps keeps NaN)."""
    if hasattr(value, 'tolist'):
        return value.tolist()
    if hasattr(value, 'item'):
        return value.item()
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    return str(value)


def _env(macro, name, default=None):
    try:
        return macro.getEnv(name)
    except Exception:  # Sardana's UnknownEnv
        return default


class _Scan:
    """One scan's packets: once a POST of them fails, the rest are dropped and it is warned about once."""

    def __init__(self, url, warn):
        self.url = url
        self.warn = warn
        self.failed = False

    def fail(self, reason):
        if not self.failed:
            self.failed = True
            self.warn('dranspose recorder: %s: %s; the rest of this scan is not sent to the pipeline' % (self.url, reason))


class _Poster(threading.Thread):
    """Posts queued packets in order over one keep-alive connection, for as long as the MacroServer runs.

    One per ingester URL and token, shared by the recorders of successive scans (Sardana makes a
    recorder per scan), so that a scan's last packets and the next scan's first keep their order
    while no scan waits at its end for the pipeline."""

    def __init__(self, url, token):
        super().__init__(name='dranspose-recorder %s' % url, daemon=True)
        parsed = urllib.parse.urlsplit(url)
        self.connection_class = http.client.HTTPSConnection if parsed.scheme == 'https' else http.client.HTTPConnection
        self.address = (parsed.hostname, parsed.port)
        self.headers = {'Content-Type': 'application/json', **({'Authorization': 'Bearer ' + token} if token else {})}
        self.packets = queue.Queue(MAX_PENDING)
        self.connection = None
        self.start()

    def put(self, scan, path, body):
        if scan.failed:
            return
        try:
            self.packets.put((scan, path, json.dumps(body, default=_plain).encode()), timeout=FULL_WAIT_S)
        except queue.Full:
            scan.fail('%d packets still wait to be posted after %d s' % (MAX_PENDING, FULL_WAIT_S))

    def _post(self, path, body):
        if self.connection is None:
            self.connection = self.connection_class(*self.address, timeout=TIMEOUT_S)
        try:
            self.connection.request('POST', path, body, self.headers)
            response = self.connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise
        if response.status >= 400:
            raise OSError('HTTP %d: %s' % (response.status, answer[:200].decode(errors='replace')))

    def run(self):
        while True:
            scan, path, body = self.packets.get()
            try:
                if not scan.failed:
                    self._post(path, body)
            except (OSError, http.client.HTTPException) as error:
                scan.fail('%s %s' % (path, error))
            finally:
                self.packets.task_done()


_posters = {}
_posters_lock = threading.Lock()


def _poster(url, token):
    with _posters_lock:
        key = (url, token)
        if key not in _posters:
            _posters[key] = _Poster(url, token)
        return _posters[key]


def flush():
    """Waits until every queued packet is posted or dropped (for scripts and tests that end the process)."""
    for poster in list(_posters.values()):
        poster.packets.join()


class DransposeRecorder(BaseFileRecorder):
    """Posts the scan's records to a dranspose ingester (``DransposeIngester``); writes no file."""

    formats = {'dranspose': '.daq'}

    def __init__(self, filename=None, macro=None, **pars):
        BaseFileRecorder.__init__(self, **pars)
        self.filename = filename
        self.macro = macro
        self.poster = None
        url = _env(macro, 'DransposeIngester') if macro is not None else None
        if not url:
            self.warning('dranspose recorder: DransposeIngester is not set (senv DransposeIngester http://host:port); nothing is sent')
            return
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ('http', 'https') or not parsed.hostname:
            self.warning('dranspose recorder: DransposeIngester %r is not an http://host:port URL; nothing is sent' % (url,))
            return
        self.poster = _poster(url, _env(macro, 'DransposeToken') or os.environ.get('DRANSPOSE_TOKEN'))
        self.scan = _Scan(url, self.warning)

    def getFormat(self):
        return 'dranspose'

    def _send(self, path, body):
        if self.poster is not None:
            self.poster.put(self.scan, path, body)

    def _startRecordList(self, recordlist):
        if self.poster is None:
            return
        value = recordlist.getEnvironValue
        self.columns = [column for column in value('datadesc') if len(column.shape) == 0]
        starttime = value('starttime')
        self._send('/v1/data_desc', {
            'column_desc': [column.toDict() for column in self.columns],
            'ref_moveables': value('ref_moveables'),
            'estimatedtime': value('estimatedtime'),
            'total_scan_intervals': value('total_scan_intervals'),
            'starttime': starttime.ctime() if starttime is not None else None,
            'title': value('title'),
            'counters': value('counters'),
            'scanfile': value('ScanFile'),
            'scandir': value('ScanDir'),
            'serialno': value('serialno'),
        })

    def _writeRecord(self, record):
        if self.poster is None:
            return
        self._send('/v1/record_data', {column.name: record.data.get(column.name) for column in self.columns})

    def _addCustomData(self, value, name, **kwargs):
        self._send('/v1/custom_data', dict(kwargs, name=name, value=_plain(value) if hasattr(value, 'tolist') else value))

    def _endRecordList(self, recordlist):
        if self.poster is None:
            return
        endtime = recordlist.getEnvironValue('endtime')
        self._send('/v1/record_end', {'endtime': endtime.ctime() if endtime is not None else None,
                                      'deadtime': recordlist.getEnvironValue('deadtime')})
