/**
 * The pipeline as a Tango device: the REST device model through the axios client, the PyTango bridge
 * that `dranspose run` starts (DeviceProxy reads, writes, commands and change events in Debian's
 * Python), worker scaling, FAULT and recovery, Taurus, and the `dranspose tango` command.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { BIN, REDIS_URL, ROOT, TestPipeline, deletePrefix, freePort, startPipeline, uniformSequence, waitFor } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { TangoRestClient, TangoRestError, isFailure, type AttributeValue } from '../src/tango/client.js';
import { startControllerServer } from '../src/controller/server.js';
import { PipelineDevice } from '../src/controller/tango/model.js';
import { tangoRouter } from '../src/controller/tango/rest.js';
import type { ParameterResult } from './tango-payload.js';
import { PYTHON, run, stopProcess } from './helpers/process.js';
import { BRIDGE, EventLog, changes, python } from './helpers/tango.js';

const PAYLOAD = join(ROOT, 'test/tango-payload.ts');
const ECHO = join(ROOT, 'test/payloads/echo.ts');

async function refusal(promise: Promise<unknown>): Promise<TangoRestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TangoRestError) return error;
    throw error;
  }
  throw new Error('expected a Tango refusal');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const FIXED = ['State', 'Status', 'completedEvents', 'totalEvents', 'streams', 'workers', 'workerLoad', 'workerCount',
  'meanLoad', 'maxLoad', 'eventRate', 'lostEvents', 'failedEvents', 'badFrames', 'missingFrames'];
const PARAMETERS = ['calibration', 'dump_prefix', 'enabled', 'fail_on', 'gain', 'note', 'roi_size'];

describe('Tango device of a pipeline (dranspose run with a tango: section)', function () {
  this.timeout(90_000);
  let pipeline: TestPipeline;
  let source: StinsSource;
  let rest: TangoRestClient;
  let tangoPort: number;
  let proxyUrl: string;
  const device = `test/dranspose/t${randomUUID().slice(0, 8)}`;

  async function scan(frames: number, rate = 0): Promise<unknown> {
    await pipeline.setSequence(uniformSequence(['eiger'], frames));
    await source.play({ frames, shape: [4, 4], rate });
    return await pipeline.waitForFinish();
  }

  before(async function () {
    this.timeout(120_000);
    source = await StinsSource.bind();
    tangoPort = await freePort();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${PAYLOAD}:ParameterWorker`, count: 2 }],
      reducer: { class: `${ECHO}:EchoReducer` },
      tango: { device, port: tangoPort, host: '127.0.0.1' },
    }, { ingesters: 1, workers: 2 });
    rest = new TangoRestClient(pipeline.controller, 'localhost', 10000, device);
    proxyUrl = `tango://127.0.0.1:${tangoPort}/${device}#dbase=no`;
    // the bridge adds the parameter attributes once the workers registered them
    await waitFor(`the bridge with every attribute\n${pipeline.output.join('')}`, async () => {
      const names = await python<string[]>('print(json.dumps(list(dp.get_attribute_list())))', [proxyUrl]);
      return PARAMETERS.every((p) => names.includes(p)) && (await rest.state()).state === 'ON';
    }, 40_000, 300);
  });

  after(async () => {
    await pipeline?.stop();
    source?.close();
  });

  it('serves the device model in the Tango REST v1.1 shapes', async () => {
    expect((await axios.get(`${pipeline.controller}/tango/rest`)).data).to.deep.equal({ v11: `${pipeline.controller}/tango/rest/v11` });
    const { data: deviceObject } = await axios.get(rest.deviceUrl);
    expect(deviceObject.name).to.equal(device);
    expect(deviceObject.info).to.include({ exported: true, classname: 'DransposePipeline' });
    expect(deviceObject.attributes).to.equal(`${rest.deviceUrl}/attributes`);

    const state = await rest.state();
    expect(state.state).to.equal('ON');
    const lines = state.status.split('\n');
    expect(lines).to.include("eiger-ingester, streams: ['eiger']");
    expect(lines).to.include("worker-1, tags: ['generic'], last:None, evs:0, ld10: 0.00, ld: 0.00");
    expect(lines).to.include('reducer');
    expect(lines.at(-1)).to.equal('completedEvents 0 totalEvents 0');

    const attributes = await rest.attributes();
    expect(attributes.map((a) => a.name)).to.deep.equal([...FIXED, ...PARAMETERS]);
    const { data: gainObject } = await axios.get(`${rest.deviceUrl}/attributes/GAIN`);
    expect(gainObject).to.include({ name: 'gain', value: `${rest.deviceUrl}/attributes/gain/value` });
    expect(gainObject.info).to.include({ data_type: 'DevDouble' });
    const plain = await axios.get(`${rest.deviceUrl}/attributes/workers/value`, { headers: { Accept: 'text/plain' }, responseType: 'text' });
    expect(plain.data).to.equal('["worker-1","worker-2"]');
    expect(await rest.info('workerCount')).to.include({ writable: 'READ_WRITE', data_format: 'SCALAR', data_type: 'DevLong', min_value: '0', max_value: '64' });
    expect(await rest.info('workers')).to.include({ writable: 'READ', data_format: 'SPECTRUM', data_type: 'DevString' });
    expect(await rest.info('gain')).to.include({ writable: 'READ_WRITE', data_type: 'DevDouble', description: 'detector gain' });
    expect(await rest.info('roi_size')).to.include({ data_type: 'DevLong64' });
    expect(await rest.info('enabled')).to.include({ data_type: 'DevBoolean' });
    expect(await rest.info('calibration')).to.include({ data_type: 'DevString', writable: 'READ_WRITE' });

    const values = await rest.readMany(['completedEvents', 'TOTALEVENTS', 'streams', 'workers', 'workerLoad', 'workerCount', 'gain', 'roi_size', 'enabled', 'note', 'calibration', 'nope']);
    const failure = values.pop()!;
    expect(isFailure(failure) && failure.name === 'nope' && failure.errors[0].reason).to.equal('API_AttrNotFound');
    const ok = values as AttributeValue[];
    expect(ok.map((v) => [v.name, v.value])).to.deep.equal([
      ['completedEvents', 0], ['totalEvents', 0], ['streams', ['eiger']], ['workers', ['worker-1', 'worker-2']], ['workerLoad', [0, 0]],
      ['workerCount', 2], ['gain', 1.5], ['roi_size', 4], ['enabled', true], ['note', 'none'], ['calibration', ''],
    ]);
    expect(ok[0]).to.include({ quality: 'ATTR_VALID', host: 'localhost:10000', device });
    expect(ok[0].timestamp).to.be.within(Date.now() - 60_000, Date.now() + 1000);

    // names are case-insensitive, any Tango host is accepted
    const shouting = new TangoRestClient(pipeline.controller, 'elsewhere', 1234, device.toUpperCase());
    expect((await shouting.read('WORKERCOUNT')).value).to.equal(2);

    const commands = await rest.commands();
    expect(commands.map((c) => c.name)).to.deep.equal(['State', 'Status', 'SetSequence', 'Stop']);
    expect(commands[2].info).to.include({ in_type: 'DevString', out_type: 'DevString' });
    expect((await rest.command('State')).output).to.equal('ON');

    // the spec's MUST: a request the server cannot serve is 400 with the error body
    const unknownDevice = await refusal(new TangoRestClient(pipeline.controller, 'localhost', 10000, 'no/such/device').read('State'));
    expect([unknownDevice.status, unknownDevice.reason]).to.deep.equal([400, 'API_DeviceNotDefined']);
    const unknownAttribute = await refusal(rest.read('nope'));
    expect([unknownAttribute.status, unknownAttribute.reason]).to.deep.equal([400, 'API_AttrNotFound']);
    expect(unknownAttribute.errors[0]).to.include({ severity: 'ERR' });
    const unknownCommand = await refusal(rest.command('Explode'));
    expect([unknownCommand.status, unknownCommand.reason]).to.deep.equal([400, 'API_CommandNotFound']);
  });

  it('writes through REST; wrong types, limits, read-only attributes and bad trigger maps are Tango errors that change nothing', async () => {
    expect((await rest.write('note', 'from rest')).value).to.equal('from rest');
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/note`)).text()).to.equal('from rest');
    expect((await rest.write('gain', '0.5')).value).to.equal(0.5);
    const viaBody = await axios.put(`${rest.deviceUrl}/attributes/roi_size/value`, '5', { headers: { 'content-type': 'application/json' } });
    expect(viaBody.data).to.include({ name: 'roi_size', value: 5 });
    const { data: bulk } = await axios.put(`${rest.deviceUrl}/attributes/value`, null, { params: { note: 'bulk', enabled: 'false', nope: 1 } });
    expect(bulk.map((v: { name: string; value?: unknown; errors?: { reason: string }[] }) => [v.name, v.errors?.[0].reason ?? v.value]))
      .to.deep.equal([['note', 'bulk'], ['enabled', false], ['nope', 'API_AttrNotFound']]);
    const quiet = await axios.put(`${rest.deviceUrl}/attributes/enabled/value`, null, { params: { v: 'true', async: 'true' } });
    expect([quiet.status, (await rest.read('enabled')).value]).to.deep.equal([204, true]);

    const refusals = {
      wrongInt: await refusal(rest.write('fail_on', 'abc')),
      wrongBool: await refusal(rest.write('enabled', 'maybe')),
      readOnly: await refusal(rest.write('completedEvents', 5)),
      negative: await refusal(rest.write('workerCount', -1)),
      tooMany: await refusal(rest.write('workerCount', 1000)),
      pathToBinary: await refusal(rest.write('calibration', '/etc/os-release')),
      notJson: await refusal(rest.command('SetSequence', '{bad')),
      badMap: await refusal(rest.command('SetSequence', JSON.stringify({ parts: 5 }))),
      unknownStream: await refusal(rest.command('SetSequence', JSON.stringify(uniformSequence(['nostream'], 3)))),
      noInput: await refusal(rest.command('SetSequence')),
      inputToVoid: await refusal(rest.command('Stop', 'now')),
    };
    expect(Object.fromEntries(Object.entries(refusals).map(([k, e]) => [k, [e.status, e.reason]]))).to.deep.equal({
      wrongInt: [400, 'API_IncompatibleAttrDataType'],
      wrongBool: [400, 'API_IncompatibleAttrDataType'],
      readOnly: [400, 'API_AttrNotWritable'],
      negative: [400, 'API_WAttrOutsideLimit'],
      tooMany: [400, 'API_WAttrOutsideLimit'],
      pathToBinary: [400, 'API_IncompatibleAttrDataType'],
      notJson: [400, 'DRANSPOSE_BadSequence'],
      badMap: [400, 'DRANSPOSE_BadSequence'],
      unknownStream: [400, 'DRANSPOSE_SequenceRefused'],
      noInput: [400, 'API_IncompatibleCmdArgumentType'],
      inputToVoid: [400, 'API_IncompatibleCmdArgumentType'],
    });
    expect(refusals.wrongInt.message).to.include('not an integer');
    expect(refusals.pathToBinary.message).to.include('send its bytes as the request body');
    expect(refusals.unknownStream.message).to.include('nostream');

    expect((await rest.readMany(['fail_on', 'enabled', 'workerCount', 'State', 'totalEvents'])).map((v) => (v as AttributeValue).value))
      .to.deep.equal([-1, true, 2, 'ON', 0]);
    expect(await pipeline.progress()).to.include({ total_events: 0 });
  });

  it('shows every attribute to a PyTango DeviceProxy with the values of the model', async () => {
    const script = `
names = list(dp.get_attribute_list())
print(json.dumps({n: attempt(lambda n=n: dp.read_attribute(n).value) for n in names}))`;
    const expected = Object.fromEntries((await rest.readMany([...FIXED, ...PARAMETERS])).map((v) => [v.name, (v as AttributeValue).value]));
    // an empty DevString spectrum reads as None in PyTango
    let seen: Record<string, { ok?: unknown; reason?: string }> = {};
    await waitFor('the bridge to mirror the model', async () => {
      seen = await python(script, [proxyUrl]);
      return Object.keys(seen).length === FIXED.length + PARAMETERS.length
        && Object.entries(expected).every(([name, value]) => JSON.stringify(seen[name]?.ok) === JSON.stringify(value));
    }, 10_000, 200).catch((error) => { throw new Error(`${error.message}\nseen: ${JSON.stringify(seen)}\nexpected: ${JSON.stringify(expected)}`); });
    const commands = await python<string[]>('print(json.dumps(sorted(dp.get_command_list())))', [proxyUrl]);
    expect(commands).to.deep.equal(['Init', 'SetSequence', 'State', 'Status', 'Stop']);

    // Init rebuilds the mirrored attributes and commands from the model
    const rebuilt = await python<{ names: string[]; gain: { ok?: unknown }; commands: string[] }>(`
before = sorted(dp.get_attribute_list())
dp.Init()
deadline = time.time() + 10
while True:
    gain = attempt(lambda: dp.read_attribute("gain").value)
    if "ok" in gain or time.time() > deadline: break
    time.sleep(0.05)
print(json.dumps({"names": sorted(dp.get_attribute_list()), "before": before, "gain": gain, "commands": sorted(dp.get_command_list())}))`, [proxyUrl]);
    expect(rebuilt.names).to.deep.equal([...FIXED, ...PARAMETERS].sort((a, b) => (a < b ? -1 : 1)));
    expect(rebuilt.gain.ok).to.equal(expected.gain);
    expect(rebuilt.commands).to.deep.equal(commands);
  });

  it('writes parameters through Tango (a binary one as a file path) and the workers compute with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dranspose-tango-'));
    const calibration = join(dir, 'calibration.cfg');
    writeFileSync(calibration, 'cal-v1 ✓');
    const written = await python<Record<string, unknown>>(`
dp.write_attribute("gain", 2.75)
dp.write_attribute("roi_size", 7)
dp.write_attribute("enabled", False)
dp.write_attribute("note", "via tango")
dp.write_attribute("calibration", sys.argv[2])
print(json.dumps({n: plain(dp.read_attribute(n).value) for n in ["gain", "roi_size", "enabled", "note", "calibration"]}))`, [proxyUrl, calibration]);
    expect(written).to.deep.equal({ gain: 2.75, roi_size: 7, enabled: false, note: 'via tango', calibration });
    const stored = async (name: string) => await (await fetch(`${pipeline.controller}/api/v1/parameter/${name}`)).text();
    expect([await stored('gain'), await stored('roi_size'), await stored('enabled'), await stored('note'), await stored('calibration')])
      .to.deep.equal(['2.75', '7', 'False', 'via tango', 'cal-v1 ✓']);

    // the scan is started through Tango as well
    const scanId = await python<string>('print(json.dumps(dp.command_inout("SetSequence", sys.argv[2])))', [proxyUrl, JSON.stringify(uniformSequence(['eiger'], 4))]);
    expect(scanId).to.match(/^[0-9a-f-]{36}$/);
    await source.play({ frames: 4, shape: [4, 4] });
    await pipeline.waitForFinish();
    const events = await pipeline.result<Record<string, ParameterResult[]>>('events');
    const values = Object.values(events).flat().map((r) => r.values);
    expect(values).to.have.length(8); // start and end reach both workers
    for (const v of values) expect(v).to.deep.equal({ gain: 2.75, roi_size: 7, enabled: false, note: 'via tango', calibration: 'cal-v1 ✓' });
  });

  it('pushes change events: State ON → RUNNING → ON over a scan, completedEvents as it grows', async () => {
    const log = await EventLog.start(proxyUrl, ['State', 'completedEvents', 'totalEvents', 'Status']);
    try {
      // a subscription starts with the current value; the end of the previous test's scan may take a poll to reach the device
      await log.until('State ON', () => log.of('State').at(-1)?.value === 'ON');
      const settled = log.of('State').length - 1;
      const id = (await rest.command('SetSequence', JSON.stringify(uniformSequence(['eiger'], 20)))).output;
      expect(id).to.be.a('string');
      await log.until('State RUNNING', () => log.of('State').some((e) => e.value === 'RUNNING'));
      await log.until('totalEvents 22', () => log.of('totalEvents').some((e) => e.value === 22));
      await source.play({ frames: 20, shape: [4, 4], rate: 20 });
      await pipeline.waitForFinish();
      await log.until('State ON again', () => log.of('State').at(-1)?.value === 'ON');
      expect(changes(log.of('State').slice(settled))).to.deep.equal(['ON', 'RUNNING', 'ON']);
      // the subscription starts with the count the bridge last polled (the previous scan's, or a stale 0 a poll
      // before its end); the new scan starts where the count last went down
      const counts = changes(log.of('completedEvents')) as number[];
      const start = counts.reduce((at, count, i) => (i > 0 && count < counts[i - 1]! ? i : at), 0);
      const completed = counts.slice(start);
      expect(completed.at(-1)).to.equal(22);
      expect(completed.length, `completedEvents events ${completed}`).to.be.at.least(4);
      expect([...completed].sort((a, b) => a - b)).to.deep.equal(completed);
      expect(log.of('Status').at(-1)!.value as string).to.match(/completedEvents 22 totalEvents 22$/);
      expect(log.of('Status').at(-1)!.value as string).to.match(/^worker-1, tags: \['generic'\], last:\d+, evs:\d+, ld10: \d\.\d\d, ld: \d\.\d\d$/m);
    } finally {
      await log.stop();
    }
  });

  it('refuses bad writes and commands through Tango with DevFailed and a reason, leaving the state alone', async () => {
    const result = await python<Record<string, { ok?: unknown; reason?: string; desc?: string }>>(`
info = dp.get_attribute_config("fail_on")
info.data_type = tango.CmdArgType.DevString  # a client that sends a string to a DevLong64
print(json.dumps({
  "wrongType": attempt(lambda: dp.write_attribute(info, "abc")),
  "negativeWorkers": attempt(lambda: dp.write_attribute("workerCount", -1)),
  "readOnly": attempt(lambda: dp.write_attribute("completedEvents", 3)),
  "notJson": attempt(lambda: dp.command_inout("SetSequence", "{bad")),
  "unknownStream": attempt(lambda: dp.command_inout("SetSequence", json.dumps({"parts": {"p": {"nostream": [[{"constraint": 1}]]}}, "sequence": ["p"]}))),
  "missingFile": attempt(lambda: dp.write_attribute("calibration", "/nonexistent/cal.cfg")),
  "state": attempt(lambda: dp.state()),
  "failOn": attempt(lambda: dp.read_attribute("fail_on").value),
}))`, [proxyUrl]);
    expect(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.reason ?? v.ok]))).to.deep.equal({
      wrongType: 'API_IncompatibleAttrDataType',
      negativeWorkers: 'API_WAttrOutsideLimit',
      readOnly: 'API_AttrNotWritable',
      notJson: 'DRANSPOSE_BadSequence',
      unknownStream: 'DRANSPOSE_SequenceRefused',
      missingFile: 'DRANSPOSE_FileNotReadable',
      state: 'ON',
      failOn: -1,
    });
    expect(result.notJson.desc).to.include('not JSON');
    expect(result.missingFile.desc).to.include('/nonexistent/cal.cfg');
  });

  it('scales the workers when workerCount is written', async () => {
    const workerNames = async () => (await pipeline.api<{ workers: { name: string }[] }>('/api/v1/config')).workers.map((w) => w.name).sort();
    const write = async (count: number) => await python(`dp.write_attribute("workerCount", ${count}); print(json.dumps(True))`, [proxyUrl]);
    await write(3);
    await waitFor('three workers', async () => JSON.stringify(await workerNames()) === JSON.stringify(['worker-1', 'worker-2', 'worker-3']), 30_000);
    await waitFor('the bridge to list three workers', async () =>
      (await python<string[]>('print(json.dumps(plain(dp.read_attribute("workers").value)))', [proxyUrl])).length === 3, 10_000, 200);
    await write(1);
    await waitFor('one worker', async () => JSON.stringify(await workerNames()) === JSON.stringify(['worker-1']), 30_000);
    expect((await rest.read('workerCount')).value).to.equal(1);
    await write(2);
    await waitFor('two workers', async () => (await workerNames()).length === 2, 30_000);
    await waitFor('State ON with two workers', async () => (await rest.state()).state === 'ON', 30_000);
  });

  it('is FAULT after a worker errs during a scan, and ON again after a clean scan', async () => {
    await rest.write('fail_on', 2);
    await scan(4);
    expect((await rest.state()).state).to.equal('FAULT');
    // the worker's error count reaches the registry with its next heartbeat
    await waitFor('the error count in Status', async () => /^worker-\d: 1 error since the scan began$/m.test((await rest.state()).status), 5000);
    const fault = await rest.state();
    expect(fault.state).to.equal('FAULT');
    expect(fault.status).to.include('first failed event 2 (worker-');
    expect(fault.status).to.include('asked to fail on event 2');
    await waitFor('FAULT through Tango', async () => (await python<string>('print(json.dumps(str(dp.state())))', [proxyUrl])) === 'FAULT', 5000, 200);
    await rest.write('fail_on', -1);
    await scan(4);
    const clean = await rest.state();
    expect(clean.state, clean.status).to.equal('ON');
  });

  it('delivers a value changed in the controller as a Tango change event within a poll period', async () => {
    const timings = await python<{ latencies: number[]; writes: number[] }>(`
import queue, random, requests
url = sys.argv[2]
arrived = queue.Queue()
subscription = dp.subscribe_event("note", tango.EventType.CHANGE_EVENT, lambda e: None if e.err else arrived.put((e.attr_value.value, time.time())))
latencies, writes = [], []
for i in range(10):
    want = "latency-%d" % i
    sent = time.time()
    requests.put(url, params={"v": want}).raise_for_status()
    while True:
        value, at = arrived.get(timeout=5)
        if value == want: break
    latencies.append(at - sent)
    time.sleep(random.uniform(0, 0.3))  # no phase lock with the bridge's poll period
dp.unsubscribe_event(subscription)
for i in range(10):
    t = time.time()
    dp.write_attribute("note", "tango-write-%d" % i)
    writes.append(time.time() - t)
print(json.dumps({"latencies": latencies, "writes": writes}))`, [proxyUrl, `${rest.deviceUrl}/attributes/note/value`]);
    console.log(`      controller → Tango event latency: median ${(median(timings.latencies) * 1000).toFixed(0)} ms, max ${(Math.max(...timings.latencies) * 1000).toFixed(0)} ms; `
      + `DeviceProxy write (Tango → REST → Redis): median ${(median(timings.writes) * 1000).toFixed(1)} ms`);
    expect(Math.max(...timings.latencies)).to.be.below(1.0);
    expect(median(timings.writes)).to.be.below(0.5);
    expect((await rest.read('note')).value).to.equal('tango-write-9');
  });

  it('reads attributes with Taurus (tango-nodb scheme)', async function () {
    const probe = await run(PYTHON, ['-c', 'import taurus'], { timeout: 30_000 }).then(() => '', (e) => String(e.stderr || e.message));
    if (probe) {
      console.log(`      skipped: Taurus is not installed for ${PYTHON} (apt-get install python3-taurus): ${probe.trim().split('\n').pop()}`);
      this.skip();
    }
    const script = `
import taurus
base = "tango-nodb://127.0.0.1:%s/%s/" % (sys.argv[2], sys.argv[3])
def value(name):
    v = taurus.Attribute(base + name).read().rvalue
    v = getattr(v, "magnitude", v)
    return plain(v)
print(json.dumps({n: value(n) for n in ["completedEvents", "totalEvents", "workerCount", "note", "workers", "gain"]}))`;
    const taurus = await python<Record<string, unknown>>(script, [proxyUrl, String(tangoPort), device]);
    const model = Object.fromEntries((await rest.readMany(['completedEvents', 'totalEvents', 'workerCount', 'note', 'workers', 'gain']))
      .map((v) => [v.name, (v as AttributeValue).value]));
    expect(taurus).to.deep.equal(model);
    expect(taurus.completedEvents).to.equal(6);
  });

  it('reads, writes and runs commands from the command line (dranspose tango)', async () => {
    const cli = async (...args: string[]) => await run(process.execPath, [BIN, 'tango', '--controller', pipeline.controller, '--device', device, ...args], { cwd: ROOT })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }));
    const read = await cli('read', 'workerCount', 'workers', 'roi_size');
    expect([read.code, read.stdout]).to.deep.equal([0, 'workerCount = 2\nworkers = ["worker-1","worker-2"]\nroi_size = 7\n']);
    const write = await cli('write', 'note', 'from the cli');
    expect([write.code, write.stdout]).to.deep.equal([0, 'note = from the cli\n']);
    // a binary parameter: the command line reads the file and sends its bytes
    const file = join(mkdtempSync(join(tmpdir(), 'dranspose-cli-')), 'cal.bin');
    writeFileSync(file, 'cli bytes');
    const upload = await cli('write', '--file', 'calibration', file);
    expect(upload.code, upload.stderr).to.equal(0);
    expect(upload.stdout).to.match(/^calibration = 9 bytes, sha256 [0-9a-f]{16}\n$/);
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/calibration`)).text()).to.equal('cli bytes');
    const asPath = await cli('write', 'calibration', file);
    expect([asPath.code, asPath.stderr]).to.deep.equal([1, `dranspose: API_IncompatibleAttrDataType: calibration is a binary parameter: send its bytes as the request body `
      + '(Content-Type: application/octet-stream), e.g. the content of a file you read; a path or a ?v= text is not taken\n']);
    const bad = await cli('cmd', 'SetSequence', '{bad');
    expect(bad.code).to.equal(1);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
    expect(bad.stderr).to.match(/^dranspose: DRANSPOSE_BadSequence: the trigger map is not JSON/);
    const missing = await cli('read', 'nope');
    expect([missing.code, missing.stdout]).to.deep.equal([1, 'nope: API_AttrNotFound: nope is not an attribute of ' + device + '\n']);
  });
});

describe('Tango device: the controller going away and coming back', function () {
  this.timeout(120_000);
  const pipelines: TestPipeline[] = [];
  let bridge: ChildProcess | undefined;

  after(async () => {
    await stopProcess(bridge);
    for (const p of pipelines) await p.stop();
  });

  it('turns FAULT with the reason in Status while the controller is down, and ON by itself when it is back', async () => {
    const device = `test/dranspose/r${randomUUID().slice(0, 8)}`;
    const first = await startPipeline({ workers: [{ count: 1 }], tango: { device, port: await freePort(), host: '127.0.0.1' } }, { ingesters: 0, workers: 1 });
    pipelines.push(first);
    // a bridge of our own, so it outlives the pipeline (the pipeline's own bridge stops with it)
    const bridgePort = await freePort();
    bridge = spawn(PYTHON, [BRIDGE, '--controller-url', first.controller, 'recovery', '-nodb', '-dlist', device, '-ORBendPoint', `giop:tcp:127.0.0.1:${bridgePort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const bridgeLog: string[] = [];
    bridge.stderr!.on('data', (d: Buffer) => bridgeLog.push(d.toString()));
    const url = `tango://127.0.0.1:${bridgePort}/${device}#dbase=no`;
    const state = async () => await python<string>('print(json.dumps(str(dp.state())))', [url]);
    await waitFor('the standalone bridge', async () => (await state()) === 'ON', 30_000, 300)
      .catch((error) => { throw new Error(`${error.message}\n${bridgeLog.join('')}`); });

    const log = await EventLog.start(url, ['State', 'Status', 'workerCount']);
    try {
      await log.until('State ON', () => log.of('State').at(-1)?.value === 'ON');
      await first.stop();
      const downAt = Date.now() / 1000;
      await log.until('State FAULT', () => log.of('State').at(-1)?.value === 'FAULT');
      const faultDelay = log.of('State').at(-1)!.t - downAt;
      await log.until('the reason in Status', () => /^the dranspose controller at http:\/\/127\.0\.0\.1:\d+ does not answer: Connection refused$/
        .test(String(log.of('Status').at(-1)?.value)));
      await log.until('an error event for workerCount', () => log.of('workerCount').at(-1)?.error === 'DRANSPOSE_ControllerUnreachable');
      console.log(`      FAULT ${(faultDelay * 1000).toFixed(0)} ms after the controller stopped`);
    } finally {
      await log.stop();
    }
    const read = await python<{ reason?: string }>('print(json.dumps(attempt(lambda: dp.read_attribute("workerCount").value)))', [url]);
    expect(read.reason).to.equal('DRANSPOSE_ControllerUnreachable');
    expect(await state()).to.equal('FAULT');

    // the same configuration again: same controller port, same device
    const restartedAt = Date.now();
    const child = spawn(process.execPath, [BIN, 'run', first.configPath], { cwd: ROOT, env: { ...process.env, DRANSPOSE_REDIS_URL: REDIS_URL }, stdio: ['ignore', 'pipe', 'pipe'] });
    const second = new TestPipeline(first.name, first.prefix, first.controllerPort, first.reducerPort, first.configPath, child);
    pipelines.push(second);
    await waitFor('State ON again', async () => (await state()) === 'ON', 30_000, 100);
    console.log(`      ON ${Date.now() - restartedAt} ms after dranspose run was restarted (process start and component registration included)`);
    const again = await EventLog.start(url, ['State', 'workerCount']);
    try {
      await again.until('the current values', () => again.of('State').length > 0 && again.of('workerCount').length > 0);
      expect([again.of('State')[0].value, again.of('workerCount')[0].value]).to.deep.equal(['ON', 1]);
    } finally {
      await again.stop();
    }
  });
});

describe('Tango device and hooks of a pipeline that requires a token (DRANSPOSE_TOKEN)', function () {
  this.timeout(120_000);
  const token = `t-${randomUUID()}`;
  const device = `test/dranspose/k${randomUUID().slice(0, 8)}`;
  let pipeline: TestPipeline;
  let proxyUrl = '';

  before(async () => {
    const tangoPort = await freePort();
    pipeline = await startPipeline({
      workers: [{ class: `${PAYLOAD}:ParameterWorker`, count: 1 }], reducer: { class: `${ECHO}:EchoReducer` },
      tango: { device, port: tangoPort, host: '127.0.0.1' },
    }, { ingesters: 0, workers: 1 }, REDIS_URL, { ...process.env, DRANSPOSE_TOKEN: token });
    proxyUrl = `tango://127.0.0.1:${tangoPort}/${device}#dbase=no`;
    await waitFor('the bridge with its parameters', async () => (await python<{ ok?: unknown }>(
      'print(json.dumps(attempt(lambda: dp.read_attribute("note").value)))', [proxyUrl])).ok === 'none', 40_000, 300);
  });

  after(async () => {
    await pipeline?.stop();
  });

  it('the bridge dranspose run starts writes with the token; a REST write without it is 401', async () => {
    expect(await python<{ ok?: unknown }>('dp.write_attribute("note", "with the token"); print(json.dumps(attempt(lambda: dp.read_attribute("note").value)))', [proxyUrl]))
      .to.deep.equal({ ok: 'with the token' });
    const rest = new TangoRestClient(pipeline.controller, 'localhost', 10000, device, { token: 'wrong-token' });
    const refused = await rest.write('note', 'x').then(() => undefined, (error: Error) => error);
    expect(refused?.message).to.match(/HTTP 401/);
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/note`)).text()).to.equal('with the token');
  });

  it('the Sardana hook announces with the token from the environment, and is refused without it (Contrast\'s: its own unittests)', async () => {
    const announce = async (env: NodeJS.ProcessEnv) => JSON.parse((await run(PYTHON, ['-B', join(ROOT, 'tango/sardana/tests/run_hook.py'), JSON.stringify({
      url: pipeline.controller, parent: { macro: 'ascan', args: [2, 0.1] }, env: { DransposeStreams: {}, DransposeScanStream: 'nostream' },
    })], { env })).stdout) as [string, string][];
    const withToken = await announce({ ...process.env, DRANSPOSE_TOKEN: token });
    const without = await announce({ ...process.env, DRANSPOSE_TOKEN: '' });
    // past the token check: refused for the stream, which no ingester serves
    expect(withToken[0]![1]).to.match(/refused the scan \(HTTP 400\): none of the streams \['nostream'\] is available/);
    expect(without[0]![1]).to.match(/refused the scan \(HTTP 401\): .*Authorization: Bearer/);
  });
});

describe('Tango device model without dranspose run', function () {
  this.timeout(30_000);

  it('the bridge sends DRANSPOSE_TOKEN to a controller that requires a token; without it a write is DRANSPOSE_Unauthorized', async () => {
    const name = `t${randomUUID().slice(0, 8)}`;
    const prefix = `dranspose:test-${name}:`;
    let device: PipelineDevice | undefined;
    const server = await startControllerServer({
      pipeline: name, redisUrl: REDIS_URL, keyPrefix: prefix, port: 0, host: '127.0.0.1', security: { token: 's3cret' },
      routers: (controller) => [tangoRouter(device = new PipelineDevice(controller, { device: 'x/tok/en' }))],
    });
    const bridges: ChildProcess[] = [];
    try {
      const write = async (token: string | undefined) => {
        const port = await freePort();
        const env = { ...process.env, DRANSPOSE_TOKEN: token ?? '' };
        const bridge = spawn(PYTHON, [BRIDGE, '--controller-url', `http://127.0.0.1:${server.port}`, `tok${port}`, '-nodb', '-dlist', 'x/tok/en',
          '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`], { stdio: 'ignore', env });
        bridges.push(bridge);
        const url = `tango://127.0.0.1:${port}/x/tok/en#dbase=no`;
        // reads need no token: the bridge mirrors the model either way
        await waitFor('the bridge', async () => (await python<{ ok?: number }>('print(json.dumps(attempt(lambda: dp.read_attribute("workerCount").value)))', [url])).ok === 0, 20_000, 200);
        return await python<{ reason?: string; desc?: string }>('print(json.dumps(attempt(lambda: dp.write_attribute("workerCount", 2))))', [url]);
      };
      expect((await write('s3cret')).reason, 'past the token check, refused by the device').to.equal('DRANSPOSE_NotScalable');
      const refused = await write(undefined);
      expect(refused.reason).to.equal('DRANSPOSE_Unauthorized');
      expect(refused.desc).to.match(/DRANSPOSE_TOKEN/);
    } finally {
      for (const bridge of bridges) await stopProcess(bridge);
      device?.close();
      await server.close();
      await deletePrefix(prefix);
    }
  });

  it('is INIT while the reducer is awaited, FAULT once it is missing too long, and refuses workerCount without a scaler', async () => {
    const name = `t${randomUUID().slice(0, 8)}`;
    const prefix = `dranspose:test-${name}:`;
    let device: PipelineDevice | undefined;
    const server = await startControllerServer({
      pipeline: name, redisUrl: REDIS_URL, keyPrefix: prefix, port: 0, host: '127.0.0.1',
      routers: (controller) => [tangoRouter(device = new PipelineDevice(controller, { device: 'x/y/z', graceMs: 500 }))],
    });
    try {
      const client = new TangoRestClient(`http://127.0.0.1:${server.port}`, 'localhost', 10000, 'x/y/z');
      const starting = await client.state();
      expect(starting).to.deep.equal({ state: 'INIT', status: 'reducer: starting\ncompletedEvents 0 totalEvents 0' });
      await waitFor('FAULT', async () => (await client.state()).state === 'FAULT', 5000);
      expect((await client.state()).status).to.match(/^reducer: missing \(not registered for \d+ s\)$/m);
      expect((await client.read('workerCount')).value).to.equal(0);
      const refused = await refusal(client.write('workerCount', 2));
      expect([refused.status, refused.reason]).to.deep.equal([400, 'DRANSPOSE_NotScalable']);
      const noReducer = await refusal(client.command('SetSequence', JSON.stringify(uniformSequence(['x'], 1))));
      expect(noReducer.reason).to.equal('DRANSPOSE_SequenceRefused');
    } finally {
      device?.close();
      await server.close();
      await deletePrefix(prefix);
    }
  });
});
