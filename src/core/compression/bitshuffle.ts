/**
 * Bit-shuffle as the bitshuffle library does it: the array is cut into blocks of `blockElements`
 * elements; inside a block of n elements (n a multiple of 8), the output is 8·elementSize rows of
 * n/8 bytes, row 8·b+j holding bit j of byte b of every element (LSB first). A last partial block
 * is rounded down to a multiple of 8 elements; the trailing `elements % 8` are copied as they are.
 */
import { endianness } from 'node:os';

/** bitshuffle's target block size in bytes when none is given */
const TARGET_BLOCK_BYTES = 8192;
const MIN_BLOCK_ELEMENTS = 128;

export class BitshuffleError extends Error {
  override name = 'BitshuffleError';
}

/** bitshuffle's default block length (in elements) for an element size; stable across its versions. */
export function defaultBlockElements(elementSize: number): number {
  const elements = Math.floor(TARGET_BLOCK_BYTES / elementSize);
  return Math.max(elements - (elements % 8), MIN_BLOCK_ELEMENTS);
}

/** How bitshuffle cuts `elements` elements into blocks. */
export interface BlockPlan {
  blockElements: number;
  fullBlocks: number;
  /** elements of the last, partial block (a multiple of 8; 0 = none) */
  lastBlockElements: number;
  /** elements after the last block, stored unshuffled */
  leftoverElements: number;
}

/** The number of `elementSize`-byte elements in `bytes` bytes; throws `Failure` unless both are sound. */
export function wholeElements(
  bytes: number, elementSize: number, Failure: new (message: string) => Error = BitshuffleError,
): number {
  if (!Number.isInteger(elementSize) || elementSize <= 0) {
    throw new Failure(`element size must be a positive integer, got ${elementSize}`);
  }
  if (bytes % elementSize !== 0) {
    throw new Failure(`${bytes} bytes is not a whole number of ${elementSize}-byte elements`);
  }
  return bytes / elementSize;
}

export function planBlocks(elements: number, blockElements: number): BlockPlan {
  if (!Number.isInteger(blockElements) || blockElements <= 0 || blockElements % 8 !== 0) {
    throw new BitshuffleError(`block length must be a positive multiple of 8 elements, got ${blockElements}`);
  }
  const rest = elements % blockElements;
  return {
    blockElements,
    fullBlocks: Math.floor(elements / blockElements),
    lastBlockElements: rest - (rest % 8),
    leftoverElements: elements % 8,
  };
}

export function blockCount(plan: BlockPlan): number {
  return plan.fullBlocks + (plan.lastBlockElements > 0 ? 1 : 0);
}

export function blockElementsAt(plan: BlockPlan, index: number): number {
  return index < plan.fullBlocks ? plan.blockElements : plan.lastBlockElements;
}

export type ShuffleDirection = 'shuffle' | 'unshuffle';

/**
 * Shuffles or unshuffles one block of `elements` elements (a multiple of 8) from `src` at
 * `srcOffset` to `dst` at `dstOffset`. Unshuffling, the hot path of every bslz4 decode, runs on
 * 32-bit words when the layout allows it; everything else goes byte by byte.
 */
export function shuffleBlock(
  src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number,
  elements: number, elementSize: number, direction: ShuffleDirection,
): void {
  if (direction === 'unshuffle' && LITTLE_ENDIAN && elements % 32 === 0
    && (elementSize === 1 || elementSize === 2 || elementSize % 4 === 0)
    && (src.byteOffset + srcOffset) % 4 === 0 && (dst.byteOffset + dstOffset) % 4 === 0) {
    unshuffleBlockByWords(src, srcOffset, dst, dstOffset, elements, elementSize);
  } else {
    shuffleBlockByBytes(src, srcOffset, dst, dstOffset, elements, elementSize, direction === 'shuffle');
  }
}

/**
 * Works on 8×8 bit matrices: 8 bytes are gathered into two 32-bit words, transposed with three
 * delta swaps, and scattered; both directions are the same transpose with the gather and scatter
 * strides exchanged.
 */
