/** Redis connections, their health, the atomic updates (Lua) and the key names of one pipeline. */
import { Redis, type Result } from 'ioredis';
import type { Logger } from 'winston';
import { rootLogger } from './logging.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function redisUrl(): string {
  return process.env.DRANSPOSE_REDIS_URL ?? DEFAULT_REDIS_URL;
}

/**
 * Whether this process can reach Redis, from the events of all its connections: one log line when
 * it goes, one when it is back (ioredis alone printed a stack trace per connection and retry).
 */
export class RedisHealth {
  private unreachable = new Set<Redis>();
  private reason = '';

  constructor(private readonly url: string, private readonly logger: Logger) {}

  get down(): boolean { return this.unreachable.size > 0; }

  /** why Redis is unreachable, for a 503 */
  get problem(): string { return `Redis at ${safeUrl(this.url)} is unreachable: ${this.reason}`; }

  watch(connection: Redis): Redis {
    // 'reconnecting' comes only for connections that will retry, not for those closed on purpose
    connection.on('error', (error: Error) => this.lost(connection, error.message));
    connection.on('reconnecting', () => this.lost(connection, 'connection lost'));
    connection.on('ready', () => this.back(connection));
    connection.on('end', () => this.back(connection, false));
    return connection;
  }

  private lost(connection: Redis, reason: string): void {
    if (connection.status === 'end' || this.unreachable.has(connection)) return;
    const first = this.unreachable.size === 0;
    this.unreachable.add(connection);
    this.reason = reason;
    if (first) this.logger.warn(`Redis at ${safeUrl(this.url)} is unreachable (${reason}); retrying`);
  }

  private back(connection: Redis, log = true): void {
    if (!this.unreachable.delete(connection) || this.unreachable.size) return;
    if (log) this.logger.info(`Redis at ${safeUrl(this.url)} is reachable again`);
  }
}

/** a URL without its password, for logs and error messages */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

const healthByUrl = new Map<string, RedisHealth>();

/** the health of this process's connections to `url` */
export function redisHealth(url = redisUrl()): RedisHealth {
  let health = healthByUrl.get(url);
  if (!health) healthByUrl.set(url, health = new RedisHealth(url, rootLogger));
  return health;
}

/**
 * Atomic updates: each checks and changes in one step what a GET-then-SET would race on
 * (another controller taking the lock, a part restarting while its entry is removed).
 */
const SCRIPTS = {
  /** renews the lock only if this controller still holds it: 1, else 0 */
  refreshLock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`,
  },
  /** releases the lock only if this controller holds it */
  releaseLock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  },
  /** removes a part's registry entries (components, alive) if they still belong to that instance */
  removeComponent: {
    numberOfKeys: 2,
    lua: `
      local removed = 0
      local beat = redis.call('HGET', KEYS[2], ARGV[1])
      if beat and string.sub(beat, 1, #ARGV[2] + 1) == ARGV[2] .. ' ' then
        redis.call('HDEL', KEYS[2], ARGV[1]); removed = removed + 1
      end
      local state = redis.call('HGET', KEYS[1], ARGV[1])
      if state then
        local ok, decoded = pcall(cjson.decode, state)
        if (not ok) or decoded.service_uuid == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]); removed = removed + 1 end
      end
      return removed`,
  },
} as const;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    refreshLock(key: string, value: string, ttlMs: number): Result<number, Context>;
    releaseLock(key: string, value: string): Result<number, Context>;
    removeComponent(componentsKey: string, aliveKey: string, field: string, instance: string): Result<number, Context>;
  }
}

export function connectRedis(url = redisUrl()): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false });
  for (const [name, script] of Object.entries(SCRIPTS)) connection.defineCommand(name, script);
  return redisHealth(url).watch(connection);
}

/** A connection of its own for XREAD BLOCK: never auto-pipelined with other commands. */
export function blockingConnection(redis: Redis): Redis {
  const connection = redis.duplicate({ enableAutoPipelining: false });
  return redisHealth(urlOf(redis)).watch(connection);
}

function urlOf(redis: Redis): string {
  const { host, port, db, password, username, tls } = redis.options;
  const auth = password ? `${username ? encodeURIComponent(username) : ''}:${encodeURIComponent(password)}@` : '';
  return healthKeyFor(`${tls ? 'rediss' : 'redis'}://${auth}${host}:${port}/${db ?? 0}`);
}

