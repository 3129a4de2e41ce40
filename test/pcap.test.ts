import { expect } from 'chai';
import { join } from 'node:path';
import type { StreamData } from '../src/core/types.js';
import { pcap, PcapError, splitPcapChunk, type PcapChunk } from '../src/protocols/pcap/index.js';
import { emulatedPcapRow, pcapSeriesMessages } from '../src/protocols/pcap/emulator.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import { captureMessages, scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { PacketResult } from './payloads/packets.js';

const PACKETS = join(ROOT, 'test/payloads/packets.ts');
const json = (value: unknown) => [Buffer.from(JSON.stringify(value))];
const stream = (frames: Buffer[]): StreamData => ({ typ: 'PCAP', frames });

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('PCAP (PandA over zmq) protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: pcap.name, typ: pcap.typ, transport: pcap.transport }).to.deep.equal({ name: 'pcap', typ: 'PCAP', transport: 'zmq-sub' });
  });

  describe('pcap-zmq.cbors (a real capture)', () => {
    it('scan() splits the 100 chunks into 1500 rows between series-start and series-end', async function () {
      const messages = await captureMessages(fixture(this, 'pcap-zmq.cbors'));
      const { events, bad, remaining } = await scanMessages(pcap, messages);
      expect(bad).to.deep.equal([]);
      expect(remaining).to.equal(0);
      expect(events).to.have.length(1502);
      expect(events[0].frames, 'series-start as received').to.deep.equal(messages[0]);
      expect(events[1501].frames).to.deep.equal(messages[101]);
      expect(events[1].frames[0].toString()).to.equal(
        '{"message_id":2,"version":1,"message_type":"data","frame_number":0,"inttime":7.1160000000000005,'
        + '"triggernumber":1,"repeatindex":1,"energy":8879.101048716273,"INENC3.VAL.Mean":0}');
      const parsed = events.map((e) => pcap.parse(e));
      const start = parsed[0];
      if (start.message_type !== 'series-start') throw new Error('expected series-start');
      expect(start).to.deep.equal({ message_id: 1, message_type: 'series-start', version: 1, arm_time: '2024-10-07T08:49:10.627Z' });
      expect(parsed[1501]).to.deep.equal({ message_id: 102, message_type: 'series-end', version: 1 });
      const rows = parsed.slice(1, 1501).map((p) => {
        if (p.message_type !== 'data') throw new Error(`expected a row, got ${p.message_type}`);
        return p;
      });
      expect(rows.map((r) => r.frame_number)).to.deep.equal(Array.from({ length: 1500 }, (_, i) => i));
      expect(rows.every((r) => r.triggernumber === r.frame_number + 1 && r.repeatindex === 1 && r['INENC3.VAL.Mean'] === 0)).to.equal(true);
      expect(rows[0].energy).to.equal(8879.101048716273);
      expect(rows[1499].energy).to.equal(9178.90056771702);
      expect(rows[0].inttime).to.equal(7.1160000000000005);
      expect(rows[1499].inttime).to.equal(6.5178);
      expect(rows[1499].message_id).to.equal(101);
      expect(sum(rows.map((r) => r.energy))).to.be.closeTo(13543500.21688024, 1e-6);
      expect(sum(rows.map((r) => r.inttime))).to.be.closeTo(9986.5638, 1e-6);
      const chunkSizes = messages.slice(1, 101).map((m) => (JSON.parse(m[0].toString()).energy as number[]).length);
      expect(chunkSizes.filter((n) => n === 15)).to.have.length(76);
    });
  });

  describe('splitting a chunk', () => {
    const chunk = (fields: Record<string, unknown>): PcapChunk => ({ message_id: 7, version: 1, message_type: 'data', frame_number: 10, ...fields });

    it('gives one row per list element, copying scalars, in the original key order', () => {
      const rows = splitPcapChunk(chunk({ b: [1, 2], a: 3.5, c: [0.25, -1] })).map((r) => r.toString());
      expect(rows).to.deep.equal([
        '{"message_id":7,"version":1,"message_type":"data","frame_number":10,"b":1,"a":3.5,"c":0.25}',
        '{"message_id":7,"version":1,"message_type":"data","frame_number":11,"b":2,"a":3.5,"c":-1}',
      ]);
    });

    it('a chunk without lists is one row; empty lists are none', () => {
      expect(splitPcapChunk(chunk({ a: 1 }))).to.have.length(1);
      expect(splitPcapChunk(chunk({ a: [], b: [] }))).to.have.length(0);
    });

    it('refuses lists of unequal length and values that are not numbers', () => {
      expect(() => splitPcapChunk(chunk({ a: [1, 2], b: [1] }))).to.throw(PcapError, /field "b" has 1 values, "a" has 2/);
      expect(() => splitPcapChunk(chunk({ a: [1, 'x'] }))).to.throw(PcapError, /field "a"\[1\] is "x", not a number/);
      expect(() => splitPcapChunk(chunk({ a: 'x' }))).to.throw(PcapError, /field "a" is "x", not a number or a list/);
    });
  });

  describe('parse rejects bad input with a clear error', () => {
    const row = { message_id: 2, version: 1, message_type: 'data', frame_number: 0, energy: 1.5 };
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'albaem', frames: json(row) }, /expected StreamData of typ PCAP, got "albaem"/],
      ['two frames', stream([...json(row), ...json(row)]), /PCAP message has 2 frames, expected 1/],
      ['bytes that are not JSON', stream([Buffer.from('emptyness')]), /PCAP message \(9 bytes\) is not JSON/],
      ['an unknown message_type', stream(json({ ...row, message_type: 'chunk' })), /message_type/],
      ['version 2', stream(json({ ...row, version: 2 })), /version/],
      ['a chunk (lists) where a row belongs', stream(json({ ...row, energy: [1, 2] })), /energy: /],
      ['a start without arm_time', stream(json({ message_id: 1, version: 1, message_type: 'series-start' })), /arm_time/],
      ['an arm_time that is no time', stream(json({ message_id: 1, version: 1, message_type: 'series-start', arm_time: 'noon' })), /arm_time/],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => { expect(() => pcap.parse(data)).to.throw(PcapError, message); });
    }
  });

  describe('scan', () => {
    it('reports junk and rows before the start, skips bad chunks, ends at series-end', async () => {
      const [start, ...rest] = pcapSeriesMessages({ rows: 6, chunk: 3 });
      const end = rest.at(-1)!;
      const broken = json({ message_id: 9, version: 1, message_type: 'data', frame_number: 3, energy: [1, 2], inttime: [1] });
      const { events, bad, remaining } = await scanMessages(pcap, [
        [Buffer.from('emptyness')], rest[0], start, rest[0], broken, [Buffer.from('{')], rest[1], end, start,
      ]);
      expect(events.map((e) => pcap.parse(e).message_type)).to.deep.equal(['series-start', ...new Array(6).fill('data'), 'series-end']);
      expect(bad).to.have.length(4);
      expect(bad[0]).to.match(/^before the start message: PCAP message \(9 bytes\) is not JSON/);
      expect(bad[1]).to.equal('PCAP data message before the start message');
      expect(bad[2]).to.match(/field "inttime" has 1 values, "energy" has 2/);
      expect(bad[3]).to.match(/PCAP message \(1 bytes\) is not JSON/);
      expect(remaining).to.equal(1);
    });

    it('the emulator sends what the scan splits back into its rows', async () => {
      const { events, bad } = await scanMessages(pcap, pcapSeriesMessages({ rows: 40, chunk: 16 }));
      expect(bad).to.deep.equal([]);
      const rows = events.slice(1, -1).map((e) => pcap.parse(e));
      expect(rows).to.have.length(40);
      rows.forEach((row, i) => expect(row).to.deep.include({ frame_number: i, ...emulatedPcapRow(i) }));
      expect(rows.map((r) => r.message_id)).to.deep.equal([...new Array(16).fill(2), ...new Array(16).fill(3), ...new Array(8).fill(4)]);
    });
  });

  describe('through a live pipeline', () => {
    const live = liveStream({ protocol: 'pcap', stream: 'pcap', ingester: 'panda-ingester', worker: `${PACKETS}:PacketWorker`, reducer: `${PACKETS}:PacketReducer` });

    it('replays pcap-zmq.cbors: 1500 triggers give 1502 events and the reducer sums the energy', async function () {
      const messages = await captureMessages(fixture(this, 'pcap-zmq.cbors'));
      const { pipeline, player } = await live.start();
      await setSequenceAndWait(pipeline, uniformSequence(['pcap'], 1500));
      await player.play(messages, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(1502));
      const totals = await pipeline.result<Record<string, Record<string, number>>>('totals');
      expect(totals.pcap.energy).to.be.closeTo(13543500.21688024, 1e-6);
      expect(totals.pcap.frame_number).to.equal((1499 * 1500) / 2);
      const events = await pipeline.result<Record<string, PacketResult[]>>('events');
      expect(Object.keys(events)).to.have.length(1502);
      expect(events['0'].map((r) => (r.streams.pcap as { message_type: string }).message_type)).to.deep.equal(['series-start', 'series-start']);
      expect((events['1500'][0].streams.pcap as { frame_number: number }).frame_number).to.equal(1499);
      expect(events['1501'].map((r) => (r.streams.pcap as { message_type: string }).message_type)).to.deep.equal(['series-end', 'series-end']);
      const { bad, skipped } = await scanProblems(pipeline);
      expect(bad, 'bad frames (warm-up messages are skipped, not bad)').to.deep.equal([]);
      expect(skipped.length, 'the warm-up messages').to.be.at.most(3);
    });

    it('counts a message that is not JSON and a chunk of unequal lists, with their event, and completes the scan', async () => {
      const { pipeline, player } = await live.start();
      const [first, ...rest] = pcapSeriesMessages({ rows: 60, chunk: 15 });
      const unequal = json({ message_id: 99, version: 1, message_type: 'data', frame_number: 15, energy: [1, 2, 3], inttime: [1, 2] });
      // after the first chunk (rows 0–14 = events 1–15): garbage and a broken chunk, then the rest
      const played = [first, rest[0], [Buffer.from('garbage')], unequal, ...rest.slice(1)];
      await setSequenceAndWait(pipeline, uniformSequence(['pcap'], 60));
      await player.play(played, { warmup: 3, rate: 500 });
      expect(await pipeline.waitForFinish(), 'the good chunk of rows 15… takes the broken one\'s place').to.deep.equal(scanEndedWith(62, { bad: 2 }));
      const { bad } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:panda-ingester/pcap', 16], ['ingester:panda-ingester/pcap', 16]]);
      expect(bad[0].reason).to.match(/PCAP message \(7 bytes\) is not JSON/);
      expect(bad[1].reason).to.match(/PCAP data message 99: field "inttime" has 2 values, "energy" has 3/);
      const totals = await pipeline.result<Record<string, Record<string, number>>>('totals');
      expect(totals.pcap.frame_number).to.equal((59 * 60) / 2);
    });
  });
});
