"""A Contrast session for the live-pipeline tests: the stand-in Contrast with the dranspose hook installed
as a beamline setup would, after a pre-scan hook of the beamline's own.

Usage: contrast_standin.py PORT CONTROLLER_URL [--no-wait]
Binds the StreamRecorder on 127.0.0.1:PORT (``--no-wait``: a plain PUB that sends at once, as Contrast;
otherwise the scan's first message waits for a subscriber), creates the detectors ``eiger`` (hardware
triggered, records HDF5 links), ``i0`` (a counter), ``panda`` (a PandABox) and ``writer`` (a
DummyWritingDetector, records h5py ExternalLinks), the last two inactive, prints {"ready": true}, then
runs one scan per JSON line on stdin:
{"scan": "mesh" | "flyscan" | "loopscan", "args": [...], "macro": typed at the prompt (sets the
description), "interrupt_before": Ctrl-C before this position, "active": {detector: bool}}
and prints {"scan": ..., "printed": [what the hooks printed]} once its last message is published."""
import contextlib
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, 'standin'), os.path.dirname(HERE)]

from contrast.detectors import CounterDetector, Detector, DummyWritingDetector, LinkDetector, PandaBox  # noqa: E402
from contrast.recorders import StreamRecorder  # noqa: E402
from contrast.scans import FlyScan, LoopScan, Mesh, SoftwareScan  # noqa: E402
from dranspose_hook import install  # noqa: E402

SCANS = {'mesh': Mesh, 'flyscan': FlyScan, 'loopscan': LoopScan}


def beamline_pre_scan(scan):
    print('beamline pre-scan of scan %d' % scan.scannr)


def main(port, url, *options):
    recorder = StreamRecorder(int(port), wait='--no-wait' not in options)
    LinkDetector('eiger', '/data/standin/raw/eiger.h5')
    CounterDetector('i0')
    PandaBox('panda').active = False
    DummyWritingDetector('writer', '/tmp').active = False
    SoftwareScan._before_scan = beamline_pre_scan
    install(url)
    recorder.heartbeat()
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        for detector in Detector.getinstances():
            detector.active = request.get('active', {}).get(detector.name, detector.active)
        scan = SCANS[request['scan']](*request['args'])
        if request.get('macro'):
            scan._command = ' '.join(str(a) for a in [request['scan'], *request['args']])
        scan.interrupt_before = request.get('interrupt_before')
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            scan.run()
        recorder.heartbeat()
        print(json.dumps({'scan': request['scan'], 'printed': printed.getvalue().splitlines()}), flush=True)
    recorder.close()


if __name__ == '__main__':
    main(*sys.argv[1:])
