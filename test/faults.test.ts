/**
 * Faults a beamline meets, injected into live pipelines: parts killed with SIGKILL mid-scan and
 * started again, a controller killed and replaced, a Redis that stops answering, user code slower
 * than the detector, a part that cannot start. Each scan must end, and its counts must say exactly
 * what became of every event.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BIN, REDIS_URL, ROOT, deletePrefix, freePort, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { run, stopProcess } from './helpers/process.js';
import { scanProblems } from './helpers/upstream-harness.js';
import { StinsSource } from './helpers/stins-source.js';
import type { EchoResult } from './payloads/echo.js';

const ECHO = join(ROOT, 'test/payloads/echo.ts');
const echoWorkers = (count: number) => [{ class: `${ECHO}:EchoWorker`, count }];
const echoReducer = { class: `${ECHO}:EchoReducer` };
type Events = Record<string, (EchoResult & { hash: string | null })[]>;
type Progress = Awaited<ReturnType<TestPipeline['progress']>> & Record<string, unknown>;

const FRAMES = 600;
const RATE = 200;

/** the pid of a part, as it publishes it in /api/v1/config */
async function pidOf(pipeline: { api: TestPipeline['api'] }, kind: 'ingesters' | 'workers' | 'reducer', name?: string): Promise<number> {
  const config = await pipeline.api<Record<string, { name: string; pid: number } | { name: string; pid: number }[] | null>>('/api/v1/config');
  const entries = [config[kind]].flat().filter(Boolean) as { name: string; pid: number }[];
  const entry = name ? entries.find((e) => e.name === name) : entries[0];
  if (!entry?.pid) throw new Error(`no pid for ${kind} ${name ?? ''}`);
  return entry.pid;
}

/** every event ended one way: completed, failed or lost, and together they are all the events */
function expectEveryEventAccounted(progress: Progress): void {
  expect(progress.finished).to.equal(true);
  expect(Number(progress.completed_events) + Number(progress.failed_events) + Number(progress.lost_events)).to.equal(progress.total_events);
}

describe('faults: parts killed mid-scan, Redis stalls, slow user code', function () {
  this.timeout(180_000);
  let pipeline: TestPipeline | undefined;
  let eiger: StinsSource | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    eiger?.close();
    pipeline = eiger = undefined;
  });

  async function start(workers = 2): Promise<TestPipeline> {
    eiger = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(workers), reducer: echoReducer,
    }, { ingesters: 1, workers });
    return pipeline;
  }

  /** a scan of FRAMES images at RATE Hz; `fault` runs once `after` events completed */
  async function scanWith(fault: (p: TestPipeline) => Promise<void>, after = FRAMES / 4): Promise<Progress> {
    const p = pipeline!;
    await p.setSequence(uniformSequence(['eiger'], FRAMES));
    const playing = eiger!.play({ frames: FRAMES, shape: [8, 8], rate: RATE });
    await waitFor(`${after} events completed`, async () => (await p.progress()).completed_events >= after, 60_000, 20);
    await fault(p);
    await playing;
    return await p.waitForFinish(120_000) as Progress;
  }

  it('a worker killed with SIGKILL: its unfinished events go to the other worker, nothing is lost, each event is reduced once', async () => {
    const p = await start();
    const progress = await scanWith(async () => { process.kill(await pidOf(p, 'workers', 'worker-1'), 'SIGKILL'); });
    expect(progress, JSON.stringify(await scanProblems(p))).to.deep.include({ completed_events: FRAMES + 2, lost_events: 0, failed_events: 0, outcome: 'complete' });
    const events = await p.result<Events>('events');
    for (let e = 1; e <= FRAMES; e++) expect(events[e], `event ${e}`).to.have.length(1);
    expect(p.output.join('')).to.match(/worker worker-1 (exited|stopped beating) during scan/);
  });

  it('the ingester killed with SIGKILL: its successor resumes by frame number; frames lost with it are counted missing, nothing shifts', async () => {
    const p = await start();
    const progress = await scanWith(async () => { process.kill(await pidOf(p, 'ingesters'), 'SIGKILL'); });
    expectEveryEventAccounted(progress);
    expect(progress.lost_events, JSON.stringify(await scanProblems(p))).to.equal(0);
    const events = await p.result<Events>('events');
    const { missing } = await scanProblems(p);
    const missed = new Set(missing.map((m) => m.event));
    expect(missed.size).to.equal(progress.missing_frames);
    for (let e = 1; e <= FRAMES; e++) {
      if (missed.has(e)) {
        expect(events[e], `event ${e} is missing its frame, so no worker ran on it`).to.equal(undefined);
      } else {
        expect(events[e], `event ${e}`).to.have.length(1);
        expect(events[e][0].streams.eiger.frame, `event ${e} holds its own frame`).to.equal(e - 1);
      }
    }
    expect(p.output.join('')).to.match(/joined scan .* while it runs: resuming/);
  });

  it('the reducer killed with SIGKILL: the results it never reduced are counted lost, exactly, and the scan ends', async () => {
    const p = await start();
    const progress = await scanWith(async () => { process.kill(await pidOf(p, 'reducer'), 'SIGKILL'); });
    expectEveryEventAccounted(progress);
    expect(progress.outcome).to.be.oneOf(['incomplete', 'complete']);
    const { lost } = await scanProblems(p);
    expect(lost.every((l) => /reducer/.test(l.reason)), JSON.stringify(lost.slice(0, 3))).to.equal(true);
    // the new reducer's publish holds exactly the results reduced after the restart, none of the lost ones
    const events = await p.result<Events>('events');
    const reducedAfter = Object.keys(events).map(Number);
    expect(reducedAfter.filter((e) => lost.some((l) => l.event === e))).to.deep.equal([]);
    expect(reducedAfter.length).to.be.greaterThan(0);
  });

  it('a worker slower than the detector (30 ms per event at 100 Hz) is not declared dead and loses nothing', async () => {
    const p = await start(1);
    await p.post('/api/v1/parameter/delay_ms', '30');
    await p.setSequence(uniformSequence(['eiger'], 300));
    await eiger!.play({ frames: 300, shape: [8, 8], rate: 100 });
    const progress = await p.waitForFinish(120_000);
    expect(progress).to.deep.include({ completed_events: 302, lost_events: 0, outcome: 'complete' });
    expect(p.output.join('')).to.not.match(/stopped beating/);
  });

  it('a part that fails at start stops `run` with its name and reason, instead of running without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dranspose-faults-'));
    const config = join(dir, 'broken.yaml');
    writeFileSync(config, stringify({
      name: `f${randomUUID().slice(0, 8)}`, key_prefix: `dranspose:test-faults-${randomUUID().slice(0, 8)}:`,
      controller: { port: await freePort() }, reducer: { port: await freePort(), class: `${ECHO}:EchoReducer` },
      workers: [{ class: `${ECHO}:NoSuchWorker`, count: 1 }],
    }));
    const failed = await run(process.execPath, [BIN, 'run', config], { env: { ...process.env, DRANSPOSE_REDIS_URL: REDIS_URL } })
      .then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failed, 'run exits non-zero').to.not.equal(undefined);
    expect(failed!.code).to.equal(1);
    expect(failed!.stderr).to.match(/dranspose: worker-1 failed to start: class .*NoSuchWorker.* is not a class with a processEvent method/);
  });
});

