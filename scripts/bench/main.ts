/**
 * `npm run bench`: the real pipeline (`dranspose run`, its own Redis, real child processes, the
 * production credit and flags) against raw zeromq chains that do the same forwarding without
 * coordination, in one run on the same upstream, and rows of real work. Numbers are reported,
 * never asserted: one table on stdout, and as JSON and Markdown in .bench/.
 *
 *   npm run bench [-- --quick] [--repeats N] [--only TEXT] [--profile] [--max-load L] [--load-wait S] [--out NAME]
 *
 * Every chain is timed from the first message its detector sends (once every process of the chain
 * said it is ready) to its reducer's last result. A row repeats (default 3, --quick 1), the chains
 * in turn, and shows min / median / max, the CPU µs per event of every process (/proc) and the
 * load average when the row started. --profile also writes CPU profiles of every part for the 64 B
 * rows (or the chain rows --only names) and summarises them by function (.bench/profiles.md). --only
 * runs the rows whose name holds TEXT; --out names the files (.bench/NAME.json and .md, default
 * `bench`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bslz4FrameSet, now, percentiles } from './frames.js';
import { jsDecoders, type Decoders } from '../../src/core/compression/decoders.js';
import { loadNativeAddon, nativeDecoders } from '../../src/core/compression/native.js';
import { benchChild, startRawReducer, type RawMode } from './raw-chain.js';
import { BenchRedis } from './pipeline.js';
import { PipelineBench, RawBench, cpuText, perEvent, warmUp, type Run, type Workload } from './chains.js';
import { fmt, markdownTable, spread, spreadText, textTable, type Row } from './table.js';
import { CpuMeter, load1, rssMb, threadCpuSeconds, type ThreadCpu } from './proc.js';
import { profileClock, profileMarkdown, summariseProfiles, type PartProfile } from './profile.js';
import { parseRows } from './parse.js';
import { decompressionRowsApart } from './decompression.js';
import { pythonWorkerRows } from './python-worker.js';
import { announceRows } from './announce.js';
import { keepFreedMemory, RELEASE_AFTER_MS } from '../../src/core/received-memory.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const PAYLOAD = here('./payload.ts');
const ROI_PAYLOAD = here('./roi-payload.ts');
const RESULT_SENDER = here('./result-sender.ts');
const OUT = join(process.cwd(), '.bench');
const MiB = 1 << 20;

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const profiling = argv.includes('--profile');
const repeats = Number(option('--repeats') ?? (quick ? 1 : 3));
const only = option('--only');
const outName = option('--out') ?? 'bench';
/** a row waits (up to --load-wait seconds) for the 1-minute load to fall below this */
const maxLoad = Number(option('--max-load') ?? 4);
const loadWaitS = Number(option('--load-wait') ?? (quick ? 0 : 180));
const scale = (n: number) => (quick ? Math.ceil(n / 10) : n);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rows: Row[] = [];

/** waits for the machine to calm down (others share it); returns the load the row starts at */
async function rowLoad(): Promise<number> {
  const deadline = Date.now() + loadWaitS * 1000;
  while (load1() > maxLoad && Date.now() < deadline) {
    process.stderr.write(`bench: load ${fmt(load1(), 1)} > ${maxLoad}, waiting…\n`);
    await sleep(15_000);
  }
  return load1();
}

const wanted = (name: string) => !only || name.includes(only);

// ---- rows -----------------------------------------------------------------------------------------

interface ChainCase extends Workload { name: string; unit: 'events/s' | 'GB/s' | 'latency'; target?: string; cpuTarget?: boolean; single?: boolean }

const CHAIN_CASES: ChainCase[] = [
  { name: '64 B events, batched map (i // 10)', kind: 'bytes', payload: 64, events: scale(100_000), batch: 10, unit: 'events/s', target: '≥ 0.8 × batched; CPU ≤ 1.4×', single: true },
  { name: '64 B events, one constraint per event', kind: 'bytes', payload: 64, events: scale(50_000), batch: 1, unit: 'events/s', target: '≥ 0.8 × batched; CPU ≤ 1.4×', single: true },
  { name: '1 MiB frames', kind: 'bytes', payload: MiB, events: scale(4_000), batch: 1, unit: 'GB/s', target: '≥ 0.9 × batched', single: true },
  { name: '4 MiB frames', kind: 'bytes', payload: 4 * MiB, events: scale(1_000), batch: 1, unit: 'GB/s', target: '≥ 0.9 × batched', single: true },
  { name: 'latency at 1 kHz, 2 KiB frames', kind: 'bytes', payload: 2048, events: quick ? 1000 : 3000, batch: 1, rate: 1000, unit: 'latency', target: 'p99 < 5 ms', single: true },
];

