/**
 * The in-process test tier: a controller, ingesters, workers and a reducer as objects in the mocha
 * process, under a test key prefix on the real Redis, talking over real zmq sockets. Scans start in
 * milliseconds instead of the seconds child processes take, and every part can be inspected and
 * stopped from the test. Faults that need a process to die (SIGKILL) stay with `dranspose run`
 * (pipeline.ts, faults.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { Controller } from '../../src/controller/controller.js';
import { Ingester, type IngesterStream } from '../../src/ingester/ingester.js';
import { Worker } from '../../src/worker/worker.js';
import { Reducer } from '../../src/reducer/reducer.js';
import { loadProtocol } from '../../src/protocols/index.js';
import type { ReducerClass, WorkerClass } from '../../src/core/types.js';
import { deletePrefix, REDIS_URL, waitFor } from './pipeline.js';

export interface InProcessSpec {
  /** stream name → protocol and upstream */
  ingesters: { name: string; streams: { name: string; protocol: string; upstream: string }[] }[];
  workers: { name: string; workerClass?: WorkerClass; tags?: string[] }[];
  reducerClass?: ReducerClass;
  /** how long a part that ended may take to come back (short, so a test of a part that never does ends soon) */
  graceMs?: number;
}

export class InProcessPipeline {
  readonly parts: { ingesters: Ingester[]; workers: Worker[]; reducer: Reducer };

  private constructor(readonly prefix: string, readonly controller: Controller, parts: InProcessPipeline['parts']) {
    this.parts = parts;
  }

  static async start(spec: InProcessSpec): Promise<InProcessPipeline> {
    const prefix = `dranspose:test-inproc-${randomUUID().slice(0, 8)}:`;
    const common = { pipeline: 'inproc', keyPrefix: prefix, redisUrl: REDIS_URL };
    const controller = new Controller({ ...common, graceMs: spec.graceMs ?? 5000 });
    await controller.start();
    const ingesters = await Promise.all(spec.ingesters.map(async (i) => new Ingester({
      ...common, name: i.name,
      streams: await Promise.all(i.streams.map(async (s): Promise<IngesterStream> => ({ name: s.name, protocol: await loadProtocol(s.protocol), upstream: s.upstream }))),
    })));
    const workers = spec.workers.map((w) => new Worker({ ...common, name: w.name, workerClass: w.workerClass, tags: w.tags }));
    const reducer = new Reducer({ ...common, reducerClass: spec.reducerClass, httpPort: 0 });
    await Promise.all([...ingesters, ...workers, reducer].map((part) => part.start()));
    const pipeline = new InProcessPipeline(prefix, controller, { ingesters, workers, reducer });
    await controller.waitForParts([...ingesters.map((i) => i.field), ...workers.map((w) => w.field), reducer.field], 20_000);
    return pipeline;
  }

  async waitForFinish(timeoutMs = 30_000): Promise<ReturnType<Controller['progress']>> {
    return await waitFor('the scan to finish', async () => {
      const progress = this.controller.progress();
      return progress.finished ? progress : undefined;
    }, timeoutMs, 20);
  }

  async stop(): Promise<void> {
    const { ingesters, workers, reducer } = this.parts;
    await Promise.all([...ingesters, ...workers, reducer].map((part) => part.stop().catch(() => undefined)));
    await this.controller.stop();
    await deletePrefix(this.prefix);
  }
}
