/**
 * The dashboard's server side: the page and its libraries (web.ts), the reducer's results through
 * the controller (reducer-proxy.ts), the scans of this controller, each component's life, and the
 * metrics and health probes beside them.
 */
import Router from '@koa/router';
import type { Controller } from './controller.js';
import { ComponentWatch } from './component-watch.js';
import { ControllerMetrics, metricsRouter } from './metrics.js';
import { reducerProxyRouter } from './reducer-proxy.js';
import { webRouter } from './web.js';
import { HttpError } from '../core/http/errors.js';

function limit(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new HttpError(400, 'limit must be a positive integer');
  return n;
}

export function dashboardRouters(controller: Controller): Router[] {
  const watch = new ComponentWatch(() => controller.components);
  const views = new Router({ prefix: '/api/v1' });
  views.get('/scans', (ctx) => { ctx.body = controller.history.list().slice(0, limit(ctx.query.limit)); });
  views.get('/components', (ctx) => { ctx.body = watch.states(); });
  return [webRouter(), views, reducerProxyRouter(controller), metricsRouter(controller, new ControllerMetrics(controller, watch))];
}
