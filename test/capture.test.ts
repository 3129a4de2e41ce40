import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  detectCaptureFormat, DumpWriter, RawCaptureWriter, readCapture, readDump, readRawCapture, type DumpEvent,
} from '../src/core/capture/index.js';
import { fixture } from './helpers/fixtures.js';
import { captureMessages } from './helpers/upstream-harness.js';
import { PYTHON } from './helpers/process.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const sizesOf = (messages: Buffer[][]): number[][] => messages.map((frames) => frames.map((f) => f.length));

/** bytes of a capture as the original's reader sees them: gunzipped if gzip */
async function plainBytes(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'dranspose-capture-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('capture readers on the real fixtures', function () {
  /** legacy Xspress3 images: 3 messages; the JSON grows by a digit from frame 10 on */
  const images = (frames: number[], json: number, spectra: number, meta: number): number[][] =>
    frames.flatMap((frame) => [[json + (frame >= 10 ? 1 : 0)], [spectra], [meta]]);
  const range = (n: number): number[] => [...Array(n).keys()];
  const rawExpectations: Record<string, { count: number; sizes: Record<number, number[]> | number[][] }> = {
    'albaem-dump.cbors': { count: 6, sizes: [[63], [288], [289], [289], [287], [134]] },
    'contrast-dump.cbors': { count: 26, sizes: { 0: [36], 1: [2398], 23: [2399], 24: [36], 25: [36] } },
    'xspress3mini-dump20.cbors': {
      count: 68,
      sizes: [[139], ...images([...range(11), ...range(11)], 110, 32768, 515), [22]],
    },
    'xspress3-dump.cbors': {
      count: 62,
      sizes: [[151], ...images(range(20), 103, 65536, 658), [22]],
    },
    'xspress3-multipart.cbors': {
      count: 7,
      sizes: [[411], ...Array.from({ length: 5 }, () => [115, 65536, 653]), [23]],
    },
    'pcap-zmq.cbors': { count: 102, sizes: { 0: [103], 101: [63] } },
    'eiger-small.cbors': {
      count: 5,
      sizes: [[56, 1231, 63, 20000, 62, 20000, 66, 8008, 546], [85, 97, 20000, 100, 2], [85, 97, 20000, 100, 2],
        [85, 97, 20000, 100, 2], [38]],
    },
    'maui-02-continuous-3.cbor.gz': {
      count: 9,
      sizes: [[39], [88], [186, 64016, 24], [184, 64016, 24], [39], [183, 64016, 24], [182, 64016, 24], [39], [52]],
    },
    'maui-02-sequential-3.cbor.gz': {
      count: 10,
      sizes: [[39], [88], [183, 1280320, 196], [184, 1280320, 196], [39], [88], [184, 1280320, 196],
        [184, 1280320, 196], [39], [52]],
    },
  };

  for (const [name, expected] of Object.entries(rawExpectations)) {
    it(`reads ${name}: ${expected.count} messages with the frame sizes of protocols.md §4`, async function () {
      expect(await detectCaptureFormat(fixture(this, name))).to.equal('raw');
      const sizes = sizesOf(await collect(readRawCapture(fixture(this, name))));
      expect(sizes).to.have.length(expected.count);
      if (Array.isArray(expected.sizes)) expect(sizes).to.deep.equal(expected.sizes);
      else for (const [i, frameSizes] of Object.entries(expected.sizes)) expect(sizes[Number(i)]).to.deep.equal(frameSizes);
    });
  }

  it('reads frame bytes exactly (albaem JSON)', async function () {
    const messages = await collect(readRawCapture(fixture(this, 'albaem-dump.cbors')));
    expect(messages[0][0].toString()).to.equal('{"version": 1, "message_type": "series-start", "message_id": 1}');
    expect(messages[1][0].toString()).to.contain('"acquisition_timestamp": 1704807770443944912');
    expect(messages.every((m) => m.every((frame) => Buffer.isBuffer(frame)))).to.equal(true);
  });

  it('reads dump_xrd.cbors: 11 events of stream xrd in the old 2-element form', async function () {
    const file = fixture(this, 'dump_xrd.cbors');
    expect(await detectCaptureFormat(file)).to.equal('dump');
    const events = await collect(readDump(file));
    expect(events.map((e) => e.eventNumber)).to.deep.equal([...Array(11).keys()]);
    expect(events.every((e) => e.createdAt === undefined)).to.equal(true);
    expect(events.map((e) => Object.keys(e.streams))).to.deep.equal(Array(11).fill(['xrd']));
    expect(events.every((e) => e.streams.xrd.typ === 'STINS')).to.equal(true);
    expect(events.map((e) => e.streams.xrd.frames.map((f) => f.length)))
      .to.deep.equal([[65], ...Array(9).fill([107, 200]), [41]]);
    expect(events[0].streams.xrd.frames[0].toString())
      .to.equal('{"htype": "header", "filename": "output/xrd.h5", "msg_number": 0}');
    const image0 = events[1].streams.xrd.frames[1];
    const pixels = Array.from({ length: 100 }, (_, i) => image0.readUInt16LE(2 * i));
    expect(pixels.slice(0, 10)).to.deep.equal([1, 18, 0, 7, 17, 19, 17, 6, 0, 18]);
    expect(pixels.reduce((a, b) => a + b)).to.equal(991);
  });

  it('readCapture yields messages for raw captures and events for dumps', async function () {
    const raw = await collect(readCapture(fixture(this, 'albaem-dump.cbors')));
    expect(raw.every((item) => Array.isArray(item))).to.equal(true);
    expect(raw).to.have.length(6);
    const dump = await collect(readCapture(fixture(this, 'dump_xrd.cbors')));
    expect(dump.every((item) => !Array.isArray(item) && typeof item.eventNumber === 'number')).to.equal(true);
    expect(dump).to.have.length(11);
  });

  it('gives the same frames whatever the chunk size, items and heads split across chunks', async function () {
    const cases: Array<[string, number]> = [
      ['albaem-dump.cbors', 7], ['contrast-dump.cbors', 7], ['xspress3-multipart.cbors', 1000],
      ['eiger-small.cbors', 333], ['maui-02-continuous-3.cbor.gz', 64],
    ];
    for (const [name, chunkSize] of cases) {
      const whole = await collect(readRawCapture(fixture(this, name)));
      const chunked = await collect(readRawCapture(fixture(this, name), { chunkSize }));
      expect(chunked.length, name).to.equal(whole.length);
      chunked.forEach((frames, i) => {
        expect(frames.length, `${name} item ${i}`).to.equal(whole[i].length);
        frames.forEach((frame, k) => expect(frame.equals(whole[i][k]), `${name} item ${i} frame ${k}`).to.equal(true));
      });
    }
    const events = await collect(readDump(fixture(this, 'dump_xrd.cbors'), { chunkSize: 5 }));
    expect(events.map((e) => e.streams.xrd.frames.map((f) => f.length))).to.deep.equal([[65], ...Array(9).fill([107, 200]), [41]]);
  });

  it('does not copy frames of an item within a chunk, and copies a chunk-spanning item once', async function () {
    const messages = await collect(readRawCapture(fixture(this, 'albaem-dump.cbors')));
    // all six items lie in the first chunk: every frame is a view of the same read buffer
    expect(new Set(messages.map(([frame]) => frame.buffer)).size).to.equal(1);
    const multipart = await collect(readRawCapture(fixture(this, 'xspress3-multipart.cbors'), { chunkSize: 1000 }));
    const [json, spectra, meta] = multipart[1];
    // one buffer holding exactly the item: its 3 frames plus the CBOR heads (1 + 2 + 5 + 3 bytes)
    expect(spectra.buffer).to.equal(json.buffer);
    expect(meta.buffer).to.equal(json.buffer);
    expect(spectra.buffer.byteLength).to.equal(115 + 65536 + 653 + 11);
  });
});

