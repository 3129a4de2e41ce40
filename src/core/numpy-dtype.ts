/** numpy's names for the pipeline's dtypes. */
import type { DType } from './ndarray.js';

export interface NumpyDtype {
  /** '<' little-endian, '|' not applicable (one-byte items) */
  byteOrder: '<' | '|';
  /** kind letter and item size, as numpy.dtype() takes it: 'f8', 'u2', 'b1' */
  code: string;
}

// The pipeline's arrays are little-endian in memory (ndarray.ts), so multi-byte dtypes are '<'.
const codes: Record<DType, string> = {
  uint8: 'u1', int8: 'i1', uint16: 'u2', int16: 'i2', uint32: 'u4', int32: 'i4',
  uint64: 'u8', int64: 'i8', float32: 'f4', float64: 'f8', bool: 'b1',
};

const dtypesByCode = new Map(Object.entries(codes).map(([dtype, code]) => [code, dtype as DType]));

/** The dtype numpy's code ('f8', 'u2') names, or undefined when the pipeline has none for it. */
export function dtypeFromNumpyCode(code: string): DType | undefined {
  return dtypesByCode.get(code);
}

export function numpyDtype(dtype: DType): NumpyDtype {
  const code = codes[dtype];
  return { byteOrder: code.endsWith('1') ? '|' : '<', code };
}

/** The array-interface string ('<f8', '|u1') that .npy headers carry as `descr`. */
export function numpyDescr(dtype: DType): string {
  const { byteOrder, code } = numpyDtype(dtype);
  return byteOrder + code;
}
