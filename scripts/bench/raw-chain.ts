/**
 * The baseline: the same chain as a pipeline (upstream → ingester → 2 workers → reducer, one process
 * each) in plain zeromq with static routing and no coordination at all. Each role is a child process:
 *   raw-chain.ts reducer <expected> | ingester <upstream> <batch> | worker <name> <ingester> <reducer>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { encode, decode } from 'cbor-x';
import { now } from './frames.js';
import { nodeArgsFor } from '../../src/core/node-flags.js';

const WORKERS = ['w1', 'w2'];

async function reducer(expected: number): Promise<void> {
  const pull = new zmq.Pull();
  await pull.bind('tcp://127.0.0.1:*');
  process.stdout.write(`endpoint ${pull.lastEndpoint}\n`);
  const latencies: number[] = [];
  let count = 0;
  for await (const [, body] of pull) {
    const t = decode(body) as number;
    if (t) latencies.push(now() - t);
    if (++count === expected) break;
  }
  process.stdout.write(`done ${JSON.stringify({ count, latencies, at: now() })}\n`);
  pull.close();
}

async function ingester(upstream: string, batch: number): Promise<void> {
  const pull = new zmq.Pull();
  pull.connect(upstream);
  const router = new zmq.Router({ mandatory: true });
  await router.bind('tcp://127.0.0.1:*');
  process.stdout.write(`endpoint ${router.lastEndpoint}\n`);
  const connected = new Set<string>();
  const pings = (async () => { for await (const [id] of router) connected.add(id.toString()); })();
  while (connected.size < WORKERS.length) await new Promise((r) => setTimeout(r, 10));
  let event = 0;
  for await (const frames of pull) {
    const worker = WORKERS[Math.floor(event / batch) % WORKERS.length];
    const header = Buffer.from(JSON.stringify({ event, streams: { bench: { typ: 'STINS', length: frames.length } } }));
    for (;;) {
      try { await router.send([worker, header, ...frames]); break; } catch { await new Promise((r) => setImmediate(r)); }
    }
    event += 1;
  }
  void pings;
}

async function worker(name: string, ingesterUrl: string, reducerUrl: string): Promise<void> {
  const dealer = new zmq.Dealer({ routingId: name });
  dealer.connect(ingesterUrl);
  const push = new zmq.Push();
  push.connect(reducerUrl);
  await dealer.send('ping');
  for await (const [header, ...frames] of dealer) {
    const { event } = JSON.parse(header.toString());
    const text = frames[0].toString();
    const at = text.lastIndexOf('"t":');
    const t = frames.length === 2 && at >= 0 ? Number(text.slice(at + 4, -1)) : 0;
    await push.send([JSON.stringify({ event, worker: name }), encode(t)]);
  }
}

const SELF = fileURLToPath(import.meta.url);
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));

export interface BenchChild {
  proc: ChildProcess;
  /** the rest of the next stdout line starting with `prefix` */
  line: (prefix: string) => Promise<string>;
}

export function benchChild(script: string, args: string[]): BenchChild {
  // a raw part starts with the V8 flags of the pipeline's part of its name, so both chains collect garbage alike
  const proc = spawn(process.execPath, [...nodeArgsFor(args[0]), RUN_TS, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buffered = '';
  const waiters: { prefix: string; resolve: (s: string) => void }[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const i = waiters.findIndex((w) => text.startsWith(w.prefix));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(text.slice(text.indexOf(' ') + 1));
    }
  });
  return { proc, line: (prefix) => new Promise((resolve) => waiters.push({ prefix, resolve })) };
}

/** The raw chain's reducer alone, bound and waiting for `expected` results. */
export async function startRawReducer(expected: number): Promise<{ endpoint: string; done: RawChain['done']; close(): void }> {
  const red = benchChild(SELF, ['reducer', String(expected)]);
  const endpoint = await red.line('endpoint');
  return { endpoint, done: red.line('done').then((json) => JSON.parse(json)), close: () => red.proc.kill() };
}

export interface RawChain {
  done: Promise<{ count: number; latencies: number[]; at: number }>;
  close(): void;
}

/** Starts the chain connected to `upstream`; `done` resolves when the reducer has `expected` results. */
export async function startRawChain(upstream: string, expected: number, batch: number): Promise<RawChain> {
  const red = await startRawReducer(expected);
  const ing = benchChild(SELF, ['ingester', upstream, String(batch)]);
  const ingesterUrl = await ing.line('endpoint');
  const workers = WORKERS.map((name) => benchChild(SELF, ['worker', name, ingesterUrl, red.endpoint]));
  return { done: red.done, close: () => { red.close(); for (const c of [ing, ...workers]) c.proc.kill(); } };
}

if (process.argv[1] === SELF && process.argv[2]) {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'reducer') await reducer(Number(args[0]));
  else if (role === 'ingester') await ingester(args[0], Number(args[1]));
  else if (role === 'worker') await worker(args[0], args[1], args[2]);
}
