import { expect } from 'chai';
import { join } from 'node:path';
import type { NDArray } from '../src/core/ndarray.js';
import { encodePickle } from '../src/core/pickle/write.js';
import type { StreamData } from '../src/core/types.js';
import { xspress3, XspressError, type XspressPacket } from '../src/protocols/xspress3/index.js';
import { emulatedMeta, emulatedSpectra, xspressSeriesMessages, type XspressSeriesOptions } from '../src/protocols/xspress3/emulator.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import { captureMessages, scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { StreamSummary } from './payloads/fluorescence.js';

const PAYLOAD = join(ROOT, 'test/payloads/fluorescence.ts');
const stream = (frames: Buffer[]): StreamData => ({ typ: 'xspress', frames });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function image(packet: XspressPacket) {
  if (packet.kind !== 'image') throw new Error(`expected an image, got ${packet.kind}`);
  return packet;
}

function channelSums(spectra: NDArray): number[] {
  const [channels, bins] = spectra.shape;
  return Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    for (let b = 0; b < bins; b++) sum += Number(spectra.data[c * bins + b]);
    return sum;
  });
}

/** numpy's `spectra[-1][0:10].sum()` */
const roi1 = (spectra: NDArray) => Array.from(spectra.data.subarray((spectra.shape[0] - 1) * spectra.shape[1]).subarray(0, 10) as Uint32Array)
  .reduce((a, b) => a + b, 0);
const values = (array: NDArray) => Array.from(array.data as ArrayLike<number>);

/** what scan() and parse() make of a capture: the forwarded events and the parsed images */
async function decode(path: string) {
  const messages = await captureMessages(path);
  const outcome = await scanMessages(xspress3, messages);
  const packets = outcome.events.map((e) => xspress3.parse(e));
  return { messages, ...outcome, packets, images: packets.slice(1, -1).map(image) };
}

