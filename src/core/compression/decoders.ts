/**
 * The decoders as one set, so that the TypeScript and the native implementation stand in for each
 * other, and the choice between them.
 */
import { bitUnshuffle } from './bitshuffle.js';
import { bslz4Decode, bslz4DecodeCompleteBlocks, bslz4DecodeSized, type Bslz4Decoders } from './bslz4.js';
import { lz4Decompress, lz4DecompressBlock } from './lz4.js';
import { nativeDecoders, type LoadedAddon, type SimdLevel } from './native.js';

export interface Decoders extends Bslz4Decoders {
  lz4DecompressBlock: typeof lz4DecompressBlock;
  lz4Decompress: typeof lz4Decompress;
  bitUnshuffle: typeof bitUnshuffle;
}

export const jsDecoders: Decoders = {
  lz4DecompressBlock, lz4Decompress, bitUnshuffle, bslz4Decode, bslz4DecodeSized, bslz4DecodeCompleteBlocks,
};

/** Which decoders are in use, for the bench and the API. */
export interface DecompressionBackend {
  implementation: 'native' | 'js';
  /** native: the instruction set of the bit-unshuffle */
  simd?: SimdLevel;
  /** js: why the native decoders are not used */
  reason?: string;
}

/** The native decoders when the addon loaded, unless `DRANSPOSE_NATIVE=0`; the TypeScript ones otherwise. */
export function chooseDecoders(env: NodeJS.ProcessEnv, loaded: LoadedAddon): { decoders: Decoders; backend: DecompressionBackend } {
  if (env.DRANSPOSE_NATIVE === '0') {
    return { decoders: jsDecoders, backend: { implementation: 'js', reason: 'DRANSPOSE_NATIVE=0 forces the TypeScript decoders' } };
  }
  if (loaded.addon === undefined) return { decoders: jsDecoders, backend: { implementation: 'js', reason: loaded.reason } };
  return { decoders: nativeDecoders(loaded.addon), backend: { implementation: 'native', simd: loaded.addon.simdInUse() } };
}
