import { expect } from 'chai';
import { join } from 'node:path';
import { loadPickle } from '../src/core/pickle/read.js';
import type { StreamData } from '../src/core/types.js';
import { lecroy, LecroyError, type LecroyPacket, type LecroySequence } from '../src/protocols/lecroy/index.js';
import {
  emulatedPulseHeight, emulatedTriggerTime, lecroyAcquisitionMessages, pickleFloatList, type LecroyAcquisitionOptions,
} from '../src/protocols/lecroy/emulator.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import { captureMessages, scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { LecroyResult } from './payloads/lecroy.js';

const PAYLOAD = join(ROOT, 'test/payloads/lecroy.ts');
const stream = (frames: Buffer[]): StreamData => ({ typ: 'lecroy_9fwdWp6Rq7', frames });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function sequence(packet: LecroyPacket): LecroySequence {
  if (packet.kind !== 'sequence') throw new Error(`expected a sequence, got ${packet.kind}`);
  return packet;
}

/** numpy's traces.max(axis=1) */
function rowMaxima(packet: LecroySequence, slot: number): number[] {
  const [segments, points] = packet.data[slot].shape;
  const data = packet.data[slot].data as Float64Array;
  return Array.from({ length: segments }, (_, s) => Math.max(...data.subarray(s * points, (s + 1) * points)));
}

