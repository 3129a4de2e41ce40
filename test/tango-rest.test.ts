/**
 * Tango REST API v1.1 conformance of the controller's device (tango-controls/rest-api v1.1:
 * hosts.md, device.md, general.md), walked endpoint by endpoint on a live pipeline: the host and its
 * device list and tree, device, attribute and command objects with their history and properties,
 * caching (Cache-Control with max-age-millis, ETag, conditional GETs answered 304), ?filter= and
 * ?range=, 400 with the spec's error body for unknown names, PUT .../info, the scalar attributes of
 * worker load and losses, live results of the reducer (quality INVALID when a path selects nothing or
 * has another shape), binary parameters that take bytes and never a path, and no 500 for deep JSON.
 */
import { expect } from 'chai';
import axios from 'axios';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, startPipeline, uniformSequence, waitFor, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';

const PAYLOAD = join(ROOT, 'test/tango-payload.ts');
const RESULTS = join(ROOT, 'test/payloads/live-results.ts');
const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

interface Answer { status: number; headers: Headers; body: unknown }

describe('Tango REST API v1.1 conformance (live pipeline)', function () {
  this.timeout(90_000);
  let pipeline: TestPipeline;
  let source: StinsSource;
  const device = `test/rest/t${randomUUID().slice(0, 8)}`;
  let root = '';
  let host = '';
  let dev = '';

  async function call(method: string, url: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
    const response = await fetch(url, { method, headers: init.headers, body: Buffer.isBuffer(init.body) ? new Uint8Array(init.body) : init.body });
    const text = await response.text();
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: response.status, headers: response.headers, body };
  }
  const get = async (url: string, headers?: Record<string, string>) => await call('GET', url, { headers });
  /** a conditional GET as a cache sends it (fetch() would add Cache-Control: no-cache, asking for the whole answer) */
  const conditional = async (url: string, headers: Record<string, string>) => (await axios.get(url, { headers, validateStatus: () => true })).status;

  function expectFailure(answer: Answer, status: number, reason: string): void {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
    const body = answer.body as { errors: Record<string, unknown>[]; quality: string; timestamp: number };
    expect(body.quality).to.equal('FAILURE');
    expect(body.timestamp).to.be.a('number');
    expect(body.errors[0]).to.include({ reason, severity: 'ERR' });
    expect(body.errors[0]).to.have.keys('reason', 'description', 'severity', 'origin');
  }

  async function scan(frames: number): Promise<void> {
    await pipeline.setSequence(uniformSequence(['eiger'], frames));
    await source.play({ frames, shape: [4, 4] });
    await pipeline.waitForFinish();
  }

  before(async () => {
    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${PAYLOAD}:ParameterWorker`, count: 1 }],
      reducer: { class: `${RESULTS}:LiveResultReducer` },
      tango: {
        device, bridge: false,
        results: {
          com_x: '$.com.x', roi_last: '$.roi_sum[-1]', spectrum: '$.mean_spectrum', label: '$.label',
          picture: { path: '$.image', format: 'image', unit: 'counts' },
          missing: { path: '$.nothing.here', format: 'scalar' },
          wrong_shape: { path: '$.mean_spectrum', format: 'scalar' },
        },
      },
    }, { ingesters: 1, workers: 1 });
    root = `${pipeline.controller}/tango/rest`;
    host = `${root}/v11/hosts/localhost;port=10000`;
    dev = `${host}/devices/${device}`;
  });

  after(async () => {
    await pipeline?.stop();
    source?.close();
  });

  it('versions, the Tango host, its devices and their tree', async () => {
    expect((await get(root)).body).to.deep.equal({ v11: `${root}/v11` });
    expect((await get(`${root}/v11`)).body).to.deep.equal({ hosts: `${root}/v11/hosts` });
    expect((await get(`${root}/v9`)).status).to.equal(404);

    const tangoHost = await get(host);
    expect(tangoHost.body).to.include({ host: 'localhost', port: 10000, name: 'sys/database/2', devices: `${host}/devices`, tree: `${host}/devices/tree` });
    expect((tangoHost.body as { info: string[] }).info.join('\n')).to.contain(device);

    const devices = await get(`${host}/devices`);
    expect(devices.body).to.deep.equal([{ name: device, alias: null, href: dev }]);
    expect([devices.headers.get('accept-ranges'), devices.headers.get('x-size')]).to.deep.equal(['items', '1']);
    expect((await get(`${host}/devices?wildcard=test/rest/*`)).body).to.have.length(1);
    expect((await get(`${host}/devices?wildcard=sys/*/*`)).body).to.deep.equal([]);

    const [domain, family, member] = device.split('/');
    const expectedTree = [{
      id: 'localhost:10000', value: 'localhost:10000', $css: 'tango_host', isAlive: true,
      data: [
        { value: 'aliases', $css: 'aliases', data: [] },
        { value: domain, $css: 'tango_domain', data: [{ value: family, $css: 'tango_family', data: [
          { id: `localhost:10000/${device}`, value: member, $css: 'member', isMember: true, device_name: device },
        ] }] },
      ],
    }];
    expect((await get(`${host}/devices/tree`)).body).to.deep.equal(expectedTree);
    expect((await get(`${root}/v11/devices/tree?host=localhost:10000&wildcard=${domain}/*/*`)).body).to.deep.equal(expectedTree);
  });

  it('the device, attribute and command objects carry id, alias, host, device, history and properties', async () => {
    const deviceObject = (await get(dev)).body as Record<string, unknown>;
    expect(deviceObject).to.include({ id: `localhost:10000/${device}`, name: device, alias: null, host: 'localhost:10000', attributes: `${dev}/attributes` });
    expect(deviceObject.info).to.include({ name: device, exported: true, classname: 'DransposePipeline' });

    const attributes = (await get(`${dev}/attributes`)).body as Record<string, unknown>[];
    const gain = attributes.find((a) => a.name === 'gain')!;
    expect(gain).to.include({
      id: `localhost:10000/${device}/gain`, device, host: 'localhost:10000',
      value: `${dev}/attributes/gain/value`, history: `${dev}/attributes/gain/history`, properties: `${dev}/attributes/gain/properties`,
    });
    expect((await get(`${dev}/attributes/GAIN`)).body).to.deep.equal(gain);
    expect((await get(`${dev}/attributes/gain/properties`)).body).to.deep.equal([]);
    expectFailure(await get(`${dev}/attributes/gain/properties/unit`), 400, 'API_PropertyNotFound');
    expect((await get(`${dev}/properties`)).body).to.deep.equal([]);

    const commands = (await get(`${dev}/commands`)).body as Record<string, unknown>[];
    expect(commands.map((c) => c.name)).to.deep.equal(['State', 'Status', 'SetSequence', 'Stop']);
    expect(commands[2]).to.deep.include({ name: 'SetSequence', device, host: 'localhost:10000', history: `${dev}/commands/SetSequence/history` });
    expect((commands[2] as { info: Record<string, unknown> }).info).to.include({ cmd_name: 'SetSequence', in_type: 'DevString', out_type: 'DevString' });
  });

  it('the scalar attributes of load and losses, for Taurus at a glance', async () => {
    const names = ['meanLoad', 'maxLoad', 'eventRate', 'lostEvents', 'failedEvents', 'badFrames', 'missingFrames'];
    const infos = (await get(`${dev}/attributes/info?${names.map((n) => `attr=${n}`).join('&')}`)).body as Record<string, unknown>[];
    expect(infos.map((i) => [i.name, i.data_format, i.data_type])).to.deep.equal([
      ['meanLoad', 'SCALAR', 'DevDouble'], ['maxLoad', 'SCALAR', 'DevDouble'], ['eventRate', 'SCALAR', 'DevDouble'],
      ['lostEvents', 'SCALAR', 'DevLong64'], ['failedEvents', 'SCALAR', 'DevLong64'], ['badFrames', 'SCALAR', 'DevLong64'],
      ['missingFrames', 'SCALAR', 'DevLong64'],
    ]);
    await call('PUT', `${dev}/attributes/fail_on/value?v=2`);
    await scan(4);
    const values = (await get(`${dev}/attributes/value?${names.map((n) => `attr=${n}`).join('&')}`)).body as { name: string; value: number }[];
    const byName = Object.fromEntries(values.map((v) => [v.name, v.value]));
    expect(byName).to.include({ lostEvents: 0, failedEvents: 1, badFrames: 0, missingFrames: 0 });
    expect(byName.meanLoad).to.be.within(0, 1);
    expect(byName.maxLoad).to.be.within(byName.meanLoad!, 1);
    expect(byName.eventRate).to.be.at.least(0);
    await call('PUT', `${dev}/attributes/fail_on/value?v=-1`);
  });

  it('State is ALARM after a scan whose stream ended early, with the missing frames in Status; ON after a whole scan', async () => {
    await pipeline.setSequence(uniformSequence(['eiger'], 4));
    await source.play({ frames: 2, shape: [4, 4] });
    await pipeline.waitForFinish();
    const alarm = (await get(`${dev}/state`)).body as { state: string; status: string };
    expect(alarm.state).to.equal('ALARM');
    expect(alarm.status.split('\n')[0]).to.equal('the scan ended with errors: 2 missing frames');
    await scan(2);
    expect(((await get(`${dev}/state`)).body as { state: string }).state).to.equal('ON');
  });

  it('values carry Last-Modified, ETag and Cache-Control with max-age-millis; unchanged ones answer 304', async () => {
    await call('PUT', `${dev}/attributes/gain/value?v=1.25`);
    const first = await get(`${dev}/attributes/gain/value`);
    expect(first.body).to.include({ name: 'gain', host: 'localhost:10000', device, value: 1.25, quality: 'ATTR_VALID' });
    expect(first.headers.get('cache-control')).to.match(/^no-transform, max-age=\d+, max-age-millis="\d+"$/);
    expect(first.headers.get('expires')).to.be.a('string');
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).to.match(/^"[0-9a-f]+"$/);
    expect(await conditional(`${dev}/attributes/gain/value`, { 'If-None-Match': etag })).to.equal(304);
    const later = new Date(Date.parse(lastModified) + 2000).toUTCString();
    expect(await conditional(`${dev}/attributes/gain/value`, { 'If-Modified-Since': later })).to.equal(304);
    expect(await conditional(`${dev}/attributes/gain/value`, { 'If-Modified-Since': new Date(Date.parse(lastModified) - 2000).toUTCString() })).to.equal(200);
    await call('PUT', `${dev}/attributes/gain/value?v=2.5`);
    expect(await conditional(`${dev}/attributes/gain/value`, { 'If-None-Match': etag })).to.equal(200);
    expect((await get(`${dev}/attributes/gain/value`)).headers.get('etag')).not.to.equal(etag);

    const history = (await get(`${dev}/attributes/gain/history`)).body as { value: number; name: string; device: string }[];
    expect(history.slice(-2).map((h) => h.value)).to.deep.equal([1.25, 2.5]);
    expect(history[0]).to.include({ name: 'gain', device });
    const list = await get(`${dev}/attributes`);
    expect(list.headers.get('etag')).to.match(/^"[0-9a-f]+"$/);
    expect(await conditional(`${dev}/attributes`, { 'If-None-Match': list.headers.get('etag')! })).to.equal(304);
  });

  it('?filter= keeps or drops fields, ?range= cuts collections (206, Content-Range, 416)', async () => {
    // fields named so at any depth, as the spec's example keeps info.name
    const names = (await get(`${dev}/attributes?filter=name`)).body as Record<string, unknown>[];
    expect(names[0]).to.deep.equal({ name: 'State', info: { name: 'State' } });
    const lean = (await get(`${dev}/attributes?filter=!info&filter=!properties`)).body as Record<string, unknown>[];
    expect(Object.keys(lean[0]!)).to.deep.equal(['id', 'name', 'device', 'host', 'value', 'history']);
    const deviceNames = (await get(`${dev}?filter=name&filter=server`)).body;
    expect(deviceNames).to.deep.equal({ name: device, info: { name: device, server: `dranspose/${device.split('/')[2]}` } });

    const all = (await get(`${dev}/attributes`)).body as unknown[];
    const part = await get(`${dev}/attributes?range=1-3`);
    expect(part.status).to.equal(206);
    expect(part.headers.get('content-range')).to.equal(`items 1-3/${all.length}`);
    expect(part.headers.get('x-size')).to.equal(String(all.length));
    expect(part.body).to.deep.equal(all.slice(1, 4));
    expectFailure(await get(`${dev}/attributes?range=5-1`), 416, 'API_InvalidRange');
    expectFailure(await get(`${dev}/attributes?range=${all.length}-${all.length + 3}`), 416, 'API_InvalidRange');
  });

  it('unknown devices, attributes and commands are 400 with the error body; commands keep a history', async () => {
    expectFailure(await get(`${host}/devices/no/such/device`), 400, 'API_DeviceNotDefined');
    expectFailure(await get(`${host}/devices/no/such/device/attributes/State/value`), 400, 'API_DeviceNotDefined');
    expectFailure(await get(`${dev}/attributes/nope`), 400, 'API_AttrNotFound');
    expectFailure(await get(`${dev}/attributes/nope/value`), 400, 'API_AttrNotFound');
    expectFailure(await get(`${dev}/commands/Explode`), 400, 'API_CommandNotFound');
    expectFailure(await call('PUT', `${dev}/commands/Explode`, { body: '{}', headers: { 'content-type': 'application/json' } }), 400, 'API_CommandNotFound');

    await call('PUT', `${dev}/commands/State`, { body: '{"name":"State"}', headers: { 'content-type': 'application/json' } });
    await call('PUT', `${dev}/commands/SetSequence`, { body: '{"name":"SetSequence","input":"{nope"}', headers: { 'content-type': 'application/json' } });
    const state = (await get(`${dev}/commands/State/history`)).body as Record<string, unknown>[];
    expect(state.at(-1)).to.include({ name: 'State', output: ((await get(`${dev}/state`)).body as { state: string }).state });
    expect(state.at(-1)!.timestamp).to.be.a('number');
    const failed = (await get(`${dev}/commands/SetSequence/history`)).body as { quality: string; errors: { reason: string }[] }[];
    expect(failed.at(-1)!.quality).to.equal('FAILURE');
    expect(failed.at(-1)!.errors[0]!.reason).to.equal('DRANSPOSE_BadSequence');
  });

  it('PUT .../info changes the writable fields, and refuses the others', async () => {
    const json = { 'content-type': 'application/json' };
    const info = (await get(`${dev}/attributes/gain/info`)).body as Record<string, unknown>;
    const updated = await call('PUT', `${dev}/attributes/gain/info`, {
      body: JSON.stringify({ ...info, label: 'Gain', unit: 'e/ADU', format: '%5.2f', alarms: { ...(info.alarms as object), max_alarm: '10' } }), headers: json,
    });
    expect(updated.status).to.equal(200);
    expect(updated.body).to.include({ label: 'Gain', unit: 'e/ADU', format: '%5.2f', max_alarm: '10', data_type: 'DevDouble' });
    expect((await get(`${dev}/attributes/gain`)).body).to.nested.include({ 'info.label': 'Gain' });
    expect((await call('PUT', `${dev}/attributes/gain/info?async=true`, { body: '{"description":"electrons per count"}', headers: json })).status).to.equal(204);
    expect((await get(`${dev}/attributes/gain/info`)).body).to.include({ description: 'electrons per count', label: 'Gain' });
    expectFailure(await call('PUT', `${dev}/attributes/gain/info`, { body: '{"data_type":"DevString"}', headers: json }), 400, 'API_AttrNotAllowed');
    expectFailure(await call('PUT', `${dev}/attributes/gain/info`, { body: '{"max_alarm":"lots"}', headers: json }), 400, 'API_IncompatibleArgumentType');
    expectFailure(await call('PUT', `${dev}/attributes/gain/info`, { body: '[1]', headers: json }), 400, 'API_IncompatibleArgumentType');
  });

  it('a binary parameter takes bytes, never a path the controller would open', async () => {
    const before = (await get(`${dev}/attributes/calibration/value`)).body as { value: string };
    for (const path of ['/etc/os-release', '/dev/zero']) {
      const refused = await call('PUT', `${dev}/attributes/calibration/value?v=${encodeURIComponent(path)}`);
      expectFailure(refused, 400, 'API_IncompatibleAttrDataType');
      expect(JSON.stringify(refused.body)).to.contain('send its bytes as the request body');
    }
    const bulk = (await call('PUT', `${dev}/attributes/value?calibration=/etc/passwd`)).body as { errors?: { reason: string }[] }[];
    expect(bulk[0]!.errors![0]!.reason).to.equal('API_IncompatibleAttrDataType');
    expect((await get(`${dev}/attributes/calibration/value`)).body).to.include({ value: before.value });
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/calibration`)).text()).not.to.contain('NAME=');

    const bytes = Buffer.from('cal-v2 ✓\n');
    const written = await call('PUT', `${dev}/attributes/calibration/value`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(written.status).to.equal(200);
    expect((written.body as { value: string }).value).to.match(new RegExp(`^${bytes.length} bytes, sha256 [0-9a-f]{16}$`));
    expect(Buffer.from(await (await fetch(`${pipeline.controller}/api/v1/parameter/calibration`)).arrayBuffer()).equals(bytes)).to.equal(true);
    expect((await get(`${dev}/attributes/calibration/info`)).body).to.deep.include({ extensions: ['dranspose:binary'] });
  });

  it('deeply nested JSON to a command, an info or a value is a 400, not a 500', async () => {
    const json = { 'content-type': 'application/json' };
    expectFailure(await call('PUT', `${dev}/commands/SetSequence`, { body: deep(100_000), headers: json }), 400, 'API_IncompatibleCmdArgumentType');
    expectFailure(await call('PUT', `${dev}/commands/SetSequence`, { body: JSON.stringify({ input: deep(100_000) }), headers: json }), 400, 'DRANSPOSE_BadSequence');
    expectFailure(await call('PUT', `${dev}/attributes/gain/info`, { body: deep(100_000), headers: json }), 400, 'API_IncompatibleArgumentType');
    expectFailure(await call('PUT', `${dev}/attributes/note/value`, { body: deep(100_000), headers: json }), 400, 'API_IncompatibleAttrDataType');
    expect((await get(`${dev}/state`)).status).to.equal(200);
  });

  it('live results of the reducer: scalar, spectrum and image by shape; INVALID when a path selects nothing or has another shape', async () => {
    await scan(3);
    const want = ['com_x', 'roi_last', 'spectrum', 'label', 'picture', 'missing', 'wrong_shape'];
    await waitFor('every result attribute', async () => {
      const names = ((await get(`${dev}/attributes?filter=name`)).body as { name: string }[]).map((a) => a.name);
      return want.every((n) => names.includes(n));
    }, 10_000, 200);
    const infos = (await get(`${dev}/attributes/info?${want.map((n) => `attr=${n}`).join('&')}`)).body as Record<string, unknown>[];
    expect(infos.map((i) => [i.name, i.data_format, i.data_type])).to.deep.equal([
      ['com_x', 'SCALAR', 'DevDouble'], ['roi_last', 'SCALAR', 'DevDouble'], ['spectrum', 'SPECTRUM', 'DevDouble'], ['label', 'SCALAR', 'DevString'],
      ['picture', 'IMAGE', 'DevDouble'], ['missing', 'SCALAR', 'DevDouble'], ['wrong_shape', 'SCALAR', 'DevDouble'],
    ]);
    expect(infos[4]).to.include({ unit: 'counts', writable: 'READ' });
    // 3 data events and the start and end events (0 … 4), one worker: the last result is event 4
    const values = await waitFor('the results of the scan', async () => {
      const read = (await get(`${dev}/attributes/value?${want.map((n) => `attr=${n}`).join('&')}`)).body as { name: string; value: unknown; quality: string }[];
      return read.find((v) => v.name === 'roi_last')?.value === 40 ? read : undefined;
    }, 10_000, 100);
    expect(values.map((v) => [v.name, v.value, v.quality])).to.deep.equal([
      ['com_x', 2, 'ATTR_VALID'], ['roi_last', 40, 'ATTR_VALID'], ['spectrum', [4, 5, 6, 7], 'ATTR_VALID'], ['label', 'event 4', 'ATTR_VALID'],
      ['picture', { data: [4, 5, 6, 7, 8, 9], width: 3, height: 2 }, 'ATTR_VALID'],
      ['missing', null, 'ATTR_INVALID'], ['wrong_shape', null, 'ATTR_INVALID'],
    ]);
    const missing = await get(`${dev}/attributes/missing/value`);
    expect(missing.status).to.equal(200);
    expect(missing.body).to.include({ quality: 'ATTR_INVALID', value: null });
    expect((missing.body as { reason: string }).reason).to.match(/^\$\.nothing\.here: selects nothing: /);
    expect(((await get(`${dev}/attributes/wrong_shape/value`)).body as { reason: string }).reason).to.equal('$.mean_spectrum is spectrum, the attribute scalar');
  });
});
