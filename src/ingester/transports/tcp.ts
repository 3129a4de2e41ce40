/**
 * TCP upstreams (PandA's position-capture port): the ingester is the client of `tcp://host:port`
 * and every line it receives, `\n` included, is one message. A new connection is made per scan;
 * until the upstream accepts, connecting is retried (as zmq does). The upstream closing the
 * connection ends the messages.
 */
import net from 'node:net';
import { createLogger } from '../../core/logging.js';
import type { MessageReader } from '../../protocols/types.js';
import type { UpstreamConnection } from './index.js';
import { AsyncQueue } from '../../core/async-queue.js';
import { parseHostPort } from './address.js';

const RETRY_MS = 500;
/** lines held before the socket is paused, so a fast upstream waits for a slow scan instead of filling memory */
const PAUSE_AT = 10_000;
const RESUME_AT = 1_000;
const NEWLINE = 0x0a;

const logger = createLogger('tcp-upstream');

export function parseTcpUrl(url: string): { host: string; port: number } {
  return parseHostPort(url, 'tcp', 'TCP');
}

class TcpLineReader implements MessageReader {
  private socket?: net.Socket;
  private readonly connected: Promise<net.Socket>;
  private abandon?: (error: Error) => void;
  private readonly lines = new AsyncQueue<Buffer>();
  /** pieces of a line whose `\n` has not arrived yet */
  private partial: Buffer[] = [];
  private ended = false;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(private readonly url: string) {
    const { host, port } = parseTcpUrl(url);
    this.connected = new Promise((resolve, reject) => {
      this.abandon = reject;
      this.connect(host, port, resolve, false);
    });
    // only write() cares whether a connection was ever made
    this.connected.catch(() => undefined);
  }

  private connect(host: string, port: number, resolve: (socket: net.Socket) => void, warned: boolean): void {
    if (this.closed) return;
    const socket = net.connect({ host, port });
    this.socket = socket;
    let open = false;
    socket.once('connect', () => {
      open = true;
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.finish());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (open || this.closed) {
        if (!this.closed) logger.warn(`${this.url}: connection lost: ${error.message}`);
        this.finish();
        return;
      }
      if (!warned) logger.warn(`${this.url}: cannot connect (${error.code ?? error.message}); retrying every ${RETRY_MS} ms`);
      this.retry = setTimeout(() => this.connect(host, port, resolve, true), RETRY_MS);
    });
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end + 1);
      if (this.partial.length) {
        this.partial.push(piece);
        this.lines.push(Buffer.concat(this.partial));
        this.partial = [];
      } else {
        this.lines.push(piece);
      }
      start = end + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
    if (this.lines.length >= PAUSE_AT) this.socket?.pause();
  }

  /** the upstream is gone: an unterminated last line is still a message */
  private finish(): void {
    if (this.ended) return;
    if (this.partial.length) this.lines.push(Buffer.concat(this.partial));
    this.partial = [];
    this.ended = true;
    this.lines.end();
  }

  async next(): Promise<Buffer[] | undefined> {
    const line = await this.lines.next();
    if (line === undefined) return undefined;
    if (this.lines.length === RESUME_AT) this.socket?.resume();
    return [line];
  }

  async write(data: Buffer | string): Promise<void> {
    const socket = await this.connected;
    if (this.ended || this.closed) throw new Error(`${this.url}: connection closed, cannot send`);
    await new Promise<void>((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.abandon?.(new Error(`${this.url}: closed before it connected`));
    this.socket?.destroy();
    this.lines.close();
  }
}

export function connectTcp(url: string): UpstreamConnection {
  const reader = new TcpLineReader(url);
  return { reader, close: async () => reader.close() };
}