describe('LeCroy protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: lecroy.name, typ: lecroy.typ, transport: lecroy.transport })
      .to.deep.equal({ name: 'lecroy', typ: 'lecroy_9fwdWp6Rq7', transport: 'zmq-sub' });
  });

  describe('maui-02-continuous-3.cbor.gz (a real scope, continuous mode)', () => {
    it('scan() groups prepare, two sequences headed by the first SEQ START, and stop', async function () {
      const messages = await captureMessages(fixture(this, 'maui-02-continuous-3.cbor.gz'));
      const { events, bad, remaining } = await scanMessages(lecroy, messages);
      expect(bad).to.deep.equal([]);
      expect(remaining).to.equal(0);
      expect(events.map((e) => e.frames)).to.deep.equal([
        messages[0],
        [messages[1][0], ...messages[2], ...messages[3], messages[4][0]],
        [messages[1][0], ...messages[5], ...messages[6], messages[7][0]],
        messages[8],
      ]);
    });

    it('parse() gives the waveforms, their maxima and the pickled trigger times', async function () {
      const { events } = await scanMessages(lecroy, await captureMessages(fixture(this, 'maui-02-continuous-3.cbor.gz')));
      expect(lecroy.parse(events[0])).to.deep.equal({ kind: 'prepare', message: { htype: 'msg', what: 0, frame: 0 } });
      expect(lecroy.parse(events[3])).to.deep.equal({ kind: 'stop', message: { htype: 'msg', what: 3, frame: 4, frames: 4 } });
      const [first, second] = [sequence(lecroy.parse(events[1])), sequence(lecroy.parse(events[2]))];
      expect(first.start).to.deep.equal({ htype: 'msg', what: 1, frame: 0, ntriggers: -1, seqno: 0, channels: [2, 4] });
      expect(second.start.seqno, 'continuous mode repeats the first SEQ START').to.equal(0);
      expect([first.end.frame, second.end.frame]).to.deep.equal([2, 4]);
      expect(first.meta.map((m) => m.ch)).to.deep.equal([2, 4]);
      expect(first.meta[0]).to.deep.equal({
        htype: 'traces', ch: 2, ts: 1740563664.870739, frame: 0, shape: [1, 8002],
        horiz_offset: -1.0000447740009733e-07, horiz_interval: 1.25000001668929e-11, dtype: 'float64',
      });
      expect(first.data.map((d) => [d.dtype, d.shape])).to.deep.equal([['float64', [1, 8002]], ['float64', [1, 8002]]]);
      expect(Array.from((first.data[0].data as Float64Array).subarray(0, 3))).to.deep.equal([-0.00458128725313145, -0.0026037531870315433, 0.0007800273260727408]);
      expect([rowMaxima(first, 0), rowMaxima(first, 1), rowMaxima(second, 0), rowMaxima(second, 1)])
        .to.deep.equal([[0.1631136015521406], [0.220660299555675], [0.1675630532008654], [0.2167088853457244]]);
      expect(first.timestamps).to.deep.equal([[1740563664.870739], [1740563664.870739]]);
      expect(second.timestamps).to.deep.equal([[1740563664.335], [1740563664.335]]);
    });
  });

  describe('maui-02-sequential-3.cbor.gz (a real scope, sequential mode, 20 segments)', () => {
    it('scan() forwards each sequence as received; parse() gives the maxima and times of every segment', async function () {
      const messages = await captureMessages(fixture(this, 'maui-02-sequential-3.cbor.gz'));
      const { events, bad } = await scanMessages(lecroy, messages);
      expect(bad).to.deep.equal([]);
      expect(events.map((e) => e.frames)).to.deep.equal([
        messages[0],
        [messages[1][0], ...messages[2], ...messages[3], messages[4][0]],
        [messages[5][0], ...messages[6], ...messages[7], messages[8][0]],
        messages[9],
      ]);
      const [first, second] = [sequence(lecroy.parse(events[1])), sequence(lecroy.parse(events[2]))];
      expect([first.start.seqno, second.start.seqno, first.start.ntriggers]).to.deep.equal([0, 1, 20]);
      expect(first.data[0].shape).to.deep.equal([20, 8002]);
      expect(rowMaxima(first, 0).slice(0, 3)).to.deep.equal([0.02266473765757837, 0.025125668939836032, 0.020950874800291786]);
      expect(first.timestamps[0].slice(0, 3)).to.deep.equal([1740736916.442, 1740736916.5420005, 1740736916.642001]);
      expect(first.timestamps[0][19]).to.equal(1740736918.3420095);
      const maxima = rowMaxima(second, 0);
      expect([maxima[0], maxima[1], maxima[19]]).to.deep.equal([0.022609806155742262, 0.024257751210825518, 0.0220714774377484]);
      expect(rowMaxima(second, 1)[0]).to.equal(0.01775756024471775);
      expect([second.timestamps[0][0], second.timestamps[0][19]]).to.deep.equal([1740736919.435, 1740736921.3350096]);
      // the emulator pickles trigger times byte for byte as the scope's sender did
      expect(pickleFloatList(second.timestamps[0]).equals(messages[6][2])).to.equal(true);
    });
  });

  describe('emulator', () => {
    const single = [1740563664.335];
    it('pickles one time, and batches of 1000, as Python does', () => {
      expect(pickleFloatList(single).toString('hex')).to.equal('8004950d000000000000005d944741d9efb9341570a4612e');
      const many = Array.from({ length: 2001 }, (_, i) => i + 0.5);
      expect(loadPickle(pickleFloatList(many))).to.deep.equal(many);
    });

    for (const mode of ['continuous', 'sequential'] as const) {
      it(`${mode}: its messages group and parse back to the pulse heights and trigger times`, async () => {
        const options: LecroyAcquisitionOptions = { mode, sequences: 3, segments: 4, points: 200, channels: [1, 3] };
        const { events, bad } = await scanMessages(lecroy, lecroyAcquisitionMessages(options));
        expect(bad).to.deep.equal([]);
        expect(events.map((e) => e.frames.length)).to.deep.equal([1, 8, 8, 8, 1]);
        const segments = mode === 'continuous' ? 1 : 4;
        for (let s = 0; s < 3; s++) {
          const packet = sequence(lecroy.parse(events[s + 1]));
          expect(packet.start.seqno).to.equal(mode === 'continuous' ? 0 : s);
          for (const [slot, channel] of [1, 3].entries()) {
            expect(rowMaxima(packet, slot)).to.deep.equal(Array.from({ length: segments }, (_, g) => emulatedPulseHeight(channel, s, g)));
            expect(packet.timestamps[slot]).to.deep.equal(Array.from({ length: segments }, (_, g) => emulatedTriggerTime(options, s, g)));
          }
        }
      });
    }
  });

  describe('scan handles broken acquisitions', () => {
    const options: LecroyAcquisitionOptions = { mode: 'sequential', sequences: 3, segments: 2, points: 16 };
    const messages = lecroyAcquisitionMessages(options);
    // 0 prepare; per sequence: seqstart, ch2, ch4, seqend (1–4, 5–8, 9–12); 13 stop

    it('waits for PREPARE followed by SEQ START, counting what comes before', async () => {
      const { events, bad } = await scanMessages(lecroy, [[Buffer.from('emptyness')], messages[2], messages[0], messages[4], ...messages]);
      expect(events.map((e) => e.frames.length)).to.deep.equal([1, 8, 8, 8, 1]);
      expect(bad).to.have.length(3);
      expect(bad[0]).to.match(/^before the start message: LeCroy message \(9 bytes\) is not JSON/);
      expect(bad[1]).to.equal('LeCroy traces message before the start message (PREPARE followed by SEQ START)');
      expect(bad[2]).to.equal('LeCroy seqend message before the start message (PREPARE followed by SEQ START)');
    });

    it('drops a sequence that misses a channel, a truncated traces message and stray traces, and goes on', async () => {
      const { events, bad } = await scanMessages(lecroy, [
        ...messages.slice(0, 5),
        messages[5], messages[6], messages[7].slice(0, 2), messages[8], // sequence 1 loses channel 4's traces
        messages[6], // traces outside a sequence
        ...messages.slice(9),
      ]);
      expect(events.map((e) => (e.frames.length === 1 ? lecroy.parse(e).kind : sequence(lecroy.parse(e)).start.seqno)))
        .to.deep.equal(['prepare', 0, 2, 'stop']);
      expect(bad).to.deep.equal([
        'LeCroy traces message has 2 frames, expected 3',
        'LeCroy sequence 1 has traces of channels [2], expected [2, 4]; sequence dropped',
        'LeCroy traces of channel 2 outside a sequence (no SEQ START)',
      ]);
    });

    it('drops an open sequence at STOP, and ends quietly when the upstream closes mid-sequence', async () => {
      const stopped = await scanMessages(lecroy, [...messages.slice(0, 7), messages[13]]);
      expect(stopped.events.map((e) => e.frames.length)).to.deep.equal([1, 8, 1]);
      expect(stopped.bad).to.deep.equal(['LeCroy sequence 1 dropped: STOP arrived before its SEQ END']);
      const cut = await scanMessages(lecroy, messages.slice(0, 7));
      expect(cut.events.map((e) => e.frames.length)).to.deep.equal([1, 8]);
      expect(cut.warnings).to.deep.equal(['stream test: upstream closed inside LeCroy sequence 1']);
    });
  });

  describe('parse rejects bad input with a clear error', () => {
    const messages = lecroyAcquisitionMessages({ mode: 'sequential', sequences: 1, segments: 2, points: 16 });
    const [prepare, seqstart, ch2, ch4, seqend, stop] = messages;
    const whole = [seqstart[0], ...ch2, ...ch4, seqend[0]];
    const badTimes = json({ ...JSON.parse(ch2[0].toString()), shape: [3, 16] });
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'PCAP', frames: prepare }, /expected StreamData of typ lecroy_9fwdWp6Rq7, got "PCAP"/],
      ['SEQ END alone', stream(seqend), /LeCroy seqend alone is not an event/],
      ['frame 0 that is not JSON', stream([Buffer.from('emptyness')]), /LeCroy message \(9 bytes\) is not JSON/],
      ['an unknown what', stream([json({ htype: 'msg', what: 7, frame: 0 })]), /LeCroy message is not valid: what/],
      ['a sequence without SEQ START', stream([prepare[0], ...whole.slice(1)]), /starts with prepare, expected SEQ START/],
      ['a sequence missing a channel', stream([seqstart[0], ...ch2, seqend[0]]), /2 channels has 5 frames, expected 8/],
      ['a sequence ending with STOP', stream([...whole.slice(0, 7), stop[0]]), /sequence ends with stop, expected SEQ END/],
      ['a channel twice', stream([seqstart[0], ...ch2, ...ch2, seqend[0]]), /channel 2 appears twice for channels \[2, 4\]/],
      ['a channel not announced', stream([seqstart[0], ...ch2, json({ ...JSON.parse(ch4[0].toString()), ch: 3 }), ch4[1], ch4[2], seqend[0]]),
        /channel 3 is not among channels \[2, 4\]/],
      ['waveforms of the wrong size', stream([seqstart[0], ch2[0], ch2[1].subarray(8), ch2[2], ...ch4, seqend[0]]), /channel 2: .*needs 256 bytes, got 248/],
      ['trigger times that are not a pickle', stream([seqstart[0], ch2[0], ch2[1], Buffer.from('times'), ...ch4, seqend[0]]), /channel 2: trigger times \(5 bytes\) are not a pickle/],
      ['a wrong number of trigger times', stream([seqstart[0], badTimes, Buffer.alloc(3 * 16 * 8), ch2[2], ...ch4, seqend[0]]), /2 trigger times for 3 segments/],
      ['ntriggers 0', stream([json({ htype: 'msg', what: 1, frame: 0, ntriggers: 0, seqno: 0, channels: [2] })]), /ntriggers: must be -1/],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => { expect(() => lecroy.parse(data)).to.throw(LecroyError, message); });
    }

    it('a STOP without htype is still STOP', () => {
      expect(lecroy.parse(stream([json({ what: 3, frame: 4, frames: 4 })]))).to.deep.equal({ kind: 'stop', message: { what: 3, frame: 4, frames: 4 } });
    });
  });

  describe('through a live pipeline (LecroyWorker, LecroyReducer)', () => {
    const live = liveStream({ protocol: 'lecroy', stream: 'lecroy', ingester: 'scope-ingester', worker: `${PAYLOAD}:LecroyWorker`, reducer: `${PAYLOAD}:LecroyReducer` });

    const cases = [
      { file: 'maui-02-continuous-3.cbor.gz', max: [0.1675630532008654], ts: [1740563664.335], first: [0.1631136015521406], length: 1 },
      { file: 'maui-02-sequential-3.cbor.gz', max: [0.022609806155742262], ts: [1740736919.435], first: [0.02266473765757837, 0.025125668939836032, 0.020950874800291786], length: 20 },
    ];
    for (const { file, max, ts, first, length } of cases) {
      it(`replays ${file}: 2 triggers give 4 events; max_val and ts are those of the last sequence`, async function () {
        const messages = await captureMessages(fixture(this, file));
        const { pipeline, player } = await live.start();
        await setSequenceAndWait(pipeline, uniformSequence(['lecroy'], 2));
        await player.play(messages, { warmup: 3, rate: 1000 });
        expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(4));
        const publish = await pipeline.result<{ max_val: number[]; ts: number[]; events: Record<string, LecroyResult> }>('$');
        expect(publish.max_val).to.have.length(length);
        expect(publish.ts).to.have.length(length);
        expect(publish.max_val[0]).to.equal(max[0]);
        expect(publish.ts[0]).to.equal(ts[0]);
        expect(publish.events['1'].max_val.slice(0, first.length)).to.deep.equal(first);
        expect(Object.keys(publish.events).sort()).to.deep.equal(['1', '2']);
      });
    }

    it('counts a message that is not JSON, and gives a sequence that lost a channel its own event, as missing', async () => {
      const { pipeline, player } = await live.start();
      const messages = lecroyAcquisitionMessages({ mode: 'sequential', sequences: 4, segments: 3, points: 100 });
      // 0 prepare; sequence k is messages 1+4k … 4+4k; 17 stop. After sequence 0: junk; sequence 1 loses channel 4's waveforms
      const played = [...messages.slice(0, 5), [Buffer.from('garbage')], messages[5], messages[6], messages[7].slice(0, 1), ...messages.slice(8)];
      await setSequenceAndWait(pipeline, uniformSequence(['lecroy'], 4));
      await player.play(played, { warmup: 3, rate: 500 });
      expect(await pipeline.waitForFinish()).to.deep.equal(scanEndedWith(6, { bad: 2, missing: 1 }));
      const { bad, missing } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:scope-ingester/lecroy', 2], ['ingester:scope-ingester/lecroy', 2]]);
      expect(bad.map((b) => b.reason)).to.satisfy(([junk, traces]: string[]) => /^LeCroy message \(7 bytes\) is not JSON/.test(junk) && traces === 'LeCroy traces message has 1 frames, expected 3');
      expect(missing.map((m) => [m.event, m.reason])).to.deep.equal([[2, 'LeCroy sequence 1 has traces of channels [2], expected [2, 4]; sequence dropped']]);
      const events = await pipeline.result<Record<string, LecroyResult>>('events');
      expect([1, 3, 4].map((e) => events[e].seqno), 'the later sequences keep their events').to.deep.equal([0, 2, 3]);
      expect(events['2'], 'no worker ran on an event without data').to.equal(undefined);
      expect(events['3'].max_val).to.deep.equal([0, 1, 2].map((g) => emulatedPulseHeight(2, 2, g)));
    });
  });
});
