/** Starts a real pipeline (`dranspose run`) under its own Redis key prefix and ports, for one test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Redis } from 'ioredis';
import { run, stopProcess } from './process.js';
import { BIN, ROOT } from './build.js';
import { freePort } from '../../src/cli/private-redis.js';

export { BIN, ROOT } from './build.js';
export { freePort } from '../../src/cli/private-redis.js';
export const REDIS_URL = process.env.DRANSPOSE_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
}

/** Deletes every key under a test's prefix (SCAN, never KEYS or FLUSH on the shared server). */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

export interface PipelineSpec {
  ingesters?: unknown[];
  workers?: unknown[];
  debug_workers?: Record<string, unknown>[];
  reducer?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  controller?: Record<string, unknown>;
  tango?: Record<string, unknown>;
  dumps?: Record<string, unknown>;
}

export interface Expected { ingesters: number; workers: number }

export class TestPipeline {
  readonly output: string[] = [];
  exited: number | null = null;

  constructor(readonly name: string, readonly prefix: string, readonly controllerPort: number, readonly reducerPort: number,
    readonly configPath: string, readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stdout!.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.on('exit', (code) => { this.exited = code ?? -1; });
  }

  get controller(): string { return `http://127.0.0.1:${this.controllerPort}`; }
  get reducer(): string { return `http://127.0.0.1:${this.reducerPort}`; }

  async api<T = unknown>(path: string, init?: RequestInit): Promise<T> {
    const response = await fetch(`${this.controller}${path}`, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** objects go as JSON, strings and Buffers as raw bytes unless `json` says they are JSON text */
  async post(path: string, body: unknown, { json = typeof body === 'object' && !Buffer.isBuffer(body) } = {}): Promise<Response> {
    return await fetch(`${this.controller}${path}`, {
      method: 'POST', body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
      headers: json ? { 'content-type': 'application/json' } : {},
    });
  }

  async setSequence(body: unknown, query = ''): Promise<string> {
    const response = await this.post(`/api/v1/sequence${query}`, body, { json: true });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST /api/v1/sequence: ${response.status} ${text}`);
    return JSON.parse(text);
  }

  async progress(): Promise<{ last_assigned: number; completed_events: number; total_events: number; finished: boolean }> {
    return await this.api('/api/v1/progress');
  }

  async waitForFinish(timeoutMs = 30_000) {
    try {
      return await waitFor('the scan to finish', async () => {
        const p = await this.progress();
        return p.finished ? p : undefined;
      }, timeoutMs);
    } catch (error) {
      // what the controller knew, to tell a stuck scan from a slow one
      const status = await this.api('/api/v1/status').catch((e) => String(e));
      throw new Error(`${(error as Error).message}\nstatus: ${JSON.stringify(status)}\n${this.output.join('').slice(-4000)}`);
    }
  }

  async result<T = unknown>(path: string): Promise<T> {
    const response = await fetch(`${this.reducer}/api/v1/result/${path}${path.includes("?") ? "&" : "?"}single=true`);
    if (!response.ok) throw new Error(`result ${path}: ${response.status} ${await response.text()}`);
    return await response.json() as T;
  }

  async waitForComponents(expected: Expected, timeoutMs = 30_000): Promise<void> {
    await waitFor(`${expected.ingesters} ingesters, ${expected.workers} workers and a reducer\n${this.output.join('')}`, async () => {
      if (this.exited !== null) throw new Error(`dranspose run exited with ${this.exited}:\n${this.output.join('')}`);
      const config = await this.api<{ ingesters: unknown[]; workers: unknown[]; reducer: unknown }>('/api/v1/config');
      return config.ingesters.length === expected.ingesters && config.workers.length === expected.workers && !!config.reducer;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, { graceMs: 10_000 });
    await deletePrefix(this.prefix);
  }
}

/** Writes a configuration for this test and starts `dranspose run` on it (`env`: its environment, default this one's). */
export async function startPipeline(spec: PipelineSpec, expected?: Expected, redisUrl = REDIS_URL, env: NodeJS.ProcessEnv = process.env): Promise<TestPipeline> {
  const name = `t${randomUUID().slice(0, 8)}`;
  const prefix = `dranspose:test-${name}:`;
  const controllerPort = await freePort();
  const reducerPort = await freePort();
  const config = {
    name, key_prefix: prefix,
    controller: { port: controllerPort, host: '127.0.0.1', ...spec.controller },
    ingesters: spec.ingesters ?? [],
    workers: spec.workers ?? [],
    debug_workers: spec.debug_workers ?? [],
    reducer: { port: reducerPort, host: '127.0.0.1', ...spec.reducer },
    parameters: spec.parameters ?? {},
    ...(spec.tango ? { tango: spec.tango } : {}),
    ...(spec.dumps ? { dumps: spec.dumps } : {}),
  };
  const dir = mkdtempSync(join(tmpdir(), 'dranspose-test-'));
  const configPath = join(dir, 'pipeline.yaml');
  writeFileSync(configPath, stringify(config));
  const child = spawn(process.execPath, [BIN, 'run', configPath], { cwd: ROOT, env: { ...env, DRANSPOSE_REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  const pipeline = new TestPipeline(name, prefix, controllerPort, reducerPort, configPath, child);
  if (expected) {
    try {
      await pipeline.waitForComponents(expected);
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
  }
  return pipeline;
}

/** `dranspose replay ...args --result <a temporary file>` run to completion; what it wrote there, parsed */
export async function replayResult<T = unknown>(args: string[]): Promise<T> {
  const out = join(mkdtempSync(join(tmpdir(), 'replay-')), 'publish.json');
  await run(process.execPath, [BIN, 'replay', ...args, '--result', out]);
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}

/** `ntrig` data events with one constraint each, as the original's test helper builds them */
export function uniformSequence(streams: string[], events: number, constraint = (i: number) => i): unknown {
  const part: Record<string, unknown[]> = {};
  for (const s of streams) part[s] = Array.from({ length: events }, (_, i) => [{ constraint: constraint(i) }]);
  return { parts: { main: part }, sequence: ['main'] };
}

export interface ScanCounts { failed?: number; lost?: number; missing?: number; bad?: number }

/** the progress of a finished scan of `events` events with these counts (and every other event completed) */
export function scanEndedWith(events: number, { failed = 0, lost = 0, missing = 0, bad = 0 }: ScanCounts,
  outcome = lost ? 'incomplete' : failed || missing || bad ? 'complete_with_errors' : 'complete'): Record<string, unknown> {
  return {
    last_assigned: events, completed_events: events - failed - lost, failed_events: failed, lost_events: lost,
    missing_frames: missing, bad_frames: bad, total_events: events, finished: true, outcome,
  };
}

/** the progress of a scan whose every event completed, with nothing missing or bad */
export function completeScan(events: number): Record<string, unknown> {
  return scanEndedWith(events, {});
}
