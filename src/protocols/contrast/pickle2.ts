/**
 * Pickle protocol 2 as CPython writes it, for emulating Contrast's StreamRecorder, which sends
 * every scan message with `send_pyobj(message, protocol=2)` (tango.md §5). The memo follows
 * CPython's pickler (every str, tuple, dict, list, global and reduced object gets a BINPUT; a
 * value met again is a BINGET), so a message comes out byte for byte as Contrast sends it.
 *
 * JavaScript → Python: number → float (always: Contrast positions are floats, even integral ones),
 * bigint → int, string → str, boolean → bool, null → None, array → list, plain object → dict,
 * Map → collections.OrderedDict, NDArray → numpy.ndarray (numpy's own reduce recipe, with the
 * data as `_codecs.encode(latin-1 text)` as protocol 2 has no bytes opcode), PickledObject → an
 * instance of its class made by `copyreg.__newobj__` and given its state, as CPython writes a plain
 * Python object (h5py's ExternalLink in the records of Contrast's writing detectors).
 */
import { isNDArray, type NDArray } from '../../core/ndarray.js';
import { PickledObject } from '../../core/pickle/read.js';
import { numpyDtype } from '../../core/numpy-dtype.js';

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a,
  NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89, BININT1: 0x4b, BININT2: 0x4d, BININT: 0x4a, LONG1: 0x8a, LONG4: 0x8b,
  BINFLOAT: 0x47, BINUNICODE: 0x58, EMPTY_TUPLE: 0x29, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, TUPLE: 0x74,
  EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEM: 0x73, SETITEMS: 0x75,
  GLOBAL: 0x63, REDUCE: 0x52, BUILD: 0x62, NEWOBJ: 0x81,
} as const;

/** CPython's pickler puts at most this many items under one MARK */
const BATCH = 1000;

/** `ndarray.__reduce__` passes this one bytes constant to every `_reconstruct` call, so it is memoized once */
const RECONSTRUCT_TYPECODE = Symbol("b'b'");

type Tuple = readonly (() => void)[];

class Pickler2 {
  private readonly out: Buffer[] = [];
  /** objects (by identity) and strings (by value) already written, with their memo index */
  private readonly memo = new Map<unknown, number>();
  /** globals and numpy dtypes, which Python shares as singletons */
  private readonly shared = new Map<string, number>();
  private memoSize = 0;

  dump(value: unknown): Buffer {
    this.bytes([OP.PROTO, 2]);
    this.save(value);
    this.bytes([OP.STOP]);
    return Buffer.concat(this.out);
  }

  private bytes(values: number[] | Buffer): void {
    this.out.push(Buffer.isBuffer(values) ? values : Buffer.from(values));
  }

  private uint32(op: number, value: number): void {
    const b = Buffer.alloc(5);
    b[0] = op;
    b.writeUInt32LE(value, 1);
    this.bytes(b);
  }

  /** BINPUT of the next memo index; remembered under `key` when given */
  private put(key?: unknown): number {
    const index = this.memoSize++;
    if (key !== undefined) this.memo.set(key, index);
    if (index < 0x100) this.bytes([OP.BINPUT, index]);
    else this.uint32(OP.LONG_BINPUT, index);
    return index;
  }

  private get(index: number): void {
    if (index < 0x100) this.bytes([OP.BINGET, index]);
    else this.uint32(OP.LONG_BINGET, index);
  }

  /** writes a memo reference instead of `key`'s value when it was written before */
  private recalled(key: unknown): boolean {
    const index = this.memo.get(key);
    if (index === undefined) return false;
    this.get(index);
    return true;
  }

