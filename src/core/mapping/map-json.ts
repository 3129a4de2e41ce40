/**
 * The JSON of a posted trigger map, read without building its whole tree when it is large.
 *
 * JSON.parse of a 1M-entry map makes ~110 MB of objects at once, held until the part is built. A
 * large body is therefore read here in two steps: the envelope (objects, names, the sequence) is
 * parsed as usual, while each stream's list of entries stays bytes (`LazyEntryList`) that are read
 * one entry at a time while the part is built. Our own code reads the common entries (`null`, `[]`,
 * one virtual worker with plain tags and an integer constraint) and otherwise only finds where
 * values begin and end: any other entry goes to JSON.parse, and anything unexpected in the envelope
 * sends the whole body to JSON.parse, so what is accepted and refused stays JSON.parse's. (Of
 * several faults in one body, a syntax error inside an entry may be named after a fault found
 * earlier while building.)
 */
import { MappingError } from './errors.js';
import { checkEntry, type EntryJson, type EntryList, type VirtualWorkerJson } from './schema.js';

/** bodies from this size on are read lazily */
const LAZY_BODY_BYTES = 1 << 20;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const CONSTRAINT_KEY = Buffer.from('"constraint"');
const TAGS_KEY = Buffer.from('"tags"');
const NULL = Buffer.from('null');
/** digits of an integer read here: 15 are exact in a double */
const MAX_DIGITS = 15;

/** the bare values of JSON */
const TOKEN = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/u;

/** whitespace, or what ends a value in a list or object */
function endsToken(byte: number | undefined): boolean {
  return byte === SPACE || byte === LF || byte === CR || byte === TAB || byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT;
}

/** not what this reader expects: the body goes to JSON.parse */
class Unexpected extends Error {}

function notJson(error: unknown): MappingError {
  return new MappingError(`body is not JSON: ${(error as Error).message}`);
}

/** Where values of a JSON text in bytes begin and end. */
class Bytes {
  constructor(protected readonly body: Buffer) {}

  skipSpace(at: number): number {
    const { body } = this;
    while (at < body.length && (body[at] === SPACE || body[at] === LF || body[at] === CR || body[at] === TAB)) at++;
    return at;
  }

  /** the end of the string whose opening quote is at `at` (after its closing quote) */
  stringEnd(at: number): number {
    const { body } = this;
    for (let i = at + 1; i < body.length; i++) {
      if (body[i] === BACKSLASH) i++;
      else if (body[i] === QUOTE) return i + 1;
    }
    throw new Unexpected('unterminated string');
  }

  /** the end of the value that starts at `at` (strings and brackets followed, tokens to the next delimiter) */
  valueEnd(at: number): number {
    const { body } = this;
    const first = body[at];
    if (first === QUOTE) return this.stringEnd(at);
    if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) {
      let i = at;
      while (i < body.length && !endsToken(body[i])) i++;
      if (i === at) throw new Unexpected('no value');
      return i;
    }
    let depth = 0;
    for (let i = at; i < body.length; i++) {
      const byte = body[i];
      if (byte === QUOTE) i = this.stringEnd(i) - 1;
      else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) depth++;
      else if ((byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) && --depth === 0) return i + 1;
    }
    throw new Unexpected('unterminated value');
  }

  /** whether the `length` bytes at `at` are those at `from` (a loop: shorter than a call to Buffer.compare) */
  same(at: number, from: Buffer, fromStart: number, length: number): boolean {
    const { body } = this;
    if (at + length > body.length) return false;
    for (let i = 0; i < length; i++) if (body[at + i] !== from[fromStart + i]) return false;
    return true;
  }

  startsWith(at: number, word: Buffer): boolean {
    return this.same(at, word, 0, word.length);
  }
}

/**
 * The common entries read straight from bytes, valid by construction: `null`, `[]`, and one
 * virtual worker with at most the keys `tags` (strings without escapes) and `constraint` (an
 * integer of at most 15 digits, or null). Anything else is left to JSON.parse (undefined). The
 * entry read is one object, reused (see EntryList).
 */
class EntryReader extends Bytes {
  /** where the last entry read ends */
  end = 0;
  private readonly vw: VirtualWorkerJson = {};
  private readonly entry = [this.vw];
  private readonly discard: EntryJson = [];
  /** the last tags read and their bytes: a map repeats the same tags, read once and shared */
  private tags: string[] = [];
  private tagsStart = 0;
  private tagsEnd = 0;

