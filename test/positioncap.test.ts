import { expect } from 'chai';
import net from 'node:net';
import { join } from 'node:path';
import type { StreamData } from '../src/core/types.js';
import { connectTcp, parseTcpUrl } from '../src/ingester/transports/tcp.js';
import { bindTcpPlayer, type TcpPlayer } from '../src/protocols/player.js';
import {
  positioncap, PositioncapError, PositioncapParser, type PositioncapPacket, type PositioncapValues,
} from '../src/protocols/positioncap/index.js';
import { emulatedPandaValue, PANDA_FIELDS, pandaCapture, type PandaFieldOptions } from '../src/protocols/positioncap/emulator.js';
import type { MessageReader } from '../src/protocols/types.js';
import { freePort, ROOT, sleep, startPipeline, uniformSequence, waitFor, type TestPipeline, completeScan, scanEndedWith } from './helpers/pipeline.js';
import { scanMessages, scanProblems, scanReader, setSequenceAndWait } from './helpers/upstream-harness.js';
import type { PacketResult } from './payloads/packets.js';

const PACKETS = join(ROOT, 'test/payloads/packets.ts');
const stream = (text: string): StreamData => ({ typ: 'PCAP_RAW', frames: [Buffer.from(text)] });
/** what the TCP transport delivers: one message per line, a header block as its lines */
const lines = (texts: Iterable<string>): Buffer[][] => [...texts].flatMap((t) => t.split(/(?<=\n)/)).map((l) => [Buffer.from(l)]);

const REFERENCE_HEADER = [
  'arm_time: 2023-12-19T07:51:12.754Z', 'missed: 0', 'process: Scaled', 'format: ASCII', 'fields:',
  ' PCAP.BITS0 uint32 Value', ' INENC1.VAL double Min scale: 1 offset: 0 units:', ' INENC1.VAL double Max scale: 1 offset: 0 units:',
  ' PCAP.TS_TRIG double Value scale: 8e-09 offset: 0 units: s', ' INENC1.VAL double Mean scale: 1 offset: 0 units:',
  ' SFP3_SYNC_IN.POS1 double Mean scale: 1 offset: 0 units: (null)', '', '',
].join('\n');

function values(packet: PositioncapPacket): Record<string, number> {
  if (packet.kind !== 'values') throw new Error(`expected values, got ${packet.kind}`);
  return Object.fromEntries(Object.values(packet.fields).map((f) => [f.name, f.value]));
}


const SECOND_ARM_FIELDS: PandaFieldOptions[] = [
  { name: 'COUNTER1.OUT', type: 'int32', capture: 'Value' },
  { name: 'PCAP.TS_TRIG', type: 'double', capture: 'Value', units: 's' },
];

