/**
 * The controller: holds the trigger map, parameters and the running scan; knows which parts are
 * alive from their heartbeats; tells the components about scans, parameters, fences and the end of
 * a scan.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { blockingConnection, connectRedis, Keys, redisHealth, redisUrl, within } from '../core/redis.js';
import { createLogger } from '../core/logging.js';
import { shipLogsTo } from '../core/log-shipper.js';
import { checkAdmission, TriggerSequence } from '../core/mapping/index.js';
import { streamEnds } from '../core/mapping/stream-ends.js';
import { currentSchema, type ControllerUpdate, type CurrentState } from '../core/messages.js';
import {
  DUMP_PREFIX, ParameterValueError, defaultBytes, newVersion, parameterDescriptionSchema, parametersHash, parseParameter,
} from '../core/parameters.js';
import { EMPTY_ENSEMBLE, ensembleEntries, ensembleOf, readRegistry, type Ensemble } from '../core/registry.js';
import { valueField } from '../core/component.js';
import type { ParameterDescription } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { HttpError } from '../core/http/errors.js';
import { checkDumpPrefix } from '../core/dump-path.js';
import { ScanHistory } from './history.js';
import { DEFAULT_CREDIT, DEFAULT_CREDIT_BYTES } from '../core/defaults.js';
import { LivenessMonitor, type Death } from './liveness.js';
import { Scan, type ScanOptions, type ScanPort, type ScanProgress } from './scan/scan.js';

export interface ControllerOptions {
  pipeline: string;
  redisUrl?: string;
  keyPrefix?: string;
  /** events a worker may hold unfinished */
  credit?: number;
  /** bytes those events may add up to */
  creditBytes?: number;
  /** heartbeat silence after which a part is taken as dead */
  livenessMs?: number;
  admissionMs?: number;
  /** how long a part that ended may take to come back before its share of a scan is given up */
  graceMs?: number;
  /** the only directory dump_prefix may name; none: dump_prefix must stay empty */
  dumpDirectory?: string;
}

export interface WorkerScaler {
  readonly workerCount: number;
  setWorkerCount(count: number): void;
  /** each supervised part: whether it runs, its restarts and why it last ended */
  state(): Record<string, { running: boolean; restarts: number; last_failure?: string }>;
}

