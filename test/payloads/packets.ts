/**
 * Test classes for the Eiger legacy, PCAP, PandA position-capture and Sardana streams: the worker
 * parses every stream of an event with its protocol and returns the packet as plain JSON (blobs
 * as their size, arrays as dtype and shape); the reducer keeps every event's packets and sums each
 * numeric leaf per stream (`totals.pcap.energy` is the scan's Σenergy).
 */
import type { EventData, ResultData, StreamData, WorkerContext } from '../../src/index.js';
import { eigerLegacy, pcap, PositioncapParser, positioncap, sardana } from '../../src/index.js';
import { isNDArray } from '../../src/core/ndarray.js';

export interface PacketResult {
  worker: string;
  streams: Record<string, unknown>;
}

/** a value JSON carries as is: Buffers become their size, arrays their dtype and shape, Dates ISO text */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { bytes: value.length };
  if (isNDArray(value)) return { dtype: value.dtype, shape: value.shape };
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const stateless = new Map([eigerLegacy, pcap, sardana].map((p) => [p.typ, p]));

export class PacketWorker {
  /** one position-capture parser per worker: it keeps its arm cycle's header */
  private readonly positions = new PositioncapParser();

  constructor(private readonly ctx: WorkerContext) {}

  private parse(data: StreamData): unknown {
    if (data.typ === positioncap.typ) return this.positions.parse(data);
    const protocol = stateless.get(data.typ);
    if (!protocol) throw new Error(`no parser for typ ${data.typ}`);
    return protocol.parse(data);
  }

  processEvent(event: EventData): PacketResult {
    const streams = Object.fromEntries(Object.entries(event.streams).map(([name, data]) => [name, plain(this.parse(data))]));
    return { worker: this.ctx.name, streams };
  }
}

function addLeaves(totals: Record<string, number>, value: unknown, path: string): void {
  if (typeof value === 'number') totals[path] = (totals[path] ?? 0) + value;
  else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) addLeaves(totals, item, path ? `${path}.${key}` : key);
  }
}

export class PacketReducer {
  publish = {
    events: {} as Record<string, PacketResult[]>,
    totals: {} as Record<string, Record<string, number>>,
    results: 0,
  };

  processResult(result: ResultData<PacketResult>): void {
    (this.publish.events[result.eventNumber] ??= []).push(result.payload);
    for (const [stream, packet] of Object.entries(result.payload.streams)) addLeaves(this.publish.totals[stream] ??= {}, packet, '');
    this.publish.results += 1;
  }
}
