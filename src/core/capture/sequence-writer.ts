/** Appends CBOR items to a file, plain or gzip, with back-pressure. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Encoder } from 'cbor-x';

export interface CaptureWriteOptions {
  /** gzip the output; default: the path ends in `.gz` (appending to a gzip file adds a gzip member) */
  gzip?: boolean;
  /** add to an existing file instead of replacing it */
  append?: boolean;
}

// shortest-form definite lengths and plain byte strings, as cbor2 writes them
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true });

export class CborSequenceWriter {
  private failure: Error | undefined;
  private closed = false;

  private constructor(readonly path: string, private readonly head: Writable, private readonly done: Promise<void>) {
    head.on('error', (error: Error) => this.fail(error));
    done.catch((error: Error) => this.fail(error));
  }

  static async open(path: string, options: CaptureWriteOptions = {}): Promise<CborSequenceWriter> {
    const file = createWriteStream(path, { flags: options.append ? 'a' : 'w' });
    try {
      await once(file, 'open');
    } catch (error) {
      throw new Error(`${path}: cannot open for writing: ${(error as Error).message}`, { cause: error });
    }
    if (options.gzip ?? path.endsWith('.gz')) {
      const gzip = createGzip();
      return new CborSequenceWriter(path, gzip, pipeline(gzip, file));
    }
    return new CborSequenceWriter(path, file, finished(file));
  }

  /** Resolves once the stream accepts more; the encoded bytes are not shared with later items. */
  async write(value: unknown): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: write after close`);
    this.throwIfFailed();
    if (!this.head.write(encoder.encode(value))) {
      try {
        await once(this.head, 'drain');
      } catch (error) {
        this.fail(error as Error);
      }
      this.throwIfFailed();
    }
  }

  async close(): Promise<void> {
    if (!this.closed) this.head.end();
    this.closed = true;
    try {
      await this.done;
    } catch (error) {
      this.fail(error as Error);
    }
    this.throwIfFailed();
  }

  private fail(error: Error): void {
    this.failure ??= new Error(`${this.path}: write failed: ${error.message}`, { cause: error });
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** Frames must be bytes: other typed arrays would be written as RFC 8746 tags, which are not zmq frames. */
export function checkFrames(frames: readonly unknown[], owner: string): void {
  frames.forEach((frame, i) => {
    if (!(frame instanceof Uint8Array)) throw new TypeError(`${owner}frame ${i} is not a Buffer/Uint8Array`);
  });
}
