/** Codecs for compressed detector frames: LZ4 blocks, bitshuffle, bitshuffle-LZ4. */
export * from './lz4.js';
export * from './bitshuffle.js';
export * from './bslz4.js';
