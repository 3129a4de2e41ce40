import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ndarrayFromBytes, type NDArray } from '../src/core/ndarray.js';
import { loadPickle, PickledClass, PickledObject } from '../src/core/pickle/read.js';
import { fixture } from './helpers/fixtures.js';
import { captureMessages, CONTRAST_DUMP_XY } from './helpers/upstream-harness.js';
import { PYTHON } from './helpers/process.js';

/** an NDArray as plain values, for deep comparison */
function plain(value: unknown): { dtype: string; shape: number[]; data: Array<number | bigint> } {
  const array = value as NDArray;
  return { dtype: array.dtype, shape: array.shape, data: Array.from(array.data as ArrayLike<number | bigint>) };
}

type Dict = Record<string, unknown>;

describe('loadPickle on the pickles of the real captures', function () {
  it('Contrast (protocols 2 and 4): statuses, 20 running snapshots with pseudo.x/y, started and finished', async function () {
    const messages = await captureMessages(fixture(this, 'contrast-dump.cbors'));
    const packets = messages.map(([frame]) => loadPickle(frame) as Dict);
    expect(packets.map((p) => p.status)).to.deep.equal(['heartbeat', 'started', ...Array(11).fill('running'),
      'heartbeat', ...Array(9).fill('running'), 'finished', 'heartbeat', 'heartbeat']);
    expect(messages[0][0][1], 'heartbeat protocol').to.equal(4);
    expect(messages[1][0][1], 'started protocol').to.equal(2);
    expect(packets[0]).to.deep.equal({ status: 'heartbeat' });

    const running = packets.filter((p) => p.status === 'running');
    expect(running).to.have.length(20);
    // an OrderedDict keeps its order
    expect(Object.keys(running[0])).to.deep.equal(['sx', 'sy', 'pseudo', 'panda0', 'xspress3', 'dt', 'status']);
    const firstX = ((running[0].pseudo as Dict).x as NDArray);
    expect(plain(firstX)).to.deep.equal({ dtype: 'float64', shape: [1], data: [-2.004051863] });
    const xy = running.map((p) => [((p.pseudo as Dict).x as NDArray).data[0], ((p.pseudo as Dict).y as NDArray).data[0]]);
    expect(xy).to.deep.equal(CONTRAST_DUMP_XY);
    expect(running[0].dt).to.equal(2.410903215408325);
    expect(running[19].dt).to.equal(9.71180534362793);
    for (const packet of running) {
      expect(packet.xspress3).to.deep.equal({
        type: 'Link',
        filename: '/data/staff/nanomax/commissioning_2023-2/diff_1130_stream_test/raw/dummy/scan_000002_xspress3.hdf5',
        path: '/entry/instrument/xspress3/',
        universal: true,
      });
    }

    const [started, finished] = [packets[1], packets[23]];
    for (const packet of [started, finished]) {
      expect(packet.scannr).to.equal(2);
      expect(packet.description).to.equal('mesh sx -2 2 3 sy -2 2 4 0.1');
      expect(packet.path).to.equal('/data/staff/nanomax/commissioning_2023-2/diff_1130_stream_test/raw/dummy');
      expect(Object.keys(packet.snapshot as Dict)).to.have.length(92);
      expect((packet.snapshot as Dict).energy).to.equal(12000.002585815417);
    }
    expect((started.snapshot as Dict).attenuator3_x).to.equal(0.536);
    expect((finished.snapshot as Dict).attenuator3_x).to.equal(0.537);
    expect((started.snapshot as Dict).gonz).to.equal(24419642.0);
    expect((finished.snapshot as Dict).gonz).to.equal(24419624.0);
  });

  /** legacy Xspress3 captures: header, then [JSON, spectra, meta pickle] per image, then series_end */
  function legacyImages(messages: Buffer[][]): Array<{ header: Dict; spectra: Buffer; meta: unknown }> {
    const images = [];
    for (let i = 1; i + 2 < messages.length; i += 3) {
      images.push({ header: JSON.parse(messages[i][0].toString()), spectra: messages[i + 1][0], meta: loadPickle(messages[i + 2][0]) });
    }
    return images;
  }

  function channelSums(spectra: Buffer, channels: number): number[] {
    const counts = ndarrayFromBytes(new Uint8Array(spectra), 'uint32', [channels, 4096]).data as Uint32Array;
    return Array.from({ length: channels }, (_, c) => counts.subarray(c * 4096, (c + 1) * 4096).reduce((a, b) => a + b, 0));
  }

  it('Xspress3-mini meta (protocol 4): 8 arrays per image, the values of protocols.md §4.3', async function () {
    const messages = await captureMessages(fixture(this, 'xspress3mini-dump20.cbors'));
    expect(messages[3][0][1]).to.equal(4);
    const images = legacyImages(messages);
    expect(images).to.have.length(22);
    expect((images[0].meta as unknown[]).map(plain)).to.deep.equal([
      { dtype: 'float64', shape: [2], data: [1.8201564775195596e-12, 7.640625955078244e-14] },
      { dtype: 'uint32', shape: [2], data: [11750, 547] },
      { dtype: 'uint32', shape: [2], data: [11649, 489] },
      { dtype: 'uint32', shape: [2], data: [79999990, 79999990] },
      { dtype: 'uint32', shape: [2], data: [79999990, 79999990] },
      { dtype: 'uint32', shape: [2], data: [468, 484] },
      { dtype: 'int32', shape: [2], data: [7, 7] },
      { dtype: 'float64', shape: [2], data: [1.0011822462032098, 1.0000607536983814] },
    ]);
    const allGood = [[11649, 489], [11364, 480], [11685, 498], [11882, 448], [12189, 503], [11627, 468],
      [11649, 507], [11454, 493], [11661, 494], [11588, 488], [11613, 488]];
    images.forEach(({ header, spectra, meta }, i) => {
      expect(header.frame).to.equal(i % 11);
      expect(meta).to.have.length(8);
      expect(plain((meta as unknown[])[2]).data, `image ${i}`).to.deep.equal(allGood[i % 11]);
      expect(channelSums(spectra, 2), `image ${i}`).to.deep.equal(allGood[i % 11]);
    });
  });

  it('Xspress3 meta (protocol 3): 8 arrays per image, the values of protocols.md §4.4', async function () {
    const messages = await captureMessages(fixture(this, 'xspress3-dump.cbors'));
    expect(messages[3][0][1]).to.equal(3);
    const images = legacyImages(messages);
    expect(images).to.have.length(20);
    expect((images[0].meta as unknown[]).map(plain)).to.deep.equal([
      { dtype: 'float64', shape: [4], data: [0, 0, 0, 1.5625019531274415e-15] },
      { dtype: 'uint32', shape: [4], data: [2, 0, 0, 3] },
      { dtype: 'uint32', shape: [4], data: [0, 0, 0, 1] },
      { dtype: 'uint32', shape: [4], data: [7999990, 7999990, 7999990, 7999990] },
      { dtype: 'uint32', shape: [4], data: [7999990, 7999990, 7999990, 7999990] },
      { dtype: 'uint32', shape: [4], data: [0, 0, 0, 91] },
      { dtype: 'int32', shape: [4], data: [6, 6, 6, 6] },
      { dtype: 'float64', shape: [4], data: [1.00000175000525, 1.0, 1.0, 1.0000140002135032] },
    ]);
    const sums = [[0, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 1, 2], [2, 0, 0, 2], [0, 1, 0, 1], [0, 0, 0, 2],
      [0, 1, 0, 1], [1, 0, 0, 2], [0, 0, 0, 1], [0, 1, 0, 4], [0, 0, 0, 1], [0, 0, 0, 1], [1, 1, 0, 2], [0, 0, 1, 2],
      [0, 0, 0, 4], [0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 2]];
    images.forEach(({ spectra, meta }, i) => {
      expect(plain((meta as unknown[])[2]).data, `image ${i}`).to.deep.equal(sums[i]);
      expect(channelSums(spectra, 4), `image ${i}`).to.deep.equal(sums[i]);
    });
  });

  it('Xspress3 multipart meta (protocol 4): 9 arrays, window_counts (2, 4) uint32', async function () {
    const messages = await captureMessages(fixture(this, 'xspress3-multipart.cbors'));
    const metas = messages.slice(1, 6).map((frames) => (loadPickle(frames[2]) as unknown[]).map(plain));
    expect(metas.map((meta) => meta.length)).to.deep.equal([9, 9, 9, 9, 9]);
    expect(metas.map((meta) => meta[2].data)).to.deep.equal(
      [[0, 0, 0, 12303], [0, 0, 0, 14079], [0, 0, 0, 11091], [0, 0, 0, 9818], [0, 0, 0, 6717]]);
    expect(metas.map((meta) => meta[1].data[3])).to.deep.equal([12303, 14079, 11092, 9819, 6717]);
    expect(metas.map((meta) => meta[7].data[3]))
      .to.deep.equal([1.817855842762348, 1.8357377733821947, 1.8063538656069364, 1.795392920478707, 1.7864323695208866]);
    expect(metas[0][8]).to.deep.equal({ dtype: 'uint32', shape: [2, 4], data: [0, 0, 0, 0, 0, 0, 0, 0] });
  });

  it('LeCroy timestamps (protocol 4): lists of floats', async function () {
    const continuous = await captureMessages(fixture(this, 'maui-02-continuous-3.cbor.gz'));
    const ts = (frames: Buffer[]): unknown => loadPickle(frames[2]);
    expect([2, 3, 5, 6].map((i) => ts(continuous[i])))
      .to.deep.equal([[1740563664.870739], [1740563664.870739], [1740563664.335], [1740563664.335]]);
    const sequential = await captureMessages(fixture(this, 'maui-02-sequential-3.cbor.gz'));
    const first = ts(sequential[2]) as number[];
    expect(first).to.have.length(20);
    expect([first[0], first[1], first[2], first[19]])
      .to.deep.equal([1740736916.442, 1740736916.5420005, 1740736916.642001, 1740736918.3420095]);
    const second = ts(sequential[6]) as number[];
    expect([second.length, second[0], second[19]]).to.deep.equal([20, 1740736919.435, 1740736921.3350096]);
  });
});

