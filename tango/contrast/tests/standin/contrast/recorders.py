"""Contrast's StreamRecorder on the wire: every message one frame, ``send_pyobj(message, protocol=2)``,
heartbeats with Python's default protocol.

Contrast binds a PUB socket. The stand-in binds an XPUB, the same on the wire for subscribers, so
that it can see subscriptions: a PUB drops messages sent before a subscriber's connection is
complete, and the pipeline's ingester connects only once the scan is announced. Where Contrast
spends that time preparing detectors and reading motors, the stand-in waits for the subscriber."""
import zmq

_active = []


def active_recorders():
    return list(_active)


class StreamRecorder:
    def __init__(self, port):
        self.socket = zmq.Context.instance().socket(zmq.XPUB)
        self.socket.setsockopt(zmq.XPUB_VERBOSER, 1)  # every subscribe and unsubscribe, one per connection
        self.socket.bind('tcp://127.0.0.1:%d' % port)
        self.subscribers = 0
        _active.append(self)

    def _count(self, subscription):
        self.subscribers += 1 if subscription[:1] == b'\x01' else -1

    def wait_for_subscriber(self, timeout_ms=30_000):
        """Returns once some subscriber is connected."""
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
