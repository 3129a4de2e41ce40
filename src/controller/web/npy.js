// NumPy's .npy format, as the reducer's result API sends one array (?format=npy): the typed array
// is a view on the received bytes (the header pads the data to 64 bytes, so it is aligned).

const TYPES = {
  b1: Uint8Array, u1: Uint8Array, i1: Int8Array, u2: Uint16Array, i2: Int16Array, u4: Uint32Array, i4: Int32Array,
  u8: BigUint64Array, i8: BigInt64Array, f4: Float32Array, f8: Float64Array,
};

export function parseNpy(bytes) {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not an .npy answer');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([<>|=])(\w+)'/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shapeText) throw new Error(`cannot read the .npy header ${header}`);
  if (descr[1] === '>') throw new Error('big-endian .npy data is not shown');
  const Type = TYPES[descr[2]];
  if (!Type) throw new Error(`dtype ${descr[2]} is not shown`);
  const shape = shapeText[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = bytes.byteOffset + start + headerLength;
  const length = shape.reduce((a, b) => a * b, 1);
  let data = new Type(bytes.buffer, offset, length);
  // 64-bit integers as doubles: plots and colour maps work in numbers
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data = Float64Array.from(data, Number);
  return { data, shape };
}
