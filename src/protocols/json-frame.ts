/**
 * One JSON (or pickle) frame of an upstream message, checked against a zod schema; errors name the
 * message and what is wrong.
 */
import type { z } from 'zod';
import { loadPickle } from '../core/pickle/read.js';
import { describeIssues } from '../core/validation.js';

export type ProtocolErrorClass = new (message: string) => Error;

/** parses JSON text; throws on bad JSON */
type JsonDecoder = (text: string) => unknown;

/** `what` names the frame in errors, e.g. `Eiger frame 0` */
export function parseJsonFrame(frame: Uint8Array | undefined, what: string, ErrorClass: ProtocolErrorClass,
  decode: JsonDecoder = JSON.parse): unknown {
  if (frame === undefined) throw new ErrorClass(`${what} is missing`);
  try {
    return decode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  } catch (error) {
    throw new ErrorClass(`${what} (${frame.byteLength} bytes) is not JSON: ${(error as Error).message}`);
  }
}

/** Unpickles one frame; `what` names it in errors, e.g. `Contrast message` */
export function loadPickleFrame(frame: Uint8Array, what: string, ErrorClass: ProtocolErrorClass): unknown {
  try {
    return loadPickle(frame);
  } catch (error) {
    throw new ErrorClass(`${what} (${frame.byteLength} bytes) is not a pickle: ${(error as Error).message}`);
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string, ErrorClass: ProtocolErrorClass): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ErrorClass(`${what} is not valid: ${describeIssues(result.error)}`);
  return result.data;
}

export function readJsonFrame<S extends z.ZodType>(
  frame: Uint8Array | undefined, schema: S, what: string, ErrorClass: ProtocolErrorClass, decode?: JsonDecoder,
): z.output<S> {
  return validate(schema, parseJsonFrame(frame, what, ErrorClass, decode), what, ErrorClass);
}

/** throws unless `frames` has `counts` (a number or the allowed numbers) frames */
export function checkFrameCount(frames: readonly unknown[], counts: number | readonly number[], what: string, ErrorClass: ProtocolErrorClass): void {
  if (typeof counts === 'number' ? frames.length === counts : counts.includes(frames.length)) return;
  throw new ErrorClass(`${what} has ${frames.length} frames, expected ${typeof counts === 'number' ? counts : counts.join(' or ')}`);
}

/** a refused message's own number (`key` of its JSON frame 0), if that much of it can still be read */
export function numberInJsonFrame(frames: readonly Buffer[], key: string): number | undefined {
  try {
    const value = (JSON.parse(frames[0]?.toString('utf8') ?? '') as Record<string, unknown>)?.[key];
    return Number.isSafeInteger(value) && (value as number) >= 0 ? value as number : undefined;
  } catch {
    return undefined;
  }
}
