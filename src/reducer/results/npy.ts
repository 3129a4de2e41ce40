/** NPY format version 1.0 (numpy's `.npy` file) of one array: magic, header dict, raw C-order bytes. */
import type { NDArray } from '../../core/ndarray.js';
import { numpyDescr } from '../../core/numpy-dtype.js';

const MAGIC = Buffer.from('\x93NUMPY\x01\x00', 'latin1');
/** numpy pads the header so that the data starts on a 64-byte boundary */
const ALIGNMENT = 64;

export function encodeNpy(array: NDArray): Buffer {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${numpyDescr(array.dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic + 2-byte header length + dict + spaces + '\n'
  const unpadded = MAGIC.length + 2 + dict.length + 1;
  const headerLength = dict.length + 1 + ((ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT);
  if (headerLength > 0xffff) throw new RangeError(`shape ${shape} makes an .npy header too long for version 1.0`);
  const header = Buffer.alloc(MAGIC.length + 2 + headerLength, ' ');
  MAGIC.copy(header);
  header.writeUInt16LE(headerLength, MAGIC.length);
  header.write(dict, MAGIC.length + 2, 'latin1');
  header[header.length - 1] = 0x0a;
  const { data } = array;
  return Buffer.concat([header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
}
