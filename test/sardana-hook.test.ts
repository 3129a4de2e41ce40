/**
 * Sardana → pipeline: the legacy `/api/v1/sardana_hook` with the payloads real Sardana hooks send, and
 * the `dranspose_announce` macro (tango/sardana) run in Debian's Python with a Sardana stand-in and a
 * real PyTango measurement group device, against a live pipeline.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, startPipeline, waitFor, type TestPipeline, completeScan } from './helpers/pipeline.js';
import { PYTHON, run, stopProcess } from './helpers/process.js';
import { StinsSource } from './helpers/stins-source.js';
import { pythonUnittests } from './helpers/tango.js';
import type { EchoResult } from './payloads/echo.js';
import type { RecordResult } from './payloads/records.js';

const TESTS = join(ROOT, 'tango/sardana/tests');
const ECHO = join(ROOT, 'test/payloads/echo.ts');
const RECORDS = join(ROOT, 'test/payloads/records.ts');
type Events = Record<string, EchoResult[]>;
const c = (constraint: number | null) => [{ tags: ['generic'], constraint }];
/** stream → frame number of one result (streams arrive in any order) */
const framesOf = (result: EchoResult) => Object.fromEntries(Object.entries(result.streams).map(([s, v]) => [s, v.frame]));

/** The body a real Sardana pre-scan hook posted (reference/tango.md §4). */
const SARDANA_PAYLOAD = '{"streams":["ct01","ct02","ct03","ct04"],"scan":{"_name":"timescan","nb_points":10,"integ_time":0.01}}';

/** The legacy hook serialises the whole parent macro; what JSON cannot hold becomes "<<non-serializable: Type>>". */
const SERIALISED_MACRO_PAYLOAD = JSON.stringify({
  streams: ['ct01', 'eiger', 'orca'],
  scan: {
    _name: 'ascan', _in_pars: ['<<non-serializable: Motor>>', 0, 1, 2, 0.1], _out_pars: null, _aborted: false, _parent_macro: null,
    _executor: '<<non-serializable: MacroExecutor>>', _macro_thread: '<<non-serializable: OmniWorker>>',
    _hooks: [['<<non-serializable: ExecMacroHook>>', ['pre-scan']]], log_children: { 1407: '<<non-serializable: weakref>>' },
    motors: ['<<non-serializable: Motor>>'], starts: '<<non-serializable: ndarray>>', nb_points: 3, integ_time: 0.1,
    _gScan: '<<non-serializable: SScan>>', _data: {},
  },
});

const MEASUREMENT_GROUP = JSON.stringify({
  controllers: {
    ctctrl01: {
      channels: Object.fromEntries(['ct01', 'ct02', 'ct03'].map((name, index) => [
        `tango://host:10000/expchan/ctctrl01/${index + 1}`,
        { name, full_name: `tango://host:10000/expchan/ctctrl01/${index + 1}`, enabled: name !== 'ct03', index },
      ])),
    },
    eigerctrl: { channels: { 'tango://host:10000/expchan/eiger/1': { name: 'eiger_image', enabled: true, index: 3 } } },
  },
});