describe('capture writers', function () {
  const messages: Buffer[][] = [
    [Buffer.from('{"htype": "header"}'), Buffer.alloc(0)],
    [Buffer.alloc(23, 1), Buffer.alloc(24, 2), Buffer.alloc(255, 3), Buffer.alloc(256, 4), Buffer.alloc(65536, 5)],
    Array.from({ length: 30 }, (_, i) => Buffer.from([i])),
    [],
  ];

  async function writeRaw(file: string, items: Buffer[][], options = {}): Promise<void> {
    const writer = await RawCaptureWriter.open(file, options);
    for (const frames of items) await writer.write(frames);
    await writer.close();
  }

  it('round-trips raw captures, plain and gzip', async () => {
    for (const name of ['rt.cbors', 'rt.cbors.gz']) {
      const file = path.join(scratch, name);
      await writeRaw(file, messages);
      const gzip = (await readFile(file)).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]));
      expect(gzip, name).to.equal(name.endsWith('.gz'));
      const back = await collect(readRawCapture(file));
      expect(back.map((frames) => frames.map((f) => f.toString('hex'))))
        .to.deep.equal(messages.map((frames) => frames.map((f) => f.toString('hex'))));
    }
  });

  it('detects gzip by its magic bytes, not by the file name', async () => {
    const file = path.join(scratch, 'no-gz-suffix.cbors');
    await writeRaw(file, messages, { gzip: true });
    expect((await readFile(file))[0]).to.equal(0x1f);
    expect(await detectCaptureFormat(file)).to.equal('raw');
    expect(sizesOf(await collect(readRawCapture(file)))).to.deep.equal(sizesOf(messages));
  });

  it('replaces an existing raw capture unless asked to append', async () => {
    const file = path.join(scratch, 'replace.cbors');
    await writeRaw(file, messages);
    await writeRaw(file, messages.slice(0, 1));
    expect(await collect(readRawCapture(file))).to.have.length(1);
    await writeRaw(file, messages.slice(0, 2), { append: true });
    expect(await collect(readRawCapture(file))).to.have.length(3);
  });

  it('rewrites every raw fixture byte for byte (shortest-form definite lengths)', async function () {
    const names = ['albaem-dump.cbors', 'contrast-dump.cbors', 'xspress3mini-dump20.cbors', 'xspress3-dump.cbors',
      'xspress3-multipart.cbors', 'pcap-zmq.cbors', 'eiger-small.cbors', 'maui-02-continuous-3.cbor.gz',
      'maui-02-sequential-3.cbor.gz'];
    for (const name of names) {
      const copy = path.join(scratch, `copy-${name.replace(/\.gz$/, '')}`);
      await writeRaw(copy, await captureMessages(fixture(this, name)));
      expect((await readFile(copy)).equals(await plainBytes(fixture(this, name))), name).to.equal(true);
    }
  });

  it('rewrites dump_xrd.cbors byte for byte', async function () {
    const copy = path.join(scratch, 'copy-dump_xrd.cbors');
    const writer = await DumpWriter.open(copy, { append: false });
    for await (const event of readDump(fixture(this, 'dump_xrd.cbors'))) await writer.write(event);
    await writer.close();
    expect((await readFile(copy)).equals(await readFile(fixture(this, 'dump_xrd.cbors')))).to.equal(true);
  });

  const createdAt = new Date('2025-07-17T12:00:00.123Z');
  const events: DumpEvent[] = [
    { eventNumber: 0, streams: { eiger: { typ: 'STINS', frames: [Buffer.from('{"htype": "header"}')] } }, createdAt },
    {
      eventNumber: 1,
      streams: {
        eiger: { typ: 'STINS', frames: [Buffer.from('{"htype": "image"}'), Buffer.alloc(70000, 7)] },
        pcap: { typ: 'PCAP', frames: [] },
      },
      createdAt,
    },
    { eventNumber: 2, streams: {} },
  ];

  it('round-trips dumps with created_at as tag 0 RFC 3339 text with microseconds, and appends', async () => {
    for (const name of ['events.cbors', 'events.cbors.gz']) {
      const file = path.join(scratch, name);
      for (const batch of [events.slice(0, 2), events.slice(2)]) {
        const writer = await DumpWriter.open(file);
        for (const event of batch) await writer.write(event);
        await writer.close();
      }
      const back = await collect(readDump(file));
      expect(back.map((e) => e.eventNumber)).to.deep.equal([0, 1, 2]);
      expect(back[1].createdAt?.toISOString()).to.equal('2025-07-17T12:00:00.123Z');
      expect(back[2]).to.not.have.property('createdAt');
      expect(back[1].streams.eiger.frames[1].equals(Buffer.alloc(70000, 7))).to.equal(true);
      expect(back[1].streams.pcap).to.deep.equal({ typ: 'PCAP', frames: [] });
      expect(Object.keys(back[1].streams)).to.deep.equal(['eiger', 'pcap']);
    }
    expect(await detectCaptureFormat(path.join(scratch, 'events.cbors.gz'))).to.equal('dump');
    const plain = await readFile(path.join(scratch, 'events.cbors'));
    expect(plain.subarray(0, 6).toString('hex')).to.equal('d9d9f7d9a77d');
    expect(plain.includes(Buffer.concat([Buffer.from([0xc0, 0x78, 27]), Buffer.from('2025-07-17T12:00:00.123000Z')])))
      .to.equal(true);
  });

  it('rejects events and frames it cannot write', async () => {
    const writer = await DumpWriter.open(path.join(scratch, 'bad.cbors'));
    await expectRejection(writer.write({ eventNumber: -1, streams: {} }), /event number -1/);
    await expectRejection(writer.write({ eventNumber: 1, streams: {}, createdAt: new Date('nope') }), /invalid Date/);
    const frames = [new Float32Array(2)] as unknown as Buffer[];
    await expectRejection(writer.write({ eventNumber: 1, streams: { a: { typ: 'X', frames } } }), /stream a frame 0/);
    await writer.close();
    await expectRejection(writer.write({ eventNumber: 1, streams: {} }), /write after close/);
    const raw = await RawCaptureWriter.open(path.join(scratch, 'bad-raw.cbors'));
    await expectRejection(raw.write(['text'] as unknown as Buffer[]), /frame 0 is not a Buffer/);
    await raw.close();
    await expectRejection(RawCaptureWriter.open(path.join(scratch, 'missing-dir', 'x.cbors')), /missing-dir.*cannot open/);
  });
});

