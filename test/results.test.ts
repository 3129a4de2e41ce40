import type { Server } from 'node:http';
import { expect } from 'chai';
import { decode as decodeCbor } from 'cbor-x';
import { createHttpApp, listen } from '../src/core/http/app.js';
import { createLogger } from '../src/core/logging.js';
import type { NDArray } from '../src/core/ndarray.js';
import { createResultRouter } from '../src/reducer/results/router.js';
import { parseSlice, sliceLeaves } from '../src/reducer/results/slice.js';
import { PYTHON, run } from './helpers/process.js';

/** 3×4 float64 with element i = 1.5·i */
const image: NDArray = { data: Float64Array.from({ length: 12 }, (_, i) => 1.5 * i), shape: [3, 4], dtype: 'float64' };
/** 2×3×4 int16 with element i = i - 10 */
const cube: NDArray = { data: Int16Array.from({ length: 24 }, (_, i) => i - 10), shape: [2, 3, 4], dtype: 'int16' };

const publish = {
  count: 42,
  ratio: 0.25,
  name: 'scan 7',
  flag: true,
  missing: null,
  huge: 2n ** 70n + 1n,
  raw: Buffer.from([0, 1, 254, 255]),
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  image,
  cube,
  mask: { data: new Uint8Array([1, 0, 0, 1]), shape: [2, 2], dtype: 'bool' } satisfies NDArray,
  scalar: { data: new Float32Array([2.5]), shape: [], dtype: 'float32' } satisfies NDArray,
  trace: new Uint16Array([10, 20, 30, 40, 65535]),
  counters: new BigInt64Array([-1n, 2n ** 40n]),
  nested: { list: [[1, 2, 3], [4, 5, 6]], deep: { value: 'x', arr: new Float32Array([0.5, 1.5]) } },
  'a b': 1,
  'x/y': 2,
};

const imageRows = [[0, 1.5, 3, 4.5], [6, 7.5, 9, 10.5], [12, 13.5, 15, 16.5]];

async function startServer(getPublish: () => unknown): Promise<{ server: Server; base: string }> {
  const router = createResultRouter(getPublish);
  const app = createHttpApp(createLogger('results-test'));
  app.use(router.routes()).use(router.allowedMethods());
  const { server, port } = await listen(app, 0, '127.0.0.1');
  return { server, base: `http://127.0.0.1:${port}/api/v1/result` };
}

