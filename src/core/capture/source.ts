/** Opens a capture file as a stream of decompressed chunks; gzip is recognised by its magic bytes, not its name. */
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Large chunks keep most items inside one chunk, so their frames are views and not copies. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

const GZIP_MAGIC = [0x1f, 0x8b];
/** zlib refuses output chunks smaller than this */
const MIN_ZLIB_CHUNK = 64;

export interface CaptureSource {
  gzip: boolean;
  chunks: AsyncGenerator<Buffer>;
}

export async function openCaptureSource(path: string, chunkSize = DEFAULT_CHUNK_SIZE): Promise<CaptureSource> {
  const handle = await open(path, 'r');
  let gzip: boolean;
  try {
    const magic = Buffer.alloc(GZIP_MAGIC.length);
    const { bytesRead } = await handle.read(magic, 0, magic.length, 0);
    gzip = bytesRead === magic.length && GZIP_MAGIC.every((byte, i) => magic[i] === byte);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const file = handle.createReadStream({ start: 0, highWaterMark: chunkSize });
  // pipeline destroys the file stream too when the consumer stops early or gunzip fails
  const stream = gzip
    ? pipeline(file, createGunzip({ chunkSize: Math.max(MIN_ZLIB_CHUNK, chunkSize) }), () => {})
    : file;
  return { gzip, chunks: describeFailures(path, gzip, stream) };
}

async function* describeFailures(path: string, gzip: boolean, stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (error) {
    const what = gzip ? 'gzip decompression failed' : 'read failed';
    throw new Error(`${path}: ${what}: ${(error as Error).message}`, { cause: error });
  }
}
