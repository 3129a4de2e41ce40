/**
 * Data-plane framing (design.md §3). Both hops carry batches, so a backlog of small events costs
 * one zmq message instead of one each.
 * Ingester → worker: `[header JSON, ...frames]`, the frames of every event and stream concatenated
 * in header order. Worker → reducer: `[header JSON, ...CBOR payloads]`, one payload per event.
 * Every header carries the scan's token: a receiver refuses messages without it (peers that did not
 * learn the scan from the pipeline's Redis).
 */
import type { EventData, StreamData } from './types.js';

/** what a worker's DEALER sends its ingesters: it is connected (the ROUTER learns its name) */
export const PING = Buffer.from('ping');

/** the frames of one event that one ingester sends to one worker */
export interface PartialEvent {
  event: number;
  streams: Record<string, StreamData>;
  /** every stream of this event that goes to this worker, when more than this message carries */
  expect?: string[];
  /** streams of this event that will not come, with the reason (the upstream lost or broke their frame) */
  missing?: Record<string, string>;
}

interface EventBatchHeader {
  scan: string;
  token: string;
  events: { event: number; streams: Record<string, { typ: string; length: number }>; expect?: string[]; missing?: Record<string, string> }[];
}

export interface EventBatch { scan: string; token: string; events: PartialEvent[] }

export function encodeEventBatch(scan: string, token: string, events: PartialEvent[]): Buffer[] {
  const header: EventBatchHeader = { scan, token, events: [] };
  const frames: Buffer[] = [];
  for (const { event, streams, expect, missing } of events) {
    const described: EventBatchHeader['events'][number] = { event, streams: {} };
    for (const [name, data] of Object.entries(streams)) {
      described.streams[name] = { typ: data.typ, length: data.frames.length };
      for (const frame of data.frames) frames.push(frame);
    }
    if (expect) described.expect = expect;
    if (missing) described.missing = missing;
    header.events.push(described);
  }
  return [Buffer.from(JSON.stringify(header)), ...frames];
}

export function decodeEventBatch(message: Buffer[]): EventBatch {
  const header = JSON.parse(message[0].toString()) as EventBatchHeader;
  if (typeof header?.scan !== 'string' || typeof header.token !== 'string' || !Array.isArray(header.events)) throw new Error('malformed event batch header');
  const events: PartialEvent[] = [];
  let index = 1;
  for (const described of header.events) {
    if (!Number.isInteger(described?.event) || typeof described.streams !== 'object' || described.streams === null) {
      throw new Error('malformed event header');
    }
    const streams: Record<string, StreamData> = {};
    for (const name in described.streams) {
      // assigned, this name would set the record's prototype instead of a stream
      if (name === '__proto__') throw new Error(`event ${described.event}: a stream named __proto__`);
      const { typ, length } = described.streams[name];
      if (index + length > message.length) throw new Error(`event ${described.event}: stream ${name} announces ${length} frames, message is shorter`);
      streams[name] = { typ, frames: message.slice(index, index + length) };
      index += length;
    }
    const missing = described.missing && typeof described.missing === 'object' ? described.missing : undefined;
    events.push({ event: described.event, streams, expect: Array.isArray(described.expect) ? described.expect : undefined, missing });
  }
  if (index !== message.length) throw new Error(`${message.length - index} frames more than the batch announces`);
  return { scan: header.scan, token: header.token, events };
}

/** what is common to the results of one batch */
export interface ResultSource {
  scan: string;
  token: string;
  worker: string;
  /** the worker process; results of a restarted worker are counted apart */
  instance: string;
  parametersHash: string | null;
}

/** results of one worker message: `bodies[i]` is the CBOR payload of event `events[i]` */
export interface ResultBatch {
  source: ResultSource;
  events: number[];
  bodies: Buffer[];
}

export function encodeResultBatch(source: ResultSource, events: number[], bodies: Buffer[]): Buffer[] {
  return [Buffer.from(JSON.stringify({ ...source, events })), ...bodies];
}

export function decodeResultBatch(message: Buffer[]): ResultBatch {
  const { scan, token, worker, instance, parametersHash, events } = JSON.parse(message[0].toString()) as ResultSource & { events: number[] };
  if (typeof scan !== 'string' || typeof token !== 'string' || typeof worker !== 'string' || typeof instance !== 'string'
    || !Array.isArray(events) || events.length !== message.length - 1) {
    throw new Error('malformed result batch header');
  }
  return { source: { scan, token, worker, instance, parametersHash }, events, bodies: message.slice(1) };
}

/** Merges partial events of one event number from several ingesters. */
export function mergeStreams(event: EventData, streams: Record<string, StreamData>): void {
  for (const [name, data] of Object.entries(streams)) {
    if (event.streams[name]) throw new Error(`event ${event.eventNumber}: stream ${name} arrived twice`);
    event.streams[name] = data;
  }
}
