/** Worker load from the processing times every completion batch carries (`/api/v1/load`). */
import type { WorkerTimes } from '../core/messages.js';

export interface IntervalLoad { total: number; active: number; events: number }

interface Batch extends WorkerTimes { lastEvent: number }

/** batches kept per worker (between this and twice as many) */
const HISTORY = 2000;

export class WorkerLoad {
  private readonly batches = new Map<string, Batch[]>();
  private readonly scanTotals = new Map<string, IntervalLoad>();

  record(worker: string, lastEvent: number, times: WorkerTimes): void {
    let list = this.batches.get(worker);
    if (!list) this.batches.set(worker, list = []);
    list.push({ ...times, lastEvent });
    // trimmed in steps: one batch off the front per report moved the whole history every time
    if (list.length >= 2 * HISTORY) list.splice(0, list.length - HISTORY);
    const total = this.scanTotals.get(worker) ?? { total: 0, active: 0, events: 0 };
    total.total += times.waiting + times.active;
    total.active += times.active;
    total.events += times.events;
    this.scanTotals.set(worker, total);
  }

  /** per worker: the newest batches covering at least N events, for each requested N, and the whole scan */
  report(intervals: number[], scan: boolean): Record<string, { last_event: number; intervals: Record<string, IntervalLoad> }> {
    const out: Record<string, { last_event: number; intervals: Record<string, IntervalLoad> }> = {};
    for (const [worker, list] of this.batches) {
      const entry = { last_event: Math.max(...list.map((b) => b.lastEvent)), intervals: {} as Record<string, IntervalLoad> };
      for (const n of intervals) {
        const load: IntervalLoad = { total: 0, active: 0, events: 0 };
        for (let i = list.length - 1; i >= 0 && load.events < n; i--) {
          load.total += list[i].waiting + list[i].active;
          load.active += list[i].active;
          load.events += list[i].events;
        }
        entry.intervals[String(n)] = load;
      }
      if (scan) entry.intervals.scan = { ...this.scanTotals.get(worker)! };
      out[worker] = entry;
    }
    return out;
  }

  /** a worker's last-scan history as the original's `processing_times` ({last event: times}) */
  processingTimes(): Record<string, Record<string, WorkerTimes>> {
    return Object.fromEntries([...this.batches].map(([worker, list]) =>
      [worker, Object.fromEntries(list.map(({ lastEvent, ...times }) => [String(lastEvent), times]))]));
  }
}
