/** Debug worker: a worker without user code that keeps the last N events and serves them over HTTP. */
import type { Server } from 'node:http';
import Router from '@koa/router';
import { createHttpApp, listen, type HttpSecurity } from '../core/http/app.js';
import { HttpError } from '../core/http/errors.js';
import { DEFAULT_DEBUG_WORKER_PORT } from '../core/defaults.js';
import type { EventData } from '../core/types.js';
import { respondWithValue } from '../reducer/results/respond.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface DebugWorkerOptions extends Omit<WorkerOptions, 'workerClass' | 'onEvent'> {
  keep?: number;
  httpPort?: number;
  httpHost?: string;
  security?: HttpSecurity;
}

/** events as plain data: frames are bytes (base64 in JSON, byte strings in CBOR and pickle) */
function eventView(event: EventData): Record<string, unknown> {
  return {
    event_number: event.eventNumber,
    streams: Object.fromEntries(Object.entries(event.streams).map(([name, s]) => [name, { typ: s.typ, frames: s.frames }])),
  };
}

export class DebugWorker {
  readonly worker: Worker;
  private readonly events: EventData[] = [];
  private server?: Server;
  httpPort = 0;

  constructor(private readonly options: DebugWorkerOptions) {
    const keep = options.keep ?? 50;
    this.worker = new Worker({
      ...options,
      tags: options.tags?.length ? options.tags : ['debug'],
      onEvent: (event) => {
        this.events.push(event);
        if (this.events.length > keep) this.events.shift();
      },
    });
  }

  async start(): Promise<void> {
    const router = new Router({ prefix: '/api/v1' });
    router.get('/status', (ctx) => { ctx.body = true; });
    router.get('/last_events', (ctx) => {
      const number = Number(ctx.query.number ?? 1);
      if (!Number.isInteger(number) || number < 0) throw new HttpError(400, 'number must be a non-negative integer');
      respondWithValue(ctx, number ? this.events.slice(-number).map(eventView) : []);
    });
    const app = createHttpApp(this.worker.logger, this.options.security);
    app.use(router.routes()).use(router.allowedMethods());
    ({ server: this.server, port: this.httpPort } = await listen(app, this.options.httpPort ?? DEFAULT_DEBUG_WORKER_PORT, this.options.httpHost));
    await this.worker.start();
  }

  get ended(): Promise<string> { return this.worker.ended; }

  async stop(): Promise<void> {
    await this.worker.stop();
    await new Promise((r) => this.server?.close(r));
  }
}
