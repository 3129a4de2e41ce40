/** zmq upstreams: the ingester connects a PULL or SUB socket to the detector's PUSH or PUB. */
import * as zmq from 'zeromq';
import type { MessageReader } from '../../protocols/types.js';
import type { UpstreamConnection } from './index.js';
import { AsyncQueue } from '../../core/async-queue.js';
import { noteReceived } from '../../core/received-memory.js';

/** SUB drops whatever exceeds its queue, so it gets a deep one; PULL pushes back on the sender instead. */
const SUB_QUEUE = 100_000;

/**
 * What one wake-up may take from the socket, at most: messages, and bytes as judged by the size of
 * the last message. zeromq.js reads a queued message synchronously, so a backlog of small messages
 * is taken in one go rather than one await each; large ones are taken one by one, so that little
 * sits in JavaScript besides zmq's own queue.
 */
const READ_AHEAD = 64;
const READ_AHEAD_BYTES = 1 << 20;

/** A PULL or SUB socket read in batches: `ready()` hands out what a wake-up already took. */
class ZmqReader implements MessageReader {
  private received: Buffer[][] = [];
  private taken = 0;
  /** receives started and not settled yet: one is still waiting for a message while any are */
  private receiving = 0;
  private wake?: () => void;
  private failure?: unknown;
  private lastBytes = 0;
  private readonly keep = (message: Buffer[]) => {
    this.receiving -= 1;
    noteReceived(message);
    let bytes = 0;
    for (const frame of message) bytes += frame.length;
    this.lastBytes = bytes;
    this.received.push(message);
    this.wakeUp();
  };
  private readonly fail = (error: unknown) => {
    this.receiving -= 1;
    if (!this.socket.closed) this.failure ??= error;
    this.wakeUp();
  };

  constructor(private readonly socket: zmq.Pull | zmq.Subscriber) {}

  ready(): Buffer[] | undefined {
    if (this.taken < this.received.length) {
      const message = this.received[this.taken]!;
      this.received[this.taken++] = EMPTY;
      return message;
    }
    if (this.taken) {
      this.received = [];
      this.taken = 0;
    }
    return undefined;
  }

  async next(): Promise<Buffer[] | undefined> {
    for (;;) {
      const queued = this.ready();
      if (queued) return queued;
      if (this.failure) throw this.failure;
      if (this.socket.closed) return undefined;
      if (!this.receiving) this.receive();
      // resumes after the first message kept, and so after every other one received at once
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /**
   * Starts receives until one has to wait. Those that find a message resolve at once, in order; the
   * first that finds none waits for the next message, and zeromq.js refuses a receive while one
   * waits (EBUSY), which ends the loop. It also makes a receive wait after a few hundred in a row,
   * so that the event loop gets a turn.
   */
  private receive(): void {
    const most = Math.max(1, Math.min(READ_AHEAD, Math.floor(READ_AHEAD_BYTES / Math.max(1, this.lastBytes))));
    for (let n = 0; n < most; n++) {
      try {
        this.socket.receive().then(this.keep, this.fail);
      } catch (error) {
        if ((error as { code?: string }).code === 'EBUSY') return;
        throw error;
      }
      this.receiving += 1;
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** what a taken slot of `received` holds until the array is dropped (the message itself may be freed) */
const EMPTY: Buffer[] = [];

export function connectZmq(kind: 'zmq-pull' | 'zmq-sub', url: string): UpstreamConnection {
  const socket = kind === 'zmq-pull'
    ? new zmq.Pull({ linger: 0 })
    : new zmq.Subscriber({ linger: 0, receiveHighWaterMark: SUB_QUEUE });
  if (socket instanceof zmq.Subscriber) socket.subscribe();
  socket.connect(url);
  return { reader: new ZmqReader(socket), close: async () => { if (!socket.closed) socket.close(); } };
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
      reader: { next: () => queue.next(), ready: () => queue.shift() },
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