  read(at: number): EntryJson | undefined {
    const { body, vw } = this;
    if (body[at] === NULL[0]) {
      if (!this.startsWith(at, NULL)) return undefined;
      this.end = at + NULL.length;
      return null;
    }
    if (body[at] !== OPEN_ARRAY) return undefined;
    let i = this.skipSpace(at + 1);
    if (body[i] === CLOSE_ARRAY) {
      this.end = i + 1;
      return this.discard;
    }
    if (body[i] !== OPEN_OBJECT) return undefined;
    vw.tags = undefined;
    vw.constraint = undefined;
    i = this.skipSpace(i + 1);
    while (body[i] !== CLOSE_OBJECT) {
      if (vw.constraint === undefined && this.startsWith(i, CONSTRAINT_KEY)) i = this.constraint(this.afterColon(i + CONSTRAINT_KEY.length));
      else if (vw.tags === undefined && this.startsWith(i, TAGS_KEY)) i = this.tagList(this.afterColon(i + TAGS_KEY.length));
      else return undefined;
      if (i < 0) return undefined;
      i = this.skipSpace(i);
      if (body[i] === COMMA) i = this.skipSpace(i + 1);
      else if (body[i] !== CLOSE_OBJECT) return undefined;
    }
    i = this.skipSpace(i + 1);
    if (body[i] !== CLOSE_ARRAY) return undefined;
    this.end = i + 1;
    return this.entry;
  }

  /** after the colon that follows a key ending at `at`, or -1 */
  private afterColon(at: number): number {
    at = this.skipSpace(at);
    return this.body[at] === COLON ? this.skipSpace(at + 1) : -1;
  }

  /** `vw.constraint` from `at`; returns where it ends, or -1 */
  private constraint(at: number): number {
    const { body, vw } = this;
    if (at < 0) return -1;
    if (this.startsWith(at, NULL)) {
      vw.constraint = null;
      return at + NULL.length;
    }
    const negative = body[at] === MINUS;
    let i = negative ? at + 1 : at;
    const first = i;
    let value = 0;
    while (body[i]! >= DIGIT_0 && body[i]! <= DIGIT_9) value = 10 * value + body[i++]! - DIGIT_0;
    // a fraction or exponent, a leading zero, no digits or too many: JSON.parse's
    const digits = i - first;
    if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && body[first] === DIGIT_0) || !endsToken(body[i])) return -1;
    vw.constraint = negative ? -value : value;
    return i;
  }

  /** `vw.tags` from `at`; returns where the list ends, or -1 */
  private tagList(at: number): number {
    const { body, vw } = this;
    if (at < 0 || body[at] !== OPEN_ARRAY) return -1;
    // the same bytes as the last list read are the same complete list
    const lastLength = this.tagsEnd - this.tagsStart;
    if (lastLength && this.same(at, body, this.tagsStart, lastLength)) {
      vw.tags = this.tags;
      return at + lastLength;
    }
    let i = this.skipSpace(at + 1);
    const tags: string[] = [];
    while (body[i] !== CLOSE_ARRAY) {
      if (body[i] !== QUOTE) return -1;
      let end = i + 1;
      while (end < body.length && body[end] !== QUOTE && body[end] !== BACKSLASH && body[end]! >= SPACE) end++;
      if (body[end] !== QUOTE) return -1;
      tags.push(body.toString('utf8', i + 1, end));
      i = this.skipSpace(end + 1);
      if (body[i] === COMMA) i = this.skipSpace(i + 1);
      else if (body[i] !== CLOSE_ARRAY) return -1;
    }
    [this.tags, this.tagsStart, this.tagsEnd] = [tags, at, i + 1];
    vw.tags = tags;
    return i + 1;
  }
}

/** A stream's entries as bytes of the body; read and checked one by one as they are iterated. */
export class LazyEntryList implements EntryList {
  constructor(
    private readonly body: Buffer,
    /** where the list's elements start (after its opening bracket) */
    private readonly start: number,
    readonly length: number,
    /** where the list is in the body, for error texts */
    private readonly path: readonly PropertyKey[],
  ) {}

  forEach(visit: (entry: EntryJson) => void): void {
    const reader = new EntryReader(this.body);
    let at = this.start;
    for (let index = 0; index < this.length; index++) {
      at = reader.skipSpace(at);
      let entry = reader.read(at);
      if (entry === undefined) {
        reader.end = reader.valueEnd(at);
        try {
          entry = JSON.parse(this.body.toString('utf8', at, reader.end)) as EntryJson;
        } catch (error) {
          throw notJson(error);
        }
        checkEntry(entry, [...this.path, index])?.throw();
      }
      visit(entry);
      // the envelope found a comma or the list's end after every entry
      at = reader.skipSpace(reader.end) + 1;
    }
  }
}

