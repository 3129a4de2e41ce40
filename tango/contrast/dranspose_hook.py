"""Contrast hook announcing each scan to a dranspose pipeline.

In the beamline setup script, after the detectors are created::

    from dranspose_hook import install
    install('http://controller:5000')

Every scan then, once its positions are known (``SoftwareScan._before_scan``, after any hook the
setup installed before), posts a scan description to ``<url>/api/v1/scan`` (docs/hooks.md): one
point per scan position, the active detectors as streams, and the scan's own StreamRecorder
stream (``contrast``) with one record per position. A fly scan (``scan.flyscan``, as NanoMAX's
NpointFlyscan sets it) whose detectors take several frames per position is lines × frames, the
Contrast record on the last frame of each line.

With ``DRANSPOSE_TOKEN`` set in the environment (or ``token=`` given), the requests carry
``Authorization: Bearer <token>``.

Streams the pipeline does not serve are left out by the controller. A pipeline that cannot be
reached or refuses the scan is reported with a print; the scan itself runs on.
"""
import json
import os
import urllib.error
import urllib.request

__all__ = ['install', 'announce', 'describe_scan', 'scan_description']

DEFAULT_SCAN_STREAM = 'contrast'


class AnnounceError(Exception):
    """The pipeline could not be reached, or it refused the scan."""


def is_pandabox(detector):
    return any(cls.__name__ == 'PandaBox' for cls in type(detector).__mro__)


def is_flyscan(scan):
    """Contrast's ``flyscan`` flag; scans of versions without it are fly scans by their class name."""
    flag = getattr(scan, 'flyscan', None)
    return bool(flag) if flag is not None else 'flyscan' in type(scan).__name__.lower()


def detector_frames(detector, flyscan=False):
    """Frames a Contrast detector takes per scan position, as the scan will arm it.

    ``burst_n`` per start (burst detectors), times ``hw_trig_n`` triggers when hardware triggered: a
    PandABox records ``hw_trig_n * burst_n`` rows. A step scan arms every triggered detector but the
    PandABox for one trigger (Contrast sets ``hw_trig_n = 1`` after ``_before_scan``), so the
    ``hw_trig`` and ``hw_trig_n`` a fly scan left behind do not count there.
    """
    frames = int(getattr(detector, 'burst_n', 1))
    if getattr(detector, 'hw_trig', False) and (flyscan or is_pandabox(detector)):
        frames *= int(getattr(detector, 'hw_trig_n', 1))
    return frames


def scan_description(n_positions, detectors, scan_stream=DEFAULT_SCAN_STREAM):
    """The ``POST /api/v1/scan`` body of a scan, from plain values.

    ``detectors``: (stream name, frames per position) of each active detector; the scan stream
    sends one record per position.
    """
    if isinstance(n_positions, bool) or not isinstance(n_positions, int) or n_positions < 1:
        raise ValueError('the scan has no usable number of positions (%r)' % (n_positions,))
    frames = {}
    for stream, count in detectors:
        if count < 1:
            raise ValueError('detector stream %s takes %d frames per position' % (stream, count))
        frames[stream] = max(count, frames.get(stream, 0))
    if scan_stream:
        frames.setdefault(scan_stream, 1)
    if not frames:
        raise ValueError('the scan has no streams to announce: no active detector and no scan stream')
    per_point = max(frames.values())
    if per_point == 1:
        description = {'kind': 'step', 'nb_points': n_positions}
    else:
        description = {'kind': 'fly', 'lines': n_positions, 'frames_per_line': per_point}
        fewer = {stream: {'frames_per_point': count} for stream, count in frames.items() if count != per_point}
        if fewer:
            description['stream_options'] = fewer
    description.update(streams=list(frames), skip_unavailable=True)
    return description


def auth_headers(token=None):
    """The bearer token header when a token is given or set in ``DRANSPOSE_TOKEN``."""
    token = token or os.environ.get('DRANSPOSE_TOKEN')
    return {'Authorization': 'Bearer ' + token} if token else {}


def post_scan(url, description, timeout=5.0, token=None):
    """Posts a description to the controller at ``url``; returns the new mapping's uuid."""
    request = urllib.request.Request(
        url.rstrip('/') + '/api/v1/scan', data=json.dumps(description).encode(),
        headers={'Content-Type': 'application/json', **auth_headers(token)}, method='POST')
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors='replace')
        try:
            detail = json.loads(body)['detail']
        except (ValueError, KeyError, TypeError):
            detail = body
        raise AnnounceError('%s refused the scan (HTTP %d): %s' % (url, error.code, detail)) from None
    except (urllib.error.URLError, OSError) as error:
        raise AnnounceError('cannot reach %s: %s' % (url, getattr(error, 'reason', error))) from None


def n_positions(scan):
    """The number of positions of a SoftwareScan (scans without ``n_positions`` are counted)."""
    count = getattr(scan, 'n_positions', None)
    if count is None:
        count = sum(1 for _ in scan._generate_positions())
    return int(count)


def active_detectors():
    from contrast.detectors import Detector
    # older Contrast versions name it get_active_detectors
    get_active = getattr(Detector, 'get_active', None) or Detector.get_active_detectors
    return list(get_active())


def describe_scan(scan, streams=None, scan_stream=DEFAULT_SCAN_STREAM):
    """The description of a scan about to run, with the detectors active now.

    ``streams``: detector name -> stream name (``None``: the detector is not a stream); unmapped
    detectors keep their name.
    """
    streams = streams or {}
    flyscan = is_flyscan(scan)
    detectors = [(streams.get(d.name, d.name), detector_frames(d, flyscan)) for d in active_detectors()]
    return scan_description(n_positions(scan), [(s, n) for s, n in detectors if s is not None], scan_stream)


def announce(scan, url, streams=None, scan_stream=DEFAULT_SCAN_STREAM, timeout=5.0, token=None):
    """Announces a scan about to run; returns the mapping uuid, or None after printing why not."""
    try:
        description = describe_scan(scan, streams, scan_stream)
        uuid = post_scan(url, description, timeout, token)
    except (AnnounceError, ValueError) as error:
        print('dranspose: %s; the scan runs without the pipeline' % error)
        return None
    except Exception as error:  # never stop a scan for the pipeline's sake
        print('dranspose: unexpected %s: %s; the scan runs without the pipeline' % (type(error).__name__, error))
        return None
    print('dranspose: %s scan announced to %s (requested streams %s), mapping %s'
          % (description['kind'], url, ', '.join(description['streams']), uuid))
    return uuid


def install(url, streams=None, scan_stream=DEFAULT_SCAN_STREAM, timeout=5.0, token=None):
    """Makes every Contrast scan announce itself to the pipeline at ``url`` before it starts.

    Hooks already on ``SoftwareScan._before_scan`` keep running first; installing again replaces
    the previous dranspose hook instead of adding a second one.
    """
    from contrast.scans import SoftwareScan
    previous = SoftwareScan._before_scan
    previous = getattr(previous, 'dranspose_previous', previous)

    def _before_scan(scan):
        previous(scan)
        announce(scan, url, streams, scan_stream, timeout, token)

    _before_scan.dranspose_previous = previous
    SoftwareScan._before_scan = _before_scan
