/** n-dimensional arrays as they travel through the pipeline: a typed array plus shape and dtype. */

export type DType =
  | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32'
  | 'uint64' | 'int64' | 'float32' | 'float64' | 'bool';

export type TypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array;

export interface NDArray<T extends TypedArray = TypedArray> {
  data: T;
  shape: number[];
  dtype: DType;
}

const constructors = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, uint64: BigUint64Array, int64: BigInt64Array,
  float32: Float32Array, float64: Float64Array, bool: Uint8Array,
} as const;

/** every dtype name */
export const DTYPES = Object.keys(constructors) as DType[];

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(constructors, name);
}

export function itemSize(dtype: DType): number {
  return constructors[dtype].BYTES_PER_ELEMENT;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

export function isNDArray(value: unknown): value is NDArray {
  return typeof value === 'object' && value !== null && isTypedArray((value as NDArray).data)
    && Array.isArray((value as NDArray).shape) && typeof (value as NDArray).dtype === 'string';
}

export function dtypeOf(array: TypedArray): DType {
  for (const [name, ctor] of Object.entries(constructors)) {
    if (name !== 'bool' && array instanceof ctor) return name as DType;
  }
  throw new TypeError(`unsupported typed array ${array.constructor.name}`);
}

/**
 * Views little-endian bytes as a typed array without copying when the buffer is aligned;
 * otherwise copies once (zmq frames are not guaranteed to be aligned).
 */
export function viewAs(bytes: Uint8Array, dtype: DType): TypedArray {
  const ctor = constructors[dtype];
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  if (bytes.byteOffset % size === 0) return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / size);
  // Buffer#slice is a view, not a copy: copy through Uint8Array's own slice
  return new ctor(Uint8Array.prototype.slice.call(bytes).buffer, 0, bytes.byteLength / size);
}

/** A list of sizes, each a non-negative safe integer. */
export function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && n >= 0);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Element strides of a row-major (C order) array. */
export function cStrides(shape: readonly number[]): number[] {
  return shape.map((_, d) => elementCount(shape.slice(d + 1)));
}

/** Throws a RangeError unless `bytes` holds exactly the elements of `shape`. */
export function checkByteLength(bytes: Uint8Array, dtype: DType, shape: readonly number[]): void {
  const expected = elementCount(shape) * itemSize(dtype);
  if (bytes.byteLength !== expected) {
    throw new RangeError(`shape ${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes, got ${bytes.byteLength}`);
  }
}

/** Builds an NDArray from raw little-endian bytes, checking that shape and length agree. */
export function ndarrayFromBytes(bytes: Uint8Array, dtype: string, shape: number[]): NDArray {
  if (!isDType(dtype)) throw new TypeError(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!isShape(shape)) throw new RangeError(`bad shape ${JSON.stringify(shape)}`);
  checkByteLength(bytes, dtype, shape);
  return { data: viewAs(bytes, dtype), shape, dtype };
}

export function ndarray(data: TypedArray, shape: number[] = [data.length]): NDArray {
  return { data, shape, dtype: dtypeOf(data) };
}
