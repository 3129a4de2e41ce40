/**
 * JSON for the values of encodable.ts: arrays as nested lists, bigints as exact numbers, bytes as
 * base64 strings, and NaN/Infinity (which JSON cannot carry) as null.
 */
import { type Encodable, classify } from '../../core/encodable.js';
import { type NDArray, cStrides } from '../../core/ndarray.js';

export function encodeJson(value: unknown): string {
  const parts: string[] = [];
  writeValue(parts, classify(value));
  return parts.join('');
}

function writeValue(parts: string[], item: Encodable): void {
  switch (item.kind) {
    case 'none': parts.push('null'); return;
    case 'bool': parts.push(item.value ? 'true' : 'false'); return;
    case 'number': parts.push(numberText(item.value)); return;
    case 'bigint': parts.push(item.value.toString()); return;
    case 'string': parts.push(JSON.stringify(item.value)); return;
    case 'bytes': parts.push(`"${item.value.toString('base64')}"`); return;
    case 'array': writeNDArray(parts, item.value); return;
    case 'list':
      parts.push('[');
      for (let i = 0; i < item.value.length; i++) {
        if (i > 0) parts.push(',');
        writeValue(parts, classify(item.value[i]));
      }
      parts.push(']');
      return;
    case 'record': {
      parts.push('{');
      let first = true;
      for (const [key, element] of Object.entries(item.value)) {
        parts.push(first ? '' : ',', JSON.stringify(key), ':');
        writeValue(parts, classify(element));
        first = false;
      }
      parts.push('}');
    }
  }
}

function numberText(value: number): string {
  return Number.isFinite(value) ? JSON.stringify(value) : 'null';
}

function writeNDArray(parts: string[], array: NDArray): void {
  const { data, shape } = array;
  /** the elements from start to end, comma-separated */
  const elementsText = (start: number, end: number): string => {
    const elements = data.subarray(start, end);
    if (array.dtype === 'bool') return Array.from(elements as Uint8Array, (v) => (v ? 'true' : 'false')).join(',');
    // typed arrays join natively (bigints without the n); JSON has no NaN or Infinity, so those go one by one
    if (elements instanceof Float64Array || elements instanceof Float32Array) {
      if (!elements.every(Number.isFinite)) return Array.from(elements, numberText).join(',');
    }
    return elements.join(',');
  };
  if (shape.length === 0) {
    parts.push(elementsText(0, 1));
    return;
  }
  const strides = cStrides(shape);
  const writeDim = (d: number, offset: number): void => {
    if (d === shape.length - 1) {
      parts.push(`[${elementsText(offset, offset + shape[d]!)}]`);
      return;
    }
    parts.push('[');
    for (let i = 0; i < shape[d]!; i++) {
      if (i > 0) parts.push(',');
      writeDim(d + 1, offset + i * strides[d]!);
    }
    parts.push(']');
  };
  writeDim(0, 0);
}
