/**
 * Python payloads live (through `dranspose run`): Python workers and reducers in the original's
 * style on an emulated STINS detector, numpy results checked value by value through the result
 * API (JSON, pickle in Debian's Python, HDF5 REST), a Python worker feeding a TypeScript reducer,
 * failures counted per event, the tick clock, and a Python process that dies.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { emulatedImage } from '../src/protocols/stins/emulator.js';
import { ROOT, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { PYTHON, run } from './helpers/process.js';
import { StinsSource } from './helpers/stins-source.js';
import { fixture } from './helpers/fixtures.js';
import { bindZmqPlayer, type ZmqPlayer } from '../src/protocols/player.js';
import { captureMessages, CONTRAST_DUMP_XY, setSequenceAndWait } from './helpers/upstream-harness.js';

const ROI = join(ROOT, 'test/payloads/python/stins_roi.py');
const COLLECT = join(ROOT, 'test/payloads/collect.ts');
const PACKETS = join(ROOT, 'test/payloads/python/packets.py');
const SHAPE = [16, 12];
const FRAMES = 12;

/** what the Python worker computes, here from the emulator's own images */
function expected(frame: number, rows = 4): { roi: number; profile: number[]; image: number[] } {
  const image = Array.from(emulatedImage({ frames: FRAMES, shape: SHAPE }, frame).data as Uint16Array);
  const profile = Array.from({ length: SHAPE[1] }, (_, c) => image.filter((_, i) => i % SHAPE[1] === c).reduce((a, b) => a + b, 0));
  return { roi: image.slice(0, rows * SHAPE[1]).reduce((a, b) => a + b, 0), profile, image };
}

