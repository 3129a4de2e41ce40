/**
 * Bench rows: a Python worker (numpy ROI sum of 512×512 uint16 STINS images) against the same work
 * in TypeScript. (1) The worker alone: both fed by this process through their WorkerInstance, as a
 * worker does; the Python one pays the hop to its payload host (frames out through shared memory,
 * or over zmq with DRANSPOSE_NATIVE=0; CBOR result back). (2) The whole pipeline (detector →
 * ingester → 2 workers → reducer) with either worker. Events/s min/median/max over repeats, and CPU per event (of this process and its children).
 * Alone: `node bin/run-ts.js scripts/bench/python-worker.ts [--quick]`.
 */
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { parsePipelineConfig } from '../../src/core/config.js';
import { TriggerSequence } from '../../src/core/mapping/index.js';
import { runPipeline } from '../../src/cli/run.js';
import { benchChild } from './raw-chain.js';
import { fileURLToPath } from 'node:url';
import { encode } from 'cbor-x';
import { EncodedResult } from '../../src/core/encoded-result.js';
import { loadWorkerClass } from '../../src/core/loader.js';
import { createLogger } from '../../src/core/logging.js';
import type { EventData, WorkerClass } from '../../src/core/types.js';
import { closeAllHosts } from '../../src/python/host.js';
import { stinsSeriesMessages } from '../../src/protocols/stins/emulator.js';
import { IMAGE_SHAPE } from './roi.js';
import { descendantsCpuSeconds } from './proc.js';
import { fmt, spread, spreadText, type Spread } from './table.js';

const SELF = fileURLToPath(import.meta.url);
const TS_PAYLOAD = fileURLToPath(new URL('./roi-payload.ts', import.meta.url));
const TS_WORKER = `${TS_PAYLOAD}:RoiWorker`;
const PY_WORKER = `${fileURLToPath(new URL('./roi_payload.py', import.meta.url))}:RoiWorker`;
const IMAGES = 16;

interface Run { perSecond: number; cpuMicros: number }

/**
 * `inFlight` events are handed over before the oldest is awaited: 1 is one event at a time, 4 what
 * a worker running a Python class does (so that Node and Python overlap).
 */
