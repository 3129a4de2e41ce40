/**
 * Plays upstream messages as a live detector would, paced: on a bound zmq socket (PUSH for a PULL
 * ingester, PUB for a SUB one), as a PandA capture port (a TCP server), or as Sardana's recorder
 * (HTTP POSTs to the ingester).
 */
import net from 'node:net';
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
  /** the bound socket, for messages sent without pacing */
  socket: zmq.Push | zmq.Publisher;
  play(messages: AsyncIterable<Buffer[]> | Iterable<Buffer[]>, options?: PlayOptions): Promise<number>;
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends each item at `rate` per second until the items end or the signal aborts; resolves to the number sent. */
export async function paced<T>(items: AsyncIterable<T> | Iterable<T>, options: PlayOptions, send: (item: T) => Promise<void>): Promise<number> {
  const interval = options.rate ? 1000 / options.rate : 0;
  const start = performance.now();
  let sent = 0;
  for await (const item of items) {
    if (options.signal?.aborted) break;
    // timers may fire a little early (libuv's cached clock): sleep until the due time has passed
    const due = start + sent * interval;
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) await sleep(Math.ceil(wait));
    await send(item);
    sent += 1;
  }
  return sent;
}

export async function bindZmqPlayer(transport: Extract<Transport, 'zmq-pull' | 'zmq-sub'>, address: string): Promise<ZmqPlayer> {
  const socket = transport === 'zmq-pull' ? new zmq.Push({ linger: 1000 }) : new zmq.Publisher({ linger: 1000, sendHighWaterMark: 100_000 });
  await socket.bind(address.replace(/:0$/, ':*'));
  return {
    endpoint: socket.lastEndpoint!,
    socket,
    async play(messages, options = {}) {
      if (socket instanceof zmq.Publisher) {
        for (let i = 0; i < (options.warmup ?? 0); i++) {
          await socket.send(Buffer.from('emptyness'));
          await sleep(100);
        }
      }
      return await paced(messages, options, async (message) => { await socket.send(message); });
    },
    close() { socket.close(); },
  };
}

export interface TcpPlayOptions extends PlayOptions {
  /** how long to wait for a client that asked for capture data (default 10 s) */
  clientTimeoutMs?: number;
  /** close every connection after the last line, so clients see EOF (default false) */
  end?: boolean;
}

export interface TcpPlayer {
  /** `tcp://host:port` */
  endpoint: string;
  /** clients connected now that asked for capture data and were answered `OK` */
  readonly clients: number;
  /** how many clients have asked for capture data so far, including those gone since */
  readonly handshakes: number;
  /** Sends text (lines or blocks) to every client that asked for capture data; resolves to the number sent. */
  play(texts: AsyncIterable<string | Buffer> | Iterable<string | Buffer>, options?: TcpPlayOptions): Promise<number>;
  close(): Promise<void>;
}

/**
 * A PandA capture port: a client sends a line of options (empty = ASCII with the default fields)
 * and gets `OK\n` before any capture data, or `ERR …` for options this emulator does not know.
 */
export async function bindTcpPlayer(address: string): Promise<TcpPlayer> {
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
  if (!match) throw new Error(`TCP player address ${JSON.stringify(address)} is not tcp://host:port`);
  const ready = new Set<net.Socket>();
  let handshakes = 0;
  let joined: (() => void) | undefined;
  const server = net.createServer((socket) => {
    let request = '';
    socket.on('error', () => ready.delete(socket));
    socket.on('close', () => ready.delete(socket));
    socket.on('data', (chunk) => {
      if (ready.has(socket)) return;
      request += chunk.toString('latin1');
      const newline = request.indexOf('\n');
      if (newline === -1) return;
      if (request.slice(0, newline).trim() !== '') {
        socket.end(`ERR unknown capture options ${JSON.stringify(request.slice(0, newline))}\n`);
        return;
      }
      socket.setNoDelay(true);
      socket.write('OK\n');
      ready.add(socket);
      handshakes += 1;
      joined?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(match[2]), match[1], () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `tcp://${match[1]}:${port}`,
    get clients() { return ready.size; },
    get handshakes() { return handshakes; },
    async play(texts, options = {}) {
      const deadline = Date.now() + (options.clientTimeoutMs ?? 10_000);
      while (!ready.size) {
        if (Date.now() > deadline) throw new Error(`no client asked ${address} for capture data within ${options.clientTimeoutMs ?? 10_000} ms`);
        await Promise.race([new Promise<void>((r) => { joined = r; }), sleep(50)]);
      }
      const sent = await paced(texts, options, async (text) => {
        await Promise.all([...ready].map((socket) => new Promise<void>((resolve) => socket.write(text, () => resolve()))));
      });
      if (options.end) for (const socket of ready) socket.end();
      return sent;
    },
    async close() {
      for (const socket of ready) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpReply {
  path: string;
  status: number;
  body: string;
}

export interface HttpPostOptions extends PlayOptions {
  /** how long a refused connection is retried, for an ingester that is still starting its server (default 10 s) */
  retryMs?: number;
}

/** POSTs `[path, body]` messages to `url` one after the other (Sardana's recorder); resolves to the replies. */
export async function postHttpMessages(url: string, messages: AsyncIterable<Buffer[]> | Iterable<Buffer[]>,
  options: HttpPostOptions = {}): Promise<HttpReply[]> {
  const base = url.replace(/\/$/, '');
  const replies: HttpReply[] = [];
  await paced(messages, options, async ([pathFrame, body]) => {
    const path = pathFrame.toString();
    const deadline = Date.now() + (options.retryMs ?? 10_000);
    for (;;) {
      try {
        const response = await fetch(`${base}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json' } });
        replies.push({ path, status: response.status, body: await response.text() });
        return;
      } catch (error) {
        const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
        if (code !== 'ECONNREFUSED' || Date.now() > deadline) throw new Error(`POST ${base}${path}: ${(error as Error).cause ?? error}`);
        await sleep(50);
      }
    }
  });
  return replies;
}
