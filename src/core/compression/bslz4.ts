/**
 * Bitshuffle-LZ4 ("bslz4", Dectris `bs32-lz4<`, HDF5 filter 32008) blobs:
 *
 *   [u64 BE total uncompressed bytes][u32 BE block bytes]      (the 12-byte header; optional)
 *   [u32 BE compressed length][LZ4 block] …                    (one per bitshuffle block)
 *   [elements % 8 trailing elements, raw]
 *
 * Each LZ4 block expands to one bit-shuffled block (see bitshuffle.ts). Without the header the
 * total size must be known from elsewhere and the block length is bitshuffle's default.
 */
import {
  blockCount, blockElementsAt, defaultBlockElements, planBlocks, shuffleBlock, wholeElements, type BlockPlan,
} from './bitshuffle.js';
import { lz4CompressBlock, lz4CompressBound, lz4DecompressBlock } from './lz4.js';
import { outputBytes } from './output.js';

export const BSLZ4_HEADER_BYTES = 12;

export class Bslz4Error extends Error {
  override name = 'Bslz4Error';
}

export interface Bslz4Header {
  totalBytes: number;
  blockBytes: number;
}

/** Reads the 12-byte header; throws if the blob is too short or the sizes are unusable. */
export function readBslz4Header(blob: Uint8Array): Bslz4Header {
  if (blob.length < BSLZ4_HEADER_BYTES) {
    throw new Bslz4Error(`bslz4 blob of ${blob.length} bytes is shorter than its ${BSLZ4_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, BSLZ4_HEADER_BYTES);
  const totalBytes = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  if (!Number.isSafeInteger(totalBytes)) throw new Bslz4Error(`bslz4 header total size ${totalBytes} is too large`);
  return { totalBytes, blockBytes: view.getUint32(8) };
}

/** What a decode produced: the decoded bytes and how much of the blob they came from. */
export interface Bslz4Decoded {
  data: Uint8Array;
  /** LZ4 blocks decoded */
  blocks: number;
  /** blob bytes read, header included */
  bytesConsumed: number;
}

let scratch = new Uint8Array(0);

function scratchOf(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(bytes);
  return scratch;
}

function blockPlanOf(totalBytes: number, elementSize: number, blockBytes: number): BlockPlan {
  const elements = wholeElements(totalBytes, elementSize, Bslz4Error);
  if (blockBytes <= 0 || blockBytes % (8 * elementSize) !== 0) {
    throw new Bslz4Error(`block size ${blockBytes} bytes is not a positive multiple of 8 ${elementSize}-byte elements`);
  }
  return planBlocks(elements, blockBytes / elementSize);
}

/**
 * Decodes blocks from `blob[start…]` into `out`. With `completeOnly`, stops quietly at the first
 * block (or trailing run) that the blob does not hold entirely; otherwise that is an error.
 */
export type Bslz4BlocksDecoder = (
  blob: Uint8Array, start: number, plan: BlockPlan, elementSize: number, out: Uint8Array, completeOnly: boolean,
) => Bslz4Decoded;

/** The TypeScript blocks decoder (native.ts has the native one). */
const decodeBslz4Blocks: Bslz4BlocksDecoder = (blob, start, plan, elementSize, out, completeOnly) => {
  const total = blockCount(plan);
  let pos = start;
  let written = 0;
  const truncated = (what: string, needed: number): Bslz4Error => new Bslz4Error(
    `bslz4 blob truncated: ${what} needs ${needed} bytes at offset ${pos}, only ${blob.length - pos} remain`);
  const decodedSoFar = (blocks: number): Bslz4Decoded => ({ data: out.subarray(0, written), blocks, bytesConsumed: pos });

  for (let index = 0; index < total; index++) {
    const elements = blockElementsAt(plan, index);
    const blockBytes = elements * elementSize;
    if (pos + 4 > blob.length) {
      if (completeOnly) return decodedSoFar(index);
      throw truncated(`the length of block ${index} of ${total}`, 4);
    }
    const compressed = ((blob[pos] << 24) | (blob[pos + 1] << 16) | (blob[pos + 2] << 8) | blob[pos + 3]) >>> 0;
    if (pos + 4 + compressed > blob.length) {
      if (completeOnly) return decodedSoFar(index);
      throw truncated(`block ${index} of ${total}`, 4 + compressed);
    }
    if (written + blockBytes > out.length) {
      throw new Bslz4Error(`bslz4 output of ${out.length} bytes has no room for block ${index}`);
    }
    const block = scratchOf(blockBytes);
    let decoded: number;
    try {
      decoded = lz4DecompressBlock(blob.subarray(pos + 4, pos + 4 + compressed), block, 0, blockBytes);
    } catch (err) {
      throw new Bslz4Error(`bslz4 block ${index} at offset ${pos}: ${(err as Error).message}`);
    }
    if (decoded !== blockBytes) {
      throw new Bslz4Error(`bslz4 block ${index} at offset ${pos} decompresses to ${decoded} bytes, expected ${blockBytes}`);
    }
    shuffleBlock(block, 0, out, written, elements, elementSize, 'unshuffle');
    written += blockBytes;
    pos += 4 + compressed;
  }

  const leftover = plan.leftoverElements * elementSize;
  if (pos + leftover > blob.length) {
    if (completeOnly) return decodedSoFar(total);
    throw truncated(`the ${plan.leftoverElements} unshuffled trailing elements`, leftover);
  }
  out.set(blob.subarray(pos, pos + leftover), written);
  written += leftover;
  pos += leftover;
  if (!completeOnly && pos !== blob.length) {
    throw new Bslz4Error(`bslz4 blob has ${blob.length - pos} unexpected bytes after its last block`);
  }
  return written === out.length ? { data: out, blocks: total, bytesConsumed: pos } : decodedSoFar(total);
};

/** LZ4 expands at most 255-fold, so no blob decodes to more than this */
function maxDecodedBytes(blobBytes: number): number {
  return 255 * blobBytes;
}

function outputOf(totalBytes: number, out: Uint8Array | undefined): Uint8Array {
  if (out === undefined) return outputBytes(totalBytes);
  if (out.length !== totalBytes) throw new Bslz4Error(`output has ${out.length} bytes, the blob holds ${totalBytes}`);
  return out;
}

/**
 * Whether a blob of `totalBytes` has the header. Fewer than 8 elements make no block, so the
 * headerless blob is the raw bytes alone. Otherwise a headerless blob starts with a block's
 * compressed length, never 0, where a header (for sizes below 4 GiB) starts with a u32 of 0.
 */
function startsWithHeader(blob: Uint8Array, elementSize: number, totalBytes: number): boolean {
  if (totalBytes < 8 * elementSize) return blob.length !== totalBytes;
  if (blob.length < BSLZ4_HEADER_BYTES) return false;
  return readBslz4Header(blob).totalBytes === totalBytes || (blob[0] | blob[1] | blob[2] | blob[3]) === 0;
}

export interface Bslz4Decoders {
  /** Decodes a complete blob with the 12-byte header into `out` (or a fresh array). */
  bslz4Decode(blob: Uint8Array, elementSize: number, out?: Uint8Array): Uint8Array;
  /**
   * Decodes a complete blob that must hold `totalBytes` bytes, with or without the 12-byte header
   * (bitshuffle's Python `compress_lz4` writes none; then the block length is bitshuffle's default).
   */
  bslz4DecodeSized(blob: Uint8Array, elementSize: number, totalBytes: number, out?: Uint8Array): Uint8Array;
  /**
   * Decodes as many complete blocks as a (possibly truncated) blob with header holds: for
   * captures whose binary parts were cut short. `data` holds only the decoded elements.
   */
  bslz4DecodeCompleteBlocks(blob: Uint8Array, elementSize: number): Bslz4Decoded;
}

/** The bslz4 decoders on top of a blocks decoder: the header, the block plan and the output are checked here. */
export function bslz4Decoders(decodeBlocksWith: Bslz4BlocksDecoder): Bslz4Decoders {
  function bslz4Decode(blob: Uint8Array, elementSize: number, out?: Uint8Array): Uint8Array {
    const { totalBytes, blockBytes } = readBslz4Header(blob);
    if (totalBytes > maxDecodedBytes(blob.length)) {
      throw new Bslz4Error(`bslz4 header announces ${totalBytes} bytes, more than a ${blob.length}-byte blob can hold (truncated or corrupt)`);
    }
    const plan = blockPlanOf(totalBytes, elementSize, blockBytes);
    return decodeBlocksWith(blob, BSLZ4_HEADER_BYTES, plan, elementSize, outputOf(totalBytes, out), false).data;
  }

  function bslz4DecodeSized(blob: Uint8Array, elementSize: number, totalBytes: number, out?: Uint8Array): Uint8Array {
    if (startsWithHeader(blob, elementSize, totalBytes)) {
      const announced = readBslz4Header(blob).totalBytes;
      if (announced !== totalBytes) throw new Bslz4Error(`bslz4 header announces ${announced} bytes, expected ${totalBytes}`);
      return bslz4Decode(blob, elementSize, out);
    }
    const plan = blockPlanOf(totalBytes, elementSize, defaultBlockElements(elementSize) * elementSize);
    return decodeBlocksWith(blob, 0, plan, elementSize, outputOf(totalBytes, out), false).data;
  }

  function bslz4DecodeCompleteBlocks(blob: Uint8Array, elementSize: number): Bslz4Decoded {
    const { totalBytes, blockBytes } = readBslz4Header(blob);
    const plan = blockPlanOf(totalBytes, elementSize, blockBytes);
    // a truncated blob may announce gigabytes: allocate only what it can expand to
    const out = new Uint8Array(Math.min(totalBytes, maxDecodedBytes(blob.length)));
    return decodeBlocksWith(blob, BSLZ4_HEADER_BYTES, plan, elementSize, out, true);
  }

  return { bslz4Decode, bslz4DecodeSized, bslz4DecodeCompleteBlocks };
}

export const { bslz4Decode, bslz4DecodeSized, bslz4DecodeCompleteBlocks } = bslz4Decoders(decodeBslz4Blocks);

export interface Bslz4EncodeOptions {
  /** write the 12-byte header (default true) */
  header?: boolean;
  /** bitshuffle block length in elements (default: bitshuffle's, 8192 bytes' worth) */
  blockElements?: number;
}

/** Encodes raw little-endian elements of `elementSize` bytes as a bslz4 blob. */
export function bslz4Encode(data: Uint8Array, elementSize: number, options: Bslz4EncodeOptions = {}): Buffer {
  const blockElements = options.blockElements ?? defaultBlockElements(elementSize);
  const plan = blockPlanOf(data.length, elementSize, blockElements * elementSize);
  const total = blockCount(plan);
  const headerBytes = options.header === false ? 0 : BSLZ4_HEADER_BYTES;
  const out = Buffer.allocUnsafe(
    headerBytes + total * (4 + lz4CompressBound(blockElements * elementSize)) + plan.leftoverElements * elementSize);
  if (headerBytes > 0) {
    out.writeBigUInt64BE(BigInt(data.length), 0);
    out.writeUInt32BE(blockElements * elementSize, 8);
  }
  const shuffled = new Uint8Array(blockElements * elementSize);
  let pos = headerBytes;
  let offset = 0;
  for (let index = 0; index < total; index++) {
    const elements = blockElementsAt(plan, index);
    const blockBytes = elements * elementSize;
    shuffleBlock(data, offset, shuffled, 0, elements, elementSize, 'shuffle');
    const end = lz4CompressBlock(shuffled.subarray(0, blockBytes), out, pos + 4);
    out.writeUInt32BE(end - pos - 4, pos);
    pos = end;
    offset += blockBytes;
  }
  out.set(data.subarray(offset), pos);
  pos += data.length - offset;
  return out.subarray(0, pos);
}
