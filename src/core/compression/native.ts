/**
 * The native decoders: an N-API addon (native/) that `npm ci` builds through
 * scripts/install-native.js, with our own LZ4 block decoder and SIMD bit-unshuffle in C. About 6
 * times the TypeScript decoders' speed on bslz4 frames (`node bin/run-ts.js scripts/bench/decompression.ts`).
 *
 * Same API, verdicts and messages as the TypeScript decoders (test/compression-native.test.ts
 * holds them to it): headers, block plans and output sizes are checked by the same TypeScript
 * code, and the C code refuses exactly what lz4.ts and bslz4.ts refuse, with their words; its
 * refusals are rethrown here as their error classes.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defaultBlockElements, planBlocks, wholeElements, type BlockPlan } from './bitshuffle.js';
import { Bslz4Error, bslz4Decoders, type Bslz4BlocksDecoder } from './bslz4.js';
import type { Decoders } from './decoders.js';
import { Lz4Error, lz4Decompressor, type Lz4BlockDecoder } from './lz4.js';
import { outputBytes } from './output.js';

export type SimdLevel = 'avx2' | 'sse2' | 'scalar';

/** The addon's functions (native/src/addon.c); they read and write the arrays given, never copy. */
export interface NativeAddon {
  /**
   * decodes into dst[dstStart, dstEnd) and returns the end index; unlike the TypeScript decoder it
   * may also overwrite up to 32 bytes after that end, inside the window (it copies in 16-byte chunks)
   */
  lz4DecodeBlock(src: Uint8Array, dst: Uint8Array, dstStart: number, dstEnd: number): number;
  bslz4DecodeBlocks(
    blob: Uint8Array, start: number, out: Uint8Array, elementSize: number, blockElements: number,
    totalElements: number, completeOnly: boolean,
  ): [blocks: number, bytesConsumed: number, bytesWritten: number];
  bitUnshuffle(src: Uint8Array, dst: Uint8Array, elementSize: number, blockElements: number): void;
  simdInUse(): SimdLevel;
  /** caps the bit-unshuffle at `level` (or what the CPU has); returns the level in force */
  useSimd(level: SimdLevel): SimdLevel;
  /**
   * Not a decoder: a new memory file of `length` bytes mapped shared, as its descriptor (close-on-exec,
   * the caller's to close) and an ArrayBuffer over the mapping (src/python/shared-frames.ts)
   */
  createSharedMemory(length: number): [fd: number, memory: ArrayBuffer];
}

export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/dranspose_native.node', import.meta.url));

export type LoadedAddon = { addon: NativeAddon; reason?: undefined } | { addon?: undefined; reason: string };

export function loadNativeAddon(path = NATIVE_ADDON_PATH): LoadedAddon {
  if (!existsSync(path)) {
    return { reason: `the native addon is not built (no ${path}; \`node scripts/install-native.js\` builds it)` };
  }
  try {
    return { addon: createRequire(import.meta.url)(path) as NativeAddon };
  } catch (err) {
    return { reason: `the native addon does not load: ${(err as Error).message}` };
  }
}

/** the addon's refusals of data as `Failure`s (its TypeErrors and RangeErrors are bugs of ours) */
function refusalsAs<T>(Failure: new (message: string) => Error, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if ((err as { code?: unknown } | undefined)?.code === 'ERR_DRANSPOSE_CORRUPT') throw new Failure((err as Error).message);
    throw err;
  }
}

function elementsOf(plan: BlockPlan): number {
  return plan.fullBlocks * plan.blockElements + plan.lastBlockElements + plan.leftoverElements;
}

export function nativeDecoders(addon: NativeAddon): Decoders {
  const decompressBlock: Lz4BlockDecoder = (src, dst, dstStart = 0, dstEnd = dst.length) =>
    refusalsAs(Lz4Error, () => addon.lz4DecodeBlock(src, dst, dstStart, dstEnd));

  const decodeBlocks: Bslz4BlocksDecoder = (blob, start, plan, elementSize, out, completeOnly) => {
    const [blocks, bytesConsumed, written] = refusalsAs(Bslz4Error, () => addon.bslz4DecodeBlocks(
      blob, start, out, elementSize, plan.blockElements, elementsOf(plan), completeOnly));
    return { data: written === out.length ? out : out.subarray(0, written), blocks, bytesConsumed };
  };

  const bitUnshuffle = (src: Uint8Array, elementSize: number, blockElements = defaultBlockElements(elementSize)): Uint8Array => {
    planBlocks(wholeElements(src.length, elementSize), blockElements); // the TypeScript checks and messages
    const dst = outputBytes(src.length);
    addon.bitUnshuffle(src, dst, elementSize, blockElements);
    return dst;
  };

  return { lz4DecompressBlock: decompressBlock, lz4Decompress: lz4Decompressor(decompressBlock), bitUnshuffle, ...bslz4Decoders(decodeBlocks) };
}
