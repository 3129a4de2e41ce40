import { expect } from 'chai';
import { EventQueue } from '../src/core/mapping/event-queue.js';

describe('mapping: EventQueue (a worker\'s unfinished events)', () => {
  it('keeps the unfinished events in order whatever order they finish in', () => {
    const queue = new EventQueue();
    for (const event of [3, 5, 8, 13, 21]) queue.push(event);
    expect(queue.size).to.equal(5);
    expect(queue.delete(8)).to.equal(true);
    expect(queue.delete(8), 'only once').to.equal(false);
    expect(queue.delete(4), 'never pushed').to.equal(false);
    expect(queue.delete(3)).to.equal(true);
    expect(queue.values()).to.deep.equal([5, 13, 21]);
    expect(queue.has(13) && !queue.has(8) && !queue.has(3)).to.equal(true);
    expect(queue.size).to.equal(3);
    queue.push(34);
    expect(queue.values()).to.deep.equal([5, 13, 21, 34]);
  });

  it('refuses an event that is not newer than the newest', () => {
    const queue = new EventQueue();
    queue.push(7);
    expect(() => queue.push(7)).to.throw(RangeError, 'event 7 is not newer than 7');
    expect(() => queue.push(2)).to.throw(RangeError);
  });

  it('matches a set under long random runs, including compaction', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const queue = new EventQueue();
    const reference = new Set<number>();
    let next = 0;
    for (let step = 0; step < 50_000; step++) {
      if (random() < 0.5 || reference.size === 0) {
        next += 1 + Math.floor(random() * 3);
        queue.push(next);
        reference.add(next);
      } else {
        // mostly the oldest, sometimes any, sometimes one already gone
        const choice = random();
        const oldest = reference.values().next().value!; // a Set iterates in insertion order: ascending
        const pick = choice < 0.7 ? oldest : choice < 0.94 ? [...reference][Math.floor(random() * reference.size)]! : next + 1;
        expect(queue.delete(pick)).to.equal(reference.delete(pick));
      }
      if (step % 997 === 0) expect(queue.values()).to.deep.equal([...reference].sort((a, b) => a - b));
      if (queue.size !== reference.size) expect.fail(`step ${step}: size ${queue.size}, expected ${reference.size}`);
    }
    queue.clear();
    expect(queue.size).to.equal(0);
    expect(queue.values()).to.deep.equal([]);
  });

  it('does not keep finished events while the oldest one stays unfinished', () => {
    const queue = new EventQueue();
    queue.push(0);
    for (let event = 1; event < 100_000; event++) {
      queue.push(event);
      queue.delete(event);
    }
    expect(queue.values()).to.deep.equal([0]);
    // reaches into the private storage: its bounded length is what this test is about
    expect((queue as unknown as { events: number[] }).events.length).to.be.below(5000);
  });
});
