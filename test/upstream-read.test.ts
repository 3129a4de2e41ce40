import { expect } from 'chai';
import * as zmq from 'zeromq';
import { connectZmq } from '../src/ingester/transports/zmq.js';
import { StreamFeed, type SlotFill } from '../src/ingester/stream-feed.js';
import { stins } from '../src/protocols/stins/index.js';
import { stinsSeriesMessages } from '../src/protocols/stins/emulator.js';
import type { MessageReader } from '../src/protocols/types.js';
import { sourceContext } from './helpers/upstream-harness.js';

/** a reader whose first `available` messages count as received (`ready`); the rest come when released */
class GatedReader implements MessageReader {
  private index = 0;
  private release?: () => void;
  waits = 0;

  constructor(private readonly messages: Buffer[][], private available: number) {}

  ready(): Buffer[] | undefined {
    return this.index < this.available ? this.messages[this.index++] : undefined;
  }

  async next(): Promise<Buffer[] | undefined> {
    if (this.index >= this.available && this.index < this.messages.length) {
      this.waits += 1;
      await new Promise<void>((resolve) => { this.release = resolve; });
    }
    return this.messages[this.index++];
  }

  /** lets the rest of the messages through */
  open(): void {
    this.available = this.messages.length;
    this.release?.();
  }
}

const frameOf = (fill: SlotFill) => ('data' in fill ? JSON.parse(fill.data.frames[0].toString()).frame as number : fill.missing);

describe('reading an upstream', () => {
  describe('the zmq transport', () => {
    it('hands a backlog over in order, most of it without waiting, past the reads zeromq.js does in a row', async () => {
      const count = 3000;
      const push = new zmq.Push({ linger: 0, sendHighWaterMark: count + 1 });
      await push.bind('tcp://127.0.0.1:*');
      const connection = connectZmq('zmq-pull', push.lastEndpoint!);
      try {
        // each send resolves once queued towards the connected PULL: all of them are waiting before the first read
        for (let i = 0; i < count; i++) await push.send([Buffer.from(String(i))]);
        const { reader } = connection;
        const got: number[] = [];
        let readyCount = 0;
        while (got.length < count) {
          const ready = reader.ready!();
          if (ready) readyCount += 1;
          const message = ready ?? await reader.next();
          got.push(Number(message![0].toString()));
        }
        expect(got).to.deep.equal(Array.from({ length: count }, (_, i) => i));
        expect(readyCount, 'messages taken without an await').to.be.above(count / 2);
      } finally {
        await connection.close();
        push.close();
      }
    });

    it('a read waiting for a message ends with undefined when the connection closes', async () => {
      const push = new zmq.Push({ linger: 0 });
      await push.bind('tcp://127.0.0.1:*');
      const connection = connectZmq('zmq-pull', push.lastEndpoint!);
      try {
        const reading = connection.reader.next();
        await connection.close();
        expect(await reading).to.equal(undefined);
        expect(await connection.reader.next()).to.equal(undefined);
      } finally {
        push.close();
      }
    });
  });

  describe('a stream feed', () => {
    const [header, ...rest] = stinsSeriesMessages({ frames: 4, shape: [2, 2], dtype: 'uint8' });
    const images = rest.slice(0, 4);
    const end = rest[4];
    const broken = (frame: number) => [images[frame][0]];             // its pixels are missing

    function feedOf(reader: MessageReader) {
      const { ctx, bad } = sourceContext('det');
      return { feed: new StreamFeed(stins.scan(reader, ctx), { bad: (reason) => { bad.push(reason); } }), bad };
    }

    it('fills slots synchronously from received messages and waits only for the rest', async () => {
      const reader = new GatedReader([header, ...images, end], 3);
      const { feed, bad } = feedOf(reader);
      const first = [feed.fill(0, false), feed.fill(1, false), feed.fill(2, false)];
      expect(first.some((fill) => fill instanceof Promise), 'received messages fill without an await').to.equal(false);
      const waiting = feed.fill(3, false);
      expect(waiting).to.be.instanceOf(Promise);
      reader.open();
      expect(frameOf(await waiting)).to.equal(2);
      expect(frameOf(await feed.fill(4, false))).to.equal(3);
      expect('data' in await feed.fill(5, true), 'the end message').to.equal(true);
      expect(bad).to.deep.equal([]);
      expect(feed.position).to.equal(5);
    });

    it('a broken frame followed, after a wait, by a good copy: the copy fills the slot and the broken one is counted', async () => {
      const reader = new GatedReader([header, images[0], broken(1), images[1], images[2], end], 3);
      const { feed, bad } = feedOf(reader);
      expect(feed.fill(0, false)).not.to.be.instanceOf(Promise);
      expect(frameOf(await feed.fill(1, false))).to.equal(0);
      const waiting = feed.fill(2, false);
      expect(waiting, 'whether a good copy follows is not known yet').to.be.instanceOf(Promise);
      reader.open();
      expect(frameOf(await waiting)).to.equal(1);
      expect(bad).to.have.length(1);
      expect(bad[0]).to.match(/STINS image message has 1 frames/);
      expect(frameOf(await feed.fill(3, false))).to.equal(2);
    });

    it('a broken frame followed, after a wait, by the next frame: its slot is missing with the reason, the next frame keeps its own', async () => {
      const reader = new GatedReader([header, images[0], broken(1), images[2], end], 3);
      const { feed, bad } = feedOf(reader);
      await feed.fill(0, false);
      await feed.fill(1, false);
      const waiting = feed.fill(2, false);
      reader.open();
      expect(frameOf(await waiting)).to.match(/STINS image message has 1 frames/);
      expect(frameOf(await feed.fill(3, false))).to.equal(2);
      expect(bad).to.deep.equal([]);
      expect(reader.waits).to.equal(1);
    });

    it('a broken last message before the upstream closes: the slot is missing with its reason, then the closure', async () => {
      const reader = new GatedReader([header, images[0], broken(1)], 3);
      const { feed } = feedOf(reader);
      await feed.fill(0, false);
      await feed.fill(1, false);
      expect(frameOf(await feed.fill(2, false))).to.match(/STINS image message has 1 frames/);
      expect(frameOf(await feed.fill(3, false))).to.equal('the upstream closed before the trigger map ended');
    });
  });
});