  private save(value: unknown): void {
    if (value === null || value === undefined) return this.bytes([OP.NONE]);
    switch (typeof value) {
      case 'boolean': return this.bytes([value ? OP.NEWTRUE : OP.NEWFALSE]);
      case 'number': return this.float(value);
      case 'bigint': return this.int(value);
      case 'string': return this.str(value);
      case 'object': break;
      default: throw new TypeError(`cannot pickle a ${typeof value}`);
    }
    if (this.recalled(value)) return;
    if (isNDArray(value)) return this.ndarray(value);
    if (value instanceof PickledObject) return this.object(value);
    if (value instanceof Map) return this.orderedDict(value);
    if (Array.isArray(value)) return this.list(value);
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) return this.dict(value as Record<string, unknown>);
    throw new TypeError(`cannot pickle a ${value.constructor?.name ?? 'object'}`);
  }

  private float(value: number): void {
    const b = Buffer.alloc(9);
    b[0] = OP.BINFLOAT;
    b.writeDoubleBE(value, 1);
    this.bytes(b);
  }

  private int(value: bigint): void {
    if (value >= 0n && value < 0x100n) return this.bytes([OP.BININT1, Number(value)]);
    if (value >= 0n && value < 0x10000n) return this.bytes([OP.BININT2, Number(value & 0xffn), Number(value >> 8n)]);
    if (value >= -0x80000000n && value < 0x80000000n) {
      const b = Buffer.alloc(5);
      b[0] = OP.BININT;
      b.writeInt32LE(Number(value), 1);
      return this.bytes(b);
    }
    // little-endian two's complement in as few bytes as keep the sign
    const digits: number[] = [];
    for (let rest = value; ;) {
      const low = Number(BigInt.asUintN(8, rest));
      digits.push(low);
      rest >>= 8n;
      if ((rest === 0n && low < 0x80) || (rest === -1n && low >= 0x80)) break;
    }
    if (digits.length < 0x100) this.bytes([OP.LONG1, digits.length]);
    else this.uint32(OP.LONG4, digits.length);
    this.bytes(digits);
  }

  /** `byValue` false: a freshly made Python str, which is memoized but never found again */
  private str(value: string, byValue = true): void {
    if (byValue && this.recalled(value)) return;
    const utf8 = Buffer.from(value, 'utf8');
    this.uint32(OP.BINUNICODE, utf8.length);
    this.bytes(utf8);
    this.put(byValue ? value : undefined);
  }

  /** a tuple of what the thunks write; tuples of up to 3 have their own opcodes, the empty one is not memoized */
  private tuple(items: Tuple): void {
    if (items.length === 0) return this.bytes([OP.EMPTY_TUPLE]);
    const sized = [OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length - 1];
    if (sized === undefined) this.bytes([OP.MARK]);
    for (const item of items) item();
    this.bytes([sized ?? OP.TUPLE]);
    this.put();
  }

  private global(module: string, name: string): void {
    const key = `${module}.${name}`;
    const index = this.shared.get(key);
    if (index !== undefined) return this.get(index);
    this.bytes([OP.GLOBAL]);
    this.bytes(Buffer.from(`${module}\n${name}\n`, 'ascii'));
    this.shared.set(key, this.put());
  }

  /** CPython's `_batch_setitems` / `_batch_appends`: one item alone, more under a MARK, in batches */
  private batched<T>(items: readonly T[], write: (item: T) => void, one: number, many: number): void {
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      if (batch.length > 1) this.bytes([OP.MARK]);
      for (const item of batch) write(item);
      this.bytes([batch.length > 1 ? many : one]);
    }
  }

  private setItems(entries: [string, unknown][]): void {
    this.batched(entries, ([key, item]) => { this.save(key); this.save(item); }, OP.SETITEM, OP.SETITEMS);
  }

  private dict(record: Record<string, unknown>): void {
    this.bytes([OP.EMPTY_DICT]);
    this.put(record);
    this.setItems(Object.entries(record));
  }

  /** `OrderedDict.__reduce__`: the class called with no arguments, then its items */
  private orderedDict(map: Map<unknown, unknown>): void {
    const entries = [...map].map(([key, item]): [string, unknown] => {
      if (typeof key !== 'string') throw new TypeError(`OrderedDict key ${String(key)} is not a string`);
      return [key, item];
    });
    this.global('collections', 'OrderedDict');
    this.tuple([]);
    this.bytes([OP.REDUCE]);
    this.put(map);
    this.setItems(entries);
  }

  /** `cls.__reduce_ex__(2)` of a plain object: NEWOBJ of the class with its arguments, then BUILD with the state */
  private object(object: PickledObject): void {
    this.global(object.module, object.name);
    this.tuple(object.args.map((arg) => () => this.save(arg)));
    this.bytes([OP.NEWOBJ]);
    this.put(object);
    if (object.state === undefined) return;
    this.save(object.state);
    this.bytes([OP.BUILD]);
  }

  private list(items: unknown[]): void {
    this.bytes([OP.EMPTY_LIST]);
    this.put(items);
    this.batched(items, (item) => this.save(item), OP.APPEND, OP.APPENDS);
  }

  /** protocol 2 bytes: `bytes()` when empty, else `_codecs.encode(text, 'latin1')`, the text a fresh object */
  private pyBytes(data: Uint8Array, memoKey?: unknown): void {
    if (memoKey !== undefined && this.recalled(memoKey)) return;
    if (data.length === 0) {
      this.global('__builtin__', 'bytes');
      this.tuple([]);
    } else {
      this.global('_codecs', 'encode');
      this.tuple([
        () => this.str(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'), false),
        () => this.str('latin1'),
      ]);
    }
    this.bytes([OP.REDUCE]);
    this.put(memoKey);
  }

  /** `_reconstruct(ndarray, (0,), b'b')`, then BUILD with `(1, shape, dtype, False, raw bytes)` */
  private ndarray(array: NDArray): void {
    this.global('numpy.core.multiarray', '_reconstruct');
    this.tuple([
      () => this.global('numpy', 'ndarray'),
      () => this.tuple([() => this.int(0n)]),
      () => this.pyBytes(Buffer.from('b'), RECONSTRUCT_TYPECODE),
    ]);
    this.bytes([OP.REDUCE]);
    this.put(array);
    this.tuple([
      () => this.int(1n),
      () => this.tuple(array.shape.map((n) => () => this.int(BigInt(n)))),
      () => this.dtype(array),
      () => this.bytes([OP.NEWFALSE]),
      () => this.pyBytes(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength)),
    ]);
    this.bytes([OP.BUILD]);
  }

  /** `dtype('f8', False, True)` built with `(3, '<', None, None, None, -1, -1, 0)`; one object per dtype */
  private dtype(array: NDArray): void {
    const { byteOrder, code } = numpyDtype(array.dtype);
    const key = `dtype ${code}`;
    const index = this.shared.get(key);
    if (index !== undefined) return this.get(index);
    this.global('numpy', 'dtype');
    this.tuple([() => this.str(code), () => this.bytes([OP.NEWFALSE]), () => this.bytes([OP.NEWTRUE])]);
    this.bytes([OP.REDUCE]);
    this.shared.set(key, this.put());
    this.tuple([
      () => this.int(3n), () => this.str(byteOrder),
      () => this.bytes([OP.NONE]), () => this.bytes([OP.NONE]), () => this.bytes([OP.NONE]),
      () => this.int(-1n), () => this.int(-1n), () => this.int(0n),
    ]);
    this.bytes([OP.BUILD]);
  }
}

/** Pickles a value with protocol 2 exactly as CPython does (see the module comment for the value model). */
export function encodePickle2(value: unknown): Buffer {
  return new Pickler2().dump(value);
}
