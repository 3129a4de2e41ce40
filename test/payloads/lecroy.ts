/**
 * The original's LeCroy test classes (protocols.md §4.9, §5 B): the worker takes each sequence's
 * per-segment maximum and trigger times of one channel (parameter `channel`); the reducer
 * publishes those of the newest sequence as `max_val` and `ts`, and keeps every event's.
 */
import type { EventData, ParameterDescription, Parameters, ResultData } from '../../src/index.js';
import { lecroy } from '../../src/index.js';

export interface LecroyResult {
  seqno: number;
  max_val: number[];
  ts: number[];
}

export class LecroyWorker {
  static describeParameters(): ParameterDescription[] {
    return [{ name: 'channel', dtype: 'int', description: 'scope channel whose maxima are reduced', default: 2 }];
  }

  processEvent(event: EventData, parameters: Parameters): LecroyResult | undefined {
    const data = Object.values(event.streams).find((s) => s.typ === lecroy.typ);
    if (!data) return undefined;
    const packet = lecroy.parse(data);
    if (packet.kind !== 'sequence') return undefined;
    const channel = Number(parameters.channel?.value ?? 2);
    const slot = packet.start.channels.indexOf(channel);
    if (slot === -1) throw new Error(`channel ${channel} is not among [${packet.start.channels.join(', ')}]`);
    const traces = packet.data[slot];
    const [segments, points] = traces.shape;
    const values = traces.data as Float64Array;
    const max_val = Array.from({ length: segments }, (_, s) => {
      let max = -Infinity;
      for (let i = s * points; i < (s + 1) * points; i++) if (values[i] > max) max = values[i];
      return max;
    });
    return { seqno: packet.start.seqno, max_val, ts: packet.timestamps[slot] };
  }
}

export class LecroyReducer {
  publish = { max_val: [] as number[], ts: [] as number[], events: {} as Record<string, LecroyResult> };

  /** results arrive in any order across workers: `max_val` and `ts` follow the newest event */
  private newest = -1;

  processResult(result: ResultData<LecroyResult>): void {
    this.publish.events[result.eventNumber] = result.payload;
    if (result.eventNumber > this.newest) {
      this.newest = result.eventNumber;
      this.publish.max_val = result.payload.max_val;
      this.publish.ts = result.payload.ts;
    }
  }
}
