import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { StreamData } from '../src/core/types.js';
import { albaem, AlbaemError, parseJsonExact, stringifyPythonJson } from '../src/protocols/albaem/index.js';
import { albaemSeriesMessages, emulatedCurrents } from '../src/protocols/albaem/emulator.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, type TestPipeline, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import { captureMessages, scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { StreamSummary } from './payloads/fluorescence.js';
import { PYTHON } from './helpers/process.js';

const PAYLOAD = join(ROOT, 'test/payloads/fluorescence.ts');
const stream = (frames: Buffer[]): StreamData => ({ typ: 'albaem', frames });
const text = (value: string) => [Buffer.from(value)];

/** the capture's data messages, as protocols.md §4.1 gives them */
const DUMP_DATA = [
  { message_id: 2, frame_number: 0, timestamp: 7.72645192, acquisition_timestamp: 1704807770443944912n,
    channel1: -2.8302592615927417e-11, channel2: -6.091210149949596e-11, channel3: 2.5349278603830644e-10, channel4: 4.80528800718246e-10 },
  { message_id: 3, frame_number: 1, timestamp: 10.86213192, acquisition_timestamp: 1704807773579624912n,
    channel1: -2.399567634828629e-11, channel2: -7.260230279737902e-11, channel3: 2.4918586977066537e-10, channel4: 4.866815382434476e-10 },
  { message_id: 4, frame_number: 2, timestamp: 14.84581192, acquisition_timestamp: 1704807777563304912n,
    channel1: -2.2149855090725806e-11, channel2: -7.813976657006048e-11, channel3: 2.621066185735887e-10, channel4: 4.916037282636089e-10 },
  { message_id: 5, frame_number: 3, timestamp: 20.66757192, acquisition_timestamp: 1704807783385064912n,
    channel1: -9.84438004032258e-12, channel2: -6.091210149949596e-11, channel3: 2.5533860729586694e-10, channel4: 4.76837158203125e-10 },
];

