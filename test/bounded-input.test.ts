/**
 * Bounded work per input, in-process: compact trigger maps (generated parts, run-length encoded
 * sequences, the stored form read back), bounded parameter parsing and JSON depth, confined and
 * size-limited dumps.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Assigner, MappingError, TriggerSequence } from '../src/core/mapping/index.js';
import { parseParameter, ParameterValueError } from '../src/core/parameters.js';
import { checkJsonDepth } from '../src/core/http/body.js';
import { HttpError } from '../src/core/http/errors.js';
import { MAP_LIMITS, MAX_JSON_DEPTH } from '../src/core/defaults.js';
import { DumpPathError, checkDumpPrefix, dumpFilePath, openableDumpPath } from '../src/core/dump-path.js';
import { ScanDumper } from '../src/ingester/dumper.js';
import { readDump } from '../src/core/capture/index.js';

const generic = (...names: string[]) => names.map((name) => ({ name, tags: ['generic'] }));

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was thrown');
}

/** the map read back from the form Redis keeps */
const restored = (seq: TriggerSequence) => TriggerSequence.fromCompact(JSON.parse(seq.compactJson()));

describe('bounded input: compact trigger maps', () => {
  const explicit = TriggerSequence.fromSequenceRequest({
    parts: {
      scan: { eiger: [[{}], [{ constraint: 3 }], null, [], [{ tags: ['b', 'a'], constraint: 0 }, { constraint: 3 }]], orca: [null, [{ constraint: 3 }], [{}], null, [{ tags: ['debug'] }]] },
      pause: { eiger: [null] },
    },
    sequence: ['scan', 'scan', { part: 'pause', repeat: 2 }, 'pause', 'scan'],
  });

  it('keeps a run of one part as {part, repeat}, and writes the runs out on GET', () => {
    const compact = JSON.parse(explicit.compactJson());
    expect(compact.sequence).to.deep.equal(['reserved_start_end', { part: 'scan', repeat: 2 }, { part: 'pause', repeat: 3 }, 'scan', 'reserved_start_end']);
    expect(explicit.toJSON().sequence).to.deep.equal(['reserved_start_end', 'scan', 'scan', 'pause', 'pause', 'pause', 'scan', 'reserved_start_end']);
    expect(explicit.totalEvents).to.equal(1 + 5 + 5 + 3 + 5 + 1);
    expect(compact.parts.scan).to.deep.equal(explicit.toJSON().parts.scan, 'an explicit part is stored in the GET shape');
  });

  it('reads back what it stores: explicit, uniform and unwrapped maps, and the old expanded form', () => {
    const maps = [explicit, TriggerSequence.uniform(['eiger', 'orca'], 7, { partName: 'sardana' }),
      TriggerSequence.fromMappingRequest({ a: [[{ constraint: 2 }], null] }, { allWrap: false })];
    for (const seq of maps) {
      const back = restored(seq);
      expect(back.toJSON()).to.deep.equal(seq.toJSON());
      expect(back.compactJson()).to.equal(seq.compactJson());
      expect([back.totalEvents, back.minWorkers(), back.requiredTags(), back.streams]).to.deep.equal([seq.totalEvents, seq.minWorkers(), seq.requiredTags(), seq.streams]);
      // a controller of an earlier version stored the GET shape: it is a compact form too
      expect(TriggerSequence.fromCompact(seq.toJSON()).toJSON()).to.deep.equal(seq.toJSON());
    }
    expect(thrown(() => TriggerSequence.fromCompact({ parts: { a: { uniform: { streams: [], events: 3, tags: [] } } }, sequence: ['a'] })))
      .to.be.instanceOf(MappingError);
  });

  it('stores runs of entries as runs: a regular million-entry part in a few bytes, any part read back as it was', () => {
    const regular = TriggerSequence.fromMappingRequest({
      eiger: Array.from({ length: 1_000_000 }, (_, i) => [{ constraint: Math.floor(i / 10) }]),
      orca: Array.from({ length: 1_000_000 }, (_, i) => (i < 500_000 ? null : [{ tags: ['fast'], constraint: i }])),
    });
    const stored = JSON.parse(regular.compactJson());
    expect(stored.parts.main.mapping).to.deep.equal({
      eiger: [{ ramp: { count: 1_000_000, first: 0, every: 10, tags: ['generic'] } }],
      orca: [{ repeat: 500_000, entry: null }, { ramp: { count: 500_000, first: 500_000, every: 1, tags: ['fast'] } }],
    });
    const back = restored(regular);
    for (const local of [0, 9, 10, 499_999, 500_000, 999_999]) {
      for (const s of [0, 1]) expect(back.partAt(1).entry(s, local), `${s} ${local}`).to.deep.equal(regular.partAt(1).entry(s, local));
    }
    // irregular parts: random blocks, gaps, steps back, other tags, "all" and multi-worker entries
    let state = 11;
    const random = (n: number) => { state = (state * 1103515245 + 12345) % 2 ** 31; return state % n; };
    for (let round = 0; round < 20; round++) {
      const list = (): unknown[] => {
        const out: unknown[] = [];
        let constraint = random(5);
        while (out.length < 60) {
          const kind = random(8);
          const block = 1 + random(4);
          for (let i = 0; i < block; i++) {
            out.push(kind === 0 ? null : kind === 1 ? [] : kind === 2 ? [{}] : kind === 3 ? [{ constraint }, { constraint: constraint + 1 }]
              : [{ tags: kind === 4 ? ['x'] : ['generic'], constraint }]);
          }
          constraint += random(4) === 0 ? -1 : 1;
        }
        return out.slice(0, 60);
      };
      const seq = TriggerSequence.fromMappingRequest({ a: list(), b: list() });
      expect(restored(seq).toJSON(), `round ${round}`).to.deep.equal(seq.toJSON());
    }
  });

  it('a uniform map of the points limit costs O(1): a tiny stored form, entries computed when read, no heap per point', () => {
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const seq = TriggerSequence.uniform(['eiger', 'orca'], MAP_LIMITS.pointsPerScan, { partName: 'sardana' });
    const assigner = new Assigner(seq, { credit: 4 });
    assigner.setWorkers(generic('w1', 'w2'));
    const first = assigner.assign();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(heapMb, 'heap MB for a map of 10M points').to.be.below(20);
    expect(seq.totalEvents).to.equal(MAP_LIMITS.pointsPerScan + 2);
    expect(seq.compactJson().length).to.be.below(500);
    expect(first.map((a) => a.streams)).to.deep.equal([
      { eiger: ['w1', 'w2'], orca: ['w1', 'w2'] }, { eiger: ['w1'], orca: ['w1'] }, { eiger: ['w2'], orca: ['w2'] },
      { eiger: ['w1'], orca: ['w1'] }, { eiger: ['w2'], orca: ['w2'] }, { eiger: ['w1'], orca: ['w1'] }, { eiger: ['w2'], orca: ['w2'] },
    ]);
    const part = seq.partAt(1);
    expect(part.entry(1, 9_999_999)).to.deep.equal([{ tags: part.constraintTagsOf(9_999_999), constraint: 9_999_999, slot: 9_999_999 }]);
    expect([seq.minWorkers(), seq.requiredTags()]).to.deep.equal([1, [['generic']]]);
  });

  it('writes the GET shape in pieces of bounded size', () => {
    const chunks = [...TriggerSequence.uniform(['eiger'], 20_000).jsonChunks()];
    expect(chunks.length).to.be.above(5);
    expect(Math.max(...chunks.map((c) => c.length))).to.be.below(70_000);
    const json = JSON.parse(chunks.join(''));
    expect(json.parts.main.mapping.eiger[19_999]).to.deep.equal([{ tags: ['generic'], constraint: 19_999 }]);
  });

  it('skips instances of parts without events instead of walking them one by one', () => {
    const seq = TriggerSequence.fromSequenceRequest({
      parts: { empty: { eiger: [] }, one: { eiger: [[{ constraint: 0 }]] } },
      sequence: [{ part: 'empty', repeat: MAP_LIMITS.sequenceLength - 3 }, 'one'],
    });
    expect(seq.playedLength).to.equal(3);
    const assigner = new Assigner(seq, { credit: 10 });
    assigner.setWorkers(generic('w1'));
    expect(assigner.assign().map((a) => a.event)).to.deep.equal([0, 1, 2]);
    expect(JSON.parse(seq.compactJson()).sequence).to.deep.equal(['reserved_start_end', { part: 'empty', repeat: MAP_LIMITS.sequenceLength - 3 }, 'one', 'reserved_start_end']);
  });

  it('holds a posted million-entry part in typed arrays and checks it without zod', () => {
    const body = { eiger: Array.from({ length: 1_000_000 }, (_, i) => [{ constraint: Math.floor(i / 10) }]) };
    const started = process.hrtime.bigint();
    const seq = TriggerSequence.fromMappingRequest(body);
    console.log(`      1M-entry part checked and built in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
    expect([seq.totalEvents, seq.minWorkers()]).to.deep.equal([1_000_002, 1]);
    expect(seq.partAt(1).entry(0, 999_999)![0]!.constraint).to.equal(99_999);
    expect(seq.partAt(1).constraintCount).to.equal(100_000);
  });

  it('names the cap a map passes, and the first wrong node as zod describes it', () => {
    expect(thrown(() => TriggerSequence.uniform(['a'], MAP_LIMITS.pointsPerScan + 1)).message).to.match(/the limit of points per scan/);
    expect(thrown(() => TriggerSequence.fromSequenceRequest({ parts: { a: { s: [[{}]] } }, sequence: [{ part: 'a', repeat: 0 }] })).message)
      .to.match(/^invalid trigger map: sequence\[0\]/);
    expect(thrown(() => TriggerSequence.fromSequenceRequest({ parts: { a: { s: [[{}]] } }, sequence: [{ part: 'a', repeat: 2, x: 1 }] })).message)
      .to.match(/^invalid trigger map: sequence\[0\]/);
    expect(thrown(() => TriggerSequence.fromMappingRequest({ s: [null, [{}], [{ tags: [1] }]] })).message)
      .to.equal("invalid trigger map: part 'main', stream 's', entry 2, virtual worker 0, tags[0]: Invalid input: expected string, received number");
  });
});

describe('bounded input: large map bodies read in pieces', () => {
  /** what a body becomes, read in pieces and by JSON.parse as a whole: the map's JSON or the refusal */
  function bothWays(text: string, kind: 'sequence' | 'mapping'): [string, string] {
    const body = Buffer.from(text);
    expect(body.length, 'large enough to be read in pieces').to.be.at.least(1 << 20);
    const outcome = (build: () => TriggerSequence) => {
      try {
        return build().compactJson();
      } catch (error) {
        expect(error).to.be.instanceOf(MappingError);
        // JSON.parse's own words differ between the whole body and a piece of it
        return (error as Error).message.replace(/^(body is not JSON):.*/s, '$1');
      }
    };
    const whole = () => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new MappingError(`body is not JSON: ${(error as Error).message}`);
      }
      return kind === 'sequence' ? TriggerSequence.fromSequenceRequest(json) : TriggerSequence.fromMappingRequest(json);
    };
    return [outcome(() => (kind === 'sequence' ? TriggerSequence.fromSequenceBody(body) : TriggerSequence.fromMappingBody(body))), outcome(whole)];
  }

  const entries = (count: number, entry: (i: number) => string) => Array.from({ length: count }, (_, i) => entry(i)).join(',');
  const big = entries(60_000, (i) => `[{"constraint":${i}}]`);

  it('reads what JSON.parse reads, and refuses what it refuses, with the same texts', () => {
    const mappings = [
      `{"eiger":[${big}]}`,
      `{ "eiger" :\r\n\t[ ${big} ] , "orca":[${entries(60_000, (i) => (i % 3 ? 'null' : '[{"tags":["a,]\\"[","b"],"constraint":1,"x":{"y":[1,{"z":"]"}]}}]'))}]}`,
      `{"\\u0065iger":[${big}]}`,
      `{"eiger":[${big}],"eiger":[${big.replace('"constraint":5}', '"constraint":5.5}')}]}`,
      `{"eiger":[${big}],"orca":[${big},[{}]]}`,
      `{"eiger":[${big.replace('[{"constraint":700}]', '[{"constraint":700},7]')}]}`,
      `{"eiger":[${big.replace('[{"constraint":59999}]', '[{"tags":[3],"constraint":59999}]')}]}`,
      `{"eiger":[${big}],"orca":[${entries(60_000, (i) => [
        '[{"tags": ["a"], "constraint": 3}]', '[ { "constraint" : -0 , "tags" : [ "b" , "a" ] } ]', '[{"constraint": null}]', '[{"tags":[]}]',
        '[{"constraint":1e3}]', '[{"constraint":2.0}]', `[{"constraint":${2 ** 53 + 2}}]`, '[{"constraint":123456789012345}]',
        '[{"constraint":1,"constraint":2}]', '[{"tags":["\\u0061"],"constraint":4}]', '[{"tags":["é"],"x":1}]', '[{},{"constraint":5}]',
        '[{"tags":["a","b"]}]', '[{"tags":["a","b"],"constraint":6}]', '[{"tags":["a"]}]',
      ][i % 15]!)}]}`,
      `{"eiger":[${big.replace('[{"constraint":7}]', '[{"constraint":07}]')}]}`,
      `{"eiger":[${big.replace('[{"constraint":7}]', '[{"constraint":-}]')}]}`,
      `{"eiger":[${big.replace('[{"constraint":7}]', '[{"constraint":nul}]')}]}`,
      `{"eiger":[${big.replace('[{"constraint":7}]', '[{"tags":["a\tb"],"constraint":7}]')}]}`,
      `{"__proto__":[${big}]}`,
      `{"eiger":[${big},]}`, `{"eiger":[${big.replace('},{', '} {')}]}`, `{"eiger":[${big}]`, `{"eiger":[${big}]} x`,
      `{"eiger":[${big.replace('null', 'nul')}],"orca":[nul]}`, `{"eig\\xer":[${big}]}`, `["eiger",[${big}]]`, `  {"eiger":[${big}]}  `,
    ];
    for (const text of mappings) {
      const [pieces, whole] = bothWays(text, 'mapping');
      expect(pieces, text.slice(0, 80)).to.equal(whole);
    }
    const sequences = [
      `{"parts":{"a":{"eiger":[${big}]},"b":{"orca":[[],null]}},"sequence":["a",{"part":"b","repeat":3}],"extra":{"k":[1,2]}}`,
      `{"sequence":["a"],"parts":{"a":{"eiger":[${big}],"orca":[${big.replace(/"constraint"/g, '"tags":["g"],"constraint"')}]}}}`,
      `{"parts":{"a":{"eiger":[${big}]}},"sequence":[{"part":"a","repeat":0}]}`,
      `{"parts":{"a":{"eiger":{"k":[${big}]}}},"sequence":["a"]}`,
      `{"parts":{"a":{"eiger":[${big.replace('[{"constraint":30000}]', '{}')}]}},"sequence":["a"]}`,
    ];
    for (const text of sequences) {
      const [pieces, whole] = bothWays(text, 'sequence');
      expect(pieces, text.slice(0, 80)).to.equal(whole);
    }
  });

  it('builds a million-entry part from its body without the whole tree in memory', () => {
    const body = Buffer.from(`{"eiger":[${entries(1_000_000, (i) => `[{"constraint":${i}}]`)}]}`);
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = 0;
    const started = process.hrtime.bigint();
    const seq = TriggerSequence.fromMappingBody(body);
    const millis = Number(process.hrtime.bigint() - started) / 1e6;
    peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
    console.log(`      ${(body.length / 2 ** 20).toFixed(0)} MB body read in pieces and built in ${millis.toFixed(0)} ms, heap +${(peak / 2 ** 20).toFixed(0)} MB after`);
    expect(seq.totalEvents).to.equal(1_000_002);
    expect(seq.partAt(1).entry(0, 765_432)![0]!.constraint).to.equal(765_432);
  });
});

describe('bounded input: parameters and JSON', () => {
  it('refuses number texts beyond the limit before parsing them', () => {
    const digits = Buffer.alloc(50 * 2 ** 20, '9');
    for (const dtype of ['int', 'float', 'bool'] as const) {
      expect(thrown(() => parseParameter(dtype, digits))).to.be.instanceOf(ParameterValueError).with.property('message').that.matches(/at most 1000 bytes/);
    }
    expect(parseParameter('int', Buffer.from(` ${'1'.repeat(15)} `))).to.equal(111_111_111_111_111);
    expect(parseParameter('str', digits)).to.have.length(digits.length);
  });

  it('refuses JSON nested deeper than the limit, counting brackets outside strings only', () => {
    const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
    expect(() => checkJsonDepth(deep(MAX_JSON_DEPTH))).to.not.throw();
    expect(thrown(() => checkJsonDepth(deep(MAX_JSON_DEPTH + 1)))).to.be.instanceOf(HttpError).with.property('status', 400);
    expect(() => checkJsonDepth(Buffer.from(JSON.stringify({ a: '['.repeat(1000), b: '\\"['.repeat(500), c: '€[' })))).to.not.throw();
  });
});

describe('bounded input: dumps', () => {
  const root = mkdtempSync(join(tmpdir(), 'dump-confined-'));
  const dir = join(root, 'dumps');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(root, 'outside'));
  symlinkSync(join(root, 'outside'), join(dir, 'link'));

  it('places prefix dumps inside the dump directory and refuses prefixes that leave it', () => {
    expect(dumpFilePath(dir, 'run1_', 'ing-1.cbors')).to.equal(join(dir, 'run1_ing-1.cbors'));
    expect(dumpFilePath(dir, 'sub/run1_', 'ing-1.cbors')).to.equal(join(dir, 'sub', 'run1_ing-1.cbors'));
    expect(dumpFilePath(dir, `${dir}/abs_`, 'x')).to.equal(join(dir, 'abs_x'));
    expect(dumpFilePath(dir, 'sub/..', 'x'), 'the name completes the last segment').to.equal(join(dir, 'sub', '..x'));
    for (const prefix of ['../x', '/etc/x', 'sub/../../x', `${root}/outside/x`, 'a\0b']) {
      expect(thrown(() => checkDumpPrefix(dir, prefix)), prefix).to.be.instanceOf(DumpPathError).with.property('status', 400);
    }
    expect(thrown(() => checkDumpPrefix(undefined, 'run1_')).message).to.match(/dumps are off: no dump directory is configured/);
    expect(() => checkDumpPrefix(undefined, '')).to.not.throw();
  });

  it('refuses, when opening, a directory that does not exist or a link that leads out', () => {
    expect(openableDumpPath(dir, 'sub/r_', 'x.cbors')).to.equal(join(dir, 'sub', 'r_x.cbors'));
    expect(() => checkDumpPrefix(dir, 'link/r_'), 'lexically inside').to.not.throw();
    expect(thrown(() => openableDumpPath(dir, 'link/r_', 'x.cbors')).message).to.match(/through a link/);
    expect(thrown(() => openableDumpPath(dir, 'missing/r_', 'x.cbors')).message).to.match(/cannot dump to .*missing/);
  });

  it('stops a dump at its byte limit, says so once, and keeps what it wrote readable', async () => {
    const path = join(dir, 'limited.cbors');
    const problems: string[] = [];
    const dumper = new ScanDumper(path, { maxBytes: 10_000, onProblem: (m) => problems.push(m) });
    const frame = Buffer.alloc(1000, 7);
    for (let event = 0; event < 50; event++) dumper.write(event, { det: { typ: 'STINS', frames: [frame] } });
    await dumper.close();
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/reached its limit of 10000 bytes at event 9/);
    expect(statSync(path).size).to.be.at.most(10_000);
    const events: number[] = [];
    for await (const item of readDump(path)) events.push(item.eventNumber);
    expect(events).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // appending to it again: what it holds counts
    const again = new ScanDumper(path, { maxBytes: 10_000, onProblem: (m) => problems.push(m) });
    again.write(50, { det: { typ: 'STINS', frames: [frame] } });
    await again.close();
    expect(problems).to.have.length(2);
    expect(readFileSync(path).length).to.equal(statSync(path).size);
  });
});
