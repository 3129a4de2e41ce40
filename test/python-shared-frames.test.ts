/**
 * A Python worker's event frames through shared memory (src/python/shared-frames.ts,
 * python/dranspose/host/shared.py) with the real payload host: frames arrive intact whatever their
 * sizes and numbers; an event larger than a slot goes over the zmq lane; a payload that keeps frames
 * or numpy views of them sees them unchanged across many events, and when it keeps every slot the
 * events go over zmq and none is lost; `DRANSPOSE_NATIVE=0` keeps every frame on zmq; and a whole
 * pipeline. (A host that dies with slots in hand: python-payloads.test.ts.)
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { loadNativeAddon } from '../src/core/compression/native.js';
import { PYTHON_SHARED_SLOT_BYTES, PYTHON_SHARED_SLOTS } from '../src/core/defaults.js';
import { EncodedResult } from '../src/core/encoded-result.js';
import { loadWorkerClass } from '../src/core/loader.js';
import { createLogger } from '../src/core/logging.js';
import type { WorkerInstance } from '../src/core/types.js';
import { emulatedImage } from '../src/protocols/stins/emulator.js';
import { closeAllHosts } from '../src/python/host.js';
import { SharedFrames } from '../src/python/shared-frames.js';
import { decodeCbor } from '../src/reducer/results/cbor.js';
import { ROOT, startPipeline, uniformSequence, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';

const PAYLOAD = join(ROOT, 'test/payloads/python/shared_frames.py');
const COLLECT = join(ROOT, 'test/payloads/collect.ts');
const loaded = loadNativeAddon();

/** what test/payloads/python/shared_frames.py reports of an event */
interface Report { types: string[]; lengths: number[]; crcs: number[]; bytes_crcs: number[]; changed: number }

async function pythonWorker(name: string): Promise<WorkerInstance> {
  const workerClass = await loadWorkerClass(`${PAYLOAD}:${name}`);
  return new workerClass({ parameters: {}, state: {}, logger: createLogger('test'), name: 'test-worker' });
}

/** each event's frames as one stream, up to 4 events in flight (as a worker runs a Python class) */
async function send(worker: WorkerInstance, events: Buffer[][]): Promise<Report[]> {
  const reports: Promise<Report>[] = [];
  const inFlight: Promise<unknown>[] = [];
  for (const [i, frames] of events.entries()) {
    const report = Promise.resolve(worker.processEvent({ eventNumber: i + 1, streams: { det: { typ: 'raw', frames } } }, {}))
      .then((result) => decodeCbor((result as EncodedResult).body) as Report);
    reports.push(report);
    inFlight.push(report);
    if (inFlight.length === 4) await inFlight.shift();
  }
  return await Promise.all(reports);
}

function expectIntact(report: Report, frames: Buffer[], how: string, what: string): void {
  expect(report.types, what).to.deep.equal(frames.map(() => how));
  expect(report.lengths, what).to.deep.equal(frames.map((frame) => frame.length));
  expect(report.crcs, what).to.deep.equal(frames.map((frame) => crc32(frame)));
  expect(report.bytes_crcs, what).to.deep.equal(frames.map((frame) => crc32(frame)));
}

const sizes = (...lengths: number[]) => lengths.map((length) => randomBytes(length));

