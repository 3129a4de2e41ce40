/**
 * Prometheus metrics (`GET /metrics`, prom-client) and the Kubernetes probes `/healthz` (the
 * process answers) and `/readyz` (Redis answers and the parts of a pipeline are registered).
 *
 * Every value is read from the controller when scraped. Event counters add up every scan of this
 * controller (the scan history), so they never go back when a scan starts; per-component counters
 * are the component's own, which start again from 0 when its process restarts (a counter reset,
 * as Prometheus expects).
 */
import Router from '@koa/router';
import client from 'prom-client';
import type { Controller } from './controller.js';
import type { ComponentWatch } from './component-watch.js';
import { scanCounts } from './scan-counts.js';

const REDIS_TIMEOUT_MS = 1000;

type Labels = Record<string, string>;
type Values = [Labels, number][];

interface MetricSpec { kind: 'counter' | 'gauge'; help: string; labels?: string[] }

const METRICS = {
  dranspose_scans_total: { kind: 'counter', help: 'scans this controller started' },
  dranspose_events_assigned_total: { kind: 'counter', help: 'events assigned to workers, over all scans' },
  dranspose_events_completed_total: { kind: 'counter', help: 'events processed and reduced, over all scans' },
  dranspose_events_failed_total: { kind: 'counter', help: 'events whose processing threw, over all scans' },
  dranspose_events_lost_total: { kind: 'counter', help: 'events no worker finished (a worker died, the scan was stopped), over all scans' },
  dranspose_missing_frames_total: { kind: 'counter', help: 'frames of an event that never came, over all scans' },
  dranspose_bad_frames_total: { kind: 'counter', help: 'frames an ingester could not use, by stream, over all scans', labels: ['stream'] },
  dranspose_scan_events: { kind: 'gauge', help: 'events of the current scan, start and end events included' },
  dranspose_scan_completed_events: { kind: 'gauge', help: 'events of the current scan completed so far' },
  dranspose_scan_running: { kind: 'gauge', help: '1 while a scan runs' },
  dranspose_scan_outcome: { kind: 'gauge', help: 'outcome of the current or last scan (1 for the one that holds)', labels: ['outcome'] },
  dranspose_worker_processed_events_total: { kind: 'counter', help: 'events a worker process handled', labels: ['worker'] },
  dranspose_worker_load_ratio: { kind: 'gauge', help: 'busy fraction of a worker over its last 10 events and over the scan', labels: ['worker', 'window'] },
  dranspose_ingester_forwarded_events_total: { kind: 'counter', help: 'events an ingester process forwarded', labels: ['ingester'] },
  dranspose_ingester_forwarded_bytes_total: { kind: 'counter', help: 'bytes an ingester forwarded', labels: ['ingester'] },
  dranspose_reducer_results_total: { kind: 'counter', help: 'results the reducer process handled' },
  dranspose_component_errors_total: { kind: 'counter', help: 'errors a component process counted (user code, refused input)', labels: ['component'] },
  dranspose_component_up: { kind: 'gauge', help: '1 for a registered component, 0 for one that went away', labels: ['component'] },
  dranspose_component_restarts_total: { kind: 'counter', help: 'new processes under a component name', labels: ['component'] },
  dranspose_redis_roundtrip_seconds: { kind: 'gauge', help: 'time of a Redis PING from the controller' },
  dranspose_redis_up: { kind: 'gauge', help: '1 when Redis answered a PING within a second' },
} satisfies Record<string, MetricSpec>;

type Readings = Record<keyof typeof METRICS, Values>;

/** a counter or gauge set to what its source counted when scraped: one value per label set, no others */
function readMetric(registry: client.Registry, name: string, spec: MetricSpec): (values: Values) => void {
  const options = { name, help: spec.help, labelNames: spec.labels ?? [], registers: [registry] };
  const metric = spec.kind === 'counter' ? new client.Counter(options) : new client.Gauge(options);
  return (values) => {
    metric.reset();
    for (const [labels, value] of values) {
      if (metric instanceof client.Counter) metric.inc(labels, Math.max(0, value));
      else metric.set(labels, value);
    }
  };
}

const number = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const one = (value: number): Values => [[{}, value]];

