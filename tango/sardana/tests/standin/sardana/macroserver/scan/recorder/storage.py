"""Sardana's recorder base classes as a recorder sees them: ``DataRecorder`` (a taurus Logger with
``startRecordList``/``writeRecord``/``endRecordList`` calling the ``_`` methods) and
``BaseFileRecorder``; log calls are kept in ``logged``."""


class DataRecorder:
    def __init__(self, *args, **kwargs):
        self.recordlist = None
        self.logged = []

    def warning(self, message, *args):
        self.logged.append(('warning', message % args if args else message))

    def info(self, message, *args):
        self.logged.append(('info', message % args if args else message))

    def startRecordList(self, recordlist):
        self.recordlist = recordlist
        self._startRecordList(recordlist)

    def writeRecord(self, record):
        self._writeRecord(record)

    def endRecordList(self, recordlist):
        self._endRecordList(recordlist)
        self.recordlist = None

    def addCustomData(self, value, name, **kwargs):
        self._addCustomData(value, name, **kwargs)

    def _startRecordList(self, recordlist):
        pass

    def _writeRecord(self, record):
        pass

    def _endRecordList(self, recordlist):
        pass

    def _addCustomData(self, value, name, **kwargs):
        pass


class BaseFileRecorder(DataRecorder):
    def __init__(self, **pars):
        DataRecorder.__init__(self, **pars)
        self.filename = None
        self.fd = None

    def getFileName(self):
        return self.filename
