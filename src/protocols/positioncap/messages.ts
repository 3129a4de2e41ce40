/**
 * PandABox position capture on its TCP data port, ASCII format (protocols.md §2.6). After the
 * client's `\n` and the PandA's `OK\n`, every arm cycle sends a header block — `arm_time: …`,
 * `key: value` lines, `fields:` and one ` NAME TYPE CAPTURE [scale: s offset: o units: u]` line per
 * captured field, up to a blank line — then one line of space-separated values per sample, then
 * `END <samples> <reason>`. The ingester forwards the header block as one frame and every other
 * line as one frame.
 */

export const POSITIONCAP_TYP = 'PCAP_RAW';

export class PositioncapError extends Error {
  override name = 'PositioncapError';
}

export const POSITIONCAP_FIELD_TYPES = ['uint32', 'int32', 'double'] as const;
export type PositioncapFieldType = (typeof POSITIONCAP_FIELD_TYPES)[number];

export interface PositioncapFieldSpec {
  /** `NAME.CAPTURE`, e.g. `INENC1.VAL.Mean` */
  name: string;
  type: PositioncapFieldType;
  scale?: number;
  offset?: number;
  units?: string;
}

export interface PositioncapStart {
  kind: 'start';
  /** the arm time; a time without zone is taken as UTC */
  arm_time: Date;
  /** the header's other `key: value` lines (missed, process, format, …) */
  info: Record<string, string>;
  fields: PositioncapFieldSpec[];
}

export interface PositioncapField {
  name: string;
  type: PositioncapFieldType;
  value: number;
}

export interface PositioncapValues {
  kind: 'values';
  fields: Record<string, PositioncapField>;
}

export interface PositioncapEnd {
  kind: 'end';
  /** samples captured in the arm cycle, when the line says */
  samples?: number;
  /** e.g. `Disarmed`, `Ok`, `Early disarm` */
  reason?: string;
}

export type PositioncapPacket = PositioncapStart | PositioncapValues | PositioncapEnd;

const ARM = Buffer.from('arm_time:');
const END = Buffer.from('END');

export const isArmLine = (line: Buffer): boolean => line.subarray(0, ARM.length).equals(ARM);
export const isEndLine = (line: Buffer): boolean => line.subarray(0, END.length).equals(END);
export const isBlankLine = (line: Buffer): boolean => line.toString('latin1').trim() === '';

/** PandA text (a header block, or lines as a capture port sends them) as the lines a TCP upstream reads, each with its `\n` */
export function pandaLines(text: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < text.length;) {
    const end = text.indexOf(0x0a, start);
    const stop = end === -1 ? text.length : end + 1;
    lines.push(text.subarray(start, stop));
    start = stop;
  }
  return lines;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/;
const FIELD_EXTRAS = /scale:\s*(\S+)\s+offset:\s*(\S+)\s+units:\s*(.*)$/;

function quote(text: string): string {
  const oneLine = text.replace(/\n$/, '');
  return JSON.stringify(oneLine.length > 80 ? `${oneLine.slice(0, 80)}…` : oneLine);
}

function parseField(line: string): PositioncapFieldSpec {
  const tokens = line.trim().split(/\s+/);
  if (tokens.length < 3) throw new PositioncapError(`PandA header field line ${quote(line)} needs NAME TYPE CAPTURE`);
  const [name, type, capture] = tokens;
  if (!(POSITIONCAP_FIELD_TYPES as readonly string[]).includes(type)) {
    throw new PositioncapError(`PandA header field ${name}.${capture} has type ${JSON.stringify(type)}, expected one of ${POSITIONCAP_FIELD_TYPES.join(', ')}`);
  }
  const field: PositioncapFieldSpec = { name: `${name}.${capture}`, type: type as PositioncapFieldType };
  const extras = FIELD_EXTRAS.exec(line);
  if (extras) {
    field.scale = Number(extras[1]);
    field.offset = Number(extras[2]);
    field.units = extras[3].trim();
  }
  return field;
}

/** Reads a header block (arm_time line through the blank line). */
export function parsePositioncapHeader(text: string): PositioncapStart {
  const info: Record<string, string> = {};
  const fields: PositioncapFieldSpec[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith(' ')) {
      fields.push(parseField(line));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon === -1) throw new PositioncapError(`PandA header line ${quote(line)} is neither "key: value" nor a field`);
    info[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  const armText = info.arm_time;
  delete info.arm_time;
  delete info.fields;
  if (!armText || !ISO_TIME.test(armText)) throw new PositioncapError(`PandA header arm_time ${JSON.stringify(armText ?? '')} is not an ISO time`);
  const arm_time = new Date(/Z|[+-]\d\d:?\d\d$/.test(armText) ? armText : `${armText}Z`);
  if (Number.isNaN(arm_time.getTime())) throw new PositioncapError(`PandA header arm_time ${JSON.stringify(armText)} is not a valid time`);
  if (info.format !== undefined && info.format !== 'ASCII') throw new PositioncapError(`PandA header format ${info.format} is not ASCII`);
  if (!fields.length) throw new PositioncapError('PandA header lists no fields');
  return { kind: 'start', arm_time, info, fields };
}

const UINT = /^\d+$/;
const INT = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const NOT_FINITE: Record<string, number> = { nan: NaN, '-nan': NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };

function valueOf(token: string, field: PositioncapFieldSpec, line: string): number {
  let value: number | undefined;
  switch (field.type) {
    case 'uint32':
      if (UINT.test(token)) value = Number(token);
      if (value !== undefined && value > 0xffffffff) value = undefined;
      break;
    case 'int32':
      if (INT.test(token)) value = Number(token);
      if (value !== undefined && (value < -0x80000000 || value > 0x7fffffff)) value = undefined;
      break;
    case 'double':
      value = FLOAT.test(token) ? Number(token) : NOT_FINITE[token.toLowerCase()];
      break;
  }
  if (value === undefined) throw new PositioncapError(`PandA line ${quote(line)}: ${field.name} = ${JSON.stringify(token)} is not a ${field.type}`);
  return value;
}

/** Reads one data line against the fields of its arm cycle's header. */
export function parsePositioncapValues(line: string, fields: readonly PositioncapFieldSpec[]): PositioncapValues {
  const tokens = line.trim().split(' ');
  if (tokens.length !== fields.length || tokens[0] === '') {
    throw new PositioncapError(`PandA line ${quote(line)} has ${tokens[0] === '' ? 0 : tokens.length} values, the header lists ${fields.length} fields`);
  }
  const out: Record<string, PositioncapField> = {};
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    out[field.name] = { name: field.name, type: field.type, value: valueOf(tokens[i], field, line) };
  }
  return { kind: 'values', fields: out };
}

export function parsePositioncapEnd(line: string): PositioncapEnd {
  const match = /^END(?:\s+(\d+))?(?:\s+(.*?))?\s*$/.exec(line);
  if (!match) throw new PositioncapError(`PandA line ${quote(line)} is not "END <samples> <reason>"`);
  return { kind: 'end', ...(match[1] ? { samples: Number(match[1]) } : {}), ...(match[2] ? { reason: match[2] } : {}) };
}
