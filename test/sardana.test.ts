import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { StreamData } from '../src/core/types.js';
import { connectHttp, parseHttpUrl } from '../src/ingester/transports/http.js';
import { postHttpMessages } from '../src/protocols/player.js';
import { sardana, SardanaError, readSardanaPost } from '../src/protocols/sardana/index.js';
import { emulatedSardanaPoint, sardanaScanPosts } from '../src/protocols/sardana/emulator.js';
import type { MessageReader } from '../src/protocols/types.js';
import { freePort, ROOT, startPipeline, uniformSequence, type TestPipeline, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { scanMessages, scanProblems, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { PacketResult } from './payloads/packets.js';
import type { RecordResult } from './payloads/records.js';
import { PYTHON } from './helpers/process.js';

const PACKETS = join(ROOT, 'test/payloads/packets.ts');
const RECORDS = join(ROOT, 'test/payloads/records.ts');
/** what Python's json.dumps writes for a Python literal */
const pythonJson = (literal: string): string => execFileSync(PYTHON, ['-c', `import json, sys; sys.stdout.write(json.dumps(${literal}))`]).toString();
const post = (path: string, body: unknown): Buffer[] => [Buffer.from(path), Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))];
const stream = (body: unknown): StreamData => ({ typ: 'sardana', frames: [Buffer.from(JSON.stringify(body))] });
const text = (message: Buffer[] | undefined) => message?.map((f) => f.toString());

