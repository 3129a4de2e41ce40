/**
 * `npm run bench`: the raw zeromq chain and the real pipeline measured in one run on the same
 * upstream, and their ratio. Numbers are reported, never asserted.
 */
import { fileURLToPath } from 'node:url';
import { parsePipelineConfig } from '../../src/core/config.js';
import { TriggerSequence } from '../../src/core/mapping/index.js';
import { runPipeline, type RunningPipeline } from '../../src/cli/run.js';
import { now, percentiles } from './frames.js';
import { benchChild, startRawChain, startRawReducer, type BenchChild } from './raw-chain.js';
import { parseRows } from './parse.js';

const PAYLOAD = fileURLToPath(new URL('./payload.ts', import.meta.url));
const SENDER = fileURLToPath(new URL('./sender.ts', import.meta.url));
const RESULT_SENDER = fileURLToPath(new URL('./result-sender.ts', import.meta.url));
const MiB = 1 << 20;

interface Case { name: string; payload: number; events: number; batch: number; rate?: number; unit: 'events/s' | 'GB/s' | 'latency' | 'results/s' }

const quick = process.argv.includes('--quick');
const scale = (n: number) => (quick ? Math.ceil(n / 10) : n);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const ALL_CASES: Case[] = [
  { name: '64 B frames, batched map (i // 10)', payload: 64, events: scale(100_000), batch: 10, unit: 'events/s' },
  { name: '64 B frames, one constraint per event', payload: 64, events: scale(50_000), batch: 1, unit: 'events/s' },
  { name: '1 MiB frames', payload: MiB, events: scale(4_000), batch: 1, unit: 'GB/s' },
  { name: '4 MiB frames', payload: 4 * MiB, events: scale(1_000), batch: 1, unit: 'GB/s' },
  { name: 'latency at 1 kHz, 2 KiB frames', payload: 2048, events: scale(3_000), batch: 1, rate: 1000, unit: 'latency' },
  // events = results sent straight to the reducer; batch = results per message, as workers send them
  { name: 'reducer, results from a stand-in worker', payload: 0, events: scale(200_000), batch: 64, unit: 'results/s' },
];
const CASES = ALL_CASES.filter((c) => !only || c.name.includes(only));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The detector process: one per chain, so sending never competes with the controller. */
class Sender {
  private constructor(private readonly child: BenchChild, readonly endpoint: string) {}

  static async start(): Promise<Sender> {
    const child = benchChild(SENDER, []);
    return new Sender(child, await child.line('endpoint'));
  }

  /** sends header, `events` images and the end message; resolves with the time of the first send */
  async send(c: Case): Promise<number> {
    const sent = this.child.line('sent');
    this.child.proc.stdin!.write(`send ${c.payload} ${c.events} ${c.rate ?? 0}\n`);
    return Number(await sent);
  }

  close(): void {
    this.child.proc.kill();
  }
}

interface Measured { seconds: number; latencies: number[] }

async function measureRaw(c: Case): Promise<Measured> {
  const sender = await Sender.start();
  const chain = await startRawChain(sender.endpoint, c.events + 2, c.batch);
  await sleep(500);
  const started = await sender.send(c);
  const result = await chain.done;
  chain.close();
  sender.close();
  return { seconds: (result.at - started) / 1000, latencies: result.latencies };
}

async function measurePipeline(pipeline: RunningPipeline, sender: Sender, reducerPort: number, c: Case): Promise<Measured> {
  const { controller } = pipeline.server;
  const entries = Array.from({ length: c.events }, (_, i) => [{ constraint: Math.floor(i / c.batch) }]);
  await controller.setSequence(TriggerSequence.fromSequenceRequest({ parts: { main: { bench: entries } }, sequence: ['main'] }));
  const started = await sender.send(c);
  // the end is the reducer's own time of its last result, so this only has to notice the finish,
  // and polls rarely enough not to take the CPU from the parts it measures
  while (!controller.scan?.isFinishSent) await sleep(50);
  // measured, like the raw chain, up to the reducer's last result; the finish report comes after
  const publish = await fetch(`http://127.0.0.1:${reducerPort}/api/v1/result/$?single=true`).then((r) => r.json()) as { latencies: number[]; lastAt: number };
  return { seconds: (publish.lastAt - started) / 1000, latencies: publish.latencies };
}

/**
 * The reducer alone: a stand-in worker pushes results in the workers' wire format, to the raw
 * chain's reducer one per message, to the pipeline's reducer in batches as real workers send them.
 */
