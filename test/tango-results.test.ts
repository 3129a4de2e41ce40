/**
 * Live results back into the control system: the values of the reducer's `publish` declared in
 * `tango.results` are attributes of the pipeline's Tango device, read by a PyTango DeviceProxy as a
 * Sardana macro would between points (`DeviceProxy(dev).com_x`), with change events a Taurus trend
 * follows, pushed when the value changes and no faster than the bridge polls; a path that selects
 * nothing, or a value of another shape, reads with quality ATTR_INVALID, never an exception.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, freePort, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { EventLog, changes, python } from './helpers/tango.js';

const ECHO = join(ROOT, 'test/payloads/echo.ts');
const RESULTS = join(ROOT, 'test/payloads/live-results.ts');
const RESULT_ATTRIBUTES = ['com_x', 'roi_last', 'spectrum', 'picture', 'missing', 'wrong_shape'];

describe('Live results as Tango attributes (dranspose run with tango.results)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let source: StinsSource;
  let proxyUrl = '';

  async function scan(frames: number, rate = 0): Promise<void> {
    await pipeline.setSequence(uniformSequence(['eiger'], frames));
    await source.play({ frames, shape: [4, 4], rate });
    await pipeline.waitForFinish();
  }

  before(async () => {
    source = await StinsSource.bind();
    const tangoPort = await freePort();
    const device = `test/results/t${randomUUID().slice(0, 8)}`;
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${ECHO}:EchoWorker`, count: 1 }],
      reducer: { class: `${RESULTS}:LiveResultReducer` },
      tango: {
        device, port: tangoPort, host: '127.0.0.1',
        results: {
          com_x: '$.com.x', roi_last: '$.roi_sum[-1]', spectrum: '$.mean_spectrum',
          picture: { path: '$.image', format: 'image' },
          missing: { path: '$.nothing', format: 'scalar' },
          wrong_shape: { path: '$.image', format: 'spectrum' },
        },
      },
    }, { ingesters: 1, workers: 1 });
    proxyUrl = `tango://127.0.0.1:${tangoPort}/${device}#dbase=no`;
    await scan(3);
    await waitFor(`the bridge with every result attribute\n${pipeline.output.join('')}`, async () => {
      const names = await python<string[]>('print(json.dumps(list(dp.get_attribute_list())))', [proxyUrl]);
      return RESULT_ATTRIBUTES.every((n) => names.includes(n));
    }, 40_000, 300);
  });

  after(async () => {
    await pipeline?.stop();
    source?.close();
  });

  it('reads scalars, a spectrum and an image; INVALID where the path selects nothing or the shape differs', async () => {
    const read = await waitFor('the values of the scan', async () => {
      const values = await python<Record<string, { value: unknown; quality: string; format: string }>>(`
out = {}
for name in ${JSON.stringify(RESULT_ATTRIBUTES)}:
    a = dp.read_attribute(name)
    out[name] = {"value": plain(a.value), "quality": str(a.quality), "format": str(a.data_format)}
print(json.dumps(out))`, [proxyUrl]);
      return values.roi_last?.value === 40 ? values : undefined;
    }, 10_000, 200);
    expect(read).to.deep.equal({
      com_x: { value: 2, quality: 'ATTR_VALID', format: 'SCALAR' },
      roi_last: { value: 40, quality: 'ATTR_VALID', format: 'SCALAR' },
      spectrum: { value: [4, 5, 6, 7], quality: 'ATTR_VALID', format: 'SPECTRUM' },
      picture: { value: [[4, 5, 6], [7, 8, 9]], quality: 'ATTR_VALID', format: 'IMAGE' },
      missing: { value: null, quality: 'ATTR_INVALID', format: 'SCALAR' },
      wrong_shape: { value: null, quality: 'ATTR_INVALID', format: 'SPECTRUM' },
    });
    // as a Sardana macro reads it between points
    expect(await python<number>('print(json.dumps(tango.DeviceProxy(sys.argv[1]).com_x))', [proxyUrl])).to.equal(2);
  });

  it('pushes change events as the results change, rate-limited to the poll, INVALID ones with their quality', async () => {
    const log = await EventLog.start(proxyUrl, ['com_x', 'roi_last', 'missing']);
    try {
      await log.until('the current values', () => log.of('com_x').length > 0 && log.of('missing').length > 0);
      expect(log.of('missing')[0]).to.include({ quality: 'ATTR_INVALID' });
      const startedAt = Date.now();
      await scan(60, 100);
      const seconds = (Date.now() - startedAt) / 1000;
      // 60 data events and the start and end events: the last is event 61
      await log.until('the last com_x', () => log.of('com_x').at(-1)?.value === 30.5);
      await log.until('the last roi_last', () => log.of('roi_last').at(-1)?.value === 610);
      const seen = changes(log.of('com_x'));
      expect(seen.length, `com_x changes seen: ${JSON.stringify(seen)}`).to.be.at.least(3);
      expect(seen.length, 'no faster than the bridge polls (4 per second)').to.be.at.most(Math.ceil(seconds * 4) + 3);
      expect(seen.slice(1).every((v, i) => Number(v) !== Number(seen[i]))).to.equal(true);
      expect(log.errors()).to.deep.equal([]);
    } finally {
      await log.stop();
    }
  });
});