function rateOf(c: Workload & { unit: string }, run: Run): number {
  return c.unit === 'GB/s' ? ((run.events - 2) * c.payload) / run.seconds / 1e9 : run.events / run.seconds;
}

/** a row comparing the pipeline with the raw chains: rates min / median / max, ratio of medians, CPU per event */
function comparisonRow(measure: string, load: number, runs: { single?: Run[]; batched: Run[]; pipeline: Run[] }, rate: (run: Run) => number,
  extra: Partial<Row> = {}, digits = 0): Row {
  const [s, b, p] = [runs.single ?? [], runs.batched, runs.pipeline].map((list) => spread(list.map(rate)));
  const reference = cpuText(runs.batched);
  return {
    measure, load, single: runs.single?.length ? spreadText(s!, digits) : '', reference: spreadText(b!, digits), measured: spreadText(p!, digits),
    ratio: fmt(p!.median / b!.median, 2), cpuReference: reference.text, cpuMeasured: cpuText(runs.pipeline, reference.total).text,
    data: { ...runs.single?.length ? { single: s } : {}, batched: b, pipeline: p }, ...extra,
  };
}

async function chainRow(main: PipelineBench, c: ChainCase): Promise<void> {
  const load = await rowLoad();
  process.stderr.write(`bench: ${c.name} (${c.events} events × ${repeats}, load ${fmt(load, 1)})…\n`);
  const single = c.single ? await RawBench.start('single', ['bench'], c.batch) : undefined;
  const batched = await RawBench.start('batched', ['bench'], c.batch);
  const runs = { single: [] as Run[], batched: [] as Run[], pipeline: [] as Run[] };
  try {
    for (const chain of [single, batched, main]) await chain?.run(warmUp(c));
    for (let r = 0; r < repeats; r++) {
      if (single) runs.single.push(await single.run(c));
      runs.batched.push(await batched.run(c));
      runs.pipeline.push(await main.run(c));
    }
  } finally {
    single?.close();
    batched.close();
  }
  if (c.unit === 'latency') {
    const reference = cpuText(runs.batched);
    const cpu = { cpuReference: reference.text, cpuMeasured: cpuText(runs.pipeline, reference.total).text };
    const quantiles = (list: Run[]) => list.map((run) => percentiles(run.latencies));
    const [s, b, p] = [quantiles(runs.single), quantiles(runs.batched), quantiles(runs.pipeline)];
    for (const q of ['p50', 'p99'] as const) {
      const [ss, bs, ps] = [spread(s.map((x) => x[q])), spread(b.map((x) => x[q])), spread(p.map((x) => x[q]))];
      rows.push({
        measure: `${c.name}: ${q} (ms)`, load, single: spreadText(ss, 2), reference: spreadText(bs, 2), measured: spreadText(ps, 2),
        ratio: fmt(ps.median / bs.median, 2), ...cpu, target: q === 'p99' ? c.target : '', data: { single: ss, batched: bs, pipeline: ps },
      });
    }
    return;
  }
  const row = comparisonRow(`${c.name} (${c.unit})`, load, runs, (run) => rateOf(c, run), { target: c.target }, c.unit === 'GB/s' ? 2 : 0);
  rows.push({ ...row, data: { ...row.data as object, runs } });
}

/**
 * The reducer alone: a stand-in worker pushes tiny results in the workers' wire format, to the raw
 * reducers (one result per message; 64 per message) and to the pipeline's reducer in batches of 64
 * as real workers send them, for a scan whose events never come.
 */