describe('files we write, read by the original\'s reader (Python cbor2)', function () {
  before(function () {
    if (!existsSync(PYTHON)) {
      console.log(`skipping: ${PYTHON} is absent`);
      this.skip();
    }
  });

  function python(script: string, ...args: string[]): unknown {
    return JSON.parse(execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' }));
  }

  it('cbor2.load returns lists of bytes from our raw captures, gzip too', async () => {
    const messages = [[Buffer.from('a'), Buffer.alloc(0)], [Buffer.alloc(70000, 9), Buffer.alloc(300, 1)], []];
    for (const name of ['py.cbors', 'py.cbors.gz']) {
      const file = path.join(scratch, name);
      const writer = await RawCaptureWriter.open(file);
      for (const frames of messages) await writer.write(frames);
      await writer.close();
      const result = python(`
import cbor2, gzip, json, sys
name = sys.argv[1]
f = gzip.open(name) if name.endswith('.gz') else open(name, 'rb')
out = []
while True:
    try:
        item = cbor2.load(f)
    except EOFError:
        break
    assert type(item) is list and all(type(frame) is bytes for frame in item), repr(item)[:100]
    out.append([[len(frame), frame[:1].hex()] for frame in item])
print(json.dumps(out))`, file);
      expect(result).to.deep.equal([[[1, '61'], [0, '']], [[70000, '09'], [300, '01']], []]);
    }
  });

  it('cbor2.load with the original tag hook rebuilds our dump events, created_at as a UTC datetime', async () => {
    const file = path.join(scratch, 'py-dump.cbors.gz');
    for (const eventNumber of [0, 1]) {
      const writer = await DumpWriter.open(file);
      await writer.write({
        eventNumber,
        streams: { orca: { typ: 'STINS', frames: [Buffer.from('hdr'), Buffer.alloc(1000)] }, x: { typ: 'JSON', frames: [] } },
        createdAt: new Date(Date.UTC(2025, 6, 17, 12, 0, 0, 123 + eventNumber)),
      });
      await writer.close();
    }
    const result = python(`
import cbor2, gzip, json, sys, datetime

def tag_hook(decoder, tag):
    if tag.tag == 42878:
        typ, frames = tag.value
        assert type(typ) is str and all(type(f) is bytes for f in frames)
        return {'typ': typ, 'sizes': [len(f) for f in frames]}
    if tag.tag == 42877:
        assert len(tag.value) in (2, 3)
        number, streams, created_at = tag.value
        assert isinstance(created_at, datetime.datetime) and created_at.utcoffset() == datetime.timedelta(0)
        return {'event_number': number, 'streams': streams, 'created_at': created_at.isoformat()}
    raise ValueError('unexpected tag %d' % tag.tag)
out = []
with gzip.open(sys.argv[1]) as f:
    while True:
        try:
            out.append(cbor2.load(f, tag_hook=tag_hook))
        except EOFError:
            break
print(json.dumps(out))`, file);
    const streams = { orca: { typ: 'STINS', sizes: [3, 1000] }, x: { typ: 'JSON', sizes: [] } };
    expect(result).to.deep.equal([
      { event_number: 0, streams, created_at: '2025-07-17T12:00:00.123000+00:00' },
      { event_number: 1, streams, created_at: '2025-07-17T12:00:00.124000+00:00' },
    ]);
  });
});

describe('capture reader errors', function () {
  it('names the file and byte offset of a truncated item', async function () {
    const original = await readFile(fixture(this, 'albaem-dump.cbors'));
    const file = path.join(scratch, 'truncated.cbors');
    // items are 66, 292, 293, 293, 291, 137 bytes long: item 2 starts at 358
    const cuts = [[600, 293], [359, 2], [361, 4]] as const; // inside the payload, after the array head, inside a length
    for (const [cut, needed] of cuts) {
      await writeFile(file, original.subarray(0, cut));
      await expectRejection(collect(readRawCapture(file)), new RegExp(`${escape(file)}: item 2 at byte 358: truncated: `
        + `the item needs at least ${needed} bytes but the file ends after ${cut - 358}`));
    }
  });

  it('names the file and byte offset of corrupt CBOR', async () => {
    const file = path.join(scratch, 'corrupt.cbors');
    await writeFile(file, Buffer.from([0x81, 0x41, 0x61, 0x82, 0x41, 0x62, 0x5c]));
    await expectRejection(collect(readRawCapture(file)),
      new RegExp(`${escape(file)}: item 1 at byte 3: corrupt CBOR at byte 6: head byte 0x5c uses reserved`));
    await writeFile(file, Buffer.from([0x81, 0x41, 0x61, 0xff]));
    await expectRejection(collect(readRawCapture(file)), /item 1 at byte 3: corrupt CBOR at byte 3: break byte/);
  });

  it('rejects items of the wrong shape', async () => {
    const file = path.join(scratch, 'shape.cbors');
    await writeFile(file, Buffer.from([0x81, 0x41, 0x61, 0x82, 0x41, 0x62, 0x61, 0x63]));
    await expectRejection(collect(readRawCapture(file)), /item 1 at byte 3: frame 1 is a string, expected a byte string/);
    await writeFile(file, Buffer.from([0x63, 0x61, 0x62, 0x63]));
    await expectRejection(collect(readRawCapture(file)), /item 0 at byte 0: expected an array of byte strings/);
    await expectRejection(collect(readDump(file)), /item 0 at byte 0: not an ingester dump item: expected CBOR tag 42877/);
    // a dump whose stream frames are text
    await writeFile(file, Buffer.from('d9a77d8201a16161d9a77e826158816161', 'hex'));
    await expectRejection(collect(readDump(file)), /not an ingester dump item: \[1\]\.a\[1\]\[0\]: expected a byte string/);
  });

  it('reports truncated gzip and unknown formats', async function () {
    const gz = await readFile(fixture(this, 'maui-02-continuous-3.cbor.gz'));
    const file = path.join(scratch, 'cut.cbor.gz');
    await writeFile(file, gz.subarray(0, 50000));
    await expectRejection(collect(readRawCapture(file)), new RegExp(`${escape(file)}: gzip decompression failed: unexpected end of file`));
    const json = path.join(scratch, 'data.json');
    await writeFile(json, '{"a": 1}');
    await expectRejection(detectCaptureFormat(json), /data\.json: not a capture: first byte 0x7b/);
    const empty = path.join(scratch, 'empty.cbors');
    await writeFile(empty, '');
    await expectRejection(detectCaptureFormat(empty), /empty\.cbors: empty file/);
    await expectRejection(collect(readRawCapture(path.join(scratch, 'nope.cbors'))), /ENOENT.*nope\.cbors/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function expectRejection(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${pattern}`);
}
