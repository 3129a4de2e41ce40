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

/**
 * A SUB socket kept for the ingester's whole life. Connecting per scan would lose what a publisher
 * sends before the subscription handshake completes (Contrast publishes `started` right after the
 * scan is announced); while no scan reads, arriving messages are discarded.
 */
export class ZmqSubscription {
  private readonly socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: SUB_QUEUE });
  private queue: Buffer[][] = [];
  private waiting?: (message: Buffer[] | undefined) => void;
  private attached = false;
  /** messages that arrived while a scan's queue was full */
  dropped = 0;

  constructor(url: string) {
    this.socket.subscribe();
    this.socket.connect(url);
    this.pump().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    for await (const message of this.socket) {
      if (!this.attached) continue;
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(message);
      else if (this.queue.length < SUB_QUEUE) this.queue.push(message);
      else this.dropped += 1;
    }
  }

  /** the messages from now on, for one scan; closing the connection detaches it */
  attach(): UpstreamConnection {
    this.queue = [];
    this.attached = true;
    let open = true;
    const reader: MessageReader = {
      next: () => {
        if (!open) return Promise.resolve(undefined);
        const message = this.queue.shift();
        return message ? Promise.resolve(message) : new Promise((resolve) => { this.waiting = resolve; });
      },
    };
    return {
      reader,
      close: async () => {
        if (!open) return;
        open = false;
        this.attached = false;
        this.queue = [];
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.(undefined);
      },
    };
  }

  close(): void {
    this.socket.close();
    this.waiting?.(undefined);
  }
}
