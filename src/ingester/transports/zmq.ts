/** zmq upstreams: the ingester connects a PULL or SUB socket to the detector's PUSH or PUB. */
import * as zmq from 'zeromq';
import type { MessageReader } from '../../protocols/types.js';
import type { UpstreamConnection } from './index.js';

/** SUB drops whatever exceeds its queue, so it gets a deep one; PULL pushes back on the sender instead. */
const SUB_QUEUE = 100_000;

export function connectZmq(kind: 'zmq-pull' | 'zmq-sub', url: string): UpstreamConnection {
  const socket = kind === 'zmq-pull'
    ? new zmq.Pull({ linger: 0 })
    : new zmq.Subscriber({ linger: 0, receiveHighWaterMark: SUB_QUEUE });
  if (socket instanceof zmq.Subscriber) socket.subscribe();
  socket.connect(url);
  const reader: MessageReader = {
    async next() {
      if (socket.closed) return undefined;
      try {
        return await socket.receive();
      } catch (error) {
        if (socket.closed) return undefined;
        throw error;
      }
    },
  };
  return { reader, close: async () => { if (!socket.closed) socket.close(); } };
}
