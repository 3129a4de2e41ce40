/**
 * Hostile and careless input against a live pipeline (`dranspose run`, issue 10 items 8-11): huge
 * scans and maps, deep nesting, huge numbers, bad percent-encoding, aborted uploads, wrong content
 * types, dump_prefix escapes, requests without the token, foreign origins. Every request gets a
 * 4xx with a reason, never a 500; the controller keeps answering and its memory stays bounded.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MAP_LIMITS, MAX_JSON_DEPTH } from '../src/core/defaults.js';
import { REDIS_URL, ROOT, freePort, startPipeline, waitFor, type TestPipeline } from './helpers/pipeline.js';

const ECHO = join(ROOT, 'test/payloads/echo.ts');
const TOKEN = `hostile-${process.pid}`;
const DEVICE = 'test/hostile/pipeline';
const JSON_TYPE = 'application/json';

interface Sent { status: number; detail: string; headers: Headers }

/** kB of VmRSS and VmHWM (peak) of a process */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** the JSON text of `depth` nested arrays (or objects) */
function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Headers and part of a body, then the connection is cut: a client that goes away mid-upload. */
async function abortUpload(port: number, path: string, declared: number, sent: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${JSON_TYPE}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${declared}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.write(Buffer.alloc(sent, 0x20), () => resolve()));
  socket.destroy();
}

