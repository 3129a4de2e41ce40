"""Stand-in for the parts of Contrast (maxiv-science/contrast) a scan hook touches: scans that call
``_before_scan`` before running, active detectors with hardware-trigger and burst settings, and a
StreamRecorder publishing the real wire format (pickle protocol 2 dicts on a zmq PUB socket).
Contrast itself is not installable here (reference/tango.md §5)."""
