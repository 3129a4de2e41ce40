/**
 * Single-host mode: starts the pipeline's parts as child processes of `dranspose run`, restarts one
 * that dies (with back-off), and scales the workers of the first worker group. A part that fails
 * while starting (a class that does not load, a port in use, an unknown protocol) is a
 * configuration error: `run` stops with its name and reason instead of restarting it forever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { Logger } from 'winston';
import type { PipelineConfig } from '../core/config.js';
import { DEFAULT_ZMQ_BIND } from '../core/defaults.js';
import { absoluteClassSpec } from '../core/loader.js';
import { nodeArgsFor } from '../core/node-flags.js';

const BIN = fileURLToPath(new URL('../../bin/dranspose.js', import.meta.url));
const FIRST_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;
/** a part that ran this long without dying starts over at the first back-off */
const STABLE_MS = 60_000;

export interface ChildSpec {
  name: string;
  args: string[];
  /** an executable other than dranspose itself (e.g. the PyTango bridge) */
  command?: string;
  /** the part's registry field (`worker:name`), for parts of the pipeline */
  field?: string;
}

/** what a dranspose part tells its supervisor over IPC */
export type PartMessage = { type: 'ready' } | { type: 'failed'; reason: string };

interface Child {
  spec: ChildSpec;
  process?: ChildProcess;
  /** started at least once and said it was ready */
  wasReady: boolean;
  restarts: number;
  startedAt: number;
  wanted: boolean;
  lastFailure?: string;
}

export interface SupervisorEnvironment {
  redisUrl: string;
  pipeline: string;
  keyPrefix?: string;
  /** the parts' HTTP servers take the same token and CORS origins as the controller */
  token?: string;
  corsOrigins?: string[];
}

export interface SupervisorEvents {
  /** a part's process ended (its heartbeat would say so only seconds later) */
  exited?(field: string): void;
}

/** a class spec with its file made absolute, so the child need not share our directory */
function classPath(config: PipelineConfig, spec: string): string {
  return absoluteClassSpec(spec, config.baseDir);
}

export function workerSpec(config: PipelineConfig, group: PipelineConfig['workers'][number], index: number): ChildSpec {
  const name = `${group.name ?? 'worker'}-${index + 1}`;
  const args = ['worker', '--name', name, '--tags', group.tags.join(',')];
  if (group.class) args.push('--class', classPath(config, group.class));
  return { name, args, field: `worker:${name}` };
}

/** the processes a configuration describes, workers included */
export function childSpecs(config: PipelineConfig): ChildSpec[] {
  const specs: ChildSpec[] = [];
  for (const ingester of config.ingesters) {
    const args = ['ingester', '--name', ingester.name, '--bind', ingester.bind ?? DEFAULT_ZMQ_BIND];
    for (const s of ingester.streams) args.push('--stream', `${s.name}:${s.protocol}:${s.upstream}`);
    if (ingester.dump) args.push('--dump', resolve(config.baseDir, ingester.dump));
    if (config.dumps.directory) args.push('--dump-dir', resolve(config.baseDir, config.dumps.directory));
    args.push('--dump-max-bytes', String(config.dumps.max_bytes));
    specs.push({ name: ingester.name, args, field: `ingester:${ingester.name}` });
  }
  config.workers.forEach((group) => { for (let i = 0; i < group.count; i++) specs.push(workerSpec(config, group, i)); });
  for (const d of config.debug_workers) {
    specs.push({ name: d.name, args: ['debug-worker', '--name', d.name, '--tags', d.tags.join(','), '--port', String(d.port), '--host', d.host, '--keep', String(d.keep)], field: `worker:${d.name}` });
  }
  const r = config.reducer;
  const reducerArgs = ['reducer', '--port', String(r.port), '--host', r.host, '--bind', r.bind ?? DEFAULT_ZMQ_BIND];
  if (r.class) reducerArgs.push('--class', classPath(config, r.class));
  specs.push({ name: 'reducer', args: reducerArgs, field: 'reducer:reducer' });
  return specs;
}

export class StartError extends Error {}

export class Supervisor {
  private readonly children = new Map<string, Child>();
  private stopping = false;
  private startWaiters: { name: string; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly config: PipelineConfig, private readonly environment: SupervisorEnvironment,
    private readonly logger: Logger, private readonly events: SupervisorEvents = {}) {}

  /** starts every part; resolves once each said it is ready, rejects with the first one that failed to start */
  async start(): Promise<void> {
    await Promise.all(childSpecs(this.config).map((spec) => this.supervise(spec)));
  }

  /** workers of the first group currently wanted */
  get workerCount(): number {
    const group = this.config.workers[0];
    if (!group) return 0;
    let count = 0;
    while (this.children.get(workerSpec(this.config, group, count).name)?.wanted) count++;
    return count;
  }

