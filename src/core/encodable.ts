/**
 * The values the pipeline's encoders (JSON, CBOR, pickle, npy) understand, sorted into kinds so
 * that every encoder walks the same tree the same way.
 */
import { type NDArray, dtypeOf, elementCount, isDType, isNDArray, isShape, isTypedArray } from './ndarray.js';

export type Encodable =
  | { kind: 'none' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; value: Buffer }
  /** an NDArray, or a bare typed array seen as a 1-D NDArray (`bare` tells which) */
  | { kind: 'array'; value: NDArray; bare: boolean }
  | { kind: 'list'; value: readonly unknown[] }
  | { kind: 'record'; value: Record<string, unknown> };

const NONE: Encodable = { kind: 'none' };

/** A plain object (literal or null-prototype) that is not an NDArray: encoded as a map of its keys. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || isNDArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sorts a value into its kind; throws a TypeError naming the value when no encoder can carry it. */
export function classify(value: unknown): Encodable {
  switch (typeof value) {
    case 'undefined': return NONE;
    case 'boolean': return { kind: 'bool', value };
    case 'number': return { kind: 'number', value };
    case 'bigint': return { kind: 'bigint', value };
    case 'string': return { kind: 'string', value };
    case 'object':
      if (value === null) return NONE;
      if (Buffer.isBuffer(value)) return { kind: 'bytes', value };
      if (Array.isArray(value)) return { kind: 'list', value };
      if (isTypedArray(value)) return { kind: 'array', value: { data: value, shape: [value.length], dtype: dtypeOf(value) }, bare: true };
      if (isNDArray(value)) return { kind: 'array', value: checkedNDArray(value), bare: false };
      if (isRecord(value)) return { kind: 'record', value };
      throw new TypeError(`cannot encode a ${value.constructor?.name ?? 'object'}: only null, booleans, numbers, bigints, `
        + 'strings, Buffers, arrays, plain objects, typed arrays and NDArrays can be encoded');
    default:
      throw new TypeError(`cannot encode a ${typeof value}`);
  }
}

/**
 * Encoders trust shape and dtype to lay out raw bytes, so an NDArray that contradicts itself is refused.
 * Buffer data is seen as a plain Uint8Array, so that no encoder mistakes it for bytes.
 */
function checkedNDArray(array: NDArray): NDArray {
  const { data, shape, dtype } = array;
  if (!isDType(dtype)) throw new TypeError(`cannot encode an NDArray of unknown dtype ${JSON.stringify(dtype)}`);
  // bool travels as one byte per element, so its data is a Uint8Array like uint8's
  const dataDtype = dtypeOf(data);
  if (dataDtype !== (dtype === 'bool' ? 'uint8' : dtype)) {
    throw new TypeError(`cannot encode an NDArray of dtype ${dtype} whose data is a ${data.constructor.name}`);
  }
  if (!isShape(shape)) throw new TypeError(`cannot encode an NDArray of shape ${JSON.stringify(shape)}`);
  if (elementCount(shape) !== data.length) {
    throw new TypeError(`cannot encode an NDArray of shape ${JSON.stringify(shape)} holding ${data.length} elements`);
  }
  return Buffer.isBuffer(data) ? { ...array, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } : array;
}
