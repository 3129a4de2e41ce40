/**
 * Offline replay: the user's worker and reducer classes run on recorded events in one process,
 * without Redis, sockets or a controller. The first and the last event go to every worker (as the
 * wrap events of a live scan), the others round-robin; every source is read to its end. Results
 * travel in the wire encoding (CBOR), so a result that cannot travel fails here as it would live.
 */
import { encode } from 'cbor-x';
import { createLogger } from '../core/logging.js';
import { EncodedResult } from '../core/encoded-result.js';
import { mergeDescriptions, parametersHash } from '../core/parameters.js';
import type { EventData, Parameters, ReducerClass, ReducerInstance, WorkerClass, WorkerInstance } from '../core/types.js';
import { decodeCbor } from '../reducer/results/cbor.js';
import { loadReplayParameters } from './parameters.js';
import { timerDelaySeconds } from '../reducer/timer.js';
import { mergeSources, openReplayInput, sourceEvents, type ReplayInput } from './sources.js';

export interface ReplayOptions {
  workerClass: WorkerClass;
  reducerClass: ReducerClass;
  inputs: ReplayInput[];
  /** a Python source class `module:Class` whose get_source_generators() give the events */
  source?: string;
  parameterFile?: string;
  workers?: number;
  onEvent?: (eventNumber: number) => void;
  /** called once the reducer exists and the parameters are loaded (e.g. to serve them over HTTP) */
  onStart?: (reducer: ReducerInstance, parameters: Parameters) => void;
}

export interface ReplayOutcome {
  publish: Record<string, unknown>;
  events: number;
  results: number;
  failures: string[];
  parameters: Parameters;
  reducer: ReducerInstance;
}

export async function replay(options: ReplayOptions): Promise<ReplayOutcome> {
  const logger = createLogger('replay');
  const descriptions = mergeDescriptions(options.workerClass.describeParameters?.(), options.reducerClass.describeParameters?.());
  const parameters = await loadReplayParameters(options.parameterFile, descriptions);
  const hash = parametersHash(Object.fromEntries(Object.entries(parameters).map(([n, p]) => [n, p.version])));
  const failures: string[] = [];
  const fail = (message: string) => { failures.push(message); logger.error(message); };
  const context = (name: string) => ({ parameters, state: {}, logger: createLogger(name), name });
  const workers: { name: string; instance: WorkerInstance }[] = Array.from({ length: options.workers ?? 2 },
    (_, i) => ({ name: `replay-worker-${i}`, instance: new options.workerClass(context(`replay-worker-${i}`)) }));
  const reducer = new options.reducerClass(context('replay-reducer'));
  options.onStart?.(reducer, parameters);

  let timerRunning = true;
  let timer: NodeJS.Timeout | undefined;
  const runTimer = async () => {
    let seconds: unknown;
    try { seconds = await reducer.timer!(parameters); } catch (error) { fail(`timer threw: ${(error as Error).message}`); }
    if (timerRunning) timer = setTimeout(runTimer, 1000 * timerDelaySeconds(seconds));
  };
  if (reducer.timer) await runTimer();

  const sources = await Promise.all(options.inputs.map((input) =>
    openReplayInput(input, (reason) => fail(`${input.path}: ${reason}`))));
  if (options.source) sources.push(sourceEvents(options.source));
  const events = mergeSources(sources, fail);
  /** one clock for all workers, as the original's replay: at most one tick per interval */
  let lastTick = -Infinity;
  const tickFor = (worker: WorkerInstance): boolean => {
    const seconds = worker.getTickInterval?.(parameters);
    if (seconds === undefined || !(seconds > 0) || performance.now() - lastTick < seconds * 1000) return false;
    lastTick = performance.now();
    return true;
  };
  let count = 0;
  let results = 0;
  let next = await events.next();
  let roundRobin = 0;
  while (!next.done) {
    const event: EventData = next.value;
    next = await events.next();
    const broadcast = count === 0 || next.done;
    const targets = broadcast ? workers : [workers[roundRobin++ % workers.length]];
    for (const worker of targets) {
      let body: Buffer;
      try {
        const result = await worker.instance.processEvent(event, parameters, tickFor(worker.instance));
        if (result === undefined || result === null) continue;
        body = result instanceof EncodedResult ? result.body : encode(result);
      } catch (error) {
        fail(`event ${event.eventNumber} on ${worker.name}: processEvent threw: ${(error as Error).message}`);
        continue;
      }
      try {
        const meta = { eventNumber: event.eventNumber, worker: worker.name, parametersHash: hash };
        await (reducer.processEncodedResult
          ? reducer.processEncodedResult({ ...meta, payload: body }, parameters)
          : reducer.processResult({ ...meta, payload: decodeCbor(body) }, parameters));
        results += 1;
      } catch (error) {
        fail(`event ${event.eventNumber} from ${worker.name}: processResult threw: ${(error as Error).message}`);
      }
    }
    count += 1;
    options.onEvent?.(event.eventNumber);
  }
  timerRunning = false;
  clearTimeout(timer);
  for (const { name, instance } of workers) {
    try { await instance.finish?.(parameters); } catch (error) { fail(`${name}: finish threw: ${(error as Error).message}`); }
  }
  try { await reducer.finish?.(parameters); } catch (error) { fail(`reducer finish threw: ${(error as Error).message}`); }
  return { publish: reducer.publish, events: count, results, failures, parameters, reducer };
}
