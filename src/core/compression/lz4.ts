/**
 * LZ4 *block* format (no frame header, no checksums), as used inside bitshuffle-LZ4 and by
 * detectors that send one raw LZ4 block per image.
 *
 * Written here rather than wrapping lz4js: its block decoder does no bounds checks (corrupt input
 * yields silently wrong pixels) and its block encoder can place a match inside the last 12 bytes,
 * which the reference LZ4 decoder (and so Python/bitshuffle readers of our emulator) rejects.
 */
import { outputBytes } from './output.js';

const MIN_MATCH = 4;
/** the last 5 bytes of a block are always literals */
const LAST_LITERALS = 5;
/** the last match must start at least 12 bytes before the end of the block */
const MF_LIMIT = 12;
const MAX_OFFSET = 0xffff;
const HASH_LOG = 12;
/** below this length a byte loop beats the call overhead of set()/copyWithin() */
const BULK_COPY_MIN = 32;

export class Lz4Error extends Error {
  override name = 'Lz4Error';
}

/** Worst-case compressed size of `length` input bytes. */
export function lz4CompressBound(length: number): number {
  return length + Math.floor(length / 255) + 16;
}

/**
 * Decompresses one LZ4 block `src` into `dst[dstStart, dstEnd)` and returns the end index of what
 * was written. Throws an Lz4Error on any malformed input instead of writing garbage.
 */
export function lz4DecompressBlock(src: Uint8Array, dst: Uint8Array, dstStart = 0, dstEnd = dst.length): number {
  const srcEnd = src.length;
  if (srcEnd === 0) throw new Lz4Error('LZ4 block is empty');
  let s = 0;
  let d = dstStart;
  for (;;) {
    const token = src[s++];

    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (s >= srcEnd) throw new Lz4Error(`LZ4 block truncated in a literal length at byte ${s}`);
        byte = src[s++];
        literals += byte;
      } while (byte === 255);
    }
    if (s + literals > srcEnd) {
      throw new Lz4Error(`LZ4 block truncated: ${literals} literals at byte ${s} run past its end (${srcEnd} bytes)`);
    }
    if (d + literals > dstEnd) throw new Lz4Error(`LZ4 block decompresses to more than ${dstEnd - dstStart} bytes`);
    if (literals < BULK_COPY_MIN) {
      for (let i = 0; i < literals; i++) dst[d + i] = src[s + i];
    } else {
      dst.set(src.subarray(s, s + literals), d);
    }
    s += literals;
    d += literals;

    if (s === srcEnd) return d; // the last sequence has literals only

    if (s + 2 > srcEnd) throw new Lz4Error(`LZ4 block truncated in a match offset at byte ${s}`);
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d - dstStart) {
      throw new Lz4Error(`LZ4 block has a bad match offset ${offset} at byte ${s - 2} (${d - dstStart} bytes decoded)`);
    }

    let length = token & 15;
    if (length === 15) {
      let byte: number;
      do {
        if (s >= srcEnd) throw new Lz4Error(`LZ4 block truncated in a match length at byte ${s}`);
        byte = src[s++];
        length += byte;
      } while (byte === 255);
    }
    length += MIN_MATCH;
    if (d + length > dstEnd) throw new Lz4Error(`LZ4 block decompresses to more than ${dstEnd - dstStart} bytes`);

    const from = d - offset;
    if (length < BULK_COPY_MIN) {
      for (let i = 0; i < length; i++) dst[d + i] = dst[from + i];
      d += length;
    } else {
      // An overlapping match repeats a pattern of period `offset`: copy in growing chunks, each
      // reading only bytes that are already final.
      const end = d + length;
      while (d < end) {
        const chunk = Math.min(end - d, d - from);
        dst.copyWithin(d, from, from + chunk);
        d += chunk;
      }
    }
    if (s >= srcEnd) throw new Lz4Error('LZ4 block ends with a match instead of literals');
  }
}

export type Lz4BlockDecoder = typeof lz4DecompressBlock;

/** `lz4Decompress` on top of a block decoder: this module's, or the native one (native.ts). */
export function lz4Decompressor(decompressBlock: Lz4BlockDecoder): (src: Uint8Array, size: number) => Uint8Array {
  return (src, size) => {
    const out = outputBytes(size);
    const written = decompressBlock(src, out);
    if (written !== size) throw new Lz4Error(`LZ4 block decompresses to ${written} bytes, expected ${size}`);
    return out;
  };
}

/** Decompresses one LZ4 block that must expand to exactly `size` bytes, into a fresh array. */
export const lz4Decompress = lz4Decompressor(lz4DecompressBlock);

const hashTable = new Int32Array(1 << HASH_LOG);

function read32(bytes: Uint8Array, i: number): number {
  return bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
}

function writeLength(dst: Uint8Array, d: number, excess: number): number {
  for (; excess >= 255; excess -= 255) dst[d++] = 255;
  dst[d++] = excess;
  return d;
}

function writeSequence(
  dst: Uint8Array, d: number, src: Uint8Array, literalStart: number, literalEnd: number,
  offset: number, matchLength: number,
): number {
  const literals = literalEnd - literalStart;
  const matchExcess = matchLength - MIN_MATCH;
  dst[d++] = (Math.min(literals, 15) << 4) | (offset === 0 ? 0 : Math.min(matchExcess, 15));
  if (literals >= 15) d = writeLength(dst, d, literals - 15);
  dst.set(src.subarray(literalStart, literalEnd), d);
  d += literals;
  if (offset === 0) return d;
  dst[d++] = offset & 0xff;
  dst[d++] = offset >>> 8;
  if (matchExcess >= 15) d = writeLength(dst, d, matchExcess - 15);
  return d;
}

/**
 * Compresses `src` as one LZ4 block into `dst` from `dstStart` (which needs
 * `lz4CompressBound(src.length)` bytes of room) and returns the end index. Greedy single-probe
 * hash matching: fast and standard-conforming, not maximal compression.
 */
export function lz4CompressBlock(src: Uint8Array, dst: Uint8Array, dstStart = 0): number {
  const length = src.length;
  if (dst.length - dstStart < lz4CompressBound(length)) {
    throw new RangeError(`LZ4 output needs ${lz4CompressBound(length)} bytes of room, has ${dst.length - dstStart}`);
  }
  let d = dstStart;
  let anchor = 0;
  if (length > MF_LIMIT) {
    hashTable.fill(-1);
    const lastMatchStart = length - MF_LIMIT;
    const matchEndLimit = length - LAST_LITERALS;
    let p = 0;
    let misses = 1 << 6; // after 64 misses in a row, start skipping ahead (incompressible data)
    while (p <= lastMatchStart) {
      const sequence = read32(src, p);
      const hash = Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);
      const candidate = hashTable[hash];
      hashTable[hash] = p;
      if (candidate < 0 || p - candidate > MAX_OFFSET || read32(src, candidate) !== sequence) {
        p += misses++ >>> 6;
        continue;
      }
      misses = 1 << 6;
      let end = p + MIN_MATCH;
      let from = candidate + MIN_MATCH;
      while (end < matchEndLimit && src[end] === src[from]) { end++; from++; }
      d = writeSequence(dst, d, src, anchor, p, p - candidate, end - p);
      anchor = p = end;
    }
  }
  return writeSequence(dst, d, src, anchor, length, 0, 0);
}

/** Compresses `src` into a fresh, exactly sized LZ4 block. */
export function lz4Compress(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(lz4CompressBound(src.length));
  return out.subarray(0, lz4CompressBlock(src, out));
}
