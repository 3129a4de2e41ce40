/**
 * The original's best end-to-end fixture (protocols.md §5 A): a real Contrast mesh scan and the
 * real Xspress3-mini spectra of it, played live into two SUB ingesters, mapped by a worker into a
 * fluorescence map.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { xspress3 } from '../src/protocols/xspress3/index.js';
import { bindZmqPlayer, type ZmqPlayer } from '../src/protocols/player.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, startPipeline, uniformSequence, type TestPipeline, completeScan } from './helpers/pipeline.js';
import { captureMessages, CONTRAST_DUMP_XY, scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';

const PAYLOAD = join(ROOT, 'test/payloads/fluorescence.ts');
const PLAY = { warmup: 3, rate: 1000 };

interface FluorescenceMap { x: number[]; y: number[]; data: { roi1: number[] } }

describe('fluorescence map from Contrast + Xspress3-mini (live)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline | undefined;
  const players: ZmqPlayer[] = [];
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    for (const p of players.splice(0)) p.close();
  });

  async function start(): Promise<{ contrast: ZmqPlayer; spectra: ZmqPlayer }> {
    const contrast = await bindZmqPlayer('zmq-sub', 'tcp://127.0.0.1:0');
    const spectra = await bindZmqPlayer('zmq-sub', 'tcp://127.0.0.1:0');
    players.push(contrast, spectra);
    pipeline = await startPipeline({
      ingesters: [
        { name: 'contrast-ingester', streams: [{ name: 'contrast', protocol: 'contrast', upstream: contrast.endpoint }] },
        { name: 'xspress3-ingester', streams: [{ name: 'xspress3', protocol: 'xspress3', upstream: spectra.endpoint }] },
      ],
      workers: [{ class: `${PAYLOAD}:FluorescenceWorker`, count: 2 }],
      reducer: { class: `${PAYLOAD}:FluorescenceReducer` },
    }, { ingesters: 2, workers: 2 });
    return { contrast, spectra };
  }

  async function setRoi(roi: string): Promise<void> {
    const response = await pipeline!.post('/api/v1/parameter/roi1', roi);
    expect(response.status, await response.clone().text()).to.equal(200);
  }

  it('20 triggers: 22 events, x/y of the 20 points and roi1 of the last channel, in order', async function () {
    const scan = await captureMessages(fixture(this, 'contrast-dump.cbors'));
    const spectra = await captureMessages(fixture(this, 'xspress3mini-dump20.cbors'));
    const players = await start();
    await setRoi('[0,10]');
    await setSequenceAndWait(pipeline!, uniformSequence(['contrast', 'xspress3'], 20));
    await Promise.all([players.contrast.play(scan, PLAY), players.spectra.play(spectra, PLAY)]);
    expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(22));
    const map = await pipeline!.result<FluorescenceMap>('map');
    expect(map.data.roi1).to.deep.equal([81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91, 81, 76, 67, 49, 69, 97, 75, 58, 81]);
    expect(map.x).to.deep.equal(CONTRAST_DUMP_XY.map(([x]) => x));
    expect(map.y).to.deep.equal(CONTRAST_DUMP_XY.map(([, y]) => y));
    const { bad, skipped } = await scanProblems(pipeline!);
    expect(bad, 'nothing is bad').to.deep.equal([]);
    expect(skipped.every((b) => b.event === 0 && b.reason.includes('before the start message')), 'the warm-up messages are skipped').to.equal(true);
  });

  it('a second scan discards a series without header, then maps the full one with a new roi', async function () {
    const scan = await captureMessages(fixture(this, 'contrast-dump.cbors'));
    const spectra = await captureMessages(fixture(this, 'xspress3mini-dump20.cbors'));
    // bins 0…4 of the last channel of the first 20 images, as the parser reads them
    const { events } = await scanMessages(xspress3, spectra);
    const expected = events.slice(1, 21).map((e) => {
      const packet = xspress3.parse(e);
      if (packet.kind !== 'image') throw new Error('not an image');
      return (packet.spectra.data.subarray(4096, 4101) as Uint32Array).reduce((a, b) => a + b, 0);
    });
    const players = await start();
    await setRoi('[0,10]');
    await setSequenceAndWait(pipeline!, uniformSequence(['contrast', 'xspress3'], 20));
    await Promise.all([players.contrast.play(scan, PLAY), players.spectra.play(spectra, PLAY)]);
    await pipeline!.waitForFinish();

    await setRoi('[0,5]');
    await setSequenceAndWait(pipeline!, uniformSequence(['contrast', 'xspress3'], 20));
    await players.spectra.play(spectra.slice(10), PLAY);
    await Promise.all([players.contrast.play(scan, PLAY), players.spectra.play(spectra, PLAY)]);
    expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(22));
    const map = await pipeline!.result<FluorescenceMap>('map');
    expect(map.data.roi1).to.deep.equal(expected);
    expect(map.data.roi1).to.not.deep.equal([81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91, 81, 76, 67, 49, 69, 97, 75, 58, 81]);
    expect(map.x).to.deep.equal(CONTRAST_DUMP_XY.map(([x]) => x));
    const { skipped } = await scanProblems(pipeline!);
    const headless = skipped.filter((b) => b.component === 'ingester:xspress3-ingester/xspress3');
    expect(headless.length, 'the 58 messages of the series without header, and warm-ups').to.be.at.least(58);
    expect(headless.every((b) => b.event === 0 && b.reason.includes('before the start message'))).to.equal(true);
  });
});
