/**
 * The JSON of a posted trigger map, read without building its whole tree when it is large.
 *
 * JSON.parse of a 1M-entry map makes ~110 MB of objects at once, held until the part is built. A
 * large body is therefore read here in two steps: the envelope (objects, names, the sequence) is
 * parsed as usual, while each stream's list of entries stays bytes (`LazyEntryList`) that are
 * parsed, by JSON.parse, one chunk of about 64 kB at a time while the part is built. Our own code
 * only finds where values begin and end; anything it does not expect sends the whole body to
 * JSON.parse instead, so what is accepted and refused stays JSON.parse's. (Of several faults in one
 * body, a syntax error inside an entry may be named after a fault found earlier while building.)
 */
import { MappingError } from './errors.js';
import { checkEntry, type EntryJson, type EntryList } from './schema.js';

/** bodies from this size on are read lazily */
const LAZY_BODY_BYTES = 1 << 20;
const CHUNK_BYTES = 64 * 1024;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** the bare values of JSON */
const TOKEN = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/u;

/** not what this reader expects: the body goes to JSON.parse */
class Unexpected extends Error {}

function notJson(error: unknown): MappingError {
  return new MappingError(`body is not JSON: ${(error as Error).message}`);
}

/** A stream's entries as bytes of the body; checked and parsed chunk by chunk as they are read. */
export class LazyEntryList implements EntryList {
  constructor(
    private readonly body: Buffer,
    /** byte ranges of whole elements, without the commas between chunks */
    private readonly chunks: readonly [start: number, end: number][],
    readonly length: number,
    /** where the list is in the body, for error texts */
    private readonly path: readonly PropertyKey[],
  ) {}

  *[Symbol.iterator](): Generator<EntryJson> {
    let index = 0;
    for (const [start, end] of this.chunks) {
      let entries: unknown[];
      try {
        entries = JSON.parse(`[${this.body.toString('utf8', start, end)}]`) as unknown[];
      } catch (error) {
        throw notJson(error);
      }
      for (const entry of entries) {
        checkEntry(entry, [...this.path, index])?.throw();
        index++;
        yield entry as EntryJson;
      }
    }
  }
}

class Reader {
  /** `lazyAt(path)`: the location of an entry list at `path` for error texts, or null where there is none */
  constructor(private readonly body: Buffer, private readonly lazyAt: (path: readonly PropertyKey[]) => PropertyKey[] | null) {}

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
      while (i < body.length && ![SPACE, LF, CR, TAB, COMMA, CLOSE_ARRAY, CLOSE_OBJECT].includes(body[i]!)) i++;
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

  /** the elements of the array at `at`, cut into chunks at the commas between them */
  lazyList(at: number, location: PropertyKey[]): [LazyEntryList, number] {
    const chunks: [number, number][] = [];
    let length = 0;
    let chunkStart = this.skipSpace(at + 1);
    if (this.body[chunkStart] === CLOSE_ARRAY) return [new LazyEntryList(this.body, chunks, 0, location), chunkStart + 1];
    let i = chunkStart;
    for (;;) {
      const start = this.skipSpace(i);
      i = this.valueEnd(start);
      if (this.body[start] !== QUOTE && this.body[start] !== OPEN_ARRAY && this.body[start] !== OPEN_OBJECT) this.checkToken(start, i);
      length++;
      const next = this.skipSpace(i);
      if (this.body[next] === CLOSE_ARRAY) {
        chunks.push([chunkStart, i]);
        return [new LazyEntryList(this.body, chunks, length, location), next + 1];
      }
      if (this.body[next] !== COMMA) throw new Unexpected('no comma');
      if (i - chunkStart >= CHUNK_BYTES) {
        chunks.push([chunkStart, i]);
        chunkStart = next + 1;
      }
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
