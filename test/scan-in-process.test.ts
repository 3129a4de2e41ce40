/**
 * Scan semantics in the in-process tier: a controller, ingesters, workers and a reducer as objects
 * in this process, on the real Redis and real zmq sockets.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { decodeAssignmentEntry } from '../src/core/assignment-codec.js';
import { TriggerSequence } from '../src/core/mapping/index.js';
import type { ReducerClass, ResultData, WorkerClass } from '../src/core/types.js';
import { EchoReducer, EchoWorker, type EchoResult } from './payloads/echo.js';
import { InProcessPipeline } from './helpers/in-process.js';
import { completeScan, REDIS_URL, scanEndedWith, waitFor } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';

describe('scans in one process', function () {
  this.timeout(60_000);
  let pipeline: InProcessPipeline | undefined;
  const sources: StinsSource[] = [];

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    for (const s of sources.splice(0)) s.close();
  });

  async function start(streams: string[], workers: { name: string; tags?: string[] }[],
    { graceMs, workerClass = EchoWorker, reducerClass = EchoReducer }: { graceMs?: number; workerClass?: WorkerClass; reducerClass?: ReducerClass } = {}): Promise<Record<string, StinsSource>> {
    const bound: Record<string, StinsSource> = {};
    for (const stream of streams) sources.push(bound[stream] = await StinsSource.bind());
    pipeline = await InProcessPipeline.start({
      ingesters: streams.map((stream) => ({ name: `${stream}-ingester`, streams: [{ name: stream, protocol: 'stins', upstream: bound[stream].endpoint }] })),
      workers: workers.map((w) => ({ ...w, workerClass })),
      reducerClass,
      graceMs,
    });
    return bound;
  }

  const events = () => (pipeline!.parts.reducer.publish as EchoReducer['publish']).events;

  it('runs a uniform scan: every image reduced once, start and end on both workers', async () => {
    const { det } = await start(['det'], [{ name: 'w1' }, { name: 'w2' }]);
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['det'], 50));
    await det.play({ frames: 50, shape: [4, 4] });
    expect(await pipeline!.waitForFinish()).to.deep.equal(completeScan(52));
    for (let e = 1; e <= 50; e++) expect(events()[e], `event ${e}`).to.have.length(1);
    expect(events()[0].map((r) => r.worker).sort()).to.deep.equal(['w1', 'w2']);
  });

  it('opens credit in steps of 4× a round, each step published at once, before any frame arrives', async () => {
    await start(['det'], [{ name: 'w1' }, { name: 'w2' }]);
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['det'], 5000));
    const scan = pipeline!.controller.scan!.id;
    const redis = new Redis(REDIS_URL);
    try {
      // with no frames, sizing comes after 1 s and opens credit toward 1024 events a worker
      const routed = await waitFor('credit fully open', async () => {
        const entries = await redis.xrange(`${pipeline!.prefix}assigned:${scan}`, '-', '+');
        const counts = entries.map(([, fields]) => decodeAssignmentEntry(fields[1]!).routes.length).filter((n) => n > 0);
        return counts.length >= 5 && counts;
      });
      // 8 a worker (the start event goes to both), then 32, 128, 512 and 1024: never thousands of events in one round
      expect(routed).to.deep.equal([15, 48, 192, 768, 1024]);
    } finally {
      redis.disconnect();
    }
  });

  it('a worker that leaves mid-scan: its unfinished events go to the other, each is reduced once, nothing is lost', async () => {
    const { det } = await start(['det'], [{ name: 'w1' }, { name: 'w2' }]);
    await pipeline!.controller.setParameter('delay_ms', Buffer.from('5'));
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['det'], 200));
    const playing = det.play({ frames: 200, shape: [4, 4], rate: 500 });
    await waitFor('some events', async () => pipeline!.controller.progress().completed_events >= 40, 30_000, 10);
    await pipeline!.parts.workers[0].stop();
    await playing;
    const progress = await pipeline!.waitForFinish();
    // the start event's share of the leaving worker was only "every worker": it ends without it
    expect(progress).to.deep.include({ completed_events: 202, lost_events: 0, failed_events: 0 });
    for (let e = 1; e <= 200; e++) expect(events()[e], `event ${e}`).to.have.length(1);
  });

  it('events only a departed worker could take wait for one with its tags, and are lost when none comes in time', async () => {
    const { det } = await start(['det'], [{ name: 'w1', tags: ['special'] }, { name: 'w2' }], { graceMs: 1500 });
    await pipeline!.controller.setParameter('delay_ms', Buffer.from('20'));
    const sequence = TriggerSequence.fromSequenceRequest({
      parts: { main: { det: Array.from({ length: 40 }, (_, i) => [{ tags: [i % 2 ? 'special' : 'generic'], constraint: i }]) } },
      sequence: ['main'],
    });
    await pipeline!.controller.setSequence(sequence);
    const playing = det.play({ frames: 40, shape: [4, 4], rate: 400 });
    await waitFor('special work under way', async () => pipeline!.controller.scan!.assigner.outstanding('w1') > 0, 30_000, 5);
    await pipeline!.parts.workers[0].stop();
    await playing;
    const progress = await pipeline!.waitForFinish();
    expect(progress.outcome).to.equal('incomplete');
    expect(progress.lost_events).to.be.greaterThan(0);
    expect(progress.completed_events + progress.lost_events + progress.failed_events).to.equal(42);
    const status = pipeline!.controller.status(true) as { lost_event_list: { event: number; reason: string }[] };
    expect(status.lost_event_list.every((l) => l.event % 2 === 0 && /no worker with the tags \[special\]/.test(l.reason)),
      JSON.stringify(status.lost_event_list.slice(0, 3))).to.equal(true);
  });

  it('assembles an event from two ingesters; a stream that ends early leaves the rest of its events missing, the others complete', async () => {
    const { a, b } = await start(['a', 'b'], [{ name: 'w1' }, { name: 'w2' }]);
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['a', 'b'], 20));
    await Promise.all([a.play({ frames: 20, shape: [4, 4] }), b.play({ frames: 12, shape: [4, 4] })]);
    expect(await pipeline!.waitForFinish()).to.deep.equal(scanEndedWith(22, { missing: 8 }));
    for (let e = 1; e <= 20; e++) {
      const streams = events()[e][0].streams;
      expect(Object.keys(streams).sort(), `event ${e}`).to.deep.equal(e <= 12 ? ['a', 'b'] : ['a']);
    }
    expect(events()[21].map((r) => Object.keys(r.streams).sort())).to.deep.equal([['a', 'b'], ['a', 'b']]);
  });

  it('a class that takes several events at once: each is reduced once, one that throws fails with its reason, the load counts them all', async () => {
    /** as a Python class runs: up to 3 events in user code at a time */
    class ConcurrentEchoWorker extends EchoWorker { readonly inFlight = 3; }
    const { det } = await start(['det'], [{ name: 'w1' }, { name: 'w2' }], { workerClass: ConcurrentEchoWorker });
    await pipeline!.controller.setParameter('delay_ms', Buffer.from('3'));
    await pipeline!.controller.setParameter('fail_on', Buffer.from('7'));
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['det'], 60));
    await det.play({ frames: 60, shape: [4, 4] });
    expect(await pipeline!.waitForFinish()).to.deep.equal(scanEndedWith(62, { failed: 1 }));
    for (let e = 1; e <= 60; e++) expect(events()[e]?.length ?? 0, `event ${e}`).to.equal(e === 7 ? 0 : 1);
    const status = pipeline!.controller.status(true) as { failed_event_list: { event: number; reason: string }[] };
    expect(status.failed_event_list.map((f) => f.event)).to.deep.equal([7]);
    expect(status.failed_event_list[0].reason).to.contain('asked to fail on event 7');
    const load = pipeline!.controller.scan!.load.report([], true);
    expect(Object.values(load).reduce((n, l) => n + l.intervals.scan.events, 0), 'start and end on both workers').to.equal(62 + 2);
    for (const { intervals: { scan } } of Object.values(load)) expect(scan.active).to.be.greaterThan(0).and.at.most(scan.total);
  });

  it('a reducer whose user code awaits for some results and throws or rejects on others: those events fail with the reason, the rest are reduced once', async () => {
    class AwaitingReducer extends EchoReducer {
      override processResult(result: ResultData<EchoResult>): void | Promise<void> {
        if (result.eventNumber === 5) throw new Error('thrown on event 5');
        if (result.eventNumber % 3) return super.processResult(result);
        return new Promise<void>((resolve) => setTimeout(resolve, 1)).then(() => {
          if (result.eventNumber === 9) throw new Error('rejected on event 9');
          super.processResult(result);
        });
      }
    }
    const { det } = await start(['det'], [{ name: 'w1' }, { name: 'w2' }], { reducerClass: AwaitingReducer });
    await pipeline!.controller.setSequence(TriggerSequence.uniform(['det'], 40));
    await det.play({ frames: 40, shape: [4, 4] });
    expect(await pipeline!.waitForFinish()).to.deep.equal(scanEndedWith(42, { failed: 2 }));
    for (let e = 1; e <= 40; e++) expect(events()[e]?.length ?? 0, `event ${e}`).to.equal(e === 5 || e === 9 ? 0 : 1);
    const status = pipeline!.controller.status(true) as { failed_event_list: { event: number; reason: string }[] };
    const failed = status.failed_event_list.map((f) => [f.event, /processResult threw: (thrown|rejected) on event \d/.test(f.reason)]);
    expect(failed.sort((x, y) => Number(x[0]) - Number(y[0]))).to.deep.equal([[5, true], [9, true]]);
  });
});
