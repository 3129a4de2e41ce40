/** POST /api/v1/scan through a live pipeline: two STINS ingesters, two echo workers, real Redis and zmq. */
import { expect } from 'chai';
import { join } from 'node:path';
import { ROOT, startPipeline, type TestPipeline, completeScan } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import type { EchoResult } from './payloads/echo.js';

const ECHO = join(ROOT, 'test/payloads/echo.ts');
type Events = Record<string, (EchoResult & { hash: string | null })[]>;
const F = [{ tags: ['generic'], constraint: 0 }];
const ALL = [{ tags: ['generic'], constraint: null }];

describe('POST /api/v1/scan (live pipeline)', function () {
  this.timeout(120_000);
  let pipeline: TestPipeline;
  let eiger: StinsSource;
  let sardana: StinsSource;

  before(async () => {
    [eiger, sardana] = [await StinsSource.bind(), await StinsSource.bind()];
    pipeline = await startPipeline({
      ingesters: [
        { name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: eiger.endpoint }] },
        { name: 'sardana-ingester', streams: [{ name: 'sardana', protocol: 'stins', upstream: sardana.endpoint }] },
      ],
      workers: [{ class: `${ECHO}:EchoWorker`, count: 2 }], reducer: { class: `${ECHO}:EchoReducer` },
    }, { ingesters: 2, workers: 2 });
  });

  after(async () => {
    await pipeline?.stop();
    eiger?.close();
    sardana?.close();
  });

  async function announce(description: unknown): Promise<Response> {
    // as JSON, as the hooks send it (a body without Content-Type: application/json is refused with 415)
    return await pipeline.post('/api/v1/scan', description, { json: true });
  }

  /** The frame number each stream sent in each event, and the worker that got it. */
  function framesOf(events: Events, event: number): { worker: string; frames: Record<string, number | undefined> } {
    expect(events[event], `event ${event}`).to.have.length(1);
    const [result] = events[event]!;
    return { worker: result!.worker, frames: Object.fromEntries(Object.entries(result!.streams).map(([s, v]) => [s, v.frame])) };
  }

  it('runs a burst scan: every detector frame, the scan stream on the last frame of each point, one worker per point', async () => {
    const response = await announce({ kind: 'burst', nb_points: 4, frames_per_point: 3, stream_options: { sardana: { frames_per_point: 1 } } });
    expect(response.status).to.equal(200);
    const uuid = await response.json();
    expect(uuid).to.match(/^[0-9a-f-]{36}$/);
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal({
      parts: {
        point: { mapping: { eiger: [F, F, F], sardana: [null, null, F] } },
        reserved_start_end: { mapping: { eiger: [ALL], sardana: [ALL] } },
      },
      sequence: ['reserved_start_end', 'point', 'point', 'point', 'point', 'reserved_start_end'],
    });
    await Promise.all([eiger.play({ frames: 12, shape: [4, 4], seed: 1 }), sardana.play({ frames: 4, shape: [2, 2], seed: 2 })]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(14));
    const events = await pipeline.result<Events>('events');
    expect(events['0']!.map((r) => [r.streams.eiger!.kind, r.streams.sardana!.kind])).to.deep.equal([['start', 'start'], ['start', 'start']]);
    const pointWorkers: string[] = [];
    for (let point = 0; point < 4; point++) {
      const frames = [1, 2, 3].map((k) => framesOf(events, 3 * point + k));
      expect(frames.map((f) => f.frames), `point ${point}`).to.deep.equal([
        { eiger: 3 * point }, { eiger: 3 * point + 1 }, { eiger: 3 * point + 2, sardana: point },
      ]);
      expect(new Set(frames.map((f) => f.worker)).size, `point ${point} on one worker`).to.equal(1);
      pointWorkers.push(frames[0]!.worker);
    }
    expect(new Set(pointWorkers), 'points spread over both workers').to.deep.equal(new Set(['worker-1', 'worker-2']));
    expect(events['13']!.map((r) => r.streams.eiger!.kind)).to.deep.equal(['end', 'end']);
  });

  it('runs a step scan with a chosen stream sent every 3rd point', async () => {
    const response = await announce({ nb_points: 7, streams: ['eiger', 'sardana'], stream_options: { sardana: { every: 3 } } });
    expect(response.status).to.equal(200);
    const sequence = await pipeline.api<{ parts: Record<string, unknown>; sequence: string[] }>('/api/v1/sequence');
    const withoutSardana = 'point ["eiger"]';
    expect(sequence.parts[withoutSardana]).to.deep.equal({ mapping: { eiger: [F], sardana: [null] } });
    expect(sequence.sequence.slice(1, -1)).to.deep.equal(['point', withoutSardana, withoutSardana, 'point', withoutSardana, withoutSardana, 'point']);
    await Promise.all([eiger.play({ frames: 7, shape: [4, 4] }), sardana.play({ frames: 3, shape: [2, 2] })]);
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(9));
    const events = await pipeline.result<Events>('events');
    const frames = Array.from({ length: 7 }, (_, point) => framesOf(events, point + 1).frames);
    expect(frames).to.deep.equal([
      { eiger: 0, sardana: 0 }, { eiger: 1 }, { eiger: 2 }, { eiger: 3, sardana: 1 }, { eiger: 4 }, { eiger: 5 }, { eiger: 6, sardana: 2 },
    ]);
  });

  it('refuses bad descriptions with 400 and a reason, leaving the running scan as it was', async () => {
    expect((await announce({ nb_points: 2, streams: ['eiger'] })).status).to.equal(200);
    const sequence = await pipeline.api('/api/v1/sequence');
    const progress = await pipeline.progress();
    const refusals: [unknown, string][] = [
      [{ nb_points: 0 }, 'invalid scan description: nb_points: must be at least 1'],
      [{ kind: 'burst', nb_points: -3, frames_per_point: 2 }, 'invalid scan description: nb_points: must be at least 1'],
      [{ nb_points: 2, streams: ['eiger', 'pilatus'] }, "streams {'pilatus'} not available (available: ['eiger', 'sardana'])"],
      [{ nb_points: 2, streams: [] }, 'invalid scan description: streams: streams must name at least one stream (leave it out to use all available streams)'],
      [{ nb_points: 2, stream_options: { sardana: { frames_per_point: 2 } } }, "stream_options.sardana.frames_per_point: 2 does not divide the scan's 1 frames per point"],
      ['{"nb_points": 2', 'body is not JSON'],
    ];
    for (const [body, detail] of refusals) {
      const response = await announce(body);
      expect(response.status, JSON.stringify(body)).to.equal(400);
      expect((await response.json()).detail).to.contain(detail);
    }
    expect(await pipeline.api('/api/v1/sequence')).to.deep.equal(sequence);
    expect(await pipeline.progress()).to.deep.equal(progress);
    await eiger.play({ frames: 2, shape: [4, 4] });
    expect(await pipeline.waitForFinish()).to.deep.equal(completeScan(4));
    const events = await pipeline.result<Events>('events');
    expect([1, 2].map((e) => framesOf(events, e).frames)).to.deep.equal([{ eiger: 0 }, { eiger: 1 }]);
  });
});