async function redisRoundTrip(controller: Controller): Promise<number | undefined> {
  const start = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      controller.redis.ping(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), REDIS_TIMEOUT_MS); }),
    ]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export class ControllerMetrics {
  readonly registry = new client.Registry();
  private readonly setters: [keyof Readings, (values: Values) => void][];

  constructor(private readonly controller: Controller, private readonly watch: ComponentWatch) {
    this.registry.setDefaultLabels({ pipeline: controller.pipeline });
    client.collectDefaultMetrics({ register: this.registry });
    this.setters = Object.entries(METRICS).map(([name, spec]) => [name as keyof Readings, readMetric(this.registry, name, spec)]);
  }

  private async read(): Promise<Readings> {
    const { controller } = this;
    const totals = controller.history.totals();
    const scan = controller.scan;
    const counts = scan ? scanCounts(scan) : undefined;
    const { ingesters, workers, reducer } = controller.components;
    const load = scan?.load.report([10], true) ?? {};
    const states = this.watch.states();
    const seconds = await redisRoundTrip(controller);
    return {
      dranspose_scans_total: one(totals.scans),
      dranspose_events_assigned_total: one(totals.last_assigned),
      dranspose_events_completed_total: one(totals.completed_events),
      dranspose_events_failed_total: one(totals.failed_events),
      dranspose_events_lost_total: one(totals.lost_events),
      dranspose_missing_frames_total: one(totals.missing_frames),
      dranspose_bad_frames_total: Object.entries(totals.bad_frames_by_stream).map(([stream, n]) => [{ stream }, n]),
      dranspose_scan_events: one(counts?.total_events ?? 0),
      dranspose_scan_completed_events: one(counts?.completed_events ?? 0),
      dranspose_scan_running: one(counts && !counts.finished ? 1 : 0),
      dranspose_scan_outcome: counts ? [[{ outcome: counts.outcome }, 1]] : [],
      dranspose_worker_processed_events_total: workers.map((w) => [{ worker: w.name }, number(w.processed_events)]),
      dranspose_worker_load_ratio: Object.entries(load).flatMap(([worker, { intervals }]) => Object.entries(intervals)
        .filter(([, i]) => i.total > 0).map(([window, i]): [Labels, number] => [{ worker, window }, i.active / i.total])),
      dranspose_ingester_forwarded_events_total: ingesters.map((i) => [{ ingester: i.name }, number(i.processed_events)]),
      // where the ingester reports them
      dranspose_ingester_forwarded_bytes_total: ingesters.filter((i) => typeof i.forwarded_bytes === 'number')
        .map((i) => [{ ingester: i.name }, number(i.forwarded_bytes)]),
      dranspose_reducer_results_total: reducer ? one(number(reducer.processed_events)) : [],
      dranspose_component_errors_total: states.filter((c) => c.state !== 'gone').map((c) => [{ component: c.component }, c.errors]),
      dranspose_component_up: states.map((c) => [{ component: c.component }, c.state === 'gone' ? 0 : 1]),
      dranspose_component_restarts_total: states.map((c) => [{ component: c.component }, c.restarts]),
      dranspose_redis_roundtrip_seconds: seconds === undefined ? [] : one(seconds),
      dranspose_redis_up: one(seconds === undefined ? 0 : 1),
    };
  }

  async text(): Promise<string> {
    const readings = await this.read();
    for (const [name, set] of this.setters) set(readings[name]);
    return await this.registry.metrics();
  }

  get contentType(): string { return this.registry.contentType; }
}

/** `/metrics`, `/healthz`, `/readyz` */
export function metricsRouter(controller: Controller, metrics: ControllerMetrics): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.body = await metrics.text();
    ctx.type = metrics.contentType;
  });
  router.get('/healthz', (ctx) => { ctx.body = { status: 'alive' }; });
  router.get('/readyz', async (ctx) => {
    const problems: string[] = [];
    if (await redisRoundTrip(controller) === undefined) problems.push('Redis does not answer');
    const { ingesters, workers, reducer } = controller.components;
    if (!ingesters.length) problems.push('no ingester registered');
    if (!workers.length) problems.push('no worker registered');
    if (!reducer) problems.push('no reducer registered');
    ctx.status = problems.length ? 503 : 200;
    ctx.body = { ready: !problems.length, problems };
  });
  return router;
}
