"""Sardana macro announcing each scan to a dranspose pipeline, for use as a general pre-scan hook.

Put this file in a directory of the MacroServer's MacroPath, then::

    defgh "dranspose_announce http://controller:5000" pre-scan

Before every scan the hook reads the scan (its parent macro) and the enabled channels of the
active measurement group, and posts a scan description to ``<url>/api/v1/scan`` (docs/hooks.md).
Door environment (``senv``), all optional:

``DransposeStreams``
    channel name (or full name) -> stream name, e.g. ``{'eiger_image': 'eiger'}``; a channel
    mapped to ``None`` is never a stream; unmapped channels keep their name.
``DransposeScanStream``
    the stream carrying Sardana's own records, one per point (default ``'sardana'``; ``None``: none).
``DransposeToken``
    the controller's bearer token, when it requires one (default: ``DRANSPOSE_TOKEN`` of the
    MacroServer's environment).

Streams no ingester of the pipeline serves are left out by the controller. A pipeline that cannot
be reached or refuses the scan gives a warning; the scan itself runs on.

Everything but the macro class works without Sardana, so it can be tested with plain Python.
"""
import ast
import json
import math
import os
import urllib.error
import urllib.request

__all__ = ['dranspose_announce']

DEFAULT_SCAN_STREAM = 'sardana'
#: scans whose negative integ_time is the number of detector frames per point (MAX IV FemtoMAX)
BURST_MACROS = ('burstscan',)


class AnnounceError(Exception):
    """The pipeline could not be reached, or it refused the scan."""


def _number(value):
    """A float of a scalar or of the first element of a per-point sequence (fscan), else None."""
    try:
        return float(value)
    except TypeError:
        try:
            return float(value[0])
        except (TypeError, IndexError, KeyError, ValueError):
            return None
    except ValueError:
        return None


def parent_scan_info(parent):
    """The plain facts of a Sardana scan macro a description needs."""
    points = None
    # nr_points last: meshct's and timescan's warn that it is deprecated
    for attribute in ('nb_points', '_nb_points', 'nr_points'):
        points = getattr(parent, attribute, None)
        if points is not None:
            break
    if points is not None and not isinstance(points, bool):
        try:
            points = int(points) if int(points) == points else points  # numpy integers
        except (TypeError, ValueError):
            pass
    intervals = getattr(parent, 'nr_intervs', None)
    return {
        'name': getattr(parent, '_name', None) or getattr(parent, 'name', None) or type(parent).__name__,
        'nb_points': points,
        'integ_time': _number(getattr(parent, 'integ_time', None)),
        'nr_intervs': None if intervals is None else [int(n) for n in intervals],
    }


def enabled_channels(configuration):
    """(name, full name) of the enabled channels of a measurement group ``Configuration``, in index order."""
    if isinstance(configuration, (str, bytes)):
        configuration = json.loads(configuration)
    channels = []
    for controller in configuration.get('controllers', {}).values():
        for full_name, channel in controller.get('channels', {}).items():
            if channel.get('enabled', True):
                channels.append((channel.get('index', 0), channel.get('name', full_name), channel.get('full_name', full_name)))
    return [(name, full_name) for _, name, full_name in sorted(channels, key=lambda c: c[0])]


def channel_streams(channels, stream_names=None):
    """Stream names of channels, renamed by ``stream_names`` (``None`` drops a channel), without repeats."""
    stream_names = stream_names or {}
    streams = []
    for name, full_name in channels:
        key = name if name in stream_names else full_name
        stream = stream_names.get(key, name)
        if stream is not None and stream not in streams:
            streams.append(stream)
    return streams


def continuous_lines(name, nb_points, nr_intervs):
    """Lines of a continuous mesh, or None for a scan of ``nb_points`` points.

    Sardana's meshes carry ``nr_intervs`` (intervals per motor). The step ``mesh`` and ``dmesh`` count
    every point in ``nb_points``, the product of ``nr_intervs + 1``; ``meshct`` counts one line (the
    fast motor's points) in ``nb_points``, so its lines are the product divided by ``nb_points``. A
    meshct of one line is its points.
    """
    if nr_intervs is None or len(nr_intervs) < 2:
        return None
    total = math.prod(n + 1 for n in nr_intervs)
    if total == nb_points:
        return None
    if total % nb_points:
        raise ValueError('scan %s: %d points in all are not whole lines of %d' % (name, total, nb_points))
    return total // nb_points


