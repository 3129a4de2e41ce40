/**
 * Sardana scan packets (protocols.md §2.9, tango.md §4): Sardana's JSON recorder POSTs the `data`
 * of each Door RecordData packet to the ingester — `/v1/data_desc` (scan start), `/v1/record_data`
 * (one point), `/v1/custom_data` (ignored), `/v1/record_end`. The ingester forwards each packet as
 * one frame of JSON with `type` first (DataDescription, RecordData or RecordEnd), the body's
 * keys after it as Sardana wrote them: Python's `json` writes NaN, Infinity and -Infinity, and they
 * stay in the frame, so that workers read them as numbers.
 */
import { z } from 'zod';
import { checkFrameCount, parseJsonFrame, readJsonFrame, validate } from '../json-frame.js';
import { parsePythonJson } from '../python-json.js';

export const SARDANA_TYP = 'sardana';

export class SardanaError extends Error {
  override name = 'SardanaError';
}

export const sardanaDataDescriptionSchema = z.looseObject({
  type: z.literal('DataDescription'),
  serialno: z.int(),
  /** None in a session without a ScanDir */
  scandir: z.string().nullable(),
  title: z.string(),
});

/** one scan point: `point_nb`, motor positions and counter values (keyed by tango:// URI), `timestamp` */
export const sardanaRecordDataSchema = z.looseObject({
  type: z.literal('RecordData'),
  timestamp: z.number(),
});

export const sardanaRecordEndSchema = z.looseObject({
  type: z.literal('RecordEnd'),
});

export const sardanaPacketSchema = z.discriminatedUnion('type', [sardanaDataDescriptionSchema, sardanaRecordDataSchema, sardanaRecordEndSchema]);

export type SardanaDataDescription = z.infer<typeof sardanaDataDescriptionSchema>;
export type SardanaRecordData = z.infer<typeof sardanaRecordDataSchema>;
export type SardanaRecordEnd = z.infer<typeof sardanaRecordEndSchema>;
export type SardanaPacket = z.infer<typeof sardanaPacketSchema>;

/** the packet type each path carries; custom_data carries none */
export const SARDANA_PATHS: Record<string, SardanaPacket['type'] | null> = {
  '/v1/data_desc': 'DataDescription',
  '/v1/record_data': 'RecordData',
  '/v1/custom_data': null,
  '/v1/record_end': 'RecordEnd',
};

/**
 * Reads one POST `[path, body]` as the HTTP transport delivers it; gives the frame to forward, or
 * undefined for custom_data. Throws a SardanaError naming what is wrong.
 */
export function readSardanaPost(message: readonly Buffer[]): Buffer | undefined {
  checkFrameCount(message, 2, 'Sardana POST', SardanaError);
  const path = message[0].toString();
  const type = SARDANA_PATHS[path];
  if (type === undefined) throw new SardanaError(`Sardana POST to unknown path ${JSON.stringify(path)}`);
  const body = parseJsonFrame(message[1], `Sardana ${path} body`, SardanaError, parsePythonJson);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SardanaError(`Sardana ${path} body is ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}, expected a JSON object`);
  }
  if (type === null) return undefined;
  const given = (body as { type?: unknown }).type;
  if (given !== undefined && given !== type) throw new SardanaError(`Sardana ${path} body has type ${JSON.stringify(given)}, expected ${type}`);
  validate(sardanaPacketSchema, { type, ...body }, `Sardana ${path} body`, SardanaError);
  return given === undefined ? withType(type, message[1]) : message[1];
}

/**
 * The body's text with `"type"` as its first key, the rest as Sardana wrote it: re-serialising
 * would turn NaN into null.
 */
function withType(type: string, body: Buffer): Buffer {
  const text = body.toString('utf8');
  const open = text.indexOf('{');
  const rest = text.slice(open + 1);
  return Buffer.from(`{"type":${JSON.stringify(type)}${/^\s*\}/.test(rest) ? '' : ','}${rest}`);
}

/** Reads a forwarded packet. */
export function readSardanaPacket(frames: readonly Buffer[]): SardanaPacket {
  checkFrameCount(frames, 1, 'Sardana packet', SardanaError);
  return readJsonFrame(frames[0], sardanaPacketSchema, 'Sardana packet', SardanaError, parsePythonJson);
}
