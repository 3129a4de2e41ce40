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

const TESTS = join(ROOT, 'tango/sardana/tests');
const ECHO = join(ROOT, 'test/payloads/echo.ts');
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
    await pythonUnittests(TESTS, 13);
  });

  it('legacy /api/v1/sardana_hook: the exact payload of a Sardana pre-scan hook makes one event per point', async () => {
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
