/**
 * Test classes for the scan programs' own records: the worker says what each Contrast or Sardana
 * record of an event held, as a worker sees it (opaque pickled objects by their class, NaN and the
 * infinities by name: JSON has none of them), and what the detector (STINS) frame was.
 */
import type { EventData, ResultData, StreamData, WorkerContext } from '../../src/index.js';
import { contrast, sardana, stins } from '../../src/index.js';
import { PickledObject } from '../../src/core/pickle/read.js';

export type Described = number | string | boolean | null | { opaque: string; state: unknown } | Described[] | { [key: string]: Described };

/** a parsed value in JSON: numbers that JSON cannot carry by name, opaque objects by their class */
function describe(value: unknown): Described {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof PickledObject) return { opaque: `${value.module}.${value.name}`, state: describe(value.state) };
  if (Array.isArray(value)) return value.map(describe);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, Number);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  if (typeof value === 'bigint') return Number(value);
  return (value ?? null) as Described;
}

export type RecordSummary = { record: Described; keys: string[] } | { frame: number | null; kind: string };

function summarise(data: StreamData): RecordSummary {
  if (data.typ === contrast.typ) {
    const message = contrast.parse(data);
    return { record: describe(message), keys: Object.keys(message) };
  }
  if (data.typ === sardana.typ) {
    const packet = sardana.parse(data);
    return { record: describe(packet), keys: Object.keys(packet) };
  }
  const packet = stins.parse(data);
  return { kind: packet.kind, frame: packet.kind === 'image' ? Number(packet.header.frame) : null };
}

export interface RecordResult { worker: string; streams: Record<string, RecordSummary> }

export class RecordWorker {
  constructor(private readonly ctx: WorkerContext) {}

  processEvent(event: EventData): RecordResult {
    return { worker: this.ctx.name, streams: Object.fromEntries(Object.entries(event.streams).map(([name, data]) => [name, summarise(data)])) };
  }
}

/** every result by event number, and the values a control room follows live */
export class RecordReducer {
  publish = {
    events: {} as Record<string, RecordResult[]>,
    results: 0,
  };

  processResult(result: ResultData<RecordResult>): void {
    (this.publish.events[result.eventNumber] ??= []).push(result.payload);
    this.publish.results += 1;
  }
}
