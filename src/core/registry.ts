/** Who is alive: every component refreshes its entry in the `components` hash; stale ones are gone. */
import type { Redis } from 'ioredis';
import type { Keys } from './redis.js';

export const DEFAULT_LIVENESS_MS = 5000;

export interface ComponentEntry {
  kind: string;
  name: string;
  service_uuid: string;
  seen: number;
  mapping_uuid: string | null;
  parameters_hash: string | null;
  processed_events: number;
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
  /** fields of entries that stopped refreshing */
  stale: string[];
}

/** every live component: ingesters, workers, then the reducer if any */
export function ensembleEntries(e: Ensemble): ComponentEntry[] {
  return [...e.ingesters, ...e.workers, ...(e.reducer ? [e.reducer] : [])];
}

export async function readEnsemble(redis: Redis, keys: Keys, livenessMs = DEFAULT_LIVENESS_MS): Promise<Ensemble> {
  const all = await redis.hgetall(keys.components);
  const now = Date.now();
  const ensemble: Ensemble = { ingesters: [], workers: [], reducer: null, stale: [] };
  for (const [field, raw] of Object.entries(all)) {
    let entry: ComponentEntry;
    try {
      entry = { ...JSON.parse(raw), kind: field.slice(0, field.indexOf(':')) };
    } catch {
      ensemble.stale.push(field);
      continue;
    }
    if (now - entry.seen > livenessMs) ensemble.stale.push(field);
    else if (entry.kind === 'ingester') ensemble.ingesters.push(entry);
    else if (entry.kind === 'worker') ensemble.workers.push(entry);
    else if (entry.kind === 'reducer') ensemble.reducer = entry;
  }
  for (const list of [ensemble.ingesters, ensemble.workers]) list.sort((a, b) => a.name.localeCompare(b.name));
  return ensemble;
}
