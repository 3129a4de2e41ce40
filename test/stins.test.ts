import { expect } from 'chai';
import * as zmq from 'zeromq';
import type { StreamData } from '../src/core/types.js';
import type { MessageReader } from '../src/protocols/types.js';
import { ArrayReader, scanMessages, scanReader, sourceContext } from './helpers/upstream-harness.js';
import { fixture } from './helpers/fixtures.js';
import { readDump } from '../src/core/capture/index.js';
import { readPlainImageHeader, readStinsMessage, stins, StinsError, type StinsPacket } from '../src/protocols/stins/index.js';
import {
  emulatedImage, emulatedPixel, playSeries, stinsSeriesMessages, type EmulatorDType, type StinsSeriesOptions,
} from '../src/protocols/stins/emulator.js';
import { bslz4Encode } from '../src/core/compression/bslz4.js';
import { lz4Compress } from '../src/core/compression/lz4.js';


function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function stream(frames: Buffer[]): StreamData {
  return { typ: 'STINS', frames };
}

function imageHeader(extra: Record<string, unknown> = {}): Buffer {
  return json({ htype: 'image', frame: 3, shape: [2, 3], type: 'uint16', compression: 'none', msg_number: 4, ...extra });
}

const SIX_UINT16 = Buffer.from(new Uint16Array([1, 2, 3, 4, 5, 65535]).buffer);

/** pixel values as plain numbers, whatever the typed array */
function numbers(data: ArrayLike<number | bigint>): number[] {
  return Array.from(data, Number);
}

function parsedImage(packet: StinsPacket) {
  if (packet.kind !== 'image') throw new Error(`expected an image, got ${packet.kind}`);
  return packet;
}