describe('Python payloads live', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline | undefined;
  let source: StinsSource | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    source?.close();
    source = undefined;
  });

  async function start(workers: unknown[], reducer: Record<string, unknown>, parameters: Record<string, unknown> = {}): Promise<TestPipeline> {
    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'det-ingester', streams: [{ name: 'det', protocol: 'stins', upstream: source.endpoint }] }],
      workers, reducer, parameters,
    }, { ingesters: 1, workers: (workers as { count: number }[]).reduce((n, w) => n + w.count, 0) });
    // the controller writes the defaults of described parameters once it has seen the descriptions
    await waitFor('the default of a described parameter', async () => (await fetch(`${pipeline!.controller}/api/v1/parameter/tick_ms`)).ok);
    return pipeline;
  }

  it('runs a Python worker and reducer on bslz4 images; numpy results read through JSON, pickle and HDF5 REST', async function () {
    const p = await start([{ class: `${ROI}:RoiWorker`, count: 2 }], { class: `${ROI}:RoiReducer` }, { roi_rows: 5 });
    await p.setSequence(uniformSequence(['det'], FRAMES));
    await source!.play({ frames: FRAMES, shape: SHAPE, compression: 'bslz4' });
    expect(await p.waitForFinish()).to.deep.include({ completed_events: FRAMES + 2, finished: true });

    const roi = await p.result<Record<string, number>>('roi');
    for (let f = 0; f < FRAMES; f++) expect(roi[f], `frame ${f}`).to.equal(expected(f, 5).roi);
    const profileSum = Array.from({ length: SHAPE[1] }, (_, c) => Array.from({ length: FRAMES }, (_, f) => expected(f).profile[c]).reduce((a, b) => a + b, 0));
    expect(await p.result('profile_sum')).to.deep.equal(profileSum);
    expect((await p.result<string[]>('starts')).sort()).to.deep.equal(['worker-1', 'worker-2']);
    expect(await p.result('frames')).to.deep.equal(Array.from({ length: FRAMES }, (_, f) => f));

    // the original 0.1 notebook: a list of matches, numpy arrays as numpy arrays
    const script = String.raw`
import json, pickle, sys, requests
base = sys.argv[1]
whole = pickle.loads(requests.get(base + "/api/v1/result/$").content)
profile = whole[0]["profile_sum"]
image = pickle.loads(requests.get(base + "/api/v1/result/last_image").content)[0]
misc = whole[0]["misc"]
print(json.dumps({"matches": len(whole), "profile": [type(profile).__name__, str(profile.dtype), profile.tolist()],
  "image": [str(image.dtype), list(image.shape)], "misc": repr(misc)}))
`;
    const { stdout } = await run(PYTHON, ['-c', script, p.reducer]);
    const got = JSON.parse(stdout);
    expect(got.matches).to.equal(1);
    expect(got.profile).to.deep.equal(['ndarray', 'int64', profileSum]);
    expect(got.image).to.deep.equal(['uint16', SHAPE]);
    // tuples travel as lists; numpy scalars as numbers; a 1-D int16 array stays an array
    expect(got.misc).to.equal("[1, 2.5, 'three', b'four', None, [0.5], {'nested': array([0, 1, 2], dtype=int16)}]");

    // HDF5 REST, as h5pyd reads it: the root's links, a dataset's shape and type, its bytes
    const root = await (await fetch(`${p.reducer}/groups/g-h5dict-2F/links`)).json() as { links: { title: string; collection: string; id: string }[] };
    const links = Object.fromEntries(root.links.map((l) => [l.title, l]));
    expect(links.roi.collection).to.equal('groups');
    expect(links.profile_sum.collection).to.equal('datasets');
    expect(links).to.not.have.property('roi_attrs');
    const dataset = await (await fetch(`${p.reducer}/datasets/${links.profile_sum.id}`)).json() as Record<string, unknown>;
    expect(dataset.shape).to.deep.equal({ class: 'H5S_SIMPLE', dims: [SHAPE[1]] });
    expect(dataset.type).to.deep.equal({ class: 'H5T_INTEGER', base: 'H5T_STD_I64LE' });
    const bytes = Buffer.from(await (await fetch(`${p.reducer}/datasets/${links.profile_sum.id}/value?select=[2:5]`)).arrayBuffer());
    expect(Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, 3), Number)).to.deep.equal(profileSum.slice(2, 5));
    const attributes = await (await fetch(`${p.reducer}/groups/${links.roi.id}/attributes/units`)).json() as Record<string, unknown>;
    expect(attributes.value).to.equal('counts');
  });

  it('sends a Python worker\'s numpy results to a TypeScript reducer; failures are counted per event and the scan completes', async function () {
    const p = await start([{ class: `${ROI}:RoiWorker`, count: 1 }], { class: `${COLLECT}:CollectReducer` }, { mode: 'raise' });
    await p.setSequence(uniformSequence(['det'], 4));
    await source!.play({ frames: 4, shape: SHAPE, compression: 'lz4' });
    // the failed event is counted as failed, not completed (the exact accounting of issue 10)
    expect(await p.waitForFinish()).to.deep.include({ completed_events: 5, failed_events: 1, finished: true });
    const response = await fetch(`${p.reducer}/api/v1/result/results?single=true&format=cbor`);
    const { decodeCbor } = await import('../src/reducer/results/cbor.js');
    const collected = decodeCbor(Buffer.from(await response.arrayBuffer())) as Record<string, Record<string, unknown>[]>;
    expect(Object.keys(collected).sort()).to.deep.equal(['0', '1', '2', '4']);
    const first = collected['2'][0] as { image: { data: Uint16Array; shape: number[]; dtype: string }; profile: { data: Uint32Array; dtype: string }; misc: unknown[] };
    expect(first.image.dtype).to.equal('uint16');
    expect(first.image.shape).to.deep.equal(SHAPE);
    expect(Array.from(first.image.data)).to.deep.equal(expected(1).image);
    expect(first.profile.dtype).to.equal('uint32');
    expect(Array.from(first.profile.data)).to.deep.equal(expected(1).profile);
    expect(first.misc.slice(0, 5)).to.deep.equal([1, 2.5, 'three', Buffer.from('four'), null]);
    const status = await p.api<{ failed_reasons: unknown }>('/api/v1/status');
    expect(JSON.stringify(status.failed_reasons)).to.match(/ValueError: frame 2 refused \(stins_roi\.py:\d+ in process_event\)/);
  });

  it('fails an event whose result cannot be encoded, with the reason', async function () {
    const p = await start([{ class: `${ROI}:RoiWorker`, count: 1 }], { class: `${COLLECT}:CollectReducer` }, { mode: 'opaque' });
    await p.setSequence(uniformSequence(['det'], 3));
    await source!.play({ frames: 3, shape: SHAPE });
    expect(await p.waitForFinish()).to.deep.include({ completed_events: 4, failed_events: 1, finished: true });
    const status = await p.api<{ failed_reasons: unknown }>('/api/v1/status');
    expect(JSON.stringify(status.failed_reasons)).to.match(/result cannot be encoded: cannot encode a builtins\.object/);
    expect(Object.keys(await p.result<Record<string, unknown>>('results')).sort()).to.deep.equal(['0', '1', '3']);
  });

  it('gives tick=True to at most one event per interval across the workers', async function () {
    const p = await start([{ class: `${ROI}:RoiWorker`, count: 2 }], { class: `${ROI}:RoiReducer` }, { tick_ms: 400 });
    await p.setSequence(uniformSequence(['det'], 30));
    const started = Date.now();
    await source!.play({ frames: 30, shape: SHAPE, rate: 25 });
    await p.waitForFinish();
    const seconds = (Date.now() - started) / 1000;
    const ticks = await p.result<number>('ticks');
    expect(ticks).to.be.at.least(1);
    expect(ticks).to.be.at.most(Math.floor(seconds / 0.4) + 1);
  });

  it('ends the worker process with a clear error when its Python process dies', async function () {
    const p = await start([{ class: `${ROI}:RoiWorker`, count: 1 }], { class: `${COLLECT}:CollectReducer` }, { mode: 'crash' });
    await p.setSequence(uniformSequence(['det'], 6));
    await source!.play({ frames: 6, shape: SHAPE });
    await waitFor('the worker to report its Python host dead', async () => /the Python worker host \(pid \d+\) exited with code 3/.test(p.output.join('')));
  });

  it('maps a live Contrast + Xspress3-mini scan with the Python middlewares (pickles, spectra) and a Python reducer', async function () {
    const scan = await captureMessages(fixture(this, 'contrast-dump.cbors'));
    const spectra = await captureMessages(fixture(this, 'xspress3mini-dump20.cbors'));
    const players: ZmqPlayer[] = [await bindZmqPlayer('zmq-sub', 'tcp://127.0.0.1:0'), await bindZmqPlayer('zmq-sub', 'tcp://127.0.0.1:0')];
    try {
      pipeline = await startPipeline({
        ingesters: [
          { name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: players[0].endpoint }] },
          { name: 'xspress3-ingester', streams: [{ name: 'xspress3', protocol: 'xspress3', upstream: players[1].endpoint }] },
        ],
        workers: [{ class: `${PACKETS}:PacketWorker`, count: 2 }], reducer: { class: `${PACKETS}:FluorescenceReducer` },
      }, { ingesters: 2, workers: 2 });
      await setSequenceAndWait(pipeline, uniformSequence(['contrast', 'xspress3'], 20));
      await Promise.all([players[0].play(scan, { warmup: 3, rate: 1000 }), players[1].play(spectra, { warmup: 3, rate: 1000 })]);
      expect(await pipeline.waitForFinish()).to.deep.include({ last_assigned: 22, completed_events: 22, total_events: 22, finished: true });
      const map = await pipeline.result<{ x: Record<string, number>; y: Record<string, number>; roi1: Record<string, number> }>('map');
      const events = Array.from({ length: 20 }, (_, i) => String(i + 1));
      expect(events.map((e) => map.roi1[e])).to.deep.equal([81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91, 81, 76, 67, 49, 69, 97, 75, 58, 81]);
      expect(events.map((e) => [map.x[e], map.y[e]])).to.deep.equal(CONTRAST_DUMP_XY);
    } finally {
      for (const player of players) player.close();
    }
  });
});
