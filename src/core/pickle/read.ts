/**
 * A safe unpickler for the pickles upstream devices send (Contrast, Xspress3 metadata, LeCroy timestamps;
 * protocols.md §1.4): protocols 2–5. Nothing named by a pickle is ever imported or called: an allow-list of
 * builtins, OrderedDict and numpy is rebuilt here, and any other class becomes an opaque PickledObject (its
 * module, name, arguments and state), so that a record holding one (Contrast's writing detectors put h5py
 * ExternalLinks in theirs) keeps everything else.
 *
 * Python → JavaScript: dict/OrderedDict → plain object (insertion order, keys as strings), list/tuple → array,
 * set/frozenset → Set, int → number (bigint beyond 2^53), float → number, str → string, bytes/bytearray → Buffer,
 * None → null, numpy array → NDArray (C order, native byte order), numpy scalar → number/bigint/boolean,
 * numpy dtype → PickledDtype, an instance of another class → PickledObject, another class or function itself →
 * PickledClass. Bytes and little-endian C-order array data are views of the input, not copies.
 */
import { checkByteLength, isShape, itemSize, viewAs, type DType, type NDArray, type TypedArray } from '../ndarray.js';
import { dtypeFromNumpyCode } from '../numpy-dtype.js';

/** A numpy dtype object as it appears in a pickle; byte order is settled by BUILD after construction. */
export class PickledDtype {
  constructor(public name: DType, public bigEndian: boolean) {}
}

/** A class or function the pickle names that is not rebuilt here: only its name is kept. */
export class PickledClass {
  constructor(readonly module: string, readonly name: string) {}
}

/** An object of a PickledClass, never constructed: the arguments of its constructor and the state BUILD gave it. */
export class PickledObject {
  state?: unknown;
  constructor(readonly module: string, readonly name: string, readonly args: unknown[]) {}
}

export function loadPickle(buf: Uint8Array): unknown {
  return new Unpickler(buf).load();
}

/** Opcodes by their byte; the enum's reverse mapping names them in errors. */
enum Op {
  MARK = 0x28, STOP = 0x2e, BINFLOAT = 0x47, BININT = 0x4a, BININT1 = 0x4b, BININT2 = 0x4d, NONE = 0x4e,
  REDUCE = 0x52, BINSTRING = 0x54, SHORT_BINSTRING = 0x55, BINUNICODE = 0x58, APPEND = 0x61, BUILD = 0x62,
  GLOBAL = 0x63, APPENDS = 0x65, BINGET = 0x68, LONG_BINGET = 0x6a, BINPUT = 0x71, LONG_BINPUT = 0x72,
  SETITEM = 0x73, TUPLE = 0x74, SETITEMS = 0x75, EMPTY_DICT = 0x7d, EMPTY_LIST = 0x5d, EMPTY_TUPLE = 0x29,
  BINBYTES = 0x42, SHORT_BINBYTES = 0x43,
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89,
  LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
  ADDITEMS = 0x90, FROZENSET = 0x91, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96,
}

const MIN_PROTOCOL = 2;
const MAX_PROTOCOL = 5;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const SHORT_TEXT = 32;

/** A global the pickle may name; `newobj` marks classes whose construction is harmless. */
class PyGlobal {
  constructor(
    readonly qualname: string,
    readonly call?: (args: unknown[], unpickler: Unpickler) => unknown,
    readonly newobj = false,
  ) {}
}

/** State of one load; one instance per pickle. */
class Unpickler {
  /** the input as a Buffer, for fast string decoding and views */
  private readonly input: Buffer;
  private readonly view: DataView;
  private pos = 0;
  /** offset of the opcode being executed, for error messages */
  private opStart = 0;
  private opcode = 0;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  /** which arrays and objects are a Python list or dict: tuples and arrays must not be appended to */
  private readonly lists = new WeakSet<unknown[]>();
  private readonly dicts = new WeakSet<object>();
  /** ndarrays created by _reconstruct and filled in place by BUILD */
  private readonly unbuiltArrays = new WeakSet<object>();
  private unbuiltCount = 0;

