/**
 * LeCroy MAUI oscilloscope messages over zmq PUB/SUB (protocols.md §2.8). Control messages are one
 * JSON frame, `{"htype": "msg", "what": n, "frame": k, …}`: 0 PREPARE, 1 SEQ START (channels and
 * `ntriggers`, -1 = continuous), 2 SEQ END, 3 STOP. A traces message is 3 frames: JSON (`htype`
 * traces, channel, shape [segments, points], dtype, horizontal scale), the raw waveforms, and a
 * pickled list of one trigger time (epoch s) per segment. `frame` counts messages, not triggers.
 */
import { z } from 'zod';
import { isDType, type DType } from '../../core/ndarray.js';
import { checkFrameCount, parseJsonFrame, readJsonFrame, validate } from '../json-frame.js';

export const LECROY_TYP = 'lecroy_9fwdWp6Rq7';

export class LecroyError extends Error {
  override name = 'LecroyError';
}

const frame = z.int().nonnegative();

export const lecroyPrepareSchema = z.looseObject({ htype: z.literal('msg'), what: z.literal(0), frame });

export const lecroySeqStartSchema = z.looseObject({
  htype: z.literal('msg'),
  what: z.literal(1),
  frame,
  /** segments per sequence; -1 = continuous mode (one trigger per sequence) */
  ntriggers: z.int().refine((n) => n === -1 || n > 0, { error: 'must be -1 (continuous) or a positive number of segments' }),
  seqno: z.int().nonnegative(),
  channels: z.array(z.int()).min(1).refine((c) => new Set(c).size === c.length, { error: 'lists a channel twice' }),
});

export const lecroySeqEndSchema = z.looseObject({ htype: z.literal('msg'), what: z.literal(2), frame });

/** the scope's STOP; unlike the others it need not say `htype` */
export const lecroyStopSchema = z.looseObject({ htype: z.literal('msg').optional(), what: z.literal(3), frame, frames: z.int().optional() });

export const lecroyControlSchema = z.discriminatedUnion('what', [lecroyPrepareSchema, lecroySeqStartSchema, lecroySeqEndSchema, lecroyStopSchema]);

export const lecroyTracesSchema = z.looseObject({
  htype: z.literal('traces'),
  ch: z.int(),
  /** epoch seconds of the sequence */
  ts: z.number(),
  frame,
  /** [segments, points per segment] */
  shape: z.tuple([z.int().nonnegative(), z.int().nonnegative()]),
  horiz_offset: z.number(),
  horiz_interval: z.number(),
  dtype: z.string().refine(isDType, { error: (issue) => `unknown dtype ${JSON.stringify(issue.input)}` }),
});

export type LecroyPrepare = z.infer<typeof lecroyPrepareSchema>;
export type LecroySeqStart = z.infer<typeof lecroySeqStartSchema>;
export type LecroySeqEnd = z.infer<typeof lecroySeqEndSchema>;
export type LecroyStop = z.infer<typeof lecroyStopSchema>;
export type LecroyTraces = z.infer<typeof lecroyTracesSchema> & { dtype: DType };

export type LecroyMessage =
  | { kind: 'prepare'; message: LecroyPrepare }
  | { kind: 'seqstart'; message: LecroySeqStart }
  | { kind: 'seqend'; message: LecroySeqEnd }
  | { kind: 'stop'; message: LecroyStop }
  | { kind: 'traces'; message: LecroyTraces };

const KINDS = ['prepare', 'seqstart', 'seqend', 'stop'] as const;

function controlOf(json: unknown): Exclude<LecroyMessage, { kind: 'traces' }> {
  const message = validate(lecroyControlSchema, json, 'LeCroy message', LecroyError);
  return { kind: KINDS[message.what], message } as Exclude<LecroyMessage, { kind: 'traces' }>;
}

/** Reads frame 0 of a control message. */
export function readLecroyControl(frame: Buffer | undefined): Exclude<LecroyMessage, { kind: 'traces' }> {
  return controlOf(parseJsonFrame(frame, 'LeCroy message', LecroyError));
}

/** Reads frame 0 of a traces message. */
export function readLecroyTraces(frame: Buffer | undefined): LecroyTraces {
  return readJsonFrame(frame, lecroyTracesSchema, 'LeCroy traces message', LecroyError) as LecroyTraces;
}

/** Reads frame 0 and checks the frame count (3 for traces, 1 for control messages), not the payload. */
export function readLecroyMessage(frames: readonly Buffer[]): LecroyMessage {
  const json = parseJsonFrame(frames[0], 'LeCroy message', LecroyError);
  if ((json as { htype?: unknown } | null)?.htype === 'traces') {
    checkFrameCount(frames, 3, 'LeCroy traces message', LecroyError);
    return { kind: 'traces', message: validate(lecroyTracesSchema, json, 'LeCroy traces message', LecroyError) as LecroyTraces };
  }
  checkFrameCount(frames, 1, 'LeCroy control message', LecroyError);
  return controlOf(json);
}
