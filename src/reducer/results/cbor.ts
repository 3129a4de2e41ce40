/**
 * CBOR for the values of encodable.ts: typed arrays as RFC 8746 typed-array tags, NDArrays as the
 * RFC 8746 multi-dimensional array tag 40 `[shape, typedarray]`, Buffers as byte strings.
 */
import { addExtension, Decoder, Encoder, Tag } from 'cbor-x';
import { classify } from '../../core/encodable.js';
import { dtypeOf, type NDArray, type TypedArray } from '../../core/ndarray.js';

/** RFC 8746 §3.1.1: multi-dimensional array, row-major order */
const MULTI_DIMENSIONAL_ARRAY = 40;

// plain CBOR maps: no cbor-x record extension, and (mapsAsObjects: false) no tag 259 on the Maps used
// for records; Uint8Array data tagged 64 like the other typed arrays
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, variableMapSize: true, tagUint8Array: true });

// cbor-x's extensions are global: every decoder of this process reads tag 40 back as the NDArray it was
addExtension({
  tag: MULTI_DIMENSIONAL_ARRAY,
  decode: ([shape, data]: [number[], TypedArray]): NDArray => ({ data, shape, dtype: dtypeOf(data) }),
} as Parameters<typeof addExtension>[0]);

const decoder = new Decoder({ mapsAsObjects: true, useRecords: false });

/** The inverse of encodeCbor (maps as plain objects, tag 40 as NDArrays), e.g. for a Python reducer's publish. */
export function decodeCbor(bytes: Buffer): unknown {
  return decoder.decode(bytes);
}

export function encodeCbor(value: unknown): Buffer {
  return encoder.encode(toCborTree(value));
}

/** Rebuilds the containers with NDArrays replaced by tags; array payloads are shared, not copied. */
function toCborTree(value: unknown): unknown {
  const item = classify(value);
  switch (item.kind) {
    case 'none': return null;
    case 'bool': case 'number': case 'bigint': case 'string': case 'bytes': return item.value;
    case 'array': {
      const { data, shape } = item.value;
      return item.bare ? data : new Tag([shape, data], MULTI_DIMENSIONAL_ARRAY);
    }
    case 'list': return Array.from(item.value, toCborTree); // holes become null, as in the other encoders
    // a Map, because a record may have a "__proto__" key that an object literal would not keep
    case 'record': return new Map(Object.entries(item.value).map(([key, element]) => [key, toCborTree(element)]));
  }
}
