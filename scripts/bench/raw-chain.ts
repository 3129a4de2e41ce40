/**
 * The baselines: the pipeline's chain (upstreams → ingesters → 2 workers → reducer, one process each)
 * in plain zeromq with static routing and no Redis, in two framings:
 * - `single`: one zmq message per event on every hop;
 * - `batched`: the pipeline's own framing (src/core/wire.ts) and batching (src/core/outbox.ts), and
 *   its flow control: a worker may hold as many unfinished events as the pipeline's default credit
 *   allows (events and bytes), acknowledged to the ingesters as its results leave.
 * Every role says when it is ready, so a chain is timed only once all its processes are:
 * an ingester once its upstream is connected and every worker pinged it, the reducer once every
 * worker's hello came through (so every worker is connected to it).
 *   raw-chain.ts reducer <mode> <workers>
 *   raw-chain.ts ingester <mode> <stream> <all streams,> <upstream> <batch> <workers,>
 *   raw-chain.ts worker <mode> <name> <reducer> <ingesters,>
 * The reducer then takes `expect <n>` lines on stdin and prints `done <json>` after n more results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { encode, decode } from 'cbor-x';
import { now } from './frames.js';
import { nodeArgsFor } from '../../src/core/node-flags.js';
import { keepFreedMemory } from '../../src/core/received-memory.js';
import { DEFAULT_CREDIT, DEFAULT_CREDIT_BYTES } from '../../src/core/defaults.js';
import { DATA_PLANE_LIMITS, Outbox } from '../../src/core/outbox.js';
import { decodeEventBatch, decodeResultBatch, encodeEventBatch, encodeResultBatch, PING, type PartialEvent } from '../../src/core/wire.js';
import type { StreamData } from '../../src/core/types.js';

export type RawMode = 'single' | 'batched';

const WORKERS = ['w1', 'w2'];
const SCAN = 'raw';
const TOKEN = 'raw';
const HELLO = 'hello';
const ACK = 'ack';

const immediate = () => new Promise((r) => setImmediate(r));

/** the send time an image header carries (0 for other messages) */
function sentAt(frames: Buffer[]): number {
  if (frames.length !== 2) return 0;
  const text = frames[0]!.toString();
  const at = text.lastIndexOf('"t":');
  return at < 0 ? 0 : Number(text.slice(at + 4, -1));
}

async function reducer(mode: RawMode, workers: number): Promise<void> {
  const pull = new zmq.Pull({ receiveHighWaterMark: 10_000 });
  await pull.bind('tcp://127.0.0.1:*');
  process.stdout.write(`endpoint ${pull.lastEndpoint}\n`);
  let hellos = 0;
  let count = 0;
  let target = Infinity;
  let base = 0;
  let latencies: number[] = [];
  const counted = () => {
    if (count < target) return;
    process.stdout.write(`done ${JSON.stringify({ count: count - base, latencies, at: now() })}\n`);
    base = target;
    target = Infinity;
    latencies = [];
  };
  void (async () => {
    for await (const line of createInterface({ input: process.stdin })) {
      const [command, n] = line.split(' ');
      if (command !== 'expect') continue;
      target = base + Number(n);
      counted();
    }
  })();
  for await (const message of pull) {
    if (message.length === 1 && message[0]!.toString() === HELLO) {
      if (++hellos === workers) process.stdout.write('ready\n');
      continue;
    }
    const arrived = now();
    if (mode === 'single') {
      const t = decode(message[1]!) as number;
      if (t) latencies.push(arrived - t);
      count += 1;
    } else {
      const { bodies } = decodeResultBatch(message);
      for (const body of bodies) {
        const t = decode(body) as number;
        if (t) latencies.push(arrived - t);
      }
      count += bodies.length;
    }
    counted();
  }
}

/** resolves once the socket has connected to its peer */
function connected(socket: zmq.Socket): Promise<void> {
  return new Promise((resolve) => socket.events.on('connect', () => resolve()));
}