class Reader extends Bytes {
  /** `lazyAt(path)`: the location of an entry list at `path` for error texts, or null where there is none */
  constructor(body: Buffer, private readonly lazyAt: (path: readonly PropertyKey[]) => PropertyKey[] | null) {
    super(body);
  }

  /** parses the value at `at`; returns it and where it ends */
  value(at: number, path: PropertyKey[]): [unknown, number] {
    at = this.skipSpace(at);
    if (this.body[at] === OPEN_OBJECT) return this.object(at, path);
    const location = this.body[at] === OPEN_ARRAY ? this.lazyAt(path) : null;
    if (location) return this.lazyList(at, location);
    const end = this.valueEnd(at);
    return [JSON.parse(this.body.toString('utf8', at, end)), end];
  }

  object(at: number, path: PropertyKey[]): [Record<string, unknown>, number] {
    const out: Record<string, unknown> = {};
    at = this.skipSpace(at + 1);
    if (this.body[at] === CLOSE_OBJECT) return [out, at + 1];
    for (;;) {
      if (this.body[at] !== QUOTE) throw new Unexpected('no key');
      const keyEnd = this.stringEnd(at);
      const key = JSON.parse(this.body.toString('utf8', at, keyEnd)) as string;
      at = this.skipSpace(keyEnd);
      if (this.body[at] !== COLON) throw new Unexpected('no colon');
      const [value, end] = this.value(at + 1, [...path, key]);
      // an own property even for `__proto__`, as JSON.parse makes it (the checks refuse that name)
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      at = this.skipSpace(end);
      if (this.body[at] === CLOSE_OBJECT) return [out, at + 1];
      if (this.body[at] !== COMMA) throw new Unexpected('no comma');
      at = this.skipSpace(at + 1);
    }
  }

  /** a bare value (not a string, array or object) JSON.parse takes: the element count of a list must not count a typo */
  checkToken(start: number, end: number): void {
    const { body } = this;
    const isNull = end - start === 4 && body[start] === 0x6e && body[start + 1] === 0x75 && body[start + 2] === 0x6c && body[start + 3] === 0x6c;
    if (!isNull && !TOKEN.test(body.toString('latin1', start, end))) throw new Unexpected('not a JSON token');
  }

  /** the array at `at` as an entry list, its elements found but not read */
  lazyList(at: number, location: PropertyKey[]): [LazyEntryList, number] {
    const start = at + 1;
    let length = 0;
    let i = this.skipSpace(start);
    if (this.body[i] === CLOSE_ARRAY) return [new LazyEntryList(this.body, start, 0, location), i + 1];
    for (;;) {
      const valueStart = this.skipSpace(i);
      i = this.valueEnd(valueStart);
      if (this.body[valueStart] !== QUOTE && this.body[valueStart] !== OPEN_ARRAY && this.body[valueStart] !== OPEN_OBJECT) this.checkToken(valueStart, i);
      length++;
      const next = this.skipSpace(i);
      if (this.body[next] === CLOSE_ARRAY) return [new LazyEntryList(this.body, start, length, location), next + 1];
      if (this.body[next] !== COMMA) throw new Unexpected('no comma');
      i = next + 1;
    }
  }
}

/**
 * A map body (`POST /api/v1/sequence` or `/mapping`): JSON.parse for a small body; a large one with
 * its entry lists left lazy. `lazyAt` says where entry lists are (see Reader).
 */
function parseMapBody(body: Buffer, lazyAt: (path: readonly PropertyKey[]) => PropertyKey[] | null): unknown {
  if (body.length >= LAZY_BODY_BYTES) {
    try {
      const reader = new Reader(body, lazyAt);
      const start = reader.skipSpace(0);
      if (body[start] === OPEN_OBJECT) {
        const [value, end] = reader.object(start, []);
        if (reader.skipSpace(end) === body.length) return value;
      }
    } catch (error) {
      if (!(error instanceof Unexpected) && !(error instanceof SyntaxError)) throw error;
    }
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw notJson(error);
  }
}

/** `POST /api/v1/sequence`: entry lists at parts.<part>.<stream> */
export function parseSequenceBody(body: Buffer): unknown {
  return parseMapBody(body, (path) => (path.length === 3 && path[0] === 'parts' ? [...path] : null));
}

/** `POST /api/v1/mapping`: entry lists at <stream>, of the part played as `partName` */
export function parseMappingBody(body: Buffer, partName: string): unknown {
  return parseMapBody(body, (path) => (path.length === 1 ? ['parts', partName, path[0]!] : null));
}