  constructor(private readonly buf: Uint8Array) {
    this.input = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  load(): unknown {
    if (this.buf.length === 0) throw new Error('not a pickle: empty input');
    if (this.buf[0] !== Op.PROTO) {
      throw new Error(`not a pickle of protocol ${MIN_PROTOCOL}–${MAX_PROTOCOL}: first byte is 0x${hex(this.buf[0])}, `
        + `expected PROTO (0x80)`);
    }
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= this.buf.length) {
        throw new Error(`truncated pickle: input ends at offset ${this.pos} before STOP`);
      }
      this.opcode = this.buf[this.pos++];
      if (this.opcode === Op.STOP) return this.finish();
      this.execute();
    }
  }

  private finish(): unknown {
    const result = this.pop();
    if (this.unbuiltCount > 0) throw this.error('an ndarray made by _reconstruct was never filled in by BUILD');
    return result;
  }

  private execute(): void {
    switch (this.opcode) {
      case Op.PROTO: {
        const protocol = this.uint8();
        if (protocol < MIN_PROTOCOL || protocol > MAX_PROTOCOL) throw this.error(`unsupported pickle protocol ${protocol}`);
        return;
      }
      case Op.FRAME: this.uint64(); return; // only a read-ahead hint; uint64() checks the frame is all there
      case Op.MARK: this.marks.push(this.stack.length); return;
      case Op.MEMOIZE: this.memo.set(this.memo.size, this.top()); return;
      case Op.BINPUT: this.memo.set(this.uint8(), this.top()); return;
      case Op.LONG_BINPUT: this.memo.set(this.uint32(), this.top()); return;
      case Op.BINGET: this.push(this.memoGet(this.uint8())); return;
      case Op.LONG_BINGET: this.push(this.memoGet(this.uint32())); return;
      case Op.NONE: this.push(null); return;
      case Op.NEWTRUE: this.push(true); return;
      case Op.NEWFALSE: this.push(false); return;
      case Op.BININT: this.push(this.int32()); return;
      case Op.BININT1: this.push(this.uint8()); return;
      case Op.BININT2: this.push(this.view.getUint16(this.advance(2), true)); return;
      case Op.LONG1: this.push(pythonLong(this.bytes(this.uint8()))); return;
      case Op.LONG4: this.push(pythonLong(this.bytes(this.int32()))); return;
      case Op.BINFLOAT: this.push(this.view.getFloat64(this.advance(8), false)); return;
      case Op.SHORT_BINUNICODE: this.push(this.text((this.uint8()))); return;
      case Op.BINUNICODE: this.push(this.text((this.uint32()))); return;
      case Op.BINUNICODE8: this.push(this.text((this.uint64()))); return;
      case Op.SHORT_BINSTRING: this.push(this.latin1((this.uint8()))); return;
      case Op.BINSTRING: this.push(this.latin1((this.int32()))); return;
      case Op.SHORT_BINBYTES: this.push(this.bytes(this.uint8())); return;
      case Op.BINBYTES: this.push(this.bytes(this.uint32())); return;
      case Op.BINBYTES8:
      case Op.BYTEARRAY8: this.push(this.bytes(this.uint64())); return;
      case Op.EMPTY_TUPLE: this.push([]); return;
      case Op.TUPLE: this.push(this.popMark()); return;
      case Op.TUPLE1: this.push(this.popN(1)); return;
      case Op.TUPLE2: this.push(this.popN(2)); return;
      case Op.TUPLE3: this.push(this.popN(3)); return;
      case Op.EMPTY_LIST: this.push(this.newList()); return;
      case Op.APPEND: { const item = this.pop(); this.list().push(item); return; }
      case Op.APPENDS: { const items = this.popMark(); const list = this.list(); for (const item of items) list.push(item); return; }
      case Op.EMPTY_DICT: this.push(this.newDict()); return;
      case Op.SETITEM: { const value = this.pop(); const key = this.pop(); this.setItem(this.dict(), key, value); return; }
      case Op.SETITEMS: this.setItems(); return;
      case Op.EMPTY_SET: this.push(new Set()); return;
      case Op.ADDITEMS: { const items = this.popMark(); const set = this.top(); if (!(set instanceof Set)) throw this.error('target is not a set'); for (const item of items) set.add(item); return; }
      case Op.FROZENSET: this.push(new Set(this.popMark())); return;
      case Op.GLOBAL: { const module = this.line(); const name = this.line(); this.push(this.resolveGlobal(module, name)); return; }
      case Op.STACK_GLOBAL: { const name = this.pop(); const module = this.pop(); this.push(this.resolveGlobal(module, name)); return; }
      case Op.REDUCE: { const args = this.pop(); const callable = this.pop(); this.push(this.call(callable, args, false)); return; }
      case Op.NEWOBJ: { const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, args, true)); return; }
      case Op.BUILD: { const state = this.pop(); this.build(this.top(), state); return; }
      default:
        throw new Error(`unsupported pickle opcode 0x${hex(this.opcode)}`
          + `${isPrintable(this.opcode) ? ` ('${String.fromCharCode(this.opcode)}')` : ''} at offset ${this.opStart}`);
    }
  }

  // ---- reading the input ----

  private error(problem: string): Error {
    return new Error(`pickle opcode ${Op[this.opcode] ?? `0x${hex(this.opcode)}`} at offset ${this.opStart}: ${problem}`);
  }

  private truncated(needed: number | bigint): never {
    throw this.error(`truncated: needs ${needed} more bytes at offset ${this.pos}, only ${this.buf.length - this.pos} left`);
  }

  /** moves past n bytes and returns where they start */
  private advance(n: number): number {
    if (n > this.buf.length - this.pos) this.truncated(n);
    const start = this.pos;
    this.pos += n;
    return start;
  }

  /** the next n bytes as a Buffer view of the input */
  private bytes(n: number): Buffer {
    if (n < 0) throw this.error(`negative length ${n}`);
    const start = this.advance(n);
    return this.input.subarray(start, start + n);
  }

  private uint8(): number { return this.input[this.advance(1)]; }
  private int32(): number { return this.view.getInt32(this.advance(4), true); }
  private uint32(): number { return this.view.getUint32(this.advance(4), true); }

  /** a 64-bit length, checked against the bytes left */
  private uint64(): number {
    const value = this.view.getBigUint64(this.advance(8), true);
    if (value > BigInt(this.buf.length - this.pos)) this.truncated(value);
    return Number(value);
  }

  /** the next n bytes as UTF-8 text */
  private text(n: number): string {
    const start = this.advance(n);
    // short ASCII strings (dict keys, names) are built in JS: a native decode call costs more than the loop
    if (n <= SHORT_TEXT) {
      let text = '';
      for (let i = start; i < start + n; i++) {
        const byte = this.input[i];
        if (byte >= 0x80) return this.utf8(start, n);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return this.utf8(start, n);
  }

  /** Buffer decoding is fast but lenient, so replacement characters get a strict second look */
  private utf8(start: number, n: number): string {
    const text = this.input.toString('utf8', start, start + n);
    if (text.includes('\ufffd')) {
      try {
        strictUtf8.decode(this.input.subarray(start, start + n));
      } catch {
        throw this.error('string is not valid UTF-8');
      }
    }
    return text;
  }

  /** Python 2 byte strings, read as latin-1 */
  private latin1(n: number): string {
    if (n < 0) throw this.error(`negative length ${n}`);
    const start = this.advance(n);
    return this.input.toString('latin1', start, start + n);
  }

  /** a newline-terminated ASCII argument of GLOBAL */
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.truncated(1);
    const text = this.input.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return text;
  }

  // ---- the stack ----

  private push(value: unknown): void { this.stack.push(value); }

  /** items below the last MARK are out of reach until the mark is popped */
  private pop(): unknown {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw this.error('stack underflow');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) throw this.error('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popN(n: number): unknown[] {
    if (this.stack.length - n < (this.marks.at(-1) ?? 0)) throw this.error('stack underflow');
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.error('no MARK on the stack');
    return this.stack.splice(mark);
  }

  private memoGet(key: number): unknown {
    if (!this.memo.has(key)) throw this.error(`memo entry ${key} was never stored`);
    return this.memo.get(key);
  }

  // ---- containers ----

  private newList(): unknown[] {
    const list: unknown[] = [];
    this.lists.add(list);
    return list;
  }

  private list(): unknown[] {
    const target = this.top();
    if (!Array.isArray(target) || !this.lists.has(target)) throw this.error('target is not a list');
    return target;
  }

  newDict(): Record<string, unknown> {
    const dict: Record<string, unknown> = {};
    this.dicts.add(dict);
    return dict;
  }

  private dict(): Record<string, unknown> {
    const target = this.top();
    if (typeof target !== 'object' || target === null || !this.dicts.has(target)) throw this.error('target is not a dict');
    return target as Record<string, unknown>;
  }

  private setItems(): void {
    const items = this.popMark();
    if (items.length % 2 !== 0) throw this.error('odd number of items for a dict');
    const dict = this.dict();
    for (let i = 0; i < items.length; i += 2) this.setItem(dict, items[i], items[i + 1]);
  }

  private setItem(dict: Record<string, unknown>, key: unknown, value: unknown): void {
    let name: string;
    if (typeof key === 'string') name = key;
    else if (typeof key === 'number' || typeof key === 'bigint') name = String(key);
    else throw this.error(`dict key ${describe(key)} cannot be an object key`);
    // a key named __proto__ must become an own property, not replace the prototype
    if (name === '__proto__') Object.defineProperty(dict, name, { value, enumerable: true, writable: true, configurable: true });
    else dict[name] = value;
  }

  // ---- globals, REDUCE, NEWOBJ, BUILD ----

  private resolveGlobal(module: unknown, name: unknown): PyGlobal | PickledClass {
    if (typeof module !== 'string' || typeof name !== 'string') throw this.error('module and name must be strings');
    return ALLOWED_GLOBALS.get(`${module}.${name}`) ?? new PickledClass(module, name);
  }

  private call(callable: unknown, args: unknown, asNewobj: boolean): unknown {
    if (callable instanceof PickledClass) {
      if (!Array.isArray(args)) throw this.error(`arguments of ${describe(callable)} are ${describe(args)}, not a tuple`);
      return new PickledObject(callable.module, callable.name, args);
    }
    if (!(callable instanceof PyGlobal)) throw this.error(`${describe(callable)} is not callable`);
    if (!Array.isArray(args)) throw this.error(`arguments of ${callable.qualname} are ${describe(args)}, not a tuple`);
    if (asNewobj && !callable.newobj) throw this.error(`NEWOBJ of ${callable.qualname} is not allowed`);
    if (!callable.call) throw this.error(`${callable.qualname} cannot be called`);
    try {
      return callable.call(args, this);
    } catch (error) {
      throw this.error(`${callable.qualname}: ${(error as Error).message}`);
    }
  }

  private build(target: unknown, state: unknown): void {
    if (target instanceof PickledDtype) {
      buildDtype(target, state);
    } else if (target instanceof PickledObject) {
      target.state = state;
    } else if (typeof target === 'object' && target !== null && this.unbuiltArrays.has(target)) {
      Object.assign(target, arrayFromState(state));
      this.unbuiltArrays.delete(target);
      this.unbuiltCount -= 1;
    } else {
      throw this.error(`cannot BUILD ${describe(target)}`);
    }
  }

  /** `_reconstruct(ndarray, (0,), b'b')`: an empty array that BUILD fills in */
  reconstruct(args: unknown[]): NDArray {
    if (args[0] !== NUMPY_NDARRAY) throw new Error(`only numpy.ndarray can be reconstructed, got ${describe(args[0])}`);
    const array: NDArray = { data: new Uint8Array(0), shape: [0], dtype: 'uint8' };
    this.unbuiltArrays.add(array);
    this.unbuiltCount += 1;
    return array;
  }
}

