import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { bslz4DecodeCompleteBlocks } from '../src/core/compression/bslz4.js';
import type { StreamData } from '../src/core/types.js';
import {
  decodeEigerArray, decodeEigerImage, eigerLegacy, EigerLegacyError, type EigerLegacyImage, type EigerLegacyPacket,
} from '../src/protocols/eiger-legacy/index.js';
import { eigerSeriesMessages, emulatedEigerImage } from '../src/protocols/eiger-legacy/emulator.js';
import { fixture } from './helpers/fixtures.js';
import { ROOT, uniformSequence, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { liveStream } from './helpers/live-stream.js';
import { captureMessages, scanMessages, scanProblems } from './helpers/upstream-harness.js';
import type { PacketResult } from './payloads/packets.js';

const PACKETS = join(ROOT, 'test/payloads/packets.ts');
const stream = (frames: Buffer[]): StreamData => ({ typ: 'EIGER_LEGACY', frames });
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function image(packet: EigerLegacyPacket): EigerLegacyImage {
  if (packet.kind !== 'image') throw new Error(`expected an image, got ${packet.kind}`);
  return packet;
}

describe('Eiger legacy protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: eigerLegacy.name, typ: eigerLegacy.typ, transport: eigerLegacy.transport })
      .to.deep.equal({ name: 'eiger-legacy', typ: 'EIGER_LEGACY', transport: 'zmq-pull' });
  });

  describe('eiger-small.cbors (a real EIGER2 9M series, binary parts cut to 20000 bytes)', () => {
    it('scan() forwards the header, the 3 images and the end untouched', async function () {
      const messages = await captureMessages(fixture(this, 'eiger-small.cbors'));
      const { events, bad } = await scanMessages(eigerLegacy, messages);
      expect(bad).to.deep.equal([]);
      expect(events.map((e) => e.frames)).to.deep.equal(messages);
      expect(events.map((e) => e.frames.length)).to.deep.equal([9, 5, 5, 5, 1]);
    });

    it('parse() gives the header configuration and appendix', async function () {
      const [header] = await captureMessages(fixture(this, 'eiger-small.cbors'));
      const packet = eigerLegacy.parse(stream(header));
      if (packet.kind !== 'header') throw new Error(`expected the header, got ${packet.kind}`);
      expect(packet.header).to.deep.equal({ header_detail: 'all', htype: 'dheader-1.0', series: 6 });
      expect(packet.info).to.include({
        x_pixels_in_detector: 3108, y_pixels_in_detector: 3262, nimages: 3, ntrigger: 1, count_time: 0.0099999, frame_time: 0.01,
        compression: 'bslz4', bit_depth_image: 32, photon_energy: 8041.0, description: 'Dectris EIGER2 CdTe 9M',
      });
      expect(Object.keys(packet.info!)).to.have.length(48);
      const appendix = packet.appendix as { collect_dict: Record<string, unknown>; dozor_dict: Record<string, unknown> };
      expect(appendix.collect_dict.col_id).to.equal(128579);
      expect(appendix.dozor_dict.wavelength).to.equal(1.541900241676412);
      expect(packet.arrays.flatfield!.header).to.deep.equal({ htype: 'dflatfield-1.0', shape: [3108, 3262], type: 'float32' });
      expect(packet.arrays.pixelmask!.buffer.length).to.equal(20000);
      const table = decodeEigerArray(packet.arrays.countrate_table!);
      expect({ dtype: table.dtype, shape: table.shape }).to.deep.equal({ dtype: 'float32', shape: [1001, 2] });
      expect(() => decodeEigerArray(packet.arrays.flatfield!)).to.throw(EigerLegacyError, /dflatfield-1.0 float32 \[3108,3262\]: .*needs 40553184 bytes, got 20000/);
    });

    it('parse() gives each image its data part, blob, config and appendix; the partial blobs decode to the reference vectors', async function () {
      const messages = await captureMessages(fixture(this, 'eiger-small.cbors'));
      const expected = [
        { hash: '59bb3a04cd9d59d54e283c465036085c', size: 755083, start: 103597359252740, stop: 103597369252640, consumed: 19758, sum: 1185 },
        { hash: '815e4907ce3482ec3cc4d33a1145cd44', size: 754672, start: 103597369252740, stop: 103597379252640, consumed: 19788, sum: 1070 },
        { hash: '25c4ffc0f9e65563dbe499d89f545214', size: 755895, start: 103597379252740, stop: 103597389252640, consumed: 19614, sum: 1177 },
      ];
      expected.forEach((want, frame) => {
        const packet = image(eigerLegacy.parse(stream(messages[frame + 1])));
        expect(packet.header).to.deep.equal({ frame, hash: want.hash, htype: 'dimage-1.0', series: 6 });
        const { buffer, ...part } = packet.data;
        expect(part).to.deep.equal({ encoding: 'bs32-lz4<', htype: 'dimage_d-1.0', shape: [3108, 3262], size: want.size, type: 'uint32' });
        expect(buffer.buffer, 'the blob is a view of the frame').to.equal(messages[frame + 1][2].buffer);
        expect(packet.config).to.deep.equal({ htype: 'dconfig-1.0', real_time: 9999900, start_time: want.start, stop_time: want.stop });
        expect(packet.appendix).to.deep.equal({});
        const decoded = bslz4DecodeCompleteBlocks(buffer, 4);
        const values = new Uint32Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length / 4);
        let total = 0;
        let masked = 0;
        for (const v of values) {
          if (v === 0xffffffff) masked += 1;
          else total += v;
        }
        expect({ blocks: decoded.blocks, consumed: decoded.bytesConsumed, elements: values.length, total, masked })
          .to.deep.equal({ blocks: 123, consumed: want.consumed, elements: 251904, total: want.sum, masked: 2708 });
        expect(() => decodeEigerImage(packet)).to.throw(EigerLegacyError, new RegExp(`blob has 20000 bytes, its header says ${want.size} \\(truncated\\?\\)`));
      });
      const end = eigerLegacy.parse(stream(messages[4]));
      expect(end).to.deep.equal({ kind: 'end', header: { htype: 'dseries_end-1.0', series: 6 } });
    });
  });

  describe('decodeEigerImage', () => {
    it('decompresses the emulator\'s bslz4 images to uint32 [y, x], and its blobs carry their md5', () => {
      const options = { frames: 2, shape: [48, 24] as [number, number], seed: 3 };
      const messages = eigerSeriesMessages(options);
      for (const frame of [0, 1]) {
        const packet = image(eigerLegacy.parse(stream(messages[frame + 1])));
        const pixels = decodeEigerImage(packet);
        expect({ dtype: pixels.dtype, shape: pixels.shape }).to.deep.equal({ dtype: 'uint32', shape: [24, 48] });
        expect(Array.from(pixels.data as Uint32Array)).to.deep.equal(Array.from(emulatedEigerImage(options, frame).data as Uint32Array));
        expect(packet.header.hash).to.equal(createHash('md5').update(packet.data.buffer).digest('hex'));
      }
    });

    it('reads uncompressed (<) and plain LZ4 (lz4<) images, and refuses unknown encodings and mismatched bit depths', () => {
      const pixels = new Uint16Array([1, 2, 3, 4, 5, 6]);
      const raw = Buffer.from(pixels.buffer);
      const message = (encoding: string, blob: Buffer, type = 'uint16') => stream([
        json({ frame: 0, hash: '', htype: 'dimage-1.0', series: 1 }),
        json({ encoding, htype: 'dimage_d-1.0', shape: [3, 2], size: blob.length, type }),
        blob, json({ htype: 'dconfig-1.0', real_time: 1, start_time: 2, stop_time: 3 }), Buffer.from('not json'),
      ]);
      const plain = image(eigerLegacy.parse(message('<', raw)));
      expect(plain.appendix, 'an appendix that is not JSON stays text').to.equal('not json');
      expect(Array.from(decodeEigerImage(plain).data as Uint16Array)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(decodeEigerImage(plain).shape).to.deep.equal([2, 3]);
      // an LZ4 block of only literals: token 0xc0 = 12 literal bytes
      const lz4 = Buffer.concat([Buffer.from([0xc0]), raw]);
      expect(Array.from(decodeEigerImage(image(eigerLegacy.parse(message('lz4<', lz4)))).data as Uint16Array)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(() => decodeEigerImage(image(eigerLegacy.parse(message('zstd<', raw))))).to.throw(EigerLegacyError, /unsupported Eiger encoding "zstd<"/);
      expect(() => decodeEigerImage(image(eigerLegacy.parse(message('bs32-lz4<', raw))))).to.throw(EigerLegacyError, /bs32-lz4< does not fit pixels of type uint16/);
      const zeros = Buffer.alloc(13);
      expect(() => decodeEigerImage(image(eigerLegacy.parse(message('bs16-lz4<', zeros)))))
        .to.throw(EigerLegacyError, /image 0 \(bs16-lz4< uint16 \[3,2\]\): bslz4 header announces 0 bytes, expected 12/);
    });
  });

  describe('parse rejects bad input with a clear error', () => {
    const [header, first] = eigerSeriesMessages({ frames: 1 });
    const cases: [string, StreamData, RegExp][] = [
      ['another typ', { typ: 'STINS', frames: first }, /expected StreamData of typ EIGER_LEGACY, got "STINS"/],
      ['frame 0 that is not JSON', stream([Buffer.from('emptyness')]), /Eiger legacy frame 0 \(9 bytes\) is not JSON/],
      ['an unknown htype', stream([json({ htype: 'dimage-2.0', frame: 0, series: 1 })]), /Eiger legacy frame 0 is not valid: htype/],
      ['an image of 3 frames', stream(first.slice(0, 3)), /dimage-1.0 message has 3 frames, expected 5/],
      ['a header of detail all with 5 frames', stream(header.slice(0, 5)), /header_detail all\) has 5 frames, expected 8 or 9/],
      ['an image whose data part lacks size', stream([first[0], json({ encoding: '<', htype: 'dimage_d-1.0', shape: [1, 1], type: 'uint32' }), ...first.slice(2)]),
        /image 0 frame 1 is not valid: size: /],
      ['an image with an unknown pixel type', stream([first[0], json({ encoding: '<', htype: 'dimage_d-1.0', shape: [1, 1], size: 4, type: 'uint12' }), ...first.slice(2)]),
        /type: unknown dtype "uint12"/],
      ['an image whose config is not JSON', stream([...first.slice(0, 3), Buffer.from('{'), first[4]]), /image 0 frame 3 \(1 bytes\) is not JSON/],
      ['a header whose config is a list', stream([header[0], json([1]), ...header.slice(2)]), /header frame 1 \(detector config\) is not valid/],
    ];
    for (const [what, data, message] of cases) {
      it(what, () => { expect(() => eigerLegacy.parse(data)).to.throw(EigerLegacyError, message); });
    }

    it('headers of detail basic and none, with and without appendix', () => {
      const basic = eigerLegacy.parse(stream(eigerSeriesMessages({ frames: 0, header_detail: 'basic', appendix: { user: 1 } })[0]));
      if (basic.kind !== 'header') throw new Error('expected a header');
      expect(basic.info!.x_pixels_in_detector).to.equal(64);
      expect(basic.appendix).to.deep.equal({ user: 1 });
      expect(basic.arrays).to.deep.equal({});
      const none = eigerLegacy.parse(stream(eigerSeriesMessages({ frames: 0, header_detail: 'none' })[0]));
      expect(none).to.deep.equal({ kind: 'header', header: { header_detail: 'none', htype: 'dheader-1.0', series: 1 }, arrays: {} });
    });
  });

  describe('through a live pipeline', () => {
    const live = liveStream({ protocol: 'eiger-legacy', stream: 'eiger', ingester: 'eiger-ingester', worker: `${PACKETS}:PacketWorker`, reducer: `${PACKETS}:PacketReducer` });

    /** a packet as the worker returned it, as JSON */
    type Summary = Record<string, any>;

    it('replays eiger-small.cbors: 3 triggers give 5 events, and the workers see the header and image values', async function () {
      const messages = await captureMessages(fixture(this, 'eiger-small.cbors'));
      const { pipeline, player } = await live.start();
      await pipeline.setSequence(uniformSequence(['eiger'], 3));
      await player.play(messages, { rate: 1000 });
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(5));
      const events = await pipeline.result<Record<string, PacketResult[]>>('events');
      const eiger = (e: number, i = 0) => events[e][i].streams.eiger as Summary;
      expect(events['0']).to.have.length(2);
      for (const i of [0, 1]) {
        expect(eiger(0, i).info.x_pixels_in_detector).to.equal(3108);
        expect(eiger(0, i).appendix.collect_dict.col_id).to.equal(128579);
      }
      for (const e of [1, 2, 3]) {
        expect(eiger(e).header.frame).to.equal(e - 1);
        expect(eiger(e).data).to.deep.include({ encoding: 'bs32-lz4<', type: 'uint32' });
        expect(eiger(e).data.buffer).to.deep.equal({ bytes: 20000 });
        expect(eiger(e).config.real_time).to.equal(9999900);
      }
      expect(events['4'].map((r) => (r.streams.eiger as Summary).header.series)).to.deep.equal([6, 6]);
      expect((await scanProblems(pipeline)).bad).to.deep.equal([]);
    });

    it('counts a message that is not Eiger JSON and a truncated image with their event, and completes the scan', async () => {
      const { pipeline, player } = await live.start();
      const [header, ...rest] = eigerSeriesMessages({ frames: 5, shape: [32, 16] });
      const images = rest.slice(0, 5);
      // after image 1 (event 2): a one-frame junk message; after image 3 (event 4): image 4 cut to 3 frames, then image 4 whole
      const played = [header, images[0], images[1], [Buffer.from('garbage')], images[2], images[3], images[4].slice(0, 3), images[4], rest[5]];
      await pipeline.setSequence(uniformSequence(['eiger'], 5));
      await player.play(played, { rate: 500 });
      expect(await pipeline.waitForFinish(), 'the whole copy of image 4 takes its place').to.deep.equal(scanEndedWith(7, { bad: 2 }));
      const { bad } = await scanProblems(pipeline);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:eiger-ingester/eiger', 3], ['ingester:eiger-ingester/eiger', 5]]);
      expect(bad[0].reason).to.match(/Eiger legacy frame 0 \(7 bytes\) is not JSON/);
      expect(bad[1].reason).to.match(/dimage-1.0 message has 3 frames, expected 5/);
      const events = await pipeline.result<Record<string, PacketResult[]>>('events');
      expect([1, 2, 3, 4, 5].map((e) => (events[e][0].streams.eiger as Summary).header.frame)).to.deep.equal([0, 1, 2, 3, 4]);
    });
  });
});
