/**
 * The controller: holds the trigger map, parameters and the running scan; knows the components
 * through the Redis registry; tells them about scans, parameters and the end of a scan.
 */
import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { blockingConnection, connectRedis, Keys } from '../core/redis.js';
import { createLogger } from '../core/logging.js';
import { shipLogsTo } from '../core/log-shipper.js';
import { checkAdmission, TriggerSequence } from '../core/mapping/index.js';
import { type ControllerUpdate, type CurrentState } from '../core/messages.js';
import {
  DUMP_PREFIX, ParameterValueError, defaultBytes, newVersion, parameterDescriptionSchema, parametersHash, parseParameter,
} from '../core/parameters.js';
import { ensembleEntries, readEnsemble, type Ensemble } from '../core/registry.js';
import { valueField } from '../core/component.js';
import type { ParameterDescription } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { HttpError } from '../core/http/errors.js';
import { checkDumpPrefix } from '../core/dump-path.js';
import { Scan } from './scan.js';
import { DEFAULT_CREDIT, DEFAULT_CREDIT_BYTES } from '../core/defaults.js';

export interface ControllerOptions {
  pipeline: string;
  redisUrl?: string;
  keyPrefix?: string;
  /** events a worker may hold unfinished */
  credit?: number;
  /** bytes those events may add up to */
  creditBytes?: number;
  livenessMs?: number;
  admissionMs?: number;
  /** the only directory dump_prefix may name; none: dump_prefix must stay empty */
  dumpDirectory?: string;
}

export interface WorkerScaler {
  readonly workerCount: number;
  setWorkerCount(count: number): void;
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
const ENSEMBLE_REFRESH_MS = 250;
const DEFAULTS_MS = 1_000;

export class Controller {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly logger = createLogger('controller');
  private readonly lockValue = randomUUID();
  private versions: Record<string, string> = {};
  private hash = parametersHash({});
  private ensemble: Ensemble = { ingesters: [], workers: [], reducer: null, stale: [] };
  private mergedDescriptions: ParameterDescription[] = [DUMP_PREFIX];
  private timers: NodeJS.Timeout[] = [];
  scan: Scan | null = null;
  /** the last trigger map posted (GET /api/v1/sequence) */
  private lastSequence: TriggerSequence | null = null;
  private changingScan: Promise<unknown> = Promise.resolve();
  /** present in single-host mode (`dranspose run`): starts or stops worker processes */
  workerScaler?: WorkerScaler;

  constructor(private readonly options: ControllerOptions) {
    this.keys = new Keys(options.pipeline, options.keyPrefix);
    this.redis = connectRedis(options.redisUrl);
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
    await this.refreshEnsemble();
    // components that outlived an earlier controller keep no scan; they see the parameters
    await this.announce({ type: 'parameters', versions: this.versions, hash: this.hash });
    this.timers.push(
      setInterval(() => { this.refreshEnsemble().catch((e) => this.logger.warn(`registry: ${e}`)); }, ENSEMBLE_REFRESH_MS),
      setInterval(() => { this.materializeDefaults().catch((e) => this.logger.warn(`defaults: ${e}`)); }, DEFAULTS_MS),
      setInterval(() => { this.refreshLock().catch((e) => this.logger.error(`lock: ${e}`)); }, LOCK_REFRESH_MS),
    );
    this.logger.info(`controller of pipeline ${this.options.pipeline} running (keys under ${this.keys.prefix})`);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.scan?.stop();
    const lock = await this.redis.get(this.keys.controllerLock);
    if (lock === this.lockValue) await this.redis.del(this.keys.controllerLock);
    this.redis.disconnect();
  }

  private async acquireLock(): Promise<void> {
    for (let attempt = 0; attempt < 30; attempt++) {
      if (await this.redis.set(this.keys.controllerLock, this.lockValue, 'PX', LOCK_TTL_MS, 'NX')) return;
      if (attempt === 0) this.logger.warn('another controller holds the lock of this pipeline; waiting');
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`another controller runs pipeline ${this.options.pipeline} (lock ${this.keys.controllerLock})`);
  }

  private async refreshLock(): Promise<void> {
    const holder = await this.redis.get(this.keys.controllerLock);
    if (holder !== null && holder !== this.lockValue) {
      this.logger.error('the controller lock was taken by another controller');
      return;
    }
    await this.redis.set(this.keys.controllerLock, this.lockValue, 'PX', LOCK_TTL_MS);
  }

