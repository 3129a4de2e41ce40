/**
 * AlbaEM electrometer messages (protocols.md §2.7): one JSON frame each, `message_type`
 * series-start, data (one per acquisition) or series-end; `message_id` counts 1, 2, 3, … over the
 * whole series. `acquisition_timestamp` is nanoseconds since the epoch, beyond 2^53: a bigint.
 */
import { z } from 'zod';
import { checkFrameCount, readJsonFrame } from '../json-frame.js';
import { parseJsonExact } from './json.js';

export const ALBAEM_TYP = 'albaem';

const version = z.literal(1);
const messageId = z.int().nonnegative();

const current = z.number().optional();

// fields in the device's order, which parsed messages keep
export const albaemStartSchema = z.looseObject({ version, message_type: z.literal('series-start'), message_id: messageId });

export const albaemDataSchema = z.looseObject({
  version,
  message_type: z.literal('data'),
  message_id: messageId,
  frame_number: z.int().nonnegative(),
  /** seconds since the acquisition was armed */
  timestamp: z.number(),
  acquisition_timestamp: z.union([z.bigint(), z.int()]).transform((ns) => BigInt(ns)),
  /** amperes */
  channel1: current, channel2: current, channel3: current, channel4: current,
});

export const albaemEndSchema = z.looseObject({
  version,
  message_type: z.literal('series-end'),
  message_id: messageId,
  detector_specific: z.looseObject({ read_overflow: z.boolean(), memory_overflow: z.boolean() }).optional(),
});

export const albaemMessageSchema = z.discriminatedUnion('message_type', [albaemStartSchema, albaemDataSchema, albaemEndSchema]);

export type AlbaemStart = z.infer<typeof albaemStartSchema>;
export type AlbaemData = z.infer<typeof albaemDataSchema>;
export type AlbaemEnd = z.infer<typeof albaemEndSchema>;
export type AlbaemMessage = z.infer<typeof albaemMessageSchema>;

export class AlbaemError extends Error {
  override name = 'AlbaemError';
}

/** Reads and checks one AlbaEM message; throws an AlbaemError naming what is wrong. */
export function readAlbaemMessage(frames: readonly Buffer[]): AlbaemMessage {
  checkFrameCount(frames, 1, 'AlbaEM message', AlbaemError);
  return readJsonFrame(frames[0], albaemMessageSchema, 'AlbaEM message', AlbaemError, parseJsonExact);
}
