/**
 * Codecs for compressed detector frames: LZ4 blocks, bitshuffle, bitshuffle-LZ4. The decoders
 * exported here are the native ones (native.ts) when the addon loads, the TypeScript ones
 * otherwise or with DRANSPOSE_NATIVE=0; `decompressionBackend` says which.
 */
import { chooseDecoders } from './decoders.js';
import { loadNativeAddon } from './native.js';

export * from './lz4.js';
export * from './bitshuffle.js';
export * from './bslz4.js';
export { jsDecoders, type Decoders, type DecompressionBackend } from './decoders.js';

const chosen = chooseDecoders(process.env, loadNativeAddon());
export const decompressionBackend = chosen.backend;
export const {
  lz4DecompressBlock, lz4Decompress, bitUnshuffle, bslz4Decode, bslz4DecodeSized, bslz4DecodeCompleteBlocks,
} = chosen.decoders;