/** next() that gives up after `ms`: undefined means nothing was queued */
async function nextWithin(reader: MessageReader, ms: number): Promise<Buffer[] | undefined> {
  return await Promise.race([reader.next(), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

describe('Sardana (HTTP) protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: sardana.name, typ: sardana.typ, transport: sardana.transport }).to.deep.equal({ name: 'sardana', typ: 'sardana', transport: 'http' });
  });

  describe('packets', () => {
    it("keeps Python's NaN, Infinity and -Infinity: in the forwarded frame as written, numbers for the worker", () => {
      const body = pythonJson("{'point_nb': 3, 'ct01': float('nan'), 'ct02': float('inf'), 'ct03': -float('inf'), 'ct04': [1.5, float('nan')], 'timestamp': 1.5}");
      expect(body).to.equal('{"point_nb": 3, "ct01": NaN, "ct02": Infinity, "ct03": -Infinity, "ct04": [1.5, NaN], "timestamp": 1.5}');
      const frame = readSardanaPost(post('/v1/record_data', body))!;
      expect(frame.toString()).to.equal('{"type":"RecordData","point_nb": 3, "ct01": NaN, "ct02": Infinity, "ct03": -Infinity, "ct04": [1.5, NaN], "timestamp": 1.5}');
      expect(sardana.parse({ typ: 'sardana', frames: [frame] })).to.deep.equal({
        type: 'RecordData', point_nb: 3, ct01: NaN, ct02: Infinity, ct03: -Infinity, ct04: [1.5, NaN], timestamp: 1.5,
      });
    });

    it('takes data_desc with scandir None (a session without ScanDir)', () => {
      const body = pythonJson("{'serialno': 4, 'scandir': None, 'title': 'timescan 3 0.1', 'scanfile': None}");
      expect(sardana.parse({ typ: 'sardana', frames: [readSardanaPost(post('/v1/data_desc', body))!] }))
        .to.deep.equal({ type: 'DataDescription', serialno: 4, scandir: null, title: 'timescan 3 0.1', scanfile: null });
    });

    it('a POST becomes its JSON with type first; custom_data becomes nothing', () => {
      expect(readSardanaPost(post('/v1/record_data', { point_nb: 0, mot01: 0.0, timestamp: 0.3 }))!.toString())
        .to.equal('{"type":"RecordData","point_nb":0,"mot01":0,"timestamp":0.3}');
      expect(readSardanaPost(post('/v1/record_end', {}))!.toString()).to.equal('{"type":"RecordEnd"}');
      expect(readSardanaPost(post('/v1/data_desc', { type: 'DataDescription', serialno: 3, scandir: '/d', title: 't' }))!.toString())
        .to.equal('{"type":"DataDescription","serialno":3,"scandir":"/d","title":"t"}');
      expect(readSardanaPost(post('/v1/custom_data', { anything: [1] }))).to.equal(undefined);
    });

    const bad: [string, Buffer[], RegExp][] = [
      ['a body that is not JSON', post('/v1/record_data', 'point 3'), /Sardana \/v1\/record_data body \(7 bytes\) is not JSON/],
      ['a body that is a list', post('/v1/record_data', [1]), /body is an array, expected a JSON object/],
      ['a record without timestamp', post('/v1/record_data', { point_nb: 1 }), /\/v1\/record_data body is not valid: timestamp: /],
      ['a data_desc without serialno', post('/v1/data_desc', { scandir: '/d', title: 't' }), /serialno: /],
      ['a body of another type', post('/v1/record_end', { type: 'RecordData', timestamp: 1 }), /body has type "RecordData", expected RecordEnd/],
      ['an unknown path', post('/v1/record', {}), /Sardana POST to unknown path "\/v1\/record"/],
      ['a message of one frame', [Buffer.from('/v1/record_end')], /Sardana POST has 1 frames, expected 2/],
    ];
    for (const [what, message, reason] of bad) {
      it(`refuses ${what}`, () => { expect(() => readSardanaPost(message)).to.throw(SardanaError, reason); });
    }

    it('parse() gives the forwarded packets; refuses other typs and JSON that is no packet', () => {
      const record = sardana.parse({ typ: 'sardana', frames: [readSardanaPost(post('/v1/record_data', { point_nb: 2, 'tango://h:1/expchan/c/1': 0.5, timestamp: 1.5 }))!] });
      expect(record).to.deep.equal({ type: 'RecordData', point_nb: 2, 'tango://h:1/expchan/c/1': 0.5, timestamp: 1.5 });
      expect(() => sardana.parse({ typ: 'PCAP', frames: [] })).to.throw(SardanaError, /expected StreamData of typ sardana, got "PCAP"/);
      expect(() => sardana.parse(stream({ type: 'Custom' }))).to.throw(SardanaError, /Sardana packet is not valid: type/);
      expect(() => sardana.parse(stream({ point_nb: 1, timestamp: 1 }))).to.throw(SardanaError, /type/);
    });
  });

  describe('scan', () => {
    it('forwards data_desc, the points and record_end; counts bad POSTs; drops points before data_desc', async () => {
      const posts = sardanaScanPosts({ points: 3 });
      const { events, bad, remaining } = await scanMessages(sardana, [
        posts[1], post('/v1/record_data', 'garbage'), posts[0], posts[1], post('/v1/record_data', { point_nb: 9 }), posts[2], posts[3], posts[4], posts[5], posts[0],
      ]);
      expect(events.map((e) => sardana.parse(e).type)).to.deep.equal(['DataDescription', 'RecordData', 'RecordData', 'RecordData', 'RecordEnd']);
      expect(events.slice(1, 4).map((e) => sardana.parse(e).point_nb)).to.deep.equal([0, 1, 2]);
      expect(bad).to.have.length(3);
      expect(bad[0]).to.equal('Sardana data message before the start message');
      expect(bad[1]).to.match(/body \(7 bytes\) is not JSON/);
      expect(bad[2]).to.match(/timestamp: /);
      expect(remaining).to.equal(1);
    });

    it('the emulated scan has the Door packet shapes', () => {
      const posts = sardanaScanPosts({ points: 2, serialno: 12 });
      expect(posts.map(([path]) => path.toString())).to.deep.equal(['/v1/data_desc', '/v1/record_data', '/v1/record_data', '/v1/custom_data', '/v1/record_end']);
      const desc = JSON.parse(posts[0][1].toString());
      expect(Object.keys(desc)).to.deep.equal([
        'serialno', 'scandir', 'title', 'column_desc', 'ref_moveables', 'estimatedtime', 'total_scan_intervals', 'starttime', 'counters', 'scanfile',
      ]);
      expect(desc).to.include({ serialno: 12, title: 'ascan mot01 0 10 1 0.1', total_scan_intervals: 1 });
      expect(JSON.parse(posts[2][1].toString())).to.deep.equal({ point_nb: 1, ...emulatedSardanaPoint({ points: 2 }, 1), timestamp: 0.24 });
      expect(Object.keys(JSON.parse(posts[4][1].toString()))).to.deep.equal(['endtime', 'deadtime']);
    });
  });

  describe('HTTP transport', () => {
    it('queues each POST as [path, body]; answers 400, 404, 405 and 413 as it should', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const { reader, close } = connectHttp(url);
      const replies = await postHttpMessages(url, [post('/v1/data_desc', { serialno: 1 }), post('/v1/record_data', 'not json'), post('/v1/nothing', {}),
        post('/v1/record_data', '{"ct01": NaN}')]);
      expect(replies.map((r) => r.status)).to.deep.equal([200, 400, 404, 200]);
      expect(JSON.parse(replies[1].body)).to.deep.equal({ detail: '/v1/record_data: body (8 bytes) is not JSON' });
      expect(JSON.parse(replies[2].body).detail).to.match(/unknown path \/v1\/nothing; packets go to \/v1\/data_desc, /);
      expect(text(await reader.next())).to.deep.equal(['/v1/data_desc', '{"serialno":1}']);
      expect(text(await reader.next()), 'the bad body is queued too, for the scan to count').to.deep.equal(['/v1/record_data', 'not json']);
      expect(text(await reader.next()), "Python's NaN is JSON here").to.deep.equal(['/v1/record_data', '{"ct01": NaN}']);
      expect((await fetch(`${url}/v1/record_data`)).status).to.equal(405);
      const huge = await fetch(`${url}/v1/record_data`, { method: 'POST', body: new Uint8Array(16 * 1024 * 1024 + 1) });
      expect(huge.status).to.equal(413);
      expect(await nextWithin(reader, 100)).to.equal(undefined);
      await close();
      expect(await reader.next(), 'a closed reader ends').to.equal(undefined);
    });

    it('between scans keeps only the Sardana scan in progress, for the next scan', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const first = connectHttp(url);
      await postHttpMessages(url, [post('/v1/record_data', { n: 0 })]);
      expect(text(await first.reader.next())).to.deep.equal(['/v1/record_data', '{"n":0}']);
      // queued but never read: folded into what is kept between scans
      await postHttpMessages(url, [post('/v1/record_data', { n: 1 }), post('/v1/data_desc', { n: 2 })]);
      await first.close();
      const between = await postHttpMessages(url, [
        post('/v1/record_data', { n: 3 }), post('/v1/record_end', {}), // an unannounced scan ends: nothing kept
        post('/v1/record_data', { n: 4 }), post('/v1/data_desc', { n: 5 }), post('/v1/record_data', { n: 6 }), post('/v1/custom_data', { n: 7 }),
        post('/v1/record_data', 'junk'),
      ]);
      expect(between.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200, 400]);
      const second = connectHttp(url);
      const kept = [await second.reader.next(), await second.reader.next(), await second.reader.next()].map((m) => text(m)![1]);
      expect(kept).to.deep.equal(['{"n":5}', '{"n":6}', '{"n":7}']);
      expect(await nextWithin(second.reader, 100)).to.equal(undefined);
      const third = connectHttp(url);
      await third.reader.next().then(() => { throw new Error('a second reader got a message'); }, (e: Error) => expect(e.message).to.match(/already serves another stream/));
      await second.close();
    });

    it('refuses a URL that is not http://host:port, and a port in use', async () => {
      expect(parseHttpUrl('http://0.0.0.0:5002/')).to.deep.equal({ host: '0.0.0.0', port: 5002 });
      for (const bad of ['tcp://h:1', 'http://h', 'http://h:0', 'http://h:1/v1']) expect(() => parseHttpUrl(bad), bad).to.throw(/is not http:\/\/host:port/);
      const url = `http://127.0.0.1:${await freePort()}`;
      const holder = connectHttp(url);
      await postHttpMessages(url, [post('/v1/custom_data', {})]); // the server is listening
      const taken = connectHttp(`${url}/`); // another URL string, the same address
      await taken.reader.next().then(() => { throw new Error('a second server listened on a port in use'); }, (e: Error) => expect(e.message).to.match(/cannot serve the HTTP upstream http:\/\/127.0.0.1:\d+\/: .*EADDRINUSE/));
      await Promise.all([holder.close(), taken.close()]);
    });
  });

  describe('through a live pipeline', () => {
    let pipeline: TestPipeline | undefined;
    afterEach(async () => {
      await pipeline?.stop();
      pipeline = undefined;
    });

    async function start(): Promise<string> {
      const upstream = `http://127.0.0.1:${await freePort()}`;
      pipeline = await startPipeline({
        ingesters: [{ name: 'sardana-ingester', streams: [{ name: 'sardana', protocol: 'sardana', upstream }] }],
        workers: [{ class: `${PACKETS}:PacketWorker`, count: 2 }],
        reducer: { class: `${PACKETS}:PacketReducer` },
      }, { ingesters: 1, workers: 2 });
      return upstream;
    }

    type Summary = Record<string, number | string>;

    it('a 10-point scan with 9 triggers gives 11 events (the 10th point is the last), like the original', async () => {
      const upstream = await start();
      await setSequenceAndWait(pipeline!, uniformSequence(['sardana'], 9));
      const replies = await postHttpMessages(upstream, sardanaScanPosts({ points: 10 }), { rate: 200 });
      expect(replies.map((r) => r.status)).to.deep.equal(new Array(13).fill(200));
      expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(11));
      const events = await pipeline!.result<Record<string, PacketResult[]>>('events');
      expect(events['0'].map((r) => (r.streams.sardana as Summary).type)).to.deep.equal(['DataDescription', 'DataDescription']);
      expect((events['0'][0].streams.sardana as Summary).title).to.equal('ascan mot01 0 10 9 0.1');
      for (let e = 1; e <= 9; e++) expect((events[e][0].streams.sardana as Summary).point_nb).to.equal(e - 1);
      expect(events['10'].map((r) => (r.streams.sardana as Summary).point_nb), 'the end event is the 10th point, sent to every worker').to.deep.equal([9, 9]);
      const totals = await pipeline!.result<Record<string, Record<string, number>>>('totals');
      expect(totals.sardana.mot01).to.be.closeTo(2 * 10 + (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8) * (10 / 9), 1e-9);
      expect((await scanProblems(pipeline!)).bad).to.deep.equal([]);
    });

    it('a timescan with NaN for counters not read yet, in a session without ScanDir: the workers see NaN', async () => {
      const upstream = `http://127.0.0.1:${await freePort()}`;
      pipeline = await startPipeline({
        ingesters: [{ name: 'sardana-ingester', streams: [{ name: 'sardana', protocol: 'sardana', upstream }] }],
        workers: [{ class: `${RECORDS}:RecordWorker`, count: 2 }], reducer: { class: `${RECORDS}:RecordReducer` },
      }, { ingesters: 1, workers: 2 });
      const counters = ['ct01', 'ct02'];
      const posts = sardanaScanPosts({ points: 5, counters, scandir: null, overrides: (n): Record<string, number> => (n >= 3 ? { ct02: NaN } : n === 1 ? { ct01: Infinity } : {}) });
      expect(posts[4]![1].toString()).to.contain('"ct02":NaN');
      await setSequenceAndWait(pipeline, uniformSequence(['sardana'], 5));
      const replies = await postHttpMessages(upstream, posts, { rate: 200 });
      expect(replies.map((r) => r.status)).to.deep.equal(new Array(8).fill(200));
      expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(7));
      expect((await scanProblems(pipeline)).bad).to.deep.equal([]);
      const events = await pipeline.result<Record<string, RecordResult[]>>('events');
      const record = (e: number) => (events[e]![0]!.streams.sardana as { record: Record<string, unknown> }).record;
      expect(record(0)).to.include({ type: 'DataDescription', scandir: null });
      expect([1, 2, 3, 4, 5].map((e) => [record(e).point_nb, record(e).ct01, record(e).ct02])).to.deep.equal([
        [0, 0.1, 0.2], [1, 'Infinity', 0.4], [2, 0.30000000000000004, 0.6000000000000001], [3, 0.4, 'NaN'], [4, 0.5, 'NaN'],
      ]);
    });

    it('counts a body that is not JSON (answered 400) and a point without timestamp, with their event, and completes the scan', async () => {
      const upstream = await start();
      const posts = sardanaScanPosts({ points: 6 });
      // after point 1 (event 2): a body that is not JSON and a point without timestamp
      const played = [...posts.slice(0, 3), post('/v1/record_data', '{"point_nb": 2,'), post('/v1/record_data', { point_nb: 2 }), ...posts.slice(3)];
      await setSequenceAndWait(pipeline!, uniformSequence(['sardana'], 6));
      const replies = await postHttpMessages(upstream, played, { rate: 200 });
      expect(replies.map((r) => r.status)).to.deep.equal([200, 200, 200, 400, 200, 200, 200, 200, 200, 200, 200]);
      expect(await pipeline!.waitForFinish()).to.deep.equal(scanEndedWith(8, { bad: 2 }));
      const { bad } = await scanProblems(pipeline!);
      expect(bad.map((b) => [b.component, b.event])).to.deep.equal([['ingester:sardana-ingester/sardana', 3], ['ingester:sardana-ingester/sardana', 3]]);
      expect(bad[0].reason).to.match(/Sardana \/v1\/record_data body \(15 bytes\) is not JSON/);
      expect(bad[1].reason).to.match(/Sardana \/v1\/record_data body is not valid: timestamp: /);
      const events = await pipeline!.result<Record<string, PacketResult[]>>('events');
      expect([1, 2, 3, 4, 5, 6].map((e) => (events[e][0].streams.sardana as Summary).point_nb)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(events['7'].map((r) => (r.streams.sardana as Summary).type)).to.deep.equal(['RecordEnd', 'RecordEnd']);
    });
  });
});
