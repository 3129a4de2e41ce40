/**
 * What every distributed part (ingester, worker, reducer) shares: registration and a heartbeat in
 * Redis, the controller's update stream, parameter sync, scan adoption and reports.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { blockingConnection, connectRedis, Keys, readStream, redisHealth, redisUrl, within, type StreamEntry } from './redis.js';
import { createLogger } from './logging.js';
import { shipLogsTo } from './log-shipper.js';
import { Heartbeat } from './liveness/heartbeat.js';
import { currentSchema, updateSchema, type ControllerUpdate, type Report, type ScanInfo } from './messages.js';
import { parametersHash, workParameter } from './parameters.js';
import type { ParameterDescription, Parameters, WorkerContext } from './types.js';
import { VERSION } from './version.js';

export type ComponentKind = 'ingester' | 'worker' | 'reducer';

export interface ComponentOptions {
  pipeline: string;
  redisUrl?: string;
  keyPrefix?: string;
  /** how often the heartbeat thread beats; the controller judges liveness from these beats */
  heartbeatMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 500;
/** the state in the registry (what the part is, its counters) is refreshed this often */
const STATE_MS = 1000;
/** shutdown does not wait longer than this on a Redis that is gone */
const STOP_REDIS_MS = 1000;

export function valueField(name: string, version: string): string {
  return `${name}@${version}`;
}

/** how a scan reaches a part: announced while it runs, or found running when the part starts (a restart) */
export interface Adoption { resume: boolean }

export abstract class Component {
  readonly redis: Redis;
  /** a second connection: XREAD BLOCK would stall every other command on a shared one */
  private readonly blocking: Redis;
  readonly keys: Keys;
  readonly instanceId = randomUUID();
  readonly logger: Logger;
  /** shared by reference with user code, updated in place */
  readonly parameters: Parameters = {};
  private versions: Record<string, string> = {};
  parametersHash: string | null = null;
  descriptions = new Map<string, ParameterDescription>();
  scan: ScanInfo | null = null;
  processed = 0;
  /** what user code threw and inputs this component refused; shown in /api/v1/config and Tango */
  errors = 0;
  /** `errors` when the current scan was adopted: the scan's own errors are the difference */
  private errorsBeforeScan = 0;
  /** resolves with a reason when this part must end (the controller gave up on it): the CLI exits */
  readonly ended: Promise<string>;
  private end!: (reason: string) => void;
  /** what user classes may keep from one scan to the next (`ctx.state`) */
  private readonly persistent: Record<string, unknown> = {};
  private rate = 0;
  private rateMark = { at: Date.now(), processed: 0 };
  private running = false;
  private heartbeat?: Heartbeat;
  private stateTimer?: NodeJS.Timeout;
  private updatesLoop?: Promise<void>;
  private lastUpdateId = '$';

  protected constructor(readonly kind: ComponentKind, readonly name: string, protected readonly options: ComponentOptions) {
    if (name.includes(':') || name.includes('/') || !/^[\x21-\x7e]+$/.test(name)) {
      throw new Error(`component name ${JSON.stringify(name)} must be printable ASCII without ':' or '/'`);
    }
    this.keys = new Keys(options.pipeline, options.keyPrefix);
    this.redis = connectRedis(options.redisUrl);
    this.blocking = blockingConnection(this.redis);
    this.logger = createLogger(name);
    this.ended = new Promise((resolve) => { this.end = resolve; });
  }

  get field(): string { return `${this.kind}:${this.name}`; }

  /** `name/instance`: how this process is named on the data plane */
  get identity(): string { return `${this.name}/${this.instanceId}`; }

  /** fields of the public state (/api/v1/config) beyond the common ones */
  protected abstract extraState(): Record<string, unknown>;
  protected abstract onScan(scan: ScanInfo, adoption: Adoption): Promise<void>;
  protected abstract onFinish(scan: string): Promise<void>;
  protected onParametersChanged(): void {}
  /** parts (`<kind>:<name>/<instance>`) the controller gave up on (the reducer drops their results) */
  protected onFence(_scan: string, _parts: string[]): Promise<void> | void {}

