/**
 * numpy basic slicing (`0:10,::2,5`, negatives, omitted bounds, `...`) applied to every array leaf
 * of a selection: NDArrays, bare typed arrays and nested JS lists.
 */
import { type Encodable, classify, isRecord } from '../../core/encodable.js';
import { type NDArray, type TypedArray, cStrides, isNDArray, isTypedArray } from '../../core/ndarray.js';
import { ResultError } from './result-error.js';

export type Indexer =
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number | null }
  | { kind: 'ellipsis' };

const FULL: Indexer = { kind: 'slice', start: null, stop: null, step: null };

/** Parses the `slice=` query value; throws a 400 naming the part that is malformed. */
export function parseSlice(text: string): Indexer[] {
  const indexers = text.split(',').map((part): Indexer => {
    const trimmed = part.trim();
    if (trimmed === '...') return { kind: 'ellipsis' };
    if (!trimmed.includes(':')) return { kind: 'index', index: parseBound(trimmed, part) };
    const bounds = trimmed.split(':');
    if (bounds.length > 3) throw new ResultError(400, `slice part ${JSON.stringify(part)} has more than two colons`);
    const [start, stop, step] = bounds.map((bound) => (bound.trim() === '' ? null : parseBound(bound.trim(), part)));
    if (step === 0) throw new ResultError(400, `slice part ${JSON.stringify(part)} has step zero`);
    return { kind: 'slice', start: start ?? null, stop: stop ?? null, step: step ?? null };
  });
  if (indexers.filter((ix) => ix.kind === 'ellipsis').length > 1) {
    throw new ResultError(400, `slice ${JSON.stringify(text)} has more than one "..."`);
  }
  return indexers;
}

function parseBound(text: string, part: string): number {
  const value = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new ResultError(400, `slice part ${JSON.stringify(part)} is not an integer, a start:stop:step slice or "..."`);
  }
  return value;
}

/**
 * Slices every array leaf of `value`: records keep their keys with each value sliced, lists,
 * typed arrays and NDArrays are indexed along their dimensions, anything else stays as it is.
 * `where` names `value` in error messages.
 */
export function sliceLeaves(value: unknown, indexers: readonly Indexer[], where: string): unknown {
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, sliceLeaves(item, indexers, childPath(where, key))]));
  }
  if (Array.isArray(value) || arrayLeaf(value)) {
    try {
      return sliceArray(value, expandEllipsis(indexers, ndimOf(value)), 0);
    } catch (error) {
      if (error instanceof ResultError) throw new ResultError(error.status, `${where}: ${error.message}`);
      throw error;
    }
  }
  return value;
}

