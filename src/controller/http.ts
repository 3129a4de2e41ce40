/** The controller's HTTP API: the original's `/api/v1/...` paths and JSON shapes (core.md §6.1). */
import type Koa from 'koa';
import Router from '@koa/router';
import { z } from 'zod';
import { readBody, readJson } from '../core/http/body.js';
import { createHttpApp, type HttpSecurity } from '../core/http/app.js';
import { TriggerSequence } from '../core/mapping/index.js';
import type { Controller } from './controller.js';
import { RequestError } from './controller.js';
import { dashboardHtml } from './dashboard.js';
import { logRoutes } from './logs.js';
import { parseScanDescription, scanMap } from './scan-description.js';

const sardanaHookSchema = z.object({
  streams: z.array(z.string()).min(1, 'streams required'),
  scan: z.object({ nb_points: z.number().int().positive('nb_points must be positive') }).passthrough(),
});

function allWrap(query: Record<string, unknown>): boolean {
  const value = query.all_wrap;
  return value === undefined || !['false', '0', 'False'].includes(String(value));
}

function isTrue(value: unknown): boolean {
  return ['true', '1', 'True'].includes(String(value));
}

export function createControllerApp(controller: Controller, extraRouters: Router[] = [], security: HttpSecurity = {}): Koa {
  const app = createHttpApp(controller.logger, security);
  const router = new Router({ prefix: '/api/v1' });

  router.get('/config', (ctx) => { ctx.body = controller.config(); });
  // per-event lists only when asked: they grow with the scan
  router.get('/status', (ctx) => { ctx.body = controller.status(isTrue(ctx.query.details)); });
  router.get('/progress', (ctx) => { ctx.body = controller.progress(); });
  router.get('/load', (ctx) => {
    const raw = ctx.query.intervals;
    const intervals = (raw === undefined ? ['1', '10'] : [raw].flat()).map((v) => Number(v));
    if (intervals.some((n) => !Number.isInteger(n) || n <= 0)) throw new RequestError(400, 'intervals must be positive integers');
    const scan = !['false', '0', 'False'].includes(String(ctx.query.scan ?? 'true'));
    ctx.body = controller.scan?.load.report(intervals, scan) ?? {};
  });

  router.get(['/sequence', '/mapping'], (ctx) => { ctx.body = controller.sequence; });
  router.post('/sequence', async (ctx) => {
    const sequence = TriggerSequence.fromSequenceRequest(await readJson(ctx), { allWrap: allWrap(ctx.query) });
    ctx.body = JSON.stringify(await controller.setSequence(sequence));
    ctx.type = 'application/json';
  });
  router.post('/mapping', async (ctx) => {
    const sequence = TriggerSequence.fromMappingRequest(await readJson(ctx), { allWrap: allWrap(ctx.query) });
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

  const root = new Router();
  root.get('/', (ctx) => { ctx.type = 'html'; ctx.body = dashboardHtml; });

  for (const r of [router, root, ...extraRouters]) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
