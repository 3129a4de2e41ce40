/**
 * The real pipeline under the bench: `dranspose run` in a child process (the controller, which
 * spawns the ingesters, workers and reducer as production does), on a redis-server of the bench's
 * own, so that the CPU and memory of every process, Redis included, are the pipeline's alone.
 * Scans are announced and followed over the controller's HTTP API, as a client would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { freePort, startRedisServer } from '../../src/cli/private-redis.js';
import { Keys } from '../../src/core/redis.js';
import { now } from './frames.js';

const BIN = fileURLToPath(new URL('../../bin/dranspose.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A redis-server for the bench alone (nothing saved): its CPU and memory are the pipeline's. */
export class BenchRedis {
  private constructor(readonly url: string, readonly pid: number, readonly client: Redis, private readonly stopServer: () => void) {}

  static async start(): Promise<BenchRedis> {
    const server = await startRedisServer();
    const client = new Redis(server.url);
    await client.ping();
    return new BenchRedis(server.url, server.pid, client, server.stop);
  }

  /** INFO's used_memory, bytes */
  async usedMemory(): Promise<number> {
    return Number(/used_memory:(\d+)/.exec(await this.client.info('memory'))![1]);
  }

  /** MEMORY USAGE of the given keys, bytes (0 for a key that is not there) */
  async keyBytes(keys: string[]): Promise<number> {
    let total = 0;
    for (const key of keys) total += Number(await this.client.memory('USAGE', key)) || 0;
    return total;
  }

  stop(): void {
    this.client.disconnect();
    this.stopServer();
  }
}

export interface PipelineSpec {
  name: string;
  /** each ingester with its streams (STINS, one upstream each) */
  ingesters: { name: string; streams: { name: string; upstream: string }[] }[];
  workers: { class: string; count: number };
  reducer: { class: string };
  /** more environment for every part (DRANSPOSE_NATIVE) */
  env?: NodeJS.ProcessEnv;
  /** node options of `dranspose run`, which passes them on to every part it starts (a profiler) */
  nodeArgs?: string[];
}

interface Part { name: string; pid?: number; http_port?: number; mapping_uuid?: string | null }
interface Ensemble { ingesters: Part[]; workers: Part[]; reducer: Part | null }

export interface Progress { completed_events: number; total_events: number; finished: boolean; outcome: string; lost_events: number; failed_events: number }

export class BenchPipeline {
  /** spawned, every part registered with its process (ms, wall clock) */
  readonly spawnedAt: number;
  registeredAt = 0;
  private reducerUrl = '';
  private ensemble?: Ensemble;
  readonly keys: Keys;

  private constructor(readonly spec: PipelineSpec, readonly redis: BenchRedis, readonly child: ChildProcess, readonly url: string,
    private readonly output: string[], private readonly dir: string) {
    this.spawnedAt = now();
    this.keys = new Keys(spec.name);
  }

  static async start(spec: PipelineSpec, redis: BenchRedis): Promise<BenchPipeline> {
    const [controllerPort, reducerPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, stringify({
      name: spec.name,
      controller: { port: controllerPort, host: '127.0.0.1' },
      ingesters: spec.ingesters.map((i) => ({ name: i.name, streams: i.streams.map((s) => ({ ...s, protocol: 'stins' })) })),
      workers: [spec.workers],
      reducer: { ...spec.reducer, port: reducerPort, host: '127.0.0.1' },
    }));
    const output: string[] = [];
    const env = { ...process.env, LOG_LEVEL: 'warn', ...spec.env, DRANSPOSE_REDIS_URL: redis.url };
    const child = spawn(process.execPath, [...spec.nodeArgs ?? [], BIN, 'run', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { output.push(String(d)); if (output.length > 200) output.shift(); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const pipeline = new BenchPipeline(spec, redis, child, `http://127.0.0.1:${controllerPort}`, output, dir);
    await pipeline.waitForParts();
    return pipeline;
  }

  /** waits until every part of the spec is registered with its pid */
  private async waitForParts(): Promise<void> {
    const deadline = Date.now() + 120_000;
    const workers = this.spec.workers.count;
    const ingesters = this.spec.ingesters.length;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`dranspose run exited: ${this.output.join('')}`);
      const ensemble = await this.get<Ensemble>('/api/v1/config').catch(() => undefined);
      const parts = ensemble ? [...ensemble.ingesters, ...ensemble.workers, ...(ensemble.reducer ? [ensemble.reducer] : [])] : [];
      if (ensemble && ensemble.workers.length === workers && ensemble.ingesters.length === ingesters && ensemble.reducer && parts.every((p) => p.pid)) {
        this.registeredAt = now();
        this.ensemble = ensemble;
        this.reducerUrl = `http://127.0.0.1:${ensemble.reducer.http_port}`;
        return;
      }
      if (Date.now() > deadline) throw new Error(`the bench pipeline did not start: ${this.output.join('')}`);
      await sleep(50);
    }
  }

  /** the reducer's zeromq endpoint, where workers push results */
  get reducerEndpoint(): string {
    return (this.ensemble!.reducer as Part & { url: string }).url;
  }

  /** the process of each part, Redis included */
  pids(): Record<string, number> {
    const e = this.ensemble!;
    return Object.fromEntries([
      ['controller', this.child.pid!],
      ['redis', this.redis.pid],
      ...e.ingesters.map((i) => [e.ingesters.length > 1 ? `ingester ${i.name}` : 'ingester', i.pid!]),
      ...e.workers.map((w) => [`worker ${w.name}`, w.pid!]),
      ['reducer', e.reducer!.pid!],
    ]);
  }

  async get<T>(path: string, base = this.url): Promise<T> {
    const response = await fetch(`${base}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return await response.json() as T;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return await response.json() as T;
  }

  /** Announces a scan and resolves with its id once every part adopted it (then it may be timed). */
  async announce(path: string, body: unknown): Promise<string> {
    const scan = await this.post<string>(path, body);
    for (;;) {
      const status = await this.get<{ mapping_uuid: string | null; waiting_for?: string[] }>('/api/v1/status');
      if (status.mapping_uuid === scan && status.waiting_for?.length === 0) return scan;
      await sleep(20);
    }
  }

  /** polls, rarely enough not to take CPU from the parts, until every part finished the scan */
  async finished(pollMs = 100): Promise<Progress> {
    for (;;) {
      const progress = await this.get<Progress>('/api/v1/progress');
      if (progress.finished) return progress;
      if (this.child.exitCode !== null) throw new Error(`dranspose run exited: ${this.output.join('')}`);
      await sleep(pollMs);
    }
  }

  /** the reducer's publish (its `path` under /api/v1/result) */
  async publish<T>(path = '$'): Promise<T> {
    return await this.get<T>(`/api/v1/result/${path}?single=true`, this.reducerUrl);
  }

  /** what the scan keeps in Redis now: its own keys, and the stored map */
  async scanRedisBytes(scan: string): Promise<number> {
    return await this.redis.keyBytes([...this.keys.scanKeys(scan), this.keys.sequence]);
  }

  /** the current scan's data-plane token, as every part reads it from Redis */
  async token(): Promise<string> {
    return (JSON.parse((await this.redis.client.get(this.keys.current))!) as { scan: { token: string } }).scan.token;
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    // the next pipeline on this Redis starts from nothing
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', `${this.keys.prefix}*`, 'COUNT', 1000);
      if (keys.length) await this.redis.client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}