async function reducerRow(main: PipelineBench): Promise<void> {
  const load = await rowLoad();
  const results = quick ? 100_000 : 500_000;
  process.stderr.write(`bench: reducer (${results} results × ${repeats})…\n`);
  const sender = benchChild(RESULT_SENDER, ['result-sender']);
  await sender.line('ready');
  const send = async (endpoint: string, scan: string, token: string, batch: number) => {
    const sent = sender.line('sent');
    const started = now();
    sender.proc.stdin!.write(`send ${endpoint} ${scan} ${token} ${results} ${batch}\n`);
    await sent;
    return started;
  };
  const raw = async (mode: RawMode, batch: number): Promise<Run> => {
    const reducer = await startRawReducer(mode, 0);
    const warm = reducer.expect(results);
    await send(reducer.endpoint, 'raw', 'raw', batch);
    await warm;
    const meter = new CpuMeter({ reducer: reducer.pid });
    const done = reducer.expect(results);
    const started = await send(reducer.endpoint, 'raw', 'raw', batch);
    const { at } = await done;
    const run = { seconds: (at - started) / 1000, events: results, cpu: perEvent(meter.read(), results), latencies: [] };
    reducer.close();
    return run;
  };
  const runs = { single: [] as Run[], batched: [] as Run[], pipeline: [] as Run[] };
  const { pipeline } = main;
  for (let r = 0; r < repeats; r++) {
    runs.single.push(await raw('single', 1));
    runs.batched.push(await raw('batched', 64));
    const scan = await pipeline.announce('/api/v1/sardana_hook', { streams: ['bench'], scan: { nb_points: 1 } });
    const pids = pipeline.pids();
    const meter = new CpuMeter({ controller: pids.controller!, redis: pids.redis!, reducer: pids.reducer! });
    const started = await send(pipeline.reducerEndpoint, scan, await pipeline.token(), 64);
    while ((await pipeline.publish<number>('results')) < results) await sleep(50);
    const { lastAt } = await pipeline.publish<{ lastAt: number }>();
    runs.pipeline.push({ seconds: (lastAt - started) / 1000, events: results, cpu: perEvent(meter.read(), results), latencies: [] });
    await pipeline.post('/api/v1/stop', {});
    await pipeline.finished();
  }
  sender.proc.kill();
  rows.push(comparisonRow('reducer alone, results from a stand-in worker (results/s)', load, runs, (run) => run.events / run.seconds));
}

/** two ingesters, one stream each, every event made of both: the workers reassemble it */
async function twoIngestersRow(redis: BenchRedis): Promise<void> {
  const load = await rowLoad();
  const w: Workload = { kind: 'bytes', payload: 64, events: scale(50_000), batch: 10 };
  process.stderr.write(`bench: two ingesters (${w.events} events × ${repeats})…\n`);
  const two = await PipelineBench.start(redis, 'two', [['a'], ['b']], { class: `${PAYLOAD}:BenchWorker`, count: 2 }, `${PAYLOAD}:BenchReducer`);
  const batched = await RawBench.start('batched', ['a', 'b'], w.batch);
  const runs = { batched: [] as Run[], pipeline: [] as Run[] };
  try {
    for (const chain of [batched, two]) await chain.run(warmUp(w));
    for (let r = 0; r < repeats; r++) {
      runs.batched.push(await batched.run(w));
      runs.pipeline.push(await two.run(w));
    }
  } finally {
    batched.close();
    await two.stop();
  }
  rows.push(comparisonRow('two ingesters reassembling each 64 B + 64 B event, i // 10 (events/s)', load, runs, (run) => run.events / run.seconds));
}

/** images per second one core decodes with `decoders`, as a worker's stins.parse does (CPU time, so per core) */
function decodeAlone(decoders: Decoders): number {
  const images = bslz4FrameSet();
  const blobs = Array.from({ length: 8 }, (_, i) => images.image(i)[1]!);
  const cpu = process.cpuUsage();
  let count = 0;
  for (let used = 0; used < (quick ? 0.3 : 1) * 1e6; count++) {
    decoders.bslz4Decode(blobs[count % blobs.length]!, 4);
    if (count % 16 === 0) { const u = process.cpuUsage(cpu); used = u.user + u.system; }
  }
  const u = process.cpuUsage(cpu);
  return count / ((u.user + u.system) / 1e6);
}

/**
 * Real work: a worker that decompresses 512×512 uint32 bslz4 STINS images and sums an ROI, with 1
 * and 2 workers, against what one core decodes alone; the native decoder (the default) and, unless
 * --quick, the TypeScript one (DRANSPOSE_NATIVE=0).
 */
