/**
 * A payload host: one Python child process per loaded class, reached over zmq PAIR sockets on
 * private ipc endpoints ("lanes"). Requests on a lane are answered in order, so a lane is a FIFO of
 * pending replies. Event frames go to Python as they arrived (no re-encoding): through shared
 * memory when a worker's host has it (shared-frames.ts), as zmq frames otherwise; results come
 * back as CBOR bodies. The child's standard input is its lifeline: it exits when this
 * process does. A child that dies while it is needed is fatal for this process (see onExit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'winston';
import * as zmq from 'zeromq';
import type { Parameters } from '../core/types.js';
import { pythonEnvironment, pythonInterpreter } from './interpreter.js';
import { SharedFrames } from './shared-frames.js';

export type LaneName = 'main' | 'timer' | 'read';
export type HostKind = 'worker' | 'reducer';

export interface HostReply {
  header: Record<string, unknown>;
  bodies: Buffer[];
}

/** What Python reported failing: the payload's own exception, one line with its place. */
export class PythonError extends Error {
  override name = 'PythonError';
}

interface Pending { resolve: (reply: HostReply) => void; reject: (error: Error) => void }

class Lane {
  readonly socket = new zmq.Pair({ linger: 0 });
  readonly pending: Pending[] = [];
  private sending: Promise<void> = Promise.resolve();

  constructor(readonly endpoint: string) {}

  async bind(): Promise<void> {
    await this.socket.bind(this.endpoint);
    this.receive().catch(() => undefined);
  }

  request(frames: Buffer[]): Promise<HostReply> {
    return new Promise<HostReply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      // zeromq.js allows one send at a time per socket
      this.sending = this.sending.then(() => this.socket.send(frames)).catch((error) => this.failAll(error as Error));
    });
  }

  failAll(error: Error): void {
    for (const pending of this.pending.splice(0)) pending.reject(error);
  }

  private async receive(): Promise<void> {
    for await (const [header, ...bodies] of this.socket) {
      this.pending.shift()?.resolve({ header: JSON.parse(header.toString()) as Record<string, unknown>, bodies });
    }
  }
}

const STDERR_KEPT = 20;
/** the child's descriptor of the shared memory: the first after standard input, output and error */
const SHARED_FD = 3;
/** Python log lines start with their level (the host's logging format) */
const LEVELS: Record<string, 'error' | 'warn' | 'info' | 'debug'> = { CRITICAL: 'error', ERROR: 'error', WARNING: 'warn', INFO: 'info', DEBUG: 'debug' };

const live = new Set<PythonHost>();

/** stops every payload host of this process (a CLI job that is done, so that the process can exit) */
export function closeAllHosts(): void {
  for (const host of live) host.close();
}

export class PythonHost {
  private readonly lanes = new Map<LaneName, Lane>();
  private readonly recentOutput: string[] = [];
  private closing = false;
  /** parameter versions the child has, so that each request carries only what changed */
  private readonly sentVersions = new Map<string, string>();
  /** what happens when the child dies unasked, besides failing what was pending (see makeFatal) */
  onExit?: (description: string) => void;

  private constructor(readonly kind: HostKind, private readonly child: ChildProcess, lanes: Lane[], private readonly dir: string,
    private readonly logger: Logger, private readonly shared?: SharedFrames) {
    lanes.forEach((lane, i) => this.lanes.set((['main', 'timer', 'read'] as const)[i], lane));
  }

  /** from now on the child's death ends this process: a worker without its payload is a dead worker */
  makeFatal(): void {
    this.onExit = (description) => {
      this.logger.error(description);
      process.stderr.write(`dranspose: ${description}\n`);
      process.exit(70);
    };
  }