describe('PandA position capture (TCP) protocol', function () {
  this.timeout(90_000);

  it('describes itself as the ingester expects', () => {
    expect({ name: positioncap.name, typ: positioncap.typ, transport: positioncap.transport })
      .to.deep.equal({ name: 'positioncap', typ: 'PCAP_RAW', transport: 'tcp' });
  });

  describe('the stateful parser', () => {
    it('reads the reference header, then its data lines and END', () => {
      const parser = new PositioncapParser();
      const start = parser.parse(stream(REFERENCE_HEADER));
      if (start.kind !== 'start') throw new Error('expected the header');
      expect(start.arm_time.toISOString()).to.equal('2023-12-19T07:51:12.754Z');
      expect(start.info).to.deep.equal({ missed: '0', process: 'Scaled', format: 'ASCII' });
      expect(start.fields.map((f) => [f.name, f.type])).to.deep.equal([
        ['PCAP.BITS0.Value', 'uint32'], ['INENC1.VAL.Min', 'double'], ['INENC1.VAL.Max', 'double'],
        ['PCAP.TS_TRIG.Value', 'double'], ['INENC1.VAL.Mean', 'double'], ['SFP3_SYNC_IN.POS1.Mean', 'double'],
      ]);
      expect(start.fields[3]).to.deep.equal({ name: 'PCAP.TS_TRIG.Value', type: 'double', scale: 8e-9, offset: 0, units: 's' });
      expect(start.fields[0]).to.deep.equal({ name: 'PCAP.BITS0.Value', type: 'uint32' });
      expect(values(parser.parse(stream(' 301989857 0 0 0.32175968 0 592910924.7\n')))).to.deep.equal({
        'PCAP.BITS0.Value': 301989857, 'INENC1.VAL.Min': 0, 'INENC1.VAL.Max': 0, 'PCAP.TS_TRIG.Value': 0.32175968,
        'INENC1.VAL.Mean': 0, 'SFP3_SYNC_IN.POS1.Mean': 592910924.7,
      });
      const line = parser.parse(stream(' 4294967295 -1.5e-3 nan inf -2 .5\n')) as PositioncapValues;
      expect(line.fields['PCAP.BITS0.Value']).to.deep.equal({ name: 'PCAP.BITS0.Value', type: 'uint32', value: 4294967295 });
      expect(Object.values(line.fields).map((f) => f.value)).to.deep.equal([4294967295, -0.0015, NaN, Infinity, -2, 0.5]);
      expect(parser.parse(stream('END 11 Disarmed\n'))).to.deep.equal({ kind: 'end', samples: 11, reason: 'Disarmed' });
      expect(parser.parse(stream('END\n'))).to.deep.equal({ kind: 'end' });
      expect(parser.start?.fields).to.have.length(6);
    });

    it('takes an arm_time without zone as UTC, and each new header replaces the fields', () => {
      const parser = new PositioncapParser();
      const start = parser.parse(stream('arm_time: 2024-01-02T03:04:05.5\nfields:\n COUNTER1.OUT int32 Value\n\n'));
      expect(start.kind === 'start' && start.arm_time.toISOString()).to.equal('2024-01-02T03:04:05.500Z');
      expect(values(parser.parse(stream(' -7\n')))).to.deep.equal({ 'COUNTER1.OUT.Value': -7 });
      parser.parse(stream(REFERENCE_HEADER));
      expect(() => parser.parse(stream(' -7\n'))).to.throw(PositioncapError, /has 1 values, the header lists 6 fields/);
    });

    const cases: [string, string[], RegExp][] = [
      ['a data line before any header', [' 1 2\n'], /PandA data line before any arm_time header/],
      ['too few values', [REFERENCE_HEADER, ' 1 2 3\n'], /PandA line " 1 2 3" has 3 values, the header lists 6 fields/],
      ['an empty line', [REFERENCE_HEADER, '\n'], /has 0 values, the header lists 6 fields/],
      ['a value that is not a number', [REFERENCE_HEADER, ' 1 2 3 x 5 6\n'], /PCAP.TS_TRIG.Value = "x" is not a double/],
      ['a negative uint32', [REFERENCE_HEADER, ' -1 2 3 4 5 6\n'], /PCAP.BITS0.Value = "-1" is not a uint32/],
      ['a uint32 beyond 32 bits', [REFERENCE_HEADER, ' 4294967296 2 3 4 5 6\n'], /is not a uint32/],
      ['a field of unknown type', ['arm_time: 2023-12-19T07:51:12.754Z\nfields:\n A.B float32 Value\n\n'], /A.B.Value has type "float32", expected one of uint32, int32, double/],
      ['an arm_time that is no time', ['arm_time: yesterday\nfields:\n A.B double Value\n\n'], /arm_time "yesterday" is not an ISO time/],
      ['a header without fields', ['arm_time: 2023-12-19T07:51:12.754Z\nmissed: 0\n\n'], /PandA header lists no fields/],
      ['a binary capture', ['arm_time: 2023-12-19T07:51:12.754Z\nformat: FRAMED\nfields:\n A.B double Value\n\n'], /format FRAMED is not ASCII/],
      ['a header line that is neither', ['arm_time: 2023-12-19T07:51:12.754Z\ngarbage\n\n'], /header line "garbage" is neither/],
    ];
    for (const [what, texts, message] of cases) {
      it(`refuses ${what}`, () => {
        const parser = new PositioncapParser();
        for (const text of texts.slice(0, -1)) parser.parse(stream(text));
        expect(() => parser.parse(stream(texts.at(-1)!))).to.throw(PositioncapError, message);
      });
    }

    it('refuses another typ and events of several frames', () => {
      const parser = new PositioncapParser();
      expect(() => parser.parse({ typ: 'PCAP', frames: [Buffer.from('END\n')] })).to.throw(PositioncapError, /expected StreamData of typ PCAP_RAW, got "PCAP"/);
      expect(() => parser.parse({ typ: 'PCAP_RAW', frames: [] })).to.throw(PositioncapError, /has 0 frames, expected 1/);
    });
  });

  describe('scan', () => {
    const capture = [...pandaCapture({ samples: 3, arms: 2 })];

    it('forwards every arm cycle: the header block, each line, END', async () => {
      const { events, bad } = await scanMessages(positioncap, lines(capture));
      expect(bad).to.deep.equal([]);
      expect(events.map((e) => e.frames[0].toString())).to.deep.equal(capture);
      const parser = new PositioncapParser();
      const parsed = events.map((e) => parser.parse(e));
      expect(parsed.map((p) => p.kind)).to.deep.equal(['start', 'values', 'values', 'values', 'end', 'start', 'values', 'values', 'values', 'end']);
      expect(values(parsed[7])).to.deep.equal(Object.fromEntries(PANDA_FIELDS.map((f, i) => [`${f.name}.${f.capture}`, emulatedPandaValue(f, i, 1, 1)])));
      expect(parsed[5].kind === 'start' && parsed[5].arm_time.toISOString()).to.equal('2023-12-19T07:51:22.754Z');
    });

    it('counts lines before a header and lines that do not fit it; skips an arm cycle with a bad header', async () => {
      const badHeader = 'arm_time: 2023-12-19T07:51:12.754Z\nfields:\n A.B float32 Value\n\n';
      const { events, bad } = await scanMessages(positioncap, lines([
        ' 1 2 3\n', 'END 5 Disarmed\n', capture[0], capture[1], ' 1 2\n', ' a b c d e f\n', capture[2], capture[4],
        badHeader, ' 1\n', 'END 1 Disarmed\n', ...capture.slice(5),
      ]));
      expect(events.map((e) => e.frames[0].toString())).to.deep.equal([capture[0], capture[1], capture[2], capture[4], ...capture.slice(5)]);
      expect(bad).to.have.length(5);
      expect(bad[0]).to.equal('skipped 2 PandA lines before the arm_time header');
      expect(bad[1]).to.match(/PandA line " 1 2" has 2 values, the header lists 6 fields/);
      expect(bad[2]).to.match(/PCAP.BITS0.Value = "a" is not a uint32/);
      expect(bad[3]).to.match(/A.B.Value has type "float32".*; this arm cycle is skipped$/);
      expect(bad[4]).to.equal('skipped 2 PandA lines before the arm_time header');
    });

    it('ends quietly when the PandA closes inside an arm cycle or a header (no empty frames)', async () => {
      const cut = await scanMessages(positioncap, lines(capture.slice(0, 3)));
      expect(cut.events).to.have.length(3);
      expect(cut.warnings).to.deep.equal(['stream test: PandA closed the connection inside arm cycle 1, before its END line']);
      const inHeader = await scanMessages(positioncap, lines([capture[0].slice(0, 60)]));
      expect(inHeader.events).to.deep.equal([]);
      expect(inHeader.warnings).to.deep.equal(['stream test: PandA closed the connection inside a header']);
      const nothing = await scanMessages(positioncap, []);
      expect([nothing.events, nothing.bad]).to.deep.equal([[], []]);
    });
  });

  describe('TCP transport', () => {
    const servers: net.Server[] = [];
    afterEach(() => { for (const s of servers.splice(0)) s.close(); });

    async function serve(onConnection: (socket: net.Socket) => void, port = 0): Promise<number> {
      const server = net.createServer(onConnection);
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
      return (server.address() as net.AddressInfo).port;
    }

    it('gives whole lines however the bytes arrive, the unterminated tail last, then undefined', async () => {
      const port = await serve(async (socket) => {
        for (const piece of ['one\ntw', 'o\n', 'thr', 'ee', '\nfour\nfive\nta', 'il']) {
          socket.write(piece);
          await sleep(10);
        }
        socket.end();
      });
      const { reader, close } = connectTcp(`tcp://127.0.0.1:${port}`);
      const got: string[] = [];
      for (let m = await reader.next(); m; m = await reader.next()) {
        expect(m).to.have.length(1);
        got.push(m[0].toString());
      }
      expect(got).to.deep.equal(['one\n', 'two\n', 'three\n', 'four\n', 'five\n', 'tail']);
      expect(await reader.next()).to.equal(undefined);
      await close();
    });

    it('writes to the upstream, retries until the upstream listens, and ends a waiting read on close', async () => {
      const port = await freePort();
      const { reader, close } = connectTcp(`tcp://127.0.0.1:${port}`);
      const received = new Promise<string>((resolve) => {
        setTimeout(() => {
          serve((socket) => socket.once('data', (d) => { resolve(d.toString()); socket.write('OK\n'); }), port).catch(() => undefined);
        }, 700);
      });
      await reader.write!('\n');
      expect(await received).to.equal('\n');
      expect((await reader.next())![0].toString()).to.equal('OK\n');
      const waiting = reader.next();
      await close();
      expect(await waiting).to.equal(undefined);
      await reader.write!('late').then(() => { throw new Error('write after close succeeded'); }, (e: Error) => expect(e.message).to.match(/connection closed, cannot send/));
    });

    it('refuses a URL that is not tcp://host:port', () => {
      expect(parseTcpUrl('tcp://[::1]:8889')).to.deep.equal({ host: '::1', port: 8889 });
      for (const bad of ['http://panda:8889', 'tcp://panda', 'tcp://panda:0', 'tcp://panda:70000']) {
        expect(() => parseTcpUrl(bad), bad).to.throw(/is not tcp:\/\/host:port/);
      }
    });
  });

  describe('against an emulated PandA capture port', () => {
    let player: TcpPlayer | undefined;
    afterEach(async () => { await player?.close(); player = undefined; });

    async function scanLive(reader: MessageReader): Promise<{ events: StreamData[]; bad: string[] }> {
      const { events, bad } = await scanReader(positioncap, reader, 'panda');
      return { events, bad };
    }

    it('asks for capture data, then reads two arm cycles to the PandA closing the connection', async () => {
      player = await bindTcpPlayer('tcp://127.0.0.1:0');
      const connection = connectTcp(player.endpoint);
      const capture = [...pandaCapture({ samples: 4, arms: 2 })];
      const [outcome] = await Promise.all([scanLive(connection.reader), player.play(capture, { end: true, rate: 200 })]);
      expect(outcome.bad).to.deep.equal([]);
      expect(outcome.events.map((e) => e.frames[0].toString())).to.deep.equal(capture);
      await connection.close();
    });

    it('counts a refused capture request', async () => {
      const server = net.createServer((socket) => socket.once('data', () => socket.end('ERR Unknown command\n')));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const connection = connectTcp(`tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      const outcome = await scanLive(connection.reader);
      expect(outcome).to.deep.equal({ events: [], bad: ['PandA answered "ERR Unknown command\\n" to the capture request, expected "OK\\n"'] });
      await connection.close();
      server.close();
    });
  });

  describe('through a live pipeline', () => {
    let pipeline: TestPipeline | undefined;
    let player: TcpPlayer | undefined;
    afterEach(async () => {
      await pipeline?.stop();
      await player?.close();
      pipeline = player = undefined;
    });

    async function start(): Promise<void> {
      player = await bindTcpPlayer('tcp://127.0.0.1:0');
      pipeline = await startPipeline({
        ingesters: [{ name: 'panda-ingester', streams: [{ name: 'panda', protocol: 'positioncap', upstream: player.endpoint }] }],
        workers: [{ class: `${PACKETS}:PacketWorker`, count: 2 }],
        reducer: { class: `${PACKETS}:PacketReducer` },
      }, { ingesters: 1, workers: 2 });
    }

    type Summary = { kind: string; fields: Record<string, { value: number }>; arm_time: string; samples: number };
    const c = (n: number) => [{ constraint: n }];
    const everyWorker = [{ tags: ['generic'], constraint: null }];

    it('runs two arm cycles in one scan; the second header reaches every worker, whose parsers then read its fields', async () => {
      await start();
      const secondArm = new Date('2023-12-19T08:00:00.000Z');
      const capture = [...pandaCapture({ samples: 3 }), ...pandaCapture({ samples: 3, fields: SECOND_ARM_FIELDS, armTime: secondArm })];
      // events: 0 header 1 (start), 1–3 lines, 4 END, 5 header 2 (every worker), 6–8 lines, 9 END (end)
      await setSequenceAndWait(pipeline!, { parts: { main: { panda: [c(0), c(1), c(2), c(3), everyWorker, c(4), c(5), c(6)] } }, sequence: ['main'] });
      await player!.play(capture, { rate: 200 });
      expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(10));
      const events = await pipeline!.result<Record<string, PacketResult[]>>('events');
      const panda = (e: number, i = 0) => events[e][i].streams.panda as Summary;
      expect([0, 5, 9].map((e) => events[e].length)).to.deep.equal([2, 2, 2]);
      expect(panda(5, 0).arm_time).to.equal(secondArm.toISOString());
      for (const sample of [0, 1, 2]) {
        expect(Object.keys(panda(1 + sample).fields)).to.have.length(6);
        expect(panda(1 + sample).fields['PCAP.BITS0.Value'].value).to.equal(emulatedPandaValue(PANDA_FIELDS[0], 0, 0, sample));
        expect(panda(6 + sample).fields).to.deep.equal({
          'COUNTER1.OUT.Value': { name: 'COUNTER1.OUT.Value', type: 'int32', value: emulatedPandaValue(SECOND_ARM_FIELDS[0], 0, 0, sample) },
          'PCAP.TS_TRIG.Value': { name: 'PCAP.TS_TRIG.Value', type: 'double', value: emulatedPandaValue(SECOND_ARM_FIELDS[1], 1, 0, sample) },
        });
      }
      expect([panda(4).kind, panda(4).samples, panda(9).kind]).to.deep.equal(['end', 3, 'end']);
      const status = await pipeline!.api<{ bad_frames: number; failed_events: number }>('/api/v1/status');
      expect([status.bad_frames, status.failed_events]).to.deep.equal([0, 0]);
      // the next scan connects anew and asks again
      await setSequenceAndWait(pipeline!, uniformSequence(['panda'], 2));
      await waitFor('the ingester to ask for capture data again', async () => player!.handshakes === 2);
      await player!.play(pandaCapture({ samples: 2 }), { rate: 200 });
      expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(4));
      const next = await pipeline!.result<Record<string, PacketResult[]>>('events');
      expect((next['2'][0].streams.panda as Summary).fields['PCAP.BITS0.Value'].value).to.equal(emulatedPandaValue(PANDA_FIELDS[0], 0, 0, 1));
    });

    it('gives a line that does not parse its own event, as missing with the reason, and completes the scan', async () => {
      await start();
      const [header, ...rest] = [...pandaCapture({ samples: 6 })];
      // samples 2 and 3 (events 3 and 4) arrive broken: a short line and one with a word for a number
      const played = [header, rest[0], rest[1], ' 1 2 3\n', ' 1 2 3 four 5 6\n', ...rest.slice(4)];
      await setSequenceAndWait(pipeline!, uniformSequence(['panda'], 6));
      await player!.play(played, { rate: 200 });
      expect(await pipeline!.waitForFinish()).to.deep.equal(scanEndedWith(8, { missing: 2 }));
      const missing = (await scanProblems(pipeline!)).missing.sort((a, b) => a.event - b.event);
      expect(missing.map((b) => [b.event, b.component.split('/')[1]])).to.deep.equal([[3, 'panda'], [4, 'panda']]);
      expect(missing[0].reason).to.match(/PandA line " 1 2 3" has 3 values, the header lists 6 fields/);
      expect(missing[1].reason).to.match(/PCAP.TS_TRIG.Value = "four" is not a double/);
      const events = await pipeline!.result<Record<string, PacketResult[]>>('events');
      const panda = (e: number) => events[e][0].streams.panda as Summary;
      expect([1, 2, 5, 6].map((e) => panda(e).fields['PCAP.BITS0.Value'].value), 'the later samples keep their events')
        .to.deep.equal([0, 1, 4, 5].map((sample) => emulatedPandaValue(PANDA_FIELDS[0], 0, 0, sample)));
      expect(events['3'], 'no worker ran on an event without data').to.equal(undefined);
      expect(panda(7).kind).to.equal('end');
    });
  });
});
