import { expect } from 'chai';
import { Outbox } from '../src/core/outbox.js';
import { decodeEventBatch, decodeResultBatch, encodeEventBatch, encodeResultBatch, packFrames, unpackFrames } from '../src/core/wire.js';

const tick = () => new Promise((r) => setImmediate(r));

function recordingOutbox(limits = { items: 100, bytes: 1 << 20, ageMs: 1000 }) {
  const sent: [string, number[]][] = [];
  const errors: unknown[] = [];
  const outbox = new Outbox<number>(async (destination, items) => {
    if (destination === 'broken') throw new Error('peer gone');
    sent.push([destination, items]);
  }, limits, (e) => errors.push(e));
  return { outbox, sent, errors };
}

describe('outbox: batches for zmq destinations', () => {
  it('sends what one busy stretch queued as one batch per destination, in order, once the process would idle', async () => {
    const { outbox, sent } = recordingOutbox();
    for (let i = 0; i < 6; i++) expect(outbox.add(i % 2 ? 'w2' : 'w1', i, 10)).to.equal(undefined);
    expect(sent, 'nothing leaves while the producer runs').to.deep.equal([]);
    await tick();
    await outbox.flush();
    expect(sent).to.deep.equal([['w1', [0, 2, 4]], ['w2', [1, 3, 5]]]);
  });

  it('sends at once when the item or byte limit is reached and hands the producer the flush to wait for', async () => {
    const { outbox, sent } = recordingOutbox({ items: 3, bytes: 100, ageMs: 1000 });
    expect(outbox.add('w1', 1, 1)).to.equal(undefined);
    expect(outbox.add('w1', 2, 1)).to.equal(undefined);
    const flushing = outbox.add('w1', 3, 1);
    expect(flushing).to.be.instanceOf(Promise);
    await flushing;
    expect(sent).to.deep.equal([['w1', [1, 2, 3]]]);
    await outbox.add('w2', 4, 100);
    expect(sent[1]).to.deep.equal(['w2', [4]]);
  });

  it('sends when the oldest item is older than the age limit, even while the producer stays busy', async () => {
    const { outbox, sent } = recordingOutbox({ items: 100, bytes: 1 << 20, ageMs: 5 });
    outbox.add('w1', 1, 1);
    const until = performance.now() + 10;
    while (performance.now() < until) { /* a producer that does not yield */ }
    await outbox.add('w1', 2, 1);
    expect(sent).to.deep.equal([['w1', [1, 2]]]);
  });

  it('reports a failing send and goes on with the next batches', async () => {
    const { outbox, sent, errors } = recordingOutbox();
    outbox.add('broken', 1, 1);
    outbox.add('w1', 2, 1);
    await outbox.flush();
    outbox.add('w1', 3, 1);
    await outbox.flush();
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['peer gone']);
    expect(sent).to.deep.equal([['w1', [2]], ['w1', [3]]]);
  });
});