describe('Sardana hooks (live pipeline)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  const sources: Record<string, StinsSource> = {};
  let measurementGroup: ChildProcess | undefined;
  let groupName = '';

  before(async () => {
    for (const stream of ['ct01', 'eiger', 'sardana']) sources[stream] = await StinsSource.bind();
    const port = await freePort();
    measurementGroup = spawn(PYTHON, ['-B', join(TESTS, 'measurement_group.py'), 'test', '-nodb', '-dlist', 'test/mntgrp/1', '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`],
      { env: { ...process.env, MEASUREMENT_GROUP_CONFIGURATION: MEASUREMENT_GROUP }, stdio: ['ignore', 'pipe', 'pipe'] });
    let started = '';
    measurementGroup.stdout!.on('data', (d) => { started += d; });
    measurementGroup.stderr!.on('data', (d) => { started += d; });
    groupName = `tango://127.0.0.1:${port}/test/mntgrp/1#dbase=no`;
    pipeline = await startPipeline({
      ingesters: Object.entries(sources).map(([name, source]) => ({ name: `${name}-ingester`, streams: [{ name, protocol: 'stins', upstream: source.endpoint }] })),
      workers: [{ class: `${ECHO}:EchoWorker`, count: 2 }], reducer: { class: `${ECHO}:EchoReducer` },
    }, { ingesters: 3, workers: 2 });
    await waitFor(`the measurement group device (${started})`, async () => started.includes('Ready to accept request'));
  });

  after(async () => {
    await stopProcess(measurementGroup);
    await pipeline?.stop();
    for (const source of Object.values(sources)) source.close();
  });

  it("runs the Python hook's own tests (no Sardana needed)", async () => {
    await pythonUnittests(TESTS, 21);
  });

  it('legacy /api/v1/sardana_hook: the exact payload of a Sardana pre-scan hook makes one event per point', async () => {
    // as requests.post(url, json=...) sends it
    const response = await pipeline.post('/api/v1/sardana_hook', SARDANA_PAYLOAD, { json: true });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.match(/^[0-9a-f-]{36}$/);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        sardana: { mapping: { ct01: Array.from({ length: 10 }, (_, i) => c(i)) } },
        reserved_start_end: { mapping: { ct01: [c(null)] } },
      },
      sequence: ['reserved_start_end', 'sardana', 'reserved_start_end'],
    });
    await sources.ct01!.play({ frames: 10, shape: [2, 2] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(12));
    const events = await pipeline.result<Events>('events');
    for (let point = 0; point < 10; point++) {
      expect(events[point + 1], `point ${point}`).to.have.length(1);
      expect(events[point + 1]![0]!.streams).to.deep.equal({ ct01: { kind: 'image', frame: point, sum: StinsSource.imageSum({ frames: 10, shape: [2, 2] }, point), frames: 2 } });
    }
  });

  it('legacy /api/v1/sardana_hook: a whole serialised macro with <<non-serializable: Type>> values', async () => {
    const response = await pipeline.post('/api/v1/sardana_hook', SERIALISED_MACRO_PAYLOAD, { json: true });
    expect(response.status).to.equal(200);
    const sequence = await pipeline.api<{ parts: Record<string, { mapping: Record<string, unknown[]> }> }>('/api/v1/sequence');
    expect(sequence.parts.sardana!.mapping).to.deep.equal({ ct01: [c(0), c(1), c(2)], eiger: [c(0), c(1), c(2)] });
    await Promise.all([sources.ct01!.play({ frames: 3, shape: [2, 2] }), sources.eiger!.play({ frames: 3, shape: [2, 2] })]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(5));
    const events = await pipeline.result<Events>('events');
    for (let point = 0; point < 3; point++) {
      expect(framesOf(events[point + 1]![0]!)).to.deep.equal({ ct01: point, eiger: point });
    }
  });

  async function runHook(parent: Record<string, unknown> | null, env: Record<string, unknown>): Promise<[string, string][]> {
    const request = { url: pipeline.controller, parent, env: { ActiveMntGrp: groupName, ...env } };
    const { stdout } = await run(PYTHON, ['-B', join(TESTS, 'run_hook.py'), JSON.stringify(request)]);
    return JSON.parse(stdout);
  }

  it('dranspose_announce: a burstscan becomes frames per point from the measurement group, Sardana records on the last frame', async () => {
    const printed = await runHook({ name: 'burstscan', nb_points: 3, integ_time: -2 }, { DransposeStreams: "{'eiger_image': 'eiger', 'ct01': None}" });
    expect(printed).to.have.length(1);
    expect(printed[0]![0]).to.equal('output');
    expect(printed[0]![1]).to.match(new RegExp(`^dranspose: burst scan announced to ${pipeline.controller} \\(requested streams ct02, eiger, sardana\\), mapping [0-9a-f-]{36}$`));
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        point: { mapping: { eiger: [c(0), c(0)], sardana: [null, c(0)] } },
        reserved_start_end: { mapping: { eiger: [c(null)], sardana: [c(null)] } },
      },
      sequence: ['reserved_start_end', 'point', 'point', 'point', 'reserved_start_end'],
    });
    await Promise.all([sources.eiger!.play({ frames: 6, shape: [2, 2] }), sources.sardana!.play({ frames: 3, shape: [2, 2] })]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(8));
    const events = await pipeline.result<Events>('events');
    for (let point = 0; point < 3; point++) {
      const [first, last] = [events[2 * point + 1]![0]!, events[2 * point + 2]![0]!];
      expect(framesOf(first)).to.deep.equal({ eiger: 2 * point });
      expect(framesOf(last)).to.deep.equal({ eiger: 2 * point + 1, sardana: point });
      expect(first.worker, `point ${point} on one worker`).to.equal(last.worker);
    }
  });

  it('dranspose_announce: a scan the pipeline refuses is a warning, and the running map stays', async () => {
    const before = await pipeline.api('/api/v1/sequence');
    const printed = await runHook({ name: 'timescan', nb_points: 10, integ_time: 0.01 },
      { DransposeStreams: { ct01: null, eiger_image: null }, DransposeScanStream: 'nosuch' });
    expect(printed).to.deep.equal([['warning', `dranspose_announce: ${pipeline.controller} refused the scan (HTTP 400): none of the streams ['ct02', 'nosuch'] `
      + "is available (available: ['ct01', 'eiger', 'sardana']); the scan runs without the pipeline"]]);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal(before);
  });
});

/**
 * A Sardana session end to end: the pre-scan hook announces the scan from the parent macro's real
 * attributes, and the dranspose recorder (tango/sardana/dranspose_recorder.py, driven as Sardana's
 * GScan drives file recorders) posts its records to the pipeline's `sardana` ingester.
 */