describe('loadPickle on pickles made by Python (numpy installed)', function () {
  const PROTOCOLS = [2, 3, 4, 5];
  let pickles: Record<string, Record<string, string>>;

  before(function () {
    if (!existsSync(PYTHON)) {
      console.log(`skipping: ${PYTHON} is absent`);
      this.skip();
    }
    pickles = JSON.parse(execFileSync(PYTHON, ['-c', `
import base64, collections, json, os, pickle
import numpy as np

class Point:
    pass

def array(values, dtype):
    return np.array(values, dtype=dtype).reshape(2, 3)

shared = [1, 2]
cases = {
    'int_small': 7, 'int_negative': -300, 'int_int32': 2**31 - 1, 'int_safe_max': 2**53 - 1,
    'int_2_53': 2**53, 'int_big': 2**70, 'int_big_negative': -2**63,
    'float': 1.5, 'float_tiny': -1e-300,
    'str': 'h\\u00e9llo \\u2713', 'str_long': 'x' * 300,
    'bytes_empty': b'', 'bytes': b'\\x00\\xffab', 'bytes_long': bytes(range(256)) * 2,
    'constants': [True, False, None],
    'list': [1, 'a', None, [2.5]], 'tuple': (1, (2, 3), ()),
    'dict': {'b': 1, 'a': [1, 2], 3: 'three'},
    'ordered_dict': collections.OrderedDict([('z', 1), ('a', 2), ('m', 3)]),
    'set': {1, 2, 3}, 'frozenset': frozenset(['a']),
    'shared': [shared, shared],
    'u1': array([0, 1, 2, 253, 254, 255], 'u1'),
    'u2': array([0, 1, 2, 65533, 65534, 65535], 'u2'),
    'u4': array([0, 1, 2, 2**32 - 3, 2**32 - 2, 2**32 - 1], 'u4'),
    'u8': array([0, 1, 2, 2**64 - 3, 2**64 - 2, 2**64 - 1], 'u8'),
    'i4': array([-1, 2, -3, 4, -5, 2**31 - 1], 'i4'),
    'i8': array([-1, 2, -3, 4, -5, -2**63], 'i8'),
    'f4': array([0.5, -1.5, 2.25, 3, 4, 5], 'f4'),
    'f8': array([0.1, -1e300, 2.25, 3, 4, 5], 'f8'),
    'big_endian_f8': np.array([1.5, -2.25, 3e100], dtype='>f8'),
    'big_endian_i4': np.array([1, -2, 65536], dtype='>i4'),
    'bool_array': np.array([True, False, True]),
    'zero_d': np.array(3.5),
    'three_d': np.arange(24, dtype='i2').reshape(2, 3, 4),
    'fortran': np.asfortranarray(np.arange(6, dtype='u2').reshape(2, 3)),
    'fortran_3d': np.asfortranarray(np.arange(24, dtype='f4').reshape(2, 3, 4)),
    'empty_array': np.zeros((0, 3)),
    'shared_dtype': [np.arange(2.0), np.arange(3.0)],
    'scalars': [np.float64(2.5), np.float32(1.5), np.int64(-5), np.int64(2**60), np.uint8(200),
                np.bool_(True), np.int32(-7), np.uint64(2**64 - 1)],
    'bad_global': os.system,
    'bad_class': Point(),
    'bad_object_array': np.array([1, 'a'], dtype=object),
    'bad_complex': np.array([1j]),
}
print(json.dumps({name: {str(p): base64.b64encode(pickle.dumps(value, protocol=p)).decode() for p in (2, 3, 4, 5)}
                  for name, value in cases.items()}))
`], { encoding: 'utf8' }));
  });

  function load(name: string, protocol: number): unknown {
    const bytes = Buffer.from(pickles[name][protocol], 'base64');
    expect(bytes[1], `${name} protocol`).to.equal(protocol);
    return loadPickle(bytes);
  }

  const cases: Record<string, unknown> = {
    int_small: 7, int_negative: -300, int_int32: 2 ** 31 - 1, int_safe_max: Number.MAX_SAFE_INTEGER,
    int_2_53: 2n ** 53n, int_big: 2n ** 70n, int_big_negative: -(2n ** 63n),
    float: 1.5, float_tiny: -1e-300,
    str: 'héllo ✓', str_long: 'x'.repeat(300),
    bytes_empty: Buffer.alloc(0), bytes: Buffer.from([0, 0xff, 0x61, 0x62]),
    bytes_long: Buffer.concat([Buffer.from([...Array(256).keys()]), Buffer.from([...Array(256).keys()])]),
    constants: [true, false, null],
    list: [1, 'a', null, [2.5]], tuple: [1, [2, 3], []],
    dict: { b: 1, a: [1, 2], 3: 'three' },
    set: new Set([1, 2, 3]), frozenset: new Set(['a']),
    shared: [[1, 2], [1, 2]],
  };

  for (const [name, expected] of Object.entries(cases)) {
    it(`${name} in protocols 2–5`, () => {
      for (const protocol of PROTOCOLS) expect(load(name, protocol), `protocol ${protocol}`).to.deep.equal(expected);
    });
  }

  it('keeps the order of an OrderedDict and the identity of memoized objects', () => {
    for (const protocol of PROTOCOLS) {
      expect(Object.keys(load('ordered_dict', protocol) as Dict)).to.deep.equal(['z', 'a', 'm']);
      const [a, b] = load('shared', protocol) as unknown[];
      expect(a).to.equal(b);
    }
  });

  const arrays: Record<string, ReturnType<typeof plain>> = {
    u1: { dtype: 'uint8', shape: [2, 3], data: [0, 1, 2, 253, 254, 255] },
    u2: { dtype: 'uint16', shape: [2, 3], data: [0, 1, 2, 65533, 65534, 65535] },
    u4: { dtype: 'uint32', shape: [2, 3], data: [0, 1, 2, 2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1] },
    u8: { dtype: 'uint64', shape: [2, 3], data: [0n, 1n, 2n, 2n ** 64n - 3n, 2n ** 64n - 2n, 2n ** 64n - 1n] },
    i4: { dtype: 'int32', shape: [2, 3], data: [-1, 2, -3, 4, -5, 2 ** 31 - 1] },
    i8: { dtype: 'int64', shape: [2, 3], data: [-1n, 2n, -3n, 4n, -5n, -(2n ** 63n)] },
    f4: { dtype: 'float32', shape: [2, 3], data: [0.5, -1.5, 2.25, 3, 4, 5] },
    f8: { dtype: 'float64', shape: [2, 3], data: [0.1, -1e300, 2.25, 3, 4, 5] },
    big_endian_f8: { dtype: 'float64', shape: [3], data: [1.5, -2.25, 3e100] },
    big_endian_i4: { dtype: 'int32', shape: [3], data: [1, -2, 65536] },
    bool_array: { dtype: 'bool', shape: [3], data: [1, 0, 1] },
    zero_d: { dtype: 'float64', shape: [], data: [3.5] },
    three_d: { dtype: 'int16', shape: [2, 3, 4], data: [...Array(24).keys()] },
    fortran: { dtype: 'uint16', shape: [2, 3], data: [0, 1, 2, 3, 4, 5] },
    fortran_3d: { dtype: 'float32', shape: [2, 3, 4], data: [...Array(24).keys()] },
    empty_array: { dtype: 'float64', shape: [0, 3], data: [] },
  };

  for (const [name, expected] of Object.entries(arrays)) {
    it(`numpy array ${name} in protocols 2–5 → NDArray ${expected.dtype} (${expected.shape.join(', ')})`, () => {
      for (const protocol of PROTOCOLS) expect(plain(load(name, protocol)), `protocol ${protocol}`).to.deep.equal(expected);
    });
  }

  it('reuses a memoized dtype for several arrays', () => {
    for (const protocol of PROTOCOLS) {
      expect((load('shared_dtype', protocol) as unknown[]).map(plain)).to.deep.equal([
        { dtype: 'float64', shape: [2], data: [0, 1] }, { dtype: 'float64', shape: [3], data: [0, 1, 2] }]);
    }
  });

  it('turns numpy scalars into numbers, bigints beyond 2^53 and booleans', () => {
    for (const protocol of PROTOCOLS) {
      expect(load('scalars', protocol), `protocol ${protocol}`)
        .to.deep.equal([2.5, 1.5, -5, 2n ** 60n, 200, true, -7, 2n ** 64n - 1n]);
    }
  });

  it('accepts the numpy._core spellings of numpy 2', () => {
    // protocol 3 names globals in newline-terminated GLOBAL lines, so the module names can be rewritten in place
    const renamed = (name: string): unknown => {
      const original = Buffer.from(pickles[name][3], 'base64').toString('latin1');
      expect(original).to.contain('numpy.core.multiarray\n');
      return loadPickle(Buffer.from(original.replaceAll('numpy.core.multiarray\n', 'numpy._core.multiarray\n'), 'latin1'));
    };
    expect(plain(renamed('f8'))).to.deep.equal(arrays.f8);
    expect(renamed('scalars')).to.deep.equal([2.5, 1.5, -5, 2n ** 60n, 200, true, -7, 2n ** 64n - 1n]);
    // protocol 5 names _frombuffer with SHORT_BINUNICODE inside a FRAME: fix both lengths
    const original = Buffer.from(pickles.fortran[5], 'base64');
    const from = Buffer.from('\x8c\x12numpy.core.numeric', 'latin1');
    const at = original.indexOf(from);
    expect(at).to.be.greaterThan(0);
    const numpy2 = Buffer.concat([original.subarray(0, at), Buffer.from('\x8c\x13numpy._core.numeric', 'latin1'),
      original.subarray(at + from.length)]);
    expect(numpy2[2]).to.equal(0x95); // FRAME
    numpy2.writeBigUInt64LE(numpy2.readBigUInt64LE(3) + 1n, 3);
    expect(plain(loadPickle(numpy2))).to.deep.equal(arrays.fortran);
  });

  it('keeps globals off the allow-list as opaque placeholders, never calling them', () => {
    for (const protocol of PROTOCOLS) {
      expect(load('bad_global', protocol), `protocol ${protocol}`).to.deep.equal(new PickledClass('posix', 'system'));
      const point = load('bad_class', protocol);
      expect(point).to.be.instanceOf(PickledObject);
      expect(point).to.deep.include({ module: '__main__', name: 'Point', args: [] });
    }
  });

  it('refuses unsupported numpy dtypes, naming them', () => {
    for (const protocol of PROTOCOLS) {
      expect(() => load('bad_object_array', protocol)).to.throw(/numpy dtype "O8" is not supported/);
      expect(() => load('bad_complex', protocol)).to.throw(/numpy dtype "c16" is not supported/);
    }
  });

  it('fails on every truncation of a pickle with a message naming the offset', () => {
    for (const name of ['dict', 'f8', 'big_endian_f8', 'scalars', 'str_long']) {
      for (const protocol of PROTOCOLS) {
        const whole = Buffer.from(pickles[name][protocol], 'base64');
        for (let cut = 1; cut < whole.length; cut++) {
          expect(() => loadPickle(whole.subarray(0, cut)), `${name} protocol ${protocol} cut at ${cut}`)
            .to.throw(Error, /truncated.*offset \d+|offset \d+.*truncated/);
        }
      }
    }
  });
});

