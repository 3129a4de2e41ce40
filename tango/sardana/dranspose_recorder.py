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
yet stays NaN. The POSTs go from a background thread, so a slow or absent pipeline never holds up
the scan: it is warned about once and the scan's remaining packets are dropped.

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

#: packets waiting to be posted before the recorder drops the scan's rest
MAX_PENDING = 100_000
TIMEOUT_S = 5.0
#: how long the end of a scan waits for the packets still queued
FLUSH_S = 30.0


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


class _Poster(threading.Thread):
    """Posts queued (path, body) packets in order over one keep-alive connection."""

    def __init__(self, url, token, warn):
        super().__init__(name='dranspose-recorder', daemon=True)
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ('http', 'https') or not parsed.hostname:
            raise ValueError('DransposeIngester %r is not an http://host:port URL' % (url,))
        self.url = url
        self.connection_class = http.client.HTTPSConnection if parsed.scheme == 'https' else http.client.HTTPConnection
        self.address = (parsed.hostname, parsed.port)
        self.headers = {'Content-Type': 'application/json', **({'Authorization': 'Bearer ' + token} if token else {})}
        self.packets = queue.Queue(MAX_PENDING)
        self.warn = warn
        self.failed = False
        self.connection = None

    def put(self, path, body):
        if self.failed:
            return
        try:
            self.packets.put_nowait((path, json.dumps(body, default=_plain).encode()))
        except queue.Full:
            self._fail('%d packets wait to be posted' % MAX_PENDING)

    def _fail(self, reason):
        if not self.failed:
            self.failed = True
            self.warn('dranspose recorder: %s: %s; the rest of this scan is not sent to the pipeline' % (self.url, reason))

    def _post(self, path, body):
        if self.connection is None:
            self.connection = self.connection_class(*self.address, timeout=TIMEOUT_S)
        self.connection.request('POST', path, body, self.headers)
        response = self.connection.getresponse()
        answer = response.read()
        if response.status >= 400:
            raise OSError('HTTP %d: %s' % (response.status, answer[:200].decode(errors='replace')))

    def run(self):
        while True:
            packet = self.packets.get()
            try:
                if packet is None:
                    return
                if not self.failed:
                    try:
                        self._post(*packet)
                    except (OSError, http.client.HTTPException) as error:
                        self._fail('%s %s' % (packet[0], error))
            finally:
                self.packets.task_done()

    def close(self):
        """Waits (a bounded time) for the queued packets, then ends the thread."""
        self.packets.put(None)
        self.join(FLUSH_S)
        if self.is_alive():
            self._fail('packets still queued after %d s' % FLUSH_S)
        if self.connection is not None:
            self.connection.close()


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
        token = _env(macro, 'DransposeToken') or os.environ.get('DRANSPOSE_TOKEN')
        try:
            self.poster = _Poster(url, token, self.warning)
        except ValueError as error:
            self.warning('dranspose recorder: %s; nothing is sent' % error)

    def getFormat(self):
        return 'dranspose'

    def _send(self, path, body):
        if self.poster is not None:
            self.poster.put(path, body)

    def _startRecordList(self, recordlist):
        if self.poster is None:
            return
        self.poster.start()
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
        self.poster.close()