async function ingester(mode: RawMode, stream: string, streams: string[], upstream: string, batch: number, workers: string[]): Promise<void> {
  const pull = new zmq.Pull();
  const upstreamConnected = connected(pull);
  pull.connect(upstream);
  const router = new zmq.Router({ mandatory: true });
  await router.bind('tcp://127.0.0.1:*');
  process.stdout.write(`endpoint ${router.lastEndpoint}\n`);
  const pinged = new Set<string>();
  let allPinged!: () => void;
  const ready = new Promise<void>((resolve) => { allPinged = resolve; });
  // the batched chain's flow control: events each worker holds, and who waits for one to end
  const outstanding = new Map(workers.map((w) => [w, 0]));
  let freed: (() => void) | undefined;
  void (async () => {
    for await (const [id, kind, n] of router) {
      const worker = id!.toString();
      if (kind!.toString() === ACK) {
        outstanding.set(worker, outstanding.get(worker)! - Number(n!.toString()));
        freed?.();
        continue;
      }
      pinged.add(worker);
      if (pinged.size === workers.length) allPinged();
    }
  })();
  await Promise.all([upstreamConnected, ready]);
  process.stdout.write('ready\n');

  const send = async (message: Buffer[]) => {
    for (;;) {
      try { await router.send(message); return; } catch { await immediate(); }
    }
  };
  let event = 0;
  if (mode === 'single') {
    for await (const frames of pull) {
      const worker = workers[Math.floor(event / batch) % workers.length]!;
      const header = Buffer.from(JSON.stringify({ event, streams: { [stream]: { typ: 'STINS', length: frames.length } } }));
      await send([Buffer.from(worker), header, ...frames]);
      event += 1;
    }
    return;
  }
  const outbox = new Outbox<PartialEvent>((worker, events) => send([Buffer.from(worker), ...encodeEventBatch(SCAN, TOKEN, events)]),
    DATA_PLANE_LIMITS, (error) => { throw error; });
  let bytes = 0;
  for await (const frames of pull) {
    const worker = workers[Math.floor(event / batch) % workers.length]!;
    let size = 0;
    for (const frame of frames) size += frame.length;
    bytes += size;
    // the pipeline's credit: sized, as the controller does, from the mean event size
    const credit = Math.min(DEFAULT_CREDIT, Math.max(1, Math.floor(DEFAULT_CREDIT_BYTES / (bytes / (event + 1)))));
    while (outstanding.get(worker)! >= credit) await new Promise<void>((resolve) => { freed = resolve; });
    outstanding.set(worker, outstanding.get(worker)! + 1);
    const partial: PartialEvent = { event, streams: { [stream]: { typ: 'STINS', frames } } };
    if (streams.length > 1) partial.expect = streams;
    const flushing = outbox.add(worker, partial, size);
    if (flushing) await flushing;
    event += 1;
  }
}

async function worker(mode: RawMode, name: string, reducerUrl: string, ingesterUrls: string[]): Promise<void> {
  const push = new zmq.Push({ immediate: true, linger: 0 });
  push.connect(reducerUrl);
  await push.send(HELLO);
  const dealers = ingesterUrls.map((url) => {
    const dealer = new zmq.Dealer({ routingId: name });
    dealer.connect(url);
    return dealer;
  });
  await Promise.all(dealers.map((d) => d.send(PING)));
  if (mode === 'single') {
    await Promise.all(dealers.map(async (dealer) => {
      for await (const [header, ...frames] of dealer) {
        const { event } = JSON.parse(header!.toString()) as { event: number };
        await push.send([JSON.stringify({ event, worker: name }), encode(sentAt(frames))]);
      }
    }));
    return;
  }
  const source = { scan: SCAN, token: TOKEN, worker: name, instance: name, parametersHash: null };
  const results = new Outbox<{ event: number; body: Buffer }>(async (_, items) => {
    await push.send(encodeResultBatch(source, items.map((r) => r.event), items.map((r) => r.body)));
    const ack = [ACK, String(items.length)];
    await Promise.all(dealers.map((d) => d.send(ack)));
  }, DATA_PLANE_LIMITS, (error) => { throw error; });
  // events whose streams come from several ingesters wait here for the rest
  const partials = new Map<number, Record<string, StreamData>>();
  const handle = async (event: number, streams: Record<string, StreamData>) => {
    const body = encode(sentAt(Object.values(streams)[0]!.frames));
    const flushing = results.add('reducer', { event, body }, body.length);
    if (flushing) await flushing;
  };
  await Promise.all(dealers.map(async (dealer) => {
    for await (const message of dealer) {
      for (const { event, streams, expect } of decodeEventBatch(message).events) {
        if (!expect) {
          await handle(event, streams);
          continue;
        }
        const merged = Object.assign(partials.get(event) ?? {}, streams);
        if (Object.keys(merged).length < expect.length) {
          partials.set(event, merged);
          continue;
        }
        partials.delete(event);
        await handle(event, merged);
      }
    }
  }));
}

const SELF = fileURLToPath(import.meta.url);
export const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));

export interface BenchChild {
  proc: ChildProcess;
  /** the rest of the next stdout line starting with `prefix` */
  line: (prefix: string) => Promise<string>;
}

