/** Turns a forwarded STINS StreamData into a typed packet with the image as an NDArray. */
import type { StreamData } from '../../core/types.js';
import { elementCount, itemSize, ndarrayFromBytes, type NDArray } from '../../core/ndarray.js';
import { bslz4DecodeSized, lz4Decompress } from '../../core/compression/index.js';
import {
  readStinsMessage, StinsError, STINS_TYP, type StinsEnd, type StinsImageHeader, type StinsStart,
} from './messages.js';

export type StinsPacket =
  | { kind: 'start'; header: StinsStart; /** frame 1, the series' JSON meta, unparsed */ meta?: Buffer }
  | { kind: 'image'; header: StinsImageHeader; image: NDArray }
  | { kind: 'end'; header: StinsEnd };

/**
 * The pixels of an image message. Uncompressed data is a view of the frame (copied only when the
 * frame is not aligned to the element size); compressed data is decoded into a fresh array.
 */
function decodeImage(header: StinsImageHeader, payload: Buffer): NDArray {
  const { type: dtype, shape, compression } = header;
  const size = itemSize(dtype);
  const bytes = elementCount(shape) * size;
  try {
    switch (compression) {
      case 'none':
        return ndarrayFromBytes(payload, dtype, shape);
      case 'lz4':
        return ndarrayFromBytes(lz4Decompress(payload, bytes), dtype, shape);
      case 'bslz4':
        return ndarrayFromBytes(bslz4DecodeSized(payload, size, bytes), dtype, shape);
    }
  } catch (err) {
    throw new StinsError(`STINS image frame ${header.frame} (${compression} ${dtype} ${JSON.stringify(shape)}, `
      + `${payload.length} bytes): ${(err as Error).message}`);
  }
}

export function parseStins(data: StreamData): StinsPacket {
  if (data.typ !== STINS_TYP) throw new StinsError(`expected StreamData of typ ${STINS_TYP}, got ${JSON.stringify(data.typ)}`);
  const message = readStinsMessage(data.frames);
  switch (message.htype) {
    case 'header':
      return data.frames.length > 1 ? { kind: 'start', header: message, meta: data.frames[1] } : { kind: 'start', header: message };
    case 'image':
      return { kind: 'image', header: message, image: decodeImage(message, data.frames[1]) };
    case 'series_end':
      return { kind: 'end', header: message };
  }
}
