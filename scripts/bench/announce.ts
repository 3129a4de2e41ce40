/**
 * Bench rows: announcing a 1M-event trigger map over HTTP to a live controller (`dranspose run`,
 * one ingester, one worker, a reducer), three ways: the Sardana hook's uniform map, a posted
 * parts + sequence map playing one part 1000 times, and `POST /api/v1/mapping` of 1M entries as
 * JSON. For each: wall time of the request, CPU of the controller's process, its RSS growth, and the
 * Redis bytes of the stored map (MEMORY USAGE of the keys under the pipeline's prefix), as
 * min / median / max over repeats. Reported, never asserted.
 *
 * Alone: `node bin/run-ts.js scripts/bench/announce.ts [--quick] [--repeats N]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { redisUrl } from '../../src/core/redis.js';
import { cpuSeconds, rssMb } from './proc.js';
import { spread, spreadText } from './table.js';

const BIN = fileURLToPath(new URL('../../bin/dranspose.js', import.meta.url));
const EVENTS = 1_000_000;
const CONTROLLER_PORT = 5810;

interface Announcement { name: string; path: string; body: () => string }

const ANNOUNCEMENTS: Announcement[] = [
  { name: 'uniform map (POST /api/v1/sardana_hook)', path: '/api/v1/sardana_hook', body: () => JSON.stringify({ streams: ['bench'], scan: { nb_points: EVENTS } }) },
  {
    name: 'one 1000-event part × 1000 (POST /api/v1/sequence)', path: '/api/v1/sequence',
    body: () => JSON.stringify({ parts: { main: { bench: Array.from({ length: 1000 }, (_, i) => [{ constraint: Math.floor(i / 10) }]) } }, sequence: [{ part: 'main', repeat: 1000 }] }),
  },
  {
    name: '1M entries as JSON (POST /api/v1/mapping)', path: '/api/v1/mapping',
    body: () => JSON.stringify({ bench: Array.from({ length: EVENTS }, (_, i) => [{ constraint: i }]) }),
  },
];

interface Sample { ms: number; cpuMs: number; rssMb: number; sequenceKb: number; allKeysKb: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A POST on a connection of its own. fetch reuses the previous request's connection, which the
 * server closes after 5 s idle, and building a 1M-entry body on a busy host can take that long: the
 * body then went into a closing socket (EPIPE, "fetch failed") now and then.
 */
function post(url: string, body: string): Promise<{ ok: boolean; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method: 'POST', agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk)).on('error', reject).on('end', () => {
        const status = response.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject).end(body);
  });
}

/** RSS (MB) and user + system CPU (ms) of a process */
function processUsage(pid: number): { rssMb: number; cpuMs: number } {
  return { rssMb: rssMb(pid) ?? NaN, cpuMs: (cpuSeconds(pid) ?? NaN) * 1000 };
}

async function keyBytes(redis: Redis, prefix: string): Promise<{ sequence: number; all: number }> {
  let cursor = '0';
  let all = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    for (const key of keys) all += Number(await redis.memory('USAGE', key)) || 0;
    cursor = next;
  } while (cursor !== '0');
  return { sequence: Number(await redis.memory('USAGE', `${prefix}sequence`)) || 0, all };
}

class BenchPipeline {
  private constructor(readonly child: ChildProcess, readonly prefix: string, readonly url: string, private output: string[]) {}

  static async start(): Promise<BenchPipeline> {
    const name = `bench-announce-${process.pid}`;
    const prefix = `dranspose:${name}:`;
    const dir = mkdtempSync(join(tmpdir(), 'bench-announce-'));
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, stringify({
      name, key_prefix: prefix,
      controller: { port: CONTROLLER_PORT, host: '127.0.0.1' },
      // an upstream nobody sends on: the bench announces scans, it does not run them
      ingesters: [{ name: 'bench-ingester', streams: [{ name: 'bench', protocol: 'stins', upstream: 'tcp://127.0.0.1:5811' }] }],
      workers: [{ count: 1 }],
      reducer: { port: 5812, host: '127.0.0.1' },
    }));
    const output: string[] = [];
    const child = spawn(process.execPath, [BIN, 'run', config], { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => output.push(String(d)));
    child.stderr!.on('data', (d) => output.push(String(d)));
    const pipeline = new BenchPipeline(child, prefix, `http://127.0.0.1:${CONTROLLER_PORT}`, output);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dranspose run exited: ${output.join('')}`);
      const config = await fetch(`${pipeline.url}/api/v1/config`).then((r) => r.json() as Promise<{ ingesters: unknown[]; workers: unknown[]; reducer: unknown }>).catch(() => undefined);
      if (config?.ingesters.length && config.workers.length && config.reducer) return pipeline;
      if (Date.now() > deadline) throw new Error(`the bench pipeline did not start: ${output.join('')}`);
      await sleep(200);
    }
  }

  async announce(a: Announcement, redis: Redis): Promise<Sample> {
    const body = a.body();
    const pid = this.child.pid!;
    const before = processUsage(pid);
    const started = performance.now();
    const { ok, status, text } = await post(`${this.url}${a.path}`, body);
    const ms = performance.now() - started;
    if (!ok) throw new Error(`${a.path}: ${status} ${text}`);
    const after = processUsage(pid);
    const bytes = await keyBytes(redis, this.prefix);
    return { ms, cpuMs: after.cpuMs - before.cpuMs, rssMb: after.rssMb - before.rssMb, sequenceKb: bytes.sequence / 1024, allKeysKb: bytes.all / 1024 };
  }

  async stop(redis: Redis): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** min / median / max */
const spreadOf = (values: number[], digits = 0) => spreadText(spread(values), digits);

/** rows: measure, then min / median / max of each quantity */
export async function announceRows(options: { repeats: number }): Promise<string[][]> {
  const redis = new Redis(redisUrl());
  const pipeline = await BenchPipeline.start();
  const rows: string[][] = [];
  try {
    for (const a of ANNOUNCEMENTS) {
      process.stderr.write(`bench: announcing ${a.name}…\n`);
      const samples: Sample[] = [];
      for (let i = 0; i < options.repeats; i++) samples.push(await pipeline.announce(a, redis));
      rows.push([`announce 1M events: ${a.name}`, spreadOf(samples.map((s) => s.ms)), spreadOf(samples.map((s) => s.cpuMs)),
        spreadOf(samples.map((s) => s.rssMb), 1), spreadOf(samples.map((s) => s.sequenceKb), 1), spreadOf(samples.map((s) => s.allKeysKb), 1)]);
    }
  } finally {
    await pipeline.stop(redis);
    redis.disconnect();
  }
  return rows;
}

export const ANNOUNCE_HEADER = ['measure (min / median / max)', 'request ms', 'controller CPU ms', 'controller RSS +MB', 'Redis sequence kB', 'Redis all keys kB'];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--repeats');
  const rows = [ANNOUNCE_HEADER, ...await announceRows({ repeats: at > 0 ? Number(process.argv[at + 1]) : quick ? 1 : 3 })];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`${rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`);
  process.exit(0);
}