describe('AlbaEM protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: albaem.name, typ: albaem.typ, transport: albaem.transport })
      .to.deep.equal({ name: 'albaem', typ: 'albaem', transport: 'zmq-sub' });
  });

  describe('JSON with integers beyond 2^53', () => {
    it('keeps every digit as a bigint, leaves safe integers, floats and strings alone', () => {
      expect(parseJsonExact('{"a": 1704807770443944912, "b": -9007199254740993, "c": 9007199254740991, "d": 1.2345678901234567e+30, '
        + '"e": "12345678901234567890", "f": [0.12345678901234567890, 1e12345678901234567], "g": "\\"12345678901234567890"}'))
        .to.deep.equal({
          a: 1704807770443944912n, b: -9007199254740993n, c: 9007199254740991, d: 1.2345678901234567e30,
          e: '12345678901234567890', f: [0.12345678901234568, Infinity], g: '"12345678901234567890',
        });
      expect(parseJsonExact('[1, 2]')).to.deep.equal([1, 2]);
    });

    it('throws on bad JSON, as JSON.parse does', () => {
      expect(() => parseJsonExact('{"a": 12345678901234567890')).to.throw(SyntaxError);
      expect(() => parseJsonExact('{"a": "\\u0000", "b": 12345678901234567890}')).to.throw(SyntaxError, /NUL/);
    });

    it('writes like Python json.dumps, bigints exact', () => {
      const value = { version: 1, message_type: 'data', acquisition_timestamp: 1704807770443944912n, list: [true, null, 'x'], o: {} };
      const written = stringifyPythonJson(value);
      expect(written).to.equal('{"version": 1, "message_type": "data", "acquisition_timestamp": 1704807770443944912, "list": [true, null, "x"], "o": {}}');
      expect(parseJsonExact(written)).to.deep.equal(value);
      const python = execFileSync(PYTHON, ['-c', 'import json, sys; v = json.loads(sys.stdin.read()); print(json.dumps(v))'], { input: written });
      expect(python.toString().trim()).to.equal(written);
    });
  });

  describe('albaem-dump.cbors (a real electrometer series)', () => {
    it('scan() forwards the 6 messages and parse() keeps the exact timestamps', async function () {
      const messages = await captureMessages(fixture(this, 'albaem-dump.cbors'));
      const { events, bad, remaining } = await scanMessages(albaem, messages);
      expect(bad).to.deep.equal([]);
      expect(remaining).to.equal(0);
      expect(events.map((e) => e.frames)).to.deep.equal(messages);
      const parsed = events.map((e) => albaem.parse(e));
      expect(parsed.map((p) => p.message_id)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(parsed.every((p) => p.version === 1)).to.equal(true);
      expect(parsed[0]).to.deep.equal({ version: 1, message_type: 'series-start', message_id: 1 });
      expect(parsed.slice(1, 5)).to.deep.equal(DUMP_DATA.map((d) => ({ version: 1, message_type: 'data', ...d })));
      expect(parsed[5]).to.deep.equal({
        version: 1, message_type: 'series-end', message_id: 6, detector_specific: { read_overflow: false, memory_overflow: false },
      });
      const data = parsed[1];
      if (data.message_type !== 'data') throw new Error('not data');
      expect(typeof data.acquisition_timestamp).to.equal('bigint');
      expect(data.acquisition_timestamp.toString()).to.equal('1704807770443944912');
      expect(stringifyPythonJson(data), 'the emulator writes what the device wrote').to.equal(messages[1][0].toString());
    });
  });

  describe('parse rejects bad input with a clear error', () => {
    const good = { version: 1, message_type: 'data', message_id: 2, frame_number: 0, timestamp: 1.5, acquisition_timestamp: 1704807770443944912n };
    const without = (key: string) => text(stringifyPythonJson(Object.fromEntries(Object.entries(good).filter(([k]) => k !== key))));
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'contrast', frames: text('{}') }, /expected StreamData of typ albaem, got "contrast"/],
      ['two frames', stream([Buffer.from('{}'), Buffer.from('{}')]), /has 2 frames, expected 1/],
      ['not JSON', stream(text('emptyness')), /\(9 bytes\) is not JSON/],
      ['cut-off JSON', stream(text(stringifyPythonJson(good).slice(0, 60))), /is not JSON/],
      ['another version', stream(text(stringifyPythonJson({ ...good, version: 2 }))), /version: /],
      ['an unknown message_type', stream(text('{"version": 1, "message_type": "image", "message_id": 1}')), /message_type: /],
      ['data without acquisition_timestamp', stream(without('acquisition_timestamp')), /acquisition_timestamp: /],
      ['data without frame_number', stream(without('frame_number')), /frame_number: /],
      ['data without message_id', stream(without('message_id')), /message_id: /],
      ['a fractional timestamp in ns', stream(text(stringifyPythonJson({ ...good, acquisition_timestamp: 1.5 }))), /acquisition_timestamp: /],
      ['a current that is not a number', stream(text(stringifyPythonJson({ ...good, channel1: 'low' }))), /channel1: /],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => {
        expect(() => albaem.parse(data)).to.throw(AlbaemError, message);
      });
    }
  });

  describe('scan', () => {
    it('reports junk before the start and bad data mid-series, and stops at series-end', async () => {
      const series = albaemSeriesMessages({ frames: 3 });
      const { events, bad, remaining } = await scanMessages(albaem, [
        text('emptyness'), series[1], series[0], series[1], text('{"version": 1, "message_type": "data", "message_id": 9}'),
        series[2], series[3], series[4], series[0],
      ]);
      expect(events.map((e) => e.frames)).to.deep.equal(series);
      expect(bad).to.have.length(3);
      expect(bad[0]).to.match(/^before the start message: AlbaEM message \(9 bytes\) is not JSON/);
      expect(bad[1]).to.equal('AlbaEM data message before the start message');
      expect(bad[2]).to.match(/^AlbaEM message is not valid: frame_number: .*timestamp: .*acquisition_timestamp: /);
      expect(remaining).to.equal(1);
    });
  });

  describe('emulator', () => {
    it('writes series-start, data with nanosecond timestamps beyond 2^53 and series-end, ids counting on', () => {
      const messages = albaemSeriesMessages({ frames: 3, interval: 0.5, startNs: 1704807770443944912n, seed: 1 });
      const parsed = messages.map((m) => albaem.parse(stream(m)));
      expect(parsed.map((p) => [p.message_type, p.message_id])).to.deep.equal([
        ['series-start', 1], ['data', 2], ['data', 3], ['data', 4], ['series-end', 5],
      ]);
      const data = parsed.slice(1, 4).map((p) => {
        if (p.message_type !== 'data') throw new Error('not data');
        return p;
      });
      expect(data.map((d) => d.acquisition_timestamp)).to.deep.equal([1704807770443944912n, 1704807770943944912n, 1704807771443944912n]);
      expect(data.map((d) => d.frame_number)).to.deep.equal([0, 1, 2]);
      expect(data.map((d) => d.timestamp)).to.deep.equal([0.5, 1, 1.5]);
      expect([data[1].channel1, data[1].channel2, data[1].channel3, data[1].channel4]).to.deep.equal(emulatedCurrents(1, 1));
      expect(new Set(emulatedCurrents(1, 1)).size).to.equal(4);
      expect(messages[0][0].toString()).to.equal('{"version": 1, "message_type": "series-start", "message_id": 1}');
      expect(messages[4][0].toString()).to.equal('{"version": 1, "message_type": "series-end", "message_id": 5, '
        + '"detector_specific": {"read_overflow": false, "memory_overflow": false}}');
    });
  });

  describe('through a live pipeline', () => {
    const live = liveStream({ protocol: 'albaem', stream: 'albaem', ingester: 'albaem-ingester', worker: `${PAYLOAD}:StreamSummaryWorker`, reducer: `${PAYLOAD}:EventLogReducer` });

    type Events = Record<string, { albaem: StreamSummary & { typ: 'albaem' } }[]>;

    /** the reducer's events, read with exact integers (the result API writes bigints as plain JSON numbers) */
    async function events(p: TestPipeline): Promise<Events> {
      const response = await fetch(`${p.reducer}/api/v1/result/events?single=true`);
      return parseJsonExact(await response.text()) as Events;
    }

    it('albaem-dump.cbors: 4 triggers give 6 events; the worker sees every message id and the exact timestamps', async function () {
      const messages = await captureMessages(fixture(this, 'albaem-dump.cbors'));
      const { pipeline, player } = await live.start();
      await setSequenceAndWait(pipeline, uniformSequence(['albaem'], 4));
      await player.play(messages, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(6));
      const seen = await events(pipeline);
      expect(seen['0'].map((e) => e.albaem.message_type)).to.deep.equal(['series-start', 'series-start']);
      expect([1, 2, 3, 4].map((e) => seen[e][0].albaem)).to.deep.equal(DUMP_DATA.map((d) => ({
        typ: 'albaem', message_type: 'data', message_id: d.message_id, frame_number: d.frame_number,
        acquisition_timestamp: d.acquisition_timestamp, channel1: d.channel1,
      })));
      expect(seen['5'].map((e) => e.albaem.message_id)).to.deep.equal([6, 6]);
    });

    it('counts messages with missing fields, with their events, and completes the scan', async () => {
      const { pipeline, player } = await live.start();
      const series = albaemSeriesMessages({ frames: 5 });
      const broken = (k: number, drop: string) => {
        const value = parseJsonExact(series[k][0].toString()) as Record<string, unknown>;
        delete value[drop];
        return text(stringifyPythonJson(value));
      };
      // before frame 1: a copy without acquisition_timestamp; before frame 4: one cut off mid-JSON
      const played = [series[0], series[1], broken(2, 'acquisition_timestamp'), series[2], series[3], series[4],
        text(series[5][0].toString().slice(0, 80)), series[5], series[6]];
      await setSequenceAndWait(pipeline, uniformSequence(['albaem'], 5));
      await player.play(played, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish(), 'the good copy of frame 1 takes the broken one\'s place').to.deep.equal(scanEndedWith(7, { bad: 2 }));
      const { bad } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:albaem-ingester/albaem', 2], ['ingester:albaem-ingester/albaem', 5]]);
      expect(bad[0].reason).to.match(/acquisition_timestamp: /);
      expect(bad[1].reason).to.match(/^AlbaEM message \(80 bytes\) is not JSON/);
      const seen = await events(pipeline);
      expect([1, 2, 3, 4, 5].map((e) => seen[e][0].albaem.frame_number)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(seen['6'].map((e) => e.albaem.message_type)).to.deep.equal(['series-end', 'series-end']);
    });
  });
});
