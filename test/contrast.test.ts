import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { NDArray } from '../src/core/ndarray.js';
import { loadPickle, PickledObject } from '../src/core/pickle/read.js';
import type { StreamData } from '../src/core/types.js';
import { contrast, ContrastError, type ContrastMessage } from '../src/protocols/contrast/index.js';
import {
  CONTRAST_HEARTBEAT, contrastMeshMessages, meshDescription, meshPositions, nanomaxReadout, type ContrastMeshOptions,
} from '../src/protocols/contrast/emulator.js';
import { encodePickle2 } from '../src/protocols/contrast/pickle2.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import {
  captureMessages, CONTRAST_DUMP_XY, scanMessages, scanProblems, setSequenceAndWait,
} from './helpers/upstream-harness.js';
import { PYTHON } from './helpers/process.js';

const stream = (frames: Buffer[]): StreamData => ({ typ: 'contrast', frames });
const x0 = (message: ContrastMessage) => ((message.pseudo as Record<string, NDArray>).x.data[0]);
const y0 = (message: ContrastMessage) => ((message.pseudo as Record<string, NDArray>).y.data[0]);

/** Python's view of pickles: each loaded, described, and pickled again with protocol 2 */
function inPython(pickles: Buffer[]): { redumped: boolean; kind: string; repr: string }[] {
  const script = [
    'import sys, json, pickle, base64, numpy',
    'out = []',
    'for line in sys.stdin.read().split():',
    '    raw = base64.b64decode(line)',
    '    value = pickle.loads(raw)',
    '    out.append({"redumped": pickle.dumps(value, protocol=2) == raw, "kind": type(value).__name__,',
    '                "repr": repr({k: (v.tolist() if isinstance(v, numpy.ndarray) else v) for k, v in value.get("pseudo", {}).items()})})',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: pickles.map((p) => p.toString('base64')).join('\n') }).toString());
}

const MESH: ContrastMeshOptions = {
  axes: [{ motor: 'sx', start: -2, stop: 2, intervals: 3 }, { motor: 'sy', start: -1, stop: 1, intervals: 2 }],
  exposure: 0.1, scannr: 7, path: '/data/test', heartbeatEvery: 5,
  detectors: nanomaxReadout({ x: 'sx', y: 'sy', xspress3File: '/data/test/scan_000007_xspress3.hdf5' }),
};

