/**
 * The reducer's read-only API on the controller's port (`/api/v1/reducer/...`), so that the
 * dashboard reads results from the origin that served it (no CORS). Bounded: GET only, only the
 * reducer's result, outline and OpenAPI paths, the address the reducer registered, a time limit
 * and a size limit.
 */
import Router from '@koa/router';
import type { Controller } from './controller.js';
import { HttpError } from '../core/http/errors.js';
import { DEFAULT_HOST } from '../core/defaults.js';

const TIMEOUT_MS = 15_000;
/** a 2048×2048 float64 image, whole, with room to spare; the dashboard asks for far less */
export const MAX_PROXIED_BYTES = 64 * 2 ** 20;
/** what a client may pass on: the selection, whether it is one value, and the format */
const FORWARDED_QUERY = ['slice', 'single', 'format'];
const FORWARDED_PATHS = /^\/(result(?:\/.*)?|outline|openapi\.json)$/;
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '*', '[::]']);

/** The reducer's HTTP base URL from its registry entry: `http_url` if it advertises one, else the host of its zmq endpoint and `http_port`. */
export function reducerHttpBase(entry: Record<string, unknown> | null): string {
  if (!entry) throw new HttpError(503, 'no reducer is registered');
  if (typeof entry.http_url === 'string') return entry.http_url.replace(/\/$/, '');
  const port = entry.http_port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) throw new HttpError(503, 'the reducer registered no HTTP port');
  let host = DEFAULT_HOST;
  if (typeof entry.url === 'string') {
    const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):\d+$/.exec(entry.url);
    if (match && !WILDCARD_HOSTS.has(match[1])) host = match[1];
  }
  return `http://${host}:${port}`;
}

async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new HttpError(502, `the reducer's answer of ${declared} bytes is larger than the proxy's limit of ${limit} bytes; ask for less with slice=`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > limit) throw new HttpError(502, `the reducer's answer is larger than the proxy's limit of ${limit} bytes; ask for less with slice=`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function reducerProxyRouter(controller: Controller): Router {
  const router = new Router();
  router.get(/^\/api\/v1\/reducer(\/.*)$/, async (ctx) => {
    const url = new URL(`${reducerHttpBase(controller.components.reducer)}/api/v1${ctx.captures?.[0] ?? ''}`);
    // checked after URL resolved any dot segments, so that none leads elsewhere on the reducer
    const rest = url.pathname.replace(/^\/api\/v1/, '');
    if (!url.pathname.startsWith('/api/v1/') || !FORWARDED_PATHS.test(rest)) {
      throw new HttpError(404, `the reducer proxy serves result/…, outline and openapi.json, not ${JSON.stringify(ctx.path)}`);
    }
    for (const name of FORWARDED_QUERY) {
      const value = ctx.query[name];
      if (typeof value === 'string') url.searchParams.set(name, value);
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: ctx.get('Accept') || 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new HttpError(502, `the reducer at ${url.origin} did not answer: ${(error as Error).message}`);
    }
    const body = await readLimited(response, MAX_PROXIED_BYTES);
    ctx.status = response.status;
    ctx.type = response.headers.get('content-type') ?? 'application/octet-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
  return router;
}