  static async start(kind: HostKind, cwd: string, logger: Logger): Promise<PythonHost> {
    const dir = mkdtempSync(join(tmpdir(), 'dranspose-py-'));
    const names: LaneName[] = kind === 'reducer' ? ['main', 'timer', 'read'] : ['main'];
    const lanes = names.map((name) => new Lane(`ipc://${join(dir, name)}`));
    await Promise.all(lanes.map((lane) => lane.bind()));
    const args = ['-m', 'dranspose.host', '--kind', kind, ...names.flatMap((name, i) => ['--lane', `${name}=${lanes[i].endpoint}`])];
    // a reducer's requests carry small results: they stay on the lane
    const { shared, reason } = kind === 'worker' ? SharedFrames.open() : { reason: 'a reducer host' };
    logger.debug(shared ? `event frames go to the Python ${kind} host through shared memory` : `event frames go to the Python ${kind} host over zmq (${reason})`);
    if (shared) args.push('--shared-frames', shared.describe(SHARED_FD));
    let child: ChildProcess;
    try {
      child = spawn(pythonInterpreter(), args, { cwd, env: pythonEnvironment(), stdio: ['pipe', 'pipe', 'pipe', ...shared ? [shared.fd] : []] });
    } finally {
      // the child has its own descriptor now; the mapping here stays
      if (shared) closeSync(shared.fd);
    }
    const host = new PythonHost(kind, child, lanes, dir, logger, shared);
    live.add(host);
    host.watch();
    return host;
  }

  get pid(): number | undefined { return this.child.pid; }

  /**
   * one request; `parameters` rides along when its versions changed since the child last saw them,
   * `frames` in a shared slot when one is free and they fit it
   */
  async call(lane: LaneName, header: Record<string, unknown>, parameters?: Parameters, frames: Buffer[] = []): Promise<HostReply> {
    const target = this.lanes.get(lane);
    if (!target) throw new Error(`the ${this.kind} host has no ${lane} lane`);
    if (this.closing || this.child.exitCode !== null) throw new PythonError(`the Python ${this.kind} host has stopped`);
    const values: Buffer[] = [];
    if (parameters) {
      const changed: [string, string][] = [];
      for (const [name, parameter] of Object.entries(parameters)) {
        if (this.sentVersions.get(name) === parameter.version) continue;
        changed.push([name, parameter.version]);
        values.push(parameter.data);
        this.sentVersions.set(name, parameter.version);
      }
      const dropped = [...this.sentVersions.keys()].filter((name) => !(name in parameters));
      for (const name of dropped) this.sentVersions.delete(name);
      if (changed.length) header = { ...header, params: changed };
      if (dropped.length) header = { ...header, dropped };
    }
    const placed = frames.length ? this.shared?.place(frames) : undefined;
    if (placed) {
      header = { ...header, shared: placed };
      frames = [];
    }
    const reply = await target.request([Buffer.from(JSON.stringify(header)), ...values, ...frames]);
    // failed events free their slots too
    this.shared?.release(reply.header.freed);
    if (typeof reply.header.error === 'string') throw new PythonError(reply.header.error);
    return reply;
  }

  /** stops the child: closing its standard input runs the payload's close(context) there */
  close(): void {
    live.delete(this);
    this.closing = true;
    this.child.stdin?.end();
    for (const lane of this.lanes.values()) lane.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private watch(): void {
    const { child } = this;
    child.stdin!.on('error', () => undefined);
    this.forwardLines(child.stdout!, 'info');
    this.forwardLines(child.stderr!, 'info');
    const died = (description: string) => {
      const error = new PythonError(description);
      for (const lane of this.lanes.values()) lane.failAll(error);
      if (!this.closing) {
        this.close();
        this.onExit?.(description);
      }
    };
    child.on('error', (error) => died(`cannot start ${pythonInterpreter()} for the Python ${this.kind} host: ${error.message}`));
    child.on('exit', (code, signal) => {
      const last = this.recentOutput.filter((line) => line.trim()).slice(-5).join(' | ');
      died(`the Python ${this.kind} host (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}${last ? `: ${last}` : ''}`);
    });
  }

  private forwardLines(stream: NodeJS.ReadableStream, level: 'info'): void {
    let current: 'error' | 'warn' | 'info' | 'debug' = level;
    createInterface({ input: stream }).on('line', (line) => {
      const match = /^(CRITICAL|ERROR|WARNING|INFO|DEBUG):/.exec(line);
      // a traceback's following lines keep the level of the line that started it
      if (match) current = LEVELS[match[1]];
      this.logger.log(current, `python: ${line}`);
      this.recentOutput.push(line);
      if (this.recentOutput.length > STDERR_KEPT) this.recentOutput.shift();
    });
  }
}