  private async refreshEnsemble(): Promise<void> {
    this.ensemble = await readEnsemble(this.redis, this.keys, this.options.livenessMs);
    this.mergedDescriptions = mergeComponentDescriptions(this.ensemble);
    if (this.ensemble.stale.length) await this.redis.hdel(this.keys.components, ...this.ensemble.stale);
  }

  get components(): Ensemble { return this.ensemble; }

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
      scan: scan ? { scan: scan.id, streams: scan.sequence.streams, totalEvents: scan.sequence.totalEvents } : null,
      finished: scan?.isFinishSent ?? false,
      versions: this.versions,
      hash: this.hash,
    };
    await tx.set(this.keys.current, JSON.stringify(current))
      .xadd(this.keys.updates, 'MAXLEN', '~', '1000', '*', 'd', JSON.stringify(update))
      .exec();
  }

  // ---- scans -------------------------------------------------------------------------------

  /** Starts a scan with this trigger map; resolves with its id once the components adopted it. */
  async setSequence(sequence: TriggerSequence): Promise<string> {
    const next = this.changingScan.then(() => this.startScan(sequence));
    this.changingScan = next.catch(() => undefined);
    return await next;
  }

  private async startScan(sequence: TriggerSequence): Promise<string> {
    await this.refreshEnsemble();
    const problem = checkAdmission(sequence, {
      streams: this.availableStreams(),
      workers: this.ensemble.workers.map((w) => ({ name: w.name, tags: w.tags ?? ['generic'] })),
    });
    if (problem) throw new RequestError(400, problem);
    if (!this.ensemble.reducer) throw new RequestError(400, 'no reducer available');
    await this.scan?.stop();
    const id = randomUUID();
    const scan = new Scan(id, sequence, this.ensemble, this.redis, blockingConnection(this.redis), this.keys, this.logger,
      { credit: this.options.credit ?? DEFAULT_CREDIT, creditBytes: this.options.creditBytes ?? DEFAULT_CREDIT_BYTES, admissionMs: this.options.admissionMs ?? 10_000 },
      (s) => this.finishScan(s), () => this.ensemble);
    this.scan = scan;
    this.lastSequence = sequence;
    await this.announce({ type: 'scan', scan: id, streams: sequence.streams, totalEvents: sequence.totalEvents },
      this.redis.multi().set(this.keys.sequence, sequence.compactJson()));
    const missing = await scan.waitForAdmission();
    if (missing.length) this.logger.warn(`scan ${id} started without ${missing.join(', ')} (they did not adopt it in time)`);
    this.logger.info(`scan ${id}: ${sequence.totalEvents} events over streams ${sequence.streams.join(', ')}`);
    return id;
  }

  private async finishScan(scan: Scan): Promise<void> {
    await this.announce({ type: 'finish', scan: scan.id });
    this.logger.info(`scan ${scan.id} complete: ${scan.assigner.completedEvents} of ${scan.sequence.totalEvents} events`);
  }

  async stopScan(): Promise<void> {
    await this.scan?.finish();
  }

  get sequence(): TriggerSequence | null { return this.lastSequence; }

  progress(): { last_assigned: number; completed_events: number; total_events: number; finished: boolean } {
    return this.scan?.progress() ?? { last_assigned: 0, completed_events: 0, total_events: 0, finished: false };
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
    return await this.redis.hgetBuffer(this.keys.parameterValues, valueField(name, version));
  }

  /** Stores a new value (checked against its description), tells every component; returns the new hash. */
  async setParameter(name: string, data: Buffer): Promise<string> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RequestError(400, `parameter names are identifiers, got ${JSON.stringify(name)}`);
    if (name === DUMP_PREFIX.name) checkDumpPrefix(this.options.dumpDirectory, data.toString('utf8'));
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

  status(): Record<string, unknown> {
    return {
      ...(this.scan?.status() ?? { ...this.progress(), mapping_uuid: null }),
      component_errors: Object.fromEntries(ensembleEntries(this.ensemble).map((c) => [`${c.kind}:${c.name}`, (c.errors as number | undefined) ?? 0])),
      dropped_frames: Object.fromEntries(this.ensemble.ingesters.map((i) => [i.name, i.dropped_frames ?? 0])),
    };
  }
}