async function measureReducer(pipeline: RunningPipeline, reducerPort: number, c: Case): Promise<{ raw: number; real: number }> {
  const sender = benchChild(RESULT_SENDER, []);
  await sender.line('ready');
  const send = async (endpoint: string, scan: string, token: string, batch: number) => {
    const sent = sender.line('sent');
    const started = now();
    sender.proc.stdin!.write(`send ${endpoint} ${scan} ${token} ${c.events} ${batch}\n`);
    await sent;
    return started;
  };
  const rawReducer = await startRawReducer(c.events);
  const rawStarted = await send(rawReducer.endpoint, 'raw', 'raw', 1);
  const raw = c.events / (((await rawReducer.done).at - rawStarted) / 1000);
  rawReducer.close();

  // a scan whose events never come: the reducer takes the stand-in's results for it
  const { controller } = pipeline.server;
  const scan = await controller.setSequence(TriggerSequence.uniform(['bench'], 1));
  await controller.scan!.waitForAdmission();
  const reducerUrl = controller.components.reducer!.url as string;
  const started = await send(reducerUrl, scan, controller.scan!.token, c.batch);
  const reduced = async () => (await fetch(`http://127.0.0.1:${reducerPort}/api/v1/result/results?single=true`).then((r) => r.json())) as number;
  // timed, like the raw reducer, to the reducer's own time of its last result
  while (await reduced() < c.events) await sleep(50);
  const { lastAt } = await fetch(`http://127.0.0.1:${reducerPort}/api/v1/result/$?single=true`).then((r) => r.json()) as { lastAt: number };
  const real = c.events / ((lastAt - started) / 1000);
  await controller.stopScan();
  sender.proc.kill();
  return { raw, real };
}

function value(c: Case, m: Measured): number {
  const events = c.events + 2;
  return c.unit === 'GB/s' ? (c.events * c.payload) / m.seconds / 1e9 : events / m.seconds;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const sender = await Sender.start();
  const reducerPort = 5801;
  const config = parsePipelineConfig({
    name: `bench-${process.pid}`,
    // BENCH_CREDIT tries another credit than the default
    controller: { port: 5800, host: '127.0.0.1', ...(process.env.BENCH_CREDIT ? { credit: Number(process.env.BENCH_CREDIT) } : {}) },
    ingesters: [{ name: 'bench-ingester', streams: [{ name: 'bench', protocol: 'stins', upstream: sender.endpoint }] }],
    workers: [{ class: `${PAYLOAD}:BenchWorker`, count: 2 }],
    reducer: { class: `${PAYLOAD}:BenchReducer`, port: reducerPort, host: '127.0.0.1' },
  }, process.cwd(), 'bench');
  process.env.LOG_LEVEL ??= 'warn';
  const pipeline = await runPipeline(config);
  const { controller } = pipeline.server;
  while (controller.components.workers.length < 2 || !controller.components.reducer || !controller.components.ingesters.length) await sleep(100);
  const rows: string[][] = [['measure', 'raw zmq chain', 'pipeline', 'ratio', 'target']];
  const targets: Record<string, string> = {
    '64 B frames, batched map (i // 10)': '≥ 40,000 events/s',
    '64 B frames, one constraint per event': '≥ 20,000 events/s',
    '1 MiB frames': '≥ 0.85 × raw',
    '4 MiB frames': '≥ 0.85 × raw',
  };
  for (const c of CASES) {
    process.stderr.write(`bench: ${c.name} (${c.events} events)…\n`);
    if (c.unit === 'results/s') {
      const { raw, real } = await measureReducer(pipeline, reducerPort, c);
      rows.push([`${c.name} (results/s)`, fmt(raw), fmt(real), fmt(real / raw, 2), '≥ 50,000']);
      continue;
    }
    const raw = await measureRaw(c);
    const real = await measurePipeline(pipeline, sender, reducerPort, c);
    if (c.unit === 'latency') {
      const [r, p] = [percentiles(raw.latencies), percentiles(real.latencies)];
      rows.push([`${c.name}: p50 (ms)`, fmt(r.p50, 2), fmt(p.p50, 2), fmt(p.p50 / r.p50, 2), '']);
      rows.push([`${c.name}: p99 (ms)`, fmt(r.p99, 2), fmt(p.p99, 2), fmt(p.p99 / r.p99, 2), '< 5 ms']);
      continue;
    }
    const [r, p] = [value(c, raw), value(c, real)];
    rows.push([`${c.name} (${c.unit})`, fmt(r, c.unit === 'GB/s' ? 2 : 0), fmt(p, c.unit === 'GB/s' ? 2 : 0), fmt(p / r, 2), targets[c.name] ?? '']);
  }
  await pipeline.stop();
  sender.close();
  for (const row of await parseRows(quick)) rows.push(row);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  process.stdout.write(`\n${rows.map((r) => r.map((cell, i) => (i ? (cell ?? '').padStart(widths[i]) : (cell ?? '').padEnd(widths[i]))).join('  ')).join('\n')}\n`);
  process.exit(0);
}

await main();
