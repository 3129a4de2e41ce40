/**
 * A fake STINS detector: the wire messages of one series (header, images, series_end) with a
 * deterministic pixel pattern, and `playSeries` to send them paced on a bound zeromq PUSH socket.
 */
import type { Push } from 'zeromq';
import { elementCount, itemSize, viewAs, type DType, type NDArray } from '../../core/ndarray.js';
import { bslz4Encode } from '../../core/compression/bslz4.js';
import { lz4Compress } from '../../core/compression/lz4.js';
import { paced, type PlayOptions } from '../player.js';
import type { StinsCompression } from './messages.js';

/** pixel types the emulator writes (values 0…63 fit all of them) */
export type EmulatorDType = Exclude<DType, 'bool'>;

export interface StinsSeriesOptions {
  /** number of images */
  frames: number;
  /** C-order image shape (default [64, 64]) */
  shape?: number[];
  dtype?: EmulatorDType;
  compression?: StinsCompression;
  /** bslz4 only: write the 12-byte blob header (default true) */
  bslz4Header?: boolean;
  /** varies the pixel pattern (default 0) */
  seed?: number;
  /** header `filename` (default "" = live view, not saved) */
  filename?: string;
  /** msg_number of the header; images and series_end follow on (default 0) */
  firstMsgNumber?: number;
  /** add `timestamps: {dummy: <ISO time>}` to images, like the original's test publisher */
  timestamps?: boolean;
  /** JSON sent as the header's second frame */
  meta?: unknown;
}

/** The emulated value of pixel `index` (C order) of image `frame`: an integer in 0…63. */
export function emulatedPixel(seed: number, frame: number, index: number): number {
  const key = Math.imul(frame + 1, 0x85ebca6b) ^ Math.imul(seed + 1, 0xc2b2ae35);
  return Math.imul(index ^ key, 0x9e3779b1) >>> 26;
}

/** The image the emulator sends as `frame` (before compression). */
export function emulatedImage(options: StinsSeriesOptions, frame: number): NDArray {
  const shape = options.shape ?? [64, 64];
  const dtype = options.dtype ?? 'uint16';
  const count = elementCount(shape);
  const data = viewAs(new Uint8Array(count * itemSize(dtype)), dtype);
  const seed = options.seed ?? 0;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < count; i++) data[i] = BigInt(emulatedPixel(seed, frame, i));
  } else {
    for (let i = 0; i < count; i++) data[i] = emulatedPixel(seed, frame, i);
  }
  return { data, shape, dtype };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function encodePixels(image: NDArray, compression: StinsCompression, bslz4Header: boolean): Buffer {
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  switch (compression) {
    case 'none': return raw;
    case 'lz4': return lz4Compress(raw);
    case 'bslz4': return bslz4Encode(raw, itemSize(image.dtype), { header: bslz4Header });
  }
}

/** The messages of one series, made one at a time (images can be large). */
export function* stinsSeries(options: StinsSeriesOptions): Generator<Buffer[]> {
  const first = options.firstMsgNumber ?? 0;
  const compression = options.compression ?? 'none';
  const header = json({ htype: 'header', filename: options.filename ?? '', msg_number: first });
  yield options.meta === undefined ? [header] : [header, json(options.meta)];
  for (let frame = 0; frame < options.frames; frame++) {
    const image = emulatedImage(options, frame);
    yield [
      json({
        htype: 'image', frame, shape: image.shape, type: image.dtype, compression, msg_number: first + 1 + frame,
        ...(options.timestamps ? { timestamps: { dummy: new Date().toISOString() } } : {}),
      }),
      encodePixels(image, compression, options.bslz4Header ?? true),
    ];
  }
  yield [json({ htype: 'series_end', msg_number: first + 1 + options.frames })];
}

/** All messages of one series. */
export function stinsSeriesMessages(options: StinsSeriesOptions): Buffer[][] {
  return [...stinsSeries(options)];
}

export interface PlaySeriesOptions extends StinsSeriesOptions, Omit<PlayOptions, 'warmup'> {}

/** Sends one series on a bound PUSH socket, paced at `rate`; resolves to the number of messages sent. */
export function playSeries(socket: Push, options: PlaySeriesOptions): Promise<number> {
  return paced(stinsSeries(options), options, async (message) => { await socket.send(message); });
}