describe('Contrast protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: contrast.name, typ: contrast.typ, transport: contrast.transport })
      .to.deep.equal({ name: 'contrast', typ: 'contrast', transport: 'zmq-sub' });
  });

  describe('contrast-dump.cbors (a real NanoMAX mesh scan)', () => {
    it('scan() forwards started, the 20 running points and finished, skipping heartbeats', async function () {
      const messages = await captureMessages(fixture(this, 'contrast-dump.cbors'));
      const { events, bad, remaining } = await scanMessages(contrast, messages);
      expect(bad).to.deep.equal([]);
      expect(events.map((e) => e.typ)).to.deep.equal(new Array(22).fill('contrast'));
      expect(events.map((e) => e.frames[0]), 'the very same frames, untouched')
        .to.deep.equal([messages[1][0], ...messages.slice(2, 13).map((m) => m[0]), ...messages.slice(14, 24).map((m) => m[0])]);
      expect(remaining, 'the two heartbeats after finished are left unread').to.equal(2);
      const parsed = events.map((e) => contrast.parse(e));
      expect(parsed.map((p) => p.status)).to.deep.equal(['started', ...new Array(20).fill('running'), 'finished']);
      const running = parsed.slice(1, 21);
      expect(running.map((p) => [x0(p), y0(p)])).to.deep.equal(CONTRAST_DUMP_XY);
      expect(running[0].dt).to.equal(2.410903215408325);
      expect(running[19].dt).to.equal(9.71180534362793);
      for (const point of running) {
        expect(Object.keys(point)).to.deep.equal(['sx', 'sy', 'pseudo', 'panda0', 'xspress3', 'dt', 'status']);
        expect(point.xspress3).to.deep.equal({
          type: 'Link', filename: '/data/staff/nanomax/commissioning_2023-2/diff_1130_stream_test/raw/dummy/scan_000002_xspress3.hdf5',
          path: '/entry/instrument/xspress3/', universal: true,
        });
        expect(Object.keys(point.panda0 as object)).to.have.length(19);
      }
      expect(running[0].sx).to.equal(-2.000431059888797);
      const counter = (running[0].panda0 as Record<string, NDArray>)['COUNTER1.OUT_Value'];
      expect(counter.dtype).to.equal('float64');
      expect(counter.shape).to.deep.equal([1]);
    });

    it('parse() gives the started and finished snapshots', async function () {
      const messages = await captureMessages(fixture(this, 'contrast-dump.cbors'));
      const started = contrast.parse(stream(messages[1]));
      const finished = contrast.parse(stream(messages[23]));
      const heartbeat = contrast.parse(stream(messages[0]));
      expect(heartbeat).to.deep.equal({ status: 'heartbeat' });
      for (const [message, status] of [[started, 'started'], [finished, 'finished']] as const) {
        if (message.status !== status) throw new Error(`expected ${status}, got ${message.status}`);
        expect(message).to.include({
          scannr: 2, description: 'mesh sx -2 2 3 sy -2 2 4 0.1',
          path: '/data/staff/nanomax/commissioning_2023-2/diff_1130_stream_test/raw/dummy',
        });
        expect(Object.keys(message.snapshot!)).to.have.length(92);
        expect(message.snapshot!.energy).to.equal(12000.002585815417);
      }
      if (started.status !== 'started' || finished.status !== 'finished') throw new Error('unreachable');
      expect(started.snapshot!.attenuator3_x).to.equal(0.536);
      expect(finished.snapshot!.attenuator3_x).to.equal(0.537);
      expect(started.snapshot!.gonz).to.equal(24419642.0);
      expect(finished.snapshot!.gonz).to.equal(24419624.0);
    });

    it('the protocol-2 writer reproduces every scan message byte for byte', async function () {
      const messages = await captureMessages(fixture(this, 'contrast-dump.cbors'));
      let compared = 0;
      for (const [frame] of messages) {
        const value = loadPickle(frame) as Record<string, unknown>;
        if (value.status === 'heartbeat') {
          expect(frame.equals(CONTRAST_HEARTBEAT), 'heartbeat').to.equal(true);
          continue;
        }
        // the value model: running points are OrderedDicts (Map), Python ints are bigints
        const rebuilt = value.status === 'running' ? new Map(Object.entries(value)) : { ...value, scannr: BigInt(value.scannr as number) };
        expect(encodePickle2(rebuilt).equals(frame), `message ${compared} (${value.status})`).to.equal(true);
        compared += 1;
      }
      expect(compared).to.equal(22);
    });
  });

  it('the protocol-2 writer agrees with CPython for every kind of value it writes', () => {
    const shared = [1.5];
    const value = new Map<string, unknown>([
      ['ints', [0n, 255n, 256n, 65535n, 65536n, -1n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, 2n ** 64n, -(2n ** 70n)]],
      ['floats', [0.5, -0, 1e300, 3]],
      ['text', ['', 'ü€', 'text', 'text']],
      ['flags', [true, false, null]],
      ['one', { only: 1n }],
      ['empty', [{}, [], new Map()]],
      ['shared', [shared, shared]],
      ['arrays', [
        { data: new Int32Array([1, -2, 3, -4, 5, -6]), shape: [2, 3], dtype: 'int32' },
        { data: new Uint8Array([0, 1, 0]), shape: [3], dtype: 'bool' },
        { data: new BigInt64Array([-(2n ** 40n)]), shape: [1], dtype: 'int64' },
        { data: new Float32Array(0), shape: [0], dtype: 'float32' },
        { data: new Uint16Array([7, 8]), shape: [2], dtype: 'uint16' },
      ]],
    ]);
    const pickle = encodePickle2(value);
    const script = [
      'import sys, pickle, base64, numpy',
      'raw = base64.b64decode(sys.stdin.read())',
      'value = pickle.loads(raw)',
      'assert pickle.dumps(value, protocol=2) == raw, "CPython pickles it differently"',
      'assert value["shared"][0] is value["shared"][1]',
      'print(repr([(k, [(a.dtype.str, a.shape, a.tolist()) for a in v] if k == "arrays" else v) for k, v in value.items()]))',
    ].join('\n');
    const repr = execFileSync(PYTHON, ['-c', script], { input: pickle.toString('base64') }).toString().trim();
    expect(repr).to.equal("[('ints', [0, 255, 256, 65535, 65536, -1, 2147483647, -2147483648, 2147483648, 18446744073709551616, "
      + "-1180591620717411303424]), ('floats', [0.5, -0.0, 1e+300, 3.0]), ('text', ['', 'ü€', 'text', 'text']), "
      + "('flags', [True, False, None]), ('one', {'only': 1}), ('empty', [{}, [], OrderedDict()]), ('shared', [[1.5], [1.5]]), "
      + "('arrays', [('<i4', (2, 3), [[1, -2, 3], [-4, 5, -6]]), ('|b1', (3,), [False, True, False]), ('<i8', (1,), [-1099511627776]), "
      + "('<f4', (0,), []), ('<u2', (2,), [7, 8])])]");
    expect(() => encodePickle2(new Set([1]))).to.throw(TypeError, /cannot pickle a Set/);
    expect(() => encodePickle2(new Map([[1, 2]]))).to.throw(TypeError, /OrderedDict key 1 is not a string/);
  });

  describe('parse rejects bad input with a clear error', () => {
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'xspress', frames: [CONTRAST_HEARTBEAT] }, /expected StreamData of typ contrast, got "xspress"/],
      ['two frames', stream([CONTRAST_HEARTBEAT, CONTRAST_HEARTBEAT]), /has 2 frames, expected 1/],
      ['bytes that are not a pickle', stream([Buffer.from('emptyness')]), /\(9 bytes\) is not a pickle: .*first byte is 0x65/],
      ['a truncated pickle', stream([CONTRAST_HEARTBEAT.subarray(0, 30)]), /is not a pickle: .*truncated/],
      ['a dict without status', stream([encodePickle2({ dt: 1.5 })]), /Contrast message is not valid: status: /],
      ['an unknown status', stream([encodePickle2({ status: 'paused' })]), /status: /],
      ['running without dt', stream([encodePickle2(new Map([['status', 'running']]))]), /dt: /],
      ['a scannr that is not a number', stream([encodePickle2({ status: 'started', scannr: 'seven' })]), /scannr: /],
      ['a list instead of a dict', stream([encodePickle2([1.5])]), /Contrast message is not valid/],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => {
        expect(() => contrast.parse(data)).to.throw(ContrastError, message);
      });
    }
  });

  describe('scan', () => {
    const messages = contrastMeshMessages({ ...MESH, heartbeatEvery: 0 });
    const [started, ...rest] = messages;
    const running = rest.slice(0, 12);
    const finished = rest[12];

    it('reports junk and points before started, goes past bad messages, ends at finished', async () => {
      const { events, bad, warnings, remaining } = await scanMessages(contrast, [
        [Buffer.from('emptyness')], running[0], [CONTRAST_HEARTBEAT],
        started, running[0], running[1], [Buffer.from('not a pickle')], [encodePickle2({ status: 'running' })],
        [CONTRAST_HEARTBEAT], started, ...running.slice(2), finished, started,
      ]);
      expect(events.map((e) => e.frames)).to.deep.equal([started, ...running, finished]);
      expect(bad).to.have.length(4);
      expect(bad[0]).to.match(/^before the start message: Contrast message \(9 bytes\) is not a pickle/);
      expect(bad[1]).to.equal('Contrast data message before the start message');
      expect(bad[2]).to.match(/^Contrast message \(12 bytes\) is not a pickle/);
      expect(bad[3]).to.match(/^Contrast message is not valid: dt: /);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/skipped a second Contrast start message/);
      expect(remaining).to.equal(1);
    });

    it('takes a scan run from a script or a GUI: description None, and a start message without its other fields', async () => {
      const script = contrastMeshMessages({ ...MESH, heartbeatEvery: 0, description: null });
      const bare = [encodePickle2({ status: 'started' }), ...script.slice(1, -1).map(([frame]) => frame), encodePickle2({ status: 'finished', scannr: null })];
      for (const messages of [script, bare.map((frame) => [frame])]) {
        const { events, bad } = await scanMessages(contrast, messages);
        expect(bad).to.deep.equal([]);
        expect(events.map((e) => contrast.parse(e).status)).to.deep.equal(['started', ...new Array(12).fill('running'), 'finished']);
      }
      expect(contrast.parse(stream(script[0]))).to.include({ status: 'started', description: null, scannr: 7 });
    });

    it('ends an interrupted scan at its interrupted message', async () => {
      const interrupted = contrastMeshMessages({ ...MESH, heartbeatEvery: 0, interruptAfter: 3 });
      const { events } = await scanMessages(contrast, interrupted);
      expect(events.map((e) => contrast.parse(e).status)).to.deep.equal(['started', 'running', 'running', 'running', 'interrupted']);
    });
  });

  it("keeps the rest of a record holding h5py's ExternalLink (DummyWritingDetector), the link as an opaque object", () => {
    // what CPython with h5py writes for a DummyWritingDetector reading
    const script = [
      'import sys, pickle, h5py',
      'from collections import OrderedDict',
      "link = h5py.ExternalLink('/tmp/Dummy_scan_003_image_001.hdf5', 'entry/measurement/data')",
      "record = OrderedDict([('sx', 0.5), ('det', link), ('dt', 0.25), ('status', 'running')])",
      'sys.stdout.write(type(link).__module__ + "\\n" + pickle.dumps(record, protocol=2).hex())',
    ].join('\n');
    const [module, hex] = execFileSync(PYTHON, ['-c', script]).toString().split('\n');
    const frame = Buffer.from(hex!, 'hex');
    const record = contrast.parse(stream([frame]));
    expect(record).to.deep.include({ sx: 0.5, dt: 0.25, status: 'running' });
    expect(Object.keys(record)).to.deep.equal(['sx', 'det', 'dt', 'status']);
    const link = record.det as PickledObject;
    expect(link).to.be.instanceOf(PickledObject);
    expect({ ...link }).to.deep.equal({
      module, name: 'ExternalLink', args: [], state: { _filename: '/tmp/Dummy_scan_003_image_001.hdf5', _path: 'entry/measurement/data' },
    });
    expect(module).to.match(/^h5py\..*_hl\.group$/);
    // the emulator writes the same bytes
    const rebuilt = new Map(Object.entries(record));
    expect(encodePickle2(rebuilt).equals(frame)).to.equal(true);
  });

  describe('emulator', () => {
    it('meshes like Contrast: linspace per axis, last axis fastest, and describes the scan', () => {
      const positions = meshPositions(MESH.axes);
      expect(positions).to.have.length(12);
      expect(positions.slice(0, 4)).to.deep.equal([{ sx: -2, sy: -1 }, { sx: -2, sy: 0 }, { sx: -2, sy: 1 }, { sx: -2 + 4 / 3, sy: -1 }]);
      expect(positions[11]).to.deep.equal({ sx: 2, sy: 1 });
      expect(meshDescription(MESH)).to.equal('mesh sx -2 2 3 sy -1 1 2 0.1');
      expect(meshDescription({ axes: [{ motor: 'sx', start: -2, stop: 2, intervals: 3 }, { motor: 'sy', start: -2, stop: 2, intervals: 4 }], exposure: 0.1 }))
        .to.equal('mesh sx -2 2 3 sy -2 2 4 0.1');
    });

    it('sends started, OrderedDict points with numpy arrays, heartbeats and finished, which parse back', () => {
      const messages = contrastMeshMessages(MESH);
      expect(messages).to.have.length(1 + 12 + 2 + 1);
      expect(messages.every((m) => m.length === 1)).to.equal(true);
      const parsed = messages.map(([frame]) => contrast.parse(stream([frame])));
      expect(parsed.map((p) => p.status)).to.deep.equal([
        'started', ...new Array(5).fill('running'), 'heartbeat', ...new Array(5).fill('running'), 'heartbeat', 'running', 'running', 'finished',
      ]);
      expect(parsed[0]).to.deep.equal({
        scannr: 7, status: 'started', path: '/data/test', snapshot: { sx: -2, sy: -1 }, description: 'mesh sx -2 2 3 sy -1 1 2 0.1',
      });
      const points = parsed.filter((p) => p.status === 'running');
      expect(points.map((p) => [p.sx, p.sy])).to.deep.equal(meshPositions(MESH.axes).map((p) => [p.sx, p.sy]));
      expect(points.map((p) => [x0(p), y0(p)])).to.deep.equal(meshPositions(MESH.axes).map((p) => [p.sx, p.sy]));
      expect(Object.keys(points[0])).to.deep.equal(['sx', 'sy', 'pseudo', 'xspress3', 'dt', 'status']);
      expect(points[3].dt).to.be.closeTo(0.4, 1e-12);
      expect(messages[0][0][1], 'pickle protocol').to.equal(2);
      expect(messages[1][0].includes(Buffer.from('collections\nOrderedDict\n')), 'an OrderedDict').to.equal(true);
      expect(messages[6][0]).to.equal(CONTRAST_HEARTBEAT);
    });

    it('Python loads the messages as OrderedDicts of numpy arrays and pickles them back to the same bytes', () => {
      const messages = contrastMeshMessages(MESH).map(([frame]) => frame).filter((frame) => frame !== CONTRAST_HEARTBEAT);
      const python = inPython(messages);
      expect(python.map((p) => p.redumped)).to.deep.equal(new Array(messages.length).fill(true));
      expect(python.map((p) => p.kind)).to.deep.equal(['dict', ...new Array(12).fill('OrderedDict'), 'dict']);
      expect(python[1].repr).to.equal("{'x': [-2.0], 'y': [-1.0], 'z': [0.0]}");
    });
  });

  describe('through a live ingester', () => {
    const payload = join(ROOT, 'test/payloads/fluorescence.ts');
    const live = liveStream({ protocol: 'contrast', stream: 'contrast', ingester: 'scan-ingester', worker: `${payload}:StreamSummaryWorker`, reducer: `${payload}:EventLogReducer` });

    it('counts messages that are not pickles, and truncated ones, with their event, and still completes the scan', async () => {
      const { pipeline, player } = await live.start();
      const messages = contrastMeshMessages(MESH);
      const points = messages.filter(([frame]) => frame !== CONTRAST_HEARTBEAT).slice(1, 13);
      // after the 3rd point: bytes that are not a pickle; after the 7th: a point cut short
      const played = [messages[0], ...points.slice(0, 3), [Buffer.from('garbage')], ...points.slice(3, 7),
        [points[7][0].subarray(0, 500)], ...points.slice(7), messages.at(-1)!];
      await setSequenceAndWait(pipeline, uniformSequence(['contrast'], 12));
      await player.play(played, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish(), 'bytes that are no record take no event').to.deep.equal(scanEndedWith(14, { bad: 2 }));
      const { bad, skipped } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:scan-ingester/contrast', 4], ['ingester:scan-ingester/contrast', 8]]);
      expect(bad[0].reason).to.match(/Contrast message \(7 bytes\) is not a pickle/);
      expect(bad[1].reason).to.match(/Contrast message \(500 bytes\) is not a pickle: .*truncated/);
      expect(skipped.length, 'only the warm-up messages besides').to.be.at.most(3);
      const events = await pipeline.result<Record<string, { contrast: { status: string; dt?: number } }[]>>('events');
      const dts = Array.from({ length: 12 }, (_, i) => events[i + 1][0].contrast.dt);
      expect(dts.map((dt) => Math.round(dt! * 10))).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(events['13'].map((e) => e.contrast.status)).to.deep.equal(['finished', 'finished']);
    });
  });
});
