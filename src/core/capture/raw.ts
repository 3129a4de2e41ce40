/** Raw upstream captures: a CBOR sequence of arrays of byte strings, one zmq multipart message each (protocols.md §3.1). */
import { readCborSequence, type CaptureReadOptions } from './sequence-reader.js';
import { CborSequenceWriter, checkFrames, type CaptureWriteOptions } from './sequence-writer.js';

export function readRawCapture(path: string, options?: CaptureReadOptions): AsyncGenerator<Buffer[]> {
  return readCborSequence(path, toFrames, options);
}

function toFrames(item: unknown): Buffer[] {
  if (!Array.isArray(item)) throw new Error(`expected an array of byte strings (one zmq message), got ${kindOf(item)}`);
  item.forEach((frame: unknown, i) => {
    if (!Buffer.isBuffer(frame)) throw new Error(`frame ${i} is ${kindOf(frame)}, expected a byte string`);
  });
  return item as Buffer[];
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `a ${typeof value}`;
  return `a ${value.constructor?.name ?? 'object'}`;
}

/** Writes raw captures that the original's `cbor2.load` loop reads back frame for frame. */
export class RawCaptureWriter {
  private constructor(private readonly sink: CborSequenceWriter) {}

  /** Replaces the file unless `append` is set; gzip when the name ends in `.gz` unless `gzip` says otherwise. */
  static async open(path: string, options: CaptureWriteOptions = {}): Promise<RawCaptureWriter> {
    return new RawCaptureWriter(await CborSequenceWriter.open(path, options));
  }

  async write(frames: readonly Uint8Array[]): Promise<void> {
    checkFrames(frames, '');
    await this.sink.write(frames);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
