/**
 * Writes a value as the HTTP body in the format the client asked for: `?format=` (for browsers)
 * or else the `Accept` header; JSON when the client does not care. Refusals are JSON `{"detail"}`.
 */
import type { Context } from 'koa';
import { classify } from '../../core/encodable.js';
import { encodePickle } from '../../core/pickle/write.js';
import { encodeCbor } from './cbor.js';
import { encodeJson } from './json.js';
import { encodeNpy } from './npy.js';
import { ResultError } from './result-error.js';

export type ResultFormatName = 'json' | 'cbor' | 'npy' | 'pickle';

interface ResultFormat {
  /** the first is the one sent when the format is chosen by name */
  mediaTypes: readonly [string, ...string[]];
  encode(value: unknown): Buffer | string;
}

const formats: Record<ResultFormatName, ResultFormat> = {
  json: { mediaTypes: ['application/json'], encode: encodeJson },
  cbor: { mediaTypes: ['application/cbor'], encode: encodeCbor },
  npy: { mediaTypes: ['application/x-npy'], encode: encodeOneArrayAsNpy },
  // application/x.pickle is what the original dranspose sent
  pickle: { mediaTypes: ['application/x.pickle', 'application/x-pickle', 'application/python-pickle'], encode: encodePickle },
};

export const formatNames = Object.keys(formats) as ResultFormatName[];

function isFormatName(name: string): name is ResultFormatName {
  return Object.hasOwn(formats, name);
}

function encodeOneArrayAsNpy(value: unknown): Buffer {
  const item = classify(value);
  if (item.kind !== 'array') {
    throw new ResultError(406, `.npy holds exactly one array, but the selection is a ${item.kind}; `
      + 'select a single array or ask for JSON, CBOR or pickle');
  }
  return encodeNpy(item.value);
}

/** Writes `value` in the negotiated format, or in `format` when the route fixes it. */
export function respondWithValue(ctx: Context, value: unknown, format?: ResultFormatName): void {
  ctx.vary('Accept');
  const { name, mediaType } = format ? { name: format, mediaType: formats[format].mediaTypes[0] } : negotiate(ctx);
  const body = formats[name].encode(value);
  ctx.status = 200;
  ctx.type = mediaType;
  ctx.body = body;
}

const PYTHON_CLIENTS = /^(python-requests|python-urllib|python-httpx|python\/[\d.]+ aiohttp)/i;

/**
 * The notebook recipe `pickle.loads(requests.get(url).content)` accepts any type: a Python
 * HTTP client that states no preference gets pickle, as the original always answered.
 */
function isPythonClientWithoutPreference(ctx: Context): boolean {
  const accept = ctx.get('Accept').trim();
  return (accept === '' || accept === '*/*') && PYTHON_CLIENTS.test(ctx.get('User-Agent'));
}

function negotiate(ctx: Context): { name: ResultFormatName; mediaType: string } {
  const requested = ctx.query.format;
  if (requested !== undefined) {
    if (typeof requested !== 'string' || !isFormatName(requested)) {
      throw new ResultError(400, `format must be one of ${formatNames.join(', ')}, got ${JSON.stringify(requested)}`);
    }
    return { name: requested, mediaType: formats[requested].mediaTypes[0] };
  }
  if (isPythonClientWithoutPreference(ctx)) return { name: 'pickle', mediaType: formats.pickle.mediaTypes[0] };
  const offered = formatNames.flatMap((name) => formats[name].mediaTypes);
  const accepted = ctx.accepts(offered);
  const name = accepted === false ? undefined : formatNames.find((n) => formats[n].mediaTypes.includes(accepted));
  if (accepted === false || name === undefined) {
    throw new ResultError(406, `cannot answer in any type of Accept: ${ctx.get('Accept')}; `
      + `available are ${offered.join(', ')} (or ?format=${formatNames.join('|')})`);
  }
  return { name, mediaType: accepted };
}
