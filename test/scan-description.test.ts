/** Scan descriptions → trigger maps (POST /api/v1/scan), without a pipeline. */
import { expect } from 'chai';
import { parseScanDescription, scanMap, type ScanMap } from '../src/controller/scan-description.js';
import { Assigner, MappingError, TriggerSequence } from '../src/core/mapping/index.js';

const F = [{ tags: ['generic'], constraint: 0 }];
const build = (body: unknown, available = ['a', 'b']): ScanMap => scanMap(parseScanDescription(body), available);

function refusal(body: unknown, available = ['a', 'b']): string {
  try {
    build(body, available);
  } catch (error) {
    expect(error).to.be.instanceOf(MappingError);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(body)} was accepted`);
}

/** Runs the map through the assignment engine with two workers: which worker got each event. */
function workerPerEvent(result: ScanMap): string[] {
  const seq = TriggerSequence.fromSequenceRequest(result.map);
  const assigner = new Assigner(seq, { credit: 4 });
  assigner.setWorkers([{ name: 'w1', tags: ['generic'] }, { name: 'w2', tags: ['generic'] }]);
  const owners: string[] = [];
  for (let round = 0; owners.length < seq.totalEvents && round < 10_000; round++) {
    const fresh = assigner.assign();
    for (const a of fresh) owners[a.event] = [...new Set(Object.values(a.streams).flat())].sort().join('+');
    // every worker finishes what it got each round
    for (const worker of ['w1', 'w2']) {
      const held = fresh.filter((a) => owners[a.event]!.split('+').includes(worker)).map((a) => a.event);
      if (held.length) assigner.complete(worker, held);
    }
  }
  expect(owners).to.have.length(seq.totalEvents);
  return owners;
}

describe('scan description → trigger map', () => {
  it('step scan over every available stream: one event per point, each point its own part instance', () => {
    const result = build({ kind: 'step', nb_points: 3 });
    expect(result).to.deep.equal({
      map: { parts: { point: { a: [F], b: [F] } }, sequence: [{ part: 'point', repeat: 3 }] },
      skipped: [],
    });
    // `kind` defaults to step
    expect(build({ nb_points: 3 })).to.deep.equal(result);
    const seq = TriggerSequence.fromSequenceRequest(result.map);
    expect(seq.totalEvents).to.equal(5);
    expect(seq.toJSON().sequence).to.deep.equal(['reserved_start_end', 'point', 'point', 'point', 'reserved_start_end']);
  });

  it('burst scan: the detector sends every frame, the scan stream one per point on its last frame', () => {
    const result = build({ kind: 'burst', nb_points: 2, frames_per_point: 3, stream_options: { b: { frames_per_point: 1 } } });
    expect(result.map).to.deep.equal({
      parts: { point: { a: [F, F, F], b: [null, null, F] } },
      sequence: [{ part: 'point', repeat: 2 }],
    });
    // a fly scan is lines × frames per line, the same shape
    expect(build({ kind: 'fly', lines: 2, frames_per_line: 3, stream_options: { b: { frames_per_point: 1 } } })).to.deep.equal(result);
  });

  it('a stream sending fewer frames per point sends on the last frame of each equal block', () => {
    const result = build({ kind: 'burst', nb_points: 1, frames_per_point: 6, stream_options: { b: { frames_per_point: 3 } } });
    expect(result.map.parts.point).to.deep.equal({ a: [F, F, F, F, F, F], b: [null, F, null, F, null, F] });
    // frames on which nobody sends are left out of the map
    const sparse = build({ kind: 'burst', nb_points: 1, frames_per_point: 4, stream_options: { a: { frames_per_point: 2 }, b: { frames_per_point: 1 } } });
    expect(sparse.map.parts.point).to.deep.equal({ a: [F, F], b: [null, F] });
  });

  it('every-k streams take part in points 0, k, 2k…; the other points are a second part without them', () => {
    const result = build({ nb_points: 5, stream_options: { b: { every: 2 } } });
    const withoutB = 'point ["a"]';
    expect(result.map).to.deep.equal({
      parts: { point: { a: [F], b: [F] }, [withoutB]: { a: [F], b: [null] } },
      sequence: ['point', withoutB, 'point', withoutB, 'point'],
    });
    // in a burst, an every-k scan stream on the last frame of its points only
    const burst = build({ kind: 'burst', nb_points: 3, frames_per_point: 2, stream_options: { b: { every: 3, frames_per_point: 1 } } });
    expect(burst.map).to.deep.equal({
      parts: { point: { a: [F, F], b: [null, F] }, [withoutB]: { a: [F, F], b: [null, null] } },
      sequence: ['point', withoutB, withoutB],
    });
    // points in which no stream takes part have no events at all
    const sparse = build({ nb_points: 5, streams: ['b'], stream_options: { b: { every: 2 } } });
    expect(sparse.map).to.deep.equal({ parts: { point: { b: [F] } }, sequence: ['point', 'point', 'point'] });
  });

  it('uses only the chosen streams, in the given order, with the given tags', () => {
    const result = build({ nb_points: 2, streams: ['c', 'a'], tags: ['fast'] }, ['a', 'b', 'c']);
    expect(Object.keys(result.map.parts.point!)).to.deep.equal(['c', 'a']);
    expect(result.map.parts.point).to.deep.equal({ c: [[{ tags: ['fast'], constraint: 0 }]], a: [[{ tags: ['fast'], constraint: 0 }]] });
    expect(TriggerSequence.fromSequenceRequest(result.map).streams).to.deep.equal(['a', 'c']);
  });

  it('skip_unavailable leaves out streams no ingester serves and says which', () => {
    expect(build({ nb_points: 1, streams: ['ct01', 'a', 'ct02'], skip_unavailable: true, stream_options: { ct02: { every: 2 } } })).to.deep.equal({
      map: { parts: { point: { a: [F] } }, sequence: [{ part: 'point', repeat: 1 }] },
      skipped: ['ct01', 'ct02'],
    });
  });

  it('sends all frames of a point to one worker while the points spread over the workers', () => {
    const owners = workerPerEvent(build({ kind: 'burst', nb_points: 6, frames_per_point: 3, stream_options: { b: { frames_per_point: 1 } } }));
    expect(owners[0]).to.equal('w1+w2');
    expect(owners.at(-1)).to.equal('w1+w2');
    const points = Array.from({ length: 6 }, (_, p) => owners.slice(1 + 3 * p, 4 + 3 * p));
    for (const [p, frames] of points.entries()) expect(new Set(frames).size, `point ${p}: ${frames}`).to.equal(1);
    expect(new Set(points.map((frames) => frames[0]))).to.deep.equal(new Set(['w1', 'w2']));
  });

  it('refuses bad descriptions with a reason naming the field', () => {
    expect(refusal({ nb_points: 0 })).to.equal('invalid scan description: nb_points: must be at least 1');
    expect(refusal({ nb_points: -4 })).to.equal('invalid scan description: nb_points: must be at least 1');
    expect(refusal({ nb_points: 2.5 })).to.equal('invalid scan description: nb_points: must be an integer');
    expect(refusal({ nb_points: '10' })).to.equal('invalid scan description: nb_points: must be an integer');
    expect(refusal({ kind: 'burst', nb_points: 2 })).to.equal('invalid scan description: frames_per_point: is required');
    expect(refusal({ kind: 'burst', nb_points: 2, frames_per_point: 1e9 })).to.equal('invalid scan description: frames_per_point: must be at most 100000');
    expect(refusal({ kind: 'fly', lines: 0, frames_per_line: 0 })).to.equal('invalid scan description: lines: must be at least 1; frames_per_line: must be at least 1');
    expect(refusal({ kind: 'spiral', nb_points: 2 })).to.equal("invalid scan description: kind: kind must be 'step', 'burst' or 'fly'");
    expect(refusal({ nb_points: 2, frames_per_point: 3 })).to.equal('invalid scan description: Unrecognized key: "frames_per_point"');
    expect(refusal({ nb_points: 2, streams: [] })).to.match(/^invalid scan description: streams: streams must name at least one stream/);
    expect(refusal({ nb_points: 2, streams: ['a', 'a'] })).to.equal('invalid scan description: streams: streams must not name a stream twice');
    expect(refusal({ nb_points: 2, tags: [] })).to.equal('invalid scan description: tags: tags must name at least one tag');
    expect(refusal({ nb_points: 2, stream_options: { a: { every: 0 } } })).to.equal('invalid scan description: stream_options.a.every: must be at least 1');
    expect(refusal({ nb_points: 2, stream_options: { a: { evry: 2 } } })).to.equal('invalid scan description: stream_options.a: Unrecognized key: "evry"');
    expect(refusal(JSON.parse('{"nb_points": 2, "stream_options": {"__proto__": {"every": 2}}}')))
      .to.equal("invalid scan description: stream_options: name '__proto__' is not allowed");
    for (const body of [null, 5, 'scan', [1]]) expect(refusal(body)).to.equal('invalid scan description: a scan description must be a JSON object');
  });

  it('refuses streams that are unknown, unavailable or not in the scan, and frame counts that do not divide', () => {
    expect(refusal({ nb_points: 2, streams: ['a', 'eiger'] })).to.equal("streams {'eiger'} not available (available: ['a', 'b'])");
    expect(refusal({ nb_points: 2, streams: ['eiger'], skip_unavailable: true })).to.equal("none of the streams ['eiger'] is available (available: ['a', 'b'])");
    expect(refusal({ nb_points: 2 }, [])).to.equal('no streams available: no ingester serves any stream');
    expect(refusal({ nb_points: 2, streams: ['a'], stream_options: { b: { every: 2 } } })).to.equal("stream_options: 'b' is not one of the scan's streams ['a']");
    expect(refusal({ kind: 'burst', nb_points: 2, frames_per_point: 4, stream_options: { b: { frames_per_point: 3 } } }))
      .to.equal("stream_options.b.frames_per_point: 3 does not divide the scan's 4 frames per point");
    expect(refusal({ nb_points: 2, stream_options: { b: { frames_per_point: 2 } } }))
      .to.equal("stream_options.b.frames_per_point: 2 does not divide the scan's 1 frames per point");
  });

  it('keeps a long scan small: a million points are one part played a million times', () => {
    const result = build({ kind: 'fly', lines: 1_000_000, frames_per_line: 2, stream_options: { b: { frames_per_point: 1 } } });
    expect(Object.keys(result.map.parts)).to.deep.equal(['point']);
    expect(result.map.sequence).to.deep.equal([{ part: 'point', repeat: 1_000_000 }]);
    expect(TriggerSequence.fromSequenceRequest(result.map).totalEvents).to.equal(2_000_002);
  });
});
