/** Controller-side checks before a new trigger map is accepted (reference/core.md §4.7, extended). */
import { pyList, pySet } from './pyrepr.js';
import type { TriggerSequence } from './sequence.js';

export interface WorkerSlot {
  name: string;
  tags: string[];
}

export interface AvailableResources {
  /** streams every registered worker can receive */
  streams: string[];
  workers: WorkerSlot[];
}

/** null when the map can run on what is available, else the 400 detail saying why not. */
export function checkAdmission(seq: TriggerSequence, available: AvailableResources): string | null {
  const availableStreams = new Set(available.streams);
  const missing = seq.streams.filter((stream) => !availableStreams.has(stream));
  if (missing.length > 0) return `streams ${pySet(missing)} not available`;

  const required = seq.minWorkers();
  if (available.workers.length < required) {
    return `only ${available.workers.length} workers available, but ${required} required`;
  }

  const workerTags = available.workers.map((worker) => new Set(worker.tags));
  for (const tags of seq.requiredTags()) {
    if (!workerTags.some((has) => tags.every((tag) => has.has(tag)))) return `no worker with tags ${pyList(tags)} available`;
  }
  return null;
}