function shuffleBlockByBytes(
  src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number,
  elements: number, elementSize: number, shuffle: boolean,
): void {
  const columns = elements >>> 3; // bytes per bit-row
  const inStep = shuffle ? elementSize : columns;
  const outStep = shuffle ? columns : elementSize;
  const elementGroupStep = 8 * elementSize; // from element 8m to element 8(m+1)
  for (let b = 0; b < elementSize; b++) {
    const rowBase = 8 * b * columns;
    for (let m = 0; m < columns; m++) {
      const elementByte = m * elementGroupStep + b; // byte b of element 8m
      const rowByte = rowBase + m;                  // byte m of bit-row 8b
      let i = srcOffset + (shuffle ? elementByte : rowByte);
      let lo = src[i] | (src[i + inStep] << 8) | (src[i + 2 * inStep] << 16) | (src[i + 3 * inStep] << 24);
      i += 4 * inStep;
      let hi = src[i] | (src[i + inStep] << 8) | (src[i + 2 * inStep] << 16) | (src[i + 3 * inStep] << 24);

      // transpose the 8×8 bit matrix (byte k = row k, bit j = column j) about its diagonal
      let t = (lo ^ (lo >>> 7)) & 0x00aa00aa;
      lo ^= t ^ (t << 7);
      t = (hi ^ (hi >>> 7)) & 0x00aa00aa;
      hi ^= t ^ (t << 7);
      t = (lo ^ (lo >>> 14)) & 0x0000cccc;
      lo ^= t ^ (t << 14);
      t = (hi ^ (hi >>> 14)) & 0x0000cccc;
      hi ^= t ^ (t << 14);
      t = ((lo >>> 4) ^ hi) & 0x0f0f0f0f;
      hi ^= t;
      lo ^= t << 4;

      let o = dstOffset + (shuffle ? rowByte : elementByte);
      dst[o] = lo;
      dst[o + outStep] = lo >>> 8;
      dst[o + 2 * outStep] = lo >>> 16;
      dst[o + 3 * outStep] = lo >>> 24;
      o += 4 * outStep;
      dst[o] = hi;
      dst[o + outStep] = hi >>> 8;
      dst[o + 2 * outStep] = hi >>> 16;
      dst[o + 3 * outStep] = hi >>> 24;
    }
  }
}

/** Uint32Array views read bytes in host order; the word path assumes little-endian. */
const LITTLE_ENDIAN = endianness() === 'LE';

let planeScratch = new Uint32Array(0);

/** Transposes the 4×4 byte matrix whose rows are a0…a3 and stores its rows `stride` words apart. */
function storeBytesTransposed(
  a0: number, a1: number, a2: number, a3: number, out: Uint32Array, o: number, stride: number,
): void {
  let t = ((a0 >>> 8) ^ a1) & 0x00ff00ff;
  a1 ^= t;
  a0 ^= t << 8;
  t = ((a2 >>> 8) ^ a3) & 0x00ff00ff;
  a3 ^= t;
  a2 ^= t << 8;
  t = ((a0 >>> 16) ^ a2) & 0x0000ffff;
  a2 ^= t;
  a0 ^= t << 16;
  t = ((a1 >>> 16) ^ a3) & 0x0000ffff;
  a3 ^= t;
  a1 ^= t << 16;
  out[o] = a0;
  out[o + stride] = a1;
  out[o + 2 * stride] = a2;
  out[o + 3 * stride] = a3;
}

/**
 * Unshuffle, two passes on 32-bit words. Pass 1, per byte b of the elements: one word from each
 * of the 8 bit-rows 8b…8b+7 holds four 8×8 bit matrices side by side (one per byte lane); 12
 * delta swaps transpose all four at once, and a 4×4 byte transpose puts the results in element
 * order, giving "byte plane" b (byte b of every element). Pass 2 interleaves the planes into
 * elements. Needs `elements` % 32 = 0, 4-byte aligned src and dst, and a little-endian host.
 */