const NUMPY_NDARRAY = new PyGlobal('numpy.ndarray');

const ALLOWED_GLOBALS = new Map<string, PyGlobal>();
function allow(names: string[], global: PyGlobal): void {
  for (const name of names) ALLOWED_GLOBALS.set(name, global);
}
allow(['collections.OrderedDict'], new PyGlobal('collections.OrderedDict', (args, unpickler) => {
  noArgs(args);
  return unpickler.newDict();
}, true));
allow(['builtins.set', '__builtin__.set'], new PyGlobal('set', (args) => new Set(iterableArg(args)), true));
allow(['builtins.frozenset', '__builtin__.frozenset'], new PyGlobal('frozenset', (args) => new Set(iterableArg(args)), true));
// protocol 2 pickles empty bytes as bytes() and other bytes as _codecs.encode(latin-1 text)
allow(['builtins.bytes', '__builtin__.bytes'], new PyGlobal('bytes', (args) => {
  noArgs(args);
  return Buffer.alloc(0);
}, true));
allow(['_codecs.encode'], new PyGlobal('_codecs.encode', codecsEncode));
allow(['numpy.ndarray'], NUMPY_NDARRAY);
allow(['numpy.dtype'], new PyGlobal('numpy.dtype', (args) => dtypeFromSpec(args[0])));
allow(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct'],
  new PyGlobal('numpy.core.multiarray._reconstruct', (args, unpickler) => unpickler.reconstruct(args)));
