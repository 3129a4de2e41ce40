/** One JSON frame of an upstream message, checked against a zod schema; errors name the message and what is wrong. */
import type { z } from 'zod';
import { describeIssues } from '../core/validation.js';

export type ProtocolErrorClass = new (message: string) => Error;

/** `what` names the frame in errors, e.g. `Eiger frame 0` */
export function parseJsonFrame(frame: Uint8Array | undefined, what: string, ErrorClass: ProtocolErrorClass): unknown {
  if (frame === undefined) throw new ErrorClass(`${what} is missing`);
  try {
    return JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  } catch (error) {
    throw new ErrorClass(`${what} (${frame.byteLength} bytes) is not JSON: ${(error as Error).message}`);
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string, ErrorClass: ProtocolErrorClass): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ErrorClass(`${what} is not valid: ${describeIssues(result.error)}`);
  return result.data;
}

export function readJsonFrame<S extends z.ZodType>(
  frame: Uint8Array | undefined, schema: S, what: string, ErrorClass: ProtocolErrorClass,
): z.output<S> {
  return validate(schema, parseJsonFrame(frame, what, ErrorClass), what, ErrorClass);
}

/** throws unless `frames` has `counts` (a number or the allowed numbers) frames */
export function checkFrameCount(frames: readonly unknown[], counts: number | readonly number[], what: string, ErrorClass: ProtocolErrorClass): void {
  const allowed = typeof counts === 'number' ? [counts] : counts;
  if (!allowed.includes(frames.length)) {
    throw new ErrorClass(`${what} has ${frames.length} frames, expected ${allowed.join(' or ')}`);
  }
}
