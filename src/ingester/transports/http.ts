/**
 * HTTP upstreams (Sardana's JSON recorder): the ingester is an HTTP server at the upstream URL
 * (`http://host:port`) and every POST of a packet is one message `[path, body]`.
 *
 * The server outlives scans: it is started by the first scan that uses the URL and keeps
 * listening, so a Sardana scan that starts a moment before the ingester has adopted its trigger
 * map is not refused. While no scan reads (between scans) it keeps only the packets of a Sardana
 * scan still in progress — from its last data_desc, dropped at record_end — and hands them to the
 * next scan; everything else is discarded, as the original does before data_desc.
 *
 * Answers: 200 once queued, 400 for a body that is not JSON (still queued while a scan reads, so
 * the scan counts it as a bad frame), 404 for other paths, 405 for other methods, 413 for bodies
 * over 16 MiB, 503 while the queue is full.
 */
import http from 'node:http';
import { createLogger } from '../../core/logging.js';
import type { MessageReader } from '../../protocols/types.js';
import type { UpstreamConnection } from './index.js';
import { AsyncQueue } from '../../core/async-queue.js';
import { readRequestBody } from '../../core/http/body.js';
import { HttpError } from '../../core/http/errors.js';
import { parseHostPort } from './address.js';
import { parsePythonJson } from '../../protocols/python-json.js';

export const HTTP_UPSTREAM_PATHS = ['/v1/data_desc', '/v1/record_data', '/v1/custom_data', '/v1/record_end'] as const;
const PATHS = new Set<string>(HTTP_UPSTREAM_PATHS);
const SCAN_START = '/v1/data_desc';
const SCAN_END = '/v1/record_end';
const MAX_BODY = 16 * 1024 * 1024;
const MAX_QUEUE = 100_000;

const logger = createLogger('http-upstream');

export function parseHttpUrl(url: string): { host: string; port: number } {
  return parseHostPort(url, 'http', 'HTTP');
}

/** JSON as Python writes it, NaN and the infinities included */
function isJson(body: Buffer): boolean {
  try {
    parsePythonJson(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** The reading side of one scan: what the server received while it was attached. */
class HttpMessageReader implements MessageReader {
  readonly queue = new AsyncQueue<Buffer[]>();
  private closed = false;

  /** `failure`: why this reader gets nothing (next() rejects with it) */
  constructor(private readonly server: HttpUpstreamServer, private readonly failure?: Error) {}

  push(message: Buffer[]): void {
    this.queue.push(message);
  }

  async next(): Promise<Buffer[] | undefined> {
    if (this.failure) throw this.failure;
    await this.server.listening;
    return await this.queue.next();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.detach(this);
    this.queue.close();
  }
}

class HttpUpstreamServer {
  readonly listening: Promise<void>;
  private readonly server: http.Server;
  private reader?: HttpMessageReader;
  /** between scans: the packets of the Sardana scan in progress, if any */
  private pending: Buffer[][] = [];

  constructor(readonly url: string, onFailure: () => void) {
    const { host, port } = parseHttpUrl(url);
    this.server = http.createServer((request, response) => this.handle(request, response));
    this.listening = new Promise((resolve, reject) => {
      this.server.once('error', (error) => {
        onFailure();
        reject(new Error(`cannot serve the HTTP upstream ${url}: ${error.message}`));
      });
      this.server.listen(port, host, () => {
        logger.info(`listening for upstream packets at ${url}`);
        resolve();
      });
    });
    this.listening.catch(() => undefined);
    this.server.unref();
  }

  attach(): HttpMessageReader {
    // a second stream on the same URL would steal the first one's packets
    if (this.reader) return new HttpMessageReader(this, new Error(`HTTP upstream ${this.url} already serves another stream`));
    const reader = new HttpMessageReader(this);
    this.reader = reader;
    for (const message of this.pending) reader.push(message);
    this.pending = [];
    this.server.ref();
    return reader;
  }

  detach(reader: HttpMessageReader): void {
    if (this.reader !== reader) return;
    this.reader = undefined;
    for (const message of reader.queue.takeAll()) this.keepBetweenScans(message);
    this.server.unref();
  }

  private keepBetweenScans(message: Buffer[]): void {
    const path = message[0].toString();
    if (path === SCAN_START) this.pending = [message];
    else if (path === SCAN_END) this.pending = [];
    else if (this.pending.length) this.pending.push(message);
  }

  private queued(): number {
    return this.reader ? this.reader.queue.length : this.pending.length;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = (request.url ?? '').split('?')[0];
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (!PATHS.has(path)) { reply(404, { detail: `unknown path ${path}; packets go to ${HTTP_UPSTREAM_PATHS.join(', ')}` }); return; }
    if (request.method !== 'POST') { reply(405, { detail: `${request.method} ${path}: only POST is accepted` }); return; }
    readRequestBody(request, MAX_BODY).then((body) => {
      if (this.queued() >= MAX_QUEUE) { reply(503, { detail: `${MAX_QUEUE} packets are waiting to be ingested; retry later` }); return; }
      const message = [Buffer.from(path), body];
      const json = isJson(body);
      if (this.reader) this.reader.push(message);
      else if (json) this.keepBetweenScans(message);
      else logger.warn(`${this.url}: ${path} body (${body.length} bytes) is not JSON; discarded (no scan is reading)`);
      if (json) reply(200, 'queued');
      else reply(400, { detail: `${path}: body (${body.length} bytes) is not JSON` });
    }, (error: Error) => {
      if (error instanceof HttpError) reply(error.status, error.body());
      else logger.warn(`${this.url}: ${request.method} ${path} failed: ${error.message}`);
    });
  }
}

/** one server per URL for the life of the process */
const servers = new Map<string, HttpUpstreamServer>();

export function connectHttp(url: string): UpstreamConnection {
  let server = servers.get(url);
  if (!server) {
    const created = new HttpUpstreamServer(url, () => servers.delete(url));
    servers.set(url, created);
    server = created;
  }
  const reader = server.attach();
  return { reader, close: async () => reader.close() };
}
