/**
 * STINS ("stream1") wire messages (protocols.md §2.1): frame 0 is JSON with `htype` header, image
 * or series_end; an image has the pixel buffer as frame 1, a header may carry JSON meta as frame 1.
 */
import { z } from 'zod';
import { describeIssues } from '../../core/validation.js';
import { isDType, type DType } from '../../core/ndarray.js';
import { checkFrameCount } from '../json-frame.js';

export const STINS_TYP = 'STINS';

export const STINS_COMPRESSIONS = ['none', 'lz4', 'bslz4'] as const;
export type StinsCompression = (typeof STINS_COMPRESSIONS)[number];

export const stinsStartSchema = z.looseObject({
  htype: z.literal('header'),
  filename: z.string(),
  msg_number: z.int(),
});

export const stinsImageSchema = z.looseObject({
  htype: z.literal('image'),
  frame: z.int().nonnegative(),
  shape: z.array(z.int().nonnegative()),
  type: z.string().refine(isDType, { error: (issue) => `unknown dtype ${JSON.stringify(issue.input)}` }),
  compression: z.enum(STINS_COMPRESSIONS),
  msg_number: z.int(),
});

export const stinsEndSchema = z.looseObject({
  htype: z.literal('series_end'),
  msg_number: z.int(),
});

export const stinsMessageSchema = z.discriminatedUnion('htype', [stinsStartSchema, stinsImageSchema, stinsEndSchema]);

export type StinsStart = z.infer<typeof stinsStartSchema>;
export type StinsImageHeader = z.infer<typeof stinsImageSchema> & { type: DType };
export type StinsEnd = z.infer<typeof stinsEndSchema>;
export type StinsMessage = StinsStart | StinsImageHeader | StinsEnd;

export class StinsError extends Error {
  override name = 'StinsError';
}

/** the frame counts each message kind may have */
const FRAME_COUNTS: Record<StinsMessage['htype'], number | number[]> = {
  header: [1, 2],
  image: 2,
  series_end: 1,
};

/**
 * Reads and checks frame 0 of a message and its frame count (not the pixel payload); throws a
 * StinsError naming what is wrong. Frame 0 is not read with readJsonFrame: STINS errors keep
 * their own wording ("STINS frame 0 is not JSON", "… is not a valid message").
 */
export function readStinsMessage(frames: readonly Buffer[]): StinsMessage {
  if (frames.length === 0) throw new StinsError('STINS message has no frames');
  let json: unknown;
  try {
    json = JSON.parse(frames[0].toString('utf8'));
  } catch (err) {
    throw new StinsError(`STINS frame 0 is not JSON: ${(err as Error).message}`);
  }
  let message: StinsMessage;
  if (isPlainImage(json)) {
    message = json;
  } else {
    const result = stinsMessageSchema.safeParse(json);
    if (!result.success) throw new StinsError(`STINS frame 0 is not a valid message: ${describeIssues(result.error)}`);
    message = result.data as StinsMessage;
  }
  checkFrameCount(frames, FRAME_COUNTS[message.htype], `STINS ${message.htype} message`, StinsError);
  return message;
}

/**
 * The check of stinsImageSchema for the message every frame is, written out: zod's parse cost more
 * than the rest of the ingester's work on a small image. Anything else goes through the schema,
 * which also words the refusals.
 */
function isPlainImage(json: unknown): json is StinsImageHeader {
  const m = json as Record<string, unknown> | null;
  return typeof m === 'object' && m !== null && m.htype === 'image'
    && Number.isSafeInteger(m.frame) && (m.frame as number) >= 0 && Number.isSafeInteger(m.msg_number)
    && Array.isArray(m.shape) && m.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    && typeof m.type === 'string' && isDType(m.type)
    && typeof m.compression === 'string' && (STINS_COMPRESSIONS as readonly string[]).includes(m.compression);
}