async function measure(workerClass: WorkerClass, events: EventData[], count: number, inFlight = 1): Promise<Run> {
  const worker = new workerClass({ parameters: {}, state: {}, logger: createLogger('bench'), name: 'bench-worker' });
  const cpu = process.cpuUsage();
  const childCpu = descendantsCpuSeconds();
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(Promise.resolve(worker.processEvent(events[i % events.length], {}, false)));
    if (pending.length < inFlight && i < count - 1) continue;
    while (pending.length) {
      const result = await pending.shift();
      // what the worker sends: a TypeScript result is encoded here, a Python one arrives encoded
      if (!(result instanceof EncodedResult)) encode(result);
      if (pending.length < inFlight && i < count - 1) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6 + descendantsCpuSeconds() - childCpu;
  return { perSecond: count / seconds, cpuMicros: (cpuSeconds / count) * 1e6 };
}

/** events/s min / median / max and the median CPU µs per event over runs */
function summary(runs: Run[]): Spread & { cpu: number } {
  return { ...spread(runs.map((r) => r.perSecond)), cpu: spread(runs.map((r) => r.cpuMicros)).median };
}

/** the detector of the pipeline measurement, in a process of its own: `send N` plays a series of N images */
async function detector(): Promise<void> {
  const socket = new zmq.Push({ sendHighWaterMark: 10_000 });
  await socket.bind('tcp://127.0.0.1:*');
  process.stdout.write(`endpoint ${socket.lastEndpoint}\n`);
  const messages = stinsSeriesMessages({ frames: IMAGES, shape: IMAGE_SHAPE, dtype: 'uint16' });
  const images = messages.slice(1, IMAGES + 1);
  for await (const line of createInterface({ input: process.stdin })) {
    const count = Number(line.split(' ')[1]);
    const started = performance.timeOrigin + performance.now();
    await socket.send(messages[0]);
    for (let i = 0; i < count; i++) await socket.send(images[i % IMAGES]);
    await socket.send(messages[IMAGES + 1]);
    process.stdout.write(`sent ${started}\n`);
  }
}

/** events/s of whole scans through `dranspose run`'s parts with 2 workers of `workerClass` */
async function measurePipeline(workerClass: string, count: number, repeats: number): Promise<Run[]> {
  const sender = benchChild(SELF, ['detector']);
  const endpoint = await sender.line('endpoint');
  const reducerPort = 5811;
  const config = parsePipelineConfig({
    name: `bench-python-${process.pid}`, controller: { port: 5810, host: '127.0.0.1' },
    ingesters: [{ name: 'det-ingester', streams: [{ name: 'det', protocol: 'stins', upstream: endpoint }] }],
    workers: [{ class: workerClass, count: 2 }],
    reducer: { class: `${TS_PAYLOAD}:RoiCountReducer`, port: reducerPort, host: '127.0.0.1' },
  }, process.cwd(), 'bench');
  const pipeline = await runPipeline(config);
  const { controller } = pipeline.server;
  while (controller.components.workers.length < 2 || !controller.components.reducer || !controller.components.ingesters.length) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const runs: Run[] = [];
  for (let r = 0; r <= repeats; r++) {
    await controller.setSequence(TriggerSequence.uniform(['det'], count));
    const cpu = process.cpuUsage();
    const childCpu = descendantsCpuSeconds();
    const sent = sender.line('sent');
    sender.proc.stdin!.write(`send ${count}\n`);
    const started = Number(await sent);
    while (!controller.scan?.isFinishSent) await new Promise((resolve) => setTimeout(resolve, 50));
    const { lastAt } = await fetch(`http://127.0.0.1:${reducerPort}/api/v1/result/$?single=true`).then((x) => x.json()) as { lastAt: number };
    const used = process.cpuUsage(cpu);
    // the first scan warms up (imports, JIT), the others count
    if (r > 0) runs.push({ perSecond: (count + 2) / ((lastAt - started) / 1000), cpuMicros: (((used.user + used.system) / 1e6 + descendantsCpuSeconds() - childCpu) / (count + 2)) * 1e6 });
  }
  await pipeline.stop();
  sender.proc.kill();
  return runs;
}

export async function pythonWorkerRows(quick: boolean): Promise<string[][]> {
  const messages = stinsSeriesMessages({ frames: IMAGES, shape: IMAGE_SHAPE, dtype: 'uint16' }).slice(1, IMAGES + 1);
  const events: EventData[] = messages.map((frames, i) => ({ eventNumber: i + 1, streams: { det: { typ: 'STINS', frames } } }));
  const [tsClass, pyClass] = [await loadWorkerClass(TS_WORKER), await loadWorkerClass(PY_WORKER)];
  const count = quick ? 300 : 2000;
  const repeats = quick ? 3 : 5;
  const runs: Record<'ts' | 'py' | 'overlapped', Run[]> = { ts: [], py: [], overlapped: [] };
  await measure(tsClass, events, 100);
  await measure(pyClass, events, 100);
  // interleaved, so that a busy moment of the machine hits both alike
  for (let r = 0; r < repeats; r++) {
    runs.ts.push(await measure(tsClass, events, count));
    runs.py.push(await measure(pyClass, events, count));
    runs.overlapped.push(await measure(pyClass, events, count, 4));
  }
  closeAllHosts();
  const [ts, py, overlapped] = [summary(runs.ts), summary(runs.py), summary(runs.overlapped)];
  const [tsPipeline, pyPipeline] = [summary(await measurePipeline(TS_WORKER, count, repeats)), summary(await measurePipeline(PY_WORKER, count, repeats))];
  return [
    ['worker 512×512 uint16 ROI sum: TypeScript vs Python (events/s min / median / max)', spreadText(ts), spreadText(py), (py.median / ts.median).toFixed(2), '≥ 0.80'],
    ['  the same, Python with 4 events in flight (as the worker runs a Python class)', spreadText(ts), spreadText(overlapped), (overlapped.median / ts.median).toFixed(2), ''],
    ['worker 512×512 uint16 ROI sum: CPU per event (µs, this process + Python host)', fmt(ts.cpu), fmt(py.cpu), (py.cpu / ts.cpu).toFixed(2), ''],
    ['pipeline with 2 such workers: TypeScript vs Python (events/s min / median / max)', spreadText(tsPipeline), spreadText(pyPipeline),
      (pyPipeline.median / tsPipeline.median).toFixed(2), '≥ 0.80'],
    ['pipeline with 2 such workers: CPU per event (µs, all parts)', fmt(tsPipeline.cpu), fmt(pyPipeline.cpu), (pyPipeline.cpu / tsPipeline.cpu).toFixed(2), ''],
  ];
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'detector') {
  await detector();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.LOG_LEVEL ??= 'warn';
  const rows = [['measure', 'TypeScript', 'Python', 'ratio', 'target'], ...await pythonWorkerRows(process.argv.includes('--quick'))];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  process.stdout.write(`${rows.map((row) => row.map((cell, i) => (i ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ')).join('\n')}\n`);
  process.exit(0);
}
