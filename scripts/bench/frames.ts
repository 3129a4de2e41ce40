/**
 * Benchmark upstream: STINS messages. The payload buffers are built once and shared by every
 * message (never modified, so zmq may keep them queued safely); an image header carries `t`, the
 * send time in ms on the shared wall clock, for latency.
 */
import { stinsSeriesMessages } from '../../src/protocols/stins/emulator.js';
import { IMAGE_SHAPE } from './roi.js';

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface FrameSet {
  header(): Buffer;
  image(frame: number): Buffer[];
  end(frame: number): Buffer;
}

interface Pixels { shape: number[]; type: string; compression: string; blobs: Buffer[] }

function stinsFrames({ shape, type, compression, blobs }: Pixels): FrameSet {
  return {
    header: () => Buffer.from(JSON.stringify({ htype: 'header', filename: '', msg_number: 0 })),
    image: (frame) => [
      Buffer.from(JSON.stringify({ htype: 'image', frame, shape, type, compression, msg_number: frame + 1, t: now() })),
      blobs[frame % blobs.length]!,
    ],
    end: (frame) => Buffer.from(JSON.stringify({ htype: 'series_end', msg_number: frame + 2 })),
  };
}

/** `payloadBytes` uncompressed bytes per image */
export function frameSet(payloadBytes: number): FrameSet {
  return stinsFrames({ shape: [payloadBytes], type: 'uint8', compression: 'none', blobs: [Buffer.alloc(payloadBytes, 7)] });
}

/** 512×512 uint32 images, bitshuffle-LZ4 compressed as a detector sends them (8 different ones, in turn) */
export function bslz4FrameSet(): FrameSet {
  const images = stinsSeriesMessages({ frames: 8, shape: IMAGE_SHAPE, dtype: 'uint32', compression: 'bslz4' }).slice(1, 9);
  return stinsFrames({ shape: IMAGE_SHAPE, type: 'uint32', compression: 'bslz4', blobs: images.map((message) => message[1]!) });
}

/** the latency summary the reducers of both chains report */
export function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}