  async start(): Promise<void> {
    shipLogsTo(this.redis, this.keys.logs);
    this.running = true;
    // read where the stream is now before the current state, so no update falls in between
    const last = await this.redis.xrevrange(this.keys.updates, '+', '-', 'COUNT', 1);
    if (last.length) this.lastUpdateId = last[0][0];
    await this.publishState();
    this.heartbeat = new Heartbeat({
      redisUrl: this.options.redisUrl ?? redisUrl(), key: this.keys.alive, field: this.field, instance: this.instanceId,
      intervalMs: this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    });
    this.stateTimer = setInterval(() => { this.publishState().catch(() => undefined); }, STATE_MS);
    const raw = await this.redis.get(this.keys.current);
    if (raw) {
      const current = currentSchema.safeParse(JSON.parse(raw));
      if (current.success) {
        await this.syncParameters(current.data.versions, current.data.hash);
        if (current.data.scan && !current.data.finished) await this.adoptScan(current.data.scan, { resume: true });
      } else {
        this.logger.warn(`ignoring a malformed current state: ${current.error.message}`);
      }
    }
    this.updatesLoop = this.followUpdates();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.stateTimer);
    this.blocking.disconnect();
    await this.updatesLoop?.catch(() => undefined);
    await this.heartbeat?.stop();
    await within(STOP_REDIS_MS, this.redis.hdel(this.keys.components, this.field).catch(() => undefined));
    this.redis.disconnect();
  }

  /** tells the controller, with every heartbeat, which event user code works on (-1: none) */
  protected processingEvent(event: number): void {
    if (this.heartbeat) this.heartbeat.processing = event;
  }

  /** this part cannot go on (the CLI exits non-zero with the reason, and a supervisor restarts it) */
  protected giveUp(reason: string): void {
    this.logger.error(reason);
    this.end(reason);
  }

  /** counts and logs a failure of user code; the component goes on */
  protected userCodeFailed(what: string, error: unknown): void {
    this.errors += 1;
    this.logger.error(`${what}: ${(error as Error)?.stack ?? error}`);
  }

  /** runs a hook of user code (finish, timer); what it throws is counted and gives undefined */
  protected async callUserCode<T>(what: string, call: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.userCodeFailed(what, error);
      return undefined;
    }
  }

  /** a fresh instance of a user class for a scan; undefined (counted) when its constructor throws */
  protected instantiate<T>(Class: (new (ctx: WorkerContext) => T) | undefined): T | undefined {
    if (!Class) return undefined;
    try {
      return new Class({ parameters: this.parameters, state: this.persistent, logger: this.logger, name: this.name });
    } catch (error) {
      this.userCodeFailed(`constructing ${Class.name} failed`, error);
      return undefined;
    }
  }

  async report(report: Report, scan = this.scan?.scan): Promise<void> {
    if (!scan) return;
    await this.redis.xadd(this.keys.reports(scan), '*', 'd', JSON.stringify(report));
  }

  publicState(): Record<string, unknown> {
    const now = Date.now();
    if (now - this.rateMark.at >= 1000) {
      this.rate = (this.processed - this.rateMark.processed) / ((now - this.rateMark.at) / 1000);
      this.rateMark = { at: now, processed: this.processed };
    }
    return {
      name: this.name, service_uuid: this.instanceId, mapping_uuid: this.scan?.scan ?? null,
      dranspose_version: VERSION, parameters_hash: this.parametersHash, processed_events: this.processed,
      event_rate: this.rate, errors: this.errors, scan_errors: this.errors - this.errorsBeforeScan, parameter_descriptions: [...this.descriptions.values()], seen: now, pid: process.pid,
      ...this.extraState(),
    };
  }

  async publishState(): Promise<void> {
    await this.redis.hset(this.keys.components, this.field, JSON.stringify(this.publicState()));
  }

  private async followUpdates(): Promise<void> {
    while (this.running) {
      let entries: StreamEntry[];
      try {
        entries = await readStream(this.blocking, this.keys.updates, this.lastUpdateId, { blockMs: 1000 });
      } catch (error) {
        // an outage is logged once by the Redis health; anything else is worth a line
        if (this.running && !redisHealth(this.options.redisUrl ?? redisUrl()).down) this.logger.warn(`reading controller updates failed: ${error}`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      // every entry is handled, in order (the original only handled the last of a batch)
      for (const { id, fields } of entries) {
        this.lastUpdateId = id;
        await this.handleUpdate(fields[1]).catch((e) => this.logger.error(`controller update failed: ${e?.stack ?? e}`));
      }
    }
  }

  private async handleUpdate(raw: string): Promise<void> {
    const parsed = updateSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      this.logger.warn(`ignoring malformed controller update: ${parsed.error.message}`);
      return;
    }
    const update: ControllerUpdate = parsed.data;
    switch (update.type) {
      case 'parameters': await this.syncParameters(update.versions, update.hash); break;
      case 'scan': await this.adoptScan(update, { resume: false }); break;
      case 'finish': if (update.scan === this.scan?.scan) await this.onFinish(update.scan); break;
      case 'fence':
        if (update.scan !== this.scan?.scan) break;
        if (update.instances.includes(`${this.field}/${this.instanceId}`)) {
          this.giveUp(`the controller gave up on this ${this.kind} (no heartbeat seen for too long); its events went to others, so it stops`);
          break;
        }
        await this.onFence(update.scan, update.instances);
        break;
    }
  }

  private async adoptScan(scan: ScanInfo, adoption: Adoption): Promise<void> {
    if (this.scan?.scan === scan.scan) return;
    const { scan: id, streams, totalEvents, token, streamEnds } = scan;
    this.scan = { scan: id, streams, totalEvents, token, streamEnds };
    this.errorsBeforeScan = this.errors;
    await this.onScan(this.scan, adoption);
    await this.publishState();
    await this.report({ kind: 'ready', component: this.field, instance: this.instanceId });
  }

  /** Fetches only the parameters whose version changed; drops the ones the controller no longer has. */
  private async syncParameters(versions: Record<string, string>, hash: string): Promise<void> {
    const changed = Object.entries(versions).filter(([name, version]) => this.versions[name] !== version);
    if (changed.length) {
      const values = await this.redis.hmgetBuffer(this.keys.parameterValues, ...changed.map(([n, v]) => valueField(n, v)));
      changed.forEach(([name, version], i) => {
        const data = values[i];
        if (data) this.parameters[name] = workParameter(name, data, version, this.descriptions.get(name));
      });
    }
    for (const name of Object.keys(this.parameters)) if (!(name in versions)) delete this.parameters[name];
    this.versions = Object.fromEntries(Object.entries(this.parameters).map(([n, p]) => [n, p.version]));
    this.parametersHash = parametersHash(this.versions);
    if (this.parametersHash !== hash) this.logger.debug('parameter values moved on while syncing; the next update catches up');
    if (changed.length) this.onParametersChanged();
    await this.publishState();
  }
}