/** The answer to headers that announce a body over the limit, before any of it is sent. */
async function announceBody(port: number, path: string, declared: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => { answer += d; });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${JSON_TYPE}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${declared}\r\n\r\n`);
  await waitFor('the answer to an oversized body', async () => answer.includes('\r\n\r\n') && answer.includes('}'));
  socket.destroy();
  return answer;
}

describe('hostile input (live controller and reducer)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let dumps: string;
  const statuses: { what: string; status: number }[] = [];

  async function send(url: string, what: string, init: { method?: string; body?: string | Buffer; type?: string; token?: string | null; headers?: Record<string, string> } = {}): Promise<Sent> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.type !== undefined) headers['content-type'] = init.type;
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
    const body = Buffer.isBuffer(init.body) ? new Uint8Array(init.body) : init.body;
    const response = await fetch(url, { method: init.method ?? 'POST', body, headers });
    const text = await response.text();
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { detail?: unknown; errors?: { desc?: string }[] };
      detail = typeof parsed?.detail === 'string' ? parsed.detail : parsed?.errors?.[0]?.desc ?? text;
    } catch { /* not JSON: the text is the reason */ }
    statuses.push({ what, status: response.status });
    return { status: response.status, detail, headers: response.headers };
  }

  const controller = (path: string, init?: Parameters<typeof send>[2]) => send(`${pipeline.controller}${path}`, path, init);
  const postJson = (path: string, body: unknown, init: Parameters<typeof send>[2] = {}) =>
    controller(path, { body: typeof body === 'string' ? body : JSON.stringify(body), type: JSON_TYPE, ...init });

  async function expectRefused(sent: Sent | Promise<Sent>, status: number, reason: RegExp): Promise<void> {
    const { status: got, detail } = await sent;
    expect(got, detail.slice(0, 300)).to.equal(status);
    expect(detail).to.match(reason);
  }

  async function stillAnswers(): Promise<void> {
    const progress = await fetch(`${pipeline.controller}/api/v1/progress`);
    expect(progress.status).to.equal(200);
  }

  before(async () => {
    dumps = mkdtempSync(join(tmpdir(), 'hostile-dumps-'));
    process.env.DRANSPOSE_TOKEN = TOKEN; // inherited by `dranspose run` and its parts
    try {
      pipeline = await startPipeline({
        ingesters: [{ name: 'det-ingester', streams: [{ name: 'det', protocol: 'stins', upstream: `tcp://127.0.0.1:${await freePort()}` }] }],
        workers: [{ class: `${ECHO}:EchoWorker`, count: 1 }], reducer: { class: `${ECHO}:EchoReducer` },
        tango: { device: DEVICE, bridge: false },
        dumps: { directory: dumps, max_bytes: 1_000_000 },
      }, { ingesters: 1, workers: 1 });
    } finally {
      delete process.env.DRANSPOSE_TOKEN;
    }
    await waitFor('the worker\'s parameter descriptions', async () => {
      const descriptions = await (await fetch(`${pipeline.controller}/api/v1/parameters`)).json() as { name: string }[];
      return descriptions.some((d) => d.name === 'fail_on');
    });
  });

  after(async () => {
    await pipeline?.stop();
  });

  describe('announcing scans', () => {
    it('refuses points beyond the limit per scan, and other impossible nb_points, naming the limit', async () => {
      for (const nb of [MAP_LIMITS.pointsPerScan + 1, 100_000_000, 1e300]) {
        await expectRefused(postJson('/api/v1/sardana_hook', { streams: ['det'], scan: { nb_points: nb } }), 400, new RegExp(`at most ${MAP_LIMITS.pointsPerScan} \\(the limit of points per scan\\)`));
      }
      for (const nb of [-1, 0, 2.5, '1000', null]) {
        await expectRefused(postJson('/api/v1/sardana_hook', { streams: ['det'], scan: { nb_points: nb } }), 400, /nb_points/);
      }
      await expectRefused(postJson('/api/v1/scan', { nb_points: 1e9 }), 400, /nb_points: must be at most/);
      await stillAnswers();
    });

    it('announces a million-point scan as a compact map: small in Redis, compact on request, written out on GET', async () => {
      expect((await postJson('/api/v1/sardana_hook', { streams: ['det'], scan: { nb_points: 1_000_000 } })).status).to.equal(200);
      const compact = await (await fetch(`${pipeline.controller}/api/v1/sequence?compact=true`)).json();
      expect(compact).to.deep.equal({
        parts: {
          sardana: { uniform: { streams: ['det'], events: 1_000_000, tags: ['generic'] } },
          reserved_start_end: { mapping: { det: [[{ tags: ['generic'], constraint: null }]] } },
        },
        sequence: ['reserved_start_end', 'sardana', 'reserved_start_end'],
      });
      const redis = new Redis(REDIS_URL);
      try {
        expect(await redis.strlen(`${pipeline.prefix}sequence`)).to.be.below(100_000);
      } finally {
        redis.disconnect();
      }
      expect((await postJson('/api/v1/scan', { nb_points: 100_000 })).status).to.equal(200);
      const full = await (await fetch(`${pipeline.controller}/api/v1/sequence`)).json() as { parts: Record<string, { mapping: Record<string, unknown[]> }>; sequence: string[] };
      expect(full.sequence).to.have.length(100_002);
      expect(full.parts.point!.mapping.det).to.deep.equal([[{ tags: ['generic'], constraint: 0 }]]);
      const compactScan = await (await fetch(`${pipeline.controller}/api/v1/sequence?compact=true`)).json() as { sequence: unknown[] };
      expect(compactScan.sequence).to.deep.equal(['reserved_start_end', { part: 'point', repeat: 100_000 }, 'reserved_start_end']);
    });

    it('refuses maps beyond each cap with the limit named, before building them', async () => {
      const many = (count: number, item: unknown) => `[${Array(count).fill(JSON.stringify(item)).join(',')}]`;
      await expectRefused(postJson('/api/v1/mapping', `{"det":${many(MAP_LIMITS.entries + 1, null)}}`), 400, /more than the limit of 4000000 entries/);
      await expectRefused(postJson('/api/v1/mapping', { det: [Array(MAP_LIMITS.virtualWorkersPerEntry + 1).fill({})] }), 400, /limit of 1000 virtual workers/);
      await expectRefused(postJson('/api/v1/mapping', Object.fromEntries(Array.from({ length: MAP_LIMITS.streams + 1 }, (_, i) => [`s${i}`, []]))), 400, /limit of 1000 streams/);
      await expectRefused(postJson('/api/v1/sequence', { parts: Object.fromEntries(Array.from({ length: MAP_LIMITS.parts + 1 }, (_, i) => [`p${i}`, {}])), sequence: ['p0'] }), 400, /limit of 10000 parts/);
      await expectRefused(postJson('/api/v1/sequence', `{"parts":{"a":{"det":[[{}]]}},"sequence":${many(MAP_LIMITS.sequenceItems + 1, 'a')}}`), 400, /limit of 1000000 items/);
      await expectRefused(postJson('/api/v1/sequence', { parts: { a: { det: [[{}]] } }, sequence: [{ part: 'a', repeat: 1e12 }] }), 400, /limit of 10000000 part instances/);
      await expectRefused(postJson('/api/v1/sequence', { parts: { a: { det: Array(1000).fill(null) } }, sequence: [{ part: 'a', repeat: 500_000 }] }), 400, /limit of 100000000 events/);
      await expectRefused(postJson('/api/v1/sequence', { parts: { a: { det: [[{ constraint: 1.5 }]] } }, sequence: ['a'] }), 400, /part 'a', stream 'det', entry 0, virtual worker 0, constraint/);
      await stillAnswers();
    });

    it('answers 413 to a body over the limit, from its announced length, before reading it', async () => {
      const answer = await announceBody(pipeline.controllerPort, '/api/v1/sequence', MAP_LIMITS.bodyBytes + 1);
      expect(answer).to.match(/^HTTP\/1\.1 413/);
      expect(answer).to.include(`larger than the limit of ${MAP_LIMITS.bodyBytes} bytes`);
      await stillAnswers();
    });
  });

  it('refuses JSON nested deeper than the limit on every JSON endpoint (Tango commands too)', async () => {
    const deep = nested(100_000);
    for (const path of ['/api/v1/sequence', '/api/v1/mapping', '/api/v1/scan', '/api/v1/sardana_hook']) {
      await expectRefused(postJson(path, deep), 400, new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`));
      await expectRefused(postJson(path, `{"parts":${nested(50_000, '{"a":', '}')}}`), 400, /nested deeper/);
    }
    const tango = `${pipeline.controller}/tango/rest/v11/hosts/localhost;port=10000/devices/${DEVICE}/commands`;
    for (const command of ['SetSequence', 'Stop']) {
      const sent = await send(`${tango}/${command}`, command, { method: 'PUT', body: `{"name":"${command}","input":${deep}}`, type: JSON_TYPE });
      expect(sent.status, sent.detail).to.be.within(400, 499);
      expect(sent.detail).to.match(/nested deeper/);
    }
    await stillAnswers();
  });

  it('refuses a 50 MB digit string to an int parameter, and number texts beyond the limit', async () => {
    await expectRefused(controller('/api/v1/parameter/fail_on', { body: Buffer.alloc(50 * 2 ** 20, '9') }), 400, /fail_on \(int\): int values are at most 1000 bytes long/);
    await expectRefused(controller('/api/v1/parameter/fail_on', { body: '1'.repeat(1001) }), 400, /at most 1000 bytes/);
    await expectRefused(controller('/api/v1/parameter/fail_on', { body: '99999999999999999999' }), 400, /integer out of range/);
    expect((await controller('/api/v1/parameter/fail_on', { body: '7' })).status).to.equal(200);
    await stillAnswers();
  });

  it('answers bad percent-encoding and jsonpath-plus markers with 400, on the controller and the reducer', async () => {
    await expectRefused(send(`${pipeline.reducer}/api/v1/result/%E0%A4%A`, 'result', { method: 'GET' }), 400, /not valid percent-encoding/);
    await expectRefused(send(`${pipeline.reducer}/api/v1/result/a%232`, 'result #', { method: 'GET' }), 400, /'#' followed by a digit/);
    await expectRefused(send(`${pipeline.reducer}/api/v1/result/%232`, 'result #', { method: 'GET' }), 400, /'#' followed by a digit/);
    for (const path of ['/api/v1/parameter/%E0%A4%A', '/api/v1/parameter/%zz']) {
      const sent = await controller(path, { method: 'GET' });
      expect(sent.status, `${path}: ${sent.detail}`).to.be.within(400, 499);
    }
    await stillAnswers();
  });

  it('takes JSON only as application/json', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      await expectRefused(controller('/api/v1/sequence', { body: '{"parts":{},"sequence":[]}', type }), 415, /Content-Type: application\/json/);
      await expectRefused(controller('/api/v1/sardana_hook', { body: '{"streams":["det"],"scan":{"nb_points":3}}', type }), 415, /application\/json/);
    }
  });

  it('refuses a dump_prefix that leaves the dump directory, and takes one inside it', async () => {
    for (const prefix of ['../escape_', '/etc/dranspose_', 'a/../../escape_', 'run\0x', `${dumps}/../x_`]) {
      await expectRefused(controller('/api/v1/parameter/dump_prefix', { body: prefix }), 400, /dump_prefix|NUL/);
    }
    expect((await controller('/api/v1/parameter/dump_prefix', { body: 'run1_' })).status).to.equal(200);
    expect((await controller('/api/v1/parameter/dump_prefix', { body: `${dumps}/run2_` })).status).to.equal(200);
    expect((await controller('/api/v1/parameter/dump_prefix', { body: '' })).status).to.equal(200);
    expect(existsSync(join(dumps, '..', 'escape_'))).to.equal(false);
  });

  it('an ingester ignores a dump_prefix that leads out through a link, and logs and counts it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hostile-outside-'));
    symlinkSync(outside, join(dumps, 'link'));
    const ingesterErrors = async () => (await (await fetch(`${pipeline.controller}/api/v1/config`)).json() as { ingesters: { errors: number }[] }).ingesters[0]!.errors;
    const before = await ingesterErrors();
    expect((await controller('/api/v1/parameter/dump_prefix', { body: 'link/run_' })).status, 'lexically inside the directory').to.equal(200);
    expect((await postJson('/api/v1/sardana_hook', { streams: ['det'], scan: { nb_points: 5 } })).status).to.equal(200);
    await waitFor('the ingester to count the refused dump', async () => (await ingesterErrors()) > before);
    expect(pipeline.output.join('')).to.match(/ERROR \[det-ingester\] scan \S+ is not dumped: dump_prefix "link\/run_" leads out of the dump directory .* through a link/);
    expect(readdirSync(outside)).to.deep.equal([]);
    expect((await controller('/api/v1/parameter/dump_prefix', { body: '' })).status).to.equal(200);
  });

  it('logs no error for clients that cut their upload, and keeps answering', async () => {
    const before = pipeline.output.join('').length;
    for (const path of ['/api/v1/sequence', '/api/v1/parameter/label', '/api/v1/sardana_hook']) {
      await abortUpload(pipeline.controllerPort, path, 10_000_000, 1_000_000);
    }
    await abortUpload(pipeline.reducerPort, '/api/v1/result/x', 10_000_000, 100_000);
    // and one that leaves while the map is written out to it
    expect((await postJson('/api/v1/sardana_hook', { streams: ['det'], scan: { nb_points: 1_000_000 } })).status).to.equal(200);
    const leaving = new AbortController();
    const download = await fetch(`${pipeline.controller}/api/v1/sequence`, { signal: leaving.signal });
    await download.body!.getReader().read();
    leaving.abort();
    await stillAnswers();
    await new Promise((r) => setTimeout(r, 300)); // lines logged for the cut uploads would be out by now
    const logged = pipeline.output.join('').slice(before);
    expect(logged).to.not.match(/ERROR/);
    expect(logged).to.not.match(/\n\s+at /);
  });

  it('refuses every state-changing request without the token (401), and a wrong token', async () => {
    const tango = `${pipeline.controller}/tango/rest/v11/hosts/localhost;port=10000/devices/${DEVICE}`;
    const requests: [string, string, string?][] = [
      ['POST', `${pipeline.controller}/api/v1/sequence`, '{"parts":{"a":{"det":[[{}]]}},"sequence":["a"]}'],
      ['POST', `${pipeline.controller}/api/v1/mapping`, '{"det":[[{}]]}'],
      ['POST', `${pipeline.controller}/api/v1/scan`, '{"nb_points":3}'],
      ['POST', `${pipeline.controller}/api/v1/sardana_hook`, '{"streams":["det"],"scan":{"nb_points":3}}'],
      ['POST', `${pipeline.controller}/api/v1/stop`],
      ['POST', `${pipeline.controller}/api/v1/parameter/label`, 'x'],
      ['PUT', `${tango}/commands/Stop`, '{"name":"Stop"}'],
      ['PUT', `${tango}/attributes/label/value?v=x`],
      ['PUT', `${tango}/attributes/workerCount/value?v=5`],
      ['POST', `${pipeline.reducer}/api/v1/result/x`, '{}'],
    ];
    for (const [method, url, body] of requests) {
      for (const token of [null, 'wrong']) {
        const sent = await send(url, `${method} ${url}`, { method, body, type: JSON_TYPE, token });
        expect(sent.status, `${method} ${url} with token ${token}`).to.equal(401);
        expect(sent.detail).to.match(/Authorization: Bearer/);
      }
    }
    expect((await controller('/api/v1/parameter/label', { body: 'with token' })).status).to.equal(200);
  });

  it('gives a page of an unconfigured origin no Access-Control-Allow-Origin', async () => {
    for (const base of [pipeline.controller, pipeline.reducer]) {
      const headers = { origin: 'http://attacker.example', 'access-control-request-method': 'POST' };
      const get = await send(`${base}/api/v1/config`, 'cors', { method: 'GET', headers });
      expect(get.headers.get('access-control-allow-origin')).to.equal(null);
      const preflight = await send(`${base}/api/v1/sequence`, 'cors', { method: 'OPTIONS', headers, token: null });
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
    }
  });

  // a describe of its own: mocha runs it after every test above, the nested ones included
  describe('afterwards', () => it('never answered 500, and the controller\'s memory stayed bounded', async () => {
    expect(statuses.filter((s) => s.status >= 500)).to.deep.equal([]);
    expect(statuses.length).to.be.above(50);
    const { rss, peak } = memoryOf(pipeline.child.pid!);
    console.log(`      controller process (dranspose run): VmRSS ${(rss / 1024).toFixed(0)} MB, VmHWM ${(peak / 1024).toFixed(0)} MB`);
    // the bodies of this suite add up to ~400 MB; none may be held or expanded
    expect(peak / 1024, 'peak MB').to.be.below(1024);
    expect(rss / 1024, 'MB now').to.be.below(600);
    await stillAnswers();
  }));
});