allow(['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'], new PyGlobal('numpy.core.multiarray.scalar', numpyScalar));
allow(['numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer'], new PyGlobal('numpy.core.numeric._frombuffer', fromBuffer));

// ---- numpy ----

/** `numpy.dtype('f8', False, True)`; the byte order may follow in BUILD */
function dtypeFromSpec(spec: unknown): PickledDtype {
  const match = typeof spec === 'string' ? /^([<>|=]?)([a-z]\d+)$/.exec(spec) : null;
  const name = match ? dtypeFromNumpyCode(match[2]) : undefined;
  if (!match || !name) throw new Error(`numpy dtype ${describe(spec)} is not supported`);
  return new PickledDtype(name, match[1] === '>');
}

/** dtype state `(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])` */
function buildDtype(dtype: PickledDtype, state: unknown): void {
  if (!Array.isArray(state) || state.length < 5 || typeof state[1] !== 'string') {
    throw new Error(`numpy dtype state ${describe(state)} is not understood`);
  }
  if (state[2] !== null || state[3] !== null) throw new Error('structured and subarray numpy dtypes are not supported');
  if (!['<', '>', '|', '='].includes(state[1])) throw new Error(`numpy byte order ${JSON.stringify(state[1])} is not understood`);
  dtype.bigEndian = state[1] === '>';
}