function withSingle(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}single=true`;
}

describe('reducer result API', function () {
  let server: Server;
  let base: string;

  before(async function () {
    ({ server, base } = await startServer(() => publish));
  });

  after(function () {
    server.close();
  });

  /** most of these tests read one value: `single=true` (without it, the answer is the list of matches) */
  async function get(path: string, accept?: string): Promise<Response> {
    return await fetch(base + withSingle(path), { headers: accept ? { accept } : {} });
  }

  async function getJson(path: string): Promise<unknown> {
    const response = await get(path);
    expect(response.status, `${path}: ${await response.clone().text()}`).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    return await response.json();
  }

  async function expectError(path: string, status: number, detail: RegExp, accept?: string): Promise<void> {
    const response = await get(path, accept);
    expect(response.status, path).to.equal(status);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    const body = (await response.json()) as { detail: string };
    expect(body.detail).to.match(detail);
  }

  describe('the list of matches (the original 0.1), and ?single', function () {
    it('answers every path with the list of its matches unless single=true', async function () {
      const plain = async (path: string) => await (await fetch(base + path)).json();
      expect(await plain('/count')).to.deep.equal([42]);
      expect(await plain('/$.nested.deep.value')).to.deep.equal(['x']);
      expect(await plain('/$.nope')).to.deep.equal([]);
      expect(await plain('/$.nested.list[*]')).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
      expect(await plain('/image?slice=1,0:2')).to.deep.equal([imageRows[1].slice(0, 2)]);
      expect(await plain('/count?single=true')).to.equal(42);
      expect((await fetch(`${base}/$.nope?single=true`)).status).to.equal(404);
    });
  });

  describe('JSON', function () {
    it('gives the whole publish for an empty path, / and $', async function () {
      for (const path of ['', '/', '/$']) {
        const body = (await getJson(path)) as Record<string, unknown>;
        expect(Object.keys(body)).to.deep.equal(Object.keys(publish));
        expect(body).to.deep.include({
          count: 42, ratio: 0.25, name: 'scan 7', flag: true, missing: null, nan: null, inf: null,
          raw: 'AAH+/w==', image: imageRows, mask: [[true, false], [false, true]], scalar: 2.5,
          trace: [10, 20, 30, 40, 65535], counters: [-1, 2 ** 40],
          nested: { list: [[1, 2, 3], [4, 5, 6]], deep: { value: 'x', arr: [0.5, 1.5] } },
        });
        expect(body.cube).to.deep.equal([[[-10, -9, -8, -7], [-6, -5, -4, -3], [-2, -1, 0, 1]], [[2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 12, 13]]]);
      }
    });

    it('writes bigints as exact numbers', async function () {
      const text = await (await get('/huge')).text();
      expect(text).to.equal('1180591620717411303425');
      const whole = await (await get('')).text();
      expect(whole).to.include('"huge":1180591620717411303425,');
    });

    it('answers a definite path with the value itself', async function () {
      expect(await getJson('/count')).to.equal(42);
      expect(await getJson('/$.nested.deep.value')).to.equal('x');
      expect(await getJson('/nested.list[1]')).to.deep.equal([4, 5, 6]);
      expect(await getJson("/$['a b']")).to.equal(1);
      expect(await getJson(`/${encodeURIComponent("$['x/y']")}`)).to.equal(2);
      expect(await getJson("/$['x/y']")).to.equal(2);
      expect(await getJson('/image')).to.deep.equal(imageRows);
    });

    it('answers an indefinite path with the list of its matches', async function () {
      expect(await getJson('/$.nested.list[*]')).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
      expect(await getJson('/$..value')).to.deep.equal(['x']);
      expect(await getJson('/$.nested.list[0,1][2]')).to.deep.equal([3, 6]);
      expect(await getJson('/$.nested.list[-1:]')).to.deep.equal([[4, 5, 6]]);
      expect(await getJson('/$.nope.*')).to.deep.equal([]);
    });

    it('treats arrays, bytes and strings as leaves that a path does not walk into', async function () {
      expect(await getJson('/$.nested.deep.*')).to.deep.equal(['x', [0.5, 1.5]]);
      // every node of the publish once: 18 top-level values, list + 2 rows + 6 numbers, deep + 2 values
      expect(await getJson('/$..*')).to.have.length(18 + 9 + 3);
      expect(await getJson('/$.*[0]')).to.deep.equal([]);
      expect(await getJson('/$.nested.*[0]')).to.deep.equal([[1, 2, 3]]);
      await expectError('/name[0]', 404, /nothing published at "name\[0\]"/);
      await expectError('/image.shape', 404, /nothing published/);
    });

    it('slices a 2-D NDArray like numpy', async function () {
      expect(await getJson('/image?slice=1')).to.deep.equal(imageRows[1]);
      expect(await getJson('/image?slice=:,2')).to.deep.equal([3, 9, 15]);
      expect(await getJson('/image?slice=...,1')).to.deep.equal([1.5, 7.5, 13.5]);
      expect(await getJson('/image?slice=::2,::-1')).to.deep.equal([[4.5, 3, 1.5, 0], [16.5, 15, 13.5, 12]]);
      expect(await getJson('/image?slice=-1,-1')).to.equal(16.5);
      expect(await getJson('/image?slice=-2:,1:3')).to.deep.equal([[7.5, 9], [13.5, 15]]);
      expect(await getJson('/image?slice=0:10,-100:2')).to.deep.equal([[0, 1.5], [6, 7.5], [12, 13.5]]);
      expect(await getJson('/image?slice=2:0')).to.deep.equal([]);
      expect(await getJson('/image?slice=::-2,3:0:-2')).to.deep.equal([[16.5, 13.5], [4.5, 1.5]]);
    });

    it('slices 3-D, 0-D, bool and bare typed arrays', async function () {
      expect(await getJson('/cube?slice=1,:,2')).to.deep.equal([4, 8, 12]);
      expect(await getJson('/cube?slice=...,0')).to.deep.equal([[-10, -6, -2], [2, 6, 10]]);
      expect(await getJson('/cube?slice=:,1')).to.deep.equal([[-6, -5, -4, -3], [6, 7, 8, 9]]);
      expect(await getJson('/scalar?slice=...')).to.equal(2.5);
      expect(await getJson('/mask?slice=1,1')).to.equal(true);
      expect(await getJson('/trace?slice=1:-1')).to.deep.equal([20, 30, 40]);
      expect(await getJson('/counters?slice=0')).to.equal(-1);
    });

    it('slices nested JS lists dimension by dimension', async function () {
      expect(await getJson('/nested.list?slice=:,1')).to.deep.equal([2, 5]);
      expect(await getJson('/nested.list?slice=-1')).to.deep.equal([4, 5, 6]);
      expect(await getJson('/nested.list?slice=::-1,0')).to.deep.equal([4, 1]);
      expect(await getJson('/nested.list?slice=...,::2')).to.deep.equal([[1, 3], [4, 6]]);
    });

    it('passes what a list leaves of the slice on to its items, NDArrays included', function () {
      const stack = [image, { data: new Float64Array(12), shape: [3, 4], dtype: 'float64' }];
      expect(sliceLeaves(stack, parseSlice('0,1,::2'), '$')).to.deep.equal({ data: new Float64Array([6, 9]), shape: [2], dtype: 'float64' });
      expect(sliceLeaves(stack, parseSlice('...,-1'), '$')).to.deep.equal([
        { data: new Float64Array([4.5, 10.5, 16.5]), shape: [3], dtype: 'float64' },
        { data: new Float64Array(3), shape: [3], dtype: 'float64' },
      ]);
      expect(() => sliceLeaves(stack, parseSlice('0,0,0,0'), '$.stack')).to.throw(/^\$\.stack: too many indices: 3 given from axis 1 for an array of shape \[3,4\]/);
    });

    it('slices every array leaf of a record and every match of an indefinite path', async function () {
      expect(await getJson('/nested?slice=0')).to.deep.equal({ list: [1, 2, 3], deep: { value: 'x', arr: 0.5 } });
      expect(await getJson('/?slice=...')).to.deep.equal(await getJson(''));
      expect(await getJson('/$.nested.list[*]?slice=-1')).to.deep.equal([3, 6]);
      await expectError('/?slice=0', 400, /^\$\.scalar: too many indices/);
      await expectError('/$.nested.*?slice=5', 400, /^\$\.nested\.\* \(match 0\): index 5 is out of bounds for axis 0 with size 2/);
    });

    it('refuses malformed slices and indices out of range with 400', async function () {
      await expectError('/image?slice=a', 400, /"a" is not an integer/);
      await expectError('/image?slice=1:2:0', 400, /step zero/);
      await expectError('/image?slice=1:2:3:4', 400, /more than two colons/);
      await expectError('/image?slice=...,...', 400, /more than one "\.\.\."/);
      await expectError('/image?slice=1,,2', 400, /"" is not an integer/);
      await expectError('/image?slice=3', 400, /index 3 is out of bounds for axis 0 with size 3/);
      await expectError('/image?slice=:,-5', 400, /index -5 is out of bounds for axis 1 with size 4/);
      await expectError('/image?slice=0,0,0', 400, /too many indices/);
      await expectError('/nested.list?slice=0,0,0', 400, /too many indices/);
      await expectError('/image?slice=0&slice=1', 400, /slice= once/);
    });

    it('answers 404 for a definite path that names nothing, 400 for a script expression', async function () {
      await expectError('/nope', 404, /nothing published at "nope"/);
      await expectError('/$.nested.list[5]', 404, /nothing published/);
      await expectError(`/${encodeURIComponent('$.nested.list[?(@[0]>1)]')}`, 400, /bad JSONPath.*prevented/);
      await expectError('/%E0%A4%A', 400, /not valid percent-encoding/);
    });
  });

  describe('CBOR', function () {
    it('tags typed arrays (RFC 8746) and NDArrays (tag 40)', async function () {
      const response = await get('', 'application/cbor');
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('application/cbor');
      expect(response.headers.get('vary')).to.equal('Accept');
      const bytes = Buffer.from(await response.arrayBuffer());
      const body = decodeCbor(bytes) as Record<string, unknown>;
      expect(body.trace).to.be.instanceOf(Uint16Array).and.deep.equal(publish.trace);
      expect(body.counters).to.be.instanceOf(BigInt64Array).and.deep.equal(publish.counters);
      // tag 40 (0xd8 0x28) on the wire; results/cbor.ts registers its decoding as an NDArray with cbor-x
      expect(bytes.includes(Buffer.from([0xd8, 0x28]))).to.equal(true);
      const { shape, data } = body.image as NDArray;
      expect(shape).to.deep.equal([3, 4]);
      expect(data).to.be.instanceOf(Float64Array).and.deep.equal(image.data);
      const { shape: maskShape, data: maskData } = body.mask as NDArray;
      expect(maskShape).to.deep.equal([2, 2]);
      expect(Array.from(maskData as Uint8Array)).to.deep.equal([1, 0, 0, 1]);
      expect(Array.from(body.raw as Uint8Array)).to.deep.equal([0, 1, 254, 255]);
      expect(body.huge).to.equal(publish.huge);
      expect(body.nan).to.be.NaN;
      expect(body).to.deep.include({ count: 42, ratio: 0.25, name: 'scan 7', flag: true, missing: null, inf: Infinity });
      expect(body.nested).to.deep.equal({ list: [[1, 2, 3], [4, 5, 6]], deep: { value: 'x', arr: new Float32Array([0.5, 1.5]) } });
    });

    it('is chosen by ?format=cbor as well and keeps a sliced bare typed array typed', async function () {
      const response = await get('/trace?slice=::2&format=cbor', 'application/json');
      expect(response.headers.get('content-type')).to.equal('application/cbor');
      const body = decodeCbor(Buffer.from(await response.arrayBuffer()));
      expect(body).to.be.instanceOf(Uint16Array).and.deep.equal(new Uint16Array([10, 30, 65535]));
    });
  });

  describe('npy', function () {
    function parseNpy(bytes: Buffer): { header: string; dataOffset: number } {
      expect(bytes.subarray(0, 8).toString('latin1')).to.equal('\x93NUMPY\x01\x00');
      const headerLength = bytes.readUInt16LE(8);
      expect((10 + headerLength) % 64).to.equal(0);
      const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
      expect(header.endsWith('\n')).to.equal(true);
      return { header: header.trim(), dataOffset: 10 + headerLength };
    }

    it('writes one NDArray as NPY 1.0', async function () {
      const response = await get('/image', 'application/x-npy');
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('application/x-npy');
      const bytes = Buffer.from(await response.arrayBuffer());
      const { header, dataOffset } = parseNpy(bytes);
      expect(header).to.equal("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }");
      const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset + dataOffset, bytes.byteOffset + bytes.length));
      expect(data).to.deep.equal(image.data);
    });

    it('writes sliced and bare arrays', async function () {
      const column = Buffer.from(await (await get('/cube?slice=1,:,2&format=npy')).arrayBuffer());
      const { header, dataOffset } = parseNpy(column);
      expect(header).to.equal("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }");
      expect(Array.from(new Int16Array(column.buffer.slice(column.byteOffset + dataOffset)))).to.deep.equal([4, 8, 12]);
      const trace = parseNpy(Buffer.from(await (await get('/trace?format=npy')).arrayBuffer()));
      expect(trace.header).to.equal("{'descr': '<u2', 'fortran_order': False, 'shape': (5,), }");
    });

    it('refuses with 406 a selection that is not one array', async function () {
      await expectError('/nested?format=npy', 406, /exactly one array, but the selection is a record/);
      await expectError('/image?slice=0,0', 406, /selection is a number/, 'application/x-npy');
      await expectError('/$.nested.list[*]', 406, /selection is a list/, 'application/x-npy');
    });
  });

  describe('pickle, read by Python', function () {
    it('gives numpy arrays and Python values', async function () {
      const script = String.raw`
