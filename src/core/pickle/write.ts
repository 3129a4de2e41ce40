/**
 * Python pickle writer for the values of encodable.ts, so that Python clients get native objects
 * from `pickle.loads(...)`: NDArrays and typed arrays become numpy arrays, Buffers bytes, bigints ints.
 *
 * Protocol 3 (readable by every Python 3): it is protocol 2 plus the BINBYTES opcodes, which let
 * array payloads go out as the raw bytes they are instead of protocol 2's latin-1 text detour.
 */
import { type Encodable, classify } from '../encodable.js';
import type { NDArray } from '../ndarray.js';
import { numpyDtype } from '../numpy-dtype.js';

const PROTOCOL = 3;

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28,
  NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT1: 0x4b, BININT2: 0x4d, BININT: 0x4a, LONG1: 0x8a, LONG4: 0x8b, BINFLOAT: 0x47,
  BINUNICODE: 0x58, SHORT_BINBYTES: 0x43, BINBYTES: 0x42,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEMS: 0x75,
  EMPTY_TUPLE: 0x29, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, TUPLE: 0x74,
  GLOBAL: 0x63, REDUCE: 0x52, BUILD: 0x62,
} as const;

/** Python's own pickler puts at most this many items under one MARK. */
const BATCH = 1000;

/** Collects small writes in a scratch buffer and keeps large payloads as references until the end. */
class ByteSink {
  private static readonly SCRATCH = 64 * 1024;
  private static readonly BY_REFERENCE = 4096;
  private readonly chunks: Uint8Array[] = [];
  private scratch = Buffer.allocUnsafe(ByteSink.SCRATCH);
  /** where the scratch bytes not yet pushed as a chunk begin: a flush keeps the free space for later writes */
  private start = 0;
  private used = 0;

  byte(value: number): void {
    this.reserve(1);
    this.scratch[this.used++] = value;
  }

  uint16(value: number): void {
    this.reserve(2);
    this.used = this.scratch.writeUInt16LE(value, this.used);
  }

  int32(value: number): void {
    this.reserve(4);
    this.used = this.scratch.writeInt32LE(value, this.used);
  }

  uint32(value: number): void {
    this.reserve(4);
    this.used = this.scratch.writeUInt32LE(value, this.used);
  }

  float64BigEndian(value: number): void {
    this.reserve(8);
    this.used = this.scratch.writeDoubleBE(value, this.used);
  }

  bytes(data: Uint8Array): void {
    if (data.byteLength >= ByteSink.BY_REFERENCE) {
      this.flush();
      this.chunks.push(data);
      return;
    }
    this.reserve(data.byteLength);
    this.scratch.set(data, this.used);
    this.used += data.byteLength;
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private reserve(size: number): void {
    if (this.used + size <= this.scratch.length) return;
    this.flush();
    this.scratch = Buffer.allocUnsafe(ByteSink.SCRATCH);
    this.start = 0;
    this.used = 0;
  }

  private flush(): void {
    if (this.used === this.start) return;
    this.chunks.push(this.scratch.subarray(this.start, this.used));
    this.start = this.used;
  }
}

/** Pickles a value (see encodable.ts for what can be pickled); throws a TypeError for anything else. */
export function encodePickle(value: unknown): Buffer {
  const sink = new ByteSink();
  sink.byte(OP.PROTO);
  sink.byte(PROTOCOL);
  writeValue(sink, classify(value));
  sink.byte(OP.STOP);
  return sink.finish();
}

function writeValue(sink: ByteSink, item: Encodable): void {
  switch (item.kind) {
    case 'none': sink.byte(OP.NONE); return;
    case 'bool': sink.byte(item.value ? OP.NEWTRUE : OP.NEWFALSE); return;
    case 'number': writeNumber(sink, item.value); return;
    case 'bigint': writeLong(sink, item.value); return;
    case 'string': writeString(sink, item.value); return;
    case 'bytes': writeBytes(sink, item.value); return;
    case 'array': writeNDArray(sink, item.value); return;
    case 'list': writeList(sink, item.value); return;
    case 'record': writeDict(sink, item.value); return;
  }
}

/** JS has one number type: integral values travel as Python ints, the rest (and -0) as floats. */
function writeNumber(sink: ByteSink, value: number): void {
  if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
    sink.byte(OP.BINFLOAT);
    sink.float64BigEndian(value);
  } else if (value >= 0 && value < 0x100) {
    sink.byte(OP.BININT1);
    sink.byte(value);
  } else if (value >= 0 && value < 0x10000) {
    sink.byte(OP.BININT2);
    sink.uint16(value);
  } else if (value >= -0x80000000 && value < 0x80000000) {
    sink.byte(OP.BININT);
    sink.int32(value);
  } else {
    writeLong(sink, BigInt(value));
  }
}

