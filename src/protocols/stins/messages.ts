/**
 * STINS ("stream1") wire messages (protocols.md §2.1): frame 0 is JSON with `htype` header, image
 * or series_end; an image has the pixel buffer as frame 1, a header may carry JSON meta as frame 1.
 */
import { z } from 'zod';
import { describeIssues } from '../../core/validation.js';
import { DTYPES, isDType, type DType } from '../../core/ndarray.js';
import { checkFrameCount } from '../json-frame.js';

export const STINS_TYP = 'STINS';

export const STINS_COMPRESSIONS = ['none', 'lz4', 'bslz4'] as const;
export type StinsCompression = (typeof STINS_COMPRESSIONS)[number];

export const stinsStartSchema = z.looseObject({
  htype: z.literal('header'),
  filename: z.string(),
  msg_number: z.int(),
});

export const stinsImageSchema = z.looseObject({
  htype: z.literal('image'),
  frame: z.int().nonnegative(),
  shape: z.array(z.int().nonnegative()),
  type: z.string().refine(isDType, { error: (issue) => `unknown dtype ${JSON.stringify(issue.input)}` }),
  compression: z.enum(STINS_COMPRESSIONS),
  msg_number: z.int(),
});

export const stinsEndSchema = z.looseObject({
  htype: z.literal('series_end'),
  msg_number: z.int(),
});

export const stinsMessageSchema = z.discriminatedUnion('htype', [stinsStartSchema, stinsImageSchema, stinsEndSchema]);

export type StinsStart = z.infer<typeof stinsStartSchema>;
export type StinsImageHeader = z.infer<typeof stinsImageSchema> & { type: DType };
export type StinsEnd = z.infer<typeof stinsEndSchema>;
export type StinsMessage = StinsStart | StinsImageHeader | StinsEnd;

export class StinsError extends Error {
  override name = 'StinsError';
}

/** the frame counts each message kind may have */
const FRAME_COUNTS: Record<StinsMessage['htype'], number | number[]> = {
  header: [1, 2],
  image: 2,
  series_end: 1,
};

/**
 * Reads and checks frame 0 of a message and its frame count (not the pixel payload); throws a
 * StinsError naming what is wrong. Frame 0 is not read with readJsonFrame: STINS errors keep
 * their own wording ("STINS frame 0 is not JSON", "… is not a valid message").
 */
export function readStinsMessage(frames: readonly Buffer[]): StinsMessage {
  if (frames.length === 0) throw new StinsError('STINS message has no frames');
  let json: unknown;
  try {
    json = JSON.parse(frames[0].toString('utf8'));
  } catch (err) {
    throw new StinsError(`STINS frame 0 is not JSON: ${(err as Error).message}`);
  }
  let message: StinsMessage;
  if (isPlainImage(json)) {
    message = json;
  } else {
    const result = stinsMessageSchema.safeParse(json);
    if (!result.success) throw new StinsError(`STINS frame 0 is not a valid message: ${describeIssues(result.error)}`);
    message = result.data as StinsMessage;
  }
  checkFrameCount(frames, FRAME_COUNTS[message.htype], `STINS ${message.htype} message`, StinsError);
  return message;
}

/**
 * The check of stinsImageSchema for the message every frame is, written out: zod's parse cost more
 * than the rest of the ingester's work on a small image. Anything else goes through the schema,
 * which also words the refusals.
 */
function isPlainImage(json: unknown): json is StinsImageHeader {
  const m = json as Record<string, unknown> | null;
  return typeof m === 'object' && m !== null && m.htype === 'image'
    && Number.isSafeInteger(m.frame) && (m.frame as number) >= 0 && Number.isSafeInteger(m.msg_number)
    && Array.isArray(m.shape) && m.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    && typeof m.type === 'string' && isDType(m.type)
    && typeof m.compression === 'string' && (STINS_COMPRESSIONS as readonly string[]).includes(m.compression);
}