describe('Xspress3 protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: xspress3.name, typ: xspress3.typ, transport: xspress3.transport })
      .to.deep.equal({ name: 'xspress3', typ: 'xspress', transport: 'zmq-sub' });
  });

  describe('real captures', () => {
    it('xspress3mini-dump20.cbors (legacy, 2 channels): 22 images of three messages each, roi1 and channel sums', async function () {
      const { messages, events, bad, remaining, packets, images } = await decode(fixture(this, 'xspress3mini-dump20.cbors'));
      expect(bad).to.deep.equal([]);
      expect(remaining).to.equal(0);
      expect(events.map((e) => e.frames.length)).to.deep.equal([1, ...new Array(22).fill(3), 1]);
      expect(events[1].frames[1], 'the very same spectra Buffer').to.equal(messages[2][0]);
      expect(packets[0]).to.deep.equal({ kind: 'start', header: {
        htype: 'header', filename: '/data/visitors/nanomax/20211244/2023120608/raw/0003_Au250Ag100/scan_000145_x3mini.hdf5', overwritable: false,
      } });
      expect(packets[23]).to.deep.equal({ kind: 'end', header: { htype: 'series_end' } });
      const eleven = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      expect(images.map((i) => i.header.frame)).to.deep.equal([...eleven, ...eleven]);
      const roi = [81, 76, 67, 49, 69, 97, 75, 58, 81, 77, 91];
      expect(images.map((i) => roi1(i.spectra))).to.deep.equal([...roi, ...roi]);
      const sums = [[11649, 489], [11364, 480], [11685, 498], [11882, 448], [12189, 503], [11627, 468],
        [11649, 507], [11454, 493], [11661, 494], [11588, 488], [11613, 488]];
      expect(images.map((i) => channelSums(i.spectra))).to.deep.equal([...sums, ...sums]);
      for (const i of images) {
        expect(i.header).to.include({ htype: 'image', exptime: 0.9999998750000001, type: 'uint32', compression: 'none' });
        expect(i.spectra).to.include({ dtype: 'uint32' });
        expect(i.spectra.shape).to.deep.equal([2, 4096]);
        expect(values(i.meta.AllGood), 'AllGood is each channel sum').to.deep.equal(channelSums(i.spectra));
        expect(i.meta.window_counts).to.equal(undefined);
      }
      const { meta, spectra } = images[0];
      expect(values(meta.ocr)).to.deep.equal([1.8201564775195596e-12, 7.640625955078244e-14]);
      expect(values(meta.AllEvents)).to.deep.equal([11750, 547]);
      expect(values(meta.ClockTicks)).to.deep.equal([79999990, 79999990]);
      expect(values(meta.TotalTicks)).to.deep.equal([79999990, 79999990]);
      expect(values(meta.ResetTicks)).to.deep.equal([468, 484]);
      expect(meta.event_widths).to.include({ dtype: 'int32' });
      expect(values(meta.event_widths)).to.deep.equal([7, 7]);
      expect(values(meta.dtc)).to.deep.equal([1.0011822462032098, 1.0000607536983814]);
      expect(Array.from(spectra.data.subarray(4096, 4106) as Uint32Array)).to.deep.equal([14, 17, 18, 8, 10, 10, 1, 2, 1, 0]);
    });

    it('xspress3-dump.cbors (legacy, 4 channels, protocol-3 meta): 20 nearly empty images', async function () {
      const { bad, packets, images } = await decode(fixture(this, 'xspress3-dump.cbors'));
      expect(bad).to.deep.equal([]);
      expect(packets).to.have.length(22);
      const start = packets[0];
      if (start.kind !== 'start') throw new Error('no header');
      expect(start.header).to.deep.equal({
        htype: 'header', overwritable: false,
        filename: '/data/staff/nanomax/commissioning_2023-2/diff_1130_stream_test/raw/dummy/scan_000002_xspress3.hdf5',
      });
      expect(packets[21].kind).to.equal('end');
      expect(images.map((i) => i.header.frame)).to.deep.equal(Array.from({ length: 20 }, (_, k) => k));
      for (const i of images) {
        expect(i.header).to.include({ exptime: 0.099999875, type: 'uint32', compression: 'none' });
        expect(i.header.shape).to.deep.equal([4, 4096]);
        expect(values(i.meta.AllGood)).to.deep.equal(channelSums(i.spectra));
      }
      expect(images.map((i) => channelSums(i.spectra))).to.deep.equal([
        [0, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 1, 2], [2, 0, 0, 2], [0, 1, 0, 1], [0, 0, 0, 2], [0, 1, 0, 1], [1, 0, 0, 2], [0, 0, 0, 1],
        [0, 1, 0, 4], [0, 0, 0, 1], [0, 0, 0, 1], [1, 1, 0, 2], [0, 0, 1, 2], [0, 0, 0, 4], [0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 2],
      ]);
      expect(images.map((i) => roi1(i.spectra))).to.deep.equal([1, 1, 1, 2, 2, 1, 2, 1, 2, 1, 4, 1, 1, 2, 2, 4, 1, 0, 1, 2]);
      const { meta } = images[0];
      expect(values(meta.ocr)).to.deep.equal([0, 0, 0, 1.5625019531274415e-15]);
      expect(values(meta.AllEvents)).to.deep.equal([2, 0, 0, 3]);
      expect(values(meta.ClockTicks)).to.deep.equal([7999990, 7999990, 7999990, 7999990]);
      expect(values(meta.ResetTicks)).to.deep.equal([0, 0, 0, 91]);
      expect(values(meta.event_widths)).to.deep.equal([6, 6, 6, 6]);
      expect(values(meta.dtc)).to.deep.equal([1.00000175000525, 1.0, 1.0, 1.0000140002135032]);
    });

    it('xspress3-multipart.cbors: 3-part images, the newer header and a 9th meta array', async function () {
      const { messages, events, bad, packets, images } = await decode(fixture(this, 'xspress3-multipart.cbors'));
      expect(bad).to.deep.equal([]);
      expect(events.map((e) => e.frames)).to.deep.equal(messages);
      const start = packets[0];
      if (start.kind !== 'start') throw new Error('no header');
      expect(start.header.filename).to.equal('/data/staff/nanomax/commissioning_2024-2/20241101_diff_livexrf_tests/raw/0001_setup/scan_000004_xspress3.hdf5');
      expect(start.header.limits).to.deep.equal([new Array(4).fill([0, 0]), new Array(4).fill([0, 0])]);
      expect((start.header.extra_tags as string[]).at(-1)).to.equal('window_counts');
      expect(images.map((i) => i.header.frame)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(images.map((i) => channelSums(i.spectra))).to.deep.equal([12303, 14079, 11091, 9818, 6717].map((s) => [0, 0, 0, s]));
      expect(images.map((i) => values(i.meta.AllEvents)[3])).to.deep.equal([12303, 14079, 11092, 9819, 6717]);
      expect(images.map((i) => roi1(i.spectra))).to.deep.equal([3, 2, 3, 2, 3]);
      expect(images.map((i) => values(i.meta.dtc)[3]))
        .to.deep.equal([1.817855842762348, 1.8357377733821947, 1.8063538656069364, 1.795392920478707, 1.7864323695208866]);
      for (const i of images) {
        expect(i.header.exptime).to.equal(0.049999875);
        expect(values(i.meta.AllGood)).to.deep.equal(channelSums(i.spectra));
        expect(i.meta.window_counts).to.include({ dtype: 'uint32' });
        expect(i.meta.window_counts!.shape).to.deep.equal([2, 4]);
      }
      // not all zeros, whatever protocols.md §4.5 says (checked with Python's pickle and numpy)
      expect(images.map((i) => values(i.meta.window_counts!)[3])).to.deep.equal([0, 2, 0, 0, 1]);
      expect(values(images[1].meta.window_counts!)).to.deep.equal([0, 0, 0, 2, 0, 0, 0, 2]);
    });
  });

  describe('parse rejects bad input with a clear error', () => {
    const options: XspressSeriesOptions = { frames: 1, channels: 2, bins: 8, variant: 'multipart' };
    const [, good] = xspressSeriesMessages(options);
    const [head, spectra, meta] = good;
    const header = (extra: Record<string, unknown>) => json({ ...JSON.parse(head.toString()), ...extra });
    const metaOf = (value: unknown) => encodePickle(value);
    const eightArrays = emulatedMeta({ ...options, variant: 'legacy' }, emulatedSpectra(options, 0));
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'contrast', frames: good }, /expected StreamData of typ xspress, got "contrast"/],
      ['no frames', stream([]), /no frames/],
      ['an image of one frame', stream([head]), /image has 1 frames, expected 3/],
      ['a header of two frames', stream([json({ htype: 'header', filename: '' }), spectra]), /header has 2 frames, expected 1/],
      ['frame 0 not JSON', stream([Buffer.from('emptyness')]), /\(9 bytes\) is not JSON/],
      ['an unknown htype', stream([json({ htype: 'dheader-1.0' })]), /Xspress3 message is not valid: htype: /],
      ['a header without filename', stream([json({ htype: 'header' })]), /filename: /],
      ['a one-dimensional shape', stream([header({ shape: [16] }), spectra, meta]), /shape: /],
      ['an unknown dtype', stream([header({ type: 'complex64' }), spectra, meta]), /type: unknown dtype "complex64"/],
      ['a compression', stream([header({ compression: 'lz4' }), spectra, meta]), /compression: /],
      ['spectra too short', stream([head, spectra.subarray(4), meta]), /image 0: spectra frame has 60 bytes, shape \[2,8\] of uint32 needs 64/],
      ['meta that is not a pickle', stream([head, spectra, Buffer.from('{"ocr": 1}')]), /image 0: meta frame \(10 bytes\) is not a pickle/],
      ['meta that is a truncated pickle', stream([head, spectra, meta.subarray(0, meta.length - 5)]), /image 0: meta frame .*is not a pickle: .*truncated/],
      ['meta that is not a list of arrays', stream([head, spectra, metaOf({ ocr: 1 })]), /meta frame is not a list of numpy arrays/],
      ['meta with 7 arrays', stream([head, spectra, metaOf(eightArrays.slice(0, 7))]), /meta frame has 7 arrays, expected 8 or 9/],
      ['meta for another channel count', stream([header({ shape: [1, 16] }), spectra, meta]), /meta frame: ocr has shape \[2\], expected \[1\]/],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => {
        expect(() => xspress3.parse(data)).to.throw(XspressError, message);
      });
    }
  });

  describe('scan', () => {
    const legacy = xspressSeriesMessages({ frames: 3, channels: 2, bins: 16, variant: 'legacy' });
    const multipart = xspressSeriesMessages({ frames: 3, channels: 2, bins: 16, variant: 'multipart' });
    const images = [0, 1, 2].map((k) => legacy.slice(1 + 3 * k, 4 + 3 * k).map((m) => m[0]));

    it('bundles each legacy image with the next two messages and forwards a multipart image as it is', async () => {
      const fromLegacy = await scanMessages(xspress3, legacy);
      expect(fromLegacy.bad).to.deep.equal([]);
      expect(fromLegacy.events.map((e) => e.frames)).to.deep.equal([legacy[0], ...images, legacy.at(-1)]);
      const fromMultipart = await scanMessages(xspress3, multipart);
      expect(fromMultipart.events.map((e) => e.frames)).to.deep.equal(multipart);
      const spectra = (events: StreamData[]) => events.slice(1, 4).map((e) => e.frames[1]);
      expect(spectra(fromMultipart.events), 'the same spectra either way').to.deep.equal(spectra(fromLegacy.events));
    });

    it('reports short spectra, meta that is not a pickle and a lost message, and goes on with the next image', async () => {
      const [first, second, third] = images;
      const { events, bad, remaining } = await scanMessages(xspress3, [
        [Buffer.from('emptyness')], [first[1]],
        [json({ htype: 'header', filename: '' }), first[1]],
        legacy[0],
        [first[0]], [first[1].subarray(0, 100)], [first[2]],
        [first[0]], [first[1]], [Buffer.from('not a pickle')],
        [first[0]], [first[1]],                       // the meta message is lost: the next image goes back
        [second[0]], [second[1]], [second[2]],
        [third[0], third[1]],                         // a 2-part image
        [third[0]], [third[1]], [third[2]],
        legacy.at(-1)!, legacy[0],
      ]);
      expect(events.map((e) => e.frames)).to.deep.equal([legacy[0], second, third, legacy.at(-1)]);
      expect(bad).to.have.length(7);
      expect(bad[0]).to.match(/^before the start message: Xspress3 message \(9 bytes\) is not JSON/);
      expect(bad[1]).to.match(/^before the start message: Xspress3 message \(128 bytes\) is not JSON/);
      expect(bad[2]).to.equal('before the start message: Xspress3 header message has 2 frames, expected 1');
      expect(bad[3]).to.equal('Xspress3 image 0: spectra frame has 100 bytes, shape [2,16] of uint32 needs 128');
      expect(bad[4]).to.match(/^Xspress3 image 0: meta frame \(12 bytes\) is not a pickle/);
      expect(bad[5]).to.equal('Xspress3 image 0: its meta message is missing (got an Xspress3 JSON message instead)');
      expect(bad[6]).to.equal('Xspress3 image message has 2 frames, expected 1 or 3');
      expect(remaining).to.equal(1);
    });

    it('reports an image cut off by the end of the upstream', async () => {
      const { events, bad } = await scanMessages(xspress3, [legacy[0], [images[0][0]], [images[0][1]]]);
      expect(events.map((e) => e.frames)).to.deep.equal([legacy[0]]);
      expect(bad).to.deep.equal(['Xspress3 image 0: upstream closed before its meta message']);
    });
  });

  describe('emulator', () => {
    it('legacy: header, three single-part messages per image, series_end; counters that match the spectra', () => {
      const options: XspressSeriesOptions = { frames: 2, channels: 3, bins: 64, exptime: 0.5, filename: 'scan.h5', seed: 4 };
      const messages = xspressSeriesMessages(options);
      expect(messages.map((m) => m.length)).to.deep.equal(new Array(8).fill(1));
      expect(JSON.parse(messages[0][0].toString())).to.deep.equal({ htype: 'header', filename: 'scan.h5', overwritable: false });
      expect(JSON.parse(messages[4][0].toString())).to.deep.equal({ htype: 'image', exptime: 0.5, frame: 1, shape: [3, 64], type: 'uint32', compression: 'none' });
      expect(messages[5][0].length).to.equal(3 * 64 * 4);
      expect(JSON.parse(messages[7][0].toString())).to.deep.equal({ htype: 'series_end' });
      const parsed = image(xspress3.parse(stream([messages[4][0], messages[5][0], messages[6][0]])));
      expect(parsed.spectra.data).to.deep.equal(emulatedSpectra(options, 1).data);
      expect(values(parsed.meta.AllGood)).to.deep.equal(channelSums(parsed.spectra));
      expect(values(parsed.meta.ClockTicks)).to.deep.equal([39999990, 39999990, 39999990]);
      expect(values(parsed.meta.AllEvents).every((n, c) => n > values(parsed.meta.AllGood)[c])).to.equal(true);
      expect(parsed.meta.window_counts).to.equal(undefined);
      expect(Math.max(...(parsed.spectra.data as Uint32Array))).to.equal(7);
      expect(channelSums(emulatedSpectra(options, 0))).to.not.deep.equal(channelSums(emulatedSpectra(options, 1)));
    });

    it('multipart: one 3-part message per image, the newer header, a 9th meta array', () => {
      const messages = xspressSeriesMessages({ frames: 2, channels: 4, bins: 32, variant: 'multipart' });
      expect(messages.map((m) => m.length)).to.deep.equal([1, 3, 3, 1]);
      const header = JSON.parse(messages[0][0].toString());
      expect(header.limits).to.deep.equal([new Array(4).fill([0, 0]), new Array(4).fill([0, 0])]);
      expect(header.extra_tags).to.have.length(9);
      const parsed = image(xspress3.parse(stream(messages[2])));
      expect(parsed.header.frame).to.equal(1);
      expect(parsed.meta.window_counts!.shape).to.deep.equal([2, 4]);
    });
  });

  describe('through a live pipeline', () => {
    const live = liveStream({ protocol: 'xspress3', stream: 'xspress3', ingester: 'xspress3-ingester', worker: `${PAYLOAD}:StreamSummaryWorker`, reducer: `${PAYLOAD}:EventLogReducer` });

    type Events = Record<string, { xspress3: StreamSummary & { typ: 'xspress' } }[]>;

    it('xspress3-multipart.cbors: 5 triggers give 7 events, and a worker sees the channel-3 sums', async function () {
      const messages = await captureMessages(fixture(this, 'xspress3-multipart.cbors'));
      const { pipeline, player } = await live.start();
      await setSequenceAndWait(pipeline, uniformSequence(['xspress3'], 5));
      await player.play(messages, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(7));
      const events = await pipeline.result<Events>('events');
      expect(events['0'].map((e) => e.xspress3.kind)).to.deep.equal(['start', 'start']);
      const frames = [1, 2, 3, 4, 5].map((e) => events[e][0].xspress3);
      expect(frames.map((f) => f.frame)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(frames.map((f) => f.sums![3])).to.deep.equal([12303, 14079, 11091, 9818, 6717]);
      expect(frames.map((f) => f.metaArrays)).to.deep.equal(new Array(5).fill(9));
      expect(events['6'].map((e) => e.xspress3.kind)).to.deep.equal(['end', 'end']);
    });

    it('counts images with short spectra and with meta that is not a pickle, with their events, and completes the scan', async () => {
      const { pipeline, player } = await live.start();
      const options: XspressSeriesOptions = { frames: 6, channels: 2, variant: 'legacy' };
      const messages = xspressSeriesMessages(options);
      const imageMessages = (k: number) => messages.slice(1 + 3 * k, 4 + 3 * k);
      const [json2, spectra2, meta2] = imageMessages(2);
      // before image 2: a copy of it with spectra cut short; before image 4: one whose meta is not a pickle
      const played = [
        messages[0], ...imageMessages(0), ...imageMessages(1),
        json2, [spectra2[0].subarray(0, 1000)], meta2,
        ...imageMessages(2), ...imageMessages(3),
        ...imageMessages(4).slice(0, 2), [Buffer.from('pickled? no')],
        ...imageMessages(4), ...imageMessages(5), messages.at(-1)!,
      ];
      await setSequenceAndWait(pipeline, uniformSequence(['xspress3'], 6));
      await player.play(played, { warmup: 3, rate: 1000 });
      expect(await pipeline.waitForFinish(), 'the whole copies take the broken images\' places').to.deep.equal(scanEndedWith(8, { bad: 2 }));
      const { bad } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:xspress3-ingester/xspress3', 3], ['ingester:xspress3-ingester/xspress3', 5]]);
      expect(bad[0].reason).to.equal('Xspress3 image 2: spectra frame has 1000 bytes, shape [2,4096] of uint32 needs 32768');
      expect(bad[1].reason).to.match(/^Xspress3 image 4: meta frame \(11 bytes\) is not a pickle/);
      const events = await pipeline.result<Events>('events');
      const frames = [1, 2, 3, 4, 5, 6].map((e) => events[e][0].xspress3);
      expect(frames.map((f) => f.frame)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(frames.map((f) => f.sums)).to.deep.equal([0, 1, 2, 3, 4, 5].map((k) => channelSums(emulatedSpectra(options, k))));
    });
  });
});
