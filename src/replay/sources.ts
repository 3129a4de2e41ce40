/**
 * Event sources for offline replay: an ingester dump yields its events as recorded; a raw upstream
 * capture goes through its protocol, the k-th item of the stream becoming event k.
 */
import { detectCaptureFormat, readDump, readRawCapture } from '../core/capture/index.js';
import { createLogger } from '../core/logging.js';
import type { EventData } from '../core/types.js';
import { mergeStreams } from '../core/wire.js';
import { loadProtocol } from '../protocols/index.js';
import { streamDataOf, type MessageReader } from '../protocols/types.js';
import { pythonItems, type PythonItem } from './python-events.js';

export interface ReplayInput {
  path: string;
  /** for raw captures: the protocol and the stream name the frames belong to */
  protocol?: string;
  stream?: string;
}

/** `FILE`, `PROTOCOL:FILE` or `STREAM=PROTOCOL:FILE` */
export function parseReplayInput(spec: string): ReplayInput {
  const match = /^(?:([A-Za-z0-9_.-]+)=)?([a-z0-9_-]+):(.+)$/.exec(spec);
  if (!match || match[3].startsWith('//')) return { path: spec };
  return { path: match[3], protocol: match[2], stream: match[1] ?? match[2] };
}

const PICKLES = /\.pkls(\.gz)?$/;

export async function openReplayInput(input: ReplayInput, onBad: (reason: string) => void): Promise<AsyncGenerator<EventData>> {
  if (PICKLES.test(input.path)) return await pickledInput(input, onBad);
  const format = await detectCaptureFormat(input.path);
  if (format === 'dump') {
    if (input.protocol) throw new Error(`${input.path} is an ingester dump; give it without a protocol`);
    return (async function* () {
      for await (const event of readDump(input.path)) yield { eventNumber: event.eventNumber, streams: event.streams };
    })();
  }
  if (!input.protocol) throw new Error(`${input.path} is a raw upstream capture; name its protocol: -f PROTOCOL:${input.path} (or STREAM=PROTOCOL:FILE)`);
  return await capturedEvents(input, readRawCapture(input.path), onBad);
}

/** A raw capture's messages through its protocol: the k-th item of the stream becomes event k. */
async function capturedEvents(input: ReplayInput, messages: AsyncIterator<Buffer[]>, onBad: (reason: string) => void): Promise<AsyncGenerator<EventData>> {
  const protocol = await loadProtocol(input.protocol!);
  const stream = input.stream ?? protocol.name;
  const reader: MessageReader = { next: async () => (await messages.next()).value ?? undefined };
  const frames = streamDataOf(protocol.scan(reader, { stream, logger: createLogger(`replay:${stream}`), bad: onBad }), { bad: onBad });
  return (async function* () {
    let eventNumber = 0;
    for await (const data of frames) yield { eventNumber: eventNumber++, streams: { [stream]: data } };
  })();
}

/** A legacy `.pkls`: pickled InternalWorkerMessages (a dump), or pickled frame lists (a raw capture, needing its protocol). */
async function pickledInput(input: ReplayInput, onBad: (reason: string) => void): Promise<AsyncGenerator<EventData>> {
  const items = pythonItems('pkls', input.path);
  const first = await items.next();
  if (first.done) return (async function* () {})();
  if (first.value.kind === 'event') {
    if (input.protocol) throw new Error(`${input.path} holds ingester events; give it without a protocol`);
    return (async function* () {
      for (let item: IteratorResult<PythonItem> = first; !item.done; item = await items.next()) {
        if (item.value.kind !== 'event') throw new Error(`${input.path}: a raw frame list among events`);
        yield item.value.event;
      }
    })();
  }
  if (!input.protocol) throw new Error(`${input.path} is a raw upstream capture; name its protocol: -f PROTOCOL:${input.path} (or STREAM=PROTOCOL:FILE)`);
  const messages = (async function* () {
    for (let item: IteratorResult<PythonItem> = first; !item.done; item = await items.next()) {
      if (item.value.kind !== 'raw') throw new Error(`${input.path}: an event among raw frame lists`);
      yield item.value.frames;
    }
  })();
  return await capturedEvents(input, messages, onBad);
}

/** The events of a Python source class (`--source module:Class`). */
export async function* sourceEvents(spec: string): AsyncGenerator<EventData> {
  for await (const item of pythonItems('source', spec)) {
    if (item.kind === 'event') yield item.event;
  }
}

/**
 * Merges several sources by event number: the heads with the lowest number form one event. A stream
 * that two sources both carry for one event is a failure, reported through `onConflict`.
 */
export async function* mergeSources(sources: AsyncGenerator<EventData>[], onConflict: (reason: string) => void): AsyncGenerator<EventData> {
  const heads = await Promise.all(sources.map(async (s) => (await s.next()).value as EventData | undefined));
  for (;;) {
    let lowest = Infinity;
    for (const head of heads) if (head && head.eventNumber < lowest) lowest = head.eventNumber;
    if (lowest === Infinity) return;
    const event: EventData = { eventNumber: lowest, streams: {} };
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head?.eventNumber !== lowest) continue;
      try {
        mergeStreams(event, head.streams);
      } catch (error) {
        onConflict((error as Error).message);
      }
      heads[i] = (await sources[i].next()).value as EventData | undefined;
    }
    yield event;
  }
}