describe('wire: event and result batches', () => {
  const frame = (text: string) => Buffer.from(text);

  it('carries missing streams with their reasons', () => {
    const message = encodeEventBatch('s', 't', [{ event: 3, streams: {}, missing: { eiger: 'the upstream ended the series before this event' } }]);
    expect(decodeEventBatch(message).events[0]).to.deep.include({ event: 3, missing: { eiger: 'the upstream ended the series before this event' } });
  });

  it('carries several events, each with its streams and expected streams, frames untouched', () => {
    const payload = frame('x'.repeat(5000));
    const message = encodeEventBatch('scan-1', 'token-1', [
      { event: 4, streams: { eiger: { typ: 'STINS', frames: [frame('{"htype":"image"}'), payload] } }, expect: ['eiger', 'pcap'] },
      { event: 5, streams: { eiger: { typ: 'STINS', frames: [frame('a')] }, pcap: { typ: 'PCAP', frames: [frame('b'), frame('c')] } } },
    ]);
    expect(message, 'the header, the small frames packed in one part, the large payload as it is, the rest packed').to.have.length(1 + 3);
    expect(message[2], 'the payload Buffer itself').to.equal(payload);
    const { scan, token, events } = decodeEventBatch(message);
    expect([scan, token]).to.deep.equal(['scan-1', 'token-1']);
    expect(events.map((e) => [e.event, Object.keys(e.streams), e.expect])).to.deep.equal([[4, ['eiger'], ['eiger', 'pcap']], [5, ['eiger', 'pcap'], undefined]]);
    expect(events[0].streams.eiger.frames[1], 'the payload Buffer itself').to.equal(payload);
    expect(events[0].streams.eiger.frames[0].toString()).to.equal('{"htype":"image"}');
    expect(events[1].streams.pcap.frames.map(String)).to.deep.equal(['b', 'c']);
  });

  it('refuses a batch whose frames do not match its header', () => {
    const message = encodeEventBatch('s', 't', [{ event: 1, streams: { a: { typ: 'T', frames: [frame('1'), frame('2')] } } }]);
    const header = JSON.parse(message[0].toString());
    const withHeader = (change: object) => [Buffer.from(JSON.stringify({ ...header, ...change })), ...message.slice(1)];
    expect(() => decodeEventBatch(withHeader({ events: [{ event: 1, streams: { a: { typ: 'T', length: 3 } } }] }))).to.throw(/stream a announces 3 frames/);
    expect(() => decodeEventBatch(withHeader({ events: [{ event: 1, streams: { a: { typ: 'T', length: 1 } } }] }))).to.throw(/1 frames more than the batch announces/);
    expect(() => decodeEventBatch([...message, frame('extra')])).to.throw(/malformed frame packing/);
    expect(() => decodeEventBatch(withHeader({ lengths: [1, 5] }))).to.throw(/part 1 is shorter/);
    expect(() => decodeEventBatch([frame('{"scan":"s","token":"t","events":[{"event":"x","streams":{}}],"counts":[],"lengths":[]}')])).to.throw(/malformed event header/);
    expect(() => decodeEventBatch([frame('{"scan":"s","events":[]}')]), 'no token').to.throw(/malformed event batch header/);
    expect(() => decodeEventBatch([frame('not json')])).to.throw(SyntaxError);
  });

  it('carries results with their event numbers and refuses a count mismatch', () => {
    const source = { scan: 's', token: 't', worker: 'w1', instance: 'i1', parametersHash: 'h' };
    const batch = decodeResultBatch(encodeResultBatch(source, [7, 9], [frame('r7'), frame('r9')]));
    const results = batch.events.map((event, i) => ({ ...batch.source, event, body: batch.bodies[i] }));
    expect(results.map((r) => [r.event, r.worker, r.instance, r.parametersHash, r.body.toString()])).to.deep.equal([[7, 'w1', 'i1', 'h', 'r7'], [9, 'w1', 'i1', 'h', 'r9']]);
    expect(() => decodeResultBatch(encodeResultBatch(source, [7, 9], [frame('r7')]))).to.throw(/malformed result batch header/);
  });

  it('packs small frames into few message parts, each at an aligned offset, and sends large ones as they are', () => {
    const large = Buffer.alloc(5000, 7);
    const frames = [frame('a'), frame('bcd'), frame(''), large, frame('efghijklm'), ...Array.from({ length: 20 }, () => Buffer.alloc(4000, 1))];
    const { parts, counts, lengths } = packFrames(frames);
    expect(counts, 'three small, the large alone, then packs of at most 64 KiB').to.deep.equal([3, 1, 17, 4]);
    expect(parts[1], 'a large frame is not copied').to.equal(large);
    const unpacked = unpackFrames(parts, counts, lengths);
    expect(unpacked.map((f) => f.toString('hex'))).to.deep.equal(frames.map((f) => f.toString('hex')));
    expect(unpacked.every((f) => f.byteOffset % 8 === parts.find((p) => p.buffer === f.buffer)!.byteOffset % 8), 'every packed frame starts aligned').to.equal(true);
    const [lone] = packFrames([frame('alone')]).parts;
    expect(lone.toString(), 'a lone small frame travels as it is').to.equal('alone');
  });

  it('refuses packing that does not match its parts', () => {
    const { parts, counts, lengths } = packFrames([frame('ab'), frame('cd')]);
    expect(() => unpackFrames(parts, counts, [2, 3])).to.throw(/shorter than the frames/);
    expect(() => unpackFrames(parts, counts, [2, 1])).to.throw(/longer than the frames/);
    expect(() => unpackFrames(parts, [2, 1], lengths)).to.throw(/malformed frame packing/);
    expect(() => unpackFrames(parts, counts, [2, 2, 2])).to.throw(/malformed frame packing/);
    expect(() => unpackFrames(parts, [0], lengths)).to.throw(/malformed frame packing/);
    expect(() => unpackFrames(parts, counts, 'no')).to.throw(/malformed frame packing/);
  });
});
