import { expect } from 'chai';
import {
  Assigner, MappingError, TriggerSequence, checkAdmission,
  type Assignment, type WorkerSlot,
} from '../src/core/mapping/index.js';

const generic = (...names: string[]): WorkerSlot[] => names.map((name) => ({ name, tags: ['generic'] }));
const c = (constraint: number, tags?: string[]) => (tags ? { tags, constraint } : { constraint });
const ALL = [{}];

/** Workers of an assignment, over all streams. */
function workersOf(assignment: Assignment): string[] {
  return [...new Set(Object.values(assignment.streams).flat())].sort();
}

/**
 * Drives an Assigner like the controller does and checks on every step that no worker ever holds
 * more than `credit` unfinished events, and that the frontier moves in order.
 */
class Harness {
  readonly assigner: Assigner;
  readonly log: Assignment[] = [];
  readonly held = new Map<string, number[]>();

  constructor(readonly seq: TriggerSequence, readonly credit: number, workers: WorkerSlot[]) {
    this.assigner = new Assigner(seq, { credit });
    this.assigner.setWorkers(workers);
  }

  assign(): Assignment[] {
    const fresh = this.assigner.assign();
    for (const assignment of fresh) {
      expect(assignment.event).to.equal(this.log.length, 'events are assigned in order');
      this.log.push(assignment);
      for (const worker of workersOf(assignment)) this.held.set(worker, [...(this.held.get(worker) ?? []), assignment.event]);
    }
    for (const [worker, events] of this.held) {
      expect(events.length, `unfinished events of ${worker}`).to.be.at.most(this.credit);
      expect(this.assigner.outstanding(worker)).to.equal(events.length);
    }
    return fresh;
  }

  finish(worker: string, count = Infinity): number[] {
    const events = this.held.get(worker) ?? [];
    const done = events.splice(0, count);
    return this.assigner.complete(worker, done);
  }

  finishAll(): void {
    for (const worker of this.held.keys()) this.finish(worker);
  }

  /** Assigns and completes everything until the frontier stops moving. */
  run(): void {
    while (this.assign().length > 0 || [...this.held.values()].some((events) => events.length > 0)) this.finishAll();
  }

}

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectMappingError(build: () => unknown, detail: string | RegExp): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'a MappingError is thrown').to.be.instanceOf(MappingError);
  const message = (thrown as Error).message;
  if (typeof detail === 'string') expect(message).to.equal(detail);
  else expect(message).to.match(detail);
}

