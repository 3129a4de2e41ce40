/**
 * `dranspose source --emulate` feeds a live pipeline without hardware, and `dranspose source --file`
 * plays an ingester dump as well as a raw capture.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, freePort, startPipeline, uniformSequence, type TestPipeline } from './helpers/pipeline.js';
import { run } from './helpers/process.js';
import { scanMessages, setSequenceAndWait } from './helpers/upstream-harness.js';
import { emulatedScan } from '../src/protocols/emulate.js';
import { loadProtocol, protocolNames } from '../src/protocols/index.js';
import { roiSums } from './helpers/stins-source.js';
import { DumpWriter } from '../src/core/capture/index.js';

const ROI = join(ROOT, 'examples/roi/roi.ts');

/** `dranspose source ARGS`, to its end; its stderr */
async function source(...args: string[]): Promise<string> {
  return (await run(process.execPath, [BIN, 'source', ...args], { timeout: 60_000 })).stderr;
}

describe('protocol emulators', () => {
  it('every protocol has one, and its ingester reads a scan of start, the data messages and end from it', async () => {
    for (const name of protocolNames()) {
      const protocol = await loadProtocol(name);
      const messages = [...await emulatedScan(name, { frames: 4 })];
      const { events, bad } = await scanMessages(protocol, messages);
      expect(bad, name).to.deep.equal([]);
      expect(events, name).to.have.length(6);
      for (const event of events) expect(() => protocol.parse(event), name).to.not.throw();
    }
  });

  it('refuses a shape the protocol does not take, with what it takes', async () => {
    await emulatedScan('pcap', { frames: 3, shape: [2, 2] }).then(() => expect.fail('accepted'), (e) => expect(e.message).to.contain('takes no --shape'));
    await emulatedScan('xspress3', { frames: 3, shape: [2] }).then(() => expect.fail('accepted'), (e) => expect(e.message).to.contain('channels,bins'));
    await emulatedScan('nope', { frames: 3 }).then(() => expect.fail('accepted'), (e) => expect(e.message).to.contain('known: stins'));
  });
});

describe('dranspose source', function () {
  this.timeout(180_000);
  let pipeline: TestPipeline | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });

  it('--emulate stins feeds a live scan, and the ingester dump of that scan plays the same scan again', async () => {
    const frames = 40;
    const shape = [32, 24];
    const port = await freePort();
    const dump = join(mkdtempSync(join(tmpdir(), 'source-dump-')), 'detector.cbors');
    pipeline = await startPipeline({
      ingesters: [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: `tcp://127.0.0.1:${port}` }], dump }],
      workers: [{ class: `${ROI}:RoiWorker`, count: 2 }],
      reducer: { class: `${ROI}:RoiReducer` },
    }, { ingesters: 1, workers: 2 });
    await setSequenceAndWait(pipeline, uniformSequence(['detector'], frames));
    const log = await source('--emulate', 'stins', '--frames', String(frames), '--shape', shape.join(','), '--bind', `tcp://127.0.0.1:${port}`, '--rate', '400');
    expect(log).to.contain('as stins (PUSH)').and.contain(`sent ${frames + 2} messages`);
    expect(await pipeline.waitForFinish(60_000)).to.include({ completed_events: frames + 2, finished: true });
    const expected = roiSums(frames, shape);
    expect((await pipeline.result<{ roi_sum: number[] }>('$')).roi_sum).to.deep.equal(expected);

    await setSequenceAndWait(pipeline, uniformSequence(['detector'], frames));
    expect(await source('--file', dump, '--bind', `tcp://127.0.0.1:${port}`)).to.contain(`stream detector of ${dump} as stins (PUSH)`);
    expect(await pipeline.waitForFinish(60_000)).to.include({ completed_events: frames + 2, finished: true });
    expect((await pipeline.result<{ roi_sum: number[] }>('$')).roi_sum).to.deep.equal(expected);
  });

  it('--emulate contrast publishes a scan on PUB that a SUB ingester reads to its end', async () => {
    const port = await freePort();
    pipeline = await startPipeline({
      ingesters: [{ name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: `tcp://127.0.0.1:${port}` }] }],
      workers: [{ count: 1 }],
    }, { ingesters: 1, workers: 1 });
    await setSequenceAndWait(pipeline, uniformSequence(['contrast'], 12));
    expect(await source('--emulate', 'contrast', '--shape', '3,4', '--bind', `tcp://127.0.0.1:${port}`, '--rate', '200')).to.contain('as contrast (PUB)');
    expect(await pipeline.waitForFinish(60_000)).to.include({ last_assigned: 14, completed_events: 14, total_events: 14, finished: true, outcome: 'complete' });
  });

  it('refuses the dump of a protocol whose ingester regroups messages, naming the way out', async () => {
    const lecroy = await loadProtocol('lecroy');
    const { events } = await scanMessages(lecroy, [...await emulatedScan('lecroy', { frames: 3 })]);
    const file = join(mkdtempSync(join(tmpdir(), 'source-dump-')), 'lecroy.cbors');
    const writer = await DumpWriter.open(file);
    for (const [eventNumber, data] of events.entries()) await writer.write({ eventNumber, streams: { scope: data } });
    await writer.close();
    const error = await source('--file', file, '--bind', 'tcp://127.0.0.1:0').then(() => undefined, (e) => e);
    expect(error?.stderr).to.contain('regroups').and.contain('raw capture');
  });
});
