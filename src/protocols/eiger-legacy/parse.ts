/**
 * Turns a forwarded Eiger legacy StreamData into a typed packet. Images keep their compressed
 * blob (a view of the frame, as the original does); `decodeEigerImage` decompresses it.
 */
import type { StreamData } from '../../core/types.js';
import { elementCount, itemSize, ndarrayFromBytes, type NDArray } from '../../core/ndarray.js';
import { bslz4DecodeSized, lz4Decompress } from '../../core/compression/index.js';
import { readJsonFrame } from '../json-frame.js';
import {
  EIGER_ARRAY_PARTS, EIGER_HEADER_FRAMES, EIGER_LEGACY_TYP, EigerLegacyError, eigerArrayPartSchema, eigerImageConfigSchema,
  eigerImageDataSchema, eigerInfoSchema, readEigerLegacyMessage,
  type EigerArrayName, type EigerArrayPartHeader, type EigerImageConfig, type EigerImageData, type EigerInfo,
  type EigerLegacyEnd, type EigerLegacyHeader, type EigerLegacyImageHeader,
} from './messages.js';

/** a flatfield, pixel mask or count-rate table of a header: its JSON part and its raw bytes */
export interface EigerArrayPart {
  header: EigerArrayPartHeader;
  buffer: Buffer;
}

export interface EigerLegacyImage {
  kind: 'image';
  header: EigerLegacyImageHeader;
  /** the `dimage_d-1.0` part and the compressed pixel blob */
  data: EigerImageData & { buffer: Buffer };
  config: EigerImageConfig;
  /** the image appendix: its JSON value, or the text when it is not JSON */
  appendix: unknown;
}

export type EigerLegacyPacket =
  | {
    kind: 'header';
    header: EigerLegacyHeader;
    /** detector configuration (header_detail basic and all) */
    info?: EigerInfo;
    /** detail `all`: the arrays by name */
    arrays: Partial<Record<EigerArrayName, EigerArrayPart>>;
    /** the user's header appendix, when sent: JSON value or text */
    appendix?: unknown;
  }
  | EigerLegacyImage
  | { kind: 'end'; header: EigerLegacyEnd };

/** An appendix is whatever string the user configured: JSON when it parses, else the text. */
function appendixOf(frame: Buffer): unknown {
  const text = frame.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseHeader(header: EigerLegacyHeader, frames: Buffer[]): EigerLegacyPacket {
  const parts = EIGER_HEADER_FRAMES[header.header_detail];
  const arrays: Partial<Record<EigerArrayName, EigerArrayPart>> = {};
  for (let i = 2; i + 1 < parts; i += 2) {
    const part = readJsonFrame(frames[i], eigerArrayPartSchema, `Eiger legacy header frame ${i}`, EigerLegacyError) as EigerArrayPartHeader;
    arrays[EIGER_ARRAY_PARTS[part.htype]] = { header: part, buffer: frames[i + 1] };
  }
  return {
    kind: 'header', header, arrays,
    ...(parts > 1 ? { info: readJsonFrame(frames[1], eigerInfoSchema, 'Eiger legacy header frame 1 (detector config)', EigerLegacyError) } : {}),
    ...(frames.length > parts ? { appendix: appendixOf(frames[parts]) } : {}),
  };
}

export function parseEigerLegacy(data: StreamData): EigerLegacyPacket {
  if (data.typ !== EIGER_LEGACY_TYP) throw new EigerLegacyError(`expected StreamData of typ ${EIGER_LEGACY_TYP}, got ${JSON.stringify(data.typ)}`);
  const { frames } = data;
  const message = readEigerLegacyMessage(frames);
  switch (message.htype) {
    case 'dheader-1.0':
      return parseHeader(message, frames);
    case 'dimage-1.0': {
      const part = readJsonFrame(frames[1], eigerImageDataSchema, `Eiger legacy image ${message.frame} frame 1`, EigerLegacyError) as EigerImageData;
      const config = readJsonFrame(frames[3], eigerImageConfigSchema, `Eiger legacy image ${message.frame} frame 3`, EigerLegacyError);
      return { kind: 'image', header: message, data: { ...part, buffer: frames[2] }, config, appendix: appendixOf(frames[4]) };
    }
    case 'dseries_end-1.0':
      return { kind: 'end', header: message };
  }
}

/** Eiger shapes list the fastest axis first; arrays are C order, so the axes are reversed. */
function cOrder(shape: number[]): number[] {
  return [...shape].reverse();
}

/** The bytes of an Eiger blob of `encoding`, decompressed. */
function decodeBlob(blob: Buffer, encoding: string, dtype: EigerImageData['type'], bytes: number): Uint8Array {
  if (encoding === '<') return blob;
  if (encoding === 'lz4<') return lz4Decompress(blob, bytes);
  const bitshuffle = /^bs(8|16|32)-lz4<$/.exec(encoding);
  if (!bitshuffle) throw new EigerLegacyError(`unsupported Eiger encoding ${JSON.stringify(encoding)} (known: <, lz4<, bs8/bs16/bs32-lz4<)`);
  if (Number(bitshuffle[1]) !== 8 * itemSize(dtype)) {
    throw new EigerLegacyError(`Eiger encoding ${encoding} does not fit pixels of type ${dtype}`);
  }
  return bslz4DecodeSized(blob, itemSize(dtype), bytes);
}

/** The pixels of an image as an NDArray of shape [y, x] (uint32 for a 32-bit detector). */
export function decodeEigerImage(image: EigerLegacyImage): NDArray {
  const { buffer, size, encoding, type, shape } = image.data;
  const what = `Eiger legacy image ${image.header.frame} (${encoding} ${type} ${JSON.stringify(shape)})`;
  if (buffer.length !== size) throw new EigerLegacyError(`${what}: blob has ${buffer.length} bytes, its header says ${size} (truncated?)`);
  const bytes = elementCount(shape) * itemSize(type);
  try {
    return ndarrayFromBytes(decodeBlob(buffer, encoding, type, bytes), type, cOrder(shape));
  } catch (error) {
    if (error instanceof EigerLegacyError) throw error;
    throw new EigerLegacyError(`${what}: ${(error as Error).message}`);
  }
}

/** A header's flatfield, pixel mask or count-rate table as an NDArray (axes reversed, as for images). */
export function decodeEigerArray(part: EigerArrayPart): NDArray {
  const { header, buffer } = part;
  try {
    return ndarrayFromBytes(buffer, header.type, cOrder(header.shape));
  } catch (error) {
    throw new EigerLegacyError(`Eiger legacy ${header.htype} ${header.type} ${JSON.stringify(header.shape)}: ${(error as Error).message}`);
  }
}
