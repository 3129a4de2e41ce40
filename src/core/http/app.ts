/**
 * Every HTTP server of the pipeline starts here: one error path, CORS only for configured origins,
 * and an optional bearer token on every request that changes state. Listeners bind loopback
 * unless configured.
 */
import type { Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import type { Logger } from 'winston';
import { DEFAULT_HOST, corsOriginsFromEnvironment, tokenFromEnvironment } from '../defaults.js';
import { errorHandler, HttpError } from './errors.js';

export interface HttpSecurity {
  /**
   * when set, every request that is not GET, HEAD or OPTIONS must carry `Authorization: Bearer <token>`;
   * default: DRANSPOSE_TOKEN
   */
  token?: string;
  /** origins a browser page may call from (never reflected: only these) */
  corsOrigins?: string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cors(origins: readonly string[]): Koa.Middleware {
  const allowed = new Set(origins);
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (origin && allowed.has(origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.vary('Origin');
      if (ctx.method === 'OPTIONS') {
        ctx.set('Access-Control-Allow-Methods', 'GET,HEAD,POST,PUT,DELETE,OPTIONS');
        ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept');
        ctx.status = 204;
        return;
      }
    }
    await next();
  };
}

function requireToken(token: string): Koa.Middleware {
  return async (ctx, next) => {
    if (!SAFE_METHODS.has(ctx.method)) {
      const given = /^Bearer\s+(.+)$/i.exec(ctx.get('Authorization'))?.[1] ?? '';
      if (!sameToken(given, token)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'this request changes state and needs Authorization: Bearer <token> (DRANSPOSE_TOKEN)');
      }
    }
    await next();
  };
}

/** a koa app with the error path, CORS and the token guard in place; add routes to it */
export function createHttpApp(logger: Logger, security: HttpSecurity = {}): Koa {
  const app = new Koa();
  // koa logs errors it sees itself (a socket error after the answer); the error path logs the rest
  app.silent = true;
  app.use(errorHandler(logger));
  app.use(cors(security.corsOrigins ?? corsOriginsFromEnvironment()));
  const token = security.token ?? tokenFromEnvironment();
  if (token) app.use(requireToken(token));
  return app;
}

/** Starts an app on a port (0 = any free one) and reports the port it got. */
export async function listen(app: Koa, port: number, host = DEFAULT_HOST): Promise<{ server: Server; port: number }> {
  return await new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', (error) => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.once('listening', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : port });
    });
    // a client that goes away mid-request is not an error of ours
    server.on('clientError', (_error, socket) => socket.destroy());
  });
}
