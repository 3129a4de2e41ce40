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
import { scansQuerySchema } from './api-schemas.js';

export function dashboardRouters(controller: Controller): Router[] {
  const watch = new ComponentWatch(() => controller.components);
  const views = new Router({ prefix: '/api/v1' });
  views.get('/scans', (ctx) => { ctx.body = controller.history.list().slice(0, scansQuerySchema.parse(ctx.query).limit); });
  views.get('/components', (ctx) => { ctx.body = watch.states(); });
  return [webRouter(), views, reducerProxyRouter(controller), metricsRouter(controller, new ControllerMetrics(controller, watch))];
}