function childPath(where: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`;
}

/** An array leaf (an NDArray or a bare typed array) as classify sees it, or null for anything else. */
function arrayLeaf(value: unknown): Extract<Encodable, { kind: 'array' }> | null {
  // only arrays are classified: classify throws for values that no encoder carries, which stay as they are here
  if (!isTypedArray(value) && !isNDArray(value)) return null;
  const item = classify(value);
  return item.kind === 'array' ? item : null;
}

/** Dimensions as numpy would count them: nested lists are followed through their first element. */
function ndimOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + (value.length > 0 ? ndimOf(value[0]) : 0);
  return arrayLeaf(value)?.value.shape.length ?? 0;
}

function expandEllipsis(indexers: readonly Indexer[], ndim: number): Indexer[] {
  const at = indexers.findIndex((ix) => ix.kind === 'ellipsis');
  if (at < 0) return [...indexers];
  const fill = Math.max(0, ndim - (indexers.length - 1));
  return [...indexers.slice(0, at), ...Array<Indexer>(fill).fill(FULL), ...indexers.slice(at + 1)];
}

/** Applies `indexers` from dimension `axis` on; lists consume one indexer and pass the rest to their items. */
function sliceArray(value: unknown, indexers: readonly Indexer[], axis: number): unknown {
  if (indexers.length === 0) return value;
  if (Array.isArray(value)) {
    const [first, ...rest] = indexers as [Indexer, ...Indexer[]];
    const span = resolve(first, value.length, axis);
    if (span.drop) return sliceArray(value[span.start], rest, axis + 1);
    return Array.from({ length: span.count }, (_, i) => sliceArray(value[span.start + i * span.step], rest, axis + 1));
  }
  const leaf = arrayLeaf(value);
  if (leaf) {
    const sliced = sliceNDArray(leaf.value, indexers, axis);
    // a bare typed array stays bare, so that encoders tag it the same way as before slicing
    return leaf.bare && isNDArray(sliced) ? sliced.data : sliced;
  }
  throw new ResultError(400, `too many indices: the value at axis ${axis} is not an array`);
}

interface Span {
  start: number;
  step: number;
  count: number;
  /** an integer index: the dimension disappears from the result */
  drop: boolean;
}

/** Python's slice.indices() and numpy's integer indexing for one dimension of `size`. */
function resolve(indexer: Indexer, size: number, axis: number): Span {
  if (indexer.kind === 'index') {
    const index = indexer.index < 0 ? indexer.index + size : indexer.index;
    if (index < 0 || index >= size) {
      throw new ResultError(400, `index ${indexer.index} is out of bounds for axis ${axis} with size ${size}`);
    }
    return { start: index, step: 1, count: 1, drop: true };
  }
  if (indexer.kind === 'ellipsis') return resolve(FULL, size, axis);
  const step = indexer.step ?? 1;
  const clamp = (bound: number): number => {
    if (bound < 0) return Math.max(bound + size, step < 0 ? -1 : 0);
    return Math.min(bound, step < 0 ? size - 1 : size);
  };
  const start = indexer.start === null ? (step < 0 ? size - 1 : 0) : clamp(indexer.start);
  const stop = indexer.stop === null ? (step < 0 ? -1 : size) : clamp(indexer.stop);
  const count = step < 0
    ? (stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0)
    : (start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0);
  return { start, step, count, drop: false };
}

/**
 * Copies the selected elements into a new NDArray (C order). Selecting one element with integer
 * indices on every axis gives that element, as numpy does.
 */
function sliceNDArray(array: NDArray, indexers: readonly Indexer[], axis: number): unknown {
  const { shape, data } = array;
  if (indexers.length > shape.length) {
    throw new ResultError(400, `too many indices: ${indexers.length} given from axis ${axis} for an array of shape `
      + `${JSON.stringify(shape)}`);
  }
  const spans = shape.map((size, d) => resolve(indexers[d] ?? FULL, size, axis + d));
  const strides = cStrides(shape);
  const out = allocLike(data, spans.reduce((total, span) => total * span.count, 1));

  let written = 0;
  const copy = (d: number, offset: number): void => {
    const span = spans[d]!;
    const first = offset + span.start * strides[d]!;
    if (d === spans.length - 1) {
      if (span.step === 1) {
        // both sides have the same element type, which the TypedArray union cannot express
        out.set(data.subarray(first, first + span.count) as never, written);
        written += span.count;
      } else {
        for (let i = 0; i < span.count; i++) out[written++] = data[first + i * span.step]!;
      }
      return;
    }
    for (let i = 0; i < span.count; i++) copy(d + 1, first + i * span.step * strides[d]!);
  };
  if (spans.length === 0) out[0] = data[0]!;
  else copy(0, 0);

  const keptShape = spans.filter((span) => !span.drop).map((span) => span.count);
  if (keptShape.length === 0 && spans.length > 0) return array.dtype === 'bool' ? out[0] !== 0 : out[0];
  return { data: out, shape: keptShape, dtype: array.dtype };
}

/** A fresh typed array of the same element type. */
function allocLike(data: TypedArray, length: number): TypedArray {
  return new (data.constructor as new (length: number) => TypedArray)(length);
}