describe('Python worker frames through shared memory', function () {
  this.timeout(60_000);

  before(function () {
    if (!loaded.addon) {
      console.log(`      skipped: ${loaded.reason}`);
      this.skip();
    }
  });

  afterEach(() => closeAllHosts());

  it('hands over frames of any size and number intact; an event larger than a slot goes over zmq', async function () {
    const worker = await pythonWorker('FrameWorker');
    const shared = [
      sizes(0, 1, 100, 512 * 1024, 3),
      sizes(...Array.from({ length: 300 }, (_, i) => (i * 7919) % 5000)),
      sizes(PYTHON_SHARED_SLOT_BYTES),
      sizes(PYTHON_SHARED_SLOT_BYTES / 2 - 64, PYTHON_SHARED_SLOT_BYTES / 2),
    ];
    const overSlot = [sizes(PYTHON_SHARED_SLOT_BYTES + 1), sizes(PYTHON_SHARED_SLOT_BYTES / 2, PYTHON_SHARED_SLOT_BYTES / 2 + 1), sizes(10, PYTHON_SHARED_SLOT_BYTES)];
    const reports = await send(worker, [...shared, ...overSlot, ...shared]);
    [...shared, ...overSlot, ...shared].forEach((frames, i) => {
      expectIntact(reports[i], frames, overSlot.includes(frames) ? 'Frame' : 'SharedFrame', `event ${i + 1}`);
    });
  });

  it('never overwrites frames or views a payload keeps; slots it lets go of are used again', async function () {
    const worker = await pythonWorker('KeepRecent');
    const events = Array.from({ length: 120 }, (_, i) => sizes(20 + i, 256 * 1024 + i));
    const reports = await send(worker, events);
    reports.forEach((report, i) => expectIntact(report, events[i], 'SharedFrame', `event ${i + 1}`));
    expect(reports.map((report) => report.changed)).to.deep.equal(events.map(() => 0));
  });

  it('sends events over zmq when a payload keeps every slot, and loses none', async function () {
    const worker = await pythonWorker('KeepEverything');
    const events = Array.from({ length: 3 * PYTHON_SHARED_SLOTS }, (_, i) => sizes(20 + i, 64 * 1024 + i));
    const reports = await send(worker, events);
    reports.forEach((report, i) => expectIntact(report, events[i], i < PYTHON_SHARED_SLOTS ? 'SharedFrame' : 'Frame', `event ${i + 1}`));
    expect(reports.map((report) => report.changed)).to.deep.equal(events.map(() => 0));
  });

  it('keeps frames on zmq with DRANSPOSE_NATIVE=0', async function () {
    const saved = process.env.DRANSPOSE_NATIVE;
    process.env.DRANSPOSE_NATIVE = '0';
    try {
      const worker = await pythonWorker('FrameWorker');
      const events = [sizes(10, 512 * 1024), sizes(0, 1)];
      (await send(worker, events)).forEach((report, i) => expectIntact(report, events[i], 'Frame', `event ${i + 1}`));
    } finally {
      if (saved === undefined) delete process.env.DRANSPOSE_NATIVE;
      else process.env.DRANSPOSE_NATIVE = saved;
    }
  });

  it('refuses a reply that frees a slot the host did not have', function () {
    const { shared } = SharedFrames.open({}, 2, 4096);
    expect(shared!.place([Buffer.from('frame')])?.slot).to.equal(0);
    expect(() => shared!.release([1])).to.throw(/freed slots it did not have: \[1\]/);
    expect(() => shared!.release([0, 0])).to.throw(/freed slots it did not have/);
    shared!.release([0]);
    expect(shared!.freeSlots).to.equal(2);
  });

  describe('in a pipeline', function () {
    let pipeline: TestPipeline | undefined;
    let source: StinsSource | undefined;

    afterEach(async () => {
      await pipeline?.stop();
      source?.close();
    });

    it('gives two Python workers STINS images through shared memory, intact, kept ones unchanged', async function () {
      const shape = [256, 256];
      const frames = 40;
      source = await StinsSource.bind();
      pipeline = await startPipeline({
        ingesters: [{ name: 'det-ingester', streams: [{ name: 'det', protocol: 'stins', upstream: source.endpoint }] }],
        workers: [{ class: `${PAYLOAD}:KeepRecent`, count: 2 }], reducer: { class: `${COLLECT}:CollectReducer` },
      }, { ingesters: 1, workers: 2 });
      await pipeline.setSequence(uniformSequence(['det'], frames));
      await source.play({ frames, shape });
      expect(await pipeline.waitForFinish()).to.deep.include({ completed_events: frames + 2, finished: true });
      const results = await pipeline.result<Record<string, Report[]>>('results');
      expect(Object.keys(results)).to.have.length(frames + 2);
      for (let f = 0; f < frames; f++) {
        const [report] = results[f + 1];
        const image = emulatedImage({ frames, shape }, f).data as Uint16Array;
        expect(report.types, `image ${f}`).to.deep.equal(['SharedFrame', 'SharedFrame']);
        expect(report.crcs[1], `image ${f}`).to.equal(crc32(new Uint8Array(image.buffer, image.byteOffset, image.byteLength)));
        expect(report.changed, `image ${f}`).to.equal(0);
      }
    });
  });
});
