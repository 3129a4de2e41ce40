/**
 * Plays upstream messages as a live detector would: binds the socket peer of the protocol's
 * transport (PUSH for a PULL ingester, PUB for a SUB one) and sends each message, paced.
 */
import * as zmq from 'zeromq';
import type { Transport } from './types.js';

export interface PlayOptions {
  /** messages per second; 0 = as fast as the socket takes them */
  rate?: number;
  /** PUB only: messages sent before the capture so slow subscribers join (the original sends 3) */
  warmup?: number;
  signal?: AbortSignal;
}

export interface ZmqPlayer {
  endpoint: string;
  play(messages: AsyncIterable<Buffer[]> | Iterable<Buffer[]>, options?: PlayOptions): Promise<number>;
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function bindZmqPlayer(transport: Extract<Transport, 'zmq-pull' | 'zmq-sub'>, address: string): Promise<ZmqPlayer> {
  const socket = transport === 'zmq-pull' ? new zmq.Push({ linger: 1000 }) : new zmq.Publisher({ linger: 1000, sendHighWaterMark: 100_000 });
  await socket.bind(address.replace(/:0$/, ':*'));
  return {
    endpoint: socket.lastEndpoint!,
    async play(messages, options = {}) {
      if (socket instanceof zmq.Publisher) {
        for (let i = 0; i < (options.warmup ?? 0); i++) {
          await socket.send(Buffer.from('emptyness'));
          await sleep(100);
        }
      }
      const interval = options.rate ? 1000 / options.rate : 0;
      const start = performance.now();
      let sent = 0;
      for await (const message of messages) {
        if (options.signal?.aborted) break;
        const due = start + sent * interval;
        for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) await sleep(Math.ceil(wait));
        await socket.send(message);
        sent += 1;
      }
      return sent;
    },
    close() { socket.close(); },
  };
}