  setWorkerCount(count: number): void {
    const group = this.config.workers[0];
    if (!group) throw new Error('the configuration has no worker group to scale');
    const current = this.workerCount;
    for (let i = current; i < count; i++) this.supervise(workerSpec(this.config, group, i)).catch((e) => this.logger.error(e.message));
    for (let i = count; i < current; i++) this.retire(workerSpec(this.config, group, i).name);
    this.logger.info(`workers scaled from ${current} to ${count}`);
  }

  /** the registry fields of the parts it runs */
  fields(): string[] {
    return [...this.children.values()].filter((c) => c.wanted && c.spec.field).map((c) => c.spec.field!);
  }

  /** each supervised part: restarts so far, and whether it runs now */
  state(): Record<string, { running: boolean; restarts: number; last_failure?: string }> {
    return Object.fromEntries([...this.children].filter(([, c]) => c.wanted).map(([name, c]) => [name,
      { running: !!c.process, restarts: c.restarts, ...(c.lastFailure ? { last_failure: c.lastFailure } : {}) }]));
  }

  /**
   * Starts a part and keeps it running. Resolves once it says it is ready (parts that cannot say so,
   * like the Tango bridge, once spawned); rejects if it fails before that, the first time.
   */
  supervise(spec: ChildSpec): Promise<void> {
    const child: Child = this.children.get(spec.name) ?? { spec, wasReady: false, restarts: 0, startedAt: 0, wanted: true };
    child.wanted = true;
    this.children.set(spec.name, child);
    const started = new Promise<void>((resolve, reject) => this.startWaiters.push({ name: spec.name, resolve, reject }));
    this.launch(child);
    return started;
  }

  private settleStart(name: string, error?: Error): void {
    const waiting = this.startWaiters.filter((w) => w.name === name);
    this.startWaiters = this.startWaiters.filter((w) => w.name !== name);
    for (const w of waiting) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  private launch(child: Child): void {
    const { spec } = child;
    const env = {
      ...process.env,
      DRANSPOSE_REDIS_URL: this.environment.redisUrl,
      DRANSPOSE_PIPELINE: this.environment.pipeline,
      ...(this.environment.keyPrefix ? { DRANSPOSE_KEY_PREFIX: this.environment.keyPrefix } : {}),
      ...(this.environment.token ? { DRANSPOSE_TOKEN: this.environment.token } : {}),
      ...(this.environment.corsOrigins?.length ? { DRANSPOSE_CORS_ORIGINS: this.environment.corsOrigins.join(',') } : {}),
      ...(this.config.python ? { DRANSPOSE_PYTHON: this.config.python } : {}),
    };
    const [command, args] = spec.command ? [spec.command, spec.args] : [process.execPath, [...nodeArgsFor(spec.args[0]), BIN, ...spec.args]];
    // the IPC channel closes when this process dies, however it dies, and the child then stops
    const proc = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit', ...(spec.command ? [] : ['ipc' as const])] });
    child.process = proc;
    child.startedAt = Date.now();
    let failure: string | undefined;
    if (spec.command) {
      proc.once('spawn', () => { child.wasReady = true; this.settleStart(spec.name); });
    } else {
      proc.on('message', (message: PartMessage) => {
        if (message?.type === 'ready') {
          child.wasReady = true;
          this.settleStart(spec.name);
        } else if (message?.type === 'failed') {
          failure = message.reason;
        }
      });
    }
    proc.on('error', (error) => { failure = `cannot start ${command}: ${error.message}`; });
    proc.on('exit', (code, signal) => {
      if (child.process !== proc) return;
      child.process = undefined;
      if (this.stopping || !child.wanted) return;
      if (spec.field) this.events.exited?.(spec.field);
      const how = failure ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      child.lastFailure = how;
      if (!child.wasReady) {
        this.logger.error(`${spec.name} failed to start: ${how}`);
        this.settleStart(spec.name, new StartError(`${spec.name} failed to start: ${how}`));
        return;
      }
      if (Date.now() - child.startedAt > STABLE_MS) child.restarts = 0;
      const delay = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** child.restarts);
      child.restarts += 1;
      this.logger.error(`${spec.name} ended (${how}); restarting it in ${delay / 1000} s (restart ${child.restarts})`);
      setTimeout(() => { if (!this.stopping && child.wanted && !child.process) this.launch(child); }, delay);
    });
  }

  private retire(name: string): void {
    const child = this.children.get(name);
    if (!child) return;
    child.wanted = false;
    child.process?.kill('SIGTERM');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.children.values()].map((c) => c.process).filter((p): p is ChildProcess => !!p && p.exitCode === null);
    await Promise.all(running.map((proc) => new Promise<void>((done) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => { clearTimeout(kill); done(); });
      proc.kill('SIGTERM');
    })));
  }
}
