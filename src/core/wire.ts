/**
 * Data-plane framing (design.md §3). Both hops carry batches, so a backlog of small events costs
 * one zmq message instead of one each.
 * Ingester → worker: `[header JSON, ...parts]`, the frames of every event and stream in header
 * order. Worker → reducer: `[header JSON, ...parts]`, the CBOR payload of each event. Frames are
 * packed into parts (`packFrames`): small ones together, large ones alone.
 * Every header carries the scan's token: a receiver refuses messages without it (peers that did not
 * learn the scan from the pipeline's Redis).
 */
import type { EventData, StreamData } from './types.js';

/** what a worker's DEALER sends its ingesters: it is connected (the ROUTER learns its name) */
export const PING = Buffer.from('ping');

/**
 * Frames under this many bytes travel packed, several to a message part: zeromq costs about a
 * microsecond per part (sender, I/O threads, receiver; 42 CBOR results of 9 bytes took 53 µs as
 * 43 parts and 12 µs as 2), more than a small event costs anywhere else. Larger frames go as
 * parts of their own, uncopied.
 */
const PACK_BELOW = 4096;
/** a pack is closed before it would grow beyond this */
const PACK_BYTES = 1 << 16;
/** packed frames start at multiples of this, so that typed-array views over one stay possible */
const PACK_ALIGN = 8;

const aligned = (offset: number) => Math.ceil(offset / PACK_ALIGN) * PACK_ALIGN;

/** how frames travel: message `parts`, of which part j holds `counts[j]` consecutive frames; `lengths` of every frame */
export interface PackedFrames { parts: Buffer[]; counts: number[]; lengths: number[] }

export function packFrames(frames: readonly Buffer[]): PackedFrames {
  const packed: PackedFrames = { parts: [], counts: [], lengths: [] };
  let first = 0;
  let bytes = 0;
  // frames [first, end) as one part: a lone frame as it is, several copied into one buffer
  const close = (end: number) => {
    if (end - first === 1) packed.parts.push(frames[first]);
    if (end - first > 1) {
      const part = Buffer.alloc(bytes);
      for (let i = first, offset = 0; i < end; offset = aligned(offset + frames[i].length), i++) part.set(frames[i], offset);
      packed.parts.push(part);
    }
    if (end > first) packed.counts.push(end - first);
    first = end;
    bytes = 0;
  };
  for (let i = 0; i < frames.length; i++) {
    const length = frames[i].length;
    packed.lengths.push(length);
    if (length >= PACK_BELOW) {
      close(i);
      close(i + 1);
      continue;
    }
    if (i > first && aligned(bytes) + length > PACK_BYTES) close(i);
    bytes = aligned(bytes) + length;
  }
  close(frames.length);
  return packed;
}

/** the frames of `parts` as `packFrames` laid them out; views into the parts, not copies */
export function unpackFrames(parts: readonly Buffer[], counts: unknown, lengths: unknown): Buffer[] {
  if (!Array.isArray(counts) || !Array.isArray(lengths) || counts.length !== parts.length) throw new Error('malformed frame packing');
  const frames: Buffer[] = [];
  for (let j = 0; j < parts.length; j++) {
    const part = parts[j];
    const count: unknown = counts[j];
    if (!Number.isInteger(count) || (count as number) < 1) throw new Error('malformed frame packing');
    let offset = 0;
    for (let c = 0; c < (count as number); c++) {
      const length: unknown = lengths[frames.length];
      if (!Number.isInteger(length) || (length as number) < 0 || offset + (length as number) > part.length) {
        throw new Error(`part ${j + 1} is shorter than the frames packed into it`);
      }
      frames.push(count === 1 ? part : part.subarray(offset, offset + (length as number)));
      offset = c + 1 < (count as number) ? aligned(offset + (length as number)) : offset + (length as number);
    }
    if (offset !== part.length) throw new Error(`part ${j + 1} is longer than the frames packed into it`);
  }
  if (frames.length !== lengths.length) throw new Error('malformed frame packing');
  return frames;
}

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
  /** how the frames are packed into the message's parts (`packFrames`) */
  counts: number[];
  lengths: number[];
}

export interface EventBatch { scan: string; token: string; events: PartialEvent[] }

export function encodeEventBatch(scan: string, token: string, events: PartialEvent[]): Buffer[] {
  const described: EventBatchHeader['events'] = [];
  const frames: Buffer[] = [];
  for (const { event, streams, expect, missing } of events) {
    const one: EventBatchHeader['events'][number] = { event, streams: {} };
    for (const [name, data] of Object.entries(streams)) {
      one.streams[name] = { typ: data.typ, length: data.frames.length };
      for (const frame of data.frames) frames.push(frame);
    }
    if (expect) one.expect = expect;
    if (missing) one.missing = missing;
    described.push(one);
  }
  const { parts, counts, lengths } = packFrames(frames);
  const header: EventBatchHeader = { scan, token, events: described, counts, lengths };
  return [Buffer.from(JSON.stringify(header)), ...parts];
}

export function decodeEventBatch(message: Buffer[]): EventBatch {
  const header = JSON.parse(message[0].toString()) as EventBatchHeader;
  if (typeof header?.scan !== 'string' || typeof header.token !== 'string' || !Array.isArray(header.events)) throw new Error('malformed event batch header');
  const frames = unpackFrames(message.slice(1), header.counts, header.lengths);
  const events: PartialEvent[] = [];
  let index = 0;
  for (const described of header.events) {
    if (!Number.isInteger(described?.event) || typeof described.streams !== 'object' || described.streams === null) {
      throw new Error('malformed event header');
    }
    const streams: Record<string, StreamData> = {};
    for (const name in described.streams) {
      // assigned, this name would set the record's prototype instead of a stream
      if (name === '__proto__') throw new Error(`event ${described.event}: a stream named __proto__`);
      const { typ, length } = described.streams[name];
      if (index + length > frames.length) throw new Error(`event ${described.event}: stream ${name} announces ${length} frames, message is shorter`);
      streams[name] = { typ, frames: frames.slice(index, index + length) };
      index += length;
    }
    const missing = described.missing && typeof described.missing === 'object' ? described.missing : undefined;
    events.push({ event: described.event, streams, expect: Array.isArray(described.expect) ? described.expect : undefined, missing });
  }
  if (index !== frames.length) throw new Error(`${frames.length - index} frames more than the batch announces`);
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
  const { parts, counts, lengths } = packFrames(bodies);
  return [Buffer.from(JSON.stringify({ ...source, events, counts, lengths })), ...parts];
}

export function decodeResultBatch(message: Buffer[]): ResultBatch {
  const { scan, token, worker, instance, parametersHash, events, counts, lengths } = JSON.parse(message[0].toString()) as ResultSource & { events: number[]; counts: unknown; lengths: unknown };
  if (typeof scan !== 'string' || typeof token !== 'string' || typeof worker !== 'string' || typeof instance !== 'string' || !Array.isArray(events)) {
    throw new Error('malformed result batch header');
  }
  const bodies = unpackFrames(message.slice(1), counts, lengths);
  if (bodies.length !== events.length) throw new Error('malformed result batch header: not one result per event');
  return { source: { scan, token, worker, instance, parametersHash }, events, bodies };
}

/** Merges partial events of one event number from several ingesters. */
export function mergeStreams(event: EventData, streams: Record<string, StreamData>): void {
  for (const [name, data] of Object.entries(streams)) {
    if (event.streams[name]) throw new Error(`event ${event.eventNumber}: stream ${name} arrived twice`);
    event.streams[name] = data;
  }
}