import io, json, pickle, sys
import numpy, requests
base = sys.argv[1]

def describe(value):
    if isinstance(value, numpy.ndarray):
        return {'type': 'ndarray', 'dtype': value.dtype.str, 'shape': list(value.shape), 'values': value.tolist()}
    if isinstance(value, dict):
        return {'type': 'dict', 'items': {key: describe(item) for key, item in value.items()}}
    if isinstance(value, list):
        return {'type': 'list', 'items': [describe(item) for item in value]}
    if isinstance(value, bytes):
        return {'type': 'bytes', 'hex': value.hex()}
    if isinstance(value, (bool, str)) or value is None:
        return {'type': type(value).__name__, 'value': value}
    return {'type': type(value).__name__, 'repr': repr(value)}

def unpickled(path, **headers):
    response = requests.get(base + path, headers=headers, params={'single': 'true'})
    assert response.status_code == 200, (path, response.status_code, response.text)
    return {'content_type': response.headers['content-type'], 'value': describe(pickle.loads(response.content))}

def npy(path):
    return describe(numpy.load(io.BytesIO(requests.get(base + path, headers={'Accept': 'application/x-npy'}, params={'single': 'true'}).content)))

print(json.dumps({
    'legacy': unpickled('/pickle'),
    'whole': unpickled('?format=pickle'),
    'image': unpickled('/image', Accept='application/x.pickle'),
    'column': unpickled('/image?slice=:,1', Accept='application/python-pickle'),
    'matches': unpickled('/$.nested.*', Accept='application/x-pickle'),
    'npy_image': npy('/image'),
    'npy_cube': npy('/cube?slice=1,:,::-2'),
    'npy_mask': npy('/mask'),
}))
`;
      const { stdout } = await run(PYTHON, ['-c', script, base]);
      const got = JSON.parse(stdout) as Record<string, { content_type: string; value: Record<string, unknown> }>;

      const pythonInt = (value: number | bigint) => ({ type: 'int', repr: String(value) });
      expect(got.legacy!.content_type).to.equal('application/x.pickle');
      expect(got.legacy!.value).to.deep.equal(got.whole!.value);
      const whole = (got.whole!.value as { items: Record<string, unknown> }).items;
      expect(whole).to.deep.equal({
        count: pythonInt(42),
        ratio: { type: 'float', repr: '0.25' },
        name: { type: 'str', value: 'scan 7' },
        flag: { type: 'bool', value: true },
        missing: { type: 'NoneType', value: null },
        huge: pythonInt(publish.huge),
        raw: { type: 'bytes', hex: '0001feff' },
        nan: { type: 'float', repr: 'nan' },
        inf: { type: 'float', repr: 'inf' },
        image: { type: 'ndarray', dtype: '<f8', shape: [3, 4], values: imageRows },
        cube: { type: 'ndarray', dtype: '<i2', shape: [2, 3, 4], values: (await getJson('/cube')) },
        mask: { type: 'ndarray', dtype: '|b1', shape: [2, 2], values: [[true, false], [false, true]] },
        scalar: { type: 'ndarray', dtype: '<f4', shape: [], values: 2.5 },
        trace: { type: 'ndarray', dtype: '<u2', shape: [5], values: [10, 20, 30, 40, 65535] },
        counters: { type: 'ndarray', dtype: '<i8', shape: [2], values: [-1, 2 ** 40] },
        nested: {
          type: 'dict',
          items: {
            list: { type: 'list', items: [[1, 2, 3], [4, 5, 6]].map((row) => ({ type: 'list', items: row.map(pythonInt) })) },
            deep: { type: 'dict', items: { value: { type: 'str', value: 'x' }, arr: { type: 'ndarray', dtype: '<f4', shape: [2], values: [0.5, 1.5] } } },
          },
        },
        'a b': pythonInt(1),
        'x/y': pythonInt(2),
      });

      expect(got.image).to.deep.equal({
        content_type: 'application/x.pickle',
        value: { type: 'ndarray', dtype: '<f8', shape: [3, 4], values: imageRows },
      });
      expect(got.column).to.deep.equal({
        content_type: 'application/python-pickle',
        value: { type: 'ndarray', dtype: '<f8', shape: [3], values: [1.5, 7.5, 13.5] },
      });
      expect(got.matches!.content_type).to.equal('application/x-pickle');
      expect((got.matches!.value as { type: string; items: unknown[] }).type).to.equal('list');
      expect((got.matches!.value as { items: unknown[] }).items).to.have.length(2);
      expect(got.npy_image).to.deep.equal({ type: 'ndarray', dtype: '<f8', shape: [3, 4], values: imageRows });
      expect(got.npy_cube).to.deep.equal({ type: 'ndarray', dtype: '<i2', shape: [3, 2], values: [[5, 3], [9, 7], [13, 11]] });
      expect(got.npy_mask).to.deep.equal({ type: 'ndarray', dtype: '|b1', shape: [2, 2], values: [[true, false], [false, true]] });
    });
  });

  describe('a 1000×1000 float64 NDArray', function () {
    const side = 1000;
    const big: NDArray = { data: Float64Array.from({ length: side * side }, (_, i) => (i % 9973) / 7), shape: [side, side], dtype: 'float64' };
    const payload = side * side * 8;
    let bigServer: Server;
    let bigBase: string;

    before(async function () {
      ({ server: bigServer, base: bigBase } = await startServer(() => ({ big })));
    });

    after(function () {
      bigServer.close();
    });

    it('goes out as raw bytes in CBOR, npy and pickle (sizes and times printed)', async function () {
      const overhead: Record<string, number> = {};
      for (const format of ['json', 'cbor', 'npy', 'pickle']) {
        const started = performance.now();
        const response = await fetch(`${bigBase}/big?single=true&format=${format}`);
        const body = Buffer.from(await response.arrayBuffer());
        const ms = performance.now() - started;
        expect(response.status).to.equal(200);
        overhead[format] = body.length - payload;
        console.log(`      ${format}: ${(body.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms over HTTP`);
      }
      // a few header bytes around the 8 MB of doubles: no per-element encoding, no text detour
      expect(overhead.cbor).to.be.within(0, 32);
      expect(overhead.npy).to.be.within(0, 128);
      expect(overhead.pickle).to.be.within(0, 256);
    });

    it('arrives intact in Python through pickle and npy', async function () {
      const script = String.raw`
import io, json, pickle, sys
import numpy, requests
url = sys.argv[1]
expected = ((numpy.arange(1000 * 1000) % 9973) / 7).reshape(1000, 1000)
from_pickle = pickle.loads(requests.get(url, headers={'Accept': 'application/x.pickle'}).content)
from_npy = numpy.load(io.BytesIO(requests.get(url, headers={'Accept': 'application/x-npy'}).content))
print(json.dumps([[a.dtype.str, list(a.shape), bool(numpy.array_equal(a, expected))] for a in (from_pickle, from_npy)]))
`;
      const { stdout } = await run(PYTHON, ['-c', script, `${bigBase}/big?single=true`]);
      expect(JSON.parse(stdout)).to.deep.equal([['<f8', [1000, 1000], true], ['<f8', [1000, 1000], true]]);
    });
  });

  describe('negotiation and errors', function () {
    it('answers JSON to */* and to no Accept, 406 to a type it cannot give', async function () {
      expect((await get('/count', '*/*')).headers.get('content-type')).to.match(/^application\/json/);
      expect((await get('/count')).headers.get('content-type')).to.match(/^application\/json/);
      await expectError('/count', 406, /cannot answer in any type of Accept: image\/png/, 'image/png');
    });

    it('refuses an unknown ?format with 400', async function () {
      await expectError('/count?format=xml', 400, /format must be one of json, cbor, npy, pickle/);
    });

    it('answers 500 with a detail when publish holds something no encoder carries', async function () {
      const { server: broken, base: brokenBase } = await startServer(() => ({ when: new Map() }));
      try {
        const response = await fetch(brokenBase);
        expect(response.status).to.equal(500);
        expect(((await response.json()) as { detail: string }).detail).to.match(/cannot encode a Map/);
      } finally {
        broken.close();
      }
    });

    it('answers 404 before the reducer published anything', async function () {
      const { server: empty, base: emptyBase } = await startServer(() => undefined);
      try {
        const response = await fetch(emptyBase);
        expect(response.status).to.equal(404);
        expect(((await response.json()) as { detail: string }).detail).to.match(/published nothing yet/);
      } finally {
        empty.close();
      }
    });
  });
});