/** connections made from the same URL share one health record, however the URL was written */
function healthKeyFor(normalised: string): string {
  for (const url of healthByUrl.keys()) {
    try {
      const u = new URL(url);
      const n = new URL(normalised);
      if (u.hostname === n.hostname && Number(u.port || 6379) === Number(n.port || 6379)) return url;
    } catch { /* a URL that does not parse matches nothing */ }
  }
  return normalised;
}

/** a promise that gives up after `ms`: for shutdown paths that must not wait on a Redis that is gone */
export async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StreamEntry {
  id: string;
  /** the entry's field-value list as Redis stores it: [field, value, field, value, …] */
  fields: string[];
}

/**
 * One XREAD BLOCK on a single stream: up to `count` entries after `after`, in order, or none when
 * `blockMs` passed without one. Errors are the caller's to handle (each follower retries its own way).
 */
export async function readStream(connection: Redis, key: string, after: string,
  { blockMs, count = 1000 }: { blockMs: number; count?: number }): Promise<StreamEntry[]> {
  // BLOCK 0 would wait for ever: 0 means do not wait
  const result = await (blockMs > 0
    ? connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, after)
    : connection.xread('COUNT', count, 'STREAMS', key, after)) as [string, [string, string[]][]][] | null;
  return (result?.[0]?.[1] ?? []).map(([id, fields]) => ({ id, fields }));
}

/** Key names under `dranspose:<pipeline>:` (design.md §3); nothing here ever scans the keyspace. */
export class Keys {
  readonly prefix: string;

  constructor(pipeline: string, prefix?: string) {
    this.prefix = prefix ?? `dranspose:${pipeline}:`;
  }

  /** hash: `<kind>:<name>` → component state JSON (what it is, its counters) */
  get components(): string { return `${this.prefix}components`; }
  /** hash: `<kind>:<name>` → `<instance> <beat count> <busy ms>`, written by each part's heartbeat thread (liveness) */
  get alive(): string { return `${this.prefix}alive`; }
  /** stream: controller → every component (scan started, parameters changed, fences, scan finished) */
  get updates(): string { return `${this.prefix}updates`; }
  /** string: the controller's current scan and parameter versions, for components that join late */
  get current(): string { return `${this.prefix}current`; }
  /** string: the last trigger map posted (GET /api/v1/sequence after a controller restart) */
  get sequence(): string { return `${this.prefix}sequence`; }
  /** hash: parameter name → value bytes */
  get parameterValues(): string { return `${this.prefix}parameters`; }
  /** hash: parameter name → version id */
  get parameterVersions(): string { return `${this.prefix}parameters:versions`; }
  /** stream: log records of every component */
  get logs(): string { return `${this.prefix}logs`; }
  /** string: held by the running controller */
  get controllerLock(): string { return `${this.prefix}controller:lock`; }
  /** list: the scans this controller ran, newest last (id, times, counts, outcome) */
  get history(): string { return `${this.prefix}history`; }
  /** stream: controller → ingesters, the assignments, reassignments and completions of one scan */
  assignments(scan: string): string { return `${this.prefix}assigned:${scan}`; }
  /** stream: components → controller, readiness, completions, result counts, finished */
  reports(scan: string): string { return `${this.prefix}reports:${scan}`; }
  /** string: the controller's checkpoint of a running scan, for a controller that restarts */
  checkpoint(scan: string): string { return `${this.prefix}checkpoint:${scan}`; }
  /** hash: ingester → where its streams stand in a scan (a restarted ingester resumes there) */
  positions(scan: string): string { return `${this.prefix}positions:${scan}`; }
  /** every key a scan leaves behind, deleted when the next scan starts or the scan's expiry passes */
  scanKeys(scan: string): string[] {
    return [this.assignments(scan), this.reports(scan), this.checkpoint(scan), this.positions(scan)];
  }
}
