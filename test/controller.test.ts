/** The controller process on its own: persistence across restarts, logs, raw parameters. */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { BIN, REDIS_URL, deletePrefix, freePort, sleep, waitFor } from './helpers/pipeline.js';

class ControllerProcess {
  child?: ChildProcess;
  output = '';

  constructor(readonly prefix: string, readonly port: number) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  async start(): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, [BIN, 'controller', '--port', String(this.port), '--host', '127.0.0.1', '--key-prefix', this.prefix],
      { env: { ...process.env, DRANSPOSE_REDIS_URL: REDIS_URL }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d) => { this.output += d; });
    await waitFor(`controller on ${this.port}`, async () => (await fetch(`${this.url}/api/v1/progress`)).ok);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

describe('controller', function () {
  this.timeout(60_000);
  let controller: ControllerProcess;

  beforeEach(async () => {
    controller = new ControllerProcess(`dranspose:test-ctl${randomUUID().slice(0, 8)}:`, await freePort());
    await controller.start();
  });

  afterEach(async () => {
    await controller.stop();
    await deletePrefix(controller.prefix);
  });

  it('keeps parameter values (binary too) and their hash across a restart', async () => {
    const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    await fetch(`${controller.url}/api/v1/parameter/roi`, { method: 'POST', body: '[0, 10]' });
    const hash = await (await fetch(`${controller.url}/api/v1/parameter/poni`, { method: 'POST', body: new Uint8Array(binary) })).json();
    expect(hash).to.match(/^[0-9a-f]{64}$/);
    await controller.stop();
    await controller.start();
    const poni = await fetch(`${controller.url}/api/v1/parameter/poni`);
    expect(poni.headers.get('content-type')).to.equal('application/x.bytes');
    expect(Buffer.from(await poni.arrayBuffer()).equals(binary)).to.equal(true);
    expect(await (await fetch(`${controller.url}/api/v1/parameter/roi`)).text()).to.equal('[0, 10]');
    const config = await (await fetch(`${controller.url}/api/v1/config`)).json();
    expect(config.parameters_hash).to.equal(hash);
    expect(Object.keys(config.parameters_version).sort()).to.deep.equal(['poni', 'roi']);
  });

  it('serves its logs filtered by level and as a live stream', async () => {
    const stream = await fetch(`${controller.url}/api/v1/log_stream`);
    const reader = stream.body!.getReader();
    await sleep(300);
    await fetch(`${controller.url}/api/v1/parameter/exposure`, { method: 'POST', body: '0.5' });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('parameter exposure set') && Date.now() < deadline) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += Buffer.from(chunk.value).toString();
    }
    await reader.cancel();
    const entries = text.trim().split('\n').map((line) => JSON.parse(line));
    const entry = entries.find((e) => e.msg.includes('parameter exposure set'));
    expect(entry).to.include({ name: 'controller', levelname: 'INFO', msg: 'parameter exposure set (3 bytes)' });
    const all = await (await fetch(`${controller.url}/api/v1/logs?level=info`)).json() as { msg: string; levelname: string }[];
    expect(all.some((e) => e.msg === 'parameter exposure set (3 bytes)')).to.equal(true);
    const warnings = await (await fetch(`${controller.url}/api/v1/logs?level=warning`)).json() as { msg: string; levelname: string }[];
    expect(warnings.some((e) => e.msg.includes('exposure'))).to.equal(false);
    expect(warnings.every((e) => ['WARNING', 'ERROR', 'CRITICAL'].includes(e.levelname))).to.equal(true);
  });

  it('reads the stored trigger map back at start: compact in Redis, written out on GET', async () => {
    const stored = {
      parts: {
        sardana: { uniform: { streams: ['eiger'], events: 3, tags: ['generic'] } },
        reserved_start_end: { mapping: { eiger: [[{ tags: ['generic'], constraint: null }]] } },
      },
      sequence: ['reserved_start_end', 'sardana', 'reserved_start_end'],
    };
    await controller.stop();
    const redis = new Redis(REDIS_URL);
    await redis.set(`${controller.prefix}sequence`, JSON.stringify(stored));
    redis.disconnect();
    await controller.start();
    expect(await (await fetch(`${controller.url}/api/v1/sequence?compact=true`)).json()).to.deep.equal(stored);
    const vw = (constraint: number | null) => [{ tags: ['generic'], constraint }];
    expect(await (await fetch(`${controller.url}/api/v1/sequence`)).json()).to.deep.equal({
      parts: { sardana: { mapping: { eiger: [vw(0), vw(1), vw(2)] } }, reserved_start_end: { mapping: { eiger: [vw(null)] } } },
      sequence: ['reserved_start_end', 'sardana', 'reserved_start_end'],
    });
  });

  it('refuses a trigger map while no reducer runs, naming what is missing', async () => {
    const response = await fetch(`${controller.url}/api/v1/sequence`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts: { main: { x: [[{ constraint: 0 }]] } }, sequence: ['main'] }) });
    expect(response.status).to.equal(400);
    expect((await response.json()).detail).to.equal("streams {'x'} not available");
    expect(await (await fetch(`${controller.url}/api/v1/progress`)).json()).to.deep.include({ last_assigned: 0, completed_events: 0, total_events: 0, finished: false });
  });
});