async function bslz4Rows(redis: BenchRedis): Promise<void> {
  const w: Workload = { kind: 'bslz4', payload: 512 * 512 * 4, events: quick ? 1000 : 3000, batch: 10 };
  const loaded = loadNativeAddon();
  const backends: [string, Decoders, NodeJS.ProcessEnv][] = [
    ...(loaded.addon && process.env.DRANSPOSE_NATIVE !== '0' ? [['native', nativeDecoders(loaded.addon), {}] as [string, Decoders, NodeJS.ProcessEnv]] : []),
    ...(quick && loaded.addon ? [] : [['TypeScript (DRANSPOSE_NATIVE=0)', jsDecoders, { DRANSPOSE_NATIVE: '0' }] as [string, Decoders, NodeJS.ProcessEnv]]),
  ];
  for (const [backend, decoders, env] of backends) {
    const alone = decodeAlone(decoders);
    for (const count of [1, 2]) {
      const load = await rowLoad();
      process.stderr.write(`bench: bslz4 worker, ${backend}, ${count} worker(s) (${w.events} events × ${repeats})…\n`);
      const bench = await PipelineBench.start(redis, `bslz4-${count}`, [['det']], { class: `${ROI_PAYLOAD}:RoiWorker`, count }, `${ROI_PAYLOAD}:RoiCountReducer`, { env });
      const runs: Run[] = [];
      try {
        await bench.run(warmUp(w));
        for (let r = 0; r < repeats; r++) runs.push(await bench.run(w));
      } finally {
        await bench.stop();
      }
      const rate = spread(runs.map((run) => run.events / run.seconds));
      rows.push({
        measure: `STINS 512×512 uint32 bslz4 worker (decompress + ROI sum), ${backend}, ${count} worker${count > 1 ? 's' : ''} (events/s; reference: decompression alone on one core)`,
        load, reference: `${fmt(alone)} (${fmt((alone * w.payload) / 1e9, 2)} GB/s)`, measured: `${spreadText(rate)} (${fmt((rate.median * w.payload) / 1e9, 2)} GB/s)`,
        ratio: fmt(rate.median / alone, 2), cpuMeasured: cpuText(runs).text, data: { alone, rate },
      });
    }
  }
}

/** start-up: `dranspose run` spawned → every part registered → first event reduced; the raw chain: spawned → ready */
async function startupRow(redis: BenchRedis): Promise<void> {
  const load = await rowLoad();
  process.stderr.write(`bench: start-up × ${repeats}…\n`);
  const registered: number[] = [];
  const first: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const bench = await RawBench.start('batched', ['bench'], 1);
    raw.push(bench.chain.readyAt - bench.chain.spawnedAt);
    bench.close();
    const started = await PipelineBench.start(redis, 'startup', [['bench']], { class: `${PAYLOAD}:BenchWorker`, count: 2 }, `${PAYLOAD}:BenchReducer`);
    const { pipeline } = started;
    registered.push(pipeline.registeredAt - pipeline.spawnedAt);
    await started.run({ kind: 'bytes', payload: 64, events: 1, batch: 1 }, { path: '/api/v1/sardana_hook', body: { streams: ['bench'], scan: { nb_points: 1 } } });
    first.push((await pipeline.publish<{ lastAt: number }>()).lastAt - pipeline.spawnedAt);
    await started.stop();
  }
  const [w, r, f] = [raw, registered, first].map(spread);
  rows.push({ measure: 'start-up: spawned → every part registered (ms)', load, reference: spreadText(w!), measured: spreadText(r!), ratio: fmt(r!.median / w!.median, 2), data: { raw: w, registered: r } });
  rows.push({ measure: 'start-up: spawned → first event reduced (ms; POST of a 1-event map, admission included)', load, measured: spreadText(f!), data: { first: f } });
}

