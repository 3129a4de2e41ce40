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

/** a counter whose value is read, not incremented: set to what the source counted */
class ReadCounter {
  private readonly counter: client.Counter;
  constructor(registry: client.Registry, name: string, help: string, labelNames: string[] = []) {
    this.counter = new client.Counter({ name, help, labelNames, registers: [registry] });
  }

  set(values: [Labels, number][]): void {
    this.counter.reset();
    for (const [labels, value] of values) this.counter.inc(labels, Math.max(0, value));
  }
}

class ReadGauge {
  private readonly gauge: client.Gauge;
  constructor(registry: client.Registry, name: string, help: string, labelNames: string[] = []) {
    this.gauge = new client.Gauge({ name, help, labelNames, registers: [registry] });
  }

  set(values: [Labels, number][]): void {
    this.gauge.reset();
    for (const [labels, value] of values) this.gauge.set(labels, value);
  }
}

const number = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

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
  private readonly scans; private readonly assigned; private readonly completed; private readonly failed; private readonly lost;
  private readonly badFrames; private readonly scanEvents; private readonly scanCompleted; private readonly scanRunning;
  private readonly scanOutcome; private readonly workerProcessed; private readonly workerLoad; private readonly forwardedEvents;
  private readonly forwardedBytes; private readonly reducerResults; private readonly componentErrors; private readonly componentUp;
  private readonly componentRestarts; private readonly redisSeconds; private readonly redisUp;

  constructor(private readonly controller: Controller, private readonly watch: ComponentWatch) {
    const r = this.registry;
    r.setDefaultLabels({ pipeline: controller.pipeline });
    client.collectDefaultMetrics({ register: r });
    this.scans = new ReadCounter(r, 'dranspose_scans_total', 'scans this controller started');
    this.assigned = new ReadCounter(r, 'dranspose_events_assigned_total', 'events assigned to workers, over all scans');
    this.completed = new ReadCounter(r, 'dranspose_events_completed_total', 'events completed (processed or failed), over all scans');
    this.failed = new ReadCounter(r, 'dranspose_events_failed_total', 'events whose processing threw, over all scans');
    this.lost = new ReadCounter(r, 'dranspose_events_lost_total', 'events lost with a worker that vanished or restarted, over all scans');
    this.badFrames = new ReadCounter(r, 'dranspose_bad_frames_total', 'frames an ingester could not use, by stream, over all scans', ['stream']);
    this.scanEvents = new ReadGauge(r, 'dranspose_scan_events', 'events of the current scan, start and end events included');
    this.scanCompleted = new ReadGauge(r, 'dranspose_scan_completed_events', 'events of the current scan completed so far');
    this.scanRunning = new ReadGauge(r, 'dranspose_scan_running', '1 while a scan runs');
    this.scanOutcome = new ReadGauge(r, 'dranspose_scan_outcome', 'outcome of the current or last scan (1 for the one that holds)', ['outcome']);
    this.workerProcessed = new ReadCounter(r, 'dranspose_worker_processed_events_total', 'events a worker process handled', ['worker']);
    this.workerLoad = new ReadGauge(r, 'dranspose_worker_load_ratio', 'busy fraction of a worker over its last 10 events and over the scan', ['worker', 'window']);
    this.forwardedEvents = new ReadCounter(r, 'dranspose_ingester_forwarded_events_total', 'events an ingester process forwarded', ['ingester']);
    this.forwardedBytes = new ReadCounter(r, 'dranspose_ingester_forwarded_bytes_total', 'bytes an ingester forwarded', ['ingester']);
    this.reducerResults = new ReadCounter(r, 'dranspose_reducer_results_total', 'results the reducer process handled');
    this.componentErrors = new ReadCounter(r, 'dranspose_component_errors_total', 'errors a component process counted (user code, refused input)', ['component']);
    this.componentUp = new ReadGauge(r, 'dranspose_component_up', '1 for a registered component, 0 for one that went away', ['component']);
    this.componentRestarts = new ReadCounter(r, 'dranspose_component_restarts_total', 'new processes under a component name', ['component']);
    this.redisSeconds = new ReadGauge(r, 'dranspose_redis_roundtrip_seconds', 'time of a Redis PING from the controller');
    this.redisUp = new ReadGauge(r, 'dranspose_redis_up', '1 when Redis answered a PING within a second');
  }

  private async refresh(): Promise<void> {
    const { controller } = this;
    const totals = controller.history.totals();
    this.scans.set([[{}, totals.scans]]);
    this.assigned.set([[{}, totals.last_assigned]]);
    this.completed.set([[{}, totals.completed_events]]);
    this.failed.set([[{}, totals.failed_events]]);
    this.lost.set([[{}, totals.lost_events]]);
    this.badFrames.set(Object.entries(totals.bad_frames_by_stream).map(([stream, n]) => [{ stream }, n]));

    const scan = controller.scan;
    const counts = scan ? scanCounts(scan) : undefined;
    this.scanEvents.set([[{}, counts?.total_events ?? 0]]);
    this.scanCompleted.set([[{}, counts?.completed_events ?? 0]]);
    this.scanRunning.set([[{}, counts && !counts.finished ? 1 : 0]]);
    this.scanOutcome.set(counts ? [[{ outcome: counts.outcome }, 1]] : []);

    const ensemble = controller.components;
    this.workerProcessed.set(ensemble.workers.map((w) => [{ worker: w.name }, number(w.processed_events)]));
    const load = scan?.load.report([10], true) ?? {};
    this.workerLoad.set(Object.entries(load).flatMap(([worker, { intervals }]) => Object.entries(intervals)
      .filter(([, i]) => i.total > 0).map(([window, i]): [Labels, number] => [{ worker, window }, i.active / i.total])));
    this.forwardedEvents.set(ensemble.ingesters.map((i) => [{ ingester: i.name }, number(i.processed_events)]));
    this.forwardedBytes.set(ensemble.ingesters.filter((i) => typeof i.forwarded_bytes === 'number')
      .map((i) => [{ ingester: i.name }, number(i.forwarded_bytes)]));
    this.reducerResults.set(ensemble.reducer ? [[{}, number(ensemble.reducer.processed_events)]] : []);

    const states = this.watch.states();
    this.componentErrors.set(states.filter((s) => s.state !== 'gone').map((s) => [{ component: s.component }, s.errors]));
    this.componentUp.set(states.map((s) => [{ component: s.component }, s.state === 'gone' ? 0 : 1]));
    this.componentRestarts.set(states.map((s) => [{ component: s.component }, s.restarts]));

    const seconds = await redisRoundTrip(controller);
    this.redisSeconds.set(seconds === undefined ? [] : [[{}, seconds]]);
    this.redisUp.set([[{}, seconds === undefined ? 0 : 1]]);
  }

  async text(): Promise<string> {
    await this.refresh();
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
