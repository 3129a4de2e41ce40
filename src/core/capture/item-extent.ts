/**
 * Finds where one CBOR data item ends by reading only its heads (RFC 8949 §3), skipping string payloads.
 * The stream reader needs this to cut an item out of a chunked stream with at most one copy; cbor-x's own
 * chunk decoder re-copies partial items as they grow and cannot say where in a file an item starts.
 * Decoding the item is left to cbor-x.
 */
import { constants } from 'node:buffer';

export type ItemExtent =
  | { complete: true; length: number }
  /** `needed` is a lower bound of the item's length: nothing new can be learnt before that many bytes are present */
  | { complete: false; needed: number };

/** `position` counts from the start of the item */
export class CorruptCborError extends Error {
  constructor(readonly position: number, readonly problem: string) {
    super(`corrupt CBOR at byte ${position} of the item: ${problem}`);
  }
}

const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
export const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const INDEFINITE = 31;
const BREAK = 0xff;

/** Measures the item at the front of `available` bytes, read through `byteAt`. */
export function measureItem(byteAt: (index: number) => number, available: number): ItemExtent {
  // items still expected at each open nesting level; Infinity for indefinite-length containers
  const remaining: number[] = [1];
  let pos = 0;
  while (remaining.length > 0) {
    const level = remaining.length - 1;
    if (remaining[level] === 0) {
      remaining.pop();
      continue;
    }
    if (pos >= available) return { complete: false, needed: pos + 1 };
    const initial = byteAt(pos);
    if (initial === BREAK) {
      if (remaining[level] !== Infinity) throw new CorruptCborError(pos, 'break byte 0xff outside an indefinite-length item');
      remaining.pop();
      pos += 1;
      continue;
    }
    remaining[level] -= 1;
    const major = initial >> 5;
    const info = initial & 0x1f;
    let argument = info;
    pos += 1;
    if (info >= 24 && info <= 27) {
      const width = 1 << (info - 24);
      if (pos + width > available) return { complete: false, needed: pos + width };
      argument = 0;
      for (let i = 0; i < width; i++) argument = argument * 256 + byteAt(pos + i);
      pos += width;
    } else if (info === INDEFINITE) {
      if (major < MAJOR_BYTES || major > MAJOR_MAP) {
        throw new CorruptCborError(pos - 1, `head byte 0x${initial.toString(16)} has no indefinite-length form`);
      }
    } else if (info > 27) {
      throw new CorruptCborError(pos - 1, `head byte 0x${initial.toString(16)} uses reserved additional information ${info}`);
    }
    const indefinite = info === INDEFINITE;
    switch (major) {
      case MAJOR_BYTES:
      case MAJOR_TEXT:
        if (indefinite) remaining.push(Infinity);
        else pos += checkedLength(argument, pos);
        break;
      case MAJOR_ARRAY:
        remaining.push(indefinite ? Infinity : checkedLength(argument, pos));
        break;
      case MAJOR_MAP:
        remaining.push(indefinite ? Infinity : 2 * checkedLength(argument, pos));
        break;
      case MAJOR_TAG:
        remaining.push(1);
        break;
      default: // integers, simple values and floats: the head is the whole item
        break;
    }
    if (pos > available) return { complete: false, needed: pos };
  }
  return { complete: true, length: pos };
}

function checkedLength(length: number, pos: number): number {
  if (length > constants.MAX_LENGTH) {
    throw new CorruptCborError(pos, `declared length ${length} is larger than any buffer`);
  }
  return length;
}
