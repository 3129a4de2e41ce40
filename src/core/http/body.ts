/**
 * Request bodies, bounded: raw bytes (parameter values may be whole files) and JSON. JSON is taken
 * only when sent as `application/json`, so a browser page of another origin cannot post it
 * without a CORS preflight.
 */
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { MAX_JSON_BODY, MAX_JSON_DEPTH, MAX_PARAMETER_BYTES } from '../defaults.js';
import { HttpError } from './errors.js';

/** the body as bytes; 413 as soon as it passes `limit` (the rest is not read) */
export async function readBody(ctx: Koa.Context, limit = MAX_PARAMETER_BYTES): Promise<Buffer> {
  return await readRequestBody(ctx.req, limit);
}

/** the same for a plain node request (the Sardana ingester's HTTP upstream) */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, `request body of ${declared} bytes is larger than the limit of ${limit} bytes`);
  // a declared length (node's parser delivers no more than it) is read into one buffer as it comes:
  // kept chunks and their concatenation would hold a large body twice
  const whole = Number.isFinite(declared) ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size + (chunk as Buffer).length > limit) throw new HttpError(413, `request body larger than the limit of ${limit} bytes`);
    if (whole) whole.set(chunk as Buffer, size);
    else chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return whole ? whole.subarray(0, size) : Buffer.concat(chunks);
}

export async function readJson(ctx: Koa.Context, limit = MAX_JSON_BODY): Promise<unknown> {
  const body = await readJsonBytes(ctx, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `body is not JSON: ${(error as Error).message}`);
  }
}

/** the bytes of a JSON body, not parsed yet (large trigger maps are parsed in pieces) */
export async function readJsonBytes(ctx: Koa.Context, limit = MAX_JSON_BODY): Promise<Buffer> {
  if (!ctx.is('application/json')) {
    throw new HttpError(415, `send JSON as Content-Type: application/json (got ${JSON.stringify(ctx.get('Content-Type') || 'none')})`);
  }
  const body = await readBody(ctx, limit);
  checkJsonDepth(body);
  return body;
}

/**
 * Refuses JSON nested deeper than MAX_JSON_DEPTH (400) before it is parsed: JSON.parse copes, but
 * whatever walks the value recursively afterwards (JSON.stringify, validators) overflows the stack.
 * Bytes are scanned, not characters: no byte of a multi-byte UTF-8 character is a quote or bracket.
 */
export function checkJsonDepth(text: Uint8Array): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: the next byte is escaped
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw new HttpError(400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels is refused`);
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
}