describe('mapping: TriggerSequence', () => {
  it('normalises virtual workers and wraps with reserved_start_end (GET /api/v1/sequence shape)', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[{}], [{ constraint: 3 }], null, [], [{ tags: ['b', 'a', 'b'], constraint: 0 }]] });
    expect(seq.toJSON()).to.deep.equal({
      parts: {
        main: {
          mapping: {
            eiger: [
              [{ tags: ['generic'], constraint: null }],
              [{ tags: ['generic'], constraint: 3 }],
              null,
              [],
              [{ tags: ['a', 'b'], constraint: 0 }],
            ],
          },
        },
        reserved_start_end: {
          mapping: { eiger: [[{ tags: ['a'], constraint: null }, { tags: ['b'], constraint: null }, { tags: ['generic'], constraint: null }]] },
        },
      },
      sequence: ['reserved_start_end', 'main', 'reserved_start_end'],
    });
    expect(Object.keys(seq.toJSON().parts)).to.deep.equal(['main', 'reserved_start_end']);
    expect(seq.totalEvents).to.equal(7);
  });

  it('without all_wrap plays only the user parts', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [c(1)]] }, { allWrap: false });
    expect(seq.toJSON().sequence).to.deep.equal(['main']);
    expect(Object.keys(seq.toJSON().parts)).to.deep.equal(['main']);
    expect(seq.totalEvents).to.equal(2);
  });

  it('wraps every stream of every part, and discards the wrap frames when no virtual worker exists', () => {
    const seq = TriggerSequence.fromSequenceRequest({
      parts: { a: { orca: [[c(0)]] }, b: { eiger: [[], null], pilatus: [null, []] } },
      sequence: ['a', 'b', 'a'],
    });
    expect(seq.streams).to.deep.equal(['eiger', 'orca', 'pilatus']);
    expect(seq.toJSON().parts.reserved_start_end!.mapping).to.deep.equal({
      eiger: [[{ tags: ['generic'], constraint: null }]],
      orca: [[{ tags: ['generic'], constraint: null }]],
      pilatus: [[{ tags: ['generic'], constraint: null }]],
    });
    expect(seq.totalEvents).to.equal(1 + 1 + 2 + 1 + 1);

    const bare = TriggerSequence.fromMappingRequest({ eiger: [[], null] });
    expect(bare.toJSON().parts.reserved_start_end!.mapping).to.deep.equal({ eiger: [[]] });
  });

  it('counts 980 parts of 1000 events without expanding them', () => {
    const main = { eiger: Array.from({ length: 1000 }, (_, i) => [c(Math.floor(i / 10))]) };
    const started = process.hrtime.bigint();
    const seq = TriggerSequence.fromSequenceRequest({ parts: { main }, sequence: Array(980).fill('main') });
    const millis = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      980x1000 sequence built in ${millis.toFixed(1)} ms`);
    expect(seq.totalEvents).to.equal(980 * 1000 + 2);
    expect(seq.sequence).to.have.length(982);
  });

  it('minWorkers is the max number of distinct constraints in one event, across streams and parts', () => {
    expect(TriggerSequence.fromMappingRequest({ a: [[c(1)], [c(1)]], b: [[c(1)], [c(2)]], low: [[c(1), c(3)], null] }).minWorkers()).to.equal(2);
    expect(TriggerSequence.fromSequenceRequest({
      parts: { x: { a: [[c(1), c(2), c(2)]] }, y: { a: [[c(5)]], b: [[c(6), c(7)]] } },
      sequence: ['x'],
    }).minWorkers()).to.equal(3);
    expect(TriggerSequence.fromMappingRequest({ a: [[{}], [], null] }).minWorkers()).to.equal(0);
    expect(TriggerSequence.uniform(['a', 'b'], 5).minWorkers()).to.equal(1);
  });

  it('requiredTags lists the tag sets of "all" slots and the tag union of each constraint', () => {
    const seq = TriggerSequence.fromMappingRequest({
      a: [[c(0)], [c(1, ['fast'])], [{ tags: ['debug'] }]],
      b: [[c(0)], [c(1, ['gpu'])], null],
    });
    expect(seq.requiredTags()).to.deep.equal([['debug'], ['fast', 'gpu'], ['generic']]);
  });

  it('uniform gives event i of every stream to constraint i', () => {
    const seq = TriggerSequence.uniform(['eiger', 'orca'], 3, { partName: 'sardana' });
    const vw = (constraint: number) => [{ tags: ['generic'], constraint }];
    expect(seq.toJSON()).to.deep.equal({
      parts: {
        sardana: { mapping: { eiger: [vw(0), vw(1), vw(2)], orca: [vw(0), vw(1), vw(2)] } },
        reserved_start_end: { mapping: { eiger: [[{ tags: ['generic'], constraint: null }]], orca: [[{ tags: ['generic'], constraint: null }]] } },
      },
      sequence: ['reserved_start_end', 'sardana', 'reserved_start_end'],
    });
    expect(TriggerSequence.uniform(['eiger'], 4, { allWrap: false }).toJSON().sequence).to.deep.equal(['main']);
  });

  describe('validation errors', () => {
    it('names the part, stream and index of a malformed entry', () => {
      expectMappingError(() => TriggerSequence.fromSequenceRequest({ parts: { scan: { eiger: [[c(0)], [{ constraint: 1.5 }]] } }, sequence: ['scan'] }),
        "invalid trigger map: part 'scan', stream 'eiger', entry 1, virtual worker 0, constraint: Invalid input: expected int, received number");
      expectMappingError(() => TriggerSequence.fromMappingRequest({ eiger: [null, 7] }),
        "invalid trigger map: part 'main', stream 'eiger', entry 1: Invalid input: expected array, received number");
      expectMappingError(() => TriggerSequence.fromMappingRequest({ eiger: [[{ tags: ['a', 3] }]] }),
        "invalid trigger map: part 'main', stream 'eiger', entry 0, virtual worker 0, tags[1]: Invalid input: expected string, received number");
    });

    it('rejects streams of unequal length within a part', () => {
      expectMappingError(() => TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [c(1)]], orca: [[c(0)]] }),
        "part 'main': streams have unequal numbers of events ('eiger': 2, 'orca': 1)");
    });

    it('rejects an unknown part in the sequence and an empty sequence', () => {
      expectMappingError(() => TriggerSequence.fromSequenceRequest({ parts: { a: { s: [[c(0)]] } }, sequence: ['a', 'b'] }),
        "sequence[1]: part 'b' is not defined in parts");
      expectMappingError(() => TriggerSequence.fromSequenceRequest({ parts: { a: { s: [[c(0)]] } }, sequence: [] }),
        'sequence is empty: it must name at least one part');
    });

    it('reserves the wrap part name only while all_wrap is on', () => {
      const body = { parts: { reserved_start_end: { s: [[{}]] } }, sequence: ['reserved_start_end'] };
      expectMappingError(() => TriggerSequence.fromSequenceRequest(body), "part name 'reserved_start_end' is reserved while all_wrap is on");
      expect(TriggerSequence.fromSequenceRequest(body, { allWrap: false }).totalEvents).to.equal(1);
    });

    it('refuses __proto__ as a name instead of dropping it', () => {
      expectMappingError(() => TriggerSequence.fromMappingRequest(JSON.parse('{"__proto__": [[{}]], "a": [[{}]]}')),
        "invalid trigger map: part 'main': stream name '__proto__' is not allowed");
    });

    it('rejects bad uniform arguments', () => {
      expectMappingError(() => TriggerSequence.uniform([], 3), /streams: Too small/);
      expectMappingError(() => TriggerSequence.uniform(['a'], -1), /nbPoints: Too small/);
      expectMappingError(() => TriggerSequence.uniform(['a'], 2.5), /nbPoints: Invalid input: expected int/);
    });

    it('turns any malformed body into a MappingError, never a TypeError', () => {
      const sequenceBodies: unknown[] = [
        null, undefined, 5, 'x', [], {}, { parts: null, sequence: [] }, { parts: {}, sequence: 'main' },
        { parts: { a: 5 }, sequence: ['a'] }, { parts: { a: { s: 5 } }, sequence: ['a'] },
        { parts: { a: { s: [5] } }, sequence: ['a'] }, { parts: { a: { s: [[5]] } }, sequence: ['a'] },
        { parts: { a: { s: [[null]] } }, sequence: ['a'] }, { parts: { a: { s: [[{ tags: 'x' }]] } }, sequence: ['a'] },
        { parts: { a: { s: [[{ constraint: '1' }]] } }, sequence: ['a'] }, { parts: { a: { s: [[c(1)]] } }, sequence: [1] },
        { parts: { a: { s: [[{ constraint: Number.NaN }]] } }, sequence: ['a'] },
        { parts: { a: { s: [[{ constraint: 2 ** 60 }]] } }, sequence: ['a'] },
      ];
      for (const body of sequenceBodies) {
        expectMappingError(() => TriggerSequence.fromSequenceRequest(body), /^(invalid trigger map|sequence)/);
      }
      for (const body of [null, 3, 'x', [[{}]], { s: 'x' }, { s: [{}] }, { s: [[[]]] }]) {
        expectMappingError(() => TriggerSequence.fromMappingRequest(body), /^invalid trigger map: part 'main'/);
      }
      expectMappingError(() => TriggerSequence.uniform('eiger' as unknown as string[], 3), /^invalid trigger map: streams/);
    });
  });
});

describe('mapping: checkAdmission', () => {
  const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [c(1)], [{ tags: ['debug'] }]], orca: [[c(0)], [c(2)], null] });

  it('accepts a map whose streams, worker count and tags are available', () => {
    expect(checkAdmission(seq, { streams: ['eiger', 'orca', 'extra'], workers: [...generic('w1', 'w2'), { name: 'd', tags: ['debug'] }] })).to.equal(null);
  });

  it('reports missing streams in Python set style', () => {
    expect(checkAdmission(seq, { streams: ['orca'], workers: generic('w1', 'w2') })).to.equal("streams {'eiger'} not available");
    expect(checkAdmission(seq, { streams: [], workers: generic('w1', 'w2') })).to.equal("streams {'eiger', 'orca'} not available");
  });

  it('reports too few workers', () => {
    expect(checkAdmission(seq, { streams: ['eiger', 'orca'], workers: [] })).to.equal('only 0 workers available, but 2 required');
    expect(checkAdmission(TriggerSequence.uniform(['eiger'], 2), { streams: ['eiger'], workers: [] }))
      .to.equal('only 0 workers available, but 1 required');
  });

  it('reports a tag set no worker has', () => {
    expect(checkAdmission(seq, { streams: ['eiger', 'orca'], workers: generic('w1', 'w2') })).to.equal("no worker with tags ['debug'] available");
    const gpu = TriggerSequence.fromMappingRequest({ a: [[c(0, ['gpu'])]], b: [[c(0, ['fast'])]] });
    expect(checkAdmission(gpu, { streams: ['a', 'b'], workers: [{ name: 'x', tags: ['gpu'] }, { name: 'y', tags: ['fast'] }] }))
      .to.equal("no worker with tags ['fast', 'gpu'] available");
  });
});

describe('mapping: Assigner', () => {
  it('reproduces the worked example: each constraint on one worker, start and end to both', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: Array.from({ length: 9 }, (_, i) => [c(Math.floor((i + 1) / 3))]) });
    expect(seq.totalEvents).to.equal(11);
    const h = new Harness(seq, 100, generic('w1', 'w2'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([
      ['w1', 'w2'], ['w1'], ['w1'], ['w2'], ['w2'], ['w2'], ['w1'], ['w1'], ['w1'], ['w2'], ['w1', 'w2'],
    ]);
    expect(h.assigner.assignedEvents).to.equal(11);
    expect(h.assigner.bindings(), 'wrap instances have no constraints').to.deep.equal([{}, { 0: 'w1', 1: 'w2', 2: 'w1', 3: 'w2' }, {}]);
  });

  it('hands events routed alike one shared streams record', () => {
    const seq = TriggerSequence.fromMappingRequest({
      eiger: Array.from({ length: 6 }, (_, i) => [c(Math.floor(i / 3))]),
      orca: Array.from({ length: 6 }, (_, i) => (i === 4 ? null : [c(Math.floor(i / 3))])),
    }, { allWrap: false });
    const h = new Harness(seq, 100, generic('w1', 'w2'));
    h.assign();
    const streams = h.log.map((x) => x.streams);
    expect(streams).to.deep.equal([
      { eiger: ['w1'], orca: ['w1'] }, { eiger: ['w1'], orca: ['w1'] }, { eiger: ['w1'], orca: ['w1'] },
      { eiger: ['w2'], orca: ['w2'] }, { eiger: ['w2'] }, { eiger: ['w2'], orca: ['w2'] },
    ]);
    const [a, b, d, e, f, g] = streams;
    expect(b).to.equal(a);
    expect(d).to.equal(a);
    expect(e, 'other lists').to.not.equal(d);
    expect(f, 'a stream less').to.not.equal(e);
    expect(g, 'that stream back: the record of the same lists').to.equal(e);
  });

  it('changes credit mid-scan: a worker holding more than the new credit gets nothing until it is below', () => {
    const assigner = new Assigner(TriggerSequence.uniform(['s'], 100, { allWrap: false }), { credit: 8 });
    assigner.setWorkers(generic('w1'));
    expect(assigner.assign()).to.have.length(8);
    assigner.setCredit(2);
    expect(assigner.assign()).to.have.length(0);
    assigner.complete('w1', [0, 1, 2, 3, 4, 5]);
    expect(assigner.assign(), 'still holding 2 of credit 2').to.have.length(0);
    assigner.complete('w1', [6]);
    expect(assigner.assign().map((a) => a.event)).to.deep.equal([8]);
    assigner.setCredit(5);
    expect(assigner.assign().map((a) => a.event)).to.deep.equal([9, 10, 11]);
    expect(() => assigner.setCredit(0)).to.throw(RangeError, /credit must be a positive integer/);
  });

  it('keeps the worked example grouping when credit is short', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: Array.from({ length: 9 }, (_, i) => [c(Math.floor((i + 1) / 3))]) });
    const h = new Harness(seq, 1, generic('w1', 'w2'));
    h.run();
    const constraintOf = [null, 0, 0, 1, 1, 1, 2, 2, 2, 3, null];
    const workerOf = new Map<number, string>();
    h.log.forEach((assignment, event) => {
      const constraint = constraintOf[event]!;
      if (constraint === null) return expect(assignment.streams.eiger).to.deep.equal(['w1', 'w2']);
      expect(assignment.streams.eiger).to.have.length(1);
      const worker = workerOf.get(constraint) ?? assignment.streams.eiger![0]!;
      workerOf.set(constraint, worker);
      expect(assignment.streams.eiger).to.deep.equal([worker], `event ${event} of constraint ${constraint}`);
    });
    expect(h.assigner.completedEvents).to.equal(11);
  });

  it('assigns the docs example with null, discard, "all" and multi-constraint entries', () => {
    const seq = TriggerSequence.fromMappingRequest({
      stream1: [ALL, [c(1)], [c(1)], [c(3)], [c(3)], [c(5)]],
      stream2: [ALL, [c(2)], [c(2)], [c(4)], [c(4)], [c(5)]],
      low: [ALL, [c(1), c(2)], [], [c(3), c(4)], [], [c(5)]],
      slow: [ALL, ALL, null, null, null, ALL],
    }, { allWrap: false });
    const h = new Harness(seq, 100, generic('w1', 'w2', 'w3'));
    h.assign();
    const all = ['w1', 'w2', 'w3'];
    expect(h.log.map((a) => a.streams)).to.deep.equal([
      { stream1: all, stream2: all, low: all, slow: all },
      { stream1: ['w1'], stream2: ['w2'], low: ['w1', 'w2'], slow: all },
      { stream1: ['w1'], stream2: ['w2'], low: [] },
      { stream1: ['w3'], stream2: ['w1'], low: ['w1', 'w3'] },
      { stream1: ['w3'], stream2: ['w1'], low: [] },
      { stream1: ['w2'], stream2: ['w2'], low: ['w2'], slow: all },
    ]);
  });

  it('completes events that involve no worker at once: null-only, discard-only, "all" without workers', () => {
    const seq = TriggerSequence.fromMappingRequest({
      eiger: [[c(0)], null, [], [{ tags: ['debug'] }], [c(0)]],
      orca: [[c(0)], null, null, [], null],
    }, { allWrap: false });
    const h = new Harness(seq, 100, generic('w1'));
    h.assign();
    expect(h.log.map((a) => a.streams)).to.deep.equal([
      { eiger: ['w1'], orca: ['w1'] }, {}, { eiger: [] }, { eiger: [], orca: [] }, { eiger: ['w1'] },
    ]);
    expect(h.assigner.completedEvents).to.equal(3);
    expect([0, 1, 2, 3, 4].map((event) => h.assigner.isComplete(event))).to.deep.equal([false, true, true, true, false]);
    expect(h.assigner.outstanding('w1')).to.equal(2);
    expect(h.finish('w1')).to.deep.equal([0, 4]);
    expect(h.assigner.completedEvents).to.equal(5);
  });

  it('sends wrap events to generic and debug workers, and a debug "all" only to debug workers', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [{ tags: ['debug'] }], [c(1)]] });
    const h = new Harness(seq, 100, [...generic('g1', 'g2'), { name: 'd1', tags: ['debug'] }]);
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['d1', 'g1', 'g2'], ['g1'], ['d1'], ['g2'], ['d1', 'g1', 'g2']]);
  });

  it('binds constraints afresh in every instance of a repeated part', () => {
    const seq = TriggerSequence.fromSequenceRequest({
      parts: { scan: { eiger: [[c(0)], [c(0)]] }, pause: { eiger: [null] } },
      sequence: ['scan', 'pause', 'scan', 'scan'],
    });
    const h = new Harness(seq, 100, generic('w1', 'w2'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger ?? null)).to.deep.equal([
      ['w1', 'w2'], ['w1'], ['w1'], null, ['w2'], ['w2'], ['w1'], ['w1'], ['w1', 'w2'],
    ]);
    expect(h.assigner.bindings(), 'instances with unfinished events').to.deep.equal([{}, { 0: 'w1' }, { 0: 'w2' }, { 0: 'w1' }, {}]);
    h.finishAll();
    expect(h.assigner.bindings(), 'finished instances are forgotten').to.deep.equal([]);
    expect(h.assigner.completedEvents).to.equal(seq.totalEvents);
  });

  it('walks 980 parts of 1000 events lazily', function () {
    this.timeout(120_000);
    const main = {
      eiger: Array.from({ length: 1000 }, (_, i) => [c(Math.floor(i / 10))]),
      orca: Array.from({ length: 1000 }, (_, i) => (i % 2 ? null : [c(Math.floor(i / 10))])),
    };
    const seq = TriggerSequence.fromSequenceRequest({ parts: { main }, sequence: Array(980).fill('main') });
    const assigner = new Assigner(seq, { credit: 16 });
    const workers = ['w1', 'w2', 'w3', 'w4'];
    assigner.setWorkers(generic(...workers));
    let maxInstances = 0;
    let maxBindings = 0;
    let maxOutstanding = 0;
    let expectedEvent = 0;
    let previousWorker = '';
    const mismatches: string[] = [];
    const heapBefore = process.memoryUsage().heapUsed;
    for (let fresh = assigner.assign(); fresh.length > 0; fresh = assigner.assign()) {
      const byWorker = new Map<string, number[]>(workers.map((w) => [w, []]));
      for (const { event, streams } of fresh) {
        if (event !== expectedEvent++) mismatches.push(`event ${event} out of order`);
        for (const w of new Set(Object.values(streams).flat())) byWorker.get(w)!.push(event);
        if (event === 0 || event === seq.totalEvents - 1) continue;
        const local = (event - 1) % 1000;
        // the 10 events of a constraint, and both streams of an event, on one worker
        const [worker, ...others] = streams.eiger!;
        if (others.length > 0) mismatches.push(`event ${event}: eiger to ${streams.eiger}`);
        if (local % 10 !== 0 && worker !== previousWorker) mismatches.push(`event ${event}: ${worker}, not ${previousWorker}`);
        if (local % 2 === 0 ? streams.orca?.join() !== worker : 'orca' in streams) mismatches.push(`event ${event}: orca ${streams.orca}`);
        previousWorker = worker!;
      }
      const bindings = assigner.bindings();
      maxInstances = Math.max(maxInstances, bindings.length);
      maxBindings = Math.max(maxBindings, ...bindings.map((b) => Object.keys(b).length));
      for (const [worker, events] of byWorker) {
        maxOutstanding = Math.max(maxOutstanding, assigner.outstanding(worker));
        assigner.complete(worker, events);
      }
    }
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(`      walked ${seq.totalEvents} events: at most ${maxInstances} active instances, ${maxBindings} bindings, ${maxOutstanding} unfinished per worker; heap +${heapGrowthMb.toFixed(1)} MB`);
    expect(mismatches.slice(0, 5)).to.deep.equal([]);
    expect(assigner.assignedEvents).to.equal(980_002);
    expect(assigner.completedEvents).to.equal(980_002);
    expect(maxInstances).to.be.at.most(2);
    expect(maxBindings).to.be.at.most(100);
    expect(maxOutstanding).to.equal(16);
    expect(assigner.blockedReason()).to.equal(null);
  });

  it('never lets a worker exceed its credit (random completions, mixed map)', () => {
    const random = prng(7);
    const part = (length: number) => ({
      a: Array.from({ length }, (_, i) => (i % 7 === 3 ? ALL : [c(Math.floor(i / 3))])),
      b: Array.from({ length }, (_, i) => (i % 5 === 0 ? null : [c(Math.floor(i / 3)), c(100 + (i % 4))])),
      low: Array.from({ length }, (_, i) => (i % 4 === 0 ? [] : i % 11 === 0 ? [{ tags: ['debug'] }] : null)),
    });
    const seq = TriggerSequence.fromSequenceRequest({ parts: { p: part(50), q: part(23) }, sequence: ['p', 'q', 'p', 'q', 'q'] });
    const workers = [...generic('w1', 'w2', 'w3', 'w4'), { name: 'd', tags: ['debug', 'generic'] }];
    for (const credit of [1, 2, 5]) {
      const h = new Harness(seq, credit, workers);
      let rounds = 0;
      while (h.assigner.completedEvents < seq.totalEvents) {
        expect(++rounds, `credit ${credit}: no progress`).to.be.below(10_000);
        h.assign(); // checks the credit of every worker
        for (const worker of h.held.keys()) h.finish(worker, Math.floor(random() * 3));
      }
      expect(h.log).to.have.length(seq.totalEvents);
      // within each part instance a constraint stays on one worker: the worker sets of all the
      // entries naming it share a member (entries naming only it pin that member down)
      const starts = [0, 1, 51, 74, 124, 147, 170];
      const parts = seq.toJSON().parts;
      const common = new Map<string, string[]>();
      h.log.forEach((assignment, event) => {
        const instance = starts.filter((start) => start <= event).length - 1;
        const local = event - starts[instance]!;
        for (const [stream, entries] of Object.entries(parts[seq.sequence[instance]!]!.mapping)) {
          const entry = entries[local]!;
          if (entry === null) expect(assignment.streams).to.not.have.property(stream);
          for (const vw of entry ?? []) {
            if (vw.constraint === null) continue;
            const key = `${instance}:${vw.constraint}`;
            const sent = assignment.streams[stream]!;
            common.set(key, (common.get(key) ?? sent).filter((w) => sent.includes(w)));
          }
        }
      });
      expect(common.size, 'constraints checked').to.be.above(50);
      for (const [key, workers] of common) expect(workers, `constraint ${key}`).to.not.be.empty;
    }
  });

  it('spreads new constraints round-robin: fewest unfinished first, then the least recently bound', () => {
    const seq = TriggerSequence.uniform(['eiger'], 8, { allWrap: false });
    const h = new Harness(seq, 1, generic('w1', 'w2', 'w3'));
    const order = () => h.log.map((a) => a.streams.eiger![0]);
    h.assign();
    expect(order()).to.deep.equal(['w1', 'w2', 'w3']);
    h.finish('w1');
    h.finish('w3');
    h.assign();
    expect(order()).to.deep.equal(['w1', 'w2', 'w3', 'w1', 'w3']);
    h.finishAll();
    h.assign();
    // all free: w2 was bound longest ago, although w1 registered first
    expect(order()).to.deep.equal(['w1', 'w2', 'w3', 'w1', 'w3', 'w2', 'w1', 'w3']);

    const wide = new Harness(TriggerSequence.uniform(['eiger'], 30), 100, generic('a', 'b', 'c'));
    wide.assign();
    expect(['a', 'b', 'c'].map((w) => wide.assigner.outstanding(w))).to.deep.equal([12, 12, 12]);
  });

  it('waits for the credit of a bound worker and says so', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [c(0)], [c(0)], [c(1)]] });
    const h = new Harness(seq, 2, generic('w1', 'w2'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['w1', 'w2'], ['w1']]);
    expect(h.assigner.blockedReason()).to.equal("event 2: waiting for credit of worker 'w1' (2 unfinished events)");
    h.finish('w2');
    expect(h.assign(), 'w2 is free but constraint 0 belongs to w1').to.deep.equal([]);
    expect(h.finish('w1', 1)).to.deep.equal([0]);
    expect(h.assign().map((a) => a.streams.eiger)).to.deep.equal([['w1']]);
    h.finishAll();
    h.assign();
    expect(h.assigner.assignedEvents).to.equal(6);
    expect(h.assigner.blockedReason()).to.equal(null);
  });

  it('reports a constraint no registered worker can take', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0, ['debug'])]] });
    const h = new Harness(seq, 4, generic('w1'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger), 'the wrap event has no debug worker to go to').to.deep.equal([[]]);
    expect(h.assigner.blockedReason()).to.equal("event 1: no worker with tags ['debug'] for constraint 0 of part 'main'");
    h.assigner.setWorkers([...generic('w1'), { name: 'd', tags: ['debug'] }]);
    expect(h.assign().map((a) => a.streams.eiger)).to.deep.equal([['d'], ['d']]);

    const busy = new Harness(TriggerSequence.uniform(['eiger'], 3, { allWrap: false }), 1, generic('w1'));
    busy.assign();
    expect(busy.assigner.blockedReason()).to.equal("event 1: waiting for credit of any worker with tags ['generic'] for constraint 1 of part 'main'");
  });

  it('dropWorker releases bindings, completes the events waiting only on it and returns its lost events', () => {
    const seq = TriggerSequence.fromMappingRequest({ eiger: [[c(0)], [c(0)], [c(0)], [c(0)]] });
    const h = new Harness(seq, 2, generic('w1', 'w2'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['w1', 'w2'], ['w1']]);
    h.finish('w2');
    expect(h.assigner.completedEvents).to.equal(0);
    expect(h.assigner.bindings()).to.deep.equal([{}, { 0: 'w1' }]);

    expect(h.assigner.dropWorker('w1')).to.deep.equal([0, 1]);
    h.held.delete('w1');
    expect(h.assigner.completedEvents).to.equal(2);
    expect(h.assigner.isComplete(0) && h.assigner.isComplete(1)).to.equal(true);
    expect(h.assigner.bindings()).to.deep.equal([{}]);
    expect(h.assigner.complete('w1', [0, 1]), 'a late report of the dropped worker changes nothing').to.deep.equal([]);

    h.assign();
    expect(h.log.slice(2).map((a) => a.streams.eiger)).to.deep.equal([['w2'], ['w2']]);
    expect(h.assigner.bindings()).to.deep.equal([{ 0: 'w2' }]);
    h.run();
    expect(h.log.at(-1)!.streams.eiger, 'the end event goes to the survivors only').to.deep.equal(['w2']);
    expect(h.assigner.completedEvents).to.equal(6);
  });

  it('setWorkers drops departed workers (dropWorker then returns their lost events) and uses new ones at once', () => {
    const seq = TriggerSequence.uniform(['eiger'], 4);
    const h = new Harness(seq, 2, generic('w1'));
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['w1'], ['w1']]);

    expect(h.assigner.setWorkers(generic('w1', 'w2'))).to.deep.equal([]);
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['w1'], ['w1'], ['w2'], ['w2']]);

    expect(h.assigner.setWorkers(generic('w2', 'w3'))).to.deep.equal(['w1']);
    h.held.delete('w1');
    expect(h.assigner.completedEvents, 'events 0 and 1 waited only on w1').to.equal(2);
    expect(h.assigner.dropWorker('w1')).to.deep.equal([0, 1]);
    expect(h.assigner.dropWorker('w1'), 'reported once').to.deep.equal([]);
    h.assign();
    expect(h.log.map((a) => a.streams.eiger)).to.deep.equal([['w1'], ['w1'], ['w2'], ['w2'], ['w3']]);
    h.run();
    expect(h.log.at(-1)!.streams.eiger).to.deep.equal(['w2', 'w3']);
    expect(() => h.assigner.setWorkers(generic('w2', 'w2'))).to.throw("worker 'w2' is listed twice");
    expect(() => new Assigner(seq, { credit: 0 })).to.throw(RangeError, 'credit must be a positive integer, got 0');
  });

  it('assigns a uniform single-stream map at speed (measured, not asserted)', function () {
    this.timeout(120_000);
    const points = 1_000_000;
    const seq = TriggerSequence.uniform(['eiger'], points);
    const workers = ['w1', 'w2', 'w3', 'w4'];
    const received = new Map(workers.map((w) => [w, 0]));
    // credit for 1000 events per worker: assign() never waits for a slow worker
    const assigner = new Assigner(seq, { credit: 1000 });
    assigner.setWorkers(generic(...workers));
    let assignNs = 0n;
    let completeNs = 0n;
    let completed = 0;
    for (;;) {
      const assignStart = process.hrtime.bigint();
      const batch = assigner.assign();
      assignNs += process.hrtime.bigint() - assignStart;
      if (batch.length === 0) break;
      const byWorker = new Map<string, number[]>(workers.map((w) => [w, []]));
      for (const { event, streams } of batch) for (const w of streams.eiger!) byWorker.get(w)!.push(event);
      const completeStart = process.hrtime.bigint();
      for (const [worker, events] of byWorker) completed += assigner.complete(worker, events).length;
      completeNs += process.hrtime.bigint() - completeStart;
      for (const [worker, events] of byWorker) received.set(worker, received.get(worker)! + events.length);
    }
    const rate = (events: number, ns: bigint) => (events / (Number(ns) / 1e9) / 1e6).toFixed(2);
    console.log(`      ${points + 2} events: assign ${rate(points + 2, assignNs)} M events/s, complete ${rate(completed, completeNs)} M events/s`);
    expect(assigner.assignedEvents).to.equal(points + 2);
    expect(completed).to.equal(points + 2);
    expect([...received.values()]).to.deep.equal([250_002, 250_002, 250_002, 250_002]);
  });
});
