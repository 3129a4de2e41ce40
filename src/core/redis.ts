/** Redis connection and the key names of one pipeline: every key lives under its own prefix. */
import { Redis } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function redisUrl(): string {
  return process.env.DRANSPOSE_REDIS_URL ?? DEFAULT_REDIS_URL;
}

export function connectRedis(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false });
}

/** A connection of its own for XREAD BLOCK: never auto-pipelined with other commands. */
export function blockingConnection(redis: Redis): Redis {
  return redis.duplicate({ enableAutoPipelining: false });
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
  const result = await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, after) as [string, [string, string[]][]][] | null;
  return (result?.[0]?.[1] ?? []).map(([id, fields]) => ({ id, fields }));
}

/** Key names under `dranspose:<pipeline>:` (design.md §3); nothing here ever scans the keyspace. */
export class Keys {
  readonly prefix: string;

  constructor(pipeline: string, prefix?: string) {
    this.prefix = prefix ?? `dranspose:${pipeline}:`;
  }

  /** hash: `<kind>:<name>` → component state JSON with a `seen` timestamp (liveness) */
  get components(): string { return `${this.prefix}components`; }
  /** stream: controller → every component (scan started, parameters changed, scan finished) */
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
  /** stream: controller → ingesters, batches of assignments of one scan */
  assignments(scan: string): string { return `${this.prefix}assigned:${scan}`; }
  /** stream: components → controller, readiness, completions, result counts, finished */
  reports(scan: string): string { return `${this.prefix}reports:${scan}`; }
}
