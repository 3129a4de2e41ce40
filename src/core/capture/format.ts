/** Tells the two `.cbors` formats apart by their first byte (protocols.md §6 item 9) and reads either. */
import { readDump, type DumpEvent } from './dump.js';
import { MAJOR_ARRAY } from './item-extent.js';
import { readRawCapture } from './raw.js';
import type { CaptureReadOptions } from './sequence-reader.js';
import { openCaptureSource } from './source.js';

export type CaptureFormat = 'raw' | 'dump';

/** head of a tag with a 16-bit number: 55799 (self-described CBOR) or 42877 (InternalWorkerMessage) */
const TAG16_HEAD = 0xd9;
/** enough to see the first byte, also after gunzip */
const PEEK_CHUNK_SIZE = 64;

export async function detectCaptureFormat(path: string): Promise<CaptureFormat> {
  const { chunks } = await openCaptureSource(path, PEEK_CHUNK_SIZE);
  const first = await chunks.next();
  await chunks.return(undefined);
  if (first.done) throw new Error(`${path}: empty file, not a capture`);
  const byte = first.value[0];
  if (byte >> 5 === MAJOR_ARRAY) return 'raw';
  if (byte === TAG16_HEAD) return 'dump';
  throw new Error(`${path}: not a capture: first byte 0x${byte.toString(16).padStart(2, '0')} `
    + 'is neither a CBOR array (raw capture) nor a CBOR tag (ingester dump)');
}

/** Yields the zmq messages of a raw capture (arrays) or the events of a dump. */
export async function* readCapture(path: string, options?: CaptureReadOptions): AsyncGenerator<Buffer[] | DumpEvent> {
  if (await detectCaptureFormat(path) === 'raw') yield* readRawCapture(path, options);
  else yield* readDump(path, options);
}
