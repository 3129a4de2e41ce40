/**
 * `dranspose source` plays real captures as live upstreams into a pipeline; the reducer's result
 * must equal the offline `dranspose replay` of the same files.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, freePort, replayResult, startPipeline, uniformSequence, type TestPipeline, completeScan } from './helpers/pipeline.js';
import { fixture } from './helpers/fixtures.js';
import { StinsSource } from './helpers/stins-source.js';
import { captureMessages } from './helpers/upstream-harness.js';
import { stinsSeriesMessages } from '../src/protocols/stins/emulator.js';
import { bindTcpPlayer } from '../src/protocols/player.js';
import { pandaCapture } from '../src/protocols/positioncap/emulator.js';
import { run } from './helpers/process.js';

const FLUORESCENCE = join(ROOT, 'test/payloads/fluorescence.ts');
const PACKETS = join(ROOT, 'test/payloads/packets.ts');

interface Published { events: Record<string, { streams: unknown }[]>; totals: Record<string, Record<string, number>> }

/** `dranspose source` as a user runs it: no protocol given, it is found from the capture; resolves to its stderr */
async function playSource(file: string, port: number): Promise<string> {
  const { stderr } = await run(process.execPath, [BIN, 'source', '--file', file, '--bind', `tcp://127.0.0.1:${port}`, '--rate', '500']);
  return stderr;
}

describe('dranspose source', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });

  describe('Contrast + Xspress3-mini', () => {
    it('played live give the same map as the offline replay', async function () {
      const contrastFile = fixture(this, 'contrast-dump.cbors');
      const xspressFile = fixture(this, 'xspress3mini-dump20.cbors');
      const [contrastPort, xspressPort] = [await freePort(), await freePort()];
      pipeline = await startPipeline({
        ingesters: [
          { name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: `tcp://127.0.0.1:${contrastPort}` }] },
          { name: 'xspress3-ingester', streams: [{ name: 'xspress3', protocol: 'xspress3', upstream: `tcp://127.0.0.1:${xspressPort}` }] },
        ],
        workers: [{ class: `${FLUORESCENCE}:FluorescenceWorker`, count: 2 }],
        reducer: { class: `${FLUORESCENCE}:FluorescenceReducer` },
        parameters: { roi1: '[0,10]' },
      }, { ingesters: 2, workers: 2 });
      await pipeline.setSequence(uniformSequence(['contrast', 'xspress3'], 20));
      const [contrastLog] = await Promise.all([playSource(contrastFile, contrastPort), playSource(xspressFile, xspressPort)]);
      expect(contrastLog).to.contain('as contrast (PUB)');
      expect(await pipeline.waitForFinish(60_000)).to.deep.equal(completeScan(22));
      const live = await pipeline.result<{ map: unknown }>('$');

      const offline = await replayResult<{ map: unknown }>(['-w', `${FLUORESCENCE}:FluorescenceWorker`, '-r', `${FLUORESCENCE}:FluorescenceReducer`,
        '-f', `contrast=contrast:${contrastFile}`, '-f', `xspress3=xspress3:${xspressFile}`]);
      expect((live.map as { data: { roi1: number[] } }).data.roi1).to.deep.equal([81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91, 81, 76, 67, 49, 69, 97, 75, 58, 81]);
      expect(live.map).to.deep.equal(offline.map);
    });
  });

  describe('PandABox PCAP', () => {
    it('pcap-zmq.cbors played live gives the same rows and energy sum as the offline replay', async function () {
      const file = fixture(this, 'pcap-zmq.cbors');
      const port = await freePort();
      pipeline = await startPipeline({
        ingesters: [{ name: 'panda-ingester', streams: [{ name: 'pcap', protocol: 'pcap', upstream: `tcp://127.0.0.1:${port}` }] }],
        workers: [{ class: `${PACKETS}:PacketWorker`, count: 2 }],
        reducer: { class: `${PACKETS}:PacketReducer` },
      }, { ingesters: 1, workers: 2 });
      await pipeline.setSequence(uniformSequence(['pcap'], 1500));
      expect(await playSource(file, port)).to.contain('as pcap (PUB)');
      expect(await pipeline.waitForFinish(60_000)).to.include({ completed_events: 1502, total_events: 1502, finished: true });
      const live = await pipeline.result<Published>('$');

      const offline = await replayResult<Published>(['-w', `${PACKETS}:PacketWorker`, '-r', `${PACKETS}:PacketReducer`, '-f', `pcap=pcap:${file}`]);
      // the same packets per event, whichever worker took them
      const rows = (p: Published) => Object.fromEntries(Object.entries(p.events).map(([e, results]) => [e, results.map((r) => JSON.stringify(r.streams)).sort()]));
      expect(Object.keys(live.events)).to.have.length(1502);
      expect(rows(live)).to.deep.equal(rows(offline));
      expect(live.totals.pcap.energy).to.be.closeTo(offline.totals.pcap.energy, 1e-6);
      expect(live.totals.pcap.energy).to.be.closeTo(13543500.21688024, 1e-6);
    });
  });

  describe('of a dranspose capture over TCP (PandA position capture)', () => {
    it('records a PandA capture port and plays it back into a live pipeline', async () => {
      const panda = await bindTcpPlayer('tcp://127.0.0.1:0');
      const file = join(mkdtempSync(join(tmpdir(), 'capture-')), 'panda.cbors');
      const capturing = run(process.execPath, [BIN, 'capture', '--type', 'positioncap', '--connect', panda.endpoint, '-o', file]);
      await panda.play(pandaCapture({ samples: 4 }), { end: true });
      await capturing;
      await panda.close();
      const lines = (await captureMessages(file)).map((message) => message[0].toString());
      expect(lines[0]).to.match(/^arm_time: /);
      expect(lines.at(-1)).to.match(/^END /);
      expect(lines.join('')).to.equal([...pandaCapture({ samples: 4 })].join(''));

      const port = await freePort();
      pipeline = await startPipeline({
        ingesters: [{ name: 'panda-ingester', streams: [{ name: 'panda', protocol: 'positioncap', upstream: `tcp://127.0.0.1:${port}` }] }],
        workers: [{ class: `${PACKETS}:PacketWorker`, count: 1 }],
        reducer: { class: `${PACKETS}:PacketReducer` },
      }, { ingesters: 1, workers: 1 });
      await pipeline.setSequence(uniformSequence(['panda'], 4));
      expect(await playSource(file, port)).to.contain('as positioncap (TCP capture port)');
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(6));
    });
  });
});

describe('dranspose capture', function () {
  this.timeout(60_000);

  it('records a live upstream as a raw capture that reads back message for message', async () => {
    const detector = await StinsSource.bind();
    const file = join(mkdtempSync(join(tmpdir(), 'capture-')), 'stins.cbors');
    try {
      const capturing = run(process.execPath, [BIN, 'capture', '--type', 'stins', '--connect', detector.endpoint, '-o', file, '--count', '7']);
      const series = { frames: 5, shape: [4, 4] };
      await detector.play(series);
      const { stderr } = await capturing;
      expect(stderr).to.contain('7 messages written');
      const recorded = await captureMessages(file);
      expect(recorded).to.deep.equal(stinsSeriesMessages(series));
      expect(JSON.parse(recorded[0][0].toString()).htype).to.equal('header');
    } finally {
      detector.close();
    }
  });
});