/**
 * A bench process running `script`; its first argument names the pipeline part it stands for, and
 * it starts with that part's V8 flags (and takes its allocator settings), so both chains collect
 * garbage alike; `nodeArgs` adds more (a profiler).
 */
export function benchChild(script: string, args: string[], nodeArgs: string[] = []): BenchChild {
  const proc = spawn(process.execPath, [...nodeArgsFor(args[0], nodeArgs), RUN_TS, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buffered = '';
  const waiters: { prefix: string; resolve: (s: string) => void }[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const i = waiters.findIndex((w) => text === w.prefix || text.startsWith(`${w.prefix} `));
      if (i < 0) continue;
      const [waiter] = waiters.splice(i, 1);
      waiter!.resolve(text.slice(waiter!.prefix.length).trimStart());
    }
  });
  return { proc, line: (prefix) => new Promise((resolve) => waiters.push({ prefix, resolve })) };
}

export interface RawResult { count: number; latencies: number[]; at: number }

/** The raw reducer alone, bound; `ready` once `workers` workers said hello. */
export interface RawReducer {
  endpoint: string;
  pid: number;
  ready: Promise<unknown>;
  /** resolves after `results` more results */
  expect(results: number): Promise<RawResult>;
  close(): void;
}

export async function startRawReducer(mode: RawMode, workers: number, nodeArgs?: string[]): Promise<RawReducer> {
  const red = benchChild(SELF, ['reducer', mode, String(workers)], nodeArgs);
  const endpoint = await red.line('endpoint');
  return {
    endpoint, pid: red.proc.pid!, ready: red.line('ready'),
    expect: (results) => {
      const done = red.line('done').then((json) => JSON.parse(json) as RawResult);
      red.proc.stdin!.write(`expect ${results}\n`);
      return done;
    },
    close: () => red.proc.kill(),
  };
}

export interface RawChain {
  /** the process of each part */
  pids: Record<string, number>;
  /** when the processes were spawned and when the last one said it was ready (ms, wall clock) */
  spawnedAt: number;
  readyAt: number;
  reducer: RawReducer;
  close(): void;
}

export interface RawChainOptions {
  mode: RawMode;
  /** stream name → the upstream endpoint of its ingester (one ingester per stream) */
  upstreams: Record<string, string>;
  /** consecutive events that go to the same worker */
  batch: number;
  /** node options of every process (a profiler) */
  nodeArgs?: string[];
}

/** Starts the chain and resolves once every process of it is ready. */
export async function startRawChain({ mode, upstreams, batch, nodeArgs }: RawChainOptions): Promise<RawChain> {
  const spawnedAt = now();
  const reducer = await startRawReducer(mode, WORKERS.length, nodeArgs);
  const streams = Object.keys(upstreams);
  const ingesters = await Promise.all(streams.map(async (stream) => {
    const child = benchChild(SELF, ['ingester', mode, stream, streams.join(','), upstreams[stream]!, String(batch), WORKERS.join(',')], nodeArgs);
    return { stream, child, url: await child.line('endpoint'), ready: child.line('ready') };
  }));
  const workers = WORKERS.map((name) => ({ name, child: benchChild(SELF, ['worker', mode, name, reducer.endpoint, ingesters.map((i) => i.url).join(',')], nodeArgs) }));
  await Promise.all([reducer.ready, ...ingesters.map((i) => i.ready)]);
  const pids: Record<string, number> = Object.fromEntries([
    ...ingesters.map((i) => [ingesters.length > 1 ? `ingester ${i.stream}` : 'ingester', i.child.proc.pid!]),
    ...workers.map((w) => [`worker ${w.name}`, w.child.proc.pid!]),
    ['reducer', reducer.pid],
  ]);
  return {
    pids, spawnedAt, readyAt: now(), reducer,
    close: () => { reducer.close(); for (const c of [...ingesters, ...workers]) c.child.proc.kill(); },
  };
}

if (process.argv[1] === SELF && process.argv[2]) {
  const [role, mode, ...args] = process.argv.slice(2) as [string, RawMode, ...string[]];
  // an orderly exit, so that a profile (--cpu-prof) is written
  process.once('SIGTERM', () => process.exit(0));
  // the parts' allocator settings, as their V8 flags: both chains reuse freed frame memory alike
  keepFreedMemory();
  if (role === 'reducer') await reducer(mode, Number(args[0]));
  else if (role === 'ingester') await ingester(mode, args[0]!, args[1]!.split(','), args[2]!, Number(args[3]), args[4]!.split(','));
  else if (role === 'worker') await worker(mode, args[0]!, args[1]!, args[2]!.split(','));
}
