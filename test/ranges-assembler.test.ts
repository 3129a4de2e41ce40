import { expect } from 'chai';
import { eventList, forEachEvent, lastOf, RangesBuilder, toRanges } from '../src/core/ranges.js';
import { EventAssembler } from '../src/worker/assembler.js';

const frame = (text: string) => ({ typ: 'STINS', frames: [Buffer.from(text)] });

describe('event ranges', () => {
  it('turns events in any order, with duplicates, into runs, and back', () => {
    expect(toRanges([5, 6, 7, 9, 10])).to.deep.equal([5, 3, 9, 2]);
    const shuffled = [10, 5, 7, 6, 9, 7];
    expect(toRanges(shuffled)).to.deep.equal([5, 3, 9, 2]);
    expect(shuffled, 'the input is left as it was').to.deep.equal([10, 5, 7, 6, 9, 7]);
    expect(toRanges(new Set([3, 1, 2]))).to.deep.equal([1, 3]);
    expect(toRanges([])).to.deep.equal([]);
    expect(eventList([5, 3, 9, 2])).to.deep.equal([5, 6, 7, 9, 10]);
  });

  it('gathers events one at a time into the runs toRanges makes of them, whatever their order', () => {
    const builder = new RangesBuilder();
    expect(builder.isEmpty).to.equal(true);
    for (const event of [4, 5, 6, 10, 11]) builder.add(event);
    expect(builder.take()).to.deep.equal([4, 3, 10, 2]);
    expect(builder.isEmpty, 'taking empties it').to.equal(true);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 50; round++) {
      // bursts of consecutive events, as workers end them, interleaved and now and then repeated
      const events: number[] = [];
      for (let burst = 0; burst < 20; burst++) {
        const first = Math.floor(random() * 200);
        for (let e = first; e < first + Math.floor(random() * 12); e++) events.push(e);
      }
      for (const event of events) builder.add(event);
      expect(builder.take()).to.deep.equal(toRanges(events));
    }
  });

  it('walks the events of runs in their order', () => {
    const seen: number[] = [];
    forEachEvent([7, 2, 1, 3, 5, 0], (event) => seen.push(event));
    expect(seen).to.deep.equal([7, 8, 1, 2, 3]);
  });

  it('finds the highest event of runs in any order; none in empty runs', () => {
    expect(lastOf([9, 2, 5, 3])).to.equal(10);
    expect(lastOf([4, 0])).to.equal(-Infinity);
    expect(lastOf([])).to.equal(-Infinity);
  });
});

describe('worker: EventAssembler', () => {
  it('hands out events in the order first seen, each once complete; a whole event as it came', () => {
    const assembler = new EventAssembler();
    assembler.add(1, { a: frame('1a') }, ['a', 'b'], undefined);
    const whole = { a: frame('2a') };
    assembler.add(2, whole, undefined, undefined);
    expect(assembler.takeReady(), 'event 1 waits for stream b, and event 2 behind it').to.equal(undefined);
    assembler.add(1, { b: frame('1b'), a: frame('again') }, ['a', 'b'], undefined);
    const first = assembler.takeReady()!;
    expect(first.eventNumber).to.equal(1);
    expect(Object.keys(first.streams).sort()).to.deep.equal(['a', 'b']);
    expect(first.streams.a.frames[0].toString(), 'the first copy of a stream is kept').to.equal('1a');
    expect(first.missing).to.equal(undefined);
    const second = assembler.takeReady()!;
    expect(second.streams).to.equal(whole);
    expect(assembler.takeReady()).to.equal(undefined);
  });

  it('completes an event with streams known to be missing, and ignores what arrives again for an event seen whole', () => {
    const assembler = new EventAssembler();
    assembler.add(7, { a: frame('7a') }, undefined, undefined);
    assembler.add(7, { a: frame('7a again') }, undefined, undefined);
    expect(assembler.takeReady()!.streams.a.frames[0].toString()).to.equal('7a');
    assembler.add(7, { a: frame('7a once more') }, undefined, undefined);
    assembler.add(8, { a: frame('8a') }, ['a', 'b', 'c'], { b: 'lost upstream' });
    expect(assembler.takeReady(), 'c is neither here nor missing').to.equal(undefined);
    assembler.add(8, {}, ['a', 'b', 'c'], { c: 'no frame', a: 'arrived after all' });
    const ready = assembler.takeReady()!;
    expect(ready.eventNumber).to.equal(8);
    expect(ready.missing, 'a stream that came is not missing').to.deep.equal({ b: 'lost upstream', c: 'no frame' });
    expect(assembler.waiting).to.equal(0);
    expect(assembler.takeReady()).to.equal(undefined);
  });

  it('keeps events behind one that waits, in order, over a long queue; forgets every event at a new scan', () => {
    const assembler = new EventAssembler();
    assembler.add(0, { a: frame('0a') }, ['a', 'b'], undefined);
    for (let event = 1; event < 5000; event++) assembler.add(event, { a: frame(`${event}a`) }, undefined, undefined);
    expect(assembler.takeReady()).to.equal(undefined);
    expect(assembler.waiting).to.equal(5000);
    assembler.add(0, { b: frame('0b') }, ['a', 'b'], undefined);
    const taken: number[] = [];
    for (let event = assembler.takeReady(); event; event = assembler.takeReady()) {
      taken.push(event.eventNumber);
      // more arrive while the backlog is taken, as they do from a socket
      if (event.eventNumber % 1000 === 999) assembler.add(event.eventNumber + 5001, { a: frame('late') }, undefined, undefined);
    }
    expect(taken).to.deep.equal([...Array.from({ length: 5000 }, (_, i) => i), 6000, 7000, 8000, 9000, 10000]);
    assembler.reset();
    assembler.add(3, { a: frame('3a, next scan') }, undefined, undefined);
    expect(assembler.takeReady()!.eventNumber).to.equal(3);
  });
});