const NO_BYTES: Buffer = Buffer.alloc(0);
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const ZERO = 0x30;
const NINE = 0x39;
/** digits of the largest integer read here; longer numbers go to JSON.parse (safe integers have 16) */
const MOST_DIGITS = 15;

/** `integer` after a number that is not a plain one */
const NOT_PLAIN = -1;
const LITERALS = ['true', 'false', 'null'];

/** JSON's whitespace: space, tab, line feed, carriage return */
const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/**
 * Reads frame 0 of an image message straight from its bytes, for the ingester, which reads one per
 * frame: turning it into a string, JSON.parse and checking the result took as long as the rest of
 * its work on a small image. Only the plainest JSON is read here: one object whose values are
 * strings of printable ASCII without escapes, numbers, true, false, null, and arrays of integers
 * without sign, fraction or exponent. What it reads is exactly what JSON.parse and stinsImageSchema
 * would give; anything else (another kind of message, a value it does not read, a field that is not
 * valid) gives undefined, and readStinsMessage reads it and words what is wrong. Keys it does not
 * know are passed over and not kept. One reader serves every message (it holds no state between
 * them), so the code V8 optimises for it is not bound to objects of one scan.
 *
 * It shares no code with the byte reader of map entries (mapping/map-json.ts), though both skip
 * whitespace and read escape-free strings and integers: with those primitives in a module of their
 * own, a header took 0.53 µs instead of 0.42 (both builds in one process, best of 12 runs), and as
 * much with only the byte constants imported. This runs per frame; map-json once per announcement.
 */
class PlainImageHeaderReader {
  private bytes = NO_BYTES;
  private at = 0;
  /** the span of the last string read */
  private start = 0;
  private end = 0;
  private integer = 0;

  read(frame: Buffer): StinsImageHeader | undefined {
    this.bytes = frame;
    this.at = 0;
    const header = this.header();
    this.bytes = NO_BYTES;
    return header;
  }

  private header(): StinsImageHeader | undefined {
    let image = false;
    let frameNumber = -1;
    let msgNumber = -1;
    let shape: number[] | undefined;
    let type: DType | undefined;
    let compression: StinsCompression | undefined;
    if (this.next() !== OPEN_OBJECT) return undefined;
    this.at += 1;
    for (;;) {
      if (this.next() !== QUOTE || !this.string()) return undefined;
      const field = this.stringAmong(IMAGE_FIELDS);
      if (this.next() !== COLON) return undefined;
      this.at += 1;
      const first = this.next();
      // a field of an image header with a value of the wrong kind is left to the schema to word
      if (first === QUOTE) {
        if (!this.string()) return undefined;
        if (field === 'htype') image = this.stringIs('image');
        else if (field === 'type') type = this.stringAmong(DTYPES);
        else if (field === 'compression') compression = this.stringAmong(STINS_COMPRESSIONS);
        else if (field) return undefined;
      } else if ((first >= ZERO && first <= NINE) || first === MINUS) {
        if (!this.number()) return undefined;
        if (field === 'frame') frameNumber = this.integer;
        else if (field === 'msg_number') msgNumber = this.integer;
        else if (field) return undefined;
      } else if (first === OPEN_ARRAY) {
        const list = this.integers();
        if (!list) return undefined;
        if (field === 'shape') shape = list;
        else if (field) return undefined;
      } else if (!this.literal() || field) {
        return undefined;
      }
      const after = this.next();
      this.at += 1;
      if (after === CLOSE_OBJECT) break;
      if (after !== COMMA) return undefined;
    }
    if (this.next() !== -1) return undefined;
    // a negative or fractional number there is -1 (NOT_PLAIN): left to the schema
    if (!image || frameNumber < 0 || msgNumber < 0 || !shape || !type || !compression) return undefined;
    return { htype: 'image', frame: frameNumber, shape, type, compression, msg_number: msgNumber };
  }

  /** the next byte that is not whitespace (left unread), -1 at the end */
  private next(): number {
    const { bytes } = this;
    while (this.at < bytes.length && isSpace(bytes[this.at])) this.at += 1;
    return this.at < bytes.length ? bytes[this.at] : -1;
  }

