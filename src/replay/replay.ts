/**
 * Offline replay: the user's worker and reducer classes run on recorded events in one process,
 * without Redis, sockets or a controller. The first and the last event go to every worker (as the
 * wrap events of a live scan), the others round-robin; every source is read to its end.
 */
import { decode, encode } from 'cbor-x';
import { createLogger } from '../core/logging.js';
import { mergeDescriptions, parametersHash } from '../core/parameters.js';
import type { EventData, Parameters, ReducerClass, ReducerInstance, WorkerClass, WorkerInstance } from '../core/types.js';
import { loadReplayParameters } from './parameters.js';
import { timerDelaySeconds } from '../reducer/timer.js';
import { mergeSources, openReplayInput, type ReplayInput } from './sources.js';

export interface ReplayOptions {
  workerClass: WorkerClass;
  reducerClass: ReducerClass;
  inputs: ReplayInput[];
  parameterFile?: string;
  workers?: number;
  onEvent?: (eventNumber: number) => void;
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

  let timerRunning = true;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    let seconds: unknown;
    try { seconds = await reducer.timer!(parameters); } catch (error) { fail(`timer threw: ${(error as Error).message}`); }
    if (timerRunning) timer = setTimeout(tick, 1000 * timerDelaySeconds(seconds));
  };
  if (reducer.timer) await tick();

  const sources = await Promise.all(options.inputs.map((input) =>
    openReplayInput(input, (reason) => fail(`${input.path}: ${reason}`))));
  const events = mergeSources(sources, fail);
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
      let result: unknown;
      try {
        result = await worker.instance.processEvent(event, parameters);
      } catch (error) {
        fail(`event ${event.eventNumber} on ${worker.name}: processEvent threw: ${(error as Error).message}`);
        continue;
      }
      if (result === undefined || result === null) continue;
      try {
        // through the wire encoding, so a result that cannot travel fails here as it would live
        await reducer.processResult({ eventNumber: event.eventNumber, worker: worker.name, parametersHash: hash, payload: decode(encode(result)) }, parameters);
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