describe('Sardana hook and recorder (live pipeline)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let ingester = '';
  const COUNTERS = ['tango://host:10000/expchan/ctctrl01/1', 'tango://host:10000/expchan/ctctrl01/2'];

  before(async () => {
    ingester = `http://127.0.0.1:${await freePort()}`;
    pipeline = await startPipeline({
      ingesters: [{ name: 'sardana-ingester', streams: [{ name: 'sardana', protocol: 'sardana', upstream: ingester }] }],
      workers: [{ class: `${RECORDS}:RecordWorker`, count: 2 }], reducer: { class: `${RECORDS}:RecordReducer` },
    }, { ingesters: 1, workers: 2 });
  });

  after(async () => {
    await pipeline?.stop();
  });

  async function announce(macro: string, args: unknown[]): Promise<[string, string][]> {
    // no measurement group: the scan stream alone
    const request = { url: pipeline.controller, parent: { macro, args }, env: {} };
    const { stdout } = await run(PYTHON, ['-B', join(TESTS, 'run_hook.py'), JSON.stringify(request)]);
    return JSON.parse(stdout);
  }

  async function record(scan: Record<string, unknown>, env: Record<string, unknown> = {}): Promise<[string, string][]> {
    const request = { env: { DransposeIngester: ingester, ScanDir: null, ScanFile: ['stream.daq'], ...env }, scan: { counters: COUNTERS, ...scan } };
    const { stdout } = await run(PYTHON, ['-B', join(TESTS, 'run_recorder.py'), JSON.stringify(request)]);
    return JSON.parse(stdout);
  }

  const recordOf = (events: Record<string, RecordResult[]>, event: number) =>
    (events[event]![0]!.streams.sardana as { record: Record<string, unknown> }).record;

  it('a step mesh (6 points, nr_intervs [2, 1]) is 6 step points, one worker per point; the recorder posts each record', async () => {
    const printed = await announce('mesh', [2, 1, 0.1]);
    expect(printed[0]![1]).to.match(/^dranspose: step scan announced to .* \(requested streams sardana\), mapping /);
    const sequence = await pipeline.api<{ parts: Record<string, { mapping: Record<string, unknown[]> }>; sequence: string[] }>('/api/v1/sequence');
    expect(sequence.parts.point!.mapping).to.deep.equal({ sardana: [c(0)] });
    expect(sequence.sequence).to.have.length(8);
    expect(await record({ title: 'mesh mot01 0 1 2 mot02 0 1 1 0.1', points: 6 })).to.deep.equal([]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(8));
    const events = await pipeline.result<Record<string, RecordResult[]>>('events');
    expect([1, 2, 3, 4, 5, 6].map((e) => recordOf(events, e).point_nb)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(new Set([1, 2, 3, 4, 5, 6].map((e) => events[e]![0]!.worker)), 'points spread over both workers').to.deep.equal(new Set(['worker-1', 'worker-2']));
    expect(recordOf(events, 0)).to.include({ type: 'DataDescription', scandir: null, title: 'mesh mot01 0 1 2 mot02 0 1 1 0.1', serialno: 17 });
    expect(recordOf(events, 7)).to.include({ type: 'RecordEnd', deadtime: 0.25 });
  });

  it('a timescan whose last counter is not read yet: NaN reaches the workers as a number', async () => {
    const printed = await announce('timescan', [3, 0.1]);
    expect(printed[0]![1]).to.match(/^dranspose: step scan announced/);
    expect(await record({ title: 'timescan 3 0.1', points: 4, unread: { 2: [COUNTERS[1]], 3: COUNTERS } })).to.deep.equal([]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(6));
    const events = await pipeline.result<Record<string, RecordResult[]>>('events');
    expect([1, 2, 3, 4].map((e) => COUNTERS.map((name) => recordOf(events, e)[name]))).to.deep.equal([[1, 2], [2, 4], [3, 'NaN'], ['NaN', 'NaN']]);
    const status = await pipeline.api<{ bad_frames: number }>('/api/v1/status');
    expect(status.bad_frames).to.equal(0);
  });

  it('a meshct is lines × points, each line on one worker', async () => {
    const printed = await announce('meshct', [2, 1, 0.1]);
    expect(printed[0]![1]).to.match(/^dranspose: fly scan announced/);
    expect(await record({ title: 'meshct mot01 0 1 2 mot02 0 1 1 0.1', points: 6 })).to.deep.equal([]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(8));
    const events = await pipeline.result<Record<string, RecordResult[]>>('events');
    const workers = [1, 2, 3, 4, 5, 6].map((e) => events[e]![0]!.worker);
    expect(new Set(workers.slice(0, 3)).size, 'line 1 on one worker').to.equal(1);
    expect(new Set(workers.slice(3)).size, 'line 2 on one worker').to.equal(1);
  });

  it('an unreachable ingester is one warning, and the scan runs on', async () => {
    const logged = await record({ title: 'timescan 1 0.1', points: 2 }, { DransposeIngester: `http://127.0.0.1:${await freePort()}` });
    expect(logged).to.have.length(1);
    expect(logged[0]![0]).to.equal('warning');
    expect(logged[0]![1]).to.match(/^dranspose recorder: http:\/\/127\.0\.0\.1:\d+: \/v1\/data_desc .*refused.*; the rest of this scan is not sent to the pipeline$/);
  });
});