describe('loadPickle on bytes that are not a supported pickle', () => {
  const cases: Array<[string, number[] | Buffer, RegExp]> = [
    ['empty input', [], /not a pickle: empty input/],
    ['JSON', Buffer.from('{"a": 1}'), /not a pickle of protocol 2–5: first byte is 0x7b, expected PROTO \(0x80\)/],
    ['a protocol 6 header', [0x80, 6, 0x4e, 0x2e], /opcode PROTO at offset 0: unsupported pickle protocol 6/],
    ['a protocol-0 opcode (INT)', [0x80, 2, 0x49, 0x31, 0x0a, 0x2e], /unsupported pickle opcode 0x49 \('I'\) at offset 2/],
    ['no STOP', [0x80, 2, 0x4e], /truncated pickle: input ends at offset 3 before STOP/],
    ['a cut string length', [0x80, 2, 0x58, 5, 0], /opcode BINUNICODE at offset 2: truncated: needs 4 more bytes at offset 3, only 2 left/],
    ['a string longer than the input', [0x80, 4, 0x8c, 9, 0x61, 0x2e], /opcode SHORT_BINUNICODE at offset 2: truncated: needs 9 more bytes/],
    ['invalid UTF-8', [0x80, 4, 0x8c, 1, 0xff, 0x2e], /opcode SHORT_BINUNICODE at offset 2: string is not valid UTF-8/],
    ['STOP on an empty stack', [0x80, 2, 0x2e], /opcode STOP at offset 2: stack underflow/],
    ['APPEND to a tuple', [0x80, 2, 0x29, 0x4e, 0x61, 0x2e], /opcode APPEND at offset 4: target is not a list/],
    ['SETITEM on a list', [0x80, 2, 0x5d, 0x4e, 0x4e, 0x73, 0x2e], /opcode SETITEM at offset 5: target is not a dict/],
    ['a missing memo entry', [0x80, 2, 0x68, 3, 0x2e], /opcode BINGET at offset 2: memo entry 3 was never stored/],
    ['TUPLE without MARK', [0x80, 2, 0x4e, 0x74, 0x2e], /opcode TUPLE at offset 3: no MARK on the stack/],
    ['REDUCE of a non-global', [0x80, 2, 0x4e, 0x29, 0x52, 0x2e], /opcode REDUCE at offset 4: None is not callable/],
    ['a FRAME longer than the input', [0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, 0x4e, 0x2e], /opcode FRAME at offset 2: truncated: needs 100 more bytes/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => loadPickle(Buffer.from(bytes))).to.throw(Error, message);
    });
  }
});
