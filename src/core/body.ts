/** Reads a request body as raw bytes with a size limit (parameters may be whole files). */
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, limit = 256 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class BadJsonError extends Error {}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, 64 * 1024 * 1024);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new BadJsonError(`body is not JSON: ${(error as Error).message}`);
  }
}
