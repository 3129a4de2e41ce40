/** Prometheus metrics, health probes and the scan history of a live pipeline. */
import { expect } from 'chai';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ROOT, REDIS_URL, deletePrefix, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { startControllerServer } from '../src/controller/server.js';

const PAYLOAD = join(ROOT, 'test/payloads/dashboard.ts');
const ECHO = join(ROOT, 'test/payloads/echo.ts');

interface Sample { name: string; labels: Record<string, string>; value: number }

/** the pid of the child of `parent` whose command line holds `args` in a row (a part `dranspose run` started) */
function childProcessOf(parent: number, args: string[]): number {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) \S+ /s, '').split(' ')[0]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (ppid === parent && argv.some((_, i) => args.every((a, j) => argv[i + j] === a))) return Number(entry);
    } catch {
      // a process that ended while we looked
    }
  }
  throw new Error(`no child of ${parent} runs ${args.join(' ')}`);
}

/** the Prometheus text format: `name{label="value",…} number` lines, and `# TYPE name type` */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { samples, types };
}

describe('metrics and health (live pipeline)', function () {
  this.timeout(120_000);
  let source: StinsSource;
  let pipeline: TestPipeline;

  before(async () => {
    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${ECHO}:EchoWorker`, count: 2 }],
      reducer: { class: `${PAYLOAD}:PlotReducer` },
      parameters: { fail_on: 3 },
    }, { ingesters: 1, workers: 2 });
    // the configured value reaches every worker before a scan
    await waitFor('the workers to have the parameters', async () => {
      const config = await pipeline.api<{ parameters_hash: string; workers: { parameters_hash: string }[] }>('/api/v1/config');
      return config.workers.every((w) => w.parameters_hash === config.parameters_hash);
    });
  });

  after(async () => {
    await pipeline?.stop();
    source?.close();
  });

  async function scan(frames: number) {
    await pipeline.setSequence(uniformSequence(['detector'], frames));
    await source.play({ frames, shape: [8, 8] });
    return await pipeline.waitForFinish();
  }

  async function metrics() {
    const response = await fetch(`${pipeline.controller}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const parsed = parseMetrics(await response.text());
    const value = (name: string, labels: Record<string, string> = {}) => parsed.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
    return { ...parsed, value };
  }

  it('serves counters that agree with /api/v1/progress after a scan and keep counting across scans', async () => {
    const progress = await scan(30);
    const first = await metrics();
    const { value, samples, types } = first;
    expect(types.get('dranspose_events_completed_total')).to.equal('counter');
    expect(samples.filter((s) => s.name.startsWith('dranspose_')).every((s) => s.labels.pipeline === pipeline.name)).to.equal(true);
    expect(value('dranspose_events_completed_total')).to.equal(progress.completed_events);
    expect(value('dranspose_events_assigned_total')).to.equal(progress.last_assigned);
    expect(value('dranspose_scan_events')).to.equal(progress.total_events);
    expect(value('dranspose_scan_completed_events')).to.equal(progress.completed_events);
    expect(value('dranspose_scan_running')).to.equal(0);
    expect(value('dranspose_events_failed_total')).to.equal(1);
    expect(value('dranspose_events_lost_total')).to.equal(0);
    expect(value('dranspose_scan_outcome', { outcome: 'complete_with_errors' })).to.equal(1);
    expect(value('dranspose_scans_total')).to.equal(1);
    // per part, as each part last reported (a heartbeat a second): the workers handled every data
    // event once and start and end each, the ingester forwarded every event, the reducer took every
    // result (all but the failed event's)
    const parts = await waitFor('every part to report its counts', async () => {
      const now = await metrics();
      return now.value('dranspose_worker_processed_events_total') === 30 + 2 * 2 && now.value('dranspose_reducer_results_total') === 29 + 2 * 2 ? now : undefined;
    });
    expect(parts.samples.filter((s) => s.name === 'dranspose_worker_processed_events_total').map((s) => s.labels.worker).sort()).to.deep.equal(['worker-1', 'worker-2']);
    expect(parts.value('dranspose_ingester_forwarded_events_total', { ingester: 'detector-ingester' })).to.equal(32);
    expect(value('dranspose_component_up')).to.equal(4);
    expect(value('dranspose_worker_load_ratio', { window: 'scan' })).to.be.within(0, 2);
    expect(value('dranspose_redis_up')).to.equal(1);
    expect(value('dranspose_redis_roundtrip_seconds')).to.be.within(0, 1);
    expect(value('process_cpu_seconds_total')).to.be.greaterThan(0);

    const second = await scan(10);
    const after = await metrics();
    expect(after.value('dranspose_scans_total')).to.equal(2);
    expect(after.value('dranspose_events_completed_total')).to.equal(progress.completed_events + second.completed_events);
    expect(after.value('dranspose_events_failed_total')).to.equal(2);
    expect(after.value('dranspose_scan_completed_events')).to.equal(second.completed_events);

    const scans = await pipeline.api<{ id: string; outcome: string; completed_events: number; failed_events: number; ended: string | null }[]>('/api/v1/scans');
    // completed events are those that ended well: the failed one is not among them
    expect(scans.map((s) => [s.completed_events, s.failed_events, s.outcome])).to.deep.equal([[11, 1, 'complete_with_errors'], [31, 1, 'complete_with_errors']]);
    expect(scans.every((s) => s.ended !== null)).to.equal(true);
    expect(await pipeline.api('/api/v1/scans?limit=1')).to.have.length(1);
  });

  it('answers the probes: alive, and ready once Redis answers and the parts are registered', async () => {
    expect(await pipeline.api('/healthz')).to.deep.equal({ status: 'alive' });
    expect(await pipeline.api('/readyz')).to.deep.equal({ ready: true, problems: [] });
  });

  it('is not ready without parts, and says which are missing', async () => {
    const name = `t${randomUUID().slice(0, 8)}`;
    const keyPrefix = `dranspose:test-${name}:`;
    const server = await startControllerServer({ pipeline: name, keyPrefix, redisUrl: REDIS_URL, port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(response.status).to.equal(503);
      expect(await response.json()).to.deep.equal({ ready: false, problems: ['no ingester registered', 'no worker registered', 'no reducer registered'] });
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).to.equal(200);
    } finally {
      await server.close();
      await deletePrefix(keyPrefix);
    }
  });

  it('shows a worker whose process died and came back as restarted, in /api/v1/components and the metrics', async () => {
    const worker = childProcessOf(pipeline.child.pid!, ['worker', '--name', 'worker-1']);
    process.kill(worker, 'SIGKILL');
    type State = { component: string; state: string; restarts: number; restarted_at: string | null };
    const restarted = await waitFor('worker-1 to come back', async () =>
      (await pipeline.api<State[]>('/api/v1/components')).find((c) => c.component === 'worker:worker-1' && c.state === 'restarted'), 60_000);
    expect(restarted.restarts).to.equal(1);
    expect(restarted.restarted_at).to.be.a('string');
    const now = await metrics();
    expect(now.value('dranspose_component_restarts_total', { component: 'worker:worker-1' })).to.equal(1);
    expect(now.value('dranspose_component_restarts_total', { component: 'worker:worker-2' })).to.equal(0);
    expect(now.value('dranspose_component_up', { component: 'worker:worker-1' })).to.equal(1);
  });
});
