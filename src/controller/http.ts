/** The controller's HTTP API: the original's `/api/v1/...` paths and JSON shapes (core.md §6.1). */
import { Readable } from 'node:stream';
import type Koa from 'koa';
import Router from '@koa/router';
import { readBody, readJson, readJsonBytes } from '../core/http/body.js';
import { createHttpApp, type HttpSecurity } from '../core/http/app.js';
import { MAP_LIMITS } from '../core/defaults.js';
import { TriggerSequence } from '../core/mapping/index.js';
import type { Controller } from './controller.js';
import { RequestError } from './controller.js';
import { dashboardRouters } from './dashboard.js';
import { logRoutes } from './logs.js';
import { parseScanDescription, scanMap } from './scan-description.js';
import { allWrapQuerySchema, loadQuerySchema, sardanaHookSchema, statusQuerySchema } from './api-schemas.js';

function flag(query: Record<string, unknown>, name: string, otherwise: boolean): boolean {
  const value = query[name];
  return value === undefined ? otherwise : !['false', '0', 'False'].includes(String(value));
}

function allWrap(query: Record<string, unknown>): boolean {
  return allWrapQuerySchema.parse(query).all_wrap;
}

/** the map written out from its compact form as the client reads it, or `?compact=true` the compact form */
function sequenceBody(ctx: Koa.Context, sequence: TriggerSequence | null): void {
  ctx.type = 'application/json';
  if (!sequence) ctx.body = { parts: {}, sequence: [] };
  else ctx.body = Readable.from(flag(ctx.query, 'compact', false) ? sequence.compactJsonChunks() : sequence.jsonChunks());
}

export function createControllerApp(controller: Controller, extraRouters: Router[] = [], security: HttpSecurity = {}): Koa {
  const app = createHttpApp(controller.logger, security);
  const router = new Router({ prefix: '/api/v1' });

  router.get('/config', (ctx) => { ctx.body = controller.config(); });
  // per-event lists only when asked: they grow with the scan
  router.get('/status', (ctx) => { ctx.body = controller.status(statusQuerySchema.parse(ctx.query).details); });
  router.get('/progress', (ctx) => { ctx.body = controller.progress(); });
  router.get('/load', (ctx) => {
    const { intervals, scan } = loadQuerySchema.parse(ctx.query);
    ctx.body = controller.scan?.load.report(intervals, scan) ?? {};
  });

  router.get(['/sequence', '/mapping'], (ctx) => sequenceBody(ctx, controller.sequence));
  router.post('/sequence', async (ctx) => {
    const sequence = TriggerSequence.fromSequenceBody(await readJsonBytes(ctx, MAP_LIMITS.bodyBytes), { allWrap: allWrap(ctx.query) });
    ctx.body = JSON.stringify(await controller.setSequence(sequence));
    ctx.type = 'application/json';
  });
  router.post('/mapping', async (ctx) => {
    const sequence = TriggerSequence.fromMappingBody(await readJsonBytes(ctx, MAP_LIMITS.bodyBytes), { allWrap: allWrap(ctx.query) });
    ctx.body = JSON.stringify(await controller.setSequence(sequence));
    ctx.type = 'application/json';
  });
  router.post('/scan', async (ctx) => {
    const { map, skipped } = scanMap(parseScanDescription(await readJson(ctx)), controller.availableStreams());
    if (skipped.length) controller.logger.info(`scan: streams ${skipped.join(', ')} left out, no ingester serves them`);
    const sequence = TriggerSequence.fromSequenceRequest(map, { allWrap: allWrap(ctx.query) });
    ctx.body = JSON.stringify(await controller.setSequence(sequence));
    ctx.type = 'application/json';
  });
  router.post('/sardana_hook', async (ctx) => {
    const hook = sardanaHookSchema.parse(await readJson(ctx));
    const streams = hook.streams.filter((s) => controller.availableStreams().includes(s));
    if (!streams.length) throw new RequestError(400, `none of the streams ${hook.streams.join(', ')} is available`);
    const sequence = TriggerSequence.uniform(streams, hook.scan.nb_points, { partName: 'sardana' });
    ctx.body = JSON.stringify(await controller.setSequence(sequence));
    ctx.type = 'application/json';
  });
  router.post('/stop', async (ctx) => {
    await controller.stopScan();
    ctx.body = 'null';
    ctx.type = 'application/json';
  });

  router.get('/parameters', (ctx) => { ctx.body = controller.descriptions(); });
  router.get('/parameter/:name', async (ctx) => {
    const value = await controller.getParameter(ctx.params.name);
    if (value === null) throw new RequestError(404, 'Parameter not found');
    ctx.type = 'application/x.bytes';
    ctx.body = value;
  });
  router.post('/parameter/:name', async (ctx) => {
    const hash = await controller.setParameter(ctx.params.name, await readBody(ctx));
    ctx.body = JSON.stringify(hash);
    ctx.type = 'application/json';
  });
  logRoutes(router, controller);
  // the description loads zod-openapi and builds its schemas when first asked for, not in every controller
  router.get('/openapi.json', async (ctx) => { ctx.body = (await import('./openapi.js')).controllerOpenApiDocument(); });

  for (const r of [router, ...dashboardRouters(controller), ...extraRouters]) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
