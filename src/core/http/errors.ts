/**
 * The one error path of every HTTP server here (controller, reducer, debug worker, Tango REST,
 * HDF5 REST): a refusal is an HttpError thrown from anywhere below a route; `errorHandler` turns it
 * into its status and body. Anything else is a bug: logged with its stack, answered 500.
 */
import type Koa from 'koa';
import type { Logger } from 'winston';
import { z } from 'zod';
import { describeIssues } from '../validation.js';

/** what a refusal's body is, unless an API has its own shape (for the OpenAPI documents) */
export const errorBodySchema = z.object({ detail: z.string() }).meta({ id: 'Error', description: 'why the request was refused' });

export class HttpError extends Error {
  constructor(readonly status: number, detail: string) {
    super(detail);
    this.name = 'HttpError';
  }

  /** what the client is shown; APIs with their own error shape (Tango REST) override it */
  body(): unknown {
    return { detail: this.message };
  }
}

/** errors of well-kept libraries that mean "the client sent something wrong" */
function asHttpError(error: unknown, ctx: Koa.Context): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof z.ZodError) return new HttpError(400, describeIssues(error, 'body'));
  // koa's own refusals (ctx.throw, a body parser's limits) carry `status` and `expose`
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
    return new HttpError(status, (error as Error).message);
  }
  // a client that went away mid-body: nothing to answer, nothing wrong here
  if ((error as { code?: string })?.code === 'ECONNRESET' || ctx.req.aborted) return new HttpError(499, 'client closed the request');
  return undefined;
}

export function errorHandler(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const refusal = asHttpError(error, ctx);
      if (refusal) {
        ctx.status = refusal.status === 499 ? 400 : refusal.status;
        ctx.body = refusal.body();
        if (refusal.status === 499) logger.debug(`${ctx.method} ${ctx.path}: ${refusal.message}`);
        return;
      }
      logger.error(`${ctx.method} ${ctx.path}: ${(error as Error)?.stack ?? error}`);
      ctx.status = 500;
      ctx.body = { detail: `internal error: ${(error as Error)?.message ?? error}` };
    }
  };
}
