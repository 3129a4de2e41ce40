/**
 * Single-host mode: starts the pipeline's parts as child processes of `dranspose run`, restarts one
 * that dies, and scales the workers of the first worker group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { Logger } from 'winston';
import type { PipelineConfig } from '../core/config.js';
import { absoluteClassSpec } from '../core/loader.js';
import { nodeArgsFor } from '../core/node-flags.js';

const BIN = fileURLToPath(new URL('../../bin/dranspose.js', import.meta.url));
const RESTART_DELAY_MS = 1000;
const MAX_RESTARTS = 5;

export interface ChildSpec {
  name: string;
  args: string[];
  /** an executable other than dranspose itself (e.g. the PyTango bridge) */
  command?: string;
}

interface Child {
  spec: ChildSpec;
  process?: ChildProcess;
  restarts: number;
  wanted: boolean;
}

export interface SupervisorEnvironment {
  redisUrl: string;
  pipeline: string;
  keyPrefix?: string;
}

/** a class spec with its file made absolute, so the child need not share our directory */
function classPath(config: PipelineConfig, spec: string): string {
  return absoluteClassSpec(spec, config.baseDir);
}

export function workerSpec(config: PipelineConfig, group: PipelineConfig['workers'][number], index: number): ChildSpec {
  const name = `${group.name ?? 'worker'}-${index + 1}`;
  const args = ['worker', '--name', name, '--tags', group.tags.join(',')];
  if (group.class) args.push('--class', classPath(config, group.class));
  return { name, args };
}

/** the processes a configuration describes, workers included */
export function childSpecs(config: PipelineConfig): ChildSpec[] {
  const specs: ChildSpec[] = [];
  for (const ingester of config.ingesters) {
    const args = ['ingester', '--name', ingester.name, '--bind', ingester.bind ?? 'tcp://127.0.0.1:0'];
    for (const s of ingester.streams) args.push('--stream', `${s.name}:${s.protocol}:${s.upstream}`);
    if (ingester.dump) args.push('--dump', resolve(config.baseDir, ingester.dump));
    specs.push({ name: ingester.name, args });
  }
  config.workers.forEach((group) => { for (let i = 0; i < group.count; i++) specs.push(workerSpec(config, group, i)); });
  for (const d of config.debug_workers) {
    specs.push({ name: d.name, args: ['debug-worker', '--name', d.name, '--tags', d.tags.join(','), '--port', String(d.port), '--keep', String(d.keep)] });
  }
  const r = config.reducer;
  const reducerArgs = ['reducer', '--port', String(r.port), '--host', r.host, '--bind', r.bind ?? 'tcp://127.0.0.1:0'];
  if (r.class) reducerArgs.push('--class', classPath(config, r.class));
  specs.push({ name: 'reducer', args: reducerArgs });
  return specs;
}

export class Supervisor {
  private readonly children = new Map<string, Child>();
  private stopping = false;

  constructor(private readonly config: PipelineConfig, private readonly environment: SupervisorEnvironment,
    private readonly logger: Logger) {}

  start(): void {
    for (const spec of childSpecs(this.config)) this.supervise(spec);
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
    for (let i = current; i < count; i++) this.supervise(workerSpec(this.config, group, i));
    for (let i = count; i < current; i++) this.retire(workerSpec(this.config, group, i).name);
    this.logger.info(`workers scaled from ${current} to ${count}`);
  }

  /** starts a child; it is restarted when it dies, unless no longer wanted */
  supervise(spec: ChildSpec): void {
    const child: Child = this.children.get(spec.name) ?? { spec, restarts: 0, wanted: true };
    child.wanted = true;
    this.children.set(spec.name, child);
    const env = {
      ...process.env,
      DRANSPOSE_REDIS_URL: this.environment.redisUrl,
      DRANSPOSE_PIPELINE: this.environment.pipeline,
      ...(this.environment.keyPrefix ? { DRANSPOSE_KEY_PREFIX: this.environment.keyPrefix } : {}),
      ...(this.config.python ? { DRANSPOSE_PYTHON: this.config.python } : {}),
    };
    const [command, args] = spec.command ? [spec.command, spec.args] : [process.execPath, [...nodeArgsFor(spec.args[0]), BIN, ...spec.args]];
    // the IPC channel closes when this process dies, however it dies, and the child then stops
    const proc = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit', ...(spec.command ? [] : ['ipc' as const])] });
    child.process = proc;
    proc.on('error', (error) => {
      this.logger.error(`${spec.name}: cannot start ${command}: ${error.message}`);
      if (child.process === proc && proc.pid === undefined) child.process = undefined;
    });
    proc.on('exit', (code, signal) => {
      if (child.process !== proc) return;
      child.process = undefined;
      if (this.stopping || !child.wanted) return;
      this.logger.error(`${spec.name} exited (${signal ?? `code ${code}`})`);
      if (child.restarts >= MAX_RESTARTS) {
        this.logger.error(`${spec.name} failed ${MAX_RESTARTS} times; not restarting it`);
        return;
      }
      child.restarts += 1;
      setTimeout(() => { if (!this.stopping && child.wanted) this.supervise(spec); }, RESTART_DELAY_MS);
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