def scan_description(name, nb_points, integ_time=None, nr_intervs=None, streams=(), scan_stream=DEFAULT_SCAN_STREAM):
    """The ``POST /api/v1/scan`` body of a scan, from plain values.

    A burst scan (``BURST_MACROS`` with a negative integ_time) takes ``-integ_time`` frames per
    point on every channel stream and one record on the scan stream; a continuous mesh (meshct)
    is lines × frames, each line on one worker; anything else (ascan, a2scan, dscan, mesh, dmesh,
    timescan, ascanct: one trigger and one record per point) is a step scan of ``nb_points`` points.
    """
    if isinstance(nb_points, bool) or not isinstance(nb_points, int) or nb_points < 1:
        raise ValueError('scan %s has no usable number of points (nb_points=%r)' % (name, nb_points))
    streams = list(streams)
    if scan_stream and scan_stream not in streams:
        streams.append(scan_stream)
    if not streams:
        raise ValueError('scan %s has no streams to announce: no enabled channel and no scan stream' % name)
    description = {'kind': 'step', 'nb_points': nb_points}
    lines = continuous_lines(name, nb_points, nr_intervs)
    if lines is not None:
        description = {'kind': 'fly', 'lines': lines, 'frames_per_line': nb_points}
    elif name in BURST_MACROS and integ_time is not None and integ_time < 0:
        description = {'kind': 'burst', 'nb_points': nb_points, 'frames_per_point': int(round(-integ_time))}
        if scan_stream:
            description['stream_options'] = {scan_stream: {'frames_per_point': 1}}
    description.update(streams=streams, skip_unavailable=True)
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


def env_value(macro, name, default=None):
    """A Door environment value; text holding a Python or JSON literal is parsed."""
    try:
        value = macro.getEnv(name)
    except Exception:  # Sardana's UnknownEnv: the variable is not set
        return default
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def measurement_group_configuration(name):
    """The ``Configuration`` JSON of a measurement group, by its Tango name or alias."""
    from tango import DeviceProxy  # only inside a MacroServer (or a test with PyTango)
    return DeviceProxy(name).Configuration


def announce(macro, url):
    """Announces the parent scan of ``macro``; returns the mapping uuid, or None after a warning."""
    parent = macro.getParentMacro()
    if parent is None:
        macro.warning('dranspose_announce: not running as a scan hook, nothing to announce')
        return None
    try:
        info = parent_scan_info(parent)
        stream_names = env_value(macro, 'DransposeStreams', {})
        if not isinstance(stream_names, dict):
            raise ValueError('DransposeStreams must be a dict of channel name -> stream name, not %r' % (stream_names,))
        group = env_value(macro, 'ActiveMntGrp')
        try:
            channels = enabled_channels(measurement_group_configuration(group)) if group else []
        except Exception as error:  # PyTango's DevFailed, or a Configuration that is not JSON
            raise AnnounceError('cannot read the channels of measurement group %s: %s' % (group, error)) from None
        description = scan_description(
            info['name'], info['nb_points'], info['integ_time'], info['nr_intervs'],
            channel_streams(channels, stream_names), env_value(macro, 'DransposeScanStream', DEFAULT_SCAN_STREAM))
        uuid = post_scan(url, description, token=env_value(macro, 'DransposeToken'))
    except (AnnounceError, ValueError) as error:
        macro.warning('dranspose_announce: %s; the scan runs without the pipeline' % error)
        return None
    except Exception as error:  # never stop a scan for the pipeline's sake
        macro.warning('dranspose_announce: unexpected %s: %s; the scan runs without the pipeline' % (type(error).__name__, error))
        return None
    macro.output('dranspose: %s scan announced to %s (requested streams %s), mapping %s'
                 % (description['kind'], url, ', '.join(description['streams']), uuid))
    return uuid


try:
    from sardana.macroserver.macro import Macro, Type
except ImportError:  # plain Python (tests): the functions above stay usable
    Macro = None

if Macro is not None:
    class dranspose_announce(Macro):
        """Announce the running scan to a dranspose pipeline (use as a pre-scan general hook)."""

        param_def = [['url', Type.String, None, 'URL of the dranspose controller, e.g. http://controller:5000']]

        def run(self, url):
            announce(self, url)
