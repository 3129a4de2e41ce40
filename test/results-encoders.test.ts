import { execFile } from 'node:child_process';
import { expect } from 'chai';
import type { NDArray } from '../src/core/ndarray.js';
import { encodePickle } from '../src/core/pickle/write.js';
import { encodeJson } from '../src/reducer/results/json.js';
import { encodeNpy } from '../src/reducer/results/npy.js';
import { PYTHON } from './helpers/process.js';

/** Runs a Python script with `input` on stdin and returns what it printed. */
async function python(script: string, input: Buffer): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ['-c', script], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

describe('result encoders', function () {
  describe('encodePickle, loaded by Python', function () {
    it('gives the Python values for the edges of every int opcode, floats, strings and containers', async function () {
      const value = {
        ints: [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
        bigints: [0n, 127n, 128n, -128n, -129n, 255n, 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, 10n ** 700n, -(10n ** 700n)],
        floats: [0.5, -0, 1e300, 2 ** 53 + 2, Number.MIN_VALUE],
        strings: ['', 'é', '€𝄞', 'a\nb\u0000c', 'x'.repeat(70000)],
        bytes: [Buffer.alloc(0), Buffer.from([0x80, 0xff]), Buffer.alloc(300, 0xab)],
        empty: { list: [], dict: {} },
        long_list: Array.from({ length: 2500 }, (_, i) => i),
        long_dict: Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`k${i}`, i])),
        undefined_is_none: [undefined, null],
      };
      const script = String.raw`
import pickle, sys
got = pickle.loads(sys.stdin.buffer.read())
expected = {
    'ints': [0, 255, 256, 65535, 65536, -1, -2**31, 2**31 - 1, 2**31, -2**31 - 1, 2**53 - 1, -(2**53 - 1)],
    'bigints': [0, 127, 128, -128, -129, 255, 2**63, -2**63, 2**64 - 1, 10**700, -10**700],
    'floats': [0.5, -0.0, 1e300, float(2**53 + 2), 5e-324],
    'strings': ['', 'é', '€𝄞', 'a\nb\x00c', 'x' * 70000],
    'bytes': [b'', b'\x80\xff', b'\xab' * 300],
    'empty': {'list': [], 'dict': {}},
    'long_list': list(range(2500)),
    'long_dict': {f'k{i}': i for i in range(1200)},
    'undefined_is_none': [None, None],
}
def same(a, b):
    return a == b and type(a) is type(b) and (not isinstance(a, list) or all(map(same, a, b)))
for key in expected:
    print(key, 'ok' if same(got[key], expected[key]) else f'differs: {got[key]!r:.200}')
import math
print('negative zero', 'ok' if math.copysign(1, got['floats'][1]) == -1 else 'lost its sign')
`;
      const lines = (await python(script, encodePickle(value))).trim().split('\n');
      expect(lines).to.deep.equal([...Object.keys(value).map((key) => `${key} ok`), 'negative zero ok']);
    });

    it('gives numpy arrays of every dtype, including empty and 0-d ones', async function () {
      const arrays: Record<string, NDArray> = {
        uint8: { data: new Uint8Array([0, 255]), shape: [2], dtype: 'uint8' },
        int8: { data: new Int8Array([-128, 127]), shape: [2], dtype: 'int8' },
        uint16: { data: new Uint16Array([0, 65535]), shape: [2], dtype: 'uint16' },
        int16: { data: new Int16Array([-32768, 32767]), shape: [2], dtype: 'int16' },
        uint32: { data: new Uint32Array([0, 4294967295]), shape: [2], dtype: 'uint32' },
        int32: { data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]), shape: [2], dtype: 'int32' },
        uint64: { data: new BigUint64Array([0n, 2n ** 64n - 1n]), shape: [2], dtype: 'uint64' },
        int64: { data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), shape: [2], dtype: 'int64' },
        float32: { data: new Float32Array([0.5, -1.25]), shape: [1, 2], dtype: 'float32' },
        float64: { data: new Float64Array([Number.NaN, Number.NEGATIVE_INFINITY]), shape: [2, 1], dtype: 'float64' },
        bool: { data: new Uint8Array([1, 0]), shape: [2], dtype: 'bool' },
        empty: { data: new Float64Array(0), shape: [0, 3], dtype: 'float64' },
        zero_d: { data: new Int32Array([7]), shape: [], dtype: 'int32' },
        many_dims: { data: Int8Array.from({ length: 32 }, (_, i) => i), shape: [2, 2, 2, 2, 2], dtype: 'int8' },
      };
      // an unaligned view: the writer must take the bytes of the view, not of its whole buffer
      const backing = new Uint8Array(17);
      backing.set([1, 0, 2, 0], 1);
      const unaligned = new Uint8Array(backing.buffer, 1, 4);
      const script = String.raw`
import json, pickle, sys
import numpy
got = pickle.loads(sys.stdin.buffer.read())
print(json.dumps({key: [type(a).__name__, a.dtype.str, list(a.shape), repr(a.tolist())] for key, a in got.items()}))
`;
      const got = JSON.parse(await python(script, encodePickle({ ...arrays, unaligned }))) as Record<string, unknown>;
      expect(got).to.deep.equal({
        uint8: ['ndarray', '|u1', [2], '[0, 255]'],
        int8: ['ndarray', '|i1', [2], '[-128, 127]'],
        uint16: ['ndarray', '<u2', [2], '[0, 65535]'],
        int16: ['ndarray', '<i2', [2], '[-32768, 32767]'],
        uint32: ['ndarray', '<u4', [2], '[0, 4294967295]'],
        int32: ['ndarray', '<i4', [2], '[-2147483648, 2147483647]'],
        uint64: ['ndarray', '<u8', [2], '[0, 18446744073709551615]'],
        int64: ['ndarray', '<i8', [2], '[-9223372036854775808, 9223372036854775807]'],
        float32: ['ndarray', '<f4', [1, 2], '[[0.5, -1.25]]'],
        float64: ['ndarray', '<f8', [2, 1], '[[nan], [-inf]]'],
        bool: ['ndarray', '|b1', [2], '[True, False]'],
        empty: ['ndarray', '<f8', [0, 3], '[]'],
        zero_d: ['ndarray', '<i4', [], '7'],
        many_dims: ['ndarray', '|i1', [2, 2, 2, 2, 2], JSON.stringify(
          [[[[[0, 1], [2, 3]], [[4, 5], [6, 7]]], [[[8, 9], [10, 11]], [[12, 13], [14, 15]]]],
            [[[[16, 17], [18, 19]], [[20, 21], [22, 23]]], [[[24, 25], [26, 27]], [[28, 29], [30, 31]]]]],
        ).replaceAll(',', ', ')],
        unaligned: ['ndarray', '|u1', [4], '[1, 0, 2, 0]'],
      });
    });

    it('refuses values no encoder carries, naming them', function () {
      expect(() => encodePickle({ when: new Date(0) })).to.throw(TypeError, /cannot encode a Date/);
      expect(() => encodePickle([() => 1])).to.throw(TypeError, /cannot encode a function/);
      expect(() => encodePickle({ data: new Float64Array(5), shape: [2, 3], dtype: 'float64' }))
        .to.throw(TypeError, /shape \[2,3\] holding 5 elements/);
      expect(() => encodePickle({ data: new Float32Array(2), shape: [2], dtype: 'float64' }))
        .to.throw(TypeError, /dtype float64 whose data is a Float32Array/);
      expect(() => encodePickle({ data: new Float64Array(2), shape: [2], dtype: 'complex128' }))
        .to.throw(TypeError, /unknown dtype "complex128"/);
    });
  });

  describe('encodeJson', function () {
    it('writes NaN and Infinity inside arrays as null and -0 as 0', function () {
      expect(encodeJson({ data: new Float32Array([1, Number.NaN, -0, Number.POSITIVE_INFINITY]), shape: [2, 2], dtype: 'float32' }))
        .to.equal('[[1,null],[0,null]]');
      expect(encodeJson([Number.NaN, -0, Number.NEGATIVE_INFINITY])).to.equal('[null,0,null]');
      // a hole in a sparse list must come out as null, not vanish
      expect(encodeJson([1, , 3])).to.equal('[1,null,3]');
    });

    it('writes empty and 0-d arrays', function () {
      expect(encodeJson({ data: new Int8Array(0), shape: [0, 3], dtype: 'int8' })).to.equal('[]');
      expect(encodeJson({ data: new Int8Array(0), shape: [2, 0], dtype: 'int8' })).to.equal('[[],[]]');
      expect(encodeJson({ data: new BigUint64Array([2n ** 64n - 1n]), shape: [], dtype: 'uint64' })).to.equal('18446744073709551615');
    });

    it('escapes keys and strings, and keeps a "__proto__" key', function () {
      const record = JSON.parse('{"__proto__": 1, "q\\"uote": "line\\nbreak"}') as Record<string, unknown>;
      expect(encodeJson(record)).to.equal('{"__proto__":1,"q\\"uote":"line\\nbreak"}');
    });
  });

  describe('encodeNpy, loaded by numpy', function () {
    it('writes headers numpy reads for 0-d, empty, 1-D and many-dimensional arrays', async function () {
      const cases: NDArray[] = [
        { data: new Float64Array([3.5]), shape: [], dtype: 'float64' },
        { data: new Uint16Array(0), shape: [0], dtype: 'uint16' },
        { data: new Uint8Array([1, 0, 1]), shape: [3], dtype: 'bool' },
        { data: BigInt64Array.from({ length: 24 }, (_, i) => BigInt(i) - 12n), shape: [2, 3, 4], dtype: 'int64' },
      ];
      const script = String.raw`
import io, json, struct, sys
import numpy
data = sys.stdin.buffer.read()
out = []
while data:
    size = struct.unpack('<I', data[:4])[0]
    a = numpy.load(io.BytesIO(data[4:4 + size]))
    out.append([a.dtype.str, list(a.shape), a.tolist()])
    data = data[4 + size:]
print(json.dumps(out))
`;
      const framed = Buffer.concat(cases.flatMap((array) => {
        const npy = encodeNpy(array);
        const size = Buffer.alloc(4);
        size.writeUInt32LE(npy.length);
        return [size, npy];
      }));
      expect(JSON.parse(await python(script, framed))).to.deep.equal([
        ['<f8', [], 3.5],
        ['<u2', [0], []],
        ['|b1', [3], [true, false, true]],
        ['<i8', [2, 3, 4], [[[-12, -11, -10, -9], [-8, -7, -6, -5], [-4, -3, -2, -1]], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]]],
      ]);
    });
  });
});