  /** a string at the opening quote: its content's span; false for escapes, control or non-ASCII bytes */
  private string(): boolean {
    const { bytes } = this;
    this.start = this.at + 1;
    for (let i = this.start; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === QUOTE) {
        this.end = i;
        this.at = i + 1;
        return true;
      }
      if (byte === BACKSLASH || byte < 0x20 || byte > 0x7e) return false;
    }
    return false;
  }

  /**
   * A JSON number at its first byte; `integer` is its value when it is a plain one (no sign,
   * fraction or exponent, at most MOST_DIGITS digits), else NOT_PLAIN. False for what is no JSON
   * number, or is not followed by what may follow a value.
   */
  private number(): boolean {
    const { bytes } = this;
    const negative = bytes[this.at] === MINUS;
    if (negative) this.at += 1;
    const start = this.at;
    let value = 0;
    while (this.at < bytes.length && bytes[this.at] >= ZERO && bytes[this.at] <= NINE) value = value * 10 + bytes[this.at++] - ZERO;
    const digits = this.at - start;
    if (digits === 0 || (digits > 1 && bytes[start] === ZERO)) return false;
    let plain = !negative && digits <= MOST_DIGITS;
    if (bytes[this.at] === DOT) {
      plain = false;
      if (!this.digits()) return false;
    }
    if (bytes[this.at] === LOWER_E || bytes[this.at] === UPPER_E) {
      plain = false;
      if (bytes[this.at + 1] === PLUS || bytes[this.at + 1] === MINUS) this.at += 1;
      if (!this.digits()) return false;
    }
    const after = this.next();
    if (after !== COMMA && after !== CLOSE_OBJECT && after !== CLOSE_ARRAY) return false;
    this.integer = plain ? value : NOT_PLAIN;
    return true;
  }

  /** one or more digits after the byte at `at` (a dot, an exponent's letter or sign) */
  private digits(): boolean {
    const { bytes } = this;
    const start = ++this.at;
    while (this.at < bytes.length && bytes[this.at] >= ZERO && bytes[this.at] <= NINE) this.at += 1;
    return this.at > start;
  }

  /** true, false or null */
  private literal(): boolean {
    for (const word of LITERALS) {
      if (this.bytes.toString('latin1', this.at, this.at + word.length) === word) {
        this.at += word.length;
        const after = this.next();
        return after === COMMA || after === CLOSE_OBJECT;
      }
    }
    return false;
  }

  /** an array of integers at its opening bracket */
  private integers(): number[] | undefined {
    this.at += 1;
    const list: number[] = [];
    if (this.next() === CLOSE_ARRAY) {
      this.at += 1;
      return list;
    }
    for (;;) {
      const first = this.next();
      if ((first < ZERO || first > NINE) && first !== MINUS) return undefined;
      if (!this.number() || this.integer === NOT_PLAIN) return undefined;
      list.push(this.integer);
      const after = this.next();
      this.at += 1;
      if (after === CLOSE_ARRAY) return list;
      if (after !== COMMA) return undefined;
    }
  }

  /** whether the last string read is `text` */
  private stringIs(text: string): boolean {
    const { bytes, start } = this;
    if (this.end - start !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** the one of `names` the last string read is (without making a string of it), else undefined */
  private stringAmong<Name extends string>(names: readonly Name[]): Name | undefined {
    for (const name of names) if (this.stringIs(name)) return name;
    return undefined;
  }
}

const IMAGE_FIELDS = Object.keys(stinsImageSchema.shape) as (keyof typeof stinsImageSchema.shape)[];
const plainImageHeaderReader = new PlainImageHeaderReader();

/** `PlainImageHeaderReader`: an image message's header if frame 0 is plain enough to read directly */
export function readPlainImageHeader(frame: Buffer): StinsImageHeader | undefined {
  return plainImageHeaderReader.read(frame);
}