/** every parameter the components describe, and dump_prefix, by name; a malformed description is left out */
function mergeComponentDescriptions(ensemble: Ensemble): ParameterDescription[] {
  const merged = new Map<string, ParameterDescription>([[DUMP_PREFIX.name, DUMP_PREFIX]]);
  for (const entry of ensembleEntries(ensemble)) {
    for (const raw of entry.parameter_descriptions ?? []) {
      const parsed = parameterDescriptionSchema.safeParse(raw);
      if (parsed.success) merged.set(parsed.data.name, parsed.data as ParameterDescription);
    }
  }
  return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A request the controller refuses; the HTTP layer turns it into a 4xx with `detail`. */
export class RequestError extends HttpError {}

const LOCK_TTL_MS = 10_000;
const LOCK_REFRESH_MS = 3_000;
const REGISTRY_MS = 250;
const DEFAULTS_MS = 1_000;
const DEFAULT_LIVENESS_MS = 5_000;
const DEFAULT_GRACE_MS = 30_000;
/** how long a request waits for Redis before it is answered 503 */
const REDIS_REQUEST_MS = 5_000;
/** keys of a finished scan stay this long, for a look after the fact */
const FINISHED_SCAN_TTL_MS = 10 * 60_000;

export class Controller {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly logger = createLogger('controller');
  /** resolves with a reason when this controller must not go on (another took its lock) */
  readonly ended: Promise<string>;
  private end!: (reason: string) => void;
  private readonly lockValue = randomUUID();
  private readonly liveness: LivenessMonitor;
  /** instances declared dead: if one beats again it is told to stop */
  private readonly buried = new Set<string>();
  private versions: Record<string, string> = {};
  private hash = parametersHash({});
  private ensemble: Ensemble = EMPTY_ENSEMBLE;
  private mergedDescriptions: ParameterDescription[] = [DUMP_PREFIX];
  private timers: NodeJS.Timeout[] = [];
  scan: Scan | null = null;
  /** the last trigger map posted (GET /api/v1/sequence) */
  private lastSequence: TriggerSequence | null = null;
  private changingScan: Promise<unknown> = Promise.resolve();
  readonly history = new ScanHistory();
  /** present in single-host mode (`dranspose run`): starts or stops worker processes */
  workerScaler?: WorkerScaler;

  constructor(private readonly options: ControllerOptions) {
    this.keys = new Keys(options.pipeline, options.keyPrefix);
    this.redis = connectRedis(options.redisUrl);
    this.liveness = new LivenessMonitor(options.livenessMs ?? DEFAULT_LIVENESS_MS);
    this.ended = new Promise((resolve) => { this.end = resolve; });
  }

  /** Redis cannot be reached now: requests that change state are refused with this reason */
  get redisProblem(): string | undefined {
    const health = redisHealth(this.options.redisUrl ?? redisUrl());
    return health.down ? health.problem : undefined;
  }

  async start(): Promise<void> {
    await this.acquireLock();
    shipLogsTo(this.redis, this.keys.logs);
    this.versions = await this.redis.hgetall(this.keys.parameterVersions);
    this.hash = parametersHash(this.versions);
    const sequence = await this.redis.get(this.keys.sequence);
    try {
      if (sequence) this.lastSequence = TriggerSequence.fromCompact(JSON.parse(sequence));
    } catch (error) {
      this.logger.warn(`the stored trigger map cannot be read, GET /api/v1/sequence starts empty: ${error}`);
    }
    await this.refreshRegistry();
    await this.resumeRunningScan();
    await this.announce({ type: 'parameters', versions: this.versions, hash: this.hash });
    this.timers.push(
      setInterval(() => { this.refreshRegistry().catch(() => undefined); }, REGISTRY_MS),
      setInterval(() => { this.materializeDefaults().catch(() => undefined); }, DEFAULTS_MS),
      setInterval(() => { this.refreshLock().catch(() => undefined); }, LOCK_REFRESH_MS),
    );
    this.logger.info(`controller of pipeline ${this.options.pipeline} running (keys under ${this.keys.prefix})`);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.scan?.stop();
    await within(1000, this.redis.releaseLock(this.keys.controllerLock, this.lockValue).catch(() => undefined));
    this.redis.disconnect();
  }

  private async acquireLock(): Promise<void> {
    let waiting = false;
    for (;;) {
      try {
        if (await this.redis.set(this.keys.controllerLock, this.lockValue, 'PX', LOCK_TTL_MS, 'NX')) return;
        if (!waiting) this.logger.warn(`another controller holds the lock of pipeline ${this.options.pipeline} (${this.keys.controllerLock}); waiting for it to go`);
      } catch (error) {
        if (!waiting) this.logger.warn(`cannot take the controller lock yet (${(error as Error).message}); retrying`);
      }
      waiting = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async refreshLock(): Promise<void> {
    if (await this.redis.refreshLock(this.keys.controllerLock, this.lockValue, LOCK_TTL_MS)) return;
    // expired (a long Redis outage): take it again, unless another controller has
    if (await this.redis.set(this.keys.controllerLock, this.lockValue, 'PX', LOCK_TTL_MS, 'NX')) return;
    const reason = 'another controller took the lock of this pipeline; this one stops';
    this.logger.error(reason);
    this.end(reason);
  }

  /** resolves once every one of these parts (`kind:name`) is registered and beating, or rejects naming those that are not */
  async waitForParts(fields: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.refreshRegistry();
      const present = new Set(ensembleEntries(this.ensemble).map((e) => `${e.kind}:${e.name}`));
      const missing = fields.filter((f) => !present.has(f));
      if (!missing.length) return;
      if (Date.now() > deadline) throw new Error(`${missing.join(', ')} did not register within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** who is alive: the heartbeats judged, the ended parts handled and their entries removed */
  private async refreshRegistry(): Promise<void> {
    const snapshot = await readRegistry(this.redis, this.keys);
    const deaths = this.liveness.observe(Date.now(), snapshot.alive);
    for (const death of deaths) await this.partEnded(death);
    for (const [field, beat] of Object.entries(snapshot.alive)) {
      const instance = beat.split(' ', 1)[0];
      if (this.buried.has(instance)) await this.dismiss(field, instance);
    }
    this.ensemble = ensembleOf(snapshot, (field, entry) => this.liveness.instanceOf(field) === entry.service_uuid && !this.buried.has(entry.service_uuid));
    this.mergedDescriptions = mergeComponentDescriptions(this.ensemble);
  }

  /** A part's process exited under the supervisor: the same as its heartbeat stopping, but known at once. */
  async partExited(field: string): Promise<void> {
    const instance = this.liveness.instanceOf(field);
    if (!instance) return;
    const processing = this.liveness.forget(field, instance);
    await this.partEnded({ field, instance, how: 'exited', processing });
  }

  private async partEnded(death: Death): Promise<void> {
    if (this.buried.has(death.instance)) return;
    this.buried.add(death.instance);
    if (death.how !== 'left') this.logger.warn(`${death.field.replace(':', ' ')} ${death.how === 'silent' ? 'stopped beating' : death.how}`);
    this.scan?.partEnded(death.field, death.instance, death.how === 'silent' ? 'stopped beating' : death.how, death.processing);
    await this.redis.removeComponent(this.keys.components, this.keys.alive, death.field, death.instance);
  }

  /** a part declared dead that beats again: it is told to stop (its work went elsewhere) */
  private async dismiss(field: string, instance: string): Promise<void> {
    await this.redis.removeComponent(this.keys.components, this.keys.alive, field, instance);
    if (this.scan && !this.scan.isFinishSent) await this.announce({ type: 'fence', scan: this.scan.id, instances: [`${field}/${instance}`] });
  }

  get components(): Ensemble { return this.ensemble; }
  get pipeline(): string { return this.options.pipeline; }

  /** streams every worker can receive: served by a live ingester */
  availableStreams(): string[] {
    return [...new Set(this.ensemble.ingesters.flatMap((i) => i.streams ?? []))].sort();
  }

  /**
   * Tells every component: the update on the updates stream, and the state it leads to in `current`
   * for components that join later, written together (with whatever `tx` already holds).
   */
  private async announce(update: ControllerUpdate, tx: ChainableCommander = this.redis.multi()): Promise<void> {
    const scan = this.scan;
    const current: CurrentState = {
      scan: scan ? { scan: scan.id, streams: scan.sequence.streams, totalEvents: scan.sequence.totalEvents, token: scan.token, streamEnds: streamEnds(scan.sequence) } : null,
      finished: scan?.isFinishSent ?? false,
      versions: this.versions,
      hash: this.hash,
    };
    await this.redisWork(tx.set(this.keys.current, JSON.stringify(current))
      .xadd(this.keys.updates, 'MAXLEN', '~', '1000', '*', 'd', JSON.stringify(update))
      .exec());
  }

  // ---- scans -------------------------------------------------------------------------------

  /** Starts a scan with this trigger map; resolves with its id once the components adopted it. */
  async setSequence(sequence: TriggerSequence): Promise<string> {
    const next = this.changingScan.then(() => this.startScan(sequence));
    this.changingScan = next.catch(() => undefined);
    return await next;
  }

  /** a scan that an earlier controller left running is driven to its end */
  private async resumeRunningScan(): Promise<void> {
    const raw = await this.redis.get(this.keys.current);
    const current = raw ? currentSchema.safeParse(JSON.parse(raw)) : undefined;
    const scan = current?.success ? current.data.scan : null;
    if (!scan || current!.data!.finished) return;
    const sequence = this.lastSequence;
    if (!sequence) {
      this.logger.error(`scan ${scan.scan} was running, but its trigger map cannot be read back; it is left`);
      return;
    }
    this.scan = await Scan.resume({ id: scan.scan, token: scan.token, sequence }, this.ensemble, this.scanPort(), this.scanOptions());
  }

  private scanPort(): ScanPort {
    return {
      redis: this.redis, keys: this.keys, logger: this.logger,
      ensemble: () => this.ensemble,
      announce: (update) => this.announce(update),
      blockingConnection: () => blockingConnection(this.redis),
      finished: (s) => this.scanFinished(s),
    };
  }

  private scanOptions(): ScanOptions {
    return {
      credit: this.options.credit ?? DEFAULT_CREDIT, creditBytes: this.options.creditBytes ?? DEFAULT_CREDIT_BYTES,
      admissionMs: this.options.admissionMs ?? 10_000, graceMs: this.options.graceMs ?? DEFAULT_GRACE_MS,
    };
  }

  private async startScan(sequence: TriggerSequence): Promise<string> {
    this.assertRedis();
    await this.refreshRegistry();
    const problem = checkAdmission(sequence, {
      streams: this.availableStreams(),
      workers: this.ensemble.workers.map((w) => ({ name: w.name, tags: w.tags ?? ['generic'] })),
    });
    if (problem) throw new RequestError(400, problem);
    if (!this.ensemble.reducer) throw new RequestError(400, 'no reducer available');
    const previous = this.scan;
    await previous?.stop();
    const id = randomUUID();
    const scan = new Scan({ id, token: randomBytes(16).toString('hex'), sequence }, this.ensemble, this.scanPort(), this.scanOptions());
    this.scan = scan;
    this.lastSequence = sequence;
    this.history.started(scan);
    const tx = this.redis.multi().set(this.keys.sequence, sequence.compactJson());
    // the previous scan's keys go now: a scan keeps nothing in Redis beyond the next one
    if (previous) tx.del(...this.keys.scanKeys(previous.id));
    await this.announce({ type: 'scan', scan: id, streams: sequence.streams, totalEvents: sequence.totalEvents, token: scan.token, streamEnds: streamEnds(sequence) }, tx);
    const missing = await scan.waitForAdmission();
    if (missing.length) this.logger.warn(`scan ${id} started without ${missing.join(', ')} (they did not adopt it in time)`);
    this.logger.info(`scan ${id}: ${sequence.totalEvents} events over streams ${sequence.streams.join(', ')}`);
    return id;
  }

  private scanFinished(scan: Scan): void {
    this.history.finished(scan);
    const p = scan.progress();
    const how = p.outcome === 'complete' ? 'complete' : `${p.outcome.replaceAll('_', ' ')}${scan.accounting.endReason ? ` (${scan.accounting.endReason})` : ''}`;
    const line = `scan ${scan.id} ${how}: ${p.completed_events} of ${p.total_events} events completed, ${p.failed_events} failed, `
      + `${p.lost_events} lost, ${p.missing_frames} missing frames, ${p.bad_frames} bad frames`;
    if (p.outcome === 'complete') this.logger.info(line);
    else this.logger.warn(line);
    const pipeline = this.redis.pipeline();
    for (const key of this.keys.scanKeys(scan.id)) pipeline.pexpire(key, FINISHED_SCAN_TTL_MS);
    pipeline.exec().catch(() => undefined);
  }

  async stopScan(): Promise<void> {
    this.assertRedis();
    await this.scan?.stopNow();
  }

  get sequence(): TriggerSequence | null { return this.lastSequence; }

  progress(): ScanProgress {
    return this.scan?.progress() ?? {
      last_assigned: 0, completed_events: 0, failed_events: 0, lost_events: 0, missing_frames: 0, bad_frames: 0,
      total_events: 0, finished: false, outcome: 'running',
    };
  }

  // ---- parameters --------------------------------------------------------------------------

  get parametersHash(): string { return this.hash; }
  /** one parameter's current version (undefined: never set), without copying them all */
  parameterVersion(name: string): string | undefined { return this.versions[name]; }

  /** every parameter the running components describe, by name (kept with the ensemble) */
  descriptions(): ParameterDescription[] {
    return this.mergedDescriptions;
  }

  async getParameter(name: string): Promise<Buffer | null> {
    const version = this.versions[name];
    if (!version) return null;
    return await this.redisWork(this.redis.hgetBuffer(this.keys.parameterValues, valueField(name, version)));
  }

  /** Stores a new value (checked against its description), tells every component; returns the new hash. */
  async setParameter(name: string, data: Buffer): Promise<string> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RequestError(400, `parameter names are identifiers, got ${JSON.stringify(name)}`);
    if (name === DUMP_PREFIX.name) checkDumpPrefix(this.options.dumpDirectory, data.toString('utf8'));
    this.assertRedis();
    const description = this.descriptions().find((d) => d.name === name);
    if (description) {
      try {
        parseParameter(description.dtype, data);
      } catch (error) {
        if (error instanceof ParameterValueError) throw new RequestError(400, `parameter ${name} (${description.dtype}): ${error.message}`);
        throw error;
      }
    }
    await this.storeParameters([[name, data]]);
    this.logger.info(`parameter ${name} set (${data.length} bytes)`);
    return this.hash;
  }

  private assertRedis(): void {
    const problem = this.redisProblem;
    if (problem) throw new HttpError(503, problem);
  }

  /** Redis work a request waits for, bounded: a Redis that stalls gives a 503, not a hanging request */
  private async redisWork<T>(work: Promise<T>): Promise<T> {
    const done = await within(REDIS_REQUEST_MS, work.then((value) => ({ value })));
    if (!done) throw new HttpError(503, this.redisProblem ?? `Redis did not answer within ${REDIS_REQUEST_MS / 1000} s`);
    return done.value;
  }

  /** new versions of these values, written and announced together */
  private async storeParameters(values: [name: string, data: Buffer][]): Promise<void> {
    const tx = this.redis.multi();
    const versions = { ...this.versions };
    for (const [name, data] of values) {
      const previous = versions[name];
      versions[name] = newVersion();
      tx.hset(this.keys.parameterValues, valueField(name, versions[name]), data).hset(this.keys.parameterVersions, name, versions[name]);
      if (previous) tx.hdel(this.keys.parameterValues, valueField(name, previous));
    }
    this.versions = versions;
    this.hash = parametersHash(versions);
    await this.announce({ type: 'parameters', versions: this.versions, hash: this.hash }, tx);
  }

  /** the defaults of parameters described but never set, so every component reads the same values */
  private async materializeDefaults(): Promise<void> {
    const missing = this.descriptions().filter((d) => !(d.name in this.versions) && d.name !== DUMP_PREFIX.name);
    if (missing.length) await this.storeParameters(missing.map((d) => [d.name, defaultBytes(d)]));
  }

  // ---- views -------------------------------------------------------------------------------

  config(): Record<string, unknown> {
    return {
      ingesters: this.ensemble.ingesters,
      workers: this.ensemble.workers,
      reducer: this.ensemble.reducer,
      controller_version: VERSION,
      parameters_version: this.versions,
      parameters_hash: this.hash,
    };
  }

  status(details = false): Record<string, unknown> {
    return {
      ...(this.scan?.status(details) ?? { ...this.progress(), mapping_uuid: null }),
      component_errors: Object.fromEntries(ensembleEntries(this.ensemble).map((c) => [`${c.kind}:${c.name}`, (c.errors as number | undefined) ?? 0])),
      dropped_frames: Object.fromEntries(this.ensemble.ingesters.map((i) => [i.name, i.dropped_frames ?? 0])),
      busy_ms: Object.fromEntries(ensembleEntries(this.ensemble).map((c) => [`${c.kind}:${c.name}`, this.liveness.busyMs(`${c.kind}:${c.name}`)])),
      ...(this.workerScaler ? { supervised: this.workerScaler.state() } : {}),
      ...(this.redisProblem ? { redis: this.redisProblem } : {}),
    };
  }
}
