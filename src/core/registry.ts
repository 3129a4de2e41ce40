/**
 * Who is there: every part writes its state into the `components` hash (main thread, about once a
 * second) and beats in the `alive` hash (its heartbeat thread). The controller judges liveness
 * from the beats (controller/liveness.ts) and removes the entries of parts that ended; every other
 * reader takes a part as present while its beat names the instance its state names.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './redis.js';

export interface ComponentEntry {
  kind: string;
  name: string;
  service_uuid: string;
  mapping_uuid: string | null;
  parameters_hash: string | null;
  processed_events: number;
  errors?: number;
  /** errors since the component adopted the scan of `mapping_uuid` */
  scan_errors?: number;
  url?: string;
  streams?: string[];
  tags?: string[];
  parameter_descriptions?: unknown[];
  [key: string]: unknown;
}

export interface Ensemble {
  ingesters: ComponentEntry[];
  workers: ComponentEntry[];
  reducer: ComponentEntry | null;
}

export const EMPTY_ENSEMBLE: Ensemble = { ingesters: [], workers: [], reducer: null };

/** every live component: ingesters, workers, then the reducer if any */
export function ensembleEntries(e: Ensemble): ComponentEntry[] {
  return [...e.ingesters, ...e.workers, ...(e.reducer ? [e.reducer] : [])];
}

export function fieldOf(entry: ComponentEntry): string {
  return `${entry.kind}:${entry.name}`;
}

/** the instance a beat names (`<instance> <count> <busy ms>`) */
export function beatInstance(beat: string | undefined): string | undefined {
  return beat?.split(' ', 1)[0] || undefined;
}

export interface RegistrySnapshot {
  components: Record<string, string>;
  alive: Record<string, string>;
}

export async function readRegistry(redis: Redis, keys: Keys): Promise<RegistrySnapshot> {
  const [components, alive] = await Promise.all([redis.hgetall(keys.components), redis.hgetall(keys.alive)]);
  return { components, alive };
}

/** the entries `isLive` accepts, sorted by name; malformed entries are left out */
export function ensembleOf(snapshot: RegistrySnapshot, isLive: (field: string, entry: ComponentEntry) => boolean): Ensemble {
  const ensemble: Ensemble = { ingesters: [], workers: [], reducer: null };
  for (const [field, raw] of Object.entries(snapshot.components)) {
    let entry: ComponentEntry;
    try {
      entry = { ...JSON.parse(raw), kind: field.slice(0, field.indexOf(':')) };
    } catch {
      continue;
    }
    if (typeof entry.service_uuid !== 'string' || !isLive(field, entry)) continue;
    if (entry.kind === 'ingester') ensemble.ingesters.push(entry);
    else if (entry.kind === 'worker') ensemble.workers.push(entry);
    else if (entry.kind === 'reducer') ensemble.reducer = entry;
  }
  for (const list of [ensemble.ingesters, ensemble.workers]) list.sort((a, b) => a.name.localeCompare(b.name));
  return ensemble;
}

/** the parts present as a part sees them: those whose beat names the instance of their state */
export async function readEnsemble(redis: Redis, keys: Keys): Promise<Ensemble> {
  const snapshot = await readRegistry(redis, keys);
  return ensembleOf(snapshot, (field, entry) => beatInstance(snapshot.alive[field]) === entry.service_uuid);
}