/** scans of growing length on the main pipeline (the Sardana hook's uniform map): flat CPU per event, flat memory? */
async function scanLengthRows(redis: BenchRedis): Promise<void> {
  const lengths = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  // a pipeline of its own, so that its memory is that of these scans alone
  const main = await PipelineBench.start(redis, 'length', [['bench']], { class: `${PAYLOAD}:BenchWorker`, count: 2 }, `${PAYLOAD}:BenchReducer`);
  await main.run({ kind: 'bytes', payload: 64, events: 2000, batch: 1 });
  const rssByPart = () => Object.entries(main.pipeline.pids()).map(([part, pid]) => [part.replace('worker ', ''), rssMb(pid) ?? NaN] as const);
  const rssText = (list: readonly (readonly [string, number])[]) => list.map(([part, mb]) => `${part} ${fmt(mb)}`).join(' · ');
  const rssOf = () => rssText(rssByPart());
  const warm = rssOf();
  for (const events of lengths) {
    const load = await rowLoad();
    const times = events >= 1_000_000 ? Math.min(repeats, 2) : repeats;
    process.stderr.write(`bench: scan of ${events} events × ${times}…\n`);
    const runs: Run[] = [];
    const redisBytes: number[] = [];
    const peaks: number[] = [];
    let rss = '';
    let rssPeak = '';
    for (let r = 0; r < times; r++) {
      const before = await main.pipeline.redis.usedMemory();
      let peak = before;
      const partPeaks = new Map<string, number>();
      const sampling = setInterval(() => {
        main.pipeline.redis.usedMemory().then((m) => { peak = Math.max(peak, m); }, () => undefined);
        for (const [part, mb] of rssByPart()) partPeaks.set(part, Math.max(partPeaks.get(part) ?? 0, mb));
      }, 250);
      const run = await main.run({ kind: 'bytes', payload: 64, events, batch: 1 }, { path: '/api/v1/sardana_hook', body: { streams: ['bench'], scan: { nb_points: events } } });
      clearInterval(sampling);
      runs.push(run);
      peaks.push((peak - before) / MiB);
      redisBytes.push((await main.pipeline.scanRedisBytes(run.scan)) / MiB);
      rssPeak = rssText([...partPeaks]);
      // what the parts' allocator kept for the scan goes back a moment after it (received-memory.ts)
      await sleep(RELEASE_AFTER_MS + 500);
      rss = rssOf();
    }
    const rate = spread(runs.map((run) => run.events / run.seconds));
    rows.push({
      measure: `scan of ${fmt(events)} events, 64 B, uniform map (events/s)`, load, measured: spreadText(rate), cpuMeasured: cpuText(runs).text,
      notes: `Redis: scan's keys ${fmt(spread(redisBytes).median, 2)} MB at the end, used memory peak +${fmt(spread(peaks).median, 1)} MB; RSS MB at most during the scan: ${rssPeak}; ${fmt((RELEASE_AFTER_MS + 500) / 1000, 1)} s after: ${rss} (after a 2,000-event warm-up: ${warm})`,
      target: events >= 1_000_000 ? 'Redis < 5 MB per scan' : '', data: { rate, redisBytes, peaks, rss, rssPeak, runs: runs.map(({ seconds, events: n, cpu }) => ({ seconds, events: n, cpu })) },
    });
  }
  await main.stop();
}

/** CPU profiles of every part for the 64 B rows, or the rows --only names: pipeline and batched raw chain, cut to the timed run */
async function profileRows(redis: BenchRedis): Promise<string> {
  const sections: string[] = [];
  for (const c of CHAIN_CASES.filter((x) => (only ? wanted(x.name) : x.payload === 64))) {
    process.stderr.write(`bench: profiling ${c.name}…\n`);
    const dir = mkdtempSync(join(OUT, 'profile-'));
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const profiled = async (what: string, start: () => Promise<{ pids: Record<string, number>; run: () => Promise<Run>; stop: () => Promise<void> }>) => {
      const chain = await start();
      await chain.run();                       // warm-up: compiled and connected, as in the timed rows
      const threadsBefore = Object.fromEntries(Object.entries(chain.pids).map(([part, pid]) => [part, threadCpuSeconds(pid)]));
      const from = profileClock();
      const run = await chain.run();
      const to = profileClock();
      const perEventByThread = Object.fromEntries(Object.entries(chain.pids).map(([part, pid]) => {
        const [after, before] = [threadCpuSeconds(pid), threadsBefore[part]!];
        const us = (key: keyof ThreadCpu) => ((after[key] - before[key]) / run.events) * 1e6;
        return [part, { main: us('main'), zmq: us('zmq'), other: us('other') }];
      }));
      await chain.stop();
      await sleep(1000);
      const summaries: PartProfile[] = summariseProfiles(dir, chain.pids, from, to);
      sections.push(profileMarkdown(`${c.name}: ${what} (${fmt(run.events / run.seconds)} events/s while profiled)`, summaries, perEventByThread));
    };
    await profiled('pipeline', async () => {
      const p = await PipelineBench.start(redis, 'profile', [['bench']], { class: `${PAYLOAD}:BenchWorker`, count: 2 }, `${PAYLOAD}:BenchReducer`, { nodeArgs });
      return { pids: p.pipeline.pids(), run: () => p.run(c), stop: () => p.stop() };
    });
    await profiled('raw chain, batched', async () => {
      const b = await RawBench.start('batched', ['bench'], c.batch, nodeArgs);
      return { pids: b.chain.pids, run: () => b.run(c), stop: async () => b.close() };
    });
    rmSync(dir, { recursive: true, force: true });
  }
  return sections.join('\n');
}

