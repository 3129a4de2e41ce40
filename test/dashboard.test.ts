/** The dashboard in headless Chromium against a live pipeline (`dranspose run`). */
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ROOT, REDIS_URL, deletePrefix, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { openBrowser, type Browser } from './helpers/browser.js';
import { startControllerServer } from '../src/controller/server.js';

const PAYLOAD = join(ROOT, 'test/payloads/dashboard.ts');
const ECHO = join(ROOT, 'test/payloads/echo.ts');
const detector = (source: StinsSource) => [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: source.endpoint }] }];

describe('dashboard (headless Chromium, live pipeline)', function () {
  this.timeout(120_000);
  let source: StinsSource;
  let pipeline: TestPipeline;
  let browser: Browser;

  before(async () => {
    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: detector(source),
      workers: [{ class: `${ECHO}:EchoWorker`, count: 2 }],
      reducer: { class: `${PAYLOAD}:PlotReducer` },
    }, { ingesters: 1, workers: 2 });
    browser = await openBrowser();
  });

  beforeEach(() => { browser.errors.length = 0; });

  after(async () => {
    await browser?.close();
    await pipeline?.stop();
    source?.close();
  });

  /** a scan of `frames` images at `rate` Hz; resolves when the controller saw it finish */
  async function scan(frames: number, rate: number): Promise<void> {
    await pipeline.setSequence(uniformSequence(['detector'], frames));
    await source.play({ frames, shape: [32, 32], rate });
    await pipeline.waitForFinish(60_000);
  }

  it('draws the published series and image and updates them while a scan runs', async () => {
    const { page } = browser;
    await page.goto(`${pipeline.controller}/#results`);
    const frames = 160;
    const running = scan(frames, 40);
    const lengths = new Set<string>();
    const images = new Set<string>();
    await waitFor('the series to grow and the image to change three times each', async () => {
      const length = await page.locator('.panel[data-label="sums"]').getAttribute('data-shape', { timeout: 1000 }).catch(() => null);
      const pixels = await page.evaluate(() => document.querySelector<HTMLCanvasElement>('.panel[data-label="image"] canvas.pixels')?.toDataURL());
      if (length) lengths.add(length);
      if (pixels) images.add(pixels);
      return lengths.size >= 3 && images.size >= 3;
    }, 60_000, 250);
    await running;
    // after the scan: the whole series, drawn from the values the reducer holds
    await waitFor('the plot to show every image', async () => await page.locator('.panel[data-label="sums"]').getAttribute('data-shape') === String(frames));
    expect(await page.locator('.panel[data-label="sums"] .readout').textContent()).to.contain(`${frames} points`);
    expect(await page.locator('.panel[data-label="image"]').getAttribute('data-shape')).to.equal('32x32');
    // the tree shows the scalars inline
    const results = await pipeline.result<number>('results');
    await waitFor('the tree to show the result count', async () => (await page.locator('#result-tree').textContent())?.includes(`results: ${results}`));
    expect(browser.errors).to.deep.equal([]);
  });

  it('sets a parameter from the page, and shows the controller\'s reason for a refused value', async () => {
    const { page } = browser;
    await page.goto(`${pipeline.controller}/#parameters`);
    const label = page.locator('tr[data-parameter="label"]');
    await label.locator('input[data-name="label"]').fill('from the page');
    await label.locator('button[data-set="label"]').click();
    await waitFor('the page to confirm', async () => (await label.locator('.outcome').textContent()) === 'set');
    const stored = await fetch(`${pipeline.controller}/api/v1/parameter/label`).then((r) => r.text());
    expect(stored).to.equal('from the page');
    await waitFor('the new value in the table', async () => (await label.locator('.current').textContent()) === 'from the page');

    const failOn = page.locator('tr[data-parameter="fail_on"]');
    await failOn.locator('input[data-name="fail_on"]').fill('soon');
    await failOn.locator('button[data-set="fail_on"]').click();
    await waitFor('the refusal', async () => (await failOn.locator('.outcome.refused').textContent())?.includes('not an integer'));
    expect(await fetch(`${pipeline.controller}/api/v1/parameter/fail_on`).then((r) => r.text())).to.equal('-1');
    expect(browser.errors.filter((e) => !e.includes('status of 400'))).to.deep.equal([]);
  });

  it('counts a failing worker\'s event in the header and lists its reason', async () => {
    const { page } = browser;
    const hash = JSON.parse(await (await pipeline.post('/api/v1/parameter/fail_on', '5')).text());
    await waitFor('every worker to have the new value', async () => {
      const config = await pipeline.api<{ workers: { parameters_hash: string }[] }>('/api/v1/config');
      return config.workers.every((w) => w.parameters_hash === hash);
    });
    await page.goto(`${pipeline.controller}/#pipeline`);
    await scan(20, 100);
    await waitFor('the failed counter', async () => await page.locator('#count-failed').getAttribute('data-count') === '1');
    await waitFor('the reason', async () => (await page.locator('#problems').textContent())?.includes('asked to fail on event 5'));
    await waitFor('the scan in the history', async () => (await page.locator('#scans').textContent())?.includes('complete with errors'));
    expect(await page.locator('#components').textContent()).to.contain('worker:worker-1');
    await pipeline.post('/api/v1/parameter/fail_on', '-1');
  });

  it('keeps a 1,000,000-point series and a 2048×2048 image light: it fetches strided slices of them', async function () {
    const bigSource = await StinsSource.bind();
    const big = await startPipeline({
      ingesters: detector(bigSource), workers: [{ class: `${ECHO}:EchoWorker`, count: 1 }], reducer: { class: `${PAYLOAD}:BigReducer` },
    }, { ingesters: 1, workers: 1 });
    const { page } = browser;
    const fetched: { url: URL; bytes: number }[] = [];
    page.on('response', async (response) => {
      const url = new URL(response.url());
      if (url.pathname.startsWith('/api/v1/reducer/result/')) fetched.push({ url, bytes: (await response.body().catch(() => Buffer.alloc(0))).length });
    });
    try {
      await page.goto(`${big.controller}/#results`);
      await big.setSequence(uniformSequence(['detector'], 20));
      await bigSource.play({ frames: 20, shape: [8, 8], rate: 4 });
      await big.waitForFinish(60_000);
      await waitFor('the whole series drawn', async () => await page.locator('.panel[data-label="series"]').getAttribute('data-shape') === '1000000', 30_000);
      await waitFor('the image drawn', async () => Number(await page.locator('.panel[data-label="image"]').getAttribute('data-updates')) > 0);
      const series = fetched.filter((f) => f.url.pathname.includes('series'));
      const image = fetched.filter((f) => f.url.pathname.includes('image'));
      expect(series.length, 'series fetches').to.be.greaterThan(0);
      expect(image.length, 'image fetches').to.be.greaterThan(0);
      // at most 2000 points of the series, at most 1024×1024 pixels of the image, per fetch
      for (const f of series) expect(f.bytes, f.url.search).to.be.at.most(2001 * 8 + 128);
      for (const f of image) expect(f.bytes, f.url.search).to.be.at.most(1024 * 1024 * 8 + 128);
      const roundMs = await page.evaluate(() => document.body.dataset.roundMs);
      console.log(`      a refresh round with both shown took ${roundMs} ms; largest fetch ${Math.max(...fetched.map((f) => f.bytes))} bytes`);
      expect(browser.errors).to.deep.equal([]);
    } finally {
      page.removeAllListeners('response');
      await big.stop();
      bigSource.close();
    }
  });

  it('asks for the token when the controller has one, and sends it as a bearer token', async () => {
    const name = `t${randomUUID().slice(0, 8)}`;
    const keyPrefix = `dranspose:test-${name}:`;
    const server = await startControllerServer({ pipeline: name, keyPrefix, redisUrl: REDIS_URL, port: 0, host: '127.0.0.1', security: { token: 'sesame' }, dumpDirectory: tmpdir() });
    const { page } = browser;
    try {
      await page.goto(`http://127.0.0.1:${server.port}/#parameters`);
      const row = page.locator('tr[data-parameter="dump_prefix"]');
      await row.locator('input[data-name="dump_prefix"]').fill(join(tmpdir(), 'dumps-'));
      await row.locator('button[data-set="dump_prefix"]').click();
      await waitFor('the page to ask for the token', async () => await page.locator('#token-box').isVisible());
      await page.locator('#token').fill('sesame');
      await page.locator('#token').press('Tab');
      await row.locator('button[data-set="dump_prefix"]').click();
      await waitFor('the page to confirm', async () => (await row.locator('.outcome').textContent()) === 'set');
      expect(await fetch(`http://127.0.0.1:${server.port}/api/v1/parameter/dump_prefix`).then((r) => r.text())).to.equal(join(tmpdir(), 'dumps-'));
    } finally {
      await server.close();
      await deletePrefix(keyPrefix);
    }
  });
});
