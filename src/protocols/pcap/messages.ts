/**
 * PandABox position capture over zmq (the Tango PCAP publisher, protocols.md §2.5): single-frame
 * JSON messages with `message_type` series-start, data or series-end. Upstream, a data message is
 * a chunk: `frame_number` is its first row and every captured field is a list, one value per row.
 * The ingester forwards one row per event: the same message with each list replaced by its value
 * and `frame_number` counting the row.
 */
import { z } from 'zod';
import { checkFrameCount, readJsonFrame } from '../json-frame.js';

export const PCAP_TYP = 'PCAP';

export class PcapError extends Error {
  override name = 'PcapError';
}

const common = {
  message_id: z.int(),
  version: z.literal(1),
};

export const pcapStartSchema = z.looseObject({
  message_type: z.literal('series-start'),
  ...common,
  /** ISO 8601 with zone, e.g. 2024-10-07T08:49:10.627Z */
  arm_time: z.iso.datetime({ offset: true }),
});

/** a data message as the publisher sends it: captured fields are lists of one value per row */
export const pcapChunkSchema = z.looseObject({
  message_type: z.literal('data'),
  ...common,
  frame_number: z.int().nonnegative(),
});

/** a data message as the ingester forwards it: one row, every captured field a number */
export const pcapRowSchema = z.object({
  message_type: z.literal('data'),
  ...common,
  frame_number: z.int().nonnegative(),
}).catchall(z.number());

export const pcapEndSchema = z.looseObject({
  message_type: z.literal('series-end'),
  ...common,
});

export const pcapUpstreamSchema = z.discriminatedUnion('message_type', [pcapStartSchema, pcapChunkSchema, pcapEndSchema]);
export const pcapForwardedSchema = z.discriminatedUnion('message_type', [pcapStartSchema, pcapRowSchema, pcapEndSchema]);

export type PcapStart = z.infer<typeof pcapStartSchema>;
export type PcapChunk = z.infer<typeof pcapChunkSchema>;
export type PcapRow = z.infer<typeof pcapRowSchema>;
export type PcapEnd = z.infer<typeof pcapEndSchema>;
export type PcapUpstreamMessage = z.infer<typeof pcapUpstreamSchema>;
export type PcapMessage = z.infer<typeof pcapForwardedSchema>;

/** Reads a message as the publisher sends it (data as a chunk); throws a PcapError naming what is wrong. */
export function readPcapUpstreamMessage(frames: readonly Buffer[]): PcapUpstreamMessage {
  checkFrameCount(frames, 1, 'PCAP message', PcapError);
  return readJsonFrame(frames[0], pcapUpstreamSchema, 'PCAP message', PcapError);
}

/** Reads a forwarded message (data as one row). */
export function readPcapMessage(frames: readonly Buffer[]): PcapMessage {
  checkFrameCount(frames, 1, 'PCAP message', PcapError);
  return readJsonFrame(frames[0], pcapForwardedSchema, 'PCAP message', PcapError);
}

const STANDARD_KEYS = new Set(['message_id', 'version', 'message_type', 'frame_number']);

/**
 * The rows of a chunk, each as compact JSON with the keys in the original's order (message_id,
 * version, message_type, frame_number, then the captured fields as sent); numbers that are
 * not in a list are copied into every row. A chunk without list fields is one row already.
 */
export function splitPcapChunk(chunk: PcapChunk): Buffer[] {
  const lists: [string, unknown[]][] = [];
  let rows: number | undefined;
  for (const [key, value] of Object.entries(chunk)) {
    if (STANDARD_KEYS.has(key)) continue;
    if (!Array.isArray(value)) {
      if (typeof value !== 'number') throw new PcapError(`PCAP data message ${chunk.message_id}: field ${JSON.stringify(key)} is ${JSON.stringify(value)}, not a number or a list`);
      continue;
    }
    if (rows !== undefined && value.length !== rows) {
      throw new PcapError(`PCAP data message ${chunk.message_id}: field ${JSON.stringify(key)} has ${value.length} values, `
        + `${JSON.stringify(lists[0][0])} has ${rows}`);
    }
    const wrong = value.findIndex((v) => typeof v !== 'number');
    if (wrong !== -1) {
      throw new PcapError(`PCAP data message ${chunk.message_id}: field ${JSON.stringify(key)}[${wrong}] is ${JSON.stringify(value[wrong])}, not a number`);
    }
    rows = value.length;
    lists.push([key, value]);
  }
  const { message_id, version, message_type, frame_number, ...fields } = chunk;
  const out: Buffer[] = [];
  for (let i = 0; i < (rows ?? 1); i++) {
    const row: Record<string, unknown> = { message_id, version, message_type, frame_number: frame_number + i };
    for (const [key, value] of Object.entries(fields)) row[key] = Array.isArray(value) ? value[i] : value;
    out.push(Buffer.from(JSON.stringify(row)));
  }
  return out;
}
