/** Runs a protocol's scan() over messages in memory, and plays messages to a live pipeline's SUB ingesters. */
import { Writable } from 'node:stream';
import winston from 'winston';
import { readRawCapture } from '../../src/core/capture/index.js';
import type { StreamData } from '../../src/core/types.js';
import { streamDataOf, type MessageReader, type SourceContext, type UpstreamProtocol } from '../../src/protocols/types.js';
import { waitFor, type TestPipeline } from './pipeline.js';

/** a MessageReader over a list of messages; `undefined` once they are used up, like a closed upstream */
export class ArrayReader implements MessageReader {
  private index = 0;
  constructor(private readonly messages: readonly Buffer[][]) {}
  get remaining(): number { return this.messages.length - this.index; }
  async next(): Promise<Buffer[] | undefined> { return this.messages[this.index++]; }
}

export async function captureMessages(path: string): Promise<Buffer[][]> {
  const messages: Buffer[][] = [];
  for await (const message of readRawCapture(path)) messages.push(message);
  return messages;
}

export interface ReaderScanOutcome {
  /** what the ingester would forward, one StreamData per event */
  events: StreamData[];
  /** reasons given to ctx.bad */
  bad: string[];
  warnings: string[];
}

export interface ScanOutcome extends ReaderScanOutcome {
  /** messages scan() left unread */
  remaining: number;
}

/** a scan context that records the reasons given to `bad` and the warnings logged */
export function sourceContext(stream = 'test'): { ctx: SourceContext; bad: string[]; warnings: string[] } {
  const bad: string[] = [];
  const warnings: string[] = [];
  const sink = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _encoding, done) {
      if (info.level === 'warn') warnings.push(info.message);
      done();
    },
  });
  const ctx: SourceContext = {
    stream,
    logger: winston.createLogger({ transports: [new winston.transports.Stream({ stream: sink })] }),
    bad: (reason) => { bad.push(reason); },
  };
  return { ctx, bad, warnings };
}

/** Runs one scan of `protocol` on `reader` (a live transport or an ArrayReader) for `stream` to its end. */
export async function scanReader(protocol: UpstreamProtocol, reader: MessageReader, stream = 'test'): Promise<ReaderScanOutcome> {
  const { ctx, bad, warnings } = sourceContext(stream);
  const events: StreamData[] = [];
  for await (const event of streamDataOf(protocol.scan(reader, ctx), ctx)) events.push(event);
  return { events, bad, warnings };
}

/** Runs one scan of `protocol` over `messages` to its end (or the end of the messages). */
export async function scanMessages(protocol: UpstreamProtocol, messages: readonly Buffer[][], stream = 'test'): Promise<ScanOutcome> {
  const reader = new ArrayReader(messages);
  return { ...await scanReader(protocol, reader, stream), remaining: reader.remaining };
}

/** Sets the trigger map and waits until every ingester has taken it (so its SUB sockets are connecting). */
export async function setSequenceAndWait(pipeline: TestPipeline, sequence: unknown): Promise<void> {
  const mapping = await pipeline.setSequence(sequence);
  await waitFor('the ingesters to adopt the trigger map', async () => {
    const config = await pipeline.api<{ ingesters: { mapping_uuid: string | null }[] }>('/api/v1/config');
    return config.ingesters.every((i) => i.mapping_uuid === mapping);
  });
}

export interface Problem { event: number; component: string; reason: string }

/** what went wrong in the current scan, as /api/v1/status?details=true lists it */
export interface ScanProblems {
  /** messages that fit no event */
  bad: Problem[];
  /** messages before a series' start (warm-ups) */
  skipped: Problem[];
  /** streams that did not come for an event */
  missing: Problem[];
  failed: Problem[];
  lost: Problem[];
}

export async function scanProblems(pipeline: TestPipeline): Promise<ScanProblems> {
  const s = await pipeline.api<Record<string, Problem[]>>('/api/v1/status?details=true');
  return { bad: s.bad_frame_list, skipped: s.skipped_frame_list, missing: s.missing_frame_list, failed: s.failed_event_list, lost: s.lost_event_list };
}

/** pseudo.x[0], pseudo.y[0] of the 20 running messages of contrast-dump.cbors, in order (protocols.md §4.2) */
export const CONTRAST_DUMP_XY: [number, number][] = [
  [-2.004051863, -2.002903037], [-2.001404022, -0.9992748245], [-2.000941193, 0.001238407776],
  [-2.000656853, 1.001692484], [-2.000562814, 2.0019763], [-0.6658021229, -2.002587864],
  [-0.6664982812, -0.9992643584], [-0.6666898134, 0.001223421204], [-0.6666922578, 1.001631271],
  [-0.6666616732, 2.001930725], [0.6676852429, -2.002412156], [0.6666162969, -0.9992055423],
  [0.6664269385, 0.001214749016], [0.6663550388, 1.00170782], [0.6663102034, 2.002018839],
  [2.001407847, -2.002363463], [2.000183463, -0.9992309104], [1.999963432, 0.001258902382],
  [1.999884878, 1.001690624], [1.999828501, 2.001959397],
];