/** ndarray state `(version, shape, dtype, is_fortran, rawdata)`, or the old form without the version */
function arrayFromState(state: unknown): NDArray {
  if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
    throw new Error(`numpy array state ${describe(state)} is not understood`);
  }
  const [shape, dtype, isFortran, raw] = state.length === 5 ? state.slice(1) : state;
  if (typeof isFortran !== 'boolean') throw new Error('numpy array state has no is_fortran flag');
  return makeArray(raw, dtype, shape, isFortran);
}

/** `_frombuffer(buffer, dtype, shape, order)`, protocol 5's in-band array form */
function fromBuffer(args: unknown[]): NDArray {
  const [raw, dtype, shape, order] = args;
  if (order !== 'C' && order !== 'F') throw new Error(`array order ${describe(order)} is not understood`);
  return makeArray(raw, dtype, shape, order === 'F');
}

function makeArray(raw: unknown, dtype: unknown, shape: unknown, fortranOrder: boolean): NDArray {
  if (!(dtype instanceof PickledDtype)) throw new Error(`array dtype is ${describe(dtype)}`);
  if (!isShape(shape)) throw new Error(`array shape ${describe(shape)} is not a tuple of sizes`);
  const bytes = rawBytes(raw);
  checkByteLength(bytes, dtype.name, shape);
  let data = viewAs(dtype.bigEndian ? byteSwapped(bytes, itemSize(dtype.name)) : bytes, dtype.name);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { data, shape: [...shape], dtype: dtype.name };
}

/** Array data: bytes, or latin-1 text from Python 2 pickles. */
function rawBytes(raw: unknown): Uint8Array {
  if (typeof raw === 'string') return latin1Bytes(raw);
  if (raw instanceof Uint8Array) return raw;
  throw new Error(`array data is ${describe(raw)}; object arrays are not supported`);
}

