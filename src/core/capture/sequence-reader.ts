/** Reads a CBOR sequence (RFC 8742) item by item from a possibly huge, possibly gzipped file. */
import { Decoder } from 'cbor-x';
import { ChunkQueue } from './chunk-queue.js';
import { CorruptCborError, measureItem, type ItemExtent } from './item-extent.js';
import { openCaptureSource } from './source.js';

export interface CaptureReadOptions {
  /** bytes per read from the file (and per gunzip output chunk) */
  chunkSize?: number;
}

const decoder = new Decoder({ mapsAsObjects: true });

/**
 * Yields `convert(item)` for every item. Byte strings in the items are views of the read chunks, or of one
 * copy when an item spans chunks. Any failure names the file, the item number and its byte offset
 * (in the decompressed stream for gzip files).
 */
export async function* readCborSequence<T>(
  path: string,
  convert: (item: unknown) => T,
  options: CaptureReadOptions = {},
): AsyncGenerator<T> {
  const { gzip, chunks } = await openCaptureSource(path, options.chunkSize);
  const queue = new ChunkQueue();
  const byteAt = (index: number): number => queue.byteAt(index);
  let index = 0;
  let offset = 0;
  let needed = 1;
  const where = (): string => `${path}: item ${index} at byte ${offset}${gzip ? ' (after gunzip)' : ''}`;

  for await (const chunk of chunks) {
    queue.push(chunk);
    while (queue.length >= needed) {
      let extent: ItemExtent;
      try {
        extent = measureItem(byteAt, queue.length);
      } catch (error) {
        if (!(error instanceof CorruptCborError)) throw error;
        throw new Error(`${where()}: corrupt CBOR at byte ${offset + error.position}: ${error.problem}`);
      }
      if (!extent.complete) {
        needed = extent.needed;
        break;
      }
      const bytes = queue.take(extent.length);
      let value: T;
      try {
        value = convert(decoder.decode(bytes));
      } catch (error) {
        throw new Error(`${where()}: ${(error as Error).message}`, { cause: error });
      }
      yield value;
      index += 1;
      offset += extent.length;
      needed = 1;
    }
  }
  if (queue.length > 0) {
    throw new Error(`${where()}: truncated: the item needs at least ${needed} bytes but the file ends after ${queue.length}`);
  }
}