/** rows of the other bench modules: [measure, reference, ours, ratio, target] */
function foreignRows(list: string[][], load: number): Row[] {
  return list.map(([measure, reference, measured, ratio, target]) => ({ measure: measure!, load, reference, measured, ratio, target }));
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const startedAt = new Date();
  const conditions = {
    date: startedAt.toISOString(), node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    native: process.env.DRANSPOSE_NATIVE === '0' ? 'off (DRANSPOSE_NATIVE=0)' : 'default', quick, repeats, loadAtStart: load1(),
  };
  process.stderr.write(`bench: ${JSON.stringify(conditions)}\n`);
  // the references decoded here (a worker's decoding alone, parsing) get the parts' allocator settings
  keepFreedMemory();
  const redis = await BenchRedis.start();
  let profiles = '';
  /** a row that fails is a row of the table that says so; the others still run */
  const attempt = async (name: string, measure: () => Promise<void>) => {
    if (!wanted(name)) return;
    try {
      await measure();
    } catch (error) {
      process.stderr.write(`bench: ${name} failed: ${(error as Error)?.stack ?? error}\n`);
      rows.push({ measure: `${name}: FAILED`, load: load1(), notes: String((error as Error)?.message ?? error).slice(0, 300) });
    }
  };
  try {
    if (CHAIN_CASES.some((c) => wanted(c.name)) || wanted('reducer alone')) {
      const main = await PipelineBench.start(redis, 'main', [['bench']], { class: `${PAYLOAD}:BenchWorker`, count: 2 }, `${PAYLOAD}:BenchReducer`);
      try {
        // warm-up: the parts compile their hot paths before anything is timed
        await main.run({ kind: 'bytes', payload: 64, events: 2000, batch: 10 });
        for (const c of CHAIN_CASES) await attempt(c.name, () => chainRow(main, c));
        await attempt('reducer alone', () => reducerRow(main));
      } finally {
        await main.stop();
      }
    }
    await attempt('scan of N events', () => scanLengthRows(redis));
    await attempt('two ingesters', () => twoIngestersRow(redis));
    await attempt('bslz4 worker', () => bslz4Rows(redis));
    await attempt('start-up', () => startupRow(redis));
    await attempt('announce 1M events', async () => {
      const load = await rowLoad();
      for (const [measure, ms, cpu, rss, sequenceKb, allKb] of await announceRows({ repeats })) {
        rows.push({ measure: `${measure} (request ms)`, load, measured: `${ms} ms`, cpuMeasured: `controller ${cpu} ms in all`, target: '< 1 s, < 100 MB',
          notes: `controller RSS change ${rss} MB; Redis: map ${sequenceKb} kB, all keys ${allKb} kB` });
      }
    });
    await attempt('decompress', async () => { rows.push(...foreignRows(decompressionRowsApart(quick), await rowLoad())); });
    await attempt('parse', async () => { rows.push(...foreignRows(await parseRows(quick), await rowLoad())); });
    await attempt('Python worker', async () => { rows.push(...foreignRows(await pythonWorkerRows(quick), await rowLoad())); });
    if (profiling) profiles = await profileRows(redis).catch((error) => `profiling failed: ${(error as Error)?.stack ?? error}\n`);
  } finally {
    redis.stop();
  }
  const text = textTable(rows);
  process.stdout.write(`\n${text}\n`);
  const finished = { ...conditions, seconds: (Date.now() - startedAt.getTime()) / 1000, loadAtEnd: load1() };
  writeFileSync(join(OUT, `${outName}.json`), JSON.stringify({ conditions: finished, rows }, null, 1));
  writeFileSync(join(OUT, `${outName}.md`), `Measured ${finished.date}, Node ${finished.node}, ${finished.cpus}, load ${fmt(finished.loadAtStart, 1)} at the start and `
    + `${fmt(finished.loadAtEnd, 1)} at the end, ${repeats} repeat(s), ${fmt(finished.seconds)} s.\n\n${markdownTable(rows)}\n`);
  if (profiles) {
    writeFileSync(join(OUT, 'profiles.md'), profiles);
    process.stdout.write(`\nCPU profiles: .bench/profiles.md\n`);
  }
  process.stdout.write(`\nwritten: .bench/${outName}.json, .bench/${outName}.md\n`);
  process.exit(0);
}

await main();
