/** `/api/v1/logs` (filtered snapshot) and `/api/v1/log_stream` (newline-delimited JSON, live). */
import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import type { Controller } from './controller.js';
import { blockingConnection, readStream } from '../core/redis.js';

const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

type LogEntry = Record<string, string>;

function toEntry(fields: string[]): LogEntry {
  const entry: LogEntry = {};
  for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
  return entry;
}

export function logRoutes(router: Router, controller: Controller): void {
  router.get('/logs', async (ctx) => {
    const wanted = String(ctx.query.level ?? 'INFO').toUpperCase();
    const minimum = Math.max(0, LEVELS.indexOf(LEVELS.includes(wanted) ? wanted : 'INFO'));
    const entries = await controller.redis.xrange(controller.keys.logs, '-', '+');
    ctx.body = entries.map(([, fields]) => toEntry(fields))
      .filter((e) => LEVELS.indexOf(e.levelname ?? 'DEBUG') >= minimum);
  });

  router.get('/log_stream', (ctx) => {
    const body = new PassThrough();
    const connection = blockingConnection(controller.redis);
    let open = true;
    const close = () => { open = false; connection.disconnect(); };
    ctx.req.on('close', close);
    (async () => {
      let last = '$';
      while (open) {
        const entries = await readStream(connection, controller.keys.logs, last, { blockMs: 1300 }).catch(() => []);
        for (const { id, fields } of entries) {
          last = id;
          body.write(`${JSON.stringify(toEntry(fields))}\n`);
        }
      }
      body.end();
    })().catch(() => body.end());
    ctx.type = 'application/x-ndjson';
    ctx.body = body;
    // node sends headers with the first body bytes; a client must not wait for the first log line
    setImmediate(() => { if (!ctx.res.headersSent) ctx.res.flushHeaders(); });
  });
}