/** LONG1/LONG4: little-endian two's complement in as few bytes as keep the sign. */
function writeLong(sink: ByteSink, value: bigint): void {
  const digits: number[] = [];
  let rest = value;
  for (;;) {
    const low = Number(BigInt.asUintN(8, rest));
    digits.push(low);
    rest >>= 8n;
    if ((rest === 0n && low < 0x80) || (rest === -1n && low >= 0x80)) break;
  }
  if (digits.length < 0x100) {
    sink.byte(OP.LONG1);
    sink.byte(digits.length);
  } else {
    sink.byte(OP.LONG4);
    sink.uint32(digits.length);
  }
  sink.bytes(Uint8Array.from(digits));
}

function writeString(sink: ByteSink, value: string): void {
  const utf8 = Buffer.from(value, 'utf8');
  sink.byte(OP.BINUNICODE);
  sink.uint32(utf8.byteLength);
  sink.bytes(utf8);
}

function writeBytes(sink: ByteSink, value: Uint8Array): void {
  if (value.byteLength < 0x100) {
    sink.byte(OP.SHORT_BINBYTES);
    sink.byte(value.byteLength);
  } else if (value.byteLength <= 0xffffffff) {
    sink.byte(OP.BINBYTES);
    sink.uint32(value.byteLength);
  } else {
    throw new RangeError(`cannot pickle ${value.byteLength} bytes in one piece (protocol ${PROTOCOL} allows 4 GiB)`);
  }
  sink.bytes(value);
}

function writeGlobal(sink: ByteSink, module: string, name: string): void {
  sink.byte(OP.GLOBAL);
  sink.bytes(Buffer.from(`${module}\n${name}\n`, 'ascii'));
}

function writeTupleOfInts(sink: ByteSink, values: readonly number[]): void {
  const sized = [OP.EMPTY_TUPLE, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][values.length];
  if (sized === undefined) sink.byte(OP.MARK);
  for (const value of values) writeNumber(sink, value);
  sink.byte(sized ?? OP.TUPLE);
}

/**
 * numpy's own recipe, which numpy 1.x and 2.x both load:
 * `_reconstruct(ndarray, (0,), b'b')`, then BUILD with `(1, shape, dtype, False, rawbytes)`,
 * where dtype is `dtype('f8', False, True)` built with `(3, '<', None, None, None, -1, -1, 0)`.
 */
function writeNDArray(sink: ByteSink, array: NDArray): void {
  writeGlobal(sink, 'numpy.core.multiarray', '_reconstruct');
  writeGlobal(sink, 'numpy', 'ndarray');
  writeTupleOfInts(sink, [0]);
  writeBytes(sink, Buffer.from('b', 'ascii'));
  sink.byte(OP.TUPLE3);
  sink.byte(OP.REDUCE);

  sink.byte(OP.MARK);
  writeNumber(sink, 1);
  writeTupleOfInts(sink, array.shape);
  writeDtype(sink, array);
  sink.byte(OP.NEWFALSE);
  writeBytes(sink, new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength));
  sink.byte(OP.TUPLE);
  sink.byte(OP.BUILD);
}

function writeDtype(sink: ByteSink, array: NDArray): void {
  const { byteOrder, code } = numpyDtype(array.dtype);
  writeGlobal(sink, 'numpy', 'dtype');
  writeString(sink, code);
  sink.byte(OP.NEWFALSE);
  sink.byte(OP.NEWTRUE);
  sink.byte(OP.TUPLE3);
  sink.byte(OP.REDUCE);

  sink.byte(OP.MARK);
  writeNumber(sink, 3);
  writeString(sink, byteOrder);
  for (let i = 0; i < 3; i++) sink.byte(OP.NONE);
  writeNumber(sink, -1);
  writeNumber(sink, -1);
  writeNumber(sink, 0);
  sink.byte(OP.TUPLE);
  sink.byte(OP.BUILD);
}

function writeList(sink: ByteSink, items: readonly unknown[]): void {
  sink.byte(OP.EMPTY_LIST);
  for (let start = 0; start < items.length; start += BATCH) {
    sink.byte(OP.MARK);
    const end = Math.min(start + BATCH, items.length);
    for (let i = start; i < end; i++) writeValue(sink, classify(items[i]));
    sink.byte(OP.APPENDS);
  }
}

function writeDict(sink: ByteSink, record: Record<string, unknown>): void {
  sink.byte(OP.EMPTY_DICT);
  const keys = Object.keys(record);
  for (let start = 0; start < keys.length; start += BATCH) {
    sink.byte(OP.MARK);
    const end = Math.min(start + BATCH, keys.length);
    for (let i = start; i < end; i++) {
      writeString(sink, keys[i]!);
      writeValue(sink, classify(record[keys[i]!]));
    }
    sink.byte(OP.SETITEMS);
  }
}
