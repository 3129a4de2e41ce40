/**
 * Data-plane framing (design.md §3). Ingester → worker: `[header JSON, ...frames]`, frames of all
 * streams concatenated in header order. Worker → reducer: `[header JSON, CBOR payload]`.
 */
import type { EventData, StreamData } from './types.js';

export interface PartialEventHeader {
  scan: string;
  event: number;
  streams: Record<string, { typ: string; length: number }>;
  /** every stream of this event that goes to this worker, when more than this message carries */
  expect?: string[];
  /** ingester-side creation time, ms since epoch */
  created: number;
}

export function encodePartialEvent(scan: string, event: number, streams: Record<string, StreamData>,
  expect: string[] | undefined): Buffer[] {
  const header: PartialEventHeader = { scan, event, streams: {}, created: Date.now() };
  const frames: Buffer[] = [];
  for (const [name, data] of Object.entries(streams)) {
    header.streams[name] = { typ: data.typ, length: data.frames.length };
    for (const frame of data.frames) frames.push(frame);
  }
  if (expect) header.expect = expect;
  return [Buffer.from(JSON.stringify(header)), ...frames];
}

export function decodePartialEvent(message: Buffer[]): { header: PartialEventHeader; streams: Record<string, StreamData> } {
  const header = JSON.parse(message[0].toString()) as PartialEventHeader;
  if (typeof header?.scan !== 'string' || !Number.isInteger(header.event) || typeof header.streams !== 'object') {
    throw new Error('malformed event header');
  }
  const streams: Record<string, StreamData> = {};
  let index = 1;
  for (const [name, { typ, length }] of Object.entries(header.streams)) {
    if (index + length > message.length) throw new Error(`event ${header.event}: stream ${name} announces ${length} frames, message is shorter`);
    streams[name] = { typ, frames: message.slice(index, index + length) };
    index += length;
  }
  if (index !== message.length) throw new Error(`event ${header.event}: ${message.length - index} frames more than announced`);
  return { header, streams };
}

export interface ResultHeader {
  scan: string;
  event: number;
  worker: string;
  /** the worker process; results of a restarted worker are counted apart */
  instance: string;
  parametersHash: string | null;
}

/** Merges partial events of one event number from several ingesters. */
export function mergeStreams(event: EventData, streams: Record<string, StreamData>): void {
  for (const [name, data] of Object.entries(streams)) {
    if (event.streams[name]) throw new Error(`event ${event.eventNumber}: stream ${name} arrived twice`);
    event.streams[name] = data;
  }
}
