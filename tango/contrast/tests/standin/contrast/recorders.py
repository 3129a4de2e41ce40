"""Contrast's StreamRecorder on the wire: every message one frame, ``send_pyobj(message, protocol=2)``,
heartbeats with Python's default protocol.

Contrast binds a PUB socket and never waits: a message sent before a subscriber's connection is
complete is lost. ``wait=True`` binds an XPUB instead, the same on the wire for subscribers, and holds
the scan's first message until some subscriber is connected (for tests of pipelines whose ingester
connects only once the scan is announced); ``wait=False`` is Contrast as it is."""
import zmq

_active = []


def active_recorders():
    return list(_active)


class StreamRecorder:
    def __init__(self, port, wait=True):
        self.wait = wait
        self.socket = zmq.Context.instance().socket(zmq.XPUB if wait else zmq.PUB)
        if wait:
            self.socket.setsockopt(zmq.XPUB_VERBOSER, 1)  # every subscribe and unsubscribe, one per connection
        self.socket.bind('tcp://127.0.0.1:%d' % port)
        self.subscribers = 0
        _active.append(self)

    def _count(self, subscription):
        self.subscribers += 1 if subscription[:1] == b'\x01' else -1

    def wait_for_subscriber(self, timeout_ms=30_000):
        """Returns once some subscriber is connected (at once for a plain PUB, as Contrast)."""
        if not self.wait:
            return
        while self.socket.poll(0):
            self._count(self.socket.recv())
        while self.subscribers < 1:
            if not self.socket.poll(timeout_ms):
                raise TimeoutError('no subscriber connected within %d ms' % timeout_ms)
            self._count(self.socket.recv())

    def send(self, message):
        self.socket.send_pyobj(message, protocol=2)

    def heartbeat(self):
        self.socket.send_pyobj({'status': 'heartbeat'})

    def close(self):
        _active.remove(self)
        self.socket.close(linger=1000)
