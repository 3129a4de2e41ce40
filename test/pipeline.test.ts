/** End-to-end scans through `dranspose run`: real Redis, real zmq sockets, real child processes. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, startPipeline, uniformSequence, waitFor, type TestPipeline, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { scanProblems } from './helpers/upstream-harness.js';
import { StinsSource } from './helpers/stins-source.js';
import { stinsSeriesMessages } from '../src/protocols/stins/emulator.js';
import type { EchoResult } from './payloads/echo.js';
import { PYTHON } from './helpers/process.js';

const ECHO = join(ROOT, 'test/payloads/echo.ts');
const echoWorkers = (count: number, extra: Record<string, unknown> = {}) => [{ class: `${ECHO}:EchoWorker`, count, ...extra }];
const echoReducer = { class: `${ECHO}:EchoReducer` };

type Events = Record<string, (EchoResult & { hash: string | null })[]>;

describe('pipeline (dranspose run)', function () {
  this.timeout(90_000);
  let pipeline: TestPipeline | undefined;
  const sources: StinsSource[] = [];

  async function source(): Promise<StinsSource> {
    const s = await StinsSource.bind();
    sources.push(s);
    return s;
  }

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    for (const s of sources.splice(0)) s.close();
  });

  it('runs a uniform scan: every image reaches one worker, start and end reach both, progress counts as the original', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 1, workers: 2 });
    await pipeline.setSequence(uniformSequence(['eiger'], 20));
    const series = { frames: 20, shape: [8, 8] };
    await eiger.play(series);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(22));
    const events = await pipeline.result<Events>('events');
    expect(events['0'].map((r) => r.streams.eiger.kind)).to.deep.equal(['start', 'start']);
    expect(new Set(events['0'].map((r) => r.worker))).to.deep.equal(new Set(['worker-1', 'worker-2']));
    for (let e = 1; e <= 20; e++) {
      expect(events[e], `event ${e}`).to.have.length(1);
      expect(events[e][0].streams.eiger).to.deep.equal({ kind: 'image', frame: e - 1, sum: StinsSource.imageSum(series, e - 1), frames: 2 });
    }
    expect(events['21'].map((r) => r.streams.eiger.kind)).to.deep.equal(['end', 'end']);
    const workers = new Set(Object.values(events).flat().map((r) => r.worker));
    expect(workers).to.deep.equal(new Set(['worker-1', 'worker-2']));
    // the original 0.1 notebook recipe, in Debian's Python against the live reducer: a list of matches
    const script = [
      'import pickle, sys, json, requests, numpy',
      `base = "${pipeline.reducer}/api/v1/result/"`,
      'image = pickle.loads(requests.get(base + "last_image").content)[0]',
      'part = pickle.loads(requests.get(base + "last_image?slice=2:4,::2").content)[0]',
      'events = pickle.loads(requests.get(base + "$").content)[0]["events"]',
      'print(json.dumps({"type": type(image).__name__, "dtype": str(image.dtype), "shape": list(image.shape), "sum": int(image.sum()),',
      '  "part": part.tolist(), "full": image[2:4, ::2].tolist(), "frame": events["20"][0]["streams"]["eiger"]["frame"]}))',
    ].join('\n');
    const python = JSON.parse(execFileSync(PYTHON, ['-c', script]).toString());
    expect(python).to.include({ type: 'ndarray', dtype: 'uint16', sum: StinsSource.imageSum(series, 19), frame: 19 });
    expect(python.shape).to.deep.equal([8, 8]);
    expect(python.part).to.deep.equal(python.full);
    const load = await pipeline.api<Record<string, { last_event: number; intervals: Record<string, { events: number }> }>>('/api/v1/load');
    expect(Object.keys(load).sort()).to.deep.equal(['worker-1', 'worker-2']);
    expect(Object.values(load).reduce((n, l) => n + l.intervals.scan.events, 0)).to.equal(24);
  });

  it('shrinks the credit for large events as the ingester reports their bytes; the scan completes', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      controller: { credit: 64, credit_bytes: 300_000 },
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 1, workers: 2 });
    await pipeline.setSequence(uniformSequence(['eiger'], 40));
    // 256×256 uint16 images: 128 KiB each, so 300 kB of credit is 2 events
    await eiger.play({ frames: 40, shape: [256, 256], rate: 200 });
    expect(await pipeline.waitForFinish()).to.include({ completed_events: 42, finished: true });
    const status = await pipeline.api<{ credit: number; failed_events: number }>('/api/v1/status');
    expect(status).to.include({ credit: 2, failed_events: 0 });
  });

  it('assembles one event from two ingesters, with null and [] entries and constraints shared across streams', async () => {
    const [a, b] = [await source(), await source()];
    pipeline = await startPipeline({
      ingesters: [
        { name: 'a-ingester', streams: [{ name: 'a', protocol: 'stins', upstream: a.endpoint }] },
        { name: 'b-ingester', streams: [{ name: 'b', protocol: 'stins', upstream: b.endpoint }] },
      ],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 2, workers: 2 });
    const c = (n: number) => [{ constraint: n }];
    await pipeline.setSequence({
      parts: { main: { a: [c(1), c(2), [], c(3)], b: [c(1), null, null, c(3)] } },
      sequence: ['main'],
    });
    const seriesA = { frames: 4, shape: [4, 4], seed: 1 };
    const seriesB = { frames: 2, shape: [4, 4], seed: 2 };
    await Promise.all([a.play(seriesA), b.play(seriesB)]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(6));
    const events = await pipeline.result<Events>('events');
    const frames = (e: number) => Object.fromEntries(Object.entries(events[e][0].streams).map(([s, v]) => [s, v.frame]));
    expect(frames(1)).to.deep.equal({ a: 0, b: 0 });
    expect(frames(2)).to.deep.equal({ a: 1 });
    expect(events['3'], 'a discarded, b absent: nobody gets event 3').to.equal(undefined);
    expect(frames(4)).to.deep.equal({ a: 3, b: 1 });
    expect(events[4][0].streams.a.sum).to.equal(StinsSource.imageSum(seriesA, 3));
    expect(events[4][0].streams.b.sum).to.equal(StinsSource.imageSum(seriesB, 1));
  });

  it('reassembles a detector that sends one stream per module: every worker gets both halves of each frame', async () => {
    const modules = [await source(), await source()];
    pipeline = await startPipeline({
      ingesters: modules.map((m, i) => ({ name: `module${i}-ingester`, streams: [{ name: `module${i}`, protocol: 'stins', upstream: m.endpoint }] })),
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 2, workers: 2 });
    await pipeline.setSequence(uniformSequence(['module0', 'module1'], 30, (i) => Math.floor(i / 3)));
    const halves = [{ frames: 30, shape: [32, 64], seed: 10 }, { frames: 30, shape: [32, 64], seed: 11 }];
    await Promise.all(modules.map((m, i) => m.play({ ...halves[i], rate: 2000 })));
    expect(await pipeline.waitForFinish()).to.include({ completed_events: 32, total_events: 32, finished: true });
    const events = await pipeline.result<Events>('events');
    for (let e = 1; e <= 30; e++) {
      expect(events[e], `event ${e}`).to.have.length(1);
      const { module0, module1 } = events[e][0].streams;
      expect([module0.frame, module1.frame]).to.deep.equal([e - 1, e - 1]);
      expect(module0.sum! + module1.sum!).to.equal(StinsSource.imageSum(halves[0], e - 1) + StinsSource.imageSum(halves[1], e - 1));
    }
    // batches of three consecutive frames stay on one worker
    for (let e = 1; e <= 30; e += 3) expect(new Set([e, e + 1, e + 2].map((k) => events[k][0].worker)).size).to.equal(1);
  });

  it('sends the events tagged debug only to the debug worker; multi-part sequences keep event order', async () => {
    const eiger = await source();
    const debugPort = await freePort();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
      debug_workers: [{ name: 'debug', tags: ['debug'], port: debugPort }],
    }, { ingesters: 1, workers: 3 });
    const generic = (n: number) => [{ constraint: n }];
    const debug = [{ tags: ['debug'], constraint: null }];
    // sequence main, main, tail: constraints restart per part instance
    await pipeline.setSequence({
      parts: { main: { eiger: [generic(0), debug, generic(1)] }, tail: { eiger: [debug] } },
      sequence: ['main', 'main', 'tail'],
    });
    await eiger.play({ frames: 7, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(9));
    const events = await pipeline.result<Events>('events');
    const config = await pipeline.api<{ workers: { name: string; http_port?: number }[] }>('/api/v1/config');
    expect(config.workers.map((w) => w.name).sort()).to.deep.equal(['debug', 'worker-1', 'worker-2']);
    // generic workers: start, 1, 3, 4, 6, end; the debug worker has no class, so no results of its own
    expect(Object.keys(events).map(Number).sort((x, y) => x - y)).to.deep.equal([0, 1, 3, 4, 6, 8]);
    for (const e of [1, 3, 4, 6]) expect(events[e][0].streams.eiger.frame).to.equal(e - 1);
    const last = await (await fetch(`http://127.0.0.1:${debugPort}/api/v1/last_events?number=10`)).json() as { event_number: number; streams: Record<string, { typ: string; frames: string[] }> }[];
    expect(last.map((e) => e.event_number), 'debug events, oldest first').to.deep.equal([0, 2, 5, 7, 8]);
    const header = JSON.parse(Buffer.from(last[1].streams.eiger.frames[0], 'base64').toString());
    expect(header).to.include({ htype: 'image', frame: 1 });
    const status = await pipeline.api<{ assignment: unknown[]; failed_events: number }>('/api/v1/status');
    expect(status.failed_events).to.equal(0);
    const sequence = await pipeline.api<{ parts: Record<string, unknown>; sequence: string[] }>('/api/v1/sequence');
    expect(sequence.sequence).to.deep.equal(['reserved_start_end', 'main', 'main', 'tail', 'reserved_start_end']);
  });

  it('makes parameters visible in results, with the hash POST returned, and changes them between scans', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 1, workers: 2 });
    await waitFor('the label default', async () => (await fetch(`${pipeline!.controller}/api/v1/parameter/label`)).ok);
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/label`)).text()).to.equal('none');
    for (const label of ['first', 'second']) {
      const response = await pipeline.post('/api/v1/parameter/label', label);
      expect(response.status).to.equal(200);
      const hash = await response.json();
      await pipeline.setSequence(uniformSequence(['eiger'], 3));
      await eiger.play({ frames: 3, shape: [4, 4] });
      await pipeline.waitForFinish();
      const events = await pipeline.result<Events>('events');
      expect(events[2][0].label).to.equal(label);
      expect(events[2][0].hash).to.equal(hash);
    }
    const descriptions = await pipeline.api<{ name: string; dtype: string }[]>('/api/v1/parameters');
    expect(descriptions.map((d) => d.name)).to.deep.equal(['delay_ms', 'dump_prefix', 'exit_on', 'fail_on', 'label']);
  });

  it('stops a scan mid-way on /api/v1/stop', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(1), reducer: echoReducer,
    }, { ingesters: 1, workers: 1 });
    await pipeline.setSequence(uniformSequence(['eiger'], 100));
    // the header and 10 images, without series_end: the detector is still busy
    for (const m of stinsSeriesMessages({ frames: 10, shape: [4, 4] }).slice(0, -1)) await eiger.socket.send(m);
    await waitFor('10 images processed', async () => (await pipeline!.progress()).completed_events >= 11);
    expect((await pipeline.progress()).finished).to.equal(false);
    expect((await pipeline.post('/api/v1/stop', '')).status).to.equal(200);
    const progress = await pipeline.waitForFinish(10_000);
    expect(progress.completed_events).to.be.within(11, 101);
    expect(progress.total_events).to.equal(102);
    expect(progress, 'every event that did not end is counted, and the scan says it was stopped')
      .to.include({ outcome: 'stopped', lost_events: 102 - progress.completed_events });
  });

  it('ends a stream at an early series_end: the later events complete without it, counted missing, the end message in the end event', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer,
    }, { ingesters: 1, workers: 2 });
    await pipeline.setSequence(uniformSequence(['eiger'], 100));
    await eiger.play({ frames: 10, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(scanEndedWith(102, { missing: 90 }));
    const { missing } = await scanProblems(pipeline);
    expect(new Set(missing.map((m) => m.event)).size).to.equal(90);
    expect(missing.every((m) => m.event >= 11 && m.event <= 100 && m.reason === 'the upstream ended the series before this event')).to.equal(true);
    const events = await pipeline.result<Events>('events');
    expect(Object.keys(events).map(Number).sort((x, y) => x - y), 'user code ran on the events that had data').to.deep.equal([0, ...Array.from({ length: 10 }, (_, i) => i + 1), 101]);
    expect(events[101].map((r) => r.streams.eiger.kind)).to.deep.equal(['end', 'end']);
  });

  it('counts a throwing processEvent per event and a frame the ingester cannot use; the scan completes', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer, parameters: { fail_on: 3 },
    }, { ingesters: 1, workers: 2 });
    await pipeline.setSequence(uniformSequence(['eiger'], 5));
    const messages = stinsSeriesMessages({ frames: 5, shape: [4, 4] });
    messages.splice(3, 0, [Buffer.from('not json at all')]);
    for (const m of messages) await eiger.socket.send(m);
    expect(await pipeline.waitForFinish()).to.deep.equal(scanEndedWith(7, { failed: 1, bad: 1 }));
    const { failed, bad } = await scanProblems(pipeline);
    expect(failed.map((f) => f.event)).to.deep.equal([3]);
    expect(failed[0].reason).to.contain('asked to fail on event 3');
    expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:eiger-ingester/eiger', 3]]);
    const events = await pipeline.result<Events>('events');
    expect(Object.keys(events).map(Number).sort((x, y) => x - y)).to.deep.equal([0, 1, 2, 4, 5, 6]);
  });

  it('finishes a scan whose worker process dies mid-way, counting the lost events; the restarted worker takes part again', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(2), reducer: echoReducer, parameters: { exit_on: 10, delay_ms: 20 },
    }, { ingesters: 1, workers: 2 });
    await pipeline.setSequence(uniformSequence(['eiger'], 60));
    await eiger.play({ frames: 60, shape: [4, 4] });
    // event 10 kills each worker that takes it: the second death gives it up; every other event moves to a live worker
    const progress = await pipeline.waitForFinish(60_000);
    expect(progress).to.deep.equal(scanEndedWith(62, { lost: 1 }));
    const { lost } = await scanProblems(pipeline);
    expect(lost.map((e) => [e.event, e.reason])).to.deep.equal([[10, '2 workers died while processing it']]);
    expect(pipeline.output.join('')).to.match(/worker-\d ended \(exit code 3\)/);
    // the next scan runs with both workers again, once both are back
    await pipeline.waitForComponents({ ingesters: 1, workers: 2 });
    await pipeline.post('/api/v1/parameter/exit_on', '-1');
    await pipeline.setSequence(uniformSequence(['eiger'], 10));
    await eiger.play({ frames: 10, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.include({ completed_events: 12, finished: true });
    const events = await pipeline.result<Events>('events');
    expect(new Set(Object.values(events).flat().map((r) => r.worker))).to.deep.equal(new Set(['worker-1', 'worker-2']));
  });

  it('answers malformed requests with 4xx and a reason', async () => {
    const eiger = await source();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] }],
      workers: echoWorkers(1), reducer: echoReducer,
    }, { ingesters: 1, workers: 1 });
    const cases: [string, unknown, number, string][] = [
      ['/api/v1/sequence', '{not json', 400, 'not JSON'],
      ['/api/v1/sequence', uniformSequence(['nope'], 2), 400, "streams {'nope'} not available"],
      ['/api/v1/sequence', { parts: { main: { eiger: [[{ constraint: 1 }, { constraint: 2 }]] } }, sequence: ['main'] }, 400, 'only 1 workers available, but 2 required'],
      ['/api/v1/sequence', { parts: { main: { eiger: [[{ constraint: 'x' }]] } }, sequence: ['main'] }, 400, 'main'],
      ['/api/v1/sequence', { parts: {}, sequence: ['missing'] }, 400, 'missing'],
      ['/api/v1/sardana_hook', { streams: ['eiger'], scan: { nb_points: -3 } }, 400, 'nb_points'],
    ];
    for (const [path, body, status, detail] of cases) {
      const response = await pipeline.post(path, body, { json: true });
      expect(response.status, `${path} ${JSON.stringify(body)}`).to.equal(status);
      expect((await response.json()).detail).to.contain(detail);
    }
    await waitFor('fail_on described', async () => (await fetch(`${pipeline!.controller}/api/v1/parameter/fail_on`)).ok);
    const bad = await pipeline.post('/api/v1/parameter/fail_on', 'abc');
    expect(bad.status).to.equal(400);
    expect((await bad.json()).detail).to.contain('not an integer');
    const missing = await fetch(`${pipeline.controller}/api/v1/parameter/nothing`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.deep.equal({ detail: 'Parameter not found' });
  });
});
