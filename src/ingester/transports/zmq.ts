/** zmq upstreams: the ingester connects a PULL or SUB socket to the detector's PUSH or PUB. */
import * as zmq from 'zeromq';
import type { MessageReader } from '../../protocols/types.js';
import type { UpstreamConnection } from './index.js';
import { AsyncQueue } from '../../core/async-queue.js';
import { noteReceived } from '../../core/received-memory.js';

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
        const message = await socket.receive();
        noteReceived(message);
        return message;
      } catch (error) {
        if (socket.closed) return undefined;
        throw error;
      }
    },
  };
  return { reader, close: async () => { if (!socket.closed) socket.close(); } };
}

/**
 * A SUB socket kept for the ingester's whole life. Connecting per scan would lose what a publisher
 * sends before the subscription handshake completes (Contrast publishes `started` right after the
 * scan is announced); while no scan reads, arriving messages are discarded.
 */
export class ZmqSubscription {
  private readonly socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: SUB_QUEUE });
  /** the attached scan's messages; none while no scan reads */
  private queue?: AsyncQueue<Buffer[]>;
  /** messages that arrived while a scan's queue was full */
  dropped = 0;

  constructor(url: string) {
    this.socket.subscribe();
    this.socket.connect(url);
    this.pump().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    for await (const message of this.socket) {
      noteReceived(message);
      if (!this.queue) continue;
      if (this.queue.length < SUB_QUEUE) this.queue.push(message);
      else this.dropped += 1;
    }
  }

  /** the messages from now on, for one scan; closing the connection detaches it */
  attach(): UpstreamConnection {
    const queue = new AsyncQueue<Buffer[]>();
    this.queue = queue;
    return {
      reader: { next: () => queue.next() },
      close: async () => {
        queue.close();
        if (this.queue === queue) this.queue = undefined;
      },
    };
  }

  close(): void {
    this.socket.close();
    this.queue?.close();
  }
}