describe('STINS protocol', () => {
  it('describes itself as the ingester expects', () => {
    expect({ name: stins.name, typ: stins.typ, transport: stins.transport })
      .to.deep.equal({ name: 'stins', typ: 'STINS', transport: 'zmq-pull' });
  });

  describe('parse', () => {
    it('a header, keeping extra fields and the optional meta frame', () => {
      const plain = stins.parse(stream([json({ htype: 'header', filename: 'out.h5', msg_number: 0, detector: 'eiger' })]));
      expect(plain).to.deep.equal({ kind: 'start', header: { htype: 'header', filename: 'out.h5', msg_number: 0, detector: 'eiger' } });
      const meta = json({ exposure: 0.1 });
      const withMeta = stins.parse(stream([json({ htype: 'header', filename: '', msg_number: 7 }), meta]));
      expect(withMeta.kind === 'start' && withMeta.meta).to.equal(meta);
    });

    it('a series_end', () => {
      expect(stins.parse(stream([json({ htype: 'series_end', msg_number: 11 })])))
        .to.deep.equal({ kind: 'end', header: { htype: 'series_end', msg_number: 11 } });
    });

    it('an uncompressed image as a view of the frame, with extra fields kept', () => {
      const packet = parsedImage(stins.parse(stream([imageHeader({ timestamps: { dummy: 'x' } }), SIX_UINT16])));
      expect(packet.header).to.include({ frame: 3, type: 'uint16', compression: 'none', msg_number: 4 });
      expect(packet.header.timestamps).to.deep.equal({ dummy: 'x' });
      expect(packet.image.shape).to.deep.equal([2, 3]);
      expect(packet.image.dtype).to.equal('uint16');
      expect(packet.image.data).to.be.instanceOf(Uint16Array);
      expect(numbers(packet.image.data)).to.deep.equal([1, 2, 3, 4, 5, 65535]);
      expect(packet.image.data.buffer, 'no copy of an aligned frame').to.equal(SIX_UINT16.buffer);
    });

    it('an unaligned uncompressed frame is copied and still correct', () => {
      const unaligned = Buffer.alloc(SIX_UINT16.length + 1).subarray(1);
      SIX_UINT16.copy(unaligned);
      const packet = parsedImage(stins.parse(stream([imageHeader(), unaligned])));
      expect(numbers(packet.image.data)).to.deep.equal([1, 2, 3, 4, 5, 65535]);
    });

    const dtypes: EmulatorDType[] = ['uint8', 'uint16', 'uint32', 'float32', 'int16', 'float64', 'uint64'];
    for (const dtype of dtypes) {
      for (const compression of ['none', 'lz4', 'bslz4'] as const) {
        it(`a ${compression} ${dtype} image from the emulator`, () => {
          const options: StinsSeriesOptions = { frames: 2, shape: [13, 21], dtype, compression, seed: 5 };
          const messages = stinsSeriesMessages(options);
          const packet = parsedImage(stins.parse(stream(messages[2])));
          expect(packet.header.frame).to.equal(1);
          expect(packet.image.dtype).to.equal(dtype);
          expect(packet.image.shape).to.deep.equal([13, 21]);
          expect(packet.image.data).to.deep.equal(emulatedImage(options, 1).data);
        });
      }
    }

    it('bslz4 with and without the 12-byte blob header', () => {
      const pixels = new Uint32Array(4099).map((_, i) => (i * 37) % 1001);
      const raw = Buffer.from(pixels.buffer);
      const header = json({ htype: 'image', frame: 0, shape: [4099], type: 'uint32', compression: 'bslz4', msg_number: 1 });
      for (const blob of [bslz4Encode(raw, 4), bslz4Encode(raw, 4, { header: false })]) {
        expect(parsedImage(stins.parse(stream([header, blob]))).image.data).to.deep.equal(pixels);
      }
    });

    describe('rejects bad input with a clear error', () => {
      const bslz4Header = imageHeader({ compression: 'bslz4' });
      const bslz4Blob = bslz4Encode(SIX_UINT16, 2);
      const lz4Header = json({ htype: 'image', frame: 0, shape: [64], type: 'uint8', compression: 'lz4', msg_number: 1 });
      const lz4Block = lz4Compress(new Uint8Array(64).fill(9));
      const corruptLz4 = Buffer.from(lz4Block);
      corruptLz4[corruptLz4.length - 7] ^= 0xff; // inside the match offset

      const cases: [string, StreamData, RegExp][] = [
        ['another typ', { typ: 'EIGER_LEGACY', frames: [imageHeader(), SIX_UINT16] }, /expected StreamData of typ STINS, got "EIGER_LEGACY"/],
        ['no frames', stream([]), /no frames/],
        ['an image with one frame', stream([imageHeader()]), /image message has 1 frames, expected 2/],
        ['an image with three frames', stream([imageHeader(), SIX_UINT16, SIX_UINT16]), /image message has 3 frames, expected 2/],
        ['a header with three frames', stream([json({ htype: 'header', filename: '', msg_number: 0 }), json({}), json({})]), /header message has 3 frames, expected 1 or 2/],
        ['a series_end with two frames', stream([json({ htype: 'series_end', msg_number: 1 }), SIX_UINT16]), /series_end message has 2 frames, expected 1/],
        ['frame 0 not JSON', stream([Buffer.from('emptyness')]), /frame 0 is not JSON/],
        ['JSON that is not an object', stream([json([1, 2])]), /not a valid message: .*expected object/],
        ['an unknown htype', stream([json({ htype: 'dimage-1.0' })]), /not a valid message: htype: /],
        ['a missing field', stream([json({ htype: 'header', msg_number: 0 })]), /filename: /],
        ['a negative frame', stream([imageHeader({ frame: -1 }), SIX_UINT16]), /frame: /],
        ['a bad shape', stream([imageHeader({ shape: [2, 'x'] }), SIX_UINT16]), /shape\[1\]: /],
        ['an unknown dtype', stream([imageHeader({ type: 'complex64' }), SIX_UINT16]), /type: unknown dtype "complex64"/],
        ['an unknown compression', stream([imageHeader({ compression: 'zstd' }), SIX_UINT16]), /compression: /],
        ['too few bytes for the shape', stream([imageHeader(), SIX_UINT16.subarray(2)]), /image frame 3 .*needs 12 bytes, got 10/],
        ['a shape that does not fit the bytes', stream([imageHeader({ shape: [3, 3] }), SIX_UINT16]), /needs 18 bytes, got 12/],
        ['truncated bslz4', stream([bslz4Header, bslz4Blob.subarray(0, bslz4Blob.length - 3)]), /image frame 3 \(bslz4 uint16 \[2,3\].*truncated/],
        ['bslz4 announcing another size', stream([imageHeader({ compression: 'bslz4', shape: [3, 3] }), bslz4Blob]), /announces 12 bytes, expected 18/],
        ['corrupt lz4', stream([lz4Header, corruptLz4]), /image frame 0 \(lz4 uint8 \[64\].*(offset|LZ4)/],
        ['lz4 of another size', stream([json({ ...JSON.parse(lz4Header.toString()), shape: [65] }), lz4Block]), /decompresses to 64 bytes, expected 65/],
      ];
      for (const [what, data, message] of cases) {
        it(what, () => {
          expect(() => stins.parse(data)).to.throw(StinsError, message);
        });
      }
    });
  });

  describe('the plain image header the ingester reads without JSON.parse', () => {
    /** what readStinsMessage makes of the same frame 0, as readPlainImageHeader keeps it (known keys only) */
    function slowly(frame: Buffer): unknown {
      try {
        const message = readStinsMessage([frame, SIX_UINT16]) as unknown as Record<string, unknown>;
        if (message.htype !== 'image') return undefined;
        const { htype, frame: number, shape, type, compression, msg_number } = message;
        return { htype, frame: number, shape, type, compression, msg_number };
      } catch {
        return undefined;
      }
    }

    const plain = [
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"msg_number":0,"compression":"bslz4","type":"float64","shape":[],"frame":0,"htype":"image"}',
      ' \t\r\n{ "htype" : "image" , "frame" : 12345678901 , "shape" : [ 0 , 10 ] , "type" : "int8" , "compression" : "lz4" , "msg_number" : 7 , "extra" : "x" , "n" : 5 , "list" : [ ] } \n',
      '{"htype": "header", "htype": "image", "frame": 1, "frame": 2, "shape": [1], "type": "uint8", "compression": "none", "msg_number": 1}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "t": 1764901234567.125}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "a": -0.5e-3, "b": 0, "c": 2E+7, "d": true, "e": false, "f": null}',
      '{"htype": "image", "frame": 3.5, "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
    ];
    for (const text of plain) {
      it(`reads ${JSON.stringify(text.slice(0, 60))}… as JSON.parse and the schema do`, () => {
        const frame = Buffer.from(text);
        expect(readPlainImageHeader(frame)).to.deep.equal(slowly(frame)).and.not.equal(undefined);
      });
    }

    const leftToTheSchema = [
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "timestamps": {"dummy": "t"}}',
      '{"htype": "image", "frame": 3, "shape": [2, -3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3.0], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3.0, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 1e2, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": -4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint\\u0031\\u0036", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "note": "é"}',
      '\ufeff{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
    ];
    for (const text of leftToTheSchema) {
      it(`leaves ${JSON.stringify(text.slice(0, 60))}… to readStinsMessage`, () => {
        expect(readPlainImageHeader(Buffer.from(text))).to.equal(undefined);
      });
    }

    const refused = [
      '', '{}', '[]', '{"htype": "image"', '{"htype": "image",}', '{"htype": "image"} x',
      '{"htype": "image", "frame": 03, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3 4, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3,], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, "3"], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": 6, "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": "3", "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "complex64", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "constructor", "compression": "none", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "zstd", "msg_number": 4}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none"}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 12345678901234567}',
      '{"htype": "header", "filename": "", "msg_number": 0}',
      '{"htype": "series_end", "msg_number": 5}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "frame": "x"}',
      ...['1.', '.5', '01', '-', '1e', '1e+', '- 1', 'tru', 'nul', 'true false', '1 2'].map((value) =>
        `{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "t": ${value}}`),
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": true}',
      '{"htype": "image", "frame": 3, "shape": [2, 3], "type": "uint16", "compression": null, "msg_number": 4}',
    ];
    for (const text of refused) {
      it(`does not read ${JSON.stringify(text.slice(0, 60))}… (neither do JSON.parse and the schema as an image)`, () => {
        const frame = Buffer.from(text);
        expect(readPlainImageHeader(frame)).to.equal(undefined);
        expect(slowly(frame)).to.equal(undefined);
      });
    }

    it('agrees with JSON.parse and the schema on every byte of a header changed, dropped or doubled', () => {
      const header = Buffer.from('{"htype": "image", "frame": 30, "shape": [2, 3], "type": "uint16", "compression": "none", "msg_number": 4, "t": -1.5e3, "u": null}');
      const variants: Buffer[] = [];
      const bytes = [0x20, 0x22, 0x2b, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x3a, 0x45, 0x5b, 0x5c, 0x5d, 0x65, 0x6e, 0x74, 0x7b, 0x7d, 0x09, 0x00, 0xc3];
      for (let i = 0; i < header.length; i++) {
        variants.push(Buffer.concat([header.subarray(0, i), header.subarray(i + 1)]));
        variants.push(Buffer.concat([header.subarray(0, i + 1), header.subarray(i)]));
        for (const byte of bytes) {
          const changed = Buffer.from(header);
          changed[i] = byte;
          variants.push(changed);
        }
      }
      let read = 0;
      for (const variant of variants) {
        const fast = readPlainImageHeader(variant);
        if (fast === undefined) continue;
        read += 1;
        expect(fast, variant.toString('latin1')).to.deep.equal(slowly(variant));
      }
      expect(read, 'some variants are still plain image headers').to.be.greaterThan(100);
    });
  });

  describe('scan', () => {
    const series = stinsSeriesMessages({ frames: 4, shape: [8, 8], dtype: 'uint16', compression: 'bslz4', filename: 'f.h5' });
    const [header, ...rest] = series;
    const images = rest.slice(0, 4);
    const end = rest[4];

    it('skips junk before the header, forwards the series untouched and stops after series_end', async () => {
      const after = [json({ htype: 'header', filename: 'next', msg_number: 0 })];
      const reader = new ArrayReader([
        [Buffer.from('emptyness')], [Buffer.from('emptyness')],
        images[0], end,
        header, ...images, end,
        after,
      ]);
      const { events: forwarded, bad } = await scanReader(stins, reader, 'det');
      expect(forwarded.map((s) => s.typ)).to.deep.equal(new Array(6).fill('STINS'));
      expect(forwarded.map((s) => s.frames)).to.deep.equal([header, ...images, end]);
      forwarded.forEach((s, i) => s.frames.forEach((frame, j) => {
        expect(frame, 'the very same Buffer').to.equal([header, ...images, end][i][j]);
      }));
      expect(bad).to.have.length(4);
      expect(bad[0]).to.match(/^before the start message: STINS frame 0 is not JSON/);
      expect(bad[2]).to.equal('STINS data message before the start message');
      expect(bad[3]).to.equal('STINS end message before the start message');
      expect(reader.remaining, 'the next series is left for the next scan').to.equal(1);
    });

    it('reports invalid messages mid-scan, skips a repeated header and goes on', async () => {
      const reader = new ArrayReader([
        header, images[0],
        [Buffer.from('{"htype": "image"')],
        [images[1][0]],
        header,
        [imageHeader({ type: 'complex64' }), SIX_UINT16],
        images[1], end,
      ]);
      const { events: forwarded, bad, warnings } = await scanReader(stins, reader, 'det');
      expect(forwarded.map((s) => s.frames)).to.deep.equal([header, images[0], images[1], end]);
      expect(bad).to.have.length(3);
      expect(bad[0]).to.match(/^STINS frame 0 is not JSON/);
      expect(bad[1]).to.equal('STINS image message has 1 frames, expected 2');
      expect(bad[2]).to.match(/type: unknown dtype "complex64"/);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/stream det: skipped a second STINS start message/);
    });

    it('refuses an uncompressed image whose payload does not fit its shape, in its place', async () => {
      const reader = new ArrayReader([header, [imageHeader({ frame: 0 }), SIX_UINT16.subarray(2)], [imageHeader({ frame: 1 }), SIX_UINT16], end]);
      const items = stins.scan(reader, sourceContext('det').ctx);
      const kinds: unknown[] = [];
      for await (const item of items) kinds.push(item.kind === 'bad' ? { bad: item.reason, frame: item.frame, point: item.point } : item.kind);
      expect(kinds).to.deep.equal(['start', { bad: 'STINS image frame 0: 10 payload bytes, its shape [2,3] of uint16 needs 12', frame: 0, point: true }, 'data', 'end']);
    });

    it('ends quietly when the upstream closes mid-series', async () => {
      const { events: forwarded, bad } = await scanMessages(stins, [header, images[0]], 'det');
      expect(forwarded).to.have.length(2);
      expect(bad).to.deep.equal([]);
    });
  });

  describe('emulator', () => {
    it('writes header, images and series_end with consecutive msg_numbers', () => {
      const messages = stinsSeriesMessages({
        frames: 3, shape: [4, 5], dtype: 'uint32', filename: 'x.h5', firstMsgNumber: 10, timestamps: true, meta: { a: 1 },
      });
      const heads = messages.map((m) => JSON.parse(m[0].toString()));
      expect(messages.map((m) => m.length)).to.deep.equal([2, 2, 2, 2, 1]);
      expect(heads[0]).to.deep.equal({ htype: 'header', filename: 'x.h5', msg_number: 10 });
      expect(JSON.parse(messages[0][1].toString())).to.deep.equal({ a: 1 });
      heads.slice(1, 4).forEach((h, frame) => {
        expect(h).to.include({ htype: 'image', frame, type: 'uint32', compression: 'none', msg_number: 11 + frame });
        expect(h.shape).to.deep.equal([4, 5]);
        expect(Number.isNaN(Date.parse(h.timestamps.dummy))).to.equal(false);
      });
      expect(messages[1][1].length).to.equal(4 * 5 * 4);
      expect(heads[4]).to.deep.equal({ htype: 'series_end', msg_number: 14 });
    });

    it('pixels are 0…63, differ between frames and seeds, and are what the images hold', () => {
      const values = Array.from({ length: 4096 }, (_, i) => emulatedPixel(0, 0, i));
      expect(Math.min(...values)).to.equal(0);
      expect(Math.max(...values)).to.equal(63);
      const sum = (seed: number, frame: number) => Array.from({ length: 4096 }, (_, i) => emulatedPixel(seed, frame, i)).reduce((a, b) => a + b, 0);
      expect(new Set([sum(0, 0), sum(0, 1), sum(1, 0)]).size).to.equal(3);
      const image = emulatedImage({ frames: 1, shape: [64, 64], seed: 2 }, 7);
      expect(image.dtype).to.equal('uint16');
      expect(image.data[100]).to.equal(emulatedPixel(2, 7, 100));
    });

    it('playSeries sends a series over zeromq at the requested rate, and scan + parse give the ROI sums', async () => {
      const push = new zmq.Push({ linger: 0 });
      const pull = new zmq.Pull({ linger: 0 });
      try {
        await push.bind('tcp://127.0.0.1:*');
        pull.connect(push.lastEndpoint!);
        const options: StinsSeriesOptions = { frames: 20, shape: [32, 48], dtype: 'uint16', compression: 'bslz4', seed: 3 };
        const started = performance.now();
        const sending = playSeries(push, { ...options, rate: 200 });
        const reader: MessageReader = { next: async () => (await pull.receive()) as Buffer[] };
        const { events: forwarded, bad } = await scanReader(stins, reader, 'det');
        const elapsed = performance.now() - started;
        expect(await sending).to.equal(22);
        expect(bad).to.deep.equal([]);
        expect(elapsed, '22 messages at 200 Hz take at least 21 intervals of 5 ms').to.be.at.least(21 * 5 - 1);

        const packets = forwarded.map((s) => stins.parse(s));
        expect(packets.map((p) => p.kind)).to.deep.equal(['start', ...new Array(20).fill('image'), 'end']);
        // ROI rows 4..9, columns 10..19, summed from the parsed image and from the pixel function
        packets.slice(1, 21).forEach((packet, frame) => {
          const { image } = parsedImage(packet);
          let parsedSum = 0;
          let expectedSum = 0;
          for (let y = 4; y < 10; y++) {
            for (let x = 10; x < 20; x++) {
              parsedSum += Number(image.data[y * 48 + x]);
              expectedSum += emulatedPixel(3, frame, y * 48 + x);
            }
          }
          expect(parsedSum, `frame ${frame}`).to.equal(expectedSum);
        });
      } finally {
        push.close();
        pull.close();
      }
    });

    it('playSeries stops when aborted', async () => {
      const push = new zmq.Push({ linger: 0, sendHighWaterMark: 100 });
      const pull = new zmq.Pull({ linger: 0 });
      try {
        await push.bind('tcp://127.0.0.1:*');
        pull.connect(push.lastEndpoint!);
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 30);
        const sent = await playSeries(push, { frames: 1000, shape: [4, 4], rate: 200, signal: abort.signal });
        expect(sent).to.be.greaterThan(0).and.lessThan(100);
      } finally {
        push.close();
        pull.close();
      }
    });
  });

  describe('the real XRD dump (dump_xrd.cbors)', () => {
    let streams: StreamData[] = [];
    before(async function () {
      streams = [];
      for await (const event of readDump(fixture(this, 'dump_xrd.cbors'))) {
        expect(event.eventNumber).to.equal(streams.length);
        streams.push(event.streams.xrd);
      }
    });

    it('every message parses: header, 9 images with the reference sums, series_end', () => {
      const packets = streams.map((s) => stins.parse(s));
      expect(packets[0]).to.deep.equal({ kind: 'start', header: { htype: 'header', filename: 'output/xrd.h5', msg_number: 0 } });
      expect(packets[10]).to.deep.equal({ kind: 'end', header: { htype: 'series_end', msg_number: 10 } });
      const images = packets.slice(1, 10).map((p) => parsedImage(p).image);
      expect(images.map((im) => numbers(im.data).reduce((a, b) => a + b, 0)))
        .to.deep.equal([991, 1001, 1041, 1076, 1166, 1268, 1363, 1422, 1481]);
      expect(numbers(images[0].data).slice(0, 10)).to.deep.equal([1, 18, 0, 7, 17, 19, 17, 6, 0, 18]);
      const meanOfCorner = (data: ArrayLike<number | bigint>) => {
        let sum = 0;
        for (let y = 0; y < 2; y++) for (let x = 8; x < 10; x++) sum += Number(data[y * 10 + x]);
        return sum / 4;
      };
      expect(images.map((im) => meanOfCorner(im.data))).to.deep.equal([9.25, 11.25, 11.75, 4.25, 2.25, 3.0, 4.75, 7.75, 10.75]);
    });

    it('scan forwards the whole dumped series', async () => {
      const { events: forwarded, bad } = await scanMessages(stins, streams.map((s) => s.frames), 'det');
      expect(forwarded).to.have.length(11);
      expect(bad).to.deep.equal([]);
    });
  });
});