function unshuffleBlockByWords(
  src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number,
  elements: number, elementSize: number,
): void {
  const words = (elements * elementSize) >>> 2;
  const in32 = new Uint32Array(src.buffer, src.byteOffset + srcOffset, words);
  const out32 = new Uint32Array(dst.buffer, dst.byteOffset + dstOffset, words);
  const planeWords = elements >>> 2;
  if (elementSize > 1 && planeScratch.length < words) planeScratch = new Uint32Array(words);
  const planes = elementSize === 1 ? out32 : planeScratch;
  const rowWords = elements >>> 5;

  for (let b = 0; b < elementSize; b++) {
    const rowBase = 8 * b * rowWords;
    const planeBase = b * planeWords;
    for (let w = 0; w < rowWords; w++) {
      const r = rowBase + w;
      let x0 = in32[r], x1 = in32[r + rowWords], x2 = in32[r + 2 * rowWords], x3 = in32[r + 3 * rowWords];
      let x4 = in32[r + 4 * rowWords], x5 = in32[r + 5 * rowWords], x6 = in32[r + 6 * rowWords];
      let x7 = in32[r + 7 * rowWords];
      let t = ((x0 >>> 1) ^ x1) & 0x55555555; x1 ^= t; x0 ^= t << 1;
      t = ((x2 >>> 1) ^ x3) & 0x55555555; x3 ^= t; x2 ^= t << 1;
      t = ((x4 >>> 1) ^ x5) & 0x55555555; x5 ^= t; x4 ^= t << 1;
      t = ((x6 >>> 1) ^ x7) & 0x55555555; x7 ^= t; x6 ^= t << 1;
      t = ((x0 >>> 2) ^ x2) & 0x33333333; x2 ^= t; x0 ^= t << 2;
      t = ((x1 >>> 2) ^ x3) & 0x33333333; x3 ^= t; x1 ^= t << 2;
      t = ((x4 >>> 2) ^ x6) & 0x33333333; x6 ^= t; x4 ^= t << 2;
      t = ((x5 >>> 2) ^ x7) & 0x33333333; x7 ^= t; x5 ^= t << 2;
      t = ((x0 >>> 4) ^ x4) & 0x0f0f0f0f; x4 ^= t; x0 ^= t << 4;
      t = ((x1 >>> 4) ^ x5) & 0x0f0f0f0f; x5 ^= t; x1 ^= t << 4;
      t = ((x2 >>> 4) ^ x6) & 0x0f0f0f0f; x6 ^= t; x2 ^= t << 4;
      t = ((x3 >>> 4) ^ x7) & 0x0f0f0f0f; x7 ^= t; x3 ^= t << 4;
      // now byte lane q of x_k is byte b of element 8(4w+q)+k
      const o = planeBase + 8 * w;
      storeBytesTransposed(x0, x1, x2, x3, planes, o, 2);
      storeBytesTransposed(x4, x5, x6, x7, planes, o + 1, 2);
    }
  }

  if (elementSize === 2) {
    for (let w = 0; w < planeWords; w++) {
      const low = planes[w];
      const high = planes[w + planeWords];
      out32[2 * w] = (low & 0xff) | ((high & 0xff) << 8) | ((low & 0xff00) << 8) | ((high & 0xff00) << 16);
      out32[2 * w + 1] = ((low >>> 16) & 0xff) | ((high >>> 8) & 0xff00) | ((low >>> 8) & 0xff0000)
        | (high & 0xff000000);
    }
  } else if (elementSize > 2) {
    // each group of 4 planes gives one 32-bit word of every element
    const groups = elementSize >>> 2;
    for (let g = 0; g < groups; g++) {
      const p = 4 * g * planeWords;
      for (let w = 0; w < planeWords; w++) {
        storeBytesTransposed(planes[p + w], planes[p + planeWords + w], planes[p + 2 * planeWords + w],
          planes[p + 3 * planeWords + w], out32, 4 * w * groups + g, groups);
      }
    }
  }
}

function transform(
  src: Uint8Array, elementSize: number, blockElements: number, direction: ShuffleDirection,
): Uint8Array {
  const plan = planBlocks(wholeElements(src.length, elementSize), blockElements);
  const dst = new Uint8Array(src.length);
  let offset = 0;
  for (let index = 0; index < blockCount(plan); index++) {
    const elements = blockElementsAt(plan, index);
    shuffleBlock(src, offset, dst, offset, elements, elementSize, direction);
    offset += elements * elementSize;
  }
  dst.set(src.subarray(offset), offset);
  return dst;
}

/** Bit-shuffles `src` (elements of `elementSize` bytes) into a fresh array. */
export function bitShuffle(
  src: Uint8Array, elementSize: number, blockElements = defaultBlockElements(elementSize),
): Uint8Array {
  return transform(src, elementSize, blockElements, 'shuffle');
}

/** Inverse of bitShuffle with the same element size and block length. */
export function bitUnshuffle(
  src: Uint8Array, elementSize: number, blockElements = defaultBlockElements(elementSize),
): Uint8Array {
  return transform(src, elementSize, blockElements, 'unshuffle');
}