/** a native-order copy of big-endian elements, in its own (aligned) ArrayBuffer */
function byteSwapped(bytes: Uint8Array, size: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  const swapper = Buffer.from(copy.buffer);
  if (size === 2) swapper.swap16();
  else if (size === 4) swapper.swap32();
  else if (size === 8) swapper.swap64();
  return copy;
}

type IndexedArray = { [index: number]: number | bigint; length: number };

/** Reorders column-major data to row-major. */
function fortranToC(source: TypedArray, shape: number[]): TypedArray {
  const out = new (source.constructor as new (length: number) => TypedArray)(source.length);
  const from = source as unknown as IndexedArray;
  const to = out as unknown as IndexedArray;
  const strides: number[] = [];
  let stride = 1;
  for (const size of shape) {
    strides.push(stride);
    stride *= size;
  }
  const index = new Array<number>(shape.length).fill(0);
  let f = 0;
  for (let c = 0; c < out.length; c++) {
    to[c] = from[f];
    // advance the row-major index, last axis fastest, keeping its column-major offset f
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] += 1;
      f += strides[axis];
      if (index[axis] < shape[axis]) break;
      f -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

/** `scalar(dtype, bytes)`: one element of an array; integers as number, or bigint beyond 2^53 */
function numpyScalar(args: unknown[]): number | bigint | boolean {
  const [dtype, raw] = args;
  if (!(dtype instanceof PickledDtype)) throw new Error(`scalar dtype is ${describe(dtype)}`);
  const bytes = rawBytes(raw);
  if (bytes.length !== itemSize(dtype.name)) throw new Error(`${dtype.name} scalar needs ${itemSize(dtype.name)} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = !dtype.bigEndian;
  switch (dtype.name) {
    case 'bool': return view.getUint8(0) !== 0;
    case 'int8': return view.getInt8(0);
    case 'uint8': return view.getUint8(0);
    case 'int16': return view.getInt16(0, little);
    case 'uint16': return view.getUint16(0, little);
    case 'int32': return view.getInt32(0, little);
    case 'uint32': return view.getUint32(0, little);
    case 'int64': return narrow(view.getBigInt64(0, little));
    case 'uint64': return narrow(view.getBigUint64(0, little));
    case 'float32': return view.getFloat32(0, little);
    case 'float64': return view.getFloat64(0, little);
  }
}

// ---- builtins ----

/** `_codecs.encode(text, 'latin1')`: each code point 0..255 is one byte */
function codecsEncode(args: unknown[]): Buffer {
  const [text, encoding] = args;
  if (typeof text !== 'string') throw new Error(`expected text, got ${describe(text)}`);
  if (typeof encoding !== 'string' || !['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1'].includes(encoding.toLowerCase())) {
    throw new Error(`encoding ${describe(encoding)} is not supported, only latin1`);
  }
  return latin1Bytes(text);
}

function latin1Bytes(text: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) throw new Error(`character U+${text.charCodeAt(i).toString(16)} is not latin-1`);
  }
  return Buffer.from(text, 'latin1');
}

function noArgs(args: unknown[]): void {
  if (args.length !== 0) throw new Error(`expected no arguments, got ${args.length}`);
}

function iterableArg(args: unknown[]): Iterable<unknown> {
  if (args.length === 0) return [];
  const [items] = args;
  if (args.length === 1 && (Array.isArray(items) || items instanceof Set)) return items;
  throw new Error(`expected one list argument, got ${describe(args)}`);
}

/** Python int from LONG1/LONG4: little-endian two's complement */
function pythonLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return narrow(value);
}

function narrow(value: bigint): number | bigint {
  return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function isPrintable(byte: number): boolean {
  return byte >= 0x20 && byte < 0x7f;
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  if (value instanceof PyGlobal) return value.qualname;
  if (value instanceof PickledClass) return `${value.module}.${value.name}`;
  if (Array.isArray(value)) return `a tuple/list of ${value.length}`;
  return `a ${value.constructor?.name ?? 'object'}`;
}
