/**
 * The native decoders: an N-API addon (native/) that `npm ci` builds through
 * scripts/install-native.js, with liblz4 for LZ4 blocks and our SIMD bit-unshuffle. About 6 times
 * the TypeScript decoders' speed on bslz4 frames (`node bin/run-ts.js scripts/bench/decompression.ts`).
 *
 * Same API and errors as the TypeScript decoders: headers, block plans and output sizes are checked
 * by the same TypeScript code, and any data the addon refuses is decoded again by the TypeScript
 * decoder, the reference for what is accepted and for the message. liblz4 says only "corrupt",
 * and it also refuses blocks that break LZ4's end-of-block rules (the last match 12 bytes or more
 * before the end), which no conforming encoder writes but the TypeScript decoder reads.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defaultBlockElements, planBlocks, wholeElements, type BlockPlan } from './bitshuffle.js';
import { bslz4Decoders, decodeBslz4Blocks, type Bslz4BlocksDecoder } from './bslz4.js';
import type { Decoders } from './decoders.js';
import { lz4Decompressor, lz4DecompressBlock, type Lz4BlockDecoder } from './lz4.js';
import { outputBytes } from './output.js';

export type SimdLevel = 'avx2' | 'sse2' | 'scalar';

/** The addon's functions (native/src/addon.c); they read and write the arrays given, never copy. */
export interface NativeAddon {
  /** decodes into dst[dstStart, dstEnd); returns the end index */
  lz4DecodeBlock(src: Uint8Array, dst: Uint8Array, dstStart: number, dstEnd: number): number;
  bslz4DecodeBlocks(
    blob: Uint8Array, start: number, out: Uint8Array, elementSize: number, blockElements: number,
    totalElements: number, completeOnly: boolean,
  ): [blocks: number, bytesConsumed: number, bytesWritten: number];
  bitUnshuffle(src: Uint8Array, dst: Uint8Array, elementSize: number, blockElements: number): void;
  simdInUse(): SimdLevel;
  /** caps the bit-unshuffle at `level` (or what the CPU has); returns the level in force */
  useSimd(level: SimdLevel): SimdLevel;
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

/** what the addon throws for data it cannot decode (its TypeErrors and RangeErrors are bugs of ours) */
function isRefusedData(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'ERR_DRANSPOSE_CORRUPT';
}

function elementsOf(plan: BlockPlan): number {
  return plan.fullBlocks * plan.blockElements + plan.lastBlockElements + plan.leftoverElements;
}

export function nativeDecoders(addon: NativeAddon): Decoders {
  const decompressBlock: Lz4BlockDecoder = (src, dst, dstStart = 0, dstEnd = dst.length) => {
    try {
      return addon.lz4DecodeBlock(src, dst, dstStart, dstEnd);
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      return lz4DecompressBlock(src, dst, dstStart, dstEnd);
    }
  };

  const decodeBlocks: Bslz4BlocksDecoder = (blob, start, plan, elementSize, out, completeOnly) => {
    try {
      const [blocks, bytesConsumed, written] = addon.bslz4DecodeBlocks(
        blob, start, out, elementSize, plan.blockElements, elementsOf(plan), completeOnly);
      return { data: written === out.length ? out : out.subarray(0, written), blocks, bytesConsumed };
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      return decodeBslz4Blocks(blob, start, plan, elementSize, out, completeOnly);
    }
  };

  const bitUnshuffle = (src: Uint8Array, elementSize: number, blockElements = defaultBlockElements(elementSize)): Uint8Array => {
    planBlocks(wholeElements(src.length, elementSize), blockElements); // the TypeScript checks and messages
    const dst = outputBytes(src.length);
    addon.bitUnshuffle(src, dst, elementSize, blockElements);
    return dst;
  };

  return { lz4DecompressBlock: decompressBlock, lz4Decompress: lz4Decompressor(decompressBlock), bitUnshuffle, ...bslz4Decoders(decodeBlocks) };
}