describe('faults: a controller killed and a new one started, with every other part running alone', function () {
  this.timeout(180_000);
  const children: ChildProcess[] = [];
  const name = `c${randomUUID().slice(0, 8)}`;
  const prefix = `dranspose:test-${name}:`;
  let eiger: StinsSource;
  let port: number;

  const part = (...args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [BIN, ...args, '--pipeline', name, '--key-prefix', prefix], {
      cwd: ROOT, env: { ...process.env, DRANSPOSE_REDIS_URL: REDIS_URL }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    (child as ChildProcess & { output: string[] }).output = output;
    children.push(child);
    return child;
  };
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return await response.json() as T;
  };

  after(async () => {
    await Promise.all(children.map((c) => stopProcess(c)));
    eiger?.close();
    await deletePrefix(prefix);
  });

  it('the new controller finds the running scan in Redis and drives it to its end; nothing is lost', async () => {
    eiger = await StinsSource.bind();
    port = await freePort();
    const controller = part('controller', '--port', String(port));
    part('ingester', '--name', 'eiger-ingester', '--stream', `eiger:stins:${eiger.endpoint}`);
    part('worker', '--name', 'worker-1', '--class', `${ECHO}:EchoWorker`);
    part('worker', '--name', 'worker-2', '--class', `${ECHO}:EchoWorker`);
    part('reducer', '--class', `${ECHO}:EchoReducer`, '--port', String(await freePort()));
    await waitFor('every part registered', async () => {
      const config = await api<{ ingesters: unknown[]; workers: unknown[]; reducer: unknown }>('/api/v1/config');
      return config.ingesters.length === 1 && config.workers.length === 2 && !!config.reducer;
    }, 60_000);
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/sequence`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(uniformSequence(['eiger'], FRAMES)),
    });
    expect(response.status).to.equal(200);
    const playing = eiger.play({ frames: FRAMES, shape: [8, 8], rate: RATE });
    await waitFor('a quarter of the scan', async () => (await api<{ completed_events: number }>('/api/v1/progress')).completed_events >= FRAMES / 4, 60_000, 20);
    controller.kill('SIGKILL');
    await new Promise((r) => controller.once('exit', r));
    const successor = part('controller', '--port', String(port));
    await playing;
    const progress = await waitFor('the scan to finish under the new controller', async () => {
      const p = await api<Progress>('/api/v1/progress').catch(() => undefined);
      return p?.finished ? p : undefined;
    }, 120_000, 200);
    expect(progress, (successor as ChildProcess & { output: string[] }).output.join('')).to.deep.include({
      completed_events: FRAMES + 2, lost_events: 0, failed_events: 0, total_events: FRAMES + 2, outcome: 'complete',
    });
    expect((successor as ChildProcess & { output: string[] }).output.join('')).to.match(/resuming scan .* after a controller restart/);
  });
});

describe('faults: the pipeline\'s Redis pauses, then goes away and comes back', function () {
  this.timeout(180_000);
  let redis: ChildProcess | undefined;
  let redisPort: number;
  let pipeline: TestPipeline | undefined;
  let eiger: StinsSource | undefined;

  const startRedis = async (): Promise<ChildProcess> => {
    const server = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor('the private Redis', async () => (await run('redis-cli', ['-p', String(redisPort), 'ping']).catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG');
    return server;
  };

  after(async () => {
    await pipeline?.stop();
    eiger?.close();
    if (redis) {
      redis.kill('SIGCONT');
      await stopProcess(redis);
    }
  });

  it('a 6 s pause declares nobody dead and loses nothing; an outage is one line per part, 503 with the reason, and recovery', async () => {
    redisPort = await freePort();
    redis = await startRedis();
    eiger = await StinsSource.bind();
    const url = `redis://127.0.0.1:${redisPort}`;
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 1, workers: 2 }, url);
    const p = pipeline;
    await p.setSequence(uniformSequence(['eiger'], 400));
    const playing = eiger.play({ frames: 400, shape: [8, 8], rate: 100 });
    await waitFor('100 events', async () => (await p.progress()).completed_events >= 100, 60_000, 20);
    redis.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000));
    redis.kill('SIGCONT');
    await playing;
    expect(await p.waitForFinish(60_000)).to.deep.include({ completed_events: 402, lost_events: 0, outcome: 'complete' });
    expect(p.output.join(''), 'nobody was declared dead').to.not.match(/stopped beating|exited during scan/);

    // Redis goes away: every part says so once, requests that need it are refused with the reason
    redis.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    const refused = await waitFor('a 503', async () => {
      const response = await p.post('/api/v1/parameter/label', 'during');
      return response.status === 503 ? response : undefined;
    }, 30_000, 200);
    expect((await refused.json()).detail).to.match(/Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable/);
    expect(await p.progress(), 'reads that need no Redis still answer').to.include({ finished: true });
    redis = await startRedis();
    await waitFor('Redis back in every part', async () => (p.output.join('').match(/is reachable again/g) ?? []).length >= 5, 60_000, 200);
    const log = p.output.join('');
    const lost = (log.match(/is unreachable \(/g) ?? []).length;
    expect(lost, 'one line per part (controller, ingester, 2 workers, reducer) when Redis went').to.equal(5);
    expect(log).to.not.match(/Unhandled error event/);
    await waitFor('parameters accepted again', async () => (await p.post('/api/v1/parameter/label', 'after')).status === 200, 30_000, 200);
    const stopping = Date.now();
    await p.stop();
    expect(p.exited, 'run stops on SIGTERM').to.equal(0);
    expect(Date.now() - stopping).to.be.below(10_000);
    pipeline = undefined;
  });
});

describe('faults: a controller started while Redis is down', function () {
  this.timeout(60_000);

  it('says so once, keeps retrying, serves once Redis answers, and stops on SIGTERM', async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const controller = spawn(process.execPath, [BIN, 'controller', '--port', String(port), '--redis', `redis://127.0.0.1:${redisPort}`, '--pipeline', `n${randomUUID().slice(0, 8)}`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    controller.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    let redis: ChildProcess | undefined;
    try {
      await waitFor('the controller to say Redis is unreachable', async () => /Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable/.test(output.join('')));
      await new Promise((r) => setTimeout(r, 2000));
      expect(output.join('').match(/is unreachable/g), 'said once, not once per retry').to.have.length(1);
      expect(controller.exitCode, 'still running').to.equal(null);
      redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitFor('the controller to serve', async () => (await fetch(`http://127.0.0.1:${port}/api/v1/progress`).catch(() => undefined))?.ok, 30_000);
      const exited = new Promise<number | null>((r) => controller.once('exit', (code) => r(code)));
      controller.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      await stopProcess(controller);
      await stopProcess(redis);
    }
  });
});
